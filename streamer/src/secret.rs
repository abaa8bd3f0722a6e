//! A string that must never be printed: tokens and API keys.

use std::fmt;
use std::str::FromStr;

/// A credential. `Debug` and `Display` print `[redacted]`; only [`Secret::expose`] reveals it,
/// at the point where it goes into an HTTP header.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret value, for building a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            Err("must not be empty".to_owned())
        } else {
            Ok(Secret(trimmed.to_owned()))
        }
    }
}

/// A URL whose path or query is a credential (a Botpress webhook URL). `Debug` shows only the
/// scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(pub reqwest::Url);

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// A URL for logs: scheme, host and port only. Webhook URLs carry their secret in the path.
pub fn redact_url(url: &reqwest::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}/…", url.scheme()),
        (Some(host), None) => format!("{}://{host}/…", url.scheme()),
        _ => format!("{}:…", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s: Secret = "sk-live-123".parse().unwrap();
        assert_eq!(format!("{s:?} {s}"), "[redacted] [redacted]");
        assert_eq!(s.expose(), "sk-live-123");
        assert!(" ".parse::<Secret>().is_err());
    }

    #[test]
    fn urls_lose_their_path() {
        let url = reqwest::Url::parse("https://webhook.botpress.cloud/5c1e-secret?x=1").unwrap();
        assert_eq!(redact_url(&url), "https://webhook.botpress.cloud/…");
    }
}
