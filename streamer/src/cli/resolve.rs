//! From flags to settings: each check names the flag (and variable) to fix, and the first bad
//! one stops the command.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::args::{
    BotpressArgs, IdentityTokenArgs, LlmArgs, NudgeArgs, RetryArgs, StreamArgs, TableArgs,
    WebhookArgs,
};
use crate::botpress::BotpressConfig;
use crate::deadletter::command::Destinations;
use crate::layout::Tables;
use crate::llm::LlmConfig;
use crate::nudges::{NudgePath, NudgeSettings};
use crate::secret::{Secret, SecretUrl};
use crate::stream::{Deliver, StreamConfig};
use crate::triggers::TriggersSettings;
use crate::watch::read_triggers_file;
use crate::webhook::WebhookConfig;
use crate::ConfigError;

impl IdentityTokenArgs {
    /// The user id is set and the token lives a while (the secret is checked where it is read).
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.user_id.trim().is_empty() {
            return Err(bad(
                "--user-id",
                "must not be empty: it is the Autoplay user id the chat may read",
            ));
        }
        if self.ttl.is_zero() {
            return Err(bad("--ttl", "must be longer than zero (e.g. 1h)"));
        }
        Ok(())
    }
}

impl NudgeArgs {
    /// Checks the plugin alias and the nudges' time to live.
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

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        problem: problem.into(),
    }
}

