//! StatsD end to end: the Python `statsd` package and a raw socket send every metric type to the
//! real agent, which aggregates and ships to the real collector; the AWS CLI then reads the
//! aggregates back (Sum, SampleCount, Minimum, Maximum, p50/p99 of a timing).

// Test helpers: a failed set-up step should fail the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::util::{assert_ok, bin, iso, now_secs, signal, wait_for, Collector};
use serde_json::{json, Value};
use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const NS: &str = "StatsdE2E";

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent_config(c: &Collector, port: u16, aggregation: u64, separator: &str) -> Value {
    json!({
        "agent": {"region": "us-east-1", "omit_hostname": true},
        "metrics": {
            "namespace": NS,
            "endpoint_override": c.endpoint,
            "force_flush_interval": 1,
            "metrics_collected": {
                "statsd": {
                    "service_address": format!("127.0.0.1:{port}"),
                    "metrics_collection_interval": 1,
                    "metrics_aggregation_interval": aggregation,
                    "metric_separator": separator
                }
            }
        }
    })
}

fn start_agent(c: &Collector, dir: &std::path::Path, cfg: &Value) -> Agent {
    let path = dir.join("agent.json");
    std::fs::write(&path, cfg.to_string()).unwrap();
    let child = Command::new(bin("hostwatch-agent"))
        .arg("--config")
        .arg(&path)
        .arg("--state-dir")
        .arg(dir.join("agent-state"))
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    Agent(child)
}

fn wait_bound(port: u16) {
    let bound = wait_for(Duration::from_secs(30), || {
        UdpSocket::bind(("127.0.0.1", port)).is_err().then_some(())
    });
    assert!(bound.is_some(), "the agent never bound its StatsD port");
}

/// The statistics of one metric over the last half hour, datapoints combined.
fn stats(c: &Collector, name: &str, dims: &[(&str, &str)]) -> Option<Value> {
    let start = iso(now_secs() - 1800);
    let end = iso(now_secs() + 600);
    let dim_args: Vec<String> = dims
        .iter()
        .map(|(k, v)| format!("Name={k},Value={v}"))
        .collect();
    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        NS,
        "--metric-name",
        name,
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "3600",
        "--statistics",
        "Sum",
        "SampleCount",
        "Minimum",
        "Maximum",
        "--dimensions",
    ];
    args.extend(dim_args.iter().map(String::as_str));
    let out = c.aws(&args);
    if !out.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    let dps = v["Datapoints"].as_array()?.clone();
    if dps.is_empty() {
        return None;
    }
    let f = |d: &Value, k: &str| d[k].as_f64().unwrap_or(f64::NAN);
    let sum: f64 = dps.iter().map(|d| f(d, "Sum")).sum();
    let count: f64 = dps.iter().map(|d| f(d, "SampleCount")).sum();
    let min = dps
        .iter()
        .map(|d| f(d, "Minimum"))
        .fold(f64::INFINITY, f64::min);
    let max = dps
        .iter()
        .map(|d| f(d, "Maximum"))
        .fold(f64::NEG_INFINITY, f64::max);
    Some(
        json!({"Sum": sum, "SampleCount": count, "Minimum": min, "Maximum": max,
                "Unit": dps[0]["Unit"].clone(), "points": dps.len()}),
    )
}

fn percentiles(c: &Collector, name: &str, dims: &[(&str, &str)]) -> Option<Value> {
    let start = iso(now_secs() - 1800);
    let end = iso(now_secs() + 600);
    let dim_args: Vec<String> = dims
        .iter()
        .map(|(k, v)| format!("Name={k},Value={v}"))
        .collect();
    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        NS,
        "--metric-name",
        name,
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "3600",
        "--extended-statistics",
        "p50",
        "p99",
        "--dimensions",
    ];
    args.extend(dim_args.iter().map(String::as_str));
    let v = c.aws_json(&args);
    let dps = v["Datapoints"].as_array()?;
    (dps.len() == 1).then(|| dps[0]["ExtendedStatistics"].clone())
}

