//! EBS volume ids of block devices, from sysfs, for the `disk` plugin's `VolumeId` dimension.
//!
//! Source of truth: the reference agent's host volume provider
//! (`plugins/processors/ec2tagger/internal/volume/host_linux.go` and the `disktagger`
//! processor in aws/amazon-cloudwatch-agent). When `metrics_collected.disk.append_dimensions`
//! holds `"VolumeId": "${aws:VolumeId}"`, the reference agent adds a `VolumeId` attribute to
//! every datapoint that carries a `device` attribute (only `disk` does; `diskio` names its
//! device `name` and gets none), refreshing its device map every 5 minutes. The map comes
//! from the EC2 `DescribeVolumes` API merged with what the host itself tells; this agent uses
//! the host part only (no EC2 API call):
//!
//! - every entry of `<sys>/block` except `loop*` devices, whose `device/serial` file holds a
//!   non-empty serial (surrounding whitespace trimmed: NVMe pads it with spaces);
//! - an EBS NVMe volume's serial is its volume id without the dash (`vol0123456789abcdef0`):
//!   a serial that starts with `vol` not followed by `-` gets the dash inserted
//!   (`vol-0123456789abcdef0`); any other serial is used as it is (as the reference does, so
//!   an instance-store NVMe device shows its `AWS...` serial);
//! - a partition (`nvme0n1p1`) gets the id of its disk (`nvme0n1`). The reference matches any
//!   cached disk name that is a prefix of the device name, in hash-map order; here the suffix
//!   must be a partition suffix (`p<N>` after a name ending in a digit, `<N>` otherwise), so
//!   `nvme1n10p1` never takes the id of `nvme1n1`.
//!
//! Invariants: the map is read on first use and again when [`REFRESH_MS`] of tick time have
//! passed (or the tick clock went backwards); an unreadable `<sys>/block` gives an empty map
//! (no `VolumeId`, nothing fails); the map is sorted by device name.

use std::path::{Path, PathBuf};

/// How often the device map is read again (tick time), as the reference agent does.
pub(crate) const REFRESH_MS: i64 = 5 * 60 * 1000;

/// The `append_dimensions` entry that asks for volume ids on `disk`.
pub(crate) const DIMENSION: &str = "VolumeId";
/// Its value.
pub(crate) const PLACEHOLDER: &str = "${aws:VolumeId}";

/// Device name → volume id, from sysfs.
#[derive(Debug)]
pub(crate) struct VolumeIds {
    sys_block: PathBuf,
    map: Vec<(String, String)>,
    read_at_ms: Option<i64>,
}

impl VolumeIds {
    /// Volume ids from `<sys_root>/block`.
    pub(crate) fn new(sys_root: &Path) -> Self {
        VolumeIds {
            sys_block: sys_root.join("block"),
            map: Vec::new(),
            read_at_ms: None,
        }
    }

    /// Read the map again if it is due at tick `now_ms`; `true` when it changed.
    pub(crate) fn refresh(&mut self, now_ms: i64) -> bool {
        let due = self
            .read_at_ms
            .is_none_or(|at| now_ms < at || now_ms - at >= REFRESH_MS);
        if !due {
            return false;
        }
        self.read_at_ms = Some(now_ms);
        let map = scan(&self.sys_block);
        if map == self.map {
            return false;
        }
        self.map = map;
        true
    }

