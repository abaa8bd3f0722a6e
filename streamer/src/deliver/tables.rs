//! `--deliver tables`: rows written straight to the Botpress Tables API with the bot's token.
//! Nothing here creates a Botpress event.
//!
//! Every `--flush-every` the delivery reads what the spool gained, folds it into rows and writes
//! every changed row in as few upserts as possible (≤ 1,000 rows each):
//! - sessions layout: one row per session (summary, newest actions, signals) — rows in use grow
//!   with sessions, not clicks;
//! - events layout: the guide's tables, one row per action keyed by `event_key` plus one summary
//!   row per session, so a re-delivery never adds a row.
//!
//! When behind (Botpress slow or down), flushes grow instead of requests queueing up. The spool
//! is settled in order, only after the flush holding a batch succeeded; a restart continues the
//! session rows from the spool's copy of what was last written.
//!
//! That copy is forgotten once the session has been quiet for [`IDLE_SESSION`] (or, with
//! `--retention`, a little before retention may delete the row in Botpress). A session without a
//! fresh copy is read back from Botpress — one `findTableRows` per flush for all such sessions —
//! and starts a new row when Botpress has none, so actions retention deleted never come back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use autoplay_botpress::ids::Owner;
use autoplay_botpress::rows::RowOptions;
use autoplay_botpress::schema::{EVENT_KEY_COLUMN, SUMMARY_KEY_COLUMN};
use autoplay_botpress::signals::SignalConfig;
use autoplay_botpress::{
    map_actions_to_rows, summary_row, ActionsPayload, EventRow, SessionRow, SummaryRow,
};
use tokio_util::sync::CancellationToken;

use super::{
    pause, raw_rows, resumed, upsert_all, NudgeInbox, NudgeUpdate, ReadySummary, SummaryInbox,
};
use crate::botpress::TablesClient;
use crate::deadletter::DeadLetters;
use crate::metrics::{add, set, Health, Metrics, Part};
use crate::retry::{drive, Failure, FailureKind, Policy, Stopped};
use crate::spool::{Removal, Settle, SpoolHandle};

/// Batches read from the spool per flush, at most.
const MAX_BATCHES_PER_FLUSH: usize = 20_000;
const MAX_BYTES_PER_READ: usize = 8 << 20;
/// Changed session rows per flush, at most (the rest wait for the next one).
const MAX_DIRTY_SESSIONS: usize = 4_000;
/// Event rows held for one flush, at most.
const MAX_PENDING_EVENT_ROWS: usize = 10_000;
/// Sessions kept in memory; quiet ones are reloaded from the spool's copy when they act again.
const MAX_SESSIONS_IN_MEMORY: usize = 4_096;
/// How long a quiet session's row is kept, in memory and in the spool's copy; past it, the row
/// is read back from Botpress when the session acts again.
pub const IDLE_SESSION: Duration = Duration::from_secs(30 * 60);
/// How much earlier than `--retention` a copy is forgotten: the row's `updatedAt` in Botpress
/// and the time the copy records may differ by the flush and by the clocks.
const RETENTION_MARGIN: Duration = Duration::from_secs(60);
/// Rows a `findTableRows` asks for at once (the API's most).
const FIND_LIMIT: usize = 1_000;
/// How long shutdown gives the last flush.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often written batches leave the spool, with the copies of the rows they made: one
/// transaction for many flushes. Until then a restart re-applies them to the older copies,
/// which gives the same rows.
const SETTLE_EVERY: Duration = Duration::from_secs(10);
/// After Botpress's row quota refused new rows, how long they wait before being tried again
/// (existing rows keep updating every flush meanwhile).
const QUOTA_RETRY: Duration = Duration::from_secs(60);

/// Which tables the rows go to.
#[derive(Debug, Clone)]
pub enum Layout {
    /// One row per session in `table`, each at most `row_bytes` of JSON.
    Sessions { table: String, row_bytes: usize },
    /// One row per action in `events`, one summary row per session in `summary`.
    Events { events: String, summary: String },
}

