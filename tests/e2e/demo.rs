//! `hostwatch demo` starts a collector and an agent; the AWS CLI lines it prints work.

use crate::util::{bin, wait_for};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn demo_ships_metrics_the_printed_commands_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut demo = Command::new(bin("hostwatch"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "90",
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("collector: ") {
                if !sent {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    );
                    sent = true;
                }
            }
        }
    });
    let endpoint = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("demo printed the collector endpoint");
    let creds = dir.path().join("collector/credentials");
    let found = wait_for(Duration::from_secs(60), || {
        let out = Command::new("aws")
            .args([
                "--endpoint-url",
                &endpoint,
                "cloudwatch",
                "list-metrics",
                "--namespace",
                "CWAgent",
                "--output",
                "json",
            ])
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_PROFILE", "hostwatch")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        let names: Vec<String> = v["Metrics"]
            .as_array()?
            .iter()
            .filter_map(|m| m["MetricName"].as_str().map(str::to_string))
            .collect();
        (names.iter().any(|n| n == "cpu_usage_idle")
            && names.iter().any(|n| n == "mem_used_percent"))
        .then_some(names)
    });
    crate::util::signal(&demo, "INT");
    let status = demo.wait().unwrap();
    assert!(found.is_some(), "the demo's agent metrics never appeared");
    assert!(status.success(), "{status}");
}
