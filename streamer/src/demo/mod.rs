//! `autoplay-botpress demo`: the whole pipeline offline, through the real code paths.
//!
//! The [`fakes`](crate::fakes) play the Autoplay connector, the Botpress webhook and Tables API
//! and (without an LLM key) the LLM. `setup` creates the tables, then the real `stream` runs
//! against them. At the end the core builds what FetchEventsData hands the agent for the
//! scripted user — from the tables, as a bot would read them — checks that the second user's
//! activity is not in it, shows the proactive nudges arriving in the user's conversation (as bot
//! messages through the plugin path, or through the webhook with `--nudges webhook`), states
//! what the run cost on Botpress next to the guide's path, and ends with what became of the
//! nudges (`nudge_outcomes_total`; the scripted user answers theirs).

mod script;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use autoplay_botpress::context::{context_queries, ContextInput};
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::{build_agent_context, render_agent_context};
use reqwest::Url;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::botpress::BotpressConfig;
use crate::fakes::{Connection, FakeState, Fakes, Step};
use crate::layout::{Layout, Tables};
use crate::llm::LlmConfig;
use crate::metrics::Metrics;
use crate::nudges::{NudgePath, NudgeSettings};
use crate::secret::{Secret, SecretUrl};
use crate::stream::{Deliver, StreamConfig};
use crate::triggers::TriggersSettings;
use crate::watch::outcomes::Outcome;
use crate::webhook::WebhookConfig;
use autoplay_botpress::signals::SignalKind;

/// The Botpress conversation the scripted user chats in.
const DEMO_CONVERSATION: &str = "conv_demo_user_a";

/// What the demo runs: the real LLM if one is set, how fast the script plays, and the paths.
#[derive(Debug)]
pub struct Settings {
    /// `None`: an offline deterministic summarizer stands in for the LLM.
    pub llm: Option<LlmConfig>,
    /// Actions per summary.
    pub threshold: usize,
    /// Pause between scripted batches.
    pub pace: Duration,
    pub nudges: NudgePath,
    pub deliver: Deliver,
    pub layout: Layout,
}

