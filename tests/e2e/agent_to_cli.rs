//! The real agent ships cpu and mem to the real collector; the AWS CLI sees them.

use crate::util::{bin, iso, now_secs, signal, wait_for, Collector};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn agent_config(endpoint: &str) -> Value {
    json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {
            "endpoint_override": endpoint,
            "force_flush_interval": 1,
            "metrics_collected": {
                "cpu": {"resources": ["*"], "totalcpu": true, "measurement": ["cpu_usage_idle", "usage_user", {"name": "usage_system", "unit": "Percent"}]},
                "mem": {"measurement": ["mem_used_percent", "available"]}
            }
        }
    })
}

fn has_metric(list: &Value, name: &str, dims: &[(&str, &str)]) -> bool {
    list["Metrics"].as_array().into_iter().flatten().any(|m| {
        m["MetricName"] == name
            && dims.iter().all(|(k, v)| {
                m["Dimensions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|d| d["Name"] == *k && (v.is_empty() || d["Value"] == *v))
            })
    })
}

#[test]
fn agent_metrics_reach_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let cfg = dir.path().join("agent.json");
    std::fs::write(&cfg, agent_config(&c.endpoint).to_string()).unwrap();
    let mut agent = Command::new(bin("hostwatch-agent"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("agent-state"))
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();

    let host = hostname_of_this_machine();
    let listed = wait_for(Duration::from_secs(60), || {
        let l = c.aws_json(&["cloudwatch", "list-metrics", "--namespace", "CWAgent"]);
        (has_metric(
            &l,
            "cpu_usage_idle",
            &[("host", &host), ("cpu", "cpu-total")],
        ) && has_metric(&l, "cpu_usage_idle", &[("host", &host), ("cpu", "cpu0")])
            && has_metric(&l, "mem_used_percent", &[("host", &host)])
            && has_metric(&l, "mem_available", &[("host", &host)]))
        .then_some(l)
    });
    assert!(
        listed.is_some(),
        "agent metrics never appeared in list-metrics"
    );

    let start = iso(now_secs() - 600);
    let end = iso(now_secs() + 60);
    let dims = format!("Name=host,Value={host} Name=cpu,Value=cpu-total");
    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "CWAgent",
        "--metric-name",
        "cpu_usage_idle",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
        "Average",
        "Maximum",
        "Minimum",
        "--dimensions",
    ];
    args.extend(dims.split(' '));
    let out = c.aws_json(&args);
    let dps = out["Datapoints"].as_array().cloned().unwrap_or_default();
    assert!(!dps.is_empty(), "{out}");
    for d in &dps {
        assert_eq!(d["Unit"], "Percent", "{d}");
        let v = d["Average"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&v), "{d}");
    }
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "CWAgent",
        "--metric-name",
        "mem_used_percent",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
        "Average",
        "--dimensions",
        &format!("Name=host,Value={host}"),
    ]);
    let dps = out["Datapoints"].as_array().cloned().unwrap_or_default();
    assert!(!dps.is_empty(), "{out}");
    assert_eq!(dps[0]["Unit"], "Percent");
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "CWAgent",
        "--metric-name",
        "mem_available",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
        "Average",
        "--dimensions",
        &format!("Name=host,Value={host}"),
    ]);
    assert_eq!(out["Datapoints"][0]["Unit"], "Bytes", "{out}");

    // SIGTERM: flush and exit within 10 s.
    signal(&agent, "TERM");
    let t = Instant::now();
    let status = loop {
        if let Some(s) = agent.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > Duration::from_secs(10) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = agent.kill();
    let status = status.expect("agent did not exit within 10 s of SIGTERM");
    assert!(status.success(), "{status}");
}

#[test]
fn once_prints_datapoints() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.json");
    std::fs::write(&cfg, agent_config("http://127.0.0.1:9").to_string()).unwrap();
    let out = Command::new(bin("hostwatch-agent"))
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--once")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let find = |name: &str, cpu: Option<&str>| {
        lines
            .iter()
            .find(|l| l["metric_name"] == name && cpu.is_none_or(|c| l["dimensions"]["cpu"] == c))
            .cloned()
    };
    let idle = find("cpu_usage_idle", Some("cpu-total")).expect("cpu_usage_idle for cpu-total");
    assert_eq!(idle["namespace"], "CWAgent");
    assert_eq!(idle["unit"], "Percent");
    assert!(idle["dimensions"]["host"].is_string());
    let v = idle["value"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&v));
    assert!(find("cpu_usage_idle", Some("cpu0")).is_some());
    assert!(find("cpu_usage_user", Some("cpu-total")).is_some());
    let mem = find("mem_used_percent", None).expect("mem_used_percent");
    assert_eq!(mem["unit"], "Percent");
    assert_eq!(
        find("mem_available", None).expect("mem_available")["unit"],
        "Bytes"
    );
    // Nothing that was not configured.
    assert!(find("cpu_usage_iowait", None).is_none());
}

fn hostname_of_this_machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}
