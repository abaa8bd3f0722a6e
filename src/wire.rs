//! Wire types of the Autoplay connector and of the webhook body this bridge posts to Botpress.
//!
//! Decoding is lenient the way the connector's reference client is: a missing or `null` field
//! takes its documented default. A field of the wrong type is still an error, naming the field,
//! except inside one action: an unusable action is left out of its batch and reported as
//! [`Skipped`], and the batch is refused only when none of its actions is usable.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::action::{action_shape, ActionFields};
use crate::decode::{decode_json, InputError};
use crate::ids::{self, Owner};
use crate::lenient;
use crate::redact::{redact, redact_url};
use crate::signals::{Signal, SignalKind, Step};
use crate::text::to_json;
use crate::time::ms_from_unix_seconds;

action_shape! {
    /// One UI action as the connector sends it ("SlimAction").
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
    #[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
    #[serde_with::serde_as]
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct SlimAction (index = "index", kind = "type") {
        /// Unix seconds.
        #[serde_with(skip_apply)]
        #[serde(deserialize_with = "lenient::seconds")]
        pub timestamp_start: f64,
        /// Unix seconds.
        #[serde_with(skip_apply)]
        #[serde(deserialize_with = "lenient::seconds")]
        pub timestamp_end: f64,
        #[serde_with(skip_apply)]
        #[serde(deserialize_with = "lenient::text")]
        pub raw_url: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub session_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub user_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub email: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub conversation_id: Option<String>,
        /// Idempotency key of this one action (`<batch_id>:<position>`), set by the streamer so a
        /// receiver can store each action once however batches are merged, split or re-sent.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub event_key: Option<String>,
    }
}

/// A batch of actions from one session: the connector's `actions` event.
///
/// The same shape (a superset of the guide's webhook body) is what the streamer posts to the
/// Botpress webhook, plus a `batch_id` idempotency key, so one decoder serves both.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionsPayload {
    pub product_id: String,
    pub session_id: Option<String>,
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub email: Option<String>,
    #[serde_with(skip_apply)]
    #[serde(deserialize_with = "lenient::list")]
    pub actions: Vec<SlimAction>,
    /// Number of actions. Reconciled to `actions.len()` by [`ActionsPayload::normalized`].
    #[serde_with(skip_apply)]
    #[serde(deserialize_with = "lenient::count")]
    pub count: u64,
    /// Unix seconds at which the connector forwarded the batch.
    #[serde_with(skip_apply)]
    #[serde(deserialize_with = "lenient::seconds")]
    pub forwarded_at: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub conversation_id: Option<String>,
    /// Idempotency key the streamer attaches so a receiver can drop re-deliveries.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub batch_id: Option<String>,
}

impl SlimAction {
    /// The action as the friction detectors see it (its time: `timestamp_start`).
    pub fn step(&self) -> Option<Step> {
        Some(self.step_at(ms_from_unix_seconds(self.timestamp_start)?))
    }

    /// Replaces personal data in the text fields by typed placeholders (URLs keep their path),
    /// and drops the connector's `email`.
    fn redact(&mut self) {
        self.redact_text();
        if let Cow::Owned(redacted) = redact_url(&self.raw_url) {
            self.raw_url = redacted;
        }
        self.email = None;
    }
}

impl ActionsPayload {
    /// Redacts the batch in place: the text fields of every action, and the connector's `email`
    /// fields, which are dropped.
    pub fn redact(&mut self) {
        self.email = None;
        for action in &mut self.actions {
            action.redact();
        }
    }

    /// Decodes a payload from JSON text; errors name the field relative to `body`. Unusable
    /// actions are left out (see [`ActionsPayload::decode`]).
    pub fn from_json(json: &str) -> Result<Self, InputError> {
        Self::decode("body", json).map(|(batch, _)| batch)
    }

    /// Decodes and normalizes a batch, naming fields relative to `root`. An action that cannot
    /// be read is left out and reported in the [`Skipped`]; the batch is an error only when its
    /// own fields are wrong or it had actions and none of them could be read.
    ///
    /// A well-formed batch is decoded in one pass straight into its type; only a batch with an
    /// unusable action is read again, as a tree, one action at a time.
    pub fn decode(root: &str, json: &str) -> Result<(Self, Option<Skipped>), InputError> {
        match decode_json::<Self>(root, json) {
            Ok(batch) => Ok((batch.normalized(), None)),
            Err(err) if err.path.starts_with(&format!("{root}.actions[")) => {
                Self::salvage(root, json, err)
            }
            Err(err) => Err(err),
        }
    }

