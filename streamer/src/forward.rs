//! Delivery of spooled batches to the Botpress webhook.
//!
//! Each session gets its own worker task, so a session whose deliveries are retrying never holds
//! up another, while batches of one session are delivered one at a time, in order. Transient
//! failures (network errors, 408, 429, 5xx) are retried with backoff, honouring `Retry-After`;
//! any other 4xx means the webhook will never take the batch, so it goes to the dead-letter file
//! with the reason. Either way the batch leaves the spool only once it is settled.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autoplay_botpress::ActionsPayload;
use reqwest::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::backoff::{retry_after, Backoff};
use crate::metrics::{add, Metrics};
use crate::secret::{Secret, SecretUrl};
use crate::spool::{SpoolRequest, Spooled};

/// Header carrying the body's signature, as the connector's push mode sends it.
pub const SIGNATURE_HEADER: &str = "X-Connector-Signature";

/// `sha256=<hex HMAC-SHA256 of the body>`, the connector's push-mode signature.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Header carrying the batch's idempotency key (also in the body as `batch_id`).
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
const IDLE_SESSION: Duration = Duration::from_secs(300);

/// What the workers share.
pub struct Forwarder {
    pub http: reqwest::Client,
    pub webhook: SecretUrl,
    /// Signs every body when set (`--webhook-secret`).
    pub signing_secret: Option<Secret>,
    pub spool: mpsc::Sender<SpoolRequest>,
    pub dead_letter_path: PathBuf,
    pub max_retry_delay: Duration,
    pub metrics: Arc<Metrics>,
    pub cancel: CancellationToken,
}

struct SessionQueue {
    tx: mpsc::UnboundedSender<Spooled>,
    /// Batches sent to the worker and not yet settled.
    outstanding: Arc<AtomicUsize>,
    last_used: Instant,
}

/// Routes batches to per-session workers until the spool side closes or shutdown; then waits
/// for the workers (which stop retrying on shutdown, leaving unsettled batches in the spool).
pub async fn dispatch(forwarder: Arc<Forwarder>, mut batches: mpsc::Receiver<Spooled>) {
    let mut sessions: HashMap<String, SessionQueue> = HashMap::new();
    let mut workers = tokio::task::JoinSet::new();
    let mut sweep = tokio::time::interval(Duration::from_secs(30));
    loop {
        let batch = tokio::select! {
            batch = batches.recv() => batch,
            _ = forwarder.cancel.cancelled() => None,
            _ = sweep.tick() => {
                // The dispatcher is the only sender, so an idle queue with nothing outstanding
                // is empty and can be dropped without racing a send.
                sessions.retain(|_, q| {
                    q.outstanding.load(Ordering::Acquire) > 0 || q.last_used.elapsed() < IDLE_SESSION
                });
                while workers.try_join_next().is_some() {}
                continue;
            }
        };
        let Some(batch) = batch else { break };
        let key = batch.payload.session_id.clone().unwrap_or_default();
        let queue = sessions.entry(key).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let outstanding = Arc::new(AtomicUsize::new(0));
            workers.spawn(session_worker(forwarder.clone(), rx, outstanding.clone()));
            SessionQueue {
                tx,
                outstanding,
                last_used: Instant::now(),
            }
        });
        queue.last_used = Instant::now();
        queue.outstanding.fetch_add(1, Ordering::AcqRel);
        if queue.tx.send(batch).is_err() {
            break; // only when shutting down: the batch stays in the spool
        }
    }
    drop(sessions);
    while workers.join_next().await.is_some() {}
}

