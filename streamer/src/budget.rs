//! The request budget every call to Botpress goes through (table upserts, finds, deletes, webhook
//! POSTs, triggers): never more than `--max-requests-per-minute` in any 60-second window — the
//! same sliding window Botpress counts with — and a pause whenever Botpress says it is near its
//! own limit (`429`, `Retry-After`, `RateLimit-Remaining: 0` until `RateLimit-Reset`).
//!
//! Callers that fall behind do not queue requests: they send bigger ones (see `deliver`).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::http::header_number;
use crate::metrics::{add, Metrics};
use crate::retry::retry_after;

const WINDOW: Duration = Duration::from_secs(60);
/// Pause after a 429 that says nothing about when to come back.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(120);

/// A sliding-window request budget shared by every Botpress caller.
pub struct Budget {
    per_minute: usize,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
}

struct State {
    /// When each request of the last minute was sent, oldest first.
    sent: VecDeque<Instant>,
    /// No request before this (Botpress asked for a pause).
    paused_until: Option<Instant>,
}

impl Budget {
    pub fn new(per_minute: u32, metrics: Arc<Metrics>) -> Self {
        let per_minute = per_minute.max(1) as usize;
        metrics
            .budget_remaining
            .store(per_minute as u64, Ordering::Relaxed);
        Self {
            per_minute,
            state: Mutex::new(State {
                sent: VecDeque::with_capacity(per_minute),
                paused_until: None,
            }),
            metrics,
        }
    }

    /// Waits until one more request fits the budget, and counts it as sent. Cancel-safe: a
    /// request is counted only when this returns.
    pub async fn acquire(&self) {
        self.wait_until(|state, now| match state.paused_until {
            Some(until) if until > now => Some(until),
            _ if state.sent.len() < self.per_minute => {
                state.sent.push_back(now);
                let left = self.per_minute - state.sent.len();
                self.metrics
                    .budget_remaining
                    .store(left as u64, Ordering::Relaxed);
                None
            }
            // Full: the oldest request leaves the window first.
            _ => Some(state.sent.front().map_or(now, |t| *t + WINDOW)),
        })
        .await;
    }

    /// Reads what Botpress said about its own limit in a response.
    pub fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        let reset = header_number(headers, "ratelimit-reset").map(Duration::from_secs_f64);
        let pause = if status == StatusCode::TOO_MANY_REQUESTS {
            add(&self.metrics.rate_limited_total, 1);
            Some(
                retry_after(headers, MAX_PAUSE)
                    .or(reset)
                    .unwrap_or(DEFAULT_PAUSE),
            )
        } else if header_number(headers, "ratelimit-remaining") == Some(0.0) {
            Some(reset.unwrap_or(DEFAULT_PAUSE))
        } else {
            None
        };
        if let Some(pause) = pause {
            let until = Instant::now() + pause.min(MAX_PAUSE);
            let mut state = self.lock();
            if state.paused_until.is_none_or(|p| p < until) {
                state.paused_until = Some(until);
            }
        }
    }

    /// Waits until at most `share` of this minute's budget is used (for work that must leave
    /// the rest to delivery, e.g. triggers); does not take a request itself.
    pub async fn headroom(&self, share: f64) {
        let allowed = ((self.per_minute as f64 * share) as usize).max(1);
        self.wait_until(|state, now| {
            if state.sent.len() < allowed {
                return None;
            }
            let oldest_over = state.sent.len() - allowed;
            Some(state.sent.get(oldest_over).map_or(now, |t| *t + WINDOW))
        })
        .await;
    }

    /// The one wait behind `acquire` and `headroom`: drops the requests that have left the
    /// window, then asks `ready` whether the caller may go on (`None`, with whatever it did to
    /// the state kept) or when to look again (`Some`). The lock is never held while sleeping.
    async fn wait_until(&self, mut ready: impl FnMut(&mut State, Instant) -> Option<Instant>) {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Instant::now();
                while state.sent.front().is_some_and(|t| now - *t >= WINDOW) {
                    state.sent.pop_front();
                }
                match ready(&mut state, now) {
                    None => return,
                    Some(wait) => wait,
                }
            };
            tokio::time::sleep_until(wait).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn budget(per_minute: u32) -> Budget {
        Budget::new(per_minute, Arc::new(Metrics::default()))
    }

    #[tokio::test(start_paused = true)]
    async fn headroom_leaves_the_rest_of_the_minute_to_others() {
        let b = budget(8);
        let start = Instant::now();
        for _ in 0..2 {
            b.headroom(0.25).await;
            b.acquire().await;
        }
        assert_eq!(Instant::now() - start, Duration::ZERO);
        b.headroom(0.25).await;
        assert_eq!(
            Instant::now() - start,
            WINDOW,
            "2 of 8 used: waits for the window"
        );
        for _ in 0..6 {
            b.acquire().await;
        }
        assert_eq!(Instant::now() - start, WINDOW, "the others still had 6");
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_budget_in_any_minute() {
        let b = budget(5);
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..12 {
            b.acquire().await;
            sent.push(Instant::now() - start);
        }
        // Five at once, the next five a minute later, then two more a minute after that.
        assert!(sent[..5].iter().all(|t| *t < Duration::from_millis(1)));
        assert!(sent[5..10].iter().all(|t| *t == WINDOW));
        assert_eq!(sent[10], WINDOW * 2);
        for (i, t) in sent.iter().enumerate() {
            let in_window = sent
                .iter()
                .filter(|u| **u <= *t && *t - **u < WINDOW)
                .count();
            assert!(in_window <= 5, "request {i}: {in_window} in a minute");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn pauses_when_botpress_says_so() {
        let b = budget(100);
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        b.observe(StatusCode::TOO_MANY_REQUESTS, &headers);
        let start = Instant::now();
        b.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
        assert_eq!(b.metrics.rate_limited_total.load(Ordering::Relaxed), 1);

        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("ratelimit-reset", HeaderValue::from_static("7"));
        b.observe(StatusCode::OK, &headers);
        let start = Instant::now();
        b.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(7));
    }
}