    /// The slow path of [`ActionsPayload::decode`]: each action decoded on its own, the batch's
    /// other fields with an empty list. `first` is the error of the strict pass.
    fn salvage(
        root: &str,
        json: &str,
        first: InputError,
    ) -> Result<(Self, Option<Skipped>), InputError> {
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(json) else {
            return Err(first);
        };
        let Some(serde_json::Value::Array(items)) = fields.remove("actions") else {
            return Err(first);
        };
        let mut actions = Vec::with_capacity(items.len());
        let mut skipped: Option<Skipped> = None;
        for (position, item) in items.into_iter().enumerate() {
            let path = format!("{root}.actions[{position}]");
            match decode_value::<SlimAction>(&path, item) {
                Ok(action) => actions.push(action),
                Err(err) => match &mut skipped {
                    Some(s) => s.count += 1,
                    None => {
                        skipped = Some(Skipped {
                            count: 1,
                            first: err.to_string(),
                        })
                    }
                },
            }
        }
        if actions.is_empty() {
            return Err(first);
        }
        let mut batch: Self = decode_value(root, serde_json::Value::Object(fields))?;
        batch.actions = actions;
        Ok((batch.normalized(), skipped))
    }

    /// Reconciles `count` with the real number of actions (the list wins, as in the reference
    /// client) and applies the [`ids`] rules to the batch's and its actions' ids.
    pub fn normalized(mut self) -> Self {
        self.count = self.actions.len() as u64;
        ids::normalize_in_place(&mut self.session_id);
        ids::normalize_in_place(&mut self.user_id);
        for action in &mut self.actions {
            ids::normalize_in_place(&mut action.session_id);
            ids::normalize_in_place(&mut action.user_id);
        }
        self
    }

    /// Whose actions these are: the batch's (user, session) pair.
    pub fn owner(&self) -> Owner {
        Owner::new(self.user_id.as_deref(), self.session_id.as_deref())
    }

    /// How many of the batch's two ids [`ids::normalize`] shortened (for the streamer's count).
    pub fn shortened_ids(&self) -> usize {
        [&self.session_id, &self.user_id]
            .into_iter()
            .filter(|id| id.as_deref().is_some_and(ids::is_shortened))
            .count()
    }

    /// Sets the batch's idempotency key and gives each action without a key of its own the key
    /// `<batch_id>:<position>`.
    pub fn assign_keys(&mut self, batch_id: String) {
        for (position, action) in self.actions.iter_mut().enumerate() {
            if action.event_key.is_none() {
                action.event_key = Some(format!("{batch_id}:{position}"));
            }
        }
        self.batch_id = Some(batch_id);
    }

    /// Splits the batch into batches of at most `max_actions` actions, in order. Each part keeps
    /// the batch's ids; a part after the first gets `<batch_id>/<part>` as its batch id. The
    /// actions keep their own keys, so assign them first.
    pub fn split(mut self, max_actions: usize) -> Vec<ActionsPayload> {
        let max_actions = max_actions.max(1);
        if self.actions.len() <= max_actions {
            return vec![self];
        }
        let actions = std::mem::take(&mut self.actions);
        let chunks = actions.len().div_ceil(max_actions);
        let mut parts = Vec::with_capacity(chunks);
        let mut rest = actions.into_iter();
        for part in 0..chunks {
            let mut batch = ActionsPayload {
                actions: rest.by_ref().take(max_actions).collect(),
                ..self.clone()
            };
            if part > 0 {
                batch.batch_id = self.batch_id.as_ref().map(|id| format!("{id}/{part}"));
            }
            parts.push(batch.normalized());
        }
        parts
    }

