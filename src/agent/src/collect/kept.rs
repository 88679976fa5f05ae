//! Files kept open between ticks and re-read from offset 0 with `pread`.
//!
//! Opening a proc or sys file costs a path walk, a `struct file` and, for proc files, a
//! `seq_file` set-up; closing it costs as much again. A plugin that reads the same file every
//! tick therefore keeps it open and re-reads it with `pread(fd, buf, 0)`: the kernel's
//! sequential-file layer regenerates the content whenever a read starts at offset 0, so each
//! tick sees fresh figures, for one system call per page of content (plus the one that returns
//! 0 at the end, unless the file is known to be rendered in one piece, see
//! [`KeptFile::single_record`]).
//!
//! Invariants:
//! - a file is opened on first use, and opened afresh once after any read error (a sysfs file
//!   of a device that went away, a file replaced on disk), so a kept descriptor can never hide
//!   a recovery; if the fresh open fails too, that error is returned and the next read tries
//!   again;
//! - the caller's buffer is cleared and grown as needed, never shrunk: no allocation per tick
//!   once it has grown;
//! - only files whose identity cannot change under the descriptor are kept: system-wide proc
//!   files (`meminfo`, `stat`, `diskstats`, `net/dev`, `net/sockstat`, `uptime`,
//!   `self/mounts`) and sysfs attributes. A regular file (a test fixture) is re-read the same
//!   way; one replaced by a rename is not noticed, which no proc or sys file ever is.

use super::CollectError;
use rustix::fd::OwnedFd;
use std::io;
use std::path::{Path, PathBuf};

/// The smallest free space a read is given; below it the buffer grows.
const MIN_READ: usize = 1024;
/// The least a growing buffer grows by.
const READ_CHUNK: usize = 4096;

/// A file kept open between reads.
#[derive(Debug)]
pub(crate) struct KeptFile {
    path: PathBuf,
    fd: Option<OwnedFd>,
    /// The kernel renders the whole file in one piece and hands out as much as the buffer
    /// allows, so a read that does not fill the buffer is the end (saves the read returning 0).
    single_record: bool,
}

impl KeptFile {
    /// A file that may need several reads (multi-record proc tables such as `diskstats`,
    /// `net/dev`, `self/mounts`, which the kernel hands out about a page per read).
    pub(crate) fn new(path: PathBuf) -> Self {
        KeptFile {
            path,
            fd: None,
            single_record: false,
        }
    }

    /// A file the kernel renders in one piece (`meminfo`, `stat`, `uptime`, `net/sockstat`,
    /// sysfs attributes): a short read is its end.
    pub(crate) fn single_record(path: PathBuf) -> Self {
        KeptFile {
            single_record: true,
            ..KeptFile::new(path)
        }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open descriptor, opening it now if needed.
    pub(crate) fn fd(&mut self) -> io::Result<&OwnedFd> {
        use rustix::fs::{Mode, OFlags};
        if self.fd.is_none() {
            let fd = rustix::fs::open(&self.path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
            self.fd = Some(fd);
        }
        match &self.fd {
            Some(fd) => Ok(fd),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// Forget the descriptor (the next read opens the file again).
    #[cfg(test)]
    pub(crate) fn close(&mut self) {
        self.fd = None;
    }

    /// Read the whole file into `buf` (cleared first). A failed read on a kept descriptor is
    /// retried once on a freshly opened one.
    pub(crate) fn read(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        let kept = self.fd.is_some();
        match self.read_once(buf) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.fd = None;
                if kept {
                    let again = self.read_once(buf);
                    if again.is_err() {
                        self.fd = None;
                    }
                    again
                } else {
                    Err(e)
                }
            }
        }
    }

    /// [`KeptFile::read`] as UTF-8 text, with errors naming the file.
    pub(crate) fn read_text<'a>(&mut self, buf: &'a mut Vec<u8>) -> Result<&'a str, CollectError> {
        if let Err(source) = self.read(buf) {
            return Err(CollectError::Read {
                path: self.path.clone(),
                source,
            });
        }
        std::str::from_utf8(buf).map_err(|_| CollectError::Parse {
            path: self.path.clone(),
            message: "not UTF-8".into(),
        })
    }

