//! Text budgets and quoting.
//!
//! Budgets: text is cut to a byte or character budget without splitting a UTF-8 character,
//! leaving a visible marker, so nothing is dropped silently.
//!
//! Quoting: text that comes from the product's pages (titles, descriptions, URLs) stays visibly
//! data wherever it goes — prompts, signal descriptions, nudge reasons. A quoted string is a JSON
//! string literal. Besides JSON's own escapes, every character that could make the text *look*
//! different from what it is, or end a surrounding block, is written as a `\uXXXX` escape: angle
//! brackets, C0/C1 controls, line and paragraph separators, zero-width and bidirectional
//! controls, and Unicode tag characters (used to smuggle invisible text). Hand-written rather
//! than `serde_json::to_string` plus replacements: one pass, and the astral tag characters need
//! surrogate-pair escapes that a replacement chain would not produce.

/// Appended to any string that was shortened.
pub const MARKER: &str = "…[truncated]";

/// Shortens `text` in place so that it is at most `max_bytes` long including [`MARKER`].
/// Returns whether it was cut. A budget smaller than the marker leaves just a prefix of it.
pub fn truncate_in_place(text: &mut String, max_bytes: usize) -> bool {
    if text.len() <= max_bytes {
        return false;
    }
    let keep = floor_char_boundary(text, max_bytes.saturating_sub(MARKER.len()));
    text.truncate(keep);
    if max_bytes >= MARKER.len() {
        text.push_str(MARKER);
    } else {
        text.clear();
        text.push_str(&MARKER[..floor_char_boundary(MARKER, max_bytes)]);
    }
    true
}

/// Shortens `text` to at most `max_chars` characters (Unicode scalar values), marker included.
pub fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let marker_chars = MARKER.chars().count();
    let keep = max_chars.saturating_sub(marker_chars);
    let mut out: String = text.chars().take(keep).collect();
    out.extend(MARKER.chars().take(max_chars - keep));
    out
}

/// The size of `value` as JSON, in bytes, measured without building the text.
pub fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    let mut sink = JsonSink::Count(0);
    match serde_json::to_writer(&mut sink, value) {
        Ok(()) => sink.len(),
        Err(_) => usize::MAX,
    }
}

/// `value` as JSON text; `None` if it cannot be written (a map with non-string keys).
///
/// Rather than `serde_json::to_string`: measuring ([`json_len`]) and writing go through one
/// writer type, so each type's serializer exists once in the `.wasm`, not once per writer.
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Option<String> {
    let mut sink = JsonSink::Text(Vec::with_capacity(256));
    serde_json::to_writer(&mut sink, value).ok()?;
    match sink {
        JsonSink::Text(bytes) => String::from_utf8(bytes).ok(),
        JsonSink::Count(_) => None,
    }
}

/// Where serde_json writes: a byte count, or the text itself.
enum JsonSink {
    Count(usize),
    Text(Vec<u8>),
}

impl JsonSink {
    fn len(&self) -> usize {
        match self {
            JsonSink::Count(n) => *n,
            JsonSink::Text(bytes) => bytes.len(),
        }
    }
}

impl std::io::Write for JsonSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self {
            JsonSink::Count(n) => *n += bytes.len(),
            JsonSink::Text(text) => text.extend_from_slice(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The largest index `<= at` that lies on a character boundary of `text`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

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

/// What a person would call an action: its description, else its title.
pub fn description_or_title<'a>(description: &'a str, title: &'a str) -> &'a str {
    if description.trim().is_empty() {
        title
    } else {
        description
    }
}

/// One action as the prompt renderer and the summarizer show it:
/// `[index] "type": "what" — "url"` ([`description_or_title`]), each quoted and cut to
/// `max_field` characters.
pub fn action_line(
    index: u64,
    kind: &str,
    description: &str,
    title: &str,
    url: &str,
    max_field: usize,
) -> String {
    let what = description_or_title(description, title);
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
    fn short_text_is_untouched() {
        let mut s = "hello".to_owned();
        assert!(!truncate_in_place(&mut s, 5));
        assert_eq!(s, "hello");
    }

    #[test]
    fn never_splits_a_character() {
        // "é" is 2 bytes, "😀" is 4: try every budget around them.
        let original = "aé😀b😀😀é".repeat(20);
        for budget in 0..original.len() + 2 {
            let mut s = original.clone();
            let cut = truncate_in_place(&mut s, budget);
            assert_eq!(cut, original.len() > budget);
            if cut {
                assert!(s.len() <= budget, "budget {budget}: {} bytes", s.len());
            } else {
                assert_eq!(s, original);
            }
            if cut && budget >= MARKER.len() {
                assert!(s.ends_with(MARKER));
                assert!(original.starts_with(&s[..s.len() - MARKER.len()]));
            }
        }
    }

    #[test]
    fn char_budget() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        let cut = truncate_chars(&"é".repeat(100), 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with(MARKER));
        assert_eq!(truncate_chars("abcdef", 2).chars().count(), 2);
    }

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
