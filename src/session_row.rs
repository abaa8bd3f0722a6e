//! One row per session (the "sessions" layout of `AutoPlaySessionsTable`): the session's ids,
//! its rolling summary, how many actions it has had, its newest actions and the friction signals
//! seen in them, all in one row that fits Botpress's per-row limit.
//!
//! Rows in use then grow with sessions, not clicks, and one read gives the agent everything.
//! [`SessionRow::absorb`] folds batches in; [`SessionRow::fitted`] gives the row to write.

use serde::{Deserialize, Serialize};

use crate::action::{action_shape, ActionFields};
use crate::ids::Owner;
use crate::rows::EventRow;
use crate::signals::{detect, Signal, SignalConfig, Step};
use crate::text::{json_len, truncate_in_place};
use crate::time::{iso_from_ms, ms_from_iso, ms_from_unix_seconds};
use crate::wire::ActionsPayload;

/// Bytes Botpress stores per row at factor 1.
pub const ROW_BYTES_PER_FACTOR: usize = 4_096;
/// Left free in every row for Botpress's own bookkeeping.
const ROW_OVERHEAD: usize = 196;
/// Longest field of one action, in bytes (visibly truncated beyond).
const MAX_TITLE_BYTES: usize = 120;
const MAX_TEXT_BYTES: usize = 400;
/// Actions kept in memory between two writes; a row holds far fewer (the newest that fit).
pub const MAX_KEPT_ACTIONS: usize = 512;
/// Signals older than this (by their last evidence) are dropped from the row.
const SIGNAL_TTL_MS: i64 = 10 * 60_000;
/// Signals are detected in this many of the newest actions: every detector looks at the last
/// few pages or seconds.
const SIGNAL_WINDOW: usize = 48;
/// Nudges a row remembers, the newest: enough for the agent to know what it already said.
pub const MAX_NUDGES: usize = 3;
/// Longest nudge message a row keeps, in bytes (a judged message is at most 150 characters).
pub const MAX_NUDGE_MESSAGE_BYTES: usize = 400;
/// Outcomes one nudge can have: its delivery, its reply and its friction.
const MAX_NUDGE_OUTCOMES: usize = 3;

/// The byte budget of one row of a table created with `factor`.
pub fn row_budget(factor: u8) -> usize {
    usize::from(factor.max(1)) * ROW_BYTES_PER_FACTOR - ROW_OVERHEAD
}

action_shape! {
    /// One action as a session row stores it.
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
    #[serde_with::serde_as]
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct SessionAction (index = "index", kind = "type") {
        /// When the user acted (ISO-8601).
        pub occurred_at: Option<String>,
    }
}

/// A nudge the session's user was sent, as the row records it, so the agent knows what it
/// already said and what came of it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NudgeNote {
    /// A short name of the trigger it was sent for ([`NudgeNote::id_for`]).
    ///
    /// Outcomes known later find their nudge by it. Not the trigger id itself: that holds the
    /// row key, and three of them would take kilobytes of a row when ids are long.
    pub id: String,
    /// The friction it was about: a signal kind, e.g. `rage_clicks`.
    ///
    /// Text, not [`SignalKind`](crate::signals::SignalKind), so a row written by a newer version
    /// with a kind this one does not know still reads.
    pub kind: String,
    /// What the user was shown.
    pub message: String,
    /// When it was sent (ISO-8601).
    pub sent_at: String,
    /// What came of it so far, in the order known: `delivered` or `pending`, then `replied`,
    /// `no_reply` or `reply_unknown`, and `friction_stopped` or `friction_continued`.
    pub outcomes: Vec<String>,
}

impl NudgeNote {
    /// The [`NudgeNote::id`] of the trigger `trigger_id`: 16 hex digits of its digest.
    pub fn id_for(trigger_id: &str) -> String {
        crate::ids::digest_hex(trigger_id, 16)
    }

