//! The alarm operations through `CloudWatchApi::handle`, with AWS's validation codes and
//! messages, both input spellings (awsJson values and awsQuery strings) and a manual clock.

use super::super::*;
use crate::alarms::events::Scope;
use crate::alarms::AlarmService;
use crate::api::cloudwatch::test_calls;
use crate::auth::Identity;
use crate::clock::{Clock, ManualClock};
use hostwatch_aws::Protocol;
use serde_json::{json, Value};
use std::sync::Arc;

/// An hour boundary.
const NOW: i64 = 1_699_999_200_000;

struct Harness {
    api: CloudWatchApi,
    svc: Arc<AlarmService>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let api = CloudWatchApi::open_with(
            dir.path(),
            clock.clone(),
            StoreOptions {
                compact_every: None,
                ..Default::default()
            },
        )
        .unwrap();
        let svc = AlarmService::open(
            dir.path(),
            api.store().clone(),
            Some(api.anomaly().clone()),
            clock.clone(),
            Scope {
                region: "us-east-1".into(),
                account: "000000000000".into(),
            },
        )
        .unwrap();
        api.attach_alarms(svc.clone());
        Harness {
            api,
            svc,
            clock,
            _dir: dir,
        }
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        test_calls::call(&self.api, op, input, self.clock.now_ms()).await
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        test_calls::ok(&self.api, op, input, self.clock.now_ms()).await
    }

    async fn err(&self, op: &str, input: Value) -> (String, String) {
        test_calls::err(&self.api, op, input, self.clock.now_ms()).await
    }
}

fn alarm(name: &str) -> Value {
    json!({
        "AlarmName": name,
        "MetricName": "Cpu",
        "Namespace": "App",
        "Statistic": "Average",
        "Dimensions": [{"Name": "Host", "Value": "a"}],
        "Period": 60,
        "EvaluationPeriods": 2,
        "Threshold": 80,
        "ComparisonOperator": "GreaterThanThreshold",
        "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:ops"],
    })
}

fn with(mut v: Value, changes: Value) -> Value {
    for (k, x) in changes.as_object().unwrap() {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x.clone();
        }
    }
    v
}

