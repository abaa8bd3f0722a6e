//! Rows of the two Botpress tables, and the mapping from a webhook body to event rows
//! (the guide's StoreEventsData code node).

use serde::{Deserialize, Serialize};

use crate::action::{action_shape, ActionFields};
use crate::decode::InputError;
use crate::ids::Owner;
use crate::signals::{detect, Signal, SignalConfig, Step};
use crate::text::{json_len, truncate_in_place, MARKER};
use crate::time::{iso_from_ms, ms_from_iso, ms_from_unix_seconds, TimeInput};
use crate::wire::ActionsPayload;

/// Botpress stores at most 4 KB per row (at the default row factor). The default budget leaves
/// room for the system columns Botpress adds.
pub const DEFAULT_MAX_ROW_BYTES: usize = 3_900;
/// Smaller budgets could not hold even the identifiers; rejected as a configuration error.
pub const MIN_MAX_ROW_BYTES: usize = 512;

action_shape! {
    /// One action as stored in `AutoPlayEventsTable`: the guide's six columns plus the action's
    /// kind, position, time and the batch it came in (for de-duplication).
    ///
    /// `id` and `createdAt` are Botpress's system columns: unset on rows this crate creates, set
    /// on rows read back with `findRecords`.
    #[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
    #[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
    #[serde_with::serde_as]
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    pub struct EventRow (index = "action_index", kind = "action_type") {
        /// Botpress's row id, on rows read back from the table.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(type = "number | string", optional))]
        pub id: Option<RowId>,
        /// When Botpress stored the row (ISO-8601), on rows read back from the table.
        #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none", default)]
        #[cfg_attr(feature = "typescript", ts(optional))]
        pub created_at: Option<String>,
        /// Autoplay's user id.
        pub user_id: Option<String>,
        /// Autoplay's product id.
        pub product_id: String,
        /// Autoplay's session id.
        pub session_id: Option<String>,
        /// When the user performed the action (ISO-8601), if the connector said.
        pub occurred_at: Option<String>,
        /// The delivery it came in.
        pub batch_id: Option<String>,
        /// The key rows are upserted on: `<batch_id>:<position>` (`<session_id>:<index>` for the
        /// sessions layout), so a re-delivered action updates its row instead of adding one.
        ///
        /// The batch is keyed by its content when it came without an id. Empty on a stored row
        /// that has none (a table made before the column existed).
        pub event_key: String,
    }
}

/// A row's `id` as a table gives it back: Botpress's row ids are numbers; a string is kept too.
#[cfg_attr(feature = "typescript", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "expected a number or a string")]
pub enum RowId {
    Number(serde_json::Number),
    Text(String),
}

impl EventRow {
    /// When the action happened: when the user acted (`occurred_at`), else when Botpress stored
    /// it (`createdAt`). The one rule for an action's time: windows, order, display, signals.
    pub fn time_ms(&self) -> Option<i64> {
        self.occurred_at
            .as_deref()
            .and_then(ms_from_iso)
            .or_else(|| self.created_at.as_deref().and_then(ms_from_iso))
    }

    /// The action as the friction detectors see it; `None` without a time.
    pub fn step(&self) -> Option<Step> {
        Some(self.step_at(self.time_ms()?))
    }
}

/// Input of [`detect_in_rows`]: one session's stored rows, "now", and the thresholds.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RowsInput {
    pub events: Vec<EventRow>,
    pub now: Option<TimeInput>,
    pub config: SignalConfig,
}

/// Detects signals in stored event rows (rows without a time are skipped); `clock_ms` stands in
/// for a missing `now`.
pub fn detect_in_rows(input: &RowsInput, clock_ms: i64) -> Result<Vec<Signal>, InputError> {
    let now = match &input.now {
        Some(t) => t.to_ms("input.now")?,
        None => clock_ms,
    };
    let steps: Vec<Step> = input.events.iter().filter_map(EventRow::step).collect();
    Ok(detect(steps, now, &input.config))
}

/// One row per session in `AutoPlayEventsSummaryTable` (key column `session_id`), replacing the
/// guide's single shared `id = 1` row that leaked summaries between users.
///
/// The timestamps are Botpress's system columns, set on rows read back with `findRecords`.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SummaryRow {
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub created_at: Option<String>,
    #[serde(rename = "updatedAt", skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub updated_at: Option<String>,
    /// Whose row it is ([`Owner::row_key`]); empty in rows written before rows were per pair.
    pub row_key: String,
    pub session_id: String,
    /// Left out when unknown, so an upsert keeps the user id a previous row had.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "typescript", ts(optional))]
    pub user_id: Option<String>,
    pub product_id: String,
    pub summary: String,
    /// How many actions the session had when this summary was written.
    pub action_count: u64,
}

