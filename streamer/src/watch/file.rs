//! Reading the triggers file: the project's shape, or the autoplay-sdk's (recognised by its
//! `builtins` list). Unknown keys anywhere are errors naming the key and the accepted ones;
//! values are checked (quick replies, section prefixes).

use serde_json::Value;

use super::sdk::SdkTriggers;
use super::sections::{check_choices, check_section};
use super::TriggerConfig;
use autoplay_botpress::signals::{Flow, SignalConfig};

/// Reads a triggers file: the settings, and notes on SDK fields that have no equivalent.
pub fn read_triggers_file(text: &str) -> Result<(TriggerConfig, Vec<String>), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let (config, notes) = if value.get("builtins").is_some() {
        let sdk: SdkTriggers = serde_path_to_error::deserialize(&value).map_err(|e| {
            format!(
                "{} (read as autoplay-sdk settings: it has `builtins`)",
                at(&e)
            )
        })?;
        sdk.into_config()?
    } else {
        (ours(&value)?, Vec::new())
    };
    check(&config)?;
    Ok((config, notes))
}

/// Our shape. Its own types deny unknown fields; the detector thresholds (shared with the rows
/// input) are checked for ignored keys here.
fn ours(value: &Value) -> Result<TriggerConfig, String> {
    let mut ignored = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| ignored.push(path.to_string());
    let tracked = serde_ignored::Deserializer::new(value, &mut note);
    let config: TriggerConfig = serde_path_to_error::deserialize(tracked)
        .map_err(|e: serde_path_to_error::Error<serde_json::Error>| at(&e))?;
    let Some(path) = ignored.first() else {
        return Ok(config);
    };
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
    let accepted = if parent == "signals" {
        keys(&SignalConfig::default())
    } else {
        keys(&Flow {
            name: String::new(),
            steps: Vec::new(),
        })
    };
    Err(format!(
        "triggers.{parent}: unknown field `{key}`, expected one of {}",
        accepted.join(", ")
    ))
}

/// A decoding error with where it happened, `triggers.<path>: <problem>`.
fn at(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    match error.path().to_string().as_str() {
        "." => format!("triggers: {}", error.inner()),
        path => format!("triggers.{path}: {}", error.inner()),
    }
}

/// The JSON keys a value serializes to, quoted.
fn keys(value: &impl serde::Serialize) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.keys().map(|k| format!("`{k}`")).collect(),
        _ => Vec::new(),
    }
}

fn check(config: &TriggerConfig) -> Result<(), String> {
    for (kind, rule) in &config.triggers {
        let name = serde_json::to_value(kind).unwrap_or_default();
        let name = name.as_str().unwrap_or_default();
        check_choices(&rule.choices, &format!("triggers.{name}.choices"))?;
    }
    for (i, section) in config.sections.iter().enumerate() {
        check_section(section, i)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use autoplay_botpress::signals::SignalKind;

    #[test]
    fn misspelt_keys_are_named_with_the_accepted_ones() {
        let err = read_triggers_file(r#"{"trigers": {}}"#).unwrap_err();
        assert!(err.contains("unknown field `trigers`"), "{err}");
        assert!(
            err.contains("`triggers`") && err.contains("`pacing`"),
            "{err}"
        );
        let err = read_triggers_file(r#"{"triggers": {"dwell": {"cooldown_ms": 1}}}"#).unwrap_err();
        assert!(err.starts_with("triggers.triggers."), "{err}");
        assert!(err.contains("unknown field `cooldown_ms`"), "{err}");
        assert!(err.contains("`cooldownMs`"), "{err}");
        let err = read_triggers_file(r#"{"signals": {"dwelMinMs": 1}}"#).unwrap_err();
        assert!(
            err.starts_with("triggers.signals: unknown field `dwelMinMs`"),
            "{err}"
        );
        assert!(err.contains("`dwellMinMs`"), "{err}");
        let err =
            read_triggers_file(r#"{"signals": {"flows": [{"name": "a", "steps": [], "x": 1}]}}"#)
                .unwrap_err();
        assert!(
            err.starts_with("triggers.signals.flows.0: unknown field `x`"),
            "{err}"
        );
        let err =
            read_triggers_file(r#"{"sections": [{"prefix": "/a", "mesage": "x"}]}"#).unwrap_err();
        assert!(err.contains("unknown field `mesage`"), "{err}");
    }

    #[test]
    fn more_than_three_quick_replies_is_an_error() {
        let err = read_triggers_file(
            r#"{"triggers": {"rage_clicks": {"choices": ["a", "b", "c", "d"]}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "triggers.rage_clicks.choices: 4 quick replies, at most 3 are allowed"
        );
        let (config, _) =
            read_triggers_file(r#"{"triggers": {"rage_clicks": {"choices": ["a", "b"]}}}"#)
                .unwrap();
        assert_eq!(config.triggers[&SignalKind::RageClicks].choices, ["a", "b"]);
    }

    #[test]
    fn the_sdk_shape_is_read_into_ours_with_notes() {
        let (config, notes) = read_triggers_file(
            r#"{"builtins": [
                {"id": "user_page_dwell", "name": "Dwell", "description": "d", "cooldown_s": 45,
                 "interaction_timeout_s": 10, "triggering_type": "llm_judge_validation",
                 "messages": [{"id": "c1", "label": "Need my expert help?"}]},
                {"id": "section_playbook_match", "name": "S", "description": "s"}],
              "dwell_threshold_seconds": 90, "user_page_dwell_max_actions": 3,
              "min_interval_seconds": 600}"#,
        )
        .unwrap();
        let dwell = &config.triggers[&SignalKind::Dwell];
        assert!(dwell.enabled);
        assert_eq!(dwell.cooldown_ms, 45_000);
        assert_eq!(dwell.choices, ["Need my expert help?"]);
        assert!(
            !config.triggers[&SignalKind::PingPong].enabled,
            "not listed"
        );
        assert_eq!(config.signals.dwell_min_ms, 90_000);
        assert_eq!(config.signals.dwell_max_actions, 3);
        assert_eq!(config.pacing.window_ms, 600_000);
        let notes = notes.join("\n");
        for field in [
            "interaction_timeout_s",
            "triggering_type",
            "section_playbook_match",
        ] {
            assert!(notes.contains(field), "{notes}");
        }
        let err = read_triggers_file(r#"{"builtins": [{"id": "exit_intent"}]}"#).unwrap_err();
        assert!(
            err.contains("unknown built-in trigger `exit_intent`, known: canonical_url_ping_pong"),
            "{err}"
        );
        let err = read_triggers_file(r#"{"builtins": [], "cooldown": 1}"#).unwrap_err();
        assert!(err.contains("unknown field `cooldown`"), "{err}");
    }

    #[test]
    fn the_readmes_fuller_file_is_read() {
        let readme = include_str!("../../../README.md");
        let block = readme
            .split_once("A fuller file:\n\n```json\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(json, _)| json)
            .expect("README shows a fuller triggers file");
        let (config, notes) = read_triggers_file(block).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(config.outcomes.reply_within_ms, 600_000);
        assert_eq!(config.outcomes.friction_within_ms, 300_000);
    }
}
