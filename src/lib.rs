//! # autoplay-botpress
//!
//! The sans-IO core of the bridge between [Autoplay]'s live stream of UI actions and a
//! [Botpress] agent. Everything here is plain data in, plain data out — no clocks, sockets or
//! files — so the same code runs natively in the streamer and as WebAssembly inside Botpress.
//!
//! The modules are layered: each uses only the layers before its own, so there is no import
//! cycle and every layer can be read (and reused) without the ones above it (`tests/layers.rs`
//! checks this):
//!
//! 1. leaves — [`text`] (budgets, quoting, the one-line form of an action), [`decode`] (JSON
//!    text to the core's types with serde, errors naming the field),
//!    [`order`] (sorting and grouping), [`time`] (ISO-8601 ⇄ unix ms, "now" inputs),
//!    [`redact`] (personal data detectors),
//!    [`ids`] (what a user or session id is, and whose activity is whose);
//! 2. [`signals`]: friction detectors over plain steps (page, kind, target, time);
//!    [`action`]: the fields every shape of one action shares, declared once;
//! 3. [`wire`]: what travels — the connector's payloads and SSE frames, webhook bodies, the
//!    trigger event;
//! 4. [`rows`], [`session_row`], [`schema`]: the Botpress tables' rows and columns;
//! 5. [`context`]: the chatting user's context and the query policy that reads it;
//! 6. [`render`]: the context as prompt text;
//! 7. `wasm` (wasm32 only): the JavaScript binding.
//!
//! What only the streamer needs (the rolling summarizer, the trigger watcher and its pacing)
//! lives in the streamer, on top of these layers; `pkg/` ships exactly this crate.
//!
//! [Autoplay]: https://developers.autoplay.ai
//! [Botpress]: https://botpress.com

pub mod action;
pub mod context;
pub mod decode;
pub mod ids;
pub mod lenient;
pub mod order;
pub mod redact;
pub mod render;
pub mod rows;
pub mod schema;
pub mod session_row;
pub mod signals;
pub mod text;
pub mod time;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use context::{build_agent_context, recent_events_filter, AgentContext, Scope};
pub use decode::InputError;
pub use render::render_agent_context;
pub use rows::{map_actions_to_rows, summary_row, EventRow, SummaryRow};
pub use session_row::SessionRow;
pub use wire::{
    decode_frame, decode_webhook_body, ActionsPayload, Frame, Skipped, SlimAction, SummaryPayload,
    WebhookBody,
};
