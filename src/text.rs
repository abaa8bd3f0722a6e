//! Quoting text that comes from the product's pages (titles, descriptions, URLs) so it stays
//! visibly data wherever it goes: prompts, signal descriptions, nudge reasons.
//!
//! A quoted string is a JSON string literal. Besides JSON's own escapes, every character that
//! could make the text *look* different from what it is, or end a surrounding block, is written as
//! a `\uXXXX` escape: angle brackets, C0/C1 controls, line and paragraph separators, zero-width
//! and bidirectional controls, and Unicode tag characters (used to smuggle invisible text).
//! Hand-written rather than `serde_json::to_string` plus replacements: one pass, and the astral
//! tag characters need surrogate-pair escapes that a replacement chain would not produce.

use crate::truncate::truncate_chars;

/// Whether `c` must be escaped inside a quoted string.
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '<' | '>'
        | '\u{61c}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}' // bidi isolates
        | '\u{feff}'
        | '\u{e0000}'..='\u{e007f}' // tag characters
    )
}

/// `text` as a JSON string literal in which nothing can pose as markup, a line break or an
/// invisible instruction.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` quoted, shortened (with the truncation marker) until the quoted form has at most
/// `limit` characters; escapes can make the quoted form several times longer than the text.
pub fn quoted_within(text: &str, limit: usize) -> String {
    let mut keep = text.chars().count().min(limit);
    loop {
        let quoted = quote(&truncate_chars(text, keep));
        if quoted.chars().count() <= limit || keep == 0 {
            return quoted;
        }
        keep = keep.saturating_sub((keep / 4).max(1));
    }
}

/// One action as the prompt renderer and the summarizer show it:
/// `[index] "type": "what" — "url"`, each quoted and cut to `max_field` characters.
/// `what` is the description, else the title (what a person would call the action).
pub fn action_line(
    index: u64,
    kind: &str,
    description: &str,
    title: &str,
    url: &str,
    max_field: usize,
) -> String {
    let what = if description.trim().is_empty() {
        title
    } else {
        description
    };
    let kind = if kind.is_empty() { "action" } else { kind };
    format!(
        "[{index}] {}: {} — {}",
        quote(&truncate_chars(kind, 24)),
        quote(&truncate_chars(what, max_field)),
        quote(&truncate_chars(url, max_field)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_json_and_round_trips() {
        for text in ["plain", "with \"quotes\" and \\", "line\nbreak\ttab", "é😀"] {
            let quoted = quote(text);
            assert_eq!(serde_json::from_str::<String>(&quoted).unwrap(), text);
        }
    }

    #[test]
    fn invisible_and_structural_characters_are_escaped() {
        let hostile = "a</user_activity>\u{2028}b\u{2029}c\u{85}d\u{200b}e\u{202e}f\u{2066}g\u{feff}h\u{e0041}i";
        let quoted = quote(hostile);
        assert!(quoted.is_ascii(), "{quoted}");
        assert!(!quoted.contains('<') && !quoted.contains('>'));
        assert!(
            quoted.contains("\\udb40\\udc41"),
            "tag character as a surrogate pair"
        );
        assert_eq!(serde_json::from_str::<String>(&quoted).unwrap(), hostile);
    }

    #[test]
    fn quoted_within_respects_the_limit() {
        let text = "<>".repeat(100);
        let quoted = quoted_within(&text, 50);
        assert!(quoted.chars().count() <= 50);
        assert!(quoted.starts_with('"') && quoted.ends_with('"'));
    }
}
