//! `autoplay-botpress check`: tries each part of a real configuration once, read-only, and
//! prints a checklist.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::botpress::{TablesClient, TablesError};
use crate::config::{LlmConfig, StreamConfig};
use crate::connector::{fatal_hint, stream_request};
use crate::forward::{describe_transport_error, snippet};
use crate::secret::redact_url;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass(String),
    Fail(String),
    Skip(String),
}

/// Runs every check, prints the checklist; `Ok(true)` when nothing failed.
pub async fn run(config: &StreamConfig) -> anyhow::Result<bool> {
    let http = crate::stream::http_client_builder()
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
            let client = TablesClient::new(http.clone(), botpress.clone()).single_attempt();
            for (label, table) in [
                ("Botpress events table", &config.tables.events),
                ("Botpress summary table", &config.tables.summary),
            ] {
                results.push((label, table_check(&client, table, &botpress.bot_id).await));
            }
        }
        None => results.push((
            "Botpress Tables API",
            Outcome::Skip("no --botpress-token/--bot-id: summaries and retention are off".into()),
        )),
    }
    results.push(("Botpress webhook", webhook(config).await));
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
    if failures == 0 {
        println!("\nall checks passed: `autoplay-botpress stream` with the same settings is ready to run");
    } else {
        println!("\n{failures} check(s) failed");
    }
    Ok(failures == 0)
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
    match err {
        TablesError::Status { message, .. } => message.clone(),
        TablesError::Transport { reason, .. } => reason.clone(),
    }
}

/// Connects to the webhook's host without sending a request: any request to a Botpress webhook
/// starts the bot's workflow, and a check must not change anything.
async fn webhook(config: &StreamConfig) -> Outcome {
    let url = &config.webhook_url.0;
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
