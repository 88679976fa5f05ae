//! The metric sets behind the Basic / Standard / Advanced presets and the `None` path's
//! per-category questions, as the CloudWatch agent's wizard defines them for Linux.
//!
//! Each preset builds on the one before (Standard = Basic + ..., Advanced = Standard + ...), and
//! EC2 and on-premises hosts get different sets. Measurement order follows the real wizard
//! (cpu: idle, iowait, steal, guest, user, system; diskio: io_time, write_bytes, read_bytes,
//! writes, reads), so configs read the same as the ones it writes.
//!
//! One deliberate difference: the real Standard preset on EC2 configures cpu without total cpu,
//! which (without per-core) collects no cpu at all. Here cpu always includes the total; per-core
//! only adds the per-core series (see [`super::builder`]).

use super::answers::{Categories, HostKind, Preset};

/// cpu measurements, in the order the wizard writes them.
const CPU_ORDER: [&str; 6] = [
    "cpu_usage_idle",
    "cpu_usage_iowait",
    "cpu_usage_steal",
    "cpu_usage_guest",
    "cpu_usage_user",
    "cpu_usage_system",
];
const DISK_ORDER: [&str; 2] = ["used_percent", "inodes_free"];
const DISKIO_ORDER: [&str; 5] = ["io_time", "write_bytes", "read_bytes", "writes", "reads"];
const NET_ORDER: [&str; 4] = ["bytes_sent", "bytes_recv", "packets_sent", "packets_recv"];
const NETSTAT_ORDER: [&str; 2] = ["tcp_established", "tcp_time_wait"];

/// Which host plugins to configure and with which measurements. `None` = plugin left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPlugins {
    pub cpu: Option<Vec<&'static str>>,
    pub mem: Option<Vec<&'static str>>,
    pub disk: Option<Vec<&'static str>>,
    pub diskio: Option<Vec<&'static str>>,
    pub net: Option<Vec<&'static str>>,
    pub netstat: Option<Vec<&'static str>>,
    pub swap: Option<Vec<&'static str>>,
}

/// Adds `names` to a plugin's set, keeping `order`.
fn add(slot: &mut Option<Vec<&'static str>>, order: &[&'static str], names: &[&'static str]) {
    let current = slot.take().unwrap_or_default();
    let set: Vec<&'static str> = order
        .iter()
        .copied()
        .filter(|m| current.contains(m) || names.contains(m))
        .collect();
    *slot = Some(set);
}

fn basic(host: HostKind) -> HostPlugins {
    let mut p = HostPlugins::default();
    match host {
        HostKind::Ec2 => {
            p.mem = Some(vec!["mem_used_percent"]);
            add(&mut p.disk, &DISK_ORDER, &["used_percent"]);
        }
        HostKind::OnPrem => {
            add(&mut p.cpu, &CPU_ORDER, &["cpu_usage_idle"]);
            add(&mut p.disk, &DISK_ORDER, &["used_percent"]);
            add(
                &mut p.diskio,
                &DISKIO_ORDER,
                &["write_bytes", "read_bytes", "writes", "reads"],
            );
            p.mem = Some(vec!["mem_used_percent"]);
            add(&mut p.net, &NET_ORDER, &NET_ORDER);
            p.swap = Some(vec!["swap_used_percent"]);
        }
    }
    p
}

fn standard(host: HostKind) -> HostPlugins {
    let mut p = basic(host);
    match host {
        HostKind::Ec2 => {
            add(
                &mut p.cpu,
                &CPU_ORDER,
                &[
                    "cpu_usage_idle",
                    "cpu_usage_iowait",
                    "cpu_usage_user",
                    "cpu_usage_system",
                ],
            );
            add(&mut p.diskio, &DISKIO_ORDER, &["io_time"]);
            add(&mut p.disk, &DISK_ORDER, &["inodes_free"]);
            p.swap = Some(vec!["swap_used_percent"]);
        }
        HostKind::OnPrem => {
            add(
                &mut p.cpu,
                &CPU_ORDER,
                &["cpu_usage_idle", "cpu_usage_iowait"],
            );
            add(&mut p.diskio, &DISKIO_ORDER, &["io_time"]);
        }
    }
    p
}