#[tokio::test]
async fn put_metric_alarm_validation() {
    let h = Harness::new();
    let base = alarm("a");
    let metrics = json!([
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}, "ReturnData": false},
        {"Id": "e1", "Expression": "m1 * 2"}
    ]);
    let math = with(
        base.clone(),
        json!({"MetricName": null, "Namespace": null, "Statistic": null, "Dimensions": null, "Period": null, "Metrics": metrics}),
    );
    // (changes to a valid alarm, code, message)
    let table: Vec<(Value, &str, &str)> = vec![
        (json!({"AlarmName": null}), "MissingParameter", "The parameter AlarmName is required."),
        (json!({"EvaluationPeriods": null}), "MissingParameter", "The parameter EvaluationPeriods is required."),
        (
            json!({"ComparisonOperator": "Bigger"}),
            "ValidationError",
            "1 validation error detected: Value 'Bigger' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]",
        ),
        (
            json!({"EvaluationPeriods": 0, "AlarmName": ""}),
            "ValidationError",
            "2 validation errors detected: Value '' at 'alarmName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (json!({"DatapointsToAlarm": 3}), "ValidationError", "DatapointsToAlarm must be less than or equal to EvaluationPeriods"),
        (json!({"Period": 45}), "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        (
            json!({"EvaluationPeriods": 1441}),
            "ValidationError",
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)",
        ),
        (json!({"MetricName": null}), "ValidationError", "MetricName must not be null"),
        (json!({"Threshold": null}), "ValidationError", "Threshold must not be null"),
        (
            json!({"ExtendedStatistic": "p99"}),
            "InvalidParameterCombination",
            "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.",
        ),
        (
            json!({"Statistic": null, "ExtendedStatistic": "p101"}),
            "InvalidParameterValue",
            "The value p101 for parameter ExtendedStatistic is invalid.",
        ),
        (
            json!({"TreatMissingData": "sometimes"}),
            "InvalidParameterValue",
            "The value sometimes for parameter TreatMissingData is invalid. Valid values are: breaching, notBreaching, ignore, missing.",
        ),
        (
            json!({"OKActions": ["a1", "a2", "a3", "a4", "a5", "a6"]}),
            "ValidationError",
            "1 validation error detected: Value null at 'oKActions' failed to satisfy constraint: Member must have length less than or equal to 5",
        ),
        (
            json!({"Metrics": [{"Id": "m1", "Expression": "1"}]}),
            "ValidationError",
            "MetricName should not be set if list of Metrics is set.",
        ),
        (
            json!({"Metrics": [{"Id": "m1", "Expression": "1"}], "MetricName": null, "Namespace": null}),
            "ValidationError",
            "Statistic should not be set if list of Metrics is set.",
        ),
        (
            json!({"ThresholdMetricId": "ad1"}),
            "ValidationError",
            "Threshold and ThresholdMetricId cannot both be set",
        ),
        (
            json!({"ComparisonOperator": "GreaterThanUpperThreshold", "Threshold": null}),
            "ValidationError",
            "The comparison operator GreaterThanUpperThreshold requires ThresholdMetricId.",
        ),
        (
            json!({"EvaluationCriteria": {"PromQLCriteria": {"Query": "up"}}}),
            "InvalidParameterValue",
            "EvaluationCriteria and EvaluationInterval (PromQL alarms) are not supported by this collector.",
        ),
    ];
    for (changes, code, message) in table {
        let input = with(base.clone(), changes.clone());
        assert_eq!(
            h.err("PutMetricAlarm", input).await,
            (code.to_string(), message.to_string()),
            "{changes}"
        );
    }
    // Metric math: (Metrics, message)
    let math_table: Vec<(Value, &str)> = vec![
        (
            json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}},
                   {"Id": "e1", "Expression": "m1 * 2"}]),
            "Exactly one element of the metrics list should return data.",
        ),
        (
            json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}, "ReturnData": false},
                   {"Id": "m2", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Mem"}, "Period": 120, "Stat": "Average"}, "ReturnData": false},
                   {"Id": "e1", "Expression": "m1 + m2"}]),
            "All metrics in an alarm must have the same period.",
        ),
        (
            json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}, "ReturnData": false},
                   {"Id": "m1", "Expression": "m1 * 2"}]),
            "The values for parameter id in Metrics are not unique.",
        ),
        (
            json!([{"Id": "M1", "Expression": "1"}]),
            "The value M1 for parameter Metrics.member.1.Id is invalid: it must start with a lowercase letter and contain only letters, digits and underscores.",
        ),
    ];
    for (list, message) in math_table {
        let input = with(math.clone(), json!({"Metrics": list}));
        assert_eq!(
            h.err("PutMetricAlarm", input).await,
            ("ValidationError".to_string(), message.to_string())
        );
    }
    let too_many: Vec<Value> = (0..11)
        .map(|i| json!({"Id": format!("m{i}"), "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}, "ReturnData": i == 0}))
        .collect();
    let (code, _) = h
        .err(
            "PutMetricAlarm",
            with(math.clone(), json!({"Metrics": too_many})),
        )
        .await;
    assert_eq!(code, "ValidationError");
    let (code, msg) = h
        .err("PutMetricAlarm", with(math.clone(), json!({"Metrics": [
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Cpu"}, "Period": 60, "Stat": "Average"}, "ReturnData": false},
            {"Id": "e1", "Expression": "m1 +"}]})))
        .await;
    assert_eq!(code, "ValidationError");
    assert!(msg.contains("e1"), "{msg}");
    // A valid math alarm is accepted and described with its Metrics.
    h.ok("PutMetricAlarm", math).await;
    let d = h.ok("DescribeAlarms", json!({"AlarmNames": ["a"]})).await;
    let a = &d["MetricAlarms"][0];
    assert_eq!(
        a["Metrics"][1],
        json!({"Id": "e1", "Expression": "m1 * 2", "ReturnData": true})
    );
    assert!(a.get("MetricName").is_none() && a.get("Dimensions").is_none());
}

#[tokio::test]
async fn put_and_describe_in_both_spellings() {
    let h = Harness::new();
    h.ok("PutMetricAlarm", alarm("cpu-high")).await;
    // awsQuery spelling: every leaf a string.
    h.ok(
        "PutMetricAlarm",
        json!({
            "AlarmName": "latency", "MetricName": "Latency", "Namespace": "App", "ExtendedStatistic": "p99",
            "Period": "10", "EvaluationPeriods": "3", "DatapointsToAlarm": "2", "Threshold": "0.5",
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "ignore", "Unit": "Seconds", "ActionsEnabled": "false",
            "Tags": [{"Key": "team", "Value": "web"}]
        }),
    )
    .await;
    let d = h.ok("DescribeAlarms", json!({})).await;
    assert_eq!(d["CompositeAlarms"], json!([]));
    let a = &d["MetricAlarms"][0];
    assert_eq!(
        *a,
        json!({
            "AlarmName": "cpu-high",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high",
            "AlarmConfigurationUpdatedTimestamp": NOW / 1000,
            "ActionsEnabled": true,
            "OKActions": [],
            "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:ops"],
            "InsufficientDataActions": [],
            "StateValue": "INSUFFICIENT_DATA",
            "StateReason": "Unchecked: Initial alarm creation",
            "StateUpdatedTimestamp": NOW / 1000,
            "MetricName": "Cpu",
            "Namespace": "App",
            "Statistic": "Average",
            "Dimensions": [{"Name": "Host", "Value": "a"}],
            "Period": 60,
            "EvaluationPeriods": 2,
            "Threshold": 80.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "StateTransitionedTimestamp": NOW / 1000
        })
    );
    let b = &d["MetricAlarms"][1];
    assert_eq!(b["ExtendedStatistic"], "p99");
    assert_eq!(b["DatapointsToAlarm"], 2);
    assert_eq!(b["TreatMissingData"], "notBreaching");
    assert_eq!(b["EvaluateLowSampleCountPercentile"], "ignore");
    assert_eq!(b["Unit"], "Seconds");
    assert_eq!(b["ActionsEnabled"], false);
    assert!(b.get("Statistic").is_none());
    // An update keeps the state, replaces the configuration, ignores tags.
    h.svc
        .set_alarm_state(
            "cpu-high",
            crate::alarms::model::StateValue::Alarm,
            "x".into(),
            None,
        )
        .unwrap();
    h.clock.advance(5_000);
    h.ok(
        "PutMetricAlarm",
        with(
            alarm("cpu-high"),
            json!({"Threshold": 90, "Tags": [{"Key": "k", "Value": "v"}]}),
        ),
    )
    .await;
    let d = h
        .ok("DescribeAlarms", json!({"AlarmNames": ["cpu-high"]}))
        .await;
    assert_eq!(d["MetricAlarms"][0]["StateValue"], "ALARM");
    assert_eq!(d["MetricAlarms"][0]["Threshold"], 90.0);
    assert_eq!(
        d["MetricAlarms"][0]["AlarmConfigurationUpdatedTimestamp"],
        NOW / 1000 + 5
    );
    let arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu-high";
    assert_eq!(
        h.ok("ListTagsForResource", json!({"ResourceARN": arn}))
            .await,
        json!({"Tags": []})
    );
}

#[tokio::test]
async fn describe_filters_types_and_pages() {
    let h = Harness::new();
    for n in ["a1", "a2", "a3", "b1"] {
        h.ok("PutMetricAlarm", alarm(n)).await;
    }
    h.ok(
        "PutMetricAlarm",
        with(
            alarm("c1"),
            json!({"AlarmActions": ["arn:aws:sns:us-east-1:000000000000:other"]}),
        ),
    )
    .await;
    h.ok(
        "PutCompositeAlarm",
        json!({"AlarmName": "comp", "AlarmRule": "ALARM(a1) OR ALARM(b1)"}),
    )
    .await;
    h.ok(
        "SetAlarmState",
        json!({"AlarmName": "a2", "StateValue": "OK", "StateReason": "test"}),
    )
    .await;
    let names = |v: &Value, list: &str| -> Vec<String> {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["AlarmName"].as_str().unwrap().to_string())
            .collect()
    };
    // (input, metric alarm names, composite alarm names)
    let table: Vec<(Value, Vec<&str>, Vec<&str>)> = vec![
        (json!({}), vec!["a1", "a2", "a3", "b1", "c1"], vec![]),
        (
            json!({"AlarmTypes": ["CompositeAlarm"]}),
            vec![],
            vec!["comp"],
        ),
        (
            json!({"AlarmTypes": ["CompositeAlarm", "MetricAlarm"], "AlarmNamePrefix": "c"}),
            vec!["c1"],
            vec!["comp"],
        ),
        (
            json!({"AlarmNamePrefix": "a"}),
            vec!["a1", "a2", "a3"],
            vec![],
        ),
        (
            json!({"AlarmNames": ["a3", "b1", "zz"]}),
            vec!["a3", "b1"],
            vec![],
        ),
        (json!({"StateValue": "OK"}), vec!["a2"], vec![]),
        (
            json!({"ActionPrefix": "arn:aws:sns:us-east-1:000000000000:oth"}),
            vec!["c1"],
            vec![],
        ),
        (
            json!({"ChildrenOfAlarmName": "comp"}),
            vec!["a1", "b1"],
            vec![],
        ),
        (json!({"ParentsOfAlarmName": "b1"}), vec![], vec!["comp"]),
        (json!({"ParentsOfAlarmName": "a2"}), vec![], vec![]),
    ];
    for (input, metric, composite) in table {
        let d = h.ok("DescribeAlarms", input.clone()).await;
        assert_eq!(names(&d, "MetricAlarms"), metric, "{input}");
        assert_eq!(names(&d, "CompositeAlarms"), composite, "{input}");
    }
    let d = h
        .ok("DescribeAlarms", json!({"ChildrenOfAlarmName": "comp"}))
        .await;
    let keys: Vec<&String> = d["MetricAlarms"][0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        vec![
            "AlarmArn",
            "AlarmName",
            "StateUpdatedTimestamp",
            "StateValue"
        ]
    );
    let d = h
        .ok("DescribeAlarms", json!({"ParentsOfAlarmName": "a1"}))
        .await;
    assert_eq!(
        d["CompositeAlarms"],
        json!([{"AlarmName": "comp", "AlarmArn": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:comp"}])
    );

    // Pages of two across both lists.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"MaxRecords": 2, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let d = h.ok("DescribeAlarms", input).await;
        seen.extend(names(&d, "MetricAlarms"));
        seen.extend(names(&d, "CompositeAlarms"));
        match d.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["a1", "a2", "a3", "b1", "c1", "comp"]);

    // (input, code, message)
    let errors: Vec<(Value, &str, &str)> = vec![
        (json!({"NextToken": "bogus"}), "InvalidNextToken", "The NextToken provided is invalid."),
        (
            json!({"MaxRecords": 101}),
            "ValidationError",
            "1 validation error detected: Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100",
        ),
        (
            json!({"StateValue": "BAD"}),
            "ValidationError",
            "1 validation error detected: Value 'BAD' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]",
        ),
        (
            json!({"AlarmTypes": ["Other"]}),
            "ValidationError",
            "1 validation error detected: Value 'Other' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]",
        ),
        (
            json!({"ChildrenOfAlarmName": "comp", "StateValue": "OK"}),
            "ValidationError",
            "If you specify ChildrenOfAlarmName, you cannot specify any other parameters in the request except for MaxRecords and NextToken.",
        ),
        (
            json!({"AlarmNames": ["a1"], "AlarmNamePrefix": "a"}),
            "InvalidParameterCombination",
            "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both.",
        ),
    ];
    for (input, code, message) in errors {
        assert_eq!(
            h.err("DescribeAlarms", input.clone()).await,
            (code.to_string(), message.to_string()),
            "{input}"
        );
    }
    let d = h.ok("DescribeAlarms", json!({"MaxRecords": 2})).await;
    let t = d["NextToken"].as_str().unwrap().to_string();
    let (code, _) = h
        .err("DescribeAlarms", json!({"MaxRecords": 3, "NextToken": t}))
        .await;
    assert_eq!(code, "InvalidNextToken", "a token is tied to its request");
}

#[tokio::test]
async fn describe_alarms_for_metric() {
    let h = Harness::new();
    h.ok("PutMetricAlarm", alarm("avg")).await;
    h.ok(
        "PutMetricAlarm",
        with(
            alarm("p90"),
            json!({"Statistic": null, "ExtendedStatistic": "p90", "Period": 300}),
        ),
    )
    .await;
    h.ok(
        "PutMetricAlarm",
        with(
            alarm("other-host"),
            json!({"Dimensions": [{"Name": "Host", "Value": "b"}]}),
        ),
    )
    .await;
    let names = |v: Value| -> Vec<String> {
        v["MetricAlarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["AlarmName"].as_str().unwrap().to_string())
            .collect()
    };
    let dims = json!([{"Name": "Host", "Value": "a"}]);
    let table: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"MetricName": "Cpu", "Namespace": "App", "Dimensions": dims}),
            vec!["avg", "p90"],
        ),
        (
            json!({"MetricName": "Cpu", "Namespace": "App", "Dimensions": dims, "Period": 300}),
            vec!["p90"],
        ),
        (
            json!({"MetricName": "Cpu", "Namespace": "App", "Dimensions": dims, "Statistic": "Average"}),
            vec!["avg"],
        ),
        (
            json!({"MetricName": "Cpu", "Namespace": "App", "Dimensions": dims, "ExtendedStatistic": "p90"}),
            vec!["p90"],
        ),
        (json!({"MetricName": "Cpu", "Namespace": "App"}), vec![]),
        (
            json!({"MetricName": "Cpu", "Namespace": "App", "Dimensions": dims, "Unit": "Percent"}),
            vec![],
        ),
    ];
    for (input, want) in table {
        assert_eq!(
            names(h.ok("DescribeAlarmsForMetric", input.clone()).await),
            want,
            "{input}"
        );
    }
    assert_eq!(
        h.err("DescribeAlarmsForMetric", json!({"MetricName": "Cpu"}))
            .await,
        (
            "MissingParameter".to_string(),
            "The parameter Namespace is required.".to_string()
        )
    );
}

