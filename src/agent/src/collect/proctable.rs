//! One scan of the proc root per tick, shared by the `processes` and `procstat` plugins.
//!
//! # What a scan holds
//!
//! Every numeric entry of the proc root (the kernel lists thread-group leaders there) is one
//! [`ProcEntry`]: its pid, the values of its `stat` line the plugins use ([`StatVals`]: state,
//! cpu times, nice, threads, start time, ...), and its command name. A process whose `stat`
//! cannot be read or parsed but whose `comm` can is kept without stat values (procstat may
//! still match it by name); one with neither is left out (it exited in between).
//!
//! # Sharing
//!
//! [`shared`] hands out one table per proc root and [`ProcTable::refresh`] rescans only when
//! no other plugin already scanned for the same tick (the rules of `pertick`: a registry of
//! weak references, a tick gate, one [`Reader`] per plugin). So with `processes` and any
//! number of `procstat` entries on one interval, `/proc` is scanned once per tick; plugins on
//! different intervals share the scans of the ticks they have in common.
//!
//! # Cost
//!
//! - The proc root stays open and is listed again (`getdents` into one buffer) unless no pid
//!   can have been handed out since the last listing: for the agent's own `/proc` (the
//!   default root, checked once to show the agent's own pid namespace: `self` names the
//!   agent's pid), the fifth field of `loadavg` is the last pid the namespace allocated. It
//!   is read before each listing; when it is unchanged since the last one and every known
//!   process has its `stat` kept open, no process can have appeared (a new process, or a new
//!   thread, takes a new pid; the counter wraps only after `pid_max` allocations), and
//!   processes that exited show as failed reads of their kept files, so the scan re-reads the
//!   known processes without listing. The kernel's listing costs about a microsecond per
//!   process (it looks every pid up in the dentry cache), a quarter of a scan.
//! - Each process's `stat` stays **open between scans** and is re-read with `pread` at offset
//!   0, which makes the kernel render the line afresh: one system call per process and scan
//!   instead of open, read and close. A descriptor is bound to the process it was opened for,
//!   not to the pid number: once that process is reaped, reads fail (`ESRCH`) and the file is
//!   opened again by number, which then reaches the process now holding the pid, if any. The
//!   start time in the line is compared as well, so a new process behind a known pid always
//!   starts afresh. (A proc root that is not procfs, a test fixture, has no such tie: there a
//!   kept file whose last link is gone counts as a failed read.) At most a quarter of the
//!   agent's open-file soft limit (at most 4096) is kept open; processes beyond that are read
//!   with open, read and close. Each kept file costs the kernel about a page (its read
//!   buffer). A process's own open-file count includes them, which matters when the agent
//!   watches itself with procstat (`num_fds`).
//! - The **command line** (`cmdline`) is read only when a plugin asks for it (procstat's
//!   `pattern`, and the untruncated name of a process whose `comm` is 15 bytes long), and then
//!   cached per process, keyed by its identity (pid, start time) and its `comm`. `exec` replaces
//!   `comm` with the new program's name, so a process that runs another program is re-read.
//!   Where this key is not enough: a process that rewrites its own argument area
//!   (`setproctitle`: nginx workers, PostgreSQL backends, sshd sessions, php-fpm pools) keeps
//!   pid, start time and `comm`, and so does an `exec` of a program with the same name but
//!   other arguments. To bound how long such a change goes unseen, a cached command line is
//!   trusted for 30 to 59 s of tick time (spread by pid so the re-reads do not bunch up), then
//!   read again; a tick clock that goes backwards also re-reads.
//! - No allocation per process once the buffers have grown, except a new process's command
//!   line.
//!
//! Invariants: entries are sorted by pid and unique; every kept descriptor belongs to exactly
//! one entry (the count of kept descriptors is exact); a failed scan (unreadable proc root)
//! leaves the previous entries untouched and is an error for the tick.

use super::kept::{pread_all, reread_process_file, KeptFile};
pub(crate) use super::pertick::Reader;
use super::pertick::{self, Registry, TickGate};
use super::procfs::{is_gone, parse_pid_stat, ProcRoot};
use super::CollectError;
use rustix::fd::OwnedFd;
use std::borrow::Cow;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// The kernel's `comm` length limit (16 bytes with the NUL).
pub(crate) const COMM_LEN: usize = 15;

