//! [`Spool::open`]: lock, scan, repair, replay.
//!
//! Steps, in order:
//! 1. validate the options, create the directory, take the lock;
//! 2. remove leftover `*.tmp` files; read `meta` (a newer version fails);
//! 3. scan the segments oldest first (see `scan`): damaged regions are
//!    skipped and counted; a torn tail of the newest segment is truncated
//!    and fsynced; every record must lie in `[name, next name)` and above
//!    the previous record;
//! 4. replay the ack log onto the index;
//! 5. next sequence number = max(meta limit, newest record + 1, newest ack
//!    + 1, newest segment name + 1); write a new reservation to `meta`;
//! 6. delete fully acknowledged segments, compact the ack log if due,
//!    fsync the directory.
//!
//! Appends after open always go to a new segment: recovered files are
//! only ever read, truncated at a torn tail or deleted.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use super::Spool;
use crate::acklog::AckLog;
use crate::error::{Result, SpoolError};
use crate::fsutil::{remove_tmp_files, sync_dir};
use crate::index::{Index, Segment};
use crate::layout::parse_segment_file_name;
use crate::lock::DirLock;
use crate::meta::{read_meta, write_meta, Meta, SEQ_RESERVE};
use crate::scan::scan_segment;
use crate::types::{RecoveryReport, SpoolOptions};
use crate::Seq;

impl Spool {
    /// Opens (creating if needed) the spool in `dir` and recovers its state.
    ///
    /// Fails with [`SpoolError::Locked`] when another open `Spool` holds the
    /// directory, [`SpoolError::UnsupportedVersion`] when a newer build
    /// wrote it and [`SpoolError::InvalidOptions`] for zero limits. Damage
    /// never makes it fail: see [`Spool::recovery_report`].
    pub fn open(dir: &Path, opts: SpoolOptions) -> Result<Spool> {
        if opts.max_bytes == 0 {
            return Err(SpoolError::InvalidOptions("max_bytes must be at least 1"));
        }
        if opts.segment_bytes == 0 {
            return Err(SpoolError::InvalidOptions(
                "segment_bytes must be at least 1",
            ));
        }
        fs::create_dir_all(dir).map_err(|e| SpoolError::io("create directory", dir, e))?;
        let lock = DirLock::acquire(dir)?;
        let mut report = RecoveryReport {
            tmp_files_removed: remove_tmp_files(dir)?,
            ..RecoveryReport::default()
        };
        let meta = read_meta(dir)?;
        let names = list_segments(dir)?;
        report.segments = names.len();

        let mut index = Index::default();
        let mut floor: Seq = 0;
        let mut min_seq: Seq = 0;
        for (i, (first, path)) in names.iter().enumerate() {
            let max_seq = names.get(i + 1).map_or(Seq::MAX, |(next, _)| *next);
            let is_newest = i + 1 == names.len();
            let seg = scan_one(
                path,
                *first,
                min_seq.max(*first),
                max_seq,
                is_newest,
                &mut report,
            )?;
            floor = floor.max(first.saturating_add(1));
            if let Some(last) = seg.records.last() {
                min_seq = last.seq.saturating_add(1);
                floor = floor.max(min_seq);
            }
            report.records += seg.records.len() as u64;
            index.push_segment(seg);
        }

        let (mut acks, replay) = AckLog::open(dir, |seq| {
            floor = floor.max(seq.saturating_add(1));
            index.mark_acked(seq);
        })?;
        report.acks_replayed = replay.valid;
        report.ack_corrupt_entries = replay.corrupt;
        report.ack_truncated_bytes = replay.truncated_bytes;
        report.ack_log_rebuilt = replay.rebuilt;

        report.meta_rebuilt = match meta {
            Meta::Valid { seq_limit } => {
                floor = floor.max(seq_limit);
                false
            }
            Meta::Corrupt => true,
            Meta::Missing => report.segments > 0 || replay.valid > 0 || replay.corrupt > 0,
        };
        let next_seq = floor;
        let seq_limit = next_seq.saturating_add(SEQ_RESERVE);
        write_meta(dir, seq_limit)?;

        for first in index.done_segments() {
            if let Some(seg) = index.remove_segment(first) {
                fs::remove_file(&seg.path)
                    .map_err(|e| SpoolError::io("remove segment", &seg.path, e))?;
                report.segments_deleted += 1;
            }
        }
        if acks.needs_compaction(index.acked_live()) {
            acks.compact(dir, index.acked_seqs())?;
        }
        sync_dir(dir)?;
        report.pending = index.pending_records();

        Ok(Spool {
            dir: dir.to_path_buf(),
            opts,
            _lock: lock,
            index,
            active: None,
            active_dirty: false,
            unsynced: Vec::new(),
            dir_dirty: false,
            acks,
            next_seq,
            seq_limit,
            report,
        })
    }
}

/// Segment files in `dir`, sorted by first sequence number.
fn list_segments(dir: &Path) -> Result<Vec<(Seq, PathBuf)>> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| SpoolError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SpoolError::io("list", dir, e))?;
        let Some(first) = entry.file_name().to_str().and_then(parse_segment_file_name) else {
            continue;
        };
        let is_file = entry
            .file_type()
            .map_err(|e| SpoolError::io("stat", entry.path(), e))?
            .is_file();
        if is_file {
            out.push((first, entry.path()));
        }
    }
    out.sort_unstable_by_key(|(first, _)| *first);
    Ok(out)
}

/// Scans one segment, repairing a torn tail when it is the newest.
fn scan_one(
    path: &Path,
    first: Seq,
    min_seq: Seq,
    max_seq: Seq,
    is_newest: bool,
    report: &mut RecoveryReport,
) -> Result<Segment> {
    let file = File::open(path).map_err(|e| SpoolError::io("open segment", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| SpoolError::io("stat", path, e))?
        .len();
    let scan = scan_segment(&file, len, min_seq, max_seq)
        .map_err(|e| SpoolError::io("scan segment", path, e))?;
    report.corrupt_records += scan.damaged_regions;
    report.corrupt_bytes += scan.damaged_bytes;
    let mut bytes = len;
    if scan.tail_garbage > 0 {
        if is_newest {
            let w = File::options()
                .write(true)
                .open(path)
                .map_err(|e| SpoolError::io("open segment", path, e))?;
            w.set_len(scan.clean_end)
                .and_then(|()| w.sync_all())
                .map_err(|e| SpoolError::io("truncate torn tail", path, e))?;
            report.truncated_bytes += scan.tail_garbage;
            bytes = scan.clean_end;
        } else {
            report.corrupt_records += 1;
            report.corrupt_bytes += scan.tail_garbage;
        }
    }
    Ok(Segment::new(first, path.to_path_buf(), bytes, scan.records))
}