/// Runs the demo and prints its outcome; an error if the pipeline did not finish or leaked.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let threshold = settings.threshold;
    let real_llm = settings.llm.is_some();
    let cancel = CancellationToken::new();
    let script = script::batches();
    let batches = script.len();
    let fakes = Fakes::start(cancel.clone())
        .await
        .context("cannot start the demo's loopback server")?;
    let pace = settings.pace;
    fakes.with(|s| {
        s.verbose = true;
        s.rate_limit = Some(600);
        s.webhook.store_in = (settings.deliver == Deliver::Webhook)
            .then(|| autoplay_botpress::schema::EVENTS_TABLE.to_owned());
        s.connections
            .push_back(Connection::Script(replay(&script, pace)));
        // The scripted user has the chat open: LinkConversation (the card path) or the plugin's
        // hook (the plugin path) linked it, as in a real bot.
        s.webhook
            .links
            .insert(script::USER_A.into(), DEMO_CONVERSATION.into());
        s.chat.add_user(&[
            ("autoplay#autoplayUserId", script::USER_A),
            ("autoplay#conversationId", DEMO_CONVERSATION),
        ]);
        // And answers the nudge it gets (a reply the outcomes count).
        s.chat.reply_to_nudges = true;
        // The plugin's table, which installing the plugin creates.
        s.tables.apply(
            "table",
            crate::messages::PENDING_NUDGES_TABLE,
            &serde_json::json!({ "keyColumn": "nudgeId", "schema": {} }),
        );
    });
    let state_dir = tempfile::tempdir().context("cannot create a temporary state directory")?;
    let config = stream_config(&fakes, &settings, state_dir.path())?;

    println!(
        "autoplay-botpress demo: the real streamer against stand-ins on {}",
        fakes.addr
    );
    println!(
        "  connector  {} replays 2 scripted sessions ({batches} batches)",
        config.stream_url
    );
    match settings.deliver {
        Deliver::Tables => println!(
            "  Botpress   Tables API at {} (rows, no billed events); webhook for proactive triggers only",
            fakes.url("/v1/tables/…")
        ),
        Deliver::Webhook => println!(
            "  Botpress   webhook {} (every POST is a billed event), stored like StoreEventsData",
            fakes.url("/hook")
        ),
    }
    match settings.nudges {
        NudgePath::Plugin => println!(
            "  webchat    user {} chats in conversation {DEMO_CONVERSATION} (the autoplay plugin linked it): nudges go there as bot messages (Chat API {})",
            script::USER_A,
            fakes.url("/v1/chat/…")
        ),
        NudgePath::Webhook => println!(
            "  webchat    user {} chats in conversation {DEMO_CONVERSATION} (LinkConversation linked it): nudges go there through the webhook",
            script::USER_A
        ),
    }
    if let Some(llm) = config.llm.as_ref().filter(|_| real_llm) {
        println!(
            "  LLM        {} ({}), a summary every {threshold} actions",
            llm.base_url, llm.model
        );
    } else {
        println!("  LLM        offline deterministic summarizer (labelled; set OPENAI_API_KEY for a real model), a summary every {threshold} actions");
    }
    println!();
    create_tables(&config).await?;
    println!();

    let metrics = std::sync::Arc::new(Metrics::default());
    let streamer = tokio::spawn(crate::stream::run_counted(
        config.clone(),
        cancel.clone(),
        metrics.clone(),
    ));
    let limit = if real_llm {
        Duration::from_secs(90)
    } else {
        Duration::from_secs(30)
    };
    let started = Instant::now();
    while !(fakes.with(|s| settled(s, &config, threshold))
        && outcomes_known(&metrics, config.nudges.path))
    {
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
    fakes.with(|s| report(s, &config, &script, threshold))?;
    print_outcomes(&metrics, config.nudges.path);
    Ok(())
}

/// Outcomes summed over the kinds.
fn outcome_total(metrics: &Metrics, outcomes: &[Outcome]) -> u64 {
    SignalKind::ALL
        .iter()
        .flat_map(|kind| outcomes.iter().map(|o| metrics.nudge_outcomes(*kind, *o)))
        .sum()
}

/// Every nudge sent has its outcomes: its friction, and on the plugin path its reply.
fn outcomes_known(metrics: &Metrics, path: NudgePath) -> bool {
    let sent = outcome_total(
        metrics,
        &[Outcome::Delivered, Outcome::Pending, Outcome::Failed],
    );
    let friction = outcome_total(
        metrics,
        &[Outcome::FrictionStopped, Outcome::FrictionContinued],
    );
    let replies = outcome_total(
        metrics,
        &[Outcome::Replied, Outcome::NoReply, Outcome::ReplyUnknown],
    );
    let delivered = outcome_total(metrics, &[Outcome::Delivered]);
    sent as usize >= script::EXPECTED_TRIGGERS.len()
        && friction >= sent
        && (path == NudgePath::Webhook || replies >= delivered)
}

/// The outcome table: what became of each kind's nudges (`nudge_outcomes_total`).
fn print_outcomes(metrics: &Metrics, path: NudgePath) {
    let window = script::OUTCOME_WINDOW_MS / 1000;
    println!(
        "\n── did the nudges help? (nudge_outcomes_total; the demo watches {window} s, the defaults are a 10-minute reply and 5-minute friction window) ──"
    );
    let kinds: Vec<SignalKind> = SignalKind::ALL
        .into_iter()
        .filter(|kind| {
            Outcome::ALL
                .iter()
                .any(|o| metrics.nudge_outcomes(*kind, *o) > 0)
        })
        .collect();
    let header: String = kinds
        .iter()
        .map(|k| format!("{:>18}", crate::watch::kind_name(*k)))
        .collect();
    println!("  {:<20}{header}", "outcome");
    for outcome in Outcome::ALL {
        let cells: String = kinds
            .iter()
            .map(|k| format!("{:>18}", metrics.nudge_outcomes(*k, outcome)))
            .collect();
        println!("  {:<20}{cells}", outcome.label());
    }
    if path == NudgePath::Webhook {
        println!(
            "  (through the webhook the streamer does not see the conversation: no reply outcome)"
        );
    }
}

