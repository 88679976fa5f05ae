//! Recovery scan of one segment file.
//!
//! The scan walks records from offset 0. A record counts only when its
//! header fields are valid, its sequence number lies in the range the
//! caller allows (strictly above the previous record, below the next
//! segment's first sequence number), it fits in the file and its CRC
//! matches. When a record fails, the scan resynchronises: it searches for
//! the next magic from which a fully valid record starts. The bytes
//! skipped are a *damaged region*. If no valid record follows, the rest of
//! the file is reported as `tail_garbage` and the caller decides (the
//! newest segment is truncated there: that is a torn write).
//!
//! Reads are positional and chunked, so memory stays at one 64 KiB buffer
//! whatever the record or file size.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::index::RecordLoc;
use crate::record::{parse_header, Crc, HEADER_LEN, MAGIC};
use crate::Seq;

const CHUNK: usize = 64 * 1024;

/// What a segment scan found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ScanResult {
    /// Valid records in file order.
    pub records: Vec<RecordLoc>,
    /// Damaged regions skipped between valid records.
    pub damaged_regions: u64,
    /// Bytes in those regions.
    pub damaged_bytes: u64,
    /// End offset of the last valid record (0 when none).
    pub clean_end: u64,
    /// Bytes after `clean_end` from which no valid record starts.
    pub tail_garbage: u64,
}

/// Scans `file` (of length `len`), accepting sequence numbers in
/// `[min_seq, max_seq)`, each strictly above the previous one.
pub(crate) fn scan_segment(
    file: &File,
    len: u64,
    min_seq: Seq,
    max_seq: Seq,
) -> io::Result<ScanResult> {
    let mut scanner = Scanner {
        file,
        len,
        buf: vec![0u8; CHUNK],
    };
    let mut out = ScanResult::default();
    let mut pos = 0u64;
    let mut next_min = min_seq;
    while pos < len {
        let found = match scanner.valid_at(pos, next_min, max_seq)? {
            Some(rec) => Some((pos, rec)),
            None => scanner.resync(pos.saturating_add(1), next_min, max_seq)?,
        };
        let Some((at, rec)) = found else {
            out.tail_garbage = len - pos;
            break;
        };
        if at > pos {
            out.damaged_regions += 1;
            out.damaged_bytes += at - pos;
        }
        pos = rec.end();
        out.clean_end = pos;
        next_min = rec.seq.saturating_add(1);
        out.records.push(rec);
    }
    Ok(out)
}

struct Scanner<'a> {
    file: &'a File,
    len: u64,
    buf: Vec<u8>,
}

