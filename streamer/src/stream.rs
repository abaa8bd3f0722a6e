//! `autoplay-botpress stream`: wires the connector, spool, delivery, summaries and triggers.
//!
//! ```text
//!  SSE ─► connector ─(bounded)─► spool writer ─► redb ─► delivery ─(budget)─► Botpress
//!            │                                     ▲          │   tables: upserts of rows
//!            │                                     └ settle ◄─┘   webhook: coalesced POSTs
//!            ├─► summaries ─► LLM ─► inbox ─► (written with the next flush)
//!            └─► triggers ─(budget)─► webhook, or bot messages (--nudges plugin)
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::ValueEnum;
use reqwest::Url;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::botpress::{BotpressConfig, TablesClient};
use crate::budget::Budget;
use crate::connector::{Connector, Incoming};
use crate::deadletter::DeadLetters;
use crate::deliver::tables::{self, TablesDelivery};
use crate::deliver::webhook::WebhookDelivery;
use crate::deliver::{NudgeInbox, SummaryInbox};
use crate::judge::JudgeCall;
use crate::layout::{Layout, Tables};
use crate::llm::{LlmClient, LlmConfig};
use crate::messages::Messages;
use crate::metrics::{self, Health, Metrics};
use crate::nudges::{NudgePath, NudgeSettings, Nudges};
use crate::privacy::Privacy;
use crate::secret::{redact_url, Secret};
use crate::spool::{self, Spool, WriterConfig};
use crate::summaries::Summaries;
use crate::triggers::TriggersSettings;
use crate::webhook::{Webhook, WebhookConfig};
use crate::{http, prune, triggers};

/// Bytes of batches read from the stream and not yet on disk, at most.
const MAX_BYTES_IN_FLIGHT: usize = 16 << 20;
/// How long, once shutdown starts, a frame already read may wait for room in the spool.
const HANDOFF_GRACE: Duration = Duration::from_secs(2);
/// How long shutdown waits for each part before leaving what it holds to the spool.
const STOP_GRACE: Duration = Duration::from_secs(8);

/// How `stream` delivers what it reads (`--deliver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deliver {
    /// Write rows with the Tables API: no billed Botpress events.
    Tables,
    /// POST every batch to a Botpress webhook (each POST is a billed event): for bots built on
    /// the guide's StoreEventsData.
    Webhook,
}

/// Validated settings of `stream`.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub stream_url: Url,
    pub token: Secret,
    pub deliver: Deliver,
    /// Required with --deliver webhook and for triggers.
    pub webhook: Option<WebhookConfig>,
    /// Required with --deliver tables, summaries in webhook mode and retention.
    pub botpress: Option<BotpressConfig>,
    /// `None`: rolling summaries are off (no LLM key).
    pub llm: Option<LlmConfig>,
    pub tables: Tables,
    pub threshold: usize,
    pub state_dir: PathBuf,
    pub metrics_addr: Option<SocketAddr>,
    pub flush_every: Duration,
    pub max_requests_per_minute: u32,
    pub max_queued: usize,
    pub max_spool_bytes: u64,
    pub max_dead_letter_bytes: u64,
    pub max_retry_delay: Duration,
    pub max_frame_bytes: usize,
    pub max_body_bytes: usize,
    pub idle_timeout: Duration,
    /// `Some`: watch sessions for friction and post triggers.
    pub triggers: Option<TriggersSettings>,
    /// Where the triggers go.
    pub nudges: NudgeSettings,
    /// `Some`: prune rows older than this every `prune_every`.
    pub retention: Option<Duration>,
    pub prune_every: Duration,
    pub privacy: Privacy,
}

/// Runs until `cancel` fires (clean exit) or the stream fails fatally.
pub async fn run(config: StreamConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    run_counted(config, cancel, Arc::default()).await
}

