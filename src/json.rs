//! JSON text to a [`Node`] tree.
//!
//! Hand-written rather than serde_json's deserializer: with its error type, position tracking
//! and 309-entry table of powers of ten, that parser and the visitor that built the tree were
//! about 14 KB of the 150 KB `.wasm` budget; this one is a fraction of it. It reads what
//! serde_json reads and refuses what it refuses with serde_json's words (`EOF while parsing an
//! object`, `trailing comma`, …): `tests/json_parity.rs` holds the two against each other. Numbers
//! follow serde_json's rules too (u64, else i64, else f64; `-0` is a float; digits past 20 are
//! dropped); a float is the same `f64` whenever its decimal exponent is within ±22, as every
//! timestamp and threshold here is, and within a few units in the last place beyond.

use std::borrow::Cow;

/// A parsed JSON document.
///
/// Not `serde_json::Value`: objects keep their fields in a `Vec` in document order (no map to
/// build; a repeated key is then reported as serde reports it, "duplicate field"), and strings
/// without escapes borrow from the text. That halves the cost of reading a large input.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// What is wrong with a JSON text, in serde_json's words.
pub type SyntaxError = &'static str;

const EOF_LIST: SyntaxError = "EOF while parsing a list";
const EOF_OBJECT: SyntaxError = "EOF while parsing an object";
const EOF_STRING: SyntaxError = "EOF while parsing a string";
const EOF_VALUE: SyntaxError = "EOF while parsing a value";
const EXPECTED_COLON: SyntaxError = "expected `:`";
const EXPECTED_LIST_COMMA_OR_END: SyntaxError = "expected `,` or `]`";
const EXPECTED_OBJECT_COMMA_OR_END: SyntaxError = "expected `,` or `}`";
const EXPECTED_IDENT: SyntaxError = "expected ident";
const EXPECTED_VALUE: SyntaxError = "expected value";
const INVALID_ESCAPE: SyntaxError = "invalid escape";
const INVALID_NUMBER: SyntaxError = "invalid number";
const OUT_OF_RANGE: SyntaxError = "number out of range";
const CONTROL_CHARACTER: SyntaxError =
    "control character (\\u0000-\\u001F) found while parsing a string";
const KEY_MUST_BE_A_STRING: SyntaxError = "key must be a string";
const LONE_SURROGATE: SyntaxError = "lone leading surrogate in hex escape";
const TRAILING_COMMA: SyntaxError = "trailing comma";
const TRAILING_CHARACTERS: SyntaxError = "trailing characters";
const UNEXPECTED_END_OF_HEX_ESCAPE: SyntaxError = "unexpected end of hex escape";
const RECURSION_LIMIT: SyntaxError = "recursion limit exceeded";

/// How a container ends, and serde_json's words when it does not.
struct Container {
    end: u8,
    eof: SyntaxError,
    expected_comma_or_end: SyntaxError,
}

const LIST: Container = Container {
    end: b']',
    eof: EOF_LIST,
    expected_comma_or_end: EXPECTED_LIST_COMMA_OR_END,
};

const OBJECT: Container = Container {
    end: b'}',
    eof: EOF_OBJECT,
    expected_comma_or_end: EXPECTED_OBJECT_COMMA_OR_END,
};

/// Containers nested deeper than this are refused, as serde_json refuses them: the parser
/// recurses, and the `.wasm`'s stack is small.
const MAX_DEPTH: u8 = 127;

/// Parses one JSON value, with nothing but whitespace after it.
pub fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    let mut parser = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let value = parser.value()?;
    match parser.skip_whitespace() {
        Some(_) => Err(TRAILING_CHARACTERS),
        None => Ok(value),
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next byte to read.
    at: usize,
    /// Containers open around `at`.
    depth: u8,
}

