//! The `net` plugin: network interface counters from `<proc>/net/dev`.
//!
//! # Fields
//!
//! From the receive and transmit columns of `/proc/net/dev`:
//! - `bytes_recv`, `bytes_sent` (Bytes);
//! - `packets_recv`, `packets_sent`, `err_in`, `err_out`, `drop_in`, `drop_out` (Count): the
//!   receive/transmit `packets`, `errs` and `drop` columns.
//!
//! All are sent as the **increment since the previous tick** (not a rate), as the reference
//! agent does, through [`DeltaTracker`]: nothing on an interface's first tick, a counter that
//! went down is a reset (nothing sent for it that tick, the new value is the baseline),
//! vanished interfaces are forgotten. The kernel prints these counters as 64-bit values, but
//! drivers on 32-bit kernels keep them in an `unsigned long`, so they are tracked with the
//! native width ([`Width::NATIVE`]) for wrap detection.
//!
//! Dimension: `interface`.
//!
//! # Which interfaces
//!
//! - `resources` listing names (patterns such as `eth*` allowed): exactly those interfaces,
//!   whatever their state, loopback included. `/sys` is not read.
//! - No `resources`, or `*`: every interface that is **up and not a loopback**, as the reference
//!   agent selects them. "Up" is the administrative `IFF_UP` flag (0x1) and loopback the
//!   `IFF_LOOPBACK` flag (0x8) of `<sys>/class/net/<if>/flags`, the same flags the reference
//!   agent tests (an interface that is up without a carrier is still reported). If `flags`
//!   cannot be read, `operstate` decides (`down` and `lowerlayerdown` exclude it), and the name
//!   `lo` marks the loopback; with neither file (a `/sys` from another network namespace) the
//!   interface is reported unless it is `lo`.
//! - In this mode every interface is tracked, selected or not, so one that comes up is
//!   reported from its first tick up with the increment since the previous tick.
//!
//! # Cost
//!
//! `net/dev` is read into a reused buffer and parsed in place. The sysfs state of an interface
//! is read when it first appears and then refreshed for all interfaces about once a minute
//! (every ⌈60 s / interval⌉ ticks), not every tick: a host with a hundred container `veth`s
//! would otherwise pay two hundred sysfs reads per tick. A state change (an interface brought
//! up or down) is therefore picked up within a minute.

use super::delta::{read_into, DeltaTracker, ResourceFilter, Width};
use super::dimensions::HostContext;
use super::emit::Emitter;
use super::kept::KeptFile;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::ResourcePluginConfig;
use hostwatch_model::{Dimension, MetricDatum, Unit};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The default sys root.
pub const DEFAULT_SYS_ROOT: &str = "/sys";

/// Every net field and its default unit.
pub const FIELDS: [(&str, Unit); 8] = [
    ("bytes_recv", Unit::Bytes),
    ("bytes_sent", Unit::Bytes),
    ("drop_in", Unit::Count),
    ("drop_out", Unit::Count),
    ("err_in", Unit::Count),
    ("err_out", Unit::Count),
    ("packets_recv", Unit::Count),
    ("packets_sent", Unit::Count),
];

/// `IFF_UP`.
pub const IFF_UP: u64 = 0x1;
/// `IFF_LOOPBACK`.
pub const IFF_LOOPBACK: u64 = 0x8;

/// Interface states are re-read about this often.
const STATE_REFRESH_SECS: u64 = 60;

const COUNTERS: usize = 8;
/// Counter order in [`NetLine::counters`]: the field each one feeds.
const COUNTER_FIELDS: [&str; COUNTERS] = [
    "bytes_recv",
    "packets_recv",
    "err_in",
    "drop_in",
    "bytes_sent",
    "packets_sent",
    "err_out",
    "drop_out",
];

/// One parsed `/proc/net/dev` interface line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetLine<'a> {
    pub name: &'a str,
    /// In [`COUNTER_FIELDS`] order.
    pub counters: [u64; COUNTERS],
}

