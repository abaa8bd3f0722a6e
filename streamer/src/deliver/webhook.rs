//! `--deliver webhook`: batches POSTed to the Botpress webhook, for bots built on the guide's
//! StoreEventsData and for the connector's push mode. Every POST is a billed Botpress event, so
//! each flush sends one body per session with everything that session has pending (consecutive
//! batches merged into one body of the same shape), inside the request budget.
//!
//! A body never exceeds `--max-body-bytes`: more batches wait for the next flush, a batch too big
//! alone is split, an action too big alone is trimmed visibly. A session's bodies go out in
//! order, one at a time; a session whose POSTs fail never holds up another.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::ids::Owner;
use autoplay_botpress::text::truncate_in_place;
use autoplay_botpress::ActionsPayload;
use futures_util::stream::{FuturesUnordered, StreamExt};
use sha2::{Digest, Sha256};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{dead_letter, pause, raw_rows, resumed, upsert_all, SummaryInbox};
use crate::botpress::TablesClient;
use crate::deadletter::{DeadLetters, Letter, Target};
use crate::metrics::{add, Health, Metrics, RequestKind};
use crate::retry::{Backoff, Failure, FailureKind};
use crate::spool::{Removal, Settle, SpoolHandle};
use crate::webhook::Webhook;

/// POSTs in flight at once (each still waits for the budget).
const MAX_IN_FLIGHT: usize = 16;
/// Smallest body limit a 413 can push a session down to.
const MIN_BODY_BYTES: usize = 1_024;
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

