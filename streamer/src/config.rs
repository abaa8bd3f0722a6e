//! Command-line flags (each with an environment variable) and their validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use reqwest::Url;

use crate::watch::{read_triggers_file, TriggerConfig};
use autoplay_botpress::schema;

use crate::secret::{Secret, SecretUrl};

/// Streams a product's live UI actions from Autoplay into a Botpress bot, with a rolling
/// LLM summary per session, so the bot's agent can help users mid-task.
#[derive(Debug, Parser)]
#[command(name = "autoplay-botpress", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Log format: readable lines, or one JSON object per line for log collectors.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "AUTOPLAY_BOTPRESS_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline offline on loopback with a scripted session, then print what the
    /// agent would receive, what it cost on Botpress and what became of the nudges. Needs no
    /// credentials; start here.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Create the layout's Botpress tables with their columns (idempotent: existing tables are
    /// kept).
    Setup(SetupArgs),
    /// Verify a real configuration end to end without changing anything, and print what it
    /// costs per hour on Botpress; exits non-zero on any failure. Takes the same settings as
    /// `stream`.
    Check(CheckArgs),
    /// Consume the Autoplay stream and write it into Botpress tables (or POST it to a webhook),
    /// with a rolling summary per session. Runs until SIGINT/SIGTERM.
    Stream(StreamArgs),
    /// Delete rows older than --keep: idle session rows (sessions layout) or old events (events
    /// layout). `stream --retention` does this periodically.
    Prune(PruneArgs),
    /// List or re-send what Botpress refused for good (the dead letters kept in the spool).
    DeadLetters(DeadLettersArgs),
    /// Print a signed, short-lived identity for a user (HS256 JWT), for the host app to pass to
    /// the webchat when the integration's identitySecret is set. The secret is read from
    /// AUTOPLAY_IDENTITY_SECRET.
    IdentityToken(IdentityTokenArgs),
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Layout {
    Sessions,
    Events,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deliver {
    /// Write rows with the Tables API: no billed Botpress events.
    Tables,
    /// POST every batch to a Botpress webhook (each POST is a billed event): for bots built on
    /// the guide's StoreEventsData.
    Webhook,
}

/// Where proactive triggers go (`--nudges`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NudgePath {
    /// POST each trigger to --webhook-url (one billed event each): for bots built on the
    /// guide's cards (the Trigger workflow).
    Webhook,
    /// Create each trigger as a bot message in the user's conversation through the Botpress
    /// API (no billed event), or leave it pending until they next write: for bots with the
    /// `autoplay` plugin. Needs --botpress-token and --bot-id.
    Plugin,
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

/// Checked [`NudgeArgs`].
#[derive(Debug, Clone)]
pub struct NudgeSettings {
    pub path: NudgePath,
    pub plugin_alias: String,
    pub ttl: Duration,
}

impl NudgeArgs {
    fn resolve(self) -> Result<NudgeSettings, ConfigError> {
        let alias = self.plugin_alias.trim();
        if alias.is_empty() || alias.contains(['#', ' ', '/', '?', '&']) {
            return Err(bad(
                "--plugin-alias (AUTOPLAY_BOTPRESS_PLUGIN_ALIAS)",
                "must be the plugin's alias in the bot, e.g. autoplay (no #, spaces or slashes)",
            ));
        }
        let ttl: Duration = self.nudge_ttl.into();
        if ttl.is_zero() {
            return Err(bad("--nudge-ttl", "must be longer than zero (e.g. 30m)"));
        }
        Ok(NudgeSettings {
            path: self.nudges,
            plugin_alias: alias.to_owned(),
            ttl,
        })
    }
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

impl LlmArgs {
    /// The LLM settings, or `None` without a key.
    pub fn resolve(self) -> Result<Option<LlmConfig>, ConfigError> {
        let Some(api_key) = self.openai_api_key else {
            return Ok(None);
        };
        if self.model.trim().is_empty() {
            return Err(bad("--model (AUTOPLAY_SUMMARY_MODEL)", "must not be empty"));
        }
        Ok(Some(LlmConfig {
            base_url: http_url("--openai-base-url (OPENAI_BASE_URL)", &self.openai_base_url)?,
            api_key,
            model: self.model.trim().to_owned(),
            timeout: Duration::from_secs(30),
        }))
    }
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

    /// Botpress webhook for dead-lettered bodies.
    #[arg(long, env = "BOTPRESS_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<Secret>,

    /// Secret that signs every body (as `stream --webhook-secret`).
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

    /// Botpress webhook: receives every batch with --deliver webhook, and proactive triggers.
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
    /// pauses until delivery catches up. The spool file stays under about 4 × (this + twice the
    /// row copies + the dead letters) + 4 MB. Copies of the rows of sessions quiet for 30 minutes
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

/// A setting that cannot be used, with the flag and variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

/// Credentials and location of the Botpress Tables API.
#[derive(Debug, Clone)]
pub struct BotpressConfig {
    pub api_url: Url,
    pub token: Secret,
    pub bot_id: String,
}

/// The OpenAI-compatible endpoint used for summaries.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub base_url: Url,
    pub api_key: Secret,
    pub model: String,
    pub timeout: Duration,
}

/// The webhook and the secret that signs its bodies.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: SecretUrl,
    pub secret: Option<Secret>,
    /// `--webhook-secret-header`: the secret as `x-bp-secret`, no signature.
    pub secret_header: bool,
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
    pub privacy: crate::privacy::Privacy,
}

/// The parsed `--triggers-config` file.
#[derive(Debug, Clone)]
pub struct TriggersSettings {
    pub path: PathBuf,
    pub config: TriggerConfig,
    /// Fields of an autoplay-sdk file that have no equivalent here (logged at start).
    pub notes: Vec<String>,
}

impl TriggersSettings {
    /// Reads and checks the file; the error names the file and the bad field.
    pub fn load(path: PathBuf) -> Result<Self, ConfigError> {
        let setting = "--triggers-config (AUTOPLAY_BOTPRESS_TRIGGERS)";
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?;
        let (config, notes) = read_triggers_file(&text)
            .map_err(|e| bad(setting, format!("{}: {e}", path.display())))?;
        Ok(Self {
            path,
            config,
            notes,
        })
    }
}

/// The layout and its tables.
#[derive(Debug, Clone)]
pub struct Tables {
    pub layout: Layout,
    pub sessions: String,
    pub events: String,
    pub summary: String,
    pub row_factor: u8,
}

impl TableArgs {
    /// Checks the table names.
    pub fn resolve(self) -> Result<Tables, ConfigError> {
        for (setting, name) in [
            ("--sessions-table", &self.sessions_table),
            ("--events-table", &self.events_table),
            ("--summary-table", &self.summary_table),
        ] {
            table_name(setting, name)?;
        }
        Ok(Tables {
            layout: self.layout,
            sessions: self.sessions_table,
            events: self.events_table,
            summary: self.summary_table,
            row_factor: self.row_factor,
        })
    }
}

impl BotpressArgs {
    /// The credentials: `None` when neither the token nor the bot id is set (an error when only
    /// one is).
    pub fn resolve(self) -> Result<Option<BotpressConfig>, ConfigError> {
        match (self.botpress_token, self.bot_id) {
            (Some(token), Some(bot_id)) if !bot_id.trim().is_empty() => Ok(Some(BotpressConfig {
                api_url: http_url("--botpress-api-url (BOTPRESS_API_URL)", &self.botpress_api_url)?,
                token,
                bot_id: bot_id.trim().to_owned(),
            })),
            (Some(_), _) => Err(bad(
                "--bot-id (BOTPRESS_BOT_ID)",
                "required with --botpress-token (the id in https://studio.botpress.cloud/<bot-id>/…)",
            )),
            (None, Some(_)) => Err(bad(
                "--botpress-token (BOTPRESS_TOKEN)",
                "required with --bot-id (Botpress → Account Settings → Access Tokens)",
            )),
            (None, None) => Ok(None),
        }
    }

    /// Like [`BotpressArgs::resolve`], for commands that cannot work without credentials.
    pub fn require(self) -> Result<BotpressConfig, ConfigError> {
        self.resolve()?.ok_or_else(|| {
            bad(
                "--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)",
                "both are required for this command",
            )
        })
    }
}

/// The state directory: the given one, or the user's data directory.
pub fn state_dir(given: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    match given {
        Some(dir) => Ok(dir),
        None => dirs::data_local_dir()
            .map(|d| d.join("autoplay-botpress"))
            .ok_or_else(|| {
                bad(
                    "--state-dir (AUTOPLAY_BOTPRESS_STATE_DIR)",
                    "no per-user data directory on this system; set one",
                )
            }),
    }
}

/// A webhook URL setting, checked.
pub fn webhook_url(url: &Secret) -> Result<SecretUrl, ConfigError> {
    http_url("--webhook-url (BOTPRESS_WEBHOOK_URL)", url.expose())
        .map(SecretUrl)
        .map_err(|e| bad(e.setting, "must be an http:// or https:// URL with a host"))
}

impl StreamConfig {
    /// Checks every setting; the error names the first bad one.
    pub fn from_args(args: StreamArgs) -> Result<Self, ConfigError> {
        let (stream_url, token) = stream_source(&args.stream_url, args.token)?;
        let webhook = match args.webhook_url {
            Some(url) => Some(WebhookConfig {
                url: webhook_url(&url)?,
                secret: args.webhook_secret,
                secret_header: args.webhook_secret_header,
            }),
            None => None,
        };
        let botpress = args.botpress.resolve()?;
        let triggers = args
            .triggers_config
            .map(TriggersSettings::load)
            .transpose()?;
        let nudges = args.nudges.resolve()?;
        check_destinations(
            args.deliver,
            &botpress,
            &webhook,
            triggers.as_ref().map(|_| nudges.path),
            &args.retention,
        )?;
        let flush_every: Duration = args.flush_every.into();
        let idle_timeout: Duration = args.stream_idle_timeout.into();
        check_limits(
            args.prune_every.into(),
            flush_every,
            idle_timeout,
            args.max_frame_bytes,
        )?;
        Ok(Self {
            stream_url,
            token,
            deliver: args.deliver,
            webhook,
            botpress,
            llm: args.llm.resolve()?,
            tables: args.tables.resolve()?,
            threshold: args.threshold as usize,
            state_dir: state_dir(args.state_dir)?,
            metrics_addr: args.metrics_addr,
            flush_every,
            max_requests_per_minute: args.max_requests_per_minute,
            max_queued: args.max_queued as usize,
            max_spool_bytes: args.max_spool_mb.saturating_mul(1 << 20),
            max_dead_letter_bytes: args.max_dead_letter_mb.saturating_mul(1 << 20),
            max_retry_delay: Duration::from_millis(args.max_retry_delay_ms),
            max_frame_bytes: args.max_frame_bytes,
            max_body_bytes: args.max_body_bytes as usize,
            idle_timeout,
            triggers,
            nudges,
            retention: args.retention.map(Into::into),
            prune_every: args.prune_every.into(),
            privacy: privacy(&args.redact_patterns, args.drop_fields, args.no_redact)?,
        })
    }
}

/// The stream's URL (`…/stream/<product-id>`, no credentials in it) and its token.
fn stream_source(url: &str, token: Option<Secret>) -> Result<(Url, Secret), ConfigError> {
    const STREAM_URL: &str = "--stream-url (AUTOPLAY_STREAM_URL)";
    let stream_url = http_url(STREAM_URL, url)?;
    let segments: Vec<_> = stream_url
        .path_segments()
        .map(|s| s.collect())
        .unwrap_or_default();
    if !matches!(segments.as_slice(), [.., "stream", id] if !id.is_empty()) {
        return Err(bad(STREAM_URL, "must end in /stream/<product-id>"));
    }
    if !stream_url.username().is_empty() || stream_url.password().is_some() {
        return Err(bad(
            STREAM_URL,
            "must not carry credentials (user:password@); pass the token with --token",
        ));
    }
    let token = match token {
        Some(token) => token,
        None => std::env::var("AUTOPLAY_APP_UNKEY_TOKEN")
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| {
                bad(
                    "--token (AUTOPLAY_TOKEN or AUTOPLAY_APP_UNKEY_TOKEN)",
                    "the Autoplay API token is required",
                )
            })?,
    };
    Ok((stream_url, token))
}

