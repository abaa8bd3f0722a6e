//! Live proactive triggers: feeds every batch to the core's [`Watcher`], ticks it (dwell grows
//! with time alone; busy sessions are evaluated at most 4 times a second), and posts each trigger
//! that fires on its [`Nudges`] path (the webhook, or a bot message through the plugin path).
//! A trigger is retried a few times, then dropped with a log line: unlike a batch, a nudge that
//! arrives minutes late is worse than none.
//!
//! Floods stay bounded and fair: triggers wait in one queue (at most [`MAX_PER_USER`] per user
//! and [`MAX_WAITING`] in total, the oldest shed and counted), one sender posts them, and only
//! while less than [`BUDGET_SHARE`] of the minute's request budget is used — the rest stays with
//! table and webhook delivery whatever the triggers do.
//!
//! The sender reports what became of each send back to the loop that owns the [`Watcher`]: a
//! nudge the plugin path held because the conversation shows a chat exchange goes back to the
//! watcher as held by the chat (its window given back, the exchange's quiet time learnt).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::watch::judge::MAX_ACTIONS;
use crate::watch::outcomes::{Delivery, Outcome};
use crate::watch::pacing::PacingStats;
use crate::watch::{kind_name, TriggerConfig, Watcher};
use autoplay_botpress::ids::Owner;
use autoplay_botpress::session_row::NudgeNote;
use autoplay_botpress::time::{iso_from_ms, ms_from_iso};
use autoplay_botpress::wire::TriggerEvent;
use autoplay_botpress::ActionsPayload;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::deliver::{NudgeInbox, NudgeUpdate};
use crate::judge::JudgeCall;
use crate::messages::Delivered;
use crate::metrics::{add, Metrics};
use crate::now_ms;
use crate::nudges::{Nudges, Sent};
use crate::pacing;
use crate::retry::{drive, Policy, Stopped};

const TICK: Duration = Duration::from_millis(250);
/// Triggers waiting to be sent, at most, in total and per user (or session without a user).
const MAX_WAITING: usize = 256;
const MAX_PER_USER: usize = 2;
/// Triggers are sent only while less than this part of the minute's request budget is used.
const BUDGET_SHARE: f64 = 0.5;
const POLICY: Policy = Policy {
    first_delay: Duration::from_millis(200),
    max_delay: Duration::from_secs(5),
    max_attempts: Some(4),
};
/// How long, once shutdown starts, judge calls in flight may still take (the stream waits 8 s for
/// this task in all, [`POST_GRACE`] included).
const REVIEW_GRACE: Duration = Duration::from_secs(2);
/// How long, once shutdown starts, triggers already fired may still take to reach the webhook
/// (less than the stream's wait for this task).
const POST_GRACE: Duration = Duration::from_secs(5);

/// The parsed `--triggers-config` file.
#[derive(Debug, Clone)]
pub struct TriggersSettings {
    pub path: PathBuf,
    pub config: TriggerConfig,
    /// Fields of an autoplay-sdk file that have no equivalent here (logged at start).
    pub notes: Vec<String>,
}

