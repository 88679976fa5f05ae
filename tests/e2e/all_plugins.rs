//! `hostwatch-agent --once` with every host plugin enabled (`resources: ["*"]` where a plugin
//! takes resources) and **every** measurement of every plugin listed prints every measurement
//! that can exist on this host, each with its unit.
//!
//! What "can exist on this host" means, plugin by plugin:
//! - cpu: every field for `cpu-total` and for each `cpuN` line of `/proc/stat`;
//! - mem, swap, netstat: every field, always (a host without swap prints zeros);
//! - processes: every field except `wait`, which is a BSD state never sent on Linux (as the
//!   reference agent); the test asserts it is absent;
//! - disk: every field for the root file system `/` (other mounts may come and go);
//! - diskio: every field for each block device of `/proc/diskstats` that is not a `loop`/`ram`
//!   device (those are left out while all their counters are zero); a host without block devices
//!   prints none. The NVMe-only `ebs_*`/`instance_store_*` fields are not listed: the config
//!   loader accepts them but they come from a source not built yet;
//! - net: every field for each interface that is up and not a loopback (`resources: ["*"]`
//!   selects exactly those); a host with only `lo` prints none;
//! - procstat: every field, for exactly one process: the agent itself, selected by a `pattern`
//!   matching its unique config path; `pid_count` is sent as `procstat_lookup_pid_count`.
//!
//! diskio and net send increments between two samples: `--once` prints the second sample, so
//! they are there. Nothing that was not configured may be printed.

use crate::node_exporter::agent_once;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

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

const MEM: &[&str] = &[
    "active",
    "available",
    "available_percent",
    "buffered",
    "cached",
    "free",
    "inactive",
    "total",
    "used",
    "used_percent",
];

const SWAP: &[&str] = &["free", "used", "used_percent"];

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

/// The unit each emitted metric must carry.
fn expected_unit(metric: &str) -> &'static str {
    let percent = metric.ends_with("_percent")
        || metric.starts_with("cpu_usage_")
        || metric == "procstat_cpu_usage";
    if percent {
        return "Percent";
    }
    if metric.starts_with("cpu_time_") {
        return "None";
    }
    let bytes = matches!(
        metric,
        "mem_active"
            | "mem_available"
            | "mem_buffered"
            | "mem_cached"
            | "mem_free"
            | "mem_inactive"
            | "mem_total"
            | "mem_used"
            | "swap_free"
            | "swap_used"
            | "disk_free"
            | "disk_total"
            | "disk_used"
            | "diskio_read_bytes"
            | "diskio_write_bytes"
            | "net_bytes_sent"
            | "net_bytes_recv"
            | "procstat_read_bytes"
            | "procstat_write_bytes"
    ) || metric.starts_with("procstat_memory_")
        || metric.starts_with("procstat_rlimit_memory_");
    if bytes {
        return "Bytes";
    }
    if matches!(
        metric,
        "diskio_io_time" | "diskio_read_time" | "diskio_write_time"
    ) {
        return "Milliseconds";
    }
    "Count"
}

/// The emitted metric name of a plugin field.
fn metric(plugin: &str, field: &str) -> String {
    if plugin == "procstat" && field == "pid_count" {
        "procstat_lookup_pid_count".to_string()
    } else {
        format!("{plugin}_{field}")
    }
}

/// `cpuN` names from `/proc/stat`.
fn host_cpus() -> Vec<String> {
    std::fs::read_to_string("/proc/stat")
        .expect("/proc/stat")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.len() > 3 && n.starts_with("cpu"))
        .map(str::to_string)
        .collect()
}

/// Block devices the diskio plugin must report (not `loop*`/`ram*`).
fn host_block_devices() -> Vec<String> {
    std::fs::read_to_string("/proc/diskstats")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.split_whitespace().count() >= 14)
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|n| !n.starts_with("loop") && !n.starts_with("ram"))
        .map(str::to_string)
        .collect()
}

/// Interfaces of `/proc/net/dev` that are up (IFF_UP) and not loopback (IFF_LOOPBACK).
fn host_up_interfaces() -> Vec<String> {
    std::fs::read_to_string("/proc/net/dev")
        .expect("/proc/net/dev")
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|n| n.trim().to_string())
        .filter(|n| {
            let flags = std::fs::read_to_string(format!("/sys/class/net/{n}/flags"))
                .ok()
                .and_then(|f| u32::from_str_radix(f.trim().trim_start_matches("0x"), 16).ok());
            matches!(flags, Some(f) if f & 0x1 != 0 && f & 0x8 == 0)
        })
        .collect()
}

