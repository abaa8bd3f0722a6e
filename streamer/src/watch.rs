//! Proactive triggers: the live side of [`signals`](autoplay_botpress::signals). A [`Watcher`] keeps each
//! session's recent actions, evaluates the signals as batches arrive (and on a clock tick, for
//! dwell), and reports each enabled signal at most once per cooldown per session, paced: at most
//! one nudge per session per window, the strongest signal first, none during a chat exchange
//! ([`pacing`]), scoped by where the user is ([`sections`]). No I/O: the streamer posts what it
//! returns.

mod file;
pub mod judge;
pub mod outcomes;
pub mod pacing;
mod sdk;
pub mod sections;

pub use file::read_triggers_file;

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use autoplay_botpress::ids::Owner;
use autoplay_botpress::signals::{detect, SignalConfig, SignalKind, Step};
use autoplay_botpress::time::{iso_from_ms, ms_from_iso};
use autoplay_botpress::wire::{ActionsPayload, SlimAction, TriggerEvent};
use outcomes::{Delivery, Known, OutcomeWindows, Outcomes, ReplyCheck};
use pacing::{hold, rank, ChatQuiet, ChatSide, Held, LastChat, Pacing, PacingStats};
use sections::{section_of, Section};

/// Which triggers fire, their thresholds, cooldowns and opening messages (the
/// `--triggers-config` file, read by [`read_triggers_file`]). Every field is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TriggerConfig {
    /// Detector thresholds and flows.
    pub signals: SignalConfig,
    /// Per signal kind; kinds left out use [`TriggerRule::default`].
    pub triggers: BTreeMap<SignalKind, TriggerRule>,
    /// How far back a session's actions are kept for detection (default 10 minutes).
    pub history_ms: i64,
    /// One nudge per session per window, none during a chat exchange.
    pub pacing: Pacing,
    /// Messages, quick replies and kinds by path prefix; the longest matching prefix wins.
    pub sections: Vec<Section>,
    /// The LLM judge's fallback and timeout (used only when an LLM is configured).
    pub judge: judge::Judge,
    /// How long after a nudge its reply and its friction are watched.
    pub outcomes: OutcomeWindows,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            signals: SignalConfig::default(),
            triggers: BTreeMap::new(),
            history_ms: 600_000,
            pacing: Pacing::default(),
            sections: Vec::new(),
            judge: judge::Judge::default(),
            outcomes: OutcomeWindows::default(),
        }
    }
}

/// Whether one kind fires, how often, and what the agent could open with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct TriggerRule {
    pub enabled: bool,
    /// Least time between two triggers of this kind for one session (default 5 minutes).
    pub cooldown_ms: i64,
    /// Suggested opening message; the kind's default when absent.
    pub message: Option<String>,
    /// Up to 3 quick replies sent with the nudge (default none).
    pub choices: Vec<String>,
}

impl Default for TriggerRule {
    fn default() -> Self {
        Self {
            enabled: true,
            cooldown_ms: 300_000,
            message: None,
            choices: Vec::new(),
        }
    }
}

/// A kind's name, as in the triggers file (`ping_pong`, …).
pub fn kind_name(kind: SignalKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The default opening message of each kind.
pub fn default_message(kind: SignalKind) -> &'static str {
    match kind {
        SignalKind::PingPong => "Comparing options? I can lay out the differences for you.",
        SignalKind::Hesitation => {
            "Looking for something? Tell me what you want to do and I'll take you there."
        }
        SignalKind::Dwell => "Need a hand with this page?",
        SignalKind::RageClicks => "That doesn't seem to be responding. Want me to help?",
        SignalKind::RepeatedSubmits => {
            "Having trouble getting this form through? I can check what's wrong."
        }
        SignalKind::FlowAbandoned => "You left before finishing. Anything I can clear up?",
    }
}

/// Most recent steps a session keeps for detection: every detector looks at the last few pages
/// or seconds, and a cap keeps each evaluation's cost bounded however busy the session is.
const MAX_STEPS: usize = 128;
/// A session is evaluated at most this often on new actions; later ones wait for [`Watcher::tick`].
const MIN_EVAL_INTERVAL_MS: i64 = 250;
/// How often every session is re-evaluated for signals that grow with time alone (dwell).
const FULL_SWEEP_MS: i64 = 5_000;

