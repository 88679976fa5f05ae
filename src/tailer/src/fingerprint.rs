//! File identity.
//!
//! # Design
//!
//! A file is identified by a [`Fingerprint`]: the SHA-256 checksum of its
//! first `N` bytes (default [`DEFAULT_FINGERPRINT_BYTES`] = 1024) together
//! with the device and inode numbers of the open handle. While a file is
//! shorter than `N`, only the bytes present are hashed and their count is
//! recorded in [`Fingerprint::hashed_bytes`]; a file shorter than the
//! configured minimum (default [`DEFAULT_MIN_FINGERPRINT_BYTES`] = 1, i.e.
//! an empty file) has no fingerprint yet, so nothing can be checkpointed
//! for it until it has content.
//!
//! Because a young file's fingerprint covers fewer bytes than it will once
//! the file has grown, two fingerprints of the same file taken at different
//! times may differ. Comparisons against a stored fingerprint are therefore
//! made by re-hashing exactly `stored.hashed_bytes` bytes of the current
//! file ([`Fingerprinter::identify`]).
//!
//! # "Same file" rules
//!
//! | event                         | dev/inode | first bytes      | [`Identity`]        |
//! |-------------------------------|-----------|------------------|---------------------|
//! | nothing / appended            | same      | same             | `Same`              |
//! | renamed (rotation by rename)  | same      | same             | `Same`              |
//! | copytruncate, then rewritten  | same      | differ / shorter | `Rewritten`         |
//! | new file created at same path | differ    | any              | `Different`         |
//!
//! A `Rewritten` file must be read again from offset 0; its old checkpoint
//! is stale. `Different` files have nothing to do with the stored entry.
//!
//! # Invariants
//!
//! * The checksum covers exactly `hashed_bytes` bytes starting at offset 0,
//!   and `min_bytes <= hashed_bytes <= max_bytes`.
//! * Fingerprinting never moves the caller's read position: the handle's
//!   stream position is restored after hashing.
//! * On platforms without device/inode numbers both are recorded as 0 and
//!   identity relies on the checksum alone.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Default number of leading bytes hashed into a fingerprint.
pub const DEFAULT_FINGERPRINT_BYTES: u64 = 1024;
/// Default minimum file size for a file to get a fingerprint.
pub const DEFAULT_MIN_FINGERPRINT_BYTES: u64 = 1;

/// The identity of a file: device, inode and a checksum of its first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Device number of the filesystem holding the file.
    pub dev: u64,
    /// Inode number.
    pub inode: u64,
    /// How many leading bytes the checksum covers.
    pub hashed_bytes: u64,
    /// Lower-case hex SHA-256 of the first `hashed_bytes` bytes.
    pub sha256: String,
}

/// How a file currently compares with a stored fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Same device/inode and same leading bytes: the same file (possibly
    /// renamed or grown).
    Same,
    /// Same device/inode but the leading bytes changed or the file is now
    /// shorter than the hashed prefix (copytruncate, or rewritten in place).
    Rewritten,
    /// Another device/inode: a different file.
    Different,
}

/// Computes fingerprints with a configured prefix length and minimum size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprinter {
    max_bytes: u64,
    min_bytes: u64,
}

impl Default for Fingerprinter {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_FINGERPRINT_BYTES,
            min_bytes: DEFAULT_MIN_FINGERPRINT_BYTES,
        }
    }
}

