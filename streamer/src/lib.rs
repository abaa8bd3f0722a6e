//! `autoplay-botpress`: the native companion of the autoplay-botpress WASM package. It streams a
//! product's live UI actions from Autoplay into a Botpress bot — as table rows by default, inside
//! Botpress's request budget and without billed events — keeps a rolling LLM summary per session,
//! fires proactive triggers, and loses nothing on the way (durable spool, retries, dead letters).
//!
//! Read it top down: [`cli`] parses the command line, builds each module's settings from it and
//! runs the command; `main.rs` only adds logging and the runtime. With the `demo` feature, `fakes`
//! (offline stand-ins for Autoplay, Botpress and the LLM) serve the demo, the tests and the
//! benchmark alike; the binary a user deploys is built without them.

pub mod botpress;
pub mod budget;
pub mod check;
pub mod cli;
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
pub mod layout;
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

use crate::botpress::{BotpressConfig, TablesClient};
use crate::budget::Budget;
use crate::metrics::Metrics;

/// Wall-clock unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A Tables client for one-off commands (setup, prune): the default request budget.
fn tables_client(botpress: BotpressConfig) -> anyhow::Result<TablesClient> {
    let metrics = Arc::new(Metrics::default());
    let budget = Arc::new(Budget::new(300, metrics.clone()));
    Ok(TablesClient::new(
        http::client_builder().build()?,
        botpress,
        budget,
        metrics,
    ))
}

/// A setting that cannot be used, with the flag and variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
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
