//! The durable spool: every batch read from the stream is written here before anything else
//! happens to it, and removed once Botpress has it (or it is dead-lettered). After a crash the
//! batches still here are delivered on the next start.
//!
//! ```text
//!  reader ──(bounded: count and bytes)──► writer thread ──► redb ◄── delivery reads by sequence
//!                                            ▲                         │
//!                                            └──── settle (unbounded) ◄┘
//! ```
//!
//! The writer never waits on delivery, and delivery never hands batches back through a bounded
//! queue, so no cycle of waits can form: a stalled receiver only makes the spool grow, up to
//! `--max-spool-mb`, after which the *reader* pauses (and so does the stream). Writes are grouped:
//! one transaction and one fsync cover every batch read in a 100 ms window. A failed write (full disk, I/O error)
//! is reported at once (log, `/healthz`, metric) and retried with the database reopened, holding
//! its batches in memory meanwhile; the reader waits rather than reading frames it cannot keep.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use autoplay_botpress::{ActionsPayload, SessionRow};
use redb::{Database, Durability, ReadableTable, TableDefinition};
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit};

use crate::metrics::{add, set, Health, Metrics, Part};
use crate::retry::Backoff;

mod packed;

const CACHE_BYTES: usize = 1 << 20;
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");
/// Session rows as last written to Botpress (sessions layout), so a restart continues them.
const ROWS: TableDefinition<&str, &[u8]> = TableDefinition::new("session_rows");
/// When each copy in `ROWS` was written to Botpress (Unix ms, at or before Botpress's
/// `updatedAt`), so copies of quiet sessions, and of rows retention deleted, are forgotten.
const ROW_TIMES: TableDefinition<&str, u64> = TableDefinition::new("session_row_times");
/// Sessions whose copy in `ROWS` is not in Botpress yet: new rows held back by the row quota.
const HELD: TableDefinition<&str, ()> = TableDefinition::new("held_rows");
/// What Botpress refused for good, as JSON, oldest first (see [`crate::deadletter`]).
const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters");
/// Most inserts one transaction takes.
const MAX_GROUP: usize = 4_096;
/// How long the writer gathers batches before one commit (and one fsync) covers them all: a
/// batch is on disk within this of being read. Delivery works per flush (1 s by default), so
/// this adds no delay worth the fsync per batch it saves.
const GROUP_WINDOW: Duration = Duration::from_millis(100);
/// How often stale row copies are forgotten and the file's size is checked.
const UPKEEP_EVERY: Duration = Duration::from_secs(10);
/// Free space the file may hold beyond its content before it is compacted.
const COMPACT_SLACK: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot open the spool at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the spool at {0} is in use by a running `autoplay-botpress stream`; stop it first")]
    InUse(String),
    #[error("spool storage error: {0}")]
    Storage(String),
}

fn storage(err: impl std::fmt::Display) -> SpoolError {
    SpoolError::Storage(err.to_string())
}

/// A stored batch: its key, the batch (or why it no longer decodes), its stored size.
pub struct Stored {
    pub seq: u64,
    pub batch: Result<ActionsPayload, String>,
    /// Length of the batch's JSON (what a body carrying it grows by), not of its stored form.
    pub bytes: usize,
}

impl Stored {
    /// The batch stored under `seq` as `value`, or why it cannot be read.
    fn read(seq: u64, value: &[u8]) -> Self {
        let json = packed::unpack(value);
        Stored {
            seq,
            bytes: json.as_ref().map_or(value.len(), |json| json.len()),
            batch: json.and_then(|json| packed::decode(&json)),
        }
    }
}

/// What one transaction changes.
#[derive(Debug, Default)]
pub struct Change {
    pub inserts: Vec<(u64, Vec<u8>)>,
    /// Batches to remove: delivered or dead-lettered.
    pub remove: Vec<Removal>,
    /// Session rows as just written to Botpress (or, for sessions in `held`, as waiting to be).
    pub rows: Vec<(String, Vec<u8>)>,
    /// Sessions of `rows` not written to Botpress yet (the row quota held them back).
    pub held: Vec<String>,
    /// When `rows` were written (Unix ms, no later than Botpress's `updatedAt` of any of them).
    pub written_ms: u64,
    /// Dead letters to add, committed with the removal of the batches they come from.
    pub letters: Vec<Vec<u8>>,
    /// Forget the row copies (not held back) last written before this time (Unix ms).
    pub forget_before: Option<u64>,
}

/// Batches leaving the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// Every batch with a key in the range (the tables delivery settles in order).
    Range(Range<u64>),
    /// These batches (the webhook delivery settles per session).
    Keys(Vec<u64>),
}

impl Default for Removal {
    fn default() -> Self {
        Removal::Keys(Vec::new())
    }
}

/// What was removed by a commit.
#[derive(Debug, Default, Clone, Copy)]
pub struct Removed {
    pub batches: u64,
    pub bytes: u64,
    /// Row copies forgotten.
    pub rows: u64,
}

