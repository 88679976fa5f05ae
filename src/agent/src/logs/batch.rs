//! PutLogEvents batches: limits, ordering, encoding, and the spool record that carries them.
//!
//! A [`BatchBuilder`] collects events for one (group, stream). It is full when one more event
//! would exceed [`MAX_EVENTS`] events or [`MAX_BATCH_BYTES`] bytes (each event counts its UTF-8
//! message length plus [`EVENT_OVERHEAD`], the API's own accounting) or stretch the batch over
//! more than 24 hours. Events are sorted by timestamp (stably, only when they arrived out of
//! order) when the batch is sealed, because PutLogEvents needs them in chronological order.
//!
//! Besides events, a batch carries **extents**: for every file that contributed, the byte
//! offset just after the last line read into it (lines dropped by filters or the age check
//! count too, so a file of filtered lines still advances). The sender acknowledges these
//! offsets to the checkpoint store once the destination accepted the batch. A batch may hold
//! extents and no event (everything filtered): it is then acknowledged without a call.
//!
//! # Spool record format (version 1)
//!
//! A sealed batch is stored in the spool as one record:
//!
//! ```text
//! {"v":1,"group":..,"stream":..,"class":..|null,"retention":..|null,"events":N,
//!  "first_ms":..,"last_ms":..,"extents":[{"fp":{..},"path":..,"end":..}]}\n
//! <the PutLogEvents JSON request body, or nothing when N = 0>
//! ```
//!
//! The header is one line of JSON (no raw newline can occur inside it: serde escapes them);
//! the body is exactly what is sent (compressed, signed at send time).

use hostwatch_tailer::Fingerprint;
use serde::{Deserialize, Serialize};

/// Most events in one PutLogEvents call.
pub const MAX_EVENTS: usize = 10_000;
/// Most bytes in one PutLogEvents call, counting each message plus [`EVENT_OVERHEAD`].
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// What PutLogEvents counts per event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
/// Longest message that fits a call on its own.
pub const MAX_MESSAGE_BYTES: usize = MAX_BATCH_BYTES - EVENT_OVERHEAD;
/// The longest time span one call may cover.
pub const MAX_SPAN_MS: i64 = 24 * 3600 * 1000;
/// Appended to a message cut to fit ([`MAX_MESSAGE_BYTES`]).
pub const TRUNCATED_SUFFIX: &str = "[Truncated...]";
/// Spool record format version.
pub const RECORD_VERSION: u32 = 1;

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Where a file's data in a batch ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    pub fp: Fingerprint,
    pub path: String,
    pub end: u64,
}

/// The header of a spool record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHeader {
    pub v: u32,
    pub group: String,
    pub stream: String,
    pub class: Option<String>,
    pub retention: Option<i64>,
    pub events: usize,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub extents: Vec<Extent>,
}

/// Why a spool record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("spool record has no header line")]
    NoHeader,
    #[error("spool record header is not valid: {0}")]
    Header(serde_json::Error),
    #[error("spool record version {0} is not supported")]
    Version(u32),
}

/// Split a record into its header and body.
pub fn decode_record(bytes: &[u8]) -> Result<(RecordHeader, &[u8]), RecordError> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(RecordError::NoHeader)?;
    let header: RecordHeader = serde_json::from_slice(&bytes[..nl]).map_err(RecordError::Header)?;
    if header.v != RECORD_VERSION {
        return Err(RecordError::Version(header.v));
    }
    Ok((header, &bytes[nl + 1..]))
}

/// Cut `message` to [`MAX_MESSAGE_BYTES`] on a character boundary, with the suffix.
pub fn fit_message(message: &mut String) -> bool {
    if message.len() <= MAX_MESSAGE_BYTES {
        return false;
    }
    let mut cut = MAX_MESSAGE_BYTES - TRUNCATED_SUFFIX.len();
    while cut > 0 && !message.is_char_boundary(cut) {
        cut -= 1;
    }
    message.truncate(cut);
    message.push_str(TRUNCATED_SUFFIX);
    true
}

