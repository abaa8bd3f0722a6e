//! Stand-ins for everything the streamer talks to, on one loopback HTTP server: the Autoplay
//! connector (scripted SSE, raw bytes, wrong content types, silence), the Botpress webhook, the
//! Botpress Tables API (real rows, see [`tables`]), the Chat API of the plugin path ([`chat`])
//! and an OpenAI-compatible LLM that summarizes offline. Botpress's request limit is enforced like the real one (a sliding minute, `429` with
//! `RateLimit-*` and `Retry-After`), and every part can fail on demand: statuses, down, hanging.
//!
//! The demo runs the real streamer against them; the tests and the benchmark run the real
//! binary against them.

pub mod chat;
mod llm;
pub mod tables;

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use chat::{ChatFake, ChatLine};
pub use llm::LlmFake;
pub use tables::TablesFake;

/// One step of a scripted SSE connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// An SSE frame: event name (None = default) and data.
    Frame(Option<&'static str>, String),
    /// A default-event frame whose `{NOW}` is replaced by the unix time (seconds) at emission.
    Stamped(String),
    /// Bytes sent as they are (garbage, invalid UTF-8, frames without an end).
    Raw(Vec<u8>),
    Sleep(Duration),
    /// Waits until this long after the connection opened (a drift-free pace).
    At(Duration),
    /// Waits until the Tables API holds this many rows in the table (a phase of a test).
    UntilRows(&'static str, usize),
    /// Keep the connection open, silent, until the test ends.
    Hold,
}

/// What one connection attempt gets.
#[derive(Clone, Debug)]
pub enum Connection {
    /// This status and no stream.
    Status(u16),
    /// 200 `text/event-stream` with a script (its end closes the connection).
    Script(Vec<Step>),
    /// 200 with this content type and body.
    Typed(&'static str, String),
}

/// A webhook POST that was accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub body: Value,
    pub key: Option<String>,
    /// Unix seconds at arrival.
    pub at: f64,
}

/// How a Botpress endpoint misbehaves.
#[derive(Debug, Default)]
pub struct Faults {
    /// Statuses to answer before answering normally (with optional Retry-After seconds).
    pub failures: VecDeque<(u16, Option<u64>)>,
    /// Answer 503 to everything while set.
    pub down: bool,
    /// Answer nothing while set (requests wait, then get the normal answer).
    pub hang: bool,
}

/// The webhook's state.
#[derive(Debug, Default)]
pub struct WebhookFake {
    pub faults: Faults,
    /// When set, bodies must carry a valid X-Connector-Signature, dated within 5 minutes
    /// (`t=…,v1=…`), or the connector's push-mode form (`sha256=…`); else 401.
    pub secret: Option<String>,
    /// When set, requests must carry this `x-bp-secret` (the generic Webhook integration).
    pub bp_secret: Option<String>,
    /// Requests that carried an `x-bp-secret` header, and an `X-Connector-Signature` header.
    pub bp_secret_seen: usize,
    pub signatures_seen: usize,
    /// Sessions whose batches are refused with 400.
    pub reject_sessions: Vec<String>,
    /// Bodies larger than this are refused with 413 (Botpress takes about 128 KB per event).
    pub max_body: Option<usize>,
    /// POSTs received: each one is a billed Botpress event.
    pub posts: usize,
    /// Store accepted batches in this table as StoreEventsData does (rows upserted on
    /// `event_key`).
    pub store_in: Option<String>,
    pub triggers: Vec<Value>,
    /// Conversations linked to Autoplay users (user id → conversation id), as the autoplay
    /// integration's linkConversation records them.
    pub links: HashMap<String, String>,
    /// Nudges as the integration hands them on: (the linked conversation, or `None` when kept
    /// for the user's next one; the suggested message).
    pub nudges: Vec<(Option<String>, String)>,
    pub delivered: Vec<Delivered>,
}

/// Everything the stand-ins know.
#[derive(Debug, Default)]
pub struct FakeState {
    pub connections: VecDeque<Connection>,
    pub connects: usize,
    pub stream_auth: Vec<String>,
    pub webhook: WebhookFake,
    pub tables: TablesFake,
    pub tables_faults: Faults,
    pub chat: ChatFake,
    /// The only bearer token the Tables API accepts, when set.
    pub botpress_token: Option<String>,
    /// Botpress's request limit per bot and minute (webhook and Tables API together).
    pub rate_limit: Option<usize>,
    recent: VecDeque<Instant>,
    /// Answers of 429 given.
    pub rate_limited: usize,
    pub llm: LlmFake,
    /// Print what arrives (the demo's narration).
    pub verbose: bool,
    started: Option<Instant>,
}

/// The running stand-ins.
#[derive(Clone)]
pub struct Fakes {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<FakeState>>,
}

impl Fakes {
    /// Serves on a free loopback port until `cancel`.
    pub async fn start(cancel: CancellationToken) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(FakeState {
            started: Some(Instant::now()),
            ..FakeState::default()
        }));
        let app = Router::new()
            .route("/stream/{product}", get(stream))
            .route("/hook", post(webhook))
            // The operation is the route's (and method's), or the last part of the path.
            .route(
                "/v1/tables/{table}",
                post(|s, Path(t), h, Json(b)| tables_op(s, "table", t, h, b))
                    .put(|s, Path(t), h, Json(b)| tables_op(s, "update", t, h, b)),
            )
            .route(
                "/v1/tables/{table}/rows",
                post(|s, Path(t), h, Json(b)| tables_op(s, "create", t, h, b)),
            )
            .route("/v1/tables/{table}/rows/{op}", post(rows_call))
            .route("/v1/chat/users", get(chat::list_users))
            .route("/v1/chat/messages", get(chat::list_messages))
            .route(
                "/v1/chat/messages/get-or-create",
                post(chat::get_or_create_message),
            )
            .route("/v1/chat/events", post(chat::create_event))
            .route("/v1/models", get(llm::models))
            .route("/v1/chat/completions", post(llm::complete))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Like a production SSE server: each frame leaves at once instead of waiting on Nagle.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await;
        });
        Ok(Self { addr, state })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Runs `f` on the state.
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut lock(&self.state))
    }

    /// Creates a table as `setup` would (get-or-create with this schema and key column).
    pub fn create_table(&self, request: &crate::botpress::TableRequest) {
        self.with(|s| s.tables.apply("table", &request.name, &request.body()));
    }
}