/// The local copy of a session row (see [`Spool::row`]).
#[derive(Debug, Clone)]
pub struct RowCopy {
    pub row: SessionRow,
    /// Not in Botpress yet: the row quota held it back.
    pub held: bool,
    /// When it was written (Unix ms); 0 when unknown.
    pub written_ms: u64,
}

/// The redb database behind the spool; reopened after an I/O error, as redb requires.
pub struct Spool {
    path: PathBuf,
    db: RwLock<Option<Database>>,
    /// What was wrong with the file found at start, and what was done about it.
    damage: Option<String>,
    /// The file's length and what it held after its last compaction.
    compacted_to: std::sync::Mutex<(u64, u64)>,
}

impl Spool {
    /// Opens (or creates) `dir/spool.redb`. A file that cannot be opened or read whole (truncated,
    /// corrupted) does not stop the start: what can still be read is copied into a new file, the
    /// damaged one is moved aside, and [`Spool::damage`] says so.
    pub fn open(dir: &Path) -> Result<Self, SpoolError> {
        let path = dir.join("spool.redb");
        let damage = match guarded(|| Self::open_db(&path).and_then(|db| readable(&db))) {
            Ok(Ok(())) => None,
            Ok(Err(in_use @ SpoolError::InUse(_))) => return Err(in_use),
            _ if !path.exists() => None,
            Ok(Err(err)) => Some(Self::recover(&path, &err.to_string())?),
            Err(panic) => Some(Self::recover(&path, &panic)?),
        };
        let db = Self::open_db(&path)?;
        Ok(Self {
            path,
            db: RwLock::new(Some(db)),
            damage,
            compacted_to: Default::default(),
        })
    }

    /// The spool file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What was wrong with the spool file at start, if anything.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// Copies what `path` still yields into a new file, moves the damaged one aside and puts
    /// the new one in its place; returns what happened, for the log and `/healthz`.
    fn recover(path: &Path, reason: &str) -> Result<String, SpoolError> {
        let fail = |e: std::io::Error| SpoolError::Open {
            path: path.display().to_string(),
            reason: format!("{reason}; moving the damaged file aside failed: {e}"),
        };
        let fresh = path.with_extension("redb.recovering");
        let _ = std::fs::remove_file(&fresh);
        let (batches, rows) = {
            let new = Self::open_db(&fresh)?;
            match guarded(|| Self::open_db(path)) {
                Ok(Ok(old)) => salvage(&old, &new),
                _ => (0, 0),
            }
        };
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let aside = path.with_extension(format!("redb.damaged-{unix}"));
        std::fs::rename(path, &aside).map_err(fail)?;
        std::fs::rename(&fresh, path).map_err(fail)?;
        Ok(format!(
            "the spool file was damaged ({reason}): moved it to {}, recovered {batches} batches \
             and {rows} session rows from it; batches it held beyond those are lost",
            aside.display()
        ))
    }

