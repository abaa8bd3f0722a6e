//! The demo's scripted sessions: a user weighing plans and diffusion-model options with some
//! back-and-forth (the guide's pricing-page example), and a second user elsewhere in the product
//! whose activity must never reach the first user's agent.

use crate::watch::outcomes::OutcomeWindows;
use crate::watch::TriggerConfig;
use autoplay_botpress::signals::{Flow, SignalConfig, SignalKind};
use autoplay_botpress::{ActionsPayload, SlimAction};

pub const PRODUCT: &str = "demo-product";
/// The guide's sample user and session.
pub const USER_A: &str = "019dd835-3f68-7e78";
pub const SESSION_A: &str = "019dd958-7eea-75a2";
pub const USER_B: &str = "019dd835-9b21-4c0d";
pub const SESSION_B: &str = "019dd958-a410-7c3e";

const SITE: &str = "https://yourapp.com";

/// (type, title, description, path) of one scripted action.
type Step = (&'static str, &'static str, &'static str, &'static str);

const USER_A_BATCHES: &[&[Step]] = &[
    &[
        (
            "pageview",
            "Page view",
            "Viewed the Pricing page",
            "/pricing",
        ),
        (
            "click",
            "Click element",
            "User clicked element on the pricing page",
            "/pricing",
        ),
        (
            "click",
            "Click element",
            "Switched billing to annual",
            "/pricing",
        ),
    ],
    &[
        (
            "pageview",
            "Page view",
            "Viewed the diffusion model options",
            "/models/diffusion",
        ),
        (
            "click",
            "Click element",
            "Selected the SDXL model",
            "/models/diffusion",
        ),
        (
            "click",
            "Click element",
            "Opened \"Compare resolutions\"",
            "/models/diffusion",
        ),
    ],
    &[
        (
            "pageview",
            "Page view",
            "Went back to the Pricing page",
            "/pricing",
        ),
        (
            "click",
            "Click element",
            "Clicked \"What is a GPU hour?\"",
            "/pricing",
        ),
    ],
    &[
        (
            "pageview",
            "Page view",
            "Returned to the diffusion model options",
            "/models/diffusion",
        ),
        (
            "click",
            "Click element",
            "Selected Stable Diffusion 3",
            "/models/diffusion",
        ),
        (
            "click",
            "Click element",
            "Raised inference steps from 30 to 50",
            "/models/diffusion",
        ),
    ],
    &[
        (
            "pageview",
            "Page view",
            "Back on the Pricing page again",
            "/pricing",
        ),
        (
            "click",
            "Click element",
            "Clicked \"Start Pro trial\"",
            "/pricing",
        ),
    ],
    &[
        ("pageview", "Page view", "Viewed Checkout", "/checkout"),
        (
            "submit",
            "Form submit",
            "Submitted the payment form",
            "/checkout",
        ),
        (
            "submit",
            "Form submit",
            "Submitted the payment form again",
            "/checkout",
        ),
    ],
];

const USER_B_BATCHES: &[&[Step]] = &[
    &[
        (
            "pageview",
            "Page view",
            "Viewed the API reference",
            "/docs/api",
        ),
        ("click", "Click element", "Copied the API key", "/docs/api"),
    ],
    &[
        (
            "pageview",
            "Page view",
            "Viewed webhook settings",
            "/settings/webhooks",
        ),
        (
            "click",
            "Click element",
            "Added a webhook endpoint",
            "/settings/webhooks",
        ),
    ],
    &[(
        "submit",
        "Form submit",
        "Saved webhook settings",
        "/settings/webhooks",
    )],
];

/// Both sessions' batches, interleaved the way a live product would send them, with action
/// without times yet (the replaying connector stamps them as it sends each batch).
pub fn batches() -> Vec<ActionsPayload> {
    let a = session(USER_A, SESSION_A, USER_A_BATCHES);
    let b = session(USER_B, SESSION_B, USER_B_BATCHES);
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

fn session(user: &str, session: &str, script: &[&[Step]]) -> Vec<ActionsPayload> {
    let mut index = 0u64;
    script
        .iter()
        .map(|steps| {
            let actions: Vec<SlimAction> = steps
                .iter()
                .map(|(kind, title, description, path)| {
                    let action = SlimAction {
                        title: (*title).into(),
                        description: (*description).into(),
                        canonical_url: format!("{SITE}{path}"),
                        raw_url: format!("{SITE}{path}"),
                        index,
                        action_type: (*kind).into(),
                        ..SlimAction::default()
                    };
                    index += 1;
                    action
                })
                .collect();
            ActionsPayload {
                product_id: PRODUCT.into(),
                session_id: Some(session.into()),
                user_id: Some(user.into()),
                count: actions.len() as u64,
                actions,
                ..ActionsPayload::default()
            }
        })
        .collect()
}

/// The nudge the scripted user gets: back and forth between pricing and models. The two payment
/// submits on checkout that follow fall inside the session's pacing window: no second nudge.
pub const EXPECTED_TRIGGERS: [SignalKind; 1] = [SignalKind::PingPong];

/// How long the demo watches a nudge's reply and friction (10 and 5 minutes by default): short
/// enough for the run to show the outcomes.
pub const OUTCOME_WINDOW_MS: i64 = 3_000;

/// The demo's trigger settings: the defaults, plus the product's checkout flow, and outcome
/// windows of [`OUTCOME_WINDOW_MS`].
pub fn trigger_config() -> TriggerConfig {
    TriggerConfig {
        signals: SignalConfig {
            flows: vec![Flow {
                name: "checkout".into(),
                steps: vec![
                    "/pricing".into(),
                    "/checkout".into(),
                    "/checkout/done".into(),
                ],
            }],
            ..SignalConfig::default()
        },
        outcomes: OutcomeWindows {
            reply_within_ms: OUTCOME_WINDOW_MS,
            friction_within_ms: OUTCOME_WINDOW_MS,
        },
        ..TriggerConfig::default()
    }
}

/// Actions per session in the script.
pub fn totals() -> [(&'static str, usize); 2] {
    let count = |s: &[&[Step]]| s.iter().map(|b| b.len()).sum();
    [
        (SESSION_A, count(USER_A_BATCHES)),
        (SESSION_B, count(USER_B_BATCHES)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaves_sessions_and_numbers_actions() {
        let batches = batches();
        assert_eq!(batches.len(), USER_A_BATCHES.len() + USER_B_BATCHES.len());
        assert_eq!(batches[0].session_id.as_deref(), Some(SESSION_A));
        assert_eq!(batches[1].session_id.as_deref(), Some(SESSION_B));
        let a: Vec<u64> = batches
            .iter()
            .filter(|b| b.session_id.as_deref() == Some(SESSION_A))
            .flat_map(|b| b.actions.iter().map(|a| a.index))
            .collect();
        assert_eq!(a, (0..16).collect::<Vec<_>>());
    }
}
