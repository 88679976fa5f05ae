//! Exclusive ownership of a spool directory.
//!
//! The file `lock` in the directory is held with a non-blocking exclusive
//! `flock` for the lifetime of the [`DirLock`]. The kernel releases it when
//! the process dies, even by SIGKILL, so a stale lock never blocks a
//! restart. `flock` locks belong to the open file description, so a second
//! open of the same directory inside one process is refused too.
//!
//! A process that spawns children briefly shares every open descriptor
//! with each child, between the fork and the exec that closes them; a
//! lock held only by such a descriptor vanishes within milliseconds. So a
//! refused lock is retried a few times with a short backoff (about 0.6 s
//! in all) before [`SpoolError::Locked`] is returned.

use std::fs::File;
use std::io;
use std::path::Path;
use std::thread;
use std::time::Duration;

use rustix::fs::{flock, FlockOperation};

use crate::error::{Result, SpoolError};

/// Name of the lock file.
pub(crate) const LOCK_FILE: &str = "lock";

/// Pauses between attempts when the lock is held elsewhere.
const RETRY_PAUSES_MS: [u64; 7] = [5, 10, 20, 40, 80, 160, 300];

/// A held directory lock; released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock or fails with [`SpoolError::Locked`].
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| SpoolError::io("open lock file", &path, e))?;
        for pause_ms in RETRY_PAUSES_MS.iter().copied().map(Some).chain([None]) {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(errno) => {
                    let err = io::Error::from(errno);
                    if err.kind() != io::ErrorKind::WouldBlock {
                        return Err(SpoolError::io("lock", &path, err));
                    }
                }
            }
            if let Some(ms) = pause_ms {
                thread::sleep(Duration::from_millis(ms));
            }
        }
        Err(SpoolError::Locked {
            dir: dir.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_refused_until_first_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(matches!(
            DirLock::acquire(dir.path()),
            Err(SpoolError::Locked { .. })
        ));
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }
}
