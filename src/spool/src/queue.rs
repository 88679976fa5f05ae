//! [`Spool`]: append, read, acknowledge, sync.
//!
//! State: the directory lock, the in-memory [`Index`], the open ack log,
//! the newest segment's handle while it takes appends (`active`), handles
//! of sealed segments with writes not yet fsynced, and the sequence
//! counter with its durable reservation (see `meta`).
//!
//! Invariants between calls:
//! * `active`, when set, is the handle of the index's newest segment, and
//!   that file's length equals the segment's `bytes`.
//! * `index.disk_bytes() <= opts.max_bytes` after every successful append
//!   (it can only be above after a reopen with a smaller bound).
//! * `next_seq < seq_limit <= durable meta limit` before a number is handed out.
//! * A record is marked acknowledged in memory only after its ack entry was
//!   written; a segment is deleted only when all its records are acknowledged.

#[cfg(test)]
mod bench;
#[cfg(test)]
mod crash_tests;
#[cfg(test)]
mod model_tests;
mod recover;
#[cfg(test)]
mod tests;

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::acklog::AckLog;
use crate::error::{Result, SpoolError};
use crate::fsutil::sync_dir;
use crate::index::{Index, Marked, RecordLoc, Segment};
use crate::layout::segment_file_name;
use crate::lock::DirLock;
use crate::meta::{write_meta, SEQ_RESERVE};
use crate::record::{encode_header, record_bytes, verify, HEADER_LEN, MAX_PAYLOAD};
use crate::types::{RecoveryReport, SpoolOptions, SpoolStats};
use crate::Seq;

/// The bounded on-disk queue. See the crate documentation for the format
/// and the durability contract.
///
/// Dropping a `Spool` releases the directory lock without an fsync: what
/// was written survives a process exit, but call [`Spool::sync`] first
/// for it to survive power loss.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    opts: SpoolOptions,
    _lock: DirLock,
    index: Index,
    active: Option<File>,
    active_dirty: bool,
    unsynced: Vec<(Seq, File)>,
    dir_dirty: bool,
    acks: AckLog,
    next_seq: Seq,
    seq_limit: Seq,
    report: RecoveryReport,
}

impl Spool {
    /// Appends a record and returns its sequence number.
    ///
    /// The record is written to the page cache (it survives SIGKILL of this
    /// process) but survives power loss only after [`Spool::sync`].
    /// Fails with [`SpoolError::Full`] when the segment files plus this
    /// record would exceed `max_bytes` (nothing is dropped: acknowledge
    /// records or wait, then retry) and with [`SpoolError::TooLarge`] when
    /// the record could never fit.
    pub fn append(&mut self, payload: &[u8]) -> Result<Seq> {
        let size = record_bytes(payload.len());
        let max = self.max_record_bytes();
        if size > max {
            return Err(SpoolError::TooLarge { size, max });
        }
        let free = self.free_bytes();
        if size > free {
            return Err(SpoolError::Full { needed: size, free });
        }
        let seq = self.next_seq;
        if seq == Seq::MAX {
            return Err(SpoolError::SeqExhausted);
        }
        if seq >= self.seq_limit {
            let limit = seq.saturating_add(SEQ_RESERVE);
            write_meta(&self.dir, limit)?;
            self.seq_limit = limit;
        }
        self.roll_if_needed(size);
        self.ensure_active()?;
        let (Some(file), Some(seg)) = (self.active.as_ref(), self.index.last()) else {
            return Err(SpoolError::io(
                "append",
                &self.dir,
                io::Error::other("no active segment"),
            ));
        };
        let offset = seg.bytes;
        let header = encode_header(seq, payload);
        let written = file
            .write_all_at(&header, offset)
            .and_then(|()| file.write_all_at(payload, offset + HEADER_LEN as u64));
        if let Err(e) = written {
            let path = seg.path.clone();
            self.undo_partial_write(offset, size);
            return Err(SpoolError::io("append", path, e));
        }
        self.active_dirty = true;
        self.index.push_record(RecordLoc {
            seq,
            offset,
            len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            acked: false,
        });
        self.next_seq = seq + 1;
        Ok(seq)
    }

