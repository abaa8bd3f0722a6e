//! The autoplay-sdk's trigger settings (0.13.0: `builtins` rows of its built-in catalog, dwell
//! thresholds, the pacing interval), read into [`TriggerConfig`]. Every field that has no
//! equivalent here comes back as a note for the operator; unknown fields are errors.

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{TriggerConfig, TriggerRule};
use autoplay_botpress::signals::SignalKind;

/// The SDK's built-in trigger ids and the kinds each becomes.
pub const BUILTINS: [(&str, &[SignalKind]); 3] = [
    // The SDK's ping-pong is the strict A→B→A form, broadened with hesitation.
    (
        "canonical_url_ping_pong",
        &[SignalKind::PingPong, SignalKind::Hesitation],
    ),
    ("user_page_dwell", &[SignalKind::Dwell]),
    ("section_playbook_match", &[]),
];

/// The file's shape when it comes from the SDK.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkTriggers {
    builtins: Vec<SdkBuiltin>,
    dwell_threshold_seconds: Option<f64>,
    user_page_dwell_max_actions: Option<usize>,
    min_interval_seconds: Option<f64>,
}

/// One `builtins` row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SdkBuiltin {
    id: String,
    name: Option<String>,
    description: Option<String>,
    interaction_timeout_s: Option<f64>,
    cooldown_s: Option<f64>,
    triggering_type: Option<String>,
    messages: Option<Vec<SdkMessage>>,
}

/// A quick-reply chip.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SdkMessage {
    #[serde(rename = "id")]
    _id: IgnoredAny,
    label: String,
    #[serde(default)]
    user_tour_exists: bool,
    user_tour_id: Option<String>,
}

fn ms(seconds: f64, at: &str) -> Result<i64, String> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok((seconds * 1000.0).round() as i64)
    } else {
        Err(format!(
            "{at}: must be a positive number of seconds, got {seconds}"
        ))
    }
}

impl SdkTriggers {
    /// Our settings, and a note for each SDK field with no equivalent. Only the listed
    /// built-ins fire, as in the SDK's registry.
    pub fn into_config(self) -> Result<(TriggerConfig, Vec<String>), String> {
        let mut config = TriggerConfig::default();
        let mut notes = Vec::new();
        for kind in SignalKind::ALL {
            config.triggers.insert(
                kind,
                TriggerRule {
                    enabled: false,
                    ..TriggerRule::default()
                },
            );
        }
        for (i, row) in self.builtins.into_iter().enumerate() {
            let at = format!("builtins[{i}]");
            let Some((_, kinds)) = BUILTINS.iter().find(|(id, _)| *id == row.id) else {
                let known: Vec<&str> = BUILTINS.iter().map(|(id, _)| *id).collect();
                return Err(format!(
                    "{at}.id: unknown built-in trigger `{}`, known: {}",
                    row.id,
                    known.join(", ")
                ));
            };
            if kinds.is_empty() {
                notes.push(format!(
                    "{at}: `{}` has no equivalent here; describe sections with `sections` (prefix, message, choices)",
                    row.id
                ));
            }
            let mut rule = TriggerRule::default();
            if let Some(cooldown) = row.cooldown_s {
                rule.cooldown_ms = ms(cooldown, &format!("{at}.cooldown_s"))?;
            }
            if let Some(messages) = row.messages {
                if messages
                    .iter()
                    .any(|m| m.user_tour_exists || m.user_tour_id.is_some())
                {
                    notes.push(format!(
                        "{at}.messages: tours (user_tour_exists, user_tour_id) have no equivalent; the chips are sent as quick replies"
                    ));
                }
                rule.choices = messages.into_iter().map(|m| m.label).collect();
            }
            if row.interaction_timeout_s.is_some() {
                notes.push(format!(
                    "{at}.interaction_timeout_s has no equivalent; the chat quiet time is `pacing.quietAfterUserMs` / `quietAfterBotMs`"
                ));
            }
            if row.triggering_type.is_some() {
                notes.push(format!(
                    "{at}.triggering_type has no equivalent; the streamer judges every nudge when an LLM is configured"
                ));
            }
            if row.name.is_some() || row.description.is_some() {
                notes.push(format!("{at}: name and description are not used"));
            }
            for kind in *kinds {
                config.triggers.insert(*kind, rule.clone());
            }
        }
        if let Some(seconds) = self.dwell_threshold_seconds {
            config.signals.dwell_min_ms = ms(seconds, "dwell_threshold_seconds")?;
        }
        if let Some(max) = self.user_page_dwell_max_actions {
            config.signals.dwell_max_actions = max;
        }
        if let Some(seconds) = self.min_interval_seconds {
            config.pacing.window_ms = ms(seconds, "min_interval_seconds")?;
        }
        Ok((config, notes))
    }
}
