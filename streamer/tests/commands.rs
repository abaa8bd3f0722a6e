//! `setup`, `prune`, `check`, `stream --retention` and `demo`, run as the real binary against
//! the in-process fake Botpress, Autoplay and LLM servers.

mod common;

use std::time::Duration;

use autoplay_botpress::clock::ms_from_iso;
use common::*;

/// The Botpress flags pointing at the fakes.
fn botpress_flags(fakes: &Fakes, token: &str) -> Vec<String> {
    [
        "--botpress-token",
        token,
        "--bot-id",
        "bot-1",
        "--botpress-api-url",
        &fakes.url(""),
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn run(args: Vec<String>) -> (i32, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&args).await
}

#[tokio::test]
async fn setup_creates_both_tables_then_changes_nothing() {
    let fakes = Fakes::start().await;
    let args = [
        vec!["setup".to_owned()],
        botpress_flags(&fakes, "bp-test-token"),
    ]
    .concat();

    let (code, out, err) = run(args.clone()).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created AutoPlayEventsTable"), "{out}");
    assert!(out.contains("created AutoPlayEventsSummaryTable"), "{out}");
    let (events, summary) = fakes.with(|s| {
        (
            s.tables["AutoPlayEventsTable"].clone(),
            s.tables["AutoPlayEventsSummaryTable"].clone(),
        )
    });
    assert_eq!(summary["keyColumn"], "session_id");
    assert!(events["keyColumn"].is_null());
    assert_eq!(
        events["schema"]["properties"]["action_index"]["type"],
        "number"
    );
    assert_eq!(summary["schema"]["properties"]["summary"]["type"], "string");

    let (code, out, err) = run(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("found AutoPlayEventsTable (already set up; left unchanged)"),
        "{out}"
    );
    assert!(
        out.contains("found AutoPlayEventsSummaryTable (already set up; left unchanged)"),
        "{out}"
    );
    assert_eq!(fakes.with(|s| s.tables.len()), 2);
}

#[tokio::test]
async fn setup_reports_an_existing_table_that_lacks_columns() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.tables.insert(
            "AutoPlayEventsSummaryTable".into(),
            serde_json::json!({"name": "AutoPlayEventsSummaryTable", "schema": {"properties": {"summary": {"type": "string"}}}}),
        )
    });
    let (code, out, err) =
        run([vec!["setup".to_owned()], botpress_flags(&fakes, "t")].concat()).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("missing column session_id (string)"), "{out}");
    assert!(out.contains("key column is not session_id"), "{out}");
    assert!(err.contains("add the missing columns"), "{err}");
}

#[tokio::test]
async fn setup_dry_run_prints_the_requests_and_sends_nothing() {
    let fakes = Fakes::start().await;
    let args = [
        vec!["setup".to_owned(), "--dry-run".to_owned()],
        botpress_flags(&fakes, "bp-secret-token"),
    ]
    .concat();
    let (code, out, err) = run(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "POST {}",
            fakes.url("/v1/tables/AutoPlayEventsSummaryTable")
        )),
        "{out}"
    );
    assert!(out.contains("\"keyColumn\": \"session_id\""), "{out}");
    assert!(out.contains("x-bot-id: bot-1"), "{out}");
    assert!(!out.contains("bp-secret-token") && !err.contains("bp-secret-token"));
    assert!(
        fakes.with(|s| s.table_calls.is_empty()),
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
fn assert_cutoff(filter: &serde_json::Value, keep: Duration) {
    let cutoff = ms_from_iso(
        filter["createdAt"]["$lt"]
            .as_str()
            .expect("a createdAt $lt filter"),
    )
    .expect("an ISO cutoff");
    let expected = (unix_now() * 1000.0) as i64 - keep.as_millis() as i64;
    assert!(
        (cutoff - expected).abs() < 60_000,
        "cutoff {cutoff} vs {expected}"
    );
}

#[tokio::test]
async fn prune_deletes_events_older_than_keep() {
    let fakes = Fakes::start().await;
    let args = [
        vec!["prune".to_owned(), "--keep".to_owned(), "2h".to_owned()],
        botpress_flags(&fakes, "t"),
    ]
    .concat();
    let (code, out, err) = run(args).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("deleted 3 events older than 2h from AutoPlayEventsTable"),
        "{out}"
    );
    let calls = fakes.with(|s| s.table_calls.clone());
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].0,
        "POST /v1/tables/AutoPlayEventsTable/rows/delete"
    );
    assert_cutoff(&calls[0].1["filter"], Duration::from_secs(7200));
    assert!(calls[0].1.get("deleteAllRows").is_none());

    let (code, _, err) = run([
        vec!["prune".to_owned(), "--keep".to_owned(), "soon".to_owned()],
        botpress_flags(&fakes, "t"),
    ]
    .concat())
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("--keep"), "{err}");
}

