//! The flags of each command (each with an environment variable, where it has one), as clap
//! parses them: unchecked text and numbers. [`super::resolve`] turns them into settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use autoplay_botpress::schema;
use clap::{Args, Subcommand};

use crate::layout::Layout;
use crate::nudges::NudgePath;
use crate::secret::Secret;
use crate::stream::Deliver;

/// Settings of `identity-token`.
#[derive(Debug, Args)]
pub struct IdentityTokenArgs {
    /// The Autoplay user id (the token's `sub`).
    #[arg(long)]
    pub user_id: String,

    /// The Autoplay session id (the token's `sid`), to scope the chat to this tab.
    #[arg(long)]
    pub session_id: Option<String>,

    /// How long the token is valid.
    #[arg(long, default_value = "1h")]
    pub ttl: humantime::Duration,
}

/// Where the Botpress Tables API is and which bot's tables to use.
#[derive(Debug, Args)]
pub struct BotpressArgs {
    /// Botpress personal access token or bot token (Tables API).
    #[arg(long, env = "BOTPRESS_TOKEN", hide_env_values = true)]
    pub botpress_token: Option<Secret>,

    /// Botpress bot id, from the Studio URL (Tables API).
    #[arg(long, env = "BOTPRESS_BOT_ID")]
    pub bot_id: Option<String>,

    /// Botpress API base URL.
    #[arg(
        long,
        env = "BOTPRESS_API_URL",
        default_value = "https://api.botpress.cloud"
    )]
    pub botpress_api_url: String,
}

/// Which tables hold the activity, and how.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// sessions: one row per session (summary, newest actions, signals): rows in use grow with
    /// sessions, not clicks. events: the guide's tables, one row per action plus one summary row
    /// per session.
    #[arg(long, value_enum, default_value_t = Layout::Sessions, env = "AUTOPLAY_BOTPRESS_LAYOUT")]
    pub layout: Layout,

    /// Table of the sessions layout (key column session_id).
    #[arg(long, default_value = schema::SESSIONS_TABLE)]
    pub sessions_table: String,

    /// Table of the events layout that holds one row per action (key column event_key).
    #[arg(long, default_value = schema::EVENTS_TABLE)]
    pub events_table: String,

    /// Table of the events layout that holds one summary row per session (key column
    /// session_id).
    #[arg(long, default_value = schema::SUMMARY_TABLE)]
    pub summary_table: String,

    /// Row size of the sessions table in 4 KB units (Botpress's table factor, set by `setup`):
    /// a larger row holds more actions but counts as that many rows against the plan's quota,
    /// and can only be raised later.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub row_factor: u8,
}

/// How nudges are delivered.
#[derive(Debug, Clone, Args)]
pub struct NudgeArgs {
    /// Where proactive triggers go: webhook (the card path) or plugin (bot messages, 0 billed
    /// events).
    #[arg(long, value_enum, default_value_t = NudgePath::Webhook, env = "AUTOPLAY_BOTPRESS_NUDGES")]
    pub nudges: NudgePath,

    /// With --nudges plugin: the plugin's alias in the bot (its tags are `<alias>#…`).
    #[arg(
        long,
        default_value = "autoplay",
        env = "AUTOPLAY_BOTPRESS_PLUGIN_ALIAS"
    )]
    pub plugin_alias: String,

    /// With --nudges plugin: how long a nudge for a user with no conversation waits for their
    /// next message before it is dropped.
    #[arg(long, default_value = "30m")]
    pub nudge_ttl: humantime::Duration,
}

/// The OpenAI-compatible LLM that writes summaries.
#[derive(Debug, Clone, Args)]
pub struct LlmArgs {
    /// API key of the OpenAI-compatible LLM; without it rolling summaries are off.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<Secret>,

    /// Base URL of the OpenAI-compatible chat completions API.
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,

    /// Model used for summaries.
    #[arg(long, env = "AUTOPLAY_SUMMARY_MODEL", default_value = "gpt-4o-mini")]
    pub model: String,
}

/// Settings of `setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub botpress: BotpressArgs,

    #[command(flatten)]
    pub tables: TableArgs,

    /// Print the requests instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
}

/// Settings of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub botpress: BotpressArgs,

    #[command(flatten)]
    pub tables: TableArgs,

    /// Keep rows newer than this (e.g. 24h, 7d, 90m).
    #[arg(long, default_value = "24h")]
    pub keep: humantime::Duration,
}

