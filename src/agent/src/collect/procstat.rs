//! The `procstat` plugin: per-process metrics for the processes one config entry selects, and
//! `procstat_lookup_pid_count`.
//!
//! One [`ProcstatSource`] serves one `procstat` entry. Each tick it:
//! 1. **looks up** the pids: `pid_file` → the first number in that file, if `<proc>/<pid>`
//!    exists; `exe` → every process whose *name* matches the regex (unanchored search);
//!    `pattern` → every process whose full command line (`<proc>/<pid>/cmdline`, the trailing NUL
//!    dropped and the other NULs turned into spaces) matches the regex. The config loader already
//!    applied the precedence pid_file > exe > pattern. A process's name is its `comm`; when
//!    that is 15 bytes long (the kernel's truncation length) and the base name of `argv[0]`
//!    starts with it, the longer base name is used, as the reference agent does, so
//!    `exe: "amazon-cloudwatch-agent"` matches although `comm` holds only 15 bytes. `exe` and
//!    `pattern` look the processes up in the per-tick scan shared with the `processes` plugin
//!    and the other procstat entries (see `proctable`: one `stat` read per process and tick,
//!    command lines cached per process); a `pid_file` process is read on its own.
//! 2. **emits `pid_count`** (when configured) as `procstat_lookup_pid_count`, with dimensions the
//!    selector (`exe`, `pattern` or `pidfile` = the configured value) and `pid_finder=native`.
//!    It is emitted also when nothing matches (0), and when the pid file is missing (0).
//! 3. **reads each process** and emits the other configured fields with dimensions the selector
//!    and `process_name`. Several matching processes give several datums with the same name and
//!    dimensions, as in the reference agent.
//!
//! Only the files the configured measurements need are read:
//!
//! | file | fields |
//! |---|---|
//! | `stat` (from the shared scan) | `cpu_time*`, `cpu_usage`, `num_threads`, `nice_priority` (the nice value, -20..19), `realtime_priority` (rt_priority) |
//! | `status` | `memory_rss/vms/data/stack/locked/swap` (VmRSS, VmSize, VmData, VmStk, VmLck, VmSwap, kB × 1024), `voluntary_context_switches`, `involuntary_context_switches`, `signals_pending` (first number of SigQ) |
//! | `io` | `read_bytes`, `write_bytes` (storage bytes), `read_count`, `write_count` (syscr, syscw) |
//! | `fd/` | `num_fds` (number of entries; on Linux 6.2+ the kernel's count, the size of `fd/`, see `procfs`) |
//! | `limits` | `rlimit_<name>_{soft,hard}`; `unlimited` is sent as 2^64−1 (the kernel's RLIM_INFINITY) |
//! | `comm` | `process_name`, when no other file gave it |
//!
//! Files a process does not allow the agent to read (`io`, `fd/` of another user's process
//! without privileges) simply leave their fields out; kernel threads and zombies have no `Vm*`
//! lines, so no memory fields.
//!
//! CPU: `cpu_time_user` / `cpu_time_system` = utime / stime in seconds (ticks ÷ ticks per
//! second), `cpu_time` = their sum, `cpu_time_iowait` = the block-I/O delay (non-zero only with
//! delay accounting), `cpu_time_guest` = guest time (the reference agent sends 0); the kernel
//! keeps no per-process idle, nice, irq, softirq, steal or guest-nice time, so those fields are
//! 0, as in the reference agent.
//! The user guide calls these "hundredths of a second"; the reference agent's library divides by
//! the tick rate, so they are seconds, and so they are here (unit `Count`, as documented).
//! `cpu_usage` = 100 × Δ(utime+stime) / Δwall between two consecutive ticks in which the same
//! process was seen; it exceeds 100 for a process using several cores. Wall time is the first
//! field of `<proc>/uptime` (same clock domain as the tick counters, and a fixture can set it).
//! The reference agent's library also adds the block-I/O delay to the numerator, so it reports
//! CPU use for a process merely waiting on disk when delay accounting is on; this one does not.
//!
//! Invariants:
//! - the first sample of a process emits no `cpu_usage`;
//! - cpu state is keyed by (pid, start time), so a reused pid starts afresh instead of producing
//!   a bogus delta; the state of processes not seen this tick is dropped, so it never grows
//!   beyond the processes currently matched;
//! - a process that vanishes between the lookup and the reads (any needed file gone, or its
//!   `stat` already unreadable in the scan while stat-based fields are configured) is skipped
//!   for the tick and its cpu state is dropped; it still counts in `pid_count` (it matched);
//! - stat-based fields of a scanned process are those of this tick's scan (the values the
//!   lookup saw); the detail files (`status`, `io`, `fd/`, `limits`) are read only for the
//!   matched processes, after the lookup, and `status`, `io` and `limits` stay open while the
//!   process stays matched (see `procdetail`);
//! - an unreadable proc root is a [`CollectError`]; a missing pid file is not (pid_count 0, one
//!   warning until the file is readable again);
//! - a command line is cached per process (pid, start time, `comm`) for 30 to 59 s of tick
//!   time; a process that rewrites its own command line without changing its `comm`
//!   (`setproctitle`) may be matched against the previous one for that long (see `proctable`
//!   for the reasoning).
//!
//! Units: Bytes for `memory_*`, `read_bytes`, `write_bytes`, `rlimit_memory_*` and Percent for
//! `cpu_usage` (the reference agent's unit table); Count for everything else (what its user
//! guide documents; its unit table leaves them without a unit).

