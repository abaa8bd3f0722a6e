//! Sections: parts of the product addressed by URL path prefix, each with its own message, quick
//! replies and kinds (`/billing` gets a billing message, `/docs` never nudges). The SDK's section
//! playbooks and URL-scoped ping-pong, in the triggers file.

use serde::{Deserialize, Serialize};

use autoplay_botpress::signals::SignalKind;

/// Most quick replies a nudge carries (Botpress choice messages; the SDK's limit too).
pub const MAX_CHOICES: usize = 3;

/// One part of the product, by path prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Section {
    /// Path prefix, matched by whole segments: `/billing` covers `/billing` and
    /// `/billing/invoices`, not `/billingx`. The longest matching prefix wins.
    pub prefix: String,
    /// `false`: no nudge while the user is here (default `true`).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Only these kinds fire here (default: every enabled kind).
    #[serde(default)]
    pub kinds: Option<Vec<SignalKind>>,
    /// Opening message for any kind fired here, instead of the kind's.
    #[serde(default)]
    pub message: Option<String>,
    /// Quick replies for any kind fired here, instead of the kind's.
    #[serde(default)]
    pub choices: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// Whether `page` lies under `prefix`, segment by segment.
pub fn under(page: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    prefix.is_empty()
        || page == prefix
        || page
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The section `page` is in: the longest matching prefix.
pub fn section_of<'a>(sections: &'a [Section], page: &str) -> Option<&'a Section> {
    sections
        .iter()
        .filter(|s| under(page, &s.prefix))
        .max_by_key(|s| s.prefix.trim_end_matches('/').len())
}

/// Checks quick replies: at most [`MAX_CHOICES`], none empty. `at` names where they are.
pub fn check_choices(choices: &[String], at: &str) -> Result<(), String> {
    if choices.len() > MAX_CHOICES {
        return Err(format!(
            "{at}: {} quick replies, at most {MAX_CHOICES} are allowed",
            choices.len()
        ));
    }
    if choices.iter().any(|c| c.trim().is_empty()) {
        return Err(format!("{at}: a quick reply is empty"));
    }
    Ok(())
}

/// Checks a section's prefix and quick replies.
pub fn check_section(section: &Section, index: usize) -> Result<(), String> {
    let at = format!("sections[{index}]");
    if !section.prefix.starts_with('/') {
        return Err(format!(
            "{at}.prefix: `{}` must be a path starting with `/`",
            section.prefix
        ));
    }
    check_choices(
        section.choices.as_deref().unwrap_or_default(),
        &format!("{at}.choices"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(prefix: &str) -> Section {
        Section {
            prefix: prefix.into(),
            enabled: true,
            kinds: None,
            message: None,
            choices: None,
        }
    }

    #[test]
    fn prefixes_match_whole_segments_and_the_longest_wins() {
        assert!(under("/billing", "/billing"));
        assert!(under("/billing/invoices", "/billing/"));
        assert!(!under("/billingx", "/billing"));
        assert!(under("/anything", "/"));
        let sections = [section("/"), section("/billing"), section("/billing/plans")];
        let at = |page| section_of(&sections, page).map(|s| s.prefix.as_str());
        assert_eq!(at("/billing/plans/pro"), Some("/billing/plans"));
        assert_eq!(at("/billing"), Some("/billing"));
        assert_eq!(at("/docs"), Some("/"));
        assert_eq!(section_of(&sections[1..], "/docs"), None);
    }

    #[test]
    fn bad_sections_are_named() {
        assert_eq!(
            check_section(&section("billing"), 2).unwrap_err(),
            "sections[2].prefix: `billing` must be a path starting with `/`"
        );
        let mut four = section("/b");
        four.choices = Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        assert_eq!(
            check_section(&four, 0).unwrap_err(),
            "sections[0].choices: 4 quick replies, at most 3 are allowed"
        );
    }
}
