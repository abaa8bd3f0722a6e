//! Isolation and authenticity through the real binary and the fakes (issue 19): whatever ids a
//! hostile browser sends, each row, summary, webhook body and prompt holds one (user, session)
//! pair's actions; credentials never leave for another origin; state files are owner-only.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use autoplay_botpress::context::ContextInput;
use autoplay_botpress::decode::decode_json;
use autoplay_botpress::{build_agent_context, AgentContext};
use common::*;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);

/// An `actions` frame of `n` clicks by `user` in `session` (`None`: the field is `null`); every
/// description names the user (its first 16 bytes), so a test can tell whose an action is.
fn frame_of(user: &str, session: Option<&str>, n: u64) -> Step {
    let who = &user[..user.len().min(16)];
    let actions: Vec<Value> = (0..n)
        .map(|i| {
            json!({"title": "Click element", "description": format!("{who} clicked option {i}"),
                   "canonical_url": "https://yourapp.com/pricing", "index": i, "type": "click",
                   "timestamp_start": unix_now() - 30.0 + i as f64})
        })
        .collect();
    frame(
        json!({"type": "actions", "product_id": "p1", "session_id": session, "user_id": user,
               "actions": actions, "count": n})
        .to_string(),
    )
}

/// What the agent shows `user` from the rows of `table` (as the bot reads them: every row).
fn context_for(fakes: &Fakes, table: &str, field: &str, user: &str) -> AgentContext {
    let rows: Vec<Value> = fakes.with(|s| {
        s.tables.tables[table]
            .rows
            .iter()
            .map(|r| Value::Object(r.clone()))
            .collect()
    });
    let input = json!({"userId": user, field: rows}).to_string();
    let input: ContextInput = decode_json("input", &input).unwrap();
    build_agent_context(
        input,
        autoplay_botpress::time::ms_from_unix_seconds(unix_now()).unwrap(),
    )
    .unwrap()
}

/// The (user, session) pair of each row of `table`.
fn pairs(fakes: &Fakes, table: &str) -> Vec<(Value, Value)> {
    fakes.with(|s| {
        s.tables.tables[table]
            .rows
            .iter()
            .map(|r| (r["user_id"].clone(), r["session_id"].clone()))
            .collect()
    })
}

fn descriptions(context: &AgentContext) -> Vec<&str> {
    context
        .recent_events
        .iter()
        .map(|e| e.description.as_str())
        .collect()
}

/// The hostile script (then held open): bob reuses alice's session id; carol and dave send no session, a blank
/// one and a whitespace one; mallory sends the old "no session" keys as session ids.
fn hostile_script() -> Vec<Step> {
    vec![
        frame_of("alice", Some("s1"), 6),
        frame_of("bob", Some("s1"), 5),
        frame_of("carol", None, 2),
        frame_of("dave", Some(""), 3),
        frame_of("carol", Some("  "), 1),
        frame_of("mallory", Some("no-session:carol"), 4),
        frame_of("mallory", Some("no-session"), 4),
    ]
}

/// Sessions layout: alice's and bob's actions in one session id stay in two rows, each user's
/// context shows only their own; session-less users never share a row; old sentinel keys
/// used as session ids take nothing over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_id_two_users_two_rows() {
    let fakes = fakes(Mode::Sessions).await;
    serve(&fakes, hostile_script());
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    let table = "AutoPlaySessionsTable";
    let total = |s: &FakeState| -> u64 {
        s.tables.tables[table]
            .rows
            .iter()
            .map(|r| r["action_count"].as_u64().unwrap_or(0))
            .sum()
    };
    streamer
        .wait_for("all 25 actions in rows", LIMIT, || {
            fakes.with(|s| total(s)) == 25
        })
        .await;
    streamer.terminate().await;
    let users = pairs(&fakes, table);
    println!("rows (user, session): {users:?}");
    assert_eq!(
        users.len(),
        6,
        "alice/s1, bob/s1, carol/-, dave/-, mallory x2"
    );
    let field = "sessionRows";
    for (user, own) in [("alice", 6), ("bob", 5), ("carol", 3), ("dave", 3)] {
        let context = context_for(&fakes, table, field, user);
        let seen = descriptions(&context);
        println!("{user}'s context: {} actions", seen.len());
        assert_eq!(seen.len(), own, "{user}: {seen:?}");
        assert!(seen.iter().all(|d| d.starts_with(user)), "{user}: {seen:?}");
    }
    // An unidentified chat reads nothing, even with rows of unknown users about.
    let nobody = context_for(&fakes, table, field, "");
    assert!(nobody.recent_events.is_empty() && nobody.user_id.is_none());
}