    fn open_db(path: &Path) -> Result<Database, SpoolError> {
        let open_error = |reason: String| SpoolError::Open {
            path: path.display().to_string(),
            reason,
        };
        crate::private::touch_file(path).map_err(|e| open_error(e.to_string()))?;
        // Each batch is written once and read once: a small page cache is enough, and redb's
        // default (up to 1 GiB) would dominate the process's memory under load.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    SpoolError::InUse(path.display().to_string())
                }
                e => open_error(e.to_string()),
            })?;
        let txn = db.begin_write().map_err(|e| open_error(e.to_string()))?;
        txn.open_table(BATCHES)
            .map_err(|e| open_error(e.to_string()))?;
        txn.open_table(ROWS)
            .map_err(|e| open_error(e.to_string()))?;
        txn.open_table(HELD)
            .map_err(|e| open_error(e.to_string()))?;
        txn.open_table(ROW_TIMES)
            .map_err(|e| open_error(e.to_string()))?;
        txn.open_table(DEAD)
            .map_err(|e| open_error(e.to_string()))?;
        txn.commit().map_err(|e| open_error(e.to_string()))?;
        Ok(db)
    }

    fn with_db<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, SpoolError>,
    ) -> Result<T, SpoolError> {
        let guard = self.db.read().unwrap_or_else(|p| p.into_inner());
        let db = guard
            .as_ref()
            .ok_or_else(|| storage("the spool is being reopened"))?;
        f(db)
    }

    /// Closes and reopens the database (redb refuses further use after an I/O error).
    pub fn reopen(&self) -> Result<(), SpoolError> {
        let mut guard = self.db.write().unwrap_or_else(|p| p.into_inner());
        *guard = None; // close first: redb locks the file while open
        *guard = Some(Self::open_db(&self.path)?);
        Ok(())
    }

    /// Batches with keys from `from` on, in order: at most `max_batches` and, past the first,
    /// at most `max_bytes` of JSON.
    pub fn read_from(
        &self,
        from: u64,
        max_batches: usize,
        max_bytes: usize,
    ) -> Result<Vec<Stored>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(BATCHES).map_err(storage)?;
            let mut out = Vec::new();
            let mut bytes = 0;
            for entry in table.range(from..).map_err(storage)? {
                let (key, value) = entry.map_err(storage)?;
                if out.len() >= max_batches {
                    break;
                }
                let stored = Stored::read(key.value(), value.value());
                if !out.is_empty() && bytes + stored.bytes > max_bytes {
                    break;
                }
                bytes += stored.bytes;
                out.push(stored);
            }
            Ok(out)
        })
    }

    /// These batches, by key (missing keys are skipped).
    pub fn read_keys(&self, keys: &[u64]) -> Result<Vec<Stored>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(BATCHES).map_err(storage)?;
            let mut out = Vec::with_capacity(keys.len());
            for &seq in keys {
                if let Some(value) = table.get(seq).map_err(storage)? {
                    out.push(Stored::read(seq, value.value()));
                }
            }
            Ok(out)
        })
    }

    /// The copy of the session row last written for `session`, if any: the row, whether it is
    /// held back (not in Botpress yet), and when it was written (Unix ms).
    pub fn row(&self, session: &str) -> Result<Option<RowCopy>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(ROWS).map_err(storage)?;
            let Some(value) = table.get(session).map_err(storage)? else {
                return Ok(None);
            };
            let held = txn.open_table(HELD).map_err(storage)?;
            let times = txn.open_table(ROW_TIMES).map_err(storage)?;
            let written_ms = times
                .get(session)
                .map_err(storage)?
                .map_or(0, |t| t.value());
            Ok(packed::read(value.value()).ok().map(|row| RowCopy {
                row,
                held: held.get(session).is_ok_and(|h| h.is_some()),
                written_ms,
            }))
        })
    }

    /// Every dead letter, oldest first, as stored (JSON), with its key.
    pub fn letters(&self) -> Result<Vec<(u64, Vec<u8>)>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(DEAD).map_err(storage)?;
            table
                .iter()
                .map_err(storage)?
                .map(|entry| {
                    let (key, value) = entry.map_err(storage)?;
                    Ok((key.value(), value.value().to_vec()))
                })
                .collect()
        })
    }

    /// Removes the dead letters `sent` and replaces those in `kept` (same key, new content).
    pub fn update_letters(&self, sent: &[u64], kept: &[(u64, Vec<u8>)]) -> Result<(), SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(storage)?;
            {
                let mut table = txn.open_table(DEAD).map_err(storage)?;
                for key in sent {
                    table.remove(key).map_err(storage)?;
                }
                for (key, value) in kept {
                    table.insert(key, value.as_slice()).map_err(storage)?;
                }
            }
            txn.commit().map_err(storage)
        })
    }

    /// Drops the oldest dead letters while they hold more than `max_bytes`; returns how many.
    fn trim_letters(&self, max_bytes: u64) -> Result<u64, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_write().map_err(storage)?;
            let dropped = {
                let mut table = txn.open_table(DEAD).map_err(storage)?;
                let mut total: u64 = 0;
                for entry in table.iter().map_err(storage)? {
                    total += entry.map_err(storage)?.1.value().len() as u64;
                }
                let mut dropped = 0;
                while total > max_bytes {
                    let Some((_, value)) = table.pop_first().map_err(storage)? else {
                        break;
                    };
                    total -= value.value().len() as u64;
                    dropped += 1;
                }
                dropped
            };
            txn.commit().map_err(storage)?;
            Ok(dropped)
        })
    }

    /// How large the file is, and how much of it redb uses (bytes). Two durable commits first
    /// release the pages earlier transactions freed.
    fn sizes(&self) -> Result<(u64, u64), SpoolError> {
        self.with_db(|db| {
            for _ in 0..2 {
                db.begin_write()
                    .map_err(storage)?
                    .commit()
                    .map_err(storage)?;
            }
            let file = std::fs::metadata(&self.path).map_err(storage)?.len();
            let txn = db.begin_write().map_err(storage)?;
            let stats = txn.stats().map_err(storage)?;
            let used = stats.allocated_pages() * stats.page_size() as u64;
            txn.abort().map_err(storage)?;
            Ok((file, used))
        })
    }

    /// When the file is loose ([`worth_compacting`]: a backlog was delivered, rows were
    /// forgotten), rewrites it to what it holds (redb's compaction), giving the space back;
    /// returns the file's length before and after.
    fn compact_if_loose(&self) -> Result<Option<(u64, u64)>, SpoolError> {
        let (file, used) = self.sizes()?;
        let last = *self.compacted_to.lock().unwrap_or_else(|p| p.into_inner());
        if !worth_compacting(file, used, last) {
            return Ok(None);
        }
        {
            let mut guard = self.db.write().unwrap_or_else(|p| p.into_inner());
            let db = guard
                .as_mut()
                .ok_or_else(|| storage("the spool is being reopened"))?;
            db.compact().map_err(storage)?;
        }
        let (after, used) = self.sizes()?;
        *self.compacted_to.lock().unwrap_or_else(|p| p.into_inner()) = (after, used);
        Ok(Some((file, after)))
    }

    /// Up to `limit` sessions whose rows the row quota held back.
    pub fn held(&self, limit: usize) -> Result<Vec<String>, SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let held = txn.open_table(HELD).map_err(storage)?;
            held.iter()
                .map_err(storage)?
                .take(limit)
                .map(|entry| Ok(entry.map_err(storage)?.0.value().to_owned()))
                .collect()
        })
    }

    /// (batches, bytes, next key) of what is stored.
    pub fn stats(&self) -> Result<(u64, u64, u64), SpoolError> {
        self.with_db(|db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(BATCHES).map_err(storage)?;
            let (mut count, mut bytes, mut next) = (0, 0, 0);
            for entry in table.iter().map_err(storage)? {
                let (key, value) = entry.map_err(storage)?;
                count += 1;
                bytes += value.value().len() as u64;
                next = key.value() + 1;
            }
            Ok((count, bytes, next))
        })
    }

    /// Applies `change` in one transaction. With inserts it is synced to disk before this
    /// returns; removals and rows alone are not (losing them merely re-delivers batches that
    /// carry their idempotency keys onto rows that come out the same).
    pub fn commit(&self, change: &Change) -> Result<Removed, SpoolError> {
        self.with_db(|db| {
            let mut txn = db.begin_write().map_err(storage)?;
            txn.set_durability(if change.inserts.is_empty() {
                Durability::Eventual
            } else {
                Durability::Immediate
            });
            let mut removed = Removed::default();
            {
                let mut batches = txn.open_table(BATCHES).map_err(storage)?;
                for (key, value) in &change.inserts {
                    batches.insert(key, value.as_slice()).map_err(storage)?;
                }
                for removal in &change.remove {
                    // Key by key: redb's `retain_in` copies a leaf (and its path to the root) for
                    // every entry it removes and frees the copies only at commit, so removing a
                    // settle's 20,000 batches at once grew the file by hundreds of MB; `remove`
                    // edits the pages this transaction already copied in place.
                    let in_range;
                    let keys = match removal {
                        Removal::Range(range) => {
                            in_range = batches
                                .range(range.clone())
                                .map_err(storage)?
                                .map(|entry| entry.map(|(key, _)| key.value()))
                                .collect::<Result<Vec<u64>, _>>()
                                .map_err(storage)?;
                            &in_range
                        }
                        Removal::Keys(keys) => keys,
                    };
                    for key in keys {
                        if let Some(value) = batches.remove(key).map_err(storage)? {
                            removed.batches += 1;
                            removed.bytes += value.value().len() as u64;
                        }
                    }
                }
                let mut rows = txn.open_table(ROWS).map_err(storage)?;
                let mut times = txn.open_table(ROW_TIMES).map_err(storage)?;
                let mut held = txn.open_table(HELD).map_err(storage)?;
                for (session, row) in &change.rows {
                    rows.insert(session.as_str(), row.as_slice())
                        .map_err(storage)?;
                    times
                        .insert(session.as_str(), change.written_ms)
                        .map_err(storage)?;
                    held.remove(session.as_str()).map_err(storage)?;
                }
                for session in &change.held {
                    held.insert(session.as_str(), ()).map_err(storage)?;
                }
                if let Some(before) = change.forget_before {
                    let mut stale = Vec::new();
                    for entry in times.iter().map_err(storage)? {
                        let (session, at) = entry.map_err(storage)?;
                        if at.value() < before {
                            stale.push(session.value().to_owned());
                        }
                    }
                    for session in stale {
                        if held.get(session.as_str()).map_err(storage)?.is_none() {
                            rows.remove(session.as_str()).map_err(storage)?;
                            times.remove(session.as_str()).map_err(storage)?;
                            removed.rows += 1;
                        }
                    }
                }
                let mut dead = txn.open_table(DEAD).map_err(storage)?;
                let next = dead
                    .last()
                    .map_err(storage)?
                    .map_or(0, |(k, _)| k.value() + 1);
                for (key, letter) in (next..).zip(&change.letters) {
                    dead.insert(key, letter.as_slice()).map_err(storage)?;
                }
            }
            txn.commit().map_err(storage)?;
            Ok(removed)
        })
    }
}

