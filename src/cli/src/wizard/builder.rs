//! [`Answers`] → the agent's JSON config, in the shape the CloudWatch agent's wizard writes:
//!
//! - `agent`: `run_as_user`, and `metrics_collection_interval` when host metrics are chosen;
//! - `metrics`: `metrics_collected` (host plugins from the preset, `statsd`, `collectd`), the
//!   four `${aws:...}` `append_dimensions` and `aggregation_dimensions: [["InstanceId"]]` on EC2
//!   when asked for; left out when nothing collects metrics;
//! - `logs.logs_collected.files.collect_list`: one entry per log file.
//!
//! Fixes over the real wizard: cpu always includes the total (`totalcpu: true`; per-core adds
//! `resources: ["*"]`), and `disk` excludes pseudo file systems through
//! `ignore_file_system_types` ([`PSEUDO_FILE_SYSTEMS`]), which would otherwise add a series per
//! container overlay, snap and tmpfs mount.
//!
//! The result is rendered tab-indented ([`render`]) and always passes the agent's own config
//! loader ([`check`]); the wizard refuses to save anything that does not.

use super::answers::{Answers, HostKind};
use super::presets::{host_plugins, HostPlugins};
use serde_json::{json, Map, Value};

/// File systems with no disk behind them, never worth a `disk` series.
pub const PSEUDO_FILE_SYSTEMS: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "overlay",
    "proc",
    "pstore",
    "ramfs",
    "rpc_pipefs",
    "securityfs",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
];

/// The four EC2 dimensions the agent resolves from instance metadata.
const EC2_DIMENSIONS: [&str; 4] = [
    "ImageId",
    "InstanceId",
    "InstanceType",
    "AutoScalingGroupName",
];

fn plugin(measurement: &[&str], interval: u32) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("measurement".into(), json!(measurement));
    m.insert("metrics_collection_interval".into(), json!(interval));
    m
}

fn all_resources(m: &mut Map<String, Value>) {
    m.insert("resources".into(), json!(["*"]));
}

fn host_section(p: &HostPlugins, per_core: bool, interval: u32) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(ms) = &p.cpu {
        let mut m = plugin(ms, interval);
        if per_core {
            all_resources(&mut m);
        }
        m.insert("totalcpu".into(), json!(true));
        out.insert("cpu".into(), Value::Object(m));
    }
    if let Some(ms) = &p.disk {
        let mut m = plugin(ms, interval);
        all_resources(&mut m);
        m.insert(
            "ignore_file_system_types".into(),
            json!(PSEUDO_FILE_SYSTEMS),
        );
        out.insert("disk".into(), Value::Object(m));
    }
    for (name, set, resources) in [
        ("diskio", &p.diskio, true),
        ("mem", &p.mem, false),
        ("net", &p.net, true),
        ("netstat", &p.netstat, false),
        ("swap", &p.swap, false),
    ] {
        if let Some(ms) = set {
            let mut m = plugin(ms, interval);
            if resources {
                all_resources(&mut m);
            }
            out.insert(name.into(), Value::Object(m));
        }
    }
    out
}

/// Builds the config from the answers. Log files are included; see [`build_metrics_only`] for
/// the preview shown before the logs questions.
pub fn build(a: &Answers) -> Value {
    let mut root = build_metrics_only(a);
    if !a.log_files.is_empty() {
        let list: Vec<Value> = a
            .log_files
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("file_path".into(), json!(f.path));
                m.insert("log_group_name".into(), json!(f.group_name));
                m.insert("log_group_class".into(), json!(f.group_class.as_str()));
                m.insert("log_stream_name".into(), json!(f.stream_name));
                if f.retention_days != -1 {
                    m.insert("retention_in_days".into(), json!(f.retention_days));
                }
                Value::Object(m)
            })
            .collect();
        if let Value::Object(r) = &mut root {
            r.insert(
                "logs".into(),
                json!({"logs_collected": {"files": {"collect_list": list}}}),
            );
        }
    }
    root
}

/// The `agent` and `metrics` sections only.
pub fn build_metrics_only(a: &Answers) -> Value {
    let mut agent = Map::new();
    if let Some(h) = &a.host_metrics {
        agent.insert("metrics_collection_interval".into(), json!(h.resolution));
    }
    agent.insert("run_as_user".into(), json!(a.run_as_user));

    let mut collected = Map::new();
    let mut metrics = Map::new();
    if let Some(h) = &a.host_metrics {
        let plugins = host_plugins(h.preset, a.host, &h.categories);
        collected.extend(host_section(&plugins, h.per_core, h.resolution));
        if a.host == HostKind::Ec2 {
            if h.ec2_dimensions {
                let dims: Map<String, Value> = EC2_DIMENSIONS
                    .iter()
                    .map(|d| (d.to_string(), json!(format!("${{aws:{d}}}"))))
                    .collect();
                metrics.insert("append_dimensions".into(), Value::Object(dims));
            }
            if h.aggregate_instance_id {
                metrics.insert("aggregation_dimensions".into(), json!([["InstanceId"]]));
            }
        }
    }
    if let Some(s) = &a.statsd {
        collected.insert(
            "statsd".into(),
            json!({
                "service_address": format!(":{}", s.port),
                "metrics_collection_interval": s.collection_interval,
                "metrics_aggregation_interval": s.aggregation_interval,
            }),
        );
    }
    if a.collectd {
        let aggregation = a.statsd.map_or(60, |s| s.aggregation_interval);
        collected.insert(
            "collectd".into(),
            json!({ "metrics_aggregation_interval": aggregation }),
        );
    }

    let mut root = Map::new();
    root.insert("agent".into(), Value::Object(agent));
    if !collected.is_empty() {
        metrics.insert("metrics_collected".into(), Value::Object(collected));
        root.insert("metrics".into(), Value::Object(metrics));
    }
    Value::Object(root)
}

