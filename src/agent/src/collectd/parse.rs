//! The collectd binary network protocol: parts, value lists and security levels.
//!
//! A packet is a sequence of parts, each `type: u16 BE, length: u16 BE` (the length counts the
//! 4-byte header) followed by its body:
//!
//! | type | part | body |
//! |---|---|---|
//! | `0x0000` | host | string |
//! | `0x0001` | time | u64 BE, seconds since the epoch |
//! | `0x0008` | high-resolution time | u64 BE, units of 2^-30 s |
//! | `0x0002` | plugin | string |
//! | `0x0003` | plugin instance | string |
//! | `0x0004` | type | string |
//! | `0x0005` | type instance | string |
//! | `0x0006` | values | count u16 BE, count type bytes, count 8-byte values |
//! | `0x0007` / `0x0009` | interval / high-resolution interval | u64 BE |
//! | `0x0100` / `0x0101` | notification message / severity | string / u64 |
//! | `0x0200` | signature | see [`super::crypto`] |
//! | `0x0210` | encrypted packet | see [`super::crypto`] |
//!
//! Strings are NUL-terminated inside the part (at most 128 bytes with the NUL; the text ends at
//! the first NUL). Numeric parts are exactly 12 bytes. Value types: `0` counter (u64 BE), `1`
//! gauge (f64 **little**-endian, the x86 layout collectd sends), `2` derive (i64 BE), `3`
//! absolute (u64 BE); the values part must be exactly `6 + 9·count` bytes.
//!
//! The host / time / plugin / ... parts set fields of a running "current value list"; each
//! values part emits that list with its values. A value list needs a plugin and a type (one
//! without is counted as incomplete); a missing host or time is filled in by the receiver.
//! Unknown part types are skipped, as collectd does.
//!
//! Security levels (the server side of collectd's `SecurityLevel`, same rules):
//! - `none`: every part is accepted. A signature is verified when an auth file is loaded (a
//!   mismatch or unknown user drops the rest of the packet) and skipped when there is none; an
//!   encrypted part is decrypted when its user is known, else the rest of the packet is dropped.
//! - `sign`: only parts inside a verified signature or an encrypted part are accepted; other
//!   parts are ignored (counted once per packet).
//! - `encrypt`: only parts inside an encrypted part are accepted.
//!
//! A part that breaks the format ends the packet: value lists already emitted stay, the rest is
//! dropped, and the packet is reported with a [`PacketError`]. Nesting (a signature inside an
//! encrypted part, ...) is limited to [`MAX_DEPTH`] levels. The parser never panics and never
//! reads outside the packet; it allocates only to decrypt.

use super::crypto::{
    hmac_matches, ofb_apply, sha1_matches, AuthFile, ENCRYPTION_OVERHEAD, SIGNATURE_HEADER,
    TYPE_ENCR_AES256, TYPE_SIGN_SHA256,
};

pub const TYPE_HOST: u16 = 0x0000;
pub const TYPE_TIME: u16 = 0x0001;
pub const TYPE_PLUGIN: u16 = 0x0002;
pub const TYPE_PLUGIN_INSTANCE: u16 = 0x0003;
pub const TYPE_TYPE: u16 = 0x0004;
pub const TYPE_TYPE_INSTANCE: u16 = 0x0005;
pub const TYPE_VALUES: u16 = 0x0006;
pub const TYPE_INTERVAL: u16 = 0x0007;
pub const TYPE_TIME_HR: u16 = 0x0008;
pub const TYPE_INTERVAL_HR: u16 = 0x0009;
pub const TYPE_MESSAGE: u16 = 0x0100;
pub const TYPE_SEVERITY: u16 = 0x0101;

/// Longest string part body, NUL included.
pub const MAX_STRING: usize = 128;
/// Deepest nesting of signed / encrypted parts.
pub const MAX_DEPTH: u32 = 4;

/// Data-source type codes.
pub const DS_COUNTER: u8 = 0;
pub const DS_GAUGE: u8 = 1;
pub const DS_DERIVE: u8 = 2;
pub const DS_ABSOLUTE: u8 = 3;

/// One value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Counter(u64),
    Gauge(f64),
    Derive(i64),
    Absolute(u64),
}

