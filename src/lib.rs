//! # autoplay-botpress
//!
//! The sans-IO core of the bridge between [Autoplay]'s live stream of UI actions and a
//! [Botpress] agent. Everything here is plain data in, plain data out — no clocks, sockets or
//! files — so the same code runs natively in the streamer and as WebAssembly inside Botpress.
//!
//! - [`model`]: the connector's payloads (decoded leniently) and SSE frame classification.
//! - [`rows`]: event and per-session summary rows, and webhook body → rows (StoreEventsData).
//! - [`context`]: the chatting user's recent events and summary (FetchEventsData).
//! - [`render`]: the agent context as prompt text, with user text quoted as data.
//! - [`summarizer`]: the rolling per-session summary state machine.
//! - [`schema`]: the two tables' column schemas.
//! - [`signals`]: friction signals (ping-pong, hesitation, dwell, rage clicks, repeated submits,
//!   abandoned flows) detected in a session's recent actions.
//! - [`triggers`]: the per-session watcher that turns signals into proactive triggers.
//!
//! [Autoplay]: https://developers.autoplay.ai
//! [Botpress]: https://botpress.com

pub mod clock;
pub mod context;
pub mod cost;
pub mod error;
mod lenient;
pub mod model;
pub mod redact;
pub mod render;
pub mod rows;
pub mod schema;
pub mod session_row;
pub mod signals;
pub mod summarizer;
pub mod text;
pub mod triggers;
pub mod truncate;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use context::{build_agent_context, recent_events_filter, AgentContext, Scope};
pub use error::InputError;
pub use model::{
    decode_frame, decode_webhook_body, ActionsPayload, Frame, SlimAction, SummaryPayload,
    WebhookBody,
};
pub use render::render_agent_context;
pub use rows::{map_actions_to_rows, summary_row, EventRow, SummaryRow};
pub use session_row::SessionRow;
pub use summarizer::{Summarizer, SummarizerConfig, SummaryJob};
