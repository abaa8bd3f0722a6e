//! The command line, at the top of the streamer: clap parses the flags (`args.rs`), `resolve.rs`
//! checks them into the settings each module owns ([`crate::stream::StreamConfig`],
//! [`crate::botpress::BotpressConfig`], …), and [`run`] hands those to the command. No other
//! module reads the command line: they take their settings, whoever builds them.

mod args;
mod resolve;

use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

pub use args::*;

use resolve::state_dir;

use crate::cost::Traffic;
#[cfg(feature = "demo")]
use crate::demo;
use crate::{check, deadletter, identity, now_ms, prune, setup, spool, stream, Failure};

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

/// Runs one command; `Ok(false)` when it ran but reports a failure (a failed check).
pub async fn run(command: Command, cancel: CancellationToken) -> Result<bool, Failure> {
    match command {
        #[cfg(feature = "demo")]
        // A bad LLM setting stops the demo as a failed run (exit 1), not a bad setting (2).
        Command::Demo(args) => demo::run(args.resolve().map_err(anyhow::Error::from)?).await?,
        Command::Setup(args) => {
            let botpress = args.botpress.require()?;
            let tables = args.tables.resolve()?;
            let client = crate::tables_client(botpress.clone())?;
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
            let config = args.stream.resolve()?;
            return Ok(check::run(&config, &traffic).await?);
        }
        Command::Stream(args) => {
            let config = args.resolve()?;
            stream::run(config, cancel).await?;
        }
        Command::Prune(args) => {
            let botpress = args.botpress.require()?;
            let tables = args.tables.resolve()?;
            let client = crate::tables_client(botpress)?;
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
            args.check()?;
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
            let dir = state_dir(args.state_dir)?;
            crate::private::create_dir(&dir).map_err(|e| {
                anyhow::anyhow!("cannot create the state directory {}: {e}", dir.display())
            })?;
            let spool = spool::Spool::open(&dir).map_err(anyhow::Error::from)?;
            return match args.action {
                DeadLetterAction::List => Ok(deadletter::command::list(&spool)?),
                DeadLetterAction::Retry(retry) => {
                    deadletter::command::retry(&spool, retry.resolve()?).await
                }
            };
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Only `main.rs` and the crate root's `pub mod cli;` name this module outside it: every
    /// other module takes its settings and never sees a flag.
    #[test]
    fn no_runtime_module_uses_the_cli() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let (cli, main) = (src.join("cli"), src.join("main.rs"));
        let word = regex::Regex::new(r"\bcli\b").unwrap();
        let mut found = Vec::new();
        let mut dirs: Vec<PathBuf> = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path != cli {
                        dirs.push(path);
                    }
                } else if path.extension().is_some_and(|e| e == "rs") && path != main {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (n, line) in text.lines().enumerate() {
                        let code = line.trim_start();
                        if !code.starts_with("//") && code != "pub mod cli;" && word.is_match(code)
                        {
                            found.push(format!("{}:{}: {code}", path.display(), n + 1));
                        }
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "modules outside src/cli use the CLI:\n{}",
            found.join("\n")
        );
    }
}
