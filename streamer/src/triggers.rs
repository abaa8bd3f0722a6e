//! Live proactive triggers: feeds every batch to the core's [`Watcher`], ticks it (dwell grows
//! with time alone; busy sessions are evaluated at most 4 times a second), and posts each trigger
//! that fires to the webhook (`type: "trigger"`), signed like batches, its id as idempotency key.
//! A trigger is retried a few times, then dropped with a log line: unlike a batch, a nudge that
//! arrives minutes late is worse than none.

use std::time::Duration;

use autoplay_botpress::triggers::pacing::PacingStats;
use autoplay_botpress::triggers::Watcher;
use autoplay_botpress::wire::TriggerEvent;
use autoplay_botpress::ActionsPayload;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::TriggersSettings;
use crate::metrics::{add, RequestKind};
use crate::now_ms;
use crate::pacing;
use crate::retry::{drive, Policy, Stopped};
use crate::webhook::Webhook;

const TICK: Duration = Duration::from_millis(250);
const POLICY: Policy = Policy {
    first_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(5),
    max_attempts: Some(4),
};

/// Runs until `batches` closes or `cancel`.
pub async fn run(
    settings: TriggersSettings,
    webhook: Webhook,
    mut batches: mpsc::Receiver<ActionsPayload>,
    cancel: CancellationToken,
) {
    for note in &settings.notes {
        tracing::warn!(file = %settings.path.display(), "triggers file: {note}");
    }
    let mut watcher = Watcher::new(settings.config);
    let mut paced = PacingStats::default();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let fired = tokio::select! {
            batch = batches.recv() => match batch {
                Some(batch) => watcher.push(&batch, now_ms()),
                None => return,
            },
            _ = tick.tick() => watcher.tick(now_ms()),
            _ = cancel.cancelled() => return,
        };
        pacing::count(&webhook.metrics, &mut paced, watcher.stats());
        for trigger in fired {
            add(&webhook.metrics.triggers_fired_total, 1);
            tracing::info!(session = %trigger.session_id, trigger = ?trigger.trigger, "trigger fired");
            tokio::spawn(post(webhook.clone(), trigger, cancel.clone()));
        }
    }
}

async fn post(webhook: Webhook, trigger: TriggerEvent, cancel: CancellationToken) {
    let mut body = serde_json::to_value(&trigger).unwrap_or_default();
    body["type"] = "trigger".into();
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let outcome = drive(POLICY, &cancel, "posting a trigger", |_| {
        webhook.post(
            RequestKind::Trigger,
            Some(&trigger.trigger_id),
            body.clone(),
        )
    })
    .await;
    if let Err(Stopped::Failed(failure)) = outcome {
        add(&webhook.metrics.triggers_dropped_total, 1);
        tracing::warn!(reason = %failure.reason, session = %trigger.session_id, "could not deliver a trigger; dropped");
    }
}