#[tokio::test]
async fn set_alarm_state_errors_and_history() {
    let h = Harness::new();
    h.ok("PutMetricAlarm", alarm("a")).await;
    assert_eq!(
        h.err("SetAlarmState", json!({"AlarmName": "a", "StateValue": "INVALID", "StateReason": "x"})).await,
        (
            "ValidationError".to_string(),
            "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]".to_string()
        )
    );
    let e = h
        .call(
            "SetAlarmState",
            json!({"AlarmName": "nope", "StateValue": "OK", "StateReason": "x"}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.query_code(), e.status, e.message.as_deref()),
        ("ResourceNotFound", 404, None)
    );
    let (code, _) = h
        .err("SetAlarmState", json!({"AlarmName": "a", "StateValue": "OK", "StateReason": "x", "StateReasonData": "{nope"}))
        .await;
    assert_eq!(code, "InvalidFormat");
    h.clock.advance(1_000);
    h.ok("SetAlarmState", json!({"AlarmName": "a", "StateValue": "ALARM", "StateReason": "testing", "StateReasonData": "{\"k\":1}"})).await;
    let d = h.ok("DescribeAlarms", json!({"AlarmNames": ["a"]})).await;
    assert_eq!(d["MetricAlarms"][0]["StateReason"], "testing");
    assert_eq!(d["MetricAlarms"][0]["StateReasonData"], "{\"k\":1}");

    let hist = h
        .ok(
            "DescribeAlarmHistory",
            json!({"AlarmName": "a", "HistoryItemType": "StateUpdate"}),
        )
        .await;
    let items = hist["AlarmHistoryItems"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["AlarmType"], "MetricAlarm");
    assert_eq!(
        items[0]["HistorySummary"],
        "Alarm updated from INSUFFICIENT_DATA to ALARM"
    );
    assert_eq!(items[0]["Timestamp"], NOW / 1000 + 1);
    let data: Value = serde_json::from_str(items[0]["HistoryData"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        json!({"version": "1.0",
               "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation"},
               "newState": {"stateValue": "ALARM", "stateReason": "testing", "stateReasonData": {"k": 1}}})
    );
    // Newest first by default; one page per record; ascending on request.
    let all = h
        .ok("DescribeAlarmHistory", json!({"AlarmName": "a"}))
        .await;
    let types: Vec<&str> = all["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["HistoryItemType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["Action", "StateUpdate", "ConfigurationUpdate"]);
    let first = h
        .ok(
            "DescribeAlarmHistory",
            json!({"AlarmName": "a", "MaxRecords": 1, "ScanBy": "TimestampAscending"}),
        )
        .await;
    assert_eq!(
        first["AlarmHistoryItems"][0]["HistoryItemType"],
        "ConfigurationUpdate"
    );
    let t = first["NextToken"].as_str().unwrap();
    let second = h.ok("DescribeAlarmHistory", json!({"AlarmName": "a", "MaxRecords": 1, "ScanBy": "TimestampAscending", "NextToken": t})).await;
    assert_eq!(
        second["AlarmHistoryItems"][0]["HistoryItemType"],
        "StateUpdate"
    );
    let window = h
        .ok(
            "DescribeAlarmHistory",
            json!({"StartDate": (NOW + 500) as f64 / 1000.0, "EndDate": "2023-11-14T22:00:02Z"}),
        )
        .await;
    assert_eq!(window["AlarmHistoryItems"].as_array().unwrap().len(), 2);
    let none = h
        .ok(
            "DescribeAlarmHistory",
            json!({"AlarmTypes": ["CompositeAlarm"]}),
        )
        .await;
    assert_eq!(none["AlarmHistoryItems"], json!([]));
    let (code, _) = h
        .err("DescribeAlarmHistory", json!({"HistoryItemType": "Nope"}))
        .await;
    assert_eq!(code, "ValidationError");
}

