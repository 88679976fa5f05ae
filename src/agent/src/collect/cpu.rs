//! The `cpu` plugin: cumulative CPU times and usage percentages from `<proc>/stat`.
//!
//! Input: the `cpu` (all CPUs) and `cpuN` lines of `/proc/stat`, whose columns are
//! `user nice system idle iowait irq softirq steal guest guest_nice` in clock ticks (missing
//! trailing columns on old kernels count as 0).
//!
//! Output, per line selected by the config (`cpu` → dimension `cpu=cpu-total` when `totalcpu`,
//! `cpuN` → `cpu=cpuN` when `resources: ["*"]`; with neither, nothing, as the reference agent):
//! - `time_<column>`: the cumulative counter in seconds (ticks / ticks-per-second), and
//!   `time_active` = total − idle, where total = user+system+nice+iowait+irq+softirq+steal+idle
//!   (guest is already inside user, so it is not added again). Unit `None`.
//! - `usage_<column>`: `100·Δcolumn/Δtotal` between this tick and the previous one, except
//!   `usage_user = 100·(Δuser−Δguest)/Δtotal`, `usage_nice = 100·(Δnice−Δguest_nice)/Δtotal` and
//!   `usage_active = 100·(Δtotal−Δidle)/Δtotal` (active includes iowait). Unit `Percent`.
//!
//! Invariants and edge cases:
//! - the first sample of a CPU line emits no usage (there is no previous sample);
//! - a line whose total went *down* (a CPU taken offline and back, counters reset) emits no usage
//!   on that tick and becomes the new baseline;
//! - a single column going backwards (iowait does on some tickless kernels) counts as a delta of
//!   0, and Δtotal is the sum of the clamped deltas, so usages are in [0, 100] and sum to 100;
//! - Δtotal = 0 (two samples within one tick) emits no usage.
//!
//! Ticks per second: read from the `AT_CLKTCK` entry of `<proc>/self/auxv` (the value the C
//! library's `sysconf(_SC_CLK_TCK)` returns); if that is unavailable (fixture roots, other
//! platforms), 100, which is `USER_HZ` on every mainstream Linux architecture.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::kept::KeptFile;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::CpuConfig;
use hostwatch_model::{Dimension, MetricDatum, Unit};
use std::collections::HashMap;
use std::path::Path;

/// Default `USER_HZ`.
pub const DEFAULT_CLOCK_TICKS: u64 = 100;

/// `AT_CLKTCK` in the ELF auxiliary vector.
const AT_CLKTCK: u64 = 17;

/// Every cpu field and its default unit.
pub const FIELDS: [(&str, Unit); 22] = [
    ("time_active", Unit::None),
    ("time_guest", Unit::None),
    ("time_guest_nice", Unit::None),
    ("time_idle", Unit::None),
    ("time_iowait", Unit::None),
    ("time_irq", Unit::None),
    ("time_nice", Unit::None),
    ("time_softirq", Unit::None),
    ("time_steal", Unit::None),
    ("time_system", Unit::None),
    ("time_user", Unit::None),
    ("usage_active", Unit::Percent),
    ("usage_guest", Unit::Percent),
    ("usage_guest_nice", Unit::Percent),
    ("usage_idle", Unit::Percent),
    ("usage_iowait", Unit::Percent),
    ("usage_irq", Unit::Percent),
    ("usage_nice", Unit::Percent),
    ("usage_softirq", Unit::Percent),
    ("usage_steal", Unit::Percent),
    ("usage_system", Unit::Percent),
    ("usage_user", Unit::Percent),
];

/// One `/proc/stat` cpu line, in ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTicks {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
    pub guest: u64,
    pub guest_nice: u64,
}

impl CpuTicks {
    /// Total time, guest excluded (it is already counted in user / nice).
    pub fn total(&self) -> u64 {
        self.user
            .saturating_add(self.system)
            .saturating_add(self.nice)
            .saturating_add(self.iowait)
            .saturating_add(self.irq)
            .saturating_add(self.softirq)
            .saturating_add(self.steal)
            .saturating_add(self.idle)
    }

