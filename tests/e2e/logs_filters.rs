//! Logs filter patterns through the AWS CLI: FilterLogEvents, TestMetricFilter, metric filters
//! feeding GetMetricStatistics, subscription filters delivering to a file and to HTTP.

use crate::util::{iso, now_secs, wait_for, Collector};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;

fn messages(out: &Value) -> Vec<String> {
    out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn filter_log_events_term_and_json_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    c.create_log_stream("/e2e/filter", "web");
    let t = now_secs() * 1000;
    c.put_log_events(
        "/e2e/filter",
        "web",
        &json!([
            {"timestamp": t - 4000, "message": "ERROR disk full"},
            {"timestamp": t - 3000, "message": "INFO all good"},
            {"timestamp": t - 2000, "message": "{\"level\":\"ERROR\",\"latency\":1200}"},
            {"timestamp": t - 1000, "message": "{\"level\":\"INFO\",\"latency\":3}"}
        ]),
    );
    let out = c.aws_json(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/e2e/filter",
        "--filter-pattern",
        "ERROR -INFO",
    ]);
    assert_eq!(
        messages(&out),
        ["ERROR disk full", "{\"level\":\"ERROR\",\"latency\":1200}"]
    );
    assert_eq!(out["events"][0]["logStreamName"], "web");
    assert_eq!(out["events"][0]["eventId"].as_str().unwrap().len(), 56);
    let out = c.aws_json(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/e2e/filter",
        "--filter-pattern",
        "{ $.latency > 1000 }",
    ]);
    assert_eq!(messages(&out), ["{\"level\":\"ERROR\",\"latency\":1200}"]);
    // The CLI follows nextToken across pages of one event.
    let out = c.aws_json(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/e2e/filter",
        "--page-size",
        "1",
    ]);
    assert_eq!(messages(&out).len(), 4);
    let bad = c.aws(&[
        "logs",
        "filter-log-events",
        "--log-group-name",
        "/e2e/filter",
        "--filter-pattern",
        "{ $.latency > }",
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("InvalidParameterException"), "{err}");
    assert!(err.contains("Invalid filter pattern"), "{err}");
    let out = c.aws_json(&[
        "logs",
        "test-metric-filter",
        "--filter-pattern",
        "[ip, user, status = 5*, bytes]",
        "--log-event-messages",
        "10.0.0.1 ann 503 120",
        "10.0.0.1 ann 200 99",
    ]);
    assert_eq!(
        out["matches"],
        json!([{"eventNumber": 1, "eventMessage": "10.0.0.1 ann 503 120",
                "extractedValues": {"$ip": "10.0.0.1", "$user": "ann", "$status": "503", "$bytes": "120"}}])
    );
}

#[test]
fn metric_filter_feeds_get_metric_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    c.create_log_stream("/e2e/metrics", "api");
    c.aws_json(&[
        "logs",
        "put-metric-filter",
        "--log-group-name",
        "/e2e/metrics",
        "--filter-name",
        "latency",
        "--filter-pattern",
        "{ $.latency = * }",
        "--metric-transformations",
        "metricName=Latency,metricNamespace=E2E/Logs,metricValue=$.latency,unit=Milliseconds",
    ]);
    let out = c.aws_json(&[
        "logs",
        "describe-metric-filters",
        "--log-group-name",
        "/e2e/metrics",
    ]);
    assert_eq!(out["metricFilters"][0]["filterName"], "latency");
    let now = now_secs();
    let t = now * 1000;
    c.put_log_events(
        "/e2e/metrics",
        "api",
        &json!([
            {"timestamp": t - 3000, "message": "{\"latency\": 100}"},
            {"timestamp": t - 2000, "message": "{\"latency\": 300}"},
            {"timestamp": t - 1000, "message": "no json here"}
        ]),
    );
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "E2E/Logs",
        "--metric-name",
        "Latency",
        "--start-time",
        &iso(now - 600),
        "--end-time",
        &iso(now + 600),
        "--period",
        "3600",
        "--statistics",
        "Sum",
        "SampleCount",
        "Maximum",
    ]);
    let dp = &out["Datapoints"][0];
    assert_eq!(dp["Sum"], 400.0, "{out}");
    assert_eq!(dp["SampleCount"], 2.0, "{out}");
    assert_eq!(dp["Maximum"], 300.0, "{out}");
    assert_eq!(dp["Unit"], "Milliseconds", "{out}");
    c.aws_json(&[
        "logs",
        "delete-metric-filter",
        "--log-group-name",
        "/e2e/metrics",
        "--filter-name",
        "latency",
    ]);
    let out = c.aws_json(&[
        "logs",
        "describe-metric-filters",
        "--log-group-name",
        "/e2e/metrics",
    ]);
    assert_eq!(out["metricFilters"], json!([]));
}

