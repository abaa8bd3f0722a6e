//! Random JSON shaped like the project's inputs (mostly the field names the decoders look for),
//! shared by the core's and the streamer's never-panics tests.

use proptest::prelude::*;
use serde_json::Value;

/// Any JSON value, nested up to 4 deep.
pub fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::from("2026-11-24T12:00:00.000Z")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly the names the decoders look for, so the random values reach the typed fields.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "actions",
            "title",
            "description",
            "canonical_url",
            "index",
            "type",
            "session_id",
            "user_id",
            "product_id",
            "count",
            "forwarded_at",
            "timestamp_start",
            "createdAt",
            "updatedAt",
            "summary",
            "recentEvents",
            "summaryRecords",
            "userId",
            "sessionId",
            "now",
            "windowMs",
            "maxEvents",
            "action_index",
            "occurred_at",
            "omittedEvents",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,6}",
    ]
}
