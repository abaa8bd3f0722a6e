//! A small client for the Botpress Tables API (only the calls this tool makes). Every request
//! counts against the shared [`Budget`]; retries go through the shared driver.

use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::schema::{table_schema, Column};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::budget::Budget;
use crate::http::{check, transport_failure};
use crate::metrics::{Metrics, RequestKind};
use crate::retry::{drive, Failure, Policy, Stopped};
use crate::secret::Secret;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Credentials and location of the Botpress Tables API.
#[derive(Debug, Clone)]
pub struct BotpressConfig {
    pub api_url: Url,
    pub token: Secret,
    pub bot_id: String,
}

/// A Tables API call that did not succeed.
#[derive(Debug, thiserror::Error)]
#[error("{call}: {}", .failure.reason)]
pub struct TablesError {
    /// e.g. `POST /v1/tables/AutoPlaySessionsTable/rows/upsert`
    pub call: String,
    pub failure: Failure,
}

impl TablesError {
    /// The HTTP status Botpress answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.failure.status
    }
}

/// A get-or-create table call: name, column schema, key column and row factor.
#[derive(Debug, Clone)]
pub struct TableRequest {
    pub name: String,
    pub columns: &'static [Column],
    pub key_column: Option<&'static str>,
    pub factor: u8,
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
        if self.factor > 1 {
            body["factor"] = self.factor.into();
        }
        body
    }
}

/// What an upsert answered besides the rows (Botpress echoes every row back; only these matter).
#[derive(Debug, Default, Deserialize)]
pub struct UpsertAnswer {
    /// Errors of rows that were not written (the others were).
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// What a delete-by-filter did: rows deleted now, and the background job it started, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Deletion {
    pub deleted: u64,
    pub job: Option<Job>,
}

/// A Botpress background job (as much of it as it told).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Option<String>,
    pub status: Option<String>,
}

impl std::fmt::Display for Deletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.job {
            None => write!(f, "deleted {} rows", self.deleted),
            Some(job) => {
                write!(f, "started Botpress deletion job")?;
                if let Some(id) = &job.id {
                    write!(f, " {id}")?;
                }
                if let Some(status) = &job.status {
                    write!(f, " ({status})")?;
                }
                if self.deleted > 0 {
                    write!(f, ", {} rows deleted so far", self.deleted)?;
                }
                write!(f, "; the rows go in the background")
            }
        }
    }
}

/// Tables API calls for one bot.
#[derive(Clone)]
pub struct TablesClient {
    http: reqwest::Client,
    config: BotpressConfig,
    budget: Arc<Budget>,
    metrics: Arc<Metrics>,
    policy: Policy,
    /// Tables whose upsert warnings were logged already.
    warned: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl TablesClient {
    pub fn new(
        http: reqwest::Client,
        config: BotpressConfig,
        budget: Arc<Budget>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            http,
            config,
            budget,
            metrics,
            policy: Policy {
                first_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(15),
                max_attempts: Some(6),
            },
            warned: Arc::default(),
        }
    }

    /// True the first time it is asked about `table`: its warnings are logged once.
    pub fn first_warning(&self, table: &str) -> bool {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        warned.insert(table.to_owned())
    }

    /// The request budget its calls count against.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// The counters its calls update.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// No retries: for checks, where a quick clear answer beats persistence.
    pub fn single_attempt(mut self) -> Self {
        self.policy.max_attempts = Some(1);
        self
    }