/// Settings of `demo`.
#[cfg(feature = "demo")]
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Without --openai-api-key, an offline deterministic summarizer stands in for the LLM.
    #[command(flatten)]
    pub llm: LlmArgs,

    /// Actions per summary (smaller than `stream`'s default so the short script shows a few).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub threshold: u32,

    /// Pause between scripted batches, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub pace_ms: u64,

    /// Where the demo's nudges go: plugin (the default: bot messages in the user's
    /// conversation, 0 billed events) or webhook (the card path's Trigger workflow).
    #[arg(long, value_enum, default_value_t = NudgePath::Plugin)]
    pub nudges: NudgePath,

    /// How the demo delivers: tables (the default, as `stream`) or webhook (the guide's path).
    #[arg(long, value_enum, default_value_t = Deliver::Tables)]
    pub deliver: Deliver,

    /// The tables layout the demo writes.
    #[arg(long, value_enum, default_value_t = Layout::Sessions)]
    pub layout: Layout,
}

/// Settings of `check`: those of `stream`, and the traffic to price.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub stream: StreamArgs,

    /// Users active at the same time, for the cost estimate.
    #[arg(long, default_value_t = 50)]
    pub users: u32,

    /// Actions per user per minute, for the cost estimate.
    #[arg(long, default_value_t = 6.0)]
    pub actions_per_minute: f64,
}

/// Settings of `dead-letters`.
#[derive(Debug, Args)]
pub struct DeadLettersArgs {
    #[command(subcommand)]
    pub action: DeadLetterAction,

    /// The streamer's state directory (whose spool.redb keeps the dead letters; stop `stream` first)
    /// [default: the user's data directory, e.g. ~/.local/share/autoplay-botpress]
    #[arg(long, env = "AUTOPLAY_BOTPRESS_STATE_DIR", global = true)]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DeadLetterAction {
    /// Print each dead letter: when, what, why.
    List,
    /// Send every dead letter again (rows to their table, bodies to the webhook); those
    /// accepted are removed from the file, the others stay.
    Retry(RetryArgs),
}

/// Where `dead-letters retry` sends.
#[derive(Debug, Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub botpress: BotpressArgs,

    #[command(flatten)]
    pub webhook: WebhookArgs,
}

/// The Botpress webhook, for `stream` and `dead-letters retry`.
#[derive(Debug, Args)]
pub struct WebhookArgs {
    /// Botpress webhook: receives every batch with `stream --deliver webhook`, proactive
    /// triggers, and the bodies `dead-letters retry` sends again.
    #[arg(long, env = "BOTPRESS_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<Secret>,

    /// Shared secret that signs every webhook body (header X-Connector-Signature:
    /// t=<unix>,v1=<HMAC>), as the autoplay-botpress integration verifies. Never sent itself
    /// unless --webhook-secret-header.
    #[arg(long, env = "BOTPRESS_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    /// Send the secret itself in the `x-bp-secret` header, instead of signing bodies: for the
    /// generic Botpress Webhook integration, which checks that header. The autoplay integration
    /// verifies signatures and needs no such header.
    #[arg(
        long,
        env = "BOTPRESS_WEBHOOK_SECRET_HEADER",
        requires = "webhook_secret"
    )]
    pub webhook_secret_header: bool,
}

