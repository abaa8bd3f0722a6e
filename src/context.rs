//! The agent's view of one chatting user: their recent events and their latest summary
//! (the guide's FetchEventsData code node, without its cross-user leak).

use serde::{Deserialize, Serialize};

use crate::decode::InputError;
use crate::ids;
use crate::order::sort_by_key;
use crate::rows::{EventRow, SummaryRow};
use crate::schema::{EVENTS_TABLE, SESSIONS_TABLE, SUMMARY_TABLE};
use crate::session_row::{NudgeNote, SessionRow, MAX_NUDGES};
use crate::signals::{self, Signal, SignalConfig, Step};
use crate::text::{json_len, truncate_in_place};
use crate::time::{iso_from_ms, ms_from_iso, TimeInput};

/// Default look-back window: the guide's two minutes.
pub const DEFAULT_WINDOW_MS: u64 = 120_000;
/// Default cap on events handed to the agent.
pub const DEFAULT_MAX_EVENTS: usize = 50;
const MAX_WINDOW_MS: u64 = 366 * 24 * 3_600_000;
const MAX_MAX_EVENTS: usize = 1_000;
/// How far back session rows are read: a summary stays useful long after the recent window.
pub const SESSION_LOOKBACK_MS: u64 = 24 * 3_600_000;
/// Session rows read per chat turn (a user with several tabs has several sessions).
pub const SESSION_ROWS_LIMIT: usize = 5;
/// Summary rows read per chat turn.
pub const SUMMARY_ROWS_LIMIT: usize = 100;
/// Default cap on the context's JSON size: a quarter of Botpress's 128 KB workflow state, so the
/// context, its rendered text and the bot's own variables fit together.
pub const DEFAULT_MAX_CONTEXT_BYTES: usize = 32 * 1024;
const MIN_MAX_CONTEXT_BYTES: usize = 2 * 1024;
const MAX_MAX_CONTEXT_BYTES: usize = 100_000;

/// The accepted range and default of a numeric option.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    pub min: u64,
    pub max: u64,
    pub default: u64,
}

impl Bounds {
    fn contains(&self, value: u64) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// The error for a value outside the range, for the option at `path`.
    fn error(&self, path: &str, unit: &str) -> InputError {
        InputError::new(
            path,
            format!("must be between {} and {}{unit}", self.min, self.max),
        )
    }
}

/// The bounds of the context options, in one place: [`ContextInput`] checks them, and the
/// integration's configuration reads them from the package's `limits.json` (written by
/// `examples/typescript.rs`), so Studio accepts exactly what the core does.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextLimits {
    pub window_ms: Bounds,
    pub max_events: Bounds,
    pub max_bytes: Bounds,
}

/// See [`ContextLimits`].
pub const LIMITS: ContextLimits = ContextLimits {
    window_ms: Bounds {
        min: 1,
        max: MAX_WINDOW_MS,
        default: DEFAULT_WINDOW_MS,
    },
    max_events: Bounds {
        min: 1,
        max: MAX_MAX_EVENTS as u64,
        default: DEFAULT_MAX_EVENTS as u64,
    },
    max_bytes: Bounds {
        min: MIN_MAX_CONTEXT_BYTES as u64,
        max: MAX_MAX_CONTEXT_BYTES as u64,
        default: DEFAULT_MAX_CONTEXT_BYTES as u64,
    },
};

/// A Botpress Tables filter (MongoDB-like) of the columns a chat turn's queries test, e.g.
/// `{"createdAt": {"$gte": "…"}, "user_id": {"$eq": "u1"}}`. Typed rather than a JSON value:
/// the queries need these five columns and three operators, and a JSON object map is a few
/// kilobytes of `.wasm` (the fields serialize in the order a sorted map had them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Filter {
    #[serde(rename = "createdAt", skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Condition>,
    #[serde(rename = "updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Condition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Condition>,
}