/// Accept HTTP requests on loopback, answer 200, and hand the bodies to the test.
fn http_sink() -> (u16, std::sync::mpsc::Receiver<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break None;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_string)
                        })
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if body.len() >= len {
                        break Some(body.to_string());
                    }
                }
            };
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            if let Some(b) = body {
                if tx.send(b).is_err() {
                    return;
                }
            }
        }
    });
    (port, rx)
}

#[test]
fn subscription_filters_deliver_to_file_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    c.create_log_stream("/e2e/subs", "app");
    let file = dir.path().join("subscription.jsonl");
    c.aws_json(&[
        "logs",
        "put-subscription-filter",
        "--log-group-name",
        "/e2e/subs",
        "--filter-name",
        "errors-to-file",
        "--filter-pattern",
        "ERROR",
        "--destination-arn",
        &format!("arn:hostwatch:file:::{}", file.display()),
    ]);
    let (port, bodies) = http_sink();
    c.aws_json(&[
        "logs",
        "put-subscription-filter",
        "--log-group-name",
        "/e2e/subs",
        "--filter-name",
        "all-to-http",
        "--filter-pattern",
        "",
        "--destination-arn",
        &format!("arn:hostwatch:http:::http://127.0.0.1:{port}/logs"),
    ]);
    let third = c.aws(&[
        "logs",
        "put-subscription-filter",
        "--log-group-name",
        "/e2e/subs",
        "--filter-name",
        "third",
        "--filter-pattern",
        "",
        "--destination-arn",
        &format!("arn:hostwatch:file:::{}", file.display()),
    ]);
    assert!(String::from_utf8_lossy(&third.stderr).contains("LimitExceededException"));
    let out = c.aws_json(&[
        "logs",
        "describe-subscription-filters",
        "--log-group-name",
        "/e2e/subs",
    ]);
    assert_eq!(out["subscriptionFilters"].as_array().unwrap().len(), 2);
    let t = now_secs() * 1000;
    c.put_log_events(
        "/e2e/subs",
        "app",
        &json!([
            {"timestamp": t - 2000, "message": "ERROR payment failed"},
            {"timestamp": t - 1000, "message": "INFO retrying"}
        ]),
    );
    let line = wait_for(Duration::from_secs(20), || {
        std::fs::read_to_string(&file)
            .ok()
            .filter(|s| s.ends_with('\n'))
    })
    .expect("the file subscription received the events");
    let msg: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(msg["messageType"], "DATA_MESSAGE");
    assert_eq!(msg["logGroup"], "/e2e/subs");
    assert_eq!(msg["logStream"], "app");
    assert_eq!(msg["owner"], "000000000000");
    assert_eq!(msg["subscriptionFilters"], json!(["errors-to-file"]));
    assert_eq!(msg["logEvents"].as_array().unwrap().len(), 1);
    assert_eq!(msg["logEvents"][0]["message"], "ERROR payment failed");
    // HTTP gets what a Lambda function gets: gzip + base64 under awslogs.data.
    let body = bodies
        .recv_timeout(Duration::from_secs(20))
        .expect("the HTTP subscription received the events");
    let wrapped: Value = serde_json::from_str(&body).unwrap();
    let data = wrapped["awslogs"]["data"].as_str().unwrap();
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,base64,gzip;sys.stdout.write(gzip.decompress(base64.b64decode(sys.argv[1])).decode())",
            data,
        ])
        .output()
        .unwrap();
    let msg: Value = serde_json::from_slice(&py.stdout).unwrap();
    assert_eq!(msg["subscriptionFilters"], json!(["all-to-http"]));
    let got: Vec<&str> = msg["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["ERROR payment failed", "INFO retrying"]);
    c.aws_json(&[
        "logs",
        "delete-subscription-filter",
        "--log-group-name",
        "/e2e/subs",
        "--filter-name",
        "errors-to-file",
    ]);
}
