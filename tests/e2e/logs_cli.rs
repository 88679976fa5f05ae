//! The AWS CLI round-trips log events through the collector.

use crate::util::{now_secs, Collector};
use serde_json::json;

#[test]
fn create_put_get_log_events() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    c.aws_json(&["logs", "create-log-group", "--log-group-name", "/e2e/app"]);
    let dup = c.aws(&["logs", "create-log-group", "--log-group-name", "/e2e/app"]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("ResourceAlreadyExistsException"));
    c.aws_json(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "/e2e/app",
        "--log-stream-name",
        "s1",
    ]);
    let t = now_secs() * 1000;
    let events = json!([
        {"timestamp": t - 3000, "message": "first line"},
        {"timestamp": t - 2000, "message": "second line"},
        {"timestamp": t - 1000, "message": "third line ü"}
    ]);
    let out = c.aws_json(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        "/e2e/app",
        "--log-stream-name",
        "s1",
        "--log-events",
        &events.to_string(),
    ]);
    assert!(out.get("rejectedLogEventsInfo").is_none(), "{out}");

    let out = c.aws_json(&[
        "logs",
        "get-log-events",
        "--log-group-name",
        "/e2e/app",
        "--log-stream-name",
        "s1",
        "--start-from-head",
    ]);
    let msgs: Vec<&str> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(msgs, vec!["first line", "second line", "third line ü"]);
    assert!(out["events"][0]["ingestionTime"].as_i64().unwrap() >= t - 60_000);
    assert!(out["nextForwardToken"].is_string() && out["nextBackwardToken"].is_string());

    let out = c.aws_json(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        "/e2e",
    ]);
    assert_eq!(out["logGroups"][0]["logGroupName"], "/e2e/app");
    assert_eq!(
        out["logGroups"][0]["arn"],
        "arn:aws:logs:us-east-1:000000000000:log-group:/e2e/app:*"
    );
    let out = c.aws_json(&[
        "logs",
        "describe-log-streams",
        "--log-group-name",
        "/e2e/app",
    ]);
    assert_eq!(out["logStreams"][0]["logStreamName"], "s1");
    assert_eq!(out["logStreams"][0]["lastEventTimestamp"], t - 1000);

    c.aws_json(&[
        "logs",
        "put-retention-policy",
        "--log-group-name",
        "/e2e/app",
        "--retention-in-days",
        "7",
    ]);
    let out = c.aws_json(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        "/e2e",
    ]);
    assert_eq!(out["logGroups"][0]["retentionInDays"], 7);
    let bad = c.aws(&[
        "logs",
        "put-retention-policy",
        "--log-group-name",
        "/e2e/app",
        "--retention-in-days",
        "2",
    ]);
    assert!(!bad.status.success());
}
