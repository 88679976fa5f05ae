//! The AWS CLI drives EventBridge on the collector: rules, targets and PutEvents deliver to a
//! tiny HTTP server on loopback through an InputTransformer; alarm state and configuration
//! changes reach rules on the default bus; an archive replays events to the HTTP server again
//! with `replay-name`; the collector's own lifecycle events reach a rule; an `https://` target
//! signed by a CA given in `[events] target_ca_bundle` receives events.

use crate::util::{iso, now_secs, py_dir, wait_for, Collector};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Accept HTTP requests on loopback; every request's (headers, body) is sent on the channel
/// and answered `204`.
fn http_sink() -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let _ = stream.write_all(
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            if tx.send((head, String::from_utf8(body).unwrap())).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

fn wait_for_line(path: &Path) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Some(line) = text.lines().next() {
                return serde_json::from_str(line).unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing written to {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn put_events_reach_an_http_target_through_an_input_transformer() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let (port, bodies) = http_sink();

    let buses = c.aws_json(&["events", "list-event-buses"]);
    assert_eq!(buses["EventBuses"][0]["Name"], "default");
    let rule = c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "orders",
        "--event-pattern",
        r#"{"source":["e2e.shop"],"detail":{"total":[{"numeric":[">",10]}]}}"#,
    ]);
    let arn = rule["RuleArn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:events:us-east-1:") && arn.ends_with(":rule/orders"),
        "{arn}"
    );
    let targets = json!([{
        "Id": "hook",
        "Arn": format!("arn:hostwatch:http:::http://127.0.0.1:{port}/hook"),
        "HttpParameters": {"HeaderParameters": {"X-Test": "yes"}},
        "InputTransformer": {
            "InputPathsMap": {"order": "$.detail.orderId", "src": "$.source"},
            "InputTemplate": "{\"order\": <order>, \"from\": \"shop <src>\", \"rule\": <aws.events.rule-name>}"
        }
    }]);
    let out = c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "orders",
        "--targets",
        &targets.to_string(),
    ]);
    assert_eq!(out["FailedEntryCount"], 0);
    let listed = c.aws_json(&["events", "list-targets-by-rule", "--rule", "orders"]);
    assert_eq!(
        listed["Targets"][0]["InputTransformer"]["InputPathsMap"]["order"],
        "$.detail.orderId"
    );

    let entries = json!([
        {"Source": "e2e.shop", "DetailType": "Order", "Detail": "{\"orderId\":\"o-1\",\"total\":5}"},
        {"Source": "e2e.shop", "DetailType": "Order", "Detail": "{\"orderId\":\"o-2\",\"total\":50}"},
        {"Source": "e2e.shop", "DetailType": "Order", "Detail": "not json"}
    ]);
    let out = c.aws_json(&["events", "put-events", "--entries", &entries.to_string()]);
    assert_eq!(out["FailedEntryCount"], 1, "{out}");
    assert_eq!(out["Entries"][2]["ErrorCode"], "MalformedDetail");

    let (head, body) = bodies
        .recv_timeout(Duration::from_secs(60))
        .expect("the HTTP target received the event");
    assert!(head.starts_with("POST /hook HTTP/1.1"), "{head}");
    assert!(head.to_ascii_lowercase().contains("x-test: yes"), "{head}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"order": "o-2", "from": "shop e2e.shop", "rule": "orders"})
    );
    assert!(
        bodies.recv_timeout(Duration::from_millis(500)).is_err(),
        "the small order does not match"
    );

    let del = c.aws(&["events", "delete-rule", "--name", "orders"]);
    assert!(!del.status.success());
    assert!(String::from_utf8_lossy(&del.stderr)
        .contains("Rule can't be deleted since it has targets."));
    c.aws_json(&[
        "events",
        "remove-targets",
        "--rule",
        "orders",
        "--ids",
        "hook",
    ]);
    c.aws_json(&["events", "delete-rule", "--name", "orders"]);
    let rules = c.aws_json(&["events", "list-rules"]);
    assert_eq!(rules["Rules"], json!([]));
}

