//! Cutting text to a byte budget without splitting a UTF-8 character, leaving a visible marker.

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
}