/// A cached command line is trusted at least this long (tick time)...
const CMDLINE_TRUST_MIN_MS: i64 = 30_000;
/// ...plus up to this many seconds, by pid.
const CMDLINE_TRUST_SPREAD_S: u32 = 30;

/// The most `stat` files kept open, whatever the open-file limit.
const MAX_KEPT: usize = 4096;

/// Whether a scan may reuse the previous listing: the last allocated pid was read before
/// both listings and is unchanged, and every known process is watched through a kept file.
pub(crate) fn can_skip_listing(
    previous: Option<u64>,
    current: Option<u64>,
    all_kept: bool,
) -> bool {
    all_kept && matches!((previous, current), (Some(a), Some(b)) if a == b)
}

/// The last pid allocated, the fifth field of `loadavg` (`0.00 0.01 0.05 1/123 4567`).
pub(crate) fn parse_last_pid(loadavg: &[u8]) -> Option<u64> {
    let field = loadavg
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .nth(4)?;
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// A table shared by the plugins of one proc root.
pub(crate) type SharedTable = Arc<Mutex<ProcTable>>;

/// The tables handed out so far, by proc root.
static TABLES: Registry<ProcTable> = Registry::new();

/// The table of `proc_root`: the one already held by other plugins, else a new one.
pub(crate) fn shared(proc_root: &Path) -> SharedTable {
    TABLES.get(proc_root, || ProcTable::new(proc_root))
}

/// Lock a shared table (a panic elsewhere while it was held leaves it usable: the next scan
/// rebuilds everything that matters).
pub(crate) fn lock(table: &SharedTable) -> MutexGuard<'_, ProcTable> {
    pertick::lock(table)
}

/// The values of one `stat` line the plugins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatVals {
    /// Field 3, the state letter.
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

/// A command line as read once.
#[derive(Debug, Default)]
struct Cmdline {
    /// The identity it was read for: start time and `comm`.
    starttime: u64,
    comm: Vec<u8>,
    /// The tick it was read at; `None`: not to be reused (no tick or no start time known).
    read_ms: Option<i64>,
    /// The arguments joined by spaces (the trailing NUL dropped, the other NULs turned into
    /// spaces), lossy UTF-8.
    text: String,
    /// The base name of `argv[0]`.
    argv0_base: Vec<u8>,
}

/// One process of a scan.
#[derive(Debug)]
pub(crate) struct ProcEntry {
    pub pid: u32,
    /// `None` when `stat` could not be read or parsed (only `comm` was).
    pub stat: Option<StatVals>,
    comm: Vec<u8>,
    /// `<pid>/stat`, kept open.
    fd: Option<OwnedFd>,
    cmdline: Option<Cmdline>,
}

impl ProcEntry {
    fn new(pid: u32) -> Self {
        ProcEntry {
            pid,
            stat: None,
            comm: Vec::new(),
            fd: None,
            cmdline: None,
        }
    }

    /// The command name (`comm`, at most 15 bytes from the kernel).
    #[cfg(test)]
    pub fn comm(&self) -> &[u8] {
        &self.comm
    }
}

/// Counters for tests and debugging.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TableStats {
    /// Scans done.
    pub scans: u64,
    /// Scans that listed the proc root (the others reused the previous listing).
    pub listings: u64,
    /// `stat` files opened (a kept file re-read is not an open).
    pub stat_opens: u64,
    /// `cmdline` files read.
    pub cmdline_reads: u64,
}

/// The processes of the last scan (see the module docs).
#[derive(Debug)]
pub(crate) struct ProcTable {
    root: ProcRoot,
    entries: Vec<ProcEntry>,
    /// The other entry vector, reused by the next scan.
    spare: Vec<ProcEntry>,
    pids: Vec<u32>,
    buf: Vec<u8>,
    /// When to scan again.
    gate: TickGate,
    keep_limit: usize,
    kept: usize,
    /// `<proc>/loadavg`, when the proc root is the agent's own `/proc`.
    loadavg: Option<KeptFile>,
    /// The last allocated pid read before the last listing.
    listed_at_pid: Option<u64>,
    stats: TableStats,
}