    /// Cuts the message to [`MAX_NUDGE_MESSAGE_BYTES`] (visibly) and the outcomes to the three a
    /// nudge can have: a note read from a table is bounded like one this crate wrote.
    pub fn cap(&mut self) {
        truncate_in_place(&mut self.message, MAX_NUDGE_MESSAGE_BYTES);
        self.outcomes.truncate(MAX_NUDGE_OUTCOMES);
    }
}

/// A row of `AutoPlaySessionsTable`: one (user, session) pair's, key column `row_key`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionRow {
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub updated_at: Option<String>,
    /// Whose row it is ([`Owner::row_key`]); empty in rows written before rows were per pair.
    pub row_key: String,
    /// The session id; empty when the batches came without one.
    pub session_id: String,
    pub user_id: Option<String>,
    pub product_id: String,
    /// The rolling summary; `null` until the first.
    pub summary: Option<String>,
    /// Actions the session has had in all.
    pub action_count: u64,
    /// The newest actions that fit the row, oldest first.
    pub actions: Vec<SessionAction>,
    /// Friction signals seen in the session's recent actions.
    pub signals: Vec<Signal>,
    /// The newest nudges sent in this session (at most [`MAX_NUDGES`]), oldest first.
    pub nudges: Vec<NudgeNote>,
    pub first_action_at: Option<String>,
    pub last_action_at: Option<String>,
}

impl SessionRow {
    /// An empty row of `owner`'s.
    pub fn new(owner: &Owner) -> Self {
        Self {
            row_key: owner.row_key(),
            session_id: owner.session_id.clone().unwrap_or_default(),
            user_id: owner.user_id.clone(),
            ..Self::default()
        }
    }

    /// The row a batch belongs to: its (user, session) pair's, whichever ids are missing, so
    /// batches of different users never share one.
    pub fn key_of(batch: &ActionsPayload) -> String {
        batch.owner().row_key()
    }

    /// Adds a batch of this row's owner: counts, times, and its actions (each field cut to a
    /// sane length, visibly). At most `keep` (≤ [`MAX_KEPT_ACTIONS`]) are kept between writes,
    /// the newest: enough to fill the row, never unbounded.
    pub fn absorb(&mut self, batch: &ActionsPayload, keep: usize) {
        if !batch.product_id.is_empty() {
            self.product_id.clone_from(&batch.product_id);
        }
        self.action_count += batch.actions.len() as u64;
        for action in &batch.actions {
            let at_ms = ms_from_unix_seconds(action.timestamp_start);
            if let Some(at) = at_ms {
                self.widen_times(at);
            }
            let mut kept = SessionAction {
                occurred_at: at_ms.map(iso_from_ms),
                ..SessionAction::default()
            };
            kept.copy_fields_of(action);
            let [title, description, url, kind] = kept.texts_mut();
            for (text, max) in [
                (title, MAX_TITLE_BYTES),
                (description, MAX_TEXT_BYTES),
                (url, MAX_TEXT_BYTES),
                (kind, MAX_TITLE_BYTES),
            ] {
                truncate_in_place(text, max);
            }
            self.actions.push(kept);
        }
        let excess = self
            .actions
            .len()
            .saturating_sub(keep.min(MAX_KEPT_ACTIONS));
        self.actions.drain(..excess);
    }

    /// Records a nudge sent (a re-delivery of the same id replaces it, keeping the outcomes
    /// already known); the newest [`MAX_NUDGES`] are kept.
    pub fn note_nudge(&mut self, mut note: NudgeNote) {
        note.cap();
        if let Some(old) = self.nudges.iter().position(|n| n.id == note.id) {
            let known = self.nudges.remove(old).outcomes;
            for outcome in known.into_iter().rev() {
                if !note.outcomes.contains(&outcome) {
                    note.outcomes.insert(0, outcome);
                }
            }
            note.outcomes.truncate(MAX_NUDGE_OUTCOMES);
        }
        self.nudges.push(note);
        let excess = self.nudges.len().saturating_sub(MAX_NUDGES);
        self.nudges.drain(..excess);
    }

