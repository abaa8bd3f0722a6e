//! Pacing: which of the signals found in one evaluation becomes a nudge, and whether any may go
//! out now. At most one nudge per session per window, the strongest signal first, none while the
//! user is in a chat exchange.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use autoplay_botpress::signals::SignalKind;

/// How often a session may be nudged, and how long a chat exchange keeps nudges away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Pacing {
    /// Least time between two nudges of any kind for one session (default 5 minutes, the
    /// SDK's `min_interval_seconds`).
    pub window_ms: i64,
    /// No nudge for this long after the user last wrote in the chat (default 2 minutes).
    pub quiet_after_user_ms: i64,
    /// No nudge for this long after the bot last answered (default 2 minutes).
    pub quiet_after_bot_ms: i64,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            window_ms: 300_000,
            quiet_after_user_ms: 120_000,
            quiet_after_bot_ms: 120_000,
        }
    }
}

/// How strongly a kind says "stuck right now", strongest first. Rage clicks are an element that
/// does not respond, repeated submits a form that does not go through: both name what failed.
/// An abandoned flow names a lost task; ping-pong and hesitation are the user weighing options;
/// dwell may as well be reading.
pub const STRENGTH: [SignalKind; 6] = [
    SignalKind::RageClicks,
    SignalKind::RepeatedSubmits,
    SignalKind::FlowAbandoned,
    SignalKind::PingPong,
    SignalKind::Hesitation,
    SignalKind::Dwell,
];

/// Position in [`STRENGTH`]: lower is stronger.
pub fn rank(kind: SignalKind) -> usize {
    STRENGTH
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(STRENGTH.len())
}

/// Who spoke last in a chat exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatSide {
    User,
    Bot,
}

/// Why a candidate nudge did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Another nudge went to the session within the window.
    Window,
    /// The user is in a chat exchange.
    Chat,
}

/// What pacing decided so far, for `/metrics` and the figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacingStats {
    /// Nudges that went out.
    pub sent: u64,
    /// Signals that lost to a stronger one found at the same time.
    pub outranked: u64,
    /// Nudges held back by the session's window.
    pub held_by_window: u64,
    /// Nudges held back by a chat exchange.
    pub held_by_chat: u64,
}

impl PacingStats {
    /// Signals that reached pacing and were not sent.
    pub fn suppressed(&self) -> u64 {
        self.outranked + self.held_by_window + self.held_by_chat
    }
}

/// Per-user chat quiet: until when no nudge may go to that user.
#[derive(Debug, Default)]
pub struct ChatQuiet {
    until: HashMap<String, i64>,
}

impl ChatQuiet {
    /// Records that `side` spoke to/for `user_id` at `at_ms`.
    pub fn note(&mut self, pacing: &Pacing, user_id: &str, side: ChatSide, at_ms: i64) {
        let quiet = match side {
            ChatSide::User => pacing.quiet_after_user_ms,
            ChatSide::Bot => pacing.quiet_after_bot_ms,
        };
        let until = at_ms.saturating_add(quiet);
        let slot = self.until.entry(user_id.to_owned()).or_insert(until);
        *slot = (*slot).max(until);
    }

    /// Whether `user_id` is in a chat exchange at `now_ms`.
    pub fn quiet(&self, user_id: Option<&str>, now_ms: i64) -> bool {
        user_id
            .and_then(|u| self.until.get(u))
            .is_some_and(|&until| now_ms < until)
    }

    /// Forgets exchanges that are over.
    pub fn expire(&mut self, now_ms: i64) {
        self.until.retain(|_, until| now_ms < *until);
    }
}

/// When the user last wrote and the bot last answered in the user's conversation, as the
/// conversation's messages say (with `--nudges plugin`, read just before a nudge is sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastChat {
    pub user_ms: Option<i64>,
    pub bot_ms: Option<i64>,
}

impl LastChat {
    /// Adds a message by `side` at `at_ms`, keeping the latest of each side.
    pub fn note(&mut self, side: ChatSide, at_ms: i64) {
        let slot = match side {
            ChatSide::User => &mut self.user_ms,
            ChatSide::Bot => &mut self.bot_ms,
        };
        *slot = Some(slot.map_or(at_ms, |t| t.max(at_ms)));
    }

    /// Whether these messages put the user in a chat exchange at `now_ms`: the same quiet times
    /// as [`ChatQuiet`].
    pub fn quiet(&self, pacing: &Pacing, now_ms: i64) -> bool {
        let within =
            |at: Option<i64>, quiet: i64| at.is_some_and(|t| now_ms < t.saturating_add(quiet));
        within(self.user_ms, pacing.quiet_after_user_ms)
            || within(self.bot_ms, pacing.quiet_after_bot_ms)
    }

    /// How far back a conversation must be read to decide [`LastChat::quiet`] at `now_ms`.
    pub fn since(pacing: &Pacing, now_ms: i64) -> i64 {
        now_ms.saturating_sub(pacing.quiet_after_user_ms.max(pacing.quiet_after_bot_ms))
    }
}

/// Decides one session's nudge: `last_nudge_ms` is its last one, `chatting` whether the user is
/// in an exchange. Returns the held reason, or `None` when the nudge may go.
pub fn hold(
    pacing: &Pacing,
    last_nudge_ms: Option<i64>,
    chatting: bool,
    now_ms: i64,
) -> Option<Held> {
    if last_nudge_ms.is_some_and(|at| now_ms.saturating_sub(at) < pacing.window_ms) {
        Some(Held::Window)
    } else if chatting {
        Some(Held::Chat)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_strength() {
        for kind in SignalKind::ALL {
            assert!(rank(kind) < STRENGTH.len(), "{kind:?}");
        }
        assert!(rank(SignalKind::RageClicks) < rank(SignalKind::PingPong));
    }

    #[test]
    fn chat_quiet_follows_the_last_word() {
        let pacing = Pacing::default();
        let mut quiet = ChatQuiet::default();
        quiet.note(&pacing, "u", ChatSide::User, 1_000);
        assert!(quiet.quiet(Some("u"), 120_999));
        assert!(!quiet.quiet(Some("u"), 121_000));
        assert!(!quiet.quiet(Some("other"), 2_000));
        assert!(!quiet.quiet(None, 2_000));
        quiet.note(&pacing, "u", ChatSide::Bot, 100_000);
        assert!(quiet.quiet(Some("u"), 200_000));
        quiet.expire(220_000);
        assert!(quiet.until.is_empty());
    }

    #[test]
    fn the_last_messages_decide_the_quiet_time() {
        let pacing = Pacing::default();
        let mut last = LastChat::default();
        assert!(!last.quiet(&pacing, 0), "no messages: no exchange");
        last.note(ChatSide::User, 1_000);
        last.note(ChatSide::User, 500);
        assert_eq!(last.user_ms, Some(1_000));
        assert!(last.quiet(&pacing, 11_000), "the user wrote 10 s ago");
        assert!(!last.quiet(&pacing, 121_000));
        last.note(ChatSide::Bot, 100_000);
        assert!(last.quiet(&pacing, 219_999));
        assert!(!last.quiet(&pacing, 220_000));
        assert_eq!(LastChat::since(&pacing, 220_000), 100_000);
    }

    #[test]
    fn the_window_comes_before_the_chat() {
        let pacing = Pacing::default();
        assert_eq!(hold(&pacing, None, false, 0), None);
        assert_eq!(hold(&pacing, None, true, 0), Some(Held::Chat));
        assert_eq!(hold(&pacing, Some(0), true, 299_999), Some(Held::Window));
        assert_eq!(hold(&pacing, Some(0), false, 300_000), None);
    }
}