use super::cpu::clock_ticks;
use super::dimensions::HostContext;
use super::emit::Emitter;
use super::kept::KeptFile;
use super::procdetail::{Detail, KeptDetails};
use super::procfs::{is_gone, parse_pid, parse_pid_stat, parse_u64, ProcRoot};
use super::proctable::{self, ProcTable, Reader, SharedTable, StatVals, COMM_LEN};
use super::{effective_interval, CollectError, MetricSource};
use crate::config::{PluginCommon, ProcessSelector, ProcstatConfig};
use hostwatch_model::{Dimension, MetricDatum, Unit};
use regex::Regex;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every per-process procstat field and its default unit (`pid_count` is in
/// [`LOOKUP_FIELDS`]).
pub const FIELDS: [(&str, Unit); 53] = [
    ("cpu_time", Unit::Count),
    ("cpu_time_guest", Unit::Count),
    ("cpu_time_guest_nice", Unit::Count),
    ("cpu_time_idle", Unit::Count),
    ("cpu_time_iowait", Unit::Count),
    ("cpu_time_irq", Unit::Count),
    ("cpu_time_nice", Unit::Count),
    ("cpu_time_soft_irq", Unit::Count),
    ("cpu_time_steal", Unit::Count),
    ("cpu_time_stolen", Unit::Count),
    ("cpu_time_system", Unit::Count),
    ("cpu_time_user", Unit::Count),
    ("cpu_usage", Unit::Percent),
    ("involuntary_context_switches", Unit::Count),
    ("memory_data", Unit::Bytes),
    ("memory_locked", Unit::Bytes),
    ("memory_rss", Unit::Bytes),
    ("memory_stack", Unit::Bytes),
    ("memory_swap", Unit::Bytes),
    ("memory_vms", Unit::Bytes),
    ("nice_priority", Unit::Count),
    ("num_fds", Unit::Count),
    ("num_threads", Unit::Count),
    ("pid", Unit::Count),
    ("read_bytes", Unit::Bytes),
    ("read_count", Unit::Count),
    ("realtime_priority", Unit::Count),
    ("rlimit_cpu_time_hard", Unit::Count),
    ("rlimit_cpu_time_soft", Unit::Count),
    ("rlimit_file_locks_hard", Unit::Count),
    ("rlimit_file_locks_soft", Unit::Count),
    ("rlimit_memory_data_hard", Unit::Bytes),
    ("rlimit_memory_data_soft", Unit::Bytes),
    ("rlimit_memory_locked_hard", Unit::Bytes),
    ("rlimit_memory_locked_soft", Unit::Bytes),
    ("rlimit_memory_rss_hard", Unit::Bytes),
    ("rlimit_memory_rss_soft", Unit::Bytes),
    ("rlimit_memory_stack_hard", Unit::Bytes),
    ("rlimit_memory_stack_soft", Unit::Bytes),
    ("rlimit_memory_vms_hard", Unit::Bytes),
    ("rlimit_memory_vms_soft", Unit::Bytes),
    ("rlimit_nice_priority_hard", Unit::Count),
    ("rlimit_nice_priority_soft", Unit::Count),
    ("rlimit_num_fds_hard", Unit::Count),
    ("rlimit_num_fds_soft", Unit::Count),
    ("rlimit_realtime_priority_hard", Unit::Count),
    ("rlimit_realtime_priority_soft", Unit::Count),
    ("rlimit_signals_pending_hard", Unit::Count),
    ("rlimit_signals_pending_soft", Unit::Count),
    ("signals_pending", Unit::Count),
    ("voluntary_context_switches", Unit::Count),
    ("write_bytes", Unit::Bytes),
    ("write_count", Unit::Count),
];

/// The lookup field, emitted as `procstat_lookup_pid_count`.
pub const LOOKUP_FIELDS: [(&str, Unit); 1] = [("pid_count", Unit::Count)];

/// Value sent for an `unlimited` resource limit.
const UNLIMITED: f64 = u64::MAX as f64;

/// `/proc/<pid>/limits` row prefixes and the field name part they map to.
const LIMITS: [(&str, &str); 11] = [
    ("Max cpu time", "cpu_time"),
    ("Max data size", "memory_data"),
    ("Max stack size", "memory_stack"),
    ("Max resident set", "memory_rss"),
    ("Max open files", "num_fds"),
    ("Max locked memory", "memory_locked"),
    ("Max address space", "memory_vms"),
    ("Max file locks", "file_locks"),
    ("Max pending signals", "signals_pending"),
    ("Max nice priority", "nice_priority"),
    ("Max realtime priority", "realtime_priority"),
];

/// Which per-process files the configured fields need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Needs {
    stat: bool,
    cpu_usage: bool,
    status: bool,
    io: bool,
    fds: bool,
    limits: bool,
}

impl Needs {
    fn of(emitter: &Emitter) -> Self {
        let mut n = Needs::default();
        for spec in emitter.fields() {
            let f = spec.field.as_str();
            match f {
                "cpu_usage" => {
                    n.stat = true;
                    n.cpu_usage = true;
                }
                "num_threads" | "nice_priority" | "realtime_priority" => n.stat = true,
                "voluntary_context_switches"
                | "involuntary_context_switches"
                | "signals_pending" => n.status = true,
                "read_bytes" | "write_bytes" | "read_count" | "write_count" => n.io = true,
                "num_fds" => n.fds = true,
                _ if f.starts_with("cpu_time") => n.stat = true,
                _ if f.starts_with("memory_") => n.status = true,
                _ if f.starts_with("rlimit_") => n.limits = true,
                _ => {}
            }
        }
        n
    }
}

/// How pids are found.
#[derive(Debug)]
enum Finder {
    PidFile(PathBuf),
    Exe(Regex),
    Pattern(Regex),
    /// The regex did not compile (the config loader should have rejected it).
    Invalid,
}

/// One process found by the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Match {
    pid: u32,
    /// Known when the lookup found it in the shared scan.
    name: Option<String>,
    /// This tick's `stat` values, when the lookup found it in the shared scan.
    stat: Option<StatVals>,
    /// Found in the shared scan (`exe`, `pattern`) rather than through a pid file.
    scanned: bool,
}

/// Values from `status` (bytes for memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StatusVals {
    rss: Option<u64>,
    vms: Option<u64>,
    data: Option<u64>,
    stack: Option<u64>,
    locked: Option<u64>,
    swap: Option<u64>,
    voluntary: Option<u64>,
    involuntary: Option<u64>,
    sig_pending: Option<u64>,
}

/// Values from `io`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct IoVals {
    read_bytes: Option<u64>,
    write_bytes: Option<u64>,
    read_count: Option<u64>,
    write_count: Option<u64>,
}

/// Soft and hard limits in [`LIMITS`] order.
type LimitVals = [Option<(f64, f64)>; LIMITS.len()];

/// Everything read about one process this tick.
#[derive(Debug, Clone, Default)]
struct Sample {
    pid: u32,
    stat: Option<StatVals>,
    status: Option<StatusVals>,
    io: Option<IoVals>,
    fds: Option<u64>,
    limits: Option<LimitVals>,
    cpu_usage: Option<f64>,
}

