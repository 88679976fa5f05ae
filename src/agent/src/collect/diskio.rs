//! The `diskio` plugin: block-device I/O counters from `<proc>/diskstats`.
//!
//! # Fields
//!
//! From the columns of `/proc/diskstats` (`major minor name` then reads completed, reads
//! merged, sectors read, ms reading, writes completed, writes merged, sectors written,
//! ms writing, I/Os in progress, ms doing I/O, weighted ms, ...; lines with fewer than 14
//! columns are skipped):
//! - `reads`, `writes` (Count): completed requests;
//! - `read_bytes`, `write_bytes` (Bytes): sectors × 512 (the kernel always counts 512-byte
//!   sectors here, whatever the device's block size);
//! - `read_time`, `write_time`, `io_time` (Milliseconds): time spent reading, writing, and with
//!   at least one request in flight;
//! - `iops_in_progress` (Count): requests in flight right now. A **gauge**, sent as read,
//!   including on the first tick.
//!
//! Every other field is sent as the **increment since the previous tick** (not a rate), like
//! the reference agent, through [`DeltaTracker`]: the first tick after start (or after a device
//! appears) sends no counter values, a counter that went down is a reset (nothing sent for it
//! that tick), and devices that disappear are forgotten. Widths for wrap detection: the three
//! millisecond columns are printed from 32-bit variables by the kernel (they wrap every
//! ~49.7 days of accumulated time, on 64-bit hosts too) and are tracked as 32-bit; request and
//! sector counts are the kernel's `unsigned long` ([`Width::NATIVE`]).
//!
//! Dimension: `name` (the kernel device name, e.g. `nvme0n1`, `nvme0n1p1`, `dm-0`).
//!
//! # Which devices
//!
//! `resources`: device names; empty or `*` means every device, with patterns (`nvme*`) allowed.
//! Like the reference agent, all block devices of `/proc/diskstats` are reported, partitions and
//! device-mapper devices included. One deliberate difference when no explicit list is given:
//! `loop*` and `ram*` devices whose counters are **all zero since boot** are not sent. Such
//! devices (unused loop slots, ram disks of the `brd` module) can never show anything but zeros
//! until first used, yet cost eight custom metrics each. They are still tracked, with the zero
//! counters as the baseline, so the first I/O on such a device is reported in full on the tick
//! it happens. Naming them in `resources` reports them regardless.
//!
//! # Cost
//!
//! The file is read into a reused buffer and parsed in place (no per-line allocation); one hash
//! look-up per device and tick.

use super::delta::{DeltaTracker, ResourceFilter, Width};
use super::dimensions::HostContext;
use super::emit::Emitter;
use super::kept::KeptFile;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::ResourcePluginConfig;
use hostwatch_model::{Dimension, MetricDatum, Unit};
use std::path::Path;

/// Every diskio field and its default unit.
pub const FIELDS: [(&str, Unit); 8] = [
    ("io_time", Unit::Milliseconds),
    ("iops_in_progress", Unit::Count),
    ("read_bytes", Unit::Bytes),
    ("read_time", Unit::Milliseconds),
    ("reads", Unit::Count),
    ("write_bytes", Unit::Bytes),
    ("write_time", Unit::Milliseconds),
    ("writes", Unit::Count),
];

/// Bytes per diskstats sector.
pub const SECTOR_BYTES: u64 = 512;

/// Number of cumulative counters per device.
const COUNTERS: usize = 7;
const READS: usize = 0;
const WRITES: usize = 1;
const SECTORS_READ: usize = 2;
const SECTORS_WRITTEN: usize = 3;
const READ_TIME: usize = 4;
const WRITE_TIME: usize = 5;
const IO_TIME: usize = 6;

const WIDTHS: [Width; COUNTERS] = [
    Width::NATIVE,
    Width::NATIVE,
    Width::NATIVE,
    Width::NATIVE,
    Width::Bits32,
    Width::Bits32,
    Width::Bits32,
];