/// One column's condition: `{"$eq": "u1"}`, `{"$gte": "2026-…Z"}`, `{"$lt": 0}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Condition {
    #[serde(rename = "$eq")]
    Eq(String),
    #[serde(rename = "$gte")]
    AtLeast(String),
    #[serde(rename = "$lt")]
    Below(i64),
}

/// A Botpress filter no row matches (row ids are positive): what an unidentified chat reads.
pub fn match_nothing() -> Filter {
    Filter {
        id: Some(Condition::Below(0)),
        ..Filter::default()
    }
}

/// Whose activity to show. With neither id set nothing is shown: an unidentified chat must not
/// see other users' activity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Scope {
    pub user_id: Option<String>,
    pub session_id: Option<String>,
}

impl Scope {
    /// Whether at least one id is set.
    pub fn is_set(&self) -> bool {
        self.user_id.is_some() || self.session_id.is_some()
    }

    /// Whether a row with these ids belongs to the scope (every id that is set must match).
    pub fn matches(&self, user_id: Option<&str>, session_id: Option<&str>) -> bool {
        self.is_set()
            && self.user_id.as_deref().is_none_or(|u| user_id == Some(u))
            && self
                .session_id
                .as_deref()
                .is_none_or(|s| session_id == Some(s))
    }

    /// A filter of `$eq` conditions for the set ids.
    fn filter(&self) -> Filter {
        Filter {
            user_id: self.user_id.clone().map(Condition::Eq),
            session_id: self.session_id.clone().map(Condition::Eq),
            ..Filter::default()
        }
    }
}

/// Input of the context functions: whose activity, which time window, and (for
/// [`build_agent_context`]) the rows fetched from the two tables.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContextInput {
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    /// "Now"; the caller's clock when absent.
    pub now: Option<TimeInput>,
    pub window_ms: u64,
    /// Cap on events handed to the agent (the newest are kept).
    pub max_events: usize,
    pub recent_events: Vec<EventRow>,
    pub summary_records: Vec<SummaryRow>,
    /// Rows of the sessions table (the sessions layout), as an alternative to the two above.
    pub session_rows: Vec<SessionRow>,
    /// Thresholds of the friction signals reported in the context.
    pub signals: SignalConfig,
    /// Cap on the context's JSON size in bytes (see [`AgentContext::fit`]).
    pub max_bytes: usize,
    /// Which tables [`context_queries`] reads.
    pub layout: Layout,
    /// Their names, when the bot's tables are not named the default way (the streamer's
    /// `--events-table`, `--summary-table`, `--sessions-table`).
    pub tables: TableNames,
}

/// The names of the three tables; each defaults to the streamer's default name.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
#[serde_with::serde_as]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct TableNames {
    pub events: String,
    pub summaries: String,
    pub sessions: String,
}

impl Default for TableNames {
    fn default() -> Self {
        Self {
            events: EVENTS_TABLE.to_owned(),
            summaries: SUMMARY_TABLE.to_owned(),
            sessions: SESSIONS_TABLE.to_owned(),
        }
    }
}

impl Default for ContextInput {
    fn default() -> Self {
        Self {
            user_id: None,
            session_id: None,
            now: None,
            window_ms: DEFAULT_WINDOW_MS,
            max_events: DEFAULT_MAX_EVENTS,
            recent_events: Vec::new(),
            summary_records: Vec::new(),
            session_rows: Vec::new(),
            signals: SignalConfig::default(),
            max_bytes: DEFAULT_MAX_CONTEXT_BYTES,
            layout: Layout::default(),
            tables: TableNames::default(),
        }
    }
}

impl ContextInput {
    /// How far back session rows (and the nudges they hold) are read, from `now_ms`: a day, or
    /// the window if longer.
    fn sessions_since(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(self.window_ms.max(SESSION_LOOKBACK_MS) as i64)
    }

    /// The user/session this input is about, under the [`ids`] rules: a blank id is no id (so
    /// `userId: ""` scopes nothing and reads nothing), a long one is shortened as the rows' are.
    pub fn scope(&self) -> Scope {
        Scope {
            user_id: ids::normalize(self.user_id.clone()),
            session_id: ids::normalize(self.session_id.clone()),
        }
    }

