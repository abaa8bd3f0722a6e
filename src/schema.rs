//! Column schemas of the two Botpress tables, in the JSON Schema form the Tables API's
//! get-or-create call takes. Kept next to the row types so a column cannot be added to one and
//! forgotten in the other (a test checks they agree).

use serde_json::{json, Map, Value};

/// Default name of the table holding one row per action.
pub const EVENTS_TABLE: &str = "AutoPlayEventsTable";
/// Default name of the table holding one summary row per session.
pub const SUMMARY_TABLE: &str = "AutoPlayEventsSummaryTable";
/// Key column of the summary table: upserts replace the session's row.
pub const SUMMARY_KEY_COLUMN: &str = "session_id";

/// Column types Botpress tables store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Number,
}

impl ColumnType {
    /// The JSON Schema type name Botpress stores.
    pub fn json_type(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Number => "number",
        }
    }
}

/// Columns of [`EVENTS_TABLE`] with their types and a one-line description for Studio.
pub const EVENT_COLUMNS: &[(&str, ColumnType, &str)] = &[
    (
        "title",
        ColumnType::String,
        "Action title, e.g. \"Click element\"",
    ),
    ("description", ColumnType::String, "What the user did"),
    (
        "canonical_url",
        ColumnType::String,
        "Page URL with ids collapsed to :id",
    ),
    ("user_id", ColumnType::String, "Autoplay user id"),
    ("product_id", ColumnType::String, "Autoplay product id"),
    ("session_id", ColumnType::String, "Autoplay session id"),
    (
        "action_type",
        ColumnType::String,
        "pageview, click, submit, …",
    ),
    (
        "action_index",
        ColumnType::Number,
        "Position of the action in its session",
    ),
    (
        "occurred_at",
        ColumnType::String,
        "When the user acted (ISO-8601)",
    ),
    (
        "batch_id",
        ColumnType::String,
        "Idempotency key of the batch it came in",
    ),
];

/// Columns of [`SUMMARY_TABLE`].
pub const SUMMARY_COLUMNS: &[(&str, ColumnType, &str)] = &[
    (
        "session_id",
        ColumnType::String,
        "Autoplay session id (key column)",
    ),
    ("user_id", ColumnType::String, "Autoplay user id"),
    ("product_id", ColumnType::String, "Autoplay product id"),
    (
        "summary",
        ColumnType::String,
        "Rolling summary of the session",
    ),
    (
        "action_count",
        ColumnType::Number,
        "Actions the summary covers",
    ),
];

/// The JSON Schema of a table with `columns`.
pub fn table_schema(columns: &[(&str, ColumnType, &str)]) -> Value {
    let properties: Map<String, Value> = columns
        .iter()
        .map(|(name, kind, description)| {
            let column =
                json!({ "type": kind.json_type(), "description": description, "nullable": true });
            ((*name).to_owned(), column)
        })
        .collect();
    json!({ "type": "object", "properties": properties })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{EventRow, SummaryRow};

    fn serialized_columns(row: impl serde::Serialize) -> Vec<String> {
        let value = serde_json::to_value(row).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn schema_columns(columns: &[(&str, ColumnType, &str)]) -> Vec<String> {
        let mut names: Vec<String> = columns.iter().map(|c| c.0.to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn schemas_match_the_rows_written() {
        let event = EventRow {
            user_id: Some("u".into()),
            session_id: Some("s".into()),
            occurred_at: Some("t".into()),
            batch_id: Some("b".into()),
            ..EventRow::default()
        };
        assert_eq!(serialized_columns(event), schema_columns(EVENT_COLUMNS));
        let summary = SummaryRow {
            user_id: Some("u".into()),
            ..SummaryRow::default()
        };
        assert_eq!(serialized_columns(summary), schema_columns(SUMMARY_COLUMNS));
    }

    #[test]
    fn schema_lists_types() {
        let schema = table_schema(SUMMARY_COLUMNS);
        assert_eq!(schema["properties"]["action_count"]["type"], "number");
        assert_eq!(schema["properties"]["summary"]["type"], "string");
        assert!(SUMMARY_COLUMNS.iter().any(|c| c.0 == SUMMARY_KEY_COLUMN));
        assert!(
            EVENT_COLUMNS.len() <= 20 && SUMMARY_COLUMNS.len() <= 20,
            "Botpress allows 20 columns"
        );
    }
}