pub struct TablesDelivery {
    pub client: TablesClient,
    pub layout: Layout,
    pub spool: SpoolHandle,
    pub summaries: Arc<SummaryInbox>,
    /// Nudges sent and their outcomes, for the sessions layout's `nudges` column.
    pub nudges: Arc<NudgeInbox>,
    pub dead_letters: Arc<DeadLetters>,
    pub flush_every: Duration,
    pub max_retry_delay: Duration,
    /// Rows not written for this long are forgotten ([`forget_rows_after`]).
    pub forget_after: Duration,
    pub signals: SignalConfig,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

/// How long a session's row is kept without being written: [`IDLE_SESSION`], or less with
/// `--retention`, so no copy outlives the row retention deletes.
pub fn forget_rows_after(retention: Option<Duration>) -> Duration {
    match retention {
        Some(keep) => IDLE_SESSION.min(keep.saturating_sub(RETENTION_MARGIN.min(keep / 2))),
        None => IDLE_SESSION,
    }
}

/// A session with no fresh row here: its batches and other changes wait for its row from
/// Botpress.
struct Unresolved {
    owner: Owner,
    batches: Vec<ActionsPayload>,
    changes: Vec<RowChange>,
}

/// A change to a session row that does not come from its batches.
enum RowChange {
    Summary(ReadySummary),
    Nudge(NudgeUpdate),
}

impl RowChange {
    /// Applies the change; `false` when it changed nothing (an outcome of a nudge the row no
    /// longer has).
    fn apply(self, row: &mut SessionRow) -> bool {
        match self {
            RowChange::Summary(ready) => {
                row.summary = Some(ready.summary);
                if row.product_id.is_empty() {
                    row.product_id = ready.product_id;
                }
                true
            }
            RowChange::Nudge(NudgeUpdate::Sent(note)) => {
                row.note_nudge(note);
                true
            }
            RowChange::Nudge(NudgeUpdate::Outcome { id, outcome }) => {
                row.note_outcome(&id, outcome)
            }
        }
    }
}

/// What has been read from the spool and not yet written.
#[derive(Default)]
struct Pending {
    /// First spool key not yet settled; every key below it left the spool.
    settled: u64,
    /// Next spool key to read.
    cursor: u64,
    /// Rows by their key ([`Owner::row_key`]).
    sessions: HashMap<String, Tracked>,
    dirty: HashSet<String>,
    /// Sessions to read back from Botpress with the next flush, by row key.
    unresolved: HashMap<String, Unresolved>,
    events: Vec<EventRow>,
    summary_rows: HashMap<String, SummaryRow>,
    /// Actions read since the last successful flush.
    actions: u64,
    summaries: u64,
    /// Sessions whose rows were written since the last settle. At a settle (right after a
    /// successful flush) their rows in memory are the rows written.
    written_rows: HashSet<String>,
    /// The end of the written part of the spool (`settled..written` is written, not settled).
    written: u64,
    /// When the first flush since the last settle began (Unix ms): the time of the copies.
    written_since: Option<u64>,
    last_settle: Option<Instant>,
    /// Sessions whose new rows the row quota held back since the last settle: their copies are
    /// kept in the spool, marked as not in Botpress, and tried again after [`QUOTA_RETRY`].
    held: HashSet<String>,
    /// While set, the row quota is reached: new rows wait until then.
    quota_until: Option<Instant>,
    /// The quota is reported (log, `/healthz`) and not yet cleared.
    quota_reported: bool,
}

struct Tracked {
    row: SessionRow,
    touched: Instant,
    /// Botpress has this session's row (it was written), so the row quota never refuses it.
    in_botpress: bool,
}

impl TablesDelivery {
    /// Flushes every `--flush-every` until `cancel`, then once more (briefly) before returning.
    pub async fn run(self, cancel: CancellationToken) {
        let pending = tokio::sync::Mutex::new(Pending {
            // The first flush takes the rows a previous run's quota held back.
            quota_until: Some(Instant::now()),
            ..Pending::default()
        });
        let mut ticks = tokio::time::interval(self.flush_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let policy = Policy {
            first_delay: Duration::from_millis(500),
            max_delay: self.max_retry_delay,
            max_attempts: None,
        };
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = cancel.cancelled() => break,
            }
            let outcome = drive(policy, &cancel, "writing to Botpress tables", |_| async {
                let flushed = self.flush(&mut *pending.lock().await).await;
                if flushed.is_err() {
                    add(&self.metrics.delivery_retries_total, 1);
                }
                flushed
            })
            .await;
            match outcome {
                Ok(()) => resumed(&self.metrics, &self.health),
                Err(Stopped::Cancelled) => break,
                Err(Stopped::Failed(failure)) => {
                    let hint = self.hint(&failure);
                    pause(&failure, &hint, &self.metrics, &self.health, &cancel).await;
                }
            }
        }
        let mut pending = pending.into_inner();
        match tokio::time::timeout(SHUTDOWN_GRACE, self.flush(&mut pending)).await {
            Ok(Ok(())) => {}
            _ => tracing::warn!("the last flush did not finish; its batches stay in the spool"),
        }
        self.settle(&mut pending);
    }