/// Runs `f`, turning a panic (redb panics on some damaged files) into its text.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(result) => Ok(result),
        Err(panic) => Err(panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "the storage library panicked".into())),
    }
}

/// Reads every entry once: a damaged page shows here rather than in the middle of a run.
fn readable(db: &Database) -> Result<(), SpoolError> {
    let txn = db.begin_read().map_err(storage)?;
    read_every(&txn, BATCHES)?;
    read_every(&txn, ROWS)?;
    read_every(&txn, DEAD)
}

/// Reads every entry of `table` in `txn`, failing at the first it cannot read.
fn read_every<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &redb::ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<(), SpoolError> {
    for entry in txn
        .open_table(table)
        .map_err(storage)?
        .iter()
        .map_err(storage)?
    {
        entry.map_err(storage)?;
    }
    Ok(())
}

/// Whether a file of `file` bytes holding `used` is worth compacting, given the file's length and
/// what it held after the last compaction: it must be more than twice what it holds plus
/// [`COMPACT_SLACK`], and past a compaction that could not shrink it more, it must have grown by a
/// quarter or what it holds must have halved since (e.g. retention forgot the row copies).
fn worth_compacting(file: u64, used: u64, (last_file, last_used): (u64, u64)) -> bool {
    file > used.saturating_mul(2) + COMPACT_SLACK
        && (file > last_file + last_file / 4 || used < last_used / 2)
}