impl ProcTable {
    fn new(proc_root: &Path) -> Self {
        ProcTable {
            root: ProcRoot::new(proc_root),
            entries: Vec::new(),
            spare: Vec::new(),
            pids: Vec::new(),
            buf: Vec::with_capacity(1024),
            gate: TickGate::default(),
            keep_limit: keep_limit(),
            kept: 0,
            loadavg: own_proc(proc_root)
                .then(|| KeptFile::single_record(proc_root.join("loadavg"))),
            listed_at_pid: None,
            stats: TableStats::default(),
        }
    }

    /// Make the entries current for `tick` (see the module docs for when this rescans);
    /// `None` always rescans.
    pub fn refresh(&mut self, tick: Option<i64>, reader: &mut Reader) -> Result<(), CollectError> {
        if !self.gate.pass(tick, reader) {
            self.scan()?;
            self.gate.record(tick, reader);
            self.stats.scans += 1;
        }
        Ok(())
    }

    /// The processes of the last scan, sorted by pid.
    pub fn entries(&self) -> &[ProcEntry] {
        &self.entries
    }

    /// The open proc root, for reading other per-process files.
    pub fn root(&mut self) -> &mut ProcRoot {
        &mut self.root
    }

    /// Counters so far.
    #[cfg(test)]
    pub fn stats(&self) -> TableStats {
        self.stats
    }

    /// The command line of entry `i` as text (see [`Cmdline::text`]); read now unless a cached
    /// one is still trusted at tick `now` (see the module docs). `None` when it cannot be read
    /// (the process exited).
    pub fn cmdline(&mut self, i: usize, now: Option<i64>) -> Option<&str> {
        self.load_cmdline(i, now)?;
        self.entries
            .get(i)
            .and_then(|e| e.cmdline.as_ref())
            .map(|c| c.text.as_str())
    }

