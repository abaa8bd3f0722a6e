//! `autoplay-botpress`: the native companion of the autoplay-botpress WASM package. It streams a
//! product's live UI actions from Autoplay into a Botpress bot — as table rows by default, inside
//! Botpress's request budget and without billed events — keeps a rolling LLM summary per session,
//! fires proactive triggers, and loses nothing on the way (durable spool, retries, dead letters).
//!
//! The library holds the commands; `main.rs` only parses arguments and sets up logging. With the
//! `demo` feature, `fakes` (offline stand-ins for Autoplay, Botpress and the LLM) serve the demo,
//! the tests and the benchmark alike; the binary a user deploys is built without them.

pub mod botpress;
pub mod budget;
pub mod check;
pub mod config;
pub mod connector;
pub mod cost;
pub mod deadletter;
pub mod deliver;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "demo")]
pub mod fakes;
pub mod http;
pub mod identity;
pub mod judge;
pub mod llm;
pub mod messages;
pub mod metrics;
pub mod nudges;
pub mod pacing;
pub mod privacy;
pub mod private;
pub mod prune;
pub mod retry;
pub mod secret;
pub mod setup;
pub mod spool;
pub mod sse;
pub mod stream;
pub mod summaries;
pub mod summarizer;
pub mod triggers;
pub mod watch;
pub mod webhook;

use std::sync::Arc;

use crate::cost::Traffic;
use tokio_util::sync::CancellationToken;

use crate::botpress::TablesClient;
use crate::budget::Budget;
use crate::config::{Command, ConfigError, StreamConfig};
use crate::metrics::Metrics;

/// Wall-clock unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Why a command failed: bad settings (exit 2) or a failure while running (exit 1).
#[derive(Debug)]
pub enum Failure {
    Config(ConfigError),
    Run(anyhow::Error),
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Self {
        Self::Run(err)
    }
}

/// A Tables client for one-off commands (setup, prune): the default request budget.
fn tables_client(botpress: config::BotpressConfig) -> anyhow::Result<TablesClient> {
    let metrics = Arc::new(Metrics::default());
    let budget = Arc::new(Budget::new(300, metrics.clone()));
    Ok(TablesClient::new(
        http::client_builder().build()?,
        botpress,
        budget,
        metrics,
    ))
}

/// Runs one command; `Ok(false)` when it ran but reports a failure (a failed check).
pub async fn run(command: Command, cancel: CancellationToken) -> Result<bool, Failure> {
    match command {
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::run(args).await?,
        Command::Setup(args) => {
            let botpress = args.botpress.require()?;
            let tables = args.tables.resolve()?;
            let client = tables_client(botpress.clone())?;
            if args.dry_run {
                setup::print_dry_run(&botpress, &tables, &client);
            } else {
                setup::run(&client, &tables).await?;
            }
        }
        Command::Check(args) => {
            let traffic = Traffic {
                users: f64::from(args.users),
                actions_per_minute: args.actions_per_minute,
                ..Traffic::default()
            };
            let config = StreamConfig::from_args(args.stream)?;
            return Ok(check::run(&config, &traffic).await?);
        }
        Command::Stream(args) => {
            let config = StreamConfig::from_args(args)?;
            stream::run(config, cancel).await?;
        }
        Command::Prune(args) => {
            let botpress = args.botpress.require()?;
            let tables = args.tables.resolve()?;
            let client = tables_client(botpress)?;
            let keep: std::time::Duration = args.keep.into();
            let deleted = prune::prune(&client, &tables, keep)
                .await
                .map_err(anyhow::Error::from)?;
            for (table, deletion) in deleted {
                println!(
                    "{table}: {deletion} (rows older than {})",
                    humantime::format_duration(keep)
                );
            }
        }
        Command::IdentityToken(args) => {
            if args.user_id.trim().is_empty() {
                return Err(ConfigError {
                    setting: "--user-id",
                    problem: "must not be empty: it is the Autoplay user id the chat may read"
                        .into(),
                }
                .into());
            }
            if args.ttl.is_zero() {
                return Err(ConfigError {
                    setting: "--ttl",
                    problem: "must be longer than zero (e.g. 1h)".into(),
                }
                .into());
            }
            let secret = identity::secret_from_env()?;
            let now = (now_ms() / 1000).max(0) as u64;
            let token = identity::mint(
                &secret,
                &args.user_id,
                args.session_id.as_deref(),
                args.ttl.into(),
                now,
            );
            println!("{token}");
        }
        Command::DeadLetters(args) => {
            let dir = config::state_dir(args.state_dir)?;
            crate::private::create_dir(&dir).map_err(|e| {
                anyhow::anyhow!("cannot create the state directory {}: {e}", dir.display())
            })?;
            let spool = spool::Spool::open(&dir).map_err(anyhow::Error::from)?;
            return match args.action {
                config::DeadLetterAction::List => Ok(deadletter::command::list(&spool)?),
                config::DeadLetterAction::Retry(retry) => {
                    deadletter::command::retry(&spool, retry).await
                }
            };
        }
    }
    Ok(true)
}
