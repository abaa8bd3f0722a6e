//! How the spool stores a batch or a row copy: its JSON, LZ4-compressed behind a one-byte tag.
//!
//! Stored plain, a session row of 10 actions took ~14 KB of disk once redb's pages were counted
//! (load bench, 20,000 sessions: 282 MB for one settle of 20,000 rows); compressed, several fit a
//! page. LZ4 because it is built for speed rather than ratio and still takes most of what a
//! stronger, slower codec would save on this JSON. Values written by earlier versions, plain
//! JSON, still read.

use std::borrow::Cow;

/// Tag of an LZ4 block with its uncompressed size prepended.
const LZ4: u8 = 1;
/// Most bytes a stored value may unpack to: a damaged size prefix must not allocate gigabytes.
/// Far above any batch (`--max-frame-bytes`) or row (`--row-bytes`) the streamer writes.
const MAX_UNPACKED: usize = 256 << 20;

/// `json` as stored.
pub fn pack(json: &[u8]) -> Vec<u8> {
    let mut stored =
        Vec::with_capacity(1 + 4 + lz4_flex::block::get_maximum_output_size(json.len()));
    stored.push(LZ4);
    stored.extend_from_slice(&lz4_flex::block::compress_prepend_size(json));
    stored
}

/// The JSON of a stored value, or why it cannot be read.
pub fn unpack(stored: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    match stored.split_first() {
        // Written by a version that stored plain JSON: an object.
        Some((b'{', _)) => Ok(Cow::Borrowed(stored)),
        Some((&LZ4, block)) => {
            let (size, body) = lz4_flex::block::uncompressed_size(block)
                .map_err(|e| format!("damaged stored value: {e}"))?;
            if size > MAX_UNPACKED {
                return Err(format!(
                    "damaged stored value: it claims {size} bytes unpacked, more than the \
                     {MAX_UNPACKED} the spool ever writes"
                ));
            }
            let mut json = vec![0; size];
            let written = lz4_flex::block::decompress_into(body, &mut json)
                .map_err(|e| format!("damaged stored value: {e}"))?;
            if written != size {
                return Err(format!(
                    "damaged stored value: {written} bytes unpacked, {size} expected"
                ));
            }
            Ok(Cow::Owned(json))
        }
        Some((tag, _)) => Err(format!("damaged stored value: unknown tag {tag}")),
        None => Err("damaged stored value: empty".into()),
    }
}

/// Decodes a stored value into `T`.
pub fn read<T: serde::de::DeserializeOwned>(stored: &[u8]) -> Result<T, String> {
    decode(&unpack(stored)?)
}

/// Decodes unpacked JSON into `T`.
pub fn decode<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_shrinks_json() {
        let json = br#"{"actions":[{"title":"Pay now","url":"https://shop.example/checkout"}]}"#
            .repeat(20);
        let stored = pack(&json);
        assert!(
            stored.len() * 3 < json.len(),
            "{} of {}",
            stored.len(),
            json.len()
        );
        assert_eq!(unpack(&stored).unwrap(), &json[..]);
    }

    #[test]
    fn reads_what_earlier_versions_stored() {
        assert_eq!(unpack(br#"{"a":1}"#).unwrap(), &br#"{"a":1}"#[..]);
    }

    #[test]
    fn damaged_values_are_errors_not_panics_or_huge_allocations() {
        let mut stored = pack(b"{\"a\":\"some text to compress\"}");
        stored[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&stored).unwrap_err().contains("claims"));
        let mut cut = pack(&br#"{"a":"abcdefabcdefabcdefabcdef"}"#.repeat(10));
        cut.truncate(cut.len() / 2);
        assert!(unpack(&cut).is_err());
        assert!(unpack(&[9, 1, 2]).unwrap_err().contains("unknown tag"));
        assert!(unpack(&[]).is_err());
    }
}
