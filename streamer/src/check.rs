//! `autoplay-botpress check`: tries each part of a real configuration once, read-only, and
//! prints a checklist.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use std::sync::Arc;

use crate::cost::{self, Mode, Settings, Traffic, PLANS};

use crate::botpress::{TablesClient, TablesError};
use crate::budget::Budget;
use crate::connector::{fatal_hint, stream_request};
use crate::http::{describe_transport_error, snippet};
use crate::layout::Layout;
use crate::llm::LlmConfig;
use crate::metrics::Metrics;
use crate::secret::redact_url;
use crate::stream::{Deliver, StreamConfig};
use crate::webhook::WebhookConfig;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
}

/// Runs every check, prints the checklist and the cost of these settings for `traffic`;
/// `Ok(true)` when nothing failed.
pub async fn run(config: &StreamConfig, traffic: &Traffic) -> anyhow::Result<bool> {
    let http = crate::http::client_builder()
        .user_agent(concat!(
            "autoplay-botpress/",
            env!("CARGO_PKG_VERSION"),
            " (check)"
        ))
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .build()?;
    println!("checking the configuration (read-only: nothing is written anywhere)\n");
    let mut results = vec![("Autoplay stream", stream(&http, config).await)];
    match &config.botpress {
        Some(botpress) => {
            let metrics = Arc::new(Metrics::default());
            let budget = Arc::new(Budget::new(config.max_requests_per_minute, metrics.clone()));
            let client =
                TablesClient::new(http.clone(), botpress.clone(), budget, metrics).single_attempt();
            let tables: Vec<(&str, &String)> = match (config.deliver, config.tables.layout) {
                (Deliver::Tables, Layout::Sessions) => {
                    vec![("Botpress sessions table", &config.tables.sessions)]
                }
                (Deliver::Tables, Layout::Events) => vec![
                    ("Botpress events table", &config.tables.events),
                    ("Botpress summary table", &config.tables.summary),
                ],
                (Deliver::Webhook, _) => vec![("Botpress summary table", &config.tables.summary)],
            };
            for (label, table) in tables {
                results.push((label, table_check(&client, table, &botpress.bot_id).await));
            }
        }
        None => results.push((
            "Botpress Tables API",
            Outcome::Skip("no --botpress-token/--bot-id: summaries and retention are off".into()),
        )),
    }
    results.push(match &config.webhook {
        Some(hook) => ("Botpress webhook", webhook(hook).await),
        None => (
            "Botpress webhook",
            Outcome::Skip("no --webhook-url: proactive triggers are off".into()),
        ),
    });
    results.push(match &config.llm {
        Some(llm) => ("LLM", llm_check(&http, llm).await),
        None => (
            "LLM",
            Outcome::Skip("no --openai-api-key: rolling summaries are off".into()),
        ),
    });

    let failures = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Fail(_)))
        .count();
    for (label, outcome) in &results {
        let (mark, text) = match outcome {
            Outcome::Pass(t) => ("ok  ", t),
            Outcome::Fail(t) => ("FAIL", t),
            Outcome::Skip(t) => ("skip", t),
        };
        println!("  [{mark}] {label:<24} {text}");
    }
    print_cost(config, traffic);
    if failures == 0 {
        println!("\nall checks passed: `autoplay-botpress stream` with the same settings is ready to run");
    } else {
        println!("\n{failures} check(s) failed");
    }
    Ok(failures == 0)
}

/// The mode these settings run in.
pub fn mode(config: &StreamConfig) -> Mode {
    match (config.deliver, config.tables.layout) {
        (Deliver::Tables, Layout::Sessions) => Mode::TablesSessions,
        (Deliver::Tables, Layout::Events) => Mode::TablesEvents,
        (Deliver::Webhook, _) => Mode::Webhook,
    }
}

