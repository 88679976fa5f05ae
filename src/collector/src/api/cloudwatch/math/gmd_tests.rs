//! GetMetricData with expressions, through `CloudWatchApi::handle` with a real store and a
//! manual clock (both input spellings).

use serde_json::{json, Value};
use std::sync::Arc;

use crate::api::cloudwatch::test_calls;
use crate::api::cloudwatch::CloudWatchApi;
use crate::clock::{Clock, ManualClock};
use crate::store::metrics::StoreOptions;
use hostwatch_aws::ApiError;

/// An hour boundary.
const NOW: i64 = 1_699_999_200_000;
const MIN: i64 = 60_000;

pub(crate) struct Harness {
    pub api: CloudWatchApi,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let opts = StoreOptions {
            compact_every: None,
            ..Default::default()
        };
        let api = CloudWatchApi::open_with(dir.path(), clock.clone(), opts).unwrap();
        Harness { api, clock, dir }
    }

    pub async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        test_calls::call(&self.api, op, input, self.clock.now_ms()).await
    }

    pub async fn ok(&self, op: &str, input: Value) -> Value {
        test_calls::ok(&self.api, op, input, self.clock.now_ms()).await
    }

    pub async fn err(&self, op: &str, input: Value) -> (String, String) {
        test_calls::err(&self.api, op, input, self.clock.now_ms()).await
    }

    /// Put `(metric, minutes before NOW, value)` datums into namespace `App`.
    pub async fn put(&self, points: &[(&str, i64, f64)]) {
        let datums: Vec<Value> = points
            .iter()
            .map(|(m, ago, v)| json!({"MetricName": m, "Value": v, "Timestamp": (NOW - ago * MIN) / 1000}))
            .collect();
        for chunk in datums.chunks(1000) {
            self.ok(
                "PutMetricData",
                json!({"Namespace": "App", "MetricData": chunk}),
            )
            .await;
        }
    }
}

fn mq(id: &str, name: &str) -> Value {
    json!({"Id": id, "ReturnData": false,
           "MetricStat": {"Metric": {"Namespace": "App", "MetricName": name}, "Period": 60, "Stat": "Sum"}})
}

