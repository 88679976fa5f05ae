//! The `swap` plugin: swap space figures from `<proc>/meminfo`.
//!
//! Values (bytes; `/proc/meminfo` reports kB = 1024 bytes):
//! - `free` = SwapFree;
//! - `used` = SwapTotal − SwapFree (never below 0);
//! - `used_percent` = 100·used/SwapTotal, and **0 when there is no swap** (SwapTotal = 0), as the
//!   reference agent's memory library reports it. A host without swap therefore shows a flat 0 %
//!   rather than a gap, which keeps alarms on `swap_used_percent` from going to
//!   INSUFFICIENT_DATA on swap-less hosts.
//!
//! Units: Bytes, and Percent for `used_percent`. Dimensions: `host` only (plus any
//! `append_dimensions`). `total` is not a valid swap measurement in the reference agent's
//! allow-list, so it is not offered. SwapTotal and SwapFree are required; a file without them
//! is a parse error for that tick.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::pertick::{self, Reader, SharedFile};
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Every swap field and its default unit.
pub const FIELDS: [(&str, Unit); 3] = [
    ("free", Unit::Bytes),
    ("used", Unit::Bytes),
    ("used_percent", Unit::Percent),
];

/// Swap figures in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwapStats {
    pub total: u64,
    pub free: u64,
    pub used: u64,
}

impl SwapStats {
    /// A field's value.
    pub fn field(&self, field: &str) -> Option<f64> {
        Some(match field {
            "free" => self.free as f64,
            "used" => self.used as f64,
            "used_percent" => {
                if self.total == 0 {
                    0.0
                } else {
                    100.0 * self.used as f64 / self.total as f64
                }
            }
            _ => return None,
        })
    }
}

/// Parse the swap lines of `/proc/meminfo`. `None` when SwapTotal or SwapFree is missing.
pub fn parse_swap(text: &str) -> Option<SwapStats> {
    let (mut total, mut free) = (None, None);
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("Swap") else {
            continue;
        };
        let Some((key, value)) = rest.split_once(':') else {
            continue;
        };
        let slot = match key {
            "Total" => &mut total,
            "Free" => &mut free,
            _ => continue,
        };
        let mut parts = value.split_ascii_whitespace();
        let Some(Ok(n)) = parts.next().map(str::parse::<u64>) else {
            continue;
        };
        *slot = Some(match parts.next() {
            Some(u) if u.eq_ignore_ascii_case("kb") => n.saturating_mul(1024),
            _ => n,
        });
        if total.is_some() && free.is_some() {
            break;
        }
    }
    let (total, free) = (total?, free?);
    Some(SwapStats {
        total,
        free,
        used: total.saturating_sub(free),
    })
}

/// The swap plugin.
#[derive(Debug)]
pub struct SwapSource {
    emitter: Emitter,
    interval: u64,
    /// `<proc>/meminfo`, kept open and read once per tick for `mem` and `swap`.
    meminfo: Arc<Mutex<SharedFile>>,
    reader: Reader,
}

impl SwapSource {
    /// Build from the plugin config.
    pub fn new(
        common: &PluginCommon,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval = effective_interval(common.metrics_collection_interval, agent_interval);
        SwapSource {
            emitter: Emitter::new("swap", common, &FIELDS, ctx, interval),
            interval,
            meminfo: pertick::shared_file(&proc_root.join("meminfo")),
            reader: Reader::default(),
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        !self.emitter.is_empty()
    }
}

impl MetricSource for SwapSource {
    fn plugin(&self) -> &'static str {
        "swap"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let mut meminfo = pertick::lock(&self.meminfo);
        let text = meminfo.read(Some(now_ms), &mut self.reader)?;
        let stats = parse_swap(text).ok_or_else(|| CollectError::Parse {
            path: meminfo.path().to_path_buf(),
            message: "SwapTotal or SwapFree missing".into(),
        })?;
        self.emitter.emit(now_ms, &[], |f| stats.field(f), out);
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