/// Runs until `batches` closes or `cancel`; then gives the triggers already fired [`POST_GRACE`]
/// to reach the webhook. With `judge`, each nudge is reviewed by the LLM before it is queued
/// ([`crate::judge`]). With `records`, each nudge sent and its outcomes go to its session row.
pub async fn run(
    settings: TriggersSettings,
    nudges: Nudges,
    judge: Option<JudgeCall>,
    records: Option<Arc<NudgeInbox>>,
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
    let waiting = std::sync::Arc::new(Waiting::default());
    let (drain, abandon) = (CancellationToken::new(), CancellationToken::new());
    let (reported, mut reports) = mpsc::unbounded_channel();
    // Reply look-ups in flight, aborted at shutdown (their outcome is then not known).
    let mut checks = tokio::task::JoinSet::new();
    // Judge calls in flight; each ends within the judge's own timeout, so shutdown waits for them.
    let reviews = TaskTracker::new();
    let mut sender = tokio::spawn(send(
        nudges.clone(),
        waiting.clone(),
        drain.clone(),
        abandon.clone(),
        reported.clone(),
    ));
    loop {
        let fired = tokio::select! {
            batch = batches.recv() => match batch {
                Some(batch) => watcher.push(&batch, now_ms()),
                None => break,
            },
            _ = tick.tick() => {
                while checks.try_join_next().is_some() {}
                for check in watcher.reply_checks(now_ms()) {
                    let (nudges, reported) = (nudges.clone(), reported.clone());
                    checks.spawn(async move {
                        nudges.budget().headroom(BUDGET_SHARE).await;
                        let replied = nudges.replied(&check).await;
                        let _ = reported.send(Report::Replied { nudge_id: check.nudge_id, replied });
                    });
                }
                watcher.tick(now_ms())
            }
            Some(report) = reports.recv() => {
                report.apply(&mut watcher, records.as_deref(), nudges.metrics());
                Vec::new()
            }
            _ = cancel.cancelled() => break,
        };
        pacing::count(nudges.metrics(), &mut paced, watcher.stats());
        for known in watcher.take_outcomes() {
            nudges.metrics().nudge_outcome(known.kind, known.outcome);
            tracing::info!(session = %known.owner.label(), trigger = ?known.kind,
                outcome = known.outcome.label(), "nudge outcome");
            if let (Some(records), true) = (&records, known.outcome != Outcome::Failed) {
                let update = NudgeUpdate::Outcome {
                    id: NudgeNote::id_for(&known.nudge_id),
                    outcome: known.outcome.label(),
                };
                record(records, known.owner, update, nudges.metrics());
            }
        }
        for trigger in fired {
            add(&nudges.metrics().triggers_fired_total, 1);
            tracing::info!(session = %trigger.session_id, trigger = ?trigger.trigger, "trigger fired");
            let Some(judge) = judge.clone() else {
                waiting.queue(trigger, nudges.metrics());
                continue;
            };
            let owner = trigger.owner();
            let recent = watcher.recent(&owner, MAX_ACTIONS);
            let (waiting, metrics) = (waiting.clone(), nudges.metrics().clone());
            reviews.spawn(async move {
                if let Some(trigger) = judge.review(trigger, &recent).await {
                    waiting.queue(trigger, &metrics);
                }
            });
        }
    }
    reviews.close();
    if tokio::time::timeout(REVIEW_GRACE, reviews.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "judge calls still running at shutdown are abandoned (their nudges with them)"
        );
    }
    drain.cancel();
    if tokio::time::timeout(POST_GRACE, &mut sender).await.is_err() {
        tracing::warn!("triggers still waiting to be posted at shutdown are abandoned");
        abandon.cancel();
        let _ = sender.await;
    }
}

/// What the sender and the reply look-ups learnt, for the watcher.
enum Report {
    /// What became of one trigger's send (`None`: dropped after the retries).
    Sent {
        trigger: Box<TriggerEvent>,
        sent: Option<Sent>,
    },
    /// Whether the user replied to a nudge (`None`: could not be read).
    Replied {
        nudge_id: String,
        replied: Option<bool>,
    },
}

impl Report {
    fn apply(self, watcher: &mut Watcher, records: Option<&NudgeInbox>, metrics: &Metrics) {
        match self {
            Report::Sent {
                trigger,
                sent: Some(Sent::Plugin(Delivered::Quiet(last))),
            } => {
                let owner = trigger.owner();
                let fired_ms = ms_from_iso(&trigger.fired_at).unwrap_or_default();
                watcher.held_by_chat(&owner, &trigger.trigger_id, fired_ms, last);
            }
            Report::Sent { trigger, sent } => {
                let delivery = match sent {
                    Some(sent) => sent.delivery(),
                    None => Some(Delivery::Failed),
                };
                let sent = !matches!(delivery, None | Some(Delivery::Failed));
                if let (Some(records), true) = (records, sent) {
                    let update = NudgeUpdate::Sent(note_of(&trigger));
                    record(records, trigger.owner(), update, metrics);
                }
                if let Some(delivery) = delivery {
                    watcher.delivered(&trigger.trigger_id, delivery);
                }
            }
            Report::Replied { nudge_id, replied } => watcher.replied(&nudge_id, replied),
        }
    }
}

