//! One tailed file: where it resumes, how it is read, when it lets go of its descriptor.
//!
//! A file is known by its [`Fingerprint`] (device, inode and a checksum of its first bytes),
//! never by its path. The fingerprint taken when the file is first seen with content is its
//! key for its whole life: checkpoints and spool extents both use it.
//!
//! # Where reading resumes
//!
//! `max(acknowledged checkpoint, end of the newest spooled extent)` for the same file. Both are
//! durable: the checkpoint says "delivered up to here", the spool holds everything after it
//! that was read but not yet delivered. A file without either is new and is read from its
//! start (the CloudWatch agent's effective behaviour).
//!
//! # States
//!
//! - **Open**: a [`LineReader`] holds the descriptor.
//! - **Closed** (idle): after `idle_close` without new data the descriptor is released; the
//!   file is reopened at its consumed offset when it changes, after checking it is still the
//!   same file (same device/inode and first bytes).
//! - **Draining**: the path now names another file (rename rotation) or nothing (deletion).
//!   The old descriptor is read to its end and kept open for `rotate_wait` in case the writer
//!   still appends, then dropped.
//!
//! Truncation (copytruncate) restarts the file at offset 0 under a new fingerprint (its first
//! bytes changed); the bytes between the last read and the truncation live on only in the copy,
//! which [`find_copy`] locates in the same directory (same first bytes, large enough) so the
//! caller can drain it from the old offset.

use hostwatch_tailer::fingerprint::dev_inode;
use hostwatch_tailer::{Fingerprint, Fingerprinter, Identity, LineReader, ReaderOptions};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::names::Destination;
use super::process::Processor;

/// A file being tailed.
#[derive(Debug)]
pub struct TailedFile {
    /// Where the file is read from (its live path, or where a rotated file went).
    pub path: PathBuf,
    /// The path it was tailed under (the glob match): names its destination, checkpoint and
    /// spool extents, so recovery after a restart knows which entry it belongs to.
    pub origin: PathBuf,
    /// Index of the `collect_list` entry.
    pub entry: usize,
    /// The key under which offsets are recorded; `None` until the file has content.
    pub fp: Option<Fingerprint>,
    pub reader: Option<LineReader>,
    /// Offset after the last line consumed (where a reopened reader starts).
    pub consumed: u64,
    pub processor: Processor,
    pub destination: Destination,
    pub draining: bool,
    pub last_data: Instant,
    /// The batch key the file's data went to last (so a destination change seals it first).
    pub current_batch: Option<(String, String)>,
}

/// What the tailer needs to know to resume a file.
pub trait ResumeIndex {
    /// The stored key and delivered-or-spooled offset for the same file as `file`, if any.
    fn resume(&self, file: &mut File, fingerprinter: &Fingerprinter) -> Option<(Fingerprint, u64)>;
}

/// Why a file could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct OpenError {
    pub path: String,
    pub source: std::io::Error,
}

