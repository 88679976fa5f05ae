//! Binary encoding of datapoints, shared by ingest-log rows and block rows.
//!
//! Integers are LEB128 varints (signed ones zigzag-encoded); doubles are 8 bytes little-endian.
//! One point is:
//!
//! ```text
//! ts      zigzag varint: seconds since the epoch (absolute in ingest rows, delta to the
//!         previous point in blocks)
//! tag     u8: bits 0-1 value kind (0 single, 1 statistic set, 2 distribution,
//!         3 distribution with its statistic set), bit 2 high resolution (StorageResolution 1)
//! payload single: f64 | set: count, sum, min, max (4 x f64) |
//!         distribution: varint n, n x f64 values, n x f64 counts |
//!         distribution with set: the set (4 x f64), then as a distribution
//! ```
//!
//! Decoding never panics: truncated or malformed input is a [`StoreError::Corrupt`].

use hostwatch_model::{DatumValue, StatisticSet};

use super::{Point, SeriesId};
use crate::store::StoreError;

/// Format version written as the first byte of every encoded row.
const VERSION: u8 = 1;
const KIND_SINGLE: u8 = 0;
const KIND_SET: u8 = 1;
const KIND_DIST: u8 = 2;
/// A distribution that also carries its `StatisticValues` (the set first, then as `KIND_DIST`).
const KIND_DIST_STATS: u8 = 3;
const HIGH_RES: u8 = 4;
/// Upper bound on values in one distribution (the API allows 150), guarding allocations.
const MAX_DIST: u64 = 4096;

/// Append-only byte writer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    pub fn ivar(&mut self, v: i64) {
        self.uvar(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A statistic set: SampleCount, Sum, Minimum, Maximum.
    pub fn stats(&mut self, s: &StatisticSet) {
        self.f64(s.sample_count);
        self.f64(s.sum);
        self.f64(s.minimum);
        self.f64(s.maximum);
    }

    /// One point's tag and payload (the timestamp is written by the caller).
    pub fn point_body(&mut self, p: &Point) {
        let res = if p.high_res { HIGH_RES } else { 0 };
        match &p.value {
            DatumValue::Single(v) => {
                self.u8(KIND_SINGLE | res);
                self.f64(*v);
            }
            DatumValue::StatisticSet(s) => {
                self.u8(KIND_SET | res);
                self.stats(s);
            }
            DatumValue::Distribution {
                values,
                counts,
                stats,
            } => {
                match stats {
                    Some(s) => {
                        self.u8(KIND_DIST_STATS | res);
                        self.stats(s);
                    }
                    None => self.u8(KIND_DIST | res),
                }
                self.uvar(values.len() as u64);
                values.iter().for_each(|v| self.f64(*v));
                counts.iter().for_each(|c| self.f64(*c));
            }
        }
    }
}

/// Bounds-checked byte reader.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("metric data: {what}"))
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn u8(&mut self) -> Result<u8, StoreError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn uvar(&mut self) -> Result<u64, StoreError> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint too long"))
    }

    pub fn ivar(&mut self) -> Result<i64, StoreError> {
        let u = self.uvar()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A statistic set written by [`Writer::stats`].
    pub fn stats(&mut self) -> Result<StatisticSet, StoreError> {
        Ok(StatisticSet {
            sample_count: self.f64()?,
            sum: self.f64()?,
            minimum: self.f64()?,
            maximum: self.f64()?,
        })
    }

    pub fn f64(&mut self) -> Result<f64, StoreError> {
        let end = self.pos + 8;
        let bytes: [u8; 8] = self
            .buf
            .get(self.pos..end)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| corrupt("truncated double"))?;
        self.pos = end;
        Ok(f64::from_le_bytes(bytes))
    }

    /// One point's tag and payload, given its timestamp.
    pub fn point_body(&mut self, ts_ms: i64) -> Result<Point, StoreError> {
        let tag = self.u8()?;
        let high_res = tag & HIGH_RES != 0;
        let value = match tag & 3 {
            KIND_SINGLE => DatumValue::Single(self.f64()?),
            KIND_SET => DatumValue::StatisticSet(self.stats()?),
            kind => {
                // KIND_DIST or KIND_DIST_STATS (`tag & 3` leaves no other value).
                let stats = if kind == KIND_DIST_STATS {
                    Some(self.stats()?)
                } else {
                    None
                };
                let n = self.uvar()?;
                if n > MAX_DIST {
                    return Err(corrupt("distribution too large"));
                }
                let values = (0..n).map(|_| self.f64()).collect::<Result<Vec<_>, _>>()?;
                let counts = (0..n).map(|_| self.f64()).collect::<Result<Vec<_>, _>>()?;
                DatumValue::Distribution {
                    values,
                    counts,
                    stats,
                }
            }
        };
        Ok(Point {
            ts_ms,
            value,
            high_res,
        })
    }
}

