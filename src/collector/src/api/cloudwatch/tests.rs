//! Operation tests through `CloudWatchApi::handle`, with both input spellings and a manual
//! clock.

use super::*;
use crate::api::cloudwatch::test_calls;
use crate::auth::Identity;
use crate::clock::{Clock, ManualClock};
use hostwatch_aws::Protocol;
use serde_json::{json, Value};
use std::sync::Arc;

/// An hour boundary.
const NOW: i64 = 1_699_999_200_000;
const MIN: i64 = 60_000;

struct Harness {
    api: CloudWatchApi,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
}

fn opts() -> StoreOptions {
    StoreOptions {
        compact_every: None,
        ..Default::default()
    }
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let api = CloudWatchApi::open_with(dir.path(), clock.clone(), opts()).unwrap();
        Harness { api, clock, dir }
    }

    fn reopen(self) -> Self {
        let Harness { api, clock, dir } = self;
        drop(api);
        let api = CloudWatchApi::open_with(dir.path(), clock.clone(), opts()).unwrap();
        Harness { api, clock, dir }
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        test_calls::ok(&self.api, op, input, self.clock.now_ms()).await
    }

    async fn err(&self, op: &str, input: Value) -> (String, String) {
        test_calls::err(&self.api, op, input, self.clock.now_ms()).await
    }

    async fn put(&self, datums: Value) {
        self.ok(
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": datums}),
        )
        .await;
    }
}

fn secs(ms: i64) -> i64 {
    ms / 1000
}

