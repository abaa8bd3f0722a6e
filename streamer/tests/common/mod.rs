//! Runs the real `autoplay-botpress` binary against the crate's fakes (the demo's stand-ins):
//! starting and stopping it, reading its metrics and resources, and checking what reached
//! Botpress in each delivery mode.
#![allow(dead_code, unused_imports)] // each test file uses a different part

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use autoplay_botpress_cli::botpress::TableRequest;
pub use autoplay_botpress_cli::fakes::{unix_now, Connection, FakeState, Fakes, Faults, Step};
use autoplay_botpress_cli::layout::{Layout, Tables};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// How the streamer delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--deliver tables` with the sessions layout (the default).
    Sessions,
    /// `--deliver tables --layout events`.
    Events,
    /// `--deliver webhook`.
    Webhook,
}

impl Mode {
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            Mode::Sessions => &[],
            Mode::Events => &["--layout", "events"],
            Mode::Webhook => &["--deliver", "webhook"],
        }
    }

    fn tables(self) -> Tables {
        Tables {
            layout: if self == Mode::Sessions {
                Layout::Sessions
            } else {
                Layout::Events
            },
            sessions: "AutoPlaySessionsTable".into(),
            events: "AutoPlayEventsTable".into(),
            summary: "AutoPlayEventsSummaryTable".into(),
            row_factor: 1,
        }
    }
}

/// The fakes, serving until the test ends, with the tables of `mode` created as `setup` would.
pub async fn fakes(mode: Mode) -> Fakes {
    let fakes = Fakes::start(tokio_util::sync::CancellationToken::new())
        .await
        .expect("the fakes start");
    fakes.with(|s| s.tables.keep_bodies = true);
    for request in table_requests(mode) {
        fakes.create_table(&request);
    }
    fakes
}

/// The get-or-create calls `setup` makes for `mode`.
pub fn table_requests(mode: Mode) -> Vec<TableRequest> {
    autoplay_botpress_cli::setup::table_requests(&mode.tables())
}

/// The JSON of an `actions` frame: `n` clicks of `session` starting at `first_index`.
pub fn actions_frame(session: &str, first_index: u64, n: u64) -> String {
    let actions: Vec<Value> = (first_index..first_index + n)
        .map(|i| {
            json!({"title": "Click element", "description": format!("clicked option {i}"),
                   "canonical_url": "https://yourapp.com/pricing", "index": i, "type": "click",
                   "timestamp_start": 1_795_521_600.0 + i as f64})
        })
        .collect();
    json!({"type": "actions", "product_id": "p1", "session_id": session,
           "user_id": format!("user-{session}"), "actions": actions, "count": n,
           "forwarded_at": 1_795_521_600.0})
    .to_string()
}

/// An `actions` frame of one pageview per page, at `at` seconds (unix) one second apart.
pub fn pages_frame(session: &str, first_index: u64, pages: &[&str], at: f64) -> String {
    let actions: Vec<Value> = pages
        .iter()
        .enumerate()
        .map(|(i, page)| {
            json!({"title": "Page view", "description": format!("Viewed {page}"), "type": "pageview",
                   "canonical_url": format!("https://yourapp.com{page}"), "index": first_index + i as u64,
                   "timestamp_start": at + i as f64})
        })
        .collect();
    json!({"type": "actions", "product_id": "p1", "session_id": session,
           "user_id": format!("user-{session}"), "actions": actions, "count": pages.len()})
    .to_string()
}

pub fn frame(data: String) -> Step {
    Step::Frame(None, data)
}

/// A script of `batches` batches of `per_batch` actions for each session, interleaved.
pub fn interleaved(sessions: &[String], batches: u64, per_batch: u64) -> Vec<Step> {
    (0..batches)
        .flat_map(|b| {
            sessions
                .iter()
                .map(move |s| frame(actions_frame(s, b * per_batch, per_batch)))
        })
        .collect()
}

pub fn session_names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Queues the stream's next connection: `steps`, then the stream held open.
pub fn serve(fakes: &Fakes, steps: impl IntoIterator<Item = Step>) {
    let script = steps.into_iter().chain([Step::Hold]).collect();
    fakes.with(|s| s.connections.push_back(Connection::Script(script)));
}

/// The faults of the receiver `mode` delivers to: the webhook, or the Tables API.
pub fn receiver_faults(s: &mut FakeState, mode: Mode) -> &mut Faults {
    match mode {
        Mode::Webhook => &mut s.webhook.faults,
        _ => &mut s.tables_faults,
    }
}

/// A triggers file that turns `dwell` off and words `ping_pong`'s nudge.
pub const PING_PONG_ONLY: &str =
    r#"{"triggers": {"ping_pong": {"message": "Comparing plans?"}, "dwell": {"enabled": false}}}"#;

