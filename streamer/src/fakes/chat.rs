//! The Chat API stand-in the plugin path talks to: Botpress users with tags (found by tag as
//! `GET /v1/chat/users?tags.<tag>=<value>` answers), bot messages created with get-or-create
//! (one message per discriminating tag value, as Botpress does), a conversation's messages as
//! `listMessages` lists them (`GET /v1/chat/messages?conversationId=…&afterDate=…&beforeDate=…`),
//! and `createEvent`, counted: an event is what Botpress bills.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::{lock, FakeState};

/// A message the bot created.
#[derive(Debug, Clone)]
pub struct BotMessage {
    pub conversation_id: String,
    /// `text`, `choice`, …
    pub kind: String,
    pub payload: Value,
    pub tags: Map<String, Value>,
    pub created_at_ms: i64,
}

/// A message of a chat exchange the streamer did not write: the user's (`incoming`) or the
/// bot's answers (`outgoing`).
#[derive(Debug, Clone)]
pub struct ChatLine {
    pub conversation_id: String,
    pub direction: &'static str,
    pub created_at_ms: i64,
}

/// The Chat API's state.
#[derive(Debug, Default)]
pub struct ChatFake {
    /// Botpress users: their tags (`<alias>#autoplayUserId`, `<alias>#conversationId`, …).
    pub users: Vec<Map<String, Value>>,
    pub messages: Vec<BotMessage>,
    /// `createEvent` calls: each one an incoming event Botpress bills.
    pub events_created: usize,
    /// Every Chat API request received.
    pub requests: usize,
    /// This many get-or-create calls do their work, then answer 503 (an answer lost on the way).
    pub lose_answers: usize,
    /// The exchanges in the conversations, besides the nudges.
    pub lines: Vec<ChatLine>,
    /// The user answers each nudge at once (the demo's scripted user).
    pub reply_to_nudges: bool,
    /// `listMessages` calls answer 503.
    pub fail_list_messages: bool,
}

impl ChatFake {
    /// Adds a Botpress user with these tags (what the plugin's hook records on a first message).
    pub fn add_user(&mut self, tags: &[(&str, &str)]) {
        self.users.push(
            tags.iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect(),
        );
    }
}

type Shared = State<Arc<Mutex<FakeState>>>;

/// A request's checks in order: the rate limit, then the bearer token when one is set.
fn admitted(s: &mut FakeState, headers: &HeaderMap) -> Option<Response> {
    s.chat.requests += 1;
    if let Some(limited) = s.admit() {
        return Some(limited);
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    match &s.botpress_token {
        Some(token) if auth != Some(&format!("Bearer {token}")) => {
            let refused = json!({"code": 401, "type": "Unauthorized", "message": "Invalid token"});
            Some((StatusCode::UNAUTHORIZED, Json(refused)).into_response())
        }
        _ => None,
    }
}

/// A request's query parameters, decoded.
fn query_of<C: FromIterator<(String, String)>>(uri: &Uri) -> C {
    reqwest::Url::parse(&format!("http://fake{uri}"))
        .map(|url| url.query_pairs().into_owned().collect())
        .unwrap_or_else(|_| std::iter::empty().collect())
}

/// `listUsers`: the users whose tags match every `tags.<name>` query parameter.
pub async fn list_users(State(state): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let query: Vec<(String, String)> = query_of(&uri);
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    let wanted: Vec<(&str, &str)> = query
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("tags.")?, v.as_str())))
        .collect();
    let users: Vec<Value> = s
        .chat
        .users
        .iter()
        .enumerate()
        .filter(|(_, tags)| wanted.iter().all(|(k, v)| tags.get(*k) == Some(&json!(v))))
        .map(|(i, tags)| json!({ "id": format!("user_{i}"), "tags": tags }))
        .collect();
    Json(json!({ "users": users, "meta": {} })).into_response()
}