impl Sample {
    fn field(&self, field: &str, ticks_per_sec: f64) -> Option<f64> {
        let secs = |t: u64| t as f64 / ticks_per_sec;
        let stat = self.stat;
        let status = self.status;
        let io = self.io;
        let v = match field {
            "pid" => f64::from(self.pid),
            "cpu_usage" => self.cpu_usage?,
            "cpu_time" => stat.map(|s| secs(s.utime.saturating_add(s.stime)))?,
            "cpu_time_user" => stat.map(|s| secs(s.utime))?,
            "cpu_time_system" => stat.map(|s| secs(s.stime))?,
            "cpu_time_iowait" => stat.map(|s| secs(s.blkio_ticks))?,
            "cpu_time_guest" => stat.map(|s| secs(s.guest_time))?,
            "cpu_time_guest_nice"
            | "cpu_time_idle"
            | "cpu_time_irq"
            | "cpu_time_nice"
            | "cpu_time_soft_irq"
            | "cpu_time_steal"
            | "cpu_time_stolen" => stat.map(|_| 0.0)?,
            "num_threads" => stat.map(|s| s.num_threads as f64)?,
            "nice_priority" => stat.map(|s| s.nice as f64)?,
            "realtime_priority" => stat.map(|s| s.rt_priority as f64)?,
            "memory_rss" => status?.rss? as f64,
            "memory_vms" => status?.vms? as f64,
            "memory_data" => status?.data? as f64,
            "memory_stack" => status?.stack? as f64,
            "memory_locked" => status?.locked? as f64,
            "memory_swap" => status?.swap? as f64,
            "voluntary_context_switches" => status?.voluntary? as f64,
            "involuntary_context_switches" => status?.involuntary? as f64,
            "signals_pending" => status?.sig_pending? as f64,
            "read_bytes" => io?.read_bytes? as f64,
            "write_bytes" => io?.write_bytes? as f64,
            "read_count" => io?.read_count? as f64,
            "write_count" => io?.write_count? as f64,
            "num_fds" => self.fds? as f64,
            _ => {
                let rest = field.strip_prefix("rlimit_")?;
                let (name, hard) = if let Some(n) = rest.strip_suffix("_hard") {
                    (n, true)
                } else {
                    (rest.strip_suffix("_soft")?, false)
                };
                let i = LIMITS.iter().position(|(_, n)| *n == name)?;
                let (soft, hard_v) = self.limits.as_ref()?[i]?;
                if hard {
                    hard_v
                } else {
                    soft
                }
            }
        };
        Some(v)
    }
}

/// Parse `/proc/<pid>/status`.
fn parse_status(buf: &[u8]) -> StatusVals {
    let mut s = StatusVals::default();
    for line in buf.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, rest) = line.split_at(colon);
        let slot = match key {
            b"VmRSS" => &mut s.rss,
            b"VmSize" => &mut s.vms,
            b"VmData" => &mut s.data,
            b"VmStk" => &mut s.stack,
            b"VmLck" => &mut s.locked,
            b"VmSwap" => &mut s.swap,
            b"voluntary_ctxt_switches" => &mut s.voluntary,
            b"nonvoluntary_ctxt_switches" => &mut s.involuntary,
            b"SigQ" => {
                // "SigQ:\t3/63465": queued / limit.
                let value = rest[1..].trim_ascii();
                let used = value.split(|&b| b == b'/').next().unwrap_or_default();
                s.sig_pending = parse_u64(used);
                continue;
            }
            _ => continue,
        };
        let mut parts = rest[1..]
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        let Some(n) = parts.next().and_then(parse_u64) else {
            continue;
        };
        let kb = key.starts_with(b"Vm");
        *slot = Some(if kb { n.saturating_mul(1024) } else { n });
    }
    s
}

/// Parse `/proc/<pid>/io`.
fn parse_io(buf: &[u8]) -> IoVals {
    let mut io = IoVals::default();
    for line in buf.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (key, rest) = line.split_at(colon);
        let v = parse_u64(rest[1..].trim_ascii());
        match key {
            b"read_bytes" => io.read_bytes = v,
            b"write_bytes" => io.write_bytes = v,
            b"syscr" => io.read_count = v,
            b"syscw" => io.write_count = v,
            _ => {}
        }
    }
    io
}

/// Parse `/proc/<pid>/limits`.
fn parse_limits(buf: &[u8]) -> LimitVals {
    let mut out: LimitVals = [None; LIMITS.len()];
    let value = |b: &[u8]| -> Option<f64> {
        if b == b"unlimited" {
            Some(UNLIMITED)
        } else {
            parse_u64(b).map(|n| n as f64)
        }
    };
    for line in buf.split(|&b| b == b'\n') {
        let Some(i) = LIMITS
            .iter()
            .position(|(prefix, _)| line.starts_with(prefix.as_bytes()))
        else {
            continue;
        };
        let rest = &line[LIMITS[i].0.len()..];
        let mut cols = rest
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        if let (Some(Some(soft)), Some(Some(hard))) =
            (cols.next().map(value), cols.next().map(value))
        {
            out[i] = Some((soft, hard));
        }
    }
    out
}

/// The first whitespace-separated number of a pid file.
fn parse_pid_file(text: &str) -> Option<u32> {
    text.split_whitespace().next().and_then(parse_pid)
}

/// Trim the trailing newline of a `comm` file.
fn trim_comm(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\n").unwrap_or(b)
}

/// Scratch space reused across ticks.
#[derive(Debug)]
struct Scratch {
    buf: Vec<u8>,
    aux: Vec<u8>,
}

/// The process name of a process found through its pid file (not through the shared scan):
/// `comm`, or the base name of `argv[0]` (read into `aux`) when `comm` may have been truncated
/// by the kernel and that base name extends it (see `ProcTable::process_name`).
fn pid_file_process_name<'a>(
    root: &mut ProcRoot,
    pid: u32,
    comm: &'a [u8],
    aux: &'a mut Vec<u8>,
) -> &'a [u8] {
    if comm.len() < COMM_LEN || root.read(pid, "cmdline", aux).is_err() {
        return comm;
    }
    let argv0 = aux.split(|&b| b == 0).next().unwrap_or_default();
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
    if base.len() > comm.len() && base.starts_with(comm) {
        base
    } else {
        comm
    }
}

/// The procstat plugin for one config entry.
#[derive(Debug)]
pub struct ProcstatSource {
    /// Per-process fields.
    emitter: Emitter,
    /// `pid_count`.
    lookup: Emitter,
    interval: u64,
    /// `<proc>/uptime`, kept open.
    uptime: KeptFile,
    finder: Finder,
    /// `exe=...`, `pattern=...` or `pidfile=...`.
    selector_dim: Dimension,
    needs: Needs,
    ticks_per_sec: f64,
    /// (pid, start time) → (utime+stime ticks, uptime seconds) at the last tick it was seen.
    cpu_prev: HashMap<(u32, u64), (u64, f64)>,
    cpu_next: HashMap<(u32, u64), (u64, f64)>,
    /// The process scan shared with `processes` and the other procstat entries.
    table: SharedTable,
    reader: Reader,
    scratch: Scratch,
    /// Detail files of the matched processes, kept open.
    details: KeptDetails,
    matches: Vec<Match>,
    pid_file_warned: bool,
}

