//! Where a fired trigger goes (`--nudges`): to the webhook, for bots built on the guide's cards
//! (one billed event each), or, for bots with the `autoplay` plugin, straight into the user's
//! conversation as a bot message (no event, nothing billed; [`crate::messages`]). Both are
//! idempotent on the trigger id: the webhook's `Idempotency-Key`, the message's `nudgeId` tag.
//! On the plugin path the conversation's last messages are read first: a user in a chat exchange
//! is not nudged ([`Delivered::Quiet`]).

use std::sync::Arc;
use std::time::Duration;

use autoplay_botpress::wire::TriggerEvent;
use clap::ValueEnum;

use crate::budget::Budget;
use crate::messages::{Delivered, Messages, Nudge};
use crate::metrics::{Metrics, RequestKind};
use crate::retry::Failure;
use crate::watch::outcomes::{Delivery, ReplyCheck};
use crate::watch::pacing::Pacing;
use crate::webhook::Webhook;

/// Where proactive triggers go (`--nudges`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NudgePath {
    /// POST each trigger to --webhook-url (one billed event each): for bots built on the
    /// guide's cards (the Trigger workflow).
    Webhook,
    /// Create each trigger as a bot message in the user's conversation through the Botpress
    /// API (no billed event), or leave it pending until they next write: for bots with the
    /// `autoplay` plugin. Needs --botpress-token and --bot-id.
    Plugin,
}

/// How nudges are delivered: the path, the plugin's alias in the bot, and how long a nudge for
/// a user with no conversation waits for their next message.
#[derive(Debug, Clone)]
pub struct NudgeSettings {
    pub path: NudgePath,
    pub plugin_alias: String,
    pub ttl: Duration,
}

/// What became of a trigger's send.
#[derive(Debug, PartialEq)]
pub enum Sent {
    /// Accepted by the webhook.
    Webhook,
    /// A bot message, a pending row, or held: the conversation's last messages show a chat
    /// exchange.
    Plugin(Delivered),
}

impl Sent {
    /// What the outcomes see of it: `None` when it was not sent after all.
    pub fn delivery(&self) -> Option<Delivery> {
        match self {
            Sent::Webhook => Some(Delivery::Webhook),
            Sent::Plugin(Delivered::Message { conversation_id }) => Some(Delivery::Message {
                conversation_id: conversation_id.clone(),
            }),
            Sent::Plugin(Delivered::Pending) => Some(Delivery::Pending),
            Sent::Plugin(Delivered::Quiet(_)) => None,
        }
    }
}

/// A trigger's delivery path.
#[derive(Clone)]
pub enum Nudges {
    /// POSTed to the webhook as `type: "trigger"`, signed like batches.
    Webhook(Webhook),
    /// Created as a message of the bot `bot_id` in the linked conversation, else left pending
    /// for `ttl` in the plugin's table.
    Plugin {
        messages: Messages,
        bot_id: String,
        ttl: Duration,
        /// The quiet times a conversation's last messages are held to.
        pacing: Pacing,
        budget: Arc<Budget>,
        metrics: Arc<Metrics>,
    },
}

impl Nudges {
    pub fn metrics(&self) -> &Arc<Metrics> {
        match self {
            Nudges::Webhook(webhook) => &webhook.metrics,
            Nudges::Plugin { metrics, .. } => metrics,
        }
    }

    /// The request budget its requests count against.
    pub fn budget(&self) -> &Budget {
        match self {
            Nudges::Webhook(webhook) => &webhook.budget,
            Nudges::Plugin { budget, .. } => budget,
        }
    }

    /// Whether the user wrote in the conversation in the check's time (one `listMessages`):
    /// `None` when it could not be read. Asked once per nudge, when the reply window
    /// is over: the cheapest way to know, as the plugin reports no replies to the streamer.
    pub async fn replied(&self, check: &ReplyCheck) -> Option<bool> {
        let Nudges::Plugin { messages, .. } = self else {
            return None;
        };
        let read = messages
            .last_chat(&check.conversation_id, check.since_ms, Some(check.until_ms))
            .await;
        match read {
            Ok(last) => Some(last.user_ms.is_some()),
            Err(failure) => {
                tracing::warn!(reason = %failure.reason, conversation_id = %check.conversation_id,
                    "could not read whether the user replied to a nudge");
                None
            }
        }
    }

    /// Delivers `trigger` once (the caller retries).
    pub async fn send(&self, trigger: &TriggerEvent) -> Result<Sent, Failure> {
        match self {
            Nudges::Webhook(webhook) => {
                let mut body = serde_json::to_value(trigger).unwrap_or_default();
                body["type"] = "trigger".into();
                let body = serde_json::to_vec(&body).unwrap_or_default();
                webhook
                    .post(RequestKind::Trigger, Some(&trigger.trigger_id), body)
                    .await?;
                Ok(Sent::Webhook)
            }
            Nudges::Plugin {
                messages,
                bot_id,
                ttl,
                pacing,
                ..
            } => {
                let nudge = Nudge::from_trigger(trigger, *ttl);
                let delivered = messages
                    .deliver(bot_id, &nudge, pacing, crate::now_ms())
                    .await?;
                match &delivered {
                    Delivered::Message { conversation_id } => tracing::info!(
                        session = %trigger.session_id, %conversation_id,
                        "nudge sent as a bot message"
                    ),
                    Delivered::Pending => tracing::info!(
                        session = %trigger.session_id,
                        "no linked conversation yet: nudge pending for the user's next message"
                    ),
                    Delivered::Quiet(_) => tracing::info!(
                        session = %trigger.session_id,
                        "the user is in a chat exchange: nudge held"
                    ),
                }
                Ok(Sent::Plugin(delivered))
            }
        }
    }
}