#[derive(Debug)]
struct SessionWatch {
    steps: VecDeque<Step>,
    product_id: String,
    conversation_id: Option<String>,
    last_fired: HashMap<SignalKind, i64>,
    /// When the session's last nudge of any kind went out.
    last_nudge_ms: Option<i64>,
    /// The one before it (the window again, when the last one is held after all).
    previous_nudge_ms: Option<i64>,
    /// When the nudge whose friction is watched went out ([`outcomes`]).
    nudged_at_ms: Option<i64>,
    last_seen_ms: i64,
    last_eval_ms: i64,
    /// New actions arrived since the last evaluation.
    dirty: bool,
}

impl Default for SessionWatch {
    fn default() -> Self {
        Self {
            steps: VecDeque::new(),
            product_id: String::new(),
            conversation_id: None,
            last_fired: HashMap::new(),
            last_nudge_ms: None,
            previous_nudge_ms: None,
            nudged_at_ms: None,
            last_seen_ms: 0,
            last_eval_ms: i64::MIN,
            dirty: false,
        }
    }
}

/// Per-session trigger state. A "session" is one (user, session) pair ([`Owner`]): a signal is
/// found in one pair's actions only and fires for that pair, so a user sending someone else's
/// session id can only make their own activity look odd.
#[derive(Debug)]
pub struct Watcher {
    config: TriggerConfig,
    sessions: HashMap<Owner, SessionWatch>,
    chat: ChatQuiet,
    stats: PacingStats,
    outcomes: Outcomes,
    last_sweep_ms: i64,
}

impl Watcher {
    pub fn new(config: TriggerConfig) -> Self {
        Self {
            outcomes: Outcomes::new(config.outcomes.clone()),
            config,
            sessions: HashMap::new(),
            chat: ChatQuiet::default(),
            stats: PacingStats::default(),
            last_sweep_ms: i64::MIN,
        }
    }

    /// Records a chat message by (`side` = user) or to (`side` = bot) `user_id` at `at_ms`: no
    /// nudge reaches that user for the configured quiet time after it.
    pub fn chat(&mut self, user_id: &str, side: ChatSide, at_ms: i64) {
        self.chat.note(&self.config.pacing, user_id, side, at_ms);
    }

    /// The nudge fired for `owner` at `fired_ms` was held at delivery: the user's conversation
    /// shows them in a chat exchange (`last`). It counts as held by the chat, not sent: the
    /// session's window is what it was before it, and the exchange's quiet time holds the
    /// user's next nudges here without asking again.
    pub fn held_by_chat(&mut self, owner: &Owner, nudge_id: &str, fired_ms: i64, last: LastChat) {
        self.outcomes.withdraw(nudge_id);
        if let Some(user) = owner.user_id.as_deref() {
            let sides = [(ChatSide::User, last.user_ms), (ChatSide::Bot, last.bot_ms)];
            for (side, at) in sides {
                if let Some(at) = at {
                    self.chat(user, side, at);
                }
            }
        }
        if let Some(session) = self.sessions.get_mut(owner) {
            if session.last_nudge_ms == Some(fired_ms) {
                session.last_nudge_ms = session.previous_nudge_ms;
            }
            if session.nudged_at_ms == Some(fired_ms) {
                session.nudged_at_ms = None;
            }
        }
        self.stats.sent = self.stats.sent.saturating_sub(1);
        self.stats.held_by_chat += 1;
    }

    /// The nudge `nudge_id`'s send answered ([`outcomes`]).
    pub fn delivered(&mut self, nudge_id: &str, delivery: Delivery) {
        self.outcomes.delivered(nudge_id, delivery);
    }

    /// The answer to a [`ReplyCheck`]: `Some(replied)`, or `None` when it could not be read.
    pub fn replied(&mut self, nudge_id: &str, replied: Option<bool>) {
        self.outcomes.replied(nudge_id, replied);
    }

    /// The replies to ask about now, each once (call it with [`Watcher::tick`]).
    pub fn reply_checks(&mut self, now_ms: i64) -> Vec<ReplyCheck> {
        self.outcomes.due(now_ms)
    }

