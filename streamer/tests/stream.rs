//! The real `autoplay-botpress stream` against fake servers speaking real HTTP/SSE.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

/// Every delivered action once, in order within its session.
fn assert_exactly_once_in_order(fakes: &Fakes, expected: &[(&str, u64)]) {
    let delivered = fakes.delivered_actions();
    let unique: HashSet<_> = delivered.iter().cloned().collect();
    let wanted: HashSet<_> = expected.iter().map(|(s, i)| (s.to_string(), *i)).collect();
    assert_eq!(unique, wanted, "the set of delivered actions");
    let mut last: HashMap<String, u64> = HashMap::new();
    for (session, index) in delivered {
        if let Some(prev) = last.insert(session.clone(), index) {
            assert!(index > prev, "session {session}: {index} after {prev}");
        }
    }
}

fn all_actions(
    sessions: &[&'static str],
    batches: u64,
    per_batch: u64,
) -> Vec<(&'static str, u64)> {
    sessions
        .iter()
        .flat_map(|s| (0..batches * per_batch).map(move |i| (*s, i)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_delivers_everything_once_with_summaries_per_session() {
    let fakes = Fakes::start().await;
    let sessions = ["s1", "s2", "s3"];
    let mut script = vec![Step::Frame(Some("heartbeat"), "{}".into())];
    for b in 0..4 {
        for s in sessions {
            script.push(frame(actions_frame(s, b * 3, 3)));
        }
    }
    script.push(Step::Hold);
    fakes.with(|s| s.connections.push_back(Connection::Script(script)));
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &["--threshold", "6"]);

    wait_until("12 batches delivered", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 12
    })
    .await;
    wait_until("2 summaries per session", LIMIT, || {
        fakes.with(|s| s.upserts.len()) == 6
    })
    .await;
    assert_exactly_once_in_order(&fakes, &all_actions(&sessions, 4, 3));
    assert_eq!(streamer.metric("actions_forwarded_total").await, 36);

    fakes.with(|s| {
        assert_eq!(s.stream_auth[0], "Bearer autoplay-test-token");
        for (body, key, _) in &s.delivered {
            let id = body["batch_id"]
                .as_str()
                .expect("every body carries its batch_id");
            assert_eq!(
                key.as_deref(),
                Some(id),
                "the Idempotency-Key header matches"
            );
            assert_eq!(
                body["user_id"],
                Value::from(format!("user-{}", body["session_id"].as_str().unwrap()))
            );
        }
        for (table, body, auth, bot) in &s.upserts {
            assert_eq!(table, "AutoPlayEventsSummaryTable");
            assert_eq!(body["keyColumn"], "session_id");
            assert_eq!(auth.as_deref(), Some("Bearer bp-test-token"));
            assert_eq!(bot.as_deref(), Some("bot-1"));
            let row = &body["rows"][0];
            assert_eq!(row["summary"], "The user performed 6 actions.");
            assert_eq!(
                row["user_id"],
                Value::from(format!("user-{}", row["session_id"].as_str().unwrap()))
            );
        }
        let rolled: Vec<_> = s
            .llm_prompts
            .iter()
            .filter(|p| p.contains("Summary so far:"))
            .collect();
        assert_eq!(
            rolled.len(),
            3,
            "each session's second summary builds on its first"
        );
    });

    let (status, logs, took) = streamer.terminate().await;
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{logs}");
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    for secret in [
        "autoplay-test-token",
        "bp-test-token",
        "sk-test-key",
        "/hook",
    ] {
        assert!(
            !logs.contains(secret),
            "{secret} leaked into the logs:\n{logs}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outage_and_rate_limits_lose_nothing() {
    let fakes = Fakes::start().await;
    let mut script: Vec<Step> = (0..10)
        .map(|b| {
            frame(actions_frame(
                if b % 2 == 0 { "a" } else { "b" },
                b / 2 * 5,
                5,
            ))
        })
        .collect();
    script.push(Step::Hold);
    fakes.with(|s| {
        s.connections.push_back(Connection::Script(script));
        s.webhook_failures = std::iter::repeat_n((503, None), 20)
            .chain([(429, Some(1))])
            .collect();
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &["--max-retry-delay-ms", "1000"]);
    wait_until("all 10 batches delivered", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 10
    })
    .await;
    assert_exactly_once_in_order(&fakes, &all_actions(&["a", "b"], 5, 5));
    assert!(streamer.metric("forward_retries_total").await >= 21);
    assert_eq!(streamer.metric("spool_depth").await, 0);
    let (status, _, _) = streamer.terminate().await;
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_reconnects_and_carries_on() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.connections.push_back(Connection::Script(
            (0..3)
                .map(|b| frame(actions_frame("s", b * 2, 2)))
                .collect(),
        ));
        s.connections.push_back(Connection::Status(503));
        s.connections.push_back(Connection::Script(
            (3..6)
                .map(|b| frame(actions_frame("s", b * 2, 2)))
                .chain([Step::Hold])
                .collect(),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &[]);
    wait_until("6 batches across reconnects", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 6
    })
    .await;
    assert_exactly_once_in_order(&fakes, &all_actions(&["s"], 6, 2));
    assert!(streamer.metric("reconnects_total").await >= 2);
    assert_eq!(fakes.with(|s| s.connects), 3);
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_skipped_and_counted() {
    let fakes = Fakes::start().await;
    let oversized = actions_frame("s", 0, 1).replace("clicked option 0", &"x".repeat(5000));
    fakes.with(|s| {
        s.connections.push_back(Connection::Script(vec![
            frame(actions_frame("s", 0, 1)),
            frame("this is not json".into()),
            frame(r#"{"type":"actions","actions":{"not":"a list"}}"#.into()),
            frame(r#"{"type":"actions","session_id":"s","actions":[{"title":42}]}"#.into()),
            frame(oversized),
            frame(r#"{"type":"something_new","x":1}"#.into()),
            frame("[1,2,3]".into()),
            Step::Frame(Some("heartbeat"), "ping".into()),
            frame(actions_frame("s", 1, 1)),
            Step::Hold,
        ]))
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &["--max-frame-bytes", "2048"]);
    wait_until("the two good batches", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 2
    })
    .await;
    assert_exactly_once_in_order(&fakes, &[("s", 0), ("s", 1)]);
    assert_eq!(streamer.metric("malformed_frames_total").await, 5);
    let (status, logs, _) = streamer.terminate().await;
    assert!(status.success());
    assert!(
        logs.contains("data.actions[0].title: invalid type: integer `42`"),
        "{logs}"
    );
    assert!(logs.contains("skipping an oversized frame"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llm_failures_write_nothing_until_a_later_summary_covers_the_restored_actions() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.llm_failures_left = 1;
        s.connections.push_back(Connection::Script(vec![
            frame(actions_frame("s", 0, 4)),
            Step::Sleep(Duration::from_millis(1500)),
            frame(actions_frame("s", 4, 4)),
            Step::Hold,
        ]));
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &["--threshold", "4"]);
    wait_until("the first LLM call", LIMIT, || {
        fakes.with(|s| s.llm_prompts.len()) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        fakes.with(|s| s.upserts.len()),
        0,
        "no summary row after a failed LLM call"
    );
    wait_until("a summary row", LIMIT, || {
        fakes.with(|s| s.upserts.len()) == 1
    })
    .await;
    fakes.with(|s| {
        let row = &s.upserts[0].1["rows"][0];
        assert_eq!(
            row["summary"], "The user performed 8 actions.",
            "covers the 4 restored and 4 new actions"
        );
        assert_eq!(row["action_count"], 8);
    });
    assert_eq!(streamer.metric("llm_failures_total").await, 1);
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_summaries_are_upserted_per_session() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.connections.push_back(Connection::Script(vec![
            frame(actions_frame("s9", 0, 1)),
            frame(r#"{"type":"summary","product_id":"p1","session_id":"s9","summary":"Comparing plans.","replaces":12}"#.into()),
            Step::Hold,
        ]))
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &[]);
    wait_until("the connector summary", LIMIT, || {
        fakes.with(|s| s.upserts.len()) == 1
    })
    .await;
    fakes.with(|s| {
        let row = &s.upserts[0].1["rows"][0];
        assert_eq!(
            (row["session_id"].as_str(), row["summary"].as_str()),
            (Some("s9"), Some("Comparing plans."))
        );
        assert_eq!(row["user_id"], "user-s9");
    });
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_batches_go_to_the_dead_letter_file() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.reject_sessions.push("bad".into());
        s.connections.push_back(Connection::Script(vec![
            frame(actions_frame("bad", 0, 2)),
            frame(actions_frame("good", 0, 2)),
            Step::Hold,
        ]));
    });
    let dir = tempfile::tempdir().unwrap();
    let streamer = Streamer::start(&fakes, dir.path(), &[]);
    wait_until("the good batch", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 1
    })
    .await;
    let path = dir.path().join("dead-letter.jsonl");
    wait_until("a dead letter", LIMIT, || {
        std::fs::read_to_string(&path).is_ok_and(|t| t.lines().count() == 1)
    })
    .await;
    let line: Value = serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    assert_eq!(line["status"], 400);
    assert!(line["reason"].as_str().unwrap().contains("no such product"));
    assert_eq!(line["batch"]["session_id"], "bad");
    assert_eq!(streamer.metric("dead_lettered_total").await, 1);
    assert_eq!(streamer.metric("spool_depth").await, 0);
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_streamer_delivers_its_spool_after_restart() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.webhook_down = true;
        s.connections.push_back(Connection::Script(
            (0..5)
                .map(|i| frame(actions_frame(&format!("k{i}"), 0, 3)))
                .chain([Step::Hold])
                .collect(),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), &[]);
    let mut depth = 0;
    for _ in 0..1500 {
        depth = streamer.metric("spool_depth").await;
        if depth == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        depth, 5,
        "all five batches spooled while the webhook is down"
    );
    streamer.child.start_kill().unwrap(); // SIGKILL: no chance to clean up
    streamer.child.wait().await.unwrap();
    assert!(fakes.with(|s| s.delivered.is_empty()));

    fakes.with(|s| s.webhook_down = false);
    let restarted = Streamer::start(&fakes, dir.path(), &[]);
    wait_until("the spooled batches after restart", LIMIT, || {
        fakes.with(|s| s.delivered.len()) == 5
    })
    .await;
    let expected: Vec<(String, u64)> = (0..5)
        .flat_map(|i| (0..3).map(move |a| (format!("k{i}"), a)))
        .collect();
    let expected: Vec<(&str, u64)> = expected.iter().map(|(s, a)| (s.as_str(), *a)).collect();
    assert_exactly_once_in_order(&fakes, &expected);
    let (status, _, _) = restarted.terminate().await;
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_stops_with_an_explanation() {
    let fakes = Fakes::start().await;
    fakes.with(|s| s.connections.push_back(Connection::Status(401)));
    let dir = tempfile::tempdir().unwrap();
    let (status, logs) = Streamer::start(&fakes, dir.path(), &[]).exit().await;
    assert_eq!(status.code(), Some(1));
    assert!(logs.contains("HTTP 401 Unauthorized: the Autoplay token was not accepted; check --token / AUTOPLAY_TOKEN"), "{logs}");
    assert!(!logs.contains("autoplay-test-token"));
}

#[tokio::test]
async fn bad_configuration_fails_fast_naming_the_setting() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"))
            .args(args)
            .env_clear()
            .output()
            .unwrap()
    };
    let out = run(&[
        "stream",
        "--stream-url",
        "http://h/stream/p",
        "--token",
        "t",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--webhook-url <WEBHOOK_URL>"));

    let out = run(&[
        "stream",
        "--stream-url",
        "http://h/stream/p",
        "--webhook-url",
        "http://h/x",
        "--state-dir",
        "/tmp/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: --token (AUTOPLAY_TOKEN or AUTOPLAY_APP_UNKEY_TOKEN): the Autoplay API token is required"
    );

    let out = run(&[
        "stream",
        "--stream-url",
        "http://h/",
        "--token",
        "t",
        "--webhook-url",
        "http://h/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--stream-url (AUTOPLAY_STREAM_URL): must end in /stream/<product-id>"));

    let help = run(&["stream", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--stream-url",
        "AUTOPLAY_TOKEN",
        "BOTPRESS_WEBHOOK_URL",
        "--threshold",
        "--state-dir",
        "--metrics-addr",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}");
    }
}

#[tokio::test]
async fn webhook_bodies_are_signed_with_the_shared_secret() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.webhook_secret = Some("hook-secret".into());
        s.connections.push_back(Connection::Script(vec![
            frame(actions_frame("s1", 0, 2)),
            frame(actions_frame("s2", 0, 3)),
            Step::Hold,
        ]));
    });
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), &["--webhook-secret", "hook-secret"]);
    streamer
        .wait_while_running("both batches accepted", Duration::from_secs(20), || {
            fakes.with(|s| s.delivered.len()) == 2
        })
        .await;
    let (_, logs, _) = streamer.terminate().await;
    assert_eq!(
        fakes.with(|s| s.webhook_attempts),
        2,
        "a signature was refused"
    );
    assert!(!logs.contains("hook-secret"));
}

#[tokio::test]
async fn triggers_fire_live_once_per_cooldown() {
    let fakes = Fakes::start().await;
    let now = unix_now();
    fakes.with(|s| {
        s.webhook_secret = Some("hook-secret".into());
        s.connections.push_back(Connection::Script(vec![
            // s1 goes back and forth, then keeps doing it (inside the cooldown).
            frame(pages_frame(
                "s1",
                0,
                &["/pricing", "/checkout", "/pricing"],
                now,
            )),
            frame(pages_frame("s2", 0, &["/docs"], now)),
            Step::Sleep(Duration::from_millis(300)),
            frame(pages_frame("s1", 3, &["/checkout", "/pricing"], now + 3.0)),
            Step::Hold,
        ]));
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triggers.json");
    std::fs::write(&config, r#"{"triggers": {"ping_pong": {"message": "Comparing plans?"}, "dwell": {"enabled": false}}}"#).unwrap();
    let state = dir.path().join("state");
    let mut streamer = Streamer::start(
        &fakes,
        &state,
        &[
            "--triggers-config",
            config.to_str().unwrap(),
            "--webhook-secret",
            "hook-secret",
        ],
    );
    streamer
        .wait_while_running("all batches delivered", Duration::from_secs(20), || {
            fakes.with(|s| s.delivered.len()) == 3
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(streamer.metric("triggers_fired_total").await, 1);
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.triggers.clone());
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let t = &triggers[0];
    assert_eq!(t["trigger"], "ping_pong");
    assert_eq!(t["session_id"], "s1");
    assert_eq!(t["user_id"], "user-s1");
    assert_eq!(t["message"], "Comparing plans?");
    assert_eq!(
        t["signal"]["evidence"]["pages"],
        serde_json::json!(["/pricing", "/checkout"])
    );
    assert!(t["signal"]["description"]
        .as_str()
        .unwrap()
        .starts_with("went back and forth between /pricing and /checkout"));
}

#[tokio::test]
async fn a_bad_triggers_file_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triggers.json");
    std::fs::write(&config, r#"{"signals": {"rageMinClicks": "four"}}"#).unwrap();
    let (code, _, err) = cli(&[
        "stream",
        "--stream-url",
        "http://127.0.0.1:9/stream/p",
        "--token",
        "t",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--triggers-config",
        config.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--triggers-config") && err.contains("triggers.signals.rageMinClicks"),
        "{err}"
    );
}
