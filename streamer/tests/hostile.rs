//! Hostile and failing fakes (real HTTP/SSE on loopback) against the real binary, in both
//! delivery modes: receivers that hang, disks that fill, streams that stall or send garbage,
//! frames of hundreds of megabytes, an LLM that is down, a session that never stops clicking.
//! Every case ends with every action delivered once the fault clears, SIGTERM honoured within
//! 10 s and the peak resident set under the stated ceiling of 64 MB. Figures are printed.

mod common;

use std::time::{Duration, Instant};

use common::*;

const LIMIT: Duration = Duration::from_secs(90);
/// The memory ceiling the README states for every case here.
const MAX_RSS_KIB: u64 = 64 * 1024;
const MODES: [Mode; 2] = [Mode::Sessions, Mode::Webhook];

/// SIGTERM within 10 s, a clean exit, and the figures of the run.
async fn stop_and_report(case: &str, mode: Mode, streamer: Streamer) {
    let (rss, cpu) = streamer.usage();
    let (status, logs, took) = streamer.terminate().await;
    println!(
        "{case} [{mode:?}]: peak RSS {:.1} MiB, CPU {cpu:.2} s, stopped {took:.2?} after SIGTERM",
        rss as f64 / 1024.0
    );
    assert!(
        status.success(),
        "{case} [{mode:?}]: {status}\n{}",
        tail(&logs, 3000)
    );
    assert!(
        took < Duration::from_secs(10),
        "{case} [{mode:?}]: SIGTERM took {took:?}"
    );
    assert!(rss < MAX_RSS_KIB, "{case} [{mode:?}]: peak RSS {rss} KiB");
}

/// 1. A receiver that hangs while 1,100 batches of 5 sessions arrive, with `--max-queued 5`:
/// nothing is dropped and no cycle of waits forms; once it answers again everything arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_wedges_nothing() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("h", 5);
        serve(&fakes, interleaved(&sessions, 220, 5));
        fakes.with(|s| receiver_faults(s, mode).hang = true);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &["--max-queued", "5"]);
        streamer
            .wait_for_metric(
                "every batch read and spooled while hanging",
                LIMIT,
                "spool_depth",
                1_100,
            )
            .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (code, body) = streamer.health().await;
        assert_eq!(
            code, 200,
            "a slow receiver is not a storage problem: {body}"
        );
        fakes.with(|s| receiver_faults(s, mode).hang = false);
        let started = Instant::now();
        streamer
            .wait_all_held(
                "all 5,500 actions once the receiver answers",
                LIMIT,
                &sessions,
                1_100,
            )
            .await;
        println!(
            "hanging receiver [{mode:?}]: 1,100 batches delivered {:.1?} after it recovered",
            started.elapsed()
        );
        stop_and_report("hanging receiver", mode, streamer).await;
    }
}

/// SIGTERM while the receiver hangs exits at once; a restart delivers what was spooled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_receiver_hangs_then_a_restart_delivers_everything() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("t", 5);
        serve(&fakes, interleaved(&sessions, 40, 5));
        fakes.with(|s| receiver_faults(s, mode).hang = true);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_for_metric("all batches spooled", LIMIT, "spool_depth", 200)
            .await;
        stop_and_report("SIGTERM while hanging", mode, streamer).await;
        fakes.with(|s| receiver_faults(s, mode).hang = false);
        let mut restarted = Streamer::start(&fakes, dir.path(), mode, &[]);
        restarted
            .wait_all_held("everything after the restart", LIMIT, &sessions, 200)
            .await;
        restarted.terminate().await;
    }
}

/// A flood of 10,000 batches as fast as the connector can send them: nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_loses_nothing() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("f", 20);
        serve(&fakes, interleaved(&sessions, 500, 2));
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        let started = Instant::now();
        streamer
            .wait_all_held("all 20,000 actions", LIMIT, &sessions, 1_000)
            .await;
        println!(
            "flood [{mode:?}]: 10,000 batches in {:.1?}",
            started.elapsed()
        );
        stop_and_report("flood", mode, streamer).await;
    }
}

/// Mounts a tmpfs of `mib` MiB at `dir` (root only): `None`, with a notice, where it cannot.
fn tmpfs(dir: &std::path::Path, mib: u32) -> Option<TmpfsGuard> {
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        println!("NOTICE: the full-disk case is skipped: mounting a tmpfs needs root here");
        return None;
    }
    Some(TmpfsGuard(dir.to_owned()))
}

struct TmpfsGuard(std::path::PathBuf);

impl Drop for TmpfsGuard {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the filesystem of `dir` with a file until it is full.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 << 10];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
    path
}