impl ProcstatSource {
    /// Build from one `procstat` entry.
    pub fn new(
        cfg: &ProcstatConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let common = &cfg.common;
        let interval = effective_interval(common.metrics_collection_interval, agent_interval);
        let (per_process, lookup): (Vec<_>, Vec<_>) = common
            .measurements
            .iter()
            .cloned()
            .partition(|m| m.field != "pid_count");
        let part = |measurements| PluginCommon {
            measurements,
            metrics_collection_interval: common.metrics_collection_interval,
            append_dimensions: common.append_dimensions.clone(),
            drop_original_metrics: Vec::new(),
        };
        let emitter = Emitter::new("procstat", &part(per_process), &FIELDS, ctx, interval);
        let lookup = Emitter::new(
            "procstat_lookup",
            &part(lookup),
            &LOOKUP_FIELDS,
            ctx,
            interval,
        );
        let compile = |re: &str| match Regex::new(re) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(regex = re, error = %e, "procstat: invalid regex, entry disabled");
                None
            }
        };
        let (finder, selector_dim) = match &cfg.selector {
            ProcessSelector::PidFile(p) => (
                Finder::PidFile(PathBuf::from(p)),
                Dimension::new("pidfile", p.clone()),
            ),
            ProcessSelector::Exe(re) => (
                compile(re).map_or(Finder::Invalid, Finder::Exe),
                Dimension::new("exe", re.clone()),
            ),
            ProcessSelector::Pattern(re) => (
                compile(re).map_or(Finder::Invalid, Finder::Pattern),
                Dimension::new("pattern", re.clone()),
            ),
        };
        ProcstatSource {
            needs: Needs::of(&emitter),
            emitter,
            lookup,
            interval,
            uptime: KeptFile::single_record(proc_root.join("uptime")),
            finder,
            selector_dim,
            ticks_per_sec: clock_ticks(proc_root) as f64,
            cpu_prev: HashMap::new(),
            cpu_next: HashMap::new(),
            table: proctable::shared(proc_root),
            reader: Reader::default(),
            scratch: Scratch {
                buf: Vec::with_capacity(4096),
                aux: Vec::with_capacity(1024),
            },
            details: KeptDetails::default(),
            matches: Vec::new(),
            pid_file_warned: false,
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        let enabled = !matches!(self.finder, Finder::Invalid);
        enabled && (!self.emitter.is_empty() || !self.lookup.is_empty())
    }

    /// Point at another proc root (tests move between snapshots this way).
    #[cfg(test)]
    fn set_root(&mut self, proc_root: &Path) {
        self.uptime = KeptFile::single_record(proc_root.join("uptime"));
        self.table = proctable::shared(proc_root);
        self.reader = Reader::default();
    }

    /// Fill `self.matches` for tick `now_ms`.
    fn find(&mut self, table: &mut ProcTable, now_ms: i64) -> Result<(), CollectError> {
        self.matches.clear();
        let now = Some(now_ms);
        match &self.finder {
            Finder::Invalid => {}
            Finder::PidFile(file) => {
                let pid = match std::fs::read_to_string(file) {
                    Ok(text) => parse_pid_file(&text),
                    Err(e) => {
                        if !self.pid_file_warned {
                            tracing::warn!(pid_file = %file.display(), error = %e, "procstat: cannot read pid file");
                            self.pid_file_warned = true;
                        }
                        return Ok(());
                    }
                };
                self.pid_file_warned = false;
                let Some(pid) = pid else {
                    tracing::debug!(pid_file = %file.display(), "procstat: no pid in pid file");
                    return Ok(());
                };
                if table.root().exists(pid) {
                    self.matches.push(Match {
                        pid,
                        name: None,
                        stat: None,
                        scanned: false,
                    });
                }
            }
            Finder::Exe(re) => {
                table.refresh(now, &mut self.reader)?;
                for i in 0..table.entries().len() {
                    // Borrowed unless the name is not UTF-8: no allocation for non-matches.
                    let Some(name) = table.process_name(i, now) else {
                        continue;
                    };
                    if !re.is_match(&name) {
                        continue;
                    }
                    let name = name.into_owned();
                    if let Some(e) = table.entries().get(i) {
                        self.matches.push(Match {
                            pid: e.pid,
                            name: Some(name),
                            stat: e.stat,
                            scanned: true,
                        });
                    }
                }
            }
            Finder::Pattern(re) => {
                table.refresh(now, &mut self.reader)?;
                for i in 0..table.entries().len() {
                    let Some(cmdline) = table.cmdline(i, now) else {
                        continue;
                    };
                    if !re.is_match(cmdline) {
                        continue;
                    }
                    let name = table.process_name(i, now).map(Cow::into_owned);
                    if let Some(e) = table.entries().get(i) {
                        self.matches.push(Match {
                            pid: e.pid,
                            name,
                            stat: e.stat,
                            scanned: true,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The `stat` values of a process found through its pid file, read now, with its name.
    fn read_stat(&mut self, root: &mut ProcRoot, pid: u32) -> Option<(StatVals, String)> {
        let s = &mut self.scratch;
        root.read(pid, "stat", &mut s.buf).ok()?;
        let st = parse_pid_stat(&s.buf)?;
        let vals = StatVals {
            state: st.state,
            utime: st.utime,
            stime: st.stime,
            nice: st.nice,
            num_threads: st.num_threads,
            starttime: st.starttime,
            rt_priority: st.rt_priority,
            blkio_ticks: st.blkio_ticks,
            guest_time: st.guest_time,
        };
        let name = pid_file_process_name(root, pid, st.comm, &mut s.aux);
        Some((vals, String::from_utf8_lossy(name).into_owned()))
    }

    /// Read one process. `None` when it vanished.
    fn read_process(
        &mut self,
        root: &mut ProcRoot,
        m: &Match,
        wall: Option<f64>,
    ) -> Option<(Sample, String)> {
        let pid = m.pid;
        let needs = self.needs;
        // An optional file that cannot be read leaves its fields out, unless the process is gone
        // (then the process is skipped). "Not found" alone does not mean gone: a kernel built
        // without I/O accounting has no `io` file for any process.
        let gone = |e: std::io::Error, root: &mut ProcRoot| -> Option<()> {
            if is_gone(&e) && !root.exists(pid) {
                None
            } else {
                tracing::debug!(pid, error = %e, "procstat: file unreadable, fields left out");
                Some(())
            }
        };
        let mut sample = Sample {
            pid,
            ..Default::default()
        };
        let mut name = m.name.clone();
        if needs.stat {
            // From this tick's scan; a pid-file process is read now. A scanned process whose
            // stat was unreadable is gone for every stat-based field.
            let st = match (m.stat, m.scanned) {
                (Some(st), _) => st,
                (None, true) => return None,
                (None, false) => {
                    let (st, n) = self.read_stat(root, pid)?;
                    name.get_or_insert(n);
                    st
                }
            };
            sample.stat = Some(st);
        }
        let start = sample.stat.or(m.stat).map(|st| st.starttime);
        let s = &mut self.scratch;
        let details = &mut self.details;
        let name = match name {
            Some(n) => n,
            None => {
                root.read(pid, "comm", &mut s.buf).ok()?;
                let n = pid_file_process_name(root, pid, trim_comm(&s.buf), &mut s.aux);
                String::from_utf8_lossy(n).into_owned()
            }
        };
        if needs.status {
            match details.read(root, pid, start, Detail::Status, &mut s.buf) {
                Ok(()) => sample.status = Some(parse_status(&s.buf)),
                Err(e) => gone(e, root)?,
            }
        }
        if needs.io {
            match details.read(root, pid, start, Detail::Io, &mut s.buf) {
                Ok(()) => sample.io = Some(parse_io(&s.buf)),
                Err(e) => gone(e, root)?,
            }
        }
        if needs.fds {
            match root.count_fds(pid) {
                Ok(n) => sample.fds = Some(n),
                Err(e) => gone(e, root)?,
            }
        }
        if needs.limits {
            match details.read(root, pid, start, Detail::Limits, &mut s.buf) {
                Ok(()) => sample.limits = Some(parse_limits(&s.buf)),
                Err(e) => gone(e, root)?,
            }
        }
        if let (true, Some(st), Some(wall)) = (needs.cpu_usage, sample.stat, wall) {
            let key = (pid, st.starttime);
            let ticks = st.utime.saturating_add(st.stime);
            if let Some(&(prev_ticks, prev_wall)) = self.cpu_prev.get(&key) {
                let dt = wall - prev_wall;
                if dt > 0.0 && ticks >= prev_ticks {
                    let cpu_secs = (ticks - prev_ticks) as f64 / self.ticks_per_sec;
                    sample.cpu_usage = Some(100.0 * cpu_secs / dt);
                }
            }
            self.cpu_next.insert(key, (ticks, wall));
        }
        Some((sample, name))
    }

    /// Seconds since boot from `<proc>/uptime`.
    fn uptime(&mut self) -> Option<f64> {
        let buf = &mut self.scratch.buf;
        if let Err(e) = self.uptime.read(buf) {
            tracing::debug!(path = %self.uptime.path().display(), error = %e, "procstat: no uptime, no cpu_usage this tick");
            return None;
        }
        let first = buf
            .split(|b| b.is_ascii_whitespace())
            .find(|f| !f.is_empty())?;
        std::str::from_utf8(first)
            .ok()?
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }
}

impl MetricSource for ProcstatSource {
    fn plugin(&self) -> &'static str {
        "procstat"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let shared = Arc::clone(&self.table);
        let mut table = proctable::lock(&shared);
        self.find(&mut table, now_ms)?;
        if !self.lookup.is_empty() {
            let mut dims = vec![
                self.selector_dim.clone(),
                Dimension::new("pid_finder", "native"),
            ];
            dims.sort_by(|a, b| a.name.cmp(&b.name));
            let n = self.matches.len() as f64;
            self.lookup.emit(now_ms, &dims, |_| Some(n), out);
        }
        if self.emitter.is_empty() {
            return Ok(());
        }
        let wall = if self.needs.cpu_usage {
            self.uptime()
        } else {
            None
        };
        self.cpu_next.clear();
        self.details.begin();
        let matches = std::mem::take(&mut self.matches);
        let tps = self.ticks_per_sec;
        for m in &matches {
            let Some((sample, name)) = self.read_process(table.root(), m, wall) else {
                tracing::debug!(pid = m.pid, "procstat: process vanished, skipped");
                continue;
            };
            let dims = [
                self.selector_dim.clone(),
                Dimension::new("process_name", name),
            ];
            self.emitter
                .emit(now_ms, &dims, |f| sample.field(f, tps), out);
        }
        self.matches = matches;
        self.details.finish();
        if self.needs.cpu_usage {
            std::mem::swap(&mut self.cpu_prev, &mut self.cpu_next);
            self.cpu_next.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::DEFAULT_PROC_ROOT;
    use crate::config::Measurement;
    use hostwatch_model::DatumValue;

    use crate::collect::testutil::proc_fixture as fixture_root;

    fn cfg(selector: ProcessSelector, fields: &[&str]) -> ProcstatConfig {
        ProcstatConfig {
            common: PluginCommon {
                measurements: fields
                    .iter()
                    .map(|f| Measurement {
                        field: f.to_string(),
                        rename: None,
                        unit: None,
                    })
                    .collect(),
                ..Default::default()
            },
            selector,
        }
    }

    fn source(selector: ProcessSelector, fields: &[&str], case: &str) -> ProcstatSource {
        let ctx = HostContext {
            host: Some("h".into()),
            ..Default::default()
        };
        ProcstatSource::new(&cfg(selector, fields), &ctx, 60, &fixture_root(case))
    }

    fn exe(re: &str) -> ProcessSelector {
        ProcessSelector::Exe(re.into())
    }

    fn collect(src: &mut ProcstatSource) -> Vec<MetricDatum> {
        collect_at(src, 60_000)
    }

    fn collect_at(src: &mut ProcstatSource, tick: i64) -> Vec<MetricDatum> {
        let mut out = Vec::new();
        src.collect(tick, &mut out).unwrap();
        out
    }

    fn value(d: &MetricDatum) -> f64 {
        match d.value {
            DatumValue::Single(v) => v,
            ref other => panic!("{}: {other:?}", d.metric_name),
        }
    }

    /// (pid, value) of every datum named `name`, in emission order.
    fn by_pid(out: &[MetricDatum], name: &str) -> Vec<f64> {
        out.iter()
            .filter(|d| d.metric_name == name)
            .map(value)
            .collect()
    }

    fn pid_count(out: &[MetricDatum]) -> Option<f64> {
        let mut it = out
            .iter()
            .filter(|d| d.metric_name == "procstat_lookup_pid_count");
        let v = it.next().map(value);
        assert!(it.next().is_none(), "one pid_count per tick");
        v
    }

    fn pids(out: &[MetricDatum]) -> Vec<u32> {
        let mut p: Vec<u32> = by_pid(out, "procstat_pid")
            .into_iter()
            .map(|v| v as u32)
            .collect();
        p.sort_unstable();
        p
    }

    #[test]
    fn exe_selects_by_name_with_dimensions() {
        let mut src = source(exe("nginx"), &["pid", "pid_count"], "procstat-basic");
        assert!(src.is_productive());
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![100, 101]);
        assert_eq!(pid_count(&out), Some(2.0));
        for d in out.iter().filter(|d| d.metric_name == "procstat_pid") {
            assert_eq!(
                d.dimensions,
                vec![
                    Dimension::new("host", "h"),
                    Dimension::new("exe", "nginx"),
                    Dimension::new("process_name", "nginx"),
                ]
            );
            assert_eq!(d.unit, Unit::Count);
        }
        let lookup = out
            .iter()
            .find(|d| d.metric_name == "procstat_lookup_pid_count")
            .unwrap();
        assert_eq!(
            lookup.dimensions,
            vec![
                Dimension::new("host", "h"),
                Dimension::new("exe", "nginx"),
                Dimension::new("pid_finder", "native"),
            ]
        );
        assert_eq!(lookup.unit, Unit::Count);
    }

    #[test]
    fn exe_matches_the_untruncated_name() {
        let mut src = source(
            exe("^amazon-cloudwatch-agent$"),
            &["pid", "pid_count"],
            "procstat-basic",
        );
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![200]);
        let d = out
            .iter()
            .find(|d| d.metric_name == "procstat_pid")
            .unwrap();
        assert!(d
            .dimensions
            .contains(&Dimension::new("process_name", "amazon-cloudwatch-agent")));
    }

    #[test]
    fn pattern_selects_by_command_line() {
        let mut src = source(
            ProcessSelector::Pattern(r"worker\.py --queue high$".into()),
            &["pid", "pid_count"],
            "procstat-basic",
        );
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![300]);
        assert_eq!(pid_count(&out), Some(1.0));
        let d = out
            .iter()
            .find(|d| d.metric_name == "procstat_pid")
            .unwrap();
        assert_eq!(
            d.dimensions[1..],
            [
                Dimension::new("pattern", r"worker\.py --queue high$"),
                Dimension::new("process_name", "python3"),
            ]
        );
        // The process name is not the command line: "nginx: worker" only in 101's cmdline.
        let mut src = source(
            ProcessSelector::Pattern("nginx: worker".into()),
            &["pid"],
            "procstat-basic",
        );
        assert_eq!(pids(&collect(&mut src)), vec![101]);
        // exe does not look at the command line.
        let mut src = source(exe("worker"), &["pid", "pid_count"], "procstat-basic");
        assert_eq!(pid_count(&collect(&mut src)), Some(0.0));
    }

    #[test]
    fn pid_file_selects_one_process() {
        let file = fixture_root("procstat-basic").join("run/nginx.pid");
        let file = file.to_string_lossy().into_owned();
        let mut src = source(
            ProcessSelector::PidFile(file.clone()),
            &["pid", "pid_count"],
            "procstat-basic",
        );
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![100]);
        assert_eq!(pid_count(&out), Some(1.0));
        let lookup = out
            .iter()
            .find(|d| d.metric_name == "procstat_lookup_pid_count")
            .unwrap();
        assert_eq!(
            lookup.dimensions[1..],
            [
                Dimension::new("pid_finder", "native"),
                Dimension::new("pidfile", file),
            ]
        );
    }

    #[test]
    fn pid_count_zero_is_emitted() {
        let root = fixture_root("procstat-basic");
        for selector in [
            exe("no-such-process"),
            ProcessSelector::Pattern("no such command".into()),
            ProcessSelector::PidFile(root.join("run/stale.pid").to_string_lossy().into()),
            ProcessSelector::PidFile(root.join("run/garbage.pid").to_string_lossy().into()),
            ProcessSelector::PidFile(root.join("run/missing.pid").to_string_lossy().into()),
        ] {
            let mut src = source(
                selector.clone(),
                &["pid", "memory_rss", "pid_count"],
                "procstat-basic",
            );
            let out = collect(&mut src);
            assert_eq!(out.len(), 1, "{selector:?}: only the lookup metric");
            assert_eq!(pid_count(&out), Some(0.0), "{selector:?}");
        }
    }

    #[test]
    fn pid_count_rename_and_not_configured() {
        let mut c = cfg(exe("nginx"), &["pid_count"]);
        c.common.measurements[0].rename = Some("NginxProcesses".into());
        let mut src = ProcstatSource::new(
            &c,
            &HostContext::default(),
            60,
            &fixture_root("procstat-basic"),
        );
        let out = collect(&mut src);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric_name, "NginxProcesses");
        assert_eq!(value(&out[0]), 2.0);
        // Without pid_count, no lookup metric.
        let mut src = source(exe("nginx"), &["pid"], "procstat-basic");
        assert_eq!(pid_count(&collect(&mut src)), None);
    }

    #[test]
    fn field_values_and_units() {
        let all: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
        let file = fixture_root("procstat-basic").join("run/nginx.pid");
        let mut src = source(
            ProcessSelector::PidFile(file.to_string_lossy().into()),
            &all,
            "procstat-basic",
        );
        assert_eq!(
            src.needs,
            Needs {
                stat: true,
                cpu_usage: true,
                status: true,
                io: true,
                fds: true,
                limits: true
            }
        );
        let out = collect(&mut src);
        let get = |name: &str| -> f64 {
            let v = by_pid(&out, &format!("procstat_{name}"));
            assert_eq!(v.len(), 1, "{name}");
            v[0]
        };
        // stat: utime 250, stime 50, nice -5, 1 thread, blkio 30 ticks, 100 ticks/s.
        assert_eq!(get("cpu_time_user"), 2.5);
        assert_eq!(get("cpu_time_system"), 0.5);
        assert_eq!(get("cpu_time"), 3.0);
        assert_eq!(get("cpu_time_iowait"), 0.3);
        assert_eq!(get("cpu_time_idle"), 0.0);
        assert_eq!(get("nice_priority"), -5.0);
        assert_eq!(get("num_threads"), 1.0);
        assert_eq!(get("realtime_priority"), 0.0);
        assert_eq!(get("pid"), 100.0);
        // status (kB × 1024)
        assert_eq!(get("memory_rss"), 2048.0 * 1024.0);
        assert_eq!(get("memory_vms"), 10240.0 * 1024.0);
        assert_eq!(get("memory_data"), 4096.0 * 1024.0);
        assert_eq!(get("memory_stack"), 132.0 * 1024.0);
        assert_eq!(get("memory_locked"), 8.0 * 1024.0);
        assert_eq!(get("memory_swap"), 16.0 * 1024.0);
        assert_eq!(get("voluntary_context_switches"), 500.0);
        assert_eq!(get("involuntary_context_switches"), 7.0);
        assert_eq!(get("signals_pending"), 3.0);
        // io
        assert_eq!(get("read_bytes"), 40960.0);
        assert_eq!(get("write_bytes"), 8192.0);
        assert_eq!(get("read_count"), 321.0);
        assert_eq!(get("write_count"), 123.0);
        assert_eq!(get("num_fds"), 4.0);
        // limits
        assert_eq!(get("rlimit_num_fds_soft"), 1024.0);
        assert_eq!(get("rlimit_num_fds_hard"), 524288.0);
        assert_eq!(get("rlimit_memory_stack_soft"), 8388608.0);
        assert_eq!(get("rlimit_memory_stack_hard"), UNLIMITED);
        assert_eq!(get("rlimit_cpu_time_soft"), UNLIMITED);
        assert_eq!(get("rlimit_signals_pending_hard"), 63465.0);
        assert_eq!(get("rlimit_nice_priority_soft"), 0.0);
        assert_eq!(get("rlimit_file_locks_hard"), UNLIMITED);
        // First tick: no cpu_usage; every other field once.
        assert!(by_pid(&out, "procstat_cpu_usage").is_empty());
        assert_eq!(out.len(), FIELDS.len() - 1);
        for d in &out {
            let field = d.metric_name.strip_prefix("procstat_").unwrap();
            let expected = if field.starts_with("memory_")
                || field.starts_with("rlimit_memory_")
                || field == "read_bytes"
                || field == "write_bytes"
            {
                Unit::Bytes
            } else {
                Unit::Count
            };
            assert_eq!(d.unit, expected, "{field}");
        }
    }

    #[test]
    fn kernel_thread_lacks_memory_fields() {
        let mut src = source(
            exe("^kthreadd$"),
            &["pid", "memory_rss", "num_threads", "read_bytes"],
            "procstat-basic",
        );
        let out = collect(&mut src);
        assert_eq!(by_pid(&out, "procstat_pid"), vec![2.0]);
        assert!(by_pid(&out, "procstat_memory_rss").is_empty());
        assert!(
            by_pid(&out, "procstat_read_bytes").is_empty(),
            "io unreadable"
        );
        assert_eq!(by_pid(&out, "procstat_num_threads"), vec![1.0]);
    }

    #[test]
    fn vanished_process_is_skipped_and_only_needed_files_are_read() {
        // Pid 400 matched by name, but its stat is gone: fields from stat need it.
        let mut src = source(
            exe("^vanish$"),
            &["pid_count", "num_threads", "memory_rss"],
            "procstat-basic",
        );
        let out = collect(&mut src);
        assert_eq!(pid_count(&out), Some(1.0), "it matched at lookup");
        assert_eq!(out.len(), 1, "no per-process datum for a vanished process");
        // Without stat-based fields, stat is not read and the process is reported.
        let mut src = source(exe("^vanish$"), &["memory_rss"], "procstat-basic");
        assert!(!src.needs.stat);
        let out = collect(&mut src);
        assert_eq!(by_pid(&out, "procstat_memory_rss"), vec![2048.0 * 1024.0]);
    }

    #[test]
    fn cpu_usage_over_snapshots_with_pid_reuse_and_vanish() {
        let root = fixture_root("procstat-cpu");
        let mut src = source(exe("^worker$"), &["pid", "cpu_usage"], "procstat-cpu/t0");
        let usage = |out: &[MetricDatum]| -> Vec<(u32, f64)> {
            let mut pid = None;
            let mut v = Vec::new();
            for d in out {
                match d.metric_name.as_str() {
                    "procstat_pid" => pid = Some(value(d) as u32),
                    "procstat_cpu_usage" => v.push((pid.unwrap(), value(d))),
                    _ => {}
                }
            }
            v.sort_by_key(|(p, _)| *p);
            v
        };
        // t0: first sample, no usage.
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![500, 501]);
        assert!(usage(&out).is_empty());
        // t1 (+10 s): 500 used 1500 ticks = 15 s → 150 %; 501 is a new process with the same
        // pid (start time changed) and 502 is new: no usage for either.
        src.set_root(&root.join("t1"));
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![500, 501, 502]);
        let u = usage(&out);
        assert_eq!(u.len(), 1, "{u:?}");
        assert_eq!(u[0].0, 500);
        assert!((u[0].1 - 150.0).abs() < 1e-9, "{u:?}");
        assert_eq!(
            out.iter()
                .find(|d| d.metric_name == "procstat_cpu_usage")
                .unwrap()
                .unit,
            Unit::Percent
        );
        // t2 (+10 s): 500 vanished; 501 +250 ticks → 25 %; 502 idle → 0 %.
        src.set_root(&root.join("t2"));
        let out = collect(&mut src);
        assert_eq!(pids(&out), vec![501, 502]);
        let u = usage(&out);
        assert_eq!(u.len(), 2, "{u:?}");
        assert_eq!(u[0].0, 501);
        assert!((u[0].1 - 25.0).abs() < 1e-9, "{u:?}");
        assert_eq!(u[1], (502, 0.0));
        assert!(
            !src.cpu_prev.keys().any(|(pid, _)| *pid == 500),
            "state of a vanished process is dropped"
        );
        assert_eq!(src.cpu_prev.len(), 2);
    }

    /// One fake process: `comm`, `cmdline` and a `stat` with the given cpu ticks and start
    /// time.
    fn write_proc(root: &Path, pid: u32, name: &str, ticks: u64, start: u64) {
        let dir = root.join(pid.to_string());
        std::fs::create_dir_all(dir.join("fd")).unwrap();
        std::fs::write(dir.join("comm"), format!("{name}\n")).unwrap();
        std::fs::write(dir.join("cmdline"), format!("/usr/bin/{name}\0--serve\0")).unwrap();
        let stat = format!(
            "{pid} ({name}) S 1 {pid} {pid} 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 1 0 {start} 1 1 \
             0 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"
        );
        std::fs::write(dir.join("stat"), stat).unwrap();
    }

    /// The proc root stays open between ticks (no `set_root`): a reused pid starts afresh, a
    /// vanished process is skipped and its state dropped, a new process is found.
    #[test]
    fn live_changes_between_ticks_with_one_open_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("uptime"), "100.00 1.00\n").unwrap();
        write_proc(r, 10, "svc", 1000, 50);
        write_proc(r, 11, "svc", 0, 60);
        write_proc(r, 12, "other", 0, 70);
        for selector in [exe("^svc$"), ProcessSelector::Pattern("svc --serve".into())] {
            let mut src = ProcstatSource::new(
                &cfg(
                    selector.clone(),
                    &["pid", "cpu_usage", "num_fds", "pid_count"],
                ),
                &HostContext::default(),
                60,
                r,
            );
            let usage = |out: &[MetricDatum]| by_pid(out, "procstat_cpu_usage");
            let out = collect(&mut src);
            assert_eq!(pids(&out), vec![10, 11], "{selector:?}");
            assert!(usage(&out).is_empty());
            // +10 s: 10 used 500 ticks (5 s → 50 %); 11 exited and its pid was reused by a
            // new svc (other start time): no usage for it; 13 is new.
            std::fs::write(r.join("uptime"), "110.00 1.00\n").unwrap();
            write_proc(r, 10, "svc", 1500, 50);
            write_proc(r, 11, "svc", 0, 9000);
            write_proc(r, 13, "svc", 0, 9100);
            let out = collect(&mut src);
            assert_eq!(pids(&out), vec![10, 11, 13], "{selector:?}");
            assert_eq!(usage(&out), vec![50.0], "{selector:?}");
            assert_eq!(by_pid(&out, "procstat_num_fds"), vec![0.0; 3]);
            // +10 s: 10 vanished; 11 and 13 idle → 0 %.
            std::fs::write(r.join("uptime"), "120.00 1.00\n").unwrap();
            std::fs::remove_dir_all(r.join("10")).unwrap();
            let out = collect(&mut src);
            assert_eq!(pids(&out), vec![11, 13], "{selector:?}");
            assert_eq!(usage(&out), vec![0.0, 0.0], "{selector:?}");
            assert_eq!(pid_count(&out), Some(2.0));
            assert!(!src.cpu_prev.keys().any(|(pid, _)| *pid == 10));
            assert_eq!(src.cpu_prev.len(), 2);
            // Restore for the next selector.
            write_proc(r, 10, "svc", 1000, 50);
            write_proc(r, 11, "svc", 0, 60);
            std::fs::remove_dir_all(r.join("13")).unwrap();
            std::fs::write(r.join("uptime"), "100.00 1.00\n").unwrap();
        }
    }

    /// `processes` and two procstat entries on one tick share one scan; a process matched in
    /// that scan that exits before its detail files are read is skipped (and still counted).
    #[test]
    fn shared_scan_and_exit_between_scan_and_details() {
        use crate::collect::processes::ProcessesSource;
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("uptime"), "100.00 1.00\n").unwrap();
        write_proc(r, 10, "svc", 1000, 50);
        write_proc(r, 11, "svc", 0, 60);
        std::fs::write(r.join("10/status"), "VmRSS:\t 8 kB\n").unwrap();
        std::fs::write(r.join("11/status"), "VmRSS:\t 4 kB\n").unwrap();
        let fields = ["pid", "num_threads", "memory_rss", "pid_count"];
        let ctx = HostContext::default();
        let mut by_exe = ProcstatSource::new(&cfg(exe("^svc$"), &fields), &ctx, 60, r);
        let pattern = ProcessSelector::Pattern("svc --serve".into());
        let mut by_pattern = ProcstatSource::new(&cfg(pattern, &fields), &ctx, 60, r);
        let mut processes = ProcessesSource::new(
            &crate::collect::testutil::measuring(&["total"]),
            &ctx,
            60,
            r,
        );
        // A first tick (the pattern entry caches both command lines, trusted for 40 s and more).
        let mut out = Vec::new();
        processes.collect(0, &mut out).unwrap();
        assert_eq!(pids(&collect_at(&mut by_exe, 0)), vec![10, 11]);
        assert_eq!(pids(&collect_at(&mut by_pattern, 0)), vec![10, 11]);
        processes.collect(20_000, &mut out).unwrap();
        // 11 exits after the scan: the procstat entries of this tick still see it in the scan.
        std::fs::remove_dir_all(r.join("11")).unwrap();
        for src in [&mut by_exe, &mut by_pattern] {
            let out = collect_at(src, 20_000);
            assert_eq!(pid_count(&out), Some(2.0), "both matched in the scan");
            assert_eq!(pids(&out), vec![10], "11 is gone by the detail reads");
            assert_eq!(by_pid(&out, "procstat_memory_rss"), vec![8192.0]);
        }
        let stats = proctable::lock(&by_exe.table).stats();
        assert_eq!(stats.scans, 2, "one scan per tick for the three plugins");
        assert_eq!(stats.cmdline_reads, 2, "read once, at the first tick");
        assert!(Arc::ptr_eq(&by_exe.table, &by_pattern.table));
        // The next tick scans again and no longer finds 11.
        let mut out = Vec::new();
        by_exe.collect(120_000, &mut out).unwrap();
        assert_eq!(pid_count(&out), Some(1.0));
        assert_eq!(proctable::lock(&by_exe.table).stats().scans, 3);
    }

    /// The command lines a `pattern` entry matches against are read once per process, and
    /// again when the pid is reused.
    #[test]
    fn pattern_reads_each_command_line_once() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::write(r.join("uptime"), "100.00 1.00\n").unwrap();
        write_proc(r, 10, "svc", 0, 50);
        write_proc(r, 12, "other", 0, 70);
        let pattern = ProcessSelector::Pattern("svc --serve".into());
        let mut src = ProcstatSource::new(
            &cfg(pattern, &["pid", "pid_count"]),
            &HostContext::default(),
            60,
            r,
        );
        let mut out = Vec::new();
        for tick in 1..=5 {
            out.clear();
            src.collect(tick * 1000, &mut out).unwrap();
            assert_eq!(pids(&out), vec![10]);
        }
        assert_eq!(proctable::lock(&src.table).stats().cmdline_reads, 2);
        // 12 is replaced by a new svc process under the same pid: read, and matched.
        write_proc(r, 12, "svc", 0, 900);
        out.clear();
        src.collect(6_000, &mut out).unwrap();
        assert_eq!(pids(&out), vec![10, 12]);
        assert_eq!(proctable::lock(&src.table).stats().cmdline_reads, 3);
    }

    #[test]
    fn parsers() {
        let s =
            parse_status(b"Name:\tx\nVmRSS:\t  12 kB\nSigQ:\t0/100\nvoluntary_ctxt_switches:\t9\n");
        assert_eq!(s.rss, Some(12 * 1024));
        assert_eq!(s.sig_pending, Some(0));
        assert_eq!(s.voluntary, Some(9));
        assert_eq!(s.vms, None);
        let io = parse_io(b"syscr: 5\nread_bytes: x\n");
        assert_eq!((io.read_count, io.read_bytes), (Some(5), None));
        let l = parse_limits(b"Max open files            10                   unlimited            files\nMax cpu time x\n");
        assert_eq!(l[4], Some((10.0, UNLIMITED)));
        assert_eq!(l[0], None);
        assert_eq!(parse_pid_file(" 42\n"), Some(42));
        assert_eq!(parse_pid_file("-1"), None);
        assert_eq!(parse_pid_file(""), None);
    }

    #[test]
    fn invalid_regex_is_not_productive() {
        let src = source(exe("("), &["pid_count"], "procstat-basic");
        assert!(!src.is_productive());
        let src = source(exe("x"), &[], "procstat-basic");
        assert!(!src.is_productive());
    }

    /// Against the real `/proc` of the machine running the tests (skipped elsewhere): every
    /// process, every field, two ticks.
    #[test]
    fn live_proc_smoke() {
        let root = Path::new(DEFAULT_PROC_ROOT);
        if !root.join("self/stat").exists() {
            return;
        }
        let mut all: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
        all.push("pid_count");
        let mut src = ProcstatSource::new(
            &cfg(ProcessSelector::Pattern(".".into()), &all),
            &HostContext::default(),
            60,
            root,
        );
        let mut out = Vec::new();
        let start = std::time::Instant::now();
        src.collect(0, &mut out).unwrap();
        let first = start.elapsed();
        std::thread::sleep(std::time::Duration::from_millis(20));
        out.clear();
        let start = std::time::Instant::now();
        src.collect(0, &mut out).unwrap();
        let second = start.elapsed();
        let n = pid_count(&out).unwrap();
        assert!(n >= 1.0, "at least the test process has a command line");
        // This test process itself is matched and has a pid, memory and threads.
        let me = f64::from(std::process::id());
        assert!(by_pid(&out, "procstat_pid").contains(&me));
        assert!(!by_pid(&out, "procstat_cpu_usage").is_empty());
        eprintln!(
            "procstat live: {n} processes, {} datums, first tick {first:?}, second {second:?}",
            out.len()
        );
        // Only what is needed: pid alone over every process.
        let mut src = ProcstatSource::new(
            &cfg(ProcessSelector::Exe(".".into()), &["pid", "pid_count"]),
            &HostContext::default(),
            60,
            root,
        );
        out.clear();
        let start = std::time::Instant::now();
        src.collect(0, &mut out).unwrap();
        eprintln!("procstat live exe/pid only: {:?}", start.elapsed());
    }
}
