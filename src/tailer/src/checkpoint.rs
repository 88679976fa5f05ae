//! Crash-safe checkpoint store.
//!
//! # Design
//!
//! The store maps a file [`Fingerprint`] to a [`Checkpoint`]: the last byte
//! offset whose data the downstream has acknowledged, the path the file was
//! last seen at (informational only; identity is the fingerprint) and the
//! time the entry was last updated. The in-memory map is the source of truth
//! while running; [`CheckpointStore::save`] persists it.
//!
//! # Offsets only move forward
//!
//! [`CheckpointStore::ack`] advances an entry's offset and ignores any
//! offset lower than or equal to the current one (reported as
//! [`AckOutcome::Ignored`]). Acks may therefore arrive late or duplicated
//! without ever moving a checkpoint backwards and causing re-sends. The one
//! legitimate way back is an explicit [`CheckpointStore::reset`], which the
//! caller uses when the reader reports a truncation of that same file.
//! Acks for a fingerprint that is not tracked are ignored
//! ([`AckOutcome::Unknown`]); callers [`track`](CheckpointStore::track) a
//! file before shipping its lines.
//!
//! # On-disk format
//!
//! Two files live in the store directory:
//!
//! * `checkpoints.json`: the committed state;
//! * `checkpoints.json.tmp`: the state being written.
//!
//! Both hold one UTF-8 JSON object, version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "generation": 42,
//!   "written_unix_ms": 1763800000000,
//!   "checkpoints": [
//!     {
//!       "fingerprint": {"dev": 2049, "inode": 131, "hashed_bytes": 1024,
//!                       "sha256": "<64 lower-case hex digits>"},
//!       "offset": 8192,
//!       "path": "/path/to/app.log",
//!       "updated_unix_ms": 1763799999000
//!     }
//!   ]
//! }
//! ```
//!
//! * `version` is checked first; any other value is
//!   [`CheckpointError::UnsupportedVersion`] (never silently reinterpreted).
//! * `generation` increases by one on every save; it orders the two files.
//! * `offset` is the byte offset *after* the last acknowledged line.
//! * `path` is stored lossily as UTF-8 (non-UTF-8 bytes are replaced); it is
//!   for humans and pruning diagnostics only.
//! * `checkpoints` is sorted by fingerprint, so identical state gives
//!   identical bytes.
//!
//! # Atomic write and recovery
//!
//! A save writes the whole state to the tmp file, `fsync`s it, renames it
//! over the main file, then `fsync`s the directory so the rename itself is
//! durable. On open, both files are read and the valid one with the highest
//! `generation` wins (the main file on a tie). A crash before the rename
//! leaves a complete or partial tmp file: a complete one with a newer
//! generation is used; a partial (unparseable) tmp file is ignored because
//! it was never committed. An unparseable *main* file with no valid tmp file
//! is a [`CheckpointError::Corrupt`] error: the caller decides whether to
//! start fresh; the store never panics on bad input.
//!
//! # Pruning
//!
//! [`CheckpointStore::prune`] removes entries not updated (tracked or
//! acked) within a configurable age, so state for long-gone files does not
//! grow forever.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fingerprint::{Fingerprint, Fingerprinter, Identity};

/// Name of the committed state file inside the store directory.
pub const STATE_FILE: &str = "checkpoints.json";
/// Name of the in-progress state file inside the store directory.
pub const TMP_FILE: &str = "checkpoints.json.tmp";
/// The on-disk format version this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// Errors from loading or saving the checkpoint store.
#[derive(Debug, Error)]
pub enum CheckpointError {
    /// An I/O operation on a store file failed.
    #[error("checkpoint I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A state file could not be parsed.
    #[error("checkpoint file {path} is corrupt: {reason}")]
    Corrupt {
        /// The corrupt file.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A state file has a format version this code does not understand.
    #[error("checkpoint file {path} has unsupported version {version}")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        version: String,
    },
    /// The state could not be serialised.
    #[error("checkpoint state could not be serialised: {0}")]
    Serialize(#[source] serde_json::Error),
}

/// The persisted position of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Byte offset after the last acknowledged line.
    pub offset: u64,
    /// Path the file was last seen at (lossy UTF-8).
    pub path: String,
    /// Last update (track or advancing ack), milliseconds since the Unix epoch.
    pub updated_unix_ms: u64,
}

