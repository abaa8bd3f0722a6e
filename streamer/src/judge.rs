//! The LLM judge on the live trigger path: each nudge pacing lets through is shown to the model
//! (the core's [`prompt`]) and sent with the model's message, or not sent when it says so. When
//! the model cannot be asked in time (offline, error, timeout, an unreadable answer) the
//! triggers file's `judge.onFailure` decides: the deterministic message, or nothing. A nudge is
//! never held longer than `judge.timeoutMs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::watch::judge::{prompt, read_verdict, Judge, OnFailure, Verdict};
use autoplay_botpress::signals::Step;
use autoplay_botpress::wire::TriggerEvent;

use crate::llm::LlmClient;
use crate::metrics::{add, Metrics};

/// The model and the triggers file's judge settings.
#[derive(Clone)]
pub struct JudgeCall {
    pub llm: Arc<LlmClient>,
    pub settings: Judge,
    pub metrics: Arc<Metrics>,
}

impl JudgeCall {
    /// The nudge to send (its message the judge's), or `None` when it is not to be sent.
    pub async fn review(&self, mut trigger: TriggerEvent, recent: &[Step]) -> Option<TriggerEvent> {
        add(&self.metrics.judge_calls_total, 1);
        let started = Instant::now();
        let asked = tokio::time::timeout(
            Duration::from_millis(self.settings.timeout_ms),
            self.llm.complete(&prompt(&trigger, recent)),
        )
        .await;
        add(
            &self.metrics.judge_latency_ms_total,
            started.elapsed().as_millis() as u64,
        );
        let verdict = match asked {
            Err(_) => Err(format!("no answer within {} ms", self.settings.timeout_ms)),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(answer)) => read_verdict(&answer),
        };
        match verdict {
            Ok(Verdict::Send(message)) => {
                trigger.message = message;
                Some(trigger)
            }
            Ok(Verdict::Refuse) => {
                add(&self.metrics.judge_refusals_total, 1);
                tracing::info!(session = %trigger.session_id, "the judge held a nudge back");
                None
            }
            Err(reason) => {
                add(&self.metrics.judge_failures_total, 1);
                let send = self.settings.on_failure == OnFailure::Send;
                tracing::warn!(%reason, session = %trigger.session_id, sent = send,
                    "the judge could not be asked; judge.onFailure applies");
                send.then_some(trigger)
            }
        }
    }
}