    /// Reads, folds and writes what is new; `Ok` also when there was nothing to do.
    async fn flush(&self, p: &mut Pending) -> Result<(), Failure> {
        p.written_since
            .get_or_insert_with(|| u64::try_from(crate::now_ms()).unwrap_or(0));
        self.read(p)?;
        self.take_changes(p);
        if let Layout::Sessions { table, row_bytes } = &self.layout {
            self.resolve(p, table, *row_bytes).await?;
        }
        let rows = match &self.layout {
            Layout::Sessions { table, row_bytes } => {
                self.write_sessions(p, table, *row_bytes).await?
            }
            Layout::Events { events, summary } => self.write_events(p, events, summary).await?,
        };
        p.written_rows.extend(rows);
        p.written = p.cursor;
        if p.last_settle.is_none_or(|t| t.elapsed() >= SETTLE_EVERY) {
            self.settle(p);
        }
        if p.actions > 0 || p.summaries > 0 {
            add(&self.metrics.flushes_total, 1);
            add(&self.metrics.actions_delivered_total, p.actions);
            add(&self.metrics.summaries_written_total, p.summaries);
            (p.actions, p.summaries) = (0, 0);
        }
        self.evict(p);
        Ok(())
    }

    /// Hands what is written to the spool: its batches leave, the row copies are kept.
    fn settle(&self, p: &mut Pending) {
        p.last_settle = Some(Instant::now());
        if p.written <= p.settled && p.written_rows.is_empty() && p.held.is_empty() {
            p.written_since = None;
            return;
        }
        let held: Vec<String> = p.held.drain().collect();
        let rows = p
            .written_rows
            .drain()
            .chain(held.iter().cloned())
            .filter_map(|id| {
                let row = &p.sessions.get(&id)?.row;
                Some((id, serde_json::to_vec(row).ok()?))
            })
            .collect();
        self.spool.settle(Settle {
            remove: Removal::Range(p.settled..p.written),
            rows,
            held,
            written_ms: p.written_since.take().unwrap_or(0),
            letters: self.dead_letters.take(),
        });
        p.settled = p.written;
    }

    /// Folds batches the spool gained since the last read (up to the per-flush bounds).
    fn read(&self, p: &mut Pending) -> Result<(), Failure> {
        let spool_error = |e: crate::spool::SpoolError| Failure::transient(e.to_string());
        while !self.full(p) {
            let stored = self
                .spool
                .read_from(p.cursor, 512, MAX_BYTES_PER_READ)
                .map_err(spool_error)?;
            let Some(last) = stored.last() else {
                return Ok(());
            };
            let read_until = last.seq + 1;
            for item in stored {
                match item.batch {
                    Ok(batch) => self.fold(p, &batch).map_err(spool_error)?,
                    Err(err) => {
                        tracing::error!(seq = item.seq, %err, "dropping an unreadable spool entry")
                    }
                }
                p.cursor = item.seq + 1;
                if self.full(p) {
                    break;
                }
            }
            if p.cursor < read_until {
                break; // full
            }
        }
        Ok(())
    }

    fn full(&self, p: &Pending) -> bool {
        p.dirty.len() + p.unresolved.len() >= MAX_DIRTY_SESSIONS
            || p.events.len() >= MAX_PENDING_EVENT_ROWS
            || (p.cursor - p.written) as usize >= MAX_BATCHES_PER_FLUSH
    }

    fn fold(
        &self,
        p: &mut Pending,
        batch: &autoplay_botpress::ActionsPayload,
    ) -> Result<(), crate::spool::SpoolError> {
        p.actions += batch.actions.len() as u64;
        match &self.layout {
            Layout::Sessions { row_bytes, .. } => {
                let key = SessionRow::key_of(batch);
                match self.tracked(p, &key)? {
                    Some(tracked) => {
                        tracked.row.absorb(batch, keep_for(*row_bytes));
                        p.dirty.insert(key);
                    }
                    None => unresolved(p, key, batch.owner())
                        .batches
                        .push(batch.clone()),
                }
            }
            Layout::Events { .. } => {
                // Default options are always valid.
                if let Ok(rows) = map_actions_to_rows(batch, &RowOptions::default()) {
                    p.events.extend(rows);
                }
            }
        }
        Ok(())
    }

