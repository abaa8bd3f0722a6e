//! `setup`, `prune`, `check`, `stream --retention`, `dead-letters` and `demo`, run as the real
//! binary against the crate's fakes.

mod common;

use std::time::Duration;

use autoplay_botpress::time::ms_from_iso;
use common::*;
use serde_json::{json, Value};

/// Fakes without any table.
async fn bare() -> Fakes {
    Fakes::start(tokio_util::sync::CancellationToken::new())
        .await
        .unwrap()
}

#[tokio::test]
async fn setup_creates_the_layouts_tables_then_changes_nothing() {
    let fakes = bare().await;
    let (code, out, err) = cli_on_botpress(&["setup"], &fakes, "t").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created AutoPlaySessionsTable"), "{out}");
    let sessions = fakes.with(|s| s.tables.tables["AutoPlaySessionsTable"].clone());
    assert_eq!(sessions.key_column.as_deref(), Some("row_key"));
    assert_eq!(sessions.schema["properties"]["actions"]["type"], "array");
    assert_eq!(sessions.factor, 1);
    let (code, out, _) = cli_on_botpress(&["setup"], &fakes, "t").await;
    assert_eq!(code, 0);
    assert!(
        out.contains("found AutoPlaySessionsTable (already set up; left unchanged)"),
        "{out}"
    );

    let (code, out, err) = cli_on_botpress(&["setup", "--layout", "events"], &fakes, "t").await;
    assert_eq!(code, 0, "{out}{err}");
    let (events, summary) = fakes.with(|s| {
        (
            s.tables.tables["AutoPlayEventsTable"].clone(),
            s.tables.tables["AutoPlayEventsSummaryTable"].clone(),
        )
    });
    assert_eq!(events.key_column.as_deref(), Some("event_key"));
    assert_eq!(summary.key_column.as_deref(), Some("row_key"));
    assert_eq!(
        events.schema["properties"]["action_index"]["type"],
        "number"
    );

    let (code, _, _) = cli_on_botpress(
        &[
            "setup",
            "--sessions-table",
            "BigSessionsTable",
            "--row-factor",
            "3",
        ],
        &fakes,
        "t",
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        fakes.with(|s| s.tables.tables["BigSessionsTable"].factor),
        3
    );
}

/// A table an older `setup` made (keyed on `session_id`, without `row_key`) is upgraded in place
/// through `updateTable`: the columns are added, the user's own kept, `row_key` becomes the key.
#[tokio::test]
async fn setup_upgrades_a_table_an_older_version_made() {
    let fakes = bare().await;
    let old = json!({"schema": {"type": "object", "properties": {
        "session_id": {"type": "string"}, "summary": {"type": "string"}, "notes": {"type": "string"}}},
        "keyColumn": "session_id"});
    fakes.with(|s| s.tables.apply("table", "AutoPlaySessionsTable", &old));
    let (code, out, err) = cli_on_botpress(&["setup"], &fakes, "t").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("upgraded AutoPlaySessionsTable"), "{out}");
    assert!(out.contains("missing column row_key (string)"), "{out}");
    let (key, columns) = fakes.with(|s| {
        let t = &s.tables.tables["AutoPlaySessionsTable"];
        let columns: Vec<String> = t.schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        (t.key_column.clone(), columns)
    });
    assert_eq!(key.as_deref(), Some("row_key"));
    for column in ["row_key", "user_id", "session_id", "actions", "notes"] {
        assert!(
            columns.iter().any(|c| c == column),
            "{column} missing from {columns:?}"
        );
    }
    let updates = fakes.with(|s| s.tables.calls.iter().filter(|c| c.op == "update").count());
    assert_eq!(updates, 1);
    let (code, out, _) = cli_on_botpress(&["setup"], &fakes, "t").await;
    assert_eq!(code, 0);
    assert!(out.contains("already set up"), "{out}");
}

