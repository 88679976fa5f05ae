//! In-memory index of the records on disk.
//!
//! One small entry per record (sequence number, offset, length, acked
//! flag: 24 bytes) grouped by segment; payloads stay on disk. Segments are
//! kept in ascending order of their first sequence number and records in
//! ascending sequence order inside a segment, and every record of a
//! segment lies below the next segment's first sequence number, so a
//! lookup is two binary searches. Totals (pending records and bytes, live
//! records, disk bytes) are maintained incrementally so stats are O(1).

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::record::HEADER_LEN;
use crate::Seq;

/// Where one record lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordLoc {
    pub seq: Seq,
    pub offset: u64,
    pub len: u32,
    pub acked: bool,
}

impl RecordLoc {
    /// On-disk bytes, header included.
    pub(crate) fn disk_bytes(&self) -> u64 {
        HEADER_LEN as u64 + u64::from(self.len)
    }

    /// Offset just past the record.
    pub(crate) fn end(&self) -> u64 {
        self.offset.saturating_add(self.disk_bytes())
    }
}

/// One segment file and its records.
#[derive(Debug)]
pub(crate) struct Segment {
    /// Sequence number in the file name; no record is below it.
    pub first_seq: Seq,
    pub path: PathBuf,
    /// File length in bytes (valid records plus any damaged regions).
    pub bytes: u64,
    pub records: Vec<RecordLoc>,
    /// Records not yet acknowledged.
    pub pending: usize,
}

impl Segment {
    /// A segment with the given records, all pending.
    pub(crate) fn new(first_seq: Seq, path: PathBuf, bytes: u64, records: Vec<RecordLoc>) -> Self {
        let pending = records.iter().filter(|r| !r.acked).count();
        Segment {
            first_seq,
            path,
            bytes,
            records,
            pending,
        }
    }

    fn position(&self, seq: Seq) -> Option<usize> {
        self.records.binary_search_by_key(&seq, |r| r.seq).ok()
    }
}

/// Result of marking a record acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marked {
    /// No such record in the index.
    Missing,
    /// It was already acknowledged.
    AlreadyAcked,
    /// Newly acknowledged; `segment_done` when its segment has no pending record left.
    Acked { segment_done: bool },
}

/// The index of all live segments.
#[derive(Debug, Default)]
pub(crate) struct Index {
    segments: VecDeque<Segment>,
    pending_records: u64,
    pending_bytes: u64,
    live_records: u64,
    disk_bytes: u64,
}

impl Index {
    /// Adds a segment after all existing ones.
    pub(crate) fn push_segment(&mut self, seg: Segment) {
        self.pending_records += seg.pending as u64;
        self.pending_bytes += seg
            .records
            .iter()
            .filter(|r| !r.acked)
            .map(RecordLoc::disk_bytes)
            .sum::<u64>();
        self.live_records += seg.records.len() as u64;
        self.disk_bytes += seg.bytes;
        self.segments.push_back(seg);
    }

    /// Appends a record to the newest segment and grows its length.
    /// Returns false (and changes nothing) when there is no segment.
    pub(crate) fn push_record(&mut self, rec: RecordLoc) -> bool {
        let Some(seg) = self.segments.back_mut() else {
            return false;
        };
        let size = rec.disk_bytes();
        seg.records.push(rec);
        seg.pending += 1;
        seg.bytes += size;
        self.pending_records += 1;
        self.pending_bytes += size;
        self.live_records += 1;
        self.disk_bytes += size;
        true
    }

    /// Grows the newest segment's length by bytes that hold no record
    /// (a write that failed half-way and could not be rolled back).
    pub(crate) fn add_garbage(&mut self, bytes: u64) {
        if let Some(seg) = self.segments.back_mut() {
            seg.bytes += bytes;
            self.disk_bytes += bytes;
        }
    }

    fn segment_index(&self, seq: Seq) -> Option<usize> {
        self.segments
            .partition_point(|s| s.first_seq <= seq)
            .checked_sub(1)
    }