/// One parsed `/proc/diskstats` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLine<'a> {
    pub name: &'a str,
    /// reads, writes, sectors read, sectors written, read ms, write ms, io ms.
    pub counters: [u64; COUNTERS],
    pub in_progress: u64,
}

impl DiskLine<'_> {
    /// A `loop*`/`ram*` device that has never done any I/O.
    fn is_dormant_virtual(&self) -> bool {
        (self.name.starts_with("loop") || self.name.starts_with("ram"))
            && self.in_progress == 0
            && self.counters.iter().all(|&c| c == 0)
    }
}

/// Parse one `/proc/diskstats` line; `None` when malformed or too short.
pub fn parse_line(line: &str) -> Option<DiskLine<'_>> {
    let mut cols: [&str; 14] = [""; 14];
    let mut n = 0;
    for (slot, col) in cols.iter_mut().zip(line.split_ascii_whitespace()) {
        *slot = col;
        n += 1;
    }
    if n < 14 {
        return None;
    }
    let num = |i: usize| cols[i].parse::<u64>().ok();
    Some(DiskLine {
        name: cols[2],
        counters: [
            num(3)?,
            num(7)?,
            num(5)?,
            num(9)?,
            num(6)?,
            num(10)?,
            num(12)?,
        ],
        in_progress: num(11)?,
    })
}

/// The diskio plugin.
#[derive(Debug)]
pub struct DiskIoSource {
    emitter: Emitter,
    interval: u64,
    filter: ResourceFilter,
    /// `<proc>/diskstats`, kept open.
    diskstats: KeptFile,
    buf: Vec<u8>,
    tracker: DeltaTracker<COUNTERS>,
}

impl DiskIoSource {
    /// Build from the plugin config.
    pub fn new(
        config: &ResourcePluginConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval =
            effective_interval(config.common.metrics_collection_interval, agent_interval);
        DiskIoSource {
            emitter: Emitter::new("diskio", &config.common, &FIELDS, ctx, interval),
            interval,
            filter: ResourceFilter::new(&config.resources),
            diskstats: KeptFile::new(proc_root.join("diskstats")),
            buf: Vec::new(),
            tracker: DeltaTracker::new(WIDTHS),
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        !self.emitter.is_empty()
    }
}

impl MetricSource for DiskIoSource {
    fn plugin(&self) -> &'static str {
        "diskio"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let text = self.diskstats.read_text(&mut self.buf)?;
        self.tracker.begin();
        let skip_dormant = self.filter.is_all();
        for line in text.lines() {
            let Some(disk) = parse_line(line) else {
                continue;
            };
            if !self.filter.matches(disk.name) {
                continue;
            }
            let inc = self.tracker.observe(disk.name, disk.counters);
            if skip_dormant && disk.is_dormant_virtual() {
                continue;
            }
            let dims = [Dimension::new("name", disk.name)];
            let in_progress = disk.in_progress;
            self.emitter.emit(
                now_ms,
                &dims,
                |field| {
                    let counter = |i: usize, scale: u64| inc[i].map(|v| v as f64 * scale as f64);
                    match field {
                        "reads" => counter(READS, 1),
                        "writes" => counter(WRITES, 1),
                        "read_bytes" => counter(SECTORS_READ, SECTOR_BYTES),
                        "write_bytes" => counter(SECTORS_WRITTEN, SECTOR_BYTES),
                        "read_time" => counter(READ_TIME, 1),
                        "write_time" => counter(WRITE_TIME, 1),
                        "io_time" => counter(IO_TIME, 1),
                        "iops_in_progress" => Some(in_progress as f64),
                        _ => None,
                    }
                },
                out,
            );
        }
        self.tracker.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Measurement, PluginCommon};
    use hostwatch_model::DatumValue;
    use std::path::PathBuf;

