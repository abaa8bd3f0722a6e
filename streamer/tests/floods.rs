//! Floods stay fair, through the real binary: a trigger storm from hostile sessions neither
//! starves table delivery of its share of the request budget nor grows without bound.

mod common;

use std::time::{Duration, Instant};

use common::*;

const LIMIT: Duration = Duration::from_secs(90);

/// 300 hostile sessions each fire a trigger under a 30 requests/minute budget; another user's
/// row still arrives with the first flushes, and the triggers past the bound are shed, counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_flood_leaves_table_delivery_its_share() {
    let fakes = fakes(Mode::Sessions).await;
    let now = unix_now();
    let pages = ["/pricing", "/checkout", "/pricing", "/checkout", "/pricing"];
    let mut script: Vec<Step> = session_names("hostile", 300)
        .iter()
        .map(|s| frame(pages_frame(s, 0, &pages, now)))
        .collect();
    script.push(frame(actions_frame("victim", 0, 3)));
    serve(&fakes, script);
    let dir = tempfile::tempdir().unwrap();
    let config = triggers_file(dir.path(), PING_PONG_ONLY);
    let flags = [
        &signed_triggers(&fakes, &config)[..],
        &["--max-requests-per-minute", "30"],
    ]
    .concat();
    let state = dir.path().join("state");
    let started = Instant::now();
    let mut streamer = Streamer::without_llm(&fakes, &state, Mode::Sessions, &flags);
    streamer
        .wait_held("the victim's row during the flood", LIMIT, &["victim"], 3)
        .await;
    let delay = started.elapsed();
    let fired = streamer.metric("triggers_fired_total").await;
    let shed = streamer.metric("triggers_shed_total").await;
    let sent = fakes.with(|s| s.webhook.triggers.len());
    println!(
        "trigger flood: victim row after {delay:.1?}; {fired} triggers fired, {sent} sent, {shed} shed"
    );
    assert!(fired >= 300, "{fired}");
    let waiting = fired - shed - sent as u64;
    assert!(
        waiting <= 256 + 1,
        "{waiting} triggers waiting: the bound is 256 (+1 being sent)"
    );
    assert!(shed > 0);
    let (rss, _) = streamer.usage();
    println!("trigger flood: peak RSS {:.1} MiB", rss as f64 / 1024.0);
    streamer.terminate().await;
}