/// Options of [`map_actions_to_rows`].
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RowOptions {
    /// Upper bound on one row's JSON size in bytes.
    pub max_row_bytes: usize,
    /// Replace personal data in the text fields by typed placeholders (see [`crate::redact`]).
    pub redact: bool,
}

impl Default for RowOptions {
    fn default() -> Self {
        Self {
            max_row_bytes: DEFAULT_MAX_ROW_BYTES,
            redact: true,
        }
    }
}

impl RowOptions {
    fn validate(&self) -> Result<(), InputError> {
        if self.max_row_bytes < MIN_MAX_ROW_BYTES {
            return Err(InputError::new(
                "options.maxRowBytes",
                format!("must be at least {MIN_MAX_ROW_BYTES}"),
            ));
        }
        Ok(())
    }
}

/// Maps every action of a webhook body to an event row, each row fitted to the byte budget.
pub fn map_actions_to_rows(
    body: &ActionsPayload,
    options: &RowOptions,
) -> Result<Vec<EventRow>, InputError> {
    options.validate()?;
    // A body without a batch id (push mode) is keyed by its content, so a re-delivered body's
    // rows get the same keys and update instead of adding rows.
    let batch_key = match &body.batch_id {
        Some(id) => id.clone(),
        None if body.actions.iter().any(|a| a.event_key.is_none()) => body.fingerprint(),
        None => String::new(),
    };
    Ok(body
        .actions
        .iter()
        .enumerate()
        .map(|(position, action)| {
            let mut row = EventRow {
                user_id: body.user_id.clone().or_else(|| action.user_id.clone()),
                product_id: body.product_id.clone(),
                session_id: body
                    .session_id
                    .clone()
                    .or_else(|| action.session_id.clone()),
                occurred_at: ms_from_unix_seconds(action.timestamp_start).map(iso_from_ms),
                batch_id: body.batch_id.clone(),
                event_key: action
                    .event_key
                    .clone()
                    .unwrap_or_else(|| format!("{batch_key}:{position}")),
                ..EventRow::default()
            };
            row.copy_fields_of(action);
            if options.redact {
                row.redact_text();
            }
            fit_row(&mut row, options.max_row_bytes);
            row
        })
        .collect())
}

/// Builds the summary row of one (user, session) pair.
pub fn summary_row(
    owner: &Owner,
    product_id: &str,
    summary: &str,
    action_count: u64,
) -> SummaryRow {
    let mut row = SummaryRow {
        created_at: None,
        updated_at: None,
        row_key: owner.row_key(),
        session_id: owner.session_id.clone().unwrap_or_default(),
        user_id: owner.user_id.clone(),
        product_id: product_id.to_owned(),
        summary: summary.to_owned(),
        action_count,
    };
    fit_fields(
        &mut row,
        DEFAULT_MAX_ROW_BYTES,
        |r| vec![&mut r.summary, &mut r.session_id, &mut r.product_id],
        json_len,
    );
    row
}

fn fit_row(row: &mut EventRow, max_bytes: usize) {
    let strings = [
        row.title.as_str(),
        &row.description,
        &row.canonical_url,
        &row.product_id,
        &row.action_type,
        row.user_id.as_deref().unwrap_or(""),
        row.session_id.as_deref().unwrap_or(""),
        row.batch_id.as_deref().unwrap_or(""),
        &row.event_key,
        row.occurred_at.as_deref().unwrap_or(""),
    ];
    if surely_fits(&strings, max_bytes) {
        return;
    }
    fit_fields(
        row,
        max_bytes,
        |r| {
            let mut fields = vec![
                &mut r.description,
                &mut r.title,
                &mut r.canonical_url,
                &mut r.product_id,
                &mut r.action_type,
            ];
            fields.extend(
                [&mut r.user_id, &mut r.session_id, &mut r.batch_id]
                    .into_iter()
                    .flatten(),
            );
            fields
        },
        json_len,
    );
}

/// Repeatedly shortens the longest string field until the serialized row fits.
///
/// Measuring the JSON (not the raw strings) accounts for escaping: a description full of quotes
/// or control characters grows when serialized. Each pass at least halves the excess of the
/// longest field or shortens it by half, so 64 passes cover any input; fields already no longer
/// than the marker are left alone.
fn fit_fields<R>(
    row: &mut R,
    max_bytes: usize,
    fields: impl Fn(&mut R) -> Vec<&mut String>,
    size: impl Fn(&R) -> usize,
) {
    for _ in 0..64 {
        let excess = size(row).saturating_sub(max_bytes);
        if excess == 0 {
            return;
        }
        let mut candidates = fields(row);
        let Some(longest) = candidates
            .iter_mut()
            .filter(|f| f.len() > MARKER.len())
            .max_by_key(|f| f.len())
        else {
            return;
        };
        // Cut by the excess, but at most half per pass: escaping can make the JSON excess larger
        // than the raw field, and one field should not be emptied when others can share the cut.
        let len = longest.len();
        let target = len.saturating_sub(excess).max(len / 2).max(MARKER.len());
        truncate_in_place(longest, target);
    }
}

