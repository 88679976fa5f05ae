//! The `processes` plugin: how many processes are in each scheduler state, from
//! `<proc>/[pid]/stat`; plus the small `/proc/[pid]` helpers the `procstat` plugin shares.
//!
//! Counting follows the reference agent's process library on Linux. Every numeric directory of
//! the proc root is one process (the kernel lists thread-group leaders there, not threads); its
//! `stat` line gives the state letter (the first field after the parenthesised command name) and
//! the thread count (field 20, `num_threads`):
//!
//! | letter | field |
//! |---|---|
//! | `R` | `running` |
//! | `S` | `sleeping` |
//! | `D` | `blocked` (uninterruptible sleep, usually disk I/O) |
//! | `Z` | `zombies` |
//! | `X` (and the old `x`) | `dead` |
//! | `T`, `t` | `stopped` (job control stop, tracing stop) |
//! | `W` | `paging` (kernels before 2.6) |
//! | `I` | `idle` (idle kernel threads, 4.14+) |
//! | anything else (`P` parked, `K` wakekill, ...) | only in `total` |
//!
//! `total` counts every process read, `total_threads` sums `num_threads`. `wait` is a BSD state:
//! the reference agent never sends it on Linux and neither does this plugin (a config that asks
//! only for `wait` is not productive). Unlike the reference agent, `processes_zombies` carries
//! unit `Count` (the reference's unit table misspells the key, so it goes out with no unit).
//!
//! Invariants:
//! - a process that exits between the directory listing and the read of its `stat` (or whose
//!   `stat` is unreadable or malformed) is skipped silently: the counts are a snapshot, not an
//!   error;
//! - an unreadable proc root is a [`CollectError`] for the tick;
//! - the proc root stays open between ticks (`ProcRoot`): it is listed again through one
//!   entry buffer and each `stat` is opened relative to it into one reused read buffer, so no
//!   allocation per process or per tick once the buffers have grown, and a file costs `open`,
//!   `read` and `close` only.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::io;
use std::path::{Path, PathBuf};

/// Every processes field and its default unit.
pub const FIELDS: [(&str, Unit); 11] = [
    ("blocked", Unit::Count),
    ("dead", Unit::Count),
    ("idle", Unit::Count),
    ("paging", Unit::Count),
    ("running", Unit::Count),
    ("sleeping", Unit::Count),
    ("stopped", Unit::Count),
    ("total", Unit::Count),
    ("total_threads", Unit::Count),
    ("wait", Unit::Count),
    ("zombies", Unit::Count),
];

// ---------------------------------------------------------------------------------------------
// Shared /proc/[pid] helpers (also used by procstat).
// ---------------------------------------------------------------------------------------------

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
}

impl ProcRoot {
    pub(crate) fn new(path: &Path) -> Self {
        ProcRoot {
            path: path.to_path_buf(),
            fd: None,
            dirents: Vec::new(),
            rel: String::with_capacity(32),
        }
    }

    /// Point at another proc root (tests swap snapshots this way).
    #[cfg(test)]
    pub(crate) fn set_root(&mut self, path: &Path) {
        *self = ProcRoot::new(path);
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

// ---------------------------------------------------------------------------------------------
// The processes plugin.
// ---------------------------------------------------------------------------------------------

/// Process counts by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessCounts {
    pub blocked: u64,
    pub dead: u64,
    pub idle: u64,
    pub paging: u64,
    pub running: u64,
    pub sleeping: u64,
    pub stopped: u64,
    pub zombies: u64,
    pub total: u64,
    pub total_threads: u64,
}

impl ProcessCounts {
    /// Count one process.
    pub fn add(&mut self, state: u8, num_threads: u64) {
        match state {
            b'R' => self.running += 1,
            b'S' => self.sleeping += 1,
            b'D' => self.blocked += 1,
            b'Z' => self.zombies += 1,
            b'X' | b'x' => self.dead += 1,
            b'T' | b't' => self.stopped += 1,
            b'W' => self.paging += 1,
            b'I' => self.idle += 1,
            _ => {}
        }
        self.total += 1;
        self.total_threads = self.total_threads.saturating_add(num_threads);
    }

    /// A field's value (`wait` has none on Linux).
    pub fn field(&self, field: &str) -> Option<f64> {
        let v = match field {
            "blocked" => self.blocked,
            "dead" => self.dead,
            "idle" => self.idle,
            "paging" => self.paging,
            "running" => self.running,
            "sleeping" => self.sleeping,
            "stopped" => self.stopped,
            "zombies" => self.zombies,
            "total" => self.total,
            "total_threads" => self.total_threads,
            _ => return None,
        };
        Some(v as f64)
    }
}

/// The processes plugin.
#[derive(Debug)]
pub struct ProcessesSource {
    emitter: Emitter,
    interval: u64,
    root: ProcRoot,
    pids: Vec<u32>,
    buf: Vec<u8>,
}

impl ProcessesSource {
    /// Build from the plugin config.
    pub fn new(
        common: &PluginCommon,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval = effective_interval(common.metrics_collection_interval, agent_interval);
        ProcessesSource {
            emitter: Emitter::new("processes", common, &FIELDS, ctx, interval),
            interval,
            root: ProcRoot::new(proc_root),
            pids: Vec::new(),
            buf: Vec::with_capacity(1024),
        }
    }

    /// Whether this configuration can ever produce a datum (`wait` alone cannot on Linux).
    pub fn is_productive(&self) -> bool {
        self.emitter.wants_any(|f| f != "wait")
    }