/// [`run`], counting into `metrics` (the demo reads them afterwards).
pub async fn run_counted(
    config: StreamConfig,
    cancel: CancellationToken,
    metrics: Arc<Metrics>,
) -> anyhow::Result<()> {
    crate::private::create_dir(&config.state_dir).with_context(|| {
        format!(
            "cannot create the state directory {}",
            config.state_dir.display()
        )
    })?;
    // Every task but delivery (awaited by its handle, stopped last).
    let tasks = TaskTracker::new();
    let parts = Parts::new(&config, &cancel, &tasks, metrics).await?;

    let (insert_tx, insert_rx) = mpsc::channel(config.max_queued);
    let writer_stop = CancellationToken::new();
    let writer_config = WriterConfig {
        max_bytes: config.max_spool_bytes,
        max_letter_bytes: config.max_dead_letter_bytes,
        forget_rows_after: tables::forget_rows_after(config.retention),
        metrics: parts.metrics.clone(),
        health: parts.health.clone(),
    };
    let spool = Arc::new(Spool::open(&config.state_dir)?);
    let (spool_handle, writer) =
        spool::start(spool, insert_rx, writer_config, writer_stop.clone())?;
    let mut written = spool_handle.written();
    let first_new_seq = *written.borrow_and_update();

    let delivery_stop = CancellationToken::new();
    let delivery = start_delivery(&config, &parts, spool_handle, delivery_stop.clone())?;
    let summaries = start_summaries(&config, &parts, &cancel, &tasks);
    let triggers = start_triggers(&config, &parts, &cancel, &tasks);
    start_upkeep(&config, &parts, &cancel, &tasks);
    announce(&config);

    let connector = Connector {
        http: parts.http.clone(),
        url: config.stream_url.clone(),
        token: config.token.clone(),
        max_frame_bytes: config.max_frame_bytes,
        idle_timeout: config.idle_timeout,
        metrics: parts.metrics.clone(),
        privacy: config.privacy.clone(),
    };
    let handoff = SpoolHandoff {
        memory: Arc::new(Semaphore::new(MAX_BYTES_IN_FLIGHT)),
        inserts: insert_tx,
        summaries,
        triggers,
        cancel: cancel.clone(),
        handed: AtomicU64::new(0),
        lost: AtomicU64::new(0),
    };
    let result = connector.run(&cancel, &handoff).await;

    cancel.cancel();
    let running = Running {
        written,
        first_new_seq,
        tasks,
        delivery,
        delivery_stop,
        writer,
        writer_stop,
    };
    running.stop(handoff, &parts.metrics).await?;
    result.map_err(Into::into)
}

/// The parts shutdown waits for once the reader has stopped.
struct Running {
    /// The spool's last stored sequence number, and the first of this run.
    written: watch::Receiver<u64>,
    first_new_seq: u64,
    /// Summaries, triggers, upkeep and the metrics server: they stop on `cancel`.
    tasks: TaskTracker,
    delivery: tokio::task::JoinHandle<()>,
    delivery_stop: CancellationToken,
    writer: std::thread::JoinHandle<Result<(), spool::SpoolError>>,
    writer_stop: CancellationToken,
}

impl Running {
    /// The writer stores what the reader handed it, the other tasks finish (triggers already
    /// fired are posted, summaries ready reach the inbox), delivery flushes once more, the writer
    /// finishes; each step bounded so a broken disk or a hanging Botpress cannot hold it.
    async fn stop(mut self, handoff: SpoolHandoff, metrics: &Metrics) -> anyhow::Result<()> {
        let (handed, lost) = (
            handoff.handed.load(Ordering::Relaxed),
            handoff.lost.load(Ordering::Relaxed),
        );
        drop(handoff); // closes the spool's input
        let stored_until = self.first_new_seq + handed;
        let written = &mut self.written;
        let _ = tokio::time::timeout(STOP_GRACE, async {
            while *written.borrow_and_update() < stored_until {
                if written.changed().await.is_err() {
                    break;
                }
            }
        })
        .await;
        self.tasks.close();
        if tokio::time::timeout(STOP_GRACE, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("summaries, triggers or upkeep did not stop in time; left unfinished");
        }
        self.delivery_stop.cancel();
        if tokio::time::timeout(STOP_GRACE, self.delivery)
            .await
            .is_err()
        {
            tracing::warn!("delivery did not stop in time; what it held stays in the spool");
        }
        self.writer_stop.cancel();
        let writer = self.writer;
        let writer_result = tokio::task::spawn_blocking(move || writer.join())
            .await
            .ok()
            .and_then(|joined| joined.ok());
        if lost > 0 {
            tracing::error!(
                batches = lost,
                "batches read from the stream could not be stored before shutdown (the spool was full or failing)"
            );
        }
        tracing::info!(
            received = metrics.actions_received_total.load(Ordering::Relaxed),
            delivered = metrics.actions_delivered_total.load(Ordering::Relaxed),
            stored = handed,
            "stopped"
        );
        match writer_result {
            Some(Ok(())) => Ok(()),
            Some(Err(err)) => Err(err.into()),
            None => anyhow::bail!("the spool thread stopped unexpectedly"),
        }
    }
}

