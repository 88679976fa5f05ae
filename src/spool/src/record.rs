//! One queue record: a fixed 24-byte header followed by the payload.
//!
//! Layout (all integers little-endian):
//!
//! | bytes  | field                                                         |
//! |--------|---------------------------------------------------------------|
//! | 0..4   | magic `HWSR` (`48 57 53 52`)                                  |
//! | 4      | record format version, `1`                                    |
//! | 5..8   | reserved, zero in version 1                                   |
//! | 8..16  | sequence number (u64)                                         |
//! | 16..20 | payload length in bytes (u32)                                 |
//! | 20..24 | CRC-32 (IEEE) of header bytes 0..20 followed by the payload   |
//!
//! The CRC covers the sequence number and the length, so a damaged header
//! is detected like a damaged payload. Records are only trusted after the
//! whole CRC matched; nothing here panics on arbitrary input.

use crate::Seq;

/// Record magic.
pub(crate) const MAGIC: [u8; 4] = *b"HWSR";
/// Record format version written and read by this build.
pub(crate) const VERSION: u8 = 1;
/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = 24;
/// Largest payload the length field can describe.
pub(crate) const MAX_PAYLOAD: u64 = u32::MAX as u64;

/// On-disk size of a record carrying `payload_len` bytes (header included).
///
/// This is the unit of [`SpoolError::Full`](crate::SpoolError::Full),
/// [`Spool::free_bytes`](crate::Spool::free_bytes) and
/// [`SharedSpool::wait_for_space`](crate::SharedSpool::wait_for_space).
pub fn record_bytes(payload_len: usize) -> u64 {
    (HEADER_LEN as u64).saturating_add(payload_len as u64)
}

/// A parsed header whose fixed fields (magic, version, reserved) are valid.
/// The CRC still has to be checked against the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub seq: Seq,
    pub len: u32,
    pub crc: u32,
}

/// Builds the header for `payload` with sequence number `seq`.
/// The caller guarantees `payload.len() <= MAX_PAYLOAD`.
pub(crate) fn encode_header(seq: Seq, payload: &[u8]) -> [u8; HEADER_LEN] {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&MAGIC);
    h[4] = VERSION;
    h[8..16].copy_from_slice(&seq.to_le_bytes());
    h[16..20].copy_from_slice(&len.to_le_bytes());
    let mut crc = Crc::start(&h);
    crc.update(payload);
    h[20..24].copy_from_slice(&crc.finish().to_le_bytes());
    h
}

/// Parses the fixed part of a header; `None` when magic, version or the
/// reserved bytes are wrong.
pub(crate) fn parse_header(h: &[u8; HEADER_LEN]) -> Option<Header> {
    if h[0..4] != MAGIC || h[4] != VERSION || h[5..8] != [0, 0, 0] {
        return None;
    }
    let seq = Seq::from_le_bytes(h[8..16].try_into().ok()?);
    let len = u32::from_le_bytes(h[16..20].try_into().ok()?);
    let crc = u32::from_le_bytes(h[20..24].try_into().ok()?);
    Some(Header { seq, len, crc })
}

/// Incremental record CRC: header bytes 0..20, then the payload in pieces.
pub(crate) struct Crc(crc32fast::Hasher);

impl Crc {
    /// Starts a CRC over the header's first 20 bytes.
    pub(crate) fn start(h: &[u8; HEADER_LEN]) -> Self {
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&h[0..20]);
        Crc(hasher)
    }

    /// Feeds the next piece of payload.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The final CRC value.
    pub(crate) fn finish(self) -> u32 {
        self.0.finalize()
    }
}

/// Checks a whole record read back from disk: header fields, expected
/// sequence number, length and CRC. Returns what did not match.
pub(crate) fn verify(h: &[u8; HEADER_LEN], payload: &[u8], seq: Seq) -> Result<(), &'static str> {
    let header = parse_header(h).ok_or("bad magic, version or reserved bytes")?;
    if header.seq != seq {
        return Err("sequence number differs from the index");
    }
    if u64::from(header.len) != payload.len() as u64 {
        return Err("length differs from the index");
    }
    let mut crc = Crc::start(h);
    crc.update(payload);
    if crc.finish() != header.crc {
        return Err("CRC mismatch");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_verify() {
        let payload = b"hello spool";
        let h = encode_header(42, payload);
        let parsed = parse_header(&h).unwrap();
        assert_eq!(parsed.seq, 42);
        assert_eq!(parsed.len, payload.len() as u32);
        assert_eq!(&h[0..4], b"HWSR");
        assert_eq!(h[4], 1);
        assert_eq!(verify(&h, payload, 42), Ok(()));
        assert_eq!(record_bytes(payload.len()), 24 + payload.len() as u64);
    }

    #[test]
    fn every_single_byte_flip_is_detected() {
        let payload = b"0123456789abcdef";
        let h = encode_header(7, payload);
        for i in 0..HEADER_LEN + payload.len() {
            let mut hh = h;
            let mut pp = payload.to_vec();
            if i < HEADER_LEN {
                hh[i] ^= 0x01;
            } else {
                pp[i - HEADER_LEN] ^= 0x01;
            }
            assert!(
                verify(&hh, &pp, 7).is_err(),
                "flip at byte {i} not detected"
            );
        }
    }

    #[test]
    fn wrong_seq_or_length_rejected() {
        let h = encode_header(9, b"abc");
        assert!(verify(&h, b"abc", 10).is_err());
        assert!(verify(&h, b"ab", 9).is_err());
    }
}