fn gmd(queries: Value, extra: Value) -> Value {
    let mut v = json!({"MetricDataQueries": queries, "StartTime": (NOW - 5 * MIN) / 1000,
                       "EndTime": NOW / 1000, "ScanBy": "TimestampAscending"});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn values(r: &Value) -> Vec<f64> {
    r["Values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Errors 1..=5 and requests 10..=50, one per minute over the last five minutes; m1 has a gap.
async fn seeded() -> Harness {
    let h = Harness::new();
    let mut pts = Vec::new();
    for i in 1..=5 {
        if i != 3 {
            pts.push(("errors", i, (6 - i) as f64));
        }
        pts.push(("requests", i, 10.0 * (6 - i) as f64));
    }
    h.put(&pts).await;
    h
}

#[tokio::test]
async fn expressions_compute_over_metric_queries() {
    let h = seeded().await;
    let queries = json!([
        mq("m1", "errors"),
        mq("m2", "requests"),
        {"Id": "total", "Expression": "SUM(METRICS())"},
        {"Id": "rate", "Expression": "m1/m2*100", "Label": "Error rate"},
        {"Id": "filled", "Expression": "FILL(m1, 0)"},
        {"Id": "each", "Expression": "METRICS() / 10"}
    ]);
    let out = h.ok("GetMetricData", gmd(queries, json!({}))).await;
    let r = out["MetricDataResults"].as_array().unwrap();
    let ids: Vec<&str> = r.iter().map(|x| x["Id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["total", "rate", "filled", "each", "each"]);
    // Minutes NOW-5 .. NOW-1: errors [1, 2, -, 4, 5], requests [10, 20, 30, 40, 50].
    assert_eq!(values(&r[0]), vec![11.0, 22.0, 30.0, 44.0, 55.0]);
    assert_eq!(values(&r[1]), vec![10.0, 10.0, 0.0, 10.0, 10.0]);
    assert_eq!(r[1]["Label"], "Error rate");
    assert_eq!(values(&r[2]), vec![1.0, 2.0, 0.0, 4.0, 5.0]);
    assert_eq!(r[2]["Label"], "filled");
    let ts: Vec<i64> = r[2]["Timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    let want: Vec<i64> = (1..=5).rev().map(|i| (NOW - i * MIN) / 1000).collect();
    assert_eq!(ts, want, "aligned on the period grid from StartTime");
    assert_eq!(
        (r[3]["Label"].as_str(), r[4]["Label"].as_str()),
        (Some("errors"), Some("requests"))
    );
    assert_eq!(values(&r[4]), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
    assert!(r.iter().all(|x| x["StatusCode"] == "Complete"));
}

#[tokio::test]
async fn query_protocol_spelling_and_descending_order() {
    let h = seeded().await;
    let input = json!({
        "MetricDataQueries": [
            {"Id": "m1", "ReturnData": "false", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "errors"}, "Period": "60", "Stat": "Sum"}},
            {"Id": "e1", "Expression": "RUNNING_SUM(m1)", "ReturnData": "true", "Period": "60"}
        ],
        "StartTime": "2023-11-14T21:55:00Z", "EndTime": "2023-11-14T22:00:00Z"
    });
    let out = h.ok("GetMetricData", input).await;
    let r = &out["MetricDataResults"][0];
    assert_eq!(
        values(r),
        vec![12.0, 7.0, 3.0, 1.0],
        "descending by default"
    );
}

#[tokio::test]
async fn expression_results_are_paginated() {
    let h = seeded().await;
    let queries = json!([mq("m1", "errors"), mq("m2", "requests"), {"Id": "all", "Expression": "FILL(METRICS(), 0)"}]);
    let mut token: Option<String> = None;
    let mut got: Vec<(String, f64)> = Vec::new();
    let mut pages = 0;
    loop {
        let mut extra = json!({"MaxDatapoints": 4});
        if let Some(t) = &token {
            extra["NextToken"] = json!(t);
        }
        let out = h.ok("GetMetricData", gmd(queries.clone(), extra)).await;
        pages += 1;
        for r in out["MetricDataResults"].as_array().unwrap() {
            for v in values(r) {
                got.push((r["Label"].as_str().unwrap().to_string(), v));
            }
        }
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 10);
    assert_eq!(got.iter().filter(|(l, _)| l == "requests").count(), 5);
}

#[tokio::test]
async fn math_errors_are_validation_errors() {
    let h = seeded().await;
    let cases = [
        (json!([{"Id": "e1", "Expression": "m1 * 2"}]), "Error in expression e1: Unrecognized identifier m1 at position 1"),
        (json!([mq("m1", "errors"), {"Id": "e1", "Expression": "m1 * (2"}]), "Error in expression e1: Syntax error at position 8"),
        (
            json!([mq("m1", "errors"), {"Id": "e1", "Expression": "e2 + m1"}, {"Id": "e2", "Expression": "e1 * 2"}]),
            "Error in expression e1: Circular reference: e1 -> e2 -> e1",
        ),
        (
            json!([mq("m1", "errors"), {"Id": "e1", "Expression": "AVG(m1)"}]),
            "Error in expression e1: The expression must return a time series or an array of time series, not Scalar",
        ),
        (
            json!([mq("m1", "errors"), {"Id": "e1", "Expression": "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")"}]),
            "Error in expression e1: Metrics Insights queries (SELECT ...) are not supported by this collector",
        ),
    ];
    for (queries, want) in cases {
        assert_eq!(
            h.err("GetMetricData", gmd(queries, json!({}))).await,
            ("ValidationError".to_string(), want.to_string())
        );
    }
}

#[tokio::test]
async fn anomaly_band_over_stored_history() {
    let h = Harness::new();
    // Two days of a metric with a daily cycle, one point per five minutes, then a spike.
    let day = 24 * 60;
    let mut pts = Vec::new();
    for ago in (5..2 * day).step_by(5) {
        let phase = 2.0 * std::f64::consts::PI * ((NOW / MIN - ago) % day) as f64 / day as f64;
        let noise = ((ago * 37) % 7) as f64 / 7.0 - 0.5;
        pts.push(("load", ago, 50.0 + 10.0 * phase.sin() + noise));
    }
    pts.push(("load", 1, 200.0));
    h.put(&pts).await;
    let queries = json!([
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "load"}, "Period": 300, "Stat": "Average"}},
        {"Id": "ad", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}
    ]);
    let input = gmd(
        queries.clone(),
        json!({"StartTime": (NOW - 60 * MIN) / 1000}),
    );
    let out = h.ok("GetMetricData", input.clone()).await;
    let r = out["MetricDataResults"].as_array().unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(
        (r[1]["Id"].as_str(), r[2]["Id"].as_str()),
        (Some("ad"), Some("ad"))
    );
    assert_eq!(r[1]["Label"], "load Upper");
    let (m, up, lo) = (values(&r[0]), values(&r[1]), values(&r[2]));
    assert_eq!(up.len(), 12);
    // Every normal value is inside the band, the spike (last bucket) is above it.
    for i in 0..11 {
        assert!(
            m[i] <= up[i] && m[i] >= lo[i],
            "{i}: {} not in [{}, {}]",
            m[i],
            lo[i],
            up[i]
        );
    }
    assert!(m[11] > up[11]);

    // A detector excluding the spike's period narrows nothing here but is honoured: excluding
    // all history leaves no band.
    h.ok(
        "PutAnomalyDetector",
        json!({"SingleMetricAnomalyDetector": {"Namespace": "App", "MetricName": "load", "Stat": "Average"},
               "Configuration": {"ExcludedTimeRanges": [{"StartTime": (NOW - 3 * day * MIN) / 1000, "EndTime": NOW / 1000}]}}),
    )
    .await;
    let out = h.ok("GetMetricData", input).await;
    assert_eq!(out["MetricDataResults"][1]["Values"], json!([]));
}

/// The entry point metric-math alarms use: queries in the `Metrics` shape, no HTTP.
#[tokio::test]
async fn run_queries_without_http() {
    let h = seeded().await;
    let queries = crate::api::cloudwatch::math::queries_from_json(
        &json!([mq("m1", "errors"), mq("m2", "requests"),
                {"Id": "e1", "Expression": "m1 / m2", "ReturnData": true}]),
        "Metrics",
    )
    .unwrap();
    let out =
        crate::api::cloudwatch::math::run_queries(h.api.store(), &queries, NOW - 5 * MIN, NOW, NOW)
            .unwrap();
    assert_eq!(out.len(), 1);
    let (id, label, s) = &out[0];
    assert_eq!((id.as_str(), label.as_str()), ("e1", "e1"));
    assert_eq!(s.values, vec![0.1, 0.1, 0.0, 0.1, 0.1]);
    assert_eq!(s.timestamps[0], NOW - 5 * MIN);
}
