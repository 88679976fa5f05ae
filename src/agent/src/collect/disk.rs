//! The `disk` plugin: space and inode usage of mounted file systems.
//!
//! # What is measured
//!
//! The mount table is `<proc>/self/mounts` (or `<proc>/1/mounts` when the former is missing);
//! the sizes come from `statvfs(2)` on each mount point through the [`FsStats`] trait, so tests
//! inject sizes. With `frsize` the fragment size (the block size when the file system reports
//! a fragment size of 0), exactly as the reference agent's disk input computes them:
//! - `total` = f_blocks·frsize;
//! - `free` = f_bavail·frsize: the space **available to unprivileged users** (the "available"
//!   column of the usual disk-free listing), not f_bfree, so root-reserved blocks count as
//!   neither free nor used;
//! - `used` = (f_blocks − f_bfree)·frsize;
//! - `used_percent` = 100·used/(used + free), the usual disk-free "use %" (0 when
//!   used + free = 0);
//! - `inodes_total` = f_files, `inodes_free` = f_ffree, `inodes_used` = f_files − f_ffree.
//!
//! Units: Bytes (`free`, `total`, `used`), Percent, Count (inodes). Dimensions, in this order:
//! `device` (the mount source with a leading `/dev/` removed; left out with `drop_device`),
//! `fstype`, `path` (the mount point), and `VolumeId` (below).
//!
//! # `VolumeId`
//!
//! `append_dimensions: {"VolumeId": "${aws:VolumeId}"}` is not a literal dimension: as in the
//! reference agent, it asks for the EBS volume id of each mount's device, from the device's
//! NVMe serial in sysfs (`<sys>/block/<disk>/device/serial`, refreshed every 5 minutes of tick
//! time; see `ebs` for the rules and the source of truth). A mount whose device has no known
//! id gets no `VolumeId`. With `drop_device` there is none either (the reference agent keys the
//! lookup on the `device` dimension, which `drop_device` removes first). The sysfs root is
//! `/sys` unless [`DiskSource::with_sys_root`] says otherwise.
//!
//! # Which mounts
//!
//! - `resources`: mount points; empty or `*` means all; entries with `*`/`?` are patterns
//!   (`/mnt/*`), an addition over the reference agent, which only takes exact paths.
//! - `ignore_file_system_types`: exact file-system type names to skip. Like the reference agent
//!   there is no default list. On container hosts `overlay`, `tmpfs`, `squashfs`, `nsfs` etc.
//!   can add hundreds of series; listing them here is the way to keep the metric count (and the
//!   CloudWatch bill) down.
//! - File systems whose total size is 0 (proc, sysfs, cgroup and other pseudo file systems)
//!   are skipped, as in the reference agent.
//! - **A mount point listed more than once** (the same device mounted twice on one path, or a
//!   file system mounted over another) is reported once, for the **last** entry: that is the
//!   mount `statvfs` on the path actually sees, so earlier entries would repeat the same figures
//!   under a stale device name, and an exact duplicate would be counted twice in CloudWatch's
//!   statistics. The reference agent reports every entry. Filters apply to that last entry.
//! - Mount points are unescaped (`\040` → space and the other octal escapes of the mount table).
//! - A mount point that cannot be stat'ed (permission denied, gone in between) is skipped for
//!   that tick with a debug log.
//!
//! # Cost
//!
//! The mount table stays open between ticks; on a proc file the kernel signals changes through
//! `poll`, so a steady tick costs one `poll` instead of a read (see `mounts`). A table that was
//! read is compared byte for byte with the last one parsed; only when it differs is it parsed
//! again and the per-mount dimension lists rebuilt (also when the `VolumeId` map changes). So
//! steady state costs one `poll` and one `statvfs` per reported mount.
//! Mounts found to have a zero size are not stat'ed again until the mount table changes, or at
//! most every [`EMPTY_RECHECK_CYCLES`] ticks, so the dozens of pseudo file systems of a typical
//! host cost nothing per tick.
//!
//! Known limits: `statvfs` on a hung network file system blocks the collecting thread (there is
//! no time-out); mount points are stat'ed as seen from the agent's own mount namespace even when
//! the proc root points elsewhere.