    /// A fingerprint of the batch's content (32 hex digits): the idempotency key of a batch that
    /// came without one (the connector's push mode), so the same body always gets the same keys.
    ///
    /// Two FNV-1a lanes over its JSON: not cryptographic (a collision would only give two actions
    /// one key), and a few lines instead of a hash crate in the `.wasm`.
    pub fn fingerprint(&self) -> String {
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let json = to_json(self).unwrap_or_default();
        // Both lanes in one pass: two independent multiply chains run side by side.
        let (a, b) = json.bytes().fold(
            (0xcbf2_9ce4_8422_2325_u64, 0x6c62_272e_07bb_0142_u64),
            |(a, b), byte| {
                let byte = u64::from(byte);
                (
                    (a ^ byte).wrapping_mul(PRIME),
                    (b ^ byte).wrapping_mul(PRIME),
                )
            },
        );
        format!("{a:016x}{b:016x}")
    }

    /// The session id, or `"unknown"` for display.
    pub fn session_label(&self) -> &str {
        self.session_id.as_deref().unwrap_or("unknown")
    }
}

/// The connector's own `summary` event.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryPayload {
    pub product_id: String,
    pub session_id: Option<String>,
    pub summary: String,
    /// How many actions the summary stands for.
    pub replaces: u64,
    pub forwarded_at: f64,
}

impl SummaryPayload {
    /// Applies the [`ids`] rules to the summary's session id.
    pub fn normalized(mut self) -> Self {
        ids::normalize_in_place(&mut self.session_id);
        self
    }
}

/// Actions left out of a batch because they could not be read (an action that is not an object,
/// a title that is an object, an index of `-1`, …); the batch keeps its other actions.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// How many actions were left out.
    pub count: u64,
    /// The first one's problem, naming the field (`body.actions[3].title: invalid type: …`).
    pub first: String,
}

/// Decodes a JSON tree (the slow path of a batch with unusable actions) with the same errors as
/// [`decode_json`] over its text.
fn decode_value<T: serde::de::DeserializeOwned>(
    root: &str,
    value: serde_json::Value,
) -> Result<T, InputError> {
    decode_json(root, &value.to_string())
}

/// What one SSE frame from the connector means.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A batch of actions, and those left out of it.
    Actions {
        batch: ActionsPayload,
        skipped: Option<Skipped>,
    },
    /// A connector-side summary.
    Summary(SummaryPayload),
    /// A keep-alive; nothing to do.
    Heartbeat,
    /// Valid JSON of a type this bridge does not handle (ignored, as the reference client does).
    Ignored { event_type: String },
}

/// Interprets one SSE frame given its event name and data.
///
/// Errors are for data that is not JSON, not an object, or whose payload has wrongly typed fields;
/// the caller logs, counts and skips them.
pub fn decode_frame(event_name: &str, data: &str) -> Result<Frame, InputError> {
    if event_name == "heartbeat" {
        return Ok(Frame::Heartbeat);
    }
    match event_type("data", data)?.as_deref() {
        Some("actions") => {
            let (batch, skipped) = ActionsPayload::decode("data", data)?;
            Ok(Frame::Actions { batch, skipped })
        }
        Some("summary") => Ok(Frame::Summary(
            decode_json::<SummaryPayload>("data", data)?.normalized(),
        )),
        other => Ok(Frame::Ignored {
            event_type: other.unwrap_or("").to_owned(),
        }),
    }
}

/// What the streamer posts to the webhook when a trigger fires (`type: "trigger"`).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriggerEvent {
    /// Stable per (session, kind, start of the evidence): the idempotency key.
    pub trigger_id: String,
    pub trigger: Option<SignalKind>,
    pub session_id: String,
    pub user_id: Option<String>,
    pub product_id: String,
    /// The Botpress conversation the connector linked to this session, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub conversation_id: Option<String>,
    pub signal: Option<Signal>,
    /// Suggested opening message for the agent.
    pub message: String,
    /// Quick replies to offer with it (at most 3).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub choices: Vec<String>,
    /// When it fired (ISO-8601).
    pub fired_at: String,
}

impl TriggerEvent {
    /// Applies the [`ids`] rules to the trigger's ids.
    pub fn normalized(mut self) -> Self {
        ids::normalize_str(&mut self.session_id);
        ids::normalize_in_place(&mut self.user_id);
        self
    }

    /// Whose trigger it is: the (user, session) pair it fired for.
    pub fn owner(&self) -> Owner {
        Owner::new(self.user_id.as_deref(), Some(&self.session_id))
    }
}