    fn read_once(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        let single = self.single_record;
        let fd = self.fd()?;
        pread_all(fd, buf, single)
    }
}

/// Re-read a per-process file kept open (see `proctable`). On procfs a kept file is bound to
/// its process and fails once that process is reaped; a regular file (a test fixture) has no
/// such tie, so outside procfs (`procfs` false) a file whose last link is gone (the fixture
/// process was removed, or replaced by another file) is reported as not found instead of
/// being read.
pub(crate) fn reread_process_file(fd: &OwnedFd, buf: &mut Vec<u8>, procfs: bool) -> io::Result<()> {
    if !procfs && rustix::fs::fstat(fd)?.st_nlink == 0 {
        return Err(io::ErrorKind::NotFound.into());
    }
    pread_all(fd, buf, true)
}

/// Read everything from offset 0 of `fd` into `buf` (cleared first). With `single_record`, a
/// read that leaves free space in `buf` ends it.
pub(crate) fn pread_all(fd: &OwnedFd, buf: &mut Vec<u8>, single_record: bool) -> io::Result<()> {
    buf.clear();
    loop {
        if buf.capacity() - buf.len() < MIN_READ {
            buf.reserve(buf.capacity().max(READ_CHUNK));
        }
        let room = buf.capacity() - buf.len();
        let offset = buf.len() as u64;
        match rustix::io::pread(fd, rustix::buffer::spare_capacity(buf), offset) {
            Ok(0) => return Ok(()),
            Ok(n) if single_record && n < room => return Ok(()),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rereads_changes_and_reopens_after_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "one\n").unwrap();
        let mut f = KeptFile::new(path.clone());
        let mut buf = Vec::new();
        f.read(&mut buf).unwrap();
        assert_eq!(buf, b"one\n");
        // Rewritten in place: the kept descriptor sees the new content, longer or shorter.
        let big = "x".repeat(20_000);
        std::fs::write(&path, &big).unwrap();
        f.read(&mut buf).unwrap();
        assert_eq!(buf, big.as_bytes());
        std::fs::write(&path, "2").unwrap();
        assert_eq!(f.read_text(&mut buf).unwrap(), "2");
        // Gone: an error naming the file; back: read again.
        std::fs::remove_file(&path).unwrap();
        f.close();
        match f.read_text(&mut buf) {
            Err(CollectError::Read { path: p, .. }) => assert_eq!(p, path),
            other => panic!("{other:?}"),
        }
        std::fs::write(&path, "three").unwrap();
        assert_eq!(f.read_text(&mut buf).unwrap(), "three");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            f.read_text(&mut buf),
            Err(CollectError::Parse { .. })
        ));
        // A directory cannot be read: the error comes back after the one retry.
        let mut d = KeptFile::single_record(dir.path().to_path_buf());
        assert!(d.read(&mut buf).is_err());
        assert_eq!(d.path(), dir.path());
    }

    /// Proc files regenerate their content on every read from offset 0.
    #[test]
    fn live_proc_files_are_fresh() {
        let uptime = Path::new("/proc/uptime");
        if !uptime.exists() {
            return;
        }
        let mut f = KeptFile::single_record(uptime.to_path_buf());
        let mut buf = Vec::new();
        let first: f64 = f
            .read_text(&mut buf)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let second: f64 = f
            .read_text(&mut buf)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(second > first, "{first} then {second}");
        // A multi-page table through a small buffer.
        let mut m = KeptFile::new(PathBuf::from("/proc/self/mountinfo"));
        let mut small = Vec::with_capacity(16);
        m.read(&mut small).unwrap();
        let whole = std::fs::read("/proc/self/mountinfo").unwrap();
        assert_eq!(small.len(), whole.len());
    }
}