/// The script as SSE: one batch per `pace`, its actions stamped as having just happened.
fn replay(script: &[autoplay_botpress::ActionsPayload], pace: Duration) -> Vec<Step> {
    let mut steps = Vec::new();
    for (i, batch) in script.iter().enumerate() {
        steps.push(Step::At(pace * (i as u32 + 1)));
        let mut frame = serde_json::to_value(batch).unwrap_or_default();
        frame["type"] = "actions".into();
        // Spread over the last quarter of the pause, so batches never overlap in time.
        let n = batch.actions.len().max(1);
        let spacing = pace.as_secs_f64() / 4.0 / n as f64;
        for (j, action) in frame["actions"]
            .as_array_mut()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let back = spacing * (n - 1 - j) as f64;
            action["timestamp_start"] = format!("{{NOW-{back:.3}}}").into();
        }
        frame["forwarded_at"] = "{NOW}".into();
        steps.push(Step::Stamped(frame.to_string()));
    }
    steps.push(Step::Hold);
    steps
}

fn stream_config(
    fakes: &Fakes,
    settings: &Settings,
    state_dir: &std::path::Path,
) -> anyhow::Result<StreamConfig> {
    let url = |path: &str| Url::parse(&fakes.url(path)).context("loopback URL");
    let demo_secret = |s: &str| s.parse::<Secret>().map_err(anyhow::Error::msg);
    let llm = match settings.llm.clone() {
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
        deliver: settings.deliver,
        webhook: Some(WebhookConfig {
            url: SecretUrl(url("/hook")?),
            secret: None,
            secret_header: false,
        }),
        botpress: Some(BotpressConfig {
            api_url: url("")?,
            token: demo_secret("demo-token")?,
            bot_id: "demo-bot".into(),
        }),
        llm: Some(llm),
        tables: Tables {
            layout: match settings.deliver {
                Deliver::Tables => settings.layout,
                Deliver::Webhook => Layout::Events,
            },
            sessions: autoplay_botpress::schema::SESSIONS_TABLE.into(),
            events: autoplay_botpress::schema::EVENTS_TABLE.into(),
            summary: autoplay_botpress::schema::SUMMARY_TABLE.into(),
            row_factor: 1,
        },
        threshold: settings.threshold,
        state_dir: state_dir.to_owned(),
        metrics_addr: None,
        flush_every: Duration::from_millis(500),
        max_requests_per_minute: 300,
        max_queued: 1_024,
        max_spool_bytes: 64 << 20,
        max_dead_letter_bytes: 1 << 20,
        max_retry_delay: Duration::from_secs(1),
        max_frame_bytes: 256 << 10,
        max_body_bytes: 100_000,
        idle_timeout: Duration::from_secs(60),
        triggers: Some(TriggersSettings {
            path: "(built into the demo)".into(),
            config: script::trigger_config(),
            notes: Vec::new(),
        }),
        nudges: NudgeSettings {
            path: settings.nudges,
            plugin_alias: "autoplay".into(),
            ttl: Duration::from_secs(1800),
        },
        retention: None,
        prune_every: Duration::from_secs(3600),
        privacy: crate::privacy::Privacy::default(),
    })
}

/// Runs the real `setup` against the stand-in Tables API.
async fn create_tables(config: &StreamConfig) -> anyhow::Result<()> {
    let botpress = config
        .botpress
        .clone()
        .context("the demo sets Botpress up")?;
    let client = crate::tables_client(botpress)?;
    crate::setup::run(&client, &config.tables).await
}