    /// Upserts rows keyed by `key_column` (≤ 1,000 rows), once; returns the errors Botpress
    /// reported for some rows (the rest were written) and its warnings.
    pub async fn upsert_once<R: Serialize>(
        &self,
        table: &str,
        rows: &[R],
        key_column: &str,
    ) -> Result<UpsertAnswer, Failure> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Upsert<'a, R> {
            rows: &'a [R],
            key_column: &'a str,
        }
        let body = Upsert { rows, key_column };
        let path = format!("tables/{table}/rows/upsert");
        self.send(reqwest::Method::POST, &path, &body, RequestKind::Upsert)
            .await
    }

    /// Gets or creates a table; `Ok((created, table))` with the table as Botpress describes it.
    pub async fn get_or_create_table(
        &self,
        request: &TableRequest,
    ) -> Result<(bool, Value), TablesError> {
        let response: Value = self
            .call(
                reqwest::Method::POST,
                &request.path(),
                &request.body(),
                RequestKind::Table,
            )
            .await?;
        let created = response["created"].as_bool().unwrap_or(false);
        Ok((created, response["table"].clone()))
    }

    /// Updates an existing table (`PUT /v1/tables/{table}`: `schema`, `keyColumn`, …, as
    /// `@botpress/client`'s `updateTable`); the table as Botpress describes it afterwards.
    pub async fn update_table(&self, name: &str, body: &Value) -> Result<Value, TablesError> {
        let path = format!("tables/{name}");
        let response: Value = self
            .call(reqwest::Method::PUT, &path, body, RequestKind::Table)
            .await?;
        Ok(response["table"].clone())
    }

    /// Finds rows matching `filter`, at most `limit`.
    pub async fn find_rows(
        &self,
        table: &str,
        filter: &Value,
        limit: u32,
    ) -> Result<Value, TablesError> {
        let body = serde_json::json!({ "filter": filter, "limit": limit });
        let path = format!("tables/{table}/rows/find");
        self.call(reqwest::Method::POST, &path, &body, RequestKind::Find)
            .await
    }

    /// Deletes the rows matching `filter`. Botpress deletes by filter either at once (the count)
    /// or in a background job it names (then the count says nothing yet).
    pub async fn delete_rows(&self, table: &str, filter: &Value) -> Result<Deletion, TablesError> {
        let body = serde_json::json!({ "filter": filter });
        let path = format!("tables/{table}/rows/delete");
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Deleted {
            #[serde(default)]
            deleted_rows: u64,
            #[serde(default)]
            job: Option<Value>,
        }
        let deleted: Deleted = self
            .call(reqwest::Method::POST, &path, &body, RequestKind::Delete)
            .await?;
        let job = deleted.job.filter(|j| !j.is_null()).map(|job| {
            let text = |key: &str| job[key].as_str().map(str::to_owned);
            Job {
                id: text("id").or_else(|| job["id"].as_u64().map(|n| n.to_string())),
                status: text("status"),
            }
        });
        Ok(Deletion {
            deleted: deleted.deleted_rows,
            job,
        })
    }

    /// One call, retried per the client's policy (transient failures only).
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
        kind: RequestKind,
    ) -> Result<T, TablesError> {
        let what = format!("{method} /v1/{path}");
        let never = CancellationToken::new();
        drive(self.policy, &never, &what, |_| {
            self.send(method.clone(), path, body, kind)
        })
        .await
        .map_err(|stopped| TablesError {
            call: what.clone(),
            failure: match stopped {
                Stopped::Failed(failure) => failure,
                Stopped::Cancelled => Failure::transient("cancelled"),
            },
        })
    }

    /// One request within the budget; the answer decoded as `T` (an empty or unexpected answer
    /// decodes as `T`'s defaults where it has them).
    pub async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &B,
        kind: RequestKind,
    ) -> Result<T, Failure> {
        self.exchange(self.request(method, self.url(path)).json(body), kind)
            .await
    }

    /// A GET of `url` (query included, no body), as `@botpress/client` sends list calls.
    pub async fn get<T: DeserializeOwned>(
        &self,
        url: Url,
        kind: RequestKind,
    ) -> Result<T, Failure> {
        self.exchange(self.request(reqwest::Method::GET, url), kind)
            .await
    }

    /// A request with the bot's credentials.
    fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .timeout(REQUEST_TIMEOUT)
            .bearer_auth(self.config.token.expose())
            .header("x-bot-id", &self.config.bot_id)
    }

    /// Sends `request` within the budget; the answer decoded as `T`.
    async fn exchange<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        kind: RequestKind,
    ) -> Result<T, Failure> {
        self.budget.acquire().await;
        self.metrics.request(kind);
        let response = request.send().await.map_err(|e| transport_failure(&e))?;
        self.budget.observe(response.status(), response.headers());
        let body = check(response).await?;
        let body: &[u8] = if body.is_empty() { b"{}" } else { &body };
        serde_json::from_slice(body)
            .map_err(|e| Failure::transient(format!("Botpress answered with unexpected JSON: {e}")))
    }

    /// The full URL of a call under `/v1/`.
    pub fn url(&self, path: &str) -> Url {
        let base = self.config.api_url.as_str().trim_end_matches('/');
        // Both parts are validated (base URL) or built from validated table names.
        Url::parse(&format!("{base}/v1/{path}")).unwrap_or_else(|_| self.config.api_url.clone())
    }
}