/// What the tasks of a run share: one HTTP client, one request budget, the metrics and health
/// every part reports to, and the Botpress endpoints the settings name.
struct Parts {
    http: reqwest::Client,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    tables: Option<TablesClient>,
    webhook: Option<Webhook>,
    dead_letters: Arc<DeadLetters>,
    inbox: Arc<SummaryInbox>,
    /// Nudges sent and their outcomes, on their way to the session rows.
    nudge_records: Arc<NudgeInbox>,
}

impl Parts {
    async fn new(
        config: &StreamConfig,
        cancel: &CancellationToken,
        tasks: &TaskTracker,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let health = Arc::new(Health::default());
        let http = http::client_builder()
            .build()
            .context("cannot build the HTTP client")?;
        let budget = Arc::new(Budget::new(config.max_requests_per_minute, metrics.clone()));
        if let Some(addr) = config.metrics_addr {
            let bound =
                metrics::serve(addr, metrics.clone(), health.clone(), cancel.clone(), tasks)
                    .await
                    .with_context(|| format!("cannot serve metrics on {addr}"))?;
            tracing::info!(%bound, "serving /healthz and /metrics");
        }
        let tables = config
            .botpress
            .clone()
            .map(|b| TablesClient::new(http.clone(), b, budget.clone(), metrics.clone()));
        let webhook = config.webhook.clone().map(|config| Webhook {
            http: http.clone(),
            config,
            budget: budget.clone(),
            metrics: metrics.clone(),
        });
        let dead_letters = Arc::new(DeadLetters::default());
        Ok(Self {
            http,
            metrics,
            health,
            tables,
            webhook,
            dead_letters,
            inbox: Arc::new(SummaryInbox::default()),
            nudge_records: Arc::new(NudgeInbox::default()),
        })
    }
}

/// Starts delivery from the spool to Botpress: table upserts, or webhook POSTs.
fn start_delivery(
    config: &StreamConfig,
    parts: &Parts,
    spool: spool::SpoolHandle,
    stop: CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    match (config.deliver, &parts.tables, &parts.webhook) {
        (Deliver::Tables, Some(client), _) => {
            let layout = match config.tables.layout {
                Layout::Sessions => tables::Layout::Sessions {
                    table: config.tables.sessions.clone(),
                    row_bytes: autoplay_botpress::session_row::row_budget(config.tables.row_factor),
                },
                Layout::Events => tables::Layout::Events {
                    events: config.tables.events.clone(),
                    summary: config.tables.summary.clone(),
                },
            };
            let delivery = TablesDelivery {
                client: client.clone(),
                layout,
                spool,
                summaries: parts.inbox.clone(),
                nudges: parts.nudge_records.clone(),
                dead_letters: parts.dead_letters.clone(),
                flush_every: config.flush_every,
                max_retry_delay: config.max_retry_delay,
                forget_after: tables::forget_rows_after(config.retention),
                signals: config
                    .triggers
                    .as_ref()
                    .map(|t| t.config.signals.clone())
                    .unwrap_or_default(),
                metrics: parts.metrics.clone(),
                health: parts.health.clone(),
            };
            Ok(tokio::spawn(delivery.run(stop)))
        }
        (Deliver::Webhook, _, Some(webhook)) => {
            let delivery = WebhookDelivery {
                webhook: webhook.clone(),
                spool,
                dead_letters: parts.dead_letters.clone(),
                flush_every: config.flush_every,
                max_retry_delay: config.max_retry_delay,
                max_body_bytes: config.max_body_bytes,
                max_queued: 20_000,
                max_requests_per_minute: config.max_requests_per_minute,
                summary_table: parts
                    .tables
                    .clone()
                    .map(|c| (c, config.tables.summary.clone())),
                summaries: parts.inbox.clone(),
                metrics: parts.metrics.clone(),
                health: parts.health.clone(),
            };
            Ok(tokio::spawn(delivery.run(stop)))
        }
        _ => anyhow::bail!("delivery is not configured (a bug: the settings were checked)"),
    }
}

