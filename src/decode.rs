//! Decoding untrusted JSON, with errors that name the offending field.
//!
//! Every public entry point that takes untrusted data (webhook bodies, table rows, options from a
//! Botpress code node) reports problems as an [`InputError`] rather than panicking, so the WASM
//! binding can turn it into a JavaScript `Error` whose message says which field was wrong.
//!
//! The text is parsed once into a [`Node`] tree ([`crate::json`]); a [`Decode`] type then reads
//! its node, knowing the node's [`Path`]. Structs and enums get `Decode` from `#[derive(Decode)]`
//! (`autoplay-botpress-derive`), which reads the types' own `#[serde(...)]` attributes; the one
//! loop over an object's fields ([`decode_fields`]) and every message are here. The messages are
//! serde's own words (``invalid type: integer `5`, expected a string``, ``missing field
//! `name` ``, …), so this reading and serde's (native code, `tests/decode_paths.rs`) agree.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::json;
pub use crate::json::Node;
pub use autoplay_botpress_derive::Decode;

/// A problem with caller-supplied data, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Dotted path of the field, e.g. `body.actions[2].title`.
    pub path: String,
    /// What was wrong with it.
    pub message: String,
}

impl InputError {
    /// An error about the field at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for InputError {}

/// A type read from a parsed document: `#[derive(Decode)]` for the core's structs and enums.
pub trait Decode: Sized {
    /// Reads `node`, found at `at`; an error names `at` or a node inside it.
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError>;
}

/// Decodes a JSON object into `T`, naming the failing field relative to `root` (e.g. `body`).
///
/// Serde's words say *what* was wrong; the path says *where*, which is what a user pasting code
/// into a Botpress card needs to fix their input. The top level must be an object: serde_json
/// would otherwise take an array for a struct's fields in order.
pub fn decode_json<T: Decode>(root: &str, json: &str) -> Result<T, InputError> {
    from_node(root, parse_object(root, json)?)
}

/// Parses JSON text whose top level must be an object, for [`from_node`].
pub fn parse_object<'a>(root: &str, json: &'a str) -> Result<Node<'a>, InputError> {
    expect_object(root, json)?;
    json::parse(json)
        .map_err(|problem| InputError::new(root, format!("is not valid JSON: {problem}")))
}

/// An error naming what the top level is when it is not an object.
fn expect_object(root: &str, json: &str) -> Result<(), InputError> {
    let kind = match json.trim_start().as_bytes().first() {
        Some(b'{') => return Ok(()),
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "text that is not JSON",
        None => "nothing",
    };
    Err(InputError::new(
        root,
        format!("expected an object, got {kind}"),
    ))
}

/// Decodes a parsed document into `T`; an error names the field at fault under `root`.
pub fn from_node<T: Decode>(root: &str, value: Node<'_>) -> Result<T, InputError> {
    T::decode(value, &Path::root(root))
}

impl<'a> Node<'a> {
    /// The value of an object's field `key` (the last one if repeated); `None` for a non-object.
    pub fn field(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(fields) => fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// An object's string field `key`: `None` when missing or `null`, an error naming
    /// `<root>.<key>` when it is not a string.
    pub fn str_field(&self, root: &str, key: &str) -> Result<Option<&str>, InputError> {
        match self.field(key) {
            None | Some(Node::Null) => Ok(None),
            Some(Node::Str(text)) => Ok(Some(text)),
            Some(_) => Err(InputError::new(
                format!("{root}.{key}"),
                "expected a string",
            )),
        }
    }

    /// The node as serde words an unexpected value (``integer `5` ``, `string "x"`, …).
    fn describe(&self) -> String {
        match self {
            Node::Null => "null".to_owned(),
            Node::Bool(b) => format!("boolean `{b}`"),
            Node::Unsigned(n) => format!("integer `{n}`"),
            Node::Signed(n) => format!("integer `{n}`"),
            Node::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => format!("floating point `{n}`"),
                None => "floating point".to_owned(),
            },
            Node::Str(s) => format!("string {}", crate::text::quote(s)),
            Node::Array(_) => "sequence".to_owned(),
            Node::Object(_) => "map".to_owned(),
        }
    }
}