fn gms(stats: Value, extra: Value) -> Value {
    let mut v = json!({
        "Namespace": "App", "MetricName": "m",
        "StartTime": secs(NOW - 10 * MIN), "EndTime": secs(NOW + MIN), "Period": 60,
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    if let Some(o) = v.as_object_mut() {
        o.extend(stats.as_object().cloned().unwrap_or_default());
    }
    v
}

fn all_stats() -> Value {
    json!({"Statistics": ["SampleCount", "Sum", "Minimum", "Maximum", "Average"]})
}

#[tokio::test]
async fn aggregation_matches_recorded_aws_examples() {
    let h = Harness::new();
    let t = secs(NOW - 5 * MIN);
    h.put(json!([
        {"MetricName": "m", "Values": [1, 10], "Counts": [2, 4], "Timestamp": t}
    ]))
    .await;
    let out = h
        .ok("GetMetricStatistics", gms(all_stats(), json!({})))
        .await;
    assert_eq!(out["Label"], "m");
    let dp = &out["Datapoints"][0];
    assert_eq!(dp["SampleCount"], 6.0);
    assert_eq!(dp["Sum"], 42.0);
    assert_eq!(dp["Maximum"], 10.0);
    assert_eq!(dp["Unit"], "None");
    assert_eq!(dp["Timestamp"], secs(NOW - 5 * MIN));

    let t2 = secs(NOW - 3 * MIN);
    h.put(json!([
        {"MetricName": "m", "Value": 11, "Timestamp": t2 + 10},
        {"MetricName": "m", "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}, "Timestamp": t2 + 20}
    ]))
    .await;
    let out = h
        .ok("GetMetricStatistics", gms(all_stats(), json!({})))
        .await;
    let dps = out["Datapoints"].as_array().unwrap();
    assert_eq!(dps.len(), 2);
    let dp = dps.iter().find(|d| d["Timestamp"] == t2).unwrap();
    assert_eq!(
        (
            &dp["Sum"],
            &dp["SampleCount"],
            &dp["Minimum"],
            &dp["Maximum"],
            &dp["Average"]
        ),
        (
            &json!(66.0),
            &json!(11.0),
            &json!(1.0),
            &json!(11.0),
            &json!(6.0)
        )
    );
}

/// The CloudWatch agent sends `Values`+`Counts` together with `StatisticValues`; AWS accepts
/// that. The set gives the statistics, the values the percentiles.
#[tokio::test]
async fn values_with_statistic_values_are_accepted() {
    let h = Harness::new();
    let t = secs(NOW - 2 * MIN);
    h.put(json!([{"MetricName": "m", "Values": [2, 8], "Counts": [3, 1],
        "StatisticValues": {"SampleCount": 4, "Sum": 14.5, "Minimum": 1.5, "Maximum": 8}, "Timestamp": t}]))
        .await;
    let p = h
        .ok(
            "GetMetricStatistics",
            gms(json!({"ExtendedStatistics": ["p50"]}), json!({})),
        )
        .await;
    assert_eq!(p["Datapoints"][0]["ExtendedStatistics"]["p50"], 2.0, "{p}");
    let out = h
        .ok("GetMetricStatistics", gms(all_stats(), json!({})))
        .await;
    let dp = &out["Datapoints"][0];
    assert_eq!(
        (&dp["Sum"], &dp["Minimum"], &dp["SampleCount"]),
        (&json!(14.5), &json!(1.5), &json!(4.0)),
        "{out}"
    );
    // The set is still validated.
    let e = h
        .err(
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": [{"MetricName": "m", "Values": [1],
            "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 2, "Maximum": 1}}]}),
        )
        .await;
    assert_eq!(e.0, "InvalidParameterValue", "{e:?}");
}

#[tokio::test]
async fn statistics_only_requested_members_and_percentiles() {
    let h = Harness::new();
    let t = secs(NOW - 2 * MIN);
    let values: Vec<i64> = (1..=100).collect();
    h.put(json!([{"MetricName": "m", "Values": values, "Timestamp": t}]))
        .await;
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(json!({"Statistics": ["Sum"]}), json!({})),
        )
        .await;
    let dp = out["Datapoints"][0].as_object().unwrap();
    let mut keys: Vec<&String> = dp.keys().collect();
    keys.sort();
    assert_eq!(keys, ["Sum", "Timestamp", "Unit"]);
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(
                json!({"ExtendedStatistics": ["p50", "p99", "tm90", "p100"]}),
                json!({}),
            ),
        )
        .await;
    let ext = &out["Datapoints"][0]["ExtendedStatistics"];
    assert_eq!(ext["p50"], 50.0);
    assert_eq!(ext["p99"], 99.0);
    assert_eq!(ext["p100"], 100.0);
    assert_eq!(ext["tm90"], 45.5);
    assert!(out["Datapoints"][0].get("Sum").is_none());
    // A non-degenerate statistic set hides percentiles.
    h.put(json!([{"MetricName": "s", "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2}, "Timestamp": t}]))
        .await;
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(
                json!({"ExtendedStatistics": ["p50"]}),
                json!({"MetricName": "s"}),
            ),
        )
        .await;
    assert_eq!(out["Datapoints"], json!([]));
}

#[tokio::test]
async fn units_dimensions_and_periods() {
    let h = Harness::new();
    let t = secs(NOW - 5 * MIN);
    h.put(json!([
        {"MetricName": "m", "Value": 10, "Timestamp": t},
        {"MetricName": "m", "Value": 5, "Unit": "Count", "Timestamp": t},
        {"MetricName": "m", "Value": 1, "Unit": "Seconds", "Timestamp": t},
        {"MetricName": "m", "Value": 7, "Timestamp": t, "Dimensions": [{"Name": "Host", "Value": "a"}]}
    ]))
    .await;
    let avg = json!({"Statistics": ["Average"]});
    let out = h
        .ok("GetMetricStatistics", gms(avg.clone(), json!({})))
        .await;
    let mut got: Vec<(String, f64)> = out["Datapoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["Unit"].as_str().unwrap().to_string(),
                d["Average"].as_f64().unwrap(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        vec![
            ("Count".into(), 5.0),
            ("None".into(), 10.0),
            ("Seconds".into(), 1.0)
        ]
    );
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(avg.clone(), json!({"Unit": "Count"})),
        )
        .await;
    assert_eq!(out["Datapoints"].as_array().unwrap().len(), 1);
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(avg.clone(), json!({"Unit": "Bytes"})),
        )
        .await;
    assert_eq!(out["Datapoints"], json!([]));
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(
                avg.clone(),
                json!({"Dimensions": [{"Name": "Host", "Value": "a"}]}),
            ),
        )
        .await;
    assert_eq!(
        out["Datapoints"][0]["Average"], 7.0,
        "dimensions match exactly"
    );
    // A one-hour period rounds StartTime down to the minute and buckets from there.
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(
                avg.clone(),
                json!({"Period": 3600, "StartTime": secs(NOW - 30 * MIN) + 7, "Unit": "Count"}),
            ),
        )
        .await;
    assert_eq!(out["Datapoints"][0]["Timestamp"], secs(NOW - 30 * MIN));
    // Sub-minute periods over data older than three hours return nothing.
    h.clock.advance(4 * 60 * MIN);
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(avg, json!({"Period": 10, "Unit": "Count", "StartTime": secs(NOW - 6 * MIN), "EndTime": secs(NOW - 2 * MIN)})),
        )
        .await;
    assert_eq!(out["Datapoints"], json!([]));
}

