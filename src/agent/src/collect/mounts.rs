//! The mount table for the `disk` plugin, read again only when it may have changed.
//!
//! The table is `<proc>/self/mounts`, or `<proc>/1/mounts` when the former cannot be read. It
//! is kept open between ticks ([`KeptFile`]). When the open file is a proc file, the kernel
//! reports changes of the mount namespace through `poll`: the file polls with `POLLPRI` (and
//! `POLLERR`) set once after every mount, unmount or remount since the previous poll (each
//! open file keeps the namespace's event count it has seen). A tick then costs one `poll` with
//! a zero timeout instead of having the kernel render every mount. Other files (test
//! fixtures) do not signal changes; they are read every tick and the caller compares the text.
//!
//! Invariants: the first call always reads; a failed read returns the error and the next call
//! reads again (and re-checks whether the file is a proc file); a change that lands between
//! the poll and the read is both in the text read and signalled again at the next poll (the
//! poll consumed only the events before it), so it is never missed.

use super::kept::KeptFile;
use super::CollectError;
use std::path::Path;

/// The mount table of the agent's mount namespace.
#[derive(Debug)]
pub(crate) struct MountTable {
    files: [KeptFile; 2],
    /// The file of the last successful read.
    active: Option<usize>,
    /// That file signals changes through `poll`.
    pollable: bool,
}

impl MountTable {
    /// The table under `proc_root`.
    pub(crate) fn new(proc_root: &Path) -> Self {
        MountTable {
            files: [
                KeptFile::new(proc_root.join("self/mounts")),
                KeptFile::new(proc_root.join("1/mounts")),
            ],
            active: None,
            pollable: false,
        }
    }

    /// Read the table into `buf` unless it is known not to have changed since the last read:
    /// `Ok(true)` when `buf` holds the table now, `Ok(false)` when it is unchanged (and `buf`
    /// was not touched).
    pub(crate) fn read_if_changed(&mut self, buf: &mut Vec<u8>) -> Result<bool, CollectError> {
        if let (Some(i), true) = (self.active, self.pollable) {
            if let Some(file) = self.files.get_mut(i) {
                if !changed(file) {
                    return Ok(false);
                }
            }
        }
        self.active = None;
        let first = match self.files[0].read(buf) {
            Ok(()) => {
                self.opened(0);
                return Ok(true);
            }
            Err(e) => e,
        };
        match self.files[1].read(buf) {
            Ok(()) => {
                self.opened(1);
                Ok(true)
            }
            Err(_) => Err(CollectError::Read {
                path: self.files[0].path().to_path_buf(),
                source: first,
            }),
        }
    }

    /// Whether the table is watched through `poll` (tests).
    #[cfg(test)]
    pub(crate) fn is_pollable(&self) -> bool {
        self.pollable
    }

    fn opened(&mut self, i: usize) {
        self.active = Some(i);
        self.pollable = self.files.get_mut(i).is_some_and(|f| {
            f.fd()
                .and_then(|fd| Ok(rustix::fs::fstatfs(fd)?))
                .is_ok_and(|s| s.f_type == rustix::fs::PROC_SUPER_MAGIC)
        });
    }
}

/// Whether the kernel signals a change of the mount table behind `file` (an error counts as a
/// change, so the caller reads).
fn changed(file: &mut KeptFile) -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let Ok(fd) = file.fd() else {
        return true;
    };
    let mut fds = [PollFd::new(fd, PollFlags::PRI)];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match poll(&mut fds, Some(&zero)) {
        Ok(_) => fds[0]
            .revents()
            .intersects(PollFlags::PRI | PollFlags::ERR | PollFlags::NVAL),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_files_are_read_every_time_with_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = MountTable::new(dir.path());
        let mut buf = Vec::new();
        assert!(matches!(
            t.read_if_changed(&mut buf),
            Err(CollectError::Read { .. })
        ));
        // Only `1/mounts`: the fallback.
        std::fs::create_dir_all(dir.path().join("1")).unwrap();
        std::fs::write(dir.path().join("1/mounts"), "a /b ext4 rw 0 0\n").unwrap();
        assert!(t.read_if_changed(&mut buf).unwrap());
        assert_eq!(buf, b"a /b ext4 rw 0 0\n");
        assert!(!t.is_pollable(), "a regular file does not signal changes");
        // `self/mounts` appears: preferred from the next read on.
        std::fs::create_dir_all(dir.path().join("self")).unwrap();
        std::fs::write(dir.path().join("self/mounts"), "c /d xfs rw 0 0\n").unwrap();
        assert!(t.read_if_changed(&mut buf).unwrap());
        assert_eq!(buf, b"c /d xfs rw 0 0\n");
        assert!(
            t.read_if_changed(&mut buf).unwrap(),
            "read again every time"
        );
    }

    /// The live table (skipped without `/proc`): read once, then polled.
    #[test]
    fn live_table_is_polled() {
        let root = Path::new(crate::collect::DEFAULT_PROC_ROOT);
        if !root.join("self/mounts").exists() {
            return;
        }
        let mut t = MountTable::new(root);
        let mut buf = Vec::new();
        assert!(t.read_if_changed(&mut buf).unwrap());
        assert!(!buf.is_empty());
        assert!(t.is_pollable());
        // Unchanged now (other processes may mount in between: allow a few tries).
        let unchanged = (0..5).any(|_| !t.read_if_changed(&mut buf).unwrap_or(true));
        assert!(unchanged, "a quiet mount table is not read again");
    }
}