/// Serde helper: an explicit `null` reads like a missing field (`T::default()`).
///
/// The Autoplay connector documents every payload field as "missing or null falls back to a
/// default". `#[serde(default)]` covers *missing*; this covers *null* for the native code that
/// reads these types with `serde_json` directly (Botpress rows in the demo, the spool's own
/// records); [`decode_fields`] already leaves null fields out. Four lines, so written here rather
/// than pulling `serde_with` in.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Where a node is in the document: its parent's path and the step from the parent. Rendered
/// (`body.actions[2].title`) only when an error needs it.
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

enum Step<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// The top of a document, named `root` (`body`, `input`, `options`).
    pub fn root(root: &'a str) -> Self {
        Path {
            parent: None,
            step: Step::Root(root),
        }
    }

    /// The field `key` of the object here.
    pub fn key<'b>(&'b self, key: &'b str) -> Path<'b> {
        Path {
            parent: Some(self),
            step: Step::Key(key),
        }
    }

    /// The element `index` of the array here.
    pub fn index(&self, index: usize) -> Path<'_> {
        Path {
            parent: Some(self),
            step: Step::Index(index),
        }
    }

    /// The dotted form, e.g. `body.actions[2].title`.
    pub fn render(&self) -> String {
        let mut out = self.parent.map(Path::render).unwrap_or_default();
        match self.step {
            Step::Root(root) => out.push_str(root),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
        out
    }

    /// An error about the node here.
    pub fn error(&self, message: impl Into<String>) -> InputError {
        InputError::new(self.render(), message)
    }
}

/// The error for a node of the wrong type, in serde's words: `invalid type: <what it is>,
/// expected <expected>`.
pub fn mismatch(node: &Node<'_>, at: &Path<'_>, expected: &str) -> InputError {
    at.error(format!(
        "invalid type: {}, expected {expected}",
        node.describe()
    ))
}

/// The error for a value of the right type out of range (``invalid value: integer `-1`,
/// expected u64``).
fn out_of_range(node: &Node<'_>, at: &Path<'_>, expected: &str) -> InputError {
    at.error(format!(
        "invalid value: {}, expected {expected}",
        node.describe()
    ))
}

/// The error for a required field the object at `at` lacks.
pub fn missing_field(at: &Path<'_>, name: &str) -> InputError {
    at.error(format!("missing field `{name}`"))
}

/// A place a decoded value goes: one field of a struct being decoded. Implemented once per field
/// type, so a struct's decoder is only the table of its fields ([`FieldSlots`]).
pub trait Slot {
    /// Decodes `node` into the place, replacing what was there.
    fn fill(&mut self, node: Node<'_>, at: &Path<'_>) -> Result<(), InputError>;
}

impl<T: Decode> Slot for T {
    fn fill(&mut self, node: Node<'_>, at: &Path<'_>) -> Result<(), InputError> {
        *self = T::decode(node, at)?;
        Ok(())
    }
}

/// The fields of a struct being decoded, by position (the order of the names given to
/// [`decode_fields`]). What `#[derive(Decode)]` writes for a struct.
pub trait FieldSlots {
    /// The place of the field at `position`.
    fn slot(&mut self, position: usize) -> &mut dyn Slot;
}

/// Reads an object for a struct whose fields are `names` (JSON keys, in declaration order):
/// decodes each field present into its slot. `null` fields are left out, so they take their
/// defaults as missing ones do (the connector's rule for every field); unknown keys are ignored
/// and a repeated one is an error, as in serde.
///
/// The one loop of every derived decoder.
pub fn decode_fields(
    node: Node<'_>,
    at: &Path<'_>,
    expecting: &str,
    names: &[&str],
    slots: &mut dyn FieldSlots,
) -> Result<(), InputError> {
    let Node::Object(fields) = node else {
        return Err(mismatch(&node, at, expecting));
    };
    let mut seen = 0_u64;
    for (key, value) in fields {
        if matches!(value, Node::Null) {
            continue;
        }
        let Some(position) = names.iter().position(|name| *name == key) else {
            continue;
        };
        if seen & (1 << position) != 0 {
            return Err(at.error(format!("duplicate field `{}`", names[position])));
        }
        seen |= 1 << position;
        slots.slot(position).fill(value, &at.key(&key))?;
    }
    Ok(())
}

