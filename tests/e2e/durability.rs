//! Acknowledged data survives a collector restart and a kill -9.

use crate::util::{iso, now_secs, Collector};
use serde_json::json;

fn write_data(c: &Collector, round: i64) {
    let ts = iso(now_secs() - 120);
    let data = json!([{"MetricName": "durable", "Value": round, "Unit": "Count", "Timestamp": ts}]);
    c.aws_json(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "Dur",
        "--metric-data",
        &data.to_string(),
    ]);
    let events = json!([{"timestamp": now_secs() * 1000, "message": format!("event {round}")}]);
    c.aws_json(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "dur",
        "--log-stream-name",
        "s",
        "--log-events",
        &events.to_string(),
    ]);
}

fn read_back(c: &Collector) -> (f64, Vec<String>) {
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "Dur",
        "--metric-name",
        "durable",
        "--start-time",
        &iso(now_secs() - 3600),
        "--end-time",
        &iso(now_secs() + 60),
        "--period",
        "3600",
        "--statistics",
        "SampleCount",
    ]);
    let count = out["Datapoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["SampleCount"].as_f64())
        .sum();
    let out = c.aws_json(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "dur",
        "--log-stream-name",
        "s",
        "--start-from-head",
    ]);
    let msgs = out["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    (count, msgs)
}

#[test]
fn survives_sigterm_restart_and_kill9() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    c.aws_json(&["logs", "create-log-group", "--log-group-name", "dur"]);
    c.aws_json(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "dur",
        "--log-stream-name",
        "s",
    ]);
    write_data(&c, 1);
    c.stop();

    let c = Collector::start(dir.path());
    assert_eq!(read_back(&c), (1.0, vec!["event 1".to_string()]));
    write_data(&c, 2);
    // No graceful anything: acknowledged means committed.
    c.kill9();

    let c = Collector::start(dir.path());
    let (count, msgs) = read_back(&c);
    assert_eq!(count, 2.0);
    assert_eq!(msgs, vec!["event 1".to_string(), "event 2".to_string()]);
    let out = c.aws_json(&["cloudwatch", "list-metrics", "--namespace", "Dur"]);
    assert_eq!(out["Metrics"].as_array().map(Vec::len), Some(1));
}