fn lock(state: &Mutex<FakeState>) -> MutexGuard<'_, FakeState> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A string field's text, or "" when it is not a string.
fn as_text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// One action as an accepted write carried it to Botpress: in a webhook body, in an upserted
/// session row's `actions`, or as an upserted event row.
#[derive(Debug, Clone, PartialEq)]
pub struct Carried<'a> {
    pub session: &'a str,
    pub index: u64,
    /// When the user performed it, unix seconds (0 when the write does not say).
    pub happened: f64,
    /// When the write arrived, unix seconds.
    pub at: f64,
    /// The action's idempotency key ("" in session rows, which are keyed by session).
    pub event_key: &'a str,
}

impl FakeState {
    /// Every action the accepted webhook bodies and successful upserts carried, one entry per
    /// write that carried it (the benchmark's delays and the tests' delivery checks read this).
    pub fn carried(&self) -> Vec<Carried<'_>> {
        let iso_seconds = |v: &Value| {
            v.as_str()
                .and_then(autoplay_botpress::time::ms_from_iso)
                .map_or(0.0, |ms| ms as f64 / 1000.0)
        };
        let mut out = Vec::new();
        for d in &self.webhook.delivered {
            for a in d.body["actions"].as_array().into_iter().flatten() {
                out.push(Carried {
                    session: as_text(&d.body["session_id"]),
                    index: a["index"].as_u64().unwrap_or(0),
                    happened: a["timestamp_start"].as_f64().unwrap_or(0.0),
                    at: d.at,
                    event_key: as_text(&a["event_key"]),
                });
            }
        }
        let upserts = self.tables.calls.iter();
        for call in upserts.filter(|c| c.op == "upsert" && c.status == 200) {
            for row in call.body["rows"].as_array().into_iter().flatten() {
                let session = as_text(&row["session_id"]);
                if let Some(actions) = row["actions"].as_array() {
                    out.extend(actions.iter().map(|a| Carried {
                        session,
                        index: a["index"].as_u64().unwrap_or(0),
                        happened: iso_seconds(&a["occurred_at"]),
                        at: call.at,
                        event_key: "",
                    }));
                } else if row.get("event_key").is_some() {
                    out.push(Carried {
                        session,
                        index: row["action_index"].as_u64().unwrap_or(0),
                        happened: iso_seconds(&row["occurred_at"]),
                        at: call.at,
                        event_key: as_text(&row["event_key"]),
                    });
                }
            }
        }
        out
    }

    /// Seconds since the stand-ins started, for narration.
    pub fn elapsed(&self) -> String {
        let secs = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        format!("[{secs:>5.2}s]")
    }

    /// Counts a request against the per-minute limit; `Some(429)` when over it.
    fn admit(&mut self) -> Option<Response> {
        let limit = self.rate_limit?;
        let now = Instant::now();
        let window = Duration::from_secs(60);
        while self.recent.front().is_some_and(|t| now - *t >= window) {
            self.recent.pop_front();
        }
        let reset = self
            .recent
            .front()
            .map_or(0, |t| (window - (now - *t)).as_secs() + 1);
        if self.recent.len() >= limit {
            self.rate_limited += 1;
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"code": 429, "type": "RateLimited", "message": "Too many requests"})),
            )
                .into_response();
            let headers = response.headers_mut();
            headers.insert("ratelimit-limit", limit.into());
            headers.insert("ratelimit-remaining", 0.into());
            headers.insert("ratelimit-reset", reset.into());
            headers.insert("retry-after", reset.into());
            return Some(response);
        }
        self.recent.push_back(now);
        None
    }

    /// The `RateLimit-*` headers of an admitted request.
    fn limit_headers(&self, headers: &mut HeaderMap) {
        if let Some(limit) = self.rate_limit {
            headers.insert("ratelimit-limit", limit.into());
            headers.insert(
                "ratelimit-remaining",
                limit.saturating_sub(self.recent.len()).into(),
            );
        }
    }
}