async fn session_worker(
    forwarder: Arc<Forwarder>,
    mut rx: mpsc::UnboundedReceiver<Spooled>,
    outstanding: Arc<AtomicUsize>,
) {
    while let Some(batch) = rx.recv().await {
        let settled = deliver(&forwarder, &batch.payload).await;
        outstanding.fetch_sub(1, Ordering::AcqRel);
        match settled {
            Some(()) => {
                if forwarder
                    .spool
                    .send(SpoolRequest::Remove(batch.seq))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            None => return, // shutting down; this and later batches stay in the spool
        }
    }
}

/// Outcome of one POST.
enum Attempt {
    Delivered,
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Reject {
        status: StatusCode,
        reason: String,
    },
}

/// Delivers until the webhook takes the batch or refuses it for good (`Some`), or shutdown
/// (`None`).
async fn deliver(forwarder: &Forwarder, payload: &ActionsPayload) -> Option<()> {
    let mut backoff = Backoff::new(Duration::from_millis(200), forwarder.max_retry_delay);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let attempt = tokio::select! {
            attempt = post(forwarder, payload) => attempt,
            _ = forwarder.cancel.cancelled() => return None,
        };
        match attempt {
            Attempt::Delivered => {
                add(
                    &forwarder.metrics.actions_forwarded_total,
                    payload.actions.len() as u64,
                );
                return Some(());
            }
            Attempt::Reject { status, reason } => {
                tracing::error!(
                    session = payload.session_label(),
                    batch_id = payload.batch_id.as_deref().unwrap_or(""),
                    %status,
                    %reason,
                    "webhook rejected the batch; written to the dead-letter file"
                );
                if let Err(err) = dead_letter(forwarder, payload, status, &reason).await {
                    tracing::error!(%err, path = %forwarder.dead_letter_path.display(), "cannot write the dead-letter file; keeping the batch in the spool");
                    return None;
                }
                add(&forwarder.metrics.dead_lettered_total, 1);
                return Some(());
            }
            Attempt::Retry { reason, after } => {
                add(&forwarder.metrics.forward_retries_total, 1);
                let delay = after.unwrap_or_else(|| backoff.next_delay());
                tracing::warn!(
                    session = payload.session_label(),
                    attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    %reason,
                    "webhook delivery failed; retrying"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = forwarder.cancel.cancelled() => return None,
                }
            }
        }
    }
}

/// A POST of the JSON `body` to the webhook, with its idempotency key and, when a secret is
/// set, its signature: what batches and triggers share.
pub fn webhook_request(
    http: &reqwest::Client,
    webhook: &SecretUrl,
    signing_secret: Option<&Secret>,
    key: Option<&str>,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let mut request = http
        .post(webhook.0.clone())
        .timeout(REQUEST_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header(IDEMPOTENCY_HEADER, key);
    }
    if let Some(secret) = signing_secret {
        request = request.header(SIGNATURE_HEADER, sign(secret, &body));
    }
    request.body(body)
}

async fn post(forwarder: &Forwarder, payload: &ActionsPayload) -> Attempt {
    // Serializing plain data to a Vec cannot fail.
    let body = serde_json::to_vec(payload).unwrap_or_default();
    let request = webhook_request(
        &forwarder.http,
        &forwarder.webhook,
        forwarder.signing_secret.as_ref(),
        payload.batch_id.as_deref(),
        body,
    );
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => {
            return Attempt::Retry {
                reason: describe_transport_error(&err),
                after: None,
            }
        }
    };
    let status = response.status();
    if status.is_success() {
        return Attempt::Delivered;
    }
    let after = retry_after(response.headers(), MAX_RETRY_AFTER);
    let body = response.text().await.unwrap_or_default();
    let reason = format!("HTTP {status}: {}", snippet(&body));
    if retryable(status) {
        Attempt::Retry { reason, after }
    } else {
        Attempt::Reject { status, reason }
    }
}

/// Whether the webhook may accept a retry of what it answered `status` to: 5xx, 408, 429.
pub fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// A transport error without the URL (which holds the webhook's secret).
pub fn describe_transport_error(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = String::new();
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// At most 300 characters of a response body, on one line.
pub fn snippet(body: &str) -> String {
    autoplay_botpress::truncate::truncate_chars(body.trim(), 300).replace('\n', " ")
}

async fn dead_letter(
    forwarder: &Forwarder,
    payload: &ActionsPayload,
    status: StatusCode,
    reason: &str,
) -> std::io::Result<()> {
    let line = serde_json::json!({
        "at": autoplay_botpress::clock::iso_from_ms(now_ms()),
        "status": status.as_u16(),
        "reason": reason,
        "batch": payload,
    });
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&forwarder.dead_letter_path)
        .await?;
    file.write_all(format!("{line}\n").as_bytes()).await?;
    file.sync_data().await
}

/// Wall-clock unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