/// Events for one destination, not yet sealed.
#[derive(Debug)]
pub struct BatchBuilder {
    pub group: String,
    pub stream: String,
    pub class: Option<String>,
    pub retention: Option<i64>,
    events: Vec<Event>,
    bytes: usize,
    min_ms: i64,
    max_ms: i64,
    out_of_order: bool,
    extents: Vec<Extent>,
    /// When the first event or extent arrived (caller's clock, ms).
    pub opened_ms: Option<i64>,
}

impl BatchBuilder {
    pub fn new(
        group: String,
        stream: String,
        class: Option<String>,
        retention: Option<i64>,
    ) -> Self {
        BatchBuilder {
            group,
            stream,
            class,
            retention,
            events: Vec::new(),
            bytes: 0,
            min_ms: i64::MAX,
            max_ms: i64::MIN,
            out_of_order: false,
            extents: Vec::new(),
            opened_ms: None,
        }
    }

    /// Whether nothing (no event, no extent) is held.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.extents.is_empty()
    }

    /// Number of events held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Bytes held, as PutLogEvents counts them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether `event` can join without breaking a limit.
    pub fn fits(&self, event: &Event) -> bool {
        if self.events.is_empty() {
            return true;
        }
        let size = event.message.len() + EVENT_OVERHEAD;
        self.events.len() < MAX_EVENTS
            && self.bytes + size <= MAX_BATCH_BYTES
            && event.timestamp_ms.max(self.max_ms) - event.timestamp_ms.min(self.min_ms)
                <= MAX_SPAN_MS
    }

    /// Add an event (the caller checked [`BatchBuilder::fits`]); cut to fit if oversized.
    pub fn push(&mut self, mut event: Event, now_ms: i64) {
        fit_message(&mut event.message);
        if let Some(last) = self.events.last() {
            if event.timestamp_ms < last.timestamp_ms {
                self.out_of_order = true;
            }
        }
        self.bytes += event.message.len() + EVENT_OVERHEAD;
        self.min_ms = self.min_ms.min(event.timestamp_ms);
        self.max_ms = self.max_ms.max(event.timestamp_ms);
        self.events.push(event);
        self.opened_ms.get_or_insert(now_ms);
    }

    /// Record that `fp`'s data up to `end` is in this batch.
    pub fn extend_to(&mut self, fp: &Fingerprint, path: &str, end: u64, now_ms: i64) {
        self.opened_ms.get_or_insert(now_ms);
        if let Some(e) = self.extents.iter_mut().find(|e| &e.fp == fp) {
            e.end = e.end.max(end);
            return;
        }
        self.extents.push(Extent {
            fp: fp.clone(),
            path: path.to_string(),
            end,
        });
    }

    /// Seal into a spool record and reset (the destination settings stay).
    pub fn seal(&mut self) -> Vec<u8> {
        let mut events = std::mem::take(&mut self.events);
        if self.out_of_order {
            events.sort_by_key(|e| e.timestamp_ms);
        }
        let header = RecordHeader {
            v: RECORD_VERSION,
            group: self.group.clone(),
            stream: self.stream.clone(),
            class: self.class.clone(),
            retention: self.retention,
            events: events.len(),
            first_ms: events.first().map(|e| e.timestamp_ms),
            last_ms: events.last().map(|e| e.timestamp_ms),
            extents: std::mem::take(&mut self.extents),
        };
        let mut out = Vec::with_capacity(self.bytes + events.len() * 32 + 256);
        if serde_json::to_writer(&mut out, &header).is_err() {
            out.clear();
        }
        out.push(b'\n');
        if !events.is_empty() {
            encode_body(&mut out, &self.group, &self.stream, &events);
        }
        self.bytes = 0;
        self.min_ms = i64::MAX;
        self.max_ms = i64::MIN;
        self.out_of_order = false;
        self.opened_ms = None;
        out
    }
}

