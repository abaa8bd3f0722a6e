//! The core's JSON parser (`autoplay_botpress::json`, hand-written for the `.wasm`'s size) reads
//! texts as serde_json reads them: the same tree for what both accept, the same message for what
//! both refuse — on generated documents (numbers of every form, strings with every escape,
//! nesting, whitespace) and on those documents with characters deleted, inserted or cut off.
//! Floats are the same `f64` for decimal exponents within ±22; beyond (texts the mutations make,
//! never real inputs), within two units in the last place. (Native only: proptest.)
#![cfg(not(target_arch = "wasm32"))]

use std::fmt;

use autoplay_botpress::json::{parse, Node};
use proptest::prelude::*;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A document as serde_json reads it, in the shape of a [`Node`] (document order, repeated keys
/// kept), through serde_json's own deserializer.
#[derive(Debug, Clone, PartialEq)]
enum Tree {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
    Array(Vec<Tree>),
    Object(Vec<(String, Tree)>),
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Any;
        impl<'de> Visitor<'de> for Any {
            type Value = Tree;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON")
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Tree, E> {
                Ok(Tree::Bool(b))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Tree, E> {
                Ok(Tree::Unsigned(n))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Tree, E> {
                Ok(Tree::Signed(n))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Tree, E> {
                Ok(Tree::Float(x))
            }
            fn visit_str<E>(self, s: &str) -> Result<Tree, E> {
                Ok(Tree::Str(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Tree::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    fields.push((key, map.next_value()?));
                }
                Ok(Tree::Object(fields))
            }
        }
        deserializer.deserialize_any(Any)
    }
}

fn tree(node: Node<'_>) -> Tree {
    match node {
        Node::Null => Tree::Null,
        Node::Bool(b) => Tree::Bool(b),
        Node::Unsigned(n) => Tree::Unsigned(n),
        Node::Signed(n) => Tree::Signed(n),
        Node::Float(x) => Tree::Float(x),
        Node::Str(s) => Tree::Str(s.into_owned()),
        Node::Array(items) => Tree::Array(items.into_iter().map(tree).collect()),
        Node::Object(fields) => Tree::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.into_owned(), tree(v)))
                .collect(),
        ),
    }
}

/// serde_json's reading; an error is its message without " at line … column …".
fn serde_json_reading(text: &str) -> Result<Tree, String> {
    serde_json::from_str::<Tree>(text).map_err(|err| {
        let message = err.to_string();
        let end = message.rfind(" at line ").unwrap_or(message.len());
        message[..end].to_owned()
    })
}

fn our_reading(text: &str) -> Result<Tree, String> {
    parse(text).map(tree).map_err(str::to_owned)
}

/// The same tree, floats within `ulps` units in the last place.
fn agree(a: &Tree, b: &Tree, ulps: u64) -> bool {
    match (a, b) {
        (Tree::Float(x), Tree::Float(y)) => {
            x.to_bits() == y.to_bits()
                || (x.is_sign_negative() == y.is_sign_negative()
                    && x.abs().to_bits().abs_diff(y.abs().to_bits()) <= ulps)
        }
        (Tree::Array(xs), Tree::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| agree(x, y, ulps))
        }
        (Tree::Object(xs), Tree::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((kx, x), (ky, y))| kx == ky && agree(x, y, ulps))
        }
        (a, b) => a == b,
    }
}

fn check(text: &str, ulps: u64) -> Result<(), TestCaseError> {
    let (theirs, ours) = (serde_json_reading(text), our_reading(text));
    let same = match (&theirs, &ours) {
        (Ok(a), Ok(b)) => agree(a, b, ulps),
        (Err(a), Err(b)) => a == b,
        _ => false,
    };
    prop_assert!(
        same,
        "{text:?}\n  serde_json: {theirs:?}\n  json::parse: {ours:?}"
    );
    Ok(())
}

fn whitespace() -> BoxedStrategy<String> {
    "[ \t\n\r]{0,2}".boxed()
}

/// Numbers of every form JSON allows, exponents within ±22.
fn number() -> BoxedStrategy<String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?",
        "-?[1-9][0-9]{0,3}(\\.[0-9]{1,6})?[eE][+-]?(1?[0-9]|2[0-2])",
        "-?0(\\.0{1,3})?",
    ]
    .boxed()
}