use super::delta::ResourceFilter;
use super::dimensions::HostContext;
use super::ebs::{self, VolumeIds};
use super::emit::Emitter;
use super::mounts::MountTable;
use super::net::DEFAULT_SYS_ROOT;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::DiskConfig;
use hostwatch_model::{Dimension, MetricDatum, Unit};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every disk field and its default unit.
pub const FIELDS: [(&str, Unit); 7] = [
    ("free", Unit::Bytes),
    ("inodes_free", Unit::Count),
    ("inodes_total", Unit::Count),
    ("inodes_used", Unit::Count),
    ("total", Unit::Bytes),
    ("used", Unit::Bytes),
    ("used_percent", Unit::Percent),
];

/// Zero-size mounts are stat'ed again at most this many ticks apart.
pub const EMPTY_RECHECK_CYCLES: u64 = 10;

/// Raw `statvfs` figures of one file system (`frsize` already falls back to the block size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsUsage {
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub frsize: u64,
    pub files: u64,
    pub ffree: u64,
}

/// Where file-system sizes come from.
pub trait FsStats: Send + Sync + std::fmt::Debug {
    /// The figures of the file system mounted at `mount_point`.
    fn stats(&self, mount_point: &Path) -> std::io::Result<FsUsage>;
}

/// The real provider: `statvfs(2)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Statvfs;

impl FsStats for Statvfs {
    fn stats(&self, mount_point: &Path) -> std::io::Result<FsUsage> {
        let s = rustix::fs::statvfs(mount_point)?;
        Ok(FsUsage {
            blocks: s.f_blocks,
            bfree: s.f_bfree,
            bavail: s.f_bavail,
            frsize: if s.f_frsize > 0 {
                s.f_frsize
            } else {
                s.f_bsize
            },
            files: s.f_files,
            ffree: s.f_ffree,
        })
    }
}

/// The reported figures of one file system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskUsage {
    pub total: u64,
    pub free: u64,
    pub used: u64,
    pub inodes_total: u64,
    pub inodes_free: u64,
    pub inodes_used: u64,
}

impl DiskUsage {
    /// Compute from raw figures (see the module docs).
    pub fn from_raw(u: &FsUsage) -> Self {
        DiskUsage {
            total: u.blocks.saturating_mul(u.frsize),
            free: u.bavail.saturating_mul(u.frsize),
            used: u.blocks.saturating_sub(u.bfree).saturating_mul(u.frsize),
            inodes_total: u.files,
            inodes_free: u.ffree,
            inodes_used: u.files.saturating_sub(u.ffree),
        }
    }

    /// A field's value.
    pub fn field(&self, field: &str) -> Option<f64> {
        Some(match field {
            "total" => self.total as f64,
            "free" => self.free as f64,
            "used" => self.used as f64,
            "used_percent" => {
                let denom = self.used as f64 + self.free as f64;
                if denom > 0.0 {
                    100.0 * self.used as f64 / denom
                } else {
                    0.0
                }
            }
            "inodes_total" => self.inodes_total as f64,
            "inodes_free" => self.inodes_free as f64,
            "inodes_used" => self.inodes_used as f64,
            _ => return None,
        })
    }
}

/// One mount-table entry, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub path: String,
    pub fstype: String,
}