/// What these settings cost per hour on Botpress at `traffic`, beside the guide's path.
fn print_cost(config: &StreamConfig, traffic: &Traffic) {
    let settings = Settings {
        flush_every_ms: config.flush_every.as_millis() as u64,
        max_requests_per_minute: config.max_requests_per_minute,
        threshold: config.llm.as_ref().map(|_| config.threshold as u32),
        retention_hours: config.retention.map(|r| r.as_secs_f64() / 3_600.0),
        judge_window_ms: config
            .triggers
            .as_ref()
            .filter(|_| config.llm.is_some())
            .map(|t| t.config.pacing.window_ms.max(1) as u64),
    };
    println!(
        "\ncost on Botpress at {} users × {} actions/minute (--users, --actions-per-minute):",
        traffic.users, traffic.actions_per_minute
    );
    println!(
        "  {:<26} {:>13} {:>19} {:>17} {:>12}",
        "", "requests/hour", "billed events/hour", "rows created/hour", "rows in use"
    );
    let ours = cost::estimate(mode(config), traffic, &settings);
    let guide = cost::estimate(Mode::Guide, traffic, &settings);
    for (label, cost) in [
        ("these settings", ours),
        ("the guide's webhook path", guide),
    ] {
        let in_use = cost
            .rows_in_use
            .map_or_else(|| "grows".to_owned(), |r| format!("{r:.0}"));
        println!(
            "  {label:<26} {:>13.0} {:>19.0} {:>17.0} {:>12}",
            cost.requests_per_hour, cost.billed_events_per_hour, cost.rows_created_per_hour, in_use
        );
    }
    let llm = cost::llm_calls(traffic, &settings);
    println!(
        "  LLM calls/hour: {:.0} ({:.0} summaries + at most {:.0} judge calls, one per user and pacing window)",
        llm.summaries + llm.judge_at_most,
        llm.summaries,
        llm.judge_at_most
    );
    for plan in PLANS {
        let lasts = match cost::hours_until_events_run_out(&plan, &ours) {
            None => "never".to_owned(),
            Some(hours) => format!("after {hours:.1} h"),
        };
        println!(
            "  {}: {:.0} events/month, {:.0} rows — the events quota runs out {lasts}",
            plan.name, plan.events_per_month, plan.table_rows
        );
    }
}

async fn stream(http: &reqwest::Client, config: &StreamConfig) -> Outcome {
    let response = match stream_request(http, &config.stream_url, &config.token)
        .send()
        .await
    {
        Ok(r) => r,
        Err(err) => {
            return Outcome::Fail(format!("unreachable: {}", describe_transport_error(&err)))
        }
    };
    let status = response.status();
    if let Some(hint) = fatal_hint(status) {
        return Outcome::Fail(format!("HTTP {status}: {hint}"));
    }
    if !status.is_success() {
        return Outcome::Fail(format!(
            "HTTP {status}: the connector is not serving the stream right now"
        ));
    }
    let kind = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !kind.starts_with("text/event-stream") {
        return Outcome::Fail(format!(
            "HTTP {status} but content type {kind:?}, not an SSE stream: is --stream-url the connector's /stream/<product-id>?"
        ));
    }
    Outcome::Pass("connected, token accepted".into())
}

async fn table_check(client: &TablesClient, table: &str, bot_id: &str) -> Outcome {
    match client.find_rows(table, &json!({}), 1).await {
        Ok(_) => Outcome::Pass(format!("{table} readable")),
        Err(err) => Outcome::Fail(match err.status() {
            Some(StatusCode::UNAUTHORIZED) => {
                "the Botpress token was rejected: check --botpress-token (BOTPRESS_TOKEN)".into()
            }
            Some(StatusCode::FORBIDDEN) => format!(
                "the Botpress token may not use bot {bot_id}: check --bot-id (BOTPRESS_BOT_ID) and the token's workspace"
            ),
            Some(StatusCode::NOT_FOUND) => format!(
                "{table} not found: run `autoplay-botpress setup` (or check --bot-id {bot_id}): {}",
                message(&err)
            ),
            _ => err.to_string(),
        }),
    }
}

fn message(err: &TablesError) -> String {
    err.failure.reason.clone()
}

/// Connects to the webhook's host without sending a request: any request to a Botpress webhook
/// starts the bot's workflow, and a check must not change anything.
async fn webhook(hook: &WebhookConfig) -> Outcome {
    let url = &hook.url.0;
    let shown = redact_url(url);
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Outcome::Fail(format!("{shown}: no host"));
    };
    match tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Outcome::Pass(format!(
            "{shown} reachable (connected; no request sent, so no workflow ran)"
        )),
        Ok(Err(err)) => Outcome::Fail(format!("{shown} unreachable: {err}")),
        Err(_) => Outcome::Fail(format!(
            "{shown} unreachable: no answer in {}s",
            TIMEOUT.as_secs()
        )),
    }
}

async fn llm_check(http: &reqwest::Client, llm: &LlmConfig) -> Outcome {
    let url = format!("{}/models", llm.base_url.as_str().trim_end_matches('/'));
    let response = match http.get(url).bearer_auth(llm.api_key.expose()).send().await {
        Ok(r) => r,
        Err(err) => {
            return Outcome::Fail(format!("unreachable: {}", describe_transport_error(&err)))
        }
    };
    let status = response.status();
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Fail(format!(
            "HTTP {status}: the key was rejected: check --openai-api-key (OPENAI_API_KEY)"
        )),
        s if s.is_success() => {
            let models: Value = response.json().await.unwrap_or(Value::Null);
            let listed = models["data"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["id"] == llm.model.as_str()));
            if listed {
                Outcome::Pass(format!("key accepted, model {} available", llm.model))
            } else {
                Outcome::Pass(format!("key accepted (model {} not in the listed models; check --model if summaries fail)", llm.model))
            }
        }
        _ => {
            let body = response.text().await.unwrap_or_default();
            Outcome::Fail(format!("HTTP {status}: {}", snippet(&body)))
        }
    }
}
