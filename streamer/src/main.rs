//! `autoplay-botpress`: the native companion of the autoplay-botpress WASM package.

mod backoff;
mod botpress;
mod check;
mod config;
mod connector;
mod demo;
mod forward;
mod llm;
mod metrics;
mod prune;
mod secret;
mod setup;
mod spool;
mod stream;
mod summaries;
mod triggers;

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::botpress::TablesClient;
use crate::config::{Cli, Command, ConfigError, LogFormat, StreamConfig};

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    // The demo prints its own progress; the service logs everything from `info` up.
    let default_level = match cli.command {
        Command::Demo(_) => "warn",
        _ => "info",
    };
    init_logging(cli.log_format, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(Failure::Config(err)) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
        Err(Failure::Run(err)) => {
            tracing::error!("{err:#}");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Why a command failed: bad settings (exit 2) or a failure while running (exit 1).
enum Failure {
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

/// Runs one command; `Ok(false)` when it ran but reports a failure (a failed check).
async fn run(command: Command) -> Result<bool, Failure> {
    match command {
        Command::Demo(args) => demo::run(args).await?,
        Command::Setup(args) => {
            let (botpress, tables) = args.botpress.require()?;
            let client = TablesClient::new(http_client()?, botpress.clone());
            if args.dry_run {
                setup::print_dry_run(&botpress, &tables, &client);
            } else {
                setup::run(&client, &tables).await?;
            }
        }
        Command::Check(args) => {
            let config = StreamConfig::from_args(args)?;
            return Ok(check::run(&config).await?);
        }
        Command::Stream(args) => {
            let config = StreamConfig::from_args(args)?;
            let cancel = CancellationToken::new();
            tokio::spawn(stop_on_signal(cancel.clone()));
            stream::run(config, cancel).await?;
        }
        Command::Prune(args) => {
            let (botpress, tables) = args.botpress.require()?;
            let client = TablesClient::new(http_client()?, botpress);
            let keep: std::time::Duration = args.keep.into();
            let deleted = prune::prune(&client, &tables.events, keep)
                .await
                .map_err(anyhow::Error::from)?;
            println!(
                "deleted {deleted} events older than {} from {}",
                humantime::format_duration(keep),
                tables.events
            );
        }
    }
    Ok(true)
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(stream::http_client_builder().build()?)
}

/// glibc gives every thread that allocates its own malloc arena; with the runtime's workers, the
/// spool thread and blocking threads each keeping freed pages, that roughly doubles the resident
/// set under load. One shared arena is plenty for a handful of threads moving small batches.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = EnvFilter::try_from_env("AUTOPLAY_BOTPRESS_LOG")
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Cancels on SIGINT or SIGTERM.
async fn stop_on_signal(cancel: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("stopping: finishing in-flight work");
    cancel.cancel();
}
