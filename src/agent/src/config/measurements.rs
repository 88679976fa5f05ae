//! Allow-lists of measurement names per plugin, name normalisation and unit names.
//!
//! A measurement may be written with or without its plugin prefix (`cpu_usage_idle` and
//! `usage_idle` are the same field); any other name is rejected, as the CloudWatch agent
//! does on Linux.

use hostwatch_model::Unit;

const CPU: &[&str] = &[
    "time_active",
    "time_guest",
    "time_guest_nice",
    "time_idle",
    "time_iowait",
    "time_irq",
    "time_nice",
    "time_softirq",
    "time_steal",
    "time_system",
    "time_user",
    "usage_active",
    "usage_guest",
    "usage_guest_nice",
    "usage_idle",
    "usage_iowait",
    "usage_irq",
    "usage_nice",
    "usage_softirq",
    "usage_steal",
    "usage_system",
    "usage_user",
];

const DISK: &[&str] = &[
    "free",
    "inodes_free",
    "inodes_total",
    "inodes_used",
    "total",
    "used",
    "used_percent",
];

const DISKIO: &[&str] = &[
    "iops_in_progress",
    "io_time",
    "reads",
    "read_bytes",
    "read_time",
    "writes",
    "write_bytes",
    "write_time",
];

/// NVMe (EBS / instance store) diskio fields, after the `ebs_` / `instance_store_` prefix.
const NVME_SUFFIXES: &[&str] = &[
    "total_read_ops",
    "total_write_ops",
    "total_read_bytes",
    "total_write_bytes",
    "total_read_time",
    "total_write_time",
    "volume_performance_exceeded_iops",
    "volume_performance_exceeded_tp",
    "ec2_instance_performance_exceeded_iops",
    "ec2_instance_performance_exceeded_tp",
    "volume_queue_length",
];

const SWAP: &[&str] = &["free", "used", "used_percent"];

const MEM: &[&str] = &[
    "active",
    "available",
    "available_percent",
    "buffered",
    "cached",
    "free",
    "inactive",
    // Not in the CloudWatch agent's allow-list, but collected by its mem input and by ours.
    "shared",
    "total",
    "used",
    "used_percent",
];

const NET: &[&str] = &[
    "bytes_sent",
    "bytes_recv",
    "drop_in",
    "drop_out",
    "err_in",
    "err_out",
    "packets_sent",
    "packets_recv",
];

const NETSTAT: &[&str] = &[
    "tcp_close",
    "tcp_close_wait",
    "tcp_closing",
    "tcp_established",
    "tcp_fin_wait1",
    "tcp_fin_wait2",
    "tcp_last_ack",
    "tcp_listen",
    "tcp_none",
    "tcp_syn_sent",
    "tcp_syn_recv",
    "tcp_time_wait",
    "udp_socket",
];

const PROCESSES: &[&str] = &[
    "blocked",
    "dead",
    "idle",
    "paging",
    "running",
    "sleeping",
    "stopped",
    "total",
    "total_threads",
    "wait",
    "zombies",
];

const PROCSTAT: &[&str] = &[
    "cpu_time",
    "cpu_time_guest",
    "cpu_time_guest_nice",
    "cpu_time_idle",
    "cpu_time_iowait",
    "cpu_time_irq",
    "cpu_time_nice",
    "cpu_time_soft_irq",
    "cpu_time_steal",
    "cpu_time_stolen",
    "cpu_time_system",
    "cpu_time_user",
    "cpu_usage",
    "involuntary_context_switches",
    "memory_data",
    "memory_locked",
    "memory_rss",
    "memory_stack",
    "memory_swap",
    "memory_vms",
    "nice_priority",
    "num_fds",
    "num_threads",
    "pid",
    "read_bytes",
    "read_count",
    "realtime_priority",
    "rlimit_cpu_time_hard",
    "rlimit_cpu_time_soft",
    "rlimit_file_locks_hard",
    "rlimit_file_locks_soft",
    "rlimit_memory_data_hard",
    "rlimit_memory_data_soft",
    "rlimit_memory_locked_hard",
    "rlimit_memory_locked_soft",
    "rlimit_memory_rss_hard",
    "rlimit_memory_rss_soft",
    "rlimit_memory_stack_hard",
    "rlimit_memory_stack_soft",
    "rlimit_memory_vms_hard",
    "rlimit_memory_vms_soft",
    "rlimit_nice_priority_hard",
    "rlimit_nice_priority_soft",
    "rlimit_num_fds_hard",
    "rlimit_num_fds_soft",
    "rlimit_realtime_priority_hard",
    "rlimit_realtime_priority_soft",
    "rlimit_signals_pending_hard",
    "rlimit_signals_pending_soft",
    "signals_pending",
    "voluntary_context_switches",
    "write_bytes",
    "write_count",
    "pid_count",
];

const NVIDIA: &[&str] = &[
    "utilization_gpu",
    "utilization_memory",
    "temperature_gpu",
    "power_draw",
    "fan_speed",
    "memory_total",
    "memory_used",
    "memory_free",
    "pcie_link_gen_current",
    "pcie_link_width_current",
    "encoder_stats_session_count",
    "encoder_stats_average_fps",
    "encoder_stats_average_latency",
    "clocks_current_graphics",
    "clocks_current_sm",
    "clocks_current_memory",
    "clocks_current_video",
];

