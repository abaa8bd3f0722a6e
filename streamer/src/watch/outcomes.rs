//! "Did it help?": what became of each nudge sent. Three outcomes per nudge, each known at its
//! own time: its delivery (when the send answers), whether the user replied in the conversation
//! within [`OutcomeWindows::reply_within_ms`] (asked once, when that time is over), and whether the
//! friction it was about stopped: no signal of the same kind in the session's actions after the
//! nudge within [`OutcomeWindows::friction_within_ms`] (the watcher runs the detectors on those
//! actions alone while the window lasts).
//! No I/O: the streamer sends, asks for the replies [`Outcomes::due`] names and reports back.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use autoplay_botpress::ids::Owner;
use autoplay_botpress::signals::SignalKind;

/// How long after a nudge its reply and its friction are watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct OutcomeWindows {
    /// A user message in the conversation this soon after the nudge is a reply (default 10
    /// minutes).
    pub reply_within_ms: i64,
    /// A same-kind signal this soon after the nudge means the friction went on (default 5
    /// minutes).
    pub friction_within_ms: i64,
}

impl Default for OutcomeWindows {
    fn default() -> Self {
        Self {
            reply_within_ms: 600_000,
            friction_within_ms: 300_000,
        }
    }
}

/// One outcome of a nudge, as counted in `nudge_outcomes_total{kind,outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A bot message in the user's conversation (or, through the webhook, a trigger accepted).
    Delivered,
    /// Kept in the plugin's pending-nudge table: the user had no conversation.
    Pending,
    /// Could not be delivered; dropped after the retries.
    Failed,
    /// The user wrote in the conversation within the reply window.
    Replied,
    /// They did not.
    NoReply,
    /// Whether they did could not be read (the look-up failed).
    ReplyUnknown,
    /// No same-kind signal within the friction window.
    FrictionStopped,
    /// A same-kind signal came back within it.
    FrictionContinued,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Delivered,
        Outcome::Pending,
        Outcome::Failed,
        Outcome::Replied,
        Outcome::NoReply,
        Outcome::ReplyUnknown,
        Outcome::FrictionStopped,
        Outcome::FrictionContinued,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Pending => "pending",
            Outcome::Failed => "failed",
            Outcome::Replied => "replied",
            Outcome::NoReply => "no_reply",
            Outcome::ReplyUnknown => "reply_unknown",
            Outcome::FrictionStopped => "friction_stopped",
            Outcome::FrictionContinued => "friction_continued",
        }
    }

    /// Position in [`Outcome::ALL`].
    pub fn index(self) -> usize {
        Outcome::ALL
            .iter()
            .position(|o| *o == self)
            .unwrap_or_default()
    }
}

/// Where a nudge went, as its send answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A bot message in this conversation: its reply is asked for later.
    Message { conversation_id: String },
    /// Waiting in the plugin's pending-nudge table.
    Pending,
    /// Accepted by the webhook (the streamer does not see that conversation: no reply check).
    Webhook,
    /// Dropped after the retries.
    Failed,
}

/// A reply to ask about: were there user messages in `conversation_id` between the two times?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyCheck {
    pub nudge_id: String,
    pub conversation_id: String,
    pub since_ms: i64,
    pub until_ms: i64,
}

/// An outcome now known, for `/metrics` and the session's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub owner: Owner,
    pub nudge_id: String,
    pub kind: SignalKind,
    pub sent_ms: i64,
    pub outcome: Outcome,
}

#[derive(Debug)]
enum Reply {
    /// The send has not answered yet.
    Unsent,
    /// To be asked once the window is over.
    Waiting(String),
    /// Asked; the answer is on its way.
    Asked,
    /// Known, or nothing to ask (pending, webhook).
    Settled,
}

#[derive(Debug)]
struct Open {
    owner: Owner,
    nudge_id: String,
    kind: SignalKind,
    sent_ms: i64,
    reply: Reply,
    /// What the friction did, once known (reported once the nudge is known to be sent).
    friction: Option<Outcome>,
    friction_reported: bool,
}

