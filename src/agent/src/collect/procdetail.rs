//! The detail files of the processes one `procstat` entry matched (`status`, `io`, `limits`),
//! kept open while the process stays matched.
//!
//! Like the shared scan's `stat` files (see `proctable`), a kept file is bound to the process
//! it was opened for, not to its pid, and is re-read with `pread` at offset 0, which makes the
//! kernel render it afresh. Files are keyed by the process's identity (pid, start time); a
//! process without a known start time (found through a pid file while no `stat`-based field
//! is configured) is read with open, read and close every tick.
//!
//! Invariants: only the processes matched on the last tick keep files ([`KeptDetails::finish`]
//! drops the others); at most [`MAX_PROCESSES`] processes per entry keep files (the rest are
//! read the plain way); a failed read on a kept file is retried once on a freshly opened one,
//! whose error (the process is gone) is returned.

use super::kept::{pread_all, reread_process_file};
use super::procfs::ProcRoot;
use rustix::fd::OwnedFd;
use std::collections::HashMap;
use std::io;

/// The most processes per procstat entry whose detail files are kept open.
pub(crate) const MAX_PROCESSES: usize = 32;

/// A per-process file kept open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    Status,
    Io,
    Limits,
}

impl Detail {
    fn name(self) -> &'static str {
        match self {
            Detail::Status => "status",
            Detail::Io => "io",
            Detail::Limits => "limits",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
struct Files {
    fds: [Option<OwnedFd>; 3],
    seen: bool,
}

/// The kept detail files of one procstat entry.
#[derive(Debug, Default)]
pub(crate) struct KeptDetails {
    by_process: HashMap<(u32, u64), Files>,
    /// Files opened (tests).
    opens: u64,
}

impl KeptDetails {
    /// Start a tick: every process is unseen until read.
    pub(crate) fn begin(&mut self) {
        for f in self.by_process.values_mut() {
            f.seen = false;
        }
    }

    /// End a tick: forget the processes not read during it.
    pub(crate) fn finish(&mut self) {
        self.by_process.retain(|_, f| f.seen);
    }

    /// Read `detail` of process `pid` (started at `starttime`, when known) into `buf`.
    pub(crate) fn read(
        &mut self,
        root: &mut ProcRoot,
        pid: u32,
        starttime: Option<u64>,
        detail: Detail,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let Some(start) = starttime else {
            return root.read(pid, detail.name(), buf);
        };
        let key = (pid, start);
        if self.by_process.len() >= MAX_PROCESSES && !self.by_process.contains_key(&key) {
            return root.read(pid, detail.name(), buf);
        }
        let files = self.by_process.entry(key).or_default();
        files.seen = true;
        let Some(slot) = files.fds.get_mut(detail.index()) else {
            return root.read(pid, detail.name(), buf);
        };
        if let Some(fd) = slot {
            if reread_process_file(fd, buf, root.is_procfs()).is_ok() {
                return Ok(());
            }
            *slot = None;
        }
        self.opens += 1;
        let fd = root.open(pid, detail.name())?;
        pread_all(&fd, buf, true)?;
        *slot = Some(fd);
        Ok(())
    }

    /// Files opened so far (tests).
    #[cfg(test)]
    pub(crate) fn opens(&self) -> u64 {
        self.opens
    }

    /// Processes with kept files (tests).
    #[cfg(test)]
    pub(crate) fn processes(&self) -> usize {
        self.by_process.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_per_identity_and_dropped_when_unmatched() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        for pid in [1, 2] {
            std::fs::create_dir_all(r.join(pid.to_string())).unwrap();
            std::fs::write(r.join(format!("{pid}/status")), format!("Pid:\t{pid}\n")).unwrap();
        }
        let mut root = ProcRoot::new(r);
        let mut k = KeptDetails::default();
        let mut buf = Vec::new();
        for tick in 0..3 {
            k.begin();
            k.read(&mut root, 1, Some(10), Detail::Status, &mut buf)
                .unwrap();
            assert_eq!(buf, b"Pid:\t1\n");
            // No start time: read the plain way, never kept.
            k.read(&mut root, 2, None, Detail::Status, &mut buf)
                .unwrap();
            assert_eq!(buf, b"Pid:\t2\n");
            k.finish();
            assert_eq!((k.opens(), k.processes()), (1, 1), "tick {tick}");
        }
        // Rewritten in place: the kept file shows the new content.
        std::fs::write(r.join("1/status"), "Pid:\t1\nVmRSS:\t4 kB\n").unwrap();
        k.begin();
        k.read(&mut root, 1, Some(10), Detail::Status, &mut buf)
            .unwrap();
        assert_eq!(buf, b"Pid:\t1\nVmRSS:\t4 kB\n");
        // Another identity behind pid 1: its own files.
        k.read(&mut root, 1, Some(99), Detail::Status, &mut buf)
            .unwrap();
        assert_eq!(k.opens(), 2);
        // A missing file is an error, and nothing is kept for it.
        assert!(k
            .read(&mut root, 1, Some(10), Detail::Io, &mut buf)
            .is_err());
        k.finish();
        // Not matched on a tick: dropped.
        k.begin();
        k.finish();
        assert_eq!(k.processes(), 0);
        // The budget: beyond it, read the plain way.
        k.begin();
        for start in 0..(MAX_PROCESSES as u64 + 5) {
            k.read(&mut root, 2, Some(start), Detail::Status, &mut buf)
                .unwrap();
        }
        assert_eq!(k.processes(), MAX_PROCESSES);
    }
}