    /// A `time_*` field in seconds.
    pub fn time_field(&self, field: &str, ticks_per_sec: f64) -> Option<f64> {
        let ticks = match field {
            "time_active" => self.total().saturating_sub(self.idle),
            "time_user" => self.user,
            "time_nice" => self.nice,
            "time_system" => self.system,
            "time_idle" => self.idle,
            "time_iowait" => self.iowait,
            "time_irq" => self.irq,
            "time_softirq" => self.softirq,
            "time_steal" => self.steal,
            "time_guest" => self.guest,
            "time_guest_nice" => self.guest_nice,
            _ => return None,
        };
        Some(ticks as f64 / ticks_per_sec)
    }
}

/// Usage percentages between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUsage {
    pub active: f64,
    pub user: f64,
    pub nice: f64,
    pub system: f64,
    pub idle: f64,
    pub iowait: f64,
    pub irq: f64,
    pub softirq: f64,
    pub steal: f64,
    pub guest: f64,
    pub guest_nice: f64,
}

impl CpuUsage {
    /// A `usage_*` field.
    pub fn field(&self, field: &str) -> Option<f64> {
        Some(match field {
            "usage_active" => self.active,
            "usage_user" => self.user,
            "usage_nice" => self.nice,
            "usage_system" => self.system,
            "usage_idle" => self.idle,
            "usage_iowait" => self.iowait,
            "usage_irq" => self.irq,
            "usage_softirq" => self.softirq,
            "usage_steal" => self.steal,
            "usage_guest" => self.guest,
            "usage_guest_nice" => self.guest_nice,
            _ => return None,
        })
    }
}

/// Usage between `prev` and `cur`; `None` when there is nothing meaningful to report (see the
/// module docs).
pub fn usage(prev: &CpuTicks, cur: &CpuTicks) -> Option<CpuUsage> {
    if cur.total() < prev.total() {
        return None;
    }
    let d = |a: u64, b: u64| b.saturating_sub(a) as f64;
    let user = d(prev.user, cur.user);
    let nice = d(prev.nice, cur.nice);
    let system = d(prev.system, cur.system);
    let idle = d(prev.idle, cur.idle);
    let iowait = d(prev.iowait, cur.iowait);
    let irq = d(prev.irq, cur.irq);
    let softirq = d(prev.softirq, cur.softirq);
    let steal = d(prev.steal, cur.steal);
    let guest = d(prev.guest, cur.guest);
    let guest_nice = d(prev.guest_nice, cur.guest_nice);
    let total = user + system + nice + iowait + irq + softirq + steal + idle;
    if total <= 0.0 {
        return None;
    }
    let pct = |x: f64| 100.0 * x / total;
    Some(CpuUsage {
        active: pct(total - idle),
        user: pct((user - guest).max(0.0)),
        nice: pct((nice - guest_nice).max(0.0)),
        system: pct(system),
        idle: pct(idle),
        iowait: pct(iowait),
        irq: pct(irq),
        softirq: pct(softirq),
        steal: pct(steal),
        guest: pct(guest),
        guest_nice: pct(guest_nice),
    })
}

/// Parse the cpu lines of `/proc/stat`: `("cpu" | "cpuN", ticks)`. Malformed lines are skipped.
pub fn parse_stat(text: &str) -> Vec<(String, CpuTicks)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let Some(name) = parts.next() else { continue };
        let is_cpu = name == "cpu"
            || name
                .strip_prefix("cpu")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !is_cpu {
            continue;
        }
        let nums: Result<Vec<u64>, _> = parts.map(str::parse::<u64>).collect();
        let Ok(nums) = nums else { continue };
        if nums.len() < 4 {
            continue;
        }
        let at = |i: usize| nums.get(i).copied().unwrap_or(0);
        out.push((
            name.to_string(),
            CpuTicks {
                user: at(0),
                nice: at(1),
                system: at(2),
                idle: at(3),
                iowait: at(4),
                irq: at(5),
                softirq: at(6),
                steal: at(7),
                guest: at(8),
                guest_nice: at(9),
            },
        ));
    }
    out
}