impl Open {
    fn sent(&self) -> bool {
        !matches!(self.reply, Reply::Unsent)
    }

    fn done(&self) -> bool {
        self.friction_reported && matches!(self.reply, Reply::Settled)
    }
}

/// Nudges still waiting for an outcome, oldest first; at most [`MAX_OPEN`] (the oldest go
/// unfinished past it). A nudge whose send never answers (the judge refused it, it was shed
/// from the queue, shutdown) has no outcomes and is forgotten once both windows are over.
#[derive(Debug, Default)]
pub struct Outcomes {
    windows: OutcomeWindows,
    open: VecDeque<Open>,
    known: Vec<Known>,
}

/// Nudges followed at once, at most: at one nudge per session per pacing window, far more than
/// a streamer's sessions send within the windows.
pub const MAX_OPEN: usize = 4_096;

impl Outcomes {
    pub fn new(windows: OutcomeWindows) -> Self {
        Self {
            windows,
            ..Self::default()
        }
    }

    /// A nudge about `kind` went to `owner`'s session at `sent_ms`.
    pub fn nudged(&mut self, owner: &Owner, nudge_id: &str, kind: SignalKind, sent_ms: i64) {
        if self.open.len() >= MAX_OPEN {
            self.open.pop_front();
        }
        self.open.push_back(Open {
            owner: owner.clone(),
            nudge_id: nudge_id.to_owned(),
            kind,
            sent_ms,
            reply: Reply::Unsent,
            friction: None,
            friction_reported: false,
        });
    }

    /// The nudge was not sent after all (held by a chat exchange): it has no outcomes.
    pub fn withdraw(&mut self, nudge_id: &str) {
        self.open.retain(|o| o.nudge_id != nudge_id);
    }

    /// The nudge's send answered. A failed one has no further outcomes.
    pub fn delivered(&mut self, nudge_id: &str, delivery: Delivery) {
        let Some(at) = self.open.iter().position(|o| o.nudge_id == nudge_id) else {
            return;
        };
        let outcome = match &delivery {
            Delivery::Message { .. } | Delivery::Webhook => Outcome::Delivered,
            Delivery::Pending => Outcome::Pending,
            Delivery::Failed => Outcome::Failed,
        };
        if delivery == Delivery::Failed {
            if let Some(open) = self.open.remove(at) {
                self.known.push(known(&open, outcome));
            }
            return;
        }
        let Some(open) = self.open.get_mut(at) else {
            return;
        };
        self.known.push(known(open, outcome));
        open.reply = match delivery {
            Delivery::Message { conversation_id } => Reply::Waiting(conversation_id),
            _ => Reply::Settled,
        };
        report_friction(open, &mut self.known);
    }

    /// Signals of `owner`'s session found now, as (kind, end of their evidence): one of an open
    /// nudge's kind reaching past it, within the friction window, means the friction went on.
    pub fn signals(&mut self, owner: &Owner, found: &[(SignalKind, i64)], now_ms: i64) {
        let within = self.windows.friction_within_ms;
        for open in self.open.iter_mut().filter(|o| {
            o.friction.is_none() && o.owner == *owner && now_ms < o.sent_ms.saturating_add(within)
        }) {
            if found
                .iter()
                .any(|(kind, to_ms)| *kind == open.kind && *to_ms > open.sent_ms)
            {
                open.friction = Some(Outcome::FrictionContinued);
                report_friction(open, &mut self.known);
            }
        }
    }

