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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_friction_posts_one_trigger() {
    let fakes = fakes(Mode::Sessions).await;
    let now = unix_now();
    // The issue's stuck user: pricing ↔ checkout, six "Pay now" clicks, three submits.
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
    script.push(Step::Hold);
    fakes.with(|s| {
        s.webhook.secret = Some("hook-secret".into());
        s.connections.push_back(Connection::Script(script));
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triggers.json");
    std::fs::write(&config, r#"{"triggers": {"dwell": {"enabled": false}}}"#).unwrap();
    let state = dir.path().join("state");
    let mut streamer = Streamer::start(
        &fakes,
        &state,
        Mode::Sessions,
        &[
            "--triggers-config",
            config.to_str().unwrap(),
            "--webhook-secret",
            "hook-secret",
        ],
    );
    let sessions = vec!["s1".to_owned()];
    streamer
        .wait_for("all actions stored", LIMIT, || {
            all_held(&fakes, Mode::Sessions, &sessions, 13)
        })
        .await;
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
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    assert_eq!(triggers[0]["session_id"], "s1");
}

#[tokio::test]
async fn a_misspelt_triggers_file_stops_stream_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triggers.json");
    std::fs::write(
        &config,
        r#"{"trigers": {"ping_pong": {"cooldown_ms": 1000}}}"#,
    )
    .unwrap();
    let (code, _, err) = cli(&[
        "stream",
        "--stream-url",
        "http://127.0.0.1:9/stream/p",
        "--token",
        "t",
        "--deliver",
        "webhook",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--triggers-config",
        config.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown field `trigers`") && err.contains("`triggers`, `historyMs`"),
        "{err}"
    );
}