#[test]
fn alarm_state_changes_route_through_the_default_bus() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let out_file = dir.path().join("alarm-events.jsonl");
    c.aws_json(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "/e2e/events",
    ]);
    // A metric filter on the target's group counts what the rule writes there.
    c.aws_json(&[
        "logs",
        "put-metric-filter",
        "--log-group-name",
        "/e2e/events",
        "--filter-name",
        "alarms",
        "--filter-pattern",
        r#"{ $.value = "ALARM" }"#,
        "--metric-transformations",
        "metricName=AlarmEvents,metricNamespace=E2E/Events,metricValue=1",
    ]);
    let rule = c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "alarms",
        "--event-pattern",
        r#"{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"]}"#,
    ]);
    let account = rule["RuleArn"].as_str().unwrap().split(':').nth(4).unwrap();
    let targets = json!([{"Id": "file", "Arn": format!("arn:hostwatch:file:::{}", out_file.display())},
            {"Id": "logs", "Arn": format!("arn:aws:logs:us-east-1:{account}:log-group:/e2e/events"),
             "InputPath": "$.detail.state"}]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "alarms",
        "--targets",
        &targets.to_string(),
    ]);
    let config_file = dir.path().join("alarm-config-events.jsonl");
    c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "alarm-config",
        "--event-pattern",
        r#"{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm Configuration Change"]}"#,
    ]);
    let targets =
        json!([{"Id": "file", "Arn": format!("arn:hostwatch:file:::{}", config_file.display())}]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "alarm-config",
        "--targets",
        &targets.to_string(),
    ]);
    c.aws_json(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "e2e-events",
        "--namespace",
        "E2E/Events",
        "--metric-name",
        "Errors",
        "--statistic",
        "Sum",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "1",
        "--comparison-operator",
        "GreaterThanThreshold",
    ]);
    c.aws_json(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        "e2e-events",
        "--state-value",
        "ALARM",
        "--state-reason",
        "e2e",
    ]);
    let event = wait_for_line(&out_file);
    assert_eq!(event["source"], "aws.cloudwatch");
    let created = wait_for_line(&config_file);
    assert_eq!(
        created["detail-type"],
        "CloudWatch Alarm Configuration Change"
    );
    assert_eq!(created["detail"]["alarmName"], "e2e-events");
    assert_eq!(created["detail"]["operation"], "create");
    assert_eq!(event["detail"]["alarmName"], "e2e-events");
    assert_eq!(event["detail"]["state"]["value"], "ALARM");
    // The log-group target wrote the InputPath value into a stream named after the rule.
    let deadline = Instant::now() + Duration::from_secs(60);
    let message = loop {
        let out = c.aws(&[
            "logs",
            "get-log-events",
            "--log-group-name",
            "/e2e/events",
            "--log-stream-name",
            "alarms",
        ]);
        if out.status.success() {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            if let Some(m) = v["events"][0]["message"].as_str() {
                break m.to_string();
            }
        }
        assert!(Instant::now() < deadline, "no log event from the rule");
        std::thread::sleep(Duration::from_millis(200));
    };
    let state: Value = serde_json::from_str(&message).unwrap();
    assert_eq!(state["value"], "ALARM");
    assert_eq!(state["reason"], "e2e");
    // ... and the group's metric filter counted it.
    let (start, end) = (iso(now_secs() - 600), iso(now_secs() + 60));
    let sum = wait_for(Duration::from_secs(30), || {
        let v = c.aws_json(&[
            "cloudwatch",
            "get-metric-statistics",
            "--namespace",
            "E2E/Events",
            "--metric-name",
            "AlarmEvents",
            "--start-time",
            &start,
            "--end-time",
            &end,
            "--period",
            "600",
            "--statistics",
            "Sum",
        ]);
        v["Datapoints"][0]["Sum"].as_f64()
    });
    assert_eq!(
        sum,
        Some(1.0),
        "the metric filter did not count the target's event"
    );
}

#[test]
fn an_archive_replays_events_to_the_http_target_with_replay_name() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let (port, bodies) = http_sink();
    let rule = c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "orders",
        "--event-pattern",
        r#"{"source":["e2e.shop"]}"#,
    ]);
    let rule_arn = rule["RuleArn"].as_str().unwrap().to_string();
    let targets = json!([{"Id": "hook",
        "Arn": format!("arn:hostwatch:http:::http://127.0.0.1:{port}/hook")}]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "orders",
        "--targets",
        &targets.to_string(),
    ]);
    let bus_arn = rule_arn.replace(":rule/orders", ":event-bus/default");
    let start = now_secs() - 60;
    let archive = c.aws_json(&[
        "events",
        "create-archive",
        "--archive-name",
        "shop",
        "--event-source-arn",
        &bus_arn,
        "--event-pattern",
        r#"{"source":["e2e.shop"]}"#,
        "--retention-days",
        "1",
    ]);
    let archive_arn = archive["ArchiveArn"].as_str().unwrap().to_string();
    assert!(archive_arn.ends_with(":archive/shop"), "{archive_arn}");
    let entries = json!([
        {"Source": "e2e.shop", "DetailType": "Order", "Detail": "{\"orderId\":\"o-7\"}"}
    ]);
    let out = c.aws_json(&["events", "put-events", "--entries", &entries.to_string()]);
    assert_eq!(out["FailedEntryCount"], 0, "{out}");
    let (_, first) = bodies
        .recv_timeout(Duration::from_secs(60))
        .expect("the HTTP target received the event");
    let first: Value = serde_json::from_str(&first).unwrap();
    assert!(first.get("replay-name").is_none());
    let described = c.aws_json(&["events", "describe-archive", "--archive-name", "shop"]);
    assert_eq!(described["EventCount"], 1, "{described}");
    assert_eq!(described["State"], "ENABLED");

    std::thread::sleep(Duration::from_millis(1100));
    let replay = c.aws_json(&[
        "events",
        "start-replay",
        "--replay-name",
        "again",
        "--event-source-arn",
        &archive_arn,
        "--event-start-time",
        &iso(start),
        "--event-end-time",
        &iso(now_secs()),
        "--destination",
        &json!({"Arn": bus_arn, "FilterArns": [rule_arn]}).to_string(),
    ]);
    assert_eq!(replay["State"], "STARTING", "{replay}");
    let (_, again) = bodies
        .recv_timeout(Duration::from_secs(60))
        .expect("the replay re-delivered the event");
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["replay-name"], "again");
    assert_eq!(again["detail"], first["detail"]);
    assert_ne!(again["id"], first["id"]);
    let done = wait_for(Duration::from_secs(60), || {
        let d = c.aws_json(&["events", "describe-replay", "--replay-name", "again"]);
        (d["State"] == "COMPLETED").then_some(d)
    })
    .expect("the replay completed");
    assert!(done["EventLastReplayedTime"].is_number() || done["EventLastReplayedTime"].is_string());
    let listed = c.aws_json(&["events", "list-replays", "--event-source-arn", &archive_arn]);
    assert_eq!(listed["Replays"][0]["ReplayName"], "again");
    assert!(
        bodies.recv_timeout(Duration::from_millis(500)).is_err(),
        "replayed once, and the replayed event was not archived again"
    );
    let described = c.aws_json(&["events", "describe-archive", "--archive-name", "shop"]);
    assert_eq!(described["EventCount"], 1, "{described}");
}