/// 2. The state directory's disk fills while batches arrive: the error is reported at once
/// (`/healthz` 503, a metric), reading pauses, and once space is freed everything is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_pauses_reading_and_loses_nothing() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let root = tempfile::tempdir().unwrap();
        let Some(_mount) = tmpfs(root.path(), 24) else {
            return;
        };
        let sessions = session_names("d", 6);
        let mut script = vec![
            frame(actions_frame("first", 0, 1)),
            Step::Sleep(Duration::from_secs(2)),
        ];
        script.extend(interleaved(&sessions, 200, 5));
        serve(&fakes, script);
        let state = root.path().join("state");
        let mut streamer = Streamer::start(&fakes, &state, mode, &["--max-queued", "16"]);
        streamer
            .wait_held("the first batch", LIMIT, &["first"], 1)
            .await;
        let filler = fill(root.path());
        streamer
            .wait_for_metric(
                "a storage error, reported",
                LIMIT,
                "storage_errors_total",
                1,
            )
            .await;
        let (code, body) = streamer.health().await;
        assert_eq!(code, 503, "{body}");
        assert!(body.contains("cannot write the spool"), "{body}");
        let received = streamer.metric("batches_received_total").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let received = received.max(streamer.metric("batches_received_total").await);
        assert!(
            received < 600,
            "reading paused: {received} of 1,201 batches read"
        );
        std::fs::remove_file(filler).unwrap();
        streamer
            .wait_all_held("every action once space is back", LIMIT, &sessions, 1_000)
            .await;
        assert_eq!(streamer.health().await.0, 200, "healthy again");
        stop_and_report("full disk", mode, streamer).await;
    }
}

/// 3. An invalid UTF-8 byte in a frame: replaced and counted; every later frame arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_wedges_nothing() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let bad = actions_frame("u", 0, 1).replace("clicked option 0", "clicked \u{0} option");
        let mut bytes = format!("data: {bad}\n\n").into_bytes();
        let at = bytes.iter().position(|b| *b == 0).unwrap();
        bytes[at] = 0xff; // a byte that is never valid UTF-8
        let later = (1..1_001).map(|i| frame(actions_frame("u", i, 1)));
        serve(&fakes, [Step::Raw(bytes)].into_iter().chain(later));
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_held("all 1,001 actions", LIMIT, &["u"], 1_001)
            .await;
        assert_eq!(streamer.metric("invalid_utf8_frames_total").await, 1);
        stop_and_report("invalid UTF-8", mode, streamer).await;
    }
}

/// 4. A connector that accepts and then goes silent (no heartbeats) is re-made after
/// `--stream-idle-timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stream_is_reconnected() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        serve(&fakes, [frame(actions_frame("q", 0, 2))]);
        serve(&fakes, [frame(actions_frame("q", 2, 2))]);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer =
            Streamer::start(&fakes, dir.path(), mode, &["--stream-idle-timeout", "2s"]);
        streamer
            .wait_held("the actions after the silent connection", LIMIT, &["q"], 4)
            .await;
        assert_eq!(streamer.metric("stream_idle_timeouts_total").await, 1);
        assert_eq!(fakes.with(|s| s.connects), 2);
        stop_and_report("silent stream", mode, streamer).await;
    }
}

/// An answer that is not an event stream is an error naming its type, and is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_sse_answer_is_named_and_retried() {
    let fakes = fakes(Mode::Sessions).await;
    fakes.with(|s| {
        s.connections
            .push_back(Connection::Typed("text/html", "<html>login</html>".into()))
    });
    serve(&fakes, [frame(actions_frame("n", 0, 1))]);
    let dir = tempfile::tempdir().unwrap();
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Sessions, &[]);
    streamer
        .wait_held("the action after the HTML answer", LIMIT, &["n"], 1)
        .await;
    let (_, logs, _) = streamer.terminate().await;
    assert!(
        logs.contains("content type \"text/html\", not text/event-stream"),
        "{}",
        tail(&logs, 2000)
    );
}

/// 5. A 200 MB frame is skipped in linear time, and a 400 MB one without an end stays bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_of_hundreds_of_megabytes_stay_bounded() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let mut huge = b"data: ".to_vec();
        huge.resize(200 << 20, b'x');
        huge.extend_from_slice(b"\n\n");
        let mut endless = b"data: ".to_vec();
        endless.resize(400 << 20, b'y');
        fakes.with(|s| {
            s.connections.push_back(Connection::Script(vec![
                frame(actions_frame("m", 0, 1)),
                Step::Raw(huge),
                frame(actions_frame("m", 1, 1)),
                Step::Raw(endless),
            ]))
        });
        serve(&fakes, [frame(actions_frame("m", 2, 1))]);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_held("the frames around the huge ones", LIMIT, &["m"], 3)
            .await;
        assert_eq!(
            streamer.metric("oversized_frames_total").await,
            1,
            "the 400 MB one never ended"
        );
        stop_and_report("200 MB + 400 MB frames", mode, streamer).await;
    }
}

