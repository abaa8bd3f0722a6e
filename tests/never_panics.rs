//! Random JSON, shaped like real inputs or not, never panics the core: every entry point returns
//! a value or an `InputError`. (Native only: proptest does not run under wasm32.)
#![cfg(not(target_arch = "wasm32"))]

use autoplay_botpress::context::ContextInput;
use autoplay_botpress::decode::decode_json;
use autoplay_botpress::redact::{redact, redact_url};
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::rows::RowOptions;
use autoplay_botpress::rows::{detect_in_rows, RowsInput};
use autoplay_botpress::time::{iso_from_ms, ms_from_iso};
use autoplay_botpress::{
    build_agent_context, decode_frame, decode_webhook_body, map_actions_to_rows,
    recent_events_filter, render_agent_context, ActionsPayload, AgentContext,
};
use proptest::prelude::*;
use serde_json::{json, Value};

#[path = "arb/mod.rs"]
mod arb;
use arb::arb_json;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_json_never_panics(value in arb_json(), scoped in any::<bool>()) {
        let text = value.to_string();
        if let Ok(mut body) = ActionsPayload::from_json(&text) {
            body.redact();
            let _ = map_actions_to_rows(&body, &RowOptions::default());
        }
        let _ = decode_frame("message", &text);
        let _ = decode_webhook_body(&text);
        if let Ok(input) = decode_json::<RowsInput>("input", &text) {
            let _ = detect_in_rows(&input, 1_764_000_000_000);
        }
        let mut with_scope = value.clone();
        if let (true, Value::Object(map)) = (scoped, &mut with_scope) {
            map.insert("userId".into(), json!("u"));
        }
        if let Ok(input) = decode_json::<ContextInput>("input", &with_scope.to_string()) {
            let _ = recent_events_filter(&input, 0);
            if let Ok(ctx) = build_agent_context(input, 1_764_000_000_000) {
                let _ = render_agent_context(&ctx, &RenderOptions::default());
            }
        }
        if let Ok(ctx) = decode_json::<AgentContext>("context", &text) {
            let options = RenderOptions { max_chars: 400, ..RenderOptions::default() };
            let _ = render_agent_context(&ctx, &options);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        let _ = ActionsPayload::from_json(&text);
        let _ = decode_frame("", &text);
        let _ = ms_from_iso(&text);
        let _ = redact(&text);
        let _ = redact_url(&text);
    }

    /// Text built from the pieces the redaction scanners look for, next to multibyte characters.
    #[test]
    fn redaction_never_panics_and_is_stable(pieces in prop::collection::vec(prop::sample::select(vec![
        "http://", "https://", "@", "+", "(", ")", "-", " ", ".", "?", "#", "eyJ", "Bearer ", "4111",
        "1111", "0", "42", "DE89", "3704", "sk-", "AKIA", "ghp_", "abcDEF123", "x", "…", "é", "😀",
        "\u{2028}", "example.com", "_", "%", "=",
    ]), 0..40)) {
        let text: String = pieces.concat();
        let once = redact(&text).into_owned();
        let _ = redact_url(&text);
        // Redacting what was redacted changes nothing (placeholders are not personal data).
        prop_assert_eq!(redact(&once).into_owned(), once);
    }

    #[test]
    fn iso_dates_round_trip(ms in -62_135_596_800_000_i64..=253_402_300_799_999) {
        prop_assert_eq!(ms_from_iso(&iso_from_ms(ms)), Some(ms));
    }
}
