//! Decoding untrusted JSON, with errors that name the offending field.
//!
//! Every public entry point that takes untrusted data (webhook bodies, table rows, options from a
//! Botpress code node) reports problems as an [`InputError`] rather than panicking, so the WASM
//! binding can turn it into a JavaScript `Error` whose message says which field was wrong.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde::{forward_to_deserialize_any, Deserialize, Deserializer};

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

/// Decodes a JSON object into `T`, naming the failing field relative to `root` (e.g. `body`).
///
/// Serde's own messages say *what* was wrong; the path says *where*, which is what a user pasting
/// code into a Botpress card needs to fix their input. The top level must be an object: serde
/// would otherwise accept an array as a struct's fields in order.
pub fn decode_json<T: DeserializeOwned>(root: &str, json: &str) -> Result<T, InputError> {
    // One path everywhere, so the streamer and the package accept exactly the same documents
    // (serde_json's direct path would take `[]` for a struct whose fields all have defaults).
    from_node(root, parse_object(root, json)?)
}

/// Parses JSON text whose top level must be an object, for [`from_node`].
pub fn parse_object<'a>(root: &str, json: &'a str) -> Result<Node<'a>, InputError> {
    expect_object(root, json)?;
    serde_json::from_str(json).map_err(|err| {
        InputError::new(
            root,
            format!("is not valid JSON: {}", strip_position(&err.to_string())),
        )
    })
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
///
/// Hand-written rather than `serde_path_to_error`: that crate wraps every visitor of every type,
/// which cost 74 KB of the 330 KB `.wasm`. Here the path is known by the deserializer of each
/// node of the document ([`Located`]), and only rendered when an error needs it.
pub fn from_node<T: DeserializeOwned>(root: &str, value: Node<'_>) -> Result<T, InputError> {
    let path = Path {
        parent: None,
        step: Step::Root(root),
    };
    T::deserialize(Located { value, path: &path }).map_err(|err| InputError {
        path: err.path.unwrap_or_else(|| root.to_owned()),
        message: err.message,
    })
}

/// A parsed JSON document, as [`from_node`] reads it.
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
}

/// serde_json parses the text; this builds the [`Node`] (strings borrowed where serde_json can).
impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Unsigned(n))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Signed(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        Ok(Node::Float(n))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(s)))
    }

    fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            fields.push((key, map.next_value()?));
        }
        Ok(Node::Object(fields))
    }
}

/// An object's key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

/// Serde helper: an explicit `null` reads like a missing field (`T::default()`).
///
/// The Autoplay connector documents every payload field as "missing or null falls back to a
/// default". `#[serde(default)]` covers *missing*; this covers *null* for the native code that
/// reads these types with `serde_json` directly (Botpress rows in the demo, the spool's own
/// records); [`from_node`] already leaves null fields out. Four lines, so written here rather
/// than pulling `serde_with` in.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// In WebAssembly every input goes through [`from_node`], whose objects leave out their `null`
/// fields (see [`Fields`]): a field is then missing, and `#[serde(default)]` applies. This saves
/// an `Option` layer per field of every input type in the `.wasm`. (`tests/decode_paths.rs`
/// checks that both readings agree.)
#[cfg(target_arch = "wasm32")]
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    T::deserialize(deserializer)
}

/// serde_json appends " at line 1 column 873"; the column of a `JSON.stringify` output means
/// nothing to the caller, and the path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Where a node is in the document: its parent's path and the step from the parent.
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

enum Step<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

impl Path<'_> {
    fn render(&self) -> String {
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
}

/// A decoding error, and the path of the node it happened at once known.
#[derive(Debug)]
struct LocatedError {
    message: String,
    path: Option<String>,
}

impl fmt::Display for LocatedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LocatedError {}

impl de::Error for LocatedError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self {
            message: message.to_string(),
            path: None,
        }
    }

    // The two below spell what serde's defaults say, without serde's `Unexpected` formatting,
    // which would link the float and debug-string formatters (about 20 KB) into the `.wasm`.
    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::custom(format_args!(
            "invalid type: {}, expected {expected}",
            describe(unexpected)
        ))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::custom(format_args!(
            "invalid value: {}, expected {expected}",
            describe(unexpected)
        ))
    }
}

/// An unexpected value as serde words it (`integer \`5\``, `string "x"`, …).
fn describe(unexpected: Unexpected<'_>) -> String {
    match unexpected {
        Unexpected::Bool(b) => format!("boolean `{b}`"),
        Unexpected::Unsigned(n) => format!("integer `{n}`"),
        Unexpected::Signed(n) => format!("integer `{n}`"),
        Unexpected::Float(x) => match serde_json::Number::from_f64(x) {
            Some(n) => format!("floating point `{n}`"),
            None => "floating point".to_owned(),
        },
        Unexpected::Char(c) => format!("character `{c}`"),
        Unexpected::Str(s) => format!("string {}", crate::text::quote(s)),
        Unexpected::Bytes(_) => "byte array".to_owned(),
        Unexpected::Unit => "null".to_owned(),
        Unexpected::Option => "Option value".to_owned(),
        Unexpected::NewtypeStruct => "newtype struct".to_owned(),
        Unexpected::Seq => "sequence".to_owned(),
        Unexpected::Map => "map".to_owned(),
        Unexpected::Enum => "enum".to_owned(),
        Unexpected::UnitVariant => "unit variant".to_owned(),
        Unexpected::NewtypeVariant => "newtype variant".to_owned(),
        Unexpected::TupleVariant => "tuple variant".to_owned(),
        Unexpected::StructVariant => "struct variant".to_owned(),
        Unexpected::Other(other) => other.to_owned(),
    }
}