/// Ticks per second from `<proc_root>/self/auxv`, else [`DEFAULT_CLOCK_TICKS`].
pub fn clock_ticks(proc_root: &Path) -> u64 {
    let Ok(bytes) = std::fs::read(proc_root.join("self/auxv")) else {
        return DEFAULT_CLOCK_TICKS;
    };
    let word = std::mem::size_of::<usize>();
    let read = |chunk: &[u8]| -> u64 {
        let mut buf = [0u8; 8];
        if word == 8 {
            buf.copy_from_slice(chunk);
            u64::from_ne_bytes(buf)
        } else {
            let mut b4 = [0u8; 4];
            b4.copy_from_slice(chunk);
            u64::from(u32::from_ne_bytes(b4))
        }
    };
    for pair in bytes.chunks_exact(word * 2) {
        let (key, value) = pair.split_at(word);
        if read(key) == AT_CLKTCK {
            let v = read(value);
            return if v > 0 { v } else { DEFAULT_CLOCK_TICKS };
        }
    }
    DEFAULT_CLOCK_TICKS
}

/// The cpu plugin.
#[derive(Debug)]
pub struct CpuSource {
    emitter: Emitter,
    per_cpu: bool,
    total_cpu: bool,
    interval: u64,
    /// `<proc>/stat`, kept open.
    stat: KeptFile,
    buf: Vec<u8>,
    ticks_per_sec: f64,
    previous: HashMap<String, CpuTicks>,
}

impl CpuSource {
    /// Build from the plugin config.
    pub fn new(
        config: &CpuConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval =
            effective_interval(config.common.metrics_collection_interval, agent_interval);
        CpuSource {
            emitter: Emitter::new("cpu", &config.common, &FIELDS, ctx, interval),
            per_cpu: config.per_cpu,
            total_cpu: config.total_cpu,
            interval,
            stat: KeptFile::single_record(proc_root.join("stat")),
            buf: Vec::new(),
            ticks_per_sec: clock_ticks(proc_root) as f64,
            previous: HashMap::new(),
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        (self.per_cpu || self.total_cpu) && !self.emitter.is_empty()
    }
}

impl MetricSource for CpuSource {
    fn plugin(&self) -> &'static str {
        "cpu"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let text = self.stat.read_text(&mut self.buf)?;
        let lines = parse_stat(text);
        if lines.is_empty() {
            return Err(CollectError::Parse {
                path: self.stat.path().to_path_buf(),
                message: "no cpu lines".into(),
            });
        }
        let mut seen: HashMap<String, CpuTicks> = HashMap::with_capacity(lines.len());
        for (name, ticks) in lines {
            let is_total = name == "cpu";
            if (is_total && !self.total_cpu) || (!is_total && !self.per_cpu) {
                continue;
            }
            let usage = self
                .previous
                .get(&name)
                .and_then(|prev| usage(prev, &ticks));
            let label = if is_total { "cpu-total" } else { name.as_str() };
            let dims = [Dimension::new("cpu", label)];
            let tps = self.ticks_per_sec;
            self.emitter.emit(
                now_ms,
                &dims,
                |field| {
                    if field.starts_with("time_") {
                        ticks.time_field(field, tps)
                    } else {
                        usage.as_ref().and_then(|u| u.field(field))
                    }
                },
                out,
            );
            seen.insert(name, ticks);
        }
        self.previous = seen;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Measurement, PluginCommon};
    use std::path::PathBuf;

    fn fixture(case: &str, file: &str) -> PathBuf {
        crate::collect::testutil::proc_fixture(case).join(file)
    }

    fn all_fields_config(per_cpu: bool, total_cpu: bool) -> CpuConfig {
        CpuConfig {
            common: PluginCommon {
                measurements: FIELDS
                    .iter()
                    .map(|(f, _)| Measurement {
                        field: f.to_string(),
                        rename: None,
                        unit: None,
                    })
                    .collect(),
                metrics_collection_interval: Some(10),
                ..Default::default()
            },
            per_cpu,
            total_cpu,
        }
    }

    fn value(out: &[MetricDatum], name: &str, cpu: &str) -> Option<f64> {
        crate::collect::testutil::value_of(out, name, Some(("cpu", cpu)))
    }