    /// As of `now_ms`: settles the friction windows that are over (stopped), forgets the nudges
    /// that were never sent, and returns the replies to ask about now (each once).
    pub fn due(&mut self, now_ms: i64) -> Vec<ReplyCheck> {
        let windows = &self.windows;
        let mut checks = Vec::new();
        for open in &mut self.open {
            if open.friction.is_none()
                && now_ms >= open.sent_ms.saturating_add(windows.friction_within_ms)
            {
                open.friction = Some(Outcome::FrictionStopped);
                report_friction(open, &mut self.known);
            }
            let until_ms = open.sent_ms.saturating_add(windows.reply_within_ms);
            if now_ms >= until_ms {
                if let Reply::Waiting(conversation_id) = &open.reply {
                    checks.push(ReplyCheck {
                        nudge_id: open.nudge_id.clone(),
                        conversation_id: conversation_id.clone(),
                        since_ms: open.sent_ms,
                        until_ms,
                    });
                    open.reply = Reply::Asked;
                }
            }
        }
        let forget_unsent = windows.reply_within_ms.max(windows.friction_within_ms);
        self.open.retain(|o| {
            !o.done() && (o.sent() || now_ms < o.sent_ms.saturating_add(forget_unsent))
        });
        checks
    }

    /// The answer to a [`ReplyCheck`]: `Some(replied)`, or `None` when it could not be read.
    pub fn replied(&mut self, nudge_id: &str, replied: Option<bool>) {
        let Some(open) = self.open.iter_mut().find(|o| o.nudge_id == nudge_id) else {
            return;
        };
        open.reply = Reply::Settled;
        let outcome = match replied {
            Some(true) => Outcome::Replied,
            Some(false) => Outcome::NoReply,
            None => Outcome::ReplyUnknown,
        };
        self.known.push(known(open, outcome));
    }

    /// The outcomes known since the last call.
    pub fn take_known(&mut self) -> Vec<Known> {
        std::mem::take(&mut self.known)
    }

    /// Nudges still waiting for an outcome.
    pub fn open(&self) -> usize {
        self.open.len()
    }
}

/// Reports the friction outcome once it is known and the nudge is known to be sent.
fn report_friction(open: &mut Open, known_out: &mut Vec<Known>) {
    if let Some(outcome) = open.friction {
        if open.sent() && !open.friction_reported {
            open.friction_reported = true;
            known_out.push(known(open, outcome));
        }
    }
}

