//! Proactive nudges through the real binary: pacing turns a burst of friction into one trigger,
//! and a misspelt triggers file stops `stream` at start.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(40);

/// One live frame holding one action.
fn action(session: &str, index: u64, page: &str, kind: &str, title: &str, at: f64) -> Step {
    frame(
        json!({"type": "actions", "product_id": "p1", "session_id": session,
               "user_id": format!("user-{session}"), "count": 1,
               "actions": [{"title": title, "description": "", "type": kind, "index": index,
                            "canonical_url": format!("https://yourapp.com{page}"),
                            "timestamp_start": at}]})
        .to_string(),
    )
}

/// The issue's stuck user: pricing ↔ checkout, six "Pay now" clicks, three submits, one action
/// per frame.
fn burst(now: f64) -> Vec<Step> {
    let mut script = Vec::new();
    for (i, page) in ["/pricing", "/checkout", "/pricing", "/checkout"]
        .iter()
        .enumerate()
    {
        script.push(action(
            "s1",
            i as u64,
            page,
            "pageview",
            "Page view",
            now + i as f64,
        ));
    }
    for i in 0..6 {
        script.push(action(
            "s1",
            4 + i,
            "/checkout",
            "click",
            "Pay now",
            now + 4.0 + 0.2 * i as f64,
        ));
    }
    for i in 0..3 {
        script.push(action(
            "s1",
            10 + i,
            "/checkout",
            "submit",
            "Payment form",
            now + 6.0 + i as f64,
        ));
    }
    script
}

/// Polls a metric until it reaches `at_least` (or a few seconds pass) and returns it.
async fn metric_reaching(streamer: &Streamer, name: &str, at_least: u64) -> u64 {
    let mut value = 0;
    for _ in 0..400 {
        value = streamer.metric(name).await;
        if value >= at_least {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    value
}

/// Streams the burst with `file` as the triggers file (and the fake LLM as `llm` sets it, unless
/// `with_llm` is false); returns the streamer once the burst reached pacing, and the fakes.
async fn run_burst(
    file: &str,
    with_llm: bool,
    set: impl FnOnce(&mut FakeState),
) -> (Streamer, Fakes, tempfile::TempDir) {
    let fakes = fakes(Mode::Sessions).await;
    let script = burst(unix_now());
    serve(&fakes, script);
    fakes.with(set);
    let dir = tempfile::tempdir().unwrap();
    let config = triggers_file(dir.path(), file);
    let state = dir.path().join("state");
    let flags = signed_triggers(&fakes, &config);
    let mut streamer = if with_llm {
        Streamer::start(&fakes, &state, Mode::Sessions, &flags)
    } else {
        Streamer::without_llm(&fakes, &state, Mode::Sessions, &flags)
    };
    streamer
        .wait_held("all actions stored", LIMIT, &["s1"], 13)
        .await;
    (streamer, fakes, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_friction_posts_one_trigger() {
    let (mut streamer, fakes, _dir) = run_burst(NO_DWELL, false, |_| {}).await;
    // Every kind in the burst reaches pacing once (then its cooldown runs): one sent, two held.
    let mut suppressed = 0;
    for _ in 0..200 {
        suppressed = streamer.metric("triggers_outranked_total").await
            + streamer.metric("triggers_held_by_window_total").await;
        if suppressed >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(suppressed, 2);
    assert_eq!(streamer.metric("triggers_fired_total").await, 1);
    streamer
        .wait_for("the trigger posted", LIMIT, || {
            fakes.with(|s| !s.webhook.triggers.is_empty())
        })
        .await;
    assert_eq!(
        streamer.metric("judge_calls_total").await,
        0,
        "no LLM, no judge"
    );
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    assert_eq!(triggers[0]["session_id"], "s1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judge_writes_the_message_from_the_quoted_actions() {
    let (mut streamer, fakes, _dir) = run_burst(NO_DWELL, true, |_| {}).await;
    streamer
        .wait_for("the trigger posted", LIMIT, || {
            fakes.with(|s| !s.webhook.triggers.is_empty())
        })
        .await;
    let calls = streamer.metric("judge_calls_total").await;
    let latency = streamer.metric("judge_latency_ms_total").await;
    println!("judge: {calls} call(s) for 1 nudge, {latency} ms in all");
    assert_eq!(calls, 1);
    assert_eq!(streamer.metric("judge_failures_total").await, 0);
    streamer.terminate().await;
    let (triggers, prompts) = fakes.with(|s| (s.webhook.triggers.clone(), s.llm.prompts.clone()));
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let message = triggers[0]["message"].as_str().unwrap();
    assert!(message.starts_with("[fake judge] "), "{message}");
    assert!(message.contains(r#""/checkout""#), "{message}");
    let prompt = prompts
        .iter()
        .find(|p| p.contains("\nNudge signal: "))
        .expect("the judge was asked");
    assert!(
        prompt.contains(r#""pageview": "Page view" — "/pricing""#),
        "{prompt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_that_says_no_posts_nothing() {
    let (streamer, fakes, _dir) = run_burst(NO_DWELL, true, |s| s.llm.judge_refuses = true).await;
    assert_eq!(
        metric_reaching(&streamer, "judge_refusals_total", 1).await,
        1
    );
    assert_eq!(streamer.metric("triggers_fired_total").await, 1);
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert!(triggers.is_empty(), "{triggers:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_llm_down_the_deterministic_message_goes_or_none_per_on_failure() {
    let (mut streamer, fakes, _dir) = run_burst(NO_DWELL, true, |s| s.llm.down = true).await;
    streamer
        .wait_for("the trigger posted", LIMIT, || {
            fakes.with(|s| !s.webhook.triggers.is_empty())
        })
        .await;
    assert_eq!(streamer.metric("judge_failures_total").await, 1);
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let kind = triggers[0]["trigger"].as_str().unwrap();
    let deterministic =
        autoplay_botpress_cli::watch::default_message(serde_json::from_value(json!(kind)).unwrap());
    assert_eq!(triggers[0]["message"], deterministic);

    let drop = r#"{"triggers": {"dwell": {"enabled": false}}, "judge": {"onFailure": "drop"}}"#;
    let (streamer, fakes, _dir) = run_burst(drop, true, |s| s.llm.down = true).await;
    assert_eq!(
        metric_reaching(&streamer, "judge_failures_total", 1).await,
        1
    );
    let (_, logs, _) = streamer.terminate().await;
    assert!(
        logs.lines()
            .map(plain)
            .any(|l| l.contains("judge.onFailure applies") && l.contains("sent=false")),
        "{logs}"
    );
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert!(triggers.is_empty(), "{triggers:#?}");
}

#[tokio::test]
async fn a_misspelt_triggers_file_stops_stream_naming_the_key() {
    let (code, err) =
        stream_with_triggers_file(r#"{"trigers": {"ping_pong": {"cooldown_ms": 1000}}}"#, &[])
            .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown field `trigers`") && err.contains("`triggers`, `historyMs`"),
        "{err}"
    );
}

/// A log line without its terminal colour codes.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}
