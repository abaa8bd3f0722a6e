//! `stream --nudges plugin`: proactive triggers delivered as bot messages through the Botpress
//! Chat API (the `autoplay` plugin's path), run through the real binary against the fakes.

mod common;

use std::time::Duration;

use autoplay_botpress::session_row::NudgeNote;
use autoplay_botpress_cli::fakes::ChatLine;
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
    });
    bounce_twice(&fakes, now);
    let dir = tempfile::tempdir().unwrap();
    let config = triggers_file(dir.path(), PING_PONG_ONLY);
    let mut streamer = Streamer::start(
        &fakes,
        &dir.path().join("state"),
        Mode::Sessions,
        &[
            "--triggers-config",
            &config,
            "--nudges",
            "plugin",
            "--nudge-ttl",
            "10m",
        ],
    );
    let pending = |s: &FakeState| {
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
                    !s.chat.messages.is_empty()
                        && pending(s) > 0
                        && s.chat.lose_answers == 0
                        && ["s1", "s2"].iter().all(|id| {
                            nudges_of(s, id).is_some_and(|n| n[0]["outcomes"] != json!([]))
                        })
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
        // Each session's row records its nudge, so the agent knows what it already said.
        for (session, outcome, id) in [
            ("s1", "delivered", nudge_id),
            ("s2", "pending", row["nudgeId"].as_str().unwrap()),
        ] {
            let nudges = nudges_of(s, session).unwrap();
            assert_eq!(nudges.len(), 1, "{nudges:#?}");
            assert_eq!(nudges[0]["id"], NudgeNote::id_for(id));
            assert_eq!(nudges[0]["kind"], "ping_pong");
            assert!(nudges[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("[fake judge]"));
            assert_eq!(nudges[0]["outcomes"], json!([outcome]), "{session}");
        }
        let expires = autoplay_botpress::time::ms_from_iso(row["expiresAt"].as_str().unwrap());
        let ttl = expires.unwrap() as f64 / 1000.0 - now;
        assert!(
            (500.0..700.0).contains(&ttl),
            "expires {ttl} s after the actions"
        );
    });
}

/// Serves s1 and s2 going pricing → checkout → pricing, starting at `now`.
fn bounce_twice(fakes: &Fakes, now: f64) {
    let bounce = ["/pricing", "/checkout", "/pricing"];
    serve(
        fakes,
        [
            frame(pages_frame("s1", 0, &bounce, now)),
            frame(pages_frame("s2", 0, &bounce, now)),
        ],
    );
}

/// The `nudges` column of `session`'s row in the sessions table, once the row has some.
fn nudges_of(s: &FakeState, session: &str) -> Option<Vec<serde_json::Value>> {
    let table = s
        .tables
        .tables
        .get(autoplay_botpress::schema::SESSIONS_TABLE)?;
    let row = table.rows.iter().find(|r| r["session_id"] == session)?;
    row["nudges"].as_array().filter(|n| !n.is_empty()).cloned()
}

/// Two linked users ping-pong; `user-s1` wrote in their conversation `wrote_ago_ms` before (if
/// set). Returns the streamer, running with `--nudges plugin`.
fn chatting_users(fakes: &Fakes, wrote_ago_ms: Option<i64>, dir: &std::path::Path) -> Streamer {
    let now = unix_now();
    fakes.with(|s| {
        s.botpress_token = Some("bp-test-token".into());
        for (user, conversation) in [("user-s1", "conv-1"), ("user-s2", "conv-2")] {
            s.chat.add_user(&[
                ("autoplay#autoplayUserId", user),
                ("autoplay#conversationId", conversation),
            ]);
        }
        if let Some(ago) = wrote_ago_ms {
            s.chat.lines.push(ChatLine {
                conversation_id: "conv-1".into(),
                direction: "incoming",
                created_at_ms: (now * 1000.0) as i64 - ago,
            });
        }
    });
    bounce_twice(fakes, now);
    let config = triggers_file(dir, NO_DWELL);
    Streamer::without_llm(
        fakes,
        &dir.join("state"),
        Mode::Sessions,
        &["--triggers-config", &config, "--nudges", "plugin"],
    )
}

fn conversations(fakes: &Fakes) -> Vec<String> {
    fakes.with(|s| {
        s.chat
            .messages
            .iter()
            .map(|m| m.conversation_id.clone())
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_nudge_lands_in_a_chat_exchange_its_conversation_shows() {
    let fakes = fakes(Mode::Sessions).await;
    let dir = tempfile::tempdir().unwrap();
    // user-s1 wrote 10 s ago (inside the 2-minute quiet time); user-s2's conversation is quiet.
    let mut streamer = chatting_users(&fakes, Some(10_000), dir.path());
    streamer
        .wait_for_metric("s1's nudge held", LIMIT, "triggers_held_by_chat_total", 1)
        .await;
    streamer
        .wait_for("s2's nudge", LIMIT, || !conversations(&fakes).is_empty())
        .await;
    let lookups = streamer
        .metric(r#"botpress_requests_total{kind="chat"}"#)
        .await;
    let fired = streamer.metric("triggers_fired_total").await;
    let delivered = r#"nudge_outcomes_total{kind="ping_pong",outcome="delivered"}"#;
    streamer
        .wait_for_metric("s2's nudge counted", LIMIT, delivered, 1)
        .await;
    let delivered = streamer.metric(delivered).await;
    let (_, logs, _) = streamer.terminate().await;
    assert_eq!(conversations(&fakes), ["conv-2"], "{}", tail(&logs, 3000));
    assert_eq!(fired, 2);
    assert_eq!(delivered, 1, "the held nudge has no outcomes");
    assert_eq!(lookups, 2, "one listMessages per nudge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_look_up_of_the_last_messages_neither_loses_nor_wedges_the_nudge() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.chat.fail_list_messages = true);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = chatting_users(&fakes, None, dir.path());
    streamer
        .wait_for("both nudges", LIMIT, || conversations(&fakes).len() == 2)
        .await;
    let failures = streamer.metric("chat_lookup_failures_total").await;
    let dropped = streamer.metric("triggers_dropped_total").await;
    streamer.terminate().await;
    assert_eq!((failures, dropped), (2, 0));
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
