//! What the state directory keeps, through the real binary: a session's row copy goes once
//! retention may have deleted its row, so the deleted actions never come back; a session without
//! a copy continues its row from Botpress (one find per flush, not one per session); batches
//! the webhook accepted leave the spool; and the spool file stays within a few times what it
//! holds while thousands of batches settle at once.

mod common;

use std::time::Duration;

use autoplay_botpress_cli::spool::Spool;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);
const SESSIONS_TABLE: &str = "AutoPlaySessionsTable";

fn calls(fakes: &Fakes, op: &str) -> usize {
    fakes.with(|s| s.tables.calls.iter().filter(|c| c.op == op).count())
}

fn row_key(session: &str) -> String {
    serde_json::to_string(&(format!("user-{session}"), session)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deleted_actions_never_come_back_and_their_copies_are_forgotten() {
    let fakes = fakes(Mode::Sessions).await;
    serve(
        &fakes,
        [
            frame(actions_frame("back", 0, 3)),
            frame(actions_frame("gone", 0, 3)),
            Step::UntilRows(SESSIONS_TABLE, 2),
            // Retention (2 s, pruned every second) deletes both rows meanwhile.
            Step::Sleep(Duration::from_secs(6)),
            frame(actions_frame("back", 3, 2)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(
        &fakes,
        dir.path(),
        Mode::Sessions,
        &["--retention", "2s", "--prune-every", "1s"],
    );
    let back = vec!["back".to_owned()];
    streamer
        .wait_for("the returning session's new row", LIMIT, || {
            reached(&fakes, Mode::Sessions).held.contains_key("back")
                && calls(&fakes, "delete") > 3
                && fakes.with(|s| {
                    s.tables.tables[SESSIONS_TABLE]
                        .rows_where("session_id", "back")
                        .next()
                        .is_some_and(|row| row["action_count"] == 2)
                })
        })
        .await;
    let indices: Vec<u64> = fakes.with(|s| {
        let row = s.tables.tables[SESSIONS_TABLE]
            .rows_where("session_id", "back")
            .next()
            .unwrap()
            .clone();
        row["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["index"].as_u64().unwrap())
            .collect()
    });
    assert_eq!(indices, [3, 4], "only the actions after retention");
    assert!(all_held(&fakes, Mode::Sessions, &back, 2));
    // The copy of the session that did not return is forgotten within the spool's upkeep.
    tokio::time::sleep(Duration::from_secs(11)).await;
    streamer.stop_cleanly().await;
    let spool = Spool::open(dir.path()).unwrap();
    assert!(spool.row(&row_key("gone")).unwrap().is_none(), "forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_without_a_copy_continues_its_row_from_botpress_with_one_find_per_flush() {
    let fakes = fakes(Mode::Sessions).await;
    let sessions = session_names("r", 40);
    serve(&fakes, interleaved(&sessions, 1, 3));
    serve(
        &fakes,
        sessions.iter().map(|s| frame(actions_frame(s, 3, 2))),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("the first rows", LIMIT, &sessions, 3)
        .await;
    streamer.terminate().await;
    // A new state directory (a new machine, a lost disk): the rows are still in Botpress.
    let (finds, upserts) = (calls(&fakes, "find"), calls(&fakes, "upsert"));
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("the rows continued", LIMIT, &sessions, 5)
        .await;
    assert_eq!(streamer.metric("rows_read_back_total").await, 40);
    streamer.terminate().await;
    let finds = calls(&fakes, "find") - finds;
    let upserts = calls(&fakes, "upsert") - upserts;
    assert!(
        (1..=upserts).contains(&finds),
        "{finds} finds for {upserts} upserts: one per flush, not one per session"
    );
    let r = reached(&fakes, Mode::Sessions);
    for session in &sessions {
        assert_eq!(r.indices[session], (0..5).collect(), "{session}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spool_file_stays_within_a_few_times_what_it_was_sent_while_a_backlog_settles() {
    let fakes = fakes(Mode::Sessions).await;
    // As fast as the connector sends: one settle removes thousands of batches and writes
    // thousands of row copies in one transaction.
    let sessions = session_names("b", 2_000);
    let script = interleaved(&sessions, 2, 5);
    let sent: u64 = script
        .iter()
        .map(|step| match step {
            Step::Frame(_, data) => data.len() as u64,
            _ => 0,
        })
        .sum();
    serve(&fakes, script);
    let dir = tempfile::tempdir().unwrap();
    let peak = PeakSize::sample(dir.path());
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("every action in Botpress", LIMIT, &sessions, 10)
        .await;
    // The settle that removes the last batches (every 10 s) is where the file peaked.
    let settling = std::time::Instant::now();
    while streamer.metric("spool_depth").await > 0 {
        assert!(
            settling.elapsed() < LIMIT,
            "timed out waiting for the settle"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    streamer.terminate().await;
    let (file, _) = peak.stop();
    // A few times what was sent, whatever redb's pages and doubling add (removing the settled
    // batches with redb's `retain_in` took this file to 51 MB).
    let bound = 4 * sent + (4 << 20);
    assert!(file > 0, "no spool file was seen in the state directory");
    assert!(
        file <= bound,
        "spool file peaked at {file} bytes for {sent} bytes of JSON sent (bound {bound})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_the_webhook_accepted_leave_the_spool() {
    let fakes = fakes(Mode::Webhook).await;
    let sessions = session_names("h", 10);
    serve(&fakes, interleaved(&sessions, 3, 2));
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Webhook, &[]);
    streamer
        .wait_held("every batch delivered", LIMIT, &sessions, 6)
        .await;
    streamer.terminate().await;
    let spool = Spool::open(dir.path()).unwrap();
    assert_eq!(spool.stats().unwrap().0, 0, "no delivered batch stays");
}
