//! The real collectd daemon (network plugin) sends to the real agent in each security level;
//! the agent ships to the real collector, and the AWS CLI sees the `collectd_*` metrics.
//!
//! Four collectd daemons (cpu, memory and load at a 1 s interval) run at once, each with its
//! own `Hostname` so its metrics are told apart by the `host` dimension:
//! - `e2e-none` → agent A (security level none, a types.db path that does not exist: built-in
//!   type definitions, with a warning), no aggregation;
//! - `e2e-sign` → agent B (sign), 5 s aggregation;
//! - `e2e-wrong` → agent B with a wrong password: rejected and counted, never stored;
//! - `e2e-encrypt` → agent C (encrypt), 5 s aggregation.

// Test helpers: a failed set-up step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::util::{bin, iso, now_secs, signal, wait_for, Collector};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "wonderland";

/// A child process killed when the test ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        signal(&self.0, "TERM");
        for _ in 0..50 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn collectd_binary() -> PathBuf {
    for p in ["/usr/sbin/collectd", "/usr/bin/collectd"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("collectd is not installed (apt-get install collectd-core; scripts/test.sh does)");
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

fn start_collectd(dir: &Path, host: &str, port: u16, level: &str, password: &str) -> Daemon {
    let base = dir.join(host);
    std::fs::create_dir_all(&base).unwrap();
    let security = match level {
        "none" => String::new(),
        l => format!(
            "SecurityLevel {}\n    Username \"{USER}\"\n    Password \"{password}\"",
            if l == "sign" { "Sign" } else { "Encrypt" }
        ),
    };
    let conf = format!(
        r#"Hostname "{host}"
FQDNLookup false
Interval 1
BaseDir "{base}"
PIDFile "{base}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{base}/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin network
<Plugin network>
  <Server "127.0.0.1" "{port}">
    {security}
  </Server>
</Plugin>
"#,
        base = base.display()
    );
    let path = base.join("collectd.conf");
    std::fs::write(&path, conf).unwrap();
    Daemon(
        Command::new(collectd_binary())
            .arg("-f")
            .arg("-C")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start collectd"),
    )
}

struct Agent {
    _daemon: Daemon,
    state: PathBuf,
    log: PathBuf,
}

fn start_agent(
    c: &Collector,
    dir: &Path,
    name: &str,
    port: u16,
    level: &str,
    typesdb: &str,
    aggregation: u64,
) -> Agent {
    let base = dir.join(name);
    std::fs::create_dir_all(&base).unwrap();
    let auth = base.join("auth_file");
    std::fs::write(&auth, format!("{USER}: {PASSWORD}\n")).unwrap();
    let cfg = json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {
            "endpoint_override": c.endpoint,
            "force_flush_interval": 1,
            "metrics_collected": {
                "collectd": {
                    "service_address": format!("udp://127.0.0.1:{port}"),
                    "collectd_security_level": level,
                    "collectd_auth_file": auth,
                    "collectd_typesdb": [typesdb],
                    "metrics_aggregation_interval": aggregation
                }
            }
        }
    });
    let cfg_path = base.join("agent.json");
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let state = base.join("state");
    let log = base.join("agent.log");
    let child = Command::new(bin("hostwatch-agent"))
        .arg("--config")
        .arg(&cfg_path)
        .arg("--state-dir")
        .arg(&state)
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Agent {
        _daemon: Daemon(child),
        state,
        log,
    }
}

fn stats(agent: &Agent) -> Value {
    std::fs::read_to_string(agent.state.join("collectd-stats.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// The dimension sets (as name → value maps) of `metric` in list-metrics.
fn listed(c: &Collector, metric: &str) -> Vec<serde_json::Map<String, Value>> {
    let l = c.aws_json(&[
        "cloudwatch",
        "list-metrics",
        "--namespace",
        "CWAgent",
        "--metric-name",
        metric,
    ]);
    l["Metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            m["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    (
                        d["Name"].as_str().unwrap_or("").to_string(),
                        d["Value"].clone(),
                    )
                })
                .collect()
        })
        .collect()
}

fn has(c: &Collector, metric: &str, dims: &[(&str, &str)]) -> bool {
    listed(c, metric)
        .iter()
        .any(|m| dims.iter().all(|(k, v)| m.get(*k) == Some(&json!(v))))
}