#[test]
fn collector_lifecycle_events_reach_a_rule() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out_file = dir.path().join("lifecycle.jsonl");
    let c = Collector::start(&data);
    c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "lifecycle",
        "--event-pattern",
        r#"{"source":["hostwatch.collector"]}"#,
    ]);
    let targets =
        json!([{"Id": "file", "Arn": format!("arn:hostwatch:file:::{}", out_file.display())}]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "lifecycle",
        "--targets",
        &targets.to_string(),
    ]);
    c.stop();
    let stopping = wait_for_line(&out_file);
    assert_eq!(stopping["detail-type"], "Collector Stopping");
    assert_eq!(stopping["source"], "hostwatch.collector");
    assert!(stopping["detail"]["uptimeSeconds"].is_i64(), "{stopping}");
    let c = Collector::start(&data);
    let started = wait_for(Duration::from_secs(60), || {
        let text = std::fs::read_to_string(&out_file).ok()?;
        let line = text.lines().nth(1)?;
        serde_json::from_str::<Value>(line).ok()
    })
    .expect("a Collector Started event");
    assert_eq!(started["detail-type"], "Collector Started");
    assert_eq!(started["detail"]["endpoint"], c.endpoint.as_str());
    assert!(started["detail"]["pid"].is_u64(), "{started}");
}

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`) and a server certificate for 127.0.0.1 signed by it (`server.pem`,
/// `server.key`) in `dir`.
fn make_ca_and_server_cert(dir: &Path) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=hostwatch e2e CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.pem",
        ],
        dir,
    );
}

/// The Python HTTPS endpoint; killed on drop.
struct HttpsSink(std::process::Child);

impl Drop for HttpsSink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn https_targets_trust_the_configured_ca_bundle() {
    let dir = tempfile::tempdir().unwrap();
    make_ca_and_server_cert(dir.path());
    let mut child = Command::new("python3")
        .arg(py_dir().join("https_sink.py"))
        .arg(dir.path().join("server.pem"))
        .arg(dir.path().join("server.key"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the HTTPS endpoint");
    let stdout = child.stdout.take().unwrap();
    let _sink = HttpsSink(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    let port: u16 = first.strip_prefix("port ").unwrap().parse().unwrap();
    let config = dir.path().join("collector.toml");
    std::fs::write(
        &config,
        format!(
            "[events]\ntarget_ca_bundle = \"{}\"\n",
            dir.path().join("ca.pem").display()
        ),
    )
    .unwrap();
    let c = Collector::start_with(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
    );
    c.aws_json(&[
        "events",
        "put-rule",
        "--name",
        "secure",
        "--event-pattern",
        r#"{"source":["e2e.tls"]}"#,
    ]);
    let targets = json!([{"Id": "hook",
        "Arn": format!("arn:hostwatch:http:::https://127.0.0.1:{port}/hook"),
        "InputPath": "$.detail"}]);
    c.aws_json(&[
        "events",
        "put-targets",
        "--rule",
        "secure",
        "--targets",
        &targets.to_string(),
    ]);
    let entries = json!([{"Source": "e2e.tls", "DetailType": "T", "Detail": "{\"n\":1}"}]);
    let out = c.aws_json(&["events", "put-events", "--entries", &entries.to_string()]);
    assert_eq!(out["FailedEntryCount"], 0, "{out}");
    let body = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("the HTTPS target received the event");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"n": 1})
    );
}