/// 5. An LLM outage: each session keeps a bounded tail for its next prompt; memory and prompts
/// stay small, and summaries resume when the LLM is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_outage_keeps_memory_and_prompts_bounded() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("l", 20);
        fakes.with(|s| s.llm.down = true);
        serve(&fakes, interleaved(&sessions, 200, 5));
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_held("all 20,000 actions stored", LIMIT, &sessions, 1_000)
            .await;
        fakes.with(|s| s.llm.down = false);
        streamer
            .wait_for("summaries after the outage", LIMIT, || {
                fakes.with(|s| {
                    s.llm
                        .prompts
                        .iter()
                        .any(|p| p.contains("earlier actions are not listed"))
                })
            })
            .await;
        let longest = fakes.with(|s| s.llm.prompts.iter().map(String::len).max().unwrap_or(0));
        println!("LLM outage [{mode:?}]: longest prompt {longest} bytes");
        assert!(longest < 100_000, "prompt of {longest} bytes");
        stop_and_report("LLM outage", mode, streamer).await;
    }
}

/// 5b. An LLM outage across 2,000 sessions with wordy actions: what waits for summaries is bounded
/// in total (and failures do not keep sessions alive), so peak memory stays within 64 MB of the
/// same run with summaries off. Before: every session kept all its actions, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_llm_outage_across_2000_sessions_stays_bounded_in_total() {
    let mode = Mode::Sessions;
    let sessions = session_names("o", 2_000);
    let wordy = &"w".repeat(1_500);
    let script: Vec<Step> = (0..2u64)
        .flat_map(|b| {
            sessions.iter().map(move |s| {
                let mut body: serde_json::Value =
                    serde_json::from_str(&actions_frame(s, b * 10, 10)).unwrap();
                for action in body["actions"].as_array_mut().unwrap() {
                    action["description"] =
                        format!("{} {wordy}", action["description"].as_str().unwrap()).into();
                }
                frame(body.to_string())
            })
        })
        .collect();
    let mut peaks = Vec::new();
    for summaries in [false, true] {
        let fakes = fakes(mode).await;
        fakes.with(|s| s.llm.down = true);
        serve(&fakes, script.clone());
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = if summaries {
            Streamer::start(&fakes, dir.path(), mode, &[])
        } else {
            Streamer::without_llm(&fakes, dir.path(), mode, &[])
        };
        streamer
            .wait_held("all 40,000 actions delivered", LIMIT * 3, &sessions, 20)
            .await;
        if summaries {
            streamer
                .wait_for("failed LLM calls", LIMIT, || {
                    fakes.with(|s| s.llm.calls > 0)
                })
                .await;
        }
        let (rss, _) = streamer.usage();
        println!(
            "LLM outage, 2,000 sessions, summaries {}: peak RSS {:.1} MiB",
            if summaries { "on (LLM down)" } else { "off" },
            rss as f64 / 1024.0
        );
        if summaries {
            let dropped = streamer.metric("summary_actions_dropped_total").await;
            println!("LLM outage, 2,000 sessions: {dropped} actions left out of prompts");
            assert!(dropped > 0, "the total cap was reached");
        }
        peaks.push(rss);
        let (status, logs, _) = streamer.terminate().await;
        assert!(status.success(), "{status}\n{}", tail(&logs, 3000));
    }
    let extra = peaks[1].saturating_sub(peaks[0]);
    println!(
        "LLM outage, 2,000 sessions: summaries cost {:.1} MiB more",
        extra as f64 / 1024.0
    );
    assert!(extra < MAX_RSS_KIB, "the outage cost {extra} KiB");
}

/// 5. One session that never stops clicking, with triggers on, starves nobody: another session's
/// batches and trigger still arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_session_starves_no_other() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let now = unix_now();
        let mut script: Vec<Step> = (0..4_000)
            .map(|b| {
                frame(pages_frame(
                    "busy",
                    b * 5,
                    &["/a", "/a", "/a", "/a", "/a"],
                    now,
                ))
            })
            .collect();
        script.insert(
            2_000,
            frame(pages_frame(
                "calm",
                0,
                &["/pricing", "/checkout", "/pricing"],
                now,
            )),
        );
        serve(&fakes, script);
        let dir = tempfile::tempdir().unwrap();
        let config = triggers_file(dir.path(), NO_DWELL);
        let state = dir.path().join("state");
        let mut streamer = Streamer::start(&fakes, &state, mode, &["--triggers-config", &config]);
        streamer
            .wait_for("both sessions", LIMIT, || {
                let r = reached(&fakes, mode);
                r.held.get("busy") == Some(&20_000) && r.held.get("calm") == Some(&3)
            })
            .await;
        streamer
            .wait_for("the calm session's trigger", LIMIT, || {
                fakes.with(|s| s.webhook.triggers.iter().any(|t| t["session_id"] == "calm"))
            })
            .await;
        stop_and_report("busy session with triggers", mode, streamer).await;
    }
}

