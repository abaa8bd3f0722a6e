//! The core's pacing decisions, counted in `/metrics`.

use crate::watch::pacing::PacingStats;

use crate::metrics::{add, Metrics};

/// Adds what pacing decided since `counted` to the counters, and remembers `now`.
pub fn count(metrics: &Metrics, counted: &mut PacingStats, now: PacingStats) {
    add(
        &metrics.triggers_outranked_total,
        now.outranked - counted.outranked,
    );
    add(
        &metrics.triggers_held_by_window_total,
        now.held_by_window - counted.held_by_window,
    );
    add(
        &metrics.triggers_held_by_chat_total,
        now.held_by_chat - counted.held_by_chat,
    );
    *counted = now;
}