pub struct WebhookDelivery {
    pub webhook: Webhook,
    pub spool: SpoolHandle,
    pub dead_letters: Arc<DeadLetters>,
    pub flush_every: Duration,
    pub max_retry_delay: Duration,
    pub max_body_bytes: usize,
    /// Batches indexed in memory (keys only) at most.
    pub max_queued: usize,
    /// The request budget per minute: each flush sends at most its share of it, so bodies grow
    /// (and billed events stay few) instead of small POSTs burning the budget.
    pub max_requests_per_minute: u32,
    /// The guide's summary table, when Botpress credentials are set.
    pub summary_table: Option<(TablesClient, String)>,
    pub summaries: Arc<SummaryInbox>,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

struct SessionQueue {
    /// Spool keys and stored sizes of the session's pending batches, oldest first.
    batches: VecDeque<(u64, usize)>,
    not_before: Option<Instant>,
    backoff: Backoff,
    /// Lowered by a 413.
    body_limit: usize,
}

#[derive(Default)]
struct State {
    cursor: u64,
    queued: usize,
    /// Queues by (user, session) pair: batches of different pairs never share a body.
    sessions: HashMap<Owner, SessionQueue>,
}

/// What one POST-or-split carries for a session.
struct Unit {
    session: Owner,
    seqs: Vec<u64>,
    bodies: Vec<(String, Vec<u8>)>,
    actions: u64,
}

enum Sent {
    Delivered,
    Failed(Failure),
}

impl WebhookDelivery {
    /// Delivers every `--flush-every` until `cancel`, then sends what it can in a short grace.
    pub async fn run(self, cancel: CancellationToken) {
        let mut state = State::default();
        let mut ticks = tokio::time::interval(self.flush_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = cancel.cancelled() => break,
            }
            if let Err(fatal) = self.flush(&mut state, &cancel).await {
                pause(&fatal, &hint(&fatal), &self.metrics, &self.health, &cancel).await;
            }
            tokio::select! {
                _ = self.write_summaries() => {}
                _ = cancel.cancelled() => break,
            }
        }
        let never = CancellationToken::new();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.flush(&mut state, &never))
            .await
            .is_err()
        {
            tracing::warn!("deliveries still running at shutdown; they stay in the spool");
        }
    }

    /// One round: index new batches, send one body per due session. `Err` on a configuration
    /// error (delivery must stop).
    async fn flush(&self, state: &mut State, cancel: &CancellationToken) -> Result<(), Failure> {
        self.index(state);
        let now = Instant::now();
        let mut due: Vec<(u64, Owner)> = state
            .sessions
            .iter()
            .filter(|(_, q)| !q.batches.is_empty() && q.not_before.is_none_or(|t| t <= now))
            .map(|(id, q)| (q.batches[0].0, id.clone()))
            .collect();
        due.sort();
        let mut due = due.into_iter().take(self.posts_per_flush());
        let mut sending = FuturesUnordered::new();
        let mut fatal = None;
        loop {
            while fatal.is_none() && sending.len() < MAX_IN_FLIGHT {
                let Some((_, session)) = due.next() else {
                    break;
                };
                match self.unit(state, &session) {
                    Some(unit) => sending.push(self.send(unit)),
                    None => continue,
                }
            }
            let next = tokio::select! {
                next = sending.next() => next,
                _ = cancel.cancelled() => return Ok(()),
            };
            let Some((unit, sent)) = next else { break };
            if let Err(failure) = self.settle(state, unit, sent).await {
                fatal = Some(failure);
            }
        }
        match fatal {
            Some(failure) => Err(failure),
            None => {
                resumed(&self.metrics, &self.health);
                Ok(())
            }
        }
    }

    /// This flush's share of the budget: the sessions waiting longest go first, the others wait
    /// and send more at once.
    fn posts_per_flush(&self) -> usize {
        let share = f64::from(self.max_requests_per_minute) * self.flush_every.as_secs_f64() / 60.0;
        (share.floor() as usize).max(1)
    }

    /// Adds the keys of new spool batches to their sessions' queues (up to `max_queued`).
    fn index(&self, state: &mut State) {
        while state.queued < self.max_queued {
            let want = (self.max_queued - state.queued).min(1_024);
            let stored = match self.spool.read_from(state.cursor, want, 8 << 20) {
                Ok(stored) => stored,
                Err(err) => {
                    tracing::warn!(%err, "cannot read the spool; trying again next flush");
                    return;
                }
            };
            if stored.is_empty() {
                return;
            }
            for item in stored {
                state.cursor = item.seq + 1;
                let batch = match item.batch {
                    Ok(batch) => batch,
                    Err(err) => {
                        tracing::error!(seq = item.seq, %err, "dropping an unreadable spool entry");
                        self.spool.settle(Settle {
                            remove: Removal::Keys(vec![item.seq]),
                            ..Settle::default()
                        });
                        continue;
                    }
                };
                let key = batch.owner();
                let queue = state.sessions.entry(key).or_insert_with(|| SessionQueue {
                    batches: VecDeque::new(),
                    not_before: None,
                    backoff: Backoff::new(Duration::from_millis(200), self.max_retry_delay),
                    body_limit: self.max_body_bytes,
                });
                queue.batches.push_back((item.seq, item.bytes));
                state.queued += 1;
            }
        }
    }

    /// The next body (or parts of one batch) of a session: its oldest batches, merged while they
    /// fit the body limit.
    fn unit(&self, state: &State, session: &Owner) -> Option<Unit> {
        let queue = state.sessions.get(session)?;
        let limit = queue.body_limit;
        let mut estimate = 0;
        let keys: Vec<u64> = queue
            .batches
            .iter()
            .take_while(|(_, bytes)| {
                estimate += bytes;
                estimate <= limit
            })
            .map(|(seq, _)| *seq)
            .collect();
        let keys = if keys.is_empty() {
            vec![queue.batches.front()?.0]
        } else {
            keys
        };
        let stored = match self.spool.read_keys(&keys) {
            Ok(stored) => stored,
            Err(err) => {
                tracing::warn!(%err, "cannot read the spool; trying again next flush");
                return None;
            }
        };
        let mut batches: Vec<(u64, ActionsPayload)> = stored
            .into_iter()
            .filter_map(|s| Some((s.seq, s.batch.ok()?)))
            .collect();
        loop {
            let merged = merge(batches.iter().map(|(_, b)| b));
            let body = serde_json::to_vec(&merged).unwrap_or_default();
            if body.len() <= limit || batches.len() == 1 {
                let seqs = batches.iter().map(|(seq, _)| *seq).collect();
                let actions = merged.actions.len() as u64;
                let bodies = if body.len() <= limit {
                    vec![(merged.batch_id.clone().unwrap_or_default(), body)]
                } else {
                    parts(merged, limit)
                };
                return Some(Unit {
                    session: session.clone(),
                    seqs,
                    bodies,
                    actions,
                });
            }
            batches.pop();
        }
    }

    /// POSTs a unit's bodies in order; stops at the first failure.
    async fn send(&self, unit: Unit) -> (Unit, Sent) {
        for (key, body) in &unit.bodies {
            if let Err(failure) = self
                .webhook
                .post(RequestKind::Webhook, Some(key), body.clone())
                .await
            {
                return (unit, Sent::Failed(failure));
            }
        }
        (unit, Sent::Delivered)
    }

    /// Applies a unit's outcome; `Err` for a configuration error.
    async fn settle(&self, state: &mut State, unit: Unit, sent: Sent) -> Result<(), Failure> {
        let Some(queue) = state.sessions.get_mut(&unit.session) else {
            return Ok(());
        };
        let failure = match sent {
            Sent::Delivered => {
                add(&self.metrics.actions_delivered_total, unit.actions);
                queue.backoff.reset();
                queue.not_before = None;
                self.drop_settled(state, &unit);
                return Ok(());
            }
            Sent::Failed(failure) => failure,
        };
        match failure.kind {
            FailureKind::Transient => {
                add(&self.metrics.delivery_retries_total, 1);
                let delay = failure.after.unwrap_or_else(|| queue.backoff.next_delay());
                tracing::warn!(session = %unit.session.label(), reason = %failure.reason, retry_in_ms = delay.as_millis() as u64, "webhook delivery failed; retrying");
                queue.not_before = Some(Instant::now() + delay);
                Ok(())
            }
            FailureKind::TooLarge if queue.body_limit > MIN_BODY_BYTES => {
                queue.body_limit = (queue.body_limit / 2).max(MIN_BODY_BYTES);
                tracing::warn!(session = %unit.session.label(), limit = queue.body_limit, "the webhook refused a body as too large; sending smaller ones");
                Ok(())
            }
            FailureKind::TooLarge | FailureKind::Rejected => {
                tracing::error!(session = %unit.session.label(), reason = %failure.reason, "the webhook refused a body; kept as a dead letter");
                let status = failure.status.map_or(0, |s| s.as_u16());
                for (key, body) in &unit.bodies {
                    let letter = Letter {
                        at: autoplay_botpress::time::iso_from_ms(crate::now_ms()),
                        status,
                        reason: failure.reason.clone(),
                        target: Target::Webhook {
                            key: Some(key.clone()),
                            body: serde_json::from_slice(body).unwrap_or_default(),
                        },
                    };
                    dead_letter(&self.dead_letters, &self.metrics, letter);
                }
                self.drop_settled(state, &unit);
                Ok(())
            }
            FailureKind::Fatal | FailureKind::Quota => Err(failure),
        }
    }

    /// Writes waiting summaries to the guide's summary table (one upsert per 1,000).
    async fn write_summaries(&self) {
        let Some((client, table)) = &self.summary_table else {
            self.summaries.take();
            return;
        };
        let ready = self.summaries.take();
        if ready.is_empty() {
            return;
        }
        let rows: Vec<autoplay_botpress::SummaryRow> = ready
            .iter()
            .map(|s| {
                autoplay_botpress::summary_row(&s.owner, &s.product_id, &s.summary, s.action_count)
            })
            .collect();
        let rows = raw_rows(&rows);
        let result = upsert_all(
            client,
            table,
            autoplay_botpress::schema::SUMMARY_KEY_COLUMN,
            &rows,
            &self.dead_letters,
            &self.metrics,
        )
        .await;
        // Summary rows refused for good have no batch to leave with: they go into the spool now.
        let letters = self.dead_letters.take();
        if !letters.is_empty() {
            self.spool.settle(Settle {
                remove: Removal::Keys(Vec::new()),
                letters,
                ..Settle::default()
            });
        }
        match result {
            Ok(_) => add(&self.metrics.summaries_written_total, ready.len() as u64),
            Err(f) if f.kind == FailureKind::Transient => self.summaries.restore(ready),
            Err(f) => tracing::error!(reason = %f.reason, table, "could not write summaries"),
        }
    }
}