    /// The record with this sequence number and its segment's path.
    pub(crate) fn get(&self, seq: Seq) -> Option<(&RecordLoc, &Segment)> {
        let seg = self.segments.get(self.segment_index(seq)?)?;
        let rec = seg.records.get(seg.position(seq)?)?;
        Some((rec, seg))
    }

    /// Marks `seq` acknowledged.
    pub(crate) fn mark_acked(&mut self, seq: Seq) -> Marked {
        let Some(si) = self.segment_index(seq) else {
            return Marked::Missing;
        };
        let Some(seg) = self.segments.get_mut(si) else {
            return Marked::Missing;
        };
        let Some(rec) = seg.position(seq).and_then(|ri| seg.records.get_mut(ri)) else {
            return Marked::Missing;
        };
        if rec.acked {
            return Marked::AlreadyAcked;
        }
        rec.acked = true;
        let size = rec.disk_bytes();
        seg.pending = seg.pending.saturating_sub(1);
        self.pending_records = self.pending_records.saturating_sub(1);
        self.pending_bytes = self.pending_bytes.saturating_sub(size);
        Marked::Acked {
            segment_done: seg.pending == 0,
        }
    }

    /// First sequence numbers of segments with no pending record.
    pub(crate) fn done_segments(&self) -> Vec<Seq> {
        self.segments
            .iter()
            .filter(|s| s.pending == 0)
            .map(|s| s.first_seq)
            .collect()
    }

    /// Removes the segment whose first sequence number is `first_seq`.
    pub(crate) fn remove_segment(&mut self, first_seq: Seq) -> Option<Segment> {
        let si = self
            .segments
            .iter()
            .position(|s| s.first_seq == first_seq)?;
        let seg = self.segments.remove(si)?;
        let pending_bytes: u64 = seg
            .records
            .iter()
            .filter(|r| !r.acked)
            .map(RecordLoc::disk_bytes)
            .sum();
        self.pending_records = self.pending_records.saturating_sub(seg.pending as u64);
        self.pending_bytes = self.pending_bytes.saturating_sub(pending_bytes);
        self.live_records = self.live_records.saturating_sub(seg.records.len() as u64);
        self.disk_bytes = self.disk_bytes.saturating_sub(seg.bytes);
        Some(seg)
    }

    /// The newest segment.
    pub(crate) fn last(&self) -> Option<&Segment> {
        self.segments.back()
    }

