//! Load benchmark of the release `autoplay-botpress stream` on loopback against the crate's
//! fakes, with the fake Botpress enforcing 600 requests per minute (429 + `RateLimit-*` +
//! `Retry-After` when over). Prints figures; asserts nothing about speed.
//!
//! 1. live traffic: 200 sessions × 1 batch of 5 actions every 2 s for 60 s (30,000 actions),
//!    summaries every 10 actions, in each delivery mode — Botpress requests, billed events and
//!    rows per 1,000 actions next to the guide's path for the same traffic, action → row delay,
//!    rate-limited answers, memory and CPU;
//! 2. full rate: the same 30,000 actions as fast as the connector can send them, events layout
//!    (one row per action), and the sessions layout;
//! 3. state directory: its size (file length and disk use, peak and once all is delivered) after
//!    10 actions per session in 2 batches over `BENCH_STATE_SESSIONS` sessions (2,000 by
//!    default; 20,000 for the issue's 200,000 actions), with the default spool bound, with
//!    `--max-spool-mb 50`, and with `--retention` once retention has deleted the rows;
//! 4. nudges: 200 sessions going back and forth between two pages every 2 s for 20 s, with the
//!    default triggers and the fake LLM as the judge — signals found, nudges sent, the share
//!    pacing suppressed, judge calls and latency per nudge.
//!
//! By default the live run is the sessions layout (the default mode) only, to keep CI short;
//! `BENCH_ALL=1` adds the events layout and the webhook, `BENCH_ONLY=<text>` picks scenarios.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::Duration;

use autoplay_botpress_cli::cost::{estimate, Mode as CostMode, Settings, Traffic};
use common::*;
use serde_json::{json, Value};

const SESSIONS: u64 = 200;
const ROUNDS: u64 = 30;
const PER_BATCH: u64 = 5;
const PERIOD: Duration = Duration::from_secs(2);
const ACTIONS: u64 = SESSIONS * ROUNDS * PER_BATCH;

/// A batch of `session` (actions `round * PER_BATCH ..`, each made by `action` from its index),
/// stamped with the time the fake connector sends it.
fn stamped_batch(session: u64, round: u64, action: fn(u64) -> Value) -> Step {
    let first = round * PER_BATCH;
    let actions: Vec<Value> = (first..first + PER_BATCH).map(action).collect();
    let data = json!({"type": "actions", "product_id": "p1", "session_id": format!("sess-{session}"),
                      "user_id": format!("user-{session}"), "actions": actions, "count": PER_BATCH,
                      "forwarded_at": "{NOW}"});
    Step::Stamped(data.to_string())
}

/// A batch of clicks on one page.
fn stamped(session: u64, round: u64) -> Step {
    stamped_batch(session, round, |i| {
        json!({"title": "Click element", "description": format!("clicked option {i} of the plan picker"),
               "canonical_url": "https://yourapp.com/pricing", "index": i, "type": "click",
               "timestamp_start": "{NOW}"})
    })
}

/// A batch that goes back and forth between pricing and checkout.
fn bouncing(session: u64, round: u64) -> Step {
    stamped_batch(session, round, |i| {
        let page = if i % 2 == 0 { "/pricing" } else { "/checkout" };
        json!({"title": "Page view", "description": format!("Viewed {page}"), "type": "pageview",
               "canonical_url": format!("https://yourapp.com{page}"), "index": i,
               "timestamp_start": "{NOW}"})
    })
}

/// `rounds` rounds of one batch per session, the sessions' batches spread over each [`PERIOD`].
fn paced(rounds: u64, batch: fn(u64, u64) -> Step) -> Vec<Step> {
    (0..rounds)
        .flat_map(|round| {
            (0..SESSIONS).flat_map(move |s| {
                let at = PERIOD * round as u32 + PERIOD.mul_f64(s as f64 / SESSIONS as f64);
                [Step::At(at), batch(s, round)]
            })
        })
        .collect()
}

