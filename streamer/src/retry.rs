//! The one retry driver every caller uses (connector, Tables API, webhook, triggers, flushes):
//! exponential backoff with jitter, `Retry-After` honoured, shutdown honoured while waiting, and
//! only transient failures retried — what is refused for good or cannot work is returned at once.
//!
//! Hand-written rather than a retry crate: every loop here must stop on shutdown mid-wait, honour
//! a server's `Retry-After`, and restart its backoff after progress (a stream that delivered
//! frames before dropping), which is simplest with the loop in plain sight.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

/// How a failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Network errors, timeouts, 408/425/429/5xx: try again later.
    Transient,
    /// 413: the content must be sent in smaller parts.
    TooLarge,
    /// The receiver refuses this content for good: dead letter (batches) or give up.
    Rejected,
    /// The configuration cannot work (401/402/403/404): stop and say what to fix.
    Fatal,
    /// Botpress's `403 QuotaExceeded` (table rows): rows that already exist can still be
    /// updated, new ones cannot be added until rows are freed or the plan grows.
    Quota,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: FailureKind,
    pub status: Option<StatusCode>,
    /// For logs: what happened, without secrets.
    pub reason: String,
    /// The server's `Retry-After`.
    pub after: Option<Duration>,
    /// The attempt made progress before failing (e.g. a stream that delivered frames then
    /// dropped): the backoff starts over.
    pub progressed: bool,
}

impl Failure {
    /// A transient failure without a status (network, timeout, stream ended).
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Transient,
            status: None,
            reason: reason.into(),
            after: None,
            progressed: false,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// Why [`drive`] stopped without a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// Shutdown was requested.
    Cancelled,
    /// A failure that retrying cannot fix, or the last allowed attempt's failure.
    Failed(Failure),
}

/// How to retry.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// `None`: until success, a final failure or shutdown.
    pub max_attempts: Option<u32>,
}

/// Runs `attempt` (given the attempt number, from 1) until it succeeds, fails for good, runs out
/// of attempts or `cancel` fires (an attempt in progress is dropped). Each retry is logged at
/// `warn` with `what` and the reason. State an attempt changes goes behind an async mutex: the
/// attempt's future may only borrow what outlives the call.
pub async fn drive<T, F, Fut>(
    policy: Policy,
    cancel: &CancellationToken,
    what: &str,
    mut attempt: F,
) -> Result<T, Stopped>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut backoff = Backoff::new(policy.first_delay, policy.max_delay);
    for number in 1.. {
        if cancel.is_cancelled() {
            return Err(Stopped::Cancelled);
        }
        let failure = tokio::select! {
            outcome = attempt(number) => match outcome {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            },
            _ = cancel.cancelled() => return Err(Stopped::Cancelled),
        };
        let out_of_attempts = policy.max_attempts.is_some_and(|max| number >= max);
        if failure.kind != FailureKind::Transient || out_of_attempts {
            return Err(Stopped::Failed(failure));
        }
        if failure.progressed {
            backoff.reset();
        }
        let delay = failure.after.unwrap_or_else(|| backoff.next_delay());
        tracing::warn!(
            reason = %failure.reason,
            attempt = number,
            retry_in_ms = delay.as_millis() as u64,
            "{what} failed; retrying"
        );
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = cancel.cancelled() => return Err(Stopped::Cancelled),
        }
    }
    unreachable!("the attempt counter is unbounded")
}

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

    fn policy(max_attempts: Option<u32>) -> Policy {
        Policy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            max_attempts,
        }
    }

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

    #[tokio::test]
    async fn retries_transient_failures_until_success() {
        let cancel = CancellationToken::new();
        let got = drive(policy(None), &cancel, "test", |n| async move {
            if n < 3 {
                Err(Failure::transient("not yet"))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test]
    async fn final_failures_and_exhausted_attempts_stop_at_once() {
        let cancel = CancellationToken::new();
        let mut calls = 0;
        let fatal = Failure {
            kind: FailureKind::Fatal,
            ..Failure::transient("401")
        };
        let got: Result<(), _> = drive(policy(None), &cancel, "test", |_| {
            calls += 1;
            let failure = fatal.clone();
            async move { Err(failure) }
        })
        .await;
        assert_eq!((got, calls), (Err(Stopped::Failed(fatal)), 1));
        let got: Result<(), _> = drive(policy(Some(2)), &cancel, "test", |_| async {
            Err(Failure::transient("down"))
        })
        .await;
        assert!(matches!(got, Err(Stopped::Failed(f)) if f.reason == "down"));
    }

    #[tokio::test]
    async fn shutdown_interrupts_a_wait() {
        let cancel = CancellationToken::new();
        let slow = Policy {
            first_delay: Duration::from_secs(3600),
            ..policy(None)
        };
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            stopper.cancel();
        });
        let got: Result<(), _> = drive(slow, &cancel, "test", |_| async {
            Err(Failure::transient("down"))
        })
        .await;
        assert_eq!(got, Err(Stopped::Cancelled));
    }
}
