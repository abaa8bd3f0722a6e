//! A damaged `spool.redb` (garbage, or truncated by a crash or a full disk) does not stop the
//! start: the real binary recovers what it can read, moves the file aside, says so in the log and
//! `/healthz`, and keeps delivering.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn set_aside(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("spool.redb.damaged-"))
        .collect()
}

/// Starts on the damaged spool in `dir`, delivers `fresh`'s batch, and names the damage.
async fn starts_and_delivers(fakes: &Fakes, dir: &Path) -> String {
    let mut streamer = Streamer::without_llm(fakes, dir, Mode::Sessions, &[]);
    streamer
        .wait_held("a batch after the damaged spool", LIMIT, &["fresh"], 2)
        .await;
    let (status, body) = streamer.health().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("spool file was damaged"), "{body}");
    assert!(body.contains("spool.redb.damaged-"), "{body}");
    let logs = streamer.stop_cleanly().await;
    assert!(
        logs.contains("spool file was damaged"),
        "{}",
        tail(&logs, 3_000)
    );
    assert_eq!(set_aside(dir).len(), 1, "the damaged file is kept aside");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_spool_is_moved_aside_and_the_stream_goes_on() {
    let fakes = fakes(Mode::Sessions).await;
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("spool.redb"), garbage).unwrap();
    serve(&fakes, [frame(actions_frame("fresh", 0, 2))]);
    starts_and_delivers(&fakes, dir.path()).await;
}

/// Batches left in the spool by a killed run, then the file cut in half: the start recovers
/// what is readable and carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_spool_is_recovered_as_far_as_it_reads() {
    let fakes = fakes(Mode::Sessions).await;
    let sessions = session_names("t", 50);
    serve(&fakes, interleaved(&sessions, 20, 5));
    fakes.with(|s| s.tables_faults.down = true);
    let dir = tempfile::tempdir().unwrap();
    let mut first = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &[]);
    first
        .wait_for_metric("every batch spooled", LIMIT, "spool_depth", 1_000)
        .await;
    first.kill().await;
    let path = dir.path().join("spool.redb");
    let size = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(size / 2).unwrap();
    drop(file);
    fakes.with(|s| s.tables_faults.down = false);
    serve(&fakes, [frame(actions_frame("fresh", 0, 2))]);
    let body = starts_and_delivers(&fakes, dir.path()).await;
    println!("truncated spool ({size} bytes cut to {}): {body}", size / 2);
}
