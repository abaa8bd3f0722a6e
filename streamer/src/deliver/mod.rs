//! Delivery: from the spool to Botpress in as few requests as the data allows, inside the
//! request budget. A batch leaves the spool only once what carries it was accepted (or refused
//! for good: then its dead letter takes its place in the same spool transaction).
//!
//! - [`tables`] (default): rows written with the Tables API; no billed Botpress events.
//! - [`webhook`]: per-session coalesced POSTs to the webhook, for bots built on the guide's
//!   StoreEventsData and for the connector's push mode.

pub mod tables;
pub mod webhook;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use autoplay_botpress::ids::Owner;
use autoplay_botpress::session_row::NudgeNote;
use serde_json::value::RawValue;
use tokio_util::sync::CancellationToken;

use crate::botpress::TablesClient;
use crate::deadletter::{DeadLetters, Letter, Target};
use crate::metrics::{add, set, Health, Metrics, Part};
use crate::retry::{Failure, FailureKind};

/// Rows per upsert: the Tables API's maximum.
pub const MAX_ROWS_PER_UPSERT: usize = 1_000;
/// How long delivery rests after a configuration error (401/403/404) before trying again.
const PAUSE_AFTER_FATAL: Duration = Duration::from_secs(60);

/// A summary ready to be written with the next flush.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadySummary {
    /// Whose summary it is: the row it goes to.
    pub owner: Owner,
    pub product_id: String,
    pub summary: String,
    /// Actions the session had when it was written.
    pub action_count: u64,
}

/// The latest summary of each (user, session) pair, waiting for the next flush: written with the rows the
/// flush writes anyway, never as a request of its own. Bounded by the number of sessions.
#[derive(Debug, Default)]
pub struct SummaryInbox {
    ready: Mutex<HashMap<Owner, ReadySummary>>,
}

impl SummaryInbox {
    /// Queues a summary, replacing an older one of the same session.
    pub fn put(&self, summary: ReadySummary) {
        self.lock().insert(summary.owner.clone(), summary);
    }

    /// Everything queued.
    pub fn take(&self) -> Vec<ReadySummary> {
        self.lock().drain().map(|(_, s)| s).collect()
    }