    /// The nudges' outcomes known since the last call.
    pub fn take_outcomes(&mut self) -> Vec<Known> {
        self.outcomes.take_known()
    }

    /// What pacing decided so far.
    pub fn stats(&self) -> PacingStats {
        self.stats
    }

    /// Adds a batch to its session and returns the triggers that fire now. A session evaluated
    /// less than 250 ms ago is evaluated on the next [`Watcher::tick`] instead.
    pub fn push(&mut self, payload: &ActionsPayload, now_ms: i64) -> Vec<TriggerEvent> {
        let owner = payload.owner();
        if owner.session_id.is_none() {
            return Vec::new();
        }
        let session = self.sessions.entry(owner.clone()).or_default();
        session
            .steps
            .extend(payload.actions.iter().filter_map(SlimAction::step));
        let excess = session.steps.len().saturating_sub(MAX_STEPS);
        session.steps.drain(..excess);
        if payload.conversation_id.is_some() {
            session.conversation_id.clone_from(&payload.conversation_id);
        }
        session.product_id.clone_from(&payload.product_id);
        session.last_seen_ms = now_ms;
        if now_ms.saturating_sub(session.last_eval_ms) < MIN_EVAL_INTERVAL_MS {
            session.dirty = true;
            return Vec::new();
        }
        self.evaluate(&owner, now_ms)
    }

