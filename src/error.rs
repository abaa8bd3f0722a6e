//! Input errors that name the offending field.
//!
//! Every public entry point that takes untrusted data (webhook bodies, table rows, options from a
//! Botpress code node) reports problems as an [`InputError`] rather than panicking, so the WASM
//! binding can turn it into a JavaScript `Error` whose message says which field was wrong.

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
/// Serde's own messages say *what* was wrong; `serde_path_to_error` adds *where*, which is what a
/// user pasting code into a Botpress card needs to fix their input. The top level must be an
/// object: serde would otherwise accept an array as a struct's fields in order.
pub fn decode_json<T: DeserializeOwned>(root: &str, json: &str) -> Result<T, InputError> {
    let kind = match json.trim_start().as_bytes().first() {
        Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        Some(_) => Some("text that is not JSON"),
        None => Some("nothing"),
    };
    if let Some(kind) = kind {
        return Err(InputError::new(
            root,
            format!("expected an object, got {kind}"),
        ));
    }
    decode_json_value(root, json)
}

/// Like [`decode_json`] but accepts any top-level JSON value (e.g. a list of rows).
///
/// Natively, valid input takes serde_json's plain path and only input that fails is decoded again
/// with `serde_path_to_error` to name the field, so the streamer's hot path pays nothing for the
/// paths. In WebAssembly (one decode per chat turn) the second decoder would only add size.
pub fn decode_json_value<T: DeserializeOwned>(root: &str, json: &str) -> Result<T, InputError> {
    #[cfg(not(target_arch = "wasm32"))]
    if let Ok(value) = serde_json::from_str(json) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let inner = err.inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            InputError::new(root, format!("is not valid JSON: {message}"))
        } else {
            InputError::new(join_path(root, &err.path().to_string()), message)
        }
    })?;
    de.end()
        .map_err(|err| InputError::new(root, strip_position(&err.to_string())))?;
    Ok(value)
}

fn join_path(root: &str, sub: &str) -> String {
    match sub {
        "" | "." => root.to_owned(),
        s if s.starts_with('[') => format!("{root}{s}"),
        s => format!("{root}.{s}"),
    }
}

/// serde_json appends " at line 1 column 873"; the column of a `JSON.stringify` output means
/// nothing to the caller, and the path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
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
