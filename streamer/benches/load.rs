//! Load benchmark of the release `autoplay-botpress stream` on loopback, against the same fake
//! connector/webhook/Tables/LLM servers as the integration tests. Prints figures only.
//!
//! 1. full rate: 100 sessions × 20 batches × 5 actions (10,000 actions) emitted as fast as the
//!    fake connector can: actions/s end to end, p50/p99 emit→webhook latency, CPU, peak RSS;
//! 2. the same 2,000 batches at a steady 500 batches/s (4 s): p50/p99 latency;
//! 3. full rate with a burst of 20 webhook 503s: actions lost.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;

const SESSIONS: u64 = 100;
const BATCHES: u64 = 20;
const PER_BATCH: u64 = 5;

fn stamped(session: u64, batch: u64) -> Step {
    let data = actions_frame(&format!("sess-{session}"), batch * PER_BATCH, PER_BATCH)
        .replace("\"forwarded_at\":1795521600.0", "\"forwarded_at\":{NOW}");
    Step::Stamped(data)
}

struct Run {
    actions: usize,
    lost: usize,
    seconds: f64,
    /// From the first emission to the last.
    emit_seconds: f64,
    latencies_ms: Vec<f64>,
    cpu_seconds: f64,
    peak_rss_kib: u64,
}

async fn run(script: Vec<Step>, webhook_failures: usize) -> Run {
    let batches = script
        .iter()
        .filter(|s| matches!(s, Step::Stamped(_)))
        .count();
    let expected = batches * PER_BATCH as usize;
    let fakes = Fakes::start().await;
    fakes.with(|s| {
        s.webhook_failures = std::iter::repeat_n((503, None), webhook_failures).collect();
        s.connections.push_back(Connection::Script(
            script.into_iter().chain([Step::Hold]).collect(),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), &["--max-retry-delay-ms", "500"]);
    let pid = streamer.child.id().unwrap();
    streamer
        .wait_while_running("every batch delivered", Duration::from_secs(120), || {
            fakes.with(|s| s.delivered.len()) >= batches
        })
        .await;
    let (cpu_seconds, peak_rss_kib) = process_usage(pid);
    streamer.terminate().await;

    let unique: HashSet<(String, u64)> = fakes.delivered_actions().into_iter().collect();
    fakes.with(|s| {
        let first_emit = s
            .delivered
            .iter()
            .map(|(b, _, _)| b["forwarded_at"].as_f64().unwrap())
            .fold(f64::MAX, f64::min);
        let last_emit = s
            .delivered
            .iter()
            .map(|(b, _, _)| b["forwarded_at"].as_f64().unwrap())
            .fold(0.0, f64::max);
        let last_arrival = s.delivered.iter().map(|(_, _, at)| *at).fold(0.0, f64::max);
        let mut latencies_ms: Vec<f64> = s
            .delivered
            .iter()
            .map(|(b, _, at)| (at - b["forwarded_at"].as_f64().unwrap()) * 1000.0)
            .collect();
        latencies_ms.sort_by(f64::total_cmp);
        Run {
            actions: unique.len(),
            lost: expected.saturating_sub(unique.len()),
            seconds: last_arrival - first_emit,
            emit_seconds: last_emit - first_emit,
            latencies_ms,
            cpu_seconds,
            peak_rss_kib,
        }
    })
}

/// CPU seconds (user + system) and peak RSS of a live process, from /proc.
fn process_usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let clock_ticks = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (ticks / clock_ticks, hwm)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Interleave sessions the way a live product does: round r carries batch r of every session.
    let full_rate: Vec<Step> = (0..BATCHES)
        .flat_map(|b| (0..SESSIONS).map(move |s| stamped(s, b)))
        .collect();

    let a = run(full_rate.clone(), 0).await;
    println!(
        "full rate: {} actions in {:.3} s = {:.0} actions/s end to end",
        a.actions,
        a.seconds,
        a.actions as f64 / a.seconds
    );
    println!(
        "  latency emit→webhook p50 {:.1} ms, p99 {:.1} ms; CPU {:.2} s ({:.3} CPU-s per 1,000 actions); peak RSS {:.1} MiB; lost {}",
        percentile(&a.latencies_ms, 0.5),
        percentile(&a.latencies_ms, 0.99),
        a.cpu_seconds,
        a.cpu_seconds / a.actions as f64 * 1000.0,
        a.peak_rss_kib as f64 / 1024.0,
        a.lost
    );

    // 500 batches/s: batch i of the run leaves at i × 2 ms.
    let steady: Vec<Step> = (0..BATCHES)
        .flat_map(|b| (0..SESSIONS).map(move |s| (b * SESSIONS + s, stamped(s, b))))
        .flat_map(|(i, step)| [Step::At(Duration::from_millis(2 * i)), step])
        .collect();
    let b = run(steady, 0).await;
    println!(
        "steady {:.0} batches/s: latency p50 {:.1} ms, p99 {:.1} ms; lost {}",
        b.latencies_ms.len() as f64 / b.emit_seconds,
        percentile(&b.latencies_ms, 0.5),
        percentile(&b.latencies_ms, 0.99),
        b.lost
    );

    let c = run(full_rate, 20).await;
    println!(
        "full rate with a burst of 20 webhook 503s: {} of 10000 actions delivered, lost {}",
        c.actions, c.lost
    );
}