    /// Scan the proc root once.
    pub fn count(&mut self) -> Result<ProcessCounts, CollectError> {
        self.root.list_pids(&mut self.pids)?;
        let mut counts = ProcessCounts::default();
        let buf = &mut self.buf;
        for &pid in &self.pids {
            if let Err(e) = self.root.read(pid, "stat", buf) {
                if !is_gone(&e) {
                    tracing::debug!(pid, error = %e, "processes: stat unreadable, skipped");
                }
                continue;
            }
            match parse_pid_stat(buf) {
                Some(st) => counts.add(st.state, st.num_threads),
                None => tracing::debug!(pid, "processes: malformed stat, skipped"),
            }
        }
        Ok(counts)
    }
}

impl MetricSource for ProcessesSource {
    fn plugin(&self) -> &'static str {
        "processes"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let counts = self.count()?;
        self.emitter.emit(now_ms, &[], |f| counts.field(f), out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Measurement;
    use hostwatch_model::Dimension;

    use crate::collect::testutil::{every_field, proc_fixture as fixture_root, value_of};

    fn all() -> PluginCommon {
        every_field(&FIELDS)
    }

    fn get(out: &[MetricDatum], name: &str) -> Option<f64> {
        value_of(out, name, None)
    }

    #[test]
    fn counts_states_from_fixture() {
        let ctx = HostContext {
            host: Some("h".into()),
            ..Default::default()
        };
        let mut src = ProcessesSource::new(&all(), &ctx, 60, &fixture_root("processes-states"));
        assert!(src.is_productive());
        let mut out = Vec::new();
        src.collect(1000, &mut out).unwrap();
        // Fixture: 1 S (4 threads), 2 I, 10 R (2 threads), 11 R, 12 D, 13 Z, 14 T, 15 t,
        // 16 X, 17 P (parked: total only), 18 S with ") (" in its name (3 threads); 17 threads
        // in all (4 + 2 + 3 + eight single-threaded),
        // 19 has no stat (vanished), 20 has a truncated stat (skipped). Non-numeric entries
        // (self, net) are ignored.
        let expect = [
            ("processes_running", 2.0),
            ("processes_sleeping", 2.0),
            ("processes_blocked", 1.0),
            ("processes_zombies", 1.0),
            ("processes_stopped", 2.0),
            ("processes_dead", 1.0),
            ("processes_idle", 1.0),
            ("processes_paging", 0.0),
            ("processes_total", 11.0),
            ("processes_total_threads", 17.0),
        ];
        for (name, v) in expect {
            assert_eq!(get(&out, name), Some(v), "{name}");
        }
        assert_eq!(
            get(&out, "processes_wait"),
            None,
            "wait is not a Linux state"
        );
        assert_eq!(out.len(), 10);
        for d in &out {
            assert_eq!(d.unit, Unit::Count, "{}", d.metric_name);
            assert_eq!(d.dimensions, vec![Dimension::new("host", "h")]);
        }
    }

    #[test]
    fn wait_alone_is_not_productive() {
        let common = PluginCommon {
            measurements: vec![Measurement {
                field: "wait".into(),
                rename: None,
                unit: None,
            }],
            ..Default::default()
        };
        let src = ProcessesSource::new(
            &common,
            &HostContext::default(),
            60,
            &fixture_root("processes-states"),
        );
        assert!(!src.is_productive());
    }

    #[test]
    fn missing_root_is_an_error() {
        let mut src = ProcessesSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("does-not-exist"),
        );
        let mut out = Vec::new();
        assert!(matches!(
            src.collect(0, &mut out),
            Err(CollectError::Read { .. })
        ));
        assert!(out.is_empty());
    }

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

    fn write_stat(root: &Path, pid: u32, state: char, threads: u32) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let line = format!(
            "{pid} (p{pid}) {state} 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 {threads} 0 {pid}00 0 0\n"
        );
        std::fs::write(dir.join("stat"), line).unwrap();
    }

    /// The proc root stays open between ticks: processes that appear or vanish in between
    /// are seen at the next tick.
    #[test]
    fn reused_directory_handle_sees_changes() {
        let root = tempfile::tempdir().unwrap();
        write_stat(root.path(), 1, 'S', 2);
        write_stat(root.path(), 7, 'R', 1);
        std::fs::create_dir(root.path().join("self")).unwrap();
        let mut src = ProcessesSource::new(&all(), &HostContext::default(), 60, root.path());
        let c = src.count().unwrap();
        assert_eq!(
            (c.total, c.running, c.sleeping, c.total_threads),
            (2, 1, 1, 3)
        );
        // 7 exits, 12 and 13 start.
        std::fs::remove_dir_all(root.path().join("7")).unwrap();
        write_stat(root.path(), 12, 'D', 4);
        write_stat(root.path(), 13, 'Z', 1);
        let c = src.count().unwrap();
        assert_eq!(
            (c.total, c.running, c.blocked, c.zombies, c.total_threads),
            (3, 0, 1, 1, 7)
        );
        // A proc root that cannot be opened is an error for the tick; once it exists, the
        // next tick opens it.
        let later = root.path().join("later");
        let mut src = ProcessesSource::new(&all(), &HostContext::default(), 60, &later);
        assert!(matches!(src.count(), Err(CollectError::Read { .. })));
        write_stat(&later, 3, 'I', 1);
        assert_eq!(src.count().unwrap().idle, 1);
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

    #[test]
    fn live_proc_smoke() {
        let root = Path::new(crate::collect::DEFAULT_PROC_ROOT);
        if !root.join("self/stat").exists() {
            return;
        }
        let mut src = ProcessesSource::new(&all(), &HostContext::default(), 60, root);
        let start = std::time::Instant::now();
        let c = src.count().unwrap();
        eprintln!("processes live: {c:?} in {:?}", start.elapsed());
        // The test process itself exists (its main thread may well be sleeping).
        assert!(c.total >= 1, "{c:?}");
        assert!(c.total_threads >= c.total);
    }
}