/// String literals with plain text, every escape, surrogate pairs and stray surrogates.
fn string() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        4 => "[a-z A-Z0-9é€😀/<>]{1,4}",
        1 => prop::sample::select(vec![
            "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
        ])
        .prop_map(str::to_owned),
        1 => (0_u32..0x1_0000).prop_map(|n| format!("\\u{n:04x}")),
        1 => (0xD800_u32..0xDC00, 0xDC00_u32..0xE000)
            .prop_map(|(hi, lo)| format!("\\u{hi:04X}\\u{lo:04x}")),
    ];
    prop::collection::vec(piece, 0..6)
        .prop_map(|pieces| format!("\"{}\"", pieces.concat()))
        .boxed()
}

fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number(),
        string(),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let item = (whitespace(), inner.clone(), whitespace())
            .prop_map(|(before, value, after)| format!("{before}{value}{after}"))
            .boxed();
        prop_oneof![
            prop::collection::vec(item.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            prop::collection::vec((string(), whitespace(), item), 0..6).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(key, ws, value)| format!("{key}{ws}:{value}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// Applies `edits` to `text`: (position, what) deletes, inserts a JSON-ish character, or cuts.
fn edited(text: &str, edits: &[(usize, u8)]) -> String {
    const INSERTS: &[char] = &[
        '{', '}', '[', ']', '"', ',', ':', '\\', '-', '+', '0', '7', '.', 'e', 'E', 't', 'n', 'u',
        ' ', '\u{1}',
    ];
    let mut chars: Vec<char> = text.chars().collect();
    for &(position, what) in edits {
        let at = position % (chars.len() + 1);
        match what % 4 {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            3 => chars.truncate(at),
            _ => chars.insert(at, INSERTS[usize::from(what) % INSERTS.len()]),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn documents_read_alike(text in value()) {
        check(&text, 0)?;
    }

    #[test]
    fn damaged_documents_read_alike(
        text in value(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        check(&edited(&text, &edits), 2)?;
    }

    /// Timestamps (unix seconds to the millisecond) and thresholds come out as the exact `f64`
    /// the sender had: the fast path is correctly rounded.
    #[test]
    fn timestamps_and_thresholds_are_exact(
        x in prop_oneof![
            (1_600_000_000_000_i64..2_000_000_000_000).prop_map(|ms| ms as f64 / 1000.0),
            (-1_000_000_000_i64..1_000_000_000).prop_map(|n| n as f64 / 1000.0),
        ]
    ) {
        let text = format!("{x:?}");
        prop_assert_eq!(our_reading(&text), Ok(Tree::Float(x)), "{}", text);
        check(&text, 0)?;
    }
}

#[test]
fn edge_cases_read_alike() {
    for text in [
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "[,]",
        "[1,]",
        "[1,,2]",
        "{,}",
        r#"{"a"}"#,
        r#"{"a":}"#,
        r#"{"a":1,}"#,
        r#"{"a":1 "b":2}"#,
        r#"{1:2}"#,
        "nul",
        "nulx",
        "truex",
        "-",
        "--1",
        "+1",
        "01",
        "-01",
        "1.",
        "1.e5",
        "1e",
        "1e+",
        "1e+x",
        ".5",
        "1.5.5",
        "0x10",
        "1e400",
        "-1e400",
        "1e-400",
        "1e2147483648",
        "0e2147483648",
        "1e-2147483648",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "-0",
        "-0.0",
        "123456789012345678901234567890",
        "1234567890123456789012.5e-3",
        r#""\u"#,
        r#""\u12"#,
        r#""\u12x4""#,
        r#""\ud800""#,
        r#""\ud800\"#,
        r#""\ud800\n""#,
        r#""\ud800\u0041""#,
        r#""\udc00""#,
        "\"\u{7f}\"",
        "\"\t\"",
        r#""\a""#,
        "\"é😀\"",
        "[1] [2]",
        "{} x",
        "\u{feff}{}",
    ] {
        let (theirs, ours) = (serde_json_reading(text), our_reading(text));
        let same = match (&theirs, &ours) {
            (Ok(a), Ok(b)) => agree(a, b, 0),
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        assert!(
            same,
            "{text:?}\n  serde_json: {theirs:?}\n  json::parse: {ours:?}"
        );
    }
}

#[test]
fn nesting_limit_matches() {
    for depth in [126, 127, 128, 129] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            serde_json_reading(&text).is_ok(),
            our_reading(&text).is_ok(),
            "depth {depth}"
        );
        let text = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert_eq!(
            serde_json_reading(&text).map_err(|e| e.to_string()),
            our_reading(&text).map_err(|e| e.to_string()),
            "depth {depth}"
        );
    }
}
