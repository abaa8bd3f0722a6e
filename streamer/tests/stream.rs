//! The real `autoplay-botpress stream` against fake servers speaking real HTTP/SSE, in each
//! delivery mode: tables (sessions layout, the default), tables (events layout) and webhook.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(40);
const MODES: [Mode; 3] = [Mode::Sessions, Mode::Events, Mode::Webhook];

/// Every action, once; no billed events for activity in the tables modes; clean exit, no secret
/// in the logs.
async fn happy_path(mode: Mode) {
    let fakes = fakes(mode).await;
    let sessions = session_names("s", 3);
    let mut script = vec![Step::Frame(Some("heartbeat"), "{}".into())];
    script.extend(interleaved(&sessions, 4, 3));
    serve(&fakes, script);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), mode, &["--threshold", "6"]);
    streamer
        .wait_all_held("every action held", LIMIT, &sessions, 12)
        .await;
    // Two summaries per session; a summary is written with the next flush (the latest one of a
    // session wins), so wait until each session's stored summary is its second.
    streamer
        .wait_for("each session's second summary stored", LIMIT, || {
            fakes.with(|s| {
                let prompts = s
                    .llm
                    .prompts
                    .iter()
                    .filter(|p| p.contains("Summary so far:"))
                    .count();
                let table = if mode == Mode::Sessions {
                    "AutoPlaySessionsTable"
                } else {
                    "AutoPlayEventsSummaryTable"
                };
                let stored = s.tables.tables[table]
                    .rows
                    .iter()
                    .filter(|r| {
                        r["summary"]
                            .as_str()
                            .is_some_and(|t| t.contains("moving between /pricing (12 actions)"))
                    })
                    .count();
                prompts == 3 && stored == 3
            })
        })
        .await;
    assert_eq!(streamer.metric("actions_delivered_total").await, 36);

    fakes.with(|s| {
        assert_eq!(s.stream_auth[0], "Bearer autoplay-test-token");
        let summaries: Vec<&serde_json::Map<String, Value>> = match mode {
            Mode::Sessions => s.tables.tables["AutoPlaySessionsTable"]
                .rows
                .iter()
                .collect(),
            _ => s.tables.tables["AutoPlayEventsSummaryTable"]
                .rows
                .iter()
                .collect(),
        };
        assert_eq!(summaries.len(), 3, "one summary row per session");
        for row in summaries {
            let session = row["session_id"].as_str().unwrap();
            assert_eq!(row["user_id"], Value::from(format!("user-{session}")));
            assert!(
                row["summary"].as_str().unwrap().contains("6 actions"),
                "{row:?}"
            );
        }
        assert_eq!(s.llm.calls, 6, "a summary every 6 actions");
        match mode {
            Mode::Webhook => {
                assert!(
                    s.webhook.posts <= 12,
                    "coalesced: {} POSTs",
                    s.webhook.posts
                );
                for d in &s.webhook.delivered {
                    let id = d.body["batch_id"].as_str().expect("a batch_id");
                    assert_eq!(d.key.as_deref(), Some(id), "Idempotency-Key = batch_id");
                    assert!(d.body["actions"][0]["event_key"].is_string());
                }
            }
            _ => {
                assert_eq!(s.webhook.posts, 0, "the tables path makes no billed events");
                let op = |op: &str| s.tables.calls.iter().filter(|c| c.op == op).count();
                assert_eq!(
                    op("upsert") + op("find"),
                    s.tables.calls.len(),
                    "only upserts, and finds of the rows of sessions new here"
                );
                assert!(op("find") <= op("upsert"), "at most one find per flush");
            }
        }
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
async fn happy_path_sessions_layout() {
    happy_path(Mode::Sessions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_events_layout() {
    happy_path(Mode::Events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_webhook() {
    happy_path(Mode::Webhook).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_rows_carry_the_newest_actions_signals_and_times() {
    let fakes = fakes(Mode::Sessions).await;
    let pages = ["/pricing", "/checkout", "/pricing"];
    serve(&fakes, [frame(pages_frame("s1", 0, &pages, unix_now()))]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer.wait_held("the row", LIMIT, &["s1"], 3).await;
    streamer.terminate().await;
    fakes.with(|s| {
        let row = &s.tables.tables["AutoPlaySessionsTable"].rows[0];
        assert_eq!(row["actions"].as_array().unwrap().len(), 3);
        assert_eq!(
            row["actions"][2]["canonical_url"],
            "https://yourapp.com/pricing"
        );
        assert_eq!(row["signals"][0]["kind"], "ping_pong");
        assert!(row["first_action_at"].as_str().unwrap() < row["last_action_at"].as_str().unwrap());
        assert!(row["summary"].is_null(), "no summary before the threshold");
    });
}

/// 20 × 503 then a 429 from Botpress, in every mode: nothing lost, nothing doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_and_rate_limits_lose_nothing() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("o", 2);
        serve(&fakes, interleaved(&sessions, 5, 5));
        fakes.with(|s| {
            let faults = std::iter::repeat_n((503, None), 20).chain([(429, Some(1))]);
            receiver_faults(s, mode).failures = faults.collect();
        });
        let dir = tempfile::tempdir().unwrap();
        let mut streamer =
            Streamer::start(&fakes, dir.path(), mode, &["--max-retry-delay-ms", "500"]);
        streamer
            .wait_all_held("all actions after the outage", LIMIT, &sessions, 25)
            .await;
        assert!(
            streamer.metric("delivery_retries_total").await >= 1,
            "{mode:?}"
        );
        assert!(streamer.metric("rate_limited_total").await >= 1, "{mode:?}");
        streamer.stop_cleanly().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_stream_reconnects_and_carries_on() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| {
        s.connections.push_back(Connection::Script(
            (0..3)
                .map(|b| frame(actions_frame("s", b * 2, 2)))
                .collect(),
        ));
        s.connections.push_back(Connection::Status(503));
    });
    serve(&fakes, (3..6).map(|b| frame(actions_frame("s", b * 2, 2))));
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("12 actions across reconnects", LIMIT, &["s"], 12)
        .await;
    let indices = reached(&fakes, Mode::Sessions).indices["s"].clone();
    assert_eq!(indices, (0..12).collect(), "every action was written");
    assert!(streamer.metric("reconnects_total").await >= 2);
    assert_eq!(fakes.with(|s| s.connects), 3);
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_the_connector_client_accepts_are_delivered() {
    let fakes = fakes(Mode::Events).await;
    let lenient = |index: &str, title: &str| {
        format!(
            r#"{{"type":"actions","product_id":"p1","session_id":"s","user_id":"user-s","count":"1",
                "forwarded_at":"1795521600","actions":[{{"index":{index},"title":{title},
                "type":"click","timestamp_start":"1795521600.5"}}]}}"#
        )
    };
    serve(
        &fakes,
        [
            frame(lenient("0.0", "5")),
            frame(lenient(r#""1""#, "false")),
            frame(r#"{"type":"actions","session_id":"s","actions":{}}"#.into()),
            frame(lenient("2", "2.5")),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Events, &[]);
    streamer
        .wait_held("the three lenient actions", LIMIT, &["s"], 3)
        .await;
    let indices = reached(&fakes, Mode::Events).indices["s"].clone();
    assert_eq!(
        indices,
        (0..3).collect(),
        "every lenient action was written"
    );
    assert_eq!(streamer.metric("malformed_frames_total").await, 0);
    streamer.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_action_is_skipped_not_its_batch() {
    let fakes = fakes(Mode::Events).await;
    let action = |index: u64| {
        format!(
            r#"{{"index":{index},"title":"Click","type":"click","timestamp_start":{}}}"#,
            1_795_521_600 + index
        )
    };
    let batch = format!(
        r#"{{"type":"actions","product_id":"p1","session_id":"s","user_id":"user-s",
            "actions":[{},{},{{"index":2,"title":{{"text":"x"}}}},{}]}}"#,
        action(0),
        action(1),
        action(3)
    );
    serve(&fakes, [frame(batch)]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Events, &[]);
    streamer
        .wait_held("the batch's three good actions", LIMIT, &["s"], 3)
        .await;
    let indices = reached(&fakes, Mode::Events).indices["s"].clone();
    assert_eq!(indices, [0, 1, 3].into_iter().collect());
    assert_eq!(streamer.metric("skipped_actions_total").await, 1);
    assert_eq!(streamer.metric("malformed_frames_total").await, 0);
    assert_eq!(streamer.metric("actions_received_total").await, 3);
    let (status, logs, _) = streamer.terminate().await;
    assert!(status.success());
    assert!(
        logs.contains("left unreadable actions out of a batch")
            && logs.contains("data.actions[2].title: invalid type: map"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_are_skipped_and_counted() {
    let fakes = fakes(Mode::Events).await;
    let oversized = actions_frame("s", 0, 1).replace("clicked option 0", &"x".repeat(5000));
    serve(
        &fakes,
        [
            frame(actions_frame("s", 0, 1)),
            frame("this is not json".into()),
            frame(r#"{"type":"actions","actions":{"not":"a list"}}"#.into()),
            frame(
                r#"{"type":"actions","session_id":"s","actions":[{"title":{"text":42}}]}"#.into(),
            ),
            frame(oversized),
            frame(r#"{"type":"something_new","x":1}"#.into()),
            frame("[1,2,3]".into()),
            Step::Frame(Some("heartbeat"), "ping".into()),
            frame(actions_frame("s", 1, 1)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(
        &fakes,
        dir.path(),
        Mode::Events,
        &["--max-frame-bytes", "2048"],
    );
    streamer
        .wait_held("the two good actions", LIMIT, &["s"], 2)
        .await;
    assert_eq!(streamer.metric("malformed_frames_total").await, 5);
    assert_eq!(streamer.metric("oversized_frames_total").await, 1);
    let (status, logs, _) = streamer.terminate().await;
    assert!(status.success());
    assert!(
        logs.contains("data.actions[0].title: invalid type: map"),
        "{logs}"
    );
    assert!(logs.contains("skipping an oversized frame"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_summary_is_retried_with_the_restored_actions_and_lands_in_the_row() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.llm.failures_left = 1);
    serve(
        &fakes,
        [
            frame(actions_frame("s", 0, 4)),
            Step::Sleep(Duration::from_millis(1500)),
            frame(actions_frame("s", 4, 4)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Sessions, &["--threshold", "4"]);
    let summary = || {
        fakes.with(|s| {
            s.tables.tables["AutoPlaySessionsTable"]
                .rows
                .first()
                .and_then(|r| r["summary"].as_str().map(str::to_owned))
        })
    };
    streamer
        .wait_for("a summary in the row", LIMIT, || summary().is_some())
        .await;
    assert!(
        summary().unwrap().contains("8 actions"),
        "covers the 4 restored and 4 new actions: {summary:?}",
        summary = summary()
    );
    assert_eq!(streamer.metric("llm_failures_total").await, 1);
    streamer.terminate().await;
}

/// The connector's own summaries are stored with the session's user id, LLM key or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_summaries_keep_the_users_id_without_an_llm() {
    for mode in [Mode::Sessions, Mode::Events] {
        let fakes = fakes(mode).await;
        let summary = r#"{"type":"summary","product_id":"p1","session_id":"s9","summary":"Comparing plans.","replaces":12}"#;
        serve(
            &fakes,
            [frame(actions_frame("s9", 0, 1)), frame(summary.into())],
        );
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::without_llm(&fakes, dir.path(), mode, &[]);
        let table = if mode == Mode::Sessions {
            "AutoPlaySessionsTable"
        } else {
            "AutoPlayEventsSummaryTable"
        };
        let row = || {
            fakes.with(|s| {
                s.tables.tables[table]
                    .rows
                    .iter()
                    .find(|r| r["summary"] == "Comparing plans.")
                    .cloned()
            })
        };
        streamer
            .wait_for("the connector summary", LIMIT, || row().is_some())
            .await;
        let row = row().unwrap();
        assert_eq!(row["session_id"], "s9");
        assert_eq!(row["user_id"], "user-s9", "{mode:?}");
        streamer.terminate().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_batches_become_private_dead_letters_in_the_spool() {
    let fakes = fakes(Mode::Webhook).await;
    fakes.with(|s| s.webhook.reject_sessions.push("bad".into()));
    serve(
        &fakes,
        [
            frame(actions_frame("bad", 0, 2)),
            frame(actions_frame("good", 0, 2)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Webhook, &[]);
    streamer
        .wait_held("the good batch", LIMIT, &["good"], 2)
        .await;
    streamer
        .wait_for_metric("a dead letter", LIMIT, "dead_lettered_total", 1)
        .await;
    streamer.terminate().await;
    let letters = dead_letters(dir.path());
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["status"], 400);
    assert_eq!(letter["kind"], "webhook");
    assert!(letter["reason"]
        .as_str()
        .unwrap()
        .contains("no such product"));
    assert_eq!(letter["body"]["session_id"], "bad");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("spool.redb"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    assert!(!dir.path().join("dead-letter.jsonl").exists());
}

/// SIGKILL while Botpress is failing, then a restart after it heals: every action held once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_botpress_fails_then_a_restart_delivers_everything_once() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("k", 5);
        serve(&fakes, interleaved(&sessions, 2, 3));
        fakes.with(|s| receiver_faults(s, mode).down = true);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_for_metric(
                "all ten batches spooled",
                LIMIT,
                "batches_received_total",
                10,
            )
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await; // a few failing flushes
        streamer.kill().await;
        fakes.with(|s| receiver_faults(s, mode).down = false);
        serve(&fakes, []);
        let mut restarted = Streamer::start(&fakes, dir.path(), mode, &[]);
        restarted
            .wait_all_held("the spooled batches after restart", LIMIT, &sessions, 6)
            .await;
        restarted.stop_cleanly().await;
    }
}

/// Rows written before a restart stay in the session's row after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_continues_session_rows() {
    let fakes = fakes(Mode::Sessions).await;
    serve(&fakes, [frame(actions_frame("r", 0, 3))]);
    let dir = tempfile::tempdir().unwrap();
    let r = vec!["r".to_owned()];
    let mut first = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[]);
    first.wait_held("the first row", LIMIT, &r, 3).await;
    first.terminate().await;
    serve(&fakes, [frame(actions_frame("r", 3, 2))]);
    let mut second = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[]);
    second.wait_held("the row grows", LIMIT, &r, 5).await;
    second.terminate().await;
    let indices: Vec<u64> = fakes.with(|s| {
        s.tables.tables["AutoPlaySessionsTable"].rows[0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["index"].as_u64().unwrap())
            .collect()
    });
    assert_eq!(indices, [0, 1, 2, 3, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_stops_with_an_explanation() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.connections.push_back(Connection::Status(401)));
    let dir = tempfile::tempdir().unwrap();
    let (status, logs) = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[])
        .exit()
        .await;
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
    let base = [
        "stream",
        "--stream-url",
        "http://h/stream/p",
        "--token",
        "t",
        "--state-dir",
        "/tmp/x",
    ];
    let out = run(&base);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--deliver tables (the default)"));

    let out = run(&[&base[..], &["--deliver", "webhook"]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: --webhook-url (BOTPRESS_WEBHOOK_URL): required with --deliver webhook"
    );

    let out = run(&[
        "stream",
        "--stream-url",
        "http://h/stream/p",
        "--webhook-url",
        "http://h/x",
        "--deliver",
        "webhook",
        "--state-dir",
        "/tmp/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: --token (AUTOPLAY_TOKEN or AUTOPLAY_APP_UNKEY_TOKEN): the Autoplay API token is required"
    );

    let help = run(&["stream", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--stream-url",
        "AUTOPLAY_TOKEN",
        "--deliver",
        "--layout",
        "--flush-every",
        "--max-requests-per-minute",
        "--stream-idle-timeout",
        "--max-spool-mb",
        "--state-dir",
    ] {
        assert!(help.contains(flag), "--help mentions {flag}");
    }
}

/// Dated signatures for the autoplay integration (`tests/isolation.rs` covers `x-bp-secret`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bodies_are_signed_with_the_shared_secret() {
    let fakes = fakes(Mode::Webhook).await;
    fakes.with(|s| s.webhook.secret = Some("hook-secret".into()));
    serve(
        &fakes,
        [
            frame(actions_frame("s1", 0, 2)),
            frame(actions_frame("s2", 0, 3)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(
        &fakes,
        dir.path(),
        Mode::Webhook,
        &["--webhook-secret", "hook-secret"],
    );
    streamer
        .wait_for("both batches accepted", LIMIT, || {
            fakes.with(|s| s.webhook.delivered.len()) == 2
        })
        .await;
    let (_, logs, _) = streamer.terminate().await;
    assert_eq!(
        fakes.with(|s| s.webhook.posts),
        2,
        "a signature was refused"
    );
    assert!(!logs.contains("hook-secret"));
}

/// A stream where session s1 goes back and forth between pricing and checkout (a `ping_pong`
/// trigger, then the same again within the cooldown), and a streamer watching for it.
fn ping_pong_streamer(fakes: &Fakes, dir: &std::path::Path) -> Streamer {
    let now = unix_now();
    serve(
        fakes,
        [
            frame(pages_frame(
                "s1",
                0,
                &["/pricing", "/checkout", "/pricing"],
                now,
            )),
            frame(pages_frame("s2", 0, &["/docs"], now)),
            Step::Sleep(Duration::from_millis(300)),
            frame(pages_frame("s1", 3, &["/checkout", "/pricing"], now + 3.0)),
        ],
    );
    let config = triggers_file(dir, PING_PONG_ONLY);
    let flags = signed_triggers(fakes, &config);
    Streamer::start(fakes, &dir.join("state"), Mode::Sessions, &flags)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_fire_live_once_per_cooldown() {
    let fakes = fakes(Mode::Sessions).await;
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = ping_pong_streamer(&fakes, dir.path());
    streamer
        .wait_held("all actions stored", LIMIT, &["s1"], 5)
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(streamer.metric("triggers_fired_total").await, 1);
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    let t = &triggers[0];
    assert_eq!(t["trigger"], "ping_pong");
    assert_eq!(
        (t["session_id"].as_str(), t["user_id"].as_str()),
        (Some("s1"), Some("user-s1"))
    );
    // An LLM is configured, so the judge words the nudge from the user's own actions.
    assert!(
        t["message"].as_str().unwrap().starts_with("[fake judge]"),
        "{t:#}"
    );
    assert_eq!(
        t["signal"]["evidence"]["pages"],
        serde_json::json!(["/pricing", "/checkout"])
    );
    assert!(t["signal"]["description"]
        .as_str()
        .unwrap()
        .starts_with(r#"went back and forth between "/pricing" and "/checkout""#));
}

/// SIGTERM while a fired trigger waits out the webhook's `Retry-After`: it is still posted, and
/// the streamer exits cleanly with every action stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_a_trigger_is_being_retried_still_posts_it() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.webhook.faults.failures = [(503, Some(3))].into());
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = ping_pong_streamer(&fakes, dir.path());
    let sessions = vec!["s1".to_owned()];
    streamer
        .wait_for(
            "all actions stored, the trigger refused once",
            LIMIT,
            || {
                all_held(&fakes, Mode::Sessions, &sessions, 5)
                    && fakes.with(|s| s.webhook.posts >= 1)
            },
        )
        .await;
    let (status, logs, _) = streamer.terminate().await;
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{logs}");
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert_eq!(triggers.len(), 1, "{logs}");
    assert_eq!(triggers[0]["trigger"], "ping_pong");
    assert_all_held(&fakes, Mode::Sessions, &sessions, 5);
}

#[tokio::test]
async fn a_bad_triggers_file_is_a_configuration_error() {
    let (code, err) =
        stream_with_triggers_file(r#"{"signals": {"rageMinClicks": "four"}}"#, &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--triggers-config") && err.contains("triggers.signals.rageMinClicks"),
        "{err}"
    );
}
