//! Counters of what the streamer did, and the optional `/healthz` + Prometheus `/metrics` server.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

macro_rules! metrics {
    ($($(#[doc = $doc:literal])* $name:ident: $kind:literal;)*) => {
        /// Process-wide counters and gauges, updated with relaxed atomics.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $($(#[doc = $doc])* pub $name: AtomicU64,)*
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
    /// Actions delivered to the Botpress webhook.
    actions_forwarded_total: "counter";
    /// Webhook delivery attempts that will be retried.
    forward_retries_total: "counter";
    /// Batches the webhook rejected for good, written to the dead-letter file.
    dead_lettered_total: "counter";
    /// Frames skipped: not JSON, wrong field types, or over the size limit.
    malformed_frames_total: "counter";
    /// Batches in the durable spool, not yet delivered.
    spool_depth: "gauge";
    /// Summary rows written to the summary table.
    summaries_written_total: "counter";
    /// LLM calls that failed (their actions wait for the next try).
    llm_failures_total: "counter";
    /// Reconnections to the connector stream.
    reconnects_total: "counter";
    /// Proactive triggers that fired (with --triggers-config).
    triggers_fired_total: "counter";
}

/// Adds `n` to a counter.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Serves `/healthz` and `/metrics` until `cancel` fires.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { metrics.render() }
            }),
        );
    tokio::spawn(async move {
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
        let text = m.render();
        assert!(text.contains(
            "# HELP autoplay_botpress_actions_received_total Actions received from the connector.\n\
             # TYPE autoplay_botpress_actions_received_total counter\n\
             autoplay_botpress_actions_received_total 5\n"
        ));
        assert!(text.contains(
            "# TYPE autoplay_botpress_spool_depth gauge\nautoplay_botpress_spool_depth 0"
        ));
    }
}