    /// The state of the row `key`, loaded from the spool's copy of its last written row if
    /// needed; `None` when there is no fresh one here (the row is to be read back from Botpress).
    fn tracked<'a>(
        &self,
        p: &'a mut Pending,
        key: &str,
    ) -> Result<Option<&'a mut Tracked>, crate::spool::SpoolError> {
        if p.unresolved.contains_key(key) {
            return Ok(None);
        }
        let stale = |t: &Tracked| t.in_botpress && t.touched.elapsed() >= self.forget_after;
        if p.sessions.get(key).is_some_and(stale) && !p.dirty.contains(key) {
            p.sessions.remove(key);
        }
        if !p.sessions.contains_key(key) {
            let now = u64::try_from(crate::now_ms()).unwrap_or(0);
            let fresh =
                |written: u64| now.saturating_sub(written) < self.forget_after.as_millis() as u64;
            match self.spool.row(key)? {
                Some(copy) if copy.row.row_key == key && (copy.held || fresh(copy.written_ms)) => {
                    p.sessions.insert(
                        key.to_owned(),
                        Tracked {
                            row: copy.row,
                            touched: Instant::now(),
                            in_botpress: !copy.held,
                        },
                    );
                }
                _ => return Ok(None),
            }
        }
        let tracked = p.sessions.get_mut(key).expect("inserted above");
        tracked.touched = Instant::now();
        Ok(Some(tracked))
    }

    /// Reads the rows of the sessions without a fresh row here back from Botpress (one request
    /// per [`FIND_LIMIT`] sessions); a session Botpress has no row for starts a new one. Then
    /// applies what waited for them.
    async fn resolve(&self, p: &mut Pending, table: &str, row_bytes: usize) -> Result<(), Failure> {
        if p.unresolved.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = p.unresolved.keys().cloned().collect();
        let mut found: HashMap<String, SessionRow> = HashMap::new();
        for chunk in keys.chunks(FIND_LIMIT) {
            let body = serde_json::json!({
                "filter": { SUMMARY_KEY_COLUMN: { "$in": chunk } },
                "limit": FIND_LIMIT,
            });
            let answer: Found = self
                .client
                .send(
                    reqwest::Method::POST,
                    &format!("tables/{table}/rows/find"),
                    &body,
                    crate::metrics::RequestKind::Find,
                )
                .await?;
            for row in answer.rows {
                if let Ok(mut row) = serde_json::from_value::<SessionRow>(row) {
                    (row.created_at, row.updated_at) = (None, None);
                    found.insert(row.row_key.clone(), row);
                }
            }
        }
        add(&self.metrics.rows_read_back_total, found.len() as u64);
        for (key, waiting) in p.unresolved.drain() {
            let (row, in_botpress) = match found.remove(&key) {
                Some(row) => (row, true),
                None => (SessionRow::new(&waiting.owner), false),
            };
            let mut tracked = Tracked {
                row,
                touched: Instant::now(),
                in_botpress,
            };
            for batch in &waiting.batches {
                tracked.row.absorb(batch, keep_for(row_bytes));
            }
            for change in waiting.changes {
                change.apply(&mut tracked.row);
            }
            p.sessions.insert(key.clone(), tracked);
            p.dirty.insert(key);
        }
        Ok(())
    }

    /// Takes the summaries and nudge updates waiting: onto their session rows (or, in the events
    /// layout, summaries into summary rows). What cannot be placed now (the spool's copy could
    /// not be read) goes back to its inbox for the next flush.
    fn take_changes(&self, p: &mut Pending) {
        let summaries = self.summaries.take();
        p.summaries += summaries.len() as u64;
        if let Layout::Events { .. } = &self.layout {
            for ready in summaries {
                let row = summary_row(
                    &ready.owner,
                    &ready.product_id,
                    &ready.summary,
                    ready.action_count,
                );
                p.summary_rows.insert(row.row_key.clone(), row);
            }
            return;
        }
        // Rows whose copy could not be read: their later updates wait too, in order.
        let mut unreadable = HashSet::new();
        let mut unplaced_summaries = Vec::new();
        for ready in summaries {
            let owner = ready.owner.clone();
            if let Err(RowChange::Summary(ready)) =
                self.change(p, owner, RowChange::Summary(ready), &mut unreadable)
            {
                unplaced_summaries.push(ready);
            }
        }
        self.summaries.restore(unplaced_summaries);
        let mut unplaced = Vec::new();
        for (owner, update) in self.nudges.take() {
            if let Err(RowChange::Nudge(update)) =
                self.change(p, owner.clone(), RowChange::Nudge(update), &mut unreadable)
            {
                unplaced.push((owner, update));
            }
        }
        let shed = self.nudges.restore(unplaced);
        add(&self.metrics.nudge_records_shed_total, shed as u64);
    }

    /// Applies `change` to `owner`'s row now, or once it is read back from Botpress; hands it
    /// back when the spool's copy could not be read (now, or for an earlier change of the same
    /// row: `unreadable`), so the row's changes keep their order.
    fn change(
        &self,
        p: &mut Pending,
        owner: Owner,
        change: RowChange,
        unreadable: &mut HashSet<String>,
    ) -> Result<(), RowChange> {
        let key = owner.row_key();
        if unreadable.contains(&key) {
            return Err(change);
        }
        match self.tracked(p, &key) {
            Ok(Some(tracked)) => {
                if change.apply(&mut tracked.row) {
                    p.dirty.insert(key);
                }
                Ok(())
            }
            Ok(None) => {
                let waiting = &mut unresolved(p, key, owner).changes;
                if let RowChange::Summary(_) = change {
                    // Only the newest summary matters.
                    waiting.retain(|c| !matches!(c, RowChange::Summary(_)));
                }
                waiting.push(change);
                Ok(())
            }
            Err(_) => {
                unreadable.insert(key);
                Err(change)
            }
        }
    }

    /// Writes the changed session rows; on success returns their sessions. When Botpress's row
    /// quota refuses new rows, the rows it already has are written alone and the new ones are
    /// held back (kept in the spool, tried again after [`QUOTA_RETRY`]).
    async fn write_sessions(
        &self,
        p: &mut Pending,
        table: &str,
        row_bytes: usize,
    ) -> Result<Vec<String>, Failure> {
        if p.quota_until.is_some_and(|until| Instant::now() >= until) {
            p.quota_until = None;
            // The held rows' turn: they are tried with this flush.
            for key in self.spool.held(MAX_DIRTY_SESSIONS).unwrap_or_default() {
                if let Ok(Some(copy)) = self.spool.row(&key) {
                    p.sessions.entry(key.clone()).or_insert_with(|| Tracked {
                        row: copy.row,
                        touched: Instant::now(),
                        in_botpress: false,
                    });
                    p.dirty.insert(key);
                }
            }
        }
        if p.dirty.is_empty() {
            return Ok(Vec::new());
        }
        let now = crate::now_ms();
        let mut written = Vec::with_capacity(p.dirty.len());
        for session in &p.dirty {
            if let Some(tracked) = p.sessions.get_mut(session) {
                if p.quota_until.is_some() && !tracked.in_botpress {
                    continue;
                }
                tracked.row.refresh_signals(now, &self.signals);
                written.push(tracked.row.fitted(row_bytes));
            }
        }
        match self.upsert_rows(table, &written).await {
            Err(f) if f.kind == FailureKind::Quota => {
                self.quota_reached(p, &f);
                written.retain(|row| p.sessions.get(&row.row_key).is_some_and(|t| t.in_botpress));
                self.upsert_rows(table, &written).await?;
            }
            outcome => {
                outcome?;
                if p.quota_until.is_none() && p.quota_reported {
                    tracing::info!("Botpress takes new rows again (row quota)");
                    self.health.set(Part::Quota, None);
                    p.quota_reported = false;
                }
            }
        }
        set(&self.metrics.last_flush_rows, written.len() as u64);
        let sent: HashSet<&str> = written.iter().map(|r| r.row_key.as_str()).collect();
        let held: Vec<String> = p
            .dirty
            .drain()
            .filter(|s| !sent.contains(s.as_str()))
            .collect();
        drop(sent);
        let mut sessions = Vec::with_capacity(written.len());
        for row in written {
            sessions.push(row.row_key.clone());
            p.held.remove(&row.row_key);
            if let Some(tracked) = p.sessions.get_mut(&row.row_key) {
                tracked.row = row;
                tracked.in_botpress = true;
            }
        }
        add(&self.metrics.rows_held_by_quota_total, held.len() as u64);
        p.held.extend(held);
        Ok(sessions)
    }

    async fn upsert_rows(&self, table: &str, rows: &[SessionRow]) -> Result<usize, Failure> {
        if rows.is_empty() {
            return Ok(0);
        }
        let raw = raw_rows(rows);
        upsert_all(
            &self.client,
            table,
            SUMMARY_KEY_COLUMN,
            &raw,
            &self.dead_letters,
            &self.metrics,
        )
        .await
    }

    /// Notes that the row quota refused new rows: they wait, the log and `/healthz` say what to do.
    fn quota_reached(&self, p: &mut Pending, failure: &Failure) {
        p.quota_until = Some(Instant::now() + QUOTA_RETRY);
        let problem = format!(
            "Botpress table row quota reached ({}): rows already in Botpress keep updating; new \
             sessions wait in the spool and are tried again every {} s. Free rows with \
             --retention (or `autoplay-botpress prune`), store fewer, larger rows with \
             --row-factor, or raise the workspace's plan",
            failure.reason,
            QUOTA_RETRY.as_secs()
        );
        if !p.quota_reported {
            tracing::error!("{problem}");
            p.quota_reported = true;
        }
        self.health.set(Part::Quota, Some(problem));
    }

    /// Writes the pending event rows and summary rows.
    async fn write_events(
        &self,
        p: &mut Pending,
        events_table: &str,
        summary_table: &str,
    ) -> Result<Vec<String>, Failure> {
        let events = raw_rows(&p.events);
        let summaries = raw_rows(p.summary_rows.values());
        let mut rows = 0;
        for (table, key, values) in [
            (events_table, EVENT_KEY_COLUMN, &events),
            (summary_table, SUMMARY_KEY_COLUMN, &summaries),
        ] {
            if !values.is_empty() {
                rows += upsert_all(
                    &self.client,
                    table,
                    key,
                    values,
                    &self.dead_letters,
                    &self.metrics,
                )
                .await?;
            }
        }
        if rows > 0 {
            set(&self.metrics.last_flush_rows, rows as u64);
        }
        p.events.clear();
        p.summary_rows.clear();
        Ok(Vec::new())
    }

    /// Forgets quiet sessions whose rows are in the spool's copy (written and settled).
    fn evict(&self, p: &mut Pending) {
        let (dirty, unsettled, held) = (&p.dirty, &p.written_rows, &p.held);
        let keep = |id: &String| dirty.contains(id) || unsettled.contains(id) || held.contains(id);
        p.sessions
            .retain(|id, t| keep(id) || t.touched.elapsed() < self.forget_after);
        if p.sessions.len() <= MAX_SESSIONS_IN_MEMORY {
            return;
        }
        let mut clean: Vec<(Instant, String)> = p
            .sessions
            .iter()
            .filter(|(id, _)| !keep(id))
            .map(|(id, t)| (t.touched, id.clone()))
            .collect();
        clean.sort();
        let excess = p.sessions.len() - MAX_SESSIONS_IN_MEMORY * 3 / 4;
        for (_, id) in clean.into_iter().take(excess) {
            p.sessions.remove(&id);
        }
    }

    fn hint(&self, failure: &Failure) -> String {
        let table = match &self.layout {
            Layout::Sessions { table, .. } => table.clone(),
            Layout::Events { events, summary } => format!("{events} / {summary}"),
        };
        if failure.kind == FailureKind::Quota {
            return "the Botpress table row quota is reached: free rows with --retention (or `autoplay-botpress prune`), use --row-factor, or raise the workspace's plan".into();
        }
        match failure.status.map(|s| s.as_u16()) {
            Some(402) => "Botpress asks for payment: check the workspace's billing and plan".into(),
            Some(401) => "the Botpress token was rejected: check --botpress-token (BOTPRESS_TOKEN)".into(),
            Some(403) => "the token may not use this bot: check --bot-id (BOTPRESS_BOT_ID) and the token's workspace".into(),
            Some(404) => format!("{table} not found: run `autoplay-botpress setup` with the same --layout (or check --bot-id)"),
            _ => "check the Botpress settings".into(),
        }
    }
}

/// A `findTableRows` answer.
#[derive(serde::Deserialize)]
struct Found {
    #[serde(default)]
    rows: Vec<serde_json::Value>,
}

/// What waits for the row `key` from Botpress.
fn unresolved(p: &mut Pending, key: String, owner: Owner) -> &mut Unresolved {
    p.unresolved.entry(key).or_insert_with(|| Unresolved {
        owner,
        batches: Vec::new(),
        changes: Vec::new(),
    })
}

/// Actions kept per session between writes: more than the row can show, never unbounded.
fn keep_for(row_bytes: usize) -> usize {
    (row_bytes / 60).clamp(16, autoplay_botpress::session_row::MAX_KEPT_ACTIONS)
}
