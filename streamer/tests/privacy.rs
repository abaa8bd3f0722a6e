//! Personal data never leaves the streamer: the redaction corpus (`tests/redaction/corpus.json`)
//! is replayed as page text through the real binary, in each delivery mode, and nothing of it
//! reaches table requests, LLM prompts, webhook bodies or trigger bodies — while ordinary UI
//! text arrives unchanged.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const LIMIT: Duration = Duration::from_secs(60);
const SESSIONS: usize = 6;

struct Corpus {
    /// (kind, the personal part, the text it sits in)
    personal: Vec<(String, String, String)>,
    ordinary: Vec<String>,
}

fn corpus() -> Corpus {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/redaction/corpus.json"
    );
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    Corpus {
        personal: value["personal"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (text(&i["kind"]), text(&i["secret"]), text(&i["text"])))
            .collect(),
        ordinary: value["ordinary"]
            .as_array()
            .unwrap()
            .iter()
            .map(text)
            .collect(),
    }
}

/// Every text of the corpus as the description of one action, spread evenly over the sessions
/// in batches of 10; URL items also as the page's address. Returns the frames and the number of
/// actions per session.
fn frames(corpus: &Corpus) -> (Vec<Step>, u64) {
    let texts: Vec<(&str, bool)> = corpus
        .personal
        .iter()
        .map(|(kind, _, text)| (text.as_str(), kind == "url_query"))
        .chain(corpus.ordinary.iter().map(|t| (t.as_str(), false)))
        .collect();
    assert_eq!(texts.len() % SESSIONS, 0, "the corpus splits evenly");
    let per_session = texts.len() / SESSIONS;
    let mut steps = Vec::new();
    for (s, chunk) in texts.chunks(per_session).enumerate() {
        for (b, batch) in chunk.chunks(10).enumerate() {
            let actions: Vec<Value> = batch
                .iter()
                .enumerate()
                .map(|(i, (text, is_url))| {
                    let url = match is_url {
                        true => text
                            .split_whitespace()
                            .find(|w| w.starts_with("http"))
                            .unwrap_or(text),
                        false => "https://yourapp.com/settings",
                    };
                    json!({"title": "Typed in field", "description": text, "canonical_url": url,
                           "index": b * 10 + i, "type": "input",
                           "timestamp_start": 1_795_521_600.0 + (b * 10 + i) as f64})
                })
                .collect();
            let n = actions.len();
            steps.push(frame(
                json!({"type": "actions", "product_id": "p1", "session_id": format!("pii{s}"),
                       "user_id": format!("user-pii{s}"), "email": "owner@example.com",
                       "actions": actions, "count": n})
                .to_string(),
            ));
        }
    }
    (steps, per_session as u64)
}

/// Every string inside `value`, one per line.
fn strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push_str(k);
            out.push('\n');
            strings(v, out)
        }),
        _ => {}
    }
}