    fn fixture(case: &str, file: &str) -> PathBuf {
        crate::collect::testutil::proc_fixture(case).join(file)
    }

    fn install(n: u32, root: &Path) {
        std::fs::copy(
            fixture("diskio-basic", &format!("diskstats.{n}")),
            root.join("diskstats"),
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
                metrics_collection_interval: Some(10),
                ..Default::default()
            },
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn value(out: &[MetricDatum], metric: &str, dev: &str) -> Option<f64> {
        crate::collect::testutil::value_of(out, metric, Some(("name", dev)))
    }

    fn devices(out: &[MetricDatum]) -> Vec<String> {
        let mut v: Vec<String> = out
            .iter()
            .filter_map(|d| d.dimensions.iter().find(|x| x.name == "name"))
            .map(|x| x.value.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Run snapshots 0..=last through one source; returns each tick's output.
    fn run(cfg: &ResourcePluginConfig, last: u32) -> Vec<Vec<MetricDatum>> {
        let dir = tempfile::tempdir().unwrap();
        let ctx = HostContext {
            host: Some("db-1".into()),
            ..Default::default()
        };
        let mut src = DiskIoSource::new(cfg, &ctx, 60, dir.path());
        assert!(src.is_productive());
        (0..=last)
            .map(|n| {
                install(n, dir.path());
                let mut out = Vec::new();
                src.collect(i64::from(n) * 10_000, &mut out).unwrap();
                out
            })
            .collect()
    }

    #[test]
    fn parses_lines() {
        let l = parse_line("   8       0 sda 10 1 200 30 40 2 800 50 3 60 90").unwrap();
        assert_eq!(l.name, "sda");
        assert_eq!(l.counters, [10, 40, 200, 800, 30, 50, 60]);
        assert_eq!(l.in_progress, 3);
        assert!(
            parse_line("   8       1 sda1 10 200 30 40").is_none(),
            "old short format"
        );
        assert!(parse_line("   8 0 sda x 1 200 30 40 2 800 50 3 60 90").is_none());
        assert!(parse_line("").is_none());
    }

    #[test]
    fn first_tick_sends_only_the_gauge() {
        let ticks = run(&config(&[]), 0);
        let out = &ticks[0];
        assert!(out
            .iter()
            .all(|d| d.metric_name == "diskio_iops_in_progress"));
        assert_eq!(value(out, "diskio_iops_in_progress", "nvme0n1"), Some(0.0));
        assert_eq!(value(out, "diskio_iops_in_progress", "sdb"), Some(1.0));
    }

    #[test]
    fn increments_wraps_resets_and_vanishing() {
        let ticks = run(&config(&[]), 3);

        // Tick 1: plain increments.
        let t1 = &ticks[1];
        assert_eq!(value(t1, "diskio_reads", "nvme0n1"), Some(100.0));
        assert_eq!(value(t1, "diskio_writes", "nvme0n1"), Some(300.0));
        assert_eq!(
            value(t1, "diskio_read_bytes", "nvme0n1"),
            Some(800.0 * 512.0)
        );
        assert_eq!(
            value(t1, "diskio_write_bytes", "nvme0n1"),
            Some(2400.0 * 512.0)
        );
        assert_eq!(value(t1, "diskio_read_time", "nvme0n1"), Some(60.0));
        assert_eq!(value(t1, "diskio_write_time", "nvme0n1"), Some(200.0));
        assert_eq!(value(t1, "diskio_io_time", "nvme0n1"), Some(100.0));
        assert_eq!(value(t1, "diskio_iops_in_progress", "nvme0n1"), Some(3.0));
        assert_eq!(value(t1, "diskio_reads", "nvme1n1"), Some(0.0));
        // Partitions are reported, as the reference agent does.
        assert_eq!(value(t1, "diskio_reads", "nvme0n1p1"), Some(90.0));
        // 32-bit millisecond counters wrapped.
        assert_eq!(value(t1, "diskio_read_time", "sdb"), Some(496.0));
        assert_eq!(value(t1, "diskio_io_time", "sdb"), Some(296.0));
        assert_eq!(value(t1, "diskio_reads", "sdb"), Some(10.0));
        // Never-used loop/ram devices are not sent; a used loop device is.
        assert_eq!(
            devices(t1),
            vec!["loop1", "nvme0n1", "nvme0n1p1", "nvme1n1", "sdb"]
        );
        for d in t1 {
            let unit = match d.metric_name.as_str() {
                "diskio_read_bytes" | "diskio_write_bytes" => Unit::Bytes,
                n if n.ends_with("_time") => Unit::Milliseconds,
                _ => Unit::Count,
            };
            assert_eq!(d.unit, unit, "{}", d.metric_name);
            assert_eq!(d.dimensions[0], Dimension::new("host", "db-1"));
            assert_eq!(d.storage_resolution, 1);
        }
        assert_eq!(t1.len(), 5 * 8);

        // Tick 2: sdb was re-created (every counter went down): a new start, only the gauge.
        let t2 = &ticks[2];
        assert_eq!(value(t2, "diskio_reads", "sdb"), None);
        assert_eq!(value(t2, "diskio_read_time", "sdb"), None);
        assert_eq!(value(t2, "diskio_io_time", "sdb"), None);
        assert_eq!(value(t2, "diskio_iops_in_progress", "sdb"), Some(0.0));
        // nvme1n1 vanished.
        assert!(!devices(t2).contains(&"nvme1n1".to_string()));
        // loop0 did its first I/O: reported in full against the zero baseline.
        assert_eq!(value(t2, "diskio_reads", "loop0"), Some(10.0));
        assert_eq!(value(t2, "diskio_read_bytes", "loop0"), Some(80.0 * 512.0));
        assert_eq!(value(t2, "diskio_reads", "nvme0n1"), Some(50.0));

        // Tick 3: sdb counts from its new baseline; nvme1n1 is back as a first sample.
        let t3 = &ticks[3];
        assert_eq!(value(t3, "diskio_reads", "sdb"), Some(7.0));
        assert_eq!(value(t3, "diskio_read_time", "sdb"), Some(5.0));
        assert_eq!(value(t3, "diskio_reads", "nvme1n1"), None);
        assert_eq!(value(t3, "diskio_iops_in_progress", "nvme1n1"), Some(0.0));
    }

    #[test]
    fn resources_select_devices_even_dormant_ones() {
        let ticks = run(&config(&["nvme0n1", "ram*"]), 1);
        assert_eq!(devices(&ticks[1]), vec!["nvme0n1", "ram0"]);
        assert_eq!(value(&ticks[1], "diskio_reads", "ram0"), Some(0.0));
        let star = run(&config(&["*"]), 1);
        assert_eq!(devices(&star[1]).len(), 5);
    }

    #[test]
    fn rename_and_unit() {
        let mut cfg = config(&["nvme0n1"]);
        cfg.common.measurements = vec![Measurement {
            field: "write_bytes".into(),
            rename: Some("DiskWriteBytes".into()),
            unit: Some(Unit::Kilobytes),
        }];
        let ticks = run(&cfg, 1);
        assert!(ticks[0].is_empty());
        assert_eq!(ticks[1].len(), 1);
        assert_eq!(ticks[1][0].metric_name, "DiskWriteBytes");
        assert_eq!(ticks[1][0].unit, Unit::Kilobytes);
        assert_eq!(
            ticks[1][0].value,
            DatumValue::Single(2400.0 * 512.0),
            "the unit is a label; the value stays in bytes"
        );
    }

    #[test]
    fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut src = DiskIoSource::new(&config(&[]), &HostContext::default(), 60, dir.path());
        let mut out = Vec::new();
        assert!(matches!(
            src.collect(0, &mut out),
            Err(CollectError::Read { .. })
        ));
    }
}