/// Wait until the metric's statistics satisfy `ok`; returns the last seen value.
fn wait_stats(
    c: &Collector,
    name: &str,
    dims: &[(&str, &str)],
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    let found = wait_for(Duration::from_secs(60), || {
        let s = stats(c, name, dims)?;
        last = s.clone();
        ok(&s).then_some(s)
    });
    found.unwrap_or_else(|| panic!("{name} {dims:?} never matched; last seen: {last}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn statsd_python_and_raw_socket_reach_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let port = free_udp_port();
    let _agent = start_agent(&c, dir.path(), &agent_config(&c, port, 10, "_"));
    // The agent holds the port once it listens.
    wait_bound(port);

    let out = c.python("statsd_send.py", &[&port.to_string()]);
    assert_ok(&out);

    // Counters: summed, divided by the sample rate.
    let s = wait_stats(&c, "py_requests", &[("metric_type", "counter")], |s| {
        close(s["Sum"].as_f64().unwrap_or(0.0), 5.0)
    });
    assert_eq!(s["Unit"], "None", "{s}");
    wait_stats(&c, "raw_hits", &[("metric_type", "counter")], |s| {
        close(s["Sum"].as_f64().unwrap_or(0.0), 20.0)
    });
    // Gauge: absolute then relative changes in one packet.
    let s = wait_stats(&c, "py_queue", &[("metric_type", "gauge")], |s| {
        s["SampleCount"].as_f64() >= Some(1.0)
    });
    assert!(close(s["Maximum"].as_f64().unwrap(), 12.0), "{s}");
    assert!(close(s["Minimum"].as_f64().unwrap(), 12.0), "{s}");
    // Set: distinct members.
    let s = wait_stats(&c, "py_users", &[("metric_type", "set")], |s| {
        s["SampleCount"].as_f64() >= Some(1.0)
    });
    assert!(close(s["Maximum"].as_f64().unwrap(), 3.0), "{s}");
    // Timings: every value, percentiles over the distribution.
    let s = wait_stats(&c, "py_latency", &[("metric_type", "timing")], |s| {
        close(s["SampleCount"].as_f64().unwrap_or(0.0), 100.0)
    });
    assert!(close(s["Sum"].as_f64().unwrap(), 5050.0), "{s}");
    assert!(close(s["Minimum"].as_f64().unwrap(), 1.0), "{s}");
    assert!(close(s["Maximum"].as_f64().unwrap(), 100.0), "{s}");
    eprintln!("timing stats: {s}");
    if s["points"] == 1 {
        let p = percentiles(&c, "py_latency", &[("metric_type", "timing")])
            .expect("percentiles of the timing");
        eprintln!("timing percentiles: {p}");
        let p50 = p["p50"].as_f64().unwrap();
        let p99 = p["p99"].as_f64().unwrap();
        assert!((49.0..=51.0).contains(&p50), "p50 {p}");
        assert!((98.0..=100.0).contains(&p99), "p99 {p}");
    }
    // A sampled timing counts 1/rate times.
    let s = wait_stats(&c, "raw_rated", &[("metric_type", "timing")], |s| {
        close(s["SampleCount"].as_f64().unwrap_or(0.0), 2.0)
    });
    assert!(close(s["Sum"].as_f64().unwrap(), 8.0), "{s}");
    // Histograms: several values per line and lines per packet.
    let s = wait_stats(&c, "raw_size", &[("metric_type", "histogram")], |s| {
        close(s["SampleCount"].as_f64().unwrap_or(0.0), 3.0)
    });
    assert!(close(s["Sum"].as_f64().unwrap(), 600.0), "{s}");
    assert!(close(s["Minimum"].as_f64().unwrap(), 100.0), "{s}");
    assert!(close(s["Maximum"].as_f64().unwrap(), 300.0), "{s}");
    // DogStatsD tags are dimensions, whatever their order on the line.
    for (env, sum) in [("prod", 5.0), ("dev", 5.0)] {
        wait_stats(
            &c,
            "raw_tagged",
            &[("env", env), ("metric_type", "counter"), ("region", "eu")]
                [..if env == "prod" { 3 } else { 2 }],
            |s| close(s["Sum"].as_f64().unwrap_or(0.0), sum),
        );
    }
    // The valid line after a malformed one in the same packet was kept.
    wait_stats(&c, "raw_after", &[("metric_type", "counter")], |s| {
        close(s["Sum"].as_f64().unwrap_or(0.0), 1.0)
    });
    // Malformed lines were counted, nothing was dropped.
    let stats_file = dir.path().join("agent-state/statsd-stats.json");
    let counters = wait_for(Duration::from_secs(10), || {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&stats_file).ok()?).ok()?;
        (v["malformed"].as_u64()? >= 4).then_some(v)
    })
    .expect("statsd-stats.json with the malformed count");
    assert_eq!(counters["malformed"], 4, "{counters}");
    assert_eq!(counters["queue_dropped"], 0, "{counters}");
    assert_eq!(counters["kernel_dropped"], 0, "{counters}");
}

#[test]
fn statsd_tcp_without_aggregation_survives_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let port = free_udp_port();
    let agent = start_agent(&c, dir.path(), &agent_config(&c, port, 0, "_"));
    wait_bound(port);
    // Newline-delimited TCP, a line split across writes.
    let mut tcp = wait_for(Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    })
    .expect("TCP listener");
    for _ in 0..10 {
        tcp.write_all(b"tcp.count:1|c\ntcp.t").unwrap();
        tcp.write_all(b"iming:7|ms\n").unwrap();
    }
    drop(tcp);
    let s = wait_stats(&c, "tcp_count", &[("metric_type", "counter")], |s| {
        close(s["Sum"].as_f64().unwrap_or(0.0), 10.0)
    });
    // No aggregation: one datapoint per collection interval that saw data.
    assert!(s["SampleCount"].as_f64().unwrap() >= 1.0, "{s}");
    wait_stats(&c, "tcp_timing", &[("metric_type", "timing")], |s| {
        close(s["SampleCount"].as_f64().unwrap_or(0.0), 10.0)
            && close(s["Maximum"].as_f64().unwrap_or(0.0), 7.0)
    });

    // Reload with another separator: the listener keeps its port and takes the new setting.
    std::fs::write(
        dir.path().join("agent.json"),
        agent_config(&c, port, 0, ".").to_string(),
    )
    .unwrap();
    signal(&agent.0, "HUP");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let taken = wait_for(Duration::from_secs(30), || {
        udp.send_to(b"after.reload:1|c", ("127.0.0.1", port)).ok()?;
        stats(&c, "after.reload", &[("metric_type", "counter")])
    });
    assert!(taken.is_some(), "no data after the reload");
    assert!(UdpSocket::bind(("127.0.0.1", port)).is_err());
}
