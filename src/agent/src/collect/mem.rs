//! The `mem` plugin: virtual memory figures from `<proc>/meminfo`.
//!
//! Values are computed the way the reference agent's memory library does on Linux (all in bytes;
//! `/proc/meminfo` reports kB = 1024 bytes):
//! - `total` = MemTotal, `free` = MemFree, `buffered` = Buffers, `active` = Active,
//!   `inactive` = Inactive, `shared` = Shmem;
//! - `cached` = Cached + SReclaimable (reclaimable slab counts as cache);
//! - `available` = MemAvailable; on kernels without it (before 3.14), free + cached;
//! - `used` = total − free − buffered − cached (never below 0);
//! - `used_percent` = 100·used/total, `available_percent` = 100·available/total (left out when
//!   total is 0).
//!
//! Units: Bytes, and Percent for the two percentages. Dimensions: `host` only (plus any
//! `append_dimensions`). MemTotal and MemFree are required; a file without them is an error.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::pertick::{self, Reader, SharedFile};
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Every mem field and its default unit.
pub const FIELDS: [(&str, Unit); 11] = [
    ("active", Unit::Bytes),
    ("available", Unit::Bytes),
    ("available_percent", Unit::Percent),
    ("buffered", Unit::Bytes),
    ("cached", Unit::Bytes),
    ("free", Unit::Bytes),
    ("inactive", Unit::Bytes),
    ("shared", Unit::Bytes),
    ("total", Unit::Bytes),
    ("used", Unit::Bytes),
    ("used_percent", Unit::Percent),
];

/// The computed memory figures, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    pub total: u64,
    pub available: u64,
    pub used: u64,
    pub free: u64,
    pub buffered: u64,
    pub cached: u64,
    pub active: u64,
    pub inactive: u64,
    pub shared: u64,
}

impl MemStats {
    /// A field's value.
    pub fn field(&self, field: &str) -> Option<f64> {
        let pct = |x: u64| (self.total > 0).then(|| 100.0 * x as f64 / self.total as f64);
        Some(match field {
            "total" => self.total as f64,
            "available" => self.available as f64,
            "used" => self.used as f64,
            "free" => self.free as f64,
            "buffered" => self.buffered as f64,
            "cached" => self.cached as f64,
            "active" => self.active as f64,
            "inactive" => self.inactive as f64,
            "shared" => self.shared as f64,
            "used_percent" => return pct(self.used),
            "available_percent" => return pct(self.available),
            _ => return None,
        })
    }
}

/// Parse `/proc/meminfo` text. `None` when MemTotal or MemFree is missing.
pub fn parse_meminfo(text: &str) -> Option<MemStats> {
    let mut total = None;
    let mut free = None;
    let mut available = None;
    let (mut buffers, mut cached, mut sreclaimable) = (0u64, 0u64, 0u64);
    let (mut active, mut inactive, mut shared) = (0u64, 0u64, 0u64);
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let mut parts = rest.split_ascii_whitespace();
        let Some(Ok(n)) = parts.next().map(str::parse::<u64>) else {
            continue;
        };
        let bytes = match parts.next() {
            Some(u) if u.eq_ignore_ascii_case("kb") => n.saturating_mul(1024),
            _ => n,
        };
        match key.trim() {
            "MemTotal" => total = Some(bytes),
            "MemFree" => free = Some(bytes),
            "MemAvailable" => available = Some(bytes),
            "Buffers" => buffers = bytes,
            "Cached" => cached = bytes,
            "SReclaimable" => sreclaimable = bytes,
            "Active" => active = bytes,
            "Inactive" => inactive = bytes,
            "Shmem" => shared = bytes,
            _ => {}
        }
    }
    let total = total?;
    let free = free?;
    let cached = cached.saturating_add(sreclaimable);
    let available = available.unwrap_or_else(|| free.saturating_add(cached));
    Some(MemStats {
        total,
        available,
        used: total
            .saturating_sub(free)
            .saturating_sub(buffers)
            .saturating_sub(cached),
        free,
        buffered: buffers,
        cached,
        active,
        inactive,
        shared,
    })
}

/// The mem plugin (`meminfo` is read once per tick for `mem` and `swap` together).
#[derive(Debug)]
pub struct MemSource {
    emitter: Emitter,
    interval: u64,
    /// `<proc>/meminfo`, kept open and read once per tick for `mem` and `swap`.
    meminfo: Arc<Mutex<SharedFile>>,
    reader: Reader,
}

