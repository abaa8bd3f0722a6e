//! Command-line flags (each with an environment variable) and their validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use reqwest::Url;

use autoplay_botpress::schema;
use autoplay_botpress::triggers::TriggerConfig;

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
    /// agent would receive. Needs no credentials; start here.
    Demo(DemoArgs),
    /// Create both Botpress tables with their columns (idempotent: existing tables are kept).
    Setup(SetupArgs),
    /// Verify a real configuration end to end without changing anything; exits non-zero on any
    /// failure. Takes the same settings as `stream`.
    Check(StreamArgs),
    /// Consume the Autoplay stream and forward every batch to the Botpress webhook, keeping a
    /// rolling summary per session in the summary table. Runs until SIGINT/SIGTERM.
    Stream(StreamArgs),
    /// Delete events older than --keep from the events table (keeps it under the plan's row
    /// limit; `stream --retention` does this periodically).
    Prune(PruneArgs),
}

/// Where the Botpress Tables API is and which tables to use.
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

    /// Table that holds one row per action.
    #[arg(long, default_value = schema::EVENTS_TABLE)]
    pub events_table: String,

    /// Table that holds one summary row per session (key column session_id).
    #[arg(long, default_value = schema::SUMMARY_TABLE)]
    pub summary_table: String,
}

/// The OpenAI-compatible LLM that writes summaries.
#[derive(Debug, Args)]
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

    /// Print the requests instead of sending them.
    #[arg(long)]
    pub dry_run: bool,
}

/// Settings of `prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub botpress: BotpressArgs,

    /// Keep events newer than this (e.g. 24h, 7d, 90m).
    #[arg(long, default_value = "24h")]
    pub keep: humantime::Duration,
}

/// Settings of `demo`.
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

    /// Botpress Webhook integration URL that receives every batch.
    #[arg(long, env = "BOTPRESS_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Secret,

    /// Shared secret that signs every webhook body (header X-Connector-Signature:
    /// sha256=<HMAC>), as the autoplay-botpress integration verifies.
    #[arg(long, env = "BOTPRESS_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    #[command(flatten)]
    pub botpress: BotpressArgs,

    #[command(flatten)]
    pub llm: LlmArgs,

    /// Actions per summary.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub threshold: u32,

    /// Where undelivered batches and the dead-letter file are kept
    /// [default: the user's data directory, e.g. ~/.local/share/autoplay-botpress]
    #[arg(long, env = "AUTOPLAY_BOTPRESS_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Serve /healthz and Prometheus /metrics on this address, e.g. 127.0.0.1:9464
    #[arg(long, env = "AUTOPLAY_BOTPRESS_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,

    /// Batches held in memory awaiting delivery before reading the stream pauses.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_queued: u32,

    /// Longest wait between webhook delivery retries, in milliseconds (backoff starts at 200).
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(200..=3_600_000))]
    pub max_retry_delay_ms: u64,

    /// Largest SSE frame accepted, in bytes; larger frames are skipped and counted.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_frame_bytes: usize,

    /// Delete events older than this from the events table while streaming (e.g. 24h); off
    /// when unset. Needs the Botpress token and bot id.
    #[arg(long, env = "AUTOPLAY_BOTPRESS_RETENTION")]
    pub retention: Option<humantime::Duration>,

    /// Proactive triggers: a JSON file of which signals fire, thresholds, cooldowns and
    /// messages (`{}` for the defaults); off when unset. See README, "Proactive triggers".
    #[arg(long, env = "AUTOPLAY_BOTPRESS_TRIGGERS")]
    pub triggers_config: Option<PathBuf>,

    /// How often --retention prunes (the first run is at startup).
    #[arg(long, default_value = "1h")]
    pub prune_every: humantime::Duration,
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

