//! The fields every shape of one action shares (the connector's `SlimAction`, an events-table
//! `EventRow`, a session row's `SessionAction`), declared once by [`action_shape!`].
//!
//! Why a macro and not `#[serde(flatten)]` of one struct: measured, a flattened struct is read
//! from a buffered copy that `serde_path_to_error` cannot see into, so
//! `body.actions[0].title: invalid type: map …` became `body.actions[0]: invalid type: map …`
//! (messages users and tests rely on), and every action was buffered before being read. A nested
//! struct would rename the tables' columns. The macro splices the fields into each struct, which
//! stays one flat serde type (one pass, full paths, the lenient readers, ts-rs declarations).

use std::borrow::Cow;

use crate::redact::{redact, redact_url};
use crate::signals::Step;

/// Declares a struct that starts with an action's shared fields: `title`, `description`,
/// `canonical_url`, its position and its kind, the last two under the column names given
/// (`index = "…", kind = "…"`), each read leniently ([`crate::lenient`]); and implements
/// [`ActionFields`] for it. The struct must use `serde_with::apply` (the fields opt out of it).
macro_rules! action_shape {
    (
        $(#[$meta:meta])*
        pub struct $name:ident (index = $index:literal, kind = $kind:literal) {
            $($fields:tt)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            /// What kind of action, e.g. "Click element".
            #[serde_with(skip_apply)]
            #[serde(deserialize_with = "crate::lenient::text")]
            pub title: String,
            /// What the user did, in words.
            #[serde_with(skip_apply)]
            #[serde(deserialize_with = "crate::lenient::text")]
            pub description: String,
            /// The page, with dynamic path segments collapsed to `:id`.
            #[serde_with(skip_apply)]
            #[serde(deserialize_with = "crate::lenient::text")]
            pub canonical_url: String,
            /// 0-based position of the action in its session.
            #[serde_with(skip_apply)]
            #[serde(rename = $index, deserialize_with = "crate::lenient::count")]
            pub index: u64,
            /// Lower-case kind: `pageview`, `click`, `submit`, …
            #[serde_with(skip_apply)]
            #[serde(rename = $kind, deserialize_with = "crate::lenient::text")]
            pub action_type: String,
            $($fields)*
        }

        impl $crate::action::ActionFields for $name {
            fn texts(&self) -> [&String; 4] {
                [&self.title, &self.description, &self.canonical_url, &self.action_type]
            }
            fn texts_mut(&mut self) -> [&mut String; 4] {
                [
                    &mut self.title,
                    &mut self.description,
                    &mut self.canonical_url,
                    &mut self.action_type,
                ]
            }
            fn position(&self) -> u64 {
                self.index
            }
            fn set_position(&mut self, index: u64) {
                self.index = index;
            }
        }
    };
}

pub(crate) use action_shape;

/// What every shape of an action has, and what is done with it once for all of them.
pub trait ActionFields {
    /// `title`, `description`, `canonical_url` and `action_type`, in that order.
    fn texts(&self) -> [&String; 4];
    /// The same, to change.
    fn texts_mut(&mut self) -> [&mut String; 4];
    /// Position of the action in its session.
    fn position(&self) -> u64;
    /// Sets the position.
    fn set_position(&mut self, index: u64);

    /// The action as the friction detectors see it, at `at_ms`.
    fn step_at(&self, at_ms: i64) -> Step {
        let [title, description, url, kind] = self.texts();
        Step::new(url, kind, description, title, at_ms)
    }

    /// Takes the shared fields of another shape of the action.
    fn copy_fields_of(&mut self, other: &impl ActionFields) {
        for (to, from) in self.texts_mut().into_iter().zip(other.texts()) {
            to.clone_from(from);
        }
        self.set_position(other.position());
    }

    /// Replaces personal data in the title and description by typed placeholders; the page
    /// keeps its path.
    fn redact_text(&mut self) {
        let [title, description, url, _] = self.texts_mut();
        for text in [title, description] {
            if let Cow::Owned(redacted) = redact(text) {
                *text = redacted;
            }
        }
        if let Cow::Owned(redacted) = redact_url(url) {
            *url = redacted;
        }
    }
}
