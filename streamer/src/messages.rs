//! Nudges as bot messages, for bots with the `autoplay` Botpress plugin: the nudge is created in
//! the user's linked conversation as a message of the bot (not an incoming event: nothing billed,
//! no workflow), or, when the user has no conversation yet, left in the plugin's pending-nudge
//! table for the plugin to show when they next write. The requests are the ones
//! `@botpress/client` 1.35.0 sends (`tests/fixtures/plugin-nudge.json`). Before a message is
//! created, one `listMessages` of the conversation says when the user last wrote and the bot last
//! answered: during the pacing's quiet time the nudge is not sent ([`Delivered::Quiet`]).

use std::time::Duration;

use autoplay_botpress::time::{iso_from_ms, ms_from_iso};
use autoplay_botpress::wire::TriggerEvent;
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::botpress::TablesClient;
use crate::metrics::{add, RequestKind};
use crate::retry::Failure;
use crate::watch::pacing::{ChatSide, LastChat, Pacing};

/// The plugin's pending-nudge table (its definition names it).
pub const PENDING_NUDGES_TABLE: &str = "AutoPlayPendingNudgesTable";

/// A quick reply offered with a nudge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub title: String,
    pub value: String,
}

/// Whom a nudge is for: the Autoplay user, or, when the stream names none, the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    User(String),
    Session(String),
}

impl Recipient {
    /// The plugin's user tag naming this recipient, and the pending-nudge key (the plugin's
    /// `pendingKeys`).
    fn tag_and_key(&self) -> (&'static str, String) {
        match self {
            Recipient::User(id) => ("autoplayUserId", format!("user:{id}")),
            Recipient::Session(id) => ("autoplaySessionId", format!("session:{id}")),
        }
    }

    fn id(&self) -> &str {
        match self {
            Recipient::User(id) | Recipient::Session(id) => id,
        }
    }
}

/// A nudge for one Autoplay user.
#[derive(Debug, Clone)]
pub struct Nudge {
    /// The delivery id: a re-delivery of the same id creates no second message.
    pub nudge_id: String,
    pub message: String,
    pub choices: Vec<Choice>,
    pub recipient: Recipient,
    /// When a pending nudge stops being shown (ISO 8601).
    pub expires_at: String,
}

impl Nudge {
    /// The nudge for a fired trigger: its id, its message, for its user (else its session),
    /// pending for `ttl` after it fired.
    pub fn from_trigger(trigger: &TriggerEvent, ttl: Duration) -> Self {
        let fired_ms = ms_from_iso(&trigger.fired_at).unwrap_or_else(crate::now_ms);
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let recipient = match trigger.user_id.as_deref().filter(|u| !u.is_empty()) {
            Some(user) => Recipient::User(user.to_owned()),
            None => Recipient::Session(trigger.session_id.clone()),
        };
        Self {
            nudge_id: trigger.trigger_id.clone(),
            message: trigger.message.clone(),
            choices: trigger
                .choices
                .iter()
                .map(|label| Choice {
                    title: label.clone(),
                    value: label.clone(),
                })
                .collect(),
            recipient,
            expires_at: iso_from_ms(fired_ms.saturating_add(ttl_ms)),
        }
    }
}

/// Where a nudge went.
#[derive(Debug, PartialEq)]
pub enum Delivered {
    /// A bot message in this conversation.
    Message { conversation_id: String },
    /// No linked conversation yet: waiting in the pending-nudge table.
    Pending,
    /// Not sent: the user is in a chat exchange in this conversation (its last messages).
    Quiet(LastChat),
}

/// Sends nudges through the Botpress API with the bot's token.
#[derive(Clone)]
pub struct Messages {
    client: TablesClient,
    /// The plugin's alias in the bot: its tags are `<alias>#<name>`.
    alias: String,
}