impl<'a> Parser<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    #[inline(always)]
    fn peek_digit(&self) -> Option<u8> {
        self.peek().filter(u8::is_ascii_digit).map(|d| d - b'0')
    }

    /// Skips whitespace; the byte after it.
    #[inline(always)]
    fn skip_whitespace(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
        self.peek()
    }

    fn value(&mut self) -> Result<Node<'a>, SyntaxError> {
        let first = self.skip_whitespace().ok_or(EOF_VALUE)?;
        if matches!(first, b'n' | b't' | b'f' | b'"' | b'-' | b'[' | b'{') {
            self.at += 1;
        }
        match first {
            b'n' => self.word(b"ull", Node::Null),
            b't' => self.word(b"rue", Node::Bool(true)),
            b'f' => self.word(b"alse", Node::Bool(false)),
            b'"' => self.string().map(Node::Str),
            b'-' => self.number(false),
            b'0'..=b'9' => self.number(true),
            b'[' | b'{' => {
                if self.depth >= MAX_DEPTH {
                    return Err(RECURSION_LIMIT);
                }
                self.depth += 1;
                let container = if first == b'[' {
                    self.array()
                } else {
                    self.object()
                };
                self.depth -= 1;
                container
            }
            _ => Err(EXPECTED_VALUE),
        }
    }

    /// The rest of `null`, `true` or `false`.
    fn word(&mut self, rest: &[u8], value: Node<'a>) -> Result<Node<'a>, SyntaxError> {
        for expected in rest {
            if self.next().ok_or(EOF_VALUE)? != *expected {
                return Err(EXPECTED_IDENT);
            }
        }
        Ok(value)
    }

    /// The elements after `[`, up to and including `]`.
    fn array(&mut self) -> Result<Node<'a>, SyntaxError> {
        let mut items = Vec::new();
        while self.another(&LIST, items.is_empty())? {
            items.push(self.value()?);
        }
        Ok(Node::Array(items))
    }

    /// The fields after `{`, up to and including `}`.
    fn object(&mut self) -> Result<Node<'a>, SyntaxError> {
        let mut fields = Vec::new();
        while self.another(&OBJECT, fields.is_empty())? {
            self.at += 1;
            let key = self.string()?;
            match self.skip_whitespace().ok_or(EOF_OBJECT)? {
                b':' => self.at += 1,
                _ => return Err(EXPECTED_COLON),
            }
            fields.push((key, self.value()?));
        }
        Ok(Node::Object(fields))
    }

    /// Between a container's elements: `false` at its end (consumed), `true` when another
    /// element follows (after a comma, unless it is the first); an object's element must start
    /// with its key's quote.
    fn another(&mut self, container: &Container, first: bool) -> Result<bool, SyntaxError> {
        let mut next = self.skip_whitespace().ok_or(container.eof)?;
        if next == container.end {
            self.at += 1;
            return Ok(false);
        }
        if !first {
            if next != b',' {
                return Err(container.expected_comma_or_end);
            }
            self.at += 1;
            next = self.skip_whitespace().ok_or(EOF_VALUE)?;
            if next == container.end {
                return Err(TRAILING_COMMA);
            }
        }
        if container.end == b'}' && next != b'"' {
            return Err(KEY_MUST_BE_A_STRING);
        }
        Ok(true)
    }

    /// A string after its opening quote, up to and including the closing one: borrowed from the
    /// text unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let bytes = self.text.as_bytes();
        let mut unescaped: Option<String> = None;
        let mut run = self.at;
        loop {
            let special = bytes[self.at..]
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(offset) = special else {
                self.at = bytes.len();
                return Err(EOF_STRING);
            };
            self.at += offset;
            // `run..self.at` lies between ASCII bytes, so on character boundaries.
            let piece = &self.text[run..self.at];
            match bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(match unescaped {
                        None => Cow::Borrowed(piece),
                        Some(mut text) => {
                            text.push_str(piece);
                            Cow::Owned(text)
                        }
                    });
                }
                b'\\' => {
                    let text = unescaped.get_or_insert_with(String::new);
                    text.push_str(piece);
                    self.at += 1;
                    text.push(self.escape()?);
                    run = self.at;
                }
                _ => return Err(CONTROL_CHARACTER),
            }
        }
    }

    /// The character an escape after its backslash stands for.
    fn escape(&mut self) -> Result<char, SyntaxError> {
        Ok(match self.next().ok_or(EOF_STRING)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(INVALID_ESCAPE),
        })
    }

    /// The character of a `\uXXXX` escape (two, for a surrogate pair) after its `\u`.
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let lead = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&lead) {
            return Err(LONE_SURROGATE);
        }
        if !(0xD800..=0xDBFF).contains(&lead) {
            return char::from_u32(lead).ok_or(INVALID_ESCAPE);
        }
        for expected in [b'\\', b'u'] {
            if self.next().ok_or(EOF_STRING)? != expected {
                return Err(UNEXPECTED_END_OF_HEX_ESCAPE);
            }
        }
        let trail = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&trail) {
            return Err(LONE_SURROGATE);
        }
        char::from_u32(0x1_0000 + ((lead - 0xD800) << 10) + (trail - 0xDC00)).ok_or(INVALID_ESCAPE)
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let Some(digits) = self.text.as_bytes().get(self.at..self.at + 4) else {
            self.at = self.text.len();
            return Err(EOF_STRING);
        };
        self.at += 4;
        digits
            .iter()
            .try_fold(0, |n, &d| Some(n * 16 + char::from(d).to_digit(16)?))
            .ok_or(INVALID_ESCAPE)
    }

    /// A number after its sign: an integer as `u64` or (negative) `i64` when it fits, else a float.
    fn number(&mut self, positive: bool) -> Result<Node<'a>, SyntaxError> {
        let mut significand = match self.next().ok_or(EOF_VALUE)? {
            b'0' if self.peek_digit().is_some() => return Err(INVALID_NUMBER),
            d @ b'0'..=b'9' => u64::from(d - b'0'),
            _ => return Err(INVALID_NUMBER),
        };
        let mut exponent: i32 = 0;
        while let Some(digit) = self.peek_digit() {
            self.at += 1;
            match significand
                .checked_mul(10)
                .and_then(|n| n.checked_add(digit.into()))
            {
                // Past u64, further digits only scale it.
                Some(n) if exponent == 0 => significand = n,
                _ => exponent = exponent.saturating_add(1),
            }
        }
        match self.peek() {
            Some(b'.' | b'e' | b'E') => {}
            _ if exponent == 0 && positive => return Ok(Node::Unsigned(significand)),
            // `-0` and negatives beyond i64 are floats.
            _ if exponent == 0 => {
                return Ok(match 0_i64.checked_sub_unsigned(significand) {
                    Some(n) if n < 0 => Node::Signed(n),
                    _ => Node::Float(-(significand as f64)),
                })
            }
            _ => {}
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let mut fraction_digits = 0;
            let mut full = false;
            while let Some(digit) = self.peek_digit() {
                self.at += 1;
                fraction_digits += 1;
                match significand
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(digit.into()))
                {
                    // Past u64, further fraction digits are dropped.
                    Some(n) if !full => {
                        significand = n;
                        exponent -= 1;
                    }
                    _ => full = true,
                }
            }
            if fraction_digits == 0 {
                return Err(if self.peek().is_some() {
                    INVALID_NUMBER
                } else {
                    EOF_VALUE
                });
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let negative = match self.peek() {
                Some(sign @ (b'+' | b'-')) => {
                    self.at += 1;
                    sign == b'-'
                }
                _ => false,
            };
            let mut power = match self.next().ok_or(EOF_VALUE)? {
                d @ b'0'..=b'9' => i32::from(d - b'0'),
                _ => return Err(INVALID_NUMBER),
            };
            while let Some(digit) = self.peek_digit() {
                self.at += 1;
                match power
                    .checked_mul(10)
                    .and_then(|p| p.checked_add(digit.into()))
                {
                    Some(p) => power = p,
                    None if significand != 0 && !negative => return Err(OUT_OF_RANGE),
                    None => {
                        while self.peek_digit().is_some() {
                            self.at += 1;
                        }
                        return Ok(Node::Float(if positive { 0.0 } else { -0.0 }));
                    }
                }
            }
            exponent = if negative {
                exponent.saturating_sub(power)
            } else {
                exponent.saturating_add(power)
            };
        }
        let magnitude = scale(significand, exponent).ok_or(OUT_OF_RANGE)?;
        Ok(Node::Float(if positive { magnitude } else { -magnitude }))
    }
}