#[tokio::test]
async fn composite_alarms_through_the_api() {
    let h = Harness::new();
    h.ok("PutMetricAlarm", alarm("cpu")).await;
    h.ok("PutMetricAlarm", alarm("maintenance")).await;
    let (code, msg) = h
        .err(
            "PutCompositeAlarm",
            json!({"AlarmName": "c", "AlarmRule": "(ALARM(SampleQueue Oldest Age))"}),
        )
        .await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "ValidationError",
            "Error in AlarmRule [Unsupported token 'Oldest' at char 19, must be: ')']"
        )
    );
    let (_, msg) = h
        .err(
            "PutCompositeAlarm",
            json!({"AlarmName": "c", "AlarmRule": "ALARM(cpu) OR ALARM(missing)"}),
        )
        .await;
    assert_eq!(
        msg,
        "Could not save the composite alarm as alarms [missing] in the alarm rule do not exist"
    );
    let (_, msg) = h
        .err(
            "PutCompositeAlarm",
            json!({"AlarmName": "c", "AlarmRule": "TRUE", "ActionsSuppressor": "maintenance"}),
        )
        .await;
    assert_eq!(msg, "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are required when ActionsSuppressor is set.");
    h.ok(
        "PutCompositeAlarm",
        json!({"AlarmName": "c", "AlarmRule": "ALARM(\"arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu\")",
               "ActionsSuppressor": "arn:aws:cloudwatch:us-east-1:000000000000:alarm:maintenance",
               "ActionsSuppressorWaitPeriod": "60", "ActionsSuppressorExtensionPeriod": 120,
               "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:page"]}),
    )
    .await;
    h.ok(
        "SetAlarmState",
        json!({"AlarmName": "cpu", "StateValue": "ALARM", "StateReason": "test"}),
    )
    .await;
    let d = h
        .ok("DescribeAlarms", json!({"AlarmTypes": ["CompositeAlarm"]}))
        .await;
    let c = &d["CompositeAlarms"][0];
    assert_eq!(c["StateValue"], "ALARM");
    assert_eq!(c["ActionsSuppressedBy"], "WaitPeriod");
    assert_eq!(
        c["ActionsSuppressedReason"],
        "Actions suppressed by WaitPeriod"
    );
    assert_eq!(
        c["ActionsSuppressor"],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:maintenance"
    );
    assert_eq!(c["ActionsSuppressorWaitPeriod"], 60);
    assert_eq!(
        c["AlarmRule"],
        "ALARM(\"arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu\")"
    );
    assert!(c["StateReason"]
        .as_str()
        .unwrap()
        .ends_with("alarm:cpu transitioned to ALARM at Tuesday 14 November, 2023 22:00:00 UTC"));
    let d = h
        .ok("DescribeAlarms", json!({"ChildrenOfAlarmName": "c"}))
        .await;
    assert_eq!(d["MetricAlarms"].as_array().unwrap().len(), 1);
    let (_, msg) = h.err("DeleteAlarms", json!({"AlarmNames": ["cpu"]})).await;
    assert!(
        msg.contains("referenced by the alarm rule of composite alarm c"),
        "{msg}"
    );
    h.ok("DeleteAlarms", json!({"AlarmNames": ["c", "cpu"]}))
        .await;
    let hist = h
        .ok(
            "DescribeAlarmHistory",
            json!({"AlarmName": "c", "AlarmTypes": ["CompositeAlarm"]}),
        )
        .await;
    let summaries: Vec<&str> = hist["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["HistorySummary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        vec![
            "Alarm \"c\" deleted",
            "Alarm updated from OK to ALARM",
            "Alarm updated from INSUFFICIENT_DATA to OK",
            "Alarm \"c\" created"
        ]
    );
}