/// Device and inode numbers from metadata (0, 0 where unavailable).
pub fn dev_inode(meta: &Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

impl Fingerprinter {
    /// A fingerprinter hashing up to `max_bytes` leading bytes and refusing
    /// files shorter than `min_bytes`. `min_bytes` is clamped to at least 1
    /// and at most `max_bytes`; `max_bytes` to at least 1.
    pub fn new(max_bytes: u64, min_bytes: u64) -> Self {
        let max_bytes = max_bytes.max(1);
        Self {
            max_bytes,
            min_bytes: min_bytes.clamp(1, max_bytes),
        }
    }

    /// Maximum number of bytes hashed.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Minimum file size for a fingerprint.
    pub fn min_bytes(&self) -> u64 {
        self.min_bytes
    }

    /// Fingerprint an open file. `Ok(None)` while the file is shorter than
    /// the minimum. The handle's stream position is preserved.
    pub fn fingerprint(&self, file: &mut File) -> io::Result<Option<Fingerprint>> {
        let meta = file.metadata()?;
        let (dev, inode) = dev_inode(&meta);
        let want = meta.len().min(self.max_bytes);
        if want < self.min_bytes {
            return Ok(None);
        }
        let Some(prefix) = read_prefix(file, want)? else {
            // The file shrank between stat and read.
            return Ok(None);
        };
        if (prefix.len() as u64) < self.min_bytes {
            return Ok(None);
        }
        Ok(Some(Fingerprint {
            dev,
            inode,
            hashed_bytes: prefix.len() as u64,
            sha256: hex::encode(Sha256::digest(&prefix)),
        }))
    }

    /// Open `path` read-only and fingerprint it.
    pub fn fingerprint_path(&self, path: &Path) -> io::Result<Option<Fingerprint>> {
        let mut file = File::open(path)?;
        self.fingerprint(&mut file)
    }

    /// Compare an open file with a stored fingerprint by re-hashing exactly
    /// `stored.hashed_bytes` leading bytes. The stream position is preserved.
    pub fn identify(&self, file: &mut File, stored: &Fingerprint) -> io::Result<Identity> {
        let meta = file.metadata()?;
        if dev_inode(&meta) != (stored.dev, stored.inode) {
            return Ok(Identity::Different);
        }
        if meta.len() < stored.hashed_bytes {
            return Ok(Identity::Rewritten);
        }
        match read_prefix(file, stored.hashed_bytes)? {
            Some(prefix) if hex::encode(Sha256::digest(&prefix)) == stored.sha256 => {
                Ok(Identity::Same)
            }
            _ => Ok(Identity::Rewritten),
        }
    }
}

/// Read exactly `len` bytes from offset 0, restoring the stream position.
/// `None` if the file holds fewer than `len` bytes.
fn read_prefix(file: &mut File, len: u64) -> io::Result<Option<Vec<u8>>> {
    let saved = file.stream_position()?;
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    let result = file.by_ref().take(len).read_to_end(&mut buf);
    file.seek(SeekFrom::Start(saved))?;
    result?;
    if (buf.len() as u64) < len {
        return Ok(None);
    }
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;

    fn write(path: &Path, data: &[u8]) {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        f.write_all(data).unwrap();
    }

    #[test]
    fn empty_file_has_no_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"");
        assert_eq!(Fingerprinter::default().fingerprint_path(&p).unwrap(), None);
        let fp = Fingerprinter::new(1024, 10);
        write(&p, b"short");
        assert_eq!(fp.fingerprint_path(&p).unwrap(), None);
        write(&p, b" and now long");
        assert!(fp.fingerprint_path(&p).unwrap().is_some());
    }

    #[test]
    fn short_file_records_hashed_len_and_grows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"hello\n");
        let fpr = Fingerprinter::new(16, 1);
        let a = fpr.fingerprint_path(&p).unwrap().unwrap();
        assert_eq!(a.hashed_bytes, 6);
        write(&p, b"world, this is longer than sixteen\n");
        let b = fpr.fingerprint_path(&p).unwrap().unwrap();
        assert_eq!(b.hashed_bytes, 16);
        assert_ne!(a, b);
        let mut f = File::open(&p).unwrap();
        assert_eq!(fpr.identify(&mut f, &a).unwrap(), Identity::Same);
        assert_eq!(fpr.identify(&mut f, &b).unwrap(), Identity::Same);
    }

    #[test]
    fn rename_keeps_identity() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let q = dir.path().join("a.log.1");
        write(&p, b"line one\n");
        let fpr = Fingerprinter::default();
        let a = fpr.fingerprint_path(&p).unwrap().unwrap();
        std::fs::rename(&p, &q).unwrap();
        let b = fpr.fingerprint_path(&q).unwrap().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn copytruncate_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"old content\n");
        let fpr = Fingerprinter::default();
        let a = fpr.fingerprint_path(&p).unwrap().unwrap();
        std::fs::copy(&p, dir.path().join("a.log.1")).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(fpr.identify(&mut f, &a).unwrap(), Identity::Rewritten);
        write(&p, b"new content!\n");
        assert_eq!(fpr.identify(&mut f, &a).unwrap(), Identity::Rewritten);
        let b = fpr.fingerprint(&mut f).unwrap().unwrap();
        assert_eq!((a.dev, a.inode), (b.dev, b.inode));
        assert_ne!(a.sha256, b.sha256);
    }

    #[cfg(unix)]
    #[test]
    fn new_file_at_same_path_is_different() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"same bytes\n");
        let fpr = Fingerprinter::default();
        let a = fpr.fingerprint_path(&p).unwrap().unwrap();
        // Keep the old inode alive so it cannot be reused.
        let q = dir.path().join("a.log.1");
        std::fs::rename(&p, &q).unwrap();
        write(&p, b"same bytes\n");
        let mut f = File::open(&p).unwrap();
        assert_eq!(fpr.identify(&mut f, &a).unwrap(), Identity::Different);
        let b = fpr.fingerprint(&mut f).unwrap().unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_ne!(a, b);
    }

    #[test]
    fn fingerprint_preserves_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        write(&p, b"0123456789");
        let mut f = File::open(&p).unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        let fpr = Fingerprinter::default();
        let fp = fpr.fingerprint(&mut f).unwrap().unwrap();
        assert_eq!(fp.hashed_bytes, 10);
        assert_eq!(f.stream_position().unwrap(), 4);
        assert_eq!(fpr.identify(&mut f, &fp).unwrap(), Identity::Same);
        assert_eq!(f.stream_position().unwrap(), 4);
    }
}