#[test]
fn all_plugins_once_prints_every_measurement() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A selector only this test's agent matches: its own config path, on its command line.
    let pattern = dir.path().join("agent-once.json").display().to_string();
    let config = json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {"metrics_collected": {
            "cpu": {"resources": ["*"], "totalcpu": true, "measurement": CPU},
            "mem": {"measurement": MEM},
            "swap": {"measurement": SWAP},
            "disk": {"resources": ["*"], "measurement": DISK},
            "diskio": {"resources": ["*"], "measurement": DISKIO},
            "net": {"resources": ["*"], "measurement": NET},
            "netstat": {"measurement": NETSTAT},
            "processes": {"measurement": PROCESSES},
            "procstat": [{"pattern": pattern, "measurement": PROCSTAT}]
        }}
    });
    let lines = agent_once(dir.path(), &config);

    // Every line: a configured metric, with its unit, a finite value.
    let plugins: [(&str, &[&str]); 9] = [
        ("cpu", CPU),
        ("mem", MEM),
        ("swap", SWAP),
        ("disk", DISK),
        ("diskio", DISKIO),
        ("net", NET),
        ("netstat", NETSTAT),
        ("processes", PROCESSES),
        ("procstat", PROCSTAT),
    ];
    let configured: BTreeSet<String> = plugins
        .iter()
        .flat_map(|(p, fields)| fields.iter().map(move |f| metric(p, f)))
        .collect();
    for l in &lines {
        let name = l["metric_name"].as_str().expect("metric_name");
        assert!(configured.contains(name), "not configured: {l}");
        assert_eq!(l["unit"], expected_unit(name), "{l}");
        assert!(l["value"].as_f64().is_some_and(f64::is_finite), "{l}");
        assert_eq!(l["namespace"], "CWAgent");
    }

    // (metric, value of the identifying dimension) → how many times printed.
    let key_dim = |name: &str| match name.split('_').next() {
        Some("cpu") => "cpu",
        Some("disk") => "path",
        Some("diskio") => "name",
        Some("net") => "interface",
        _ => "",
    };
    let mut printed: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in &lines {
        let name = l["metric_name"].as_str().unwrap_or_default().to_string();
        let dim = l["dimensions"][key_dim(&name)]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *printed.entry((name, dim)).or_default() += 1;
    }
    let mut missing = Vec::new();
    let mut expect = |plugin: &str, fields: &[&str], dim: &str| {
        for f in fields {
            let key = (metric(plugin, f), dim.to_string());
            if !printed.contains_key(&key) {
                missing.push(format!("{} [{dim}]", key.0));
            }
        }
    };
    let cpus = host_cpus();
    assert!(!cpus.is_empty());
    expect("cpu", CPU, "cpu-total");
    for c in &cpus {
        expect("cpu", CPU, c);
    }
    expect("mem", MEM, "");
    expect("swap", SWAP, "");
    expect("disk", DISK, "/");
    for d in host_block_devices() {
        expect("diskio", DISKIO, &d);
    }
    for i in host_up_interfaces() {
        expect("net", NET, &i);
    }
    expect("netstat", NETSTAT, "");
    let processes: Vec<&str> = PROCESSES.iter().copied().filter(|f| *f != "wait").collect();
    expect("processes", &processes, "");
    expect("procstat", PROCSTAT, "");
    assert!(missing.is_empty(), "not printed: {missing:#?}");

    // The documented exception, and the one-process selector.
    assert!(!printed.contains_key(&("processes_wait".to_string(), String::new())));
    for (k, n) in &printed {
        if k.0.starts_with("procstat_") {
            assert_eq!(
                *n, 1,
                "{k:?} printed {n} times: the pattern matched other processes"
            );
        }
    }
    let find = |name: &str| {
        lines
            .iter()
            .find(|l| l["metric_name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let count = find("procstat_lookup_pid_count");
    assert_eq!(count["value"], json!(1.0));
    assert_eq!(count["dimensions"]["pattern"], pattern.as_str());
    assert_eq!(count["dimensions"]["pid_finder"], "native");
    let rss = find("procstat_memory_rss");
    assert_eq!(rss["dimensions"]["process_name"], "hostwatch-agent");
    assert!(rss["value"].as_f64().is_some_and(|v| v > 1e6), "{rss}");
    // Spot checks of values with known bounds.
    let total = |name: &str| -> Value {
        lines
            .iter()
            .find(|l| l["metric_name"] == name && l["dimensions"]["cpu"] == "cpu-total")
            .map(|l| l["value"].clone())
            .unwrap_or(Value::Null)
    };
    let idle = total("cpu_usage_idle").as_f64().unwrap_or(-1.0);
    assert!((0.0..=100.0).contains(&idle), "cpu_usage_idle {idle}");
    let used = find("mem_used_percent")["value"].as_f64().unwrap_or(-1.0);
    assert!((0.0..=100.0).contains(&used), "mem_used_percent {used}");
    assert!(find("processes_total")["value"].as_f64().unwrap_or(0.0) >= 1.0);
    let fds = find("procstat_num_fds")["value"].as_f64().unwrap_or(0.0);
    assert!(fds >= 3.0, "procstat_num_fds {fds}");
}
