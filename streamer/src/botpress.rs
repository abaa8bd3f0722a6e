//! A small client for the Botpress Tables API (only the calls this tool makes).

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Serialize;
use serde_json::Value;

use crate::backoff::{retry_after, Backoff};
use crate::config::BotpressConfig;
use crate::forward::{describe_transport_error, snippet};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
const ATTEMPTS: u32 = 6;

#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error("Botpress answered HTTP {status} for {call}: {message}")]
    Status {
        call: String,
        status: StatusCode,
        message: String,
    },
    #[error("Botpress could not be reached for {call}: {reason}")]
    Transport { call: String, reason: String },
}

/// Tables API calls for one bot.
#[derive(Clone)]
pub struct TablesClient {
    http: reqwest::Client,
    config: BotpressConfig,
}

impl TablesClient {
    pub fn new(http: reqwest::Client, config: BotpressConfig) -> Self {
        Self { http, config }
    }

    /// Upserts rows keyed by `key_column`.
    pub async fn upsert_rows<R: Serialize>(
        &self,
        table: &str,
        rows: &[R],
        key_column: &str,
    ) -> Result<Value, TablesError> {
        let body = serde_json::json!({ "rows": rows, "keyColumn": key_column });
        self.call(
            reqwest::Method::POST,
            &format!("tables/{table}/rows/upsert"),
            &body,
        )
        .await
    }

    /// Sends one call, retrying 429, 5xx and network errors a few times with backoff.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, TablesError> {
        let url = self.url(path);
        let call = format!("{method} /v1/{path}");
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .http
                .request(method.clone(), url.clone())
                .timeout(REQUEST_TIMEOUT)
                .bearer_auth(self.config.token.expose())
                .header("x-bot-id", &self.config.bot_id)
                .json(body)
                .send()
                .await;
            let (error, after) = match result {
                Ok(response) if response.status().is_success() => {
                    return Ok(response.json().await.unwrap_or(Value::Null));
                }
                Ok(response) => {
                    let status = response.status();
                    let after = retry_after(response.headers(), Duration::from_secs(60));
                    let text = response.text().await.unwrap_or_default();
                    let message = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                        .unwrap_or_else(|| snippet(&text));
                    let error = TablesError::Status {
                        call: call.clone(),
                        status,
                        message,
                    };
                    if !(status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS) {
                        return Err(error);
                    }
                    (error, after)
                }
                Err(err) => (
                    TablesError::Transport {
                        call: call.clone(),
                        reason: describe_transport_error(&err),
                    },
                    None,
                ),
            };
            if attempt >= ATTEMPTS {
                return Err(error);
            }
            let delay = after.unwrap_or_else(|| backoff.next_delay());
            tracing::warn!(%error, attempt, retry_in_ms = delay.as_millis() as u64, "retrying a Tables API call");
            tokio::time::sleep(delay).await;
        }
    }

    fn url(&self, path: &str) -> Url {
        let base = self.config.api_url.as_str().trim_end_matches('/');
        // Both parts are validated (base URL) or built from validated table names.
        Url::parse(&format!("{base}/v1/{path}")).unwrap_or_else(|_| self.config.api_url.clone())
    }
}
