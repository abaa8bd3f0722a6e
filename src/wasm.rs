//! JavaScript bindings: a thin layer that converts values at the boundary and calls the core.
//!
//! Inputs cross as one `JSON.stringify` string that serde_json parses, rather than field by field
//! through serde-wasm-bindgen: a context built from 2,000 table rows is one boundary crossing
//! instead of tens of thousands, `Date` values arrive as ISO strings, and serde_path_to_error can
//! name the failing field. Results go back the same way (serde_json text, then `JSON.parse`): the
//! serializer is already linked for row sizing, so a second one (serde-wasm-bindgen) would only
//! add to the `.wasm`.

use js_sys::{Array, Function, Promise, Reflect, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::context::{self, ContextInput};
use crate::error::{decode_json, decode_json_value, InputError};
use crate::model::{decode_webhook_body, ActionsPayload, WebhookBody};
use crate::render::{self, RenderOptions};
use crate::rows::{self, EventRow, RowOptions, SummaryRow};
use crate::signals;
use crate::AgentContext;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One action as the Autoplay connector sends it. Missing or null fields take defaults. */
export interface ActionInput {
  title?: string | null;
  description?: string | null;
  canonical_url?: string | null;
  index?: number | null;
  type?: string | null;
  timestamp_start?: number | null;
  timestamp_end?: number | null;
  raw_url?: string | null;
  session_id?: string | null;
  user_id?: string | null;
  email?: string | null;
  conversation_id?: string | null;
}

/** The webhook body the streamer posts (a superset of the guide's), or a raw connector payload. */
export interface ActionsBody {
  type?: string;
  product_id?: string | null;
  session_id?: string | null;
  user_id?: string | null;
  email?: string | null;
  actions?: ActionInput[] | null;
  count?: number | null;
  forwarded_at?: number | null;
  conversation_id?: string | null;
  batch_id?: string | null;
}

/** A connector-side summary (push mode). */
export interface SummaryBody {
  type?: "summary";
  product_id: string;
  session_id: string | null;
  summary: string;
  replaces: number;
  forwarded_at: number;
}

/** What a POSTed webhook body is, decoded leniently and normalized. */
export type WebhookBody =
  | { kind: "actions"; batch: ActionsBody & { count: number } }
  | { kind: "summary"; summary: SummaryBody }
  | { kind: "trigger"; trigger: TriggerEvent }
  | { kind: "ignored"; type: string };

/** A proactive trigger the streamer posts (`type: "trigger"`). */
export interface TriggerEvent {
  trigger_id: string;
  trigger: SignalKind | null;
  session_id: string;
  user_id: string | null;
  product_id: string;
  conversation_id?: string;
  signal: Signal | null;
  /** Suggested opening message. */
  message: string;
  fired_at: string;
}

/** A row of AutoPlayEventsTable. */
export interface EventRow {
  title: string;
  description: string;
  canonical_url: string;
  user_id: string | null;
  product_id: string;
  session_id: string | null;
  action_type: string;
  action_index: number;
  occurred_at: string | null;
  batch_id: string | null;
}

/** An events-table row as findRecords returns it. */
export interface StoredEventRow extends Partial<EventRow> {
  id?: number;
  createdAt?: string;
}

/** A row of AutoPlayEventsSummaryTable (one per session). */
export interface SummaryRecord {
  session_id?: string | null;
  user_id?: string | null;
  product_id?: string | null;
  summary?: string | null;
  action_count?: number | null;
  createdAt?: string;
  updatedAt?: string;
}

/** Whose activity to use; with neither set, nothing is shown. */
export interface ScopeOptions {
  userId?: string | null;
  sessionId?: string | null;
}

export interface WindowOptions extends ScopeOptions {
  /** Defaults to the current time. Unix milliseconds, ISO string or Date. */
  now?: number | string | Date;
  /** Look-back window; default 120000 (two minutes). */
  windowMs?: number;
}

export interface RowOptions {
  /** Upper bound on one row's JSON size; default 3900 (Botpress stores 4 KB per row). */
  maxRowBytes?: number;
}

/** A Botpress Tables filter (MongoDB-like). */
export type TableFilter = Record<string, unknown>;

export interface BuildContextInput extends WindowOptions {
  recentEvents?: StoredEventRow[] | null;
  summaryRecords?: SummaryRecord[] | null;
  /** Cap on events handed to the agent (newest kept); default 50. */
  maxEvents?: number;
  /** Thresholds of the friction signals reported in the context. */
  signals?: SignalConfig;
}

export interface FetchContextOptions extends WindowOptions {
  maxEvents?: number;
  signals?: SignalConfig;
}

/** What the agent gets. */
export interface AgentContext {
  userId: string | null;
  sessionId: string | null;
  /** Full text of the user's latest summary, or null. */
  summary: string | null;
  /** The user's events inside the window, oldest first. */
  recentEvents: StoredEventRow[];
  /** Events in the window left out by maxEvents. */
  omittedEvents: number;
  windowMs: number;
  generatedAt: string;
  /** Friction signals found in those events. */
  signals: Signal[];
}

/** Thresholds of the friction signals; every field optional. */
export interface SignalConfig {
  pingPongMinReturns?: number;
  hesitationMinPages?: number;
  dwellMinMs?: number;
  dwellMaxActions?: number;
  rageMinClicks?: number;
  rageWindowMs?: number;
  repeatedSubmitMin?: number;
  /** Multi-step paths; leaving one after its second step and before its last is "abandoned". */
  flows?: { name: string; steps: string[] }[];
}

export type SignalKind = "ping_pong" | "hesitation" | "dwell" | "rage_clicks" | "repeated_submits" | "flow_abandoned";

/** A friction signal with its evidence. */
export interface Signal {
  kind: SignalKind;
  description: string;
  evidence: { pages: string[]; elements?: string[]; count: number; from: string; to: string };
}

export interface DetectSignalsInput {
  /** One session's rows (as findRecords returns them), any order. */
  events: StoredEventRow[];
  now?: number | string | Date;
  config?: SignalConfig;
}

export interface RenderOptions {
  /** Size of the text in characters; default 4000. */
  maxChars?: number;
}

/** A Botpress table object as seen in an Execute Code card. */
export interface BotpressTable {
  findRecords(query: {
    filter?: TableFilter;
    limit?: number;
    orderBy?: string;
    orderDirection?: "asc" | "desc";
  }): Promise<unknown>;
}
"#;

#[wasm_bindgen(start)]
fn start() {
    // A safety net only: every error path returns a JavaScript Error, none panics.
    console_error_panic_hook::set_once();
}

/// Maps a webhook body to AutoPlayEventsTable rows (StoreEventsData), each fitted to the row size
/// limit with a visible `…[truncated]` marker.
#[wasm_bindgen(js_name = mapActionsToRows, unchecked_return_type = "EventRow[]")]
pub fn map_actions_to_rows(
    #[wasm_bindgen(unchecked_param_type = "ActionsBody | string")] body: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "RowOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsError> {
    const NAME: &str = "mapActionsToRows";
    let body: ActionsPayload = decode(NAME, "body", &body)?;
    let options: RowOptions = decode_options(NAME, options)?;
    let rows =
        rows::map_actions_to_rows(&body.normalized(), &options).map_err(|e| fail(NAME, e))?;
    to_js(NAME, &rows)
}

/// Decodes a POSTed webhook body (the streamer's batch, or a connector push-mode event).
#[wasm_bindgen(js_name = parseWebhookBody, unchecked_return_type = "WebhookBody")]
pub fn parse_webhook_body(
    #[wasm_bindgen(unchecked_param_type = "ActionsBody | SummaryBody | string")] body: JsValue,
) -> Result<JsValue, JsError> {
    const NAME: &str = "parseWebhookBody";
    let text = stringify(NAME, "body", &body)?;
    let parsed = match decode_webhook_body(&text).map_err(|e| fail(NAME, e))? {
        WebhookBody::Actions(batch) => serde_json::json!({ "kind": "actions", "batch": batch }),
        WebhookBody::Summary(summary) => {
            serde_json::json!({ "kind": "summary", "summary": summary })
        }
        WebhookBody::Trigger(trigger) => {
            serde_json::json!({ "kind": "trigger", "trigger": trigger })
        }
        WebhookBody::Ignored { event_type } => {
            serde_json::json!({ "kind": "ignored", "type": event_type })
        }
    };
    to_js(NAME, &parsed)
}

/// Detects friction signals (ping-pong, hesitation, dwell, rage clicks, repeated submits,
/// abandoned flows) in one session's rows.
#[wasm_bindgen(js_name = detectSignals, unchecked_return_type = "Signal[]")]
pub fn detect_signals(
    #[wasm_bindgen(unchecked_param_type = "DetectSignalsInput")] input: JsValue,
) -> Result<JsValue, JsError> {
    const NAME: &str = "detectSignals";
    let input: signals::RowsInput = decode(NAME, "input", &input)?;
    let found = signals::detect_in_rows(&input, now_ms()).map_err(|e| fail(NAME, e))?;
    to_js(NAME, &found)
}

/// The filter for the chatting user's events of the last `windowMs` (FetchEventsData's query).
#[wasm_bindgen(js_name = recentEventsFilter, unchecked_return_type = "TableFilter")]
pub fn recent_events_filter(
    #[wasm_bindgen(unchecked_optional_param_type = "WindowOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsError> {
    const NAME: &str = "recentEventsFilter";
    let options: ContextInput = decode_options(NAME, options)?;
    let filter = context::recent_events_filter(&options, now_ms()).map_err(|e| fail(NAME, e))?;
    to_js(NAME, &filter)
}

/// The filter for the chatting user's rows in the summary table.
#[wasm_bindgen(js_name = summaryRecordsFilter, unchecked_return_type = "TableFilter")]
pub fn summary_records_filter(
    #[wasm_bindgen(unchecked_optional_param_type = "ScopeOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsError> {
    const NAME: &str = "summaryRecordsFilter";
    let options: ContextInput = decode_options(NAME, options)?;
    to_js(NAME, &context::summary_filter(&options.scope()))
}

/// Builds the agent context for the chatting user from rows of the two tables.
#[wasm_bindgen(js_name = buildAgentContext, unchecked_return_type = "AgentContext")]
pub fn build_agent_context(
    #[wasm_bindgen(unchecked_param_type = "BuildContextInput")] input: JsValue,
) -> Result<JsValue, JsError> {
    const NAME: &str = "buildAgentContext";
    let input = preselect_scope(&input);
    let input: ContextInput = decode(NAME, "input", &input)?;
    let context = context::build_agent_context(input, now_ms()).map_err(|e| fail(NAME, e))?;
    to_js(NAME, &context)
}

/// Renders an agent context as compact prompt text within `maxChars` characters.
#[wasm_bindgen(js_name = renderAgentContext)]
pub fn render_agent_context(
    #[wasm_bindgen(unchecked_param_type = "AgentContext")] context: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "RenderOptions")] options: Option<JsValue>,
) -> Result<String, JsError> {
    const NAME: &str = "renderAgentContext";
    let context: AgentContext = decode(NAME, "context", &context)?;
    let options: RenderOptions = decode_options(NAME, options)?;
    render::render_agent_context(&context, &options).map_err(|e| fail(NAME, e))
}

/// Queries the two tables for the chatting user (scoped filters, newest events first) and
/// builds the agent context: FetchEventsData in one call. An unscoped call queries nothing.
#[wasm_bindgen(js_name = fetchAgentContext, unchecked_return_type = "AgentContext")]
pub async fn fetch_agent_context(
    #[wasm_bindgen(unchecked_param_type = "BotpressTable")] events_table: JsValue,
    #[wasm_bindgen(unchecked_param_type = "BotpressTable")] summary_table: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "FetchContextOptions")] options: Option<JsValue>,
) -> Result<JsValue, JsError> {
    const NAME: &str = "fetchAgentContext";
    let mut input: ContextInput = decode_options(NAME, options)?;
    let clock = now_ms();
    let scope = input.scope();
    if scope.is_set() {
        let filter = context::recent_events_filter(&input, clock).map_err(|e| fail(NAME, e))?;
        let query = to_js(
            NAME,
            &serde_json::json!({
                "filter": filter, "limit": input.max_events, "orderBy": "createdAt", "orderDirection": "desc"
            }),
        )?;
        input.recent_events =
            find_records::<EventRow>("eventsTable", &events_table, &query).await?;
        let query = to_js(
            NAME,
            &serde_json::json!({
                "filter": context::summary_filter(&scope), "limit": 100
            }),
        )?;
        input.summary_records =
            find_records::<SummaryRow>("summaryTable", &summary_table, &query).await?;
    }
    let context = context::build_agent_context(input, clock).map_err(|e| fail(NAME, e))?;
    to_js(NAME, &context)
}

/// Returns a shallow copy of a context input whose `recentEvents` holds only the rows whose
/// `user_id`/`session_id` equal the requested ones, compared as JavaScript values.
///
/// A table query usually returns many users' rows; serializing all of them to cross into WASM
/// would cost far more than the work done on them. Rows of other users are dropped here without
/// being read further; the kept rows are still fully decoded and re-checked by the core. Inputs
/// that are not plain objects with an array of rows are passed through for the core to judge.
fn preselect_scope(input: &JsValue) -> JsValue {
    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok();
    let rows = match get(input, "recentEvents") {
        Some(rows) if Array::is_array(&rows) && input.is_object() => Array::from(&rows),
        _ => return input.clone(),
    };
    let wanted: Vec<(JsValue, JsValue)> = [("userId", "user_id"), ("sessionId", "session_id")]
        .into_iter()
        .filter_map(|(option, column)| {
            get(input, option)
                .filter(JsValue::is_string)
                .map(|id| (JsValue::from_str(column), id))
        })
        .collect();
    let kept: Array = rows
        .iter()
        .filter(|row| {
            !wanted.is_empty()
                && row.is_object()
                && wanted
                    .iter()
                    .all(|(column, id)| Reflect::get(row, column).is_ok_and(|v| v == *id))
        })
        .collect();
    let copy = js_sys::Object::assign(&js_sys::Object::new(), input.unchecked_ref());
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&copy, &JsValue::from_str("recentEvents"), &kept);
    copy.into()
}