/// Result of [`CheckpointStore::ack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The offset moved forward.
    Advanced {
        /// Previous offset.
        from: u64,
        /// New offset.
        to: u64,
    },
    /// The acked offset was not beyond the current one; nothing changed.
    Ignored {
        /// The (unchanged) current offset.
        current: u64,
    },
    /// The fingerprint is not tracked; nothing changed.
    Unknown,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: Fingerprint,
    offset: u64,
    path: String,
    updated_unix_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct StateV1 {
    version: u64,
    generation: u64,
    written_unix_ms: u64,
    checkpoints: Vec<Entry>,
}

/// Map of fingerprint to checkpoint, persisted atomically to a directory.
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    entries: BTreeMap<Fingerprint, Checkpoint>,
    generation: u64,
    dirty: bool,
}

/// Milliseconds since the Unix epoch for `t` (0 before the epoch).
fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

enum Loaded {
    Missing,
    Valid(StateV1),
    Corrupt(CheckpointError),
}

fn load_file(path: &Path) -> Result<Loaded, CheckpointError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Loaded::Missing),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let corrupt = |reason: String| {
        Ok(Loaded::Corrupt(CheckpointError::Corrupt {
            path: path.to_path_buf(),
            reason,
        }))
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return corrupt(e.to_string()),
    };
    match value.get("version") {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => {}
        Some(other) => {
            return Err(CheckpointError::UnsupportedVersion {
                path: path.to_path_buf(),
                version: other.to_string(),
            })
        }
        None => return corrupt("missing \"version\"".to_string()),
    }
    match serde_json::from_value::<StateV1>(value) {
        Ok(state) => Ok(Loaded::Valid(state)),
        Err(e) => corrupt(e.to_string()),
    }
}

