//! The demo's stand-ins, on one loopback HTTP server: the Autoplay connector (replays the script
//! over SSE), the Botpress webhook (stores event rows with the core's StoreEventsData mapping),
//! the Tables API (keeps one summary row per session) and, when no LLM key is given, an offline
//! deterministic summarizer behind an OpenAI-compatible endpoint. Each prints what it receives,
//! including the proactive triggers the streamer posts to the webhook.

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use autoplay_botpress::clock::iso_from_ms;
use autoplay_botpress::rows::RowOptions;
use autoplay_botpress::triggers::TriggerEvent;
use autoplay_botpress::{
    decode_webhook_body, map_actions_to_rows, ActionsPayload, EventRow, SummaryRow, WebhookBody,
};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::forward::now_ms;

/// What the stand-ins have stored.
#[derive(Default)]
pub struct Stored {
    /// Rows of the events table, as the webhook workflow would have created them.
    pub events: Vec<EventRow>,
    /// The summary table, one row per session.
    pub summaries: BTreeMap<String, SummaryRow>,
    pub batches_received: usize,
    /// Proactive triggers the streamer posted.
    pub triggers: Vec<TriggerEvent>,
    seen_batches: HashSet<String>,
    /// Where the offline summarizer keeps each session's page counts across calls.
    offline_pages: BTreeMap<String, BTreeMap<String, usize>>,
}

struct Shared {
    script: Vec<ActionsPayload>,
    pace: Duration,
    started: Instant,
    stored: Mutex<Stored>,
}

impl Shared {
    fn stored(&self) -> MutexGuard<'_, Stored> {
        self.stored
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn elapsed(&self) -> String {
        format!("[{:>5.2}s]", self.started.elapsed().as_secs_f64())
    }
}

/// The running stand-ins.
#[derive(Clone)]
pub struct Backend {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Backend {
    /// Serves until `cancel`; the connector replays `script`, one batch every `pace`.
    pub async fn start(
        script: Vec<ActionsPayload>,
        pace: Duration,
        cancel: CancellationToken,
    ) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            script,
            pace,
            started: Instant::now(),
            stored: Mutex::default(),
        });
        let app = Router::new()
            .route("/stream/{product}", get(connector))
            .route("/webhook", post(webhook))
            .route("/v1/tables/{table}/rows/upsert", post(upsert))
            .route("/v1/chat/completions", post(offline_llm))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await;
        });
        Ok(Self { addr, shared })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn stored(&self) -> MutexGuard<'_, Stored> {
        self.shared.stored()
    }
}

/// Replays the script, then keeps the stream open with heartbeats like the real connector.
async fn connector(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let pace = shared.pace;
    let frames =
        futures_util::stream::iter(shared.script.clone()).then(move |mut batch| async move {
            tokio::time::sleep(pace).await;
            // The actions happened just now, in order, within the last quarter of the pause
            // (so batches never overlap in time).
            let sent = now_ms() as f64 / 1000.0;
            let last = batch.actions.len().saturating_sub(1);
            let spacing = pace.as_secs_f64() / 4.0 / (last + 1) as f64;
            for (i, action) in batch.actions.iter_mut().enumerate() {
                action.timestamp_start = sent - spacing * (last - i) as f64;
                action.timestamp_end = action.timestamp_start;
            }
            batch.forwarded_at = sent;
            let mut frame = serde_json::to_value(&batch).unwrap_or_default();
            frame["type"] = "actions".into();
            Ok::<_, Infallible>(Event::default().data(frame.to_string()))
        });
    let heartbeats = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Some((Ok(Event::default().event("heartbeat").data("{}")), ()))
    });
    Sse::new(frames.chain(heartbeats)).keep_alive(KeepAlive::default())
}