#[tokio::test]
async fn statistics_validation_messages() {
    let h = Harness::new();
    let day = json!({"StartTime": secs(NOW - 24 * 60 * MIN), "EndTime": secs(NOW), "Period": 1});
    assert_eq!(
        h.err("GetMetricStatistics", gms(all_stats(), day)).await,
        ("InvalidParameterCombination".into(), "You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.".into())
    );
    let ok_limit = json!({"StartTime": secs(NOW - 1440 * MIN), "EndTime": secs(NOW), "Period": 60});
    h.ok("GetMetricStatistics", gms(all_stats(), ok_limit))
        .await;
    assert_eq!(
        h.err(
            "GetMetricStatistics",
            gms(
                all_stats(),
                json!({"StartTime": secs(NOW), "EndTime": secs(NOW - MIN)})
            )
        )
        .await
        .1,
        "The parameter StartTime must be less than the parameter EndTime."
    );
    assert_eq!(
        h.err(
            "GetMetricStatistics",
            gms(all_stats(), json!({"Period": 45}))
        )
        .await
        .0,
        "InvalidParameterValue"
    );
    assert_eq!(
        h.err(
            "GetMetricStatistics",
            gms(
                json!({"Statistics": ["Sum"], "ExtendedStatistics": ["p9"]}),
                json!({})
            )
        )
        .await
        .0,
        "InvalidParameterCombination"
    );
    assert_eq!(
        h.err("GetMetricStatistics", gms(json!({}), json!({})))
            .await
            .0,
        "MissingParameter"
    );
    let six = json!({"Statistics": ["Sum", "Sum", "Sum", "Sum", "Sum", "Sum"]});
    assert_eq!(
        h.err("GetMetricStatistics", gms(six, json!({}))).await.0,
        "ValidationError"
    );
    let (code, msg) = h
        .err(
            "GetMetricStatistics",
            gms(json!({"Statistics": ["Median"]}), json!({})),
        )
        .await;
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("at 'statistics'"), "{msg}");
    assert_eq!(
        h.err(
            "GetMetricStatistics",
            gms(json!({"ExtendedStatistics": ["p101"]}), json!({}))
        )
        .await
        .1,
        "The value p101 for parameter ExtendedStatistics.member.1 is invalid."
    );
    assert_eq!(
        h.err("GetMetricStatistics", json!({"Namespace": "App"}))
            .await,
        (
            "MissingParameter".into(),
            "The parameter MetricName is required.".into()
        )
    );
}