impl MemSource {
    /// Build from the plugin config.
    pub fn new(
        common: &PluginCommon,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval = effective_interval(common.metrics_collection_interval, agent_interval);
        MemSource {
            emitter: Emitter::new("mem", common, &FIELDS, ctx, interval),
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

impl MetricSource for MemSource {
    fn plugin(&self) -> &'static str {
        "mem"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let mut meminfo = pertick::lock(&self.meminfo);
        let text = meminfo.read(Some(now_ms), &mut self.reader)?;
        let stats = parse_meminfo(text).ok_or_else(|| CollectError::Parse {
            path: meminfo.path().to_path_buf(),
            message: "MemTotal or MemFree missing".into(),
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
        let mut src = MemSource::new(&all(), &ctx, 60, &fixture_root("mem-basic"));
        let mut out = Vec::new();
        src.collect(60_000, &mut out).unwrap();
        assert_eq!(out.len(), 11);
        let kb = 1024.0;
        // MemTotal 8000000, MemFree 2000000, MemAvailable 5000000, Buffers 100000,
        // Cached 1500000, SReclaimable 200000, Active 3000000, Inactive 1000000, Shmem 50000
        assert_eq!(get(&out, "mem_total"), 8_000_000.0 * kb);
        assert_eq!(get(&out, "mem_free"), 2_000_000.0 * kb);
        assert_eq!(get(&out, "mem_available"), 5_000_000.0 * kb);
        assert_eq!(get(&out, "mem_buffered"), 100_000.0 * kb);
        assert_eq!(get(&out, "mem_cached"), 1_700_000.0 * kb);
        assert_eq!(get(&out, "mem_active"), 3_000_000.0 * kb);
        assert_eq!(get(&out, "mem_inactive"), 1_000_000.0 * kb);
        assert_eq!(get(&out, "mem_shared"), 50_000.0 * kb);
        let used = 8_000_000.0 - 2_000_000.0 - 100_000.0 - 1_700_000.0;
        assert_eq!(get(&out, "mem_used"), used * kb);
        assert!((get(&out, "mem_used_percent") - 100.0 * used / 8_000_000.0).abs() < 1e-9);
        assert!((get(&out, "mem_available_percent") - 62.5).abs() < 1e-9);
        for d in &out {
            assert_eq!(d.dimensions, vec![Dimension::new("host", "web-1")]);
            assert_eq!(d.storage_resolution, 60);
            let expected = if d.metric_name.ends_with("_percent") {
                Unit::Percent
            } else {
                Unit::Bytes
            };
            assert_eq!(d.unit, expected, "{}", d.metric_name);
        }
    }

    #[test]
    fn old_kernel_without_memavailable() {
        let mut src = MemSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("mem-old-kernel"),
        );
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        // MemFree 1000 kB + Cached 300 kB (+ no SReclaimable)
        assert_eq!(get(&out, "mem_available"), 1300.0 * 1024.0);
        assert!(out.iter().all(|d| d.dimensions.is_empty()));
    }

    #[test]
    fn only_configured_measurements_with_rename_and_unit() {
        let common = PluginCommon {
            measurements: vec![Measurement {
                field: "used_percent".into(),
                rename: Some("MemoryUtilization".into()),
                unit: Some(Unit::None),
            }],
            metrics_collection_interval: Some(1),
            ..Default::default()
        };
        let mut src = MemSource::new(
            &common,
            &HostContext::default(),
            60,
            &fixture_root("mem-basic"),
        );
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric_name, "MemoryUtilization");
        assert_eq!(out[0].unit, Unit::None);
        assert_eq!(out[0].storage_resolution, 1);
    }

    #[test]
    fn malformed_input() {
        assert_eq!(parse_meminfo(""), None);
        assert_eq!(parse_meminfo("MemTotal: x kB\nMemFree: 1 kB"), None);
        let s = parse_meminfo("MemTotal: 10 kB\nMemFree: 20 kB\n").unwrap();
        assert_eq!(s.used, 0, "saturates instead of wrapping");
        let zero = parse_meminfo("MemTotal: 0 kB\nMemFree: 0 kB\n").unwrap();
        assert_eq!(zero.field("used_percent"), None);
    }
}