/// Scenario 4: what pacing and the judge do with a session that keeps showing friction.
async fn nudges() {
    const NUDGE_ROUNDS: u64 = 10;
    let fakes = fakes(Mode::Webhook).await;
    let script: Vec<Step> = paced(NUDGE_ROUNDS, bouncing)
        .into_iter()
        .chain([Step::Hold])
        .collect();
    fakes.with(|s| s.connections.push_back(Connection::Script(script)));
    let dir = tempfile::tempdir().unwrap();
    let triggers = dir.path().join("triggers.json");
    std::fs::write(&triggers, r#"{"triggers": {}}"#).unwrap();
    let state = dir.path().join("state");
    let mut streamer = Streamer::start(
        &fakes,
        &state,
        Mode::Webhook,
        &["--triggers-config", triggers.to_str().unwrap()],
    );
    let sessions: Vec<String> = (0..SESSIONS).map(|s| format!("sess-{s}")).collect();
    streamer
        .wait_for("every action held", Duration::from_secs(300), || {
            all_held(&fakes, Mode::Webhook, &sessions, NUDGE_ROUNDS * PER_BATCH)
        })
        .await;
    // The last evaluations, the judge calls they started and the sends (within the triggers'
    // share of the request budget): until every nudge fired is sent or accounted for.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut gone = fakes.with(|s| s.webhook.nudges.len()) as u64;
        for name in [
            "judge_refusals_total",
            "triggers_shed_total",
            "triggers_dropped_total",
        ] {
            gone += streamer.metric(name).await;
        }
        if started.elapsed() > Duration::from_secs(3)
            && gone >= streamer.metric("triggers_fired_total").await
        {
            break;
        }
    }
    let mut figures = HashMap::new();
    for name in [
        "triggers_fired_total",
        "triggers_held_by_window_total",
        "triggers_outranked_total",
        "judge_calls_total",
        "judge_refusals_total",
        "judge_failures_total",
        "judge_latency_ms_total",
        "triggers_shed_total",
        "triggers_dropped_total",
    ] {
        figures.insert(name, streamer.metric(name).await as f64);
    }
    streamer.terminate().await;
    let sent = fakes.with(|s| s.webhook.nudges.len()) as f64;
    let fired = figures["triggers_fired_total"];
    let suppressed = figures["triggers_held_by_window_total"] + figures["triggers_outranked_total"];
    let calls = figures["judge_calls_total"];
    println!(
        "nudges: {SESSIONS} sessions going back and forth every {} s for {} s, default triggers, the fake LLM as judge",
        PERIOD.as_secs(),
        NUDGE_ROUNDS * PERIOD.as_secs()
    );
    println!(
        "  {:.0} signals past the detectors, {:.0} suppressed by pacing ({:.1} %), {fired:.0} nudges fired, {sent:.0} sent ({:.2} per session; {:.0} refused by the judge, {:.0} shed, {:.0} dropped); {calls:.0} judge calls ({:.2} per nudge fired, {:.0} failed), {:.1} ms judge latency per call",
        fired + suppressed,
        suppressed,
        100.0 * suppressed / (fired + suppressed).max(1.0),
        sent / SESSIONS as f64,
        figures["judge_refusals_total"],
        figures["triggers_shed_total"],
        figures["triggers_dropped_total"],
        calls / fired.max(1.0),
        figures["judge_failures_total"],
        figures["judge_latency_ms_total"] / calls.max(1.0),
    );
}

struct Run {
    /// Seconds from the last emission until every action was held.
    settled_after: f64,
    /// Seconds from the first emission until every action was held.
    total: f64,
    requests: usize,
    billed: usize,
    rows: usize,
    rate_limited: usize,
    delays_ms: Vec<f64>,
    rss_kib: u64,
    cpu: f64,
}