    /// Resolves `now` (falling back to `clock_ms`) and checks the options; returns the window's
    /// start and end in unix milliseconds.
    fn bounds(&self, clock_ms: i64) -> Result<(i64, i64), InputError> {
        let checks = [
            (
                &LIMITS.window_ms,
                self.window_ms,
                "options.windowMs",
                " milliseconds",
            ),
            (
                &LIMITS.max_events,
                self.max_events as u64,
                "options.maxEvents",
                "",
            ),
            (
                &LIMITS.max_bytes,
                self.max_bytes as u64,
                "options.maxBytes",
                "",
            ),
        ];
        for (bounds, value, path, unit) in checks {
            if !bounds.contains(value) {
                return Err(bounds.error(path, unit));
            }
        }
        let now = match &self.now {
            Some(t) => t.to_ms("options.now")?,
            None => clock_ms,
        };
        Ok((now.saturating_sub(self.window_ms as i64), now))
    }
}

/// The `findRecords`/`findTableRows` filter for the scope's events inside the window.
pub fn recent_events_filter(input: &ContextInput, clock_ms: i64) -> Result<Filter, InputError> {
    let (since, _) = input.bounds(clock_ms)?;
    Ok(Filter {
        created_at: Some(Condition::AtLeast(iso_from_ms(since))),
        ..input.scope().filter()
    })
}

/// The filter for the scope's rows in the summary table.
pub fn summary_filter(scope: &Scope) -> Filter {
    scope.filter()
}

/// The filter for the scope's rows in the sessions table updated in the last day (or the window,
/// if longer).
pub fn session_rows_filter(input: &ContextInput, clock_ms: i64) -> Result<Filter, InputError> {
    let (_, now) = input.bounds(clock_ms)?;
    Ok(Filter {
        updated_at: Some(Condition::AtLeast(iso_from_ms(input.sessions_since(now)))),
        ..input.scope().filter()
    })
}

/// Where the bot's activity rows are: one row per session (the streamer's default), or the
/// guide's events and summary tables.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    #[default]
    Sessions,
    Events,
}

/// One `findTableRows` query.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableQuery {
    /// A Botpress Tables filter (MongoDB-like).
    #[cfg_attr(feature = "typescript", ts(type = "Record<string, unknown>"))]
    pub filter: Filter,
    pub limit: usize,
    pub order_by: &'static str,
    pub order_direction: &'static str,
}

/// The queries a chat turn makes, whichever layout the bot uses: the events and summary tables
/// (events layout) or the sessions table (sessions layout). Newest first, capped. Without an id
/// every filter matches nothing and `scoped` is false.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextQueries {
    pub events: TableQuery,
    pub summaries: TableQuery,
    pub sessions: TableQuery,
    pub scoped: bool,
    /// The reads of the input's layout, in the order to make them; none when not scoped.
    pub reads: Vec<TableRead>,
}

/// One read of a chat turn: which table, which [`ContextInput`] field its rows go to, the query.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRead {
    pub table: String,
    /// Which field of [`ContextInput`] the rows go to.
    pub input: RowsField,
    pub query: TableQuery,
}

/// The fields of [`ContextInput`] that hold rows read from a table.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RowsField {
    SessionRows,
    RecentEvents,
    SummaryRecords,
}