/// Events layout: the per-session summary row is per pair, and so is each summarizer prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_and_prompts_are_per_pair() {
    let fakes = fakes(Mode::Events).await;
    serve(&fakes, hostile_script());
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Events, &["--threshold", "5"]);
    let table = "AutoPlayEventsSummaryTable";
    streamer
        .wait_for("alice's and bob's summaries", LIMIT, || {
            fakes.with(|s| s.tables.tables[table].rows.len()) >= 2
        })
        .await;
    streamer.terminate().await;
    let prompts = fakes.with(|s| s.llm.prompts.clone());
    println!("{} prompts", prompts.len());
    for prompt in &prompts {
        let users: Vec<&str> = ["alice", "bob", "carol", "dave", "mallory"]
            .into_iter()
            .filter(|u| prompt.contains(&format!("{u} clicked")))
            .collect();
        assert_eq!(users.len(), 1, "one user per prompt: {users:?}\n{prompt}");
    }
    let rows = pairs(&fakes, table);
    assert!(rows.contains(&(json!("alice"), json!("s1"))), "{rows:?}");
    assert!(rows.contains(&(json!("bob"), json!("s1"))), "{rows:?}");
}

/// `--deliver webhook` never merges batches of different pairs into one body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bodies_hold_one_pair_each() {
    let fakes = fakes(Mode::Webhook).await;
    serve(&fakes, hostile_script());
    let dir = tempfile::tempdir().unwrap();
    let mut streamer =
        Streamer::without_llm(&fakes, dir.path(), Mode::Webhook, &["--flush-every", "1s"]);
    let actions = |s: &FakeState| -> usize {
        s.webhook
            .delivered
            .iter()
            .map(|d| d.body["actions"].as_array().map_or(0, Vec::len))
            .sum()
    };
    streamer
        .wait_for("all 25 actions posted", LIMIT, || {
            fakes.with(|s| actions(s)) >= 25
        })
        .await;
    streamer.terminate().await;
    let bodies: Vec<Value> =
        fakes.with(|s| s.webhook.delivered.iter().map(|d| d.body.clone()).collect());
    println!("{} bodies for 7 batches", bodies.len());
    for body in &bodies {
        let user = body["user_id"].as_str().unwrap();
        let all_theirs = body["actions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["description"].as_str().unwrap().starts_with(user));
        assert!(
            all_theirs,
            "a body of {user} carries someone else's actions: {body}"
        );
    }
}

/// A `pageview` frame of `pages` by `user` in `session`, the first at `at`.
fn pages_of(user: &str, session: &str, first_index: u64, pages: &[&str], at: f64) -> Step {
    let mut data: Value =
        serde_json::from_str(&pages_frame(session, first_index, pages, at)).unwrap();
    data["user_id"] = json!(user);
    frame(data.to_string())
}