/// Undo the octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash) of the
/// mount table. Anything that is not a three-digit octal escape is kept as is.
pub fn unescape(field: &str) -> Cow<'_, str> {
    if !field.contains('\\') {
        return Cow::Borrowed(field);
    }
    let bytes = field.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() {
            let digits = &bytes[i + 1..i + 4];
            if digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                let v = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                if let Ok(b) = u8::try_from(v) {
                    out.push(b);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Parse a mount table (`device path fstype options dump pass` per line). Lines with fewer than
/// three fields are skipped.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_ascii_whitespace();
        let (Some(device), Some(path), Some(fstype)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        out.push(Mount {
            device: unescape(device).into_owned(),
            path: unescape(path).into_owned(),
            fstype: unescape(fstype).into_owned(),
        });
    }
    out
}

/// A mount to report, with its dimensions built once.
#[derive(Debug, Clone)]
struct Target {
    path: PathBuf,
    dims: Vec<Dimension>,
    /// Last seen with a zero size.
    empty: bool,
}

/// The disk plugin.
#[derive(Debug)]
pub struct DiskSource {
    emitter: Emitter,
    interval: u64,
    filter: ResourceFilter,
    ignore_fs: Vec<String>,
    drop_device: bool,
    mounts: MountTable,
    /// Device → EBS volume id, when `VolumeId` is asked for (and the device is reported).
    volumes: Option<VolumeIds>,
    fs: Box<dyn FsStats>,
    /// This tick's mount table text.
    buf: Vec<u8>,
    /// The mount table text `targets` was built from.
    parsed: Vec<u8>,
    have_table: bool,
    targets: Vec<Target>,
    /// Ticks left until zero-size mounts are stat'ed again.
    recheck_in: u64,
    table_builds: u64,
}

impl DiskSource {
    /// Build from the plugin config, measuring with `statvfs`.
    pub fn new(
        config: &DiskConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        Self::with_fs_stats(config, ctx, agent_interval, proc_root, Box::new(Statvfs))
    }

    /// Build with another size provider (tests, or a host-root aware one).
    pub fn with_fs_stats(
        config: &DiskConfig,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
        fs: Box<dyn FsStats>,
    ) -> Self {
        let interval =
            effective_interval(config.common.metrics_collection_interval, agent_interval);
        let wants_volume = config
            .common
            .append_dimensions
            .get(ebs::DIMENSION)
            .is_some_and(|v| v.trim() == ebs::PLACEHOLDER);
        let common = if wants_volume {
            let mut c = config.common.clone();
            c.append_dimensions.remove(ebs::DIMENSION);
            Cow::Owned(c)
        } else {
            Cow::Borrowed(&config.common)
        };
        DiskSource {
            emitter: Emitter::new("disk", &common, &FIELDS, ctx, interval),
            interval,
            filter: ResourceFilter::new(&config.resources),
            ignore_fs: config
                .ignore_file_system_types
                .iter()
                .map(|s| s.trim().to_string())
                .collect(),
            drop_device: config.drop_device,
            mounts: MountTable::new(proc_root),
            volumes: (wants_volume && !config.drop_device)
                .then(|| VolumeIds::new(Path::new(DEFAULT_SYS_ROOT))),
            fs,
            buf: Vec::new(),
            parsed: Vec::new(),
            have_table: false,
            targets: Vec::new(),
            recheck_in: EMPTY_RECHECK_CYCLES,
            table_builds: 0,
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        !self.emitter.is_empty()
    }

    /// Read `VolumeId`s from the sysfs under `sys_root` instead of `/sys`.
    pub fn with_sys_root(mut self, sys_root: &Path) -> Self {
        if self.volumes.is_some() {
            self.volumes = Some(VolumeIds::new(sys_root));
        }
        self
    }

    /// Rebuild `targets` from `parsed` (see the module docs for the rules).
    fn rebuild(&mut self) {
        let text = String::from_utf8_lossy(&self.parsed);
        let mounts = parse_mounts(&text);
        // Last entry per mount point wins.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(mounts.len());
        for (i, m) in mounts.iter().enumerate() {
            last.insert(m.path.as_str(), i);
        }
        self.targets.clear();
        for (i, m) in mounts.iter().enumerate() {
            if last.get(m.path.as_str()) != Some(&i)
                || !self.filter.matches(&m.path)
                || self.ignore_fs.contains(&m.fstype)
            {
                continue;
            }
            let mut dims = Vec::with_capacity(3);
            if !self.drop_device {
                let device = m.device.strip_prefix("/dev/").unwrap_or(&m.device);
                dims.push(Dimension::new("device", device));
            }
            dims.push(Dimension::new("fstype", m.fstype.as_str()));
            dims.push(Dimension::new("path", m.path.as_str()));
            if let Some(id) = self.volumes.as_ref().and_then(|v| {
                let device = m.device.strip_prefix("/dev/").unwrap_or(&m.device);
                v.lookup(device)
            }) {
                dims.push(Dimension::new(ebs::DIMENSION, id));
            }
            self.targets.push(Target {
                path: PathBuf::from(&m.path),
                dims,
                empty: false,
            });
        }
        self.table_builds += 1;
    }
}

impl MetricSource for DiskSource {
    fn plugin(&self) -> &'static str {
        "disk"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let mut rebuild = false;
        if self.mounts.read_if_changed(&mut self.buf)?
            && (!self.have_table || self.buf != self.parsed)
        {
            // Keep the new text; the old one's capacity becomes next tick's buffer.
            std::mem::swap(&mut self.buf, &mut self.parsed);
            self.have_table = true;
            rebuild = true;
        }
        if let Some(v) = &mut self.volumes {
            rebuild |= v.refresh(now_ms);
        }
        if rebuild {
            self.rebuild();
        }
        self.recheck_in = self.recheck_in.saturating_sub(1);
        let recheck_empty = self.recheck_in == 0;
        if recheck_empty {
            self.recheck_in = EMPTY_RECHECK_CYCLES;
        }
        for target in &mut self.targets {
            if target.empty && !recheck_empty {
                continue;
            }
            let raw = match self.fs.stats(&target.path) {
                Ok(raw) => raw,
                Err(e) => {
                    let path = target.path.display();
                    tracing::debug!(%path, error = %e, "cannot stat mount point; skipped");
                    continue;
                }
            };
            let usage = DiskUsage::from_raw(&raw);
            target.empty = usage.total == 0;
            if target.empty {
                continue;
            }
            self.emitter
                .emit(now_ms, &target.dims, |f| usage.field(f), out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Measurement, PluginCommon};

    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use crate::collect::testutil::proc_fixture as fixture;

    /// Sizes by mount point; unknown paths fail like an unreadable mount; counts calls.
    #[derive(Debug, Default)]
    struct FakeFs {
        sizes: HashMap<PathBuf, FsUsage>,
        calls: Arc<AtomicU64>,
    }

    impl FsStats for FakeFs {
        fn stats(&self, mount_point: &Path) -> std::io::Result<FsUsage> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.sizes
                .get(mount_point)
                .copied()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        }
    }

    const GIB_BLOCKS: u64 = 262_144; // 4 KiB blocks per GiB

    fn sized(blocks: u64, bfree: u64, bavail: u64, files: u64, ffree: u64) -> FsUsage {
        FsUsage {
            blocks,
            bfree,
            bavail,
            frsize: 4096,
            files,
            ffree,
        }
    }

    fn fake() -> (FakeFs, Arc<AtomicU64>) {
        let mut sizes = HashMap::new();
        // 100 GiB, 40 GiB free of which 35 GiB available.
        sizes.insert(
            PathBuf::from("/"),
            sized(
                100 * GIB_BLOCKS,
                40 * GIB_BLOCKS,
                35 * GIB_BLOCKS,
                6_000_000,
                5_000_000,
            ),
        );
        sizes.insert(
            PathBuf::from("/boot/efi"),
            sized(25_600, 20_000, 20_000, 0, 0),
        );
        sizes.insert(
            PathBuf::from("/srv/my data"),
            sized(1000, 250, 250, 100, 40),
        );
        sizes.insert(
            PathBuf::from("/run"),
            sized(200_000, 199_000, 199_000, 1000, 900),
        );
        sizes.insert(PathBuf::from("/snap/core/123"), sized(30_000, 0, 0, 900, 0));
        sizes.insert(PathBuf::from("/mnt/stack"), sized(5000, 1000, 1000, 10, 5));
        for pseudo in ["/sys", "/proc", "/sys/fs/cgroup", "/dev"] {
            sizes.insert(PathBuf::from(pseudo), FsUsage::default());
        }
        // "/run/user/1000/doc" is missing: stat fails.
        let calls = Arc::new(AtomicU64::new(0));
        (
            FakeFs {
                sizes,
                calls: calls.clone(),
            },
            calls,
        )
    }

    fn config(resources: &[&str], ignore: &[&str], drop_device: bool) -> DiskConfig {
        DiskConfig {
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
            ignore_file_system_types: ignore.iter().map(|s| s.to_string()).collect(),
            drop_device,
        }
    }

    fn source(cfg: &DiskConfig, root: &Path) -> (DiskSource, Arc<AtomicU64>) {
        let (fs, calls) = fake();
        let ctx = HostContext {
            host: Some("h".into()),
            ..Default::default()
        };
        (
            DiskSource::with_fs_stats(cfg, &ctx, 60, root, Box::new(fs)),
            calls,
        )
    }

    fn value(out: &[MetricDatum], name: &str, path: &str) -> Option<f64> {
        crate::collect::testutil::value_of(out, name, Some(("path", path)))
    }

    fn paths(out: &[MetricDatum]) -> Vec<String> {
        let mut p: Vec<String> = out
            .iter()
            .filter_map(|d| d.dimensions.iter().find(|x| x.name == "path"))
            .map(|x| x.value.clone())
            .collect();
        p.sort();
        p.dedup();
        p
    }

    #[test]
    fn unescapes_and_parses() {
        assert_eq!(unescape("/srv/my\\040data"), "/srv/my data");
        assert_eq!(unescape("a\\134b\\011c"), "a\\b\tc");
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("bad\\04"), "bad\\04");
        assert_eq!(unescape("bad\\999x"), "bad\\999x");
        let m = parse_mounts("/dev/sda1 / ext4 rw 0 0\nshort line\n\n");
        assert_eq!(
            m,
            vec![Mount {
                device: "/dev/sda1".into(),
                path: "/".into(),
                fstype: "ext4".into()
            }]
        );
    }

    #[test]
    fn figures_follow_disk_free_semantics() {
        let u = DiskUsage::from_raw(&sized(1000, 300, 250, 100, 40));
        assert_eq!(u.total, 1000 * 4096);
        assert_eq!(
            u.free,
            250 * 4096,
            "free is what unprivileged users can use"
        );
        assert_eq!(u.used, 700 * 4096);
        assert_eq!(u.inodes_used, 60);
        let pct = u.field("used_percent").unwrap();
        assert!((pct - 100.0 * 700.0 / 950.0).abs() < 1e-9);
        let full = DiskUsage::from_raw(&sized(10, 10, 0, 0, 0));
        assert_eq!(full.field("used_percent"), Some(0.0));
    }

    #[test]
    fn fixture_all_mounts() {
        let (mut src, _) = source(&config(&[], &[], false), &fixture("disk-basic"));
        let mut out = Vec::new();
        src.collect(1000, &mut out).unwrap();
        // Pseudo file systems (size 0) and the unstat-able mount are skipped; the duplicate
        // root mount is reported once; the stacked /mnt/stack once, as its last (xfs) mount.
        assert_eq!(
            paths(&out),
            vec![
                "/",
                "/boot/efi",
                "/mnt/stack",
                "/run",
                "/snap/core/123",
                "/srv/my data"
            ]
        );
        assert_eq!(out.len(), 6 * 7);
        let gib = 1024.0 * 1024.0 * 1024.0;
        assert_eq!(value(&out, "disk_total", "/"), Some(100.0 * gib));
        assert_eq!(value(&out, "disk_free", "/"), Some(35.0 * gib));
        assert_eq!(value(&out, "disk_used", "/"), Some(60.0 * gib));
        let pct = value(&out, "disk_used_percent", "/").unwrap();
        assert!((pct - 100.0 * 60.0 / 95.0).abs() < 1e-9);
        assert_eq!(value(&out, "disk_inodes_total", "/"), Some(6_000_000.0));
        assert_eq!(value(&out, "disk_inodes_free", "/"), Some(5_000_000.0));
        assert_eq!(value(&out, "disk_inodes_used", "/"), Some(1_000_000.0));
        assert_eq!(
            value(&out, "disk_used_percent", "/snap/core/123"),
            Some(100.0)
        );
        let root: Vec<&MetricDatum> = out
            .iter()
            .filter(|d| {
                d.dimensions
                    .iter()
                    .any(|x| x.name == "path" && x.value == "/")
            })
            .collect();
        assert_eq!(root.len(), 7, "duplicate mount reported once");
        assert_eq!(
            root[0].dimensions,
            vec![
                Dimension::new("host", "h"),
                Dimension::new("device", "nvme0n1p1"),
                Dimension::new("fstype", "ext4"),
                Dimension::new("path", "/"),
            ]
        );
        let stack = out
            .iter()
            .find(|d| d.dimensions.iter().any(|x| x.value == "/mnt/stack"))
            .unwrap();
        assert!(stack.dimensions.contains(&Dimension::new("device", "sdc1")));
        assert!(stack.dimensions.contains(&Dimension::new("fstype", "xfs")));
        let mapper = out
            .iter()
            .find(|d| d.dimensions.iter().any(|x| x.value == "/srv/my data"))
            .unwrap();
        assert!(mapper
            .dimensions
            .contains(&Dimension::new("device", "mapper/vg0-data")));
        for d in &out {
            let unit = match d.metric_name.as_str() {
                "disk_used_percent" => Unit::Percent,
                n if n.starts_with("disk_inodes") => Unit::Count,
                _ => Unit::Bytes,
            };
            assert_eq!(d.unit, unit, "{}", d.metric_name);
        }
    }

    #[test]
    fn filters_and_drop_device() {
        let cfg = config(&[], &["tmpfs", "squashfs", "overlay"], true);
        let (mut src, _) = source(&cfg, &fixture("disk-basic"));
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(
            paths(&out),
            vec!["/", "/boot/efi", "/mnt/stack", "/srv/my data"]
        );
        assert!(out
            .iter()
            .all(|d| d.dimensions.iter().all(|x| x.name != "device")));

        let cfg = config(&["/", "/srv/*", "/nowhere"], &[], false);
        let (mut src, _) = source(&cfg, &fixture("disk-basic"));
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(paths(&out), vec!["/", "/srv/my data"]);

        let cfg = config(&["*"], &[], false);
        let (mut src, _) = source(&cfg, &fixture("disk-basic"));
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(paths(&out).len(), 6);
    }

    #[test]
    fn rename_and_unit() {
        let mut cfg = config(&["/"], &[], false);
        cfg.common.measurements = vec![Measurement {
            field: "used_percent".into(),
            rename: Some("DiskSpaceUtilization".into()),
            unit: Some(Unit::None),
        }];
        let (mut src, _) = source(&cfg, &fixture("disk-basic"));
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric_name, "DiskSpaceUtilization");
        assert_eq!(out[0].unit, Unit::None);
    }

    #[test]
    fn mount_table_is_parsed_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        // No `self/`: falls back to `1/mounts`.
        std::fs::create_dir_all(dir.path().join("1")).unwrap();
        let table = dir.path().join("1/mounts");
        std::fs::copy(fixture("disk-basic").join("self/mounts"), &table).unwrap();
        let (mut src, calls) = source(&config(&[], &[], false), dir.path());
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(src.table_builds, 1);
        // 12 distinct mount points (two cannot be stat'ed); each stat'ed once.
        let first_calls = calls.load(Ordering::Relaxed);
        assert_eq!(first_calls, 12);
        out.clear();
        src.collect(1, &mut out).unwrap();
        assert_eq!(src.table_builds, 1, "unchanged table is not parsed again");
        // The 4 zero-size pseudo mounts are not stat'ed again.
        assert_eq!(calls.load(Ordering::Relaxed) - first_calls, 12 - 4);
        assert_eq!(paths(&out).len(), 6);

        let mut text = std::fs::read_to_string(&table).unwrap();
        text.push_str("/dev/sdd1 /data ext4 rw 0 0\n");
        std::fs::write(&table, text).unwrap();
        out.clear();
        src.collect(2, &mut out).unwrap();
        assert_eq!(src.table_builds, 2);
        // /data has no size in the fake provider: skipped, nothing else changes.
        assert_eq!(paths(&out).len(), 6);
    }

    /// `VolumeId: ${aws:VolumeId}` gives each NVMe-backed mount its volume id from a fake
    /// sysfs (partitions included), nothing to the others, never the literal placeholder;
    /// `drop_device` turns it off; a swapped volume shows after the 5-minute refresh.
    #[test]
    fn volume_id_from_nvme_serials() {
        use crate::collect::testutil::fake_block_device;
        let sys = tempfile::tempdir().unwrap();
        fake_block_device(sys.path(), "nvme0n1", Some("vol0123456789abcdef0 \n"));
        fake_block_device(sys.path(), "sdb", None);
        let mut cfg = config(&[], &[], false);
        for (k, v) in [("VolumeId", "${aws:VolumeId}"), ("Team", "storage")] {
            cfg.common.append_dimensions.insert(k.into(), v.into());
        }
        let (src, _) = source(&cfg, &fixture("disk-basic"));
        let mut src = src.with_sys_root(sys.path());
        let mut out = Vec::new();
        src.collect(60_000, &mut out).unwrap();
        let volume = |out: &[MetricDatum], path: &str| -> Vec<Option<String>> {
            let mut v: Vec<Option<String>> = out
                .iter()
                .filter(|d| {
                    d.dimensions
                        .iter()
                        .any(|x| x.name == "path" && x.value == path)
                })
                .map(|d| {
                    d.dimensions
                        .iter()
                        .find(|x| x.name == "VolumeId")
                        .map(|x| x.value.clone())
                })
                .collect();
            v.dedup();
            v
        };
        let id = Some("vol-0123456789abcdef0".to_string());
        assert_eq!(volume(&out, "/"), vec![id.clone()], "nvme0n1p1");
        assert_eq!(volume(&out, "/boot/efi"), vec![id.clone()], "nvme0n1p15");
        assert_eq!(volume(&out, "/mnt/stack"), vec![None], "sdc1: no serial");
        assert_eq!(volume(&out, "/run"), vec![None], "tmpfs");
        let root_dims: Vec<&str> = out
            .iter()
            .find(|d| {
                d.dimensions
                    .iter()
                    .any(|x| x.name == "path" && x.value == "/")
            })
            .unwrap()
            .dimensions
            .iter()
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(
            root_dims,
            ["host", "device", "fstype", "path", "VolumeId", "Team"]
        );
        assert!(out
            .iter()
            .flat_map(|d| &d.dimensions)
            .all(|x| !x.value.contains("${")));
        // The volume behind nvme0n1 is swapped: seen at the next refresh, not before.
        fake_block_device(sys.path(), "nvme0n1", Some("vol0fedcba9876543210f"));
        out.clear();
        src.collect(120_000, &mut out).unwrap();
        assert_eq!(volume(&out, "/"), vec![id]);
        out.clear();
        src.collect(60_000 + crate::collect::ebs::REFRESH_MS, &mut out)
            .unwrap();
        assert_eq!(
            volume(&out, "/"),
            vec![Some("vol-0fedcba9876543210f".to_string())]
        );
        // drop_device: no device, so no VolumeId, and still no placeholder.
        cfg.drop_device = true;
        let (src, _) = source(&cfg, &fixture("disk-basic"));
        let mut src = src.with_sys_root(sys.path());
        out.clear();
        src.collect(60_000, &mut out).unwrap();
        assert!(!out.is_empty());
        assert!(out
            .iter()
            .flat_map(|d| &d.dimensions)
            .all(|x| x.name != "VolumeId" && x.name != "device"));
    }

    #[test]
    fn missing_table_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (mut src, _) = source(&config(&[], &[], false), dir.path());
        let mut out = Vec::new();
        assert!(matches!(
            src.collect(0, &mut out),
            Err(CollectError::Read { .. })
        ));
    }

    #[test]
    fn real_statvfs_on_root() {
        let u = Statvfs.stats(Path::new("/")).unwrap();
        assert!(u.frsize > 0);
        assert!(Statvfs.stats(Path::new("/definitely/not/here")).is_err());
    }
}