/// A difference only the user may resolve (a column of another type) is reported by name, the
/// table left as it is, and `setup` fails with the fix.
#[tokio::test]
async fn setup_reports_an_existing_table_it_cannot_upgrade() {
    let fakes = bare().await;
    let old = json!({"schema": {"properties": {"action_count": {"type": "string"}}}, "keyColumn": "session_id"});
    fakes.with(|s| s.tables.apply("table", "AutoPlaySessionsTable", &old));
    let (code, out, err) = cli_on_botpress(&["setup"], &fakes, "t").await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("found AutoPlaySessionsTable, but it differs"),
        "{out}"
    );
    assert!(
        out.contains("column action_count is string, expected number"),
        "{out}"
    );
    assert!(out.contains("key column is not row_key"), "{out}");
    assert!(err.contains("add the missing columns"), "{err}");
    let key = fakes.with(|s| s.tables.tables["AutoPlaySessionsTable"].key_column.clone());
    assert_eq!(key.as_deref(), Some("session_id"), "the table was altered");
}

#[tokio::test]
async fn setup_dry_run_prints_the_requests_and_sends_nothing() {
    let fakes = bare().await;
    let (code, out, err) =
        cli_on_botpress(&["setup", "--dry-run"], &fakes, "bp-secret-token").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "POST {}",
            fakes.url("/v1/tables/AutoPlaySessionsTable")
        )),
        "{out}"
    );
    assert!(out.contains("\"keyColumn\": \"row_key\""), "{out}");
    assert!(out.contains("x-bot-id: bot-1"), "{out}");
    assert!(!out.contains("bp-secret-token") && !err.contains("bp-secret-token"));
    assert!(
        fakes.with(|s| s.tables.calls.is_empty()),
        "a dry run sent requests"
    );
}