async fn nothing_personal_leaves(mode: Mode) {
    let corpus = corpus();
    let (mut script, per_session) = frames(&corpus);
    // A user bouncing between pages whose addresses carry an e-mail: a trigger fires on them.
    let now = unix_now();
    script.push(frame(pages_frame(
        "bouncer",
        0,
        &[
            "/pricing?email=jane.doe@example.com",
            "/checkout?card=4111111111111111",
            "/pricing?email=jane.doe@example.com",
        ],
        now,
    )));
    script.push(frame(pages_frame(
        "bouncer",
        3,
        &[
            "/checkout?card=4111111111111111",
            "/pricing?email=jane.doe@example.com",
        ],
        now + 3.0,
    )));
    let fakes = fakes(mode).await;
    serve(&fakes, script);
    let dir = tempfile::tempdir().unwrap();
    let triggers = triggers_file(
        dir.path(),
        r#"{"triggers": {"ping_pong": {"message": "Comparing plans?"}}}"#,
    );
    let flags = [
        &["--threshold", "10"],
        &signed_triggers(&fakes, &triggers)[..],
    ]
    .concat();
    let mut streamer = Streamer::start(&fakes, &dir.path().join("state"), mode, &flags);
    let sessions = session_names("pii", SESSIONS);
    streamer
        .wait_held("every action held", LIMIT, &sessions, per_session)
        .await;
    streamer
        .wait_for("summaries and the trigger", LIMIT, || {
            fakes.with(|s| s.llm.prompts.len() >= SESSIONS && !s.webhook.triggers.is_empty())
        })
        .await;
    streamer.terminate().await;

    let sent = fakes.with(|s| {
        let mut out = String::new();
        for call in &s.tables.calls {
            strings(&call.body, &mut out);
        }
        for d in &s.webhook.delivered {
            strings(&d.body, &mut out);
        }
        for t in &s.webhook.triggers {
            strings(t, &mut out);
        }
        for p in &s.llm.prompts {
            out.push_str(p);
            out.push('\n');
        }
        out
    });
    let leaked: Vec<_> = corpus
        .personal
        .iter()
        .filter(|(_, secret, _)| sent.contains(secret.as_str()))
        .map(|(kind, secret, _)| format!("{kind}: {secret}"))
        .collect();
    assert!(
        leaked.is_empty(),
        "{mode:?}: reached Botpress or the LLM:\n{}",
        leaked.join("\n")
    );
    for needle in [
        "jane.doe@example.com",
        "4111111111111111",
        "owner@example.com",
    ] {
        assert!(!sent.contains(needle), "{mode:?}: {needle} left");
    }
    assert!(
        sent.contains("[email]") && sent.contains("[card]"),
        "{mode:?}: no placeholder"
    );
    if mode != Mode::Sessions {
        // Every action is sent whole in these modes: ordinary text must arrive as it was.
        let altered: Vec<_> = corpus
            .ordinary
            .iter()
            .filter(|t| !sent.contains(t.as_str()))
            .collect();
        assert!(
            altered.is_empty(),
            "{mode:?}: ordinary text altered: {altered:?}"
        );
    }
    println!(
        "{mode:?}: {} personal items, none sent; {} ordinary strings",
        corpus.personal.len(),
        corpus.ordinary.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_reaches_session_rows_prompts_or_triggers() {
    nothing_personal_leaves(Mode::Sessions).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_reaches_event_rows() {
    nothing_personal_leaves(Mode::Events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_personal_reaches_webhook_bodies() {
    nothing_personal_leaves(Mode::Webhook).await;
}

/// The operator's own patterns and dropped fields apply on top; `--no-redact` sends text as it
/// is and says so loudly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_patterns_dropped_fields_and_the_opt_out() {
    let body = |session: &str| {
        json!({"type": "actions", "product_id": "p1", "session_id": session, "user_id": "u",
               "actions": [{"title": "Opened CUST-123456", "description": "Mailed jane.doe@example.com",
                            "canonical_url": "https://yourapp.com/c", "raw_url": "https://yourapp.com/c/CUST-123456",
                            "index": 0, "type": "click"}], "count": 1})
        .to_string()
    };
    for (flags, expect_title, expect_description, warned) in [
        (
            vec!["--redact-pattern", r"CUST-\d{6}", "--drop-field", "raw-url"],
            "Opened [redacted]",
            "Mailed [email]",
            false,
        ),
        (
            vec!["--no-redact"],
            "Opened CUST-123456",
            "Mailed jane.doe@example.com",
            true,
        ),
    ] {
        let fakes = fakes(Mode::Webhook).await;
        serve(&fakes, [frame(body("s1"))]);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Webhook, &flags);
        streamer
            .wait_for("the batch delivered", LIMIT, || {
                fakes.with(|s| !s.webhook.delivered.is_empty())
            })
            .await;
        let (_, logs, _) = streamer.terminate().await;
        let action = fakes.with(|s| s.webhook.delivered[0].body["actions"][0].clone());
        assert_eq!(action["title"], expect_title, "{flags:?}");
        assert_eq!(action["description"], expect_description, "{flags:?}");
        if !warned {
            assert_eq!(
                action["raw_url"].as_str().unwrap_or(""),
                "",
                "--drop-field raw-url kept it"
            );
        }
        assert_eq!(
            logs.contains("WARNING: --no-redact"),
            warned,
            "{flags:?}: {logs}"
        );
    }
}