/// Average and maximum of `metric` with exactly `dims`, over the last 10 minutes.
fn stats_of(c: &Collector, metric: &str, dims: &[(&str, &str)]) -> Option<(f64, f64, String)> {
    let start = iso(now_secs() - 600);
    let end = iso(now_secs() + 60);
    let mut args: Vec<String> = [
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "CWAgent",
        "--metric-name",
        metric,
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "600",
        "--statistics",
        "Average",
        "Maximum",
        "--dimensions",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(dims.iter().map(|(k, v)| format!("Name={k},Value={v}")));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = c.aws_json(&refs);
    let d = out["Datapoints"].as_array()?.first()?.clone();
    Some((
        d["Average"].as_f64()?,
        d["Maximum"].as_f64()?,
        d["Unit"].as_str()?.to_string(),
    ))
}

#[test]
fn collectd_all_security_levels_reach_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let (pa, pb, pc) = (free_udp_port(), free_udp_port(), free_udp_port());
    let a = start_agent(
        &c,
        dir.path(),
        "agent-none",
        pa,
        "none",
        "/nonexistent/types.db",
        0,
    );
    let b = start_agent(
        &c,
        dir.path(),
        "agent-sign",
        pb,
        "sign",
        "/usr/share/collectd/types.db",
        5,
    );
    let e = start_agent(
        &c,
        dir.path(),
        "agent-encrypt",
        pc,
        "encrypt",
        "/usr/share/collectd/types.db",
        5,
    );
    let _cd = [
        start_collectd(dir.path(), "e2e-none", pa, "none", PASSWORD),
        start_collectd(dir.path(), "e2e-sign", pb, "sign", PASSWORD),
        start_collectd(dir.path(), "e2e-wrong", pb, "sign", "not-the-password"),
        start_collectd(dir.path(), "e2e-encrypt", pc, "encrypt", PASSWORD),
    ];

    for host in ["e2e-none", "e2e-sign", "e2e-encrypt"] {
        let ok = wait_for(Duration::from_secs(90), || {
            (has(
                &c,
                "collectd_memory_value",
                &[
                    ("host", host),
                    ("type", "memory"),
                    ("type_instance", "used"),
                ],
            ) && has(
                &c,
                "collectd_load_shortterm",
                &[("host", host), ("type", "load")],
            ) && has(
                &c,
                "collectd_cpu_value",
                &[
                    ("host", host),
                    ("instance", "0"),
                    ("type", "cpu"),
                    ("type_instance", "idle"),
                ],
            ))
            .then_some(())
        });
        assert!(
            ok.is_some(),
            "{host}: collectd metrics never listed; agent logs:\n{}\n{}\n{}",
            std::fs::read_to_string(&a.log).unwrap_or_default(),
            std::fs::read_to_string(&b.log).unwrap_or_default(),
            std::fs::read_to_string(&e.log).unwrap_or_default(),
        );
        // Plausible values: used memory is positive and below 16 TiB; load in [0, 1000).
        let (avg, max, unit) = wait_for(Duration::from_secs(30), || {
            stats_of(
                &c,
                "collectd_memory_value",
                &[
                    ("host", host),
                    ("type", "memory"),
                    ("type_instance", "used"),
                ],
            )
        })
        .expect("memory statistics");
        assert_eq!(unit, "None");
        assert!(
            avg > 1e6 && max < 16e12,
            "{host}: used memory {avg} / {max}"
        );
        let (load, _, _) = stats_of(
            &c,
            "collectd_load_shortterm",
            &[("host", host), ("type", "load")],
        )
        .expect("load statistics");
        assert!((0.0..1000.0).contains(&load), "{host}: load {load}");
        // cpu idle is collectd's raw cumulative jiffies counter (a derive).
        let (idle, _, _) = stats_of(
            &c,
            "collectd_cpu_value",
            &[
                ("host", host),
                ("instance", "0"),
                ("type", "cpu"),
                ("type_instance", "idle"),
            ],
        )
        .expect("cpu statistics");
        assert!(idle >= 0.0, "{host}: idle {idle}");
    }

    // The wrong password never gets in, and each rejection is counted and logged.
    let s = wait_for(Duration::from_secs(30), || {
        let s = stats(&b);
        (s["packets_bad_signature"].as_u64() > Some(0)).then_some(s)
    })
    .unwrap_or_else(|| panic!("no bad signature counted: {}", stats(&b)));
    assert!(s["values_received"].as_u64() > Some(0), "{s}");
    assert_eq!(s["security_level"], "sign");
    assert!(
        listed(&c, "collectd_memory_value")
            .iter()
            .all(|m| m.get("host") != Some(&json!("e2e-wrong"))),
        "a packet signed with the wrong password was accepted"
    );
    let log_b = std::fs::read_to_string(&b.log).unwrap_or_default();
    assert!(
        log_b.contains("signature mismatch for user \"alice\""),
        "{log_b}"
    );
    // Encrypt mode saw only encrypted packets; level none had nothing to reject.
    let s = stats(&e);
    assert_eq!(s["packets_security_rejected"], 0, "{s}");
    assert_eq!(s["packets_decrypt_failed"], 0, "{s}");
    let s = stats(&a);
    assert_eq!(s["packets_malformed"], 0, "{s}");
    // The missing types.db is a warning, not a failure (the metrics above arrived).
    let log_a = std::fs::read_to_string(&a.log).unwrap_or_default();
    assert!(
        log_a.contains("cannot read types.db /nonexistent/types.db"),
        "{log_a}"
    );
}