    /// Adds an outcome to the nudge `id`, if the row still has it; `false` when it does not.
    pub fn note_outcome(&mut self, id: &str, outcome: &str) -> bool {
        let Some(note) = self.nudges.iter_mut().find(|n| n.id == id) else {
            return false;
        };
        if note.outcomes.len() < MAX_NUDGE_OUTCOMES && !note.outcomes.iter().any(|o| o == outcome) {
            note.outcomes.push(outcome.to_owned());
        }
        true
    }

    fn widen_times(&mut self, at_ms: i64) {
        let earlier = |stored: &Option<String>| {
            stored
                .as_deref()
                .and_then(ms_from_iso)
                .is_none_or(|t| at_ms < t)
        };
        if earlier(&self.first_action_at) {
            self.first_action_at = Some(iso_from_ms(at_ms));
        }
        let later = self
            .last_action_at
            .as_deref()
            .and_then(ms_from_iso)
            .is_none_or(|t| at_ms > t);
        if later {
            self.last_action_at = Some(iso_from_ms(at_ms));
        }
    }

    /// Re-detects the friction signals in the kept actions as of `now_ms`. A kind found again
    /// replaces the stored one; stored kinds not found again stay while their evidence is recent.
    pub fn refresh_signals(&mut self, now_ms: i64, config: &SignalConfig) {
        let start = self.actions.len().saturating_sub(SIGNAL_WINDOW);
        let steps: Vec<Step> = self.actions[start..]
            .iter()
            .filter_map(|a| Some(a.step_at(a.occurred_at.as_deref().and_then(ms_from_iso)?)))
            .collect();
        let mut found = detect(steps, now_ms, config);
        let recent = |s: &Signal| {
            ms_from_iso(&s.evidence.to).is_some_and(|to| now_ms.saturating_sub(to) <= SIGNAL_TTL_MS)
        };
        for old in self.signals.drain(..) {
            if recent(&old) && !found.iter().any(|s| s.kind == old.kind) {
                found.push(old);
            }
        }
        self.signals = found;
    }

    /// The row to write: fixed fields, the newest nudges that fit a fifth of the budget, then
    /// the summary (at most a third of the budget), the signals (at most a fifth), and as many of
    /// the newest actions as fit `max_bytes` of JSON.
    /// Nothing is dropped silently: a cut summary or signal ends in the truncation marker, and
    /// `action_count` says how many actions the session had beyond those shown.
    pub fn fitted(&self, max_bytes: usize) -> SessionRow {
        let mut row = SessionRow {
            created_at: None,
            updated_at: None,
            row_key: self.row_key.clone(),
            session_id: self.session_id.clone(),
            user_id: self.user_id.clone(),
            product_id: self.product_id.clone(),
            summary: self.summary.clone(),
            action_count: self.action_count,
            actions: Vec::new(),
            signals: Vec::new(),
            nudges: Vec::new(),
            first_action_at: self.first_action_at.clone(),
            last_action_at: self.last_action_at.clone(),
        };
        truncate_in_place(&mut row.product_id, 200);
        row.nudges = newest_within(&self.nudges, max_bytes / 5).to_vec();
        if let Some(summary) = &mut row.summary {
            let mut cap = max_bytes / 3;
            while json_len(summary) > max_bytes / 3 && cap > 0 {
                truncate_in_place(summary, cap);
                cap = cap * 3 / 4;
            }
        }
        let mut used = json_len(&row);
        let signal_cap = used + max_bytes / 5;
        for signal in &self.signals {
            let mut signal = signal.clone();
            truncate_in_place(&mut signal.description, 240);
            let cost = json_len(&signal) + 1;
            if used + cost > signal_cap.min(max_bytes) {
                break;
            }
            used += cost;
            row.signals.push(signal);
        }
        row.actions = newest_within(&self.actions, max_bytes.saturating_sub(used)).to_vec();
        row
    }

