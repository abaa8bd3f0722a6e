//! `autoplay-botpress dead-letters list|retry`: what Botpress refused for good, and sending it
//! again once the cause is fixed.

use std::sync::Arc;

use crate::botpress::{BotpressConfig, TablesClient};
use crate::budget::Budget;
use crate::deadletter::{read_all, Letter, Target};
use crate::http::snippet;
use crate::metrics::{Metrics, RequestKind};
use crate::spool::Spool;
use crate::webhook::{Webhook, WebhookConfig};
use crate::ConfigError;

/// Requests per minute `retry` allows itself (it shares the bot's limit with the streamer).
const RETRY_BUDGET: u32 = 120;

/// Where `retry` sends: rows to the Tables API, bodies to the webhook (each needed only by the
/// letters of its kind).
#[derive(Debug)]
pub struct Destinations {
    pub botpress: Option<BotpressConfig>,
    pub webhook: Option<WebhookConfig>,
}

/// Prints every dead letter; `Ok(false)` when one could not be read.
pub fn list(spool: &Spool) -> anyhow::Result<bool> {
    let all = read_all(spool)?;
    if all.is_empty() {
        println!("no dead letters in {}", spool.path().display());
        return Ok(true);
    }
    let mut readable = true;
    for (n, (_, letter)) in all.iter().enumerate() {
        match letter {
            Ok(l) => {
                let (what, target) = match &l.target {
                    Target::Webhook { .. } => ("actions", "webhook".to_owned()),
                    Target::Rows { table, .. } => ("rows", table.clone()),
                };
                println!(
                    "{:>4}  {}  HTTP {}  {} {what} → {target}: {}",
                    n + 1,
                    l.at,
                    l.status,
                    l.target.size(),
                    snippet(&l.reason)
                );
            }
            Err(err) => {
                readable = false;
                println!("{:>4}  unreadable dead letter: {err}", n + 1);
            }
        }
    }
    println!(
        "\n{} dead letter(s); `autoplay-botpress dead-letters retry` sends them again",
        all.len()
    );
    Ok(readable)
}

/// Sends every dead letter again; keeps those still refused. `Ok(true)` when none is left.
pub async fn retry(spool: &Spool, to: Destinations) -> Result<bool, crate::Failure> {
    let metrics = Arc::new(Metrics::default());
    let budget = Arc::new(Budget::new(RETRY_BUDGET, metrics.clone()));
    let http = crate::http::client_builder()
        .build()
        .map_err(anyhow::Error::from)?;
    let tables = to
        .botpress
        .map(|b| TablesClient::new(http.clone(), b, budget.clone(), metrics.clone()));
    let webhook = to.webhook.map(|config| Webhook {
        http,
        config,
        budget,
        metrics,
    });
    let all = read_all(spool).map_err(anyhow::Error::from)?;
    let (mut sent, mut kept) = (Vec::new(), Vec::new());
    for (key, letter) in all {
        let Ok(letter) = letter else { continue };
        let outcome = match &letter.target {
            Target::Webhook { key, body } => match &webhook {
                Some(hook) => {
                    let body = serde_json::to_vec(body).unwrap_or_default();
                    hook.post(RequestKind::Webhook, key.as_deref(), body).await
                }
                None => {
                    return Err(ConfigError {
                        setting: "--webhook-url (BOTPRESS_WEBHOOK_URL)",
                        problem: "required to re-send dead-lettered webhook bodies".into(),
                    }
                    .into())
                }
            },
            Target::Rows {
                table,
                key_column,
                rows,
            } => match &tables {
                Some(client) => match client.upsert_once(table, rows, key_column).await {
                    Ok(answer) if answer.errors.is_empty() => Ok(()),
                    Ok(answer) => Err(crate::retry::Failure {
                        kind: crate::retry::FailureKind::Rejected,
                        ..crate::retry::Failure::transient(format!(
                            "Botpress reported row errors: {}",
                            answer.errors.join("; ")
                        ))
                    }),
                    Err(failure) => Err(failure),
                },
                None => {
                    return Err(ConfigError {
                        setting: "--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)",
                        problem: "required to re-send dead-lettered rows".into(),
                    }
                    .into())
                }
            },
        };
        match outcome {
            Ok(()) => sent.push(key),
            Err(failure) => {
                println!("still refused: {}", failure.reason);
                let letter = Letter {
                    reason: failure.reason,
                    status: failure.status.map_or(letter.status, |s| s.as_u16()),
                    ..letter
                };
                kept.push((
                    key,
                    serde_json::to_vec(&letter).map_err(anyhow::Error::from)?,
                ));
            }
        }
    }
    spool
        .update_letters(&sent, &kept)
        .map_err(anyhow::Error::from)?;
    println!(
        "re-sent {} dead letter(s); {} still refused (kept)",
        sent.len(),
        kept.len()
    );
    Ok(kept.is_empty())
}
