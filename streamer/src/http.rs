//! What every HTTP caller shares: the client settings, and one reading of a response —
//! success, worth retrying, refused for good, too large, or a configuration that cannot work.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::retry::{retry_after, Failure, FailureKind};

/// Longest `Retry-After` honoured; a server asking for more is retried after this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Redirects followed in a row, at most.
const MAX_REDIRECTS: usize = 5;

/// The HTTP client settings every command shares: user agent, connect timeout, and redirects
/// followed only within the origin asked (see [`same_origin_redirects`]).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(concat!("autoplay-botpress/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .redirect(same_origin_redirects())
}

/// Every request carries a credential (a bearer token, a bot id, a webhook secret or a
/// signature made with it), and reqwest re-sends custom headers on a redirect: so a redirect to
/// another scheme, host or port is never followed. Its 3xx answer comes back instead, which
/// [`classify`] treats as a configuration error.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().first().map(reqwest::Url::origin);
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if from.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The one classification of HTTP statuses, for every caller:
/// - 408, 409 (Botpress: resource locked), 425, 429 and 5xx: transient, retry (honouring
///   `Retry-After`);
/// - 401, 402 (payment required), 403, 404, and a redirect to another origin (not followed, see
///   [`client_builder`]): the configuration, plan or account is wrong (token, secret, URL, table,
///   billing): retrying cannot help, and a batch is not at fault, so it is kept, never
///   dead-lettered;
/// - 413: too large: split and send again;
/// - any other status: the receiver refuses this content for good (dead letter).
pub fn classify(status: StatusCode) -> Option<FailureKind> {
    match status.as_u16() {
        200..=299 => None,
        408 | 409 | 425 | 429 | 500..=599 => Some(FailureKind::Transient),
        300..=399 | 401..=404 => Some(FailureKind::Fatal),
        413 => Some(FailureKind::TooLarge),
        _ => Some(FailureKind::Rejected),
    }
}

/// Turns a response into its body, or a [`Failure`] classified by [`classify`] whose reason
/// quotes the server's message (a Botpress error's `message`, else the start of the body). A
/// Botpress `403` of type `QuotaExceeded` is a [`FailureKind::Quota`], not a configuration error.
pub async fn check(response: reqwest::Response) -> Result<bytes::Bytes, Failure> {
    let status = response.status();
    let kind = classify(status);
    let after = retry_after(response.headers(), MAX_RETRY_AFTER);
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::transient(describe_transport_error(&e)))?;
    let Some(mut kind) = kind else {
        return Ok(body);
    };
    #[derive(serde::Deserialize)]
    struct BotpressError {
        message: String,
        #[serde(default, rename = "type")]
        kind: String,
    }
    let (message, error_type) = serde_json::from_slice::<BotpressError>(&body)
        .map(|e| (e.message, e.kind))
        .unwrap_or_else(|_| (snippet(&String::from_utf8_lossy(&body)), String::new()));
    if status == StatusCode::FORBIDDEN && error_type == "QuotaExceeded" {
        kind = FailureKind::Quota;
    }
    let message = if status.is_redirection() {
        "a redirect to another origin, not followed (the request's credentials stay with the \
         configured URL): set the URL it redirects to"
            .to_owned()
    } else {
        message
    };
    Err(Failure {
        kind,
        status: Some(status),
        reason: format!("HTTP {status}: {message}"),
        after,
        progressed: false,
    })
}

/// A transport error without the URL (which may hold a secret).
pub fn describe_transport_error(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(err);
    let mut detail = String::new();
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// A failed send as a transient [`Failure`].
pub fn transport_failure(err: &reqwest::Error) -> Failure {
    Failure::transient(describe_transport_error(err))
}

/// At most 300 characters of a response body, on one line.
pub fn snippet(body: &str) -> String {
    autoplay_botpress::text::truncate_chars(body.trim(), 300).replace(['\n', '\r'], " ")
}

/// A header as a number, if present and numeric.
pub fn header_number(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_classification() {
        let kind = |code| classify(StatusCode::from_u16(code).unwrap());
        assert_eq!(kind(204), None);
        for code in [408, 425, 429, 500, 502, 503, 504] {
            assert_eq!(kind(code), Some(FailureKind::Transient), "{code}");
        }
        for code in [301, 307, 308, 401, 402, 403, 404] {
            assert_eq!(kind(code), Some(FailureKind::Fatal), "{code}");
        }
        assert_eq!(kind(409), Some(FailureKind::Transient));
        assert_eq!(kind(413), Some(FailureKind::TooLarge));
        for code in [400, 422] {
            assert_eq!(kind(code), Some(FailureKind::Rejected), "{code}");
        }
    }
}