/// Validated settings of `stream`.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    pub stream_url: Url,
    pub token: Secret,
    pub webhook_url: SecretUrl,
    pub webhook_secret: Option<Secret>,
    /// `None`: summaries are off (no Botpress credentials).
    pub botpress: Option<BotpressConfig>,
    /// `None`: summaries are off (no LLM key).
    pub llm: Option<LlmConfig>,
    pub tables: Tables,
    pub threshold: usize,
    pub state_dir: PathBuf,
    pub metrics_addr: Option<SocketAddr>,
    pub max_queued: usize,
    pub max_retry_delay: Duration,
    pub max_frame_bytes: usize,
    /// `Some`: watch sessions for friction and post triggers.
    pub triggers: Option<TriggersSettings>,
    /// `Some`: prune events older than this every `prune_every`.
    pub retention: Option<Duration>,
    pub prune_every: Duration,
}

/// The parsed `--triggers-config` file.
#[derive(Debug, Clone)]
pub struct TriggersSettings {
    pub path: PathBuf,
    pub config: TriggerConfig,
}

impl TriggersSettings {
    /// Reads and checks the file; the error names the file and the bad field.
    pub fn load(path: PathBuf) -> Result<Self, ConfigError> {
        let setting = "--triggers-config (AUTOPLAY_BOTPRESS_TRIGGERS)";
        let text = std::fs::read_to_string(&path)
            .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?;
        let config = autoplay_botpress::error::decode_json::<TriggerConfig>("triggers", &text)
            .map_err(|e| bad(setting, format!("{}: {e}", path.display())))?;
        Ok(Self { path, config })
    }
}

/// Names of the two tables.
#[derive(Debug, Clone)]
pub struct Tables {
    pub events: String,
    pub summary: String,
}

impl BotpressArgs {
    /// Checks the settings: the credentials are `None` when neither the token nor the bot id is
    /// set (an error when only one is), and the table names must be valid.
    pub fn resolve(self) -> Result<(Option<BotpressConfig>, Tables), ConfigError> {
        for (setting, name) in [
            ("--events-table", &self.events_table),
            ("--summary-table", &self.summary_table),
        ] {
            table_name(setting, name)?;
        }
        let tables = Tables {
            events: self.events_table,
            summary: self.summary_table,
        };
        let botpress = match (self.botpress_token, self.bot_id) {
            (Some(token), Some(bot_id)) if !bot_id.trim().is_empty() => Some(BotpressConfig {
                api_url: http_url("--botpress-api-url (BOTPRESS_API_URL)", &self.botpress_api_url)?,
                token,
                bot_id: bot_id.trim().to_owned(),
            }),
            (Some(_), _) => {
                return Err(bad(
                    "--bot-id (BOTPRESS_BOT_ID)",
                    "required with --botpress-token (the id in https://studio.botpress.cloud/<bot-id>/…)",
                ))
            }
            (None, Some(_)) => {
                return Err(bad(
                    "--botpress-token (BOTPRESS_TOKEN)",
                    "required with --bot-id (Botpress → Account Settings → Access Tokens)",
                ))
            }
            (None, None) => None,
        };
        Ok((botpress, tables))
    }

    /// Like [`BotpressArgs::resolve`], for commands that cannot work without credentials.
    pub fn require(self) -> Result<(BotpressConfig, Tables), ConfigError> {
        match self.resolve()? {
            (Some(botpress), tables) => Ok((botpress, tables)),
            (None, _) => Err(bad(
                "--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)",
                "both are required for this command",
            )),
        }
    }
}