    fn get(out: &[MetricDatum], name: &str) -> f64 {
        value_of(out, name, None).unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn fixture_values() {
        let ctx = HostContext {
            host: Some("web-1".into()),
            ..Default::default()
        };
        let mut src = SwapSource::new(&all(), &ctx, 60, &fixture_root("swap-basic"));
        assert!(src.is_productive());
        let mut out = Vec::new();
        src.collect(60_000, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        // SwapTotal 2097148 kB, SwapFree 1572860 kB
        let kb = 1024.0;
        assert_eq!(get(&out, "swap_free"), 1_572_860.0 * kb);
        assert_eq!(get(&out, "swap_used"), 524_288.0 * kb);
        let pct = 100.0 * 524_288.0 / 2_097_148.0;
        assert!((get(&out, "swap_used_percent") - pct).abs() < 1e-9);
        for d in &out {
            assert_eq!(d.dimensions, vec![Dimension::new("host", "web-1")]);
            assert_eq!(d.timestamp_ms, Some(60_000));
            let unit = if d.metric_name == "swap_used_percent" {
                Unit::Percent
            } else {
                Unit::Bytes
            };
            assert_eq!(d.unit, unit, "{}", d.metric_name);
        }
        // A second tick reuses the buffer and gives the same figures.
        let mut again = Vec::new();
        src.collect(120_000, &mut again).unwrap();
        assert_eq!(get(&again, "swap_used"), 524_288.0 * kb);
    }

    #[test]
    fn no_swap_is_zero_percent() {
        let mut src = SwapSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("swap-none"),
        );
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(get(&out, "swap_used_percent"), 0.0);
        assert_eq!(get(&out, "swap_used"), 0.0);
        assert_eq!(get(&out, "swap_free"), 0.0);
    }

    #[test]
    fn rename_and_unit() {
        let common = PluginCommon {
            measurements: vec![Measurement {
                field: "used_percent".into(),
                rename: Some("SwapUtilization".into()),
                unit: Some(Unit::None),
            }],
            metrics_collection_interval: Some(10),
            ..Default::default()
        };
        let mut src = SwapSource::new(
            &common,
            &HostContext::default(),
            60,
            &fixture_root("swap-basic"),
        );
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric_name, "SwapUtilization");
        assert_eq!(out[0].unit, Unit::None);
        assert_eq!(out[0].storage_resolution, 1);
    }

    #[test]
    fn malformed_and_missing() {
        assert_eq!(parse_swap(""), None);
        assert_eq!(parse_swap("SwapTotal: 10 kB\n"), None);
        assert_eq!(parse_swap("SwapTotal: x kB\nSwapFree: 1 kB\n"), None);
        let s = parse_swap("SwapCached: 5 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB\n").unwrap();
        assert_eq!(s.used, 0, "saturates instead of wrapping");
        assert_eq!(s.total, 10 * 1024);
        let mut src = SwapSource::new(
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

    /// `mem` and `swap` on one tick read `meminfo` once; the next tick reads it again.
    #[test]
    fn meminfo_is_read_once_per_tick_with_mem() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("meminfo");
        let text = |free: u64| {
            format!("MemTotal: 1000 kB\nMemFree: {free} kB\nSwapTotal: 100 kB\nSwapFree: 40 kB\n")
        };
        std::fs::write(&file, text(600)).unwrap();
        let ctx = HostContext::default();
        let mut swap = SwapSource::new(&all(), &ctx, 60, dir.path());
        let mut mem = crate::collect::MemSource::new(
            &crate::collect::testutil::measuring(&["free"]),
            &ctx,
            60,
            dir.path(),
        );
        let mut out = Vec::new();
        mem.collect(1_000, &mut out).unwrap();
        swap.collect(1_000, &mut out).unwrap();
        assert_eq!(pertick::lock(&swap.meminfo).readings(), 1);
        assert_eq!(get(&out, "mem_free"), 600.0 * 1024.0);
        assert_eq!(get(&out, "swap_used"), 60.0 * 1024.0);
        std::fs::write(&file, text(500)).unwrap();
        out.clear();
        swap.collect(2_000, &mut out).unwrap();
        mem.collect(2_000, &mut out).unwrap();
        assert_eq!(pertick::lock(&swap.meminfo).readings(), 2);
        assert_eq!(get(&out, "mem_free"), 500.0 * 1024.0);
    }
}
