//! The `processes` plugin: how many processes are in each scheduler state, from
//! `<proc>/[pid]/stat`.
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
//! - the scan is the per-tick process table shared with `procstat` (see `proctable`): the
//!   proc root is listed once per tick for both plugins, and each process's `stat` is kept
//!   open and re-read with one `pread`.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::proctable::{self, Reader, SharedTable};
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::path::Path;

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
    table: SharedTable,
    reader: Reader,
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
            table: proctable::shared(proc_root),
            reader: Reader::default(),
        }
    }

    /// Whether this configuration can ever produce a datum (`wait` alone cannot on Linux).
    pub fn is_productive(&self) -> bool {
        self.emitter.wants_any(|f| f != "wait")
    }

    /// Scan the proc root now and count.
    pub fn count(&mut self) -> Result<ProcessCounts, CollectError> {
        self.count_at(None)
    }

    /// Count from the scan of tick `tick` (shared with the other plugins of this tick).
    fn count_at(&mut self, tick: Option<i64>) -> Result<ProcessCounts, CollectError> {
        let mut table = proctable::lock(&self.table);
        table.refresh(tick, &mut self.reader)?;
        let mut counts = ProcessCounts::default();
        for st in table.entries().iter().filter_map(|e| e.stat) {
            counts.add(st.state, st.num_threads);
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
        let counts = self.count_at(Some(now_ms))?;
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
