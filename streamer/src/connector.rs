//! The Autoplay connector's SSE stream: connect, classify frames with the core, reconnect.
//!
//! Frame parsing is `eventsource-stream`'s; this module adds what the reference client does
//! around it: `heartbeat` frames and unknown types are skipped, malformed or oversized frames are
//! logged, counted and skipped, and the connection is re-made after 1 s doubling to 30 s with
//! jitter. 401, 403 and 404 are not retried: they mean a wrong token or URL.

use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::{decode_frame, ActionsPayload, Frame, SummaryPayload};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use reqwest::{StatusCode, Url};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::forward::{describe_transport_error, snippet};
use crate::metrics::{add, Metrics};
use crate::secret::Secret;

/// What the stream hands on.
#[derive(Debug)]
pub enum Incoming {
    Actions(ActionsPayload),
    Summary(SummaryPayload),
}

/// A problem that reconnecting cannot fix.
#[derive(Debug, thiserror::Error)]
#[error("the Autoplay stream answered HTTP {status}: {hint}")]
pub struct FatalStreamError {
    pub status: StatusCode,
    pub hint: &'static str,
}

pub struct Connector {
    pub http: reqwest::Client,
    pub url: Url,
    pub token: Secret,
    pub max_frame_bytes: usize,
    pub metrics: Arc<Metrics>,
}

impl Connector {
    /// Reads the stream until `cancel`, passing each payload to `handle` (which may wait, pausing
    /// the reader: that is the in-memory bound). Returns an error only for fatal statuses.
    pub async fn run<F, Fut>(
        &self,
        cancel: &CancellationToken,
        mut handle: F,
    ) -> Result<(), FatalStreamError>
    where
        F: FnMut(Incoming) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let mut first = true;
        while !cancel.is_cancelled() {
            if !first {
                add(&self.metrics.reconnects_total, 1);
                let delay = backoff.next_delay();
                tracing::info!(
                    retry_in_ms = delay.as_millis() as u64,
                    "reconnecting to the Autoplay stream"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = cancel.cancelled() => break,
                }
            }
            first = false;
            let request = stream_request(&self.http, &self.url, &self.token).send();
            let response = tokio::select! {
                response = request => response,
                _ = cancel.cancelled() => break,
            };
            let response = match response {
                Ok(r) => r,
                Err(err) => {
                    tracing::warn!(reason = %describe_transport_error(&err), "cannot reach the Autoplay stream");
                    continue;
                }
            };
            let status = response.status();
            if let Some(hint) = fatal_hint(status) {
                return Err(FatalStreamError { status, hint });
            }
            if !status.is_success() {
                let body = response.text().await.unwrap_or_default();
                tracing::warn!(%status, body = %snippet(&body), "the Autoplay stream refused the connection");
                continue;
            }
            tracing::info!(url = %self.url, "connected to the Autoplay stream");
            let mut events = response.bytes_stream().eventsource();
            loop {
                let event = tokio::select! {
                    event = events.next() => event,
                    _ = cancel.cancelled() => return Ok(()),
                };
                match event {
                    Some(Ok(event)) => {
                        backoff.reset();
                        if let Some(incoming) = self.classify(&event.event, &event.data) {
                            handle(incoming).await;
                        }
                    }
                    Some(Err(err)) => {
                        tracing::warn!(%err, "the Autoplay stream broke");
                        break;
                    }
                    None => {
                        tracing::warn!("the Autoplay stream ended");
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn classify(&self, event: &str, data: &str) -> Option<Incoming> {
        if data.len() > self.max_frame_bytes {
            add(&self.metrics.malformed_frames_total, 1);
            tracing::warn!(
                bytes = data.len(),
                limit = self.max_frame_bytes,
                "skipping an oversized frame"
            );
            return None;
        }
        match decode_frame(event, data) {
            Ok(Frame::Actions(mut payload)) => {
                add(&self.metrics.batches_received_total, 1);
                add(
                    &self.metrics.actions_received_total,
                    payload.actions.len() as u64,
                );
                payload.batch_id = Some(batch_id(&payload));
                Some(Incoming::Actions(payload))
            }
            Ok(Frame::Summary(summary)) => Some(Incoming::Summary(summary)),
            Ok(Frame::Heartbeat) => None,
            Ok(Frame::Ignored { event_type }) => {
                tracing::debug!(%event_type, "skipping a frame of unknown type");
                None
            }
            Err(err) => {
                add(&self.metrics.malformed_frames_total, 1);
                tracing::warn!(%err, "skipping a malformed frame");
                None
            }
        }
    }
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

/// A stable idempotency key for a batch: the first 128 bits of the SHA-256 of its JSON. The same
/// batch gets the same key on every delivery attempt and after a restart.
pub fn batch_id(payload: &ActionsPayload) -> String {
    let mut unkeyed = payload.clone();
    unkeyed.batch_id = None;
    let digest = Sha256::digest(serde_json::to_vec(&unkeyed).unwrap_or_default());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ids_are_stable_and_distinct() {
        let a = ActionsPayload::from_json(r#"{"session_id":"s","actions":[{"index":1}]}"#).unwrap();
        let b = ActionsPayload::from_json(r#"{"session_id":"s","actions":[{"index":2}]}"#).unwrap();
        assert_eq!(batch_id(&a), batch_id(&a.clone()));
        assert_ne!(batch_id(&a), batch_id(&b));
        assert_eq!(batch_id(&a).len(), 32);
        let mut keyed = a.clone();
        keyed.batch_id = Some(batch_id(&a));
        assert_eq!(
            batch_id(&keyed),
            batch_id(&a),
            "the key does not depend on itself"
        );
    }
}
