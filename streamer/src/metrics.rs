//! Counters of what the streamer did, its health, and the optional `/healthz` + Prometheus
//! `/metrics` server.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use autoplay_botpress::signals::SignalKind;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::watch::outcomes::Outcome;

macro_rules! metrics {
    ($($(#[doc = $doc:literal])* $name:ident: $kind:literal;)*) => {
        /// Process-wide counters and gauges, updated with relaxed atomics.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $($(#[doc = $doc])* pub $name: AtomicU64,)*
            /// Requests sent to Botpress, by kind.
            pub requests: [AtomicU64; RequestKind::ALL.len()],
            /// Nudges' outcomes, by signal kind and outcome.
            pub nudge_outcomes: [[AtomicU64; Outcome::ALL.len()]; SignalKind::ALL.len()],
        }

        impl Metrics {
            /// The Prometheus text exposition of every metric.
            pub fn render(&self) -> String {
                let mut out = String::new();
                $(
                    let help = concat!($($doc),*).trim();
                    let name = concat!("autoplay_botpress_", stringify!($name));
                    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {}\n{name} {}",
                        $kind, self.$name.load(Ordering::Relaxed));
                )*
                let name = "autoplay_botpress_botpress_requests_total";
                let _ = writeln!(out, "# HELP {name} Requests sent to Botpress, by kind.\n# TYPE {name} counter");
                for kind in RequestKind::ALL {
                    let _ = writeln!(out, "{name}{{kind=\"{}\"}} {}", kind.label(), self.requests(kind));
                }
                let name = "autoplay_botpress_nudge_outcomes_total";
                let _ = writeln!(out, "# HELP {name} What became of each nudge sent, by signal kind: delivered, pending or failed; replied, no_reply or reply_unknown; friction_stopped or friction_continued.\n# TYPE {name} counter");
                for kind in SignalKind::ALL {
                    for outcome in Outcome::ALL {
                        let _ = writeln!(out, "{name}{{kind=\"{}\",outcome=\"{}\"}} {}",
                            crate::watch::kind_name(kind), outcome.label(), self.nudge_outcomes(kind, outcome));
                    }
                }
                out
            }
        }
    };
}

metrics! {
    /// Actions received from the connector.
    actions_received_total: "counter";
    /// Batches received from the connector.
    batches_received_total: "counter";
    /// Actions written to Botpress (table rows or webhook bodies accepted).
    actions_delivered_total: "counter";
    /// Delivery attempts that failed and will be retried.
    delivery_retries_total: "counter";
    /// Batches or rows Botpress refused for good, kept as dead letters in the spool.
    dead_lettered_total: "counter";
    /// Frames skipped: not JSON, wrong field types, or over the size limit.
    malformed_frames_total: "counter";
    /// Actions left out of their batch because they could not be read (the batch's others are
    /// delivered).
    skipped_actions_total: "counter";
    /// Frames larger than --max-frame-bytes, skipped while reading.
    oversized_frames_total: "counter";
    /// Frames with invalid UTF-8, read with the bad bytes replaced.
    invalid_utf8_frames_total: "counter";
    /// Batches in the durable spool, not yet delivered.
    spool_depth: "gauge";
    /// Bytes of batches in the spool.
    spool_bytes: "gauge";
    /// Failed writes to the spool (full disk, I/O errors); each is retried.
    storage_errors_total: "counter";
    /// Flushes to the Tables API that succeeded.
    flushes_total: "counter";
    /// Rows written by the last flush.
    last_flush_rows: "gauge";
    /// Rows written to Botpress tables (upserted).
    rows_written_total: "counter";
    /// Session rows read back from Botpress (their copy here was forgotten or lost).
    rows_read_back_total: "counter";
    /// Warnings Botpress returned with upserts (logged once per table).
    upsert_warnings_total: "counter";
    /// Times a new session's row was held back because the Botpress row quota is reached.
    rows_held_by_quota_total: "counter";
    /// Responses that said Botpress's rate limit was reached (429).
    rate_limited_total: "counter";
    /// Requests left in the current minute of the request budget.
    budget_remaining: "gauge";
    /// 1 while delivery is stopped by a configuration error (401/403/404).
    delivery_paused: "gauge";
    /// Summaries written (into session rows or the summary table).
    summaries_written_total: "counter";
    /// Connector summaries left out: their session id was sent by more than one user, or none.
    summaries_unattributed_total: "counter";
    /// User or session ids longer than 200 bytes, shortened to a prefix and a digest.
    ids_shortened_total: "counter";
    /// LLM calls that failed (their actions wait for the next try).
    llm_failures_total: "counter";
    /// Actions left out of summary prompts to keep memory bounded (an LLM outage); later
    /// prompts say how many were left out.
    summary_actions_dropped_total: "counter";
    /// Reconnections to the connector stream.
    reconnects_total: "counter";
    /// Reconnections because the stream went silent for --stream-idle-timeout.
    stream_idle_timeouts_total: "counter";
    /// Proactive triggers that fired (with --triggers-config).
    triggers_fired_total: "counter";
    /// Triggers that could not be delivered and were dropped.
    triggers_dropped_total: "counter";
    /// Triggers shed unsent, oldest first, because too many were waiting (per user or in total).
    triggers_shed_total: "counter";
    /// Nudge records (sent, outcome) shed before reaching their session rows: too many waited.
    nudge_records_shed_total: "counter";
    /// Signals that lost to a stronger one found at the same time (one nudge per evaluation).
    triggers_outranked_total: "counter";
    /// Nudges held back: the session had one within the pacing window.
    triggers_held_by_window_total: "counter";
    /// Nudges held back: the user was in a chat exchange.
    triggers_held_by_chat_total: "counter";
    /// Look-ups of a conversation's last messages that failed (the nudge went out without them;
    /// a reply check's outcome stays unknown).
    chat_lookup_failures_total: "counter";
    /// Nudges shown to the LLM judge (with an LLM and --triggers-config).
    judge_calls_total: "counter";
    /// Nudges the judge said not to send.
    judge_refusals_total: "counter";
    /// Judge calls that failed or timed out (`judge.onFailure` applied).
    judge_failures_total: "counter";
    /// Time spent waiting for the judge, summed; divided by the calls, the mean latency.
    judge_latency_ms_total: "counter";
}