/// Waits while `faults.hang` is set; then the injected failure to answer, if any.
async fn injected(
    state: &Arc<Mutex<FakeState>>,
    faults: impl Fn(&mut FakeState) -> &mut Faults,
) -> Option<Response> {
    while faults(&mut lock(state)).hang {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut s = lock(state);
    let f = faults(&mut s);
    if f.down {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "down").into_response());
    }
    let (code, retry_after) = f.failures.pop_front()?;
    let mut response = (StatusCode::from_u16(code).ok()?, "try later").into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert("retry-after", secs.into());
    }
    Some(response)
}

async fn stream(State(state): State<Arc<Mutex<FakeState>>>, headers: HeaderMap) -> Response {
    let connection = {
        let mut s = lock(&state);
        s.connects += 1;
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        s.stream_auth.push(auth);
        s.connections
            .pop_front()
            .unwrap_or(Connection::Script(vec![Step::Hold]))
    };
    let steps = match connection {
        Connection::Status(code) => {
            return StatusCode::from_u16(code)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
        }
        Connection::Typed(kind, body) => {
            return ([("content-type", kind)], body).into_response();
        }
        Connection::Script(steps) => steps,
    };
    let opened = Instant::now();
    let body = futures_util::stream::iter(steps).then(move |step| {
        let state = state.clone();
        async move {
            match step {
                Step::Frame(event, data) => Ok::<_, Infallible>(sse_frame(event, &data)),
                Step::Stamped(data) => Ok(sse_frame(None, &stamp(&data, unix_now()))),
                Step::Raw(bytes) => Ok(Bytes::from(bytes)),
                Step::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    Ok(Bytes::new())
                }
                Step::At(offset) => {
                    tokio::time::sleep_until(opened + offset).await;
                    Ok(Bytes::new())
                }
                Step::UntilRows(table, rows) => {
                    let held = || {
                        lock(&state)
                            .tables
                            .tables
                            .get(table)
                            .map_or(0, |t| t.rows.len())
                    };
                    while held() < rows {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Ok(Bytes::new())
                }
                Step::Hold => {
                    futures_util::future::pending::<()>().await;
                    Ok(Bytes::new())
                }
            }
        }
    });
    // Pauses yield empty chunks; they carry nothing, so they are not sent.
    let body = body.filter(|chunk| std::future::ready(chunk.as_ref().is_ok_and(|b| !b.is_empty())));
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap_or_default()
}