async fn run(mode: Mode, script: Vec<Step>) -> Run {
    let fakes = fakes(mode).await;
    fakes.with(|s| {
        s.rate_limit = Some(600);
        s.connections.push_back(Connection::Script(
            script.into_iter().chain([Step::Hold]).collect(),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    // The defaults a user gets: a 1 s flush, 300 requests per minute.
    let mut streamer = Streamer::start(&fakes, dir.path(), mode, &["--flush-every", "1s"]);
    let sessions: Vec<String> = (0..SESSIONS).map(|s| format!("sess-{s}")).collect();
    let per_session = ROUNDS * PER_BATCH;
    streamer
        .wait_for("every action held", Duration::from_secs(600), || {
            all_held(&fakes, mode, &sessions, per_session)
        })
        .await;
    let held_at = unix_now();
    let (rss_kib, cpu) = streamer.usage();
    streamer.terminate().await;
    assert_all_held(&fakes, mode, &sessions, per_session);
    fakes.with(|s| {
        let (delays_ms, first, last) = delays(s);
        Run {
            settled_after: held_at - last,
            total: held_at - first,
            requests: s.tables.calls.len() + s.webhook.posts,
            billed: s.webhook.posts,
            rows: s.tables.tables.values().map(|t| t.rows.len()).sum(),
            rate_limited: s.rate_limited,
            delays_ms,
            rss_kib,
            cpu,
        }
    })
}

/// Per action: from when it happened to the first write that carried it; and the first and last
/// action times.
fn delays(s: &autoplay_botpress_cli::fakes::FakeState) -> (Vec<f64>, f64, f64) {
    let mut first_seen: HashMap<(&str, u64), (f64, f64)> = HashMap::new();
    for c in s.carried() {
        first_seen
            .entry((c.session, c.index))
            .or_insert((c.happened, c.at));
    }
    let mut delays: Vec<f64> = first_seen
        .values()
        .map(|(h, at)| (at - h) * 1000.0)
        .collect();
    delays.sort_by(f64::total_cmp);
    let first = first_seen
        .values()
        .map(|(h, _)| *h)
        .fold(f64::MAX, f64::min);
    let last = first_seen.values().map(|(h, _)| *h).fold(0.0, f64::max);
    (delays, first, last)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Streams 10 actions per session (2 batches) over `sessions` sessions as fast as the connector
/// sends them, sessions layout; prints the state directory's size at its peak and once every
/// action reached Botpress (and, with `--retention`, once retention deleted the rows).
async fn state_dir(sessions: u64, label: &str, extra: &[&str]) {
    let fakes = fakes(Mode::Sessions).await;
    let names: Vec<String> = (0..sessions).map(|s| format!("st-{s}")).collect();
    let mut script = interleaved(&names, 2, 5);
    script.push(Step::Hold);
    fakes.with(|s| s.connections.push_back(Connection::Script(script)));
    let dir = tempfile::tempdir().unwrap();
    let args = [&["--flush-every", "1s"][..], extra].concat();
    let mut streamer = Streamer::without_llm(&fakes, dir.path(), Mode::Sessions, &args);
    let peak = PeakSize::sample(dir.path());
    streamer
        .wait_for(
            "every action reached Botpress",
            Duration::from_secs(1_800),
            || {
                let r = reached(&fakes, Mode::Sessions);
                names
                    .iter()
                    .all(|s| r.indices.get(s).is_some_and(|i| i.len() == 10))
            },
        )
        .await;
    // Give the last settle and the spool's upkeep (every 10 s) their turn.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let delivered = dir_size(dir.path());
    let mut after_retention = String::new();
    if extra.contains(&"--retention") {
        streamer
            .wait_for(
                "retention deleted every row",
                Duration::from_secs(600),
                || fakes.with(|s| s.tables.tables["AutoPlaySessionsTable"].rows.is_empty()),
            )
            .await;
        tokio::time::sleep(Duration::from_secs(25)).await;
        let after = dir_size(dir.path());
        after_retention = format!(
            "; after retention {:.1} MB ({:.1} MB on disk)",
            mb(after.0),
            mb(after.1)
        );
    }
    let peak = peak.stop();
    let line = format!(
        "  {label}: peak {:.1} MB file ({:.1} MB on disk); all delivered {:.1} MB ({:.1} MB on disk){after_retention}",
        mb(peak.0),
        mb(peak.1),
        mb(delivered.0),
        mb(delivered.1)
    );
    streamer.terminate().await;
    println!("{line}");
}

fn per_1000(n: usize) -> f64 {
    n as f64 * 1000.0 / ACTIONS as f64
}

/// Whether to run a scenario: `BENCH_ONLY=<text>` picks those whose label contains it; without
/// it, all of them with `BENCH_ALL=1`, else the default set.
fn wanted(label: &str) -> bool {
    match std::env::var("BENCH_ONLY") {
        Ok(only) => label.contains(&only),
        Err(_) => {
            std::env::var_os("BENCH_ALL").is_some()
                || !label.starts_with("live ")
                || label == "live Sessions"
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // The guide's path on the same traffic, from the core's cost model (computed, not run).
    let traffic = Traffic {
        users: SESSIONS as f64,
        actions_per_minute: (PER_BATCH * 60) as f64 / PERIOD.as_secs_f64(),
        actions_per_batch: PER_BATCH as f64,
        session_minutes: 30.0,
    };
    let settings = Settings {
        flush_every_ms: 1_000,
        max_requests_per_minute: 300,
        threshold: Some(10),
        retention_hours: None,
        judge_window_ms: None,
    };
    let guide = estimate(CostMode::Guide, &traffic, &settings);
    let minute = 1.0 / 60.0;
    let guide_requests = guide.requests_per_hour * minute;
    let guide_billed = guide.billed_events_per_hour * minute;
    println!(
        "live traffic: {SESSIONS} sessions × {PER_BATCH} actions every {} s for {} s ({ACTIONS} actions), a summary every 10 actions, Botpress limited to 600 requests/min, default flush (1 s) and budget (300/min)",
        PERIOD.as_secs(),
        ROUNDS * PERIOD.as_secs()
    );
    println!(
        "  the guide's path on this traffic (computed): {guide_requests:.0} requests = {:.0} per 1,000 actions, {guide_billed:.0} billed events, {ACTIONS} rows (+1 summary row); at 600/min Botpress takes {:.0} minutes to accept it",
        per_1000(guide_requests as usize),
        guide_requests / 600.0
    );
    let live = paced(ROUNDS, stamped);
    for mode in [Mode::Sessions, Mode::Events, Mode::Webhook] {
        if !wanted(&format!("live {mode:?}")) {
            continue;
        }
        let r = run(mode, live.clone()).await;
        println!(
            "  {mode:?}: every action held {:.2} s after the stream ended; {} Botpress requests = {:.2} per 1,000 actions ({:.0}× fewer than the guide); {} billed events = {:.2} per 1,000; {} rows in use; {} rate-limited answers; action → row p50 {:.0} ms, p99 {:.0} ms; peak RSS {:.1} MiB; {:.3} CPU-s per 1,000 actions",
            r.settled_after,
            r.requests,
            per_1000(r.requests),
            guide_requests / r.requests.max(1) as f64,
            r.billed,
            per_1000(r.billed),
            r.rows,
            r.rate_limited,
            percentile(&r.delays_ms, 0.5),
            percentile(&r.delays_ms, 0.99),
            r.rss_kib as f64 / 1024.0,
            r.cpu / ACTIONS as f64 * 1000.0,
        );
    }

    println!("full rate: the same {ACTIONS} actions as fast as the connector sends them");
    let full: Vec<Step> = (0..ROUNDS)
        .flat_map(|round| (0..SESSIONS).map(move |s| stamped(s, round)))
        .collect();
    for mode in [Mode::Events, Mode::Sessions] {
        if !wanted(&format!("full {mode:?}")) {
            continue;
        }
        let r = run(mode, full.clone()).await;
        println!(
            "  {mode:?}: {:.0} actions/s into rows ({ACTIONS} in {:.2} s); {} requests; {} rate-limited answers; peak RSS {:.1} MiB; {:.3} CPU-s per 1,000 actions",
            ACTIONS as f64 / r.total,
            r.total,
            r.requests,
            r.rate_limited,
            r.rss_kib as f64 / 1024.0,
            r.cpu / ACTIONS as f64 * 1000.0,
        );
    }

    if wanted("nudges") {
        nudges().await;
    }

    let sessions: u64 = std::env::var("BENCH_STATE_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    println!(
        "state directory: {} actions over {sessions} sessions (2 batches of 5 each), sessions layout, as fast as the connector sends them",
        sessions * 10
    );
    for (label, extra) in [
        ("state default", &[][..]),
        ("state --max-spool-mb 50", &["--max-spool-mb", "50"][..]),
        (
            "state --retention 60s",
            &["--retention", "60s", "--prune-every", "5s"][..],
        ),
    ] {
        if wanted(label) {
            state_dir(sessions, label.trim_start_matches("state "), extra).await;
        }
    }
}