/// Triggers are per pair: bob, sending with alice's session id, interleaves his page views with
/// hers. His own ping-pong fires one trigger naming (bob, s1); alice's own ping-pong still fires
/// for (alice, s1), neither fired by bob's pages nor held back by bob's cooldown; carol, on the
/// same session id, bouncing only once, fires nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_belong_to_the_pair_that_earned_them() {
    let fakes = fakes(Mode::Sessions).await;
    let now = unix_now() - 30.0;
    serve(
        &fakes,
        [
            pages_of("alice", "s1", 0, &["/pricing", "/checkout"], now),
            pages_of("carol", "s1", 0, &["/pricing"], now + 1.0),
            pages_of(
                "bob",
                "s1",
                0,
                &["/pricing", "/checkout", "/pricing"],
                now + 2.0,
            ),
            pages_of("carol", "s1", 1, &["/checkout"], now + 5.0),
            pages_of("bob", "s1", 3, &["/checkout", "/pricing"], now + 6.0),
            pages_of(
                "alice",
                "s1",
                2,
                &["/pricing", "/checkout", "/pricing"],
                now + 9.0,
            ),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let config = triggers_file(dir.path(), PING_PONG_ONLY);
    let state = dir.path().join("state");
    let flags = signed_triggers(&fakes, &config);
    let mut streamer = Streamer::without_llm(&fakes, &state, Mode::Sessions, &flags);
    let table = "AutoPlaySessionsTable";
    streamer
        .wait_for("all 12 page views in rows", LIMIT, || {
            fakes.with(|s| {
                s.tables.tables[table]
                    .rows
                    .iter()
                    .map(|r| r["action_count"].as_u64().unwrap_or(0))
                    .sum::<u64>()
            }) == 12
        })
        .await;
    streamer
        .wait_for("two triggers", LIMIT, || {
            fakes.with(|s| s.webhook.triggers.len()) >= 2
        })
        .await;
    let fired = streamer.metric("triggers_fired_total").await;
    streamer.terminate().await;
    let triggers = fakes.with(|s| s.webhook.triggers.clone());
    let owners: Vec<(&str, &str)> = triggers
        .iter()
        .map(|t| {
            (
                t["user_id"].as_str().unwrap(),
                t["session_id"].as_str().unwrap(),
            )
        })
        .collect();
    println!("triggers fired: {fired}, posted for {owners:?}");
    assert_eq!(fired, 2);
    assert_eq!(owners.len(), 2, "{triggers:#?}");
    assert!(owners.contains(&("bob", "s1")), "{owners:?}");
    assert!(owners.contains(&("alice", "s1")), "{owners:?}");
    for t in &triggers {
        let key = json!([t["user_id"], t["session_id"]]).to_string();
        assert!(
            t["trigger_id"].as_str().unwrap().starts_with(&key),
            "the trigger id names its own pair: {t}"
        );
    }
}

/// A 200 KB user id and session id: rows, prompts and bodies stay small, the ids are shortened
/// visibly (counted), and two long ids with one prefix stay two users.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_ids_are_shortened_on_every_path() {
    let long_user = |tail: &str| format!("{}{tail}", "u".repeat(200_000));
    let session = "s".repeat(200_000);
    let (first, second) = (long_user("1"), long_user("2"));
    for mode in [Mode::Sessions, Mode::Webhook] {
        let fakes = fakes(mode).await;
        serve(
            &fakes,
            [
                frame_of(&first, Some(&session), 5),
                frame_of(&second, Some(&session), 5),
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let flags = ["--threshold", "5", "--max-frame-bytes", "4000000"];
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &flags);
        streamer
            .wait_for("both users' prompts", LIMIT, || {
                fakes.with(|s| s.llm.prompts.len()) >= 2
            })
            .await;
        streamer
            .wait_for_metric(
                "both batches' ids shortened",
                LIMIT,
                "ids_shortened_total",
                4,
            )
            .await;
        let stored: Vec<String> = match mode {
            Mode::Webhook => {
                streamer
                    .wait_for("two bodies", LIMIT, || {
                        fakes.with(|s| s.webhook.delivered.len()) >= 2
                    })
                    .await;
                fakes.with(|s| {
                    s.webhook
                        .delivered
                        .iter()
                        .map(|d| d.body.to_string())
                        .collect()
                })
            }
            _ => {
                streamer
                    .wait_for("two rows", LIMIT, || {
                        fakes.with(|s| s.tables.tables["AutoPlaySessionsTable"].rows.len()) >= 2
                    })
                    .await;
                fakes.with(|s| {
                    s.tables.tables["AutoPlaySessionsTable"]
                        .rows
                        .iter()
                        .map(|r| Value::Object(r.clone()).to_string())
                        .collect()
                })
            }
        };
        streamer.terminate().await;
        let prompts = fakes.with(|s| s.llm.prompts.clone());
        let longest_prompt = prompts.iter().map(String::len).max().unwrap();
        let largest = stored.iter().map(String::len).max().unwrap();
        println!(
            "{mode:?}: longest prompt {longest_prompt} bytes, largest row/body {largest} bytes"
        );
        assert!(longest_prompt < 8_000, "{longest_prompt}");
        assert!(largest < 8_000, "{largest}");
        assert_eq!(
            stored.len(),
            2,
            "two long ids with one prefix are two users"
        );
        assert!(stored.iter().all(|s| s.contains("…#")), "shortened visibly");
    }
}

/// By default the webhook secret only signs; `--webhook-secret-header` sends it instead (for
/// the generic Webhook integration), never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_never_travels_beside_its_signature() {
    for header in [false, true] {
        let fakes = fakes(Mode::Webhook).await;
        fakes.with(|s| {
            if header {
                s.webhook.bp_secret = Some("hook-secret".into());
            } else {
                s.webhook.secret = Some("hook-secret".into());
            }
        });
        serve(&fakes, [frame(actions_frame("s1", 0, 2))]);
        let dir = tempfile::tempdir().unwrap();
        let mut flags = vec!["--webhook-secret", "hook-secret"];
        if header {
            flags.push("--webhook-secret-header");
        }
        let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Webhook, &flags);
        streamer
            .wait_for("the batch accepted", LIMIT, || {
                fakes.with(|s| s.webhook.delivered.len()) == 1
            })
            .await;
        streamer.terminate().await;
        let (posts, secrets, signatures) = fakes.with(|s| {
            (
                s.webhook.posts,
                s.webhook.bp_secret_seen,
                s.webhook.signatures_seen,
            )
        });
        println!("--webhook-secret-header {header}: {posts} POSTs, {secrets} with x-bp-secret, {signatures} signed");
        assert_eq!(posts, 1, "refused");
        assert_eq!((secrets, signatures), if header { (1, 0) } else { (0, 1) });
    }
}