    /// All segments, oldest first.
    pub(crate) fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    /// Pending sequence numbers, oldest first.
    pub(crate) fn pending(&self) -> impl Iterator<Item = Seq> + '_ {
        self.segments
            .iter()
            .filter(|s| s.pending > 0)
            .flat_map(|s| s.records.iter().filter(|r| !r.acked).map(|r| r.seq))
    }

    /// Up to `max` pending sequence numbers above `after` (all when `None`), oldest first.
    pub(crate) fn peek_after(&self, after: Option<Seq>, max: usize) -> Vec<Seq> {
        let mut out = Vec::new();
        let start = match after {
            None => 0,
            Some(a) => self.segment_index(a).unwrap_or(0),
        };
        for seg in self.segments.iter().skip(start).filter(|s| s.pending > 0) {
            let from = match after {
                None => 0,
                Some(a) => seg.records.partition_point(|r| r.seq <= a),
            };
            for rec in seg.records.iter().skip(from).filter(|r| !r.acked) {
                if out.len() >= max {
                    return out;
                }
                out.push(rec.seq);
            }
        }
        out
    }

    /// Number of pending records.
    pub(crate) fn pending_records(&self) -> u64 {
        self.pending_records
    }

    /// On-disk bytes of pending records.
    pub(crate) fn pending_bytes(&self) -> u64 {
        self.pending_bytes
    }

    /// Acknowledged records whose segment still exists.
    pub(crate) fn acked_live(&self) -> u64 {
        self.live_records.saturating_sub(self.pending_records)
    }

    /// Sum of the live segment files' lengths.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.disk_bytes
    }

    /// Number of live segments.
    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Acknowledged records still in live segments, oldest first.
    pub(crate) fn acked_seqs(&self) -> impl Iterator<Item = Seq> + '_ {
        self.segments
            .iter()
            .flat_map(|s| s.records.iter().filter(|r| r.acked).map(|r| r.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(first: Seq, seqs: &[Seq]) -> Segment {
        let mut off = 0;
        let records = seqs
            .iter()
            .map(|&seq| {
                let r = RecordLoc {
                    seq,
                    offset: off,
                    len: 10,
                    acked: false,
                };
                off = r.end();
                r
            })
            .collect();
        Segment::new(first, PathBuf::from(format!("seg-{first}")), off, records)
    }

    fn index() -> Index {
        let mut ix = Index::default();
        ix.push_segment(seg(0, &[0, 1, 2]));
        ix.push_segment(seg(5, &[5, 7]));
        ix.push_segment(seg(10, &[10, 11]));
        ix
    }

    #[test]
    fn lookup_and_totals() {
        let ix = index();
        assert_eq!(ix.pending_records(), 7);
        assert_eq!(ix.pending_bytes(), 7 * 34);
        assert_eq!(ix.disk_bytes(), 7 * 34);
        assert_eq!(
            ix.get(7).map(|(r, s)| (r.offset, s.first_seq)),
            Some((34, 5))
        );
        for missing in [3, 4, 6, 8, 12, u64::MAX] {
            assert!(ix.get(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn peek_after_table() {
        let mut ix = index();
        assert_eq!(
            ix.mark_acked(1),
            Marked::Acked {
                segment_done: false
            }
        );
        assert_eq!(ix.mark_acked(1), Marked::AlreadyAcked);
        assert_eq!(ix.mark_acked(3), Marked::Missing);
        let cases: &[(Option<Seq>, usize, &[Seq])] = &[
            (None, 100, &[0, 2, 5, 7, 10, 11]),
            (None, 2, &[0, 2]),
            (Some(0), 3, &[2, 5, 7]),
            (Some(3), 100, &[5, 7, 10, 11]),
            (Some(7), 100, &[10, 11]),
            (Some(8), 1, &[10]),
            (Some(11), 100, &[]),
            (Some(u64::MAX), 100, &[]),
            (None, 0, &[]),
        ];
        for (after, max, want) in cases {
            assert_eq!(
                ix.peek_after(*after, *max),
                want.to_vec(),
                "after {after:?} max {max}"
            );
        }
        assert_eq!(ix.pending().collect::<Vec<_>>(), vec![0, 2, 5, 7, 10, 11]);
    }

    #[test]
    fn segment_done_and_removal() {
        let mut ix = index();
        assert_eq!(
            ix.mark_acked(5),
            Marked::Acked {
                segment_done: false
            }
        );
        assert_eq!(ix.mark_acked(7), Marked::Acked { segment_done: true });
        assert_eq!(ix.done_segments(), vec![5]);
        assert_eq!(ix.acked_live(), 2);
        assert!(ix.remove_segment(5).is_some());
        assert_eq!(ix.acked_live(), 0);
        assert_eq!(ix.segment_count(), 2);
        assert_eq!(ix.disk_bytes(), 5 * 34);
        assert_eq!(ix.pending_records(), 5);
        assert!(ix.get(5).is_none());
        assert_eq!(ix.mark_acked(7), Marked::Missing);
    }

    #[test]
    fn push_record_goes_to_newest_segment() {
        let mut ix = Index::default();
        let rec = RecordLoc {
            seq: 1,
            offset: 0,
            len: 3,
            acked: false,
        };
        assert!(!ix.push_record(rec));
        ix.push_segment(seg(1, &[]));
        assert!(ix.push_record(rec));
        assert_eq!(ix.last().map(|s| s.bytes), Some(27));
        assert_eq!(ix.pending_bytes(), 27);
    }
}
