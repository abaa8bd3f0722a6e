//! Serde helper: treat an explicit `null` like a missing field.
//!
//! The Autoplay connector documents every payload field as "missing or null falls back to a
//! default". `#[serde(default)]` covers *missing*; this covers *null*. It is four lines, so it is
//! written here rather than pulling `serde_with` (and its size) into the `.wasm`.

use serde::{Deserialize, Deserializer};

/// Deserializes `T`, mapping JSON `null` to `T::default()`.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