/// A server answering every request with 307 to `target` (another port: another origin),
/// counting what it answered.
async fn redirector(target: String) -> (String, Arc<Mutex<usize>>) {
    let answered = Arc::new(Mutex::new(0));
    let count = answered.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (target, count) = (target.clone(), count.clone());
        async move {
            *count.lock().unwrap() += 1;
            let location = format!("{target}{}", uri.path());
            (
                axum::http::StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, location)],
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, answered)
}

/// A redirect to another origin is never followed with credentials: not by the webhook, the
/// Tables client or the LLM client. The fakes behind the redirect see nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_another_origin_are_not_followed() {
    for mode in [Mode::Sessions, Mode::Webhook] {
        let fakes = fakes(mode).await;
        let (redirect, answered) = redirector(fakes.url("")).await;
        fakes.with(|s| s.webhook.secret = Some("hook-secret".into()));
        serve(&fakes, [frame(actions_frame("s1", 0, 12))]);
        let calls_before = fakes.with(|s| s.tables.calls.len());
        let dir = tempfile::tempdir().unwrap();
        let (hook, v1) = (format!("{redirect}/hook"), format!("{redirect}/v1"));
        let flags = [
            "--webhook-url",
            &hook,
            "--webhook-secret",
            "hook-secret",
            "--openai-base-url",
            &v1,
            "--openai-api-key",
            "sk-test-key",
            "--botpress-api-url",
            &redirect,
        ];
        let mut streamer = Streamer::without_llm(&fakes, dir.path(), mode, &flags);
        // The Tables upsert (sessions) or the webhook POST, and the LLM call, reach the redirector.
        streamer
            .wait_for("the requests redirected", LIMIT, || {
                *answered.lock().unwrap() >= 2
            })
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (_, logs, _) = streamer.terminate().await;
        let (posts, llm_calls, table_calls) = fakes.with(|s| {
            (
                s.webhook.posts,
                s.llm.calls,
                s.tables.calls.len() - calls_before,
            )
        });
        println!(
            "{mode:?}: {} redirects answered; behind them: {posts} webhook POSTs, {llm_calls} LLM calls, {table_calls} table calls",
            answered.lock().unwrap()
        );
        assert_eq!((posts, llm_calls, table_calls), (0, 0, 0));
        assert!(
            logs.contains("redirect to another origin"),
            "{}",
            tail(&logs, 3_000)
        );
        assert!(!logs.contains("hook-secret") && !logs.contains("sk-test-key"));
    }
}

/// The state directory is 0700 and the spool 0600 whatever the umask, also when an older
/// version left them 0755 / 0644.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_files_are_owner_only() {
    let fakes = fakes(Mode::Sessions).await;
    serve(&fakes, [frame(actions_frame("s1", 0, 2))]);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spool = state.join("spool.redb");
    std::fs::write(&spool, b"").unwrap();
    std::fs::set_permissions(&spool, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut streamer = Streamer::without_llm(&fakes, &state, Mode::Sessions, &[]);
    streamer
        .wait_for_metric("the batch received", LIMIT, "actions_received_total", 2)
        .await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let (dir_mode, spool_mode) = (mode(&state), mode(&spool));
    streamer.terminate().await;
    println!("state dir {dir_mode:o}, spool.redb {spool_mode:o}");
    assert_eq!((dir_mode, spool_mode), (0o700, 0o600));
    // A fresh directory too.
    let fresh = dir.path().join("fresh/state");
    let mut streamer = Streamer::without_llm(&fakes, &fresh, Mode::Sessions, &[]);
    streamer
        .wait_for("the spool created", LIMIT, || {
            fresh.join("spool.redb").exists()
        })
        .await;
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("spool.redb")), 0o600);
    streamer.terminate().await;
}