#[derive(Deserialize)]
struct Users {
    #[serde(default)]
    users: Vec<User>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

#[derive(Deserialize)]
struct ListedMessages {
    #[serde(default)]
    messages: Vec<ListedMessage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedMessage {
    #[serde(default)]
    direction: String,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    tags: std::collections::HashMap<String, String>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Options<'a> {
    text: &'a str,
    options: Vec<ChoiceOption<'a>>,
}

#[derive(Serialize)]
struct ChoiceOption<'a> {
    label: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetOrCreateMessage<'a, P> {
    payload: P,
    user_id: &'a str,
    conversation_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    tags: std::collections::BTreeMap<&'a str, &'a str>,
    discriminate_by_tags: [&'a str; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingRow<'a> {
    key: String,
    nudge_id: &'a str,
    message: &'a str,
    choices: &'a [Choice],
    expires_at: &'a str,
}

impl Messages {
    pub fn new(client: TablesClient, alias: impl Into<String>) -> Self {
        Self {
            client,
            alias: alias.into(),
        }
    }

    /// Delivers `nudge` as the bot `bot_id`: a message in the conversation the user's tag names
    /// (unless its last messages put the user in an exchange at `now_ms`, per `pacing`), or a
    /// pending row when no Botpress user is linked to them.
    pub async fn deliver(
        &self,
        bot_id: &str,
        nudge: &Nudge,
        pacing: &Pacing,
        now_ms: i64,
    ) -> Result<Delivered, Failure> {
        let (tag, key) = nudge.recipient.tag_and_key();
        let mut url: Url = self.client.url("chat/users");
        url.query_pairs_mut()
            .append_pair(&format!("tags.{}#{tag}", self.alias), nudge.recipient.id());
        let found: Users = self.client.get(url, RequestKind::Find).await?;
        let conversation_tag = format!("{}#conversationId", self.alias);
        let conversation = found
            .users
            .iter()
            .find_map(|user| user.tags.get(&conversation_tag).filter(|c| !c.is_empty()));
        match conversation {
            Some(conversation_id) => {
                // A failed look-up neither wedges nor loses the nudge: it goes out as the
                // watcher's own pacing decided, and the failure is counted.
                match self
                    .last_chat(conversation_id, LastChat::since(pacing, now_ms), None)
                    .await
                {
                    Ok(last) if last.quiet(pacing, now_ms) => return Ok(Delivered::Quiet(last)),
                    Ok(_) => {}
                    Err(failure) => {
                        add(&self.client.metrics().chat_lookup_failures_total, 1);
                        tracing::warn!(reason = %failure.reason, %conversation_id,
                            "could not read the conversation's last messages; nudging without them");
                    }
                }
                self.create_message(bot_id, conversation_id, nudge).await?;
                Ok(Delivered::Message {
                    conversation_id: conversation_id.clone(),
                })
            }
            None => {
                let row = PendingRow {
                    key,
                    nudge_id: &nudge.nudge_id,
                    message: &nudge.message,
                    choices: &nudge.choices,
                    expires_at: &nudge.expires_at,
                };
                let answer = self
                    .client
                    .upsert_once(PENDING_NUDGES_TABLE, &[row], "nudgeId")
                    .await?;
                match answer.errors.first() {
                    Some(error) => Err(Failure::transient(format!(
                        "{PENDING_NUDGES_TABLE}: Botpress refused the pending nudge: {error}"
                    ))),
                    None => Ok(Delivered::Pending),
                }
            }
        }
    }

    /// When the user last wrote and the bot last answered in `conversation_id` after `since_ms`
    /// (and before `until_ms`): one `GET /v1/chat/messages` (`listMessages`), its first page.
    /// The bot's own nudges (tagged `<alias>#nudgeId`) are not answers.
    pub async fn last_chat(
        &self,
        conversation_id: &str,
        since_ms: i64,
        until_ms: Option<i64>,
    ) -> Result<LastChat, Failure> {
        let mut url: Url = self.client.url("chat/messages");
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("conversationId", conversation_id);
            query.append_pair("afterDate", &iso_from_ms(since_ms));
            if let Some(until) = until_ms {
                query.append_pair("beforeDate", &iso_from_ms(until));
            }
        }
        let listed: ListedMessages = self.client.get(url, RequestKind::Chat).await?;
        let nudge_tag = format!("{}#nudgeId", self.alias);
        let mut last = LastChat::default();
        for message in &listed.messages {
            let side = match message.direction.as_str() {
                "incoming" => ChatSide::User,
                "outgoing" if !message.tags.contains_key(&nudge_tag) => ChatSide::Bot,
                _ => continue,
            };
            if let Some(at) = ms_from_iso(&message.created_at) {
                last.note(side, at);
            }
        }
        Ok(last)
    }

    async fn create_message(
        &self,
        bot_id: &str,
        conversation_id: &str,
        nudge: &Nudge,
    ) -> Result<(), Failure> {
        let tag = format!("{}#nudgeId", self.alias);
        let tags = [(tag.as_str(), nudge.nudge_id.as_str())].into();
        let path = "chat/messages/get-or-create";
        let method = reqwest::Method::POST;
        let _: serde_json::Value = if nudge.choices.is_empty() {
            let body = GetOrCreateMessage {
                payload: Text {
                    text: &nudge.message,
                },
                user_id: bot_id,
                conversation_id,
                kind: "text",
                tags,
                discriminate_by_tags: [&tag],
            };
            self.client
                .send(method, path, &body, RequestKind::Trigger)
                .await?
        } else {
            let options = nudge
                .choices
                .iter()
                .map(|c| ChoiceOption {
                    label: &c.title,
                    value: &c.value,
                })
                .collect();
            let body = GetOrCreateMessage {
                payload: Options {
                    text: &nudge.message,
                    options,
                },
                user_id: bot_id,
                conversation_id,
                kind: "choice",
                tags,
                discriminate_by_tags: [&tag],
            };
            self.client
                .send(method, path, &body, RequestKind::Trigger)
                .await?
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    use axum::response::IntoResponse;
    use serde_json::{json, Value};

    use super::*;
    use crate::budget::Budget;
    use crate::config::BotpressConfig;
    use crate::metrics::Metrics;

    type Seen = Arc<Mutex<Vec<Value>>>;

    /// 2026-12-02T12:00:00Z.
    const NOW: i64 = 1_796_212_800_000;

    /// A Botpress API on loopback that records each request as the fixture does and answers
    /// `users` to the user lookup.
    async fn fake(users: Value) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (record, users) = (record.clone(), users.clone());
                async move {
                    let kept = ["authorization", "x-bot-id", "content-type"]
                        .iter()
                        .filter_map(|h| {
                            Some((h.to_string(), Value::from(headers.get(*h)?.to_str().ok()?)))
                        })
                        .collect::<serde_json::Map<_, _>>();
                    record.lock().unwrap().push(json!({
                        "method": method.as_str(),
                        "path": uri.to_string(),
                        "headers": kept,
                        "rawBody": String::from_utf8_lossy(&body),
                    }));
                    let answer = if method == Method::GET {
                        json!({ "users": users })
                    } else {
                        json!({})
                    };
                    axum::Json(answer).into_response()
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, seen)
    }

    fn messages(url: &str) -> Messages {
        let metrics = Arc::new(Metrics::default());
        let config = BotpressConfig {
            api_url: url.parse().unwrap(),
            token: "bp_bak_TOKEN".parse().unwrap(),
            bot_id: "BOT_ID".into(),
        };
        let budget = Arc::new(Budget::new(600, metrics.clone()));
        let client = TablesClient::new(reqwest::Client::new(), config, budget, metrics);
        Messages::new(client.single_attempt(), "autoplay")
    }

    fn nudge() -> Nudge {
        let choice = |title: &str, value: &str| Choice {
            title: title.into(),
            value: value.into(),
        };
        Nudge {
            nudge_id: "trig_42".into(),
            message: "Stuck on billing? I can walk you through it.".into(),
            choices: vec![choice("Yes please", "yes"), choice("No thanks", "no")],
            recipient: Recipient::User("AUTOPLAY_USER_ID".into()),
            expires_at: "2026-12-02T13:00:00.000Z".into(),
        }
    }

    #[test]
    fn a_trigger_with_quick_replies_becomes_a_choice_nudge() {
        let trigger: TriggerEvent = serde_json::from_value(json!({
            "trigger": "repeated_submits", "trigger_id": "t1", "session_id": "s1",
            "user_id": "alice", "product_id": "p", "signal": null,
            "message": "Payment not going through?", "choices": ["Talk to a person", "No thanks"],
            "fired_at": "2026-12-02T12:00:00.000Z"
        }))
        .unwrap();
        let nudge = Nudge::from_trigger(&trigger, Duration::from_secs(60));
        let titles: Vec<&str> = nudge.choices.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, ["Talk to a person", "No thanks"]);
        assert_eq!(nudge.recipient, Recipient::User("alice".into()));
    }

    /// The fixture's request at `step`, in the shape `fake` records.
    fn fixture(step: usize) -> Value {
        let text = include_str!("../../tests/fixtures/plugin-nudge.json");
        let r = &serde_json::from_str::<Value>(text).unwrap()["requests"][step];
        json!({ "method": r["method"], "path": r["path"], "headers": r["headers"], "rawBody": r["rawBody"] })
    }

    #[tokio::test]
    async fn a_linked_user_gets_the_nudge_as_a_bot_message_byte_identical_to_the_client() {
        let users =
            json!([{ "id": "u1", "tags": { "autoplay#conversationId": "CONVERSATION_ID" } }]);
        let (url, seen) = fake(users).await;
        let delivered = messages(&url)
            .deliver("BOT_ID", &nudge(), &Pacing::default(), NOW)
            .await
            .unwrap();
        assert_eq!(
            delivered,
            Delivered::Message {
                conversation_id: "CONVERSATION_ID".into()
            }
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{seen:#?}");
        assert_eq!((&seen[0], &seen[2]), (&fixture(0), &fixture(1)));
        // Between them, `listMessages` of the conversation's last 2 minutes (the quiet time),
        // with the same credentials.
        assert_eq!(
            seen[1]["path"],
            "/v1/chat/messages?conversationId=CONVERSATION_ID&afterDate=2026-12-02T11%3A58%3A00.000Z"
        );
        assert_eq!(
            (&seen[1]["method"], &seen[1]["headers"]),
            (&json!("GET"), &fixture(0)["headers"])
        );
    }

    #[tokio::test]
    async fn the_conversations_last_messages_decide_the_quiet_time() {
        let app = axum::Router::new().route(
            "/v1/chat/messages",
            axum::routing::get(|| async {
                axum::Json(json!({ "messages": [
                    { "direction": "outgoing", "createdAt": "2026-12-02T11:59:55.000Z",
                      "tags": { "autoplay#nudgeId": "an earlier nudge" } },
                    { "direction": "incoming", "createdAt": "2026-12-02T11:59:50.000Z", "tags": {} },
                    { "direction": "outgoing", "createdAt": "2026-12-02T11:59:00.000Z", "tags": {} },
                    { "direction": "incoming", "createdAt": "not a date" }
                ], "meta": {} }))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let last = messages(&url)
            .last_chat("CONVERSATION_ID", NOW - 120_000, None)
            .await
            .unwrap();
        assert_eq!(
            last,
            LastChat {
                user_ms: Some(NOW - 10_000),
                bot_ms: Some(NOW - 60_000),
            },
            "the bot's own nudge is not an answer"
        );
    }

    #[tokio::test]
    async fn an_unlinked_user_gets_a_pending_row_byte_identical_to_the_client() {
        let (url, seen) = fake(json!([])).await;
        let delivered = messages(&url)
            .deliver("BOT_ID", &nudge(), &Pacing::default(), NOW)
            .await
            .unwrap();
        assert_eq!(delivered, Delivered::Pending);
        assert_eq!(*seen.lock().unwrap(), vec![fixture(0), fixture(2)]);
    }
}
