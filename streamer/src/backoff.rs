//! Retry delays: exponential with jitter, and `Retry-After`.
//!
//! Hand-written (a dozen lines) rather than a retry crate: every retry loop here must also stop
//! on shutdown and honour a server's `Retry-After`, which is simplest with the loop in plain sight
//! and only the delay computed here.

use std::time::{Duration, SystemTime};

/// Exponential backoff: `base`, doubling up to `max`, plus 0–10 % random jitter (the Autoplay
/// reference client's reconnect policy).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            next: base,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        delay + delay.mul_f64(fastrand::f64() * 0.1)
    }

    /// Back to `base` after a success.
    pub fn reset(&mut self) {
        self.next = self.base;
    }
}

/// Parses a `Retry-After` header: delay-seconds or an HTTP date. Capped at `cap`.
pub fn retry_after(headers: &reqwest::header::HeaderMap, cap: Duration) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let delay = match value.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Duration::from_secs_f64(seconds),
        Ok(_) => return None,
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(delay.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn doubles_with_jitter_up_to_max() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let delays: Vec<_> = (0..7).map(|_| b.next_delay()).collect();
        for (delay, nominal) in delays.iter().zip([1, 2, 4, 8, 16, 30, 30]) {
            let nominal = Duration::from_secs(nominal);
            assert!(
                *delay >= nominal && *delay <= nominal.mul_f64(1.1),
                "{delay:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(1101));
    }

    #[test]
    fn reads_retry_after() {
        let mut h = HeaderMap::new();
        let cap = Duration::from_secs(60);
        assert_eq!(retry_after(&h, cap), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h, cap), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h, cap), Some(cap));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h, cap), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, cap), None);
    }
}
