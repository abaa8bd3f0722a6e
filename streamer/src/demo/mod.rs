//! `autoplay-botpress demo`: the whole pipeline offline, through the real code paths.
//!
//! The embedded [`backend`] plays the Autoplay connector, the Botpress webhook and Tables API,
//! and (without an LLM key) the LLM. The real `stream` runs against it: SSE client, spool,
//! forwarder, summaries. At the end the core builds what FetchEventsData would hand the agent
//! for the scripted user, and the demo checks that the second user's activity is not in it.

mod backend;
mod script;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use autoplay_botpress::context::ContextInput;
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::{build_agent_context, render_agent_context, schema};
use reqwest::Url;
use tokio_util::sync::CancellationToken;

use crate::config::{BotpressConfig, DemoArgs, LlmConfig, StreamConfig, Tables, TriggersSettings};
use crate::forward::now_ms;
use crate::secret::{Secret, SecretUrl};

use backend::Backend;

/// Runs the demo and prints its outcome; an error if the pipeline did not finish or leaked.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let threshold = args.threshold as usize;
    let real_llm = args.llm.openai_api_key.is_some();
    let cancel = CancellationToken::new();
    let script = script::batches();
    let batches = script.len();
    let backend = Backend::start(script, Duration::from_millis(args.pace_ms), cancel.clone())
        .await
        .context("cannot start the demo's loopback server")?;
    let state_dir = tempfile::tempdir().context("cannot create a temporary state directory")?;
    let config = stream_config(&backend, args, state_dir.path())?;

    println!(
        "autoplay-botpress demo: the real streamer against stand-ins on {}",
        backend.addr
    );
    println!(
        "  connector  {} replays 2 scripted sessions ({batches} batches)",
        config.stream_url
    );
    println!(
        "  webhook    {} stores rows like StoreEventsData",
        backend.url("/webhook")
    );
    println!(
        "  tables     {} keeps one summary row per session",
        backend.url("/v1/tables/…")
    );
    if let Some(llm) = config.llm.as_ref().filter(|_| real_llm) {
        println!(
            "  LLM        {} ({}), a summary every {threshold} actions",
            llm.base_url, llm.model
        );
    } else {
        println!("  LLM        offline deterministic summarizer (labelled; set OPENAI_API_KEY for a real model), a summary every {threshold} actions");
    }
    println!();

    let streamer = tokio::spawn(crate::stream::run(config, cancel.clone()));
    let limit = if real_llm {
        Duration::from_secs(90)
    } else {
        Duration::from_secs(20)
    };
    let started = Instant::now();
    while !settled(&backend, batches, threshold) {
        if started.elapsed() > limit || streamer.is_finished() {
            cancel.cancel();
            let outcome = streamer.await;
            anyhow::bail!(
                "the pipeline did not finish within {}s (streamer: {outcome:?}); with a real LLM, check the key and model",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cancel.cancel();
    streamer.await.context("the streamer task failed")??;
    report(&backend)
}

fn stream_config(
    backend: &Backend,
    args: DemoArgs,
    state_dir: &std::path::Path,
) -> anyhow::Result<StreamConfig> {
    let url = |path: &str| Url::parse(&backend.url(path)).context("loopback URL");
    let demo_secret = |s: &str| s.parse::<Secret>().map_err(anyhow::Error::msg);
    let llm = match args.llm.resolve()? {
        Some(real) => real,
        None => LlmConfig {
            base_url: url("/v1")?,
            api_key: demo_secret("offline")?,
            model: "offline".into(),
            timeout: Duration::from_secs(5),
        },
    };
    Ok(StreamConfig {
        stream_url: url(&format!("/stream/{}", script::PRODUCT))?,
        token: demo_secret("demo-token")?,
        webhook_url: SecretUrl(url("/webhook")?),
        webhook_secret: None,
        botpress: Some(BotpressConfig {
            api_url: url("")?,
            token: demo_secret("demo-token")?,
            bot_id: "demo-bot".into(),
        }),
        llm: Some(llm),
        tables: Tables {
            events: schema::EVENTS_TABLE.into(),
            summary: schema::SUMMARY_TABLE.into(),
        },
        threshold: args.threshold as usize,
        state_dir: state_dir.to_owned(),
        metrics_addr: None,
        max_queued: 1_000,
        max_retry_delay: Duration::from_secs(1),
        max_frame_bytes: 1 << 20,
        retention: None,
        triggers: Some(TriggersSettings {
            path: "(built into the demo)".into(),
            config: script::trigger_config(),
        }),
        prune_every: Duration::from_secs(3600),
    })
}

/// Every batch stored, the scripted user's triggers in, and every session's summary caught up:
/// fewer than `threshold` of its actions are not yet covered (the summarizer waits for that many).
fn settled(backend: &Backend, batches: usize, threshold: usize) -> bool {
    let stored = backend.stored();
    stored.batches_received >= batches
        && script::EXPECTED_TRIGGERS.iter().all(|kind| {
            stored
                .triggers
                .iter()
                .any(|t| t.trigger == Some(*kind) && t.session_id == script::SESSION_A)
        })
        && script::totals().iter().all(|(session, total)| {
            let covered = stored
                .summaries
                .get(*session)
                .map_or(0, |r| r.action_count as usize);
            covered + threshold > *total
        })
}

/// Builds and prints the scripted user's agent context, and checks the other user is absent.
fn report(backend: &Backend) -> anyhow::Result<()> {
    let stored = backend.stored();
    let input = ContextInput {
        user_id: Some(script::USER_A.into()),
        session_id: Some(script::SESSION_A.into()),
        // Everything the tables hold, as an unscoped query would return: the core must scope it.
        recent_events: stored.events.clone(),
        summary_records: stored.summaries.values().cloned().collect(),
        ..ContextInput::default()
    };
    let context = build_agent_context(input, now_ms())?;
    let prompt = render_agent_context(&context, &RenderOptions::default())?;
    println!(
        "\n── what FetchEventsData hands the agent for user {} (session {}) ──\n{}",
        script::USER_A,
        script::SESSION_A,
        serde_json::to_string_pretty(&context)?
    );
    println!(
        "\n── the same, rendered for the agent's prompt ({} chars) ──\n{prompt}",
        prompt.chars().count()
    );

    let others = stored
        .events
        .iter()
        .filter(|e| e.user_id.as_deref() == Some(script::USER_B))
        .count();
    let context_json = serde_json::to_string(&context)?;
    let leaked = [
        script::USER_B,
        script::SESSION_B,
        "webhook settings",
        "API key",
    ]
    .iter()
    .any(|needle| context_json.contains(needle) || prompt.contains(needle));
    if leaked || others == 0 {
        anyhow::bail!(
            "isolation check failed: user {}'s activity reached user {}'s context",
            script::USER_B,
            script::USER_A
        );
    }
    println!(
        "\n✓ user {} has {others} actions in the events table and a summary row of their own; none of it is in user {}'s context.",
        script::USER_B,
        script::USER_A
    );
    Ok(())
}
