//! Small durable-file helpers: directory fsync and atomic replacement.
//!
//! Atomic replacement writes `NAME.tmp`, fsyncs it, renames it over
//! `NAME` and fsyncs the directory, so a crash leaves either the old or
//! the new content, never a mix. Leftover `*.tmp` files are removed at open.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Result, SpoolError};

/// Suffix of temporary files written by [`write_atomic`].
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Fsyncs a directory so entries created, renamed or removed in it persist.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SpoolError::io("fsync directory", dir, e))
}

/// Replaces `dir/name` with `bytes` atomically and durably.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}{TMP_SUFFIX}"));
    let dest = dir.join(name);
    let mut f = File::create(&tmp).map_err(|e| SpoolError::io("create", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| SpoolError::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| SpoolError::io("fsync", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, &dest).map_err(|e| SpoolError::io("rename", &dest, e))?;
    sync_dir(dir)
}

/// Removes leftover temporary files; returns how many were removed.
pub(crate) fn remove_tmp_files(dir: &Path) -> Result<usize> {
    let mut removed = 0;
    let entries = fs::read_dir(dir).map_err(|e| SpoolError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SpoolError::io("list", dir, e))?;
        let name = entry.file_name();
        if name.to_string_lossy().ends_with(TMP_SUFFIX) {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| SpoolError::io("remove", &path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_tmp_cleanup() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "f", b"one").unwrap();
        write_atomic(dir.path(), "f", b"two").unwrap();
        assert_eq!(fs::read(dir.path().join("f")).unwrap(), b"two");
        fs::write(dir.path().join("x.tmp"), b"junk").unwrap();
        assert_eq!(remove_tmp_files(dir.path()).unwrap(), 1);
        assert!(!dir.path().join("x.tmp").exists());
        assert!(dir.path().join("f").exists());
    }
}
