//! `decode::from_node`, the one decoding path of the streamer and the package (it names the field
//! at fault; `#[derive(Decode)]` reads the types' serde attributes), reads documents exactly as
//! serde's own derive reads them through `serde_json` — the reference — on real shapes with fields
//! removed, nulled or of the wrong type: the same values, and the same words when it refuses.
//! The deliberate differences: a `null` field reads as a missing one (the connector's "missing or
//! null falls back to a default"), so the reference is given the document without its null
//! fields; a JSON array where an object is expected is refused, where serde_json would fill the
//! struct's fields from it in order; and an enum given a non-string says which enum it expected,
//! where serde_json says "expected value". (Native only: proptest.)
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Debug;

use autoplay_botpress::context::ContextInput;
use autoplay_botpress::decode::{from_node, parse_object, Decode};
use autoplay_botpress::redact::RedactOptions;
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::rows::{RowOptions, RowsInput};
use autoplay_botpress::{build_agent_context, ActionsPayload, AgentContext};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

const NOW: i64 = 1_795_521_900_000;

fn actions_payload() -> Value {
    json!({
        "type": "actions", "product_id": "p", "session_id": "s1", "user_id": "u1",
        "email": "a@b.co", "count": 2, "forwarded_at": 1_795_521_700.5,
        "actions": [
            { "type": "click", "title": "Export", "description": "Clicked Export",
              "canonical_url": "https://app.example/reports", "timestamp_start": 1_795_521_600.25,
              "timestamp_end": 1_795_521_601, "index": 0 },
            { "type": "pageview", "title": "Billing", "canonical_url": "/billing", "index": 1 }
        ]
    })
}

fn rows() -> Value {
    json!([
        { "id": 1, "session_id": "s1", "user_id": "u1", "product_id": "p", "event_key": "b:0",
          "action_index": 0, "title": "Export", "description": "Clicked Export",
          "canonical_url": "/reports", "action_type": "click",
          "occurred_at": "2026-11-24T12:00:00.000Z", "createdAt": "2026-11-24T12:00:01.000Z" },
        { "id": 2, "session_id": "s1", "user_id": "u1", "event_key": "b:1", "action_index": 1,
          "title": "Billing", "canonical_url": "/billing", "createdAt": "2026-11-24T12:03:20.000Z" }
    ])
}

fn context_input() -> Value {
    json!({
        "userId": "u1", "sessionId": "s1", "now": "2026-11-24T12:05:00.000Z",
        "windowMs": 600_000, "maxEvents": 20, "maxBytes": 20_000, "layout": "events",
        "recentEvents": rows(),
        "summaryRecords": [ { "session_id": "s1", "user_id": "u1", "summary": "Exporting a report",
                              "updatedAt": "2026-11-24T12:04:00.000Z" } ],
        "signals": { "dwellMinMs": 60_000 }
    })
}

fn agent_context() -> Value {
    let input: ContextInput = serde_json::from_value(context_input()).expect("valid input");
    serde_json::to_value(build_agent_context(input, NOW).expect("context")).expect("json")
}

fn rows_input() -> Value {
    json!({ "events": rows(), "now": NOW, "config": { "hesitationMinPages": 2 } })
}

/// Every JSON pointer in `value`, the root excluded.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let path = format!("{at}/{key}");
        out.push(path.clone());
        pointers(child, path, out);
    }
}

/// Applies mutation `kind` at the `pick`-th pointer of `doc`.
fn mutate(doc: &mut Value, pick: usize, kind: u8) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let Some(path) = all.get(pick % all.len().max(1)).cloned() else {
        return;
    };
    let replacement = match kind % 8 {
        0 => {
            let (parent, key) = path.rsplit_once('/').expect("pointer has a slash");
            match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => drop(map.remove(key)),
                Some(Value::Array(items)) => {
                    let i: usize = key.parse().expect("array index");
                    items.remove(i);
                }
                _ => {}
            }
            return;
        }
        1 => Value::Null,
        2 => json!("x"),
        3 => json!(7),
        4 => json!(-2.5),
        5 => json!(true),
        6 => json!([]),
        _ => json!({}),
    };
    if let Some(slot) = doc.pointer_mut(&path) {
        *slot = replacement;
    }
}

/// Both accept `doc` or both refuse it in the same words; when they accept, they build the same
/// value.
fn same_either_way<T: Decode + DeserializeOwned + PartialEq + Debug>(
    doc: &Value,
) -> Result<(), String> {
    let text = doc.to_string();
    // The same text without its null fields, in the same order (a `Value` prints sorted keys).
    let reference = serde_json::from_str::<T>(&without_null_fields(doc.clone()).to_string())
        .map_err(|e| without_position(&e.to_string()));
    let located = parse_object("input", &text).and_then(|v| from_node::<T>("input", v));
    match (&reference, &located) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(a), Err(b)) if *a == b.message => Ok(()),
        // The deliberate difference: an array is not an object.
        (_, Err(e))
            if e.message
                .starts_with("invalid type: sequence, expected struct") =>
        {
            Ok(())
        }
        // serde_json's own reading of an enum from a non-string says only "expected value".
        (Err(_), Err(e)) if e.message.contains(", expected enum ") => Ok(()),
        (a, b) => Err(format!("{text}\n  serde_json: {a:?}\n  from_node: {b:?}")),
    }
}

/// serde_json's message without " at line 1 column 873".
fn without_position(message: &str) -> String {
    let end = message.rfind(" at line ").unwrap_or(message.len());
    message[..end].to_owned()
}

/// `value` with every object field whose value is `null` left out, at any depth.
fn without_null_fields(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_null_fields(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_null_fields).collect()),
        other => other,
    }
}

fn check(base: Value, mutations: &[(usize, u8)], decode: fn(&Value) -> Result<(), String>) {
    let mut doc = base;
    for &(pick, kind) in mutations {
        mutate(&mut doc, pick, kind);
    }
    if let Err(problem) = decode(&doc) {
        panic!("decoding paths disagree on {problem}");
    }
}

fn mutations() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn actions_payloads_decode_alike(m in mutations()) {
        check(actions_payload(), &m, same_either_way::<ActionsPayload>);
    }

    #[test]
    fn context_inputs_decode_alike(m in mutations()) {
        check(context_input(), &m, same_either_way::<ContextInput>);
    }

    #[test]
    fn agent_contexts_decode_alike(m in mutations()) {
        check(agent_context(), &m, same_either_way::<AgentContext>);
    }

    #[test]
    fn rows_inputs_decode_alike(m in mutations()) {
        check(rows_input(), &m, same_either_way::<RowsInput>);
    }

    #[test]
    fn options_decode_alike(m in mutations(), which in 0..3_u8) {
        let base = json!({ "redact": false, "maxChars": 900, "maxRowBytes": 3_000 });
        let decode = match which {
            0 => same_either_way::<RowOptions>,
            1 => same_either_way::<RenderOptions>,
            _ => same_either_way::<RedactOptions>,
        };
        check(base, &m, decode);
    }
}
