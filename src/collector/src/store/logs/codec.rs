//! Encoding of one block: the events of one `PutLogEvents` call for one stream.
//!
//! ```text
//! blob    := version:u8 (= 1) | raw_len:u32 LE | lz4-block(payload)   (payload is raw_len bytes)
//! payload := event*                                                    (exactly `count` events)
//! event   := varint(ts - previous_ts) | varint(message_len) | message (UTF-8)
//! ```
//! `previous_ts` starts at the block's `min_ts`; deltas are unsigned because the events of a
//! block are in chronological order. Sequence numbers are not stored per event: the `i`-th event
//! of a block has sequence number `first_seq + i`. Decoding checks every length and bound and
//! reports damage as [`StoreError::Corrupt`] instead of panicking.

use crate::store::StoreError;

/// Current blob format version.
const VERSION: u8 = 1;
/// Refuse to inflate payloads larger than this (a block holds at most one 1 MiB request).
pub const MAX_PAYLOAD: usize = 8 * 1024 * 1024;

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEvent {
    pub timestamp: i64,
    pub message: String,
}

/// Encode events (chronological) whose first timestamp is `min_ts`. Returns the blob and the
/// uncompressed payload size. `size_hint` is the expected payload size (message bytes plus a
/// few bytes per event), used only to size buffers.
pub fn encode<'a, I>(min_ts: i64, events: I, size_hint: usize) -> (Vec<u8>, usize)
where
    I: IntoIterator<Item = (i64, &'a str)>,
{
    let mut payload = Vec::with_capacity(size_hint.min(MAX_PAYLOAD));
    let mut prev = min_ts;
    for (ts, msg) in events {
        put_varint(&mut payload, ts.wrapping_sub(prev) as u64);
        put_varint(&mut payload, msg.len() as u64);
        payload.extend_from_slice(msg.as_bytes());
        prev = ts;
    }
    let mut blob = vec![0u8; 5 + lz4_flex::block::get_maximum_output_size(payload.len())];
    blob[0] = VERSION;
    blob[1..5].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    match lz4_flex::block::compress_into(&payload, &mut blob[5..]) {
        Ok(n) => blob.truncate(5 + n),
        // Unreachable with a maximum-size buffer; fall back to the allocating variant.
        Err(_) => {
            blob.truncate(5);
            blob.extend_from_slice(&lz4_flex::block::compress(&payload));
        }
    }
    (blob, payload.len())
}

/// Decode a blob that must hold exactly `count` events starting at `min_ts`, none after
/// `max_ts`.
pub fn decode(
    blob: &[u8],
    min_ts: i64,
    max_ts: i64,
    count: usize,
) -> Result<Vec<BlockEvent>, StoreError> {
    let mut out = Vec::with_capacity(count.min(MAX_PAYLOAD));
    let mut buf = Vec::new();
    visit(
        blob,
        min_ts,
        max_ts,
        count,
        &mut buf,
        |timestamp, message| {
            out.push(BlockEvent {
                timestamp,
                message: message.to_string(),
            })
        },
    )?;
    Ok(out)
}

/// Decode a blob like [`decode`], handing each event to `f` with its message borrowed from
/// `buf` (the decompression buffer, reused between calls) instead of allocating it. Events are
/// handed over as they are checked: on damage, the events before it have been visited.
pub fn visit(
    blob: &[u8],
    min_ts: i64,
    max_ts: i64,
    count: usize,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(i64, &str),
) -> Result<(), StoreError> {
    decompress_into(blob, buf)?;
    let payload = &buf[..];
    walk_payload(payload, min_ts, max_ts, count, |_, ts, start, end| {
        let message = std::str::from_utf8(&payload[start..end])
            .map_err(|_| corrupt("message is not UTF-8"))?;
        f(ts, message);
        Ok(())
    })
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("log block: {what}"))
}