    /// Copy snapshot `n` of a case into `root/stat`.
    fn install(case: &str, n: u32, root: &Path) {
        std::fs::copy(fixture(case, &format!("stat.{n}")), root.join("stat")).unwrap();
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.unwrap_or_else(|| panic!("missing value, expected {b}"));
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn parses_stat_lines() {
        let text =
            "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4\ncpufreq 1 2 3 4\nintr 1 2\ncpu1 x 1 2 3\n";
        let lines = parse_stat(text);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].0, "cpu");
        assert_eq!(lines[0].1.guest_nice, 10);
        assert_eq!(lines[0].1.total(), 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8);
        assert_eq!(lines[1].1.iowait, 0);
    }

    #[test]
    fn usage_formulas() {
        let prev = CpuTicks::default();
        let cur = CpuTicks {
            user: 300,
            nice: 100,
            system: 100,
            idle: 400,
            iowait: 50,
            irq: 10,
            softirq: 20,
            steal: 20,
            guest: 100,
            guest_nice: 40,
        };
        // total = 300+100+100+400+50+10+20+20 = 1000
        let u = usage(&prev, &cur).unwrap();
        close(Some(u.user), 20.0); // (300-100)/1000
        close(Some(u.nice), 6.0); // (100-40)/1000
        close(Some(u.system), 10.0);
        close(Some(u.idle), 40.0);
        close(Some(u.iowait), 5.0);
        close(Some(u.irq), 1.0);
        close(Some(u.softirq), 2.0);
        close(Some(u.steal), 2.0);
        close(Some(u.guest), 10.0);
        close(Some(u.guest_nice), 4.0);
        close(Some(u.active), 60.0); // (1000-400)/1000, iowait included
        assert_eq!(usage(&cur, &cur), None, "delta total 0 is skipped");
    }

    #[test]
    fn counters_going_backwards() {
        let prev = CpuTicks {
            user: 100,
            idle: 100,
            iowait: 50,
            ..Default::default()
        };
        // A reset (total went down): no usage.
        let reset = CpuTicks {
            user: 1,
            idle: 1,
            ..Default::default()
        };
        assert_eq!(usage(&prev, &reset), None);
        // iowait going back by 10 counts as 0; Δtotal is the clamped sum (50 + 50).
        let cur = CpuTicks {
            user: 150,
            idle: 150,
            iowait: 40,
            ..Default::default()
        };
        let u = usage(&prev, &cur).unwrap();
        close(Some(u.iowait), 0.0);
        close(Some(u.user), 50.0);
        close(Some(u.idle), 50.0);
    }

    #[test]
    fn fixture_per_core_and_total() {
        let dir = tempfile::tempdir().unwrap();
        install("cpu-basic", 0, dir.path());
        let mut src = CpuSource::new(
            &all_fields_config(true, true),
            &HostContext {
                host: Some("h".into()),
                ..Default::default()
            },
            60,
            dir.path(),
        );
        assert_eq!(src.interval_secs(), 10);
        let mut first = Vec::new();
        src.collect(1_000, &mut first).unwrap();
        // First sample: only the 11 time fields for cpu-total, cpu0, cpu1.
        assert_eq!(first.len(), 11 * 3);
        assert!(first.iter().all(|d| d.metric_name.starts_with("cpu_time_")));
        assert!(first.iter().all(|d| d.storage_resolution == 1));
        // stat.0 cpu0: 1000 50 300 8000 100 10 20 5 200 10
        close(value(&first, "cpu_time_user", "cpu0"), 10.0);
        close(value(&first, "cpu_time_guest", "cpu0"), 2.0);
        close(
            value(&first, "cpu_time_active", "cpu0"),
            (1000.0 + 50.0 + 300.0 + 100.0 + 10.0 + 20.0 + 5.0) / 100.0,
        );
        assert_eq!(first[0].dimensions[0], Dimension::new("host", "h"));

        install("cpu-basic", 1, dir.path());
        let mut second = Vec::new();
        src.collect(11_000, &mut second).unwrap();
        assert_eq!(second.len(), 22 * 3);
        // stat.1 cpu0: 1400 70 400 8300 150 15 25 15 300 15
        // deltas: user 400 nice 20 system 100 idle 300 iowait 50 irq 5 softirq 5 steal 10
        //         guest 100 guest_nice 5; total 890
        let t = 890.0;
        close(value(&second, "cpu_usage_user", "cpu0"), 100.0 * 300.0 / t);
        close(value(&second, "cpu_usage_nice", "cpu0"), 100.0 * 15.0 / t);
        close(
            value(&second, "cpu_usage_system", "cpu0"),
            100.0 * 100.0 / t,
        );
        close(value(&second, "cpu_usage_idle", "cpu0"), 100.0 * 300.0 / t);
        close(value(&second, "cpu_usage_iowait", "cpu0"), 100.0 * 50.0 / t);
        close(value(&second, "cpu_usage_irq", "cpu0"), 100.0 * 5.0 / t);
        close(value(&second, "cpu_usage_softirq", "cpu0"), 100.0 * 5.0 / t);
        close(value(&second, "cpu_usage_steal", "cpu0"), 100.0 * 10.0 / t);
        close(value(&second, "cpu_usage_guest", "cpu0"), 100.0 * 100.0 / t);
        close(
            value(&second, "cpu_usage_guest_nice", "cpu0"),
            100.0 * 5.0 / t,
        );
        close(
            value(&second, "cpu_usage_active", "cpu0"),
            100.0 * 590.0 / t,
        );
        // cpu1 idles completely: 100 % idle.
        close(value(&second, "cpu_usage_idle", "cpu1"), 100.0);
        close(value(&second, "cpu_usage_active", "cpu1"), 0.0);
        // cpu-total = cpu0 + cpu1.
        let total_t = 890.0 + 1000.0;
        close(
            value(&second, "cpu_usage_idle", "cpu-total"),
            100.0 * 1300.0 / total_t,
        );
        let unit = second
            .iter()
            .find(|d| d.metric_name == "cpu_usage_idle")
            .unwrap()
            .unit;
        assert_eq!(unit, Unit::Percent);

        // Snapshot 2: cpu1 counters reset (hot-unplug and back): no usage for cpu1 this tick.
        install("cpu-basic", 2, dir.path());
        let mut third = Vec::new();
        src.collect(21_000, &mut third).unwrap();
        assert!(value(&third, "cpu_usage_idle", "cpu1").is_none());
        assert!(value(&third, "cpu_time_idle", "cpu1").is_some());
        assert!(value(&third, "cpu_usage_idle", "cpu0").is_some());
    }

    #[test]
    fn selection_quirks() {
        let dir = tempfile::tempdir().unwrap();
        install("cpu-basic", 0, dir.path());
        let ctx = HostContext::default();
        let count = |per, total| {
            let mut src = CpuSource::new(&all_fields_config(per, total), &ctx, 60, dir.path());
            let mut out = Vec::new();
            src.collect(0, &mut out).unwrap();
            (src.is_productive(), out)
        };
        let (productive, out) = count(false, false);
        assert!(!productive);
        assert!(out.is_empty(), "no resources + totalcpu false = nothing");
        let (_, out) = count(false, true);
        assert!(out
            .iter()
            .all(|d| d.dimensions == vec![Dimension::new("cpu", "cpu-total")]));
        assert_eq!(out[0].storage_resolution, 1);
        let (_, out) = count(true, false);
        assert!(out
            .iter()
            .all(|d| d.dimensions[0].value.starts_with("cpu")
                && d.dimensions[0].value != "cpu-total"));
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut src = CpuSource::new(
            &all_fields_config(true, true),
            &HostContext::default(),
            60,
            dir.path(),
        );
        let mut out = Vec::new();
        assert!(matches!(
            src.collect(0, &mut out),
            Err(CollectError::Read { .. })
        ));
    }

    #[test]
    fn clock_ticks_fallback() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(clock_ticks(dir.path()), DEFAULT_CLOCK_TICKS);
        // On a real host the auxv value is used (100 on mainstream Linux).
        if Path::new("/proc/self/auxv").exists() {
            assert!(clock_ticks(Path::new("/proc")) > 0);
        }
    }
}
