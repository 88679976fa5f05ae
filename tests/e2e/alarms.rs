//! Alarms end to end with the real AWS CLI: high-resolution datapoints, a 10-second alarm
//! reaching ALARM in real time, SetAlarmState, the alarm history, composite alarms following
//! their children; and the awsQuery protocol with raw signed requests (Python).

use crate::util::{assert_ok, now_secs, wait_for, Collector};
use serde_json::{json, Value};
use std::time::Duration;

fn describe(c: &Collector, name: &str, kind: &str) -> Value {
    let out = c.aws_json(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-names",
        name,
        "--alarm-types",
        kind,
    ]);
    let list = if kind == "MetricAlarm" {
        "MetricAlarms"
    } else {
        "CompositeAlarms"
    };
    out[list][0].clone()
}

fn state(c: &Collector, name: &str, kind: &str) -> String {
    describe(c, name, kind)["StateValue"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn set_state(c: &Collector, name: &str, value: &str) {
    c.aws_json(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        name,
        "--state-value",
        value,
        "--state-reason",
        &format!("e2e sets {value}"),
    ]);
}

fn put_datapoints(c: &Collector, values: &[f64]) {
    let now = now_secs();
    let data: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({"MetricName": "Latency", "Value": v, "Unit": "Milliseconds", "StorageResolution": 1,
                   "Timestamp": now - i as i64, "Dimensions": [{"Name": "Host", "Value": "web-1"}]})
        })
        .collect();
    c.aws_json(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "E2E/Alarms",
        "--metric-data",
        &Value::Array(data).to_string(),
    ]);
}