/// Every feature that sends somewhere has the endpoint it needs.
fn check_destinations(
    deliver: Deliver,
    botpress: &Option<BotpressConfig>,
    webhook: &Option<WebhookConfig>,
    nudges: Option<NudgePath>,
    retention: &Option<humantime::Duration>,
) -> Result<(), ConfigError> {
    match deliver {
        Deliver::Tables if botpress.is_none() => {
            return Err(bad(
                "--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)",
                "--deliver tables (the default) writes rows with the Tables API and needs both; \
                 or pass --deliver webhook with --webhook-url",
            ))
        }
        Deliver::Webhook if webhook.is_none() => {
            return Err(bad(
                "--webhook-url (BOTPRESS_WEBHOOK_URL)",
                "required with --deliver webhook",
            ))
        }
        _ => {}
    }
    match nudges {
        Some(NudgePath::Webhook) if webhook.is_none() => {
            return Err(bad(
                "--webhook-url (BOTPRESS_WEBHOOK_URL)",
                "proactive triggers (--triggers-config) are posted to the webhook: set its URL, \
                 or pass --nudges plugin",
            ))
        }
        Some(NudgePath::Plugin) if botpress.is_none() => {
            return Err(bad(
                "--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)",
                "--nudges plugin creates bot messages with the Botpress API and needs both",
            ))
        }
        _ => {}
    }
    if retention.is_some() && botpress.is_none() {
        return Err(bad(
            "--retention (AUTOPLAY_BOTPRESS_RETENTION)",
            "pruning needs --botpress-token and --bot-id",
        ));
    }
    Ok(())
}

