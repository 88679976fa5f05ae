//! The AWS CLI round-trips metrics through the collector exactly as CloudWatch would answer.

use crate::util::{assert_ok, iso, now_secs, Collector};
use serde_json::{json, Value};

fn datapoints(v: &Value) -> Vec<Value> {
    v["Datapoints"].as_array().cloned().unwrap_or_default()
}

#[test]
fn put_then_get_statistics_aggregates_like_cloudwatch() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let minute = (now_secs() / 60 - 5) * 60;
    let ts = iso(minute + 10);

    // Values + Counts: [1,10] x [2,4] => SampleCount 6, Sum 42, Maximum 10.
    let data = json!([{"MetricName": "dist", "Values": [1, 10], "Counts": [2, 4], "Unit": "Count", "Timestamp": ts,
                       "Dimensions": [{"Name": "host", "Value": "h1"}]}]);
    c.aws_json(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "E2E",
        "--metric-data",
        &data.to_string(),
    ]);
    // A raw value plus a statistic set in the same minute: Sum 66, SampleCount 11, Min 1, Max 11, Average 6.
    let data = json!([
        {"MetricName": "mixed", "Value": 11, "Unit": "Seconds", "Timestamp": ts},
        {"MetricName": "mixed", "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}, "Unit": "Seconds", "Timestamp": ts}
    ]);
    c.aws_json(&[
        "cloudwatch",
        "put-metric-data",
        "--namespace",
        "E2E",
        "--metric-data",
        &data.to_string(),
    ]);

    let start = iso(minute - 60);
    let end = iso(minute + 120);
    let stats = ["SampleCount", "Sum", "Maximum", "Minimum", "Average"];
    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "E2E",
        "--metric-name",
        "dist",
        "--dimensions",
        "Name=host,Value=h1",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
    ];
    args.extend(stats);
    let out = c.aws_json(&args);
    assert_eq!(out["Label"], "dist");
    let dps = datapoints(&out);
    assert_eq!(dps.len(), 1, "{out}");
    assert_eq!(dps[0]["SampleCount"], 6.0);
    assert_eq!(dps[0]["Sum"], 42.0);
    assert_eq!(dps[0]["Maximum"], 10.0);
    assert_eq!(dps[0]["Minimum"], 1.0);
    assert_eq!(dps[0]["Average"], 7.0);
    assert_eq!(dps[0]["Unit"], "Count");

    let mut args = vec![
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "E2E",
        "--metric-name",
        "mixed",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
    ];
    args.extend(stats);
    let out = c.aws_json(&args);
    let dps = datapoints(&out);
    assert_eq!(dps.len(), 1, "{out}");
    assert_eq!(
        (dps[0]["Sum"].as_f64(), dps[0]["SampleCount"].as_f64()),
        (Some(66.0), Some(11.0))
    );
    assert_eq!(
        (dps[0]["Minimum"].as_f64(), dps[0]["Maximum"].as_f64()),
        (Some(1.0), Some(11.0))
    );
    assert_eq!(dps[0]["Average"].as_f64(), Some(6.0));
    assert_eq!(dps[0]["Unit"], "Seconds");

    // Dimensions must match the full set: asking without the host dimension finds nothing.
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "E2E",
        "--metric-name",
        "dist",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--statistics",
        "Sum",
    ]);
    assert!(datapoints(&out).is_empty(), "{out}");

    // Percentiles from raw values.
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "E2E",
        "--metric-name",
        "dist",
        "--dimensions",
        "Name=host,Value=h1",
        "--start-time",
        &start,
        "--end-time",
        &end,
        "--period",
        "60",
        "--extended-statistics",
        "p100",
        "p0",
    ]);
    let dps = datapoints(&out);
    assert_eq!(dps[0]["ExtendedStatistics"]["p100"], 10.0, "{out}");
    assert_eq!(dps[0]["ExtendedStatistics"]["p0"], 1.0, "{out}");

    // ListMetrics sees both metrics, with dimensions.
    let out = c.aws_json(&["cloudwatch", "list-metrics", "--namespace", "E2E"]);
    let metrics = out["Metrics"].as_array().cloned().unwrap_or_default();
    assert_eq!(metrics.len(), 2, "{out}");
    assert!(metrics.iter().any(|m| m["MetricName"] == "dist"
        && m["Dimensions"] == json!([{"Name": "host", "Value": "h1"}])));

    // GetMetricData over the same data.
    let queries = json!([{"Id": "d", "MetricStat": {"Metric": {"Namespace": "E2E", "MetricName": "dist",
        "Dimensions": [{"Name": "host", "Value": "h1"}]}, "Period": 60, "Stat": "Sum"}}]);
    let out = c.aws_json(&[
        "cloudwatch",
        "get-metric-data",
        "--metric-data-queries",
        &queries.to_string(),
        "--start-time",
        &start,
        "--end-time",
        &end,
    ]);
    let r = &out["MetricDataResults"][0];
    assert_eq!(r["Id"], "d");
    assert_eq!(r["Values"], json!([42.0]), "{out}");
    assert_eq!(r["StatusCode"], "Complete");
}

#[test]
fn boto3_raises_modelled_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    assert_ok(&c.python("boto3_errors.py", &[]));
}
