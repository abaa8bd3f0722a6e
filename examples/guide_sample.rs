//! Feeds the guide's sample action note (and a second user's activity) through the core the way
//! the Botpress workflow would — webhook body → table rows → the chatting user's context → prompt
//! text — and prints what the agent receives. No credentials, no network.
//!
//!     cargo run --example guide_sample

use autoplay_botpress::context::ContextInput;
use autoplay_botpress::ids::Owner;
use autoplay_botpress::render::RenderOptions;
use autoplay_botpress::rows::RowOptions;
use autoplay_botpress::time::iso_from_ms;
use autoplay_botpress::{
    build_agent_context, map_actions_to_rows, render_agent_context, summary_row, ActionsPayload,
    InputError,
};

const NOW_MS: i64 = 1_795_521_600_000; // 2026-11-24T12:00:00Z

fn main() -> Result<(), InputError> {
    let guide_user = ActionsPayload::from_json(
        r#"{"session_id":"019dd958-7eea-75a2","user_id":"019dd835-3f68-7e78","product_id":"yourapp",
            "actions":[{"title":"Click element","description":"User clicked element on the pricing page",
                        "canonical_url":"https://yourapp.com/pricing","type":"click","index":0}]}"#,
    )?;
    let other_user = ActionsPayload::from_json(
        r#"{"session_id":"other-session","user_id":"other-user","product_id":"yourapp",
            "actions":[{"title":"Submit form","description":"User updated their credit card",
                        "canonical_url":"https://yourapp.com/billing","type":"submit","index":0}]}"#,
    )?;

    // StoreEventsData: both users' webhook bodies land in the same events table.
    let mut table = Vec::new();
    for body in [&guide_user, &other_user] {
        for mut row in map_actions_to_rows(body, &RowOptions::default())? {
            row.created_at = Some(iso_from_ms(NOW_MS - 30_000));
            table.push(row);
        }
    }
    let summaries = vec![
        summary_row(
            &Owner::new(Some("019dd835-3f68-7e78"), Some("019dd958-7eea-75a2")),
            "yourapp",
            "The user navigated to the pricing page and interacted with several diffusion model \
             options, suggesting they are configuring an image generation workflow.",
            10,
        ),
        summary_row(
            &Owner::new(Some("other-user"), Some("other-session")),
            "yourapp",
            "Updating billing details.",
            10,
        ),
    ];

    // FetchEventsData for the guide's user: only their events and summary come back.
    let context = build_agent_context(
        ContextInput {
            user_id: Some("019dd835-3f68-7e78".into()),
            recent_events: table,
            summary_records: summaries,
            ..ContextInput::default()
        },
        NOW_MS,
    )?;
    println!("== agent context (workflow.agentContext) ==");
    println!(
        "{}",
        serde_json::to_string_pretty(&context).expect("a context always serializes")
    );
    println!("\n== rendered for the agent prompt ==");
    println!(
        "{}",
        render_agent_context(&context, &RenderOptions::default())?
    );
    Ok(())
}