/// Replaces `{NOW}` and `{NOW-<seconds>}` (quoted or not) by unix seconds.
pub fn stamp(data: &str, now: f64) -> String {
    let mut out = String::with_capacity(data.len());
    let mut rest = data;
    while let Some(at) = rest.find("{NOW") {
        let Some(len) = rest[at..].find('}') else {
            break;
        };
        let quoted = at > 0
            && rest.as_bytes()[at - 1] == b'"'
            && rest.as_bytes().get(at + len + 1) == Some(&b'"');
        let back: f64 = rest[at + 4..at + len]
            .strip_prefix('-')
            .and_then(|x| x.parse().ok())
            .unwrap_or(0.0);
        out.push_str(&rest[..if quoted { at - 1 } else { at }]);
        out.push_str(&(now - back).to_string());
        rest = &rest[at + len + 1 + usize::from(quoted)..];
    }
    out.push_str(rest);
    out
}

/// An SSE frame.
pub fn sse_frame(event: Option<&str>, data: &str) -> Bytes {
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
    lock(&state).webhook.posts += 1;
    if let Some(limited) = lock(&state).admit() {
        return limited;
    }
    if let Some(failure) = injected(&state, |s| &mut s.webhook.faults).await {
        return failure;
    }
    if lock(&state)
        .webhook
        .max_body
        .is_some_and(|max| raw.len() > max)
    {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let mut s = lock(&state);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    s.webhook.bp_secret_seen += usize::from(header("x-bp-secret").is_some());
    s.webhook.signatures_seen += usize::from(header("x-connector-signature").is_some());
    if let Some(secret) = &s.webhook.secret {
        if !signed(secret, &raw, header("x-connector-signature").unwrap_or("")) {
            return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
        }
    }
    if let Some(secret) = &s.webhook.bp_secret {
        if header("x-bp-secret") != Some(secret.as_str()) {
            return (StatusCode::UNAUTHORIZED, "wrong x-bp-secret").into_response();
        }
    }
    if body["type"] == "trigger" {
        // As the integration does: created in the user's linked conversation, else kept.
        let user = body["user_id"].as_str().unwrap_or("?").to_owned();
        let conversation = s.webhook.links.get(&user).cloned();
        let message = body["message"].as_str().unwrap_or("").to_owned();
        if s.verbose {
            let whereto = match &conversation {
                Some(c) => format!("nudge in conversation {c}, the user's webchat shows"),
                None => "no linked conversation: kept for the user's next one".into(),
            };
            println!(
                "{} webhook ← TRIGGER for user {user}: {} → {whereto}: {message:?}",
                s.elapsed(),
                body["signal"]["description"].as_str().unwrap_or(""),
            );
        }
        let status = match conversation {
            Some(_) => StatusCode::OK,
            None => StatusCode::ACCEPTED,
        };
        s.webhook.nudges.push((conversation, message));
        s.webhook.triggers.push(body);
        return status.into_response();
    }
    let session = body["session_id"].as_str().unwrap_or("").to_owned();
    if s.webhook.reject_sessions.contains(&session) {
        return (StatusCode::BAD_REQUEST, "bad body: no such product").into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if s.verbose {
        let what: Vec<String> = body["actions"]
            .as_array()
            .map(|a| a.iter().map(|x| x["description"].to_string()).collect())
            .unwrap_or_default();
        println!(
            "{} webhook ← user {}: {} (1 billed event)",
            s.elapsed(),
            body["user_id"].as_str().unwrap_or("?"),
            what.join(", ")
        );
    }
    if let Some(table) = s.webhook.store_in.clone() {
        store_rows(&mut s, &table, &body);
    }
    s.webhook.delivered.push(Delivered {
        body,
        key,
        at: unix_now(),
    });
    let mut response = StatusCode::OK.into_response();
    s.limit_headers(response.headers_mut());
    response
}

async fn rows_call(
    state: State<Arc<Mutex<FakeState>>>,
    Path((table, op)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    tables_op(state, &op, table, headers, body).await
}

async fn tables_op(
    State(state): State<Arc<Mutex<FakeState>>>,
    op: &str,
    table: String,
    headers: HeaderMap,
    body: Value,
) -> Response {
    if let Some(limited) = lock(&state).admit() {
        return limited;
    }
    if let Some(failure) = injected(&state, |s| &mut s.tables_faults).await {
        return failure;
    }
    let mut s = lock(&state);
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(token) = &s.botpress_token {
        if auth != format!("Bearer {token}") {
            let refused = json!({"code": 401, "type": "Unauthorized", "message": "Invalid token"});
            return (StatusCode::UNAUTHORIZED, Json(refused)).into_response();
        }
    }
    let (status, answer) = s.tables.handle(op, &table, &body);
    if s.verbose && op == "upsert" && status.is_success() {
        narrate_upsert(&s, &table, &body);
    }
    let mut response = (status, Json(answer)).into_response();
    s.limit_headers(response.headers_mut());
    response
}

fn narrate_upsert(s: &FakeState, table: &str, body: &Value) {
    let rows = body["rows"].as_array().map_or(&[][..], Vec::as_slice);
    for row in rows {
        let who = row["user_id"].as_str().unwrap_or("?");
        if let Some(actions) = row["actions"].as_array() {
            let summary = row["summary"]
                .as_str()
                .map_or_else(|| "none yet".to_owned(), |s| format!("{s:?}"));
            println!(
                "{} {table} ← session {} of user {who}: {} actions in all, {} in the row; summary: {summary}",
                s.elapsed(),
                row["session_id"].as_str().unwrap_or("?"),
                row["action_count"],
                actions.len(),
            );
        } else if let Some(summary) = row["summary"].as_str() {
            println!(
                "{} {table} ← summary of session {}: {summary:?}",
                s.elapsed(),
                row["session_id"].as_str().unwrap_or("?")
            );
        }
    }
    if rows.first().is_some_and(|r| r.get("event_key").is_some()) {
        println!("{} {table} ← {} event rows", s.elapsed(), rows.len());
    }
}

/// Whether `signature` signs `raw` with `secret`: dated (`t=…,v1=…`, within 5 minutes) or the
/// connector's push-mode form.
fn signed(secret: &str, raw: &[u8], signature: &str) -> bool {
    if signature.starts_with("sha256=") {
        return signature == crate::webhook::sign_push_mode(secret, raw);
    }
    let t = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse::<u64>().ok());
    t.is_some_and(|t| {
        (unix_now() - t as f64).abs() <= 300.0 && signature == crate::webhook::sign(secret, raw, t)
    })
}

/// What StoreEventsData does with a batch: its rows, upserted on `event_key`.
fn store_rows(s: &mut FakeState, table: &str, body: &Value) {
    let Ok(batch) = autoplay_botpress::ActionsPayload::from_json(&body.to_string()) else {
        return;
    };
    let options = autoplay_botpress::rows::RowOptions::default();
    if let Ok(rows) = autoplay_botpress::map_actions_to_rows(&batch, &options) {
        let key = autoplay_botpress::schema::EVENT_KEY_COLUMN;
        s.tables
            .apply("upsert", table, &json!({"rows": rows, "keyColumn": key}));
    }
}

/// Seconds since the unix epoch, with microseconds.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_now_with_offsets() {
        let frame = r#"{"a":"{NOW-1.5}","b":{NOW},"c":"{NOW}"}"#;
        assert_eq!(stamp(frame, 100.0), r#"{"a":98.5,"b":100,"c":100}"#);
    }
}