    /// Puts back summaries a failed write took, unless a newer one arrived meanwhile.
    pub fn restore(&self, summaries: Vec<ReadySummary>) {
        let mut ready = self.lock();
        for summary in summaries {
            ready.entry(summary.owner.clone()).or_insert(summary);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Owner, ReadySummary>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Updates waiting in the [`NudgeInbox`], at most; past it the oldest go (counted): a row then
/// misses a nudge's record, never the nudge itself.
const MAX_NUDGE_UPDATES: usize = 4_096;

/// What a session row learns about its nudges ([`SessionRow::nudges`]).
///
/// [`SessionRow::nudges`]: autoplay_botpress::SessionRow
#[derive(Debug, Clone, PartialEq)]
pub enum NudgeUpdate {
    /// One was sent.
    Sent(NudgeNote),
    /// An outcome of the nudge `id` is known (an `Outcome` label, e.g. `replied`).
    Outcome { id: String, outcome: &'static str },
}

/// Nudge updates of the sessions layout's rows, waiting for the next flush, oldest first; like
/// summaries, they ride along with the rows a flush writes anyway.
#[derive(Debug, Default)]
pub struct NudgeInbox {
    waiting: Mutex<VecDeque<(Owner, NudgeUpdate)>>,
}

impl NudgeInbox {
    /// Queues an update of `owner`'s row; returns how many old ones were shed to make room.
    pub fn put(&self, owner: Owner, update: NudgeUpdate) -> usize {
        let mut waiting = self.lock();
        let shed = (waiting.len() + 1).saturating_sub(MAX_NUDGE_UPDATES);
        waiting.drain(..shed);
        waiting.push_back((owner, update));
        shed
    }

    /// Everything queued, oldest first.
    pub fn take(&self) -> Vec<(Owner, NudgeUpdate)> {
        self.lock().drain(..).collect()
    }

    /// Puts back updates a failed read took, before those queued since; returns how many old
    /// ones were shed to stay within the bound.
    pub fn restore(&self, updates: Vec<(Owner, NudgeUpdate)>) -> usize {
        let mut waiting = self.lock();
        for update in updates.into_iter().rev() {
            waiting.push_front(update);
        }
        let excess = waiting.len().saturating_sub(MAX_NUDGE_UPDATES);
        waiting.drain(..excess);
        excess
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Owner, NudgeUpdate)>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Upserts `rows` in requests of at most 1,000 rows. A request refused as too large or invalid is
/// split in halves to find the rows at fault; a single refused row becomes a dead letter.
/// A 200 answer listing row `errors` wrote the other rows: the rows the errors name (by
/// `rows[i]` or by key) are dead-lettered, and when an error names no row the request is split
/// to find it. Warnings are logged once per table and counted. Transient, quota and
/// configuration failures are returned, and then nothing is dead-lettered (upserts are
/// idempotent: the caller sends all again). Returns the number of rows written.
pub async fn upsert_all(
    client: &TablesClient,
    table: &str,
    key_column: &str,
    rows: &[Box<RawValue>],
    dead_letters: &DeadLetters,
    metrics: &Metrics,
) -> Result<usize, Failure> {
    let mut written = 0;
    let mut parts: Vec<&[Box<RawValue>]> = rows.chunks(MAX_ROWS_PER_UPSERT).rev().collect();
    while let Some(part) = parts.pop() {
        match client.upsert_once(table, part, key_column).await {
            Ok(answer) => {
                warned(client, table, &answer.warnings, metrics);
                if answer.errors.is_empty() {
                    written += part.len();
                    continue;
                }
                let reason = format!("Botpress reported row errors: {}", answer.errors.join("; "));
                match named_rows(&answer.errors, part, key_column) {
                    Some(named) => {
                        written += part.len() - named.len();
                        let refused: Vec<Box<RawValue>> =
                            named.into_iter().map(|i| part[i].clone()).collect();
                        refuse(
                            dead_letters,
                            metrics,
                            200,
                            reason,
                            table,
                            key_column,
                            &refused,
                        );
                    }
                    None if part.len() > 1 => {
                        let (a, b) = part.split_at(part.len() / 2);
                        parts.extend([b, a]);
                    }
                    None => refuse(dead_letters, metrics, 200, reason, table, key_column, part),
                }
            }
            Err(f) if matches!(f.kind, FailureKind::TooLarge | FailureKind::Rejected) => {
                if part.len() > 1 {
                    let (a, b) = part.split_at(part.len() / 2);
                    parts.extend([b, a]);
                } else {
                    let status = f.status.map_or(0, |s| s.as_u16());
                    refuse(
                        dead_letters,
                        metrics,
                        status,
                        f.reason,
                        table,
                        key_column,
                        part,
                    );
                }
            }
            Err(f) => return Err(f),
        }
    }
    add(&metrics.rows_written_total, written as u64);
    Ok(written)
}

/// The rows of `part` that row errors name, by position (`rows[3]`) or by key value; `None` when
/// some error names no row of `part`.
fn named_rows(errors: &[String], part: &[Box<RawValue>], key_column: &str) -> Option<Vec<usize>> {
    let keys: Vec<Option<String>> = part
        .iter()
        .map(|row| {
            let row: serde_json::Value = serde_json::from_str(row.get()).ok()?;
            match &row[key_column] {
                serde_json::Value::String(key) => Some(key.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            }
        })
        .collect();
    let mut named = std::collections::BTreeSet::new();
    for error in errors {
        let before = named.len();
        for (i, key) in keys.iter().enumerate() {
            let by_key = key
                .as_deref()
                .is_some_and(|k| !k.is_empty() && error.contains(k));
            if by_key || error.contains(&format!("rows[{i}]")) {
                named.insert(i);
            }
        }
        if named.len() == before {
            return None;
        }
    }
    Some(named.into_iter().collect())
}

/// Counts upsert warnings and logs them the first time a table gets any.
fn warned(client: &TablesClient, table: &str, warnings: &[String], metrics: &Metrics) {
    if warnings.is_empty() {
        return;
    }
    add(&metrics.upsert_warnings_total, warnings.len() as u64);
    if client.first_warning(table) {
        tracing::warn!(
            table,
            warnings = %warnings.join("; "),
            "Botpress warned about rows written (logged once per table; counted in upsert_warnings_total)"
        );
    }
}

fn refuse(
    dead_letters: &DeadLetters,
    metrics: &Metrics,
    status: u16,
    reason: String,
    table: &str,
    key_column: &str,
    rows: &[Box<RawValue>],
) {
    tracing::error!(table, rows = rows.len(), %reason, "Botpress refused rows; kept as a dead letter");
    let letter = Letter {
        at: autoplay_botpress::time::iso_from_ms(crate::now_ms()),
        status,
        reason,
        target: Target::Rows {
            table: table.to_owned(),
            key_column: key_column.to_owned(),
            rows: rows
                .iter()
                .map(|r| serde_json::from_str(r.get()).unwrap_or_default())
                .collect(),
        },
    };
    dead_letter(dead_letters, metrics, letter);
}

/// Rows as raw JSON, each serialized once (for the upsert, and reused for the spool's copy).
pub fn raw_rows<'a, R: serde::Serialize + 'a>(
    rows: impl IntoIterator<Item = &'a R>,
) -> Vec<Box<RawValue>> {
    rows.into_iter()
        .filter_map(|r| serde_json::value::to_raw_value(r).ok())
        .collect()
}

/// Keeps a dead letter for the next settle, which moves it into the spool with its batches.
pub fn dead_letter(dead_letters: &DeadLetters, metrics: &Metrics, letter: Letter) {
    dead_letters.push(letter);
    add(&metrics.dead_lettered_total, 1);
}

/// Stops delivery after a configuration error: says what to fix (log, `/healthz`, metric), waits
/// [`PAUSE_AFTER_FATAL`] (or shutdown), then lets the caller try again — the operator may have
/// fixed it in Botpress meanwhile. The spool keeps everything.
pub async fn pause(
    failure: &Failure,
    hint: &str,
    metrics: &Metrics,
    health: &Health,
    cancel: &CancellationToken,
) {
    let problem = format!(
        "delivery stopped: {} — {hint}; the spool keeps every batch, trying again in {} s",
        failure.reason,
        PAUSE_AFTER_FATAL.as_secs()
    );
    tracing::error!("{problem}");
    health.set(Part::Delivery, Some(problem));
    set(&metrics.delivery_paused, 1);
    tokio::select! {
        _ = tokio::time::sleep(PAUSE_AFTER_FATAL) => {}
        _ = cancel.cancelled() => {}
    }
}

/// Clears a pause once a delivery succeeded.
pub fn resumed(metrics: &Metrics, health: &Health) {
    if metrics
        .delivery_paused
        .swap(0, std::sync::atomic::Ordering::Relaxed)
        == 1
    {
        tracing::info!("delivery resumed");
        health.set(Part::Delivery, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(i: usize) -> (Owner, NudgeUpdate) {
        let update = NudgeUpdate::Outcome {
            id: format!("n{i}"),
            outcome: "replied",
        };
        (Owner::new(Some("u"), Some("s")), update)
    }

    #[test]
    fn the_nudge_inbox_is_bounded_and_keeps_the_order() {
        let inbox = NudgeInbox::default();
        let shed: usize = (0..MAX_NUDGE_UPDATES + 5)
            .map(|i| {
                let (owner, update) = outcome(i);
                inbox.put(owner, update)
            })
            .sum();
        assert_eq!(shed, 5, "the oldest go");
        let taken = inbox.take();
        assert_eq!(taken.len(), MAX_NUDGE_UPDATES);
        assert_eq!(taken[0], outcome(5));
        let (owner, update) = outcome(99_999);
        inbox.put(owner, update);
        assert_eq!(inbox.restore(taken[..2].to_vec()), 0);
        let again = inbox.take();
        assert_eq!(again, [outcome(5), outcome(6), outcome(99_999)]);
    }
}
