//! A small client for the Botpress Tables API (only the calls this tool makes).

use std::time::Duration;

use autoplay_botpress::schema::{table_schema, ColumnType};
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

impl TablesError {
    /// The HTTP status Botpress answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            Self::Transport { .. } => None,
        }
    }
}

/// A get-or-create table call: name, column schema and key column.
#[derive(Debug, Clone)]
pub struct TableRequest {
    pub name: String,
    pub columns: &'static [(&'static str, ColumnType, &'static str)],
    pub key_column: Option<&'static str>,
}

impl TableRequest {
    /// Path under `/v1/`.
    pub fn path(&self) -> String {
        format!("tables/{}", self.name)
    }

    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({ "schema": table_schema(self.columns) });
        if let Some(key) = self.key_column {
            body["keyColumn"] = key.into();
        }
        body
    }
}

/// Tables API calls for one bot.
#[derive(Clone)]
pub struct TablesClient {
    http: reqwest::Client,
    config: BotpressConfig,
    attempts: u32,
}

impl TablesClient {
    pub fn new(http: reqwest::Client, config: BotpressConfig) -> Self {
        Self {
            http,
            config,
            attempts: ATTEMPTS,
        }
    }

    /// No retries: for checks, where a quick clear answer beats persistence.
    pub fn single_attempt(mut self) -> Self {
        self.attempts = 1;
        self
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

    /// Gets or creates a table; `Ok((created, table))` with the table as Botpress describes it.
    pub async fn get_or_create_table(
        &self,
        request: &TableRequest,
    ) -> Result<(bool, Value), TablesError> {
        let response = self
            .call(reqwest::Method::POST, &request.path(), &request.body())
            .await?;
        let created = response["created"].as_bool().unwrap_or(false);
        Ok((created, response["table"].clone()))
    }

    /// Finds rows matching `filter`, at most `limit`.
    pub async fn find_rows(
        &self,
        table: &str,
        filter: &Value,
        limit: u32,
    ) -> Result<Value, TablesError> {
        let body = serde_json::json!({ "filter": filter, "limit": limit });
        self.call(
            reqwest::Method::POST,
            &format!("tables/{table}/rows/find"),
            &body,
        )
        .await
    }

    /// Deletes the rows matching `filter`; returns how many Botpress deleted.
    pub async fn delete_rows(&self, table: &str, filter: &Value) -> Result<u64, TablesError> {
        let body = serde_json::json!({ "filter": filter });
        let response = self
            .call(
                reqwest::Method::POST,
                &format!("tables/{table}/rows/delete"),
                &body,
            )
            .await?;
        Ok(response["deletedRows"].as_u64().unwrap_or(0))
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
            if attempt >= self.attempts {
                return Err(error);
            }
            let delay = after.unwrap_or_else(|| backoff.next_delay());
            tracing::warn!(%error, attempt, retry_in_ms = delay.as_millis() as u64, "retrying a Tables API call");
            tokio::time::sleep(delay).await;
        }
    }

    /// The full URL of a call under `/v1/`.
    pub fn url(&self, path: &str) -> Url {
        let base = self.config.api_url.as_str().trim_end_matches('/');
        // Both parts are validated (base URL) or built from validated table names.
        Url::parse(&format!("{base}/v1/{path}")).unwrap_or_else(|_| self.config.api_url.clone())
    }
}