fn known(open: &Open, outcome: Outcome) -> Known {
    Known {
        owner: open.owner.clone(),
        nudge_id: open.nudge_id.clone(),
        kind: open.kind,
        sent_ms: open.sent_ms,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn outcomes(o: &mut Outcomes) -> Vec<(String, Outcome)> {
        o.take_known()
            .into_iter()
            .map(|k| (k.nudge_id, k.outcome))
            .collect()
    }

    fn k(expected: &[(&str, Outcome)]) -> Vec<(String, Outcome)> {
        expected
            .iter()
            .map(|(id, o)| ((*id).to_owned(), *o))
            .collect()
    }

    fn owner(session: &str) -> Owner {
        Owner::new(Some("u"), Some(session))
    }

    #[test]
    fn a_delivered_nudge_gets_its_reply_asked_once_after_ten_minutes() {
        let mut o = Outcomes::default();
        o.nudged(&owner("s"), "n1", SignalKind::RageClicks, 0);
        o.delivered(
            "n1",
            Delivery::Message {
                conversation_id: "c".into(),
            },
        );
        assert_eq!(outcomes(&mut o), k(&[("n1", Outcome::Delivered)]));
        // The friction is known before the send answers; reported once it has.
        o.nudged(&owner("t"), "n2", SignalKind::PingPong, 0);
        o.signals(&owner("t"), &[(SignalKind::PingPong, 1)], 1);
        assert!(outcomes(&mut o).is_empty());
        o.delivered("n2", Delivery::Pending);
        assert_eq!(
            outcomes(&mut o),
            k(&[("n2", Outcome::Pending), ("n2", Outcome::FrictionContinued)])
        );
        assert!(o.due(9 * MIN).is_empty());
        let checks = o.due(10 * MIN);
        assert_eq!(
            checks,
            [ReplyCheck {
                nudge_id: "n1".into(),
                conversation_id: "c".into(),
                since_ms: 0,
                until_ms: 10 * MIN
            }]
        );
        assert!(o.due(11 * MIN).is_empty(), "asked once");
        assert_eq!(outcomes(&mut o), k(&[("n1", Outcome::FrictionStopped)]));
        o.replied("n1", Some(true));
        assert_eq!(outcomes(&mut o), k(&[("n1", Outcome::Replied)]));
        o.due(11 * MIN);
        assert_eq!(o.open(), 0, "every outcome known: forgotten");
    }

    #[test]
    fn friction_goes_on_only_with_a_same_kind_signal_past_the_nudge_within_five_minutes() {
        let mut o = Outcomes::default();
        let (s, t) = (owner("s"), owner("t"));
        o.nudged(&s, "n1", SignalKind::RageClicks, 10 * MIN);
        o.nudged(&t, "n2", SignalKind::PingPong, 10 * MIN);
        o.delivered("n1", Delivery::Webhook);
        o.delivered("n2", Delivery::Webhook);
        o.take_known();
        // The clicks it was about (ending before it), another kind, another session: no change.
        o.signals(&s, &[(SignalKind::RageClicks, 10 * MIN - 1)], 10 * MIN + 1);
        o.signals(&s, &[(SignalKind::RepeatedSubmits, 11 * MIN)], 11 * MIN);
        o.signals(&owner("x"), &[(SignalKind::RageClicks, 11 * MIN)], 11 * MIN);
        assert!(outcomes(&mut o).is_empty());
        // New rage clicks: the friction went on, once.
        o.signals(&s, &[(SignalKind::RageClicks, 12 * MIN)], 12 * MIN);
        o.signals(&s, &[(SignalKind::RageClicks, 13 * MIN)], 13 * MIN);
        assert_eq!(outcomes(&mut o), k(&[("n1", Outcome::FrictionContinued)]));
        // Ping-pong after the window is too late: stopped.
        o.due(15 * MIN);
        o.signals(&t, &[(SignalKind::PingPong, 15 * MIN)], 15 * MIN);
        assert_eq!(outcomes(&mut o), k(&[("n2", Outcome::FrictionStopped)]));
    }

    #[test]
    fn pending_failed_and_withdrawn_nudges() {
        let mut o = Outcomes::new(OutcomeWindows {
            reply_within_ms: 1_000,
            friction_within_ms: 1_000,
        });
        o.nudged(&owner("a"), "p", SignalKind::Dwell, 0);
        o.nudged(&owner("b"), "f", SignalKind::Dwell, 0);
        o.nudged(&owner("c"), "w", SignalKind::Dwell, 0);
        o.nudged(&owner("d"), "refused by the judge", SignalKind::Dwell, 0);
        o.delivered("p", Delivery::Pending);
        o.delivered("f", Delivery::Failed);
        o.withdraw("w");
        assert!(o.due(1_000).is_empty(), "no conversation: no reply to ask");
        assert_eq!(
            outcomes(&mut o),
            k(&[
                ("p", Outcome::Pending),
                ("f", Outcome::Failed),
                ("p", Outcome::FrictionStopped),
            ]),
            "only what was sent has a friction outcome"
        );
        assert_eq!(o.open(), 0, "the unsent one is forgotten with the windows");
    }

    #[test]
    fn a_failed_reply_look_up_is_unknown_and_the_followed_nudges_are_bounded() {
        let mut o = Outcomes::default();
        o.nudged(&owner("s"), "n", SignalKind::Dwell, 0);
        o.delivered(
            "n",
            Delivery::Message {
                conversation_id: "c".into(),
            },
        );
        o.due(10 * MIN);
        o.replied("n", None);
        assert!(outcomes(&mut o).contains(&("n".into(), Outcome::ReplyUnknown)));
        for i in 0..MAX_OPEN + 10 {
            o.nudged(&owner("s"), &format!("x{i}"), SignalKind::Dwell, 0);
        }
        assert_eq!(o.open(), MAX_OPEN);
    }
}