#[tokio::test]
async fn query_protocol_spelling_works_end_to_end() {
    let h = Harness::new();
    h.ok(
        "PutMetricData",
        json!({"Namespace": "App", "MetricData": [
            {"MetricName": "m", "Value": "3.5", "Unit": "Bytes", "Timestamp": "2023-11-14T21:55:00Z",
             "Dimensions": [{"Name": "Host", "Value": "a"}], "StorageResolution": "1"}
        ]}),
    )
    .await;
    let out = h
        .ok(
            "GetMetricStatistics",
            json!({"Namespace": "App", "MetricName": "m", "StartTime": "2023-11-14T21:50:00Z",
                   "EndTime": "2023-11-14T22:00:00Z", "Period": "60", "Statistics": ["Maximum"],
                   "Dimensions": [{"Name": "Host", "Value": "a"}]}),
        )
        .await;
    assert_eq!(out["Datapoints"][0]["Maximum"], 3.5);
    assert_eq!(out["Datapoints"][0]["Unit"], "Bytes");
    let e = h
        .err(
            "PutMetricData",
            json!({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": "1", "Values": ["1"]}]}),
        )
        .await;
    assert_eq!(e.0, "InvalidParameterCombination");
}

#[tokio::test]
async fn list_metrics_filters_and_horizon() {
    let h = Harness::new();
    let t = secs(NOW - MIN);
    h.put(json!([
        {"MetricName": "cpu", "Value": 1, "Timestamp": t, "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Core", "Value": "0"}]},
        {"MetricName": "cpu", "Value": 1, "Timestamp": t, "Dimensions": [{"Name": "Host", "Value": "b"}]},
        {"MetricName": "mem", "Value": 1, "Timestamp": t, "Unit": "Bytes"},
        {"MetricName": "mem", "Value": 1, "Timestamp": t, "Unit": "Percent"},
        {"MetricName": "old", "Value": 1, "Timestamp": secs(NOW - 5 * 60 * MIN)}
    ]))
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["MetricName"].as_str().unwrap().to_string())
            .collect()
    };
    let all = h.ok("ListMetrics", json!({})).await;
    assert_eq!(
        names(&all),
        ["cpu", "cpu", "mem", "old"],
        "units fold into one metric"
    );
    assert!(all.get("NextToken").is_none());
    assert_eq!(all["Metrics"][0]["Namespace"], "App");
    let by_dim = h
        .ok(
            "ListMetrics",
            json!({"Dimensions": [{"Name": "Host", "Value": "a"}]}),
        )
        .await;
    assert_eq!(by_dim["Metrics"].as_array().unwrap().len(), 1);
    assert_eq!(
        by_dim["Metrics"][0]["Dimensions"].as_array().unwrap().len(),
        2
    );
    let by_name = h
        .ok("ListMetrics", json!({"Dimensions": [{"Name": "Host"}]}))
        .await;
    assert_eq!(names(&by_name), ["cpu", "cpu"]);
    let recent = h.ok("ListMetrics", json!({"RecentlyActive": "PT3H"})).await;
    assert_eq!(names(&recent), ["cpu", "cpu", "mem"]);
    let named = h
        .ok(
            "ListMetrics",
            json!({"Namespace": "App", "MetricName": "mem"}),
        )
        .await;
    assert_eq!(names(&named), ["mem"]);
    assert_eq!(
        h.ok("ListMetrics", json!({"Namespace": "Other"})).await["Metrics"],
        json!([])
    );
    assert_eq!(
        h.err("ListMetrics", json!({"RecentlyActive": "PT1H"})).await.1,
        "1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]"
    );
    let eleven: Vec<Value> = (0..11).map(|i| json!({"Name": format!("d{i}")})).collect();
    assert_eq!(
        h.err("ListMetrics", json!({"Dimensions": eleven})).await.0,
        "ValidationError"
    );
    h.clock.advance(14 * 24 * 60 * MIN - 2 * 60 * MIN);
    assert_eq!(
        names(&h.ok("ListMetrics", json!({})).await),
        ["cpu", "cpu", "mem"],
        "data older than two weeks is not listed"
    );
}