/// The query policy of a chat turn, in one place.
pub fn context_queries(input: &ContextInput, clock_ms: i64) -> Result<ContextQueries, InputError> {
    let scoped = input.scope().is_set();
    let pick = |filter: Filter| if scoped { filter } else { match_nothing() };
    let mut queries = ContextQueries {
        events: TableQuery {
            filter: pick(recent_events_filter(input, clock_ms)?),
            limit: input.max_events,
            order_by: "createdAt",
            order_direction: "desc",
        },
        summaries: TableQuery {
            filter: pick(summary_filter(&input.scope())),
            limit: SUMMARY_ROWS_LIMIT,
            order_by: "updatedAt",
            order_direction: "desc",
        },
        sessions: TableQuery {
            filter: pick(session_rows_filter(input, clock_ms)?),
            limit: SESSION_ROWS_LIMIT,
            order_by: "updatedAt",
            order_direction: "desc",
        },
        scoped,
        reads: Vec::new(),
    };
    if scoped {
        let read = |table: &String, input, query: &TableQuery| TableRead {
            table: table.clone(),
            input,
            query: query.clone(),
        };
        queries.reads = match input.layout {
            Layout::Sessions => vec![read(
                &input.tables.sessions,
                RowsField::SessionRows,
                &queries.sessions,
            )],
            Layout::Events => vec![
                read(
                    &input.tables.events,
                    RowsField::RecentEvents,
                    &queries.events,
                ),
                read(
                    &input.tables.summaries,
                    RowsField::SummaryRecords,
                    &queries.summaries,
                ),
            ],
        };
    }
    Ok(queries)
}

/// What the agent gets: the scoped summary and recent events.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS, schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentContext {
    /// Whose activity this is.
    pub user_id: Option<String>,
    /// The session it is limited to, if any.
    pub session_id: Option<String>,
    /// Full text of the scope's most recent summary, or `null`.
    pub summary: Option<String>,
    /// The scope's events inside the window, oldest first, newest last.
    pub recent_events: Vec<EventRow>,
    /// Events inside the window left out by the `maxEvents` or `maxBytes` cap (the oldest ones).
    pub omitted_events: usize,
    /// How far back "recent" went, in milliseconds.
    pub window_ms: u64,
    /// When the context was built (ISO-8601).
    pub generated_at: String,
    /// Friction signals found in the scope's events inside the window.
    pub signals: Vec<Signal>,
    /// Nudges the user was already sent, oldest first, and what came of them.
    ///
    /// From session rows only: the newest [`MAX_NUDGES`] sent within the sessions' look-back
    /// (a day, or the window if longer), whatever the window, so an answer minutes later still
    /// knows what was said.
    pub nudges: Vec<NudgeNote>,
}

/// Builds the context for the chatting user/session from rows fetched from the two tables.
///
/// The rows are re-checked here even if the query was already filtered, so a broad query (or
/// the guide's unscoped one) can never leak another user's activity into this context.
pub fn build_agent_context(input: ContextInput, clock_ms: i64) -> Result<AgentContext, InputError> {
    let (since, now) = input.bounds(clock_ms)?;
    let scope = input.scope();
    let nudged_since = input.sessions_since(now);

    let sessions: Vec<SessionRow> = input
        .session_rows
        .into_iter()
        .filter(|r| scope.matches(r.user_id.as_deref(), Some(&r.session_id)))
        .collect();
    let mut events: Vec<(i64, EventRow)> = input
        .recent_events
        .into_iter()
        .chain(sessions.iter().flat_map(SessionRow::event_rows))
        .filter(|e| scope.matches(e.user_id.as_deref(), e.session_id.as_deref()))
        .filter_map(|e| e.time_ms().filter(|&t| t >= since).map(|t| (t, e)))
        .collect();
    sort_by_key(&mut events, |(t, e)| (*t, e.index));
    let steps: Vec<Step> = events.iter().filter_map(|(_, e)| e.step()).collect();
    let mut signals = signals::detect(steps, now, &input.signals);
    // Signals the streamer saw in actions that no longer fit the rows, while still recent.
    for stored in sessions.iter().flat_map(|r| &r.signals) {
        let recent = ms_from_iso(&stored.evidence.to).is_some_and(|to| to >= since);
        if recent && !signals.iter().any(|s| s.kind == stored.kind) {
            signals.push(stored.clone());
        }
    }
    let mut nudges: Vec<(i64, NudgeNote)> = sessions
        .iter()
        .flat_map(|r| &r.nudges)
        .filter_map(|n| Some((ms_from_iso(&n.sent_at)?, n.clone())))
        .filter(|(at, _)| *at >= nudged_since)
        .map(|(at, mut n)| {
            n.cap();
            (at, n)
        })
        .collect();
    sort_by_key(&mut nudges, |(at, _)| *at);
    let nudges = nudges.split_off(nudges.len().saturating_sub(MAX_NUDGES));
    let omitted_events = events.len().saturating_sub(input.max_events);
    let recent_events = events
        .into_iter()
        .skip(omitted_events)
        .map(|(_, e)| e)
        .collect();

    let from_sessions = sessions.iter().filter_map(|r| {
        Some(SummaryRow {
            created_at: r.created_at.clone(),
            updated_at: r.updated_at.clone(),
            row_key: r.row_key.clone(),
            session_id: r.session_id.clone(),
            user_id: r.user_id.clone(),
            product_id: r.product_id.clone(),
            summary: r.summary.clone()?,
            action_count: r.action_count,
        })
    });
    let summary = input
        .summary_records
        .into_iter()
        .chain(from_sessions)
        .enumerate()
        .filter(|(_, s)| scope.matches(s.user_id.as_deref(), Some(s.session_id.as_str())))
        .filter(|(_, s)| !s.summary.trim().is_empty())
        .max_by_key(|(position, s)| {
            let stamp = s.updated_at.as_deref().or(s.created_at.as_deref());
            (stamp.and_then(ms_from_iso).unwrap_or(i64::MIN), *position)
        })
        .map(|(_, s)| s.summary);

    let mut context = AgentContext {
        user_id: scope.user_id,
        session_id: scope.session_id,
        summary,
        recent_events,
        omitted_events,
        window_ms: input.window_ms,
        generated_at: iso_from_ms(now),
        signals,
        nudges: nudges.into_iter().map(|(_, n)| n).collect(),
    };
    context.fit(input.max_bytes);
    Ok(context)
}