/// Kinds of Botpress request, for the per-kind counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Upsert,
    Find,
    Delete,
    Table,
    Webhook,
    Trigger,
    /// A conversation's last messages (`listMessages`), read before a nudge and for its reply.
    Chat,
}

impl RequestKind {
    pub const ALL: [RequestKind; 7] = [
        RequestKind::Upsert,
        RequestKind::Find,
        RequestKind::Delete,
        RequestKind::Table,
        RequestKind::Webhook,
        RequestKind::Trigger,
        RequestKind::Chat,
    ];

    fn label(self) -> &'static str {
        match self {
            RequestKind::Upsert => "upsert",
            RequestKind::Find => "find",
            RequestKind::Delete => "delete",
            RequestKind::Table => "table",
            RequestKind::Webhook => "webhook",
            RequestKind::Trigger => "trigger",
            RequestKind::Chat => "chat",
        }
    }
}

fn kind_index(kind: SignalKind) -> usize {
    SignalKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default()
}

impl Metrics {
    /// Counts one outcome of a nudge about `kind`.
    pub fn nudge_outcome(&self, kind: SignalKind, outcome: Outcome) {
        self.nudge_outcomes[kind_index(kind)][outcome.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// How many nudges about `kind` had `outcome`.
    pub fn nudge_outcomes(&self, kind: SignalKind, outcome: Outcome) -> u64 {
        self.nudge_outcomes[kind_index(kind)][outcome.index()].load(Ordering::Relaxed)
    }

    /// Counts one request of `kind`.
    pub fn request(&self, kind: RequestKind) {
        self.requests[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests of `kind` so far.
    pub fn requests(&self, kind: RequestKind) -> u64 {
        self.requests[kind as usize].load(Ordering::Relaxed)
    }
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Sets a gauge.
pub fn set(gauge: &AtomicU64, value: u64) {
    gauge.store(value, Ordering::Relaxed);
}

/// What is wrong right now, for `/healthz`: the spool cannot write, or delivery is stopped.
#[derive(Debug, Default)]
pub struct Health {
    problems: Mutex<[Option<String>; 4]>,
}

/// The part of the streamer a problem is in.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    Storage = 0,
    Delivery = 1,
    /// The Botpress row quota holds new rows back (existing rows keep updating).
    Quota = 2,
    /// The spool file found at start was damaged (what was recovered, where the file went).
    Recovery = 3,
}

impl Health {
    /// Records a problem (`Some`) or its end (`None`).
    pub fn set(&self, part: Part, problem: Option<String>) {
        self.lock()[part as usize] = problem;
    }

    /// The current problems, one per line; empty when healthy.
    pub fn problems(&self) -> Vec<String> {
        self.lock().iter().flatten().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [Option<String>; 4]> {
        self.problems.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Serves `/healthz` (200 `ok`, or 503 with the problems) and `/metrics` until `cancel` fires,
/// as a task of `tasks`.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    cancel: CancellationToken,
    tasks: &TaskTracker,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route(
            "/healthz",
            get(move || {
                let problems = health.problems();
                async move {
                    if problems.is_empty() {
                        (StatusCode::OK, "ok\n".to_owned())
                    } else {
                        let text = problems.join("\n") + "\n";
                        (StatusCode::SERVICE_UNAVAILABLE, text)
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { metrics.render() }
            }),
        );
    tasks.spawn(async move {
        let shutdown = async move { cancel.cancelled().await };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(%err, "metrics server stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        add(&m.actions_received_total, 5);
        m.request(RequestKind::Upsert);
        let text = m.render();
        assert!(text.contains(
            "# HELP autoplay_botpress_actions_received_total Actions received from the connector.\n\
             # TYPE autoplay_botpress_actions_received_total counter\n\
             autoplay_botpress_actions_received_total 5\n"
        ));
        assert!(text.contains(
            "# TYPE autoplay_botpress_spool_depth gauge\nautoplay_botpress_spool_depth 0"
        ));
        assert!(text.contains("autoplay_botpress_botpress_requests_total{kind=\"upsert\"} 1\n"));
    }

    #[test]
    fn health_lists_current_problems() {
        let h = Health::default();
        assert!(h.problems().is_empty());
        h.set(Part::Storage, Some("disk full".into()));
        h.set(Part::Delivery, Some("401".into()));
        assert_eq!(h.problems(), ["disk full", "401"]);
        h.set(Part::Storage, None);
        assert_eq!(h.problems(), ["401"]);
    }
}
