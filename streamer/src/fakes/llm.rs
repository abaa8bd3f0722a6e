//! An OpenAI-compatible endpoint that summarizes without a model: it reads the quoted action
//! lines of the streamer's prompt and states how many actions there were, which pages the session
//! visited and what it did last. Clearly labelled, deterministic, and able to fail on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{lock, FakeState};

/// The LLM's state.
#[derive(Debug, Default)]
pub struct LlmFake {
    /// How many calls fail (500) before it answers.
    pub failures_left: usize,
    /// Fail every call while set.
    pub down: bool,
    /// Prompts received (the last 1,000).
    pub prompts: Vec<String>,
    pub calls: usize,
    /// The judge's answer to nudge prompts: send (the default) or not.
    pub judge_refuses: bool,
    /// Page counts per session across calls, for a summary that rolls forward.
    pages: BTreeMap<String, BTreeMap<String, usize>>,
}

/// The model list; only the key `sk-test-key` (or the demo's `offline`) is accepted.
pub async fn models(headers: HeaderMap) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(auth, "Bearer sk-test-key" | "Bearer offline") {
        let refused = json!({"error": {"message": "Incorrect API key"}});
        return (StatusCode::UNAUTHORIZED, Json(refused)).into_response();
    }
    Json(json!({"data": [{"id": "gpt-4o-mini"}, {"id": "offline"}]})).into_response()
}

/// Chat completions: the offline summary of the prompt's actions.
pub async fn complete(
    State(state): State<Arc<Mutex<FakeState>>>,
    Json(body): Json<Value>,
) -> Response {
    // A model takes a moment; the pipeline must not depend on it answering at once.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let prompt = body["messages"][0]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let mut s = lock(&state);
    s.llm.calls += 1;
    if s.llm.prompts.len() >= 1_000 {
        s.llm.prompts.remove(0);
    }
    s.llm.prompts.push(prompt.clone());
    if s.llm.down || s.llm.failures_left > 0 {
        s.llm.failures_left = s.llm.failures_left.saturating_sub(1);
        return (StatusCode::INTERNAL_SERVER_ERROR, "model overloaded").into_response();
    }
    if prompt.contains("\nNudge signal: ") {
        return Json(judge_answer(&prompt, s.llm.judge_refuses)).into_response();
    }
    let session = prompt
        .lines()
        .find_map(|l| l.strip_prefix("New actions in session "))
        .and_then(|rest| quoted(rest).map(|(s, _)| s))
        .unwrap_or_else(|| "?".into());
    let actions: Vec<(String, String)> = prompt.lines().filter_map(action_line).collect();
    let Some((last, _)) = actions.last().cloned() else {
        return (StatusCode::BAD_REQUEST, "no action lines in the prompt").into_response();
    };
    let pages = s.llm.pages.entry(session).or_default();
    for (_, url) in &actions {
        let path = autoplay_botpress::signals::page_of(url);
        *pages.entry(path).or_default() += 1;
    }
    let mut visited: Vec<(&String, &usize)> = pages.iter().collect();
    visited.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let visited: Vec<String> = visited
        .iter()
        .map(|(p, n)| format!("{p} ({n} actions)"))
        .collect();
    let summary = format!(
        "[offline summary, no LLM] {} actions: the user has been moving between {}. Most recently: {last}.",
        actions.len(),
        visited.join(", ")
    );
    Json(json!({"choices": [{"message": {"role": "assistant", "content": summary}}]}))
        .into_response()
}

/// The judge's answer to a nudge prompt: no, or a message naming the last action and how many
/// of the listed actions were the same, e.g. `[fake judge] "click" "Pay now" 6 times on "/checkout"`.
fn judge_answer(prompt: &str, refuse: bool) -> Value {
    let content = if refuse {
        json!({"send": false})
    } else {
        let steps: Vec<(String, String, String)> = prompt.lines().filter_map(judge_line).collect();
        let message = match steps.last() {
            Some(last) => format!(
                "[fake judge] {:?} {:?} {} times on {:?}",
                last.0,
                last.1,
                steps.iter().filter(|s| *s == last).count(),
                last.2
            ),
            None => "[fake judge] no actions listed".to_owned(),
        };
        json!({"send": true, "message": message})
    };
    json!({"choices": [{"message": {"role": "assistant", "content": content.to_string()}}]})
}

/// One numbered action line of the judge's prompt, `N. "kind": "target" — "page"`.
fn judge_line(line: &str) -> Option<(String, String, String)> {
    let (number, rest) = line.split_once(". ")?;
    number.parse::<u32>().ok()?;
    let (kind, rest) = quoted(rest)?;
    let (target, rest) = quoted(rest.strip_prefix(": ")?)?;
    let (page, _) = quoted(rest.strip_prefix(" — ")?)?;
    Some((kind, target, page))
}

/// One numbered action line, `N. [index] "type": "what" — "url"`, as (what, url).
fn action_line(line: &str) -> Option<(String, String)> {
    let (number, rest) = line.split_once(". [")?;
    number.parse::<u32>().ok()?;
    let (_, rest) = rest.split_once("] ")?;
    let (_, rest) = quoted(rest)?;
    let (what, rest) = quoted(rest.strip_prefix(": ")?)?;
    let (url, _) = quoted(rest.strip_prefix(" — ")?)?;
    Some((what, url))
}

/// A JSON string literal at the start of `text`, and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<String>();
    let value = values.next()?.ok()?;
    Some((value, &text[values.byte_offset()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_streamers_action_lines() {
        let line =
            r#"3. [7] "click": "Selected the \"SDXL\" model" — "https://app.com/models/:id""#;
        assert_eq!(
            action_line(line),
            Some((
                "Selected the \"SDXL\" model".into(),
                "https://app.com/models/:id".into()
            ))
        );
        assert_eq!(action_line("Summary so far: 3. nothing"), None);
    }
}
