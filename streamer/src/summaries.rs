//! Rolling per-session summaries: the core's state machine driven by stream input and LLM calls.
//! One job per session and [`MAX_CALLS`] in all at a time; a failed LLM call keeps its slot for
//! [`RETRY_AFTER_FAILURE`] (an outage costs a few calls a minute, not one per session), then puts
//! its actions back (a bounded tail, bounded in total: see the core's summarizer) and is retried
//! behind the sessions waiting. Finished summaries, and the connector's own, wait in the [`SummaryInbox`] for
//! the next flush: they ride along with rows being written anyway, never a request of their own.

use std::sync::Arc;
use std::time::Duration;

use crate::summarizer::{Summarizer, SummarizerConfig, SummaryJob};
use crate::summarizer::{DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_TOTAL_PENDING_ACTIONS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connector::Incoming;
use crate::deliver::{ReadySummary, SummaryInbox};
use crate::llm::LlmClient;
use crate::metrics::{add, Metrics};
use crate::now_ms;

const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// LLM calls in flight at most; more jobs wait their turn (bounded memory, kinder to the API).
const MAX_CALLS: usize = 8;

enum Event {
    Input(Incoming),
    Done(SummaryJob, Result<String, String>),
}

pub struct Summaries {
    /// `None`: only the connector's summaries are passed on.
    pub llm: Option<Arc<LlmClient>>,
    pub inbox: Arc<SummaryInbox>,
    pub threshold: usize,
    pub metrics: Arc<Metrics>,
}

impl Summaries {
    /// Runs until `input` closes or `cancel` fires; jobs still out at shutdown are abandoned
    /// (their actions are stored already; only that summary is skipped).
    pub async fn run(self, mut input: mpsc::Receiver<Incoming>, cancel: CancellationToken) {
        let this = Arc::new(self);
        let mut state = Summarizer::new(SummarizerConfig {
            threshold: this.threshold,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            max_total_pending_actions: DEFAULT_MAX_TOTAL_PENDING_ACTIONS,
            max_jobs_out: MAX_CALLS,
            ..SummarizerConfig::default()
        });
        let (events_tx, mut events) = mpsc::unbounded_channel();
        // LLM calls (and a failed one's wait): stopped by `cancel`, awaited before returning.
        let tasks = TaskTracker::new();
        let mut evict = tokio::time::interval(Duration::from_secs(60));
        loop {
            let event = tokio::select! {
                Some(item) = input.recv() => Event::Input(item),
                Some(event) = events.recv() => event,
                _ = evict.tick() => {
                    for gone in state.evict_idle(now_ms()) {
                        tracing::debug!(session = %gone.owner.label(), unsummarized = gone.unsummarized_actions, "forgetting an idle session");
                    }
                    continue;
                }
                _ = cancel.cancelled() => break,
                else => break,
            };
            let job = match event {
                Event::Input(Incoming::Actions(payload)) if this.llm.is_some() => {
                    state.push(payload, now_ms())
                }
                Event::Input(Incoming::Actions(payload)) => {
                    state.note(&payload, now_ms());
                    None
                }
                Event::Input(Incoming::Summary(summary)) => {
                    let owner = summary
                        .session_id
                        .as_deref()
                        .map(|s| state.sole_owner_of(s));
                    match owner {
                        Some(Some(owner)) if !summary.summary.trim().is_empty() => {
                            this.inbox.put(ReadySummary {
                                owner: owner.clone(),
                                product_id: summary.product_id,
                                summary: summary.summary.trim().to_owned(),
                                action_count: summary.replaces,
                            });
                        }
                        Some(Some(_)) => {}
                        Some(None) => {
                            add(&this.metrics.summaries_unattributed_total, 1);
                            tracing::warn!("skipping a connector summary of a session id no single user of this run has sent (it could be anyone's)");
                        }
                        None => tracing::warn!("skipping a connector summary without a session id"),
                    }
                    None
                }
                Event::Done(job, Ok(summary)) => {
                    tracing::debug!(session = %job.owner.label(), actions = job.action_count(), "summary ready");
                    this.inbox.put(ReadySummary {
                        owner: job.owner.clone(),
                        product_id: job.product_id.clone(),
                        summary: summary.clone(),
                        action_count: job.total_actions,
                    });
                    state.complete(&job, summary)
                }
                Event::Done(job, Err(reason)) => {
                    add(&this.metrics.llm_failures_total, 1);
                    tracing::warn!(session = %job.owner.label(), actions = job.action_count(), %reason, "summary failed; its actions wait for the next try");
                    state.fail(job)
                }
            };
            let dropped = state.take_dropped();
            if dropped > 0 {
                add(&this.metrics.summary_actions_dropped_total, dropped);
            }
            if let (Some(job), Some(llm)) = (job, &this.llm) {
                let (llm, tx) = (llm.clone(), events_tx.clone());
                tasks.spawn(cancel.clone().run_until_cancelled_owned(async move {
                    let result = llm.complete(&job.prompt()).await.map_err(|e| e.to_string());
                    if result.is_err() {
                        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                    }
                    let _ = tx.send(Event::Done(job, result));
                }));
            }
        }
        tasks.close();
        tasks.wait().await;
    }
}
