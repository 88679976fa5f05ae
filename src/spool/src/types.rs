//! Plain value types of the public API: options, statistics, recovery report.

use crate::Seq;

/// Spool limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolOptions {
    /// Upper bound on the bytes the spool's segment files occupy (record
    /// headers included). Appends beyond it fail with
    /// [`SpoolError::Full`](crate::SpoolError::Full). Must be at least 1.
    pub max_bytes: u64,
    /// A new segment file starts when the next record would take the
    /// current one past this size (a larger record gets a segment of its
    /// own). Smaller segments free disk space sooner after acks; larger
    /// ones mean fewer files. Must be at least 1.
    pub segment_bytes: u64,
}

impl Default for SpoolOptions {
    /// 256 MiB in 8 MiB segments.
    fn default() -> Self {
        SpoolOptions {
            max_bytes: 256 << 20,
            segment_bytes: 8 << 20,
        }
    }
}

/// A snapshot of the spool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolStats {
    /// Records not yet acknowledged.
    pub records: u64,
    /// On-disk bytes of those records (headers included).
    pub bytes: u64,
    /// Bytes held by live segment files: pending records plus acknowledged
    /// records and damaged regions that share a segment with a pending one.
    /// This is what `max_bytes` bounds.
    pub disk_bytes: u64,
    /// The configured bound.
    pub max_bytes: u64,
    /// Live segment files.
    pub segments: usize,
    /// The oldest pending record.
    pub oldest_seq: Option<Seq>,
    /// The sequence number the next append will get.
    pub next_seq: Seq,
    /// Entry slots in the ack log (valid or not).
    pub ack_log_entries: u64,
}

/// What `Spool::open` found and repaired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files found.
    pub segments: usize,
    /// Valid records found in them.
    pub records: u64,
    /// Of those, records still pending after replaying the ack log.
    pub pending: u64,
    /// Damaged regions skipped (outside the newest segment's torn tail).
    /// Each is at least one record; a damaged length field can hide how many.
    pub corrupt_records: u64,
    /// Bytes in those regions.
    pub corrupt_bytes: u64,
    /// Bytes of a torn tail cut off the newest segment (an interrupted append).
    pub truncated_bytes: u64,
    /// Valid ack log entries replayed.
    pub acks_replayed: u64,
    /// Ack log entries whose checksum failed (those records are re-delivered).
    pub ack_corrupt_entries: u64,
    /// Bytes of a torn final ack log entry cut off.
    pub ack_truncated_bytes: u64,
    /// The ack log header was damaged and the log started afresh (every
    /// record found is pending again).
    pub ack_log_rebuilt: bool,
    /// The meta file was missing or damaged although data existed; the next
    /// sequence number was rebuilt from the records and acks.
    pub meta_rebuilt: bool,
    /// Fully acknowledged segments removed during open.
    pub segments_deleted: usize,
    /// Leftover temporary files removed.
    pub tmp_files_removed: usize,
}

impl RecoveryReport {
    /// True when nothing was damaged, torn or rebuilt.
    pub fn is_clean(&self) -> bool {
        self.corrupt_records == 0
            && self.truncated_bytes == 0
            && self.ack_corrupt_entries == 0
            && self.ack_truncated_bytes == 0
            && !self.ack_log_rebuilt
            && !self.meta_rebuilt
    }
}
