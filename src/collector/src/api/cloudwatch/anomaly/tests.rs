//! PutAnomalyDetector / DescribeAnomalyDetectors / DeleteAnomalyDetector through
//! `CloudWatchApi::handle`.

use serde_json::{json, Value};

use crate::api::cloudwatch::math::gmd_tests::Harness;

fn single(name: &str, stat: &str) -> Value {
    json!({"SingleMetricAnomalyDetector": {"Namespace": "App", "MetricName": name, "Stat": stat,
            "Dimensions": [{"Name": "Host", "Value": "a"}]}})
}

fn math_detector() -> Value {
    json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "errors"}, "Period": 300, "Stat": "Sum"}},
        {"Id": "m2", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "requests"}, "Period": 300, "Stat": "Sum"}},
        {"Id": "e1", "Expression": "m1 / m2 * 100", "ReturnData": true}
    ]}})
}

async fn describe(h: &Harness, input: Value) -> Vec<Value> {
    h.ok("DescribeAnomalyDetectors", input).await["AnomalyDetectors"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn put_describe_delete() {
    let h = Harness::new();
    let mut with_config = single("latency", "p99");
    with_config["Configuration"] = json!({"ExcludedTimeRanges": [
        {"StartTime": "2023-11-14T10:00:00Z", "EndTime": "2023-11-14T11:00:00Z"}], "MetricTimezone": "Europe/Paris"});
    with_config["MetricCharacteristics"] = json!({"PeriodicSpikes": true});
    assert_eq!(h.ok("PutAnomalyDetector", with_config).await, Value::Null);
    // The legacy top-level form names a detector too.
    h.ok(
        "PutAnomalyDetector",
        json!({"Namespace": "Other", "MetricName": "cpu", "Stat": "Average"}),
    )
    .await;
    h.ok("PutAnomalyDetector", math_detector()).await;

    let all = describe(&h, json!({})).await;
    assert_eq!(all.len(), 2, "single-metric detectors by default: {all:?}");
    let lat = all.iter().find(|d| d["MetricName"] == "latency").unwrap();
    assert_eq!(lat["SingleMetricAnomalyDetector"]["Stat"], "p99");
    assert_eq!(lat["Stat"], "p99");
    assert_eq!(lat["Dimensions"], json!([{"Name": "Host", "Value": "a"}]));
    assert_eq!(lat["Configuration"]["MetricTimezone"], "Europe/Paris");
    assert_eq!(
        lat["Configuration"]["ExcludedTimeRanges"],
        json!([{"StartTime": 1_699_956_000, "EndTime": 1_699_959_600}])
    );
    assert_eq!(lat["MetricCharacteristics"]["PeriodicSpikes"], true);
    assert_eq!(lat["StateValue"], "TRAINED_INSUFFICIENT_DATA");

    let math = describe(&h, json!({"AnomalyDetectorTypes": ["METRIC_MATH"]})).await;
    assert_eq!(math.len(), 1);
    let q = &math[0]["MetricMathAnomalyDetector"]["MetricDataQueries"];
    assert_eq!(q[2]["Expression"], "m1 / m2 * 100");
    assert_eq!(q[0]["MetricStat"]["Stat"], "Sum");
    assert!(math[0].get("Namespace").is_none());
    let both = describe(
        &h,
        json!({"AnomalyDetectorTypes": ["SINGLE_METRIC", "METRIC_MATH"]}),
    )
    .await;
    assert_eq!(both.len(), 3);

    // Filters.
    assert_eq!(describe(&h, json!({"Namespace": "Other"})).await.len(), 1);
    assert_eq!(
        describe(&h, json!({"MetricName": "latency"})).await.len(),
        1
    );
    assert_eq!(
        describe(&h, json!({"Dimensions": [{"Name": "Host", "Value": "a"}]}))
            .await
            .len(),
        1
    );
    assert_eq!(
        describe(&h, json!({"Dimensions": [{"Name": "Host", "Value": "b"}]}))
            .await
            .len(),
        0
    );

    // Putting again replaces the configuration.
    h.ok("PutAnomalyDetector", single("latency", "p99")).await;
    let lat = describe(&h, json!({"MetricName": "latency"})).await;
    assert_eq!(lat[0]["Configuration"]["ExcludedTimeRanges"], json!([]));
    assert!(lat[0].get("MetricCharacteristics").is_none());

    // Delete, then deleting again is ResourceNotFoundException.
    h.ok("DeleteAnomalyDetector", single("latency", "p99"))
        .await;
    let (code, _) = h
        .err("DeleteAnomalyDetector", single("latency", "p99"))
        .await;
    assert_eq!(code, "ResourceNotFoundException");
    let e = h
        .call("DeleteAnomalyDetector", single("latency", "p50"))
        .await
        .unwrap_err();
    assert_eq!(e.status, 404);
    h.ok("DeleteAnomalyDetector", math_detector()).await;
    h.ok(
        "DeleteAnomalyDetector",
        json!({"Namespace": "Other", "MetricName": "cpu", "Stat": "Average"}),
    )
    .await;
    let both = describe(
        &h,
        json!({"AnomalyDetectorTypes": ["SINGLE_METRIC", "METRIC_MATH"]}),
    )
    .await;
    assert!(both.is_empty());
}

#[tokio::test]
async fn detectors_persist_and_page() {
    let h = Harness::new();
    for i in 0..5 {
        h.ok("PutAnomalyDetector", single(&format!("m{i}"), "Sum"))
            .await;
    }
    // Reopen the API on the same directory.
    let Harness { api, clock, dir } = h;
    drop(api);
    let opts = crate::store::metrics::StoreOptions {
        compact_every: None,
        ..Default::default()
    };
    let api =
        crate::api::cloudwatch::CloudWatchApi::open_with(dir.path(), clock.clone(), opts).unwrap();
    let h = Harness { api, clock, dir };
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut input = json!({"MaxResults": 2});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let out = h.ok("DescribeAnomalyDetectors", input).await;
        pages += 1;
        for d in out["AnomalyDetectors"].as_array().unwrap() {
            names.push(d["MetricName"].as_str().unwrap().to_string());
        }
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.into()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["m0", "m1", "m2", "m3", "m4"]);
    let (code, _) = h
        .err("DescribeAnomalyDetectors", json!({"NextToken": "nope"}))
        .await;
    assert_eq!(code, "InvalidNextToken");
}

#[tokio::test]
async fn state_reflects_the_stored_history() {
    let h = Harness::new();
    let pts: Vec<(&str, i64, f64)> = (1..=36 * 60)
        .step_by(5)
        .map(|ago| ("busy", ago, 3.0))
        .collect();
    h.put(&pts).await;
    h.ok(
        "PutAnomalyDetector",
        json!({"SingleMetricAnomalyDetector": {"Namespace": "App", "MetricName": "busy", "Stat": "Average"}}),
    )
    .await;
    let d = describe(&h, json!({"MetricName": "busy"})).await;
    assert_eq!(d[0]["StateValue"], "TRAINED");
}

#[tokio::test]
async fn validation_errors() {
    let h = Harness::new();
    let mut both = single("x", "Sum");
    both["Namespace"] = json!("App");
    let mut single_and_math = single("x", "Sum");
    single_and_math["MetricMathAnomalyDetector"] =
        math_detector()["MetricMathAnomalyDetector"].clone();
    let two_returned = json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "e1", "Expression": "TIME_SERIES(1)"}, {"Id": "e2", "Expression": "TIME_SERIES(2)"}]}});
    let metric_returned = json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "Sum"}}]}});
    let uses_metrics = json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "Sum"}},
        {"Id": "e1", "Expression": "SUM(METRICS())"}]}});
    let returns_array = json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "x"}, "Period": 60, "Stat": "Sum"}},
        {"Id": "e1", "Expression": "[m1, m1 * 2]"}]}});
    let bad_syntax = json!({"MetricMathAnomalyDetector": {"MetricDataQueries": [
        {"Id": "e1", "Expression": "TIME_SERIES(1"}]}});
    let mut backwards = single("x", "Sum");
    backwards["Configuration"] = json!({"ExcludedTimeRanges": [{"StartTime": 10, "EndTime": 5}]});
    let mut eleven = single("x", "Sum");
    eleven["Configuration"] =
        json!({"ExcludedTimeRanges": vec![json!({"StartTime": 1, "EndTime": 2}); 11]});
    let mut bad_tz = single("x", "Sum");
    bad_tz["Configuration"] = json!({"MetricTimezone": "Mars; DROP TABLE"});
    let cases: Vec<(Value, &str)> = vec![
        (both, "InvalidParameterCombination"),
        (single_and_math, "InvalidParameterCombination"),
        (json!({}), "InvalidParameterCombination"),
        (
            json!({"Namespace": "App", "MetricName": "x"}),
            "MissingParameter",
        ),
        (
            json!({"SingleMetricAnomalyDetector": {"Namespace": "App", "Stat": "Sum"}}),
            "MissingParameter",
        ),
        (single("x", "Median"), "InvalidParameterValue"),
        (two_returned, "InvalidParameterValue"),
        (metric_returned, "InvalidParameterValue"),
        (uses_metrics, "InvalidParameterValue"),
        (returns_array, "InvalidParameterValue"),
        (bad_syntax, "ValidationError"),
        (backwards, "InvalidParameterValue"),
        (eleven, "ValidationError"),
        (bad_tz, "InvalidParameterValue"),
    ];
    for (input, code) in cases {
        let (got, msg) = h.err("PutAnomalyDetector", input.clone()).await;
        assert_eq!(got, code, "{input}: {msg}");
    }
    for (input, code) in [
        (json!({"MaxResults": 0}), "ValidationError"),
        (json!({"MaxResults": 101}), "InvalidParameterValue"),
        (json!({"AnomalyDetectorTypes": ["BOTH"]}), "ValidationError"),
    ] {
        assert_eq!(h.err("DescribeAnomalyDetectors", input).await.0, code);
    }
}