#[tokio::test]
async fn setup_without_credentials_names_them() {
    let (code, _, err) = cli(&["setup"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("--botpress-token (BOTPRESS_TOKEN) and --bot-id (BOTPRESS_BOT_ID)"),
        "{err}"
    );
}

/// The cutoff of a prune filter, checked to be `keep` before now (within a minute).
fn assert_cutoff(condition: &Value, keep: Duration) {
    let cutoff =
        ms_from_iso(condition["$lt"].as_str().expect("a $lt cutoff")).expect("an ISO cutoff");
    let expected = (unix_now() * 1000.0) as i64 - keep.as_millis() as i64;
    assert!(
        (cutoff - expected).abs() < 60_000,
        "cutoff {cutoff} vs {expected}"
    );
}

#[tokio::test]
async fn prune_deletes_idle_sessions_or_old_events() {
    let fakes = fakes(Mode::Sessions).await;
    let stale = autoplay_botpress::time::iso_from_ms((unix_now() * 1000.0) as i64 - 3 * 3_600_000);
    fakes.with(|s| {
        let table = s.tables.tables.get_mut("AutoPlaySessionsTable").unwrap();
        for (session, updated) in [("old", stale.as_str()), ("new", "9999-01-01T00:00:00.000Z")] {
            let mut row = serde_json::Map::new();
            row.insert("session_id".into(), session.into());
            row.insert("updatedAt".into(), updated.into());
            table.rows.push(row);
        }
    });
    let (code, out, err) = cli_on_botpress(&["prune", "--keep", "2h"], &fakes, "t").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("AutoPlaySessionsTable: deleted 1 rows (rows older than 2h)"),
        "{out}"
    );
    let left: Vec<String> = fakes.with(|s| {
        s.tables.tables["AutoPlaySessionsTable"]
            .rows
            .iter()
            .map(|r| r["session_id"].as_str().unwrap().to_owned())
            .collect()
    });
    assert_eq!(left, ["new"]);
    let call = fakes.with(|s| s.tables.calls[0].clone());
    assert_eq!(
        (call.op.as_str(), call.table.as_str()),
        ("delete", "AutoPlaySessionsTable")
    );
    assert_cutoff(&call.body["filter"]["updatedAt"], Duration::from_secs(7200));

    let fakes = fakes_events().await;
    let (code, out, err) = cli_on_botpress(
        &["prune", "--keep", "2h", "--layout", "events"],
        &fakes,
        "t",
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let calls = fakes.with(|s| s.tables.calls.clone());
    assert_eq!(calls.len(), 2);
    assert_cutoff(
        &calls[0].body["filter"]["createdAt"],
        Duration::from_secs(7200),
    );
    assert_eq!(calls[1].table, "AutoPlayEventsSummaryTable");

    let (code, _, err) = cli_on_botpress(&["prune", "--keep", "soon"], &fakes, "t").await;
    assert_eq!(code, 2);
    assert!(err.contains("--keep"), "{err}");
}

async fn fakes_events() -> Fakes {
    fakes(Mode::Events).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_retention_prunes_at_start_and_on_schedule() {
    let fakes = fakes(Mode::Sessions).await;
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(
        &fakes,
        dir.path(),
        Mode::Sessions,
        &["--retention", "24h", "--prune-every", "1s"],
    );
    let deletes = || {
        fakes.with(|s| {
            s.tables
                .calls
                .iter()
                .filter(|c| c.op == "delete")
                .map(|c| c.body.clone())
                .collect::<Vec<_>>()
        })
    };
    streamer
        .wait_for("two prune rounds", Duration::from_secs(20), || {
            deletes().len() >= 2
        })
        .await;
    streamer.terminate().await;
    for body in deletes() {
        assert_cutoff(&body["filter"]["updatedAt"], Duration::from_secs(24 * 3600));
    }
}

/// `check` flags: the fakes for everything, with overrides.
fn check_args(fakes: &Fakes, webhook: &str, botpress_token: &str, llm_key: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "check",
        "--stream-url",
        &fakes.url("/stream/p1"),
        "--token",
        "autoplay-test-token",
        "--webhook-url",
        webhook,
        "--openai-base-url",
        &fakes.url("/v1"),
        "--openai-api-key",
        llm_key,
    ]
    .map(str::to_owned)
    .to_vec();
    args.extend(botpress_flags(fakes, botpress_token));
    args
}

/// Asserts that the line of `out` naming `label` contains `part`.
fn assert_line_has(out: &str, label: &str, part: &str) {
    let line = line_of(out, label);
    assert!(
        line.contains(part),
        "{label}: {line:?} lacks {part:?}\n{out}"
    );
}

fn line_of(out: &str, label: &str) -> String {
    out.lines()
        .find(|l| l.contains(label))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn checks_cost_table_counts_the_judges_llm_calls() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.botpress_token = Some("bp-good".into()));
    let dir = tempfile::tempdir().unwrap();
    let triggers = dir.path().join("triggers.json");
    std::fs::write(&triggers, r#"{"pacing": {"windowMs": 600000}}"#).unwrap();
    let mut args = check_args(&fakes, &fakes.url("/hook"), "bp-good", "sk-test-key");
    args.extend(["--users".into(), "200".into()]);
    let (_, out, _) = cli_owned(args.clone()).await;
    assert_line_has(&out, "LLM calls/hour", "at most 0 judge calls");
    args.extend([
        "--triggers-config".into(),
        triggers.to_str().unwrap().into(),
    ]);
    let (code, out, err) = cli_owned(args).await;
    assert_eq!(code, 0, "{out}{err}");
    // 200 users, one judged nudge per user per 10-minute window at most.
    assert_line_has(&out, "LLM calls/hour", "at most 1200 judge calls");
}

#[tokio::test]
async fn check_passes_a_working_configuration_and_prices_it() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.botpress_token = Some("bp-good".into()));
    let mut args = check_args(&fakes, &fakes.url("/hook"), "bp-good", "sk-test-key");
    args.extend([
        "--users".into(),
        "200".into(),
        "--actions-per-minute".into(),
        "150".into(),
    ]);
    let (code, out, err) = cli_owned(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("[ok  ]").count(), 4, "{out}");
    assert!(out.contains("all checks passed"), "{out}");
    assert_eq!(
        fakes.with(|s| s.webhook.posts),
        0,
        "check posted to the webhook"
    );
    assert!(fakes.with(|s| s.tables.calls.iter().all(|c| c.op == "find")));
    let ours = line_of(&out, "these settings");
    let numbers: Vec<&str> = ours.split_whitespace().skip(2).collect();
    assert_eq!(numbers[1], "0", "no billed events: {ours}");
    assert_line_has(&out, "guide's webhook path", "360000");
    assert_line_has(&out, "Team:", "never");
}