impl StreamConfig {
    /// Checks every setting; the error names the first bad one.
    pub fn from_args(args: StreamArgs) -> Result<Self, ConfigError> {
        let stream_url = http_url("--stream-url (AUTOPLAY_STREAM_URL)", &args.stream_url)?;
        let segments: Vec<_> = stream_url
            .path_segments()
            .map(|s| s.collect())
            .unwrap_or_default();
        if !matches!(segments.as_slice(), [.., "stream", id] if !id.is_empty()) {
            return Err(bad(
                "--stream-url (AUTOPLAY_STREAM_URL)",
                "must end in /stream/<product-id>",
            ));
        }
        let token = match args.token {
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
        let webhook_url = SecretUrl(
            http_url(
                "--webhook-url (BOTPRESS_WEBHOOK_URL)",
                args.webhook_url.expose(),
            )
            .map_err(|e| bad(e.setting, "must be an http:// or https:// URL with a host"))?,
        );
        let (botpress, tables) = args.botpress.resolve()?;
        if args.retention.is_some() && botpress.is_none() {
            return Err(bad(
                "--retention (AUTOPLAY_BOTPRESS_RETENTION)",
                "pruning needs --botpress-token and --bot-id",
            ));
        }
        if args.prune_every.as_secs() < 1 {
            return Err(bad("--prune-every", "must be at least 1s"));
        }
        let llm = args.llm.resolve()?;
        let state_dir = match args.state_dir {
            Some(dir) => dir,
            None => dirs::data_local_dir()
                .map(|d| d.join("autoplay-botpress"))
                .ok_or_else(|| {
                    bad(
                        "--state-dir (AUTOPLAY_BOTPRESS_STATE_DIR)",
                        "no per-user data directory on this system; set one",
                    )
                })?,
        };
        if args.max_frame_bytes < 1024 {
            return Err(bad("--max-frame-bytes", "must be at least 1024"));
        }
        Ok(Self {
            stream_url,
            token,
            webhook_url,
            webhook_secret: args.webhook_secret,
            botpress,
            llm,
            tables,
            threshold: args.threshold as usize,
            state_dir,
            metrics_addr: args.metrics_addr,
            max_queued: args.max_queued as usize,
            max_retry_delay: Duration::from_millis(args.max_retry_delay_ms),
            max_frame_bytes: args.max_frame_bytes,
            retention: args.retention.map(Into::into),
            triggers: args
                .triggers_config
                .map(TriggersSettings::load)
                .transpose()?,
            prune_every: args.prune_every.into(),
        })
    }
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
            ("--webhook-url", "http://127.0.0.1:2/hook"),
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
    fn minimal_config_has_summaries_off() {
        let c = args(&[]).unwrap();
        assert!(c.botpress.is_none() && c.llm.is_none());
        assert_eq!(c.threshold, 10);
        assert_eq!(c.tables.events, "AutoPlayEventsTable");
        assert!(c.retention.is_none());
    }

    #[test]
    fn errors_name_the_setting() {
        assert!(args(&["--stream-url", "nope"])
            .unwrap_err()
            .starts_with("--stream-url (AUTOPLAY_STREAM_URL): \"nope\" is not a URL"));
        assert!(args(&["--stream-url", "http://h/other"])
            .unwrap_err()
            .contains("must end in /stream/<product-id>"));
        assert!(args(&["--botpress-token", "x"])
            .unwrap_err()
            .starts_with("--bot-id (BOTPRESS_BOT_ID)"));
        assert!(args(&["--summary-table", "bad name"])
            .unwrap_err()
            .starts_with("--summary-table"));
        assert!(args(&["--threshold", "0"])
            .unwrap_err()
            .contains("--threshold"));
        assert!(args(&["--retention", "24h"])
            .unwrap_err()
            .starts_with("--retention"));
        assert!(args(&["--retention", "soon"])
            .unwrap_err()
            .contains("--retention"));
        assert!(args(&["--webhook-url", "ftp://x/y"])
            .unwrap_err()
            .contains("http:// or https://"));
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let c = args(&[
            "--botpress-token",
            "bp-secret",
            "--bot-id",
            "b",
            "--openai-api-key",
            "sk-secret",
        ])
        .unwrap();
        let debug = format!("{c:?}");
        for secret in ["bp-secret", "sk-secret", "\"t\"", "/hook"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