/// The allow-list of a plugin, `None` for plugins whose names are not checked.
pub fn allowed_fields(plugin: &str) -> Option<&'static [&'static str]> {
    Some(match plugin {
        "cpu" => CPU,
        "disk" => DISK,
        "diskio" => DISKIO,
        "swap" => SWAP,
        "mem" => MEM,
        "net" => NET,
        "netstat" => NETSTAT,
        "processes" => PROCESSES,
        "procstat" => PROCSTAT,
        "nvidia_gpu" | "nvidia_smi" => NVIDIA,
        _ => return None,
    })
}

/// Whether `field` (prefix already removed) is an NVMe diskio field (`ebs_*`,
/// `instance_store_*`).
pub fn is_nvme_field(field: &str) -> bool {
    let rest = field
        .strip_prefix("ebs_")
        .or_else(|| field.strip_prefix("instance_store_"));
    rest.is_some_and(|r| NVME_SUFFIXES.contains(&r))
}

/// Whether `field` (prefix already removed) may be measured by `plugin`. Plugins without an
/// allow-list accept any name.
pub fn is_allowed(plugin: &str, field: &str) -> bool {
    match allowed_fields(plugin) {
        Some(list) => list.contains(&field) || (plugin == "diskio" && is_nvme_field(field)),
        None => true,
    }
}

/// The field name of a measurement: surrounding spaces and the `<plugin>_` prefix removed.
/// `nvidia_gpu` also accepts the `nvidia_smi_` prefix its metrics are emitted with.
pub fn normalize(plugin: &str, name: &str) -> String {
    let name = name.trim();
    let prefix = format!("{plugin}_");
    if let Some(rest) = name.strip_prefix(&prefix) {
        return rest.to_string();
    }
    if plugin == "nvidia_gpu" {
        if let Some(rest) = name.strip_prefix("nvidia_smi_") {
            return rest.to_string();
        }
    }
    name.to_string()
}

/// How a configured `unit` string was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitName {
    /// A CloudWatch standard unit name, e.g. `Bytes`.
    Standard(Unit),
    /// An OpenTelemetry / UCUM unit with an exact CloudWatch equivalent, e.g. `By`.
    Mapped(Unit),
    /// Anything else: the agent sends `None`.
    Unknown,
}

/// Interprets a `unit` value.
pub fn parse_unit(s: &str) -> UnitName {
    if let Ok(u) = s.parse::<Unit>() {
        return UnitName::Standard(u);
    }
    let mapped = match s {
        "By" => Unit::Bytes,
        "kBy" => Unit::Kilobytes,
        "MBy" => Unit::Megabytes,
        "GBy" => Unit::Gigabytes,
        "TBy" => Unit::Terabytes,
        "bit" => Unit::Bits,
        "kbit" => Unit::Kilobits,
        "Mbit" => Unit::Megabits,
        "Gbit" => Unit::Gigabits,
        "Tbit" => Unit::Terabits,
        "By/s" => Unit::BytesPerSecond,
        "kBy/s" => Unit::KilobytesPerSecond,
        "MBy/s" => Unit::MegabytesPerSecond,
        "GBy/s" => Unit::GigabytesPerSecond,
        "TBy/s" => Unit::TerabytesPerSecond,
        "bit/s" => Unit::BitsPerSecond,
        "kbit/s" => Unit::KilobitsPerSecond,
        "Mbit/s" => Unit::MegabitsPerSecond,
        "Gbit/s" => Unit::GigabitsPerSecond,
        "Tbit/s" => Unit::TerabitsPerSecond,
        "s" => Unit::Seconds,
        "ms" => Unit::Milliseconds,
        "us" => Unit::Microseconds,
        "%" => Unit::Percent,
        "1" => Unit::None,
        "{count}" => Unit::Count,
        "{count}/s" => Unit::CountPerSecond,
        _ => return UnitName::Unknown,
    };
    UnitName::Mapped(mapped)
}

/// A standard unit whose name differs from `s` only in letter case, for a hint.
pub fn unit_case_hint(s: &str) -> Option<Unit> {
    Unit::all().find(|u| u.as_str().eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_optional() {
        assert_eq!(normalize("cpu", "cpu_usage_idle"), "usage_idle");
        assert_eq!(normalize("cpu", " usage_idle "), "usage_idle");
        assert_eq!(
            normalize("diskio", "diskio_iops_in_progress"),
            "iops_in_progress"
        );
        assert_eq!(
            normalize("nvidia_gpu", "nvidia_smi_power_draw"),
            "power_draw"
        );
        assert!(is_allowed("diskio", "ebs_total_read_bytes"));
        assert!(is_allowed("diskio", "instance_store_volume_queue_length"));
        assert!(!is_allowed("swap", "total"));
        assert!(is_allowed("procstat", "pid_count"));
    }

    #[test]
    fn units() {
        assert_eq!(parse_unit("Count"), UnitName::Standard(Unit::Count));
        assert_eq!(parse_unit("By"), UnitName::Mapped(Unit::Bytes));
        assert_eq!(parse_unit("unit"), UnitName::Unknown);
        assert_eq!(unit_case_hint("percent"), Some(Unit::Percent));
    }
}
