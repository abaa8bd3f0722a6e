//! Rolling per-session summaries: the core state machine driven by stream input, LLM calls and
//! Tables API upserts. One job per session at a time; a failed LLM call puts its actions back and
//! is retried later; connector-side summaries are upserted the same way.

use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::summarizer::DEFAULT_IDLE_TIMEOUT_MS;
use autoplay_botpress::{
    summary_row, ActionsPayload, Summarizer, SummarizerConfig, SummaryJob, SummaryPayload,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::botpress::TablesClient;
use crate::forward::now_ms;
use crate::llm::LlmClient;
use crate::metrics::{add, Metrics};

/// Input of the summaries task.
#[derive(Debug)]
pub enum SummaryInput {
    Actions(ActionsPayload),
    Connector(SummaryPayload),
}

enum Event {
    Input(SummaryInput),
    Done(SummaryJob, Result<String, String>),
    Retry(String),
}

pub struct Summaries {
    pub tables: TablesClient,
    /// `None`: only connector summaries are written.
    pub llm: Option<Arc<LlmClient>>,
    pub table: String,
    pub threshold: usize,
    pub metrics: Arc<Metrics>,
}

const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

impl Summaries {
    /// Runs until `input` closes or `cancel` fires; jobs still out at shutdown are abandoned
    /// (their actions were delivered as events already; only the summary is skipped).
    pub async fn run(self, mut input: mpsc::Receiver<SummaryInput>, cancel: CancellationToken) {
        let this = Arc::new(self);
        let mut state = Summarizer::new(SummarizerConfig {
            threshold: this.threshold,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
        });
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let mut evict = tokio::time::interval(Duration::from_secs(60));
        loop {
            let event = tokio::select! {
                Some(item) = input.recv() => Event::Input(item),
                Some(event) = events.recv() => event,
                _ = evict.tick() => {
                    for gone in state.evict_idle(now_ms()) {
                        tracing::debug!(session = %gone.session_id, unsummarized = gone.unsummarized_actions, "forgetting an idle session");
                    }
                    continue;
                }
                _ = cancel.cancelled() => return,
                else => return,
            };
            let job = match event {
                Event::Input(SummaryInput::Actions(payload)) if this.llm.is_some() => {
                    state.push(payload, now_ms())
                }
                Event::Input(SummaryInput::Actions(_)) => None,
                Event::Input(SummaryInput::Connector(summary)) => {
                    let this = this.clone();
                    let user = summary
                        .session_id
                        .as_deref()
                        .and_then(|s| state.user_of(s))
                        .map(str::to_owned);
                    tokio::spawn(async move { this.write_connector_summary(summary, user).await });
                    None
                }
                Event::Done(job, Ok(summary)) => state.complete(&job, summary, now_ms()),
                Event::Done(job, Err(reason)) => {
                    add(&this.metrics.llm_failures_total, 1);
                    tracing::warn!(session = %job.session_id, actions = job.action_count(), %reason, "summary failed; its actions wait for the next try");
                    let session = job.session_id.clone();
                    state.fail(job, now_ms());
                    let tx = events_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(RETRY_AFTER_FAILURE).await;
                        let _ = tx.send(Event::Retry(session));
                    });
                    None
                }
                Event::Retry(session) => state.poll(&session, now_ms()),
            };
            if let Some(job) = job {
                let this = this.clone();
                let tx = events_tx.clone();
                tokio::spawn(async move {
                    let result = this.summarize(&job).await;
                    let _ = tx.send(Event::Done(job, result));
                });
            }
        }
    }

    /// LLM call then upsert; any failure sends the job back.
    async fn summarize(&self, job: &SummaryJob) -> Result<String, String> {
        let llm = self.llm.as_ref().ok_or("no LLM configured")?;
        let summary = llm
            .complete(&job.prompt())
            .await
            .map_err(|e| e.to_string())?;
        let row = summary_row(
            &job.session_id,
            job.user_id.as_deref(),
            &job.product_id,
            &summary,
            job.total_actions,
        );
        self.tables
            .upsert_rows(&self.table, &[row], "session_id")
            .await
            .map_err(|e| e.to_string())?;
        add(&self.metrics.summaries_written_total, 1);
        tracing::info!(session = %job.session_id, actions = job.action_count(), "summary written");
        Ok(summary)
    }

    async fn write_connector_summary(&self, summary: SummaryPayload, user_id: Option<String>) {
        let Some(session) = summary.session_id.as_deref().filter(|s| !s.is_empty()) else {
            tracing::warn!("skipping a connector summary without a session id");
            return;
        };
        if summary.summary.trim().is_empty() {
            return;
        }
        let row = summary_row(
            session,
            user_id.as_deref(),
            &summary.product_id,
            summary.summary.trim(),
            summary.replaces,
        );
        match self
            .tables
            .upsert_rows(&self.table, &[row], "session_id")
            .await
        {
            Ok(_) => add(&self.metrics.summaries_written_total, 1),
            Err(err) => tracing::error!(%err, session, "could not write a connector summary"),
        }
    }
}