/// 6. A frame of actions with every field defaulted becomes bodies no larger than the receiver
/// takes; every action arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_never_exceed_what_the_receiver_takes() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let empties = vec!["{}"; 26_000].join(",");
        let data =
            format!(r#"{{"type":"actions","session_id":"e","user_id":"u","actions":[{empties}]}}"#);
        fakes.with(|s| s.webhook.max_body = Some(128 << 10));
        serve(&fakes, [frame(data)]);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_for("all 26,000 actions", LIMIT, || {
                reached(&fakes, mode).held.get("e") == Some(&26_000)
            })
            .await;
        assert_eq!(reached(&fakes, mode).duplicates, 0);
        assert_eq!(streamer.metric("dead_lettered_total").await, 0);
        let largest = fakes.with(|s| {
            s.webhook
                .delivered
                .iter()
                .map(|d| d.body.to_string().len())
                .max()
                .unwrap_or(0)
        });
        assert!(largest <= 100_000, "a body of {largest} bytes");
        stop_and_report("defaulted fields", mode, streamer).await;
    }
}

/// 6. A wrong secret or token (401) stops delivery with a clear error and keeps every batch — not
/// a dead letter; a restart with the right one delivers them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_stops_delivery_and_keeps_the_spool() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let sessions = session_names("w", 3);
        serve(&fakes, interleaved(&sessions, 10, 2));
        fakes.with(|s| {
            s.webhook.secret = Some("right-secret".into());
            s.botpress_token = Some("right-token".into());
        });
        let dir = tempfile::tempdir().unwrap();
        let wrong: &[&str] = match mode {
            Mode::Webhook => &["--webhook-secret", "wrong-secret"],
            _ => &[],
        };
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, wrong);
        streamer
            .wait_for_metric("delivery stopped", LIMIT, "delivery_paused", 1)
            .await;
        let (code, body) = streamer.health().await;
        assert_eq!(code, 503);
        let hint = if mode == Mode::Webhook {
            "--webhook-secret"
        } else {
            "--botpress-token"
        };
        assert!(body.contains(hint), "{body}");
        assert_eq!(streamer.metric("dead_lettered_total").await, 0);
        assert_eq!(streamer.metric("spool_depth").await, 30);
        streamer.terminate().await;
        let right: &[&str] = match mode {
            Mode::Webhook => &["--webhook-secret", "right-secret"],
            _ => &[],
        };
        if mode != Mode::Webhook {
            fakes.with(|s| s.botpress_token = Some("bp-test-token".into()));
        }
        serve(&fakes, []);
        let mut restarted = Streamer::start(&fakes, dir.path(), mode, right);
        restarted
            .wait_held(
                "everything with the right credentials",
                LIMIT,
                &sessions,
                20,
            )
            .await;
        restarted.terminate().await;
    }
}

/// 8. Credentials in a stream URL's query never reach the logs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logged_urls_carry_no_credentials() {
    let fakes = fakes(Mode::Sessions).await;
    serve(&fakes, [frame(actions_frame("c", 0, 1))]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}?access_token=query-secret", fakes.url("/stream/p1"));
    let mut streamer = Streamer::start(&fakes, dir.path(), Mode::Sessions, &["--stream-url", &url]);
    streamer.wait_held("the action", LIMIT, &["c"], 1).await;
    let (_, logs, _) = streamer.terminate().await;
    assert!(!logs.contains("query-secret"), "{logs}");
    assert!(logs.contains("connected to the Autoplay stream"));
}

/// 9. A batch of 2,000 actions in the connector's shape (over 256 KiB, the old frame limit) is
/// delivered whole under the default `--max-frame-bytes`, memory still under the ceiling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_real_batch_is_delivered_whole() {
    for mode in MODES {
        let fakes = fakes(mode).await;
        let big = actions_frame("big", 0, 2_000);
        assert!(big.len() > 256 << 10, "{} bytes", big.len());
        serve(&fakes, [frame(big)]);
        let dir = tempfile::tempdir().unwrap();
        let mut streamer = Streamer::start(&fakes, dir.path(), mode, &[]);
        streamer
            .wait_held("the 2,000-action batch", LIMIT, &["big"], 2_000)
            .await;
        assert_eq!(streamer.metric("oversized_frames_total").await, 0);
        stop_and_report("one 2,000-action batch", mode, streamer).await;
    }
}