/// Copies the batches, session rows (with their times) and dead letters `old` still yields into
/// `new`, up to the first unreadable entry of each table: (batches, rows) copied.
fn salvage(old: &Database, new: &Database) -> (u64, u64) {
    let copy = || -> Result<(u64, u64), SpoolError> {
        let read = old.begin_read().map_err(storage)?;
        let write = new.begin_write().map_err(storage)?;
        let batches = copy_table(&read, &write, BATCHES)?;
        let rows = copy_table(&read, &write, ROWS)?;
        copy_table(&read, &write, ROW_TIMES)?;
        copy_table(&read, &write, HELD)?;
        copy_table(&read, &write, DEAD)?;
        write.commit().map_err(storage)?;
        Ok((batches, rows))
    };
    match guarded(copy) {
        Ok(Ok(copied)) => copied,
        _ => (0, 0),
    }
}

/// Copies the entries of `table` up to its first unreadable one; how many.
fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    read: &redb::ReadTransaction,
    write: &redb::WriteTransaction,
    table: TableDefinition<K, V>,
) -> Result<u64, SpoolError> {
    let mut into = write.open_table(table).map_err(storage)?;
    let Ok(from) = read.open_table(table) else {
        return Ok(0);
    };
    let mut copied = 0;
    for entry in from.iter().map_err(storage)? {
        let Ok((key, value)) = entry else { break };
        into.insert(key.value(), value.value()).map_err(storage)?;
        copied += 1;
    }
    Ok(copied)
}

/// A batch on its way into the spool, holding its share of the reader's memory bound.
pub struct Incoming {
    pub batch: ActionsPayload,
    pub _permit: OwnedSemaphorePermit,
}

/// Batches that left Botpress's hands for good, and the session rows now written.
#[derive(Debug, Default)]
pub struct Settle {
    pub remove: Removal,
    pub rows: Vec<(String, Vec<u8>)>,
    /// Sessions of `rows` the row quota held back (see [`Change::held`]).
    pub held: Vec<String>,
    /// When `rows` were written (see [`Change::written_ms`]).
    pub written_ms: u64,
    /// Dead letters (JSON) of the batches removed, moved out with them in one transaction.
    pub letters: Vec<Vec<u8>>,
}

/// What the rest of the streamer uses to talk to the writer thread.
#[derive(Clone)]
pub struct SpoolHandle {
    spool: Arc<Spool>,
    settles: mpsc::UnboundedSender<Settle>,
    /// Next key: every batch with a smaller key is on disk.
    written: watch::Receiver<u64>,
}

impl SpoolHandle {
    /// Stored batches from key `from` on (see [`Spool::read_from`]).
    pub fn read_from(
        &self,
        from: u64,
        max_batches: usize,
        max_bytes: usize,
    ) -> Result<Vec<Stored>, SpoolError> {
        self.spool.read_from(from, max_batches, max_bytes)
    }

    /// These stored batches, by key (missing keys are skipped).
    pub fn read_keys(&self, keys: &[u64]) -> Result<Vec<Stored>, SpoolError> {
        self.spool.read_keys(keys)
    }

    /// The copy of the session row last written for `session` (see [`Spool::row`]).
    pub fn row(&self, session: &str) -> Result<Option<RowCopy>, SpoolError> {
        self.spool.row(session)
    }

    /// Up to `limit` sessions whose rows the row quota held back.
    pub fn held(&self, limit: usize) -> Result<Vec<String>, SpoolError> {
        self.spool.held(limit)
    }

    /// Next key to be written: every batch with a smaller key is on disk.
    pub fn written(&self) -> watch::Receiver<u64> {
        self.written.clone()
    }

    /// Hands a settle to the writer (a no-op once it has stopped).
    pub fn settle(&self, settle: Settle) {
        let _ = self.settles.send(settle);
    }
}