/// What a POSTed webhook body is; as JSON, `{ "kind": "actions", "batch": … }` and so on.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum WebhookBody {
    Actions {
        batch: ActionsPayload,
        /// Actions left out of the batch because they could not be read; absent when none.
        #[serde(skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "typescript", ts(optional))]
        skipped: Option<Skipped>,
    },
    Summary {
        summary: SummaryPayload,
    },
    /// A proactive trigger from the streamer.
    Trigger {
        trigger: TriggerEvent,
    },
    /// An event type this bridge does not handle.
    Ignored {
        #[serde(rename = "type")]
        event_type: String,
    },
}

impl WebhookBody {
    /// Replaces personal data in a batch or a summary by typed placeholders.
    pub fn redact(&mut self) {
        match self {
            WebhookBody::Actions { batch, skipped } => {
                batch.redact();
                // A reason quotes the value it could not read.
                if let Some(skipped) = skipped {
                    if let Cow::Owned(redacted) = redact(&skipped.first) {
                        skipped.first = redacted;
                    }
                }
            }
            WebhookBody::Summary { summary } => {
                if let Cow::Owned(redacted) = redact(&summary.summary) {
                    summary.summary = redacted;
                }
            }
            WebhookBody::Trigger { .. } | WebhookBody::Ignored { .. } => {}
        }
    }
}

/// Interprets a POSTed webhook body: the streamer's batch (no `type`, or `"actions"`) or trigger
/// (`"trigger"`), or a connector push-mode event (`"actions"` or `"summary"`). Other types are
/// `Ignored`.
pub fn decode_webhook_body(body: &str) -> Result<WebhookBody, InputError> {
    match event_type("body", body)?.as_deref() {
        None | Some("actions") => {
            let (batch, skipped) = ActionsPayload::decode("body", body)?;
            Ok(WebhookBody::Actions { batch, skipped })
        }
        Some("summary") => Ok(WebhookBody::Summary {
            summary: decode_json::<SummaryPayload>("body", body)?.normalized(),
        }),
        Some("trigger") => Ok(WebhookBody::Trigger {
            trigger: decode_json::<TriggerEvent>("body", body)?.normalized(),
        }),
        Some(other) => Ok(WebhookBody::Ignored {
            event_type: other.to_owned(),
        }),
    }
}