/// Settings of `stream`. Tokens are read from flags or the environment and never printed.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// Autoplay connector stream, e.g. https://your-connector.onrender.com/stream/<product-id>
    #[arg(long, env = "AUTOPLAY_STREAM_URL")]
    pub stream_url: String,

    /// Autoplay (Unkey) API token; falls back to AUTOPLAY_APP_UNKEY_TOKEN.
    #[arg(long, env = "AUTOPLAY_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,

    /// tables: write rows with the Tables API (no billed Botpress events; needs the token and
    /// bot id). webhook: POST batches to --webhook-url (each POST is a billed event).
    #[arg(long, value_enum, default_value_t = Deliver::Tables, env = "AUTOPLAY_BOTPRESS_DELIVER")]
    pub deliver: Deliver,

    #[command(flatten)]
    pub webhook: WebhookArgs,

    #[command(flatten)]
    pub botpress: BotpressArgs,

    #[command(flatten)]
    pub tables: TableArgs,

    #[command(flatten)]
    pub llm: LlmArgs,

    #[command(flatten)]
    pub nudges: NudgeArgs,

    /// Actions per summary.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub threshold: u32,

    /// Where undelivered batches, the session rows last written and the dead letters are kept
    /// (spool.redb) [default: the user's data directory, e.g. ~/.local/share/autoplay-botpress]
    #[arg(long, env = "AUTOPLAY_BOTPRESS_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Serve /healthz and Prometheus /metrics on this address, e.g. 127.0.0.1:9464
    #[arg(long, env = "AUTOPLAY_BOTPRESS_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// How often changed rows are written (or webhook bodies sent): one flush carries
    /// everything new, in as few requests as possible.
    #[arg(long, default_value = "1s", env = "AUTOPLAY_BOTPRESS_FLUSH_EVERY")]
    pub flush_every: humantime::Duration,

    /// Most requests to Botpress in any minute (default half a bot's 600, leaving room for the
    /// bot's own calls). Falling behind makes flushes bigger, never the rate higher.
    #[arg(long, default_value_t = 300, env = "AUTOPLAY_BOTPRESS_MAX_RPM", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_requests_per_minute: u32,

    /// Batches held in memory between the stream and the spool before reading pauses.
    #[arg(long, default_value_t = 1_024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_queued: u32,

    /// Most undelivered batches kept, in MB as stored (compressed); when full, reading the stream
    /// pauses until delivery catches up. The spool file grows to at most about 4 × (this +
    /// twice the row copies + the dead letters) + 4 MB. Copies of the rows of sessions quiet for 30 minutes
    /// (less with --retention) are forgotten, and the file is compacted once it is more than
    /// twice what it holds plus 16 MB and, since the last compaction, has grown by a quarter or
    /// what it holds has halved.
    #[arg(long, default_value_t = 1_024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_spool_mb: u64,

    /// Most dead letters kept, in MB; past it the oldest go (with a warning).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_dead_letter_mb: u64,

    /// Longest wait between delivery retries, in milliseconds (backoff starts at 200–500).
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(200..=3_600_000))]
    pub max_retry_delay_ms: u64,

    /// Largest SSE frame accepted, in bytes (default 8 MiB: ~16,000 actions in the connector's
    /// shape, more than any real batch); larger frames are skipped while reading, and counted.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_frame_bytes: usize,

    /// Largest webhook body, in bytes (Botpress takes 128 KB per event): more is sent in
    /// several bodies.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(4_096..=10_000_000))]
    pub max_body_bytes: u64,

    /// Reconnect when the stream sends nothing, not even a heartbeat, for this long (the
    /// connector sends one every 30 s).
    #[arg(long, default_value = "60s")]
    pub stream_idle_timeout: humantime::Duration,

    /// Delete rows older than this while streaming (e.g. 24h): idle session rows, or events
    /// with --layout events; off when unset. Needs the Botpress token and bot id.
    #[arg(long, env = "AUTOPLAY_BOTPRESS_RETENTION")]
    pub retention: Option<humantime::Duration>,

    /// Proactive triggers: a JSON file of which signals fire, thresholds, cooldowns and
    /// messages (`{}` for the defaults); off when unset. Needs --webhook-url (or --nudges
    /// plugin). See README,
    /// "Proactive triggers".
    #[arg(long, env = "AUTOPLAY_BOTPRESS_TRIGGERS")]
    pub triggers_config: Option<PathBuf>,

    /// How often --retention prunes (the first run is at startup).
    #[arg(long, default_value = "1h")]
    pub prune_every: humantime::Duration,

    /// Also replace what this regular expression matches in page text by `[redacted]`
    /// (repeatable), on top of the built-in detectors of e-mails, phone numbers, cards, IBANs,
    /// keys, tokens and URL query strings.
    #[arg(long = "redact-pattern", value_name = "REGEX")]
    pub redact_patterns: Vec<String>,

    /// Empty this text field of every action before it leaves (repeatable).
    #[arg(long = "drop-field", value_enum, value_name = "FIELD")]
    pub drop_fields: Vec<crate::privacy::Field>,

    /// Send page text as it is, personal data included (a warning says so at every start).
    #[arg(long, env = "AUTOPLAY_BOTPRESS_NO_REDACT")]
    pub no_redact: bool,
}
