//! Fake Autoplay connector, Botpress webhook, Botpress Tables API and LLM on one loopback HTTP
//! server, plus helpers to run the real `autoplay-botpress` binary against them.
#![allow(dead_code)] // each test file uses a different part

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// One step of a scripted SSE connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// An SSE frame: event name (None = default) and data.
    Frame(Option<&'static str>, String),
    /// A default-event frame whose `{NOW}` is replaced by the unix time (seconds) at emission.
    Stamped(String),
    Sleep(Duration),
    /// Waits until this long after the connection opened (a drift-free pace).
    At(Duration),
    /// Keep the connection open until the test ends.
    Hold,
}

/// What one connection attempt gets: a status, or 200 with a script (ending closes it).
#[derive(Clone, Debug)]
pub enum Connection {
    Status(u16),
    Script(Vec<Step>),
}

#[derive(Default)]
pub struct FakeState {
    pub connections: VecDeque<Connection>,
    pub connects: usize,
    pub stream_auth: Vec<String>,
    /// Webhook: statuses to answer before accepting (with optional Retry-After seconds).
    pub webhook_failures: VecDeque<(u16, Option<u64>)>,
    /// Webhook: answer 503 to everything while set.
    pub webhook_down: bool,
    /// Webhook: when set, bodies must carry a valid X-Connector-Signature (else 401).
    pub webhook_secret: Option<String>,
    /// Webhook: sessions whose batches are refused with 400.
    pub reject_sessions: Vec<String>,
    pub webhook_attempts: usize,
    /// Proactive triggers posted to the webhook.
    pub triggers: Vec<Value>,
    /// Accepted webhook bodies with their Idempotency-Key header and arrival (unix seconds).
    pub delivered: Vec<(Value, Option<String>, f64)>,
    pub upserts: Vec<(String, Value, Option<String>, Option<String>)>,
    /// LLM: how many calls fail before it answers.
    pub llm_failures_left: usize,
    pub llm_prompts: Vec<String>,
    /// Tables API: tables by name, as get-or-create stored them.
    pub tables: std::collections::BTreeMap<String, Value>,
    /// Tables API: every request as (method and path, body).
    pub table_calls: Vec<(String, Value)>,
    /// Tables API: when set, the only bearer token accepted (others get 401).
    pub botpress_token: Option<String>,
    /// Tables API: tables that `rows/find` reports missing (404).
    pub missing_tables: Vec<String>,
}