    /// Fsyncs everything written so far: segment data, the directory when
    /// segments were created, and the ack log. After it returns, appended
    /// records and acks survive power loss. Also retries the deletion of
    /// fully acknowledged segments that failed earlier.
    ///
    /// An error means some data since the previous successful sync may not
    /// be durable; the dirty state is kept so a later call tries again.
    pub fn sync(&mut self) -> Result<()> {
        while let Some((first, file)) = self.unsynced.last() {
            let path = self.dir.join(segment_file_name(*first));
            file.sync_data()
                .map_err(|e| SpoolError::io("fsync", path, e))?;
            self.unsynced.pop();
        }
        if let (Some(file), true) = (self.active.as_ref(), self.active_dirty) {
            let path = self
                .index
                .last()
                .map(|s| s.path.clone())
                .unwrap_or_default();
            file.sync_data()
                .map_err(|e| SpoolError::io("fsync", path, e))?;
            self.active_dirty = false;
        }
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        self.acks.sync()?;
        for first in self.index.done_segments() {
            self.delete_segment(first)?;
        }
        Ok(())
    }

    /// Fsyncs only the ack log: after it returns, every ack so far survives
    /// power loss.
    pub fn sync_acks(&mut self) -> Result<()> {
        self.acks.sync()
    }

    /// Reads a pending record's payload from disk, verifying its checksum.
    ///
    /// [`SpoolError::UnknownSeq`] when `seq` is not pending;
    /// [`SpoolError::Corrupt`] when the bytes on disk changed since they
    /// were validated (the caller decides: usually log it and `ack` it so
    /// the queue moves on).
    pub fn read(&self, seq: Seq) -> Result<Vec<u8>> {
        let (rec, seg) = self
            .index
            .get(seq)
            .filter(|(r, _)| !r.acked)
            .ok_or(SpoolError::UnknownSeq { seq })?;
        let file = File::open(&seg.path).map_err(|e| SpoolError::io("open", &seg.path, e))?;
        let mut header = [0u8; HEADER_LEN];
        let mut payload = vec![0u8; rec.len as usize];
        file.read_exact_at(&mut header, rec.offset)
            .and_then(|()| file.read_exact_at(&mut payload, rec.offset + HEADER_LEN as u64))
            .map_err(|e| SpoolError::io("read", &seg.path, e))?;
        verify(&header, &payload, seq).map_err(|reason| SpoolError::Corrupt {
            seq,
            path: seg.path.clone(),
            reason,
        })?;
        Ok(payload)
    }

    /// Acknowledges a record: the destination accepted it, it will not be
    /// delivered again. Acks may come in any order.
    ///
    /// The ack is written to the ack log at once and fsynced by
    /// [`Spool::sync`] or [`Spool::sync_acks`]; a crash (power loss) can
    /// forget at most the acks since the last such sync, and those records
    /// are then delivered again. When the last pending record of a segment
    /// is acknowledged, the segment file is deleted and its space freed.
    ///
    /// Acknowledging a record that is already acknowledged or already
    /// deleted is a no-op; a sequence number never handed out is
    /// [`SpoolError::UnknownSeq`].
    pub fn ack(&mut self, seq: Seq) -> Result<()> {
        match self.index.get(seq) {
            None if seq >= self.next_seq => return Err(SpoolError::UnknownSeq { seq }),
            None => return Ok(()),
            Some((rec, _)) if rec.acked => return Ok(()),
            Some(_) => {}
        }
        self.acks.append(seq)?;
        let segment = self.index.get(seq).map(|(_, s)| s.first_seq);
        if let (Marked::Acked { segment_done: true }, Some(first)) =
            (self.index.mark_acked(seq), segment)
        {
            self.delete_segment(first)?;
        }
        if self.acks.needs_compaction(self.index.acked_live()) {
            self.acks.compact(&self.dir, self.index.acked_seqs())?;
        }
        Ok(())
    }

