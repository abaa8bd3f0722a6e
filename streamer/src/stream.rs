//! `autoplay-botpress stream`: wires the connector, spool, forwarder and summaries together.
//!
//! ```text
//!  SSE ──► connector ──► spool thread ──(+ fsync)──► dispatcher ──► one worker per session ──► webhook
//!              │            ▲  group commit                                   │
//!              │            └────────────── remove when settled ◄─────────────┘
//!              └──► summaries ──► LLM ──► Tables API upsert (one row per session)
//! ```

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::{mpsc, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::botpress::TablesClient;
use crate::config::StreamConfig;
use crate::connector::{Connector, Incoming};
use crate::forward::{self, Forwarder};
use crate::llm::LlmClient;
use crate::metrics::{self, Metrics};
use crate::prune;
use crate::secret::redact_url;
use crate::spool::{self, Spool, SpoolRequest};
use crate::summaries::{Summaries, SummaryInput};
use crate::triggers::{self, TriggerSink};

/// How long shutdown waits for in-flight deliveries before leaving them to the spool.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs until `cancel` fires (clean exit) or the stream fails fatally.
pub async fn run(config: StreamConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.state_dir).with_context(|| {
        format!(
            "cannot create the state directory {}",
            config.state_dir.display()
        )
    })?;
    let spool = Spool::open(&config.state_dir)?;
    let metrics = Arc::new(Metrics::default());
    let http = http_client_builder()
        .build()
        .context("cannot build the HTTP client")?;

    if let Some(addr) = config.metrics_addr {
        let bound = metrics::serve(addr, metrics.clone(), cancel.clone())
            .await
            .with_context(|| format!("cannot serve metrics on {addr}"))?;
        tracing::info!(%bound, "serving /healthz and /metrics");
    }

    // Spool thread: durable first, then on to delivery.
    let (spool_tx, spool_rx) = mpsc::channel::<SpoolRequest>(1024);
    let (deliver_tx, deliver_rx) = mpsc::channel(1024);
    let bound = Arc::new(Semaphore::new(config.max_queued));
    let spool_thread = {
        let (runtime, metrics) = (tokio::runtime::Handle::current(), metrics.clone());
        std::thread::Builder::new()
            .name("spool".into())
            .spawn(move || spool::run(runtime, spool, spool_rx, deliver_tx, bound, metrics))?
    };

    let forwarder = Arc::new(Forwarder {
        http: http.clone(),
        webhook: config.webhook_url.clone(),
        signing_secret: config.webhook_secret.clone(),
        spool: spool_tx.clone(),
        dead_letter_path: config.state_dir.join("dead-letter.jsonl"),
        max_retry_delay: config.max_retry_delay,
        metrics: metrics.clone(),
        cancel: cancel.clone(),
    });
    let dispatcher = tokio::spawn(forward::dispatch(forwarder, deliver_rx));

    let summaries_tx = start_summaries(&config, &http, &metrics, &cancel);
    if let (Some(keep), Some(botpress)) = (config.retention, &config.botpress) {
        tokio::spawn(prune::run_periodically(
            TablesClient::new(http.clone(), botpress.clone()),
            config.tables.events.clone(),
            keep,
            config.prune_every,
            cancel.clone(),
        ));
    }
    tracing::info!(
        webhook = %redact_url(&config.webhook_url.0),
        state_dir = %config.state_dir.display(),
        threshold = config.threshold,
        events_table = %config.tables.events,
        summary_table = %config.tables.summary,
        "streaming (the webhook workflow stores events in events_table)"
    );

    let triggers_tx = config.triggers.clone().map(|settings| {
        tracing::info!(file = %settings.path.display(), "proactive triggers on");
        let (tx, rx) = mpsc::channel(1024);
        let sink = TriggerSink {
            http: http.clone(),
            webhook: config.webhook_url.clone(),
            signing_secret: config.webhook_secret.clone(),
            metrics: metrics.clone(),
        };
        tokio::spawn(triggers::run(settings, sink, rx, cancel.clone()));
        tx
    });

    let connector = Connector {
        http,
        url: config.stream_url.clone(),
        token: config.token.clone(),
        max_frame_bytes: config.max_frame_bytes,
        metrics: metrics.clone(),
    };
    let result = connector
        .run(&cancel, |incoming| {
            let (spool_tx, summaries_tx) = (spool_tx.clone(), summaries_tx.clone());
            let triggers_tx = triggers_tx.clone();
            async move {
                match incoming {
                    Incoming::Actions(payload) => {
                        if let Some(tx) = &triggers_tx {
                            let _ = tx.send(payload.clone()).await;
                        }
                        if let Some(tx) = &summaries_tx {
                            let _ = tx.send(SummaryInput::Actions(payload.clone())).await;
                        }
                        let _ = spool_tx.send(SpoolRequest::Insert(payload)).await;
                    }
                    Incoming::Summary(summary) => {
                        if let Some(tx) = &summaries_tx {
                            let _ = tx.send(SummaryInput::Connector(summary)).await;
                        }
                    }
                }
            }
        })
        .await;

    // Shutdown: stop delivering (unsettled batches stay in the spool), then close the spool.
    cancel.cancel();
    drop(spool_tx);
    if tokio::time::timeout(SHUTDOWN_GRACE, dispatcher)
        .await
        .is_err()
    {
        tracing::warn!("deliveries still running at shutdown; they stay in the spool");
    }
    let spool_result = tokio::task::spawn_blocking(move || spool_thread.join())
        .await
        .ok()
        .and_then(|joined| joined.ok());
    match spool_result {
        Some(Ok(())) => {}
        Some(Err(err)) => return Err(err.into()),
        None => anyhow::bail!("the spool thread stopped unexpectedly"),
    }
    tracing::info!(
        received = metrics
            .actions_received_total
            .load(std::sync::atomic::Ordering::Relaxed),
        forwarded = metrics
            .actions_forwarded_total
            .load(std::sync::atomic::Ordering::Relaxed),
        "stopped"
    );
    result.map_err(Into::into)
}

/// The HTTP client settings every command shares: user agent, connect timeout.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("autoplay-botpress/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
}

fn start_summaries(
    config: &StreamConfig,
    http: &reqwest::Client,
    metrics: &Arc<Metrics>,
    cancel: &CancellationToken,
) -> Option<mpsc::Sender<SummaryInput>> {
    let Some(botpress) = config.botpress.clone() else {
        tracing::warn!("summaries are off: set --botpress-token and --bot-id to write them");
        return None;
    };
    if config.llm.is_none() {
        tracing::warn!("rolling summaries are off: set --openai-api-key (OPENAI_API_KEY) to turn them on; connector summaries are still written");
    }
    let (tx, rx) = mpsc::channel(1024);
    let summaries = Summaries {
        tables: TablesClient::new(http.clone(), botpress),
        llm: config
            .llm
            .clone()
            .map(|c| Arc::new(LlmClient::new(http.clone(), c))),
        table: config.tables.summary.clone(),
        threshold: config.threshold,
        metrics: metrics.clone(),
    };
    tokio::spawn(summaries.run(rx, cancel.clone()));
    Some(tx)
}