/// Open `path` and find where to resume. `Ok(None)`: the file is empty (no fingerprint yet).
pub fn open_at_resume(
    path: &Path,
    fingerprinter: &Fingerprinter,
    index: &dyn ResumeIndex,
    reader_opts: ReaderOptions,
) -> Result<(Option<Fingerprint>, LineReader, u64), OpenError> {
    let io = |source| OpenError {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let fp = fingerprinter.fingerprint(&mut file).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let (key, offset) = match (&fp, index.resume(&mut file, fingerprinter)) {
        (_, Some((stored, offset))) if offset <= len => (Some(stored), offset),
        // The stored offset is beyond the end: the file was truncated while we were away.
        (Some(fresh), Some(_)) => (Some(fresh.clone()), 0),
        (fp, _) => (fp.clone(), 0),
    };
    let reader = LineReader::from_file(file, path, offset, reader_opts).map_err(|e| OpenError {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok((key, reader, offset))
}

/// Reopen a closed file at `offset` if it is still the file `fp` names.
pub fn reopen_same(
    path: &Path,
    fp: &Fingerprint,
    offset: u64,
    fingerprinter: &Fingerprinter,
    reader_opts: ReaderOptions,
) -> std::io::Result<Option<LineReader>> {
    let mut file = File::open(path)?;
    if fingerprinter.identify(&mut file, fp)? != Identity::Same {
        return Ok(None);
    }
    if file.metadata()?.len() < offset {
        return Ok(None);
    }
    LineReader::from_file(file, path, offset, reader_opts)
        .map(Some)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

/// In `dir`, a file that is `fp`'s file under another name (same device and inode, same first
/// bytes): where a rotated file went while its descriptor was closed or the agent was down.
pub fn find_renamed(
    dir: &Path,
    fp: &Fingerprint,
    fingerprinter: &Fingerprinter,
) -> Option<PathBuf> {
    use std::os::unix::fs::DirEntryExt;
    let entries = std::fs::read_dir(dir).ok()?;
    for entry in entries.flatten() {
        if entry.ino() != fp.inode {
            continue;
        }
        let path = entry.path();
        let Ok(mut file) = File::open(&path) else {
            continue;
        };
        if fingerprinter.identify(&mut file, fp).ok() == Some(Identity::Same) {
            return Some(path);
        }
    }
    None
}

/// In `dir`, a copy of `fp`'s content (another inode whose first `fp.hashed_bytes` bytes hash
/// the same) holding more than `offset` bytes: what copytruncate left behind.
pub fn find_copy(
    dir: &Path,
    fp: &Fingerprint,
    offset: u64,
    fingerprinter: &Fingerprinter,
    exclude: &Path,
) -> Option<PathBuf> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        if path == exclude {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || meta.len() <= offset || meta.len() < fp.hashed_bytes {
            continue;
        }
        let Ok(mut file) = File::open(&path) else {
            continue;
        };
        let (dev, inode) = dev_inode(&meta);
        let probe = Fingerprint {
            dev,
            inode,
            ..fp.clone()
        };
        if fingerprinter.identify(&mut file, &probe).ok() == Some(Identity::Same) {
            let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            if best.as_ref().is_none_or(|(t, _)| mtime > *t) {
                best = Some((mtime, path));
            }
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct NoIndex;
    impl ResumeIndex for NoIndex {
        fn resume(&self, _: &mut File, _: &Fingerprinter) -> Option<(Fingerprint, u64)> {
            None
        }
    }

    struct Fixed(Fingerprint, u64);
    impl ResumeIndex for Fixed {
        fn resume(&self, file: &mut File, f: &Fingerprinter) -> Option<(Fingerprint, u64)> {
            (f.identify(file, &self.0).ok()? == Identity::Same).then(|| (self.0.clone(), self.1))
        }
    }

    #[test]
    fn resume_uses_the_index_and_detects_truncation_while_away() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "one\ntwo\n").unwrap();
        let f = Fingerprinter::default();
        let (fp, _, off) = open_at_resume(&p, &f, &NoIndex, ReaderOptions::default()).unwrap();
        assert_eq!(off, 0);
        let fp = fp.unwrap();
        let (_, _, off) =
            open_at_resume(&p, &f, &Fixed(fp.clone(), 4), ReaderOptions::default()).unwrap();
        assert_eq!(off, 4);
        // Stored offset beyond the end (and the same first bytes): start over.
        let (_, _, off) =
            open_at_resume(&p, &f, &Fixed(fp.clone(), 100), ReaderOptions::default()).unwrap();
        assert_eq!(off, 0);
    }

    #[test]
    fn renamed_and_copied_files_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "first line\nsecond\n").unwrap();
        let f = Fingerprinter::default();
        let fp = f.fingerprint_path(&p).unwrap().unwrap();
        let moved = dir.path().join("a.log.1");
        std::fs::rename(&p, &moved).unwrap();
        std::fs::write(&p, "new file\n").unwrap();
        assert_eq!(find_renamed(dir.path(), &fp, &f), Some(moved.clone()));
        // copytruncate: a copy with more data, then the original truncated.
        let q = dir.path().join("b.log");
        std::fs::write(&q, "alpha\nbeta\n").unwrap();
        let qfp = f.fingerprint_path(&q).unwrap().unwrap();
        let copy = dir.path().join("b.log.1");
        std::fs::copy(&q, &copy).unwrap();
        let mut fh = std::fs::OpenOptions::new()
            .append(true)
            .open(&copy)
            .unwrap();
        fh.write_all(b"gamma\n").unwrap();
        std::fs::write(&q, "").unwrap();
        assert_eq!(find_copy(dir.path(), &qfp, 6, &f, &q), Some(copy));
        assert_eq!(find_copy(dir.path(), &qfp, 100, &f, &q), None);
    }
}
