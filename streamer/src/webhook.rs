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

/// Header carrying the body's signature (the header the connector's push mode signs with too).
pub const SIGNATURE_HEADER: &str = "X-Connector-Signature";
/// Header the generic Botpress Webhook integration authenticates callers by: the secret itself,
/// sent only with `--webhook-secret-header`, and then instead of a signature.
pub const BOTPRESS_SECRET_HEADER: &str = "x-bp-secret";
/// Header carrying the batch's or trigger's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: a signature that dates
/// itself, so a receiver can refuse one replayed later (the integration allows 5 minutes).
pub fn sign(secret: &str, body: &[u8], unix_seconds: u64) -> String {
    let t = unix_seconds.to_string();
    format!("t={t},v1={}", hmac_hex(secret, &[t.as_bytes(), b".", body]))
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`: the connector's push-mode signature.
pub fn sign_push_mode(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(secret, &[body]))
}

fn hmac_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The webhook and the secret that signs its bodies.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: SecretUrl,
    /// Signs every body when set (`--webhook-secret`).
    pub secret: Option<Secret>,
    /// Sends the secret itself as `x-bp-secret` instead of a signature (the generic Botpress
    /// Webhook integration's check; `--webhook-secret-header`). Never both: a signature next
    /// to its key proves nothing.
    pub secret_header: bool,
}

/// The webhook, its settings and the budget its POSTs count against.
#[derive(Clone)]
pub struct Webhook {
    pub http: reqwest::Client,
    pub config: WebhookConfig,
    pub budget: Arc<Budget>,
    pub metrics: Arc<Metrics>,
}

impl Webhook {
    /// POSTs one JSON body once, within the budget. `key` goes in `Idempotency-Key`. The
    /// signature is dated after the budget wait, so a body never leaves already old.
    pub async fn post(
        &self,
        kind: RequestKind,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(), Failure> {
        self.budget.acquire().await;
        let mut request = self
            .http
            .post(self.config.url.0.clone())
            .timeout(REQUEST_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(key) = key {
            request = request.header(IDEMPOTENCY_HEADER, key);
        }
        match &self.config.secret {
            Some(secret) if self.config.secret_header => {
                request = request.header(BOTPRESS_SECRET_HEADER, secret.expose());
            }
            Some(secret) => {
                let now = (crate::now_ms() / 1000).max(0) as u64;
                request = request.header(SIGNATURE_HEADER, sign(secret.expose(), &body, now));
            }
            None => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_date_themselves() {
        // HMAC-SHA256("key", "1700000000.{}"), checked with openssl.
        assert_eq!(
            sign("key", b"{}", 1_700_000_000),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert!(sign_push_mode("key", b"{}").starts_with("sha256="));
    }
}
