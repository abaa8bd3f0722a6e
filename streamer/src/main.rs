//! `autoplay-botpress`: parses the command line, sets up logging and the runtime, runs the command.

use std::process::ExitCode;

#[cfg(feature = "demo")]
use autoplay_botpress_cli::cli::Command;
use autoplay_botpress_cli::cli::{Cli, LogFormat};
use autoplay_botpress_cli::Failure;
use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    // The demo prints its own progress; the service logs everything from `info` up.
    #[cfg(feature = "demo")]
    let demo = matches!(cli.command, Command::Demo(_));
    #[cfg(not(feature = "demo"))]
    let demo = false;
    let default_level = if demo { "warn" } else { "info" };
    init_logging(cli.log_format, default_level);
    // One thread runs every task: the work is I/O-bound, and a single thread saves the wakeups
    // of tasks bouncing between workers (the spool writer has a thread of its own).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let cancel = CancellationToken::new();
    runtime.spawn(stop_on_signal(cancel.clone()));
    match runtime.block_on(autoplay_botpress_cli::cli::run(cli.command, cancel)) {
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

/// glibc tuning for a small resident set. Every thread that allocates gets its own malloc arena
/// keeping freed pages: one shared arena is plenty for a handful of threads. And glibc raises its
/// mmap threshold after large blocks are freed, after which a flush's large buffers (rows, the
/// answer that echoes them) stay in the heap at their peak: a fixed threshold hands them back.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only adjusts allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 10);
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