/// Reads and checks the `--triggers-config` file; the error names the file and the bad field.
fn triggers_file(path: PathBuf) -> Result<TriggersSettings, ConfigError> {
    let setting = "--triggers-config (AUTOPLAY_BOTPRESS_TRIGGERS)";
    let text = std::fs::read_to_string(&path)
        .map_err(|e| bad(setting, format!("cannot read {}: {e}", path.display())))?;
    let (config, notes) =
        read_triggers_file(&text).map_err(|e| bad(setting, format!("{}: {e}", path.display())))?;
    Ok(TriggersSettings {
        path,
        config,
        notes,
    })
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

/// The webhook settings: `None` without a URL.
impl WebhookArgs {
    /// The webhook, if `--webhook-url` is set.
    pub fn resolve(self) -> Result<Option<WebhookConfig>, ConfigError> {
        let Some(url) = self.webhook_url else {
            return Ok(None);
        };
        let url = http_url("--webhook-url (BOTPRESS_WEBHOOK_URL)", url.expose())
            .map(SecretUrl)
            .map_err(|e| bad(e.setting, "must be an http:// or https:// URL with a host"))?;
        Ok(Some(WebhookConfig {
            url,
            secret: self.webhook_secret,
            secret_header: self.webhook_secret_header,
        }))
    }
}

impl RetryArgs {
    /// Where the dead letters go again: the Tables API and the webhook, each if set.
    pub fn resolve(self) -> Result<Destinations, ConfigError> {
        let botpress = self.botpress.resolve()?;
        let webhook = self.webhook.resolve()?;
        Ok(Destinations { botpress, webhook })
    }
}

#[cfg(feature = "demo")]
impl super::args::DemoArgs {
    /// The demo's settings: without an LLM key, it summarizes offline.
    pub fn resolve(self) -> Result<crate::demo::Settings, ConfigError> {
        Ok(crate::demo::Settings {
            llm: self.llm.resolve()?,
            threshold: self.threshold as usize,
            pace: Duration::from_millis(self.pace_ms),
            nudges: self.nudges,
            deliver: self.deliver,
            layout: self.layout,
        })
    }
}

impl StreamArgs {
    /// Checks every setting; the error names the first bad one.
    pub fn resolve(self) -> Result<StreamConfig, ConfigError> {
        let (stream_url, token) = stream_source(&self.stream_url, self.token)?;
        let webhook = self.webhook.resolve()?;
        let botpress = self.botpress.resolve()?;
        let triggers = self.triggers_config.map(triggers_file).transpose()?;
        let nudges = self.nudges.resolve()?;
        check_destinations(
            self.deliver,
            &botpress,
            &webhook,
            triggers.as_ref().map(|_| nudges.path),
            &self.retention,
        )?;
        let flush_every: Duration = self.flush_every.into();
        let idle_timeout: Duration = self.stream_idle_timeout.into();
        check_limits(
            self.prune_every.into(),
            flush_every,
            idle_timeout,
            self.max_frame_bytes,
        )?;
        Ok(StreamConfig {
            stream_url,
            token,
            deliver: self.deliver,
            webhook,
            botpress,
            llm: self.llm.resolve()?,
            tables: self.tables.resolve()?,
            threshold: self.threshold as usize,
            state_dir: state_dir(self.state_dir)?,
            metrics_addr: self.metrics_addr,
            flush_every,
            max_requests_per_minute: self.max_requests_per_minute,
            max_queued: self.max_queued as usize,
            max_spool_bytes: self.max_spool_mb.saturating_mul(1 << 20),
            max_dead_letter_bytes: self.max_dead_letter_mb.saturating_mul(1 << 20),
            max_retry_delay: Duration::from_millis(self.max_retry_delay_ms),
            max_frame_bytes: self.max_frame_bytes,
            max_body_bytes: self.max_body_bytes as usize,
            idle_timeout,
            triggers,
            nudges,
            retention: self.retention.map(Into::into),
            prune_every: self.prune_every.into(),
            privacy: privacy(&self.redact_patterns, self.drop_fields, self.no_redact)?,
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
    use crate::cli::{Cli, Command};
    use crate::layout::Layout;
    use clap::Parser;

    /// Parses `stream` with working defaults, each replaced by a flag of the same name in `extra`.
    fn args(extra: &[&str]) -> Result<StreamConfig, String> {
        args_without(&[], extra)
    }

    /// Like [`args`], leaving out the defaults named in `missing`.
    fn args_without(missing: &[&str], extra: &[&str]) -> Result<StreamConfig, String> {
        let defaults = [
            ("--stream-url", "http://127.0.0.1:1/stream/p1"),
            ("--token", "t"),
            ("--botpress-token", "bp"),
            ("--bot-id", "b"),
            ("--state-dir", "/tmp/x"),
        ];
        let mut argv = vec!["autoplay-botpress", "stream"];
        for (flag, value) in defaults {
            if !extra.contains(&flag) && !missing.contains(&flag) {
                argv.extend([flag, value]);
            }
        }
        argv.extend_from_slice(extra);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Stream(a) = cli.command else {
            unreachable!("parsed the stream command")
        };
        a.resolve().map_err(|e| e.to_string())
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
        // (flags, what the error says, whether it starts with it)
        let cases: [(&[&str], &str, bool); 11] = [
            (
                &["--stream-url", "nope"],
                "--stream-url (AUTOPLAY_STREAM_URL): \"nope\" is not a URL",
                true,
            ),
            (
                &["--stream-url", "http://h/other"],
                "must end in /stream/<product-id>",
                false,
            ),
            (
                &["--stream-url", "http://u:p@h/stream/p"],
                "must not carry credentials",
                false,
            ),
            (
                &["--botpress-token", "x", "--bot-id", ""],
                "--bot-id (BOTPRESS_BOT_ID)",
                true,
            ),
            (&["--summary-table", "bad name"], "--summary-table", true),
            (&["--threshold", "0"], "--threshold", false),
            (&["--retention", "soon"], "--retention", false),
            (
                &["--deliver", "webhook", "--webhook-url", "ftp://x/y"],
                "http:// or https://",
                false,
            ),
            (
                &["--deliver", "webhook"],
                "required with --deliver webhook",
                false,
            ),
            (&["--flush-every", "10ms"], "--flush-every", true),
            (&["--row-factor", "11"], "--row-factor", false),
        ];
        for (flags, says, leading) in cases {
            let err = args(flags).unwrap_err();
            let found = if leading {
                err.starts_with(says)
            } else {
                err.contains(says)
            };
            assert!(found, "{flags:?}: {err}");
        }
    }

    #[test]
    fn tables_delivery_needs_the_botpress_credentials() {
        let err = args_without(&["--botpress-token", "--bot-id"], &[]).unwrap_err();
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