#[test]
fn ten_second_alarm_history_and_composites_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());

    c.aws_json(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "latency-high",
        "--namespace",
        "E2E/Alarms",
        "--metric-name",
        "Latency",
        "--dimensions",
        "Name=Host,Value=web-1",
        "--statistic",
        "Maximum",
        "--period",
        "10",
        "--evaluation-periods",
        "1",
        "--threshold",
        "250",
        "--comparison-operator",
        "GreaterThanThreshold",
        "--alarm-actions",
        "arn:aws:sns:us-east-1:000000000000:pager",
    ]);
    assert_eq!(
        state(&c, "latency-high", "MetricAlarm"),
        "INSUFFICIENT_DATA"
    );
    assert_eq!(
        describe(&c, "latency-high", "MetricAlarm")["StateReason"],
        "Unchecked: Initial alarm creation"
    );

    // High-resolution datapoints above the threshold: ALARM within the next rounds.
    put_datapoints(&c, &[120.0, 480.0, 300.0]);
    let alarm = wait_for(Duration::from_secs(30), || {
        let a = describe(&c, "latency-high", "MetricAlarm");
        (a["StateValue"] == "ALARM").then_some(a)
    })
    .expect("the 10 s alarm reached ALARM");
    let reason = alarm["StateReason"].as_str().unwrap();
    assert!(
        reason.starts_with("Threshold Crossed: 1 datapoint [480.0 ("),
        "{reason}"
    );
    assert!(
        reason.ends_with(")] was greater than the threshold (250.0)."),
        "{reason}"
    );
    let data: Value = serde_json::from_str(alarm["StateReasonData"].as_str().unwrap()).unwrap();
    assert_eq!(data["period"], 10);
    assert_eq!(data["statistic"], "Maximum");
    assert_eq!(data["recentDatapoints"], json!([480.0]));

    // A composite alarm: its rule must name existing alarms and parse.
    let rule = "ALARM(latency-high) OR ALARM(\"errors high\")";
    let e = c.aws(&[
        "cloudwatch",
        "put-composite-alarm",
        "--alarm-name",
        "service-down",
        "--alarm-rule",
        rule,
    ]);
    assert!(!e.status.success());
    let stderr = String::from_utf8_lossy(&e.stderr);
    assert!(
        stderr.contains("Could not save the composite alarm as alarms [errors high] in the alarm rule do not exist"),
        "{stderr}"
    );
    let e = c.aws(&[
        "cloudwatch",
        "put-composite-alarm",
        "--alarm-name",
        "broken",
        "--alarm-rule",
        "ALARM(latency-high) AND",
    ]);
    assert!(!e.status.success());
    let stderr = String::from_utf8_lossy(&e.stderr);
    assert!(
        stderr.contains("(ValidationError)")
            && stderr.contains("Error in AlarmRule [Unexpected end of rule at char 23]"),
        "{stderr}"
    );
    c.aws_json(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        "errors high",
        "--namespace",
        "E2E/Alarms",
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
        "GreaterThanOrEqualToThreshold",
        "--treat-missing-data",
        "ignore",
    ]);
    // Keep the latency alarm breaching while the composite is created.
    put_datapoints(&c, &[480.0]);
    c.aws_json(&[
        "cloudwatch",
        "put-composite-alarm",
        "--alarm-name",
        "service-down",
        "--alarm-rule",
        rule,
    ]);
    let comp = describe(&c, "service-down", "CompositeAlarm");
    assert_eq!(comp["StateValue"], "ALARM", "{comp}");
    assert!(
        comp["StateReason"]
            .as_str()
            .unwrap()
            .ends_with("alarm:service-down was created and its alarm rule evaluates to ALARM"),
        "{comp}"
    );

    // Latency back to normal (in a later 10 s period than the last breaching datapoint), then
    // set-alarm-state: the alarm and its parent follow at once.
    let next_period = (now_secs() / 10 + 1) * 10 + 1;
    std::thread::sleep(Duration::from_secs(
        u64::try_from(next_period - now_secs()).unwrap_or(0),
    ));
    put_datapoints(&c, &[10.0]);
    set_state(&c, "latency-high", "OK");
    assert_ne!(state(&c, "latency-high", "MetricAlarm"), "ALARM");
    assert_eq!(state(&c, "service-down", "CompositeAlarm"), "OK");
    set_state(&c, "errors high", "ALARM");
    assert_eq!(state(&c, "service-down", "CompositeAlarm"), "ALARM");
    let comp = describe(&c, "service-down", "CompositeAlarm");
    assert!(
        comp["StateReason"]
            .as_str()
            .unwrap()
            .contains("alarm:errors high transitioned to ALARM at "),
        "{comp}"
    );
    set_state(&c, "errors high", "OK");
    assert_eq!(state(&c, "service-down", "CompositeAlarm"), "OK");

    let children = c.aws_json(&[
        "cloudwatch",
        "describe-alarms",
        "--children-of-alarm-name",
        "service-down",
    ]);
    let names: Vec<&str> = children["MetricAlarms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["AlarmName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["errors high", "latency-high"]);

    // The alarm history, newest first.
    let hist = c.aws_json(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "latency-high",
        "--history-item-type",
        "StateUpdate",
    ]);
    let items = hist["AlarmHistoryItems"].as_array().unwrap();
    let summaries: Vec<&str> = items
        .iter()
        .map(|i| i["HistorySummary"].as_str().unwrap())
        .collect();
    assert!(
        summaries.contains(&"Alarm updated from INSUFFICIENT_DATA to ALARM"),
        "{summaries:?}"
    );
    let set_item = items
        .iter()
        .find(|i| i["HistorySummary"] == "Alarm updated from ALARM to OK")
        .expect("the set-alarm-state transition");
    let data: Value = serde_json::from_str(set_item["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(data["newState"]["stateReason"], "e2e sets OK");
    assert_eq!(data["oldState"]["stateValue"], "ALARM");

    let comp_hist = c.aws_json(&[
        "cloudwatch",
        "describe-alarm-history",
        "--alarm-name",
        "service-down",
        "--alarm-types",
        "CompositeAlarm",
    ]);
    let kinds: Vec<&str> = comp_hist["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["HistoryItemType"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"ConfigurationUpdate") && kinds.contains(&"StateUpdate"),
        "{kinds:?}"
    );

    // Deleting a child of a composite is refused; deleting both is not.
    let e = c.aws(&[
        "cloudwatch",
        "delete-alarms",
        "--alarm-names",
        "errors high",
    ]);
    assert!(!e.status.success());
    c.aws_json(&[
        "cloudwatch",
        "delete-alarms",
        "--alarm-names",
        "service-down",
        "errors high",
    ]);
    let left = c.aws_json(&[
        "cloudwatch",
        "describe-alarms",
        "--alarm-types",
        "MetricAlarm",
        "CompositeAlarm",
    ]);
    assert_eq!(left["MetricAlarms"].as_array().unwrap().len(), 1);
    assert_eq!(left["CompositeAlarms"], json!([]));
}

#[test]
fn alarms_over_aws_query_and_boto3() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    assert_ok(&c.python("alarms.py", &[]));
}