#[tokio::test]
async fn stream_retention_prunes_at_start_and_on_schedule() {
    let fakes = Fakes::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(
        &fakes,
        dir.path(),
        &["--retention", "24h", "--prune-every", "1s"],
    );
    let deletes = || {
        fakes.with(|s| {
            s.table_calls
                .iter()
                .filter(|(call, _)| call.ends_with("/rows/delete"))
                .map(|(_, body)| body.clone())
                .collect::<Vec<_>>()
        })
    };
    streamer
        .wait_while_running("two prune rounds", Duration::from_secs(20), || {
            deletes().len() >= 2
        })
        .await;
    streamer.terminate().await;
    for body in deletes() {
        assert_cutoff(&body["filter"], Duration::from_secs(24 * 3600));
    }
}

/// `check` flags: the fakes for everything, with overrides.
fn check_args(fakes: &Fakes, webhook: &str, botpress_token: &str, llm_key: &str) -> Vec<String> {
    [
        vec![
            "check".to_owned(),
            "--stream-url".to_owned(),
            fakes.url("/stream/p1"),
            "--token".to_owned(),
            "autoplay-test-token".to_owned(),
            "--webhook-url".to_owned(),
            webhook.to_owned(),
            "--openai-base-url".to_owned(),
            fakes.url("/v1"),
            "--openai-api-key".to_owned(),
            llm_key.to_owned(),
        ],
        botpress_flags(fakes, botpress_token),
    ]
    .concat()
}

#[tokio::test]
async fn check_passes_a_working_configuration() {
    let fakes = Fakes::start().await;
    fakes.with(|s| s.botpress_token = Some("bp-good".into()));
    let (code, out, err) = run(check_args(
        &fakes,
        &fakes.url("/hook"),
        "bp-good",
        "sk-test-key",
    ))
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.matches("[ok  ]").count(), 5, "{out}");
    assert!(out.contains("all checks passed"), "{out}");
    assert_eq!(
        fakes.with(|s| s.webhook_attempts),
        0,
        "check posted to the webhook"
    );
    assert!(fakes.with(|s| s.table_calls.iter().all(|(c, _)| c.ends_with("/rows/find"))));
}

#[tokio::test]
async fn check_names_each_broken_part() {
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.botpress_token = Some("bp-good".into());
        s.connections.push_back(Connection::Status(401));
    });
    let unreachable = format!("http://{}/hook", free_addr());
    let (code, out, err) = run(check_args(&fakes, &unreachable, "bp-wrong", "sk-wrong")).await;
    assert_eq!(code, 1, "{out}{err}");
    let line = |label: &str| {
        out.lines()
            .find(|l| l.contains(label))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("Autoplay stream").contains("[FAIL]") && line("Autoplay stream").contains("--token"),
        "{out}"
    );
    assert!(
        line("events table").contains("[FAIL]") && line("events table").contains("BOTPRESS_TOKEN"),
        "{out}"
    );
    assert!(
        line("webhook").contains("[FAIL]") && line("webhook").contains("unreachable"),
        "{out}"
    );
    assert!(
        line("LLM").contains("[FAIL]") && line("LLM").contains("OPENAI_API_KEY"),
        "{out}"
    );
    assert!(
        out.contains("4 check(s) failed") || out.contains("5 check(s) failed"),
        "{out}"
    );
    for secret in ["bp-wrong", "sk-wrong", "autoplay-test-token"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} printed"
        );
    }

    fakes.with(|s| s.missing_tables.push("AutoPlayEventsSummaryTable".into()));
    let (code, out, _) = run(check_args(
        &fakes,
        &fakes.url("/hook"),
        "bp-good",
        "sk-test-key",
    ))
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        line_of(&out, "summary table").contains("run `autoplay-botpress setup`"),
        "{out}"
    );
    assert!(line_of(&out, "events table").contains("[ok  ]"), "{out}");
}

fn line_of(out: &str, label: &str) -> String {
    out.lines()
        .find(|l| l.contains(label))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn demo_runs_offline_and_keeps_the_other_user_out() {
    let (code, out, err) = cli(&["demo", "--pace-ms", "20"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("webhook ←"), "no progress shown: {out}");
    assert!(out.contains("TRIGGER for user 019dd835-3f68-7e78: went back and forth between /pricing and /models/diffusion"), "{out}");
    assert!(
        out.contains("submitted the form on /checkout twice"),
        "{out}"
    );
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
            part.contains("went back and forth between /pricing and /models/diffusion"),
            "no signal: {part}"
        );
        assert!(part.contains("Submitted the payment form again"));
        assert!(part.contains("Selected Stable Diffusion 3"));
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
}
