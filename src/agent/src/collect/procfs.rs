//! Reading `/proc/[pid]` files: the proc root kept open between ticks ([`ProcRoot`]), a
//! buffer-reusing reader, and the parser of `/proc/[pid]/stat` ([`parse_pid_stat`]).
//!
//! Shared by the `processes` and `procstat` plugins (through the per-tick process table of
//! `proctable`) and by the other plugins that read a proc file into a reused buffer.
//!
//! Invariants:
//! - nothing here allocates per file once the caller's buffers have grown;
//! - per-process files are opened relative to the open proc root (`<pid>/<file>`), so the
//!   kernel does not walk the root's own path for every file;
//! - a process that is gone shows as `ENOENT` or `ESRCH` ([`is_gone`]); callers skip it.

use super::CollectError;
use std::io;
use std::path::{Path, PathBuf};

/// Read a whole file into `buf` (cleared first), keeping its capacity for the next read.
///
/// Only `open`, `read` (until it returns 0) and `close`: the standard library's whole-file
/// read also asks for the file's size and position first, which proc files do not have.
pub(crate) fn read_into(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    read_at(rustix::fs::CWD, path, buf, false)
}

/// [`read_into`] for `path` relative to the directory `dir`. With `short_is_end`, a read that
/// does not fill the free space of `buf` is taken as the end of the file (saving the `read`
/// that would return 0): true of regular files and of the per-process proc files, which the
/// kernel renders in one piece and hands out as far as the caller's buffer allows; **not** of
/// multi-record proc tables such as `net/tcp`, handed out about a page per `read`.
fn read_at<P: rustix::path::Arg>(
    dir: rustix::fd::BorrowedFd<'_>,
    path: P,
    buf: &mut Vec<u8>,
    short_is_end: bool,
) -> io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    buf.clear();
    let fd = rustix::fs::openat(dir, path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    loop {
        if buf.capacity() - buf.len() < MIN_READ {
            buf.reserve(buf.capacity().max(READ_CHUNK));
        }
        let room = buf.capacity() - buf.len();
        match rustix::io::read(&fd, rustix::buffer::spare_capacity(buf)) {
            Ok(0) => return Ok(()),
            Ok(n) if short_is_end && n < room => return Ok(()),
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The smallest free space [`read_into`] reads into; below it the buffer grows.
const MIN_READ: usize = 512;
/// The least a growing read buffer grows by.
const READ_CHUNK: usize = 4096;

/// Whether an I/O error means the process is gone (`ENOENT`, or `ESRCH` from a file of a
/// process that exited while it was open).
pub(crate) fn is_gone(e: &io::Error) -> bool {
    const ESRCH: i32 = 3;
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(ESRCH)
}

/// Entry buffer for directory listings: room for a few hundred entries per `getdents` call.
const DIRENT_BUF: usize = 8 * 1024;

/// The proc root, kept open between ticks, and the `<pid>/<file>` paths under it.
///
/// Listing it again costs a seek and the `getdents` calls into one reused entry buffer; a
/// per-process file is opened relative to the open root (`<pid>/<file>`), so the kernel does
/// not walk the root's own path for every file; a file costs `open`, `read` and `close`. No
/// allocation once the buffers have grown.
#[derive(Debug)]
pub(crate) struct ProcRoot {
    path: PathBuf,
    fd: Option<rustix::fd::OwnedFd>,
    dirents: Vec<std::mem::MaybeUninit<u8>>,
    /// Scratch `<pid>/<file>`.
    rel: String,
    /// Whether the root is a procfs mount (known once it was opened).
    procfs: Option<bool>,
}

impl ProcRoot {
    pub(crate) fn new(path: &Path) -> Self {
        ProcRoot {
            path: path.to_path_buf(),
            fd: None,
            dirents: Vec::new(),
            rel: String::with_capacity(32),
            procfs: None,
        }
    }

    fn open_root(&self) -> io::Result<rustix::fd::OwnedFd> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(rustix::fs::open(&self.path, flags, Mode::empty())?)
    }

    /// Append the pids (numeric entries) of the proc root to `out` (cleared first). An error
    /// opening the root is returned; an error in the middle of a listing ends it early (and
    /// the root is opened afresh next time).
    pub(crate) fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<(), CollectError> {
        use rustix::fs::SeekFrom;
        out.clear();
        let fd = match self.fd.take() {
            Some(fd) if rustix::fs::seek(&fd, SeekFrom::Start(0)).is_ok() => fd,
            _ => self.open_root().map_err(|source| CollectError::Read {
                path: self.path.clone(),
                source,
            })?,
        };
        if self.dirents.len() < DIRENT_BUF {
            self.dirents
                .resize(DIRENT_BUF, std::mem::MaybeUninit::uninit());
        }
        let mut dir = rustix::fs::RawDir::new(&fd, &mut self.dirents);
        while let Some(entry) = dir.next() {
            match entry {
                Ok(entry) => {
                    if let Some(pid) = parse_pid_bytes(entry.file_name().to_bytes()) {
                        out.push(pid);
                    }
                }
                Err(e) => {
                    tracing::debug!(path = %self.path.display(), error = %e, "proc root listing ended early");
                    return Ok(());
                }
            }
        }
        self.fd = Some(fd);
        Ok(())
    }

    /// The open root (opened now if no listing did it yet), and `<pid>/<file>` (`<pid>` alone
    /// when `file` is empty) in `self.rel`.
    fn at(&mut self, pid: u32, file: &str) -> io::Result<(rustix::fd::BorrowedFd<'_>, &str)> {
        use std::fmt::Write;
        if self.fd.is_none() {
            self.fd = Some(self.open_root()?);
        }
        self.rel.clear();
        // Writing to a String cannot fail.
        let _ = write!(self.rel, "{pid}");
        if !file.is_empty() {
            self.rel.push('/');
            self.rel.push_str(file);
        }
        use rustix::fd::AsFd;
        match &self.fd {
            Some(fd) => Ok((fd.as_fd(), self.rel.as_str())),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// Open per-process file `file` of `pid` for reading (a descriptor the caller may keep).
    pub(crate) fn open(&mut self, pid: u32, file: &str) -> io::Result<rustix::fd::OwnedFd> {
        use rustix::fs::{Mode, OFlags};
        let (dir, rel) = self.at(pid, file)?;
        Ok(rustix::fs::openat(
            dir,
            rel,
            OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }

    /// Read per-process file `file` of `pid` (`stat`, `status`, `cmdline`, ...; not a
    /// directory, not a multi-record table) into `buf` (see [`read_at`]).
    pub(crate) fn read(&mut self, pid: u32, file: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        let (dir, rel) = self.at(pid, file)?;
        read_at(dir, rel, buf, true)
    }

    /// Whether the directory of `pid` exists.
    pub(crate) fn exists(&mut self, pid: u32) -> bool {
        let Ok((dir, rel)) = self.at(pid, "") else {
            return false;
        };
        rustix::fs::statat(dir, rel, rustix::fs::AtFlags::empty()).is_ok()
    }

    /// The number of open files of `pid`. On procfs, Linux 6.2 and later report it as the size
    /// of `<pid>/fd`: one `access` check (so a process whose descriptors the agent may not list
    /// stays unreadable, as before) and one `stat`, whatever the number of files. A size of 0
    /// (older kernels, or no open files) and other roots count the entries instead.
    pub(crate) fn count_fds(&mut self, pid: u32) -> io::Result<u64> {
        use rustix::fs::{Access, AtFlags};
        if self.is_procfs() {
            let (dir, rel) = self.at(pid, "fd")?;
            rustix::fs::accessat(
                dir,
                rel,
                Access::READ_OK | Access::EXEC_OK,
                AtFlags::empty(),
            )?;
            let st = rustix::fs::statat(dir, rel, AtFlags::empty())?;
            if st.st_size > 0 {
                return Ok(u64::try_from(st.st_size).unwrap_or(0));
            }
        }
        self.count_entries(pid, "fd")
    }

    /// Whether the root is a procfs mount.
    pub(crate) fn is_procfs(&mut self) -> bool {
        if let Some(p) = self.procfs {
            return p;
        }
        if self.fd.is_none() {
            self.fd = self.open_root().ok();
        }
        let Some(fd) = &self.fd else {
            return false;
        };
        let p = rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type == rustix::fs::PROC_SUPER_MAGIC);
        self.procfs = Some(p);
        p
    }

    /// The number of entries of directory `file` of `pid`, `.` and `..` left out (one `open`,
    /// the `getdents` calls, one `close`, into the reused entry buffer).
    pub(crate) fn count_entries(&mut self, pid: u32, file: &str) -> io::Result<u64> {
        use rustix::fs::{Mode, OFlags};
        let (dir, rel) = self.at(pid, file)?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, rel, flags, Mode::empty())?;
        if self.dirents.len() < DIRENT_BUF {
            self.dirents
                .resize(DIRENT_BUF, std::mem::MaybeUninit::uninit());
        }
        let mut entries = rustix::fs::RawDir::new(&fd, &mut self.dirents);
        let mut n = 0u64;
        while let Some(entry) = entries.next() {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// A pid from an all-digit name (no sign, no spaces).
pub(crate) fn parse_pid_bytes(b: &[u8]) -> Option<u32> {
    parse_u64(b).and_then(|n| u32::try_from(n).ok())
}

/// A pid from an all-digit string (no sign, no spaces).
pub(crate) fn parse_pid(s: &str) -> Option<u32> {
    parse_pid_bytes(s.as_bytes())
}

/// The parts of one `/proc/[pid]/stat` line the plugins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PidStat<'a> {
    /// The command name between the parentheses (at most 15 bytes, may hold spaces or `)`).
    pub comm: &'a [u8],
    /// Field 3.
    pub state: u8,
    /// Fields 14 and 15, clock ticks.
    pub utime: u64,
    pub stime: u64,
    /// Field 19 (-20..19).
    pub nice: i64,
    /// Field 20.
    pub num_threads: u64,
    /// Field 22, clock ticks since boot: with the pid, identifies one process over time.
    pub starttime: u64,
    /// Field 40 (0 when absent).
    pub rt_priority: u64,
    /// Field 42, aggregated block-I/O delay, clock ticks (0 when absent).
    pub blkio_ticks: u64,
    /// Field 43, guest time, clock ticks (0 when absent).
    pub guest_time: u64,
}

/// Parse an unsigned decimal number.
pub(crate) fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(n)
}

fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.split_first() {
        Some((b'-', rest)) => parse_u64(rest)
            .and_then(|n| i64::try_from(n).ok())
            .map(|n| -n),
        _ => parse_u64(b).and_then(|n| i64::try_from(n).ok()),
    }
}

/// Parse a `/proc/[pid]/stat` line. The command name is found between the first `(` and the
/// *last* `)`, since the name itself may contain `)`. `None` when a required field (state, times,
/// nice, threads, start time) is missing or malformed.
pub(crate) fn parse_pid_stat(buf: &[u8]) -> Option<PidStat<'_>> {
    let open = buf.iter().position(|&b| b == b'(')?;
    let close = buf.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = &buf[open + 1..close];
    let mut st = PidStat {
        comm,
        state: 0,
        utime: 0,
        stime: 0,
        nice: 0,
        num_threads: 0,
        starttime: 0,
        rt_priority: 0,
        blkio_ticks: 0,
        guest_time: 0,
    };
    // Index i is field i+3 of proc(5).
    let mut seen_required = 0u8;
    let fields = buf[close + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    for (i, f) in fields.enumerate() {
        match i {
            0 => {
                st.state = *f.first()?;
                seen_required += 1;
            }
            11 => {
                st.utime = parse_u64(f)?;
                seen_required += 1;
            }
            12 => {
                st.stime = parse_u64(f)?;
                seen_required += 1;
            }
            16 => {
                st.nice = parse_i64(f)?;
                seen_required += 1;
            }
            17 => {
                st.num_threads = parse_u64(f)?;
                seen_required += 1;
            }
            19 => {
                st.starttime = parse_u64(f)?;
                seen_required += 1;
            }
            37 => st.rt_priority = parse_u64(f).unwrap_or(0),
            39 => st.blkio_ticks = parse_u64(f).unwrap_or(0),
            40 => {
                st.guest_time = parse_u64(f).unwrap_or(0);
                break;
            }
            _ => {}
        }
    }
    (seen_required == 6).then_some(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_parsing() {
        let line = b"42 (a) (b) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 -5 3 0 12345 \
1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 7 0 9 11 0 0 0 0 0 0 0 0 0\n";
        let st = parse_pid_stat(line).unwrap();
        assert_eq!(st.comm, b"a) (b");
        assert_eq!(st.state, b'S');
        assert_eq!((st.utime, st.stime), (250, 75));
        assert_eq!(st.nice, -5);
        assert_eq!(st.num_threads, 3);
        assert_eq!(st.starttime, 12345);
        assert_eq!(st.rt_priority, 7);
        assert_eq!(st.blkio_ticks, 9);
        assert_eq!(st.guest_time, 11);
        // Old kernels: no rt_priority / guest columns.
        let old = b"7 (x) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 99 0 0";
        let st = parse_pid_stat(old).unwrap();
        assert_eq!(
            (st.state, st.starttime, st.rt_priority, st.guest_time),
            (b'R', 99, 0, 0)
        );
        assert_eq!(parse_pid_stat(b"7 (x) R 1 7"), None);
        assert_eq!(parse_pid_stat(b""), None);
        assert_eq!(parse_pid_stat(b"7 )x( R"), None);
        assert_eq!(parse_u64(b"18446744073709551616"), None, "overflow");
        assert_eq!(parse_pid("123"), Some(123));
        assert_eq!(parse_pid("+1"), None);
        assert_eq!(parse_pid("self"), None);
    }

    #[test]
    fn read_into_grows_and_reuses_the_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("big"), &big).unwrap();
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let mut buf = Vec::with_capacity(16);
        read_into(&dir.path().join("big"), &mut buf).unwrap();
        assert_eq!(buf, big);
        let cap = buf.capacity();
        read_into(&dir.path().join("empty"), &mut buf).unwrap();
        assert!(buf.is_empty());
        assert_eq!(buf.capacity(), cap, "capacity kept");
        let e = read_into(&dir.path().join("missing"), &mut buf).unwrap_err();
        assert!(is_gone(&e));
        std::fs::create_dir_all(dir.path().join("12/fd")).unwrap();
        std::fs::write(dir.path().join("12/fd/0"), b"").unwrap();
        std::fs::write(dir.path().join("12/stat"), b"x").unwrap();
        let mut root = ProcRoot::new(dir.path());
        assert_eq!(root.count_entries(12, "fd").unwrap(), 1);
        assert!(root.count_entries(13, "fd").is_err());
        assert!(root.exists(12) && !root.exists(13));
        root.read(12, "stat", &mut buf).unwrap();
        assert_eq!(buf, b"x");
        // A file larger than the buffer is read whole (full reads go on).
        std::fs::write(dir.path().join("12/status"), &big).unwrap();
        let mut small = Vec::with_capacity(600);
        root.read(12, "status", &mut small).unwrap();
        assert_eq!(small, big);
        if Path::new("/proc/self/status").exists() {
            // The kernel's per-process files, through a buffer smaller than them.
            let mut live = ProcRoot::new(Path::new("/proc"));
            let me = std::process::id();
            let mut small = Vec::with_capacity(600);
            live.read(me, "status", &mut small).unwrap();
            let whole = std::fs::read(format!("/proc/{me}/status")).unwrap();
            assert!(small.starts_with(b"Name:") && small.ends_with(b"\n"));
            assert!(small.len() > 600 && whole.len() > 600);
        }
        assert!(is_gone(&root.read(13, "stat", &mut buf).unwrap_err()));
        assert_eq!(parse_pid_bytes(b"4294967296"), None, "beyond u32");
        assert_eq!(parse_pid_bytes(b"007"), Some(7));
    }

    /// The open-file count: from the directory size on a live procfs, by listing elsewhere;
    /// both agree with a listing of the test process's own descriptors.
    #[test]
    fn open_file_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("12/fd")).unwrap();
        for n in ["0", "1", "2"] {
            std::fs::write(dir.path().join("12/fd").join(n), b"").unwrap();
        }
        let mut root = ProcRoot::new(dir.path());
        assert_eq!(
            root.count_fds(12).unwrap(),
            3,
            "a directory's size is not a count"
        );
        assert!(root.count_fds(13).is_err());
        let live = Path::new("/proc");
        if !live.join("self/fd").exists() {
            return;
        }
        let mut root = ProcRoot::new(live);
        let me = std::process::id();
        // Hold a few files so the count is well above the few the listing itself opens.
        let held: Vec<std::fs::File> = (0..8)
            .map(|_| std::fs::File::open("/proc/self/stat").unwrap())
            .collect();
        let counted = root.count_fds(me).unwrap();
        let listed = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        // The listing holds one more descriptor (its own) while it runs; other test threads
        // may open or close a few in between.
        assert!(
            counted + 8 >= listed && listed + 8 >= counted,
            "{counted} vs {listed}"
        );
        assert!(counted >= held.len() as u64);
    }
}
