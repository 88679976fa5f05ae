//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`).
//!
//! Streaming operations (CloudWatch Logs `StartLiveTail`, ...) answer with a sequence of
//! messages, each laid out as:
//!
//! ```text
//! +-------------------+--------------------+-----------------+---------+---------+-------------+
//! | total_len u32 BE  | headers_len u32 BE | prelude CRC32   | headers | payload | message CRC |
//! +-------------------+--------------------+-----------------+---------+---------+-------------+
//!   total_len counts every byte of the message, both CRCs included (minimum 16);
//!   the prelude CRC covers the first 8 bytes, the message CRC every byte before it.
//! ```
//!
//! A header is `name_len u8`, the name (UTF-8), a type byte and the value: `0`/`1` boolean true /
//! false (no value bytes), `2` i8, `3` i16, `4` i32, `5` i64 (big-endian), `6` bytes and `7`
//! string (each `len u16 BE` + bytes), `8` timestamp (i64 milliseconds), `9` UUID (16 bytes).
//! Limits, as the SDKs enforce them: headers at most 128 KiB, payload at most 24 MiB.
//!
//! For JSON services a message carries `:message-type` (`event`, `exception` or `error`),
//! `:event-type` / `:exception-type` naming the member, and `:content-type`; the first message of
//! a response must be the `initial-response` event (see [`Message::event`]).
//!
//! [`encode`] writes one message; [`Decoder`] reads messages out of a byte stream that arrives in
//! arbitrary pieces, checking both CRCs and every length.

use std::fmt;

/// Largest headers section accepted or written.
pub const MAX_HEADERS_BYTES: usize = 128 * 1024;
/// Largest payload accepted or written.
pub const MAX_PAYLOAD_BYTES: usize = 24 * 1024 * 1024;
/// Prelude (12 bytes) plus message CRC (4 bytes).
const OVERHEAD: usize = 16;

/// The content type of an event-stream HTTP body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// A header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(Vec<u8>),
    String(String),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One event-stream message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Headers in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

/// A malformed or oversized message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventStreamError {
    #[error("event-stream message length {0} is shorter than the 16-byte minimum")]
    TooShort(u32),
    #[error("event-stream prelude CRC mismatch: computed {computed:#010x}, sent {sent:#010x}")]
    PreludeCrc { computed: u32, sent: u32 },
    #[error("event-stream message CRC mismatch: computed {computed:#010x}, sent {sent:#010x}")]
    MessageCrc { computed: u32, sent: u32 },
    #[error("event-stream headers of {0} bytes exceed the limit")]
    HeadersTooLarge(usize),
    #[error("event-stream payload of {0} bytes exceeds the limit")]
    PayloadTooLarge(usize),
    #[error("malformed event-stream header: {0}")]
    BadHeader(String),
}

impl Message {
    /// A JSON event: `:message-type: event`, `:event-type: <event_type>`,
    /// `:content-type: application/json`.
    pub fn event(event_type: &str, payload: Vec<u8>) -> Self {
        Message {
            headers: vec![
                (":message-type".into(), HeaderValue::String("event".into())),
                (":event-type".into(), HeaderValue::String(event_type.into())),
                (
                    ":content-type".into(),
                    HeaderValue::String("application/json".into()),
                ),
            ],
            payload,
        }
    }