impl WebhookDelivery {
    /// Removes a unit's batches from its session's queue and from the spool, with the dead
    /// letters they left (one transaction).
    fn drop_settled(&self, state: &mut State, unit: &Unit) {
        if let Some(queue) = state.sessions.get_mut(&unit.session) {
            queue.batches.retain(|(seq, _)| !unit.seqs.contains(seq));
            if queue.batches.is_empty() && queue.not_before.is_none() {
                state.sessions.remove(&unit.session);
            }
        }
        state.queued -= unit.seqs.len();
        self.spool.settle(Settle {
            remove: Removal::Keys(unit.seqs.clone()),
            letters: self.dead_letters.take(),
            ..Settle::default()
        });
    }
}

/// Consecutive batches of one (user, session) pair as one body of the same shape. A single batch keeps its
/// id; a merged body's id is derived from its batches' ids (every action keeps its own key).
fn merge<'a>(batches: impl Iterator<Item = &'a ActionsPayload>) -> ActionsPayload {
    let mut merged: Option<ActionsPayload> = None;
    let mut ids = Vec::new();
    for batch in batches {
        ids.push(batch.batch_id.clone().unwrap_or_default());
        match &mut merged {
            None => merged = Some(batch.clone()),
            Some(m) => {
                m.actions.extend(batch.actions.iter().cloned());
                m.forwarded_at = m.forwarded_at.max(batch.forwarded_at);
            }
        }
    }
    let mut merged = merged.unwrap_or_default().normalized();
    if ids.len() > 1 {
        let digest = Sha256::digest(ids.join(",").as_bytes());
        merged.batch_id = Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect());
    }
    merged
}