    /// The volume id of `device` (a disk or one of its partitions), if known.
    pub(crate) fn lookup(&self, device: &str) -> Option<&str> {
        if let Ok(i) = self.map.binary_search_by(|(d, _)| d.as_str().cmp(device)) {
            return self.map.get(i).map(|(_, v)| v.as_str());
        }
        self.map
            .iter()
            .find(|(disk, _)| is_partition_of(device, disk))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether `device` names a partition of disk `disk` (`nvme0n1p2` of `nvme0n1`, `xvda1` of
/// `xvda`).
pub(crate) fn is_partition_of(device: &str, disk: &str) -> bool {
    let Some(rest) = device.strip_prefix(disk) else {
        return false;
    };
    let number = if disk.ends_with(|c: char| c.is_ascii_digit()) {
        match rest.strip_prefix('p') {
            Some(n) => n,
            None => return false,
        }
    } else {
        rest
    };
    !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())
}

/// The volume id for a device serial (see the module docs).
pub(crate) fn volume_id(serial: &str) -> String {
    match serial.strip_prefix("vol") {
        Some(rest) if !rest.starts_with('-') => format!("vol-{rest}"),
        _ => serial.to_string(),
    }
}

/// Every device of `sys_block` with a serial, sorted by name.
fn scan(sys_block: &Path) -> Vec<(String, String)> {
    let entries = match std::fs::read_dir(sys_block) {
        Ok(e) => e,
        Err(e) => {
            tracing::debug!(path = %sys_block.display(), error = %e, "disk: no block devices for VolumeId");
            return Vec::new();
        }
    };
    let mut map = Vec::new();
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with("loop") {
            continue;
        }
        let Ok(serial) = std::fs::read_to_string(sys_block.join(&name).join("device/serial"))
        else {
            continue;
        };
        let serial = serial.trim();
        if !serial.is_empty() {
            map.push((name, volume_id(serial)));
        }
    }
    map.sort();
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::testutil::fake_block_device as fake_device;

    #[test]
    fn serials_become_volume_ids() {
        let table = [
            ("vol0123456789abcdef0", "vol-0123456789abcdef0"),
            ("vol-0123456789abcdef0", "vol-0123456789abcdef0"),
            ("AWS22AB3C5F1E2D4E6A7", "AWS22AB3C5F1E2D4E6A7"),
            ("vol", "vol-"),
            ("volume", "vol-ume"),
        ];
        for (serial, id) in table {
            assert_eq!(volume_id(serial), id, "{serial}");
        }
    }

    #[test]
    fn partitions_and_lookup() {
        let table = [
            ("nvme0n1p1", "nvme0n1", true),
            ("nvme0n1p12", "nvme0n1", true),
            ("nvme0n1", "nvme0n1", false),
            ("nvme0n10p1", "nvme0n1", false),
            ("nvme0n1p", "nvme0n1", false),
            ("xvda1", "xvda", true),
            ("xvdab", "xvda", false),
            ("sda", "sd", false),
        ];
        for (device, disk, want) in table {
            assert_eq!(is_partition_of(device, disk), want, "{device} of {disk}");
        }
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path();
        fake_device(sys, "nvme0n1", Some("vol0aaaaaaaaaaaaaaaa  \n"));
        fake_device(sys, "nvme1n1", Some("vol-0bbbbbbbbbbbbbbbb"));
        fake_device(sys, "nvme1n10", Some("vol0cccccccccccccccc"));
        fake_device(sys, "nvme2n1", Some("AWS1234567890ABCDEF0"));
        fake_device(sys, "loop0", Some("vol0dddddddddddddddd"));
        fake_device(sys, "sda", None);
        fake_device(sys, "sdb", Some("   \n"));
        let mut v = VolumeIds::new(sys);
        assert!(v.refresh(0));
        let cases = [
            ("nvme0n1", Some("vol-0aaaaaaaaaaaaaaaa")),
            ("nvme0n1p1", Some("vol-0aaaaaaaaaaaaaaaa")),
            ("nvme1n1p3", Some("vol-0bbbbbbbbbbbbbbbb")),
            ("nvme1n10p1", Some("vol-0cccccccccccccccc")),
            ("nvme2n1", Some("AWS1234567890ABCDEF0")),
            ("loop0", None),
            ("sda1", None),
            ("sdb", None),
            ("mapper/vg-root", None),
        ];
        for (device, want) in cases {
            assert_eq!(v.lookup(device), want, "{device}");
        }
    }

    #[test]
    fn refreshed_every_five_minutes_of_tick_time() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path();
        let mut v = VolumeIds::new(sys);
        // No block directory at all: empty, nothing fails.
        assert!(!v.refresh(1_000));
        assert_eq!(v.lookup("nvme0n1"), None);
        fake_device(sys, "nvme0n1", Some("vol01"));
        assert!(!v.refresh(2_000), "not due yet");
        assert_eq!(v.lookup("nvme0n1"), None);
        assert!(v.refresh(1_000 + REFRESH_MS), "due");
        assert_eq!(v.lookup("nvme0n1"), Some("vol-01"));
        // Same map again: no change reported; a volume swapped: changed.
        assert!(!v.refresh(1_000 + 2 * REFRESH_MS));
        fake_device(sys, "nvme0n1", Some("vol02"));
        assert!(!v.refresh(1_000 + 2 * REFRESH_MS + 1), "not due");
        // A tick clock that went backwards reads again.
        assert!(v.refresh(500));
        assert_eq!(v.lookup("nvme0n1"), Some("vol-02"));
    }
}
