//! The Autoplay connector's SSE stream: connect, read frames, classify them with the core,
//! reconnect.
//!
//! What the reference client does, and what a hostile stream needs: `heartbeat` frames and
//! unknown types are skipped; malformed, oversized (checked while reading) or non-UTF-8 frames are
//! counted and logged, never a wedge; a stream silent for `--stream-idle-timeout` (not even a
//! heartbeat) is re-made; an answer that is not `text/event-stream` is an error naming its type.
//! Reconnects follow the shared retry driver: 1 s doubling to 30 s with jitter, restarting after
//! a connection that delivered frames; 401, 403 and 404 stop the streamer (wrong token or URL).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autoplay_botpress::{decode_frame, ActionsPayload, Frame, SummaryPayload};
use reqwest::{StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::http::{snippet, transport_failure};
use crate::metrics::{add, Metrics};
use crate::retry::{drive, Failure, FailureKind, Policy, Stopped};
use crate::secret::{redact_url, Secret};
use crate::sse::{Item, Parser};

/// Most actions one stored batch holds; bigger frames are split (each action keeps its key).
pub const MAX_ACTIONS_PER_BATCH: usize = 500;

/// What the stream hands on.
#[derive(Debug, Clone)]
pub enum Incoming {
    Actions(ActionsPayload),
    Summary(SummaryPayload),
}

/// A problem that reconnecting cannot fix.
#[derive(Debug, thiserror::Error)]
#[error("the Autoplay stream answered HTTP {status}: {hint}")]
pub struct FatalStreamError {
    pub status: StatusCode,
    pub hint: String,
}

/// Where the reader hands what it reads. `hand` may wait (that pauses the reader: the memory
/// bound) but must be cancel-safe: a payload counts as handed only once `hand` returned.
pub trait Handoff: Sync {
    fn hand(&self, incoming: &Incoming) -> impl Future<Output = ()> + Send;
}

pub struct Connector {
    pub http: reqwest::Client,
    pub url: Url,
    pub token: Secret,
    pub max_frame_bytes: usize,
    pub idle_timeout: Duration,
    pub metrics: Arc<Metrics>,
    /// Applied to every batch and summary as it is read.
    pub privacy: crate::privacy::Privacy,
}

impl Connector {
    /// Reads the stream until `cancel`, passing each payload to `handoff`. Returns an error only
    /// for fatal statuses.
    pub async fn run(
        &self,
        cancel: &CancellationToken,
        handoff: &impl Handoff,
    ) -> Result<(), FatalStreamError> {
        let policy = Policy {
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: None,
        };
        let queue = Mutex::new(VecDeque::new());
        let outcome = drive(policy, cancel, "reading the Autoplay stream", |attempt| {
            if attempt > 1 {
                add(&self.metrics.reconnects_total, 1);
            }
            self.read(&queue, handoff)
        })
        .await;
        // Frames already read are handed on before stopping.
        hand_queued(&queue, handoff).await;
        match outcome {
            Ok(()) | Err(Stopped::Cancelled) => Ok(()),
            Err(Stopped::Failed(failure)) => Err(FatalStreamError {
                status: failure.status.unwrap_or(StatusCode::BAD_REQUEST),
                hint: failure.reason,
            }),
        }
    }

    /// One connection: reads until it ends, breaks or goes silent (always an `Err`).
    async fn read(
        &self,
        queue: &Mutex<VecDeque<Incoming>>,
        handoff: &impl Handoff,
    ) -> Result<(), Failure> {
        hand_queued(queue, handoff).await;
        let mut response = self.connect().await?;
        tracing::info!(url = %redact_url(&self.url), "connected to the Autoplay stream");
        let mut parser = Parser::new(self.max_frame_bytes);
        let mut items = Vec::new();
        let mut progressed = false;
        let ended = |reason: String, progressed| Failure {
            progressed,
            ..Failure::transient(reason)
        };
        loop {
            let chunk = match tokio::time::timeout(self.idle_timeout, response.chunk()).await {
                Err(_) => {
                    add(&self.metrics.stream_idle_timeouts_total, 1);
                    return Err(ended(
                        format!(
                            "no data for {} s, not even a heartbeat (--stream-idle-timeout)",
                            self.idle_timeout.as_secs()
                        ),
                        progressed,
                    ));
                }
                Ok(Err(err)) => {
                    return Err(ended(transport_failure(&err).reason, progressed));
                }
                Ok(Ok(None)) => return Err(ended("the stream ended".into(), progressed)),
                Ok(Ok(Some(chunk))) => chunk,
            };
            parser.push(&chunk, &mut items);
            {
                let mut queue = lock(queue);
                for item in items.drain(..) {
                    progressed |= self.classify(item, &mut queue);
                }
            }
            hand_queued(queue, handoff).await;
        }
    }

    /// Opens the stream; the failure says what to fix.
    async fn connect(&self) -> Result<reqwest::Response, Failure> {
        let response = stream_request(&self.http, &self.url, &self.token)
            .send()
            .await
            .map_err(|e| transport_failure(&e))?;
        let status = response.status();
        if let Some(hint) = fatal_hint(status) {
            return Err(Failure {
                kind: FailureKind::Fatal,
                status: Some(status),
                reason: hint.to_owned(),
                after: None,
                progressed: false,
            });
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(Failure::transient(format!(
                "the Autoplay stream refused the connection: HTTP {status}: {}",
                snippet(&body)
            )));
        }
        let kind = content_type(&response);
        if !kind.starts_with("text/event-stream") {
            return Err(Failure::transient(format!(
                "the Autoplay stream answered with content type {kind:?}, not text/event-stream: \
                 is --stream-url the connector's /stream/<product-id>?"
            )));
        }
        Ok(response)
    }

    /// Queues what a frame carries (a big batch in parts); `true` when it carried anything.
    fn classify(&self, item: Item, queue: &mut VecDeque<Incoming>) -> bool {
        let (name, data, lossy) = match item {
            Item::Oversized { bytes } => {
                add(&self.metrics.oversized_frames_total, 1);
                add(&self.metrics.malformed_frames_total, 1);
                tracing::warn!(
                    bytes,
                    limit = self.max_frame_bytes,
                    "skipping an oversized frame (--max-frame-bytes)"
                );
                return false;
            }
            Item::Event { name, data, lossy } => (name, data, lossy),
        };
        if lossy {
            add(&self.metrics.invalid_utf8_frames_total, 1);
            tracing::warn!("a frame had invalid UTF-8; the bad bytes were replaced");
        }
        match decode_frame(&name, &data) {
            Ok(Frame::Actions {
                batch: mut payload,
                skipped,
            }) => {
                add(&self.metrics.batches_received_total, 1);
                if let Some(skipped) = skipped {
                    add(&self.metrics.skipped_actions_total, skipped.count);
                    tracing::warn!(
                        session = payload.session_label(),
                        skipped = skipped.count,
                        kept = payload.actions.len(),
                        reason = %self.privacy.apply_text(&skipped.first),
                        "left unreadable actions out of a batch; its other actions are delivered"
                    );
                }
                add(
                    &self.metrics.actions_received_total,
                    payload.actions.len() as u64,
                );
                let shortened = payload.shortened_ids();
                if shortened > 0 {
                    add(&self.metrics.ids_shortened_total, shortened as u64);
                    tracing::warn!(
                        shortened,
                        "a batch had a user or session id over 200 bytes; it was shortened to a prefix and a digest"
                    );
                }
                self.privacy.apply(&mut payload);
                payload.assign_keys(batch_id(&data));
                let parts = payload.split(MAX_ACTIONS_PER_BATCH);
                queue.extend(parts.into_iter().map(Incoming::Actions));
                true
            }
            Ok(Frame::Summary(mut summary)) => {
                summary.summary = self.privacy.apply_text(&summary.summary);
                queue.push_back(Incoming::Summary(summary));
                true
            }
            Ok(Frame::Heartbeat) => false,
            Ok(Frame::Ignored { event_type }) => {
                tracing::debug!(%event_type, "skipping a frame of unknown type");
                false
            }
            Err(err) => {
                add(&self.metrics.malformed_frames_total, 1);
                tracing::warn!(%err, "skipping a malformed frame");
                false
            }
        }
    }
}

/// Hands on the queued payloads in order; each leaves the queue only once handed.
async fn hand_queued(queue: &Mutex<VecDeque<Incoming>>, handoff: &impl Handoff) {
    loop {
        let Some(next) = lock(queue).front().cloned() else {
            return;
        };
        handoff.hand(&next).await;
        lock(queue).pop_front();
    }
}

fn lock(queue: &Mutex<VecDeque<Incoming>>) -> std::sync::MutexGuard<'_, VecDeque<Incoming>> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

/// The GET that opens the stream.
pub fn stream_request(
    http: &reqwest::Client,
    url: &Url,
    token: &Secret,
) -> reqwest::RequestBuilder {
    http.get(url.clone())
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .bearer_auth(token.expose())
}

/// What to fix when the stream refuses a connection for good; `None` for statuses worth retrying.
pub fn fatal_hint(status: StatusCode) -> Option<&'static str> {
    match status {
        StatusCode::UNAUTHORIZED => Some("the Autoplay token was not accepted; check --token / AUTOPLAY_TOKEN"),
        StatusCode::FORBIDDEN => Some("the Autoplay token may not read this product's stream; check the token and the product id in --stream-url"),
        StatusCode::NOT_FOUND => Some("no stream at this URL; check --stream-url (…/stream/<product-id>)"),
        _ => None,
    }
}

/// A stable idempotency key for a batch: the first 128 bits of the SHA-256 of its frame. The
/// same frame gets the same key on every delivery attempt and after a restart (the key is stored
/// with the batch).
pub fn batch_id(frame_data: &str) -> String {
    let digest = Sha256::digest(frame_data.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_stable_and_distinct() {
        let a = r#"{"session_id":"s","actions":[{"index":1}]}"#;
        let b = r#"{"session_id":"s","actions":[{"index":2}]}"#;
        assert_eq!(
            batch_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223",
            "SHA-256, 128 bits"
        );
        assert_ne!(batch_id(a), batch_id(b));
        assert_eq!(batch_id(a).len(), 32);
    }
}
