//! The append-only acknowledgement log.
//!
//! Layout of `acks.log` (little-endian):
//!
//! | bytes       | field                                        |
//! |-------------|----------------------------------------------|
//! | 0..4        | magic `HWSA`                                 |
//! | 4           | ack log format version, `1`                  |
//! | 5..8        | reserved, zero                               |
//! | then, repeated, 12-byte entries:                           |
//! | +0..+8      | acknowledged sequence number (u64)           |
//! | +8..+12     | CRC-32 (IEEE) of the 8 sequence bytes        |
//!
//! Entries are fixed-size and written at tracked offsets, so a damaged
//! entry is skipped without losing alignment and a torn final entry is cut
//! off at open. Entries are written on every ack (they survive SIGKILL in
//! the page cache) and fsynced by `sync`. Entries naming records whose
//! segment is already deleted are harmless and ignored on replay.
//!
//! Compaction: when the log holds more than `max(4096, 2 × acked records
//! still in live segments)` entries, it is rewritten with only those live
//! acks (`acks.log.tmp`, fsync, rename, directory fsync). The directory is
//! fsynced *before* the rewrite, so the unlinks of fully acknowledged
//! segments are durable before the acks that justified them disappear.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, SpoolError};
use crate::fsutil::{sync_dir, write_atomic, TMP_SUFFIX};
use crate::Seq;

/// Name of the ack log file.
pub(crate) const ACK_FILE: &str = "acks.log";
const MAGIC: [u8; 4] = *b"HWSA";
/// Ack log format version written and read by this build.
const VERSION: u8 = 1;
const HEADER: [u8; 8] = [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], VERSION, 0, 0, 0];
const HEADER_LEN: u64 = 8;
const ENTRY_LEN: u64 = 12;
/// The log is never compacted below this many entries.
pub(crate) const COMPACT_MIN_ENTRIES: u64 = 4096;

/// What replaying the log found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckReplay {
    /// Valid entries replayed.
    pub valid: u64,
    /// Entries whose CRC did not match (skipped).
    pub corrupt: u64,
    /// Bytes of a torn final entry cut off.
    pub truncated_bytes: u64,
    /// The header was missing or damaged and the log was started afresh.
    pub rebuilt: bool,
}

/// An open ack log.
#[derive(Debug)]
pub(crate) struct AckLog {
    path: PathBuf,
    file: File,
    len: u64,
    entries: u64,
    dirty: bool,
}

impl AckLog {
    /// Opens (or creates) the log in `dir`, calling `on_ack` for each valid entry in order.
    pub(crate) fn open(dir: &Path, mut on_ack: impl FnMut(Seq)) -> Result<(AckLog, AckReplay)> {
        let path = dir.join(ACK_FILE);
        let mut replay = AckReplay::default();
        let existing = match File::open(&path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(SpoolError::io("open", &path, e)),
        };
        let mut entries = 0u64;
        let mut valid_len = HEADER_LEN;
        let mut fresh = existing.is_none();
        if let Some(f) = existing {
            let file_len = f
                .metadata()
                .map_err(|e| SpoolError::io("stat", &path, e))?
                .len();
            let mut r = BufReader::new(f);
            let mut header = [0u8; HEADER_LEN as usize];
            let header_ok = r.read_exact(&mut header).is_ok() && header[0..4] == MAGIC;
            if header_ok && header[4] > VERSION {
                return Err(SpoolError::UnsupportedVersion {
                    path,
                    found: header[4],
                    supported: VERSION,
                });
            }
            if header_ok && header == HEADER {
                let whole = file_len.saturating_sub(HEADER_LEN) / ENTRY_LEN;
                let mut e = [0u8; ENTRY_LEN as usize];
                for _ in 0..whole {
                    r.read_exact(&mut e)
                        .map_err(|err| SpoolError::io("read", &path, err))?;
                    match decode_entry(&e) {
                        Some(seq) => {
                            replay.valid += 1;
                            on_ack(seq);
                        }
                        None => replay.corrupt += 1,
                    }
                }
                entries = whole;
                valid_len = HEADER_LEN + whole * ENTRY_LEN;
                replay.truncated_bytes = file_len.saturating_sub(valid_len);
            } else {
                replay.rebuilt = true;
                fresh = true;
            }
        }
        if fresh {
            write_atomic(dir, ACK_FILE, &HEADER)?;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| SpoolError::io("open", &path, e))?;
        if replay.truncated_bytes > 0 {
            file.set_len(valid_len)
                .and_then(|()| file.sync_all())
                .map_err(|e| SpoolError::io("truncate torn ack entry", &path, e))?;
        }
        let log = AckLog {
            path,
            file,
            len: valid_len,
            entries,
            dirty: false,
        };
        Ok((log, replay))
    }

    /// Appends one ack (not yet fsynced).
    pub(crate) fn append(&mut self, seq: Seq) -> Result<()> {
        if let Err(e) = self.file.write_all_at(&encode_entry(seq), self.len) {
            // Keep entries aligned: drop whatever part was written.
            let _ = self.file.set_len(self.len);
            return Err(SpoolError::io("append ack", &self.path, e));
        }
        self.len += ENTRY_LEN;
        self.entries += 1;
        self.dirty = true;
        Ok(())
    }