#[tokio::test]
async fn list_metrics_pages_by_500_with_validated_tokens() {
    let h = Harness::new();
    let t = secs(NOW - MIN);
    let datums: Vec<Value> = (0..1001)
        .map(|i| json!({"MetricName": format!("m{i:04}"), "Value": 1, "Timestamp": t}))
        .collect();
    h.put(json!(datums[..1000])).await;
    h.put(json!(datums[1000..])).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut input = json!({});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let out = h.ok("ListMetrics", input).await;
        pages += 1;
        for m in out["Metrics"].as_array().unwrap() {
            seen.push(m["MetricName"].as_str().unwrap().to_string());
        }
        match out.get("NextToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 1001);
    seen.dedup();
    assert_eq!(seen.len(), 1001);
    assert_eq!(
        h.err("ListMetrics", json!({"NextToken": "garbage"}))
            .await
            .0,
        "InvalidNextToken"
    );
}

fn gmd(queries: Value, extra: Value) -> Value {
    let mut v = json!({
        "MetricDataQueries": queries,
        "StartTime": secs(NOW - 10 * MIN), "EndTime": secs(NOW),
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

fn mq(id: &str, name: &str, stat: &str, period: i64) -> Value {
    json!({"Id": id, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": name}, "Period": period, "Stat": stat}})
}

#[tokio::test]
async fn get_metric_data_labels_order_and_pagination() {
    let h = Harness::new();
    let datums: Vec<Value> = (1..=5)
        .map(|i| json!({"MetricName": "metric1", "Value": i, "Timestamp": secs(NOW - i * MIN)}))
        .collect();
    h.put(json!(datums)).await;
    let out = h
        .ok(
            "GetMetricData",
            gmd(
                json!([
                    mq("a", "metric1", "Sum", 60),
                    mq("b", "metric1", "Minimum", 30)
                ]),
                json!({}),
            ),
        )
        .await;
    let r = out["MetricDataResults"].as_array().unwrap();
    assert_eq!(r[0]["Label"], "metric1 Sum 60");
    assert_eq!(r[1]["Label"], "metric1 Minimum 30");
    assert_eq!(r[0]["StatusCode"], "Complete");
    assert_eq!(out["Messages"], json!([]));
    let ts: Vec<i64> = r[0]["Timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect();
    assert_eq!(ts.len(), 5);
    assert!(ts.windows(2).all(|w| w[0] > w[1]), "descending by default");
    assert_eq!(r[0]["Values"][0], 1.0);
    let asc = h
        .ok(
            "GetMetricData",
            gmd(
                json!([mq("a", "metric1", "Sum", 60)]),
                json!({"ScanBy": "TimestampAscending"}),
            ),
        )
        .await;
    assert_eq!(asc["MetricDataResults"][0]["Values"][0], 5.0);
    assert_eq!(asc["MetricDataResults"][0]["Label"], "metric1");
    let labelled = json!([{"Id": "a", "Label": "mine", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "metric1"}, "Period": 60, "Stat": "p50"}},
                          {"Id": "hidden", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "metric1"}, "Period": 60, "Stat": "Sum"}}]);
    let out = h.ok("GetMetricData", gmd(labelled, json!({}))).await;
    assert_eq!(out["MetricDataResults"].as_array().unwrap().len(), 1);
    assert_eq!(out["MetricDataResults"][0]["Label"], "mine");
    let empty = h
        .ok(
            "GetMetricData",
            gmd(json!([mq("z", "nothing", "Sum", 60)]), json!({})),
        )
        .await;
    assert_eq!(empty["MetricDataResults"][0]["Values"], json!([]));
    assert_eq!(empty["MetricDataResults"][0]["StatusCode"], "Complete");

    // Pagination: 5 + 5 datapoints, 3 per page.
    let queries = json!([
        mq("a", "metric1", "Sum", 60),
        mq("b", "metric1", "Maximum", 60)
    ]);
    let mut token: Option<String> = None;
    let mut got: Vec<(String, f64)> = Vec::new();
    let mut pages = 0;
    loop {
        let mut extra = json!({"MaxDatapoints": 3});
        if let Some(t) = &token {
            extra["NextToken"] = json!(t);
        }
        let out = h.ok("GetMetricData", gmd(queries.clone(), extra)).await;
        pages += 1;
        for r in out["MetricDataResults"].as_array().unwrap() {
            let n = r["Values"].as_array().unwrap().len();
            assert!(n <= 3);
            for v in r["Values"].as_array().unwrap() {
                got.push((r["Id"].as_str().unwrap().into(), v.as_f64().unwrap()));
            }
            if out.get("NextToken").is_some()
                && r == out["MetricDataResults"].as_array().unwrap().last().unwrap()
            {
                assert_eq!(r["StatusCode"], "PartialData");
            }
        }
        match out.get("NextToken") {
            Some(t) => token = Some(t.as_str().unwrap().into()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(got.len(), 10);
    assert_eq!(got.iter().filter(|(id, _)| id == "b").count(), 5);
    // A token replayed with different parameters is rejected.
    let first = h
        .ok(
            "GetMetricData",
            gmd(queries.clone(), json!({"MaxDatapoints": 3})),
        )
        .await;
    let t = first["NextToken"].as_str().unwrap();
    let other = gmd(
        json!([mq("a", "metric1", "Average", 60)]),
        json!({"MaxDatapoints": 3, "NextToken": t}),
    );
    assert_eq!(h.err("GetMetricData", other).await.0, "InvalidNextToken");
}

#[tokio::test]
async fn get_metric_data_mixed_units_and_validation() {
    let h = Harness::new();
    let t = secs(NOW - 2 * MIN);
    h.put(json!([
        {"MetricName": "lat", "Value": 2, "Unit": "Seconds", "Timestamp": t},
        {"MetricName": "lat", "Value": 900, "Unit": "Milliseconds", "Timestamp": t}
    ]))
    .await;
    let out = h
        .ok(
            "GetMetricData",
            gmd(json!([mq("a", "lat", "Average", 60)]), json!({})),
        )
        .await;
    let r = &out["MetricDataResults"][0];
    assert_eq!(r["Values"], json!([900.0]));
    assert_eq!(
        r["Messages"],
        json!([{"Code": "MultipleUnits", "Value": "Multiple units returned: '[Milliseconds, Seconds]'"}])
    );
    let mut with_unit = mq("a", "lat", "Average", 60);
    with_unit["MetricStat"]["Unit"] = json!("Seconds");
    let out = h
        .ok("GetMetricData", gmd(json!([with_unit]), json!({})))
        .await;
    assert_eq!(out["MetricDataResults"][0]["Values"], json!([2.0]));
    assert!(out["MetricDataResults"][0].get("Messages").is_none());

    let err = |q: Value| gmd(q, json!({}));
    assert_eq!(
        h.err(
            "GetMetricData",
            err(json!([{"Id": "e1", "Expression": "m1 * 2"}]))
        )
        .await,
        (
            "ValidationError".into(),
            "Error in expression e1: Unrecognized identifier m1 at position 1".into()
        )
    );
    assert_eq!(
        h.err("GetMetricData", err(json!([mq("Bad", "lat", "Sum", 60)])))
            .await
            .0,
        "ValidationError"
    );
    assert_eq!(
        h.err(
            "GetMetricData",
            err(json!([
                mq("a", "lat", "Sum", 60),
                mq("a", "lat", "Sum", 60)
            ]))
        )
        .await
        .1,
        "The values for parameter id in MetricDataQueries are not unique."
    );
    assert_eq!(
        h.err("GetMetricData", err(json!([mq("a", "lat", "Median", 60)])))
            .await
            .1,
        "The value Median for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid."
    );
    assert_eq!(
        h.err("GetMetricData", err(json!([mq("a", "lat", "Sum", 45)])))
            .await
            .0,
        "InvalidParameterValue"
    );
    let mut both = mq("a", "lat", "Sum", 60);
    both["Expression"] = json!("x");
    assert_eq!(
        h.err("GetMetricData", err(json!([both]))).await.0,
        "ValidationError"
    );
    assert_eq!(
        h.err("GetMetricData", err(json!([{"Id": "a"}]))).await.0,
        "ValidationError"
    );
    assert_eq!(
        h.err(
            "GetMetricData",
            gmd(
                json!([mq("a", "lat", "Sum", 60)]),
                json!({"ScanBy": "Sideways"})
            )
        )
        .await
        .0,
        "ValidationError"
    );
    assert_eq!(
        h.err("GetMetricData", json!({"StartTime": 1, "EndTime": 2}))
            .await,
        (
            "MissingParameter".into(),
            "The parameter MetricDataQueries is required.".into()
        )
    );
    let many: Vec<Value> = (0..501)
        .map(|i| mq(&format!("q{i}"), "lat", "Sum", 60))
        .collect();
    assert_eq!(
        h.err("GetMetricData", err(json!(many))).await.0,
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn data_survives_restart_and_compaction() {
    let h = Harness::new();
    let t = secs(NOW - 2 * MIN);
    h.put(json!([{"MetricName": "m", "Value": 4, "Timestamp": t}]))
        .await;
    let h = h.reopen();
    h.api.store().compact_now().await.unwrap();
    h.put(json!([{"MetricName": "m", "Value": 6, "Timestamp": t + 1}]))
        .await;
    let h = h.reopen();
    let out = h
        .ok(
            "GetMetricStatistics",
            gms(json!({"Statistics": ["Sum", "SampleCount"]}), json!({})),
        )
        .await;
    assert_eq!(out["Datapoints"][0]["Sum"], 10.0);
    assert_eq!(out["Datapoints"][0]["SampleCount"], 2.0);
    assert_eq!(
        h.ok("ListMetrics", json!({})).await["Metrics"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn raw_json_bodies_take_the_direct_path() {
    let h = Harness::new();
    let ctx = RequestContext {
        request_id: "r".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "monitoring".into(),
        },
        protocol: Protocol::AwsJson10 { query_mode: true },
        region: "us-east-1".into(),
        account_id: "0".into(),
        now_ms: NOW,
    };
    let t = secs(NOW - MIN);
    let body = json!({"Namespace": "App", "MetricData": [
        {"MetricName": "m", "Values": [1, 10], "Counts": [2, 4], "Timestamp": t, "Unit": "Count"}
    ]})
    .to_string();
    let out = h
        .api
        .handle_json_body("PutMetricData", body.as_bytes(), &ctx)
        .await
        .unwrap();
    assert!(out.is_none());
    let q = gms(all_stats(), json!({})).to_string();
    let out = h
        .api
        .handle_json_body("GetMetricStatistics", q.as_bytes(), &ctx)
        .await
        .unwrap()
        .unwrap()
        .to_json();
    assert_eq!(out["Datapoints"][0]["Sum"], 42.0);
    assert_eq!(out["Datapoints"][0]["Unit"], "Count");
    let e = h
        .api
        .handle_json_body("PutMetricData", b"{not json", &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.query_code(), "MalformedInput");
    let e = h
        .api
        .handle_json_body(
            "PutMetricData",
            br#"{"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "Values": [2]}]}"#,
            &ctx,
        )
        .await
        .unwrap_err();
    assert_eq!(e.query_code(), "InvalidParameterCombination");
    let e = h
        .api
        .handle_json_body("PutMetricData", br#"{"Namespace": 5}"#, &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.query_code(), "InvalidParameterValue");
    let e = h
        .api
        .handle_json_body("PutMetricData", b"", &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.query_code(), "MissingParameter");
}

#[tokio::test]
async fn unknown_operation_is_invalid_action() {
    let h = Harness::new();
    assert_eq!(h.err("DescribeThings", json!({})).await.0, "InvalidAction");
}

/// In-process ingest throughput (no HTTP): `cargo test --release -p hostwatch-collector
/// put_throughput -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn put_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(NOW);
    let api = Arc::new(
        CloudWatchApi::open_with(dir.path(), clock.clone(), StoreOptions::default()).unwrap(),
    );
    let bodies: Vec<Vec<Value>> = (0..4)
        .map(|c| {
            (0..20)
                .map(|k| {
                    let data: Vec<Value> = (0..1000)
                        .map(|i| json!({"MetricName": format!("bench_metric_{}", i % 50),
                            "Dimensions": [{"Name": "host", "Value": format!("host-{c}")}, {"Name": "series", "Value": (i / 50).to_string()}],
                            "Timestamp": secs(NOW) - 3600 + k, "Value": (i * k) as f64 * 0.5, "Unit": "Percent", "StorageResolution": 1}))
                        .collect();
                    json!({"Namespace": "Bench", "MetricData": data})
                })
                .collect()
        })
        .collect();
    let via_tree = std::env::var("VIA_TREE").is_ok();
    let start = std::time::Instant::now();
    let secs_run = 5.0;
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|bodies| {
            let api = api.clone();
            let clock = clock.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                let ctx = RequestContext {
                    request_id: "r".into(),
                    identity: Identity {
                        access_key_id: "AK".into(),
                        region: "us-east-1".into(),
                        service: "monitoring".into(),
                    },
                    protocol: Protocol::AwsJson10 { query_mode: true },
                    region: "us-east-1".into(),
                    account_id: "0".into(),
                    now_ms: clock.now_ms(),
                };
                let bodies: Vec<Vec<u8>> =
                    bodies.iter().map(|b| b.to_string().into_bytes()).collect();
                while start.elapsed().as_secs_f64() < secs_run {
                    for b in &bodies {
                        if via_tree {
                            let v: Value = serde_json::from_slice(b).unwrap();
                            api.handle("PutMetricData", v, &ctx).await.unwrap();
                        } else {
                            api.handle_json_body("PutMetricData", b, &ctx)
                                .await
                                .unwrap();
                        }
                        n += 1000;
                    }
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let el = start.elapsed().as_secs_f64();
    println!(
        "{total} datapoints in {el:.2}s: {:.0}/s; head {} series {}",
        total as f64 / el,
        api.store().head_points(),
        api.store().series_count()
    );
}

/// Per-stage cost of one PutMetricData (single thread): `cargo test --release -p
/// hostwatch-collector put_stages -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn put_stages() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    let body: Vec<Value> = (0..20)
        .map(|k| {
            let data: Vec<Value> = (0..1000)
                .map(|i| json!({"MetricName": format!("bench_metric_{}", i % 50),
                    "Dimensions": [{"Name": "host", "Value": "host-0"}, {"Name": "series", "Value": (i / 50).to_string()}],
                    "Timestamp": secs(NOW) - 3600 + k, "Value": (i * k) as f64 * 0.5, "Unit": "Percent", "StorageResolution": 1}))
                .collect();
            json!({"Namespace": "Bench", "MetricData": data})
        })
        .collect();
    let texts: Vec<String> = body.iter().map(|b| b.to_string()).collect();
    let mut t = [0f64; 5];
    let rounds = 10;
    for _ in 0..rounds {
        for text in &texts {
            let s = std::time::Instant::now();
            let v: Value = serde_json::from_str(text).unwrap();
            t[0] += s.elapsed().as_secs_f64();
            let s = std::time::Instant::now();
            let input: put::PutInput = crate::api::parse_input(v, true).unwrap();
            t[1] += s.elapsed().as_secs_f64();
            let s = std::time::Instant::now();
            let direct: put::PutInput = serde_json::from_str(text).unwrap();
            t[4] += s.elapsed().as_secs_f64();
            drop(direct);
            let s = std::time::Instant::now();
            let points = put::validate(input, NOW).unwrap();
            t[2] += s.elapsed().as_secs_f64();
            let s = std::time::Instant::now();
            store.append(points).await.unwrap();
            t[3] += s.elapsed().as_secs_f64();
        }
    }
    let n = (rounds * texts.len() * 1000) as f64;
    for (name, v) in [
        "json parse",
        "from_value",
        "validate",
        "append",
        "direct parse",
    ]
    .iter()
    .zip(t)
    {
        println!("{name:>12}: {:.2} us/datum", v / n * 1e6);
    }
}

#[test]
fn put_metric_data_over_one_megabyte_is_refused() {
    use super::{check_request_size, MAX_PUT_METRIC_DATA_BYTES};
    let e = check_request_size("PutMetricData", MAX_PUT_METRIC_DATA_BYTES + 1).unwrap_err();
    assert_eq!((e.query_code(), e.status), ("RequestEntityTooLarge", 413));
    assert!(check_request_size("PutMetricData", MAX_PUT_METRIC_DATA_BYTES).is_ok());
    assert!(check_request_size("GetMetricData", 5 * MAX_PUT_METRIC_DATA_BYTES).is_ok());
}