/// Check a blob's header and decompress its payload into `buf` (cleared first, reused between
/// calls).
pub fn decompress_into(blob: &[u8], buf: &mut Vec<u8>) -> Result<(), StoreError> {
    let (&version, rest) = blob.split_first().ok_or_else(|| corrupt("empty blob"))?;
    if version != VERSION {
        return Err(corrupt(&format!("unknown version {version}")));
    }
    if rest.len() < 4 {
        return Err(corrupt("truncated header"));
    }
    let (len_bytes, compressed) = rest.split_at(4);
    let mut lb = [0u8; 4];
    lb.copy_from_slice(len_bytes);
    let raw_len = u32::from_le_bytes(lb) as usize;
    if raw_len > MAX_PAYLOAD {
        return Err(corrupt("payload too large"));
    }
    buf.clear();
    buf.resize(raw_len, 0);
    let n = lz4_flex::block::decompress_into(compressed, buf)
        .map_err(|e| corrupt(&format!("decompression failed: {e}")))?;
    if n != raw_len {
        return Err(corrupt("payload length mismatch"));
    }
    Ok(())
}

/// Walk a decompressed payload that must hold exactly `count` events starting at `min_ts`,
/// none after `max_ts`: `f(index, timestamp, message start, message end)`, with byte offsets
/// into `payload` (the message bytes are not checked here). Events are handed over as they
/// are checked; an error from `f` stops the walk.
pub fn walk_payload(
    payload: &[u8],
    min_ts: i64,
    max_ts: i64,
    count: usize,
    mut f: impl FnMut(usize, i64, usize, usize) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut seen = 0usize;
    let mut pos = 0usize;
    let mut ts = min_ts;
    while pos < payload.len() {
        let delta = get_varint(payload, &mut pos).ok_or_else(|| corrupt("bad timestamp"))?;
        let delta = i64::try_from(delta).map_err(|_| corrupt("timestamp delta overflow"))?;
        ts = ts
            .checked_add(delta)
            .ok_or_else(|| corrupt("timestamp overflow"))?;
        if ts > max_ts {
            return Err(corrupt("event after the block's max_ts"));
        }
        let len = get_varint(payload, &mut pos).ok_or_else(|| corrupt("bad length"))?;
        let len = usize::try_from(len).map_err(|_| corrupt("length overflow"))?;
        let end = pos
            .checked_add(len)
            .filter(|e| *e <= payload.len())
            .ok_or_else(|| corrupt("truncated message"))?;
        if seen >= count {
            return Err(corrupt("more events than recorded"));
        }
        f(seen, ts, pos, end)?;
        pos = end;
        seen += 1;
    }
    if seen != count {
        return Err(corrupt("fewer events than recorded"));
    }
    Ok(())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        if shift >= 64 || (shift == 63 && b > 1) {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let events = [
            (100i64, "a"),
            (100, ""),
            (5_000, "héllo"),
            (86_400_100, "x"),
        ];
        let (blob, raw) = encode(100, events.iter().copied(), 0);
        assert!(raw > 0);
        let back = decode(&blob, 100, 86_400_100, 4).unwrap();
        let got: Vec<_> = back
            .iter()
            .map(|e| (e.timestamp, e.message.as_str()))
            .collect();
        assert_eq!(got, events);
    }

    #[test]
    fn detects_damage() {
        let (blob, _) = encode(0, [(0i64, "abc"), (5, "def")], 64);
        assert!(decode(&blob, 0, 5, 3).is_err(), "count mismatch");
        assert!(decode(&blob, 0, 4, 2).is_err(), "max_ts violated");
        assert!(decode(&blob[..3], 0, 5, 2).is_err(), "truncated");
        let mut bad = blob.clone();
        bad[0] = 9;
        assert!(decode(&bad, 0, 5, 2).is_err(), "version");
        let mut huge = blob.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge, 0, 5, 2).is_err(), "size cap");
        let mut flipped = blob;
        let last = flipped.len() - 1;
        flipped[last] ^= 0xff;
        // Either decompression or structural checks must notice; never panic.
        let _ = decode(&flipped, 0, 5, 2);
    }

    #[test]
    fn varint_edges() {
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut p = 0;
            assert_eq!(get_varint(&b, &mut p), Some(v));
            assert_eq!(p, b.len());
        }
        let mut p = 0;
        assert_eq!(get_varint(&[0xff; 11], &mut p), None);
    }
}
