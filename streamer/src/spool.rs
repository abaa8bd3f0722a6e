//! The durable spool: every batch accepted from the stream is written here, and removed once the
//! webhook has it (or it is dead-lettered). After a crash, the batches still here are delivered on
//! the next start.
//!
//! Writes go through one thread that drains whatever is queued and commits it in a single redb
//! transaction ("group commit"): one fsync covers a whole burst of batches, so durability does not
//! cap throughput at the disk's sync rate.

use std::path::Path;
use std::sync::Arc;

use autoplay_botpress::ActionsPayload;
use redb::{Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;

const SPOOL_CACHE_BYTES: usize = 2 << 20;
const BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("batches");

/// A batch on its way to the webhook, with its spool key.
#[derive(Debug)]
pub struct Spooled {
    pub seq: u64,
    pub payload: ActionsPayload,
    /// Holds one place of the in-memory queue bound until the batch is dropped (settled).
    pub _permit: OwnedSemaphorePermit,
}

/// Requests to the spool thread.
#[derive(Debug)]
pub enum SpoolRequest {
    /// Store durably, then pass on for delivery.
    Insert(ActionsPayload),
    /// Delivered or dead-lettered: forget it.
    Remove(u64),
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot open the spool at {path}: {source}")]
    Open {
        path: String,
        source: redb::DatabaseError,
    },
    #[error("spool storage error: {0}")]
    Storage(String),
}

fn storage(err: impl std::fmt::Display) -> SpoolError {
    SpoolError::Storage(err.to_string())
}

/// A stored batch by key: decoded, or why it no longer decodes.
pub type StoredBatch = (u64, Result<ActionsPayload, String>);

/// The redb database behind the spool.
pub struct Spool {
    db: Database,
}

impl Spool {
    /// Opens (or creates) `dir/spool.redb`.
    pub fn open(dir: &Path) -> Result<Self, SpoolError> {
        let path = dir.join("spool.redb");
        // The spool is written once and read once per batch: a small page cache is enough, and
        // redb's default (up to 1 GiB) would dominate the process's memory under load.
        let db = Database::builder()
            .set_cache_size(SPOOL_CACHE_BYTES)
            .create(&path)
            .map_err(|source| SpoolError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let txn = db.begin_write().map_err(storage)?;
        txn.open_table(BATCHES).map_err(storage)?;
        txn.commit().map_err(storage)?;
        Ok(Self { db })
    }

    /// Every stored batch in arrival order. Entries that no longer decode are returned as errors
    /// with their key so the caller can report and drop them.
    pub fn pending(&self) -> Result<Vec<StoredBatch>, SpoolError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let table = txn.open_table(BATCHES).map_err(storage)?;
        let mut out = Vec::with_capacity(table.len().map_err(storage)? as usize);
        for entry in table.iter().map_err(storage)? {
            let (key, value) = entry.map_err(storage)?;
            let decoded = serde_json::from_slice(value.value()).map_err(|e| e.to_string());
            out.push((key.value(), decoded));
        }
        Ok(out)
    }

    /// Applies inserts and removals in one transaction. Inserts are synced to disk before this
    /// returns; a commit of removals only is not, since losing one merely re-delivers a batch
    /// that carries its idempotency key.
    pub fn commit(&self, inserts: &[(u64, Vec<u8>)], removals: &[u64]) -> Result<(), SpoolError> {
        let mut txn = self.db.begin_write().map_err(storage)?;
        txn.set_durability(if inserts.is_empty() {
            Durability::Eventual
        } else {
            Durability::Immediate
        });
        {
            let mut table = txn.open_table(BATCHES).map_err(storage)?;
            for (key, value) in inserts {
                table.insert(key, value.as_slice()).map_err(storage)?;
            }
            for key in removals {
                table.remove(key).map_err(storage)?;
            }
        }
        txn.commit().map_err(storage)
    }

    /// Number of stored batches.
    pub fn len(&self) -> Result<u64, SpoolError> {
        let txn = self.db.begin_read().map_err(storage)?;
        let table = txn.open_table(BATCHES).map_err(storage)?;
        table.len().map_err(storage)
    }
}

/// Runs the spool thread: replays what a previous run left, then serves requests until every
/// sender is gone. Each stored batch is passed to `deliver` after its commit, holding a permit
/// of `queue_bound` (so at most that many batches wait in memory).
pub fn run(
    runtime: tokio::runtime::Handle,
    spool: Spool,
    mut requests: mpsc::Receiver<SpoolRequest>,
    deliver: mpsc::Sender<Spooled>,
    queue_bound: Arc<Semaphore>,
    metrics: Arc<Metrics>,
) -> Result<(), SpoolError> {
    let acquire = |bound: &Arc<Semaphore>| runtime.block_on(bound.clone().acquire_owned()).ok();
    let mut next_seq = 0;
    let mut stale = Vec::new();
    let pending = spool.pending()?;
    if !pending.is_empty() {
        tracing::info!(
            batches = pending.len(),
            "delivering batches left by a previous run"
        );
    }
    for (seq, decoded) in pending {
        next_seq = seq + 1;
        match decoded {
            Ok(payload) => {
                let Some(permit) = acquire(&queue_bound) else {
                    return Ok(());
                };
                if deliver
                    .blocking_send(Spooled {
                        seq,
                        payload,
                        _permit: permit,
                    })
                    .is_err()
                {
                    return Ok(());
                }
            }
            Err(err) => {
                tracing::error!(seq, %err, "dropping an unreadable spool entry");
                stale.push(seq);
            }
        }
    }
    spool.commit(&[], &stale)?;
    metrics
        .spool_depth
        .store(spool.len()?, std::sync::atomic::Ordering::Relaxed);

    let mut batch = Vec::new();
    while let Some(first) = requests.blocking_recv() {
        batch.push(first);
        while let Ok(more) = requests.try_recv() {
            batch.push(more);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut inserts = Vec::new();
        let mut removals = Vec::new();
        for request in batch.drain(..) {
            match request {
                SpoolRequest::Insert(payload) => {
                    let seq = next_seq;
                    next_seq += 1;
                    inserts.push((seq, serde_json::to_vec(&payload).map_err(storage)?));
                    // Delivery starts while the group is being synced: the batch's removal can
                    // only come back after this commit (it is queued behind it), and a crash
                    // before the sync loses nothing that waiting would have saved.
                    let Some(permit) = acquire(&queue_bound) else {
                        return Ok(());
                    };
                    let spooled = Spooled {
                        seq,
                        payload,
                        _permit: permit,
                    };
                    if deliver.blocking_send(spooled).is_err() {
                        return Ok(());
                    }
                }
                SpoolRequest::Remove(seq) => removals.push(seq),
            }
        }
        spool.commit(&inserts, &removals)?;
        let depth = metrics
            .spool_depth
            .load(std::sync::atomic::Ordering::Relaxed)
            + inserts.len() as u64;
        metrics.spool_depth.store(
            depth.saturating_sub(removals.len() as u64),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
    // Every sender is gone: make the last removals durable too.
    let txn = spool.db.begin_write().map_err(storage)?;
    txn.commit().map_err(storage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        {
            let spool = Spool::open(dir.path()).unwrap();
            let batch = |s: &str| {
                serde_json::to_vec(&ActionsPayload {
                    session_id: Some(s.into()),
                    ..ActionsPayload::default()
                })
                .unwrap()
            };
            spool
                .commit(&[(0, batch("a")), (1, batch("b")), (2, batch("c"))], &[])
                .unwrap();
            spool.commit(&[], &[1]).unwrap();
        }
        let spool = Spool::open(dir.path()).unwrap();
        let sessions: Vec<_> = spool
            .pending()
            .unwrap()
            .into_iter()
            .map(|(k, p)| (k, p.unwrap().session_id.unwrap()))
            .collect();
        assert_eq!(sessions, [(0, "a".to_owned()), (2, "c".to_owned())]);
    }
}