/// `listMessages`: the conversation's messages created after `afterDate` (and before
/// `beforeDate`), newest first, with their direction and tags.
pub async fn list_messages(State(state): Shared, headers: HeaderMap, uri: Uri) -> Response {
    let query: std::collections::HashMap<String, String> = query_of(&uri);
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    if s.chat.fail_list_messages {
        return (StatusCode::SERVICE_UNAVAILABLE, "listMessages down").into_response();
    }
    let Some(conversation) = query.get("conversationId") else {
        let refused =
            json!({"code": 400, "type": "InvalidPayload", "message": "conversationId is required"});
        return (StatusCode::BAD_REQUEST, Json(refused)).into_response();
    };
    let date = |key: &str| {
        query
            .get(key)
            .and_then(|d| autoplay_botpress::time::ms_from_iso(d))
    };
    let (after, before) = (date("afterDate"), date("beforeDate"));
    let nudges = s.chat.messages.iter().map(|m| {
        (
            &m.conversation_id,
            "outgoing",
            m.created_at_ms,
            m.tags.clone(),
        )
    });
    let lines = s
        .chat
        .lines
        .iter()
        .map(|l| (&l.conversation_id, l.direction, l.created_at_ms, Map::new()));
    let mut listed: Vec<_> = nudges
        .chain(lines)
        .filter(|(c, _, at, _)| {
            *c == conversation && after.is_none_or(|a| *at > a) && before.is_none_or(|b| *at < b)
        })
        .collect();
    listed.sort_by_key(|(_, _, at, _)| std::cmp::Reverse(*at));
    let messages: Vec<Value> = listed
        .into_iter()
        .map(|(c, direction, at, tags)| {
            let created = autoplay_botpress::time::iso_from_ms(at);
            json!({ "id": format!("msg_{at}"), "conversationId": c, "direction": direction,
                    "createdAt": created, "updatedAt": created, "type": "text", "payload": {},
                    "userId": "user_0", "tags": tags })
        })
        .collect();
    Json(json!({ "messages": messages, "meta": {} })).into_response()
}

/// `getOrCreateMessage`: the message with the same discriminating tags in the conversation, or
/// a new one.
pub async fn get_or_create_message(
    State(state): Shared,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&raw) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let tags = body["tags"].as_object().cloned().unwrap_or_default();
    let conversation_id = text(&body["conversationId"]);
    let discriminators: Vec<&str> = body["discriminateByTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if conversation_id.is_empty() || body["userId"].as_str().is_none() || discriminators.is_empty()
    {
        let refused = json!({"code": 400, "type": "InvalidPayload", "message": "conversationId, userId and discriminateByTags are required"});
        return (StatusCode::BAD_REQUEST, Json(refused)).into_response();
    }
    let same = |m: &BotMessage| {
        m.conversation_id == conversation_id
            && discriminators
                .iter()
                .all(|t| m.tags.get(*t) == tags.get(*t))
    };
    if !s.chat.messages.iter().any(same) {
        let created_at_ms = crate::now_ms();
        if s.chat.reply_to_nudges {
            s.chat.lines.push(ChatLine {
                conversation_id: conversation_id.clone(),
                direction: "incoming",
                created_at_ms: created_at_ms + 1,
            });
        }
        let message = BotMessage {
            conversation_id,
            kind: text(&body["type"]),
            payload: body["payload"].clone(),
            tags,
            created_at_ms,
        };
        if s.verbose {
            println!(
                "{} chat API ← bot message in conversation {}: {} (a bot message: 0 billed events)",
                s.elapsed(),
                message.conversation_id,
                message.payload["text"]
            );
        }
        s.chat.messages.push(message);
    }
    if s.chat.lose_answers > 0 {
        s.chat.lose_answers -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "answer lost").into_response();
    }
    Json(json!({ "message": {} })).into_response()
}

/// `createEvent`: counted, as Botpress bills it.
pub async fn create_event(State(state): Shared, headers: HeaderMap) -> Response {
    let mut s = lock(&state);
    if let Some(refused) = admitted(&mut s, &headers) {
        return refused;
    }
    s.chat.events_created += 1;
    Json(json!({ "event": {} })).into_response()
}