#[derive(Clone)]
pub struct Fakes {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fakes {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let app = Router::new()
            .route("/stream/{product}", get(stream))
            .route("/hook", post(webhook))
            .route("/v1/tables/{table}/rows/upsert", post(upsert))
            .route("/v1/tables/{table}", post(get_or_create_table))
            .route("/v1/tables/{table}/rows/{op}", post(rows_op))
            .route("/v1/models", get(models))
            .route("/v1/chat/completions", post(llm))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Like a production SSE server: each frame leaves at once instead of waiting on Nagle.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// Delivered actions per session as (session, action index) in arrival order.
    pub fn delivered_actions(&self) -> Vec<(String, u64)> {
        self.with(|s| {
            s.delivered
                .iter()
                .flat_map(|(body, _, _)| {
                    let session = body["session_id"].as_str().unwrap_or("").to_owned();
                    body["actions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(move |a| (session.clone(), a["index"].as_u64().unwrap()))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
    }
}

async fn stream(State(state): State<Arc<Mutex<FakeState>>>, headers: HeaderMap) -> Response {
    let connection = {
        let mut s = state.lock().unwrap();
        s.connects += 1;
        s.stream_auth.push(
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
        );
        s.connections
            .pop_front()
            .unwrap_or(Connection::Script(vec![Step::Hold]))
    };
    let steps = match connection {
        Connection::Status(code) => return StatusCode::from_u16(code).unwrap().into_response(),
        Connection::Script(steps) => steps,
    };
    let opened = tokio::time::Instant::now();
    let body = futures_util::stream::iter(steps).then(move |step| async move {
        match step {
            Step::Frame(event, data) => Ok::<_, Infallible>(sse_frame(event, &data)),
            Step::Stamped(data) => Ok(sse_frame(
                None,
                &data.replace("{NOW}", &unix_now().to_string()),
            )),
            Step::Sleep(d) => {
                tokio::time::sleep(d).await;
                Ok(Bytes::new())
            }
            Step::At(offset) => {
                tokio::time::sleep_until(opened + offset).await;
                Ok(Bytes::new())
            }
            Step::Hold => {
                futures_util::future::pending::<()>().await;
                Ok(Bytes::new())
            }
        }
    });
    // Pauses yield empty chunks; they carry nothing, so they are not sent.
    let body = body.filter(|chunk| std::future::ready(chunk.as_ref().is_ok_and(|b| !b.is_empty())));
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

fn sse_frame(event: Option<&str>, data: &str) -> Bytes {
    let mut frame = String::new();
    if let Some(event) = event {
        frame.push_str(&format!("event: {event}\n"));
    }
    for line in data.split('\n') {
        frame.push_str(&format!("data: {line}\n"));
    }
    frame.push('\n');
    Bytes::from(frame)
}

async fn webhook(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let mut s = state.lock().unwrap();
    s.webhook_attempts += 1;
    if let Some(secret) = &s.webhook_secret {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(&raw);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let got = headers
            .get("x-connector-signature")
            .and_then(|v| v.to_str().ok());
        if got != Some(format!("sha256={expected}").as_str()) {
            return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
        }
    }
    if s.webhook_down {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    if let Some((code, retry_after)) = s.webhook_failures.pop_front() {
        let mut response = (StatusCode::from_u16(code).unwrap(), "try later").into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert("retry-after", secs.into());
        }
        return response;
    }
    if body["type"] == "trigger" {
        s.triggers.push(body);
        return StatusCode::OK.into_response();
    }
    let session = body["session_id"].as_str().unwrap_or("").to_owned();
    if s.reject_sessions.contains(&session) {
        return (StatusCode::BAD_REQUEST, "bad body: no such product").into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.delivered.push((body, key, unix_now()));
    StatusCode::OK.into_response()
}

async fn upsert(
    State(state): State<Arc<Mutex<FakeState>>>,
    UrlPath(table): UrlPath<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    state
        .lock()
        .unwrap()
        .upserts
        .push((table, body, header("authorization"), header("x-bot-id")));
    Json(json!({"inserted": [], "updated": []})).into_response()
}

/// Records a Tables API call; `Some(401 response)` when the bearer token is refused.
fn table_call(
    s: &mut FakeState,
    call: String,
    headers: &HeaderMap,
    body: &Value,
) -> Option<Response> {
    s.table_calls.push((call, body.clone()));
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match &s.botpress_token {
        Some(token) if auth != format!("Bearer {token}") => Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"code": 401, "type": "Unauthorized", "message": "Invalid token"})),
            )
                .into_response(),
        ),
        _ => None,
    }
}

async fn get_or_create_table(
    State(state): State<Arc<Mutex<FakeState>>>,
    UrlPath(table): UrlPath<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut s = state.lock().unwrap();
    if let Some(refused) = table_call(&mut s, format!("POST /v1/tables/{table}"), &headers, &body) {
        return refused;
    }
    let created = !s.tables.contains_key(&table);
    let stored = s
        .tables
        .entry(table.clone())
        .or_insert_with(|| json!({"id": format!("t-{table}"), "name": table, "schema": body["schema"], "keyColumn": body["keyColumn"]}))
        .clone();
    Json(json!({"table": stored, "created": created, "rows": 0})).into_response()
}

/// `rows/find` and `rows/delete`.
async fn rows_op(
    State(state): State<Arc<Mutex<FakeState>>>,
    UrlPath((table, op)): UrlPath<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut s = state.lock().unwrap();
    let call = format!("POST /v1/tables/{table}/rows/{op}");
    if let Some(refused) = table_call(&mut s, call, &headers, &body) {
        return refused;
    }
    match op.as_str() {
        "find" if s.missing_tables.contains(&table) => {
            let message = format!("Table \"{table}\" doesn't exist");
            (
                StatusCode::NOT_FOUND,
                Json(json!({"code": 404, "type": "ResourceNotFound", "message": message})),
            )
                .into_response()
        }
        "find" => Json(json!({"rows": [], "hasMore": false, "offset": 0, "limit": body["limit"]}))
            .into_response(),
        "delete" => Json(json!({"deletedRows": 3})).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The LLM's model list; only the test key is accepted.
async fn models(headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer sk-test-key") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"message": "Incorrect API key"}})),
        )
            .into_response();
    }
    Json(json!({"data": [{"id": "gpt-4o-mini"}]})).into_response()
}

async fn llm(State(state): State<Arc<Mutex<FakeState>>>, Json(body): Json<Value>) -> Response {
    let mut s = state.lock().unwrap();
    let prompt = body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    s.llm_prompts.push(prompt.clone());
    if s.llm_failures_left > 0 {
        s.llm_failures_left -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "model overloaded").into_response();
    }
    let actions = prompt
        .lines()
        .filter(|l| {
            l.split_once(". [")
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count();
    Json(json!({"choices": [{"message": {"role": "assistant", "content": format!("The user performed {actions} actions.")}}]}))
        .into_response()
}

/// Seconds since the unix epoch, with microseconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// An `actions` frame of one pageview per page, at `at` seconds (unix) one second apart.
pub fn pages_frame(session: &str, first_index: u64, pages: &[&str], at: f64) -> String {
    let actions: Vec<Value> = pages
        .iter()
        .enumerate()
        .map(|(i, page)| {
            json!({"title": "Page view", "description": format!("Viewed {page}"), "type": "pageview",
                   "canonical_url": format!("https://yourapp.com{page}"), "index": first_index + i as u64,
                   "timestamp_start": at + i as f64})
        })
        .collect();
    json!({"type": "actions", "product_id": "p1", "session_id": session,
           "user_id": format!("user-{session}"), "actions": actions, "count": pages.len()})
    .to_string()
}

/// The JSON of an `actions` frame: `n` actions of `session` starting at `first_index`.
pub fn actions_frame(session: &str, first_index: u64, n: u64) -> String {
    let actions: Vec<Value> = (first_index..first_index + n)
        .map(|i| {
            json!({"title": "Click element", "description": format!("clicked option {i}"),
                   "canonical_url": "https://yourapp.com/pricing", "index": i, "type": "click",
                   "timestamp_start": 1_795_521_600.0 + i as f64})
        })
        .collect();
    json!({"type": "actions", "product_id": "p1", "session_id": session,
           "user_id": format!("user-{session}"), "actions": actions, "count": n,
           "forwarded_at": 1_795_521_600.0})
    .to_string()
}

pub fn frame(data: String) -> Step {
    Step::Frame(None, data)
}

/// Runs `autoplay-botpress` with `args` to completion: (exit code, stdout, stderr).
pub async fn cli(args: &[&str]) -> (i32, String, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"))
            .args(args)
            .env_remove("OPENAI_API_KEY")
            .env_remove("BOTPRESS_TOKEN")
            .env_remove("BOTPRESS_BOT_ID")
            .env_remove("AUTOPLAY_TOKEN")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the command finishes")
    .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The streamer as a child process. Its stderr is drained into `logs` as it runs, so a chatty
/// run never blocks on a full pipe.
pub struct Streamer {
    pub child: Child,
    pub metrics_addr: SocketAddr,
    logs: tokio::task::JoinHandle<String>,
}

pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Streamer {
    /// Starts `stream` against the fakes with state in `state_dir`; `extra` adds flags.
    pub fn start(fakes: &Fakes, state_dir: &Path, extra: &[&str]) -> Self {
        let metrics_addr = free_addr();
        let mut child = Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"))
            .arg("stream")
            .args(["--stream-url", &fakes.url("/stream/p1")])
            .args(["--token", "autoplay-test-token"])
            .args(["--webhook-url", &fakes.url("/hook")])
            .args(["--botpress-token", "bp-test-token", "--bot-id", "bot-1"])
            .args(["--botpress-api-url", &fakes.url("")])
            .args([
                "--openai-base-url",
                &fakes.url("/v1"),
                "--openai-api-key",
                "sk-test-key",
            ])
            .arg("--state-dir")
            .arg(state_dir)
            .args(["--metrics-addr", &metrics_addr.to_string()])
            .args(extra)
            .env("AUTOPLAY_BOTPRESS_LOG", "info")
            .env_remove("AUTOPLAY_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the streamer binary starts");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let logs = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut logs = String::new();
            let _ = stderr.read_to_string(&mut logs).await;
            logs
        });
        Self {
            child,
            metrics_addr,
            logs,
        }
    }

    /// A metric's current value from /metrics (0 while the server is not up yet).
    pub async fn metric(&self, name: &str) -> u64 {
        let url = format!("http://{}/metrics", self.metrics_addr);
        let Ok(response) = reqwest::get(url).await else {
            return 0;
        };
        let text = response.text().await.unwrap_or_default();
        let full = format!("autoplay_botpress_{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&full))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Polls `condition` like [`wait_until`], but fails at once, with the streamer's logs, if
    /// the process exits first.
    pub async fn wait_while_running(
        &mut self,
        what: &str,
        limit: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let start = Instant::now();
        while !condition() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let logs = (&mut self.logs).await.unwrap_or_default();
                panic!("the streamer exited ({status}) before: {what}\n{logs}");
            }
            assert!(start.elapsed() < limit, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then the exit status and everything logged.
    pub async fn terminate(mut self) -> (std::process::ExitStatus, String, Duration) {
        let pid = self.child.id().unwrap().to_string();
        let started = Instant::now();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the streamer exits after SIGTERM")
            .unwrap();
        let elapsed = started.elapsed();
        (status, self.logs.await.unwrap(), elapsed)
    }

    /// Waits for the process to exit by itself.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the streamer exits")
            .unwrap();
        (status, self.logs.await.unwrap())
    }
}

/// Polls `condition` until it holds; panics with `what` after `limit` (a safety net, not a
/// timing assertion: generous on purpose).
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