#[tokio::test]
async fn check_names_each_broken_part() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| {
        s.botpress_token = Some("bp-good".into());
        s.connections.push_back(Connection::Status(401));
    });
    let unreachable = format!("http://{}/hook", free_addr());
    let (code, out, err) =
        cli_owned(check_args(&fakes, &unreachable, "bp-wrong", "sk-wrong")).await;
    assert_eq!(code, 1, "{out}{err}");
    for (label, hint) in [
        ("Autoplay stream", "--token"),
        ("sessions table", "BOTPRESS_TOKEN"),
        ("webhook", "unreachable"),
        ("LLM", "OPENAI_API_KEY"),
    ] {
        assert_line_has(&out, label, "[FAIL]");
        assert_line_has(&out, label, hint);
    }
    assert!(out.contains("4 check(s) failed"), "{out}");
    for secret in ["bp-wrong", "sk-wrong", "autoplay-test-token"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed"
        );
    }

    let fresh = bare().await;
    let mut args = check_args(&fresh, &fresh.url("/hook"), "t", "sk-test-key");
    args.extend(["--layout".into(), "events".into()]);
    fresh.create_table(&table_requests(Mode::Events)[0]);
    let (code, out, _) = cli_owned(args).await;
    assert_eq!(code, 1, "{out}");
    assert_line_has(&out, "summary table", "run `autoplay-botpress setup`");
    assert_line_has(&out, "events table", "[ok  ]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_resent_once_the_cause_is_fixed() {
    let fakes = fakes(Mode::Webhook).await;
    fakes.with(|s| s.webhook.reject_sessions.push("bad".into()));
    serve(&fakes, [frame(actions_frame("bad", 0, 3))]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Webhook, &[]);
    streamer
        .wait_for_metric(
            "a dead letter",
            Duration::from_secs(30),
            "dead_lettered_total",
            1,
        )
        .await;
    streamer.terminate().await;
    let state = dir.path().to_str().unwrap();

    let (code, out, err) = cli(&["dead-letters", "--state-dir", state, "list"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "HTTP 400  3 actions → webhook: HTTP 400 Bad Request: bad body: no such product"
        ),
        "{out}"
    );

    // Still refused: kept.
    let hook = fakes.url("/hook");
    let retry = [
        "dead-letters",
        "--state-dir",
        state,
        "retry",
        "--webhook-url",
        &hook,
    ];
    let (code, out, _) = cli(&retry).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 still refused"), "{out}");
    // Fixed: sent and removed.
    fakes.with(|s| s.webhook.reject_sessions.clear());
    let (code, out, err) = cli(&retry).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("re-sent 1 dead letter(s); 0 still refused"),
        "{out}"
    );
    assert_eq!(reached(&fakes, Mode::Webhook).held.get("bad"), Some(&3));
    let (_, out, _) = cli(&["dead-letters", "--state-dir", state, "list"]).await;
    assert!(out.contains("no dead letters"), "{out}");

    let (code, _, err) = cli(&["dead-letters", "--state-dir", state, "retry"]).await;
    assert_eq!(code, 0, "nothing left to send needs no settings: {err}");
}