#[tokio::test]
async fn actions_enabled_and_tags() {
    let h = Harness::new();
    h.ok(
        "PutMetricAlarm",
        with(
            alarm("a"),
            json!({"Tags": [{"Key": "team", "Value": "web"}, {"Key": "env", "Value": "prod"}]}),
        ),
    )
    .await;
    h.ok(
        "DisableAlarmActions",
        json!({"AlarmNames": ["a", "unknown"]}),
    )
    .await;
    let d = h.ok("DescribeAlarms", json!({})).await;
    assert_eq!(d["MetricAlarms"][0]["ActionsEnabled"], false);
    h.ok("EnableAlarmActions", json!({"AlarmNames": ["a"]}))
        .await;
    let d = h.ok("DescribeAlarms", json!({})).await;
    assert_eq!(d["MetricAlarms"][0]["ActionsEnabled"], true);
    let (code, _) = h.err("DisableAlarmActions", json!({})).await;
    assert_eq!(code, "MissingParameter");

    let arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a";
    assert_eq!(
        h.ok("ListTagsForResource", json!({"ResourceARN": arn}))
            .await,
        json!({"Tags": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "web"}]})
    );
    h.ok("TagResource", json!({"ResourceARN": arn, "Tags": [{"Key": "team", "Value": "api"}, {"Key": "tier", "Value": "1"}]})).await;
    h.ok(
        "UntagResource",
        json!({"ResourceARN": arn, "TagKeys": ["env"]}),
    )
    .await;
    assert_eq!(
        h.ok("ListTagsForResource", json!({"ResourceARN": arn}))
            .await,
        json!({"Tags": [{"Key": "team", "Value": "api"}, {"Key": "tier", "Value": "1"}]})
    );
    // (ARN, code)
    let table = [
        (
            "arn:aws:cloudwatch:us-east-1:000000000000:alarm:nope",
            "ResourceNotFoundException",
        ),
        (
            "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:a",
            "ResourceNotFoundException",
        ),
        (
            "arn:aws:cloudwatch::000000000000:dashboard/x",
            "ResourceNotFoundException",
        ),
        ("not-an-arn", "InvalidParameterValue"),
    ];
    for (arn, code) in table {
        let (got, _) = h
            .err("ListTagsForResource", json!({"ResourceARN": arn}))
            .await;
        assert_eq!(got, code, "{arn}");
    }
    let many: Vec<Value> = (0..49)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    let (code, _) = h
        .err("TagResource", json!({"ResourceARN": arn, "Tags": many}))
        .await;
    assert_eq!(code, "LimitExceeded", "51 tags");
}

#[tokio::test]
async fn query_protocol_renders_alarm_lists() {
    let h = Harness::new();
    h.ok("PutMetricAlarm", alarm("a")).await;
    let ctx = RequestContext {
        request_id: "r".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "monitoring".into(),
        },
        protocol: Protocol::AwsQuery,
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        now_ms: NOW,
    };
    let out = h
        .api
        .handle("DescribeAlarms", json!({"AlarmNames": ["a"]}), &ctx)
        .await
        .unwrap()
        .unwrap();
    let mut xml = String::new();
    out.write_xml(&mut xml);
    assert!(
        xml.starts_with("<MetricAlarms><member><AlarmName>a</AlarmName>"),
        "{xml}"
    );
    assert!(xml.contains("<AlarmConfigurationUpdatedTimestamp>2023-11-14T22:00:00.000Z</AlarmConfigurationUpdatedTimestamp>"));
    assert!(
        xml.contains("<Dimensions><member><Name>Host</Name><Value>a</Value></member></Dimensions>")
    );
    assert!(
        xml.ends_with("<CompositeAlarms></CompositeAlarms>"),
        "{xml}"
    );
}