/// Settings of the writer thread.
pub struct WriterConfig {
    /// Stop taking batches once the spool holds this many bytes.
    pub max_bytes: u64,
    /// Dead letters kept, at most (the oldest go first, with a warning).
    pub max_letter_bytes: u64,
    /// Row copies not written for this long are forgotten (see [`Change::forget_before`]).
    pub forget_rows_after: Duration,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

/// Starts the writer thread. It runs until the inserts sender and every settle handle are gone,
/// or, if storage keeps failing, until `stop` is set (returning the error).
pub fn start(
    spool: Arc<Spool>,
    inserts: mpsc::Receiver<Incoming>,
    config: WriterConfig,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(SpoolHandle, std::thread::JoinHandle<Result<(), SpoolError>>), SpoolError> {
    if let Some(damage) = spool.damage() {
        tracing::error!("{damage}");
        config.health.set(Part::Recovery, Some(damage.to_owned()));
    }
    let (depth, bytes, next) = spool.stats()?;
    set(&config.metrics.spool_depth, depth);
    set(&config.metrics.spool_bytes, bytes);
    if depth > 0 {
        tracing::info!(batches = depth, "delivering batches left by a previous run");
    }
    let (settles_tx, settles) = mpsc::unbounded_channel();
    let (written_tx, written) = watch::channel(next);
    let handle = SpoolHandle {
        spool: spool.clone(),
        settles: settles_tx,
        written,
    };
    let runtime = tokio::runtime::Handle::current();
    let writer = Writer {
        spool,
        inserts,
        settles,
        written: written_tx,
        next,
        bytes,
        depth,
        config,
        stop,
        last_upkeep: std::time::Instant::now(),
    };
    let thread = std::thread::Builder::new()
        .name("spool".into())
        .spawn(move || writer.run(runtime))
        .map_err(storage)?;
    Ok((handle, thread))
}

struct Writer {
    spool: Arc<Spool>,
    inserts: mpsc::Receiver<Incoming>,
    settles: mpsc::UnboundedReceiver<Settle>,
    written: watch::Sender<u64>,
    next: u64,
    bytes: u64,
    depth: u64,
    config: WriterConfig,
    stop: tokio_util::sync::CancellationToken,
    last_upkeep: std::time::Instant,
}

enum Next {
    Insert(Incoming),
    Settle(Settle),
    Idle,
    /// That channel is closed and drained.
    InsertsClosed,
    SettlesClosed,
}

impl Writer {
    fn run(mut self, runtime: tokio::runtime::Handle) -> Result<(), SpoolError> {
        let (mut inserts_open, mut settles_open) = (true, true);
        let mut full_reported = false;
        loop {
            let full = self.bytes >= self.config.max_bytes;
            self.report_full(full, &mut full_reported);
            let first = runtime.block_on(async {
                tokio::select! {
                    biased;
                    settle = self.settles.recv(), if settles_open => settle.map_or(Next::SettlesClosed, Next::Settle),
                    insert = self.inserts.recv(), if inserts_open && !full => insert.map_or(Next::InsertsClosed, Next::Insert),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => Next::Idle,
                }
            });
            if matches!(first, Next::Insert(_)) {
                // Let the window fill: one commit for every batch of the next 100 ms.
                std::thread::sleep(GROUP_WINDOW);
            }
            let mut group = Group::default();
            match first {
                Next::Insert(incoming) => self.add_insert(&mut group, incoming)?,
                Next::Settle(settle) => group.add_settle(settle),
                Next::Idle => {}
                Next::InsertsClosed => inserts_open = false,
                Next::SettlesClosed => settles_open = false,
            }
            while let Ok(settle) = self.settles.try_recv() {
                group.add_settle(settle);
            }
            while !full && group.inserts() < MAX_GROUP {
                let Ok(incoming) = self.inserts.try_recv() else {
                    break;
                };
                self.add_insert(&mut group, incoming)?;
            }
            let letters = !group.change.letters.is_empty();
            if !group.is_empty() {
                self.commit(group)?;
            }
            if letters {
                self.trim_letters();
            }
            if self.last_upkeep.elapsed() >= UPKEEP_EVERY {
                self.upkeep()?;
            }
            if !inserts_open && !settles_open {
                return Ok(());
            }
        }
    }

    fn add_insert(&mut self, group: &mut Group, incoming: Incoming) -> Result<(), SpoolError> {
        let value = packed::pack(&serde_json::to_vec(&incoming.batch).map_err(storage)?);
        group.change.inserts.push((self.next, value));
        group.permits.push(incoming._permit);
        self.next += 1;
        Ok(())
    }

    /// Commits the group, retrying (with the database reopened) until it is written or `stop`.
    fn commit(&mut self, group: Group) -> Result<(), SpoolError> {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        let mut failing = false;
        loop {
            match self.spool.commit(&group.change) {
                Ok(removed) => {
                    if failing {
                        tracing::info!("the spool is writable again");
                        self.config.health.set(Part::Storage, None);
                    }
                    self.account(&group.change, removed);
                    let _ = self.written.send(self.next);
                    return Ok(());
                }
                Err(err) => {
                    add(&self.config.metrics.storage_errors_total, 1);
                    let problem = format!(
                        "cannot write the spool ({err}); reading from the stream is paused and \
                         the write is retried (is the disk of {} full?)",
                        self.spool.path.display()
                    );
                    if !failing {
                        tracing::error!("{problem}");
                        self.config.health.set(Part::Storage, Some(problem));
                        failing = true;
                    }
                    if self.stop.is_cancelled() {
                        return Err(SpoolError::Storage(format!(
                            "{err}; {} batches read from the stream could not be stored before \
                             shutdown",
                            group.change.inserts.len()
                        )));
                    }
                    std::thread::sleep(backoff.next_delay());
                    if let Err(err) = self.spool.reopen() {
                        tracing::warn!(%err, "reopening the spool failed; trying again");
                    }
                }
            }
        }
    }

    fn account(&mut self, change: &Change, removed: Removed) {
        let inserted: u64 = change.inserts.iter().map(|(_, v)| v.len() as u64).sum();
        self.bytes = (self.bytes + inserted).saturating_sub(removed.bytes);
        self.depth = (self.depth + change.inserts.len() as u64).saturating_sub(removed.batches);
        set(&self.config.metrics.spool_depth, self.depth);
        set(&self.config.metrics.spool_bytes, self.bytes);
    }

    /// Keeps the dead letters within their bound.
    fn trim_letters(&self) {
        match self.spool.trim_letters(self.config.max_letter_bytes) {
            Ok(0) => {}
            Ok(dropped) => tracing::warn!(
                dropped,
                "the dead letters are over --max-dead-letter-mb; dropped the oldest"
            ),
            Err(err) => tracing::warn!(%err, "cannot trim the dead letters; trying again later"),
        }
    }

    /// Forgets stale row copies and, when the file has grown well past what it holds (a
    /// backlog drained), compacts it.
    fn upkeep(&mut self) -> Result<(), SpoolError> {
        self.last_upkeep = std::time::Instant::now();
        let now = u64::try_from(crate::now_ms()).unwrap_or(0);
        let before = now.saturating_sub(self.config.forget_rows_after.as_millis() as u64);
        self.commit(Group {
            change: Change {
                forget_before: Some(before),
                ..Change::default()
            },
            permits: Vec::new(),
        })?;
        let started = std::time::Instant::now();
        match self.spool.compact_if_loose() {
            Ok(None) => {}
            Ok(Some((before, after))) => tracing::info!(
                before_mb = before >> 20,
                after_mb = after >> 20,
                ms = started.elapsed().as_millis() as u64,
                "compacted the spool file"
            ),
            Err(err) => tracing::warn!(%err, "cannot compact the spool file; trying again later"),
        }
        Ok(())
    }

    fn report_full(&self, full: bool, reported: &mut bool) {
        if full == *reported {
            return;
        }
        *reported = full;
        if full {
            let problem = format!(
                "the spool holds {} MB (--max-spool-mb): reading from the stream is paused until \
                 delivery catches up",
                self.bytes >> 20
            );
            tracing::warn!("{problem}");
            self.config.health.set(Part::Storage, Some(problem));
        } else {
            tracing::info!("the spool has room again; reading from the stream resumes");
            self.config.health.set(Part::Storage, None);
        }
    }
}

/// The requests one transaction carries, with the memory permits of its inserts.
#[derive(Default)]
struct Group {
    change: Change,
    permits: Vec<OwnedSemaphorePermit>,
}

impl Group {
    fn add_settle(&mut self, settle: Settle) {
        self.change.remove.push(settle.remove);
        if !settle.rows.is_empty() {
            // The earliest time of the group: no copy counts as written later than it was.
            self.change.written_ms = match self.change.written_ms {
                0 => settle.written_ms,
                t => t.min(settle.written_ms),
            };
        }
        let rows = settle.rows.into_iter();
        self.change
            .rows
            .extend(rows.map(|(session, json)| (session, packed::pack(&json))));
        self.change.held.extend(settle.held);
        self.change.letters.extend(settle.letters);
    }

    fn inserts(&self) -> usize {
        self.change.inserts.len()
    }

    fn is_empty(&self) -> bool {
        self.change.inserts.is_empty()
            && self.change.remove.is_empty()
            && self.change.rows.is_empty()
            && self.change.forget_before.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(session: &str) -> Vec<u8> {
        serde_json::to_vec(&ActionsPayload {
            session_id: Some(session.into()),
            ..ActionsPayload::default()
        })
        .unwrap()
    }

    fn sessions(stored: Vec<Stored>) -> Vec<(u64, String)> {
        stored
            .into_iter()
            .map(|s| (s.seq, s.batch.unwrap().session_id.unwrap()))
            .collect()
    }

    #[test]
    fn survives_reopen_in_order_and_removes_ranges_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(dir.path()).unwrap();
            let change = Change {
                inserts: ["a", "b", "c", "d", "e"]
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (i as u64, batch(s)))
                    .collect(),
                ..Change::default()
            };
            spool.commit(&change).unwrap();
            let removed = spool
                .commit(&Change {
                    remove: vec![Removal::Range(0..2), Removal::Keys(vec![3, 9])],
                    rows: vec![(
                        "s1".into(),
                        serde_json::to_vec(&SessionRow::new(&autoplay_botpress::ids::Owner::new(
                            None,
                            Some("s1"),
                        )))
                        .unwrap(),
                    )],
                    ..Change::default()
                })
                .unwrap();
            assert_eq!(removed.batches, 3);
        }
        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(
            sessions(spool.read_from(0, 10, 1 << 20).unwrap()),
            [(2, "c".to_owned()), (4, "e".to_owned())]
        );
        assert_eq!(
            sessions(spool.read_keys(&[4, 7]).unwrap()),
            [(4, "e".to_owned())]
        );
        assert_eq!(spool.stats().unwrap().2, 5, "next key");
        assert_eq!(spool.row("s1").unwrap().unwrap().row.session_id, "s1");
        spool.reopen().unwrap();
        assert_eq!(spool.read_from(3, 10, 1 << 20).unwrap().len(), 1);
    }

