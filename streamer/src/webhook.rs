//! POSTs to the Botpress webhook: batches (with `--deliver webhook`), proactive triggers, and
//! re-sent dead letters. Every POST is one billed Botpress event and one request of the budget.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::budget::Budget;
use crate::http::{check, transport_failure};
use crate::metrics::{Metrics, RequestKind};
use crate::retry::Failure;
use crate::secret::{Secret, SecretUrl};

/// Header carrying the body's signature, as the connector's push mode sends it.
pub const SIGNATURE_HEADER: &str = "X-Connector-Signature";
/// Header carrying the batch's or trigger's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// `sha256=<hex HMAC-SHA256 of the body>`, the connector's push-mode signature.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// The webhook, its signing secret and the budget its POSTs count against.
#[derive(Clone)]
pub struct Webhook {
    pub http: reqwest::Client,
    pub url: SecretUrl,
    /// Signs every body when set (`--webhook-secret`).
    pub secret: Option<Secret>,
    pub budget: Arc<Budget>,
    pub metrics: Arc<Metrics>,
}

impl Webhook {
    /// POSTs one JSON body once, within the budget. `key` goes in `Idempotency-Key`.
    pub async fn post(
        &self,
        kind: RequestKind,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(), Failure> {
        let mut request = self
            .http
            .post(self.url.0.clone())
            .timeout(REQUEST_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header(IDEMPOTENCY_HEADER, key);
        }
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret.expose(), &body));
        }
        self.budget.acquire().await;
        self.metrics.request(kind);
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| transport_failure(&e))?;
        self.budget.observe(response.status(), response.headers());
        check(response).await.map(drop)
    }
}