impl Value {
    /// The value as a float (how it is sent to CloudWatch).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Counter(v) | Value::Absolute(v) => v as f64,
            Value::Gauge(v) => v,
            Value::Derive(v) => v as f64,
        }
    }
}

/// A value list as received; strings borrow from the packet (empty when not sent).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueList<'a> {
    pub host: &'a [u8],
    pub plugin: &'a [u8],
    pub plugin_instance: &'a [u8],
    pub type_name: &'a [u8],
    pub type_instance: &'a [u8],
    /// 2^-30 s units since the epoch; 0 when not sent.
    pub time: u64,
    /// 2^-30 s units; 0 when not sent.
    pub interval: u64,
    pub values: &'a [Value],
}

/// Which packets are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLevel {
    None,
    Sign,
    Encrypt,
}

impl SecurityLevel {
    /// From the config value (`none`, `sign`, `encrypt`).
    pub fn from_config(s: &str) -> Option<SecurityLevel> {
        match s {
            "none" => Some(SecurityLevel::None),
            "sign" => Some(SecurityLevel::Sign),
            "encrypt" => Some(SecurityLevel::Encrypt),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::None => "none",
            SecurityLevel::Sign => "sign",
            SecurityLevel::Encrypt => "encrypt",
        }
    }
}

/// Why (the rest of) a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("truncated part header at offset {offset}")]
    TruncatedHeader { offset: usize },
    #[error("part {part_type:#06x} at offset {offset} has bad length {length}")]
    PartLength {
        part_type: u16,
        offset: usize,
        length: usize,
    },
    #[error("string part {part_type:#06x} at offset {offset} is not NUL-terminated or too long")]
    BadString { part_type: u16, offset: usize },
    #[error("values part at offset {offset} does not match its value count")]
    ValuesSize { offset: usize },
    #[error("values part at offset {offset} has unknown data-source type {code}")]
    UnknownDsType { offset: usize, code: u8 },
    #[error("malformed signature part at offset {offset}")]
    SignaturePart { offset: usize },
    #[error("malformed encrypted part at offset {offset}")]
    EncryptedPart { offset: usize },
    #[error("signed or encrypted packet but no auth file is loaded")]
    NoAuthFile,
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("HMAC-SHA-256 signature mismatch for user {0:?}")]
    SignatureMismatch(String),
    #[error("decryption failed for user {0:?} (SHA-1 mismatch: wrong password or corrupt data)")]
    ChecksumMismatch(String),
    #[error("signed / encrypted parts nested too deep")]
    TooDeep,
}

/// How the receiver counts a [`PacketError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Malformed,
    BadSignature,
    DecryptFailed,
    UnknownUser,
}

impl PacketError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PacketError::SignatureMismatch(_) => ErrorKind::BadSignature,
            PacketError::ChecksumMismatch(_) => ErrorKind::DecryptFailed,
            PacketError::UnknownUser(_) | PacketError::NoAuthFile => ErrorKind::UnknownUser,
            _ => ErrorKind::Malformed,
        }
    }
}

/// What one packet held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Value lists handed to the sink.
    pub value_lists: u64,
    /// Values in them.
    pub values: u64,
    /// Values parts without a plugin or type (dropped).
    pub incomplete: u64,
    /// Parts ignored because the security level requires signing / encryption.
    pub ignored_parts: u64,
    /// Notification messages (not metrics; ignored).
    pub notifications: u64,
    /// Parts of unknown type (skipped).
    pub unknown_parts: u64,
    /// Why the packet (or its rest) was dropped.
    pub error: Option<PacketError>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    signed: bool,
    encrypted: bool,
}

/// A packet parser for one security level and auth file.
#[derive(Debug, Clone, Copy)]
pub struct Parser<'a> {
    pub level: SecurityLevel,
    pub auth: Option<&'a AuthFile>,
}