    /// Fsyncs the appended acks.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|e| SpoolError::io("fsync", &self.path, e))?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Entry slots in the file (valid or not).
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// Whether the log has outgrown the live acks enough to be rewritten.
    pub(crate) fn needs_compaction(&self, live_acked: u64) -> bool {
        self.entries > COMPACT_MIN_ENTRIES.max(live_acked.saturating_mul(2))
    }

    /// Rewrites the log with exactly `acked` (the acks of live records).
    pub(crate) fn compact(&mut self, dir: &Path, acked: impl Iterator<Item = Seq>) -> Result<()> {
        sync_dir(dir)?;
        let tmp = dir.join(format!("{ACK_FILE}{TMP_SUFFIX}"));
        let f = File::create(&tmp).map_err(|e| SpoolError::io("create", &tmp, e))?;
        let mut w = BufWriter::new(f);
        let mut count = 0u64;
        let write = |w: &mut BufWriter<File>, b: &[u8]| {
            w.write_all(b).map_err(|e| SpoolError::io("write", &tmp, e))
        };
        write(&mut w, &HEADER)?;
        for seq in acked {
            write(&mut w, &encode_entry(seq))?;
            count += 1;
        }
        let f = w
            .into_inner()
            .map_err(|e| SpoolError::io("write", &tmp, e.into_error()))?;
        f.sync_all().map_err(|e| SpoolError::io("fsync", &tmp, e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| SpoolError::io("rename", &self.path, e))?;
        sync_dir(dir)?;
        self.file = File::options()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(|e| SpoolError::io("open", &self.path, e))?;
        self.len = HEADER_LEN + count * ENTRY_LEN;
        self.entries = count;
        self.dirty = false;
        Ok(())
    }
}

fn encode_entry(seq: Seq) -> [u8; ENTRY_LEN as usize] {
    let mut e = [0u8; ENTRY_LEN as usize];
    let s = seq.to_le_bytes();
    e[0..8].copy_from_slice(&s);
    e[8..12].copy_from_slice(&crc32fast::hash(&s).to_le_bytes());
    e
}

fn decode_entry(e: &[u8; ENTRY_LEN as usize]) -> Option<Seq> {
    let s: [u8; 8] = e[0..8].try_into().ok()?;
    let crc = u32::from_le_bytes(e[8..12].try_into().ok()?);
    (crc32fast::hash(&s) == crc).then(|| Seq::from_le_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(dir: &Path) -> (AckLog, AckReplay, Vec<Seq>) {
        let mut seen = Vec::new();
        let (log, r) = AckLog::open(dir, |s| seen.push(s)).unwrap();
        (log, r, seen)
    }

    #[test]
    fn append_replay_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, r, seen) = replay(dir.path());
        assert_eq!((r, seen.len()), (AckReplay::default(), 0));
        for s in [5, 3, 9] {
            log.append(s).unwrap();
        }
        log.sync().unwrap();
        drop(log);
        let path = dir.path().join(ACK_FILE);
        let full = fs::read(&path).unwrap();
        assert_eq!(full.len(), 8 + 3 * 12);
        for cut in 8..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let (log, r, seen) = replay(dir.path());
            let whole = (cut - 8) / 12;
            assert_eq!(seen, [5, 3, 9][..whole].to_vec(), "cut {cut}");
            assert_eq!(r.truncated_bytes as usize, (cut - 8) % 12);
            assert_eq!(log.entries() as usize, whole);
            assert_eq!(fs::metadata(&path).unwrap().len() as usize, 8 + whole * 12);
        }
    }

    #[test]
    fn corrupt_entry_skipped_header_damage_rebuilds_future_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _, _) = replay(dir.path());
        for s in [1, 2, 3] {
            log.append(s).unwrap();
        }
        drop(log);
        let path = dir.path().join(ACK_FILE);
        let good = fs::read(&path).unwrap();
        let mut b = good.clone();
        b[8 + 12 + 3] ^= 0xFF;
        fs::write(&path, &b).unwrap();
        let (log, r, seen) = replay(dir.path());
        assert_eq!((seen, r.corrupt, log.entries()), (vec![1, 3], 1, 3));
        drop(log);

        let mut b = good.clone();
        b[1] = b'X';
        fs::write(&path, &b).unwrap();
        let (_, r, seen) = replay(dir.path());
        assert!(r.rebuilt);
        assert!(seen.is_empty());

        let mut b = good;
        b[4] = 2;
        fs::write(&path, &b).unwrap();
        assert!(matches!(
            AckLog::open(dir.path(), |_| {}),
            Err(SpoolError::UnsupportedVersion { found: 2, .. })
        ));
    }

    #[test]
    fn compaction_keeps_only_given_acks() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _, _) = replay(dir.path());
        for s in 0..(COMPACT_MIN_ENTRIES + 1) {
            log.append(s).unwrap();
        }
        assert!(log.needs_compaction(10));
        assert!(!log.needs_compaction(COMPACT_MIN_ENTRIES));
        log.compact(dir.path(), [7, 8].into_iter()).unwrap();
        assert_eq!(log.entries(), 2);
        log.append(20).unwrap();
        drop(log);
        let (_, _, seen) = replay(dir.path());
        assert_eq!(seen, vec![7, 8, 20]);
        assert!(!dir.path().join("acks.log.tmp").exists());
    }
}