/// The timing and size settings are within what the streamer can honour.
fn check_limits(
    prune_every: Duration,
    flush_every: Duration,
    idle_timeout: Duration,
    max_frame_bytes: usize,
) -> Result<(), ConfigError> {
    if prune_every < Duration::from_secs(1) {
        return Err(bad("--prune-every", "must be at least 1s"));
    }
    if flush_every < Duration::from_millis(100) || flush_every > Duration::from_secs(3600) {
        return Err(bad(
            "--flush-every (AUTOPLAY_BOTPRESS_FLUSH_EVERY)",
            "must be between 100ms and 1h",
        ));
    }
    if idle_timeout < Duration::from_secs(1) {
        return Err(bad("--stream-idle-timeout", "must be at least 1s"));
    }
    if max_frame_bytes < 1024 {
        return Err(bad("--max-frame-bytes", "must be at least 1024"));
    }
    Ok(())
}

/// What is removed from page text before it leaves: the built-in detectors (unless
/// `--no-redact`), the operator's patterns, and dropped fields.
fn privacy(
    patterns: &[String],
    drop: Vec<crate::privacy::Field>,
    no_redact: bool,
) -> Result<crate::privacy::Privacy, ConfigError> {
    let patterns = patterns
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| {
                bad(
                    "--redact-pattern",
                    format!("{p:?} is not a regular expression: {e}"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(crate::privacy::Privacy {
        redact: !no_redact,
        patterns,
        drop,
    })
}

fn http_url(setting: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim())
        .map_err(|err| bad(setting, format!("{:?} is not a URL ({err})", text.trim())))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(
            setting,
            "must be an http:// or https:// URL with a host",
        ));
    }
    Ok(url)
}