impl CheckpointStore {
    /// Open (creating if needed) the store in `dir` and load its state,
    /// preferring the newest valid of the main and tmp files.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, CheckpointError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|source| CheckpointError::Io {
            path: dir.clone(),
            source,
        })?;
        let main = load_file(&dir.join(STATE_FILE))?;
        let tmp = load_file(&dir.join(TMP_FILE))?;
        let chosen = match (main, tmp) {
            (Loaded::Valid(m), Loaded::Valid(t)) => {
                if t.generation > m.generation {
                    Some(t)
                } else {
                    Some(m)
                }
            }
            (Loaded::Valid(m), _) => Some(m),
            // A complete tmp file is the most recent state written; with the
            // main file missing or unreadable it is the best state we have.
            (Loaded::Missing | Loaded::Corrupt(_), Loaded::Valid(t)) => Some(t),
            (Loaded::Corrupt(e), _) => return Err(e),
            // A partial tmp file with no main file: nothing was committed.
            (Loaded::Missing, Loaded::Corrupt(_) | Loaded::Missing) => None,
        };
        let mut store = Self {
            dir,
            entries: BTreeMap::new(),
            generation: 0,
            dirty: false,
        };
        if let Some(state) = chosen {
            store.generation = state.generation;
            for e in state.checkpoints {
                store.entries.insert(
                    e.fingerprint,
                    Checkpoint {
                        offset: e.offset,
                        path: e.path,
                        updated_unix_ms: e.updated_unix_ms,
                    },
                );
            }
        }
        Ok(store)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Generation of the last loaded or saved state (0 if none).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether there are changes not yet saved.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the store has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries in fingerprint order.
    pub fn iter(&self) -> impl Iterator<Item = (&Fingerprint, &Checkpoint)> {
        self.entries.iter()
    }

    /// The checkpoint stored under exactly this fingerprint.
    pub fn get(&self, fp: &Fingerprint) -> Option<&Checkpoint> {
        self.entries.get(fp)
    }

    /// Find the stored entry that is the [`Identity::Same`] file as `file`,
    /// re-hashing each candidate's prefix length. Among several matches the
    /// one covering the most bytes wins. The stream position is preserved.
    pub fn find(
        &self,
        file: &mut File,
        fingerprinter: &Fingerprinter,
    ) -> io::Result<Option<(Fingerprint, Checkpoint)>> {
        let meta = file.metadata()?;
        let (dev, inode) = crate::fingerprint::dev_inode(&meta);
        let mut best: Option<(&Fingerprint, &Checkpoint)> = None;
        for (fp, cp) in &self.entries {
            if fp.dev != dev || fp.inode != inode {
                continue;
            }
            if fingerprinter.identify(file, fp)? == Identity::Same
                && best.is_none_or(|(b, _)| fp.hashed_bytes > b.hashed_bytes)
            {
                best = Some((fp, cp));
            }
        }
        Ok(best.map(|(f, c)| (f.clone(), c.clone())))
    }

    /// Start tracking a file (offset 0) or refresh its path and update time.
    /// Returns the current offset.
    pub fn track(&mut self, fp: &Fingerprint, path: &Path) -> u64 {
        self.track_at(fp, path, SystemTime::now())
    }

    /// [`track`](Self::track) with an explicit clock.
    pub fn track_at(&mut self, fp: &Fingerprint, path: &Path, now: SystemTime) -> u64 {
        let path = path.to_string_lossy().into_owned();
        let now = unix_ms(now);
        self.dirty = true;
        let cp = self.entries.entry(fp.clone()).or_insert(Checkpoint {
            offset: 0,
            path: path.clone(),
            updated_unix_ms: now,
        });
        cp.path = path;
        cp.updated_unix_ms = now;
        cp.offset
    }

    /// Record that data up to `offset` is delivered. Offsets never move
    /// backwards: an offset not beyond the current one is ignored.
    pub fn ack(&mut self, fp: &Fingerprint, offset: u64) -> AckOutcome {
        self.ack_at(fp, offset, SystemTime::now())
    }

    /// [`ack`](Self::ack) with an explicit clock.
    pub fn ack_at(&mut self, fp: &Fingerprint, offset: u64, now: SystemTime) -> AckOutcome {
        let Some(cp) = self.entries.get_mut(fp) else {
            return AckOutcome::Unknown;
        };
        if offset <= cp.offset {
            return AckOutcome::Ignored { current: cp.offset };
        }
        let from = cp.offset;
        cp.offset = offset;
        cp.updated_unix_ms = unix_ms(now);
        self.dirty = true;
        AckOutcome::Advanced { from, to: offset }
    }

    /// Set an entry's offset unconditionally (the only way to move it
    /// backwards, e.g. after the reader reported a truncation). Returns
    /// false if the fingerprint is not tracked.
    pub fn reset(&mut self, fp: &Fingerprint, offset: u64) -> bool {
        match self.entries.get_mut(fp) {
            Some(cp) => {
                cp.offset = offset;
                cp.updated_unix_ms = unix_ms(SystemTime::now());
                self.dirty = true;
                true
            }
            None => false,
        }
    }

    /// Move an entry to a new fingerprint (e.g. once a young file has grown
    /// and its fingerprint covers more bytes). An existing entry under `new`
    /// keeps the larger offset. Returns false if `old` is not tracked.
    pub fn rekey(&mut self, old: &Fingerprint, new: Fingerprint) -> bool {
        let Some(cp) = self.entries.remove(old) else {
            return false;
        };
        self.dirty = true;
        match self.entries.get_mut(&new) {
            Some(existing) if existing.offset >= cp.offset => {}
            _ => {
                self.entries.insert(new, cp);
            }
        }
        true
    }

    /// Forget a file.
    pub fn remove(&mut self, fp: &Fingerprint) -> Option<Checkpoint> {
        let removed = self.entries.remove(fp);
        if removed.is_some() {
            self.dirty = true;
        }
        removed
    }

    /// Remove entries not updated within `max_age`. Returns how many.
    pub fn prune(&mut self, max_age: Duration) -> usize {
        self.prune_at(max_age, SystemTime::now())
    }

    /// [`prune`](Self::prune) with an explicit clock.
    pub fn prune_at(&mut self, max_age: Duration, now: SystemTime) -> usize {
        let cutoff =
            unix_ms(now).saturating_sub(u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX));
        let before = self.entries.len();
        self.entries.retain(|_, cp| cp.updated_unix_ms >= cutoff);
        let removed = before - self.entries.len();
        if removed > 0 {
            self.dirty = true;
        }
        removed
    }

    /// Persist the state atomically: write tmp, fsync, rename over the main
    /// file, fsync the directory. Bumps the generation.
    pub fn save(&mut self) -> Result<(), CheckpointError> {
        let generation = self.generation + 1;
        let state = StateV1 {
            version: FORMAT_VERSION,
            generation,
            written_unix_ms: unix_ms(SystemTime::now()),
            checkpoints: self
                .entries
                .iter()
                .map(|(fp, cp)| Entry {
                    fingerprint: fp.clone(),
                    offset: cp.offset,
                    path: cp.path.clone(),
                    updated_unix_ms: cp.updated_unix_ms,
                })
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&state).map_err(CheckpointError::Serialize)?;
        let tmp = self.dir.join(TMP_FILE);
        let main = self.dir.join(STATE_FILE);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckpointError::Io { path, source }
        };
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&bytes).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        drop(f);
        fs::rename(&tmp, &main).map_err(io_err(&main))?;
        sync_dir(&self.dir).map_err(io_err(&self.dir))?;
        self.generation = generation;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(n: u64) -> Fingerprint {
        Fingerprint {
            dev: 1,
            inode: n,
            hashed_bytes: 10,
            sha256: format!("{n:064x}"),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CheckpointStore::open(dir.path()).unwrap();
        assert!(s.is_empty());
        s.track(&fp(1), Path::new("/logs/a.log"));
        s.track(&fp(2), Path::new("/logs/b.log"));
        assert_eq!(
            s.ack(&fp(1), 100),
            AckOutcome::Advanced { from: 0, to: 100 }
        );
        s.save().unwrap();
        assert!(!s.is_dirty());
        assert!(!dir.path().join(TMP_FILE).exists());
        let r = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.generation(), 1);
        assert_eq!(r.get(&fp(1)).unwrap().offset, 100);
        assert_eq!(r.get(&fp(1)).unwrap().path, "/logs/a.log");
        assert_eq!(r.get(&fp(2)).unwrap().offset, 0);
        let text = fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
        assert!(text.contains("\"version\": 1"));
    }

    #[test]
    fn crash_before_rename_prefers_newer_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CheckpointStore::open(dir.path()).unwrap();
        s.track(&fp(1), Path::new("/a"));
        s.ack(&fp(1), 10);
        s.save().unwrap();
        s.ack(&fp(1), 20);
        s.save().unwrap();
        // Simulate: generation 3 written to tmp, crash before rename.
        let committed = fs::read(dir.path().join(STATE_FILE)).unwrap();
        s.ack(&fp(1), 30);
        s.save().unwrap();
        fs::rename(dir.path().join(STATE_FILE), dir.path().join(TMP_FILE)).unwrap();
        fs::write(dir.path().join(STATE_FILE), &committed).unwrap();
        let mut r = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(r.get(&fp(1)).unwrap().offset, 30);
        assert_eq!(r.generation(), 3);
        // The next save commits over both files and leaves no tmp file.
        r.ack(&fp(1), 40);
        r.save().unwrap();
        assert!(!dir.path().join(TMP_FILE).exists());
        let r = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(r.get(&fp(1)).unwrap().offset, 40);
        assert_eq!(r.generation(), 4);
    }

    #[test]
    fn stale_or_partial_tmp_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CheckpointStore::open(dir.path()).unwrap();
        s.track(&fp(1), Path::new("/a"));
        s.ack(&fp(1), 10);
        s.save().unwrap();
        let older = fs::read(dir.path().join(STATE_FILE)).unwrap();
        s.ack(&fp(1), 20);
        s.save().unwrap();
        // An older complete tmp file left behind: main wins.
        fs::write(dir.path().join(TMP_FILE), &older).unwrap();
        let r = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(r.get(&fp(1)).unwrap().offset, 20);
        // A half-written tmp file: main wins.
        fs::write(dir.path().join(TMP_FILE), &older[..older.len() / 2]).unwrap();
        let r = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(r.get(&fp(1)).unwrap().offset, 20);
        // A half-written tmp file and no main: empty store.
        fs::remove_file(dir.path().join(STATE_FILE)).unwrap();
        let r = CheckpointStore::open(dir.path()).unwrap();
        assert!(r.is_empty());
    }

    #[test]
    fn corrupt_main_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
        fs::write(dir.path().join(STATE_FILE), b"{\"version\":1}").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
        fs::write(dir.path().join(STATE_FILE), b"[1,2]").unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err();
        assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err}");
        fs::write(
            dir.path().join(STATE_FILE),
            b"{\"version\":7,\"checkpoints\":[]}",
        )
        .unwrap();
        let err = CheckpointStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, CheckpointError::UnsupportedVersion { .. }),
            "{err}"
        );
        fs::write(dir.path().join(STATE_FILE), [0xff, 0xfe, 0x00]).unwrap();
        assert!(CheckpointStore::open(dir.path()).is_err());
    }

    #[test]
    fn pruning_removes_stale_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CheckpointStore::open(dir.path()).unwrap();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        s.track_at(&fp(1), Path::new("/old"), t0);
        s.track_at(&fp(2), Path::new("/new"), t0 + Duration::from_secs(3600));
        s.ack_at(&fp(1), 5, t0 + Duration::from_secs(10));
        let now = t0 + Duration::from_secs(3700);
        assert_eq!(s.prune_at(Duration::from_secs(600), now), 1);
        assert!(s.get(&fp(1)).is_none());
        assert!(s.get(&fp(2)).is_some());
        assert_eq!(s.prune_at(Duration::from_secs(600), now), 0);
    }

    #[test]
    fn offsets_are_monotonic() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(s.ack(&fp(1), 5), AckOutcome::Unknown);
        s.track(&fp(1), Path::new("/a"));
        assert_eq!(s.ack(&fp(1), 50), AckOutcome::Advanced { from: 0, to: 50 });
        assert_eq!(s.ack(&fp(1), 40), AckOutcome::Ignored { current: 50 });
        assert_eq!(s.ack(&fp(1), 50), AckOutcome::Ignored { current: 50 });
        assert_eq!(s.track(&fp(1), Path::new("/a.1")), 50);
        assert_eq!(s.get(&fp(1)).unwrap().path, "/a.1");
        assert!(s.reset(&fp(1), 0));
        assert_eq!(s.get(&fp(1)).unwrap().offset, 0);
    }

    #[test]
    fn rekey_and_find() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        fs::write(&log, b"first\n").unwrap();
        let fpr = Fingerprinter::default();
        let young = fpr.fingerprint_path(&log).unwrap().unwrap();
        let mut s = CheckpointStore::open(dir.path().join("state")).unwrap();
        s.track(&young, &log);
        s.ack(&young, 6);
        fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(b"second\n")
            .unwrap();
        let mut f = File::open(&log).unwrap();
        let (found, cp) = s.find(&mut f, &fpr).unwrap().unwrap();
        assert_eq!(found, young);
        assert_eq!(cp.offset, 6);
        let grown = fpr.fingerprint(&mut f).unwrap().unwrap();
        assert!(s.rekey(&young, grown.clone()));
        assert_eq!(s.get(&grown).unwrap().offset, 6);
        assert!(s.get(&young).is_none());
        // Truncated and rewritten in place: no longer the same file.
        fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(0)
            .unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(b"other content\n")
            .unwrap();
        assert!(s.find(&mut f, &fpr).unwrap().is_none());
    }
}