    /// The kept actions as event rows (what the agent context works on).
    pub fn event_rows(&self) -> impl Iterator<Item = EventRow> + '_ {
        self.actions.iter().map(|a| {
            let mut row = EventRow {
                user_id: self.user_id.clone(),
                product_id: self.product_id.clone(),
                session_id: Some(self.session_id.clone()).filter(|s| !s.is_empty()),
                occurred_at: a.occurred_at.clone(),
                // The action's identity within its session: what an events-layout key would be.
                event_key: format!("{}:{}", self.session_id, a.index),
                ..EventRow::default()
            };
            row.copy_fields_of(a);
            row
        })
    }
}

/// The newest of `items` (a suffix) whose JSON, a separator each, fits `room` bytes.
fn newest_within<T: Serialize>(items: &[T], room: usize) -> &[T] {
    let mut used = 0;
    let fit = items
        .iter()
        .rev()
        .take_while(|item| {
            used += json_len(item) + 1;
            used <= room
        })
        .count();
    &items[items.len() - fit..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::MARKER;
    use crate::wire::SlimAction;

    const T0: f64 = 1_795_521_600.0;

    fn s1() -> Owner {
        Owner::new(Some("u1"), Some("s1"))
    }

    fn batch(first: u64, n: u64, text: &str) -> ActionsPayload {
        ActionsPayload {
            product_id: "p".into(),
            session_id: Some("s1".into()),
            user_id: Some("u1".into()),
            actions: (first..first + n)
                .map(|i| SlimAction {
                    index: i,
                    action_type: "click".into(),
                    title: "Click".into(),
                    description: format!("{text} {i}"),
                    canonical_url: "https://app.com/pricing".into(),
                    timestamp_start: T0 + i as f64,
                    ..SlimAction::default()
                })
                .collect(),
            ..ActionsPayload::default()
        }
        .normalized()
    }

    #[test]
    fn folds_batches_and_keeps_the_newest_that_fit() {
        let mut row = SessionRow::new(&s1());
        row.absorb(&batch(0, 5, "clicked"), MAX_KEPT_ACTIONS);
        row.absorb(&batch(5, 200, &"long text ".repeat(30)), MAX_KEPT_ACTIONS);
        row.summary = Some("Comparing plans.".into());
        let written = row.fitted(row_budget(1));
        assert!(
            json_len(&written) <= row_budget(1),
            "{}",
            json_len(&written)
        );
        assert_eq!(written.action_count, 205);
        assert_eq!(written.user_id.as_deref(), Some("u1"));
        assert_eq!(written.actions.last().unwrap().index, 204, "newest kept");
        assert!(written.actions.len() > 3 && written.actions.len() < 205);
        assert!(written
            .actions
            .windows(2)
            .all(|w| w[0].index + 1 == w[1].index));
        assert_eq!(
            written.first_action_at.as_deref(),
            Some(&*iso_from_ms(1_795_521_600_000))
        );
        assert_eq!(
            written.last_action_at.as_deref(),
            Some(&*iso_from_ms(1_795_521_804_000))
        );
        assert_eq!(written.summary.as_deref(), Some("Comparing plans."));
        // A larger factor buys a larger row and more actions.
        assert!(row.fitted(row_budget(2)).actions.len() > written.actions.len());
    }

    #[test]
    fn huge_fields_are_cut_visibly_and_never_split_a_character() {
        let mut row = SessionRow::new(&s1());
        let mut big = batch(0, 1, "");
        big.actions[0].description = "😀\"".repeat(10_000);
        big.actions[0].canonical_url = "u".repeat(10_000);
        row.absorb(&big, 64);
        row.summary = Some("é".repeat(10_000));
        let written = row.fitted(row_budget(1));
        assert!(json_len(&written) <= row_budget(1));
        assert!(written.summary.as_deref().unwrap().ends_with(MARKER));
        let action = &written.actions[0];
        assert!(action.description.ends_with(MARKER) && action.canonical_url.ends_with(MARKER));
    }

    #[test]
    fn survives_a_round_trip_and_keeps_growing() {
        let mut row = SessionRow::new(&s1());
        row.absorb(&batch(0, 3, "a"), 64);
        let stored: SessionRow =
            serde_json::from_str(&serde_json::to_string(&row.fitted(3_900)).unwrap()).unwrap();
        let mut restarted = stored;
        restarted.absorb(&batch(3, 2, "b"), 64);
        let indices: Vec<u64> = restarted.actions.iter().map(|a| a.index).collect();
        assert_eq!(indices, [0, 1, 2, 3, 4]);
        assert_eq!(restarted.action_count, 5);
    }

    fn note(id: &str) -> NudgeNote {
        NudgeNote {
            id: id.into(),
            kind: "rage_clicks".into(),
            message: "Trouble paying?".into(),
            sent_at: iso_from_ms(1_795_521_600_000),
            outcomes: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_newest_nudges_and_their_outcomes() {
        let mut row = SessionRow::new(&s1());
        for id in ["n1", "n2", "n3", "n4"] {
            row.note_nudge(note(id));
        }
        let ids: Vec<_> = row.nudges.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["n2", "n3", "n4"]);
        assert!(row.note_outcome("n4", "delivered"));
        row.note_nudge(note("n4")); // a re-delivery keeps what was known
        assert_eq!(row.nudges[2].outcomes, ["delivered"]);
        assert!(
            row.note_outcome("n4", "delivered"),
            "known twice, noted once"
        );
        assert!(row.note_outcome("n4", "replied"));
        assert!(!row.note_outcome("n1", "replied"), "forgotten");
        assert_eq!(row.nudges[2].outcomes, ["delivered", "replied"]);
        let mut long = note("n5");
        long.message = "x".repeat(10_000);
        row.note_nudge(long);
        let written = row.fitted(row_budget(1));
        assert_eq!(written.nudges.len(), MAX_NUDGES, "written with the row");
        assert!(written.nudges[2].message.ends_with(MARKER));
        assert!(json_len(&written) <= row_budget(1));
        // Nudges with the longest messages (and ids) take at most a fifth of the row, newest kept.
        let mut crowded = SessionRow::new(&s1());
        crowded.summary = Some("s".repeat(10_000));
        for i in 0..3 {
            let mut big = note(&NudgeNote::id_for(&"i".repeat(400 + i)));
            big.message = "m".repeat(10_000);
            crowded.note_nudge(big);
        }
        let written = crowded.fitted(row_budget(1));
        assert!(
            json_len(&written) <= row_budget(1),
            "{}",
            json_len(&written)
        );
        assert!(json_len(&written.nudges) <= row_budget(1) / 5);
        assert_eq!(written.nudges.last(), crowded.nudges.last());
        let back: SessionRow =
            serde_json::from_str(&serde_json::to_string(&written).unwrap()).unwrap();
        assert_eq!(back.nudges, written.nudges);
    }

    #[test]
    fn signals_are_detected_and_expire() {
        let mut row = SessionRow::new(&s1());
        let mut pages = batch(0, 3, "viewed");
        for (action, page) in pages.actions.iter_mut().zip(["/a", "/b", "/a"]) {
            action.action_type = "pageview".into();
            action.canonical_url = format!("https://app.com{page}");
        }
        row.absorb(&pages, 64);
        let now = 1_795_521_603_000;
        row.refresh_signals(now, &SignalConfig::default());
        assert_eq!(row.signals.len(), 1);
        row.actions.clear();
        row.refresh_signals(now + 60_000, &SignalConfig::default());
        assert_eq!(row.signals.len(), 1, "kept while recent");
        row.refresh_signals(now + 11 * 60_000, &SignalConfig::default());
        assert!(row.signals.is_empty(), "expired");
    }
}