/// Every action stored, every session's summary caught up (fewer than `threshold` of its actions
/// not yet covered), and the scripted user's triggers in.
fn settled(s: &FakeState, config: &StreamConfig, threshold: usize) -> bool {
    let triggers = match config.nudges.path {
        NudgePath::Webhook => script::EXPECTED_TRIGGERS.iter().all(|kind| {
            s.webhook.triggers.iter().any(|t| {
                t["trigger"] == serde_json::to_value(kind).unwrap_or_default()
                    && t["session_id"] == script::SESSION_A
            })
        }),
        NudgePath::Plugin => nudges(s).len() >= script::EXPECTED_TRIGGERS.len(),
    };
    let sessions_done = script::totals().iter().all(|(session, total)| {
        let (stored, covered) = stored_and_covered(s, config, session);
        stored >= *total && covered + threshold > *total
    });
    triggers && sessions_done
}

/// (actions stored, actions the latest summary covers) for a session.
fn stored_and_covered(s: &FakeState, config: &StreamConfig, session: &str) -> (usize, usize) {
    let count = |row: &serde_json::Map<String, Value>| {
        row.get("action_count").and_then(Value::as_u64).unwrap_or(0) as usize
    };
    match config.tables.layout {
        Layout::Sessions => s
            .tables
            .tables
            .get(&config.tables.sessions)
            .and_then(|t| t.rows_where("session_id", session).next())
            .map_or((0, 0), |row| {
                let covered = if row.get("summary").is_some_and(Value::is_string) {
                    count(row)
                } else {
                    0
                };
                (count(row), covered)
            }),
        Layout::Events => {
            let stored = s
                .tables
                .tables
                .get(&config.tables.events)
                .map_or(0, |t| t.rows_where("session_id", session).count());
            let covered = s
                .tables
                .tables
                .get(&config.tables.summary)
                .and_then(|t| t.rows_where("session_id", session).next())
                .map_or(0, count);
            (stored, covered)
        }
    }
}

/// Reads the scripted user's rows as FetchEventsData would, builds and prints their context,
/// checks the other user is absent, and states the cost.
fn report(
    s: &mut FakeState,
    config: &StreamConfig,
    script: &[autoplay_botpress::ActionsPayload],
    threshold: usize,
) -> anyhow::Result<()> {
    let scope = ContextInput {
        user_id: Some(script::USER_A.into()),
        ..ContextInput::default()
    };
    let queries = context_queries(&scope, crate::now_ms())?;
    let mut find = |table: &str, query: &autoplay_botpress::context::TableQuery| -> Value {
        let body = serde_json::to_value(query).unwrap_or_default();
        s.tables.apply("find", table, &body).1["rows"].clone()
    };
    let input = match config.tables.layout {
        Layout::Sessions => ContextInput {
            session_rows: serde_json::from_value(find(&config.tables.sessions, &queries.sessions))?,
            ..scope
        },
        Layout::Events => ContextInput {
            recent_events: serde_json::from_value(find(&config.tables.events, &queries.events))?,
            summary_records: serde_json::from_value(find(
                &config.tables.summary,
                &queries.summaries,
            ))?,
            ..scope
        },
    };
    let context = build_agent_context(input, crate::now_ms())?;
    let prompt = render_agent_context(&context, &RenderOptions::default())?;
    println!(
        "\n── what FetchEventsData hands the agent for user {} ──\n{}",
        script::USER_A,
        serde_json::to_string_pretty(&context)?
    );
    println!(
        "\n── the same, rendered for the agent's prompt ({} chars) ──\n{prompt}",
        prompt.chars().count()
    );

    let context_json = serde_json::to_string(&context)?;
    let leaked = [
        script::USER_B,
        script::SESSION_B,
        "webhook settings",
        "API key",
    ]
    .iter()
    .any(|needle| context_json.contains(needle) || prompt.contains(needle));
    let (others, _) = stored_and_covered(s, config, script::SESSION_B);
    if leaked || others == 0 {
        anyhow::bail!(
            "isolation check failed: user {}'s activity reached user {}'s context",
            script::USER_B,
            script::USER_A
        );
    }
    println!(
        "\n✓ user {} has {others} actions stored and a summary of their own; none of it is in user {}'s context.",
        script::USER_B,
        script::USER_A
    );
    print_nudges(s, config.nudges.path)?;
    print_budget(s, config, script, threshold);
    Ok(())
}