/// Parse one `/proc/net/dev` line (`name: rx×8 tx×8`; old kernels print no space after the
/// colon). `None` for the header lines and malformed lines.
pub fn parse_line(line: &str) -> Option<NetLine<'_>> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim();
    if name.is_empty() || name.contains('|') {
        return None;
    }
    let mut cols = [0u64; 16];
    let mut n = 0;
    for (slot, col) in cols.iter_mut().zip(rest.split_ascii_whitespace()) {
        *slot = col.parse().ok()?;
        n += 1;
    }
    if n < 16 {
        return None;
    }
    Some(NetLine {
        name,
        counters: [
            cols[0], cols[1], cols[2], cols[3], cols[8], cols[9], cols[10], cols[11],
        ],
    })
}

/// Whether an interface is up and not a loopback, from its sysfs directory (see the module
/// docs for the fallbacks). `buf` is scratch space.
pub fn is_up_non_loopback(sys_class_net: &Path, name: &str, buf: &mut String) -> bool {
    let dir = sys_class_net.join(name);
    if read_into(&dir.join("flags"), buf).is_ok() {
        let text = buf.trim();
        let hex = text
            .strip_prefix("0x")
            .or_else(|| text.strip_prefix("0X"))
            .unwrap_or(text);
        if let Ok(flags) = u64::from_str_radix(hex, 16) {
            return flags & IFF_UP != 0 && flags & IFF_LOOPBACK == 0;
        }
    }
    if name == "lo" {
        return false;
    }
    if read_into(&dir.join("operstate"), buf).is_ok() {
        return !matches!(buf.trim(), "down" | "lowerlayerdown");
    }
    true
}

#[derive(Debug, Clone, Copy)]
struct IfState {
    selected: bool,
    cycle: u64,
}

/// The net plugin.
#[derive(Debug)]
pub struct NetSource {
    emitter: Emitter,
    interval: u64,
    filter: ResourceFilter,
    /// `<proc>/net/dev`, kept open.
    dev: KeptFile,
    sys_class_net: PathBuf,
    buf: Vec<u8>,
    sys_buf: String,
    tracker: DeltaTracker<COUNTERS>,
    /// Default mode only: the cached sysfs verdict per interface.
    states: HashMap<String, IfState>,
    cycle: u64,
    refresh_every: u64,
    /// Ticks left until every interface state is re-read.
    refresh_in: u64,
}

impl NetSource {
    /// Build from the plugin config. `sys_root` is normally [`DEFAULT_SYS_ROOT`].
    pub fn new(
        config: &ResourcePluginConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
        sys_root: &Path,
    ) -> Self {
        let interval =
            effective_interval(config.common.metrics_collection_interval, agent_interval);
        let refresh_every = STATE_REFRESH_SECS.div_ceil(interval).max(1);
        NetSource {
            emitter: Emitter::new("net", &config.common, &FIELDS, ctx, interval),
            interval,
            filter: ResourceFilter::new(&config.resources),
            dev: KeptFile::new(proc_root.join("net/dev")),
            sys_class_net: sys_root.join("class/net"),
            buf: Vec::new(),
            sys_buf: String::new(),
            tracker: DeltaTracker::new([Width::NATIVE; COUNTERS]),
            states: HashMap::new(),
            cycle: 0,
            refresh_every,
            refresh_in: refresh_every,
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        !self.emitter.is_empty()
    }
}

impl MetricSource for NetSource {
    fn plugin(&self) -> &'static str {
        "net"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let text = self.dev.read_text(&mut self.buf)?;
        self.cycle = self.cycle.wrapping_add(1);
        let cycle = self.cycle;
        self.refresh_in = self.refresh_in.saturating_sub(1);
        let refresh = self.refresh_in == 0;
        if refresh {
            self.refresh_in = self.refresh_every;
        }
        let default_mode = self.filter.is_all();
        self.tracker.begin();
        for line in text.lines() {
            let Some(iface) = parse_line(line) else {
                continue;
            };
            let selected = if default_mode {
                match self.states.get_mut(iface.name) {
                    Some(state) => {
                        if refresh {
                            state.selected = is_up_non_loopback(
                                &self.sys_class_net,
                                iface.name,
                                &mut self.sys_buf,
                            );
                        }
                        state.cycle = cycle;
                        state.selected
                    }
                    None => {
                        let selected =
                            is_up_non_loopback(&self.sys_class_net, iface.name, &mut self.sys_buf);
                        self.states
                            .insert(iface.name.to_owned(), IfState { selected, cycle });
                        selected
                    }
                }
            } else if self.filter.matches(iface.name) {
                true
            } else {
                continue;
            };
            let inc = self.tracker.observe(iface.name, iface.counters);
            // Every net field is an increment: nothing to send on a first sample.
            if !selected || inc.iter().all(Option::is_none) {
                continue;
            }
            let dims = [Dimension::new("interface", iface.name)];
            self.emitter.emit(
                now_ms,
                &dims,
                |field| {
                    let i = COUNTER_FIELDS.iter().position(|f| *f == field)?;
                    inc[i].map(|v| v as f64)
                },
                out,
            );
        }
        self.tracker.finish();
        if default_mode {
            self.states.retain(|_, s| s.cycle == cycle);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Measurement, PluginCommon};
    use hostwatch_model::DatumValue;