/// An event's `type` field: `None` when missing or `null`, an error naming `<root>.type` when it
/// is not a string. A first pass over the text that keeps nothing else, so the payload is then
/// decoded straight into its type.
fn event_type(root: &str, json: &str) -> Result<Option<String>, InputError> {
    /// Only the `type` field; the rest is skipped unread.
    #[derive(Deserialize)]
    struct Typed {
        #[serde(rename = "type", default)]
        kind: Option<serde_json::Value>,
    }
    match decode_json::<Typed>(root, json)?.kind {
        None => Ok(None),
        Some(serde_json::Value::String(kind)) => Ok(Some(kind)),
        Some(_) => Err(InputError::new(format!("{root}.type"), "expected a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_bodies_default_to_actions() {
        let WebhookBody::Actions { batch, .. } =
            decode_webhook_body(r#"{"session_id":"s","actions":[{}]}"#).unwrap()
        else {
            panic!("a streamer body is a batch")
        };
        assert_eq!(batch.count, 1);
        assert!(matches!(
            decode_webhook_body(r#"{"type":"summary","summary":"x"}"#).unwrap(),
            WebhookBody::Summary { .. }
        ));
        assert!(matches!(
            decode_webhook_body(r#"{"type":"trigger","session_id":"s","trigger":"dwell"}"#)
                .unwrap(),
            WebhookBody::Trigger { .. }
        ));
        assert!(matches!(
            decode_webhook_body(r#"{"type":"other"}"#).unwrap(),
            WebhookBody::Ignored { .. }
        ));
        let err = decode_webhook_body(r#"{"actions":[{"title":{}}]}"#).unwrap_err();
        assert!(
            err.to_string().starts_with("body.actions[0].title"),
            "{err}"
        );
        assert!(decode_webhook_body("[]").is_err());
    }

    #[test]
    fn values_the_connector_client_accepts_are_read() {
        let p = ActionsPayload::from_json(
            r#"{"count":"2","forwarded_at":"1.5","actions":[
                {"index":3.0,"title":5,"description":false,"timestamp_start":"10"},
                {"index":"4","title":1.5,"type":true}]}"#,
        )
        .unwrap();
        assert_eq!(p.actions.len(), 2);
        assert_eq!(p.forwarded_at, 1.5);
        let (a, b) = (&p.actions[0], &p.actions[1]);
        assert_eq!(
            (a.index, a.title.as_str(), a.description.as_str()),
            (3, "5", "false")
        );
        assert_eq!(a.timestamp_start, 10.0);
        assert_eq!(
            (b.index, b.title.as_str(), b.action_type.as_str()),
            (4, "1.5", "true")
        );
        assert!(ActionsPayload::from_json(r#"{"actions":{}}"#)
            .unwrap()
            .actions
            .is_empty());
    }

    #[test]
    fn values_without_one_meaning_are_still_refused() {
        for (body, path) in [
            (r#"{"actions":[{"index":3.5}]}"#, "body.actions[0].index"),
            (r#"{"actions":[{"index":-1}]}"#, "body.actions[0].index"),
            (
                r#"{"actions":[{"index":"three"}]}"#,
                "body.actions[0].index",
            ),
            (r#"{"actions":[{"title":{}}]}"#, "body.actions[0].title"),
            (
                r#"{"actions":[{"timestamp_start":"soon"}]}"#,
                "body.actions[0].timestamp_start",
            ),
            (r#"{"actions":{"a":1}}"#, "body.actions"),
            (r#"{"actions":"click"}"#, "body.actions"),
        ] {
            let err = ActionsPayload::from_json(body).unwrap_err();
            assert_eq!(err.path, path, "{body}: {err}");
        }
    }

    #[test]
    fn missing_and_null_fields_take_defaults() {
        let p = ActionsPayload::from_json(
            r#"{"product_id":null,"session_id":null,"actions":[{"title":null,"index":null}],"count":7}"#,
        )
        .unwrap();
        assert_eq!(p.product_id, "");
        assert_eq!(p.session_id, None);
        assert_eq!(p.actions.len(), 1);
        assert_eq!(p.actions[0], SlimAction::default());
        assert_eq!(p.count, 1, "count is reconciled to the real length");
        assert_eq!(
            ActionsPayload::from_json("{}").unwrap(),
            ActionsPayload::default()
        );
    }

    #[test]
    fn every_reference_field_is_read() {
        let p = ActionsPayload::from_json(
            r#"{"type":"actions","product_id":"p","session_id":"s","user_id":"u","email":"e@x",
                "conversation_id":"c","count":1,"forwarded_at":1.5,
                "actions":[{"title":"t","description":"d","canonical_url":"/a/:id","index":3,
                  "type":"click","timestamp_start":10.25,"timestamp_end":11.0,"raw_url":"/a/7",
                  "session_id":"s","user_id":"u","email":"e@x","conversation_id":"c"}]}"#,
        )
        .unwrap();
        let a = &p.actions[0];
        assert_eq!(
            (a.index, a.action_type.as_str(), a.raw_url.as_str()),
            (3, "click", "/a/7")
        );
        assert_eq!(a.timestamp_start, 10.25);
        assert_eq!(p.forwarded_at, 1.5);
        assert_eq!(p.email.as_deref(), Some("e@x"));
        assert_eq!(p.conversation_id.as_deref(), Some("c"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = ActionsPayload::from_json(r#"{"actions":"nope"}"#).unwrap_err();
        assert_eq!(err.path, "body.actions");
        let err = ActionsPayload::from_json(r#"{"actions":[{"title":[5]}]}"#).unwrap_err();
        assert_eq!(err.path, "body.actions[0].title");
        let err = ActionsPayload::from_json("[1]").unwrap_err();
        assert_eq!(err.path, "body");
    }

    #[test]
    fn unusable_actions_are_skipped_and_counted() {
        let body = r#"{"session_id":"s","actions":[{"index":0,"title":"a"},"click",
            {"index":2,"title":{"text":"x"}},{"index":-1},{"index":2.5},{"index":5,"title":"b"}],
            "user_id":"u"}"#;
        let (batch, skipped) = ActionsPayload::decode("data", body).unwrap();
        let titles: Vec<_> = batch.actions.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["a", "b"]);
        assert_eq!((batch.count, batch.user_id.as_deref()), (2, Some("u")));
        let skipped = skipped.unwrap();
        assert_eq!(skipped.count, 4);
        assert_eq!(
            skipped.first,
            "data.actions[1]: expected an object, got a string"
        );
        let (_, skipped) =
            ActionsPayload::decode("body", r#"{"actions":[{},{"title":{}}]}"#).unwrap();
        assert!(skipped
            .unwrap()
            .first
            .starts_with("body.actions[1].title: invalid type: map"),);
        assert_eq!(
            ActionsPayload::decode("body", r#"{"actions":[{}]}"#)
                .unwrap()
                .1,
            None
        );
    }

    #[test]
    fn a_batch_without_a_usable_action_or_with_bad_fields_is_refused() {
        for (body, path) in [
            (r#"{"actions":[{"title":{}},7]}"#, "body.actions[0].title"),
            (
                r#"{"actions":[{},{"title":{}}],"user_id":{}}"#,
                "body.user_id",
            ),
            (
                r#"{"user_id":{},"actions":[{},{"title":{}}]}"#,
                "body.user_id",
            ),
        ] {
            let err = ActionsPayload::decode("body", body).unwrap_err();
            assert_eq!(err.path, path, "{body}: {err}");
        }
        let err = decode_frame("", r#"{"type":"actions","actions":[{"index":-1}]}"#).unwrap_err();
        assert_eq!(err.path, "data.actions[0].index");
    }

    #[test]
    fn keys_survive_splitting() {
        let mut batch =
            ActionsPayload::from_json(r#"{"session_id":"s","actions":[{},{},{},{},{}]}"#).unwrap();
        batch.assign_keys("b1".into());
        let parts = batch.split(2);
        let keys: Vec<_> = parts
            .iter()
            .flat_map(|p| p.actions.iter().map(|a| a.event_key.clone().unwrap()))
            .collect();
        assert_eq!(keys, ["b1:0", "b1:1", "b1:2", "b1:3", "b1:4"]);
        let ids: Vec<_> = parts.iter().map(|p| p.batch_id.clone().unwrap()).collect();
        assert_eq!(ids, ["b1", "b1/1", "b1/2"]);
        assert_eq!(parts[2].count, 1);
    }

    #[test]
    fn fingerprints_are_stable_and_tell_batches_apart() {
        let a = ActionsPayload::from_json(r#"{"session_id":"s","actions":[{"index":1}]}"#).unwrap();
        let b = ActionsPayload::from_json(r#"{"session_id":"s","actions":[{"index":2}]}"#).unwrap();
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 32);
    }

    #[test]
    fn frames_are_classified() {
        assert_eq!(decode_frame("heartbeat", "").unwrap(), Frame::Heartbeat);
        assert!(matches!(
            decode_frame("message", r#"{"type":"actions","actions":[{}]}"#).unwrap(),
            Frame::Actions { batch, skipped: None } if batch.count == 1
        ));
        assert!(matches!(
            decode_frame("", r#"{"type":"summary","summary":"hi","replaces":10}"#).unwrap(),
            Frame::Summary(s) if s.summary == "hi" && s.replaces == 10
        ));
        assert_eq!(
            decode_frame("", r#"{"type":"other"}"#).unwrap(),
            Frame::Ignored {
                event_type: "other".into()
            }
        );
        assert!(decode_frame("", "not json").is_err());
        assert!(decode_frame("", r#"{"type":"actions","actions":[7]}"#).is_err());
    }

    #[test]
    fn payloads_drop_emails_and_redact_every_text_field() {
        let mut batch = ActionsPayload::from_json(
            r#"{"email":"a@b.co","actions":[{"title":"Hi a@b.co","description":"card 4242 4242 4242 4242",
               "canonical_url":"/a?x=1","raw_url":"https://a.com/u/a@b.co?t=2","email":"a@b.co"}]}"#,
        )
        .unwrap();
        batch.redact();
        let a = &batch.actions[0];
        assert_eq!(batch.email, None);
        assert_eq!(a.email, None);
        assert_eq!(a.title, "Hi [email]");
        assert_eq!(a.description, "card [card]");
        assert_eq!(a.canonical_url, "/a?[query]");
        assert_eq!(a.raw_url, "https://a.com/u/[email]?[query]");
    }
}