    /// Pending sequence numbers, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = Seq> + '_ {
        self.index.pending()
    }

    /// Up to `max` pending sequence numbers above `after` (from the oldest
    /// when `None`), oldest first. A sender keeps the last one it took and
    /// passes it back to get the next batch.
    pub fn peek_after(&self, after: Option<Seq>, max: usize) -> Vec<Seq> {
        self.index.peek_after(after, max)
    }

    /// Bytes that can still be appended (headers included) under `max_bytes`.
    pub fn free_bytes(&self) -> u64 {
        self.opts.max_bytes.saturating_sub(self.index.disk_bytes())
    }

    /// The largest record (header included) this spool can ever accept.
    pub fn max_record_bytes(&self) -> u64 {
        self.opts.max_bytes.min(HEADER_LEN as u64 + MAX_PAYLOAD)
    }

    /// A snapshot of counters.
    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            records: self.index.pending_records(),
            bytes: self.index.pending_bytes(),
            disk_bytes: self.index.disk_bytes(),
            max_bytes: self.opts.max_bytes,
            segments: self.index.segment_count(),
            oldest_seq: self.index.pending().next(),
            next_seq: self.next_seq,
            ack_log_entries: self.acks.entries(),
        }
    }

    /// What [`Spool::open`] found and repaired.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options in force.
    pub fn options(&self) -> SpoolOptions {
        self.opts
    }

    /// Starts a new segment when the record would take a non-empty active
    /// segment past `segment_bytes`.
    fn roll_if_needed(&mut self, size: u64) {
        let Some(seg) = self.index.last() else {
            return;
        };
        if self.active.is_some()
            && seg.bytes > 0
            && seg.bytes.saturating_add(size) > self.opts.segment_bytes
        {
            self.seal_active();
        }
    }

    /// Stops appending to the active segment, remembering it for the next sync.
    fn seal_active(&mut self) {
        if let (Some(file), Some(seg)) = (self.active.take(), self.index.last()) {
            if self.active_dirty {
                self.unsynced.push((seg.first_seq, file));
            }
        }
        self.active_dirty = false;
    }

    /// Creates a segment for the next record if none takes appends.
    fn ensure_active(&mut self) -> Result<()> {
        if self.active.is_some() {
            return Ok(());
        }
        let path = self.dir.join(segment_file_name(self.next_seq));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| SpoolError::io("create segment", &path, e))?;
        self.index
            .push_segment(Segment::new(self.next_seq, path, 0, Vec::new()));
        self.active = Some(file);
        self.active_dirty = false;
        self.dir_dirty = true;
        Ok(())
    }

    /// After a failed append, cuts the active segment back to `offset`; if
    /// even that fails, accounts the unknown bytes and seals the segment so
    /// no record is appended behind them (recovery skips them as damage).
    fn undo_partial_write(&mut self, offset: u64, size: u64) {
        let Some(file) = self.active.as_ref() else {
            return;
        };
        if file.set_len(offset).is_ok() {
            return;
        }
        let len = file
            .metadata()
            .map_or(offset.saturating_add(size), |m| m.len());
        self.index.add_garbage(len.saturating_sub(offset));
        self.active_dirty = true;
        self.seal_active();
    }

    /// Deletes a fully acknowledged segment file and forgets it.
    fn delete_segment(&mut self, first: Seq) -> Result<()> {
        let Some(path) = self
            .index
            .segments()
            .find(|s| s.first_seq == first)
            .map(|s| s.path.clone())
        else {
            return Ok(());
        };
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(SpoolError::io("remove segment", path, e)),
        }
        if self.active.is_some() && self.index.last().map(|s| s.first_seq) == Some(first) {
            self.active = None;
            self.active_dirty = false;
        }
        self.unsynced.retain(|(f, _)| *f != first);
        self.index.remove_segment(first);
        Ok(())
    }
}
