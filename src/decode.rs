//! Decoding untrusted JSON with serde, with errors that name the offending field.
//!
//! Every public entry point that takes untrusted data (webhook bodies, table rows, options from a
//! Botpress code node) reports problems as an [`InputError`] rather than panicking, so the WASM
//! binding can turn it into a JavaScript `Error` whose message says which field was wrong.
//!
//! The text is parsed once into a [`Value`] (serde_json); its `null` object fields are dropped,
//! so they take their defaults as missing ones do (the connector's "missing or null falls back
//! to a default", and Botpress rows give unset columns as `null`); then the type's own
//! `#[derive(Deserialize)]` reads it through `serde_path_to_error`, which records where it was
//! when it failed. The messages are serde's (``invalid type: integer `5`, expected a string``).

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

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
/// The top level must be an object: serde would otherwise take an array for a struct's fields
/// in order.
pub fn decode_json<T: DeserializeOwned>(root: &str, json: &str) -> Result<T, InputError> {
    from_value(root, parse_object(root, json)?)
}

/// Parses JSON text whose top level must be an object, its `null` fields dropped, for
/// [`from_value`].
pub fn parse_object(root: &str, json: &str) -> Result<Value, InputError> {
    expect_object(root, json)?;
    let mut value: Value = serde_json::from_str(json)
        .map_err(|problem| InputError::new(root, format!("is not valid JSON: {problem}")))?;
    drop_nulls(&mut value);
    Ok(value)
}

/// Decodes a parsed document into `T`; an error names the field at fault under `root`.
/// `null` object fields read as missing ones (see [`parse_object`]).
pub fn from_value<T: DeserializeOwned>(root: &str, mut value: Value) -> Result<T, InputError> {
    drop_nulls(&mut value);
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut path = root.to_owned();
        for segment in error.path().iter() {
            use serde_path_to_error::Segment;
            match segment {
                Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Unknown => {}
            }
        }
        InputError::new(path, error.into_inner().to_string())
    })
}

/// Removes every `null` field of every object in `value` (array elements stay).
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, field| !field.is_null());
            fields.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[allow(dead_code)]
        items: Vec<Inner>,
    }
    #[derive(Debug, Deserialize)]
    struct Inner {
        #[allow(dead_code)]
        #[serde(default)]
        name: String,
    }

    #[test]
    fn names_the_nested_field() {
        let err =
            decode_json::<Outer>("body", r#"{"items":[{"name":"a"},{"name":5}]}"#).unwrap_err();
        assert_eq!(err.path, "body.items[1].name");
        assert_eq!(err.message, "invalid type: integer `5`, expected a string");
    }

    #[test]
    fn null_fields_read_as_missing() {
        let outer: Outer = decode_json("body", r#"{"items":[{"name":null}]}"#).unwrap();
        assert_eq!(outer.items[0].name, "");
    }

    #[test]
    fn root_errors_use_the_root_name() {
        let err = decode_json::<Outer>("body", "42").unwrap_err();
        assert_eq!(err.to_string(), "body: expected an object, got a number");
        let err = decode_json::<Outer>("body", "[]").unwrap_err();
        assert_eq!(err.to_string(), "body: expected an object, got an array");
        let err = decode_json::<Outer>("body", "{}").unwrap_err();
        assert_eq!(err.to_string(), "body: missing field `items`");
    }

    #[test]
    fn syntax_errors_say_so() {
        assert!(decode_json::<Outer>("body", r#"{"items":[]} x"#).is_err());
        let err = decode_json::<Outer>("body", "{not json").unwrap_err();
        assert_eq!(err.path, "body");
        assert!(err.message.starts_with("is not valid JSON: "), "{err}");
    }
}
