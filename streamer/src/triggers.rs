//! Live proactive triggers: feeds every batch to the core's [`Watcher`], ticks it for dwell, and
//! posts each trigger that fires to the webhook (`type: "trigger"`), signed like the batches,
//! with its id as idempotency key. A trigger is retried a few times, then dropped with a log
//! line: unlike a batch, a nudge that arrives minutes late is worse than none.

use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::triggers::{TriggerEvent, Watcher};
use autoplay_botpress::ActionsPayload;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backoff::{retry_after, Backoff};
use crate::config::TriggersSettings;
use crate::forward::{describe_transport_error, now_ms, retryable, webhook_request};
use crate::metrics::{add, Metrics};
use crate::secret::{Secret, SecretUrl};

const TICK: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where triggers go.
#[derive(Clone)]
pub struct TriggerSink {
    pub http: reqwest::Client,
    pub webhook: SecretUrl,
    pub signing_secret: Option<Secret>,
    pub metrics: Arc<Metrics>,
}

/// Runs until `batches` closes or `cancel`.
pub async fn run(
    settings: TriggersSettings,
    sink: TriggerSink,
    mut batches: mpsc::Receiver<ActionsPayload>,
    cancel: CancellationToken,
) {
    let mut watcher = Watcher::new(settings.config);
    let mut tick = tokio::time::interval(TICK);
    loop {
        let fired = tokio::select! {
            batch = batches.recv() => match batch {
                Some(batch) => watcher.push(&batch, now_ms()),
                None => return,
            },
            _ = tick.tick() => watcher.tick(now_ms()),
            _ = cancel.cancelled() => return,
        };
        for trigger in fired {
            add(&sink.metrics.triggers_fired_total, 1);
            tracing::info!(session = %trigger.session_id, trigger = ?trigger.trigger, "trigger fired");
            tokio::spawn(post(sink.clone(), trigger, cancel.clone()));
        }
    }
}

async fn post(sink: TriggerSink, trigger: TriggerEvent, cancel: CancellationToken) {
    let mut body = serde_json::to_value(&trigger).unwrap_or_default();
    body["type"] = "trigger".into();
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    for attempt in 1..=ATTEMPTS {
        let request = webhook_request(
            &sink.http,
            &sink.webhook,
            sink.signing_secret.as_ref(),
            Some(&trigger.trigger_id),
            body.clone(),
        )
        .timeout(TIMEOUT);
        let (reason, after) = match request.send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) if !retryable(r.status()) => {
                tracing::warn!(status = %r.status(), session = %trigger.session_id, "the webhook refused a trigger; dropped");
                return;
            }
            Ok(r) => (
                format!("HTTP {}", r.status()),
                retry_after(r.headers(), Duration::from_secs(10)),
            ),
            Err(err) => (describe_transport_error(&err), None),
        };
        if attempt == ATTEMPTS {
            tracing::warn!(%reason, session = %trigger.session_id, "could not deliver a trigger; dropped");
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(after.unwrap_or_else(|| backoff.next_delay())) => {}
            _ = cancel.cancelled() => return,
        }
    }
}
