//! Retention: deleting old rows so the tables stay under the plan's row quota. In the sessions
//! layout a session row goes once the session has been idle longer than the retention; in the
//! events layout events older than it go, and so do summary rows not updated since.

use std::time::Duration;

use autoplay_botpress::time::iso_from_ms;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::botpress::{Deletion, TablesClient, TablesError};
use crate::layout::{Layout, Tables};
use crate::now_ms;

/// The filter selecting rows whose `column` is more than `keep` before `now_ms`.
pub fn older_than(column: &str, keep: Duration, now_ms: i64) -> Value {
    let cutoff = now_ms.saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
    json!({ column: { "$lt": iso_from_ms(cutoff) } })
}

/// The deletions retention makes: (table, filter) for each of the layout's tables.
pub fn deletions(tables: &Tables, keep: Duration, now_ms: i64) -> Vec<(String, Value)> {
    match tables.layout {
        Layout::Sessions => vec![(
            tables.sessions.clone(),
            older_than("updatedAt", keep, now_ms),
        )],
        Layout::Events => vec![
            (tables.events.clone(), older_than("createdAt", keep, now_ms)),
            (
                tables.summary.clone(),
                older_than("updatedAt", keep, now_ms),
            ),
        ],
    }
}

/// Deletes rows older than `keep`; returns what each table's deletion did.
pub async fn prune(
    client: &TablesClient,
    tables: &Tables,
    keep: Duration,
) -> Result<Vec<(String, Deletion)>, TablesError> {
    let mut out = Vec::new();
    for (table, filter) in deletions(tables, keep, now_ms()) {
        let deleted = client.delete_rows(&table, &filter).await?;
        out.push((table, deleted));
    }
    Ok(out)
}

/// Prunes at once, then every `every`, until `cancel`. Failures are logged and retried on the
/// next round: retention must never stop the stream.
pub async fn run_periodically(
    client: TablesClient,
    tables: Tables,
    keep: Duration,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = cancel.cancelled() => return,
        }
        let round = tokio::select! {
            round = prune(&client, &tables, keep) => round,
            _ = cancel.cancelled() => return,
        };
        match round {
            Ok(deleted) => {
                for (table, deletion) in deleted {
                    tracing::info!(table, %deletion, keep = %humantime::format_duration(keep), "pruned old rows");
                }
            }
            Err(err) => {
                tracing::warn!(%err, "could not prune old rows; trying again next round")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_cutoffs_per_layout() {
        let now = 1_795_525_200_000;
        let tables = Tables {
            layout: Layout::Events,
            sessions: "S".into(),
            events: "E".into(),
            summary: "M".into(),
            row_factor: 1,
        };
        let cutoff = "2026-11-24T12:00:00.000Z";
        assert_eq!(
            deletions(&tables, Duration::from_secs(3600), now),
            [
                ("E".to_owned(), json!({"createdAt": {"$lt": cutoff}})),
                ("M".to_owned(), json!({"updatedAt": {"$lt": cutoff}})),
            ]
        );
        let sessions = Tables {
            layout: Layout::Sessions,
            ..tables
        };
        assert_eq!(
            deletions(&sessions, Duration::from_secs(3600), now),
            [("S".to_owned(), json!({"updatedAt": {"$lt": cutoff}}))]
        );
    }
}