/// A row whose strings, even if every byte needed a six-byte `\u00XX` escape, would fit the budget
/// with room for the keys and numbers needs no measuring (the common case: short UI strings).
fn surely_fits(strings: &[&str], max_bytes: usize) -> bool {
    const KEYS_AND_NUMBERS: usize = 400;
    let raw: usize = strings.iter().map(|s| s.len()).sum();
    raw.saturating_mul(6) + KEYS_AND_NUMBERS <= max_bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SlimAction;

    fn guide_body() -> ActionsPayload {
        ActionsPayload::from_json(
            r#"{"session_id":"019dd958-7eea-75a2","user_id":"019dd835-3f68-7e78","product_id":"prod",
                "actions":[{"title":"Click element","description":"User clicked element on the pricing page",
                "canonical_url":"https://yourapp.com/pricing","type":"click","index":4,"timestamp_start":1764000000.5}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn maps_the_guide_sample() {
        let rows = map_actions_to_rows(&guide_body(), &RowOptions::default()).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.title, "Click element");
        assert_eq!(r.description, "User clicked element on the pricing page");
        assert_eq!(r.canonical_url, "https://yourapp.com/pricing");
        assert_eq!(r.user_id.as_deref(), Some("019dd835-3f68-7e78"));
        assert_eq!(r.session_id.as_deref(), Some("019dd958-7eea-75a2"));
        assert_eq!(r.product_id, "prod");
        assert_eq!((r.action_type.as_str(), r.index), ("click", 4));
        assert_eq!(r.occurred_at.as_deref(), Some("2025-11-24T16:00:00.500Z"));
    }

    #[test]
    fn action_level_ids_fill_in_for_missing_batch_ids() {
        let mut body = guide_body();
        body.user_id = None;
        body.actions[0].user_id = Some("from-action".into());
        let rows = map_actions_to_rows(&body, &RowOptions::default()).unwrap();
        assert_eq!(rows[0].user_id.as_deref(), Some("from-action"));
    }

    #[test]
    fn huge_strings_fit_the_row_budget() {
        let mut body = guide_body();
        body.actions[0].description = "😀\"\n".repeat(5_000);
        body.actions[0].title = "t".repeat(3_000);
        body.actions.push(SlimAction {
            canonical_url: "u".repeat(100_000),
            ..SlimAction::default()
        });
        for max in [MIN_MAX_ROW_BYTES, 1_000, DEFAULT_MAX_ROW_BYTES] {
            let options = RowOptions {
                max_row_bytes: max,
                ..RowOptions::default()
            };
            let rows = map_actions_to_rows(&body, &options).unwrap();
            for row in &rows {
                assert!(json_len(row) <= max, "{} > {max}", json_len(row));
            }
            assert!(rows[0].description.ends_with(MARKER));
            assert!(rows[1].canonical_url.ends_with(MARKER));
            assert_eq!(
                rows[0].session_id.as_deref(),
                Some("019dd958-7eea-75a2"),
                "short ids are left whole"
            );
        }
    }

    #[test]
    fn personal_data_is_redacted_unless_turned_off() {
        let mut body = guide_body();
        body.actions[0].description = "Entered jane@example.com".into();
        body.actions[0].canonical_url = "https://yourapp.com/invite?token=abc".into();
        let row = &map_actions_to_rows(&body, &RowOptions::default()).unwrap()[0];
        assert_eq!(row.description, "Entered [email]");
        assert_eq!(row.canonical_url, "https://yourapp.com/invite?[query]");
        let raw = RowOptions {
            redact: false,
            ..RowOptions::default()
        };
        let row = &map_actions_to_rows(&body, &raw).unwrap()[0];
        assert_eq!(row.description, "Entered jane@example.com");
    }

    #[test]
    fn tiny_budgets_are_rejected() {
        let options = RowOptions {
            max_row_bytes: 10,
            ..RowOptions::default()
        };
        let err = map_actions_to_rows(&guide_body(), &options).unwrap_err();
        assert_eq!(err.path, "options.maxRowBytes");
    }

    #[test]
    fn summary_rows_are_per_session_and_fit() {
        let row = summary_row(
            &Owner::new(Some("u1"), Some("s1")),
            "p",
            &"x".repeat(10_000),
            20,
        );
        assert_eq!(row.session_id, "s1");
        assert!(json_len(&row) <= DEFAULT_MAX_ROW_BYTES);
        assert!(row.summary.ends_with(MARKER));
    }
}