/// Tab-indented JSON with a final newline, as the CloudWatch agent's wizard writes it.
pub fn render(config: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serialising a `Value` into a Vec cannot fail.
    let _ = config.serialize(&mut ser);
    let mut s = String::from_utf8_lossy(&out).into_owned();
    s.push('\n');
    s
}

/// Runs the config through the agent's loader: the wizard only saves what the agent accepts.
pub fn check(config: &Value) -> Result<(), String> {
    hostwatch_agent::config::load_value(config, "wizard output")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::answers::*;

    fn answers(host: HostKind, preset: Preset, per_core: bool) -> Answers {
        Answers {
            host,
            run_as_user: "hostwatch".into(),
            statsd: Some(Statsd::default()),
            collectd: true,
            host_metrics: Some(HostMetrics {
                per_core,
                ec2_dimensions: true,
                aggregate_instance_id: true,
                resolution: 60,
                preset,
                categories: Categories::default(),
            }),
            log_files: vec![LogFile {
                path: "/var/log/syslog".into(),
                group_name: "syslog".into(),
                group_class: LogGroupClass::Standard,
                stream_name: "{hostname}".into(),
                retention_days: 7,
            }],
        }
    }

    #[test]
    fn every_combination_loads_in_the_agent() {
        for host in [HostKind::Ec2, HostKind::OnPrem] {
            for preset in [
                Preset::Basic,
                Preset::Standard,
                Preset::Advanced,
                Preset::None,
            ] {
                for per_core in [true, false] {
                    let v = build(&answers(host, preset, per_core));
                    check(&v).unwrap_or_else(|e| panic!("{host:?} {preset:?}: {e}"));
                    let text = render(&v);
                    hostwatch_agent::config::load_str(&text, "t").unwrap();
                }
            }
        }
    }

    #[test]
    fn standard_without_per_core_still_collects_total_cpu() {
        let v = build(&answers(HostKind::Ec2, Preset::Standard, false));
        let cpu = &v["metrics"]["metrics_collected"]["cpu"];
        assert_eq!(cpu["totalcpu"], json!(true));
        assert!(cpu.get("resources").is_none());
        let loaded = hostwatch_agent::config::load_value(&v, "t").unwrap();
        let m = loaded.config.metrics.unwrap();
        let cpu = m.metrics_collected.cpu.unwrap();
        assert!(cpu.total_cpu);
        assert!(!cpu.per_cpu);
    }

    #[test]
    fn disk_skips_pseudo_file_systems() {
        let v = build(&answers(HostKind::OnPrem, Preset::Basic, true));
        let fs = &v["metrics"]["metrics_collected"]["disk"]["ignore_file_system_types"];
        for t in ["tmpfs", "overlay", "squashfs", "devtmpfs", "proc", "sysfs"] {
            assert!(fs.as_array().unwrap().contains(&json!(t)), "{t}");
        }
    }

    #[test]
    fn collectd_takes_the_statsd_aggregation() {
        let mut a = answers(HostKind::OnPrem, Preset::Basic, true);
        a.statsd = Some(Statsd {
            aggregation_interval: 0,
            ..Statsd::default()
        });
        let v = build(&a);
        assert_eq!(
            v["metrics"]["metrics_collected"]["collectd"],
            json!({"metrics_aggregation_interval": 0})
        );
        a.statsd = None;
        let v = build(&a);
        assert_eq!(
            v["metrics"]["metrics_collected"]["collectd"],
            json!({"metrics_aggregation_interval": 60})
        );
    }

    #[test]
    fn nothing_but_logs() {
        let mut a = answers(HostKind::OnPrem, Preset::Basic, true);
        a.statsd = None;
        a.collectd = false;
        a.host_metrics = None;
        a.log_files[0].retention_days = -1;
        let v = build(&a);
        assert!(v.get("metrics").is_none());
        assert_eq!(v["agent"], json!({"run_as_user": "hostwatch"}));
        let entry = &v["logs"]["logs_collected"]["files"]["collect_list"][0];
        assert!(entry.get("retention_in_days").is_none());
        check(&v).unwrap();
    }

    #[test]
    fn rendered_with_tabs() {
        let text = render(&json!({"agent": {"run_as_user": "root"}}));
        assert_eq!(
            text,
            "{\n\t\"agent\": {\n\t\t\"run_as_user\": \"root\"\n\t}\n}\n"
        );
    }
}