fn advanced(host: HostKind) -> HostPlugins {
    let mut p = standard(host);
    match host {
        HostKind::Ec2 => {
            add(
                &mut p.diskio,
                &DISKIO_ORDER,
                &["write_bytes", "read_bytes", "writes", "reads"],
            );
        }
        HostKind::OnPrem => {
            add(
                &mut p.cpu,
                &CPU_ORDER,
                &[
                    "cpu_usage_steal",
                    "cpu_usage_guest",
                    "cpu_usage_user",
                    "cpu_usage_system",
                ],
            );
        }
    }
    add(&mut p.netstat, &NETSTAT_ORDER, &NETSTAT_ORDER);
    p
}

/// The plugins of a preset; [`Preset::None`] selects through `categories`, each category with
/// all of its wizard measurements.
pub fn host_plugins(preset: Preset, host: HostKind, categories: &Categories) -> HostPlugins {
    match preset {
        Preset::Basic => basic(host),
        Preset::Standard => standard(host),
        Preset::Advanced => advanced(host),
        Preset::None => {
            let mut p = HostPlugins::default();
            if categories.cpu {
                add(&mut p.cpu, &CPU_ORDER, &CPU_ORDER);
            }
            if categories.memory {
                p.mem = Some(vec!["mem_used_percent"]);
            }
            if categories.disk {
                add(&mut p.disk, &DISK_ORDER, &DISK_ORDER);
                add(&mut p.diskio, &DISKIO_ORDER, &DISKIO_ORDER);
            }
            if categories.network {
                add(&mut p.net, &NET_ORDER, &NET_ORDER);
                add(&mut p.netstat, &NETSTAT_ORDER, &NETSTAT_ORDER);
            }
            if categories.swap {
                p.swap = Some(vec!["swap_used_percent"]);
            }
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Categories {
        Categories::default()
    }

    #[test]
    fn ec2_basic_is_mem_and_disk() {
        let p = host_plugins(Preset::Basic, HostKind::Ec2, &all());
        assert_eq!(p.mem, Some(vec!["mem_used_percent"]));
        assert_eq!(p.disk, Some(vec!["used_percent"]));
        assert_eq!(p.cpu, None);
        assert_eq!(p.diskio, None);
    }

    #[test]
    fn ec2_standard_collects_cpu() {
        let p = host_plugins(Preset::Standard, HostKind::Ec2, &all());
        assert_eq!(
            p.cpu,
            Some(vec![
                "cpu_usage_idle",
                "cpu_usage_iowait",
                "cpu_usage_user",
                "cpu_usage_system"
            ])
        );
        assert_eq!(p.disk, Some(vec!["used_percent", "inodes_free"]));
        assert_eq!(p.diskio, Some(vec!["io_time"]));
        assert_eq!(p.swap, Some(vec!["swap_used_percent"]));
    }

    #[test]
    fn on_prem_advanced_adds_cpu_and_netstat() {
        let p = host_plugins(Preset::Advanced, HostKind::OnPrem, &all());
        assert_eq!(p.cpu.as_deref(), Some(&CPU_ORDER[..]));
        assert_eq!(p.diskio.as_deref(), Some(&DISKIO_ORDER[..]));
        assert_eq!(p.netstat.as_deref(), Some(&NETSTAT_ORDER[..]));
        // On-prem never gets inodes_free from a preset (the real wizard's code, not its docs).
        assert_eq!(p.disk, Some(vec!["used_percent"]));
    }

    #[test]
    fn ec2_advanced_adds_diskio_counters() {
        let p = host_plugins(Preset::Advanced, HostKind::Ec2, &all());
        assert_eq!(p.diskio.as_deref(), Some(&DISKIO_ORDER[..]));
        assert_eq!(p.net, None);
    }

    #[test]
    fn none_follows_the_categories() {
        let c = Categories {
            cpu: false,
            memory: true,
            disk: false,
            network: true,
            swap: false,
        };
        let p = host_plugins(Preset::None, HostKind::OnPrem, &c);
        assert_eq!(p.cpu, None);
        assert_eq!(p.disk, None);
        assert_eq!(p.diskio, None);
        assert_eq!(p.mem, Some(vec!["mem_used_percent"]));
        assert_eq!(p.net.as_deref(), Some(&NET_ORDER[..]));
        assert_eq!(p.netstat.as_deref(), Some(&NETSTAT_ORDER[..]));
        assert_eq!(p.swap, None);
    }
}