/// A node of the document with its path: a serde `Deserializer` that hands the node to the
/// visitor and, when the visitor fails, stamps the error with the node's path (the innermost
/// node that fails stamps it first).
struct Located<'p, 'a> {
    value: Node<'a>,
    path: &'p Path<'p>,
}

/// Stamps an error from the node at `path` with that path, unless a node inside it already did.
fn stamp<T>(path: &Path<'_>, result: Result<T, LocatedError>) -> Result<T, LocatedError> {
    result.map_err(|mut err| {
        if err.path.is_none() {
            err.path = Some(path.render());
        }
        err
    })
}

/// What serde says when a node is not of the type asked for.
fn mismatch(value: &Node<'_>, expected: &dyn Expected) -> LocatedError {
    de::Error::invalid_type(unexpected(value), expected)
}

fn unexpected<'v>(value: &'v Node<'_>) -> Unexpected<'v> {
    match value {
        Node::Null => Unexpected::Unit,
        Node::Bool(b) => Unexpected::Bool(*b),
        Node::Unsigned(n) => Unexpected::Unsigned(*n),
        Node::Signed(n) => Unexpected::Signed(*n),
        Node::Float(n) => Unexpected::Float(*n),
        Node::Str(s) => Unexpected::Str(s),
        Node::Array(_) => Unexpected::Seq,
        Node::Object(_) => Unexpected::Map,
    }
}

/// Gives an integer-typed visitor the node: integers as they are, floats and anything else for
/// the visitor to refuse in serde's words.
fn visit_integer<'de, V: Visitor<'de>>(
    value: Node<'_>,
    visitor: V,
) -> Result<V::Value, LocatedError> {
    match value {
        Node::Unsigned(n) => visitor.visit_u64(n),
        Node::Signed(n) => visitor.visit_i64(n),
        Node::Float(n) => visitor.visit_f64(n),
        other => Err(mismatch(&other, &visitor)),
    }
}

/// Each `deserialize_*` for a specific type hands the visitor the node only in that form, so a
/// visitor's other `visit_*` methods are never compiled for this deserializer; `deserialize_any`
/// (for `serde_json::Value` fields and hand-written visitors) offers every form.
impl<'de> Deserializer<'de> for Located<'_, '_> {
    type Error = LocatedError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let path = self.path;
        let result = match self.value {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(b),
            Node::Str(s) => visitor.visit_string(s.into_owned()),
            Node::Array(items) => visitor.visit_seq(Items::new(items, path)),
            Node::Object(fields) => visitor.visit_map(Fields::new(fields, path)),
            number => visit_integer(number, visitor),
        };
        stamp(path, result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let result = match self.value {
            Node::Bool(b) => visitor.visit_bool(b),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(self.path, result)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        stamp(self.path, visit_integer(self.value, visitor))
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        stamp(self.path, visit_integer(self.value, visitor))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let result = match self.value {
            Node::Float(n) => visitor.visit_f64(n),
            Node::Unsigned(n) => visitor.visit_f64(n as f64),
            Node::Signed(n) => visitor.visit_f64(n as f64),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(self.path, result)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let result = match self.value {
            Node::Str(s) => visitor.visit_string(s.into_owned()),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(self.path, result)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let path = self.path;
        let result = match self.value {
            Node::Array(items) => visitor.visit_seq(Items::new(items, path)),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(path, result)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let path = self.path;
        let result = match self.value {
            Node::Object(fields) => visitor.visit_map(Fields::new(fields, path)),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(path, result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Unit variants, written as strings (`"ping_pong"`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let result = match self.value {
            Node::Str(s) => visitor.visit_enum(s.into_owned().into_deserializer()),
            other => Err(mismatch(&other, &visitor)),
        };
        stamp(self.path, result)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u32 u128 f32 char bytes byte_buf unit unit_struct tuple
        tuple_struct identifier
    }
}

/// The elements of an array, each with its index in the path.
struct Items<'p, 'a> {
    items: std::iter::Enumerate<std::vec::IntoIter<Node<'a>>>,
    path: &'p Path<'p>,
}

impl<'p, 'a> Items<'p, 'a> {
    fn new(items: Vec<Node<'a>>, path: &'p Path<'p>) -> Self {
        Self {
            items: items.into_iter().enumerate(),
            path,
        }
    }
}

impl<'de> SeqAccess<'de> for Items<'_, '_> {
    type Error = LocatedError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Self::Error> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let path = Path {
            parent: Some(self.path),
            step: Step::Index(index),
        };
        seed.deserialize(Located { value, path: &path }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The fields of an object, each with its key in the path; `null` fields are left out, so they
/// take their defaults as missing ones do.
struct Fields<'p, 'a> {
    fields: std::vec::IntoIter<(Cow<'a, str>, Node<'a>)>,
    key: Cow<'a, str>,
    value: Option<Node<'a>>,
    path: &'p Path<'p>,
}

impl<'p, 'a> Fields<'p, 'a> {
    fn new(fields: Vec<(Cow<'a, str>, Node<'a>)>, path: &'p Path<'p>) -> Self {
        Self {
            fields: fields.into_iter(),
            key: Cow::Borrowed(""),
            value: None,
            path,
        }
    }
}

impl<'de> MapAccess<'de> for Fields<'_, '_> {
    type Error = LocatedError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        // A `null` field reads like a missing one (the connector's rule for every field).
        let Some((key, value)) = self.fields.find(|(_, value)| *value != Node::Null) else {
            return Ok(None);
        };
        self.value = Some(value);
        self.key = key;
        seed.deserialize(self.key.as_ref().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        let value = self.value.take().unwrap_or(Node::Null);
        let path = Path {
            parent: Some(self.path),
            step: Step::Key(&self.key),
        };
        seed.deserialize(Located { value, path: &path })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }
    #[derive(Debug, serde::Deserialize)]
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
