//! The WebAssembly exports: JSON text in, JSON text out.
//!
//! Every JavaScript value is turned into JSON text by the package's JS layer (`js/facade.cjs`)
//! before it reaches these functions, inside a `try`: an exception from a getter, a Proxy or a
//! cycle is thrown in JavaScript and never unwinds through WebAssembly frames (which would leave
//! the module's stack pointer behind and, after enough of them, break every later call). Rust
//! never calls back into JavaScript here, so nothing can throw through it: even the caller's
//! clock (`Date.now()`) arrives as an argument. Errors come back as JavaScript `Error`s naming
//! the function and the field.
//!
//! One string crossing per call also keeps a context built from thousands of rows a single
//! boundary crossing, decoded in one pass that knows every field's path.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::context::{self, AgentContext, ContextInput};
use serde::de::DeserializeOwned;

use crate::decode::{decode_json, InputError};
use crate::redact::RedactOptions;
use crate::render::{self, RenderOptions};
use crate::rows::{self, RowOptions};
use crate::text;
use crate::wire::{decode_webhook_body, ActionsPayload, Skipped};

/// Talc instead of the default dlmalloc: an allocator made for single-threaded WebAssembly,
/// 6.8 KB smaller in this module and within a few percent of dlmalloc's speed on its calls.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// StoreEventsData: a webhook body → AutoPlayEventsTable rows.
#[wasm_bindgen(js_name = mapActionsToRows)]
pub fn map_actions_to_rows(body: &str, options: &str) -> Result<String, JsError> {
    const NAME: &str = "mapActionsToRows";
    let (body, skipped) = ActionsPayload::decode("body", body).map_err(|e| fail(NAME, e))?;
    let options: RowOptions = decode_options(NAME, options)?;
    let rows = rows::map_actions_to_rows(&body, &options).map_err(|e| fail(NAME, e))?;
    to_json(NAME, &MappedRows { rows, skipped })
}

/// What [`map_actions_to_rows`] returns; the JS layer hands out `rows`, with `skipped` as a
/// property of the array when actions were left out.
#[derive(Serialize)]
struct MappedRows {
    rows: Vec<rows::EventRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<Skipped>,
}

/// A POSTed webhook body: the streamer's batch or trigger, or a connector push-mode event.
/// Personal data in a batch or summary is redacted unless `{ redact: false }`.
#[wasm_bindgen(js_name = parseWebhookBody)]
pub fn parse_webhook_body(body: &str, options: &str) -> Result<String, JsError> {
    const NAME: &str = "parseWebhookBody";
    let options: RedactOptions = decode_options(NAME, options)?;
    let mut parsed = decode_webhook_body(body).map_err(|e| fail(NAME, e))?;
    if options.redact {
        parsed.redact();
    }
    to_json(NAME, &parsed)
}

/// Friction signals in one session's rows; `clock_ms` (`Date.now()`) stands in for a missing
/// `now`.
#[wasm_bindgen(js_name = detectSignals)]
pub fn detect_signals(input: &str, clock_ms: f64) -> Result<String, JsError> {
    const NAME: &str = "detectSignals";
    let input: rows::RowsInput = decode(NAME, "input", input)?;
    let found = rows::detect_in_rows(&input, clock_ms as i64).map_err(|e| fail(NAME, e))?;
    to_json(NAME, &found)
}

/// Every query a chat turn makes, for either layout: filters, limits, newest first, as of the
/// options' `now` or else `clock_ms` (`Date.now()`).
#[wasm_bindgen(js_name = contextQueries)]
pub fn context_queries(options: &str, clock_ms: f64) -> Result<String, JsError> {
    const NAME: &str = "contextQueries";
    let options: ContextInput = decode_options(NAME, options)?;
    let queries = context::context_queries(&options, clock_ms as i64).map_err(|e| fail(NAME, e))?;
    to_json(NAME, &queries)
}

/// The agent context for the chatting user from table rows, as of the input's `now` or else
/// `clock_ms` (`Date.now()`).
#[wasm_bindgen(js_name = buildAgentContext)]
pub fn build_agent_context(input: &str, clock_ms: f64) -> Result<String, JsError> {
    const NAME: &str = "buildAgentContext";
    let input: ContextInput = decode(NAME, "input", input)?;
    let context =
        context::build_agent_context(input, clock_ms as i64).map_err(|e| fail(NAME, e))?;
    to_json(NAME, &context)
}

/// The agent context as prompt text within `maxChars`.
#[wasm_bindgen(js_name = renderAgentContext)]
pub fn render_agent_context(context: &str, options: &str) -> Result<String, JsError> {
    const NAME: &str = "renderAgentContext";
    let context: AgentContext = decode(NAME, "context", context)?;
    let options: RenderOptions = decode_options(NAME, options)?;
    render::render_agent_context(&context, &options).map_err(|e| fail(NAME, e))
}

/// A user or session id as every row, body and prompt holds it (`src/ids.rs`): `null` when
/// blank, an id over 200 bytes shortened to a prefix, `…#` and a SHA-256 digest, else unchanged.
#[wasm_bindgen(js_name = normalizeId)]
pub fn normalize_id(id: &str) -> Option<String> {
    crate::ids::normalize(Some(id.to_owned()))
}

/// Decodes a required argument.
fn decode<T: DeserializeOwned>(name: &str, what: &str, json: &str) -> Result<T, JsError> {
    decode_json(what, json).map_err(|e| fail(name, e))
}

/// Decodes an options argument; empty text means all defaults.
fn decode_options<T: DeserializeOwned + Default>(name: &str, json: &str) -> Result<T, JsError> {
    if json.is_empty() {
        Ok(T::default())
    } else {
        decode(name, "options", json)
    }
}

fn to_json<T: Serialize>(name: &str, value: &T) -> Result<String, JsError> {
    text::to_json(value).ok_or_else(|| JsError::new(&format!("{name}: could not build the result")))
}

fn fail(name: &str, error: InputError) -> JsError {
    JsError::new(&format!("{name}: {error}"))
}