impl Parser<'_> {
    /// Parse `packet`, calling `sink` for every complete value list.
    pub fn parse(&self, packet: &[u8], sink: &mut dyn FnMut(&ValueList<'_>)) -> Report {
        let mut report = Report::default();
        let mut values = Vec::new();
        if let Err(e) = self.parse_at(
            packet,
            0,
            Flags::default(),
            0,
            sink,
            &mut values,
            &mut report,
        ) {
            report.error = Some(e);
        }
        report
    }

    #[allow(clippy::too_many_arguments)]
    fn parse_at(
        &self,
        buf: &[u8],
        base: usize,
        flags: Flags,
        depth: u32,
        sink: &mut dyn FnMut(&ValueList<'_>),
        values: &mut Vec<Value>,
        report: &mut Report,
    ) -> Result<(), PacketError> {
        if depth > MAX_DEPTH {
            return Err(PacketError::TooDeep);
        }
        let mut vl = ValueList {
            host: b"",
            plugin: b"",
            plugin_instance: b"",
            type_name: b"",
            type_instance: b"",
            time: 0,
            interval: 0,
            values: &[],
        };
        let mut pos = 0usize;
        let mut ignored = false;
        while pos < buf.len() {
            let rest = &buf[pos..];
            let offset = base + pos;
            if rest.len() < 4 {
                return Err(PacketError::TruncatedHeader { offset });
            }
            let part_type = u16::from_be_bytes([rest[0], rest[1]]);
            let length = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            if length < 4 || length > rest.len() {
                return Err(PacketError::PartLength {
                    part_type,
                    offset,
                    length,
                });
            }
            let part = &rest[..length];
            let body = &part[4..];
            if part_type == TYPE_ENCR_AES256 {
                self.encrypted(rest, length, offset, flags, depth, sink, values, report)?;
                pos += length;
                continue;
            }
            if self.level == SecurityLevel::Encrypt && !flags.encrypted {
                ignored = true;
                pos += length;
                continue;
            }
            if part_type == TYPE_SIGN_SHA256 {
                // A signature covers (and consumes) the rest of the packet.
                return self.signed(rest, length, offset, flags, depth, sink, values, report);
            }
            if self.level == SecurityLevel::Sign && !flags.encrypted && !flags.signed {
                ignored = true;
                pos += length;
                continue;
            }
            match part_type {
                TYPE_HOST => vl.host = string(part_type, body, offset)?,
                TYPE_PLUGIN => vl.plugin = string(part_type, body, offset)?,
                TYPE_PLUGIN_INSTANCE => vl.plugin_instance = string(part_type, body, offset)?,
                TYPE_TYPE => vl.type_name = string(part_type, body, offset)?,
                TYPE_TYPE_INSTANCE => vl.type_instance = string(part_type, body, offset)?,
                TYPE_TIME => vl.time = number(part_type, body, offset)?.saturating_mul(1 << 30),
                TYPE_TIME_HR => vl.time = number(part_type, body, offset)?,
                TYPE_INTERVAL => {
                    vl.interval = number(part_type, body, offset)?.saturating_mul(1 << 30)
                }
                TYPE_INTERVAL_HR => vl.interval = number(part_type, body, offset)?,
                TYPE_MESSAGE => {
                    string(part_type, body, offset)?;
                    report.notifications += 1;
                }
                TYPE_SEVERITY => {
                    number(part_type, body, offset)?;
                }
                TYPE_VALUES => {
                    parse_values(body, offset, values)?;
                    if vl.plugin.is_empty() || vl.type_name.is_empty() || values.is_empty() {
                        report.incomplete += 1;
                    } else {
                        let list = ValueList {
                            values: values.as_slice(),
                            ..vl
                        };
                        report.value_lists += 1;
                        report.values += values.len() as u64;
                        sink(&list);
                    }
                }
                _ => report.unknown_parts += 1,
            }
            pos += length;
        }
        if ignored {
            report.ignored_parts += 1;
        }
        Ok(())
    }

    /// A signature part at the start of `rest` (`length` bytes long).
    #[allow(clippy::too_many_arguments)]
    fn signed(
        &self,
        rest: &[u8],
        length: usize,
        offset: usize,
        flags: Flags,
        depth: u32,
        sink: &mut dyn FnMut(&ValueList<'_>),
        values: &mut Vec<Value>,
        report: &mut Report,
    ) -> Result<(), PacketError> {
        if length <= SIGNATURE_HEADER {
            return Err(PacketError::SignaturePart { offset });
        }
        let Some(auth) = self.auth else {
            if self.level == SecurityLevel::None {
                // No auth file: like collectd, accept the rest without verifying it.
                return self.parse_at(
                    &rest[length..],
                    offset + length,
                    flags,
                    depth + 1,
                    sink,
                    values,
                    report,
                );
            }
            return Err(PacketError::NoAuthFile);
        };
        let mac = &rest[4..SIGNATURE_HEADER];
        let user = &rest[SIGNATURE_HEADER..length];
        let Some(password) = auth.password(user) else {
            return Err(PacketError::UnknownUser(
                String::from_utf8_lossy(user).into_owned(),
            ));
        };
        if !hmac_matches(password, &rest[SIGNATURE_HEADER..], mac) {
            return Err(PacketError::SignatureMismatch(
                String::from_utf8_lossy(user).into_owned(),
            ));
        }
        let inner = Flags {
            signed: true,
            ..flags
        };
        self.parse_at(
            &rest[length..],
            offset + length,
            inner,
            depth + 1,
            sink,
            values,
            report,
        )
    }

    /// An encrypted part at the start of `rest` (`length` bytes long).
    #[allow(clippy::too_many_arguments)]
    fn encrypted(
        &self,
        rest: &[u8],
        length: usize,
        offset: usize,
        flags: Flags,
        depth: u32,
        sink: &mut dyn FnMut(&ValueList<'_>),
        values: &mut Vec<Value>,
        report: &mut Report,
    ) -> Result<(), PacketError> {
        let bad = PacketError::EncryptedPart { offset };
        if length <= ENCRYPTION_OVERHEAD {
            return Err(bad);
        }
        let user_len = usize::from(u16::from_be_bytes([rest[4], rest[5]]));
        // At least one payload byte must remain after the username.
        if user_len == 0 || user_len > length - (ENCRYPTION_OVERHEAD + 1) {
            return Err(bad);
        }
        let user = &rest[6..6 + user_len];
        let iv_start = 6 + user_len;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&rest[iv_start..iv_start + 16]);
        let Some(auth) = self.auth else {
            return Err(PacketError::NoAuthFile);
        };
        let Some(password) = auth.password(user) else {
            return Err(PacketError::UnknownUser(
                String::from_utf8_lossy(user).into_owned(),
            ));
        };
        let mut plain = rest[iv_start + 16..length].to_vec();
        ofb_apply(password, &iv, &mut plain);
        let (hash, payload) = plain.split_at(20);
        if !sha1_matches(payload, hash) {
            return Err(PacketError::ChecksumMismatch(
                String::from_utf8_lossy(user).into_owned(),
            ));
        }
        let inner = Flags {
            encrypted: true,
            ..flags
        };
        self.parse_at(
            payload,
            offset + ENCRYPTION_OVERHEAD + user_len,
            inner,
            depth + 1,
            sink,
            values,
            report,
        )
    }
}

fn string(part_type: u16, body: &[u8], offset: usize) -> Result<&[u8], PacketError> {
    match body.last() {
        Some(0) if body.len() <= MAX_STRING => {
            let end = body.iter().position(|b| *b == 0).unwrap_or(body.len());
            Ok(&body[..end])
        }
        _ => Err(PacketError::BadString { part_type, offset }),
    }
}

fn number(part_type: u16, body: &[u8], offset: usize) -> Result<u64, PacketError> {
    let b: [u8; 8] = body.try_into().map_err(|_| PacketError::PartLength {
        part_type,
        offset,
        length: body.len() + 4,
    })?;
    Ok(u64::from_be_bytes(b))
}

fn parse_values(body: &[u8], offset: usize, out: &mut Vec<Value>) -> Result<(), PacketError> {
    out.clear();
    if body.len() < 2 {
        return Err(PacketError::ValuesSize { offset });
    }
    let count = usize::from(u16::from_be_bytes([body[0], body[1]]));
    if body.len() != 2 + 9 * count {
        return Err(PacketError::ValuesSize { offset });
    }
    let (types, data) = body[2..].split_at(count);
    for (code, raw) in types.iter().zip(data.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(raw);
        out.push(match *code {
            DS_COUNTER => Value::Counter(u64::from_be_bytes(b)),
            DS_GAUGE => Value::Gauge(f64::from_le_bytes(b)),
            DS_DERIVE => Value::Derive(i64::from_be_bytes(b)),
            DS_ABSOLUTE => Value::Absolute(u64::from_be_bytes(b)),
            code => {
                out.clear();
                return Err(PacketError::UnknownDsType { offset, code });
            }
        });
    }
    Ok(())
}

/// Builds packets (tests, fixtures and the benchmark; the agent only receives).
#[derive(Debug, Clone, Default)]
pub struct PacketBuilder {
    pub bytes: Vec<u8>,
}

impl PacketBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A string part.
    pub fn string(mut self, part_type: u16, s: &str) -> Self {
        let len = 4 + s.len() + 1;
        self.bytes.extend_from_slice(&part_type.to_be_bytes());
        self.bytes.extend_from_slice(&(len as u16).to_be_bytes());
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self
    }

    /// A numeric part.
    pub fn number(mut self, part_type: u16, n: u64) -> Self {
        self.bytes.extend_from_slice(&part_type.to_be_bytes());
        self.bytes.extend_from_slice(&12u16.to_be_bytes());
        self.bytes.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// A values part.
    pub fn values(mut self, values: &[Value]) -> Self {
        let len = 6 + 9 * values.len();
        self.bytes.extend_from_slice(&TYPE_VALUES.to_be_bytes());
        self.bytes.extend_from_slice(&(len as u16).to_be_bytes());
        self.bytes
            .extend_from_slice(&(values.len() as u16).to_be_bytes());
        for v in values {
            self.bytes.push(match v {
                Value::Counter(_) => DS_COUNTER,
                Value::Gauge(_) => DS_GAUGE,
                Value::Derive(_) => DS_DERIVE,
                Value::Absolute(_) => DS_ABSOLUTE,
            });
        }
        for v in values {
            let b = match *v {
                Value::Counter(x) | Value::Absolute(x) => x.to_be_bytes(),
                Value::Gauge(x) => x.to_le_bytes(),
                Value::Derive(x) => x.to_be_bytes(),
            };
            self.bytes.extend_from_slice(&b);
        }
        self
    }

    /// Identification parts for one value list (all of them, every time).
    pub fn identity(
        self,
        host: &str,
        time_secs: u64,
        plugin: &str,
        plugin_instance: &str,
        type_name: &str,
        type_instance: &str,
    ) -> Self {
        self.string(TYPE_HOST, host)
            .number(TYPE_TIME_HR, time_secs << 30)
            .number(TYPE_INTERVAL_HR, 10 << 30)
            .string(TYPE_PLUGIN, plugin)
            .string(TYPE_PLUGIN_INSTANCE, plugin_instance)
            .string(TYPE_TYPE, type_name)
            .string(TYPE_TYPE_INSTANCE, type_instance)
    }

    pub fn build(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::super::crypto::{encrypt_packet, sign_packet};
    use super::*;

    /// A value list with owned strings, for assertions.
    #[derive(Debug, Clone, PartialEq)]
    struct Owned {
        id: String,
        time: u64,
        interval: u64,
        values: Vec<Value>,
    }

    fn collect(p: &Parser<'_>, packet: &[u8]) -> (Vec<Owned>, Report) {
        let mut got = Vec::new();
        let report = p.parse(packet, &mut |vl| {
            let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            got.push(Owned {
                id: format!(
                    "{}/{}-{}/{}-{}",
                    s(vl.host),
                    s(vl.plugin),
                    s(vl.plugin_instance),
                    s(vl.type_name),
                    s(vl.type_instance)
                ),
                time: vl.time,
                interval: vl.interval,
                values: vl.values.to_vec(),
            })
        });
        (got, report)
    }

    fn none() -> Parser<'static> {
        Parser {
            level: SecurityLevel::None,
            auth: None,
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/collectd")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn auth() -> AuthFile {
        AuthFile::parse("alice: wonderland\n")
    }

    /// The values written into the fixture collectd (see tests/data/collectd/capture.py).
    fn known() -> Vec<Owned> {
        let o = |id: &str, time: u64, values: Vec<Value>| Owned {
            id: id.to_string(),
            time,
            interval: 10 << 30,
            values,
        };
        vec![
            o(
                "fixture-host/test-inst/counter-c",
                1_700_000_000 << 30,
                vec![Value::Counter(1_234_567_890_123)],
            ),
            o(
                "fixture-host/test-inst/gauge-g",
                (1_700_000_000 << 30) + (1 << 29),
                vec![Value::Gauge(3.25)],
            ),
            o(
                "fixture-host/test-inst/derive-d",
                1_700_000_001 << 30,
                vec![Value::Derive(987_654_321)],
            ),
            o(
                "fixture-host/test-inst/absolute-a",
                1_700_000_001 << 30,
                vec![Value::Absolute(77)],
            ),
            o(
                "fixture-host/test-inst/if_octets-eth0",
                1_700_000_002 << 30,
                vec![Value::Derive(100), Value::Derive(200)],
            ),
            o(
                "fixture-host/other-/load-",
                1_700_000_002 << 30,
                vec![Value::Gauge(0.5), Value::Gauge(0.25), Value::Gauge(0.125)],
            ),
        ]
    }

    #[test]
    fn every_part_type() {
        let packet = PacketBuilder::new()
            .string(TYPE_HOST, "h1")
            .number(TYPE_TIME, 1_700_000_000)
            .number(TYPE_INTERVAL, 10)
            .string(TYPE_PLUGIN, "cpu")
            .string(TYPE_PLUGIN_INSTANCE, "0")
            .string(TYPE_TYPE, "cpu")
            .string(TYPE_TYPE_INSTANCE, "user")
            .values(&[Value::Derive(-5)])
            // Only the type instance changes: the rest carries over.
            .string(TYPE_TYPE_INSTANCE, "idle")
            .number(TYPE_TIME_HR, (1_700_000_001 << 30) + 3)
            .number(TYPE_INTERVAL_HR, 1 << 29)
            .values(&[
                Value::Counter(u64::MAX),
                Value::Gauge(-1.5),
                Value::Absolute(9),
            ])
            .string(TYPE_MESSAGE, "a notification")
            .number(TYPE_SEVERITY, 4)
            .string(0x7777, "unknown part")
            .build();
        let (got, report) = collect(&none(), &packet);
        assert_eq!(
            got,
            vec![
                Owned {
                    id: "h1/cpu-0/cpu-user".into(),
                    time: 1_700_000_000 << 30,
                    interval: 10 << 30,
                    values: vec![Value::Derive(-5)],
                },
                Owned {
                    id: "h1/cpu-0/cpu-idle".into(),
                    time: (1_700_000_001 << 30) + 3,
                    interval: 1 << 29,
                    values: vec![
                        Value::Counter(u64::MAX),
                        Value::Gauge(-1.5),
                        Value::Absolute(9)
                    ],
                },
            ]
        );
        assert_eq!(
            report,
            Report {
                value_lists: 2,
                values: 4,
                notifications: 1,
                unknown_parts: 1,
                ..Default::default()
            }
        );
        assert_eq!(Value::Counter(7).as_f64(), 7.0);
        assert_eq!(Value::Derive(-7).as_f64(), -7.0);
    }

    #[test]
    fn incomplete_value_lists_are_counted() {
        let packet = PacketBuilder::new()
            .string(TYPE_HOST, "h")
            .values(&[Value::Gauge(1.0)])
            .string(TYPE_PLUGIN, "p")
            .values(&[Value::Gauge(1.0)])
            .string(TYPE_TYPE, "gauge")
            .values(&[])
            .values(&[Value::Gauge(2.0)])
            .build();
        let (got, report) = collect(&none(), &packet);
        assert_eq!(got.len(), 1);
        assert_eq!(report.incomplete, 3);
        assert_eq!(report.error, None);
    }

    #[test]
    fn malformed_parts() {
        let good = PacketBuilder::new()
            .identity("h", 1, "p", "", "gauge", "")
            .values(&[Value::Gauge(1.0)])
            .build();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0, 0, 0], "truncated part header"),
            (vec![0, 0, 0, 3], "bad length 3"),
            (vec![0, 0, 0, 9, b'a'], "bad length 9"),
            (vec![0, 0, 0, 5, b'a'], "not NUL-terminated"),
            (vec![0, 0, 0, 4], "not NUL-terminated"),
            (
                {
                    let mut v = vec![0, 0, 0, 134];
                    v.extend(std::iter::repeat_n(b'a', 129));
                    v.push(0);
                    v
                },
                "too long",
            ),
            (vec![0, 1, 0, 11, 0, 0, 0, 0, 0, 0, 0], "bad length 11"),
            (vec![0, 6, 0, 5, 0], "does not match"),
            (
                vec![0, 6, 0, 15, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0],
                "does not match",
            ),
            (
                vec![0, 6, 0, 15, 0, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0],
                "unknown data-source type 9",
            ),
        ];
        for (bad, expect) in cases {
            let mut packet = good.clone();
            packet.extend_from_slice(&bad);
            let (got, report) = collect(&none(), &packet);
            assert_eq!(got.len(), 1, "{expect}: values before the bad part stay");
            let e = report.error.unwrap_or_else(|| panic!("{expect}: no error"));
            assert_eq!(e.kind(), ErrorKind::Malformed);
            assert!(e.to_string().contains(expect), "{e} vs {expect}");
        }
    }

    #[test]
    fn real_collectd_plain_packet() {
        let (got, report) = collect(&none(), &fixture("none-known.bin"));
        assert_eq!(report.error, None);
        assert_eq!(got, known());
        // The plain packet is rejected by the stricter levels.
        for level in [SecurityLevel::Sign, SecurityLevel::Encrypt] {
            let a = auth();
            let p = Parser {
                level,
                auth: Some(&a),
            };
            let (got, report) = collect(&p, &fixture("none-known.bin"));
            assert!(got.is_empty());
            assert_eq!(report.ignored_parts, 1);
            assert_eq!(report.error, None);
        }
    }

    #[test]
    fn real_collectd_signed_packet() {
        let packet = fixture("sign-known.bin");
        assert_eq!(u16::from_be_bytes([packet[0], packet[1]]), TYPE_SIGN_SHA256);
        let a = auth();
        for level in [SecurityLevel::None, SecurityLevel::Sign] {
            let p = Parser {
                level,
                auth: Some(&a),
            };
            let (got, report) = collect(&p, &packet);
            assert_eq!(report.error, None, "{level:?}");
            assert_eq!(got, known(), "{level:?}");
        }
        // Encrypt mode ignores signed-only data.
        let p = Parser {
            level: SecurityLevel::Encrypt,
            auth: Some(&a),
        };
        let (got, report) = collect(&p, &packet);
        assert!(got.is_empty());
        assert_eq!(report.ignored_parts, 1);
        // Wrong password, unknown user, no auth file.
        let wrong = AuthFile::parse("alice: mad-hatter\n");
        let p = Parser {
            level: SecurityLevel::Sign,
            auth: Some(&wrong),
        };
        let (got, report) = collect(&p, &packet);
        assert!(got.is_empty());
        assert_eq!(
            report.error,
            Some(PacketError::SignatureMismatch("alice".into()))
        );
        assert_eq!(
            report.error.as_ref().map(PacketError::kind),
            Some(ErrorKind::BadSignature)
        );
        let other = AuthFile::parse("bob: wonderland\n");
        let p = Parser {
            level: SecurityLevel::Sign,
            auth: Some(&other),
        };
        assert_eq!(
            collect(&p, &packet).1.error,
            Some(PacketError::UnknownUser("alice".into()))
        );
        let p = Parser {
            level: SecurityLevel::Sign,
            auth: None,
        };
        assert_eq!(collect(&p, &packet).1.error, Some(PacketError::NoAuthFile));
        // Level none without an auth file accepts the signed data unverified, as collectd.
        let (got, report) = collect(&none(), &packet);
        assert_eq!(report.error, None);
        assert_eq!(got, known());
        // A flipped payload byte breaks the signature.
        let mut tampered = packet.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let p = Parser {
            level: SecurityLevel::Sign,
            auth: Some(&a),
        };
        assert_eq!(
            collect(&p, &tampered).1.error,
            Some(PacketError::SignatureMismatch("alice".into()))
        );
    }

    #[test]
    fn real_collectd_encrypted_packet() {
        let packet = fixture("encrypt-known.bin");
        assert_eq!(u16::from_be_bytes([packet[0], packet[1]]), TYPE_ENCR_AES256);
        let a = auth();
        for level in [
            SecurityLevel::None,
            SecurityLevel::Sign,
            SecurityLevel::Encrypt,
        ] {
            let p = Parser {
                level,
                auth: Some(&a),
            };
            let (mut got, report) = collect(&p, &packet);
            assert_eq!(report.error, None, "{level:?}");
            // collectd's write queue does not keep the order of values dispatched together.
            let mut want = known();
            got.sort_by(|a, b| a.id.cmp(&b.id));
            want.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(got, want, "{level:?}");
        }
        let wrong = AuthFile::parse("alice: mad-hatter\n");
        let p = Parser {
            level: SecurityLevel::Encrypt,
            auth: Some(&wrong),
        };
        let (got, report) = collect(&p, &packet);
        assert!(got.is_empty());
        assert_eq!(
            report.error.as_ref().map(PacketError::kind),
            Some(ErrorKind::DecryptFailed)
        );
        // Without an auth file, encrypted data cannot be read at any level.
        assert_eq!(
            collect(&none(), &packet).1.error,
            Some(PacketError::NoAuthFile)
        );
    }

    #[test]
    fn real_collectd_plugin_packets_parse() {
        let a = auth();
        for (name, level) in [
            ("none-plugins-0.bin", SecurityLevel::None),
            ("sign-plugins-0.bin", SecurityLevel::Sign),
            ("encrypt-plugins-0.bin", SecurityLevel::Encrypt),
        ] {
            let p = Parser {
                level,
                auth: Some(&a),
            };
            let (got, report) = collect(&p, &fixture(name));
            assert_eq!(report.error, None, "{name}");
            assert!(got.len() > 10, "{name}: {}", got.len());
            assert!(got.iter().all(|v| v.id.starts_with("fixture-host/")));
            assert!(got.iter().any(|v| v.id.contains("/cpu-")), "{name}");
            assert!(got.iter().any(|v| v.id.contains("/memory-")), "{name}");
        }
    }

    #[test]
    fn own_encoders_match_the_protocol() {
        let payload = PacketBuilder::new()
            .identity("h", 5, "p", "i", "gauge", "t")
            .values(&[Value::Gauge(2.5)])
            .build();
        let a = auth();
        let sign = Parser {
            level: SecurityLevel::Sign,
            auth: Some(&a),
        };
        let enc = Parser {
            level: SecurityLevel::Encrypt,
            auth: Some(&a),
        };
        let signed = sign_packet("alice", "wonderland", &payload);
        assert_eq!(collect(&sign, &signed).0.len(), 1);
        let encrypted = encrypt_packet("alice", "wonderland", [3; 16], &payload);
        assert_eq!(collect(&enc, &encrypted).0.len(), 1);
        // Signed inside encrypted, encrypted parts back to back.
        let nested = encrypt_packet("alice", "wonderland", [4; 16], &signed);
        assert_eq!(collect(&enc, &nested).0.len(), 1);
        let mut two = encrypted.clone();
        two.extend_from_slice(&encrypted);
        assert_eq!(collect(&enc, &two).0.len(), 2);
        // Too deep.
        let mut deep = payload.clone();
        for i in 0..6 {
            deep = encrypt_packet("alice", "wonderland", [i; 16], &deep);
        }
        assert_eq!(collect(&enc, &deep).1.error, Some(PacketError::TooDeep));
        // Malformed crypto parts.
        let mut short = encrypted.clone();
        short[4] = 0xff; // username length beyond the part
        assert!(matches!(
            collect(&enc, &short).1.error,
            Some(PacketError::EncryptedPart { .. })
        ));
        let bad_sig = [0x02, 0x00, 0x00, 0x24];
        let mut p = bad_sig.to_vec();
        p.extend_from_slice(&[0; 32]);
        assert!(matches!(
            collect(&sign, &p).1.error,
            Some(PacketError::SignaturePart { .. })
        ));
    }
}