    /// The process name of entry `i`: its `comm`, unless that is 15 bytes long (what the
    /// kernel truncates to) and the base name of `argv[0]` is longer and starts with it, in
    /// which case that base name (as the reference agent does, so `amazon-cloudwatch-agent`
    /// is matched although `comm` holds only `amazon-cloudwat`).
    pub fn process_name(&mut self, i: usize, now: Option<i64>) -> Option<Cow<'_, str>> {
        let truncated = self.entries.get(i)?.comm.len() >= COMM_LEN;
        let have_cmdline = truncated && self.load_cmdline(i, now).is_some();
        let e = self.entries.get(i)?;
        let name = match (&e.cmdline, have_cmdline) {
            (Some(c), true)
                if c.argv0_base.len() > e.comm.len() && c.argv0_base.starts_with(&e.comm) =>
            {
                &c.argv0_base
            }
            _ => &e.comm,
        };
        Some(String::from_utf8_lossy(name))
    }

    /// Make sure entry `i` has a command line trusted at `now`.
    fn load_cmdline(&mut self, i: usize, now: Option<i64>) -> Option<()> {
        let e = self.entries.get_mut(i)?;
        let starttime = e.stat.map(|s| s.starttime);
        if let (Some(c), Some(start), Some(now)) = (&e.cmdline, starttime, now) {
            let fresh = c
                .read_ms
                .is_some_and(|at| now >= at && now - at < trust_ms(e.pid));
            if fresh && c.starttime == start && c.comm == e.comm {
                return Some(());
            }
        }
        let pid = e.pid;
        let mut c = e.cmdline.take().unwrap_or_default();
        self.stats.cmdline_reads += 1;
        if let Err(err) = self.root.read(pid, "cmdline", &mut self.buf) {
            if !is_gone(&err) {
                tracing::debug!(pid, error = %err, "cmdline unreadable");
            }
            return None;
        }
        let raw = &mut self.buf;
        let argv0 = raw.split(|&b| b == 0).next().unwrap_or_default();
        let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
        c.argv0_base.clear();
        c.argv0_base.extend_from_slice(base);
        if raw.last() == Some(&0) {
            raw.pop();
        }
        for b in raw.iter_mut() {
            if *b == 0 {
                *b = b' ';
            }
        }
        c.text.clear();
        c.text.push_str(&String::from_utf8_lossy(raw));
        let e = self.entries.get_mut(i)?;
        c.comm.clear();
        c.comm.extend_from_slice(&e.comm);
        c.starttime = starttime.unwrap_or(0);
        c.read_ms = starttime.and(now);
        e.cmdline = Some(c);
        Some(())
    }

    /// List the proc root and bring every entry up to date.
    fn scan(&mut self) -> Result<(), CollectError> {
        let last_pid = self.last_pid();
        let all_kept = self.gate.readings() > 0 && self.kept == self.entries.len();
        if can_skip_listing(self.listed_at_pid, last_pid, all_kept) {
            self.pids.clear();
            self.pids.extend(self.entries.iter().map(|e| e.pid));
        } else {
            self.root.list_pids(&mut self.pids)?;
            self.listed_at_pid = last_pid;
            self.stats.listings += 1;
        }
        if !self.pids.windows(2).all(|w| w[0] < w[1]) {
            self.pids.sort_unstable();
            self.pids.dedup();
        }
        let mut old = std::mem::take(&mut self.entries);
        let mut next = std::mem::take(&mut self.spare);
        next.clear();
        let mut old_entries = old.drain(..).peekable();
        for i in 0..self.pids.len() {
            let pid = self.pids[i];
            while let Some(gone) = old_entries.next_if(|e| e.pid < pid) {
                self.release(gone);
            }
            let entry = old_entries
                .next_if(|e| e.pid == pid)
                .unwrap_or_else(|| ProcEntry::new(pid));
            if let Some(e) = self.sample(entry) {
                next.push(e);
            }
        }
        for gone in old_entries {
            self.release(gone);
        }
        self.entries = next;
        self.spare = old;
        Ok(())
    }

    /// The last pid allocated in the agent's pid namespace, when known.
    fn last_pid(&mut self) -> Option<u64> {
        let file = self.loadavg.as_mut()?;
        file.read(&mut self.buf).ok()?;
        parse_last_pid(&self.buf)
    }

    /// Forget an entry, closing its kept file.
    fn release(&mut self, e: ProcEntry) {
        if e.fd.is_some() {
            self.kept -= 1;
        }
    }

    /// Read entry `e`'s `stat` (through its kept file if it has one). `None`: the process is
    /// gone.
    fn sample(&mut self, mut e: ProcEntry) -> Option<ProcEntry> {
        let procfs = self.root.is_procfs();
        let mut read = match &e.fd {
            Some(fd) => reread_process_file(fd, &mut self.buf, procfs),
            None => Err(std::io::ErrorKind::NotFound.into()),
        };
        if read.is_err() {
            if e.fd.take().is_some() {
                self.kept -= 1;
            }
            read = self.open_stat(&mut e);
        }
        let parsed = match read {
            Ok(()) => parse_pid_stat(&self.buf).map(|st| {
                (
                    StatVals {
                        state: st.state,
                        utime: st.utime,
                        stime: st.stime,
                        nice: st.nice,
                        num_threads: st.num_threads,
                        starttime: st.starttime,
                        rt_priority: st.rt_priority,
                        blkio_ticks: st.blkio_ticks,
                        guest_time: st.guest_time,
                    },
                    st.comm,
                )
            }),
            Err(err) => {
                if !is_gone(&err) {
                    tracing::debug!(pid = e.pid, error = %err, "stat unreadable");
                }
                None
            }
        };
        match parsed {
            Some((vals, comm)) => {
                if e.stat.map(|s| s.starttime) != Some(vals.starttime) {
                    // Another process behind this pid (or the first scan): nothing carries over.
                    e.cmdline = None;
                }
                if e.comm != comm {
                    e.comm.clear();
                    e.comm.extend_from_slice(comm);
                }
                e.stat = Some(vals);
                Some(e)
            }
            None => {
                // No usable stat: keep the process by name if `comm` can still be read.
                if e.fd.take().is_some() {
                    self.kept -= 1;
                }
                e.stat = None;
                e.cmdline = None;
                self.root.read(e.pid, "comm", &mut self.buf).ok()?;
                let comm = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
                e.comm.clear();
                e.comm.extend_from_slice(comm);
                Some(e)
            }
        }
    }

    /// Open and read `e`'s `stat`, keeping the file open if the budget allows.
    fn open_stat(&mut self, e: &mut ProcEntry) -> std::io::Result<()> {
        self.stats.stat_opens += 1;
        let fd = self.root.open(e.pid, "stat")?;
        pread_all(&fd, &mut self.buf, true)?;
        if self.kept < self.keep_limit {
            e.fd = Some(fd);
            self.kept += 1;
        }
        Ok(())
    }

    /// The number of kept `stat` files (tests).
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// Keep at most `n` files open (tests).
    #[cfg(test)]
    pub fn set_keep_limit(&mut self, n: usize) {
        self.keep_limit = n;
    }
}

