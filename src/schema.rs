//! Column schemas of the two Botpress tables, in the JSON Schema form the Tables API's
//! get-or-create call takes. Kept next to the row types so a column cannot be added to one and
//! forgotten in the other (a test checks they agree).

use serde_json::{json, Map, Value};

/// Default name of the table holding one row per action.
pub const EVENTS_TABLE: &str = "AutoPlayEventsTable";
/// Default name of the table holding one summary row per session.
pub const SUMMARY_TABLE: &str = "AutoPlayEventsSummaryTable";
/// Default name of the table holding one row per session (the default "sessions" layout).
pub const SESSIONS_TABLE: &str = "AutoPlaySessionsTable";
/// Key column of the summary and sessions tables: upserts replace one (user, session) pair's
/// row ([`crate::ids::Owner::row_key`]), so two users of one session id never share a row.
pub const SUMMARY_KEY_COLUMN: &str = "row_key";
/// Key column of the events table: a re-delivered action updates its row.
pub const EVENT_KEY_COLUMN: &str = "event_key";

/// Column types Botpress tables store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Number,
    /// A list of objects (a session's actions and signals).
    Array,
}

impl ColumnType {
    /// The JSON Schema type name Botpress stores.
    pub fn json_type(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Number => "number",
            ColumnType::Array => "array",
        }
    }
}

/// One column of a table: its name, type and a one-line description for Studio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
    pub description: &'static str,
}

const fn column(name: &'static str, kind: ColumnType, description: &'static str) -> Column {
    Column {
        name,
        kind,
        description,
    }
}

// The columns more than one table has, declared once.
const ROW_KEY: Column = column(
    SUMMARY_KEY_COLUMN,
    ColumnType::String,
    "Whose row: [user_id, session_id] as JSON (key column)",
);
const SESSION_ID: Column = column("session_id", ColumnType::String, "Autoplay session id");
const USER_ID: Column = column("user_id", ColumnType::String, "Autoplay user id");
const PRODUCT_ID: Column = column("product_id", ColumnType::String, "Autoplay product id");

/// Columns of [`EVENTS_TABLE`].
pub const EVENT_COLUMNS: &[Column] = &[
    column(
        "title",
        ColumnType::String,
        "Action title, e.g. \"Click element\"",
    ),
    column("description", ColumnType::String, "What the user did"),
    column(
        "canonical_url",
        ColumnType::String,
        "Page URL with ids collapsed to :id",
    ),
    USER_ID,
    PRODUCT_ID,
    SESSION_ID,
    column(
        "action_type",
        ColumnType::String,
        "pageview, click, submit, …",
    ),
    column(
        "action_index",
        ColumnType::Number,
        "Position of the action in its session",
    ),
    column(
        "occurred_at",
        ColumnType::String,
        "When the user acted (ISO-8601)",
    ),
    column(
        "batch_id",
        ColumnType::String,
        "Idempotency key of the batch it came in",
    ),
    column(
        EVENT_KEY_COLUMN,
        ColumnType::String,
        "Idempotency key of the action (key column)",
    ),
];

/// Columns of [`SUMMARY_TABLE`].
pub const SUMMARY_COLUMNS: &[Column] = &[
    ROW_KEY,
    SESSION_ID,
    USER_ID,
    PRODUCT_ID,
    column(
        "summary",
        ColumnType::String,
        "Rolling summary of the session",
    ),
    column(
        "action_count",
        ColumnType::Number,
        "Actions the summary covers",
    ),
];

/// Columns of [`SESSIONS_TABLE`].
pub const SESSION_COLUMNS: &[Column] = &[
    ROW_KEY,
    SESSION_ID,
    USER_ID,
    PRODUCT_ID,
    column(
        "summary",
        ColumnType::String,
        "Rolling summary of the session (null until the first)",
    ),
    column(
        "action_count",
        ColumnType::Number,
        "Actions the session has had in all",
    ),
    column(
        "actions",
        ColumnType::Array,
        "The newest actions that fit the row, oldest first",
    ),
    column(
        "signals",
        ColumnType::Array,
        "Friction signals seen in the session's recent actions",
    ),
    column(
        "nudges",
        ColumnType::Array,
        "Nudges sent in the session (newest last) and what came of them",
    ),
    column(
        "first_action_at",
        ColumnType::String,
        "When the session's first action happened (ISO-8601)",
    ),
    column(
        "last_action_at",
        ColumnType::String,
        "When its latest action happened (ISO-8601)",
    ),
];

/// The JSON Schema of a table with `columns`.
pub fn table_schema(columns: &[Column]) -> Value {
    let properties: Map<String, Value> = columns
        .iter()
        .map(|c| {
            let mut schema =
                json!({ "type": c.kind.json_type(), "description": c.description, "nullable": true });
            if c.kind == ColumnType::Array {
                schema["items"] = json!({ "type": "object" });
            }
            (c.name.to_owned(), schema)
        })
        .collect();
    json!({ "type": "object", "properties": properties })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::{EventRow, SummaryRow};
    use crate::session_row::SessionRow;

    fn serialized_columns(row: impl serde::Serialize) -> Vec<String> {
        let value = serde_json::to_value(row).unwrap();
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    }

    fn schema_columns(columns: &[Column]) -> Vec<String> {
        let mut names: Vec<String> = columns.iter().map(|c| c.name.to_owned()).collect();
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
            event_key: "b:0".into(),
            ..EventRow::default()
        };
        assert_eq!(serialized_columns(event), schema_columns(EVENT_COLUMNS));
        let summary = SummaryRow {
            user_id: Some("u".into()),
            ..SummaryRow::default()
        };
        assert_eq!(serialized_columns(summary), schema_columns(SUMMARY_COLUMNS));
        assert_eq!(
            serialized_columns(SessionRow::new(&crate::ids::Owner::default())),
            schema_columns(SESSION_COLUMNS)
        );
    }

    #[test]
    fn schema_lists_types() {
        let schema = table_schema(SUMMARY_COLUMNS);
        assert_eq!(schema["properties"]["action_count"]["type"], "number");
        assert_eq!(schema["properties"]["summary"]["type"], "string");
        assert!(SUMMARY_COLUMNS.iter().any(|c| c.name == SUMMARY_KEY_COLUMN));
        assert!(EVENT_COLUMNS.iter().any(|c| c.name == EVENT_KEY_COLUMN));
        let sessions = table_schema(SESSION_COLUMNS);
        assert_eq!(sessions["properties"]["actions"]["type"], "array");
        assert_eq!(sessions["properties"]["actions"]["items"]["type"], "object");
        assert!(
            [EVENT_COLUMNS, SUMMARY_COLUMNS, SESSION_COLUMNS]
                .iter()
                .all(|c| c.len() <= 20),
            "Botpress allows 20 columns"
        );
    }
}