/// Calls `table.findRecords(query)` and decodes the rows (an array, or `{ rows }`).
async fn find_records<T: DeserializeOwned>(
    what: &str,
    table: &JsValue,
    query: &JsValue,
) -> Result<Vec<T>, JsError> {
    const NAME: &str = "fetchAgentContext";
    let method = Reflect::get(table, &JsValue::from_str("findRecords"))
        .ok()
        .and_then(|m| m.dyn_into::<Function>().ok())
        .ok_or_else(|| {
            JsError::new(&format!(
                "{NAME}: {what}: expected a table with a findRecords method"
            ))
        })?;
    let returned = method.call1(table, query).map_err(|e| {
        JsError::new(&format!(
            "{NAME}: {what}.findRecords threw: {}",
            describe(&e)
        ))
    })?;
    let result = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(|e| {
            JsError::new(&format!(
                "{NAME}: {what}.findRecords failed: {}",
                describe(&e)
            ))
        })?;
    let rows = if Array::is_array(&result) {
        result
    } else {
        Reflect::get(&result, &JsValue::from_str("rows")).unwrap_or(JsValue::UNDEFINED)
    };
    let json = stringify(NAME, what, &rows)?;
    decode_json_value(&format!("{what} rows"), &json).map_err(|e| fail(NAME, e))
}

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Decodes a required argument: an object, or a string of JSON text.
fn decode<T: DeserializeOwned>(name: &str, what: &str, value: &JsValue) -> Result<T, JsError> {
    let json = stringify(name, what, value)?;
    decode_json(what, &json).map_err(|e| fail(name, e))
}

/// Decodes an optional options object; `undefined`/`null` means all defaults.
fn decode_options<T: DeserializeOwned + Default>(
    name: &str,
    value: Option<JsValue>,
) -> Result<T, JsError> {
    match value {
        Some(v) if !v.is_undefined() && !v.is_null() => decode(name, "options", &v),
        _ => Ok(T::default()),
    }
}

fn stringify(name: &str, what: &str, value: &JsValue) -> Result<String, JsError> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        let kind = value.js_typeof().as_string().unwrap_or_default();
        return Err(JsError::new(&format!(
            "{name}: {what}: expected an object, got {kind}"
        )));
    }
    JSON::stringify(value).map(String::from).map_err(|e| {
        JsError::new(&format!(
            "{name}: {what}: cannot be read as JSON: {}",
            describe(&e)
        ))
    })
}

fn to_js<T: Serialize>(name: &str, value: &T) -> Result<JsValue, JsError> {
    serde_json::to_string(value)
        .ok()
        .and_then(|json| JSON::parse(&json).ok())
        .ok_or_else(|| JsError::new(&format!("{name}: could not build the result")))
}

fn fail(name: &str, error: InputError) -> JsError {
    JsError::new(&format!("{name}: {error}"))
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}