#[tokio::test]
async fn demo_runs_offline_keeps_the_other_user_out_and_states_its_cost() {
    let (code, out, err) = cli(&["demo", "--pace-ms", "40"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created AutoPlaySessionsTable"), "{out}");
    assert!(
        out.contains("AutoPlaySessionsTable ← session"),
        "no progress shown: {out}"
    );
    // The plugin path: the nudge is a bot message in the user's conversation, in the judge's
    // words (the demo's stand-in LLM judges it from the user's own actions).
    assert!(
        out.contains("chat API ← bot message in conversation conv_demo_user_a: \"[fake judge]"),
        "{out}"
    );
    assert!(!out.contains("webhook ← TRIGGER"), "{out}");
    let (_, agent_view) = out
        .split_once("what FetchEventsData hands the agent")
        .expect("the context is printed");
    let (context, rest) = agent_view
        .split_once("rendered for the agent's prompt")
        .unwrap();
    let (prompt, verdict) = rest
        .split_once('✓')
        .expect("the isolation verdict is printed");
    for part in [context, prompt] {
        assert!(
            part.contains("[offline summary, no LLM]"),
            "no labelled summary: {part}"
        );
        assert!(
            part.contains("went back and forth between"),
            "no signal: {part}"
        );
        assert!(part.contains("Submitted the payment form again"));
        for other in [
            "019dd835-9b21-4c0d",
            "019dd958-a410-7c3e",
            "webhook settings",
            "Copied the API key",
        ] {
            assert!(
                !part.contains(other),
                "{other} leaked into the agent's view"
            );
        }
    }
    assert!(prompt.contains("<user_activity>"));
    assert!(verdict.contains("none of it is in user 019dd835-3f68-7e78's context"));
    let nudges = out
        .split_once("proactive nudges, as the user's webchat shows them")
        .expect("the nudges are printed")
        .1;
    assert!(
        nudges.contains("[conv_demo_user_a] bot: [fake judge]"),
        "{nudges}"
    );
    let budget = line_of(&out, "this run (tables, sessions layout)");
    assert!(budget.contains(" 0 billed events for activity"), "{budget}");
    // The user look-up, the quiet-time look-up, the message, and the reply look-up.
    assert!(
        budget.contains("(1 nudges as bot messages: 4 Chat API requests, 0 billed events)"),
        "{budget}"
    );
    assert!(budget.contains("2 rows in use"), "{budget}");
    // Did it help: the scripted user answered; whether the ping-pong went on depends on when
    // the nudge fired in the replay, but it is known.
    let outcomes = out
        .split_once("did the nudges help?")
        .expect("the outcome table is printed")
        .1;
    let row = |name: &str| -> Vec<String> {
        line_of(outcomes, &format!("  {name} "))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row("outcome"), ["outcome", "ping_pong"], "{outcomes}");
    for (name, count) in [("delivered", "1"), ("replied", "1"), ("no_reply", "0")] {
        assert_eq!(row(name), [name, count], "{outcomes}");
    }
    let friction: u64 = ["friction_stopped", "friction_continued"]
        .iter()
        .map(|name| row(name)[1].parse::<u64>().unwrap())
        .sum();
    assert_eq!(friction, 1, "{outcomes}");
    assert_line_has(&out, "the guide's path", "9 billed events");
}

/// `demo --nudges webhook`: the card path's nudges, one billed event each.
#[tokio::test]
async fn demo_shows_the_webhook_nudges_of_the_card_path() {
    let (code, out, err) = cli(&["demo", "--pace-ms", "40", "--nudges", "webhook"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(r#"TRIGGER for user 019dd835-3f68-7e78: went back and forth between "/pricing" and "/models/diffusion""#), "{out}");
    assert!(!out.contains("chat API ←"), "{out}");
    let budget = line_of(&out, "this run (tables, sessions layout)");
    assert!(
        budget.contains("+1 billed events for proactive triggers"),
        "{budget}"
    );
}

/// `identity-token` mints a token from the secret in the environment, and refuses what would
/// make a useless or weak one, naming the setting.
#[test]
fn identity_token_reads_its_secret_from_the_environment_only() {
    let run = |secret: Option<&str>, args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"));
        command.arg("identity-token").args(args);
        match secret {
            Some(s) => command.env("AUTOPLAY_IDENTITY_SECRET", s),
            None => command.env_remove("AUTOPLAY_IDENTITY_SECRET"),
        };
        let out = command.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let secret = "0123456789abcdef0123456789abcdef";
    let (code, token, _) = run(Some(secret), &["--user-id", "user-1", "--ttl", "15m"]);
    assert_eq!(code, Some(0));
    assert_eq!(token.split('.').count(), 3, "{token}");

    let (code, out, err) = run(None, &["--user-id", "user-1"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
    assert!(err.contains("AUTOPLAY_IDENTITY_SECRET"), "{err}");
    let (code, _, err) = run(Some("short"), &["--user-id", "user-1"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("at least 32 characters"), "{err}");
    assert!(
        !err.contains("short\n") && !err.contains("\"short\""),
        "the secret was echoed: {err}"
    );
    let (code, _, err) = run(Some(secret), &["--user-id", " "]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--user-id"), "{err}");
    assert!(!err.contains(secret));
}
