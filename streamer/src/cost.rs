//! What a way of delivering activity costs on Botpress, per hour: API requests, billed incoming
//! events (the plan's scarcest quota: when it runs out every bot of the workspace goes silent)
//! and table rows. `check`, the demo's budget line and the README's plan table use it.
//!
//! A model, not a measurement: it assumes steady traffic. The load benchmark measures the same
//! quantities on the real streamer.

use serde::Serialize;

/// How activity reaches Botpress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Tables API, one row per session (the streamer's default).
    TablesSessions,
    /// Tables API, one row per action plus one summary row per session.
    TablesEvents,
    /// The streamer's webhook delivery: per-session coalesced POSTs under the request budget.
    Webhook,
    /// The original guide: one webhook POST per batch, one row per action, one summary upsert per
    /// summary.
    Guide,
}

/// Steady traffic of a product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    /// Users active at the same time (one session each).
    pub users: f64,
    /// Actions per user per minute.
    pub actions_per_minute: f64,
    /// Actions per batch the connector sends.
    pub actions_per_batch: f64,
    /// How long a session lasts, in minutes.
    pub session_minutes: f64,
}

impl Default for Traffic {
    fn default() -> Self {
        Self {
            users: 50.0,
            actions_per_minute: 6.0,
            actions_per_batch: 5.0,
            session_minutes: 30.0,
        }
    }
}

/// The streamer's settings that matter for cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub flush_every_ms: u64,
    pub max_requests_per_minute: u32,
    /// Actions per summary; `None` when summaries are off.
    pub threshold: Option<u32>,
    /// Rows older than this many hours are deleted; `None`: rows are kept.
    pub retention_hours: Option<f64>,
}

/// Cost per hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    pub requests_per_hour: f64,
    pub billed_events_per_hour: f64,
    pub rows_created_per_hour: f64,
    /// Rows in use once retention has kicked in; `None` when they grow without end.
    pub rows_in_use: Option<f64>,
}

/// A Botpress plan's monthly quotas (from Botpress's billing constants).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Plan {
    pub name: &'static str,
    pub events_per_month: f64,
    pub table_rows: f64,
}

/// The plans, smallest first.
pub const PLANS: [Plan; 3] = [
    Plan {
        name: "Pay-as-you-go",
        events_per_month: 500.0,
        table_rows: 1_000.0,
    },
    Plan {
        name: "Plus",
        events_per_month: 5_000.0,
        table_rows: 100_000.0,
    },
    Plan {
        name: "Team",
        events_per_month: 50_000.0,
        table_rows: 100_000.0,
    },
];

/// Estimates the hourly cost of `mode` for `traffic`.
pub fn estimate(mode: Mode, traffic: &Traffic, settings: &Settings) -> Cost {
    let actions = traffic.users * traffic.actions_per_minute * 60.0;
    let batches = actions / traffic.actions_per_batch.max(1.0);
    let flushes = 3_600_000.0 / settings.flush_every_ms.max(1) as f64;
    let budget = f64::from(settings.max_requests_per_minute) * 60.0;
    let summaries = settings
        .threshold
        .map_or(0.0, |t| actions / f64::from(t.max(1)));
    let new_sessions = traffic.users * 60.0 / traffic.session_minutes.max(1.0);
    // At most one summary upsert per flush, when any summary is due in it.
    let summary_writes = flushes.min(summaries);
    // A flush only writes when something changed; it cannot change more than what arrived.
    let active_flushes = flushes.min(batches);
    let kept = |rows_per_hour: f64, live: f64| {
        settings
            .retention_hours
            .map(|hours| rows_per_hour * hours + live)
    };
    match mode {
        Mode::TablesSessions => {
            let rows_per_flush = traffic.users.min(batches / flushes.max(1.0));
            let upserts = active_flushes * (rows_per_flush / 1_000.0).ceil().max(1.0);
            Cost {
                requests_per_hour: upserts.min(budget),
                billed_events_per_hour: 0.0,
                rows_created_per_hour: new_sessions,
                rows_in_use: kept(new_sessions, traffic.users),
            }
        }
        Mode::TablesEvents => {
            let per_flush = actions / flushes.max(1.0);
            let upserts = active_flushes * (per_flush / 1_000.0).ceil().max(1.0);
            Cost {
                requests_per_hour: (upserts + summary_writes).min(budget),
                billed_events_per_hour: 0.0,
                rows_created_per_hour: actions + new_sessions,
                rows_in_use: kept(actions + new_sessions, traffic.users),
            }
        }
        Mode::Webhook => {
            let posts = batches
                .min(traffic.users * flushes)
                .min((budget - summary_writes).max(0.0));
            Cost {
                requests_per_hour: posts + summary_writes,
                billed_events_per_hour: posts,
                rows_created_per_hour: actions,
                rows_in_use: kept(actions, 0.0),
            }
        }
        Mode::Guide => Cost {
            requests_per_hour: batches + summaries,
            billed_events_per_hour: batches,
            rows_created_per_hour: actions,
            rows_in_use: None,
        },
    }
}

/// Hours until a plan's monthly event quota is spent at `cost`; `None` when it never is.
pub fn hours_until_events_run_out(plan: &Plan, cost: &Cost) -> Option<f64> {
    (cost.billed_events_per_hour > 0.0).then(|| plan.events_per_month / cost.billed_events_per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            flush_every_ms: 1_000,
            max_requests_per_minute: 300,
            threshold: Some(10),
            retention_hours: Some(24.0),
        }
    }

    #[test]
    fn the_benchmark_traffic() {
        // 200 sessions × 5 actions every 2 s: 30,000 actions per minute.
        let traffic = Traffic {
            users: 200.0,
            actions_per_minute: 150.0,
            actions_per_batch: 5.0,
            session_minutes: 30.0,
        };
        let sessions = estimate(Mode::TablesSessions, &traffic, &settings());
        assert_eq!(sessions.billed_events_per_hour, 0.0);
        assert_eq!(sessions.requests_per_hour, 3_600.0, "one upsert per flush");
        let per_1000 = sessions.requests_per_hour / (200.0 * 150.0 * 60.0) * 1_000.0;
        assert!(per_1000 < 5.0, "{per_1000}");
        let guide = estimate(Mode::Guide, &traffic, &settings());
        assert_eq!(guide.billed_events_per_hour, 360_000.0);
        let team = &PLANS[2];
        let hours = hours_until_events_run_out(team, &guide).unwrap();
        assert!(hours < 1.0, "a Team month in {hours} h");
        assert_eq!(hours_until_events_run_out(team, &sessions), None);
    }

    #[test]
    fn webhook_posts_are_capped_by_the_budget() {
        let traffic = Traffic {
            users: 1_000.0,
            ..Traffic::default()
        };
        let cost = estimate(Mode::Webhook, &traffic, &settings());
        assert!(cost.requests_per_hour <= 300.0 * 60.0 + 1e-9);
        assert_eq!(
            cost.billed_events_per_hour + 3_600.0,
            cost.requests_per_hour
        );
    }

    #[test]
    fn quiet_traffic_costs_little() {
        let traffic = Traffic {
            users: 1.0,
            actions_per_minute: 1.0,
            ..Traffic::default()
        };
        let cost = estimate(Mode::TablesSessions, &traffic, &settings());
        assert!(cost.requests_per_hour <= 12.0, "{cost:?}");
        assert_eq!(cost.rows_in_use, Some(2.0 * 24.0 + 1.0));
    }
}