/// What the session row records of a nudge sent.
fn note_of(trigger: &TriggerEvent) -> NudgeNote {
    NudgeNote {
        id: NudgeNote::id_for(&trigger.trigger_id),
        kind: trigger.trigger.map(kind_name).unwrap_or_default(),
        message: trigger.message.clone(),
        sent_at: iso_from_ms(now_ms()),
        outcomes: Vec::new(),
    }
}

/// Queues a row update, counting what the bounded inbox shed for it.
fn record(records: &NudgeInbox, owner: Owner, update: NudgeUpdate, metrics: &Metrics) {
    let shed = records.put(owner, update);
    if shed > 0 {
        add(&metrics.nudge_records_shed_total, shed as u64);
    }
}

/// The triggers waiting to be sent, oldest first.
#[derive(Default)]
struct Waiting {
    queue: std::sync::Mutex<VecDeque<TriggerEvent>>,
    ready: tokio::sync::Notify,
}

impl Waiting {
    /// Queues a trigger, shedding the oldest of its user (then of all) past the bounds; returns
    /// how many were shed.
    fn push(&self, trigger: TriggerEvent) -> u64 {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let mut shed = 0;
        let owner = |t: &TriggerEvent| t.user_id.clone().unwrap_or_else(|| t.session_id.clone());
        let mine = owner(&trigger);
        while queue.iter().filter(|t| owner(t) == mine).count() >= MAX_PER_USER {
            let oldest = queue.iter().position(|t| owner(t) == mine);
            queue.remove(oldest.unwrap_or(0));
            shed += 1;
        }
        while queue.len() >= MAX_WAITING {
            queue.pop_front();
            shed += 1;
        }
        queue.push_back(trigger);
        drop(queue);
        self.ready.notify_one();
        shed
    }

    /// [`Waiting::push`], counting what was shed.
    fn queue(&self, trigger: TriggerEvent, metrics: &Metrics) {
        let shed = self.push(trigger);
        if shed > 0 {
            add(&metrics.triggers_shed_total, shed);
        }
    }

    fn pop(&self) -> Option<TriggerEvent> {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }
}

/// Sends waiting triggers one at a time, within the triggers' share of the budget, until
/// `drain` fires and the queue is empty, or `abandon` fires; reports each send.
async fn send(
    nudges: Nudges,
    waiting: std::sync::Arc<Waiting>,
    drain: CancellationToken,
    abandon: CancellationToken,
    reported: mpsc::UnboundedSender<Report>,
) {
    loop {
        let Some(trigger) = waiting.pop() else {
            tokio::select! {
                _ = waiting.ready.notified() => continue,
                _ = drain.cancelled() => return,
            }
        };
        tokio::select! {
            _ = nudges.budget().headroom(BUDGET_SHARE) => {}
            _ = abandon.cancelled() => return,
        }
        let sent = post(&nudges, &trigger, abandon.clone()).await;
        // The loop is gone only at shutdown, when no report matters any more.
        let _ = reported.send(Report::Sent {
            trigger: Box::new(trigger),
            sent,
        });
    }
}

async fn post(nudges: &Nudges, trigger: &TriggerEvent, cancel: CancellationToken) -> Option<Sent> {
    let outcome = drive(POLICY, &cancel, "delivering a trigger", move |_| {
        nudges.send(trigger)
    })
    .await;
    match outcome {
        Ok(sent) => Some(sent),
        Err(Stopped::Failed(failure)) => {
            add(&nudges.metrics().triggers_dropped_total, 1);
            tracing::warn!(reason = %failure.reason, session = %trigger.session_id, "could not deliver a trigger; dropped");
            None
        }
        Err(Stopped::Cancelled) => None,
    }
}