    /// A modelled exception: `:message-type: exception`, `:exception-type: <exception_type>`,
    /// payload `{"message": ...}`.
    pub fn exception(exception_type: &str, message: &str) -> Self {
        Message {
            headers: vec![
                (
                    ":message-type".into(),
                    HeaderValue::String("exception".into()),
                ),
                (
                    ":exception-type".into(),
                    HeaderValue::String(exception_type.into()),
                ),
                (
                    ":content-type".into(),
                    HeaderValue::String("application/json".into()),
                ),
            ],
            payload: serde_json::json!({ "message": message })
                .to_string()
                .into_bytes(),
        }
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The first header named `name` when it is a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        match self.header(name) {
            Some(HeaderValue::String(s)) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.header_str(":message-type").unwrap_or("?");
        let name = self
            .header_str(":event-type")
            .or_else(|| self.header_str(":exception-type"))
            .or_else(|| self.header_str(":error-code"))
            .unwrap_or("?");
        write!(f, "{kind} {name} ({} bytes)", self.payload.len())
    }
}

fn encode_header(out: &mut Vec<u8>, name: &str, value: &HeaderValue) -> Result<(), String> {
    let name_len = u8::try_from(name.len()).map_err(|_| format!("header name {name:?}"))?;
    out.push(name_len);
    out.extend_from_slice(name.as_bytes());
    let var = |out: &mut Vec<u8>, ty: u8, b: &[u8]| {
        let len = u16::try_from(b.len()).map_err(|_| format!("header {name:?} value too long"))?;
        out.push(ty);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(b);
        Ok::<(), String>(())
    };
    match value {
        HeaderValue::Bool(true) => out.push(0),
        HeaderValue::Bool(false) => out.push(1),
        HeaderValue::Byte(v) => {
            out.push(2);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Short(v) => {
            out.push(3);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Int(v) => {
            out.push(4);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Long(v) => {
            out.push(5);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Bytes(b) => var(out, 6, b)?,
        HeaderValue::String(s) => var(out, 7, s.as_bytes())?,
        HeaderValue::Timestamp(v) => {
            out.push(8);
            out.extend_from_slice(&v.to_be_bytes());
        }
        HeaderValue::Uuid(u) => {
            out.push(9);
            out.extend_from_slice(u);
        }
    }
    Ok(())
}

/// Encode one message.
pub fn encode(msg: &Message) -> Result<Vec<u8>, EventStreamError> {
    let mut headers = Vec::new();
    for (name, value) in &msg.headers {
        encode_header(&mut headers, name, value).map_err(EventStreamError::BadHeader)?;
    }
    if headers.len() > MAX_HEADERS_BYTES {
        return Err(EventStreamError::HeadersTooLarge(headers.len()));
    }
    if msg.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(EventStreamError::PayloadTooLarge(msg.payload.len()));
    }
    // Both limits keep the total far below u32::MAX.
    let total = OVERHEAD + headers.len() + msg.payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&headers);
    out.extend_from_slice(&msg.payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    Ok(out)
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

/// A cursor over the headers section.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EventStreamError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| EventStreamError::BadHeader("headers end early".into()))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EventStreamError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

fn decode_headers(buf: &[u8]) -> Result<Vec<(String, HeaderValue)>, EventStreamError> {
    let mut c = Cursor { buf, pos: 0 };
    let mut out = Vec::new();
    while c.pos < buf.len() {
        let [name_len] = c.array::<1>()?;
        let name = std::str::from_utf8(c.take(usize::from(name_len))?)
            .map_err(|_| EventStreamError::BadHeader("header name is not UTF-8".into()))?
            .to_string();
        let [ty] = c.array::<1>()?;
        let value = match ty {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(c.array()?)),
            3 => HeaderValue::Short(i16::from_be_bytes(c.array()?)),
            4 => HeaderValue::Int(i32::from_be_bytes(c.array()?)),
            5 => HeaderValue::Long(i64::from_be_bytes(c.array()?)),
            6 | 7 => {
                let len = u16::from_be_bytes(c.array()?);
                let b = c.take(usize::from(len))?;
                if ty == 6 {
                    HeaderValue::Bytes(b.to_vec())
                } else {
                    HeaderValue::String(
                        std::str::from_utf8(b)
                            .map_err(|_| {
                                EventStreamError::BadHeader(format!("header {name:?} is not UTF-8"))
                            })?
                            .to_string(),
                    )
                }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(c.array()?)),
            9 => HeaderValue::Uuid(c.array()?),
            other => {
                return Err(EventStreamError::BadHeader(format!(
                    "header {name:?} has unknown type {other}"
                )))
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Decode the message at the start of `buf`. `Ok(None)` when `buf` does not hold a whole
/// message yet; otherwise the message and the number of bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, EventStreamError> {
    if buf.len() < 12 {
        return Ok(None);
    }
    let total = be_u32(&buf[0..4]);
    let headers_len = be_u32(&buf[4..8]) as usize;
    let sent = be_u32(&buf[8..12]);
    let computed = crc32fast::hash(&buf[0..8]);
    if computed != sent {
        return Err(EventStreamError::PreludeCrc { computed, sent });
    }
    if (total as usize) < OVERHEAD {
        return Err(EventStreamError::TooShort(total));
    }
    if headers_len > MAX_HEADERS_BYTES {
        return Err(EventStreamError::HeadersTooLarge(headers_len));
    }
    let total = total as usize;
    let payload_len = total
        .checked_sub(OVERHEAD + headers_len)
        .ok_or(EventStreamError::HeadersTooLarge(headers_len))?;
    if payload_len > MAX_PAYLOAD_BYTES {
        return Err(EventStreamError::PayloadTooLarge(payload_len));
    }
    if buf.len() < total {
        return Ok(None);
    }
    let sent = be_u32(&buf[total - 4..total]);
    let computed = crc32fast::hash(&buf[..total - 4]);
    if computed != sent {
        return Err(EventStreamError::MessageCrc { computed, sent });
    }
    let headers = decode_headers(&buf[12..12 + headers_len])?;
    let payload = buf[12 + headers_len..total - 4].to_vec();
    Ok(Some((Message { headers, payload }, total)))
}

/// Incremental decoder: feed bytes as they arrive, take whole messages out.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Append received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, if one has arrived. After an error the stream is unusable
    /// (framing is lost).
    pub fn next_message(&mut self) -> Result<Option<Message>, EventStreamError> {
        match decode(&self.buf)? {
            None => Ok(None),
            Some((msg, used)) => {
                self.buf.drain(..used);
                Ok(Some(msg))
            }
        }
    }

    /// Bytes received but not yet part of a whole message.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The empty message: 16 bytes, no headers, no payload (a vector every SDK tests with).
    const EMPTY: [u8; 16] = [
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8,
        0xff,
    ];

    // The vectors below were computed independently (big-endian lengths, zlib CRC32) and each
    // decodes to the same message with botocore's event-stream parser.

    /// Payload `{'foo':'bar'}`, no headers.
    const PAYLOAD_ONLY: &str = "0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936";

    /// Header `event-type: int32 0x0000a00c`, payload `{'foo':'bar'}`.
    const INT32_HEADER: &str = concat!(
        "0000002d0000001041c424b80a6576656e742d74797065040000a00c",
        "7b27666f6f273a27626172277d36f480a0"
    );

    /// The three headers of a JSON `initial-response` event and the payload `{}`.
    const INITIAL_RESPONSE: &str = concat!(
        "00000068000000564e6817240d3a6d6573736167652d747970650700056576656e74",
        "0b3a6576656e742d74797065070010696e697469616c2d726573706f6e7365",
        "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e",
        "7b7dfe942c1d"
    );

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn empty_message_vector() {
        assert_eq!(encode(&Message::default()).unwrap(), EMPTY);
        let (m, used) = decode(&EMPTY).unwrap().unwrap();
        assert_eq!(used, 16);
        assert_eq!(m, Message::default());
    }

    #[test]
    fn payload_and_int_header_vectors() {
        let m = Message {
            headers: vec![],
            payload: b"{'foo':'bar'}".to_vec(),
        };
        assert_eq!(encode(&m).unwrap(), unhex(PAYLOAD_ONLY));
        let m = Message {
            headers: vec![("event-type".into(), HeaderValue::Int(0xa00c))],
            payload: b"{'foo':'bar'}".to_vec(),
        };
        let bytes = unhex(INT32_HEADER);
        assert_eq!(encode(&m).unwrap(), bytes);
        assert_eq!(decode(&bytes).unwrap().unwrap().0, m);
    }

    #[test]
    fn initial_response_vector() {
        let m = Message::event("initial-response", b"{}".to_vec());
        assert_eq!(encode(&m).unwrap(), unhex(INITIAL_RESPONSE));
        assert_eq!(m.header_str(":event-type"), Some("initial-response"));
        assert_eq!(m.to_string(), "event initial-response (2 bytes)");
    }

    #[test]
    fn every_header_type_round_trips() {
        let m = Message {
            headers: vec![
                ("t".into(), HeaderValue::Bool(true)),
                ("f".into(), HeaderValue::Bool(false)),
                ("b".into(), HeaderValue::Byte(-2)),
                ("s".into(), HeaderValue::Short(-300)),
                ("i".into(), HeaderValue::Int(i32::MIN)),
                ("l".into(), HeaderValue::Long(i64::MAX)),
                ("bytes".into(), HeaderValue::Bytes(vec![0, 1, 255])),
                ("str".into(), HeaderValue::String("héllo".into())),
                ("ts".into(), HeaderValue::Timestamp(1_700_000_000_123)),
                ("u".into(), HeaderValue::Uuid([7; 16])),
            ],
            payload: vec![1, 2, 3],
        };
        let bytes = encode(&m).unwrap();
        assert_eq!(decode(&bytes).unwrap().unwrap(), (m, bytes.len()));
    }

    #[test]
    fn incremental_decoding() {
        let a = encode(&Message::event("sessionStart", b"{\"a\":1}".to_vec())).unwrap();
        let b = encode(&Message::exception("SessionTimeoutException", "bye")).unwrap();
        let mut all = a.clone();
        all.extend_from_slice(&b);
        let mut d = Decoder::new();
        let mut got = Vec::new();
        // One byte at a time: messages come out exactly when complete.
        for byte in &all {
            d.push(std::slice::from_ref(byte));
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(d.pending(), 0);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].header_str(":event-type"), Some("sessionStart"));
        assert_eq!(
            got[1].header_str(":exception-type"),
            Some("SessionTimeoutException")
        );
        assert_eq!(got[1].payload, br#"{"message":"bye"}"#);
    }

    #[test]
    fn corruption_is_detected() {
        let good = unhex(INT32_HEADER);
        let mut bad = good.clone();
        bad[2] ^= 1;
        assert!(matches!(
            decode(&bad),
            Err(EventStreamError::PreludeCrc { .. })
        ));
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 6] ^= 1;
        assert!(matches!(
            decode(&bad),
            Err(EventStreamError::MessageCrc { .. })
        ));
        // A header that claims more bytes than the section has (CRCs recomputed).
        let mut m = Vec::new();
        m.extend_from_slice(&[0, 0, 0, 19, 0, 0, 0, 3]);
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        m.extend_from_slice(&[5, b'a', b'b']);
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        assert!(matches!(decode(&m), Err(EventStreamError::BadHeader(_))));
        // Lengths that cannot be a message.
        let mut m = vec![0, 0, 0, 8, 0, 0, 0, 0];
        let crc = crc32fast::hash(&m);
        m.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(decode(&m), Err(EventStreamError::TooShort(8)));
        // Not complete yet.
        assert_eq!(decode(&good[..good.len() - 1]), Ok(None));
        assert_eq!(decode(&good[..5]), Ok(None));
    }

    #[test]
    fn limits() {
        let m = Message {
            headers: vec![],
            payload: vec![0; MAX_PAYLOAD_BYTES + 1],
        };
        assert_eq!(
            encode(&m),
            Err(EventStreamError::PayloadTooLarge(MAX_PAYLOAD_BYTES + 1))
        );
        let m = Message {
            headers: vec![("x".repeat(256), HeaderValue::Bool(true))],
            payload: vec![],
        };
        assert!(matches!(encode(&m), Err(EventStreamError::BadHeader(_))));
    }
}