    fn data(kind: &str, case: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data")
            .join(kind)
            .join(case)
    }

    fn install(n: u32, root: &Path) {
        std::fs::create_dir_all(root.join("net")).unwrap();
        std::fs::copy(
            data("proc", "net-basic").join(format!("net/dev.{n}")),
            root.join("net/dev"),
        )
        .unwrap();
    }

    fn config(resources: &[&str]) -> ResourcePluginConfig {
        ResourcePluginConfig {
            common: PluginCommon {
                measurements: FIELDS
                    .iter()
                    .map(|(f, _)| Measurement {
                        field: f.to_string(),
                        rename: None,
                        unit: None,
                    })
                    .collect(),
                ..Default::default()
            },
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run_with(src: &mut NetSource, root: &Path, last: u32) -> Vec<Vec<MetricDatum>> {
        (0..=last)
            .map(|n| {
                install(n, root);
                let mut out = Vec::new();
                src.collect(i64::from(n) * 60_000, &mut out).unwrap();
                out
            })
            .collect()
    }

    fn run(cfg: &ResourcePluginConfig, last: u32) -> Vec<Vec<MetricDatum>> {
        let dir = tempfile::tempdir().unwrap();
        let ctx = HostContext {
            host: Some("gw".into()),
            ..Default::default()
        };
        let mut src = NetSource::new(cfg, &ctx, 60, dir.path(), &data("sys", "net-basic"));
        assert!(src.is_productive());
        run_with(&mut src, dir.path(), last)
    }

    fn value(out: &[MetricDatum], metric: &str, iface: &str) -> Option<f64> {
        crate::collect::testutil::value_of(out, metric, Some(("interface", iface)))
    }

    fn interfaces(out: &[MetricDatum]) -> Vec<String> {
        let mut v: Vec<String> = out
            .iter()
            .filter_map(|d| d.dimensions.iter().find(|x| x.name == "interface"))
            .map(|x| x.value.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn parses_lines() {
        assert!(parse_line("Inter-|   Receive    |  Transmit").is_none());
        assert!(parse_line(" face |bytes    packets errs drop fifo").is_none());
        let l = parse_line("  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16").unwrap();
        assert_eq!(l.name, "eth0");
        assert_eq!(l.counters, [1, 2, 3, 4, 9, 10, 11, 12]);
        let old = parse_line("eth1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16").unwrap();
        assert_eq!(old.name, "eth1");
        assert!(parse_line("eth2: 1 2 3").is_none());
        assert!(parse_line("eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x").is_none());
    }

    #[test]
    fn sysfs_state() {
        let sys = data("sys", "net-basic").join("class/net");
        let mut buf = String::new();
        assert!(is_up_non_loopback(&sys, "eth0", &mut buf));
        assert!(!is_up_non_loopback(&sys, "lo", &mut buf), "loopback");
        assert!(!is_up_non_loopback(&sys, "eth1", &mut buf), "admin down");
        assert!(
            is_up_non_loopback(&sys, "docker0", &mut buf),
            "up, no carrier"
        );
        assert!(
            !is_up_non_loopback(&sys, "tun0", &mut buf),
            "operstate fallback"
        );
        assert!(
            is_up_non_loopback(&sys, "veth9", &mut buf),
            "no sysfs entry"
        );
    }

    #[test]
    fn default_selection_and_increments() {
        let ticks = run(&config(&[]), 3);
        assert!(
            ticks[0].is_empty(),
            "first tick: counters only, nothing to send"
        );

        let t1 = &ticks[1];
        assert_eq!(interfaces(t1), vec!["docker0", "eth0", "veth9"]);
        assert_eq!(value(t1, "net_bytes_recv", "eth0"), Some(50_000.0));
        assert_eq!(value(t1, "net_packets_recv", "eth0"), Some(500.0));
        assert_eq!(value(t1, "net_err_in", "eth0"), Some(0.0));
        assert_eq!(value(t1, "net_drop_in", "eth0"), Some(1.0));
        assert_eq!(value(t1, "net_bytes_sent", "eth0"), Some(80_000.0));
        assert_eq!(value(t1, "net_packets_sent", "eth0"), Some(600.0));
        assert_eq!(value(t1, "net_err_out", "eth0"), Some(1.0));
        assert_eq!(value(t1, "net_drop_out", "eth0"), Some(0.0));
        assert_eq!(value(t1, "net_bytes_recv", "veth9"), Some(100.0));
        assert_eq!(t1.len(), 3 * 8);
        for d in t1 {
            let unit = if d.metric_name.starts_with("net_bytes") {
                Unit::Bytes
            } else {
                Unit::Count
            };
            assert_eq!(d.unit, unit, "{}", d.metric_name);
            assert_eq!(d.dimensions[0], Dimension::new("host", "gw"));
            assert_eq!(d.storage_resolution, 60);
        }

        // Tick 2: eth0's driver was reloaded (counters restarted); veth9 vanished.
        let t2 = &ticks[2];
        assert_eq!(value(t2, "net_bytes_recv", "eth0"), None);
        assert_eq!(value(t2, "net_packets_sent", "eth0"), None);
        assert_eq!(value(t2, "net_err_in", "eth0"), None);
        assert_eq!(
            value(t2, "net_drop_out", "eth0"),
            Some(0.0),
            "did not go down"
        );
        assert!(!interfaces(t2).contains(&"veth9".to_string()));

        // Tick 3: eth0 counts from the new baseline; veth9 is back as a first sample.
        let t3 = &ticks[3];
        assert_eq!(value(t3, "net_bytes_recv", "eth0"), Some(500.0));
        assert_eq!(value(t3, "net_bytes_sent", "eth0"), Some(700.0));
        assert_eq!(value(t3, "net_bytes_recv", "veth9"), None);
        assert_eq!(value(t3, "net_bytes_recv", "docker0"), Some(1000.0));
    }

    #[test]
    fn explicit_resources_include_loopback_and_down() {
        let ticks = run(&config(&["lo", "eth1"]), 1);
        assert_eq!(interfaces(&ticks[1]), vec!["eth1", "lo"]);
        assert_eq!(value(&ticks[1], "net_bytes_recv", "lo"), Some(1000.0));
        // eth1's line has no space after the colon.
        assert_eq!(value(&ticks[1], "net_bytes_recv", "eth1"), Some(1000.0));
        assert_eq!(value(&ticks[1], "net_packets_recv", "eth1"), Some(10.0));
        let star = run(&config(&["*"]), 1);
        assert_eq!(interfaces(&star[1]).len(), 3);
        let glob = run(&config(&["eth*"]), 1);
        assert_eq!(interfaces(&glob[1]), vec!["eth0", "eth1"]);
    }

    #[test]
    fn state_is_cached_between_refreshes() {
        let dir = tempfile::tempdir().unwrap();
        let sys = tempfile::tempdir().unwrap();
        let eth1 = sys.path().join("class/net/eth1");
        std::fs::create_dir_all(&eth1).unwrap();
        std::fs::write(eth1.join("flags"), "0x1002\n").unwrap();
        // 20 s interval: states refreshed every 3 ticks.
        let mut cfg = config(&[]);
        cfg.common.metrics_collection_interval = Some(20);
        let mut src = NetSource::new(&cfg, &HostContext::default(), 60, dir.path(), sys.path());
        let mut tick = |n: u32| {
            install(n, dir.path());
            let mut out = Vec::new();
            src.collect(0, &mut out).unwrap();
            out
        };
        // Cycle 1: eth1 is down; its state is read once and cached.
        assert!(!interfaces(&tick(0)).contains(&"eth1".to_string()));
        std::fs::write(eth1.join("flags"), "0x1003\n").unwrap();
        // Cycle 2: no refresh yet, the cached "down" stands.
        let out = tick(1);
        assert!(!interfaces(&out).contains(&"eth1".to_string()));
        assert!(interfaces(&out).contains(&"eth0".to_string()));
        // Cycle 3 refreshes: eth1 is reported straight away, with the increment from the
        // counters tracked while it was down.
        let out = tick(1);
        assert!(interfaces(&out).contains(&"eth1".to_string()));
        assert_eq!(value(&out, "net_bytes_recv", "eth1"), Some(0.0));
    }

    #[test]
    fn rename_and_unit() {
        let mut cfg = config(&["eth0"]);
        cfg.common.measurements = vec![Measurement {
            field: "bytes_sent".into(),
            rename: Some("NetworkOut".into()),
            unit: Some(Unit::Kilobytes),
        }];
        let ticks = run(&cfg, 1);
        assert_eq!(ticks[1].len(), 1);
        assert_eq!(ticks[1][0].metric_name, "NetworkOut");
        assert_eq!(ticks[1][0].unit, Unit::Kilobytes);
        assert_eq!(ticks[1][0].value, DatumValue::Single(80_000.0));
    }

    #[test]
    fn sources_can_move_to_a_collector_thread() {
        fn send<T: Send + 'static>() {}
        send::<NetSource>();
        send::<crate::collect::diskio::DiskIoSource>();
        send::<crate::collect::disk::DiskSource>();
        send::<crate::collect::swap::SwapSource>();
    }

    /// The four plugins against this host's real `/proc` and `/sys`: they must all work
    /// twice in a row (the second tick sends increments). Prints the cost per tick.
    #[test]
    fn real_host_smoke() {
        use crate::collect::{disk, diskio, swap};
        let proc_root = Path::new(crate::collect::DEFAULT_PROC_ROOT);
        if !proc_root.join("net/dev").exists() {
            return;
        }
        let ctx = HostContext::default();
        let all = |fields: &[(&str, Unit)]| PluginCommon {
            measurements: fields
                .iter()
                .map(|(f, _)| Measurement {
                    field: f.to_string(),
                    rename: None,
                    unit: None,
                })
                .collect(),
            ..Default::default()
        };
        let res = |fields: &[(&str, Unit)]| ResourcePluginConfig {
            common: all(fields),
            resources: Vec::new(),
        };
        let disk_cfg = crate::config::DiskConfig {
            common: all(&disk::FIELDS),
            ..Default::default()
        };
        let mut sources: Vec<Box<dyn MetricSource>> = vec![
            Box::new(swap::SwapSource::new(
                &all(&swap::FIELDS),
                &ctx,
                60,
                proc_root,
            )),
            Box::new(disk::DiskSource::new(&disk_cfg, &ctx, 60, proc_root)),
            Box::new(diskio::DiskIoSource::new(
                &res(&diskio::FIELDS),
                &ctx,
                60,
                proc_root,
            )),
            Box::new(NetSource::new(
                &res(&FIELDS),
                &ctx,
                60,
                proc_root,
                Path::new(DEFAULT_SYS_ROOT),
            )),
        ];
        let mut out = Vec::new();
        for s in &mut sources {
            s.collect(0, &mut out).unwrap();
        }
        let rounds = 200u32;
        let mut total = std::time::Duration::ZERO;
        for s in &mut sources {
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                out.clear();
                s.collect(1, &mut out).unwrap();
            }
            let per_tick = start.elapsed() / rounds;
            total += per_tick;
            eprintln!(
                "{}: {per_tick:?} per tick, {} datums",
                s.plugin(),
                out.len()
            );
        }
        eprintln!("swap+disk+diskio+net: {total:?} per tick");
        assert!(out.iter().all(|d| match d.value {
            DatumValue::Single(v) => v.is_finite() && v >= 0.0,
            _ => false,
        }));
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut src = NetSource::new(
            &config(&[]),
            &HostContext::default(),
            60,
            dir.path(),
            dir.path(),
        );
        let mut out = Vec::new();
        assert!(matches!(
            src.collect(0, &mut out),
            Err(CollectError::Read { .. })
        ));
    }
}