/// The Botpress webhook + StoreEventsData: decodes the body with the core, drops a re-delivered
/// batch by its key, maps it to rows and stores them; keeps proactive triggers.
async fn webhook(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let payload = match decode_webhook_body(&body) {
        Ok(WebhookBody::Actions(batch)) => batch,
        Ok(WebhookBody::Trigger(trigger)) => {
            let what = trigger
                .signal
                .as_ref()
                .map_or("", |s| s.description.as_str());
            println!(
                "{} webhook ← TRIGGER for user {}: {what} → suggested opening: {:?}",
                shared.elapsed(),
                trigger.user_id.as_deref().unwrap_or("?"),
                trigger.message
            );
            shared.stored().triggers.push(trigger);
            return StatusCode::OK.into_response();
        }
        Ok(_) => return StatusCode::ACCEPTED.into_response(),
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let rows = match map_actions_to_rows(&payload, &RowOptions::default()) {
        Ok(rows) => rows,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let mut stored = shared.stored();
    if let Some(key) = &payload.batch_id {
        if !stored.seen_batches.insert(key.clone()) {
            return StatusCode::OK.into_response();
        }
    }
    stored.batches_received += 1;
    let created_at = iso_from_ms(now_ms());
    let first_id = stored.events.len();
    stored
        .events
        .extend(rows.into_iter().enumerate().map(|(i, mut row)| {
            row.id = Some((first_id + i + 1).into());
            row.created_at = Some(created_at.clone());
            row
        }));
    let described: Vec<String> = payload
        .actions
        .iter()
        .map(|a| format!("{:?}", a.description))
        .collect();
    println!(
        "{} webhook ← user {}: {}  ({} rows in the events table)",
        shared.elapsed(),
        payload.user_id.as_deref().unwrap_or("?"),
        described.join(", "),
        stored.events.len()
    );
    StatusCode::OK.into_response()
}

/// The Tables API's upsert, for the summary table (key column `session_id`).
async fn upsert(
    State(shared): State<Arc<Shared>>,
    Path(table): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let rows: Vec<SummaryRow> = match serde_json::from_value(body["rows"].clone()) {
        Ok(rows) => rows,
        Err(err) => return (StatusCode::BAD_REQUEST, format!("rows: {err}")).into_response(),
    };
    let mut stored = shared.stored();
    let now = iso_from_ms(now_ms());
    for mut row in rows {
        let previous = stored.summaries.remove(&row.session_id);
        row.created_at = Some(
            previous
                .as_ref()
                .and_then(|p| p.created_at.clone())
                .unwrap_or_else(|| now.clone()),
        );
        row.updated_at = Some(now.clone());
        if row.user_id.is_none() {
            row.user_id = previous.and_then(|p| p.user_id);
        }
        println!(
            "{} {table} ← session {} (covers {} actions): {:?}",
            shared.elapsed(),
            row.session_id,
            row.action_count,
            row.summary
        );
        stored.summaries.insert(row.session_id.clone(), row);
    }
    Json(json!({"inserted": [], "updated": []})).into_response()
}

/// An OpenAI-compatible endpoint that summarizes without a model: it reads the action lines of
/// the streamer's prompt and states which pages the session visited and what it did last.
async fn offline_llm(State(shared): State<Arc<Shared>>, Json(body): Json<Value>) -> Response {
    let prompt = body["messages"][0]["content"].as_str().unwrap_or("");
    let session = prompt
        .lines()
        .find_map(|l| l.strip_prefix("New actions in session "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_owned();
    // Action lines look like "3. [7] click: Selected the SDXL model — https://…/models/diffusion".
    let actions: Vec<(&str, &str)> = prompt
        .lines()
        .filter_map(|line| {
            let (number, rest) = line.split_once(". [")?;
            number.parse::<u32>().ok()?;
            let (_, rest) = rest.split_once(": ")?;
            rest.rsplit_once(" — ")
        })
        .collect();
    let Some((last, _)) = actions.last() else {
        return (StatusCode::BAD_REQUEST, "no action lines in the prompt").into_response();
    };
    let mut stored = shared.stored();
    let pages = stored.offline_pages.entry(session).or_default();
    for (_, url) in &actions {
        let path = url
            .split_once("://")
            .map_or(*url, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
        *pages.entry(path.to_owned()).or_default() += 1;
    }
    let mut visited: Vec<(&String, &usize)> = pages.iter().collect();
    visited.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let visited: Vec<String> = visited
        .iter()
        .map(|(p, n)| format!("{p} ({n} actions)"))
        .collect();
    let summary = format!(
        "[offline summary, no LLM] The user has been moving between {}. Most recently: {last}.",
        visited.join(", ")
    );
    Json(json!({"choices": [{"message": {"role": "assistant", "content": summary}}]}))
        .into_response()
}