/// A triggers file that turns `dwell` off.
pub const NO_DWELL: &str = r#"{"triggers": {"dwell": {"enabled": false}}}"#;

/// The flags of a streamer reading `config` as its triggers file and signing its webhooks with a
/// shared secret, which the fakes' webhook then requires.
pub fn signed_triggers<'a>(fakes: &Fakes, config: &'a str) -> [&'a str; 4] {
    fakes.with(|s| s.webhook.secret = Some("hook-secret".into()));
    [
        "--triggers-config",
        config,
        "--webhook-secret",
        "hook-secret",
    ]
}

/// Writes `json` as `dir/triggers.json`; returns its path, for `--triggers-config`.
pub fn triggers_file(dir: &Path, json: &str) -> String {
    let path = dir.join("triggers.json");
    std::fs::write(&path, json).unwrap();
    path.to_str().expect("a UTF-8 temporary path").to_owned()
}

/// What reached Botpress, per session: the action indices seen and how many actions it holds.
#[derive(Debug, Default)]
pub struct Reached {
    /// Action indices that reached Botpress at least once.
    pub indices: HashMap<String, BTreeSet<u64>>,
    /// Actions Botpress holds per session: session rows' `action_count`, event rows, or actions
    /// in accepted webhook bodies (each counted once per body that carried it).
    pub held: HashMap<String, u64>,
    /// Actions stored more than once (same key twice).
    pub duplicates: usize,
}

/// What reached Botpress in `mode`.
pub fn reached(fakes: &Fakes, mode: Mode) -> Reached {
    fakes.with(|s| {
        let mut out = Reached::default();
        let note = |out: &mut Reached, session: &str, index: u64| {
            out.indices
                .entry(session.to_owned())
                .or_default()
                .insert(index);
        };
        match mode {
            Mode::Webhook => {
                let mut keys = BTreeSet::new();
                for c in s.carried() {
                    note(&mut out, c.session, c.index);
                    *out.held.entry(c.session.to_owned()).or_default() += 1;
                    if !keys.insert(c.event_key) {
                        out.duplicates += 1;
                    }
                }
            }
            Mode::Events => {
                let mut keys = BTreeSet::new();
                for row in s
                    .tables
                    .tables
                    .get("AutoPlayEventsTable")
                    .map_or(&[][..], |t| &t.rows)
                {
                    let session = row["session_id"].as_str().unwrap_or("").to_owned();
                    note(
                        &mut out,
                        &session,
                        row["action_index"].as_u64().unwrap_or(0),
                    );
                    *out.held.entry(session).or_default() += 1;
                    if !keys.insert(row["event_key"].as_str().unwrap_or("").to_owned()) {
                        out.duplicates += 1;
                    }
                }
            }
            Mode::Sessions => {
                for c in s.carried() {
                    note(&mut out, c.session, c.index);
                }
                let rows = s
                    .tables
                    .tables
                    .get("AutoPlaySessionsTable")
                    .map_or(&[][..], |t| &t.rows);
                let mut sessions = BTreeSet::new();
                for row in rows {
                    let session = row["session_id"].as_str().unwrap_or("").to_owned();
                    if !sessions.insert(session.clone()) {
                        out.duplicates += 1;
                    }
                    out.held
                        .insert(session, row["action_count"].as_u64().unwrap_or(0));
                }
            }
        }
        out
    })
}

/// Whether Botpress holds exactly `per_session` actions for each of `sessions`, each once.
pub fn all_held(fakes: &Fakes, mode: Mode, sessions: &[String], per_session: u64) -> bool {
    let r = reached(fakes, mode);
    r.duplicates == 0
        && sessions
            .iter()
            .all(|s| r.held.get(s).copied() == Some(per_session))
}

/// Asserts that every action of `sessions` (indices `0..per_session`) reached Botpress, once.
pub fn assert_all_held(fakes: &Fakes, mode: Mode, sessions: &[String], per_session: u64) {
    let r = reached(fakes, mode);
    assert_eq!(r.duplicates, 0, "{mode:?}: actions stored twice");
    for session in sessions {
        assert_eq!(
            r.held.get(session).copied(),
            Some(per_session),
            "{mode:?}: actions held for {session}"
        );
        if mode != Mode::Sessions {
            let expected: BTreeSet<u64> = (0..per_session).collect();
            assert_eq!(
                r.indices.get(session),
                Some(&expected),
                "{mode:?}: {session}"
            );
        }
    }
}

/// The Botpress flags pointing at the fakes.
pub fn botpress_flags(fakes: &Fakes, token: &str) -> Vec<String> {
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

/// Runs `command` with the Botpress flags pointing at the fakes (see [`cli`]).
pub async fn cli_on_botpress(
    command: &[&str],
    fakes: &Fakes,
    token: &str,
) -> (i32, String, String) {
    let mut args: Vec<String> = command.iter().map(|s| (*s).to_owned()).collect();
    args.extend(botpress_flags(fakes, token));
    cli_owned(args).await
}

/// [`cli`] with owned arguments.
pub async fn cli_owned(args: Vec<String>) -> (i32, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&args).await
}