/// Whether `proc_root` is the default `/proc` showing the agent's own pid namespace (its `self`
/// link names the agent's pid).
fn own_proc(proc_root: &Path) -> bool {
    if proc_root != Path::new(super::DEFAULT_PROC_ROOT) {
        return false;
    }
    let Ok(target) = std::fs::read_link(proc_root.join("self")) else {
        return false;
    };
    let me = rustix::process::getpid().as_raw_nonzero().get();
    target.to_str().and_then(|t| t.parse::<i32>().ok()) == Some(me)
}

/// How long a command line read for `pid` is trusted.
fn trust_ms(pid: u32) -> i64 {
    CMDLINE_TRUST_MIN_MS + i64::from(pid % CMDLINE_TRUST_SPREAD_S) * 1000
}

/// A quarter of the open-file soft limit, at most [`MAX_KEPT`].
fn keep_limit() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    soft.map_or(MAX_KEPT, |n| {
        usize::try_from(n / 4).unwrap_or(MAX_KEPT).min(MAX_KEPT)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fake process: `comm`, `cmdline` and a `stat` with the given state, start time and
    /// thread count.
    fn write_proc(root: &Path, pid: u32, comm: &str, cmdline: &str, start: u64) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("comm"), format!("{comm}\n")).unwrap();
        std::fs::write(dir.join("cmdline"), cmdline).unwrap();
        let stat = format!(
            "{pid} ({comm}) S 1 {pid} {pid} 0 -1 0 0 0 0 0 7 3 0 0 20 0 2 0 {start} 1 1 \
             0 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
        );
        std::fs::write(dir.join("stat"), stat).unwrap();
    }

    fn pids(t: &ProcTable) -> Vec<u32> {
        t.entries().iter().map(|e| e.pid).collect()
    }

    #[test]
    fn one_table_per_root_while_held() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let t1 = shared(a.path());
        let t2 = shared(a.path());
        let t3 = shared(b.path());
        assert!(Arc::ptr_eq(&t1, &t2));
        assert!(!Arc::ptr_eq(&t1, &t3));
        let weak = Arc::downgrade(&t1);
        drop((t1, t2));
        assert!(
            weak.upgrade().is_none(),
            "the registry holds no strong reference"
        );
        let t4 = shared(a.path());
        assert_eq!(lock(&t4).stats(), TableStats::default(), "a fresh table");
    }

    #[test]
    fn one_scan_per_tick_across_readers() {
        let root = tempfile::tempdir().unwrap();
        write_proc(root.path(), 1, "init", "/sbin/init\0", 10);
        let table = shared(root.path());
        let mut t = lock(&table);
        let (mut a, mut b, mut c) = (Reader::default(), Reader::default(), Reader::default());
        t.refresh(Some(1_000), &mut a).unwrap();
        t.refresh(Some(1_000), &mut b).unwrap();
        t.refresh(Some(1_000), &mut c).unwrap();
        assert_eq!(t.stats().scans, 1, "three readers, one tick, one scan");
        // The next tick scans again, once; a reader asking twice in one tick gets a new scan.
        write_proc(root.path(), 2, "sh", "sh\0", 20);
        t.refresh(Some(2_000), &mut b).unwrap();
        t.refresh(Some(2_000), &mut a).unwrap();
        assert_eq!((t.stats().scans, pids(&t)), (2, vec![1, 2]));
        t.refresh(Some(2_000), &mut a).unwrap();
        assert_eq!(t.stats().scans, 3);
        // No tick: always a scan.
        t.refresh(None, &mut c).unwrap();
        t.refresh(None, &mut c).unwrap();
        assert_eq!(t.stats().scans, 5);
        // A fixture root is always listed (no pid counter to trust).
        assert_eq!(t.stats().listings, 5);
    }

    #[test]
    fn kept_files_follow_processes_and_pid_reuse() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        for pid in [3, 5, 8] {
            write_proc(r, pid, "w", "w\0", u64::from(pid));
        }
        let table = shared(r);
        let mut t = lock(&table);
        t.set_keep_limit(2);
        let mut reader = Reader::default();
        t.refresh(None, &mut reader).unwrap();
        assert_eq!(pids(&t), vec![3, 5, 8]);
        assert_eq!(
            (t.kept(), t.stats().stat_opens),
            (2, 3),
            "two kept, one read and closed"
        );
        t.refresh(None, &mut reader).unwrap();
        assert_eq!(
            t.stats().stat_opens,
            4,
            "only the process over the budget is opened again"
        );
        // 5 exits; 8 is a new process with the same pid (rewritten in place, new start time).
        std::fs::remove_dir_all(r.join("5")).unwrap();
        write_proc(r, 8, "x", "x\0", 999);
        t.refresh(None, &mut reader).unwrap();
        assert_eq!(pids(&t), vec![3, 8]);
        assert_eq!(t.kept(), 2, "the file of the exited process is released");
        let e8 = &t.entries()[1];
        assert_eq!(
            (e8.comm(), e8.stat.map(|s| s.starttime)),
            (&b"x"[..], Some(999))
        );
        assert_eq!(
            e8.stat.map(|s| (s.state, s.num_threads, s.utime)),
            Some((b'S', 2, 7))
        );
        // 3 is removed and re-created (a new file, a new start time): not read through the
        // file kept for the old one.
        std::fs::remove_dir_all(r.join("3")).unwrap();
        write_proc(r, 3, "w", "w\0", 333);
        t.refresh(None, &mut reader).unwrap();
        assert_eq!(t.entries()[0].stat.map(|s| s.starttime), Some(333));
        // Everything gone: nothing kept.
        std::fs::remove_dir_all(r.join("3")).unwrap();
        std::fs::remove_dir_all(r.join("8")).unwrap();
        t.refresh(None, &mut reader).unwrap();
        assert_eq!((pids(&t), t.kept()), (vec![], 0));
    }

    #[test]
    fn cmdline_is_cached_per_identity_and_for_a_while() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        // pid 30: trusted for 30 s + (30 % 30) s = 30 s.
        write_proc(
            r,
            30,
            "python3",
            "/usr/bin/python3\0app.py\0--queue\0a\0",
            100,
        );
        let table = shared(r);
        let mut t = lock(&table);
        let mut reader = Reader::default();
        let reads = |t: &ProcTable| t.stats().cmdline_reads;
        let mut tick = |t: &mut ProcTable, now: i64| {
            t.refresh(Some(now), &mut reader).unwrap();
            t.cmdline(0, Some(now)).map(str::to_string)
        };
        assert_eq!(
            tick(&mut t, 1_000).as_deref(),
            Some("/usr/bin/python3 app.py --queue a")
        );
        assert_eq!(
            tick(&mut t, 2_000).as_deref(),
            Some("/usr/bin/python3 app.py --queue a")
        );
        assert_eq!(reads(&t), 1, "read once while the process is the same");
        // Rewritten in place (setproctitle): not seen while trusted...
        std::fs::write(r.join("30/cmdline"), "python3: worker\0").unwrap();
        assert_eq!(
            tick(&mut t, 30_999).as_deref(),
            Some("/usr/bin/python3 app.py --queue a")
        );
        // ...but once the trust time is over.
        assert_eq!(tick(&mut t, 31_000).as_deref(), Some("python3: worker"));
        assert_eq!(reads(&t), 2);
        // exec: comm changes, read again at once.
        write_proc(r, 30, "node", "node\0server.js\0", 100);
        assert_eq!(tick(&mut t, 32_000).as_deref(), Some("node server.js"));
        // pid reuse: another start time, read again at once.
        write_proc(r, 30, "node", "node\0other.js\0", 500);
        assert_eq!(tick(&mut t, 33_000).as_deref(), Some("node other.js"));
        assert_eq!(reads(&t), 4);
        // A tick clock that went backwards reads again.
        assert_eq!(tick(&mut t, 10_000).as_deref(), Some("node other.js"));
        assert_eq!(reads(&t), 5);
        // Without a tick, never reused.
        t.refresh(None, &mut Reader::default()).unwrap();
        t.cmdline(0, None).unwrap();
        t.cmdline(0, None).unwrap();
        assert_eq!(reads(&t), 7);
        // Gone between the scan and the read: no command line.
        std::fs::remove_file(r.join("30/cmdline")).unwrap();
        assert_eq!(t.cmdline(0, None), None);
        assert_eq!(t.cmdline(7, None), None, "no such entry");
    }

    #[test]
    fn process_name_extends_a_truncated_comm() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        write_proc(
            r,
            1,
            "amazon-cloudwat",
            "/opt/aws/bin/amazon-cloudwatch-agent\0-c\0",
            1,
        );
        write_proc(r, 2, "short", "/bin/shorter-name\0", 2);
        write_proc(r, 3, "kworker/0:1-eve", "", 3);
        write_proc(r, 4, "fifteen-chars-x", "/bin/other\0", 4);
        let table = shared(r);
        let mut t = lock(&table);
        t.refresh(Some(0), &mut Reader::default()).unwrap();
        let names: Vec<String> = (0..4)
            .map(|i| t.process_name(i, Some(0)).unwrap().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "amazon-cloudwatch-agent",
                "short",
                "kworker/0:1-eve",
                "fifteen-chars-x"
            ]
        );
        assert_eq!(
            t.stats().cmdline_reads,
            3,
            "only the 15-byte names need the command line"
        );
        assert!(t.process_name(9, Some(0)).is_none());
    }

    #[test]
    fn listing_skip_rules() {
        assert!(can_skip_listing(Some(4567), Some(4567), true));
        assert!(
            !can_skip_listing(Some(4567), Some(4568), true),
            "a pid was allocated"
        );
        assert!(
            !can_skip_listing(Some(4567), Some(4567), false),
            "a process not kept"
        );
        assert!(!can_skip_listing(None, Some(4567), true), "never listed");
        assert!(!can_skip_listing(Some(1), None, true), "counter unreadable");
        assert_eq!(parse_last_pid(b"0.00 0.01 0.05 1/123 4567\n"), Some(4567));
        assert_eq!(parse_last_pid(b"0.00 0.01 0.05 1/123\n"), None);
        assert_eq!(parse_last_pid(b"0.00 0.01 0.05 1/123 x\n"), None);
    }

    /// Against the real `/proc` (skipped elsewhere): a scan with or without listing sees the
    /// test process with its start time.
    #[test]
    fn live_scans() {
        let root = Path::new(crate::collect::DEFAULT_PROC_ROOT);
        if !root.join("self/stat").exists() {
            return;
        }
        let mut t = ProcTable::new(root);
        assert!(t.loadavg.is_some(), "the agent's own /proc");
        let me = std::process::id();
        let mut reader = Reader::default();
        let mut starts = Vec::new();
        for _ in 0..3 {
            t.refresh(None, &mut reader).unwrap();
            let e = t.entries().iter().find(|e| e.pid == me).unwrap();
            starts.push(e.stat.unwrap().starttime);
        }
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{starts:?}");
        let s = t.stats();
        assert!(s.listings >= 1 && s.listings <= s.scans, "{s:?}");
        eprintln!(
            "live scans: {s:?}, {} processes, {} kept",
            t.entries().len(),
            t.kept()
        );
    }
}
