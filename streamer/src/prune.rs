//! Retention: deleting old events so the events table stays under the plan's row limit.

use std::time::Duration;

use autoplay_botpress::clock::iso_from_ms;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::botpress::{TablesClient, TablesError};
use crate::forward::now_ms;

/// The filter selecting rows created more than `keep` before `now_ms`.
pub fn older_than(keep: Duration, now_ms: i64) -> Value {
    let cutoff = now_ms.saturating_sub(i64::try_from(keep.as_millis()).unwrap_or(i64::MAX));
    json!({ "createdAt": { "$lt": iso_from_ms(cutoff) } })
}

/// Deletes events older than `keep`; returns how many went.
pub async fn prune(client: &TablesClient, table: &str, keep: Duration) -> Result<u64, TablesError> {
    client.delete_rows(table, &older_than(keep, now_ms())).await
}

/// Prunes at once, then every `every`, until `cancel`. Failures are logged and retried on the
/// next round: retention must never stop the stream.
pub async fn run_periodically(
    client: TablesClient,
    table: String,
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
        match prune(&client, &table, keep).await {
            Ok(deleted) => {
                tracing::info!(table, deleted, keep = %humantime::format_duration(keep), "pruned old events")
            }
            Err(err) => {
                tracing::warn!(%err, table, "could not prune old events; trying again next round")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_is_a_created_at_cutoff() {
        let filter = older_than(Duration::from_secs(3600), 1_795_525_200_000);
        assert_eq!(
            filter,
            json!({"createdAt": {"$lt": "2026-11-24T12:00:00.000Z"}})
        );
    }
}