/// Append a PutLogEvents request body for `events` (already sorted) to `out`.
pub fn encode_body(out: &mut Vec<u8>, group: &str, stream: &str, events: &[Event]) {
    #[derive(Serialize)]
    struct Wire<'a> {
        timestamp: i64,
        message: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body<'a> {
        log_group_name: &'a str,
        log_stream_name: &'a str,
        log_events: Vec<Wire<'a>>,
    }
    let body = Body {
        log_group_name: group,
        log_stream_name: stream,
        log_events: events
            .iter()
            .map(|e| Wire {
                timestamp: e.timestamp_ms,
                message: &e.message,
            })
            .collect(),
    };
    // Serializing plain strings and integers into a Vec cannot fail.
    let _ = serde_json::to_writer(out, &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u64) -> Fingerprint {
        Fingerprint {
            dev: 1,
            inode: n,
            hashed_bytes: 4,
            sha256: "00".repeat(32),
        }
    }

    fn ev(ts: i64, m: &str) -> Event {
        Event {
            timestamp_ms: ts,
            message: m.into(),
        }
    }

    #[test]
    fn limits() {
        let mut b = BatchBuilder::new("g".into(), "s".into(), None, None);
        for i in 0..MAX_EVENTS {
            assert!(b.fits(&ev(1, "x")), "{i}");
            b.push(ev(1, "x"), 0);
        }
        assert!(!b.fits(&ev(1, "x")));
        let mut b = BatchBuilder::new("g".into(), "s".into(), None, None);
        let big = "y".repeat(600_000);
        b.push(ev(1, &big), 0);
        assert!(!b.fits(&ev(1, &big)));
        let mut b = BatchBuilder::new("g".into(), "s".into(), None, None);
        b.push(ev(0, "a"), 0);
        assert!(b.fits(&ev(MAX_SPAN_MS, "b")));
        assert!(!b.fits(&ev(MAX_SPAN_MS + 1, "b")));
    }

    #[test]
    fn oversized_messages_are_cut_with_the_suffix() {
        let mut m = "é".repeat(MAX_MESSAGE_BYTES);
        assert!(fit_message(&mut m));
        assert!(m.len() <= MAX_MESSAGE_BYTES);
        assert!(m.ends_with(TRUNCATED_SUFFIX));
        let mut short = "ok".to_string();
        assert!(!fit_message(&mut short));
    }

    #[test]
    fn seal_sorts_and_round_trips() {
        let mut b = BatchBuilder::new("g".into(), "s".into(), Some("STANDARD".into()), Some(7));
        b.push(ev(3, "c"), 10);
        b.push(ev(1, "a\nline"), 11);
        b.push(ev(2, "b\"q"), 12);
        b.extend_to(&fp(1), "/x", 10, 12);
        b.extend_to(&fp(1), "/x", 30, 13);
        b.extend_to(&fp(2), "/y", 5, 13);
        assert_eq!(b.opened_ms, Some(10));
        let rec = b.seal();
        assert!(b.is_empty());
        let (h, body) = decode_record(&rec).unwrap();
        assert_eq!(h.events, 3);
        assert_eq!((h.first_ms, h.last_ms), (Some(1), Some(3)));
        assert_eq!(h.extents.len(), 2);
        assert_eq!(h.extents[0].end, 30);
        assert_eq!(h.retention, Some(7));
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        let msgs: Vec<&str> = v["logEvents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(msgs, vec!["a\nline", "b\"q", "c"]);
        assert_eq!(v["logGroupName"], "g");
    }

    #[test]
    fn extent_only_batches_have_no_body() {
        let mut b = BatchBuilder::new("g".into(), "s".into(), None, None);
        b.extend_to(&fp(1), "/x", 99, 0);
        let rec = b.seal();
        let (h, body) = decode_record(&rec).unwrap();
        assert_eq!(h.events, 0);
        assert!(body.is_empty());
    }

    #[test]
    fn bad_records_are_errors() {
        assert!(decode_record(b"no newline").is_err());
        assert!(decode_record(b"{}\n").is_err());
        assert!(decode_record(b"{\"v\":9,\"group\":\"g\",\"stream\":\"s\",\"class\":null,\"retention\":null,\"events\":0,\"first_ms\":null,\"last_ms\":null,\"extents\":[]}\n").is_err());
    }
}
