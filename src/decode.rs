//! Decoding untrusted JSON with serde, with errors that name the offending field.
//!
//! Every public entry point that takes untrusted data (webhook bodies, table rows, options from a
//! Botpress code node) reports problems as an [`InputError`] rather than panicking, so the WASM
//! binding can turn it into a JavaScript `Error` whose message says which field was wrong.
//!
//! The type's own `#[derive(Deserialize)]` reads straight from the text through
//! `serde_path_to_error`, which records where it was when it failed; there is no intermediate
//! tree (building one made a context from 2,000 rows ten times slower). A `null` field takes
//! its default where the type says so (serde_with's `DefaultOnNull` on the row and wire types).
//! The messages are serde's (``invalid type: map, expected a string``).

use std::fmt;

use serde::de::DeserializeOwned;

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
    expect_object(root, json)?;
    let mut reader = serde_json::Deserializer::from_str(json);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(value) => return reader.end().map(|()| value).map_err(|p| not_json(root, &p)),
        Err(error) => error,
    };
    if error.inner().is_syntax() || error.inner().is_eof() {
        return Err(not_json(root, error.inner()));
    }
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
    Err(InputError::new(
        path,
        strip_position(&error.into_inner().to_string()),
    ))
}

/// The error for text that is not JSON, at the root.
fn not_json(root: &str, problem: &serde_json::Error) -> InputError {
    InputError::new(root, format!("is not valid JSON: {problem}"))
}

/// serde_json appends ` at line L column C` to the errors of a reader over text; a field's path
/// already says where, and the column of a generated JSON string means nothing to its author.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
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
    #[serde_with::apply(_ => #[serde_as(deserialize_as = "serde_with::DefaultOnNull")])]
    #[serde_with::serde_as]
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