/// Reads a unit variant from its name: the position of the string in `names`.
pub fn decode_variant(
    node: Node<'_>,
    at: &Path<'_>,
    expecting: &str,
    names: &[&str],
) -> Result<usize, InputError> {
    let Node::Str(name) = &node else {
        return Err(mismatch(&node, at, expecting));
    };
    names.iter().position(|n| n == name).ok_or_else(|| {
        let expected = match names {
            [] => "there are no variants".to_owned(),
            [one] => format!("`{one}`"),
            [a, b] => format!("`{a}` or `{b}`"),
            more => format!("one of `{}`", more.join("`, `")),
        };
        at.error(format!("unknown variant `{name}`, expected {expected}"))
    })
}

impl Decode for String {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        match node {
            Node::Str(text) => Ok(text.into_owned()),
            other => Err(mismatch(&other, at, "a string")),
        }
    }
}

impl Decode for bool {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        match node {
            Node::Bool(b) => Ok(b),
            other => Err(mismatch(&other, at, "a boolean")),
        }
    }
}

impl Decode for f64 {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        match node {
            Node::Float(x) => Ok(x),
            Node::Unsigned(n) => Ok(n as f64),
            Node::Signed(n) => Ok(n as f64),
            other => Err(mismatch(&other, at, "f64")),
        }
    }
}

/// Integers as serde reads them: any JSON integer in the type's range; one out of it is an
/// "invalid value", a float or anything else an "invalid type".
macro_rules! decode_integer {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
                let converted = match &node {
                    Node::Unsigned(n) => <$t>::try_from(*n).ok(),
                    Node::Signed(n) => <$t>::try_from(*n).ok(),
                    other => return Err(mismatch(other, at, stringify!($t))),
                };
                converted.ok_or_else(|| out_of_range(&node, at, stringify!($t)))
            }
        }
    )*};
}

decode_integer!(u8, u64, usize, i64);

impl<T: Decode> Decode for Option<T> {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        match node {
            Node::Null => Ok(None),
            other => T::decode(other, at).map(Some),
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        let Node::Array(items) = node else {
            return Err(mismatch(&node, at, "a sequence"));
        };
        // A plain loop: `collect` into a `Result` costs a kilobyte of `.wasm` per element type.
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            out.push(T::decode(item, &at.index(index))?);
        }
        Ok(out)
    }
}

/// An object read as a map; a key is decoded as `K` (an error about it names the map), a `null`
/// value reads as a missing entry and a repeated key keeps its last value, as serde's map does.
impl<K: Decode + Ord, V: Decode> Decode for BTreeMap<K, V> {
    fn decode(node: Node<'_>, at: &Path<'_>) -> Result<Self, InputError> {
        let Node::Object(fields) = node else {
            return Err(mismatch(&node, at, "a map"));
        };
        let mut map = BTreeMap::new();
        for (key, value) in fields {
            if matches!(value, Node::Null) {
                continue;
            }
            let decoded = K::decode(Node::Str(Cow::Borrowed(&key)), at)?;
            map.insert(decoded, V::decode(value, &at.key(&key))?);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Decode)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }
    #[derive(Debug, Decode)]
    struct Inner {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn names_the_nested_field() {
        let err =
            decode_json::<Outer>("body", r#"{"items":[{"name":"a"},{"name":5}]}"#).unwrap_err();
        assert_eq!(err.path, "body.items[1].name");
        assert!(err.message.contains("expected a string"), "{err}");
        assert!(!err.message.contains("line"), "{err}");
    }

    #[test]
    fn root_errors_use_the_root_name() {
        let err = decode_json::<Outer>("body", "42").unwrap_err();
        assert_eq!(err.to_string(), "body: expected an object, got a number");
        let err = decode_json::<Outer>("body", "[]").unwrap_err();
        assert_eq!(err.to_string(), "body: expected an object, got an array");
        let err = decode_json::<Outer>("body", "{}").unwrap_err();
        assert_eq!(err.path, "body");
        assert!(err.message.contains("missing field `items`"));
    }

    #[test]
    fn syntax_errors_say_so() {
        assert!(decode_json::<Outer>("body", r#"{"items":[]} x"#).is_err());
        let err = decode_json::<Outer>("body", "{not json").unwrap_err();
        assert_eq!(err.path, "body");
        assert!(err.message.starts_with("is not valid JSON: "), "{err}");
    }
}
