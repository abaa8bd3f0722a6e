//! Personal data out of everything the streamer sends on: batches are redacted as they are read,
//! before the spool, so table rows, LLM prompts, webhook and trigger bodies all come from
//! redacted text. The core's detectors (e-mails, phone numbers, cards, IBANs, keys, tokens, URL
//! query strings and fragments), the operator's own patterns (`--redact-pattern`), and whole
//! fields dropped (`--drop-field`). `--no-redact` turns it off, with a warning at every start.

use std::borrow::Cow;

use autoplay_botpress::redact::redact;
use autoplay_botpress::{ActionsPayload, SlimAction};
use clap::ValueEnum;
use regex::Regex;

/// A text field of an action that `--drop-field` empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Field {
    Title,
    Description,
    CanonicalUrl,
    RawUrl,
}

impl Field {
    fn of(self, action: &mut SlimAction) -> &mut String {
        match self {
            Field::Title => &mut action.title,
            Field::Description => &mut action.description,
            Field::CanonicalUrl => &mut action.canonical_url,
            Field::RawUrl => &mut action.raw_url,
        }
    }
}

/// What is removed from the stream's text.
#[derive(Debug, Clone)]
pub struct Privacy {
    /// The core's detectors on (the default).
    pub redact: bool,
    /// The operator's patterns; each match becomes `[redacted]`.
    pub patterns: Vec<Regex>,
    pub drop: Vec<Field>,
}

impl Privacy {
    /// Redacts a batch in place.
    pub fn apply(&self, payload: &mut ActionsPayload) {
        if self.redact {
            payload.redact();
        }
        for action in &mut payload.actions {
            for field in &self.drop {
                field.of(action).clear();
            }
            for field in [
                Field::Title,
                Field::Description,
                Field::CanonicalUrl,
                Field::RawUrl,
            ] {
                let text = field.of(action);
                if let Cow::Owned(replaced) = self.own_patterns(text) {
                    *text = replaced;
                }
            }
        }
    }

    /// Redacts a text (a connector summary).
    pub fn apply_text(&self, text: &str) -> String {
        let text = if self.redact {
            redact(text)
        } else {
            Cow::Borrowed(text)
        };
        self.own_patterns(&text).into_owned()
    }

    fn own_patterns<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for pattern in &self.patterns {
            if let Cow::Owned(replaced) = pattern.replace_all(&out, "[redacted]") {
                out = Cow::Owned(replaced);
            }
        }
        out
    }
}

impl Default for Privacy {
    fn default() -> Self {
        Self {
            redact: true,
            patterns: Vec::new(),
            drop: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_detectors_own_patterns_and_dropped_fields() {
        let privacy = Privacy {
            redact: true,
            patterns: vec![Regex::new(r"CUST-\d{6}").unwrap()],
            drop: vec![Field::RawUrl],
        };
        let mut batch = ActionsPayload::from_json(
            r#"{"email":"x@y.co","actions":[{"title":"Customer CUST-123456","description":"Mailed x@y.co",
                "canonical_url":"/c/:id?s=1","raw_url":"/c/CUST-123456"}]}"#,
        )
        .unwrap();
        privacy.apply(&mut batch);
        let a = &batch.actions[0];
        assert_eq!(
            (
                a.title.as_str(),
                a.description.as_str(),
                a.canonical_url.as_str(),
                a.raw_url.as_str()
            ),
            (
                "Customer [redacted]",
                "Mailed [email]",
                "/c/:id?[query]",
                ""
            )
        );
        assert_eq!(batch.email, None);
        assert_eq!(
            privacy.apply_text("Call +1 415 555 0132 re CUST-000001"),
            "Call [phone] re [redacted]"
        );
        let off = Privacy {
            redact: false,
            ..Privacy::default()
        };
        assert_eq!(off.apply_text("x@y.co"), "x@y.co");
    }
}