/// One batch too big for a body, as several bodies (action by action), each within `limit`; an
/// action too big alone has its texts cut visibly.
fn parts(batch: ActionsPayload, limit: usize) -> Vec<(String, Vec<u8>)> {
    let id = batch.batch_id.clone().unwrap_or_default();
    let envelope = ActionsPayload {
        actions: Vec::new(),
        ..batch.clone()
    };
    let base = serde_json::to_vec(&envelope).map_or(0, |v| v.len()) + 16;
    let mut out = Vec::new();
    let mut current: Vec<autoplay_botpress::SlimAction> = Vec::new();
    let mut size = base;
    let flush = |actions: Vec<autoplay_botpress::SlimAction>, out: &mut Vec<_>| {
        let n = out.len();
        let part = ActionsPayload {
            actions,
            batch_id: Some(format!("{id}/p{n}")),
            ..envelope.clone()
        }
        .normalized();
        out.push((
            part.batch_id.clone().unwrap_or_default(),
            serde_json::to_vec(&part).unwrap_or_default(),
        ));
    };
    for mut action in batch.actions {
        let mut cost = serde_json::to_vec(&action).map_or(0, |v| v.len()) + 1;
        if base + cost > limit {
            let room = limit.saturating_sub(base + 400) / 4;
            for text in [
                &mut action.title,
                &mut action.description,
                &mut action.canonical_url,
                &mut action.raw_url,
            ] {
                truncate_in_place(text, room.max(16));
            }
            cost = serde_json::to_vec(&action).map_or(0, |v| v.len()) + 1;
        }
        if size + cost > limit && !current.is_empty() {
            flush(std::mem::take(&mut current), &mut out);
            size = base;
        }
        size += cost;
        current.push(action);
    }
    if !current.is_empty() {
        flush(current, &mut out);
    }
    out
}

fn hint(failure: &Failure) -> String {
    match failure.status.map(|s| s.as_u16()) {
        Some(401 | 403) => "the webhook refused the request: check that --webhook-secret (BOTPRESS_WEBHOOK_SECRET) matches the integration's secret".into(),
        Some(404) => "no webhook at this URL: check --webhook-url (BOTPRESS_WEBHOOK_URL) on the integration's page".into(),
        _ => "check the webhook settings".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: &str, actions: usize, text: &str) -> ActionsPayload {
        let mut b = ActionsPayload::from_json(&format!(
            r#"{{"session_id":"s","user_id":"u","actions":[{}]}}"#,
            vec![format!(r#"{{"description":"{text}"}}"#); actions].join(",")
        ))
        .unwrap();
        b.assign_keys(id.into());
        b
    }

    #[test]
    fn merged_bodies_keep_every_action_key_and_a_stable_id() {
        let (a, b) = (batch("a", 2, "x"), batch("b", 3, "y"));
        let merged = merge([&a, &b].into_iter());
        assert_eq!(merged.count, 5);
        let keys: Vec<_> = merged
            .actions
            .iter()
            .map(|x| x.event_key.clone().unwrap())
            .collect();
        assert_eq!(keys, ["a:0", "a:1", "b:0", "b:1", "b:2"]);
        assert_eq!(merged.batch_id, merge([&a, &b].into_iter()).batch_id);
        assert_eq!(merge([&a].into_iter()).batch_id.as_deref(), Some("a"));
    }

    #[test]
    fn parts_fit_the_limit_and_keep_every_action() {
        let big = batch("big", 300, &"z".repeat(200));
        let bodies = parts(big, 8_000);
        assert!(bodies.len() > 5);
        let mut keys = Vec::new();
        for (_, body) in &bodies {
            assert!(body.len() <= 8_000, "{}", body.len());
            let part = ActionsPayload::from_json(std::str::from_utf8(body).unwrap()).unwrap();
            keys.extend(part.actions.into_iter().map(|a| a.event_key.unwrap()));
        }
        assert_eq!(keys.len(), 300);
        assert_eq!(keys[299], "big:299");
        let huge = batch("h", 1, &"w".repeat(50_000));
        let bodies = parts(huge, 4_000);
        assert_eq!(bodies.len(), 1);
        assert!(bodies[0].1.len() <= 4_000);
        assert!(String::from_utf8_lossy(&bodies[0].1).contains("…[truncated]"));
    }
}