    /// Evaluates sessions that got actions since their last evaluation, every session once per
    /// 5 s (dwell grows with time alone), and forgets sessions idle for longer than the history;
    /// returns the triggers that fire now. Call it a few times per second.
    pub fn tick(&mut self, now_ms: i64) -> Vec<TriggerEvent> {
        let history = self.config.history_ms;
        self.sessions
            .retain(|_, s| now_ms.saturating_sub(s.last_seen_ms) <= history);
        self.chat.expire(now_ms);
        let sweep = now_ms.saturating_sub(self.last_sweep_ms) >= FULL_SWEEP_MS;
        if sweep {
            self.last_sweep_ms = now_ms;
        }
        let due: Vec<Owner> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                sweep || (s.dirty && now_ms.saturating_sub(s.last_eval_ms) >= MIN_EVAL_INTERVAL_MS)
            })
            .map(|(id, _)| id.clone())
            .collect();
        due.iter()
            .flat_map(|id| self.evaluate(id, now_ms))
            .collect()
    }

    /// The last `max` actions of `owner`'s session, oldest first (what the judge is shown).
    pub fn recent(&self, owner: &Owner, max: usize) -> Vec<Step> {
        self.sessions.get(owner).map_or_else(Vec::new, |s| {
            let start = s.steps.len().saturating_sub(max);
            s.steps.iter().skip(start).cloned().collect()
        })
    }

    /// Number of sessions watched.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    fn evaluate(&mut self, owner: &Owner, now_ms: i64) -> Vec<TriggerEvent> {
        let config = &self.config;
        let Some(session) = self.sessions.get_mut(owner) else {
            return Vec::new();
        };
        session.dirty = false;
        session.last_eval_ms = now_ms;
        let oldest = now_ms.saturating_sub(config.history_ms);
        while session.steps.front().is_some_and(|s| s.at_ms < oldest) {
            session.steps.pop_front();
        }
        let steps: Vec<Step> = session.steps.iter().cloned().collect();
        let section = session
            .steps
            .back()
            .and_then(|step| section_of(&config.sections, &step.page));
        if section.is_some_and(|s| !s.enabled) {
            return Vec::new();
        }
        // While an earlier nudge's friction is watched, the actions since it are looked at on
        // their own: a same-kind signal in them means the friction went on.
        if let Some(since) = session
            .nudged_at_ms
            .filter(|at| now_ms < at.saturating_add(config.outcomes.friction_within_ms))
        {
            let after: Vec<Step> = steps.iter().filter(|s| s.at_ms > since).cloned().collect();
            let ends: Vec<(SignalKind, i64)> = detect(after, now_ms, &config.signals)
                .iter()
                .filter_map(|s| Some((s.kind, ms_from_iso(&s.evidence.to)?)))
                .collect();
            self.outcomes.signals(owner, &ends, now_ms);
        }
        let mut candidates: Vec<_> = detect(steps, now_ms, &config.signals)
            .into_iter()
            .filter_map(|signal| {
                let rule = config
                    .triggers
                    .get(&signal.kind)
                    .cloned()
                    .unwrap_or_default();
                let allowed = section
                    .and_then(|s| s.kinds.as_ref())
                    .is_none_or(|kinds| kinds.contains(&signal.kind));
                let cooling = session
                    .last_fired
                    .get(&signal.kind)
                    .is_some_and(|&at| now_ms.saturating_sub(at) < rule.cooldown_ms);
                (rule.enabled && allowed && !cooling).then_some((signal, rule))
            })
            .collect();
        // Every candidate counts as handled for its cooldown, sent or not: a signal held back now
        // is not worth a nudge minutes later about what the user did back then.
        for (signal, _) in &candidates {
            session.last_fired.insert(signal.kind, now_ms);
        }
        candidates.sort_by_key(|(signal, _)| rank(signal.kind));
        let Some((signal, rule)) = candidates.first().cloned() else {
            return Vec::new();
        };
        self.stats.outranked += candidates.len() as u64 - 1;
        let chatting = self.chat.quiet(owner.user_id.as_deref(), now_ms);
        match hold(&config.pacing, session.last_nudge_ms, chatting, now_ms) {
            Some(Held::Window) => {
                self.stats.held_by_window += 1;
                return Vec::new();
            }
            Some(Held::Chat) => {
                self.stats.held_by_chat += 1;
                return Vec::new();
            }
            None => {}
        }
        self.stats.sent += 1;
        session.previous_nudge_ms = session.last_nudge_ms.replace(now_ms);
        session.nudged_at_ms = Some(now_ms);
        let kind_name = kind_name(signal.kind);
        let message = section
            .and_then(|s| s.message.clone())
            .or(rule.message)
            .unwrap_or_else(|| default_message(signal.kind).to_owned());
        let choices = section
            .and_then(|s| s.choices.clone())
            .unwrap_or(rule.choices);
        let trigger_id = format!("{}:{kind_name}:{}", owner.row_key(), signal.evidence.from);
        self.outcomes
            .nudged(owner, &trigger_id, signal.kind, now_ms);
        vec![TriggerEvent {
            trigger_id,
            trigger: Some(signal.kind),
            session_id: owner.session_id.clone().unwrap_or_default(),
            user_id: owner.user_id.clone(),
            product_id: session.product_id.clone(),
            conversation_id: session.conversation_id.clone(),
            message,
            choices,
            signal: Some(signal),
            fired_at: iso_from_ms(now_ms),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use autoplay_botpress::wire::SlimAction;

    const T0: f64 = 1_795_521_600.0;

    fn batch(session: &str, pages: &[(f64, &str)]) -> ActionsPayload {
        ActionsPayload {
            product_id: "p".into(),
            session_id: Some(session.into()),
            user_id: Some(format!("user-{session}")),
            actions: pages
                .iter()
                .map(|(s, page)| SlimAction {
                    canonical_url: format!("https://app.com{page}"),
                    action_type: "pageview".into(),
                    timestamp_start: T0 + s,
                    ..SlimAction::default()
                })
                .collect(),
            ..ActionsPayload::default()
        }
        .normalized()
    }

    fn ms(seconds: f64) -> i64 {
        ((T0 + seconds) * 1000.0) as i64
    }

    #[test]
    fn fires_once_per_cooldown_per_session() {
        let mut w = Watcher::new(TriggerConfig::default());
        assert!(w
            .push(
                &batch("s1", &[(0.0, "/pricing"), (5.0, "/checkout")]),
                ms(6.0)
            )
            .is_empty());
        let fired = w.push(&batch("s1", &[(10.0, "/pricing")]), ms(11.0));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].trigger, Some(SignalKind::PingPong));
        assert_eq!(fired[0].user_id.as_deref(), Some("user-s1"));
        assert_eq!(fired[0].message, default_message(SignalKind::PingPong));
        // Still ping-ponging, inside the cooldown: quiet. Another session fires on its own.
        assert!(w
            .push(&batch("s1", &[(15.0, "/checkout")]), ms(16.0))
            .is_empty());
        let other = w.push(
            &batch("s2", &[(0.0, "/a"), (1.0, "/b"), (2.0, "/a")]),
            ms(3.0),
        );
        assert_eq!(other.len(), 1);
        // After the cooldown it may fire again.
        let later = w.push(&batch("s1", &[(320.0, "/pricing")]), ms(320.0));
        assert_eq!(later.len(), 1);
        assert_ne!(later[0].trigger_id, "");
    }

    #[test]
    fn disabled_kinds_and_custom_messages() {
        let config: TriggerConfig = serde_json::from_str(
            r#"{"triggers": {"ping_pong": {"enabled": false}, "dwell": {"message": "Stuck?", "cooldownMs": 1000}}}"#,
        )
        .unwrap();
        let mut w = Watcher::new(config);
        assert!(w
            .push(
                &batch("s", &[(0.0, "/a"), (1.0, "/b"), (2.0, "/a")]),
                ms(3.0)
            )
            .is_empty());
        // Dwell appears with time alone, on a tick.
        assert!(w.tick(ms(30.0)).is_empty());
        let fired = w.tick(ms(70.0));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].trigger, Some(SignalKind::Dwell));
        assert_eq!(fired[0].message, "Stuck?");
    }

    #[test]
    fn a_busy_session_is_evaluated_at_most_every_250_ms_and_keeps_a_bounded_history() {
        let mut w = Watcher::new(TriggerConfig::default());
        assert!(w.tick(ms(0.0)).is_empty(), "starts the 5 s sweep clock");
        w.push(&batch("s", &[(0.0, "/a"), (1.0, "/b")]), ms(2.0));
        // The return to /a arrives 100 ms after the last evaluation: it waits for a tick.
        assert!(w.push(&batch("s", &[(2.0, "/a")]), ms(2.1)).is_empty());
        assert!(w.tick(ms(2.2)).is_empty(), "still inside the interval");
        let fired = w.tick(ms(2.4));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].trigger, Some(SignalKind::PingPong));
        for i in 0..1_000 {
            w.push(&batch("s", &[(3.0 + i as f64, "/c")]), ms(3.0 + i as f64));
        }
        let owner = Owner::new(Some("user-s"), Some("s"));
        assert!(w.sessions[&owner].steps.len() <= MAX_STEPS);
    }

    /// One batch of `(seconds, page, action type, title)`.
    fn acts(session: &str, actions: &[(f64, &str, &str, &str)]) -> ActionsPayload {
        ActionsPayload {
            product_id: "p".into(),
            session_id: Some(session.into()),
            user_id: Some(format!("user-{session}")),
            actions: actions
                .iter()
                .map(|(s, page, kind, title)| SlimAction {
                    canonical_url: format!("https://app.com{page}"),
                    action_type: (*kind).into(),
                    title: (*title).into(),
                    timestamp_start: T0 + s,
                    ..SlimAction::default()
                })
                .collect(),
            ..ActionsPayload::default()
        }
        .normalized()
    }

    /// The issue's stuck user: pricing ↔ checkout, six "Pay now" clicks, three submits.
    fn burst(session: &str, page: &str) -> ActionsPayload {
        let mut steps = vec![
            (0.0, "/pricing", "pageview", "Pricing"),
            (1.0, page, "pageview", "Checkout"),
            (2.0, "/pricing", "pageview", "Pricing"),
            (3.0, page, "pageview", "Checkout"),
        ];
        for i in 0..6 {
            steps.push((4.0 + 0.2 * f64::from(i), page, "click", "Pay now"));
        }
        for i in 0..3 {
            steps.push((6.0 + f64::from(i), page, "submit", "Payment form"));
        }
        acts(session, &steps)
    }

    fn nudges(w: &mut Watcher, batch: &ActionsPayload, until_s: f64) -> Vec<TriggerEvent> {
        let mut out = w.push(batch, ms(9.0));
        let mut t = 9.0;
        while t < until_s {
            t += 0.25;
            out.extend(w.tick(ms(t)));
        }
        out
    }

    #[test]
    fn a_burst_of_friction_is_one_nudge_about_the_strongest_signal() {
        let mut w = Watcher::new(TriggerConfig::default());
        let fired = nudges(&mut w, &burst("s", "/checkout"), 120.0);
        assert_eq!(fired.len(), 1, "{fired:#?}");
        assert_eq!(fired[0].trigger, Some(SignalKind::RageClicks));
        let stats = w.stats();
        assert_eq!(stats.sent, 1);
        assert_eq!(
            stats.outranked, 2,
            "repeated submits and ping-pong lost: {stats:?}"
        );
    }

    #[test]
    fn the_window_spans_batches_and_kinds() {
        let mut w = Watcher::new(TriggerConfig::default());
        let first = w.push(
            &batch("s", &[(0.0, "/a"), (1.0, "/b"), (2.0, "/a")]),
            ms(3.0),
        );
        assert_eq!(first[0].trigger, Some(SignalKind::PingPong));
        let clicks: Vec<_> = (0..5)
            .map(|i| (10.0 + 0.1 * f64::from(i), "/a", "click", "Save"))
            .collect();
        assert!(w.push(&acts("s", &clicks), ms(11.0)).is_empty());
        assert_eq!(w.stats().held_by_window, 1);
        let later: Vec<_> = (0..5)
            .map(|i| (400.0 + 0.1 * f64::from(i), "/a", "click", "Save"))
            .collect();
        let fired = w.push(&acts("s", &later), ms(401.0));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].trigger, Some(SignalKind::RageClicks));
    }

    #[test]
    fn sections_scope_messages_choices_and_silence() {
        let (config, _) = read_triggers_file(
            r#"{"triggers": {"rage_clicks": {"choices": ["Talk to a person"]}},
                "sections": [
                  {"prefix": "/docs", "enabled": false},
                  {"prefix": "/billing", "message": "Payment not going through? I can check your card details.",
                   "choices": ["Check my card", "Talk to a person", "No thanks"]}]}"#,
        )
        .unwrap();
        let mut w = Watcher::new(config);
        assert!(nudges(&mut w, &burst("docs", "/docs/checkout"), 120.0).is_empty());
        let fired = nudges(&mut w, &burst("bill", "/billing/checkout"), 20.0);
        assert_eq!(fired.len(), 1);
        assert_eq!(
            fired[0].message,
            "Payment not going through? I can check your card details."
        );
        assert_eq!(
            fired[0].choices,
            ["Check my card", "Talk to a person", "No thanks"]
        );
        let fired = nudges(&mut w, &burst("elsewhere", "/checkout"), 20.0);
        assert_eq!(fired[0].message, default_message(SignalKind::RageClicks));
        assert_eq!(fired[0].choices, ["Talk to a person"]);
    }

    #[test]
    fn no_nudge_during_a_chat_exchange() {
        let mut w = Watcher::new(TriggerConfig::default());
        w.chat("user-s", ChatSide::Bot, ms(5.0));
        assert!(nudges(&mut w, &burst("s", "/checkout"), 20.0).is_empty());
        assert_eq!(w.stats().held_by_chat, 1);
        // Another user is not chatting.
        assert_eq!(nudges(&mut w, &burst("t", "/checkout"), 20.0).len(), 1);
    }

    #[test]
    fn a_nudge_held_at_delivery_by_the_conversation_gives_the_window_back() {
        let mut w = Watcher::new(TriggerConfig::default());
        let fired = w.push(
            &batch("s", &[(0.0, "/a"), (1.0, "/b"), (2.0, "/a")]),
            ms(3.0),
        );
        assert_eq!(fired.len(), 1);
        let owner = Owner::new(Some("user-s"), Some("s"));
        // The user wrote 10 s before: the delivery held it.
        let last = LastChat {
            user_ms: Some(ms(-7.0)),
            bot_ms: None,
        };
        w.held_by_chat(&owner, &fired[0].trigger_id, ms(3.0), last);
        assert_eq!((w.stats().sent, w.stats().held_by_chat), (0, 1));
        // Rage clicks within the quiet time: held here, without asking the conversation.
        let clicks = |at: f64| -> Vec<_> {
            (0..5)
                .map(|i| (at + 0.1 * f64::from(i), "/a", "click", "Save"))
                .collect()
        };
        assert!(w.push(&acts("s", &clicks(20.0)), ms(21.0)).is_empty());
        assert_eq!(w.stats().held_by_chat, 2);
        // After it, inside what would have been the window of the held nudge, another kind
        // (rage clicks count as handled for their cooldown): it goes.
        let submits: Vec<_> = (0..3)
            .map(|i| (200.0 + f64::from(i), "/a", "submit", "Payment form"))
            .collect();
        let fired = w.push(&acts("s", &submits), ms(203.0));
        assert_eq!(fired.len(), 1, "{:?}", w.stats());
        assert_eq!(fired[0].trigger, Some(SignalKind::RepeatedSubmits));
    }

    #[test]
    fn a_nudge_s_friction_stops_or_goes_on_and_its_reply_is_asked_for() {
        use outcomes::Outcome;
        let mut w = Watcher::new(TriggerConfig::default());
        let mut sent = Vec::new();
        for session in ["stuck", "helped"] {
            let fired = nudges(&mut w, &burst(session, "/checkout"), 10.0);
            assert_eq!(fired.len(), 1);
            let conversation_id = format!("conv-{session}");
            w.delivered(&fired[0].trigger_id, Delivery::Message { conversation_id });
            sent.push(fired[0].trigger_id.clone());
        }
        // "stuck" rage-clicks again a minute later (inside the cooldown: no nudge, but seen).
        let clicks: Vec<_> = (0..5)
            .map(|i| (70.0 + 0.1 * f64::from(i), "/checkout", "click", "Pay now"))
            .collect();
        assert!(w.push(&acts("stuck", &clicks), ms(71.0)).is_empty());
        // Five minutes on, "helped" did nothing more; at ten, both replies are asked for.
        assert!(w.reply_checks(ms(320.0)).is_empty());
        let checks = w.reply_checks(ms(610.0));
        assert_eq!(checks.len(), 2);
        w.replied(&checks[1].nudge_id, Some(true));
        w.replied(&checks[0].nudge_id, Some(false));
        let outcomes: Vec<(bool, Outcome)> = w
            .take_outcomes()
            .into_iter()
            .map(|k| (k.nudge_id == sent[0], k.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                (true, Outcome::Delivered),
                (false, Outcome::Delivered),
                (true, Outcome::FrictionContinued),
                (false, Outcome::FrictionStopped),
                (false, Outcome::Replied),
                (true, Outcome::NoReply),
            ]
        );
    }

    #[test]
    fn idle_sessions_are_forgotten() {
        let mut w = Watcher::new(TriggerConfig::default());
        w.push(&batch("s", &[(0.0, "/a")]), ms(0.0));
        w.tick(ms(100.0));
        assert_eq!(w.session_count(), 1);
        w.tick(ms(700.0));
        assert_eq!(w.session_count(), 0);
    }

    #[test]
    fn a_signal_belongs_to_its_pair_not_to_the_session_id() {
        let mut w = Watcher::new(TriggerConfig::default());
        // Alice and bob (using alice's session id) each visit two pages: neither ping-pongs.
        let mut bob = batch("s1", &[(0.5, "/checkout"), (1.5, "/pricing")]);
        bob.user_id = Some("bob".into());
        let alice = batch("s1", &[(0.0, "/pricing"), (1.0, "/checkout")]);
        assert!(w.push(&alice, ms(2.0)).is_empty());
        assert!(w.push(&bob, ms(2.5)).is_empty());
        assert!(
            w.tick(ms(3.0)).is_empty(),
            "interleaved, they would look like a/b/a/b"
        );
        // Bob ping-pongs on his own: the trigger is his, alice's chat is not named.
        let fired = w.push(
            &{
                let mut again = batch("s1", &[(3.0, "/checkout")]);
                again.user_id = Some("bob".into());
                again
            },
            ms(4.0),
        );
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].user_id.as_deref(), Some("bob"));
        assert_eq!(fired[0].session_id, "s1");
        assert!(fired[0].trigger_id.starts_with(r#"["bob","s1"]:"#));
    }
}