impl Scanner<'_> {
    /// The record starting at `pos` if it is entirely valid.
    fn valid_at(&mut self, pos: u64, min_seq: Seq, max_seq: Seq) -> io::Result<Option<RecordLoc>> {
        let room = self.len.saturating_sub(pos);
        if room < HEADER_LEN as u64 {
            return Ok(None);
        }
        let mut h = [0u8; HEADER_LEN];
        self.file.read_exact_at(&mut h, pos)?;
        let Some(header) = parse_header(&h) else {
            return Ok(None);
        };
        if header.seq < min_seq || header.seq >= max_seq {
            return Ok(None);
        }
        if u64::from(header.len) > room - HEADER_LEN as u64 {
            return Ok(None);
        }
        let mut crc = Crc::start(&h);
        let mut at = pos + HEADER_LEN as u64;
        let mut left = u64::from(header.len);
        while left > 0 {
            let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
            let Some(chunk) = self.buf.get_mut(..n) else {
                return Ok(None);
            };
            self.file.read_exact_at(chunk, at)?;
            crc.update(chunk);
            at += n as u64;
            left -= n as u64;
        }
        if crc.finish() != header.crc {
            return Ok(None);
        }
        Ok(Some(RecordLoc {
            seq: header.seq,
            offset: pos,
            len: header.len,
            acked: false,
        }))
    }

    /// The first offset at or after `from` where a valid record starts.
    fn resync(
        &mut self,
        from: u64,
        min_seq: Seq,
        max_seq: Seq,
    ) -> io::Result<Option<(u64, RecordLoc)>> {
        let mut window_start = from;
        while window_start.saturating_add(HEADER_LEN as u64) <= self.len {
            let n = usize::try_from(self.len - window_start).map_or(CHUNK, |l| l.min(CHUNK));
            let mut window = vec![0u8; n];
            self.file.read_exact_at(&mut window, window_start)?;
            let hits: Vec<u64> = window
                .windows(MAGIC.len())
                .enumerate()
                .filter(|(_, w)| *w == MAGIC)
                .map(|(i, _)| window_start + i as u64)
                .collect();
            for at in hits {
                if let Some(rec) = self.valid_at(at, min_seq, max_seq)? {
                    return Ok(Some((at, rec)));
                }
            }
            // Overlap by MAGIC.len() - 1 so a magic split across windows is seen.
            window_start += (n - (MAGIC.len() - 1)) as u64;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_header;
    use std::io::Write;

    fn segment_bytes(records: &[(Seq, Vec<u8>)]) -> (Vec<u8>, Vec<u64>) {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        for (seq, p) in records {
            offsets.push(out.len() as u64);
            out.extend_from_slice(&encode_header(*seq, p));
            out.extend_from_slice(p);
        }
        (out, offsets)
    }

    fn scan_bytes(bytes: &[u8], min: Seq, max: Seq) -> ScanResult {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        scan_segment(&f, bytes.len() as u64, min, max).unwrap()
    }

    fn sample() -> Vec<(Seq, Vec<u8>)> {
        (0..5u64)
            .map(|i| (10 + i, vec![i as u8; 10 + 7 * i as usize]))
            .collect()
    }

    #[test]
    fn clean_segment() {
        let (bytes, offsets) = segment_bytes(&sample());
        let r = scan_bytes(&bytes, 10, u64::MAX);
        assert_eq!(
            r.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![10, 11, 12, 13, 14]
        );
        assert_eq!(
            r.records.iter().map(|r| r.offset).collect::<Vec<_>>(),
            offsets
        );
        assert_eq!((r.damaged_regions, r.tail_garbage), (0, 0));
        assert_eq!(r.clean_end, bytes.len() as u64);
    }

    #[test]
    fn truncated_at_every_offset_of_last_record() {
        let (bytes, offsets) = segment_bytes(&sample());
        let last = offsets[4] as usize;
        for cut in last..bytes.len() {
            let r = scan_bytes(&bytes[..cut], 10, u64::MAX);
            assert_eq!(r.records.len(), 4, "cut at {cut}");
            assert_eq!(r.clean_end, last as u64);
            assert_eq!(r.tail_garbage, (cut - last) as u64);
            assert_eq!(r.damaged_regions, 0);
        }
    }

    #[test]
    fn flipped_byte_in_middle_record_skips_only_it() {
        let (bytes, offsets) = segment_bytes(&sample());
        // Flip every byte of record 2 in turn, header included.
        for at in offsets[2]..offsets[3] {
            let mut b = bytes.clone();
            b[at as usize] ^= 0x40;
            let r = scan_bytes(&b, 10, u64::MAX);
            let seqs: Vec<Seq> = r.records.iter().map(|r| r.seq).collect();
            assert_eq!(seqs, vec![10, 11, 13, 14], "flip at {at}");
            assert_eq!(r.damaged_regions, 1);
            assert_eq!(r.damaged_bytes, offsets[3] - offsets[2]);
            assert_eq!(r.tail_garbage, 0);
        }
    }

    #[test]
    fn zero_filled_tail_and_garbage_are_tail_garbage() {
        let (mut bytes, _) = segment_bytes(&sample());
        let good = bytes.len() as u64;
        bytes.extend_from_slice(&[0u8; 100]);
        bytes.extend_from_slice(b"HWSR garbage that looks like a header start");
        let r = scan_bytes(&bytes, 10, u64::MAX);
        assert_eq!(r.records.len(), 5);
        assert_eq!(r.clean_end, good);
        assert_eq!(r.tail_garbage, bytes.len() as u64 - good);
    }

    #[test]
    fn sequence_bounds_and_order_enforced() {
        // Out-of-range and non-increasing sequence numbers are damage.
        let recs = vec![
            (5, b"a".to_vec()),
            (20, b"b".to_vec()),
            (6, b"c".to_vec()),
            (7, b"d".to_vec()),
        ];
        let (bytes, _) = segment_bytes(&recs);
        let r = scan_bytes(&bytes, 5, 10);
        let seqs: Vec<Seq> = r.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![5, 6, 7]);
        assert_eq!(r.damaged_regions, 1);
        let r = scan_bytes(&bytes, 6, 30);
        let seqs: Vec<Seq> = r.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![20]);
        assert_eq!(r.damaged_regions, 1);
        assert!(r.tail_garbage > 0);
    }

    #[test]
    fn record_larger_than_a_chunk_and_resync_across_windows() {
        let big = vec![0xAB; CHUNK * 2 + 5];
        let recs = vec![(1, big.clone()), (2, big), (3, b"tail".to_vec())];
        let (mut bytes, offsets) = segment_bytes(&recs);
        assert_eq!(scan_bytes(&bytes, 1, u64::MAX).records.len(), 3);
        bytes[offsets[0] as usize + 30] ^= 1;
        let r = scan_bytes(&bytes, 1, u64::MAX);
        assert_eq!(
            r.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![2, 3]
        );
        assert_eq!(r.damaged_bytes, offsets[1]);
    }

    #[test]
    fn empty_and_tiny_files() {
        assert_eq!(scan_bytes(&[], 0, u64::MAX), ScanResult::default());
        let r = scan_bytes(b"HWS", 0, u64::MAX);
        assert_eq!((r.records.len(), r.tail_garbage), (0, 3));
    }
}
