//! Prints the TypeScript declarations of the package's data types, generated from the Rust types
//! that produce and read them (ts-rs), so the `.d.ts` cannot drift from what the WebAssembly
//! returns. `scripts/build-pkg.mjs` runs it and adds the functions' signatures (`js/api.d.ts`).
//! With `limits`, it prints the bounds of the context options instead (`pkg/limits.json`, read
//! by the integration's configuration); with `schemas`, the JSON Schemas of what the package
//! returns, as it serializes them (`pkg/schemas.json`, which the integration's zod shapes are
//! built from).
//!
//!     cargo run --example typescript --features typescript > types.d.ts
//!     cargo run --example typescript --features typescript -- limits > limits.json
//!     cargo run --example typescript --features typescript -- schemas > schemas.json

use autoplay_botpress::context::{
    AgentContext, ContextInput, ContextQueries, Layout, RowsField, TableNames, TableQuery,
    TableRead, LIMITS,
};
use autoplay_botpress::redact::RedactOptions;
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::rows::{EventRow, RowOptions, RowsInput, SummaryRow};
use autoplay_botpress::session_row::{NudgeNote, SessionAction, SessionRow};
use autoplay_botpress::signals::{Evidence, Flow, Signal, SignalConfig, SignalKind};
use autoplay_botpress::time::TimeInput;
use autoplay_botpress::wire::{
    ActionsPayload, Skipped, SlimAction, SummaryPayload, TriggerEvent, WebhookBody,
};
use schemars::generate::SchemaSettings;
use ts_rs::{Config, TS};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("limits") => {
            let json = serde_json::to_string_pretty(&LIMITS).expect("the limits serialize");
            println!("{json}");
            return;
        }
        Some("schemas") => {
            println!("{}", schemas());
            return;
        }
        _ => {}
    }
    // The connector's u64 counters and indices stay far below 2^53: plain numbers in JavaScript.
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        // wire: what travels
        SlimAction::decl(&cfg),
        ActionsPayload::decl(&cfg),
        Skipped::decl(&cfg),
        SummaryPayload::decl(&cfg),
        TriggerEvent::decl(&cfg),
        WebhookBody::decl(&cfg),
        // signals
        SignalKind::decl(&cfg),
        Evidence::decl(&cfg),
        Signal::decl(&cfg),
        Flow::decl(&cfg),
        SignalConfig::decl(&cfg),
        // rows
        EventRow::decl(&cfg),
        SummaryRow::decl(&cfg),
        SessionAction::decl(&cfg),
        NudgeNote::decl(&cfg),
        SessionRow::decl(&cfg),
        RowOptions::decl(&cfg),
        RowsInput::decl(&cfg),
        // context and rendering
        TimeInput::decl(&cfg),
        Layout::decl(&cfg),
        TableNames::decl(&cfg),
        ContextInput::decl(&cfg),
        TableQuery::decl(&cfg),
        RowsField::decl(&cfg),
        TableRead::decl(&cfg),
        ContextQueries::decl(&cfg),
        AgentContext::decl(&cfg),
        RenderOptions::decl(&cfg),
        RedactOptions::decl(&cfg),
    ];
    println!("// Generated from the Rust types by examples/typescript.rs (ts-rs). Do not edit.");
    for declaration in declarations {
        println!("export {declaration}");
    }
}

/// The schemas of the shapes the integration declares in zod, for output: a field is required
/// unless it may be left out, so a parse of what the package returns checks it whole.
fn schemas() -> String {
    let mut generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let roots = serde_json::json!({
        "EventRow": generator.subschema_for::<EventRow>(),
        "AgentContext": generator.subschema_for::<AgentContext>(),
    });
    let all = serde_json::json!({ "roots": roots, "$defs": generator.definitions() });
    serde_json::to_string_pretty(&all).expect("the schemas serialize")
}
