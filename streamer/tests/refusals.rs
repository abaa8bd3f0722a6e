//! Botpress's refusals as it means them, through the real binary: the row quota holds new rows
//! back without stopping the rows already there, a locked resource is retried, payment required
//! pauses with its reason, row errors and warnings of a 200 answer touch only what they name.

mod common;

use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);
const SESSIONS_TABLE: &str = "AutoPlaySessionsTable";

fn rows_of(fakes: &Fakes, session: &str) -> usize {
    fakes.with(|s| {
        s.tables.tables[SESSIONS_TABLE]
            .rows_where("session_id", session)
            .count()
    })
}

/// 40 sessions fill the quota; then a new session arrives with more actions of the 40: the 40
/// rows keep updating, the new one waits (named in `/healthz`), and is written after a restart
/// once the quota has room.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_row_quota_holds_new_sessions_back_and_existing_rows_keep_updating() {
    let fakes = fakes(Mode::Sessions).await;
    let sessions = session_names("q", 40);
    let mut script = interleaved(&sessions, 1, 2);
    script.push(Step::UntilRows(SESSIONS_TABLE, 40));
    script.push(frame(actions_frame("late", 0, 2)));
    script.extend(sessions.iter().map(|s| frame(actions_frame(s, 2, 2))));
    serve(&fakes, script);
    fakes.with(|s| s.tables.row_quota = Some(40));
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held(
            "the 40 existing rows updated after the quota",
            LIMIT,
            &sessions,
            4,
        )
        .await;
    streamer
        .wait_for_metric("the new session held", LIMIT, "rows_held_by_quota_total", 1)
        .await;
    let (status, body) = streamer.health().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("row quota"), "{body}");
    assert!(body.contains("--retention"), "{body}");
    assert!(
        !body.contains("--bot-id"),
        "the bot id is not at fault: {body}"
    );
    assert_eq!(rows_of(&fakes, "late"), 0);
    assert_eq!(streamer.metric("delivery_paused").await, 0);
    let (_, logs, _) = streamer.terminate().await;
    assert!(logs.contains("row quota reached"), "{}", tail(&logs, 2_000));

    fakes.with(|s| s.tables.row_quota = None);
    let mut again = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    again
        .wait_held(
            "the held session written once the quota has room",
            LIMIT,
            &["late"],
            2,
        )
        .await;
    assert!(all_held(&fakes, Mode::Sessions, &sessions, 4));
    again.terminate().await;
}

/// 409 (resource locked) is retried; 402 pauses delivery with Botpress's reason and a hint about
/// billing, then delivery resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_table_is_retried_and_payment_required_pauses_with_its_reason() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.tables_faults.failures.extend([(409, None), (409, None)]));
    serve(&fakes, [frame(actions_frame("a", 0, 2))]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("the row after two 409s", LIMIT, &["a"], 2)
        .await;
    assert_eq!(streamer.metric("dead_lettered_total").await, 0);
    assert_eq!(streamer.metric("delivery_paused").await, 0);
    streamer.terminate().await;

    let fakes = common::fakes(Mode::Sessions).await;
    fakes.with(|s| s.tables_faults.failures.push_back((402, None)));
    serve(&fakes, [frame(actions_frame("b", 0, 2))]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_for_metric("paused by 402", LIMIT, "delivery_paused", 1)
        .await;
    let (_, body) = streamer.health().await;
    assert!(body.contains("402"), "{body}");
    assert!(body.contains("billing"), "{body}");
    assert_eq!(streamer.metric("dead_lettered_total").await, 0);
    streamer.terminate().await;
}

/// A 200 upsert naming one bad row: only that row is dead-lettered, the others are written once;
/// warnings are logged once and counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row_errors_dead_letter_only_the_rows_named_and_warnings_are_counted() {
    let fakes = fakes(Mode::Sessions).await;
    let sessions = session_names("w", 30);
    let mut script = interleaved(&sessions, 1, 2);
    script.push(Step::UntilRows(SESSIONS_TABLE, 29));
    script.extend(sessions.iter().map(|s| frame(actions_frame(s, 2, 1))));
    serve(&fakes, script);
    fakes.with(|s| {
        s.tables.row_errors.insert("w7".into());
        s.tables.warnings = vec!["column signals is deprecated".into()];
    });
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    let good: Vec<String> = sessions.iter().filter(|s| *s != "w7").cloned().collect();
    streamer
        .wait_held("the good rows, updated twice", LIMIT, &good, 3)
        .await;
    streamer
        .wait_for_metric("two upserts warned", LIMIT, "upsert_warnings_total", 2)
        .await;
    let (_, logs, _) = streamer.terminate().await;
    let letters = dead_letters(dir.path());
    assert!(!letters.is_empty(), "w7's row is dead-lettered");
    for letter in &letters {
        let rows = letter["rows"].as_array().expect("rows");
        assert_eq!(rows.len(), 1, "{letter}");
        assert_eq!(rows[0]["session_id"], "w7");
    }
    assert_eq!(rows_of(&fakes, "w7"), 0);
    assert_eq!(
        logs.matches("Botpress warned about rows written").count(),
        1,
        "{}",
        tail(&logs, 2_000)
    );
}

/// `prune` on an asynchronous delete-by-filter says it started a job, not "deleted 0".
#[tokio::test]
async fn prune_reports_the_background_deletion_it_started() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| s.tables.delete_in_background = true);
    let (code, out, err) =
        cli_on_botpress(&["prune", "--keep", "2h"], &fakes, "bp-test-token").await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("started Botpress deletion job job_fake"),
        "{out}"
    );
    assert!(!out.contains("deleted 0"), "{out}");
}