impl AgentContext {
    /// Keeps the context's JSON within about `max_bytes` (a few bytes of `omittedEvents` digits
    /// aside): a summary longer than half the budget is cut to it, then the oldest events go,
    /// counted in `omitted_events`, then the oldest nudges, then the summary is cut further.
    /// Cuts are marked visibly.
    pub fn fit(&mut self, max_bytes: usize) {
        let mut size = json_len(self);
        if size <= max_bytes {
            return;
        }
        if let Some(summary) = self.summary.as_mut() {
            let before = json_len(summary);
            if truncate_in_place(summary, max_bytes / 2) {
                size -= before - json_len(summary);
            }
        }
        let mut dropped = 0;
        while size > max_bytes && dropped < self.recent_events.len() {
            size -= json_len(&self.recent_events[dropped]) + 1;
            dropped += 1;
        }
        self.recent_events.drain(..dropped);
        self.omitted_events += dropped;
        while size > max_bytes && !self.nudges.is_empty() {
            size -= json_len(&self.nudges.remove(0)) + 1;
        }
        if let Some(summary) = self.summary.as_mut().filter(|_| size > max_bytes) {
            let keep = summary.len().saturating_sub(size - max_bytes);
            truncate_in_place(summary, keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A filter as the JSON Botpress receives.
    fn as_json(filter: &Filter) -> Value {
        serde_json::to_value(filter).unwrap()
    }

    const NOW: i64 = 1_764_000_000_000;

    fn event(user: &str, session: &str, seconds_ago: i64, title: &str) -> Value {
        json!({"id": 1, "createdAt": iso_from_ms(NOW - seconds_ago * 1000), "title": title,
               "user_id": user, "session_id": session, "product_id": "p"})
    }

    fn input(value: Value) -> ContextInput {
        crate::decode::decode_json("input", &value.to_string()).unwrap()
    }

    #[test]
    fn the_context_is_capped_newest_events_kept() {
        let big = "x".repeat(3_000);
        let events: Vec<Value> = (0..200)
            .map(|i| {
                json!({"createdAt": iso_from_ms(NOW - (200 - i) * 100), "title": format!("e{i}"),
                       "description": big, "user_id": "u", "session_id": "s", "action_index": i})
            })
            .collect();
        let summaries =
            json!([{"user_id": "u", "session_id": "s", "summary": "y".repeat(200_000)}]);
        for max in [DEFAULT_MAX_CONTEXT_BYTES, MIN_MAX_CONTEXT_BYTES] {
            let c = build_agent_context(
                input(
                    json!({"userId": "u", "now": NOW, "maxEvents": 1000, "maxBytes": max,
                             "recentEvents": events, "summaryRecords": summaries}),
                ),
                NOW,
            )
            .unwrap();
            let size = serde_json::to_vec(&c).unwrap().len();
            assert!(size <= max + 8, "{size} > {max}");
            assert_eq!(c.omitted_events + c.recent_events.len(), 200);
            if max == DEFAULT_MAX_CONTEXT_BYTES {
                assert!(
                    c.recent_events.len() >= 4,
                    "a long summary crowded out the events"
                );
                assert_eq!(
                    c.recent_events.last().unwrap().title,
                    "e199",
                    "the newest event was dropped"
                );
            }
            assert!(c.summary.unwrap().ends_with(crate::text::MARKER));
        }
        let small = build_agent_context(
            input(json!({"userId": "u", "now": NOW, "recentEvents": events[..2]})),
            NOW,
        )
        .unwrap();
        assert_eq!((small.recent_events.len(), small.omitted_events), (2, 0));
        let err =
            build_agent_context(input(json!({"userId": "u", "maxBytes": 10})), NOW).unwrap_err();
        assert!(err.to_string().contains("options.maxBytes"), "{err}");
    }

    #[test]
    fn the_reads_follow_the_layout_and_need_an_id() {
        let sessions = context_queries(&input(json!({"userId": "u"})), NOW).unwrap();
        let tables: Vec<_> = sessions
            .reads
            .iter()
            .map(|r| (r.table.as_str(), r.input))
            .collect();
        assert_eq!(tables, [(SESSIONS_TABLE, RowsField::SessionRows)]);
        assert_eq!(sessions.reads[0].query, sessions.sessions);
        let events =
            context_queries(&input(json!({"userId": "u", "layout": "events"})), NOW).unwrap();
        let tables: Vec<_> = events
            .reads
            .iter()
            .map(|r| (r.table.as_str(), r.input))
            .collect();
        assert_eq!(
            tables,
            [
                (EVENTS_TABLE, RowsField::RecentEvents),
                (SUMMARY_TABLE, RowsField::SummaryRecords)
            ]
        );
        assert!(context_queries(&input(json!({"layout": "events"})), NOW)
            .unwrap()
            .reads
            .is_empty());
        let custom = json!({"userId": "u", "layout": "events",
            "tables": {"events": "ShopEventsTable", "summaries": "ShopSummaryTable", "sessions": null}});
        let custom = context_queries(&input(custom), NOW).unwrap();
        let tables: Vec<_> = custom.reads.iter().map(|r| r.table.as_str()).collect();
        assert_eq!(tables, ["ShopEventsTable", "ShopSummaryTable"]);
        let custom = json!({"userId": "u", "tables": {"sessions": "ShopSessionsTable"}});
        let custom = context_queries(&input(custom), NOW).unwrap();
        assert_eq!(custom.reads[0].table, "ShopSessionsTable");
        let err = crate::decode::decode_json::<ContextInput>("options", r#"{"layout": "tables"}"#)
            .unwrap_err();
        assert_eq!(err.path, "options.layout");
    }

    #[test]
    fn filter_has_window_and_scope() {
        let options = ContextInput {
            user_id: Some("u1".into()),
            ..ContextInput::default()
        };
        let filter = recent_events_filter(&options, NOW).unwrap();
        assert_eq!(
            as_json(&filter),
            json!({"createdAt": {"$gte": iso_from_ms(NOW - 120_000)}, "user_id": {"$eq": "u1"}})
        );
        assert_eq!(
            as_json(&summary_filter(&options.scope())),
            json!({"user_id": {"$eq": "u1"}})
        );
    }

    #[test]
    fn keeps_only_the_users_events_in_the_window_newest_last() {
        let ctx = build_agent_context(
            input(json!({
                "userId": "A",
                "recentEvents": [
                    event("A", "sa", 10, "a-late"), event("B", "sb", 5, "b"),
                    event("A", "sa", 50, "a-early"), event("A", "sa", 500, "a-too-old"),
                    {"title": "no time", "user_id": "A"}
                ],
                "summaryRecords": [
                    {"session_id": "sb", "user_id": "B", "summary": "B's summary", "updatedAt": iso_from_ms(NOW)},
                    {"session_id": "sa", "user_id": "A", "summary": "A's old", "updatedAt": iso_from_ms(NOW - 9_000)},
                    {"session_id": "sa2", "user_id": "A", "summary": "A's summary", "updatedAt": iso_from_ms(NOW - 1_000)}
                ]
            })),
            NOW,
        )
        .unwrap();
        let titles: Vec<_> = ctx.recent_events.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["a-early", "a-late"]);
        assert_eq!(ctx.summary.as_deref(), Some("A's summary"));
        assert_eq!(ctx.generated_at, iso_from_ms(NOW));
    }

    #[test]
    fn unscoped_context_is_empty_and_empty_tables_are_fine() {
        let ctx = build_agent_context(
            input(json!({"recentEvents": [event("A", "s", 1, "x")],
                         "summaryRecords": [{"session_id": "s", "summary": "y"}]})),
            NOW,
        )
        .unwrap();
        assert!(ctx.recent_events.is_empty());
        assert_eq!(ctx.summary, None);
        let ctx = build_agent_context(input(json!({"sessionId": "s"})), NOW).unwrap();
        assert_eq!((ctx.summary, ctx.recent_events.len()), (None, 0));
    }

    #[test]
    fn caps_to_the_newest_events() {
        let events: Vec<_> = (0..30)
            .map(|i| event("A", "s", 100 - i, &format!("e{i}")))
            .collect();
        let ctx = build_agent_context(
            input(json!({"sessionId": "s", "recentEvents": events, "maxEvents": 5})),
            NOW,
        )
        .unwrap();
        assert_eq!(ctx.omitted_events, 25);
        assert_eq!(ctx.recent_events.first().unwrap().title, "e25");
        assert_eq!(ctx.recent_events.last().unwrap().title, "e29");
    }

    #[test]
    fn session_rows_give_the_same_context_and_stay_isolated() {
        let row = |session: &str, user: &str, summary: &str, updated_s: i64| {
            json!({"session_id": session, "user_id": user, "summary": summary, "action_count": 12,
                   "updatedAt": iso_from_ms(NOW - updated_s * 1000),
                   "actions": [
                       {"index": 10, "type": "pageview", "title": "Page", "description": "Viewed pricing",
                        "canonical_url": "/pricing", "occurred_at": iso_from_ms(NOW - 30_000)},
                       {"index": 11, "type": "click", "title": "Click", "description": format!("{user} clicked"),
                        "canonical_url": "/pricing", "occurred_at": iso_from_ms(NOW - 20_000)}],
                   "signals": [{"kind": "rage_clicks", "description": "clicked \"Pay\" 4 times",
                                "evidence": {"pages": ["/pricing"], "count": 4,
                                             "from": iso_from_ms(NOW - 25_000), "to": iso_from_ms(NOW - 22_000)}}],
                   "nudges": [
                       {"id": format!("{user}-old"), "kind": "dwell", "message": "Still there?",
                        "sent_at": iso_from_ms(NOW - 2 * 86_400_000), "outcomes": ["delivered"]},
                       {"id": format!("{user}-0"), "kind": "dwell", "message": "m".repeat(5_000),
                        "sent_at": iso_from_ms(NOW - 3_600_000), "outcomes": ["delivered"]},
                       {"id": format!("{user}-1"), "kind": "rage_clicks", "message": format!("{user}: trouble paying?"),
                        "sent_at": iso_from_ms(NOW - 21_000), "outcomes": ["delivered", "replied"]}]})
        };
        let ctx = build_agent_context(
            input(json!({"userId": "A", "sessionRows": [
                row("sa", "A", "A compares plans", 10), row("sb", "B", "B edits settings", 5)]})),
            NOW,
        )
        .unwrap();
        assert_eq!(ctx.summary.as_deref(), Some("A compares plans"));
        let what: Vec<_> = ctx
            .recent_events
            .iter()
            .map(|e| e.description.as_str())
            .collect();
        assert_eq!(what, ["Viewed pricing", "A clicked"]);
        assert_eq!(ctx.recent_events[1].session_id.as_deref(), Some("sa"));
        assert_eq!(ctx.signals.len(), 1, "the stored signal, still recent");
        assert!(!serde_json::to_string(&ctx).unwrap().contains("B edits"));
        let nudged: Vec<_> = ctx.nudges.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            nudged,
            ["A-0", "A-1"],
            "A's nudges of the last day, also those before the window, never B's"
        );
        assert!(
            ctx.nudges[0].message.len() <= crate::session_row::MAX_NUDGE_MESSAGE_BYTES,
            "capped as a row"
        );
        assert_eq!(ctx.nudges[1].outcomes, ["delivered", "replied"]);
        // A budget too small for the events lets the oldest nudge go after them.
        let events: usize = ctx.recent_events.iter().map(|e| json_len(e) + 1).sum();
        let budget = json_len(&ctx) - events - 10;
        let mut tight = ctx.clone();
        tight.fit(budget);
        assert!(json_len(&tight) <= budget + 8, "{}", json_len(&tight));
        assert!(tight.recent_events.is_empty());
        let kept: Vec<_> = tight.nudges.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(kept, ["A-1"]);
    }

    #[test]
    fn queries_are_scoped_newest_first_and_match_nothing_unscoped() {
        let scoped = ContextInput {
            user_id: Some("u1".into()),
            ..ContextInput::default()
        };
        let q = context_queries(&scoped, NOW).unwrap();
        assert!(q.scoped);
        assert_eq!(
            as_json(&q.sessions.filter),
            json!({"updatedAt": {"$gte": iso_from_ms(NOW - 86_400_000)}, "user_id": {"$eq": "u1"}})
        );
        assert_eq!(
            (q.sessions.order_by, q.sessions.order_direction),
            ("updatedAt", "desc")
        );
        assert_eq!((q.events.order_by, q.events.limit), ("createdAt", 50));
        let q = context_queries(&ContextInput::default(), NOW).unwrap();
        assert!(!q.scoped);
        for filter in [q.events.filter, q.summaries.filter, q.sessions.filter] {
            assert_eq!(filter, match_nothing());
        }
        assert_eq!(
            serde_json::to_string(&match_nothing()).unwrap(),
            r#"{"id":{"$lt":0}}"#
        );
        let both = Scope {
            user_id: Some("u".into()),
            session_id: Some("s".into()),
        };
        assert_eq!(
            serde_json::to_string(&summary_filter(&both)).unwrap(),
            r#"{"session_id":{"$eq":"s"},"user_id":{"$eq":"u"}}"#,
            "keys in the order Botpress saw them before"
        );
    }

    #[test]
    fn blank_summary_counts_as_none_and_options_are_checked() {
        let ctx = build_agent_context(
            input(
                json!({"sessionId": "s", "summaryRecords": [{"session_id": "s", "summary": "  "}]}),
            ),
            NOW,
        )
        .unwrap();
        assert_eq!(ctx.summary, None);
        let err =
            build_agent_context(input(json!({"sessionId": "s", "maxEvents": 0})), NOW).unwrap_err();
        assert_eq!(err.path, "options.maxEvents");
        let err =
            build_agent_context(input(json!({"sessionId": "s", "windowMs": 0})), NOW).unwrap_err();
        assert_eq!(err.path, "options.windowMs");
        let err =
            build_agent_context(input(json!({"sessionId": "s", "now": "soon"})), NOW).unwrap_err();
        assert_eq!(err.path, "options.now");
    }
}
