//! `stream --nudges plugin`: proactive triggers delivered as bot messages through the Botpress
//! Chat API (the `autoplay` plugin's path), run through the real binary against the fakes.

mod common;

use std::time::Duration;

use autoplay_botpress_cli::messages::PENDING_NUDGES_TABLE;
use common::*;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_becomes_one_bot_message_or_a_pending_row_and_no_billed_event() {
    let fakes = fakes(Mode::Sessions).await;
    let now = unix_now();
    fakes.with(|s| {
        s.botpress_token = Some("bp-test-token".into());
        // user-s1 chats in conv-1 (the plugin's hook tagged them); user-s2 has no conversation.
        s.chat.add_user(&[
            ("autoplay#autoplayUserId", "user-s1"),
            ("autoplay#conversationId", "conv-1"),
        ]);
        // The first message's answer is lost: the retry must not create a second message.
        s.chat.lose_answers = 1;
        s.tables.apply(
            "table",
            PENDING_NUDGES_TABLE,
            &json!({ "keyColumn": "nudgeId", "schema": {} }),
        );
        let bounce = ["/pricing", "/checkout", "/pricing"];
        s.connections.push_back(Connection::Script(vec![
            frame(pages_frame("s1", 0, &bounce, now)),
            frame(pages_frame("s2", 0, &bounce, now)),
            Step::Hold,
        ]));
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("triggers.json");
    std::fs::write(
        &config,
        r#"{"triggers": {"ping_pong": {"message": "Comparing plans?"}, "dwell": {"enabled": false}}}"#,
    )
    .unwrap();
    let mut streamer = Streamer::start(
        &fakes,
        &dir.path().join("state"),
        Mode::Sessions,
        &[
            "--triggers-config",
            config.to_str().unwrap(),
            "--nudges",
            "plugin",
            "--nudge-ttl",
            "10m",
        ],
    );
    let pending = |s: &autoplay_botpress_cli::fakes::FakeState| {
        s.tables
            .tables
            .get(PENDING_NUDGES_TABLE)
            .map_or(0, |t| t.rows.len())
    };
    streamer
        .wait_for(
            "the message for s1 and the pending row for s2",
            LIMIT,
            || {
                fakes.with(|s| {
                    !s.chat.messages.is_empty() && pending(s) > 0 && s.chat.lose_answers == 0
                })
            },
        )
        .await;
    let fired = streamer.metric("triggers_fired_total").await;
    let (_, logs, _) = streamer.terminate().await;
    assert_eq!(fired, 2, "{}", tail(&logs, 3000));
    fakes.with(|s| {
        assert_eq!(s.chat.messages.len(), 1, "{:#?}", s.chat.messages);
        let message = &s.chat.messages[0];
        assert_eq!(message.conversation_id, "conv-1");
        assert_eq!(message.kind, "text");
        // An LLM is configured, so the judge words the nudge from the user's own actions.
        let text = message.payload["text"].as_str().unwrap();
        assert!(text.starts_with("[fake judge]"), "{:#}", message.payload);
        let nudge_id = message.tags["autoplay#nudgeId"].as_str().unwrap();
        assert!(nudge_id.contains("s1"), "{nudge_id}");
        // Nothing billed: no event created, no webhook POST.
        assert_eq!((s.chat.events_created, s.webhook.posts), (0, 0));
        let rows = &s.tables.tables[PENDING_NUDGES_TABLE].rows;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        let row = &rows[0];
        assert_eq!(row["key"], "user:user-s2");
        assert!(
            row["message"].as_str().unwrap().starts_with("[fake judge]"),
            "{row:#?}"
        );
        assert!(row["nudgeId"].as_str().unwrap().contains("s2"));
        let expires = autoplay_botpress::time::ms_from_iso(row["expiresAt"].as_str().unwrap());
        let ttl = expires.unwrap() as f64 / 1000.0 - now;
        assert!(
            (500.0..700.0).contains(&ttl),
            "expires {ttl} s after the actions"
        );
    });
}

#[tokio::test]
async fn plugin_nudges_need_the_botpress_credentials() {
    let (code, err) = stream_with_triggers_file("{}", &["--nudges", "plugin"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--bot-id") && err.contains("--nudges plugin"),
        "{err}"
    );
}