/// Starts the trigger watcher when a triggers file and the endpoint of `--nudges` are set.
fn start_triggers(
    config: &StreamConfig,
    parts: &Parts,
    cancel: &CancellationToken,
    tasks: &TaskTracker,
) -> Option<mpsc::Sender<autoplay_botpress::ActionsPayload>> {
    let settings = config.triggers.as_ref()?;
    let nudges = match config.nudges.path {
        NudgePath::Webhook => Nudges::Webhook(parts.webhook.clone()?),
        NudgePath::Plugin => Nudges::Plugin {
            budget: parts.tables.as_ref()?.budget().clone(),
            messages: Messages::new(
                parts.tables.clone()?.single_attempt(),
                &config.nudges.plugin_alias,
            ),
            bot_id: config.botpress.as_ref()?.bot_id.clone(),
            ttl: config.nudges.ttl,
            pacing: settings.config.pacing.clone(),
            metrics: parts.metrics.clone(),
        },
    };
    tracing::info!(file = %settings.path.display(), nudges = ?config.nudges.path, "proactive triggers on");
    let (tx, rx) = mpsc::channel(4_096);
    let judge = config.llm.clone().map(|llm| JudgeCall {
        llm: Arc::new(LlmClient::new(parts.http.clone(), llm)),
        settings: settings.config.judge,
        metrics: parts.metrics.clone(),
    });
    // Only session rows have a column for them.
    let records = (config.deliver == Deliver::Tables && config.tables.layout == Layout::Sessions)
        .then(|| parts.nudge_records.clone());
    tasks.spawn(triggers::run(
        settings.clone(),
        nudges,
        judge,
        records,
        rx,
        cancel.clone(),
    ));
    Some(tx)
}

/// Starts the periodic chores: pruning (`--retention`), and the events layout's row report.
fn start_upkeep(
    config: &StreamConfig,
    parts: &Parts,
    cancel: &CancellationToken,
    tasks: &TaskTracker,
) {
    if let (Some(keep), Some(client)) = (config.retention, &parts.tables) {
        tasks.spawn(prune::run_periodically(
            client.clone(),
            config.tables.clone(),
            keep,
            config.prune_every,
            cancel.clone(),
        ));
    }
    if config.tables.layout == Layout::Events && config.deliver == Deliver::Tables {
        tasks.spawn(report_rows_per_hour(
            parts.metrics.clone(),
            config.retention,
            cancel.clone(),
        ));
    }
}

/// Where the reader's payloads go: the spool (waiting for room, within the memory bound), and,
/// without waiting, the summaries and the trigger watcher.
struct SpoolHandoff {
    memory: Arc<Semaphore>,
    inserts: mpsc::Sender<spool::Incoming>,
    summaries: Option<mpsc::Sender<Incoming>>,
    triggers: Option<mpsc::Sender<autoplay_botpress::ActionsPayload>>,
    cancel: CancellationToken,
    /// Batches handed to the spool writer, and batches lost at shutdown (no room).
    handed: AtomicU64,
    lost: AtomicU64,
}