/// Encode the points of one `PutMetricData` call for the ingest log.
pub fn encode_ingest(points: &[(SeriesId, Point)]) -> Vec<u8> {
    let mut w = Writer::with_capacity(16 + points.len() * 16);
    w.u8(VERSION);
    w.uvar(points.len() as u64);
    for (sid, p) in points {
        w.uvar(*sid);
        w.ivar(p.ts_ms.div_euclid(1000));
        w.point_body(p);
    }
    w.into_bytes()
}

/// Decode an ingest-log row.
pub fn decode_ingest(buf: &[u8]) -> Result<Vec<(SeriesId, Point)>, StoreError> {
    let mut r = Reader::new(buf);
    check_version(&mut r)?;
    let n = r.uvar()?;
    let mut out = Vec::with_capacity(n.min(100_000) as usize);
    for _ in 0..n {
        let sid = r.uvar()?;
        let ts = r.ivar()?.saturating_mul(1000);
        out.push((sid, r.point_body(ts)?));
    }
    Ok(out)
}

/// Encode one series' points (sorted by time) as an lz4-compressed block.
pub fn encode_block(points: &[Point]) -> Vec<u8> {
    let mut w = Writer::with_capacity(8 + points.len() * 10);
    w.u8(VERSION);
    w.uvar(points.len() as u64);
    let mut prev = 0i64;
    for p in points {
        let secs = p.ts_ms.div_euclid(1000);
        w.ivar(secs - prev);
        prev = secs;
        w.point_body(p);
    }
    lz4_flex::compress_prepend_size(&w.into_bytes())
}

/// Decode a block.
pub fn decode_block(buf: &[u8]) -> Result<Vec<Point>, StoreError> {
    let raw = lz4_flex::decompress_size_prepended(buf).map_err(|e| corrupt(&e.to_string()))?;
    let mut r = Reader::new(&raw);
    check_version(&mut r)?;
    let n = r.uvar()?;
    let mut out = Vec::with_capacity(n.min(1_000_000) as usize);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.saturating_add(r.ivar()?);
        out.push(r.point_body(prev.saturating_mul(1000))?);
    }
    if !r.is_empty() {
        return Err(corrupt("trailing bytes in block"));
    }
    Ok(out)
}

fn check_version(r: &mut Reader<'_>) -> Result<(), StoreError> {
    match r.u8()? {
        VERSION => Ok(()),
        v => Err(corrupt(&format!("unknown format version {v}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Point> {
        vec![
            Point {
                ts_ms: 1_700_000_000_000,
                value: DatumValue::Single(-1.5),
                high_res: false,
            },
            Point {
                ts_ms: 1_700_000_060_000,
                value: DatumValue::StatisticSet(StatisticSet {
                    sample_count: 10.0,
                    sum: 55.0,
                    minimum: 1.0,
                    maximum: 10.0,
                }),
                high_res: true,
            },
            Point {
                ts_ms: 1_699_999_990_000,
                value: DatumValue::Distribution {
                    values: vec![1.0, 10.0],
                    counts: vec![2.0, 4.0],
                    stats: None,
                },
                high_res: false,
            },
            Point {
                ts_ms: 1_699_999_991_000,
                value: DatumValue::Distribution {
                    values: vec![2.0, 8.0],
                    counts: vec![3.0, 1.0],
                    stats: Some(StatisticSet {
                        sample_count: 4.0,
                        sum: 14.0,
                        minimum: 2.0,
                        maximum: 8.0,
                    }),
                },
                high_res: true,
            },
        ]
    }

    #[test]
    fn ingest_round_trips() {
        let pts: Vec<(SeriesId, Point)> = sample()
            .into_iter()
            .zip([1u64, 300, 7])
            .map(|(p, s)| (s, p))
            .collect();
        let buf = encode_ingest(&pts);
        assert_eq!(decode_ingest(&buf).unwrap(), pts);
    }

    #[test]
    fn block_round_trips_with_negative_deltas() {
        let pts = sample();
        let buf = encode_block(&pts);
        assert_eq!(decode_block(&buf).unwrap(), pts);
    }

    #[test]
    fn truncated_input_is_corrupt_not_a_panic() {
        let pts: Vec<(SeriesId, Point)> = sample().into_iter().map(|p| (1, p)).collect();
        let buf = encode_ingest(&pts);
        for cut in 0..buf.len() {
            assert!(decode_ingest(&buf[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_block(b"\x05\x00\x00\x00garbage").is_err());
        let mut bad = buf.clone();
        bad[0] = 9;
        assert!(matches!(decode_ingest(&bad), Err(StoreError::Corrupt(_))));
    }
}