/// Botpress table names: a letter first, letters/digits/underscores, ending in "Table", ≤ 35.
fn table_name(setting: &'static str, name: &str) -> Result<(), ConfigError> {
    let ok = name.len() <= 35
        && name.ends_with("Table")
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(bad(
            setting,
            format!("{name:?} is not a Botpress table name (letters, digits, _; ends in \"Table\"; ≤ 35 characters)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `stream` with working defaults, each replaced by a flag of the same name in `extra`.
    fn args(extra: &[&str]) -> Result<StreamConfig, String> {
        let defaults = [
            ("--stream-url", "http://127.0.0.1:1/stream/p1"),
            ("--token", "t"),
            ("--botpress-token", "bp"),
            ("--bot-id", "b"),
            ("--state-dir", "/tmp/x"),
        ];
        let mut argv = vec!["autoplay-botpress", "stream"];
        for (flag, value) in defaults {
            if !extra.contains(&flag) {
                argv.extend([flag, value]);
            }
        }
        argv.extend_from_slice(extra);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Stream(a) = cli.command else {
            unreachable!("parsed the stream command")
        };
        StreamConfig::from_args(a).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_write_session_rows_in_budget() {
        let c = args(&[]).unwrap();
        assert_eq!(c.deliver, Deliver::Tables);
        assert_eq!(c.tables.layout, Layout::Sessions);
        assert_eq!(c.tables.sessions, "AutoPlaySessionsTable");
        assert_eq!(c.flush_every, Duration::from_secs(1));
        assert_eq!(c.max_requests_per_minute, 300);
        assert_eq!(c.idle_timeout, Duration::from_secs(60));
        assert!(c.llm.is_none() && c.webhook.is_none() && c.retention.is_none());
        assert_eq!(c.threshold, 10);
    }

    #[test]
    fn errors_name_the_setting() {
        assert!(args(&["--stream-url", "nope"])
            .unwrap_err()
            .starts_with("--stream-url (AUTOPLAY_STREAM_URL): \"nope\" is not a URL"));
        assert!(args(&["--stream-url", "http://h/other"])
            .unwrap_err()
            .contains("must end in /stream/<product-id>"));
        assert!(args(&["--stream-url", "http://u:p@h/stream/p"])
            .unwrap_err()
            .contains("must not carry credentials"));
        assert!(args(&["--botpress-token", "x", "--bot-id", ""])
            .unwrap_err()
            .starts_with("--bot-id (BOTPRESS_BOT_ID)"));
        assert!(args(&["--summary-table", "bad name"])
            .unwrap_err()
            .starts_with("--summary-table"));
        assert!(args(&["--threshold", "0"])
            .unwrap_err()
            .contains("--threshold"));
        assert!(args(&["--retention", "soon"])
            .unwrap_err()
            .contains("--retention"));
        assert!(
            args(&["--deliver", "webhook", "--webhook-url", "ftp://x/y"])
                .unwrap_err()
                .contains("http:// or https://")
        );
        assert!(args(&["--deliver", "webhook"])
            .unwrap_err()
            .contains("required with --deliver webhook"));
        assert!(args(&["--flush-every", "10ms"])
            .unwrap_err()
            .starts_with("--flush-every"));
        assert!(args(&["--row-factor", "11"])
            .unwrap_err()
            .contains("--row-factor"));
    }

    #[test]
    fn tables_delivery_needs_the_botpress_credentials() {
        let err = StreamConfig::from_args(
            match Cli::try_parse_from([
                "autoplay-botpress",
                "stream",
                "--stream-url",
                "http://h/stream/p",
                "--token",
                "t",
                "--state-dir",
                "/tmp/x",
            ])
            .unwrap()
            .command
            {
                Command::Stream(a) => a,
                _ => unreachable!("parsed the stream command"),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("--deliver tables (the default)"), "{err}");
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let c = args(&[
            "--botpress-token",
            "bp-secret",
            "--openai-api-key",
            "sk-secret",
            "--webhook-url",
            "http://127.0.0.1:2/hook-secret",
            "--webhook-secret",
            "whsec",
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in ["bp-secret", "sk-secret", "\"t\"", "hook-secret", "whsec"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
