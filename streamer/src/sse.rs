//! A server-sent events parser that a hostile or broken stream cannot wedge or blow up.
//!
//! Hand-written rather than `eventsource-stream` (which this project used first): that crate
//! buffers a whole event before any size check, rescans its buffer as chunks arrive (quadratic in
//! a frame's size) and stops at the first invalid UTF-8 byte. Here the frame limit is enforced
//! while reading (an oversized frame is skipped to its end without being stored), each byte is
//! looked at once, and invalid UTF-8 is replaced (and reported) so later frames still arrive.
//! The format is small: lines end in CR, LF or CRLF; `field: value`; a blank line ends an event.

/// One thing the parser found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete event. `lossy`: invalid UTF-8 in it was replaced by U+FFFD.
    Event {
        name: String,
        data: String,
        lossy: bool,
    },
    /// An event whose fields passed `max_event_bytes`; it was skipped to its end.
    Oversized { bytes: usize },
}

/// Incremental parser: feed chunks with [`Parser::push`].
#[derive(Debug)]
pub struct Parser {
    max_event_bytes: usize,
    /// The current line so far (empty while skipping).
    line: Vec<u8>,
    /// The previous chunk ended in CR: a leading LF belongs to that line end.
    after_cr: bool,
    /// The current line has at least one byte (tracked separately while skipping).
    line_started: bool,
    name: String,
    data: String,
    has_data: bool,
    lossy: bool,
    /// Bytes of the current event so far.
    event_bytes: usize,
    skipping: bool,
    at_stream_start: bool,
}

impl Parser {
    pub fn new(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            line: Vec::new(),
            after_cr: false,
            line_started: false,
            name: String::new(),
            data: String::new(),
            has_data: false,
            lossy: false,
            event_bytes: 0,
            skipping: false,
            at_stream_start: true,
        }
    }

    /// Parses `chunk`, appending what it completes to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Item>) {
        if self.at_stream_start && !chunk.is_empty() {
            self.at_stream_start = false;
            chunk = chunk.strip_prefix("\u{feff}".as_bytes()).unwrap_or(chunk);
        }
        if self.after_cr && chunk.first() == Some(&b'\n') {
            chunk = &chunk[1..];
        }
        self.after_cr = false;
        while !chunk.is_empty() {
            match chunk.iter().position(|b| *b == b'\n' || *b == b'\r') {
                None => {
                    self.extend_line(chunk);
                    return;
                }
                Some(end) => {
                    self.extend_line(&chunk[..end]);
                    let crlf = chunk[end] == b'\r' && chunk.get(end + 1) == Some(&b'\n');
                    if chunk[end] == b'\r' && end + 1 == chunk.len() {
                        self.after_cr = true;
                    }
                    chunk = &chunk[end + if crlf { 2 } else { 1 }..];
                    self.end_line(out);
                }
            }
        }
    }

    fn extend_line(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.line_started = true;
        self.event_bytes = self.event_bytes.saturating_add(bytes.len());
        if self.event_bytes > self.max_event_bytes && !self.skipping {
            self.skipping = true;
            self.line = Vec::new();
            self.data = String::new();
        }
        if !self.skipping {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_line(&mut self, out: &mut Vec<Item>) {
        let blank = !self.line_started;
        self.line_started = false;
        if blank {
            self.dispatch(out);
            return;
        }
        if self.skipping {
            return;
        }
        // The line buffer keeps its capacity from line to line; only the text is copied out.
        let text: std::borrow::Cow<'_, str> = match std::str::from_utf8(&self.line) {
            Ok(text) => text.into(),
            Err(_) => {
                self.lossy = true;
                String::from_utf8_lossy(&self.line)
            }
        };
        if !text.starts_with(':') {
            // Not a comment (keep-alive): a field.
            let (field, value) = match text.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (&*text, ""),
            };
            match field {
                "event" => self.name = value.to_owned(),
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                _ => {} // id, retry and unknown fields: nothing to do here
            }
        }
        self.line.clear();
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        if self.skipping {
            out.push(Item::Oversized {
                bytes: self.event_bytes,
            });
        } else if self.has_data {
            out.push(Item::Event {
                name: std::mem::take(&mut self.name),
                data: std::mem::take(&mut self.data),
                lossy: self.lossy,
            });
        }
        self.name.clear();
        self.data.clear();
        self.has_data = false;
        self.lossy = false;
        self.skipping = false;
        self.event_bytes = 0;
        self.line.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&[u8]], max: usize) -> Vec<Item> {
        let mut parser = Parser::new(max);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, &mut out);
        }
        out
    }

    fn event(name: &str, data: &str) -> Item {
        Item::Event {
            name: name.into(),
            data: data.into(),
            lossy: false,
        }
    }

    #[test]
    fn reads_events_across_any_chunking_and_line_ends() {
        let stream = b"\xef\xbb\xbf: keep-alive\r\nevent: heartbeat\r\ndata: {}\r\n\r\ndata: {\"a\":\ndata:1}\n\nid: 7\rdata: x\r\r";
        let expected = vec![
            event("heartbeat", "{}"),
            event("", "{\"a\":\n1}"),
            event("", "x"),
        ];
        assert_eq!(parse(&[stream], 1000), expected);
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(parse(&[a, b], 1000), expected, "split at {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse(&bytes, 1000), expected);
    }

    #[test]
    fn oversized_events_are_skipped_without_being_kept() {
        let big = format!("data: {}\n\ndata: ok\n\n", "x".repeat(10_000));
        let mut parser = Parser::new(100);
        let mut out = Vec::new();
        for chunk in big.as_bytes().chunks(64) {
            parser.push(chunk, &mut out);
            assert!(
                parser.line.capacity() <= 256,
                "never buffers past the limit"
            );
        }
        assert_eq!(
            out,
            vec![Item::Oversized { bytes: 10_006 }, event("", "ok")]
        );
    }

    #[test]
    fn a_frame_without_end_stays_bounded() {
        let mut parser = Parser::new(1_000);
        let mut out = Vec::new();
        let chunk = vec![b'y'; 1 << 16];
        for _ in 0..100 {
            parser.push(&chunk, &mut out);
        }
        assert!(out.is_empty());
        assert!(parser.line.capacity() <= 1 << 17);
    }

    #[test]
    fn invalid_utf8_is_replaced_and_later_frames_still_arrive() {
        let out = parse(&[b"data: {\"t\":\"a\xff\xfeb\"}\n\ndata: fine\n\n"], 1000);
        assert_eq!(
            out,
            vec![
                Item::Event {
                    name: String::new(),
                    data: "{\"t\":\"a\u{fffd}\u{fffd}b\"}".into(),
                    lossy: true
                },
                event("", "fine"),
            ]
        );
    }

    #[test]
    fn garbage_without_fields_yields_nothing() {
        assert!(parse(&[b"hello\nworld\n\n\n\n:comment\n\n"], 1000).is_empty());
    }
}
