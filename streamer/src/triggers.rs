//! Live proactive triggers: feeds every batch to the core's [`Watcher`], ticks it (dwell grows
//! with time alone; busy sessions are evaluated at most 4 times a second), and posts each trigger
//! that fires on its [`Nudges`] path (the webhook, or a bot message through the plugin path).
//! A trigger is retried a few times, then dropped with a log line: unlike a batch, a nudge that
//! arrives minutes late is worse than none.

use std::time::Duration;

use autoplay_botpress::triggers::Watcher;
use autoplay_botpress::wire::TriggerEvent;
use autoplay_botpress::ActionsPayload;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::TriggersSettings;
use crate::metrics::add;
use crate::now_ms;
use crate::nudges::Nudges;
use crate::retry::{drive, Policy, Stopped};

const TICK: Duration = Duration::from_millis(250);
const POLICY: Policy = Policy {
    first_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(5),
    max_attempts: Some(4),
};

/// Runs until `batches` closes or `cancel`.
pub async fn run(
    settings: TriggersSettings,
    nudges: Nudges,
    mut batches: mpsc::Receiver<ActionsPayload>,
    cancel: CancellationToken,
) {
    let mut watcher = Watcher::new(settings.config);
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
        for trigger in fired {
            add(&nudges.metrics().triggers_fired_total, 1);
            tracing::info!(session = %trigger.session_id, trigger = ?trigger.trigger, "trigger fired");
            tokio::spawn(post(nudges.clone(), trigger, cancel.clone()));
        }
    }
}

async fn post(nudges: Nudges, trigger: TriggerEvent, cancel: CancellationToken) {
    let (path, event) = (&nudges, &trigger);
    let outcome = drive(POLICY, &cancel, "delivering a trigger", move |_| {
        path.send(event)
    })
    .await;
    if let Err(Stopped::Failed(failure)) = outcome {
        add(&nudges.metrics().triggers_dropped_total, 1);
        tracing::warn!(reason = %failure.reason, session = %trigger.session_id, "could not deliver a trigger; dropped");
    }
}