/// `significand × 10^exponent` as serde_json computes it (one multiplication or division by a
/// power of ten); `None` when it overflows.
fn scale(significand: u64, mut exponent: i32) -> Option<f64> {
    let mut value = significand as f64;
    loop {
        let power = exponent.unsigned_abs();
        if power <= 308 {
            if exponent >= 0 {
                value *= power_of_ten(power);
                return value.is_finite().then_some(value);
            }
            return Some(value / power_of_ten(power));
        }
        if value == 0.0 {
            return Some(value);
        }
        if exponent >= 0 {
            return None;
        }
        value /= 1e308;
        exponent += 308;
    }
}

/// 10^n for n ≤ 308: exact up to 10^22 (the powers an `f64` holds exactly); beyond, products of
/// those, within a few units in the last place.
fn power_of_ten(mut n: u32) -> f64 {
    const EXACT: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let mut power = 1.0;
    while n > 22 {
        power *= 1e22;
        n -= 22;
    }
    power * EXACT[n as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let doc = parse(
            r#" {"a": [1, -2, 3.5, -0, true, false, null, "x\n\u00e9\ud83d\ude00"], "b": {}} "#,
        )
        .unwrap();
        let Node::Object(fields) = &doc else {
            panic!("an object")
        };
        let Node::Array(items) = &fields[0].1 else {
            panic!("an array")
        };
        assert_eq!(items[0], Node::Unsigned(1));
        assert_eq!(items[1], Node::Signed(-2));
        assert_eq!(items[2], Node::Float(3.5));
        assert!(matches!(items[3], Node::Float(z) if z == 0.0 && z.is_sign_negative()));
        assert_eq!(items[7], Node::Str("x\né😀".into()));
        assert_eq!(fields[1], ("b".into(), Node::Object(Vec::new())));
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let Node::Object(fields) = parse(r#"{"plain": "text", "escaped": "a\"b"}"#).unwrap() else {
            panic!("an object")
        };
        assert!(matches!(&fields[0].0, Cow::Borrowed("plain")));
        assert!(matches!(&fields[0].1, Node::Str(Cow::Borrowed("text"))));
        assert!(matches!(&fields[1].1, Node::Str(Cow::Owned(s)) if s == "a\"b"));
    }

    #[test]
    fn numbers_follow_serde_json() {
        let number = |text: &'static str| parse(text).unwrap();
        assert_eq!(number("18446744073709551615"), Node::Unsigned(u64::MAX));
        assert_eq!(
            number("18446744073709551616"),
            Node::Float(18446744073709551616.0)
        );
        assert_eq!(number("-9223372036854775808"), Node::Signed(i64::MIN));
        assert_eq!(number("1795521600.25"), Node::Float(1795521600.25));
        assert_eq!(number("1e3"), Node::Float(1000.0));
        assert_eq!(number("2.5E-3"), Node::Float(0.0025));
        assert_eq!(number("1e-400"), Node::Float(0.0));
        assert_eq!(parse("1e400"), Err(OUT_OF_RANGE));
        assert_eq!(parse("01"), Err(INVALID_NUMBER));
        assert_eq!(parse("1."), Err(EOF_VALUE));
        assert_eq!(parse("1.x"), Err(INVALID_NUMBER));
        assert_eq!(parse("-"), Err(EOF_VALUE));
    }

    #[test]
    fn refuses_in_serde_jsons_words() {
        for (text, error) in [
            ("", EOF_VALUE),
            ("{", EOF_OBJECT),
            ("[1", EOF_LIST),
            ("[1,]", TRAILING_COMMA),
            (r#"{"a":1,}"#, TRAILING_COMMA),
            ("[1 2]", EXPECTED_LIST_COMMA_OR_END),
            (r#"{"a":1 "b":2}"#, EXPECTED_OBJECT_COMMA_OR_END),
            (r#"{"a" 1}"#, EXPECTED_COLON),
            ("{a:1}", KEY_MUST_BE_A_STRING),
            ("tru", EOF_VALUE),
            ("trux", EXPECTED_IDENT),
            (r#""a"#, EOF_STRING),
            ("\"a\u{1}\"", CONTROL_CHARACTER),
            (r#""\x""#, INVALID_ESCAPE),
            (r#""\udc00""#, LONE_SURROGATE),
            (r#""\ud800x""#, UNEXPECTED_END_OF_HEX_ESCAPE),
            (r#""\ud800\u0041""#, LONE_SURROGATE),
            ("{} x", TRAILING_CHARACTERS),
            ("?", EXPECTED_VALUE),
        ] {
            assert_eq!(parse(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(&deep(127)).is_ok());
        assert_eq!(parse(&deep(128)), Err(RECURSION_LIMIT));
        assert_eq!(parse(&"[".repeat(1_000_000)), Err(RECURSION_LIMIT));
    }
}