/// Runs `autoplay-botpress` with `args` to completion: (exit code, stdout, stderr).
pub async fn cli(args: &[&str]) -> (i32, String, String) {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"))
            .args(args)
            .env_remove("OPENAI_API_KEY")
            .env_remove("BOTPRESS_TOKEN")
            .env_remove("BOTPRESS_BOT_ID")
            .env_remove("AUTOPLAY_TOKEN")
            .env_remove("BOTPRESS_WEBHOOK_URL")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the command finishes")
    .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

pub fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// (file length, disk use) of a directory's files, in bytes.
pub fn dir_size(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .fold((0, 0), |(len, used), m| {
            (len + m.len(), used + m.blocks() * 512)
        })
}

/// The largest size a directory reaches, sampled every 5 ms on a thread of its own, so that a
/// spike between two polls of a test still shows.
pub struct PeakSize {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl PeakSize {
    /// Starts sampling `dir`.
    pub fn sample(dir: &Path) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        let dir = dir.to_owned();
        let thread = std::thread::spawn(move || {
            let mut peak = (0, 0);
            while !stopped.load(std::sync::atomic::Ordering::Relaxed) {
                let now = dir_size(&dir);
                peak = (peak.0.max(now.0), peak.1.max(now.1));
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        });
        Self { stop, thread }
    }

    /// Stops sampling: the largest (file length, disk use) seen, in bytes.
    pub fn stop(self) -> (u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().expect("the sampling thread ends")
    }
}

/// The streamer as a child process. Its stderr is drained into `logs` as it runs, so a chatty
/// run never blocks on a full pipe.
pub struct Streamer {
    pub child: Child,
    pub pid: u32,
    pub metrics_addr: std::net::SocketAddr,
    logs: tokio::task::JoinHandle<String>,
    /// The fakes it runs against.
    fakes: Fakes,
    /// How it delivers to them.
    mode: Mode,
}

impl Streamer {
    /// Starts `stream` in `mode` against the fakes with state in `state_dir`; `extra` adds flags.
    pub fn start(fakes: &Fakes, state_dir: &Path, mode: Mode, extra: &[&str]) -> Self {
        let llm = [
            "--openai-base-url",
            &fakes.url("/v1"),
            "--openai-api-key",
            "sk-test-key",
        ];
        Self::spawn(fakes, state_dir, mode, &[&llm[..], extra].concat())
    }

    /// Like [`Streamer::start`], without an LLM key (summaries off).
    pub fn without_llm(fakes: &Fakes, state_dir: &Path, mode: Mode, extra: &[&str]) -> Self {
        Self::spawn(fakes, state_dir, mode, extra)
    }

    /// Starts the binary; a flag in `extra` replaces the default of the same name.
    fn spawn(fakes: &Fakes, state_dir: &Path, mode: Mode, extra: &[&str]) -> Self {
        let metrics_addr = free_addr();
        let defaults = [
            ("--stream-url", fakes.url("/stream/p1")),
            ("--token", "autoplay-test-token".to_owned()),
            ("--webhook-url", fakes.url("/hook")),
            ("--botpress-token", "bp-test-token".to_owned()),
            ("--bot-id", "bot-1".to_owned()),
            ("--botpress-api-url", fakes.url("")),
            ("--flush-every", "200ms".to_owned()),
            ("--metrics-addr", metrics_addr.to_string()),
        ];
        let mut args: Vec<String> = vec!["stream".into()];
        for (flag, value) in defaults {
            if !extra.contains(&flag) {
                args.extend([flag.to_owned(), value]);
            }
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_autoplay-botpress"))
            .args(&args)
            .arg("--state-dir")
            .arg(state_dir)
            .args(mode.flags())
            .args(extra)
            .env("AUTOPLAY_BOTPRESS_LOG", "info")
            .env_remove("AUTOPLAY_TOKEN")
            .env_remove("OPENAI_API_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the streamer binary starts");
        let pid = child.id().expect("a running child has a pid");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let logs = tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes).await;
            String::from_utf8_lossy(&bytes).into_owned()
        });
        Self {
            child,
            pid,
            metrics_addr,
            logs,
            fakes: fakes.clone(),
            mode,
        }
    }

    /// A metric's current value from /metrics (0 while the server is not up yet).
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.get("/metrics").await.map_or(String::new(), |(_, t)| t);
        let full = format!("autoplay_botpress_{name} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&full))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// `/healthz`: (status, body).
    pub async fn health(&self) -> (u16, String) {
        self.get("/healthz").await.unwrap_or((0, String::new()))
    }

    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("http://{}{path}", self.metrics_addr);
        let response = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.unwrap_or_default()))
    }

    /// Polls `condition` until it holds; fails at once, with the logs, if the process exits, and
    /// after `limit` (a safety net, not a timing assertion: generous on purpose).
    pub async fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        mut condition: impl FnMut() -> bool,
    ) {
        let start = Instant::now();
        while !condition() {
            if let Ok(Some(status)) = self.child.try_wait() {
                let logs = (&mut self.logs).await.unwrap_or_default();
                panic!("the streamer exited ({status}) before: {what}\n{logs}");
            }
            if start.elapsed() > limit {
                let _ = self.child.start_kill();
                let logs = (&mut self.logs).await.unwrap_or_default();
                panic!("timed out waiting for: {what}\n{}", tail(&logs, 4_000));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until Botpress holds exactly `per_session` actions of each of `sessions`, each once
    /// (see [`all_held`]).
    pub async fn wait_held(
        &mut self,
        what: &str,
        limit: Duration,
        sessions: &[impl AsRef<str>],
        per_session: u64,
    ) {
        let (fakes, mode) = (self.fakes.clone(), self.mode);
        let sessions: Vec<String> = sessions.iter().map(|s| s.as_ref().to_owned()).collect();
        self.wait_for(what, limit, || {
            all_held(&fakes, mode, &sessions, per_session)
        })
        .await;
    }

    /// [`Streamer::wait_held`], then [`assert_all_held`]: every action index arrived.
    pub async fn wait_all_held(
        &mut self,
        what: &str,
        limit: Duration,
        sessions: &[String],
        per_session: u64,
    ) {
        self.wait_held(what, limit, sessions, per_session).await;
        assert_all_held(&self.fakes, self.mode, sessions, per_session);
    }

    /// Like [`Streamer::wait_for`] with an async condition (e.g. a metric).
    pub async fn wait_for_metric(
        &mut self,
        what: &str,
        limit: Duration,
        name: &str,
        at_least: u64,
    ) {
        let start = Instant::now();
        loop {
            if self.metric(name).await >= at_least {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let logs = (&mut self.logs).await.unwrap_or_default();
                panic!("the streamer exited ({status}) before: {what}\n{logs}");
            }
            assert!(start.elapsed() < limit, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Peak resident set (KiB) and CPU seconds so far, from /proc.
    pub fn usage(&self) -> (u64, f64) {
        process_usage(self.pid)
    }

    /// SIGTERM, then the exit status, everything logged, and how long it took to exit.
    pub async fn terminate(mut self) -> (std::process::ExitStatus, String, Duration) {
        let started = Instant::now();
        Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the streamer exits after SIGTERM")
            .unwrap();
        let elapsed = started.elapsed();
        (status, self.logs.await.unwrap(), elapsed)
    }

    /// SIGTERM, asserting a clean exit; returns everything logged.
    pub async fn stop_cleanly(self) -> String {
        let (status, logs, _) = self.terminate().await;
        assert!(status.success(), "{status}\n{}", tail(&logs, 3_000));
        logs
    }

    /// SIGKILL: no chance to clean up.
    pub async fn kill(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }

    /// Waits for the process to exit by itself.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the streamer exits")
            .unwrap();
        (status, self.logs.await.unwrap())
    }
}

/// The last `n` bytes of `text` (on a character boundary).
pub fn tail(text: &str, n: usize) -> &str {
    let mut start = text.len().saturating_sub(n);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Peak resident set (KiB) and CPU seconds (user + system) of a live process, from /proc.
pub fn process_usage(pid: u32) -> (u64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
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
    (hwm, (ticks(11) + ticks(12)) / clock_ticks)
}

/// Polls `condition` until it holds; panics with `what` after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `stream` (webhook delivery, unreachable endpoints) with `triggers` as its triggers file and
/// `extra` arguments; returns its exit code and stderr (for configuration errors found at start).
pub async fn stream_with_triggers_file(triggers: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = triggers_file(dir.path(), triggers);
    let mut args = vec![
        "stream",
        "--stream-url",
        "http://127.0.0.1:9/stream/p",
        "--token",
        "t",
        "--deliver",
        "webhook",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--triggers-config",
        &config,
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = cli(&args).await;
    (code, err)
}

/// The dead letters kept in `state_dir`'s spool (read once the streamer has stopped).
pub fn dead_letters(state_dir: &Path) -> Vec<Value> {
    let spool = autoplay_botpress_cli::spool::Spool::open(state_dir).unwrap();
    autoplay_botpress_cli::deadletter::read_all(&spool)
        .unwrap()
        .into_iter()
        .map(|(_, letter)| serde_json::to_value(letter.unwrap()).unwrap())
        .collect()
}