impl crate::connector::Handoff for SpoolHandoff {
    async fn hand(&self, incoming: &Incoming) {
        let batch = match incoming {
            Incoming::Actions(batch) => batch,
            Incoming::Summary(_) => return self.pass_on(incoming),
        };
        // Room first (cancel-safe); then everything below happens without waiting.
        let grace = async {
            self.cancel.cancelled().await;
            tokio::time::sleep(HANDOFF_GRACE).await;
        };
        let room = async {
            let permit = self
                .memory
                .clone()
                .acquire_many_owned(estimate_bytes(batch))
                .await
                .ok()?;
            let slot = self.inserts.reserve().await.ok()?;
            Some((permit, slot))
        };
        let Some((permit, slot)) = (tokio::select! {
            biased;
            room = room => room,
            _ = grace => None,
        }) else {
            self.lost.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if let Some(tx) = &self.triggers {
            let _ = tx.try_send(batch.clone());
        }
        self.pass_on(incoming);
        slot.send(spool::Incoming {
            batch: batch.clone(),
            _permit: permit,
        });
        self.handed.fetch_add(1, Ordering::Relaxed);
    }
}

impl SpoolHandoff {
    /// Gives a payload to the summaries task without waiting (a full queue skips the summary).
    fn pass_on(&self, incoming: &Incoming) {
        if let Some(tx) = &self.summaries {
            if tx.try_send(incoming.clone()).is_err() {
                tracing::warn!("the summaries queue is full; a batch is left out of its summary");
            }
        }
    }
}

/// About how much memory a batch takes until it is written, in bytes (the semaphore's unit).
fn estimate_bytes(batch: &autoplay_botpress::ActionsPayload) -> u32 {
    let actions: usize = batch
        .actions
        .iter()
        .map(|a| {
            256 + a.title.len() + a.description.len() + a.canonical_url.len() + a.raw_url.len()
        })
        .sum();
    (512 + actions).min(MAX_BYTES_IN_FLIGHT) as u32
}

fn announce(config: &StreamConfig) {
    if !config.privacy.redact {
        let warning = "--no-redact: personal data in page text (e-mail addresses, phone numbers, \
                       card numbers, IBANs, tokens, URL query strings) goes to Botpress and the LLM \
                       as it is";
        eprintln!("WARNING: {warning}");
        tracing::warn!("{warning}");
    }
    let webhook = config
        .webhook
        .as_ref()
        .map_or_else(|| "none".to_owned(), |w| redact_url(&w.url.0));
    match config.deliver {
        Deliver::Tables => {
            let tables = match config.tables.layout {
                Layout::Sessions => config.tables.sessions.clone(),
                Layout::Events => {
                    format!("{} + {}", config.tables.events, config.tables.summary)
                }
            };
            tracing::info!(
                layout = ?config.tables.layout,
                %tables,
                flush_every = %humantime::format_duration(config.flush_every),
                max_requests_per_minute = config.max_requests_per_minute,
                triggers_webhook = %webhook,
                state_dir = %config.state_dir.display(),
                "streaming into Botpress tables (Tables API: no billed events)"
            );
        }
        Deliver::Webhook => tracing::info!(
            %webhook,
            flush_every = %humantime::format_duration(config.flush_every),
            max_requests_per_minute = config.max_requests_per_minute,
            state_dir = %config.state_dir.display(),
            "streaming to the Botpress webhook (each POST is a billed Botpress event)"
        ),
    }
    if config.tables.layout == Layout::Events
        && config.deliver == Deliver::Tables
        && config.retention.is_none()
    {
        tracing::warn!("the events layout writes one row per action and --retention is not set: the events table grows without end and will pass the plan's row quota");
    }
}

/// With the events layout: after the first minute, and hourly, states the rows per hour being
/// created at the current rate.
async fn report_rows_per_hour(
    metrics: Arc<Metrics>,
    retention: Option<Duration>,
    cancel: CancellationToken,
) {
    let mut last = 0;
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = cancel.cancelled() => return,
        }
        let now = metrics.actions_received_total.load(Ordering::Relaxed);
        let per_hour = (now - last) as f64 * 3_600.0 / wait.as_secs_f64();
        last = now;
        match retention {
            Some(keep) => tracing::info!(
                rows_per_hour = per_hour as u64,
                rows_in_use = (per_hour * keep.as_secs_f64() / 3_600.0) as u64,
                "events layout: rows created at the current rate, and rows kept with --retention"
            ),
            None => tracing::warn!(
                rows_per_hour = per_hour as u64,
                "events layout: rows created at the current rate, kept forever (no --retention)"
            ),
        }
        wait = Duration::from_secs(3_600);
    }
}

/// Starts the rolling summaries (or says why they are off).
fn start_summaries(
    config: &StreamConfig,
    parts: &Parts,
    cancel: &CancellationToken,
    tasks: &TaskTracker,
) -> Option<mpsc::Sender<Incoming>> {
    if config.deliver == Deliver::Webhook && parts.tables.is_none() {
        tracing::warn!("summaries are off: with --deliver webhook they go to the summary table; set --botpress-token and --bot-id");
        return None;
    }
    if config.llm.is_none() {
        tracing::warn!("rolling summaries are off: set --openai-api-key (OPENAI_API_KEY) to turn them on; the connector's summaries are still written");
    }
    let (tx, rx) = mpsc::channel(8_192);
    let summaries = Summaries {
        llm: config
            .llm
            .clone()
            .map(|c| Arc::new(LlmClient::new(parts.http.clone(), c))),
        inbox: parts.inbox.clone(),
        threshold: config.threshold,
        metrics: parts.metrics.clone(),
    };
    tasks.spawn(summaries.run(rx, cancel.clone()));
    Some(tx)
}
