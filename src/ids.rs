//! The rules every user and session id follows, on every path (rows, webhook bodies, prompts,
//! triggers, the WASM context): an id is a non-blank string of at most [`MAX_ID_BYTES`], and a
//! piece of activity belongs to the *pair* of its ids ([`Owner`]), never to one id alone.
//!
//! - Blank and whitespace-only ids are absent (`""` → `None`); other ids are kept byte for byte
//!   (never trimmed, so `" alice"` is not `alice`).
//! - A longer id is shortened to a prefix, [`SHORTENED_MARK`] and a SHA-256 digest of the whole
//!   id, so two distinct long ids stay distinct and the result is stable (shortening a
//!   shortened id changes nothing).

use sha2::{Digest, Sha256};

use crate::text::to_json;

/// Longest id kept as it is, in bytes (a UUID is 36).
pub const MAX_ID_BYTES: usize = 200;
/// Bytes of a long id kept before the mark and digest.
const KEPT_PREFIX_BYTES: usize = 160;
/// What separates a shortened id's prefix from the digest of the whole id.
pub const SHORTENED_MARK: &str = "…#";
/// Hex digits of the digest kept (128 bits).
const DIGEST_HEX: usize = 32;

/// An id as the bridge uses it: `None` when absent or blank, shortened when over-long.
pub fn normalize(id: Option<String>) -> Option<String> {
    let id = id.filter(|id| !id.trim().is_empty())?;
    Some(if id.len() > MAX_ID_BYTES {
        shorten(&id)
    } else {
        id
    })
}

/// [`normalize`] in place; returns whether the id was shortened.
pub fn normalize_in_place(id: &mut Option<String>) -> bool {
    let long = id.as_ref().is_some_and(|id| id.len() > MAX_ID_BYTES);
    *id = normalize(id.take());
    long && id.is_some()
}

/// A present id as the bridge uses it: `""` when blank (for the fields that are plain strings).
pub fn normalize_str(id: &mut String) -> bool {
    let mut kept = Some(std::mem::take(id));
    let shortened = normalize_in_place(&mut kept);
    *id = kept.unwrap_or_default();
    shortened
}

/// `id` cut to [`KEPT_PREFIX_BYTES`] (on a character boundary), the mark and the digest.
fn shorten(id: &str) -> String {
    let mut end = KEPT_PREFIX_BYTES;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}{SHORTENED_MARK}{}",
        &id[..end],
        digest_hex(id, DIGEST_HEX)
    )
}

/// The first `hex_len` hex digits (at most 64) of `text`'s SHA-256: a short name that tells
/// texts apart.
pub fn digest_hex(text: &str, hex_len: usize) -> String {
    let mut hex: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex.truncate(hex_len);
    hex
}

/// Whether `id` is what [`normalize`] makes of an over-long id (for counting them).
pub fn is_shortened(id: &str) -> bool {
    id.len() <= MAX_ID_BYTES
        && id.rsplit_once(SHORTENED_MARK).is_some_and(|(_, hex)| {
            hex.len() == DIGEST_HEX && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// Whose activity something is: a (user, session) pair, either part possibly unknown. Two
/// batches share a row, a webhook body, a prompt or a signal only when their owners are equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    pub user_id: Option<String>,
    pub session_id: Option<String>,
}

impl Owner {
    /// The owner of ids that went through [`normalize`].
    pub fn new(user_id: Option<&str>, session_id: Option<&str>) -> Self {
        Self {
            user_id: user_id.map(str::to_owned),
            session_id: session_id.map(str::to_owned),
        }
    }

    /// The row key of the owner's row: the JSON array `[user, session]` (`null` for an unknown
    /// part). Unambiguous whatever the ids hold, so no id can name another owner's row.
    pub fn row_key(&self) -> String {
        to_json(&(&self.user_id, &self.session_id)).unwrap_or_default()
    }

    /// For logs: `user/session` with `-` for an unknown part.
    pub fn label(&self) -> String {
        format!(
            "{}/{}",
            self.user_id.as_deref().unwrap_or("-"),
            self.session_id.as_deref().unwrap_or("-")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_ids_are_absent_and_others_are_kept_exactly() {
        for blank in ["", " ", "\t\n", "\u{3000}"] {
            assert_eq!(normalize(Some(blank.into())), None, "{blank:?}");
        }
        assert_eq!(normalize(Some(" alice".into())).as_deref(), Some(" alice"));
        assert_eq!(normalize(None), None);
    }

    #[test]
    fn long_ids_are_shortened_stably_and_stay_distinct() {
        let a = "a".repeat(200_000);
        let b = format!("{}b", "a".repeat(199_999));
        let (sa, sb) = (normalize(Some(a)).unwrap(), normalize(Some(b)).unwrap());
        assert!(sa.len() <= MAX_ID_BYTES && sb.len() <= MAX_ID_BYTES);
        assert_ne!(sa, sb);
        assert!(is_shortened(&sa));
        assert_eq!(
            normalize(Some(sa.clone())).as_deref(),
            Some(&*sa),
            "idempotent"
        );
        assert!(!is_shortened("alice"));
        let wide = "😀".repeat(100);
        assert!(normalize(Some(wide)).unwrap().starts_with("😀"));
        let exact = "x".repeat(MAX_ID_BYTES);
        assert_eq!(normalize(Some(exact.clone())), Some(exact));
    }

    #[test]
    fn row_keys_cannot_be_forged_by_ids() {
        let keys = [
            Owner::new(Some("alice"), Some("s1")),
            Owner::new(Some("bob"), Some("s1")),
            Owner::new(Some("alice"), None),
            Owner::new(None, Some("s1")),
            Owner::new(None, None),
            Owner::new(Some("no-session:alice"), None),
            Owner::new(Some("alice\",\"s1"), None),
            Owner::new(None, Some("no-session")),
        ]
        .map(|o| o.row_key());
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert_eq!(keys[0], r#"["alice","s1"]"#);
    }
}