/// The nudges that reached a conversation, as (conversation, message): bot messages the plugin
/// path created, or what the integration did with the webhook's triggers.
fn nudges(s: &FakeState) -> Vec<(Option<String>, String)> {
    let messages = s.chat.messages.iter().map(|m| {
        let text = m.payload["text"].as_str().unwrap_or("").to_owned();
        (Some(m.conversation_id.clone()), text)
    });
    messages.chain(s.webhook.nudges.iter().cloned()).collect()
}

/// The nudges as the user saw them in their conversation.
fn print_nudges(s: &FakeState, path: NudgePath) -> anyhow::Result<()> {
    let how = match path {
        NudgePath::Plugin => "bot messages created through the Chat API (plugin path)",
        NudgePath::Webhook => "triggers POSTed to the webhook (card path)",
    };
    println!("\n── proactive nudges, as the user's webchat shows them: {how} ──");
    let nudges = nudges(s);
    for (conversation, message) in &nudges {
        match conversation {
            Some(c) => println!("  [{c}] bot: {message}"),
            None => println!("  (kept for the user's next conversation) bot: {message}"),
        }
    }
    let delivered = nudges
        .iter()
        .filter(|(c, _)| c.as_deref() == Some(DEMO_CONVERSATION))
        .count();
    if delivered < script::EXPECTED_TRIGGERS.len() {
        anyhow::bail!("only {delivered} nudges reached conversation {DEMO_CONVERSATION}");
    }
    Ok(())
}

/// What the run cost on Botpress, and what the guide's path would have cost on the same sessions.
fn print_budget(
    s: &FakeState,
    config: &StreamConfig,
    script: &[autoplay_botpress::ActionsPayload],
    threshold: usize,
) {
    let calls = &s.tables.calls;
    let count = |op: &str| calls.iter().filter(|c| c.op == op).count();
    let batch_posts = s.webhook.delivered.len();
    let trigger_posts = s.webhook.triggers.len();
    let requests = calls.len() + s.webhook.posts + s.chat.requests;
    let rows: usize = s.tables.tables.values().map(|t| t.rows.len()).sum();
    let actions: usize = script.iter().map(|b| b.actions.len()).sum();
    let mode = match (config.deliver, config.tables.layout) {
        (Deliver::Tables, Layout::Sessions) => "tables, sessions layout",
        (Deliver::Tables, Layout::Events) => "tables, events layout",
        (Deliver::Webhook, _) => "webhook",
    };
    let nudge_cost = match config.nudges.path {
        NudgePath::Plugin => format!(
            "{} nudges as bot messages: {} Chat API requests, {} billed events",
            s.chat.messages.len(),
            s.chat.requests,
            s.chat.events_created + trigger_posts
        ),
        NudgePath::Webhook => format!(
            "+{trigger_posts} billed events for proactive triggers, which open a conversation"
        ),
    };
    println!("\n── what it cost on Botpress ──");
    println!(
        "  this run ({mode}): {requests} requests ({} upserts, {} table setups, {} webhook POSTs), \
         {batch_posts} billed events for activity ({nudge_cost}), {rows} rows in use, {} \
         rate-limited answers",
        count("upsert"),
        count("table"),
        s.webhook.posts,
        s.rate_limited
    );
    println!(
        "  the guide's path, same sessions: {} requests, {} billed events (one per batch), {actions} \
         rows (one per action) plus one shared summary row",
        script.len() + actions / threshold.max(1),
        script.len()
    );
}