    #[test]
    fn the_file_shrinks_once_a_backlog_is_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let big = vec![b'x'; 64 << 10];
        for round in 0..10u64 {
            let inserts = (0..80).map(|i| (round * 80 + i, big.clone())).collect();
            spool
                .commit(&Change {
                    inserts,
                    ..Change::default()
                })
                .unwrap();
        }
        spool
            .commit(&Change {
                remove: vec![Removal::Range(0..800)],
                ..Change::default()
            })
            .unwrap();
        let file = || std::fs::metadata(spool.path()).unwrap().len();
        assert!(file() > 48 << 20, "{}", file());
        let (before, after) = spool.compact_if_loose().unwrap().expect("compacted");
        assert_eq!((before, after), (before, file()));
        assert!(after < 4 << 20, "{after}");
        assert_eq!(spool.compact_if_loose().unwrap(), None, "once is enough");
    }

    /// The bound README states for the spool file: four times what it holds (compressed), the row
    /// copies counted twice (a settle rewrites them), plus the 4 MB of a new file.
    fn file_bound(batches: u64, row_copies: u64) -> u64 {
        4 * (batches + 2 * row_copies) + (4 << 20)
    }

    #[test]
    fn settling_thousands_of_batches_at_once_keeps_the_file_within_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        // Random bytes, as long as a batch of 5 actions and a row of 10 are once packed.
        let value = |len: usize| -> Vec<u8> { (0..len).map(|_| fastrand::u8(..)).collect() };
        for group in 0..4u64 {
            let inserts = (group * 1_000..(group + 1) * 1_000)
                .map(|seq| (seq, value(450)))
                .collect();
            spool
                .commit(&Change {
                    inserts,
                    ..Change::default()
                })
                .unwrap();
        }
        let rows = (0..2_000)
            .map(|s| (format!("session-{s}"), value(600)))
            .collect();
        let removed = spool
            .commit(&Change {
                remove: vec![Removal::Range(0..4_000)],
                rows,
                written_ms: 1,
                ..Change::default()
            })
            .unwrap();
        assert_eq!(removed.batches, 4_000);
        let (batches, row_copies) = (4_000 * 450, 2_000 * 600);
        let file = std::fs::metadata(spool.path()).unwrap().len();
        assert!(
            file <= file_bound(batches, row_copies),
            "{file} bytes for {batches} of batches and {row_copies} of row copies"
        );
    }

    #[test]
    fn compaction_waits_for_growth_or_a_halving_of_what_the_file_holds() {
        const MB: u64 = 1 << 20;
        assert!(
            worth_compacting(100 * MB, 10 * MB, (0, 0)),
            "loose, never compacted"
        );
        assert!(
            !worth_compacting(30 * MB, 10 * MB, (0, 0)),
            "within twice plus slack"
        );
        let last = (60 * MB, 20 * MB);
        assert!(
            !worth_compacting(60 * MB, 20 * MB, last),
            "could not shrink more"
        );
        assert!(
            worth_compacting(80 * MB, 20 * MB, last),
            "grew by a quarter"
        );
        assert!(
            worth_compacting(40 * MB, 5 * MB, last),
            "what it holds halved"
        );
    }

    #[test]
    fn dead_letters_stay_within_their_bound_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let letters = (0..10u8).map(|n| vec![n; 100]).collect();
        spool
            .commit(&Change {
                letters,
                ..Change::default()
            })
            .unwrap();
        assert_eq!(spool.trim_letters(450).unwrap(), 6);
        let kept: Vec<u8> = spool.letters().unwrap().iter().map(|(_, l)| l[0]).collect();
        assert_eq!(kept, [6, 7, 8, 9]);
    }
}
