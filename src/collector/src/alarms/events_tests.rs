//! The events match AWS's published samples (the CloudWatch user guide's EventBridge page),
//! member for member; only the random `id` differs.

use super::*;
use crate::alarms::model::{Actions, AlarmKind, AlarmStatistic, Comparison, TreatMissing};
use crate::alarms::suppress::{Phase, Suppression};
use hostwatch_model::{Dimension, MetricKey};
use serde_json::{json, Value};

const T_PREV: i64 = 1_569_938_200_987; // 2019-10-01T13:56:40.987Z
const T_NOW: i64 = 1_570_035_880_989; // 2019-10-02T17:04:40.989Z

fn scope() -> Scope {
    Scope {
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

fn cpu_alarm() -> Alarm {
    Alarm {
        config: AlarmConfig::Metric(MetricAlarmConfig {
            name: "ServerCpuTooHigh".into(),
            description: Some("Goes into alarm when server CPU utilization is too high!".into()),
            actions: Actions {
                enabled: true,
                ..Default::default()
            },
            source: MetricSource::Single {
                metric: MetricKey::new(
                    "AWS/EC2",
                    "CPUUtilization",
                    vec![Dimension {
                        name: "InstanceId".into(),
                        value: "i-12345678901234567".into(),
                    }],
                ),
                statistic: AlarmStatistic::Statistic("Average".into()),
                unit: None,
                event_id: "30b6c6b2-a864-43a2-4877-c09a1afc3b87".into(),
            },
            period_s: 300,
            evaluation_periods: 1,
            datapoints_to_alarm: Some(1),
            threshold: Some(80.0),
            comparison: Comparison::GreaterThanThreshold,
            treat_missing: Some(TreatMissing::Ignore),
            low_sample_count: None,
            updated_ms: 1_646_327_194_267, // 2022-03-03T17:06:34.267Z
        }),
        status: AlarmStatus {
            value: StateValue::Alarm,
            reason: "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).".into(),
            reason_data: Some("{\"version\":\"1.0\",\"queryDate\":\"2019-10-02T17:04:40.985+0000\",\"startDate\":\"2019-10-02T16:59:00.000+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[99.50160229693434],\"threshold\":50.0}".into()),
            updated_ms: T_NOW,
            transitioned_ms: T_NOW,
        },
        tags: vec![],
        version: 1,
        suppression: Suppression::default(),
    }
}

fn without_id(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(&id[14..15], "4", "UUID version 4: {id}");
    v.as_object_mut().unwrap().remove("id");
    v
}

#[test]
fn metric_alarm_state_change_matches_the_sample() {
    let alarm = cpu_alarm();
    let previous = AlarmStatus {
        value: StateValue::Ok,
        reason: "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).".into(),
        reason_data: Some("{\"version\":\"1.0\",\"queryDate\":\"2019-10-01T13:56:40.985+0000\",\"startDate\":\"2019-10-01T13:46:00.000+0000\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[0.0666851903306472],\"threshold\":50.0}".into()),
        updated_ms: T_PREV,
        transitioned_ms: T_PREV,
    };
    let got = without_id(&state_change(&scope(), &alarm, &previous, None, T_NOW));
    let want = json!({
        "version": "0",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "time": "2019-10-02T17:04:40Z",
        "region": "us-east-1",
        "resources": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh"],
        "detail": {
            "alarmName": "ServerCpuTooHigh",
            "configuration": {
                "description": "Goes into alarm when server CPU utilization is too high!",
                "metrics": [{
                    "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                    "metricStat": {
                        "metric": {
                            "dimensions": {"InstanceId": "i-12345678901234567"},
                            "name": "CPUUtilization",
                            "namespace": "AWS/EC2"
                        },
                        "period": 300,
                        "stat": "Average"
                    },
                    "returnData": true
                }]
            },
            "previousState": {
                "reason": previous.reason,
                "reasonData": previous.reason_data,
                "timestamp": "2019-10-01T13:56:40.987+0000",
                "value": "OK"
            },
            "state": {
                "reason": alarm.status.reason,
                "reasonData": alarm.status.reason_data,
                "timestamp": "2019-10-02T17:04:40.989+0000",
                "value": "ALARM"
            }
        }
    });
    assert_eq!(got, want);
}

fn composite() -> Alarm {
    Alarm {
        config: AlarmConfig::Composite(CompositeAlarmConfig {
            name: "ServiceAggregatedAlarm".into(),
            description: None,
            actions: Actions {
                enabled: true,
                ..Default::default()
            },
            rule: "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)".into(),
            children: vec!["ServerCpuTooHigh".into(), "TotalNetworkTrafficTooHigh".into()],
            suppressor: Some("ServiceMaintenanceAlarm".into()),
            suppressor_as_sent: Some("ServiceMaintenanceAlarm".into()),
            wait_period_s: Some(120),
            extension_period_s: Some(180),
            updated_ms: 1_657_807_186_425, // 2022-07-14T13:59:46.425Z
        }),
        status: AlarmStatus {
            value: StateValue::Alarm,
            reason: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:SuppressionDemo.EventBridge.FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC".into(),
            reason_data: Some("{\"triggeringAlarms\":[{\"arn\":\"arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh\",\"state\":{\"value\":\"ALARM\",\"timestamp\":\"2022-07-22T15:57:45.394+0000\"}}]}".into()),
            updated_ms: 1_658_505_465_394,
            transitioned_ms: 1_658_505_465_394,
        },
        tags: vec![],
        version: 1,
        suppression: Suppression {
            phase: Phase::WaitPeriod {
                until_ms: 1_658_505_585_394,
            },
            pending: true,
        },
    }
}

#[test]
fn composite_state_change_carries_the_suppression() {
    let alarm = composite();
    let previous = AlarmStatus {
        value: StateValue::Ok,
        reason: "arn:aws:cloudwatch:us-east-1:123456789012:alarm:SuppressionDemo.EventBridge.Main was created and its alarm rule evaluates to OK".into(),
        reason_data: Some("{}".into()),
        updated_ms: 1_658_505_374_552, // 2022-07-22T15:56:14.552Z
        transitioned_ms: 1_658_505_374_552,
    };
    let got = without_id(&state_change(
        &scope(),
        &alarm,
        &previous,
        alarm.suppression.suppressed_by(),
        1_658_505_465_394,
    ));
    assert_eq!(got["time"], "2022-07-22T15:57:45Z");
    assert_eq!(
        got["detail"]["configuration"],
        json!({
            "alarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
            "actionsSuppressor": "ServiceMaintenanceAlarm",
            "actionsSuppressorWaitPeriod": 120,
            "actionsSuppressorExtensionPeriod": 180
        })
    );
    assert_eq!(
        got["detail"]["state"],
        json!({
            "actionsSuppressedBy": "WaitPeriod",
            "actionsSuppressedReason": "Actions suppressed by WaitPeriod",
            "value": "ALARM",
            "reason": alarm.status.reason,
            "reasonData": alarm.status.reason_data,
            "timestamp": "2022-07-22T15:57:45.394+0000"
        })
    );
    assert_eq!(
        got["detail"]["previousState"]["timestamp"],
        "2022-07-22T15:56:14.552+0000"
    );
}

#[test]
fn configuration_changes_match_the_samples() {
    let mut alarm = composite();
    alarm.suppression = Suppression::default();
    alarm.status = AlarmStatus::initial(1_657_807_186_425);
    let got = without_id(&config_change(
        &scope(),
        &alarm,
        Operation::Create,
        None,
        1_657_807_186_425,
    ));
    assert_eq!(got["detail-type"], "CloudWatch Alarm Configuration Change");
    assert_eq!(got["time"], "2022-07-14T13:59:46Z");
    assert_eq!(
        got["detail"],
        json!({
            "alarmName": "ServiceAggregatedAlarm",
            "operation": "create",
            "state": {"value": "INSUFFICIENT_DATA", "timestamp": "2022-07-14T13:59:46.425+0000"},
            "configuration": {
                "alarmRule": "ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)",
                "actionsSuppressor": "ServiceMaintenanceAlarm",
                "actionsSuppressorWaitPeriod": 120,
                "actionsSuppressorExtensionPeriod": 180,
                "alarmName": "ServiceAggregatedAlarm",
                "actionsEnabled": true,
                "timestamp": "2022-07-14T13:59:46.425+0000",
                "okActions": [],
                "alarmActions": [],
                "insufficientDataActions": []
            }
        })
    );

    let mut updated = cpu_alarm();
    let mut previous = updated.config.clone();
    if let AlarmConfig::Metric(c) = &mut previous {
        c.threshold = Some(70.0);
        c.updated_ms = 1_646_327_173_757;
    }
    updated.status = AlarmStatus::initial(1_646_327_173_757);
    let got = without_id(&config_change(
        &scope(),
        &updated,
        Operation::Update,
        Some(&previous),
        1_646_327_194_267,
    ));
    let config = |threshold: f64, ts: &str| {
        json!({
            "evaluationPeriods": 1,
            "datapointsToAlarm": 1,
            "threshold": threshold,
            "comparisonOperator": "GreaterThanThreshold",
            "treatMissingData": "ignore",
            "metrics": [{
                "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                "metricStat": {
                    "metric": {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": {"InstanceId": "i-12345678901234567"}},
                    "period": 300,
                    "stat": "Average"
                },
                "returnData": true
            }],
            "alarmName": "ServerCpuTooHigh",
            "description": "Goes into alarm when server CPU utilization is too high!",
            "actionsEnabled": true,
            "timestamp": ts,
            "okActions": [],
            "alarmActions": [],
            "insufficientDataActions": []
        })
    };
    assert_eq!(got["detail"]["operation"], "update");
    assert_eq!(
        got["detail"]["state"],
        json!({"value": "INSUFFICIENT_DATA", "timestamp": "2022-03-03T17:06:13.757+0000"})
    );
    assert_eq!(
        got["detail"]["configuration"],
        config(80.0, "2022-03-03T17:06:34.267+0000")
    );
    assert_eq!(
        got["detail"]["previousConfiguration"],
        config(70.0, "2022-03-03T17:06:13.757+0000")
    );
    assert_eq!(AlarmKind::Metric.as_str(), "MetricAlarm");
}

#[test]
fn math_alarm_metrics_are_listed_as_configured() {
    let mut alarm = cpu_alarm();
    if let AlarmConfig::Metric(c) = &mut alarm.config {
        c.source = MetricSource::Math {
            queries: vec![
                MathQuery {
                    id: "e1".into(),
                    metric_stat: None,
                    expression: Some("SUM(METRICS())".into()),
                    label: Some("Total Network Traffic".into()),
                    return_data: true,
                    period_s: None,
                    account_id: None,
                },
                MathQuery {
                    id: "m1".into(),
                    metric_stat: Some(crate::alarms::model::MetricStatSpec {
                        metric: MetricKey::new("AWS/EC2", "NetworkIn", vec![]),
                        period_s: 300,
                        stat: "Maximum".into(),
                        unit: None,
                    }),
                    expression: None,
                    label: None,
                    return_data: false,
                    period_s: None,
                    account_id: None,
                },
            ],
            threshold_metric_id: None,
        };
    }
    let previous = AlarmStatus::initial(T_PREV);
    let got = without_id(&state_change(&scope(), &alarm, &previous, None, T_NOW));
    assert_eq!(
        got["detail"]["configuration"]["metrics"],
        json!([
            {"expression": "SUM(METRICS())", "id": "e1", "label": "Total Network Traffic", "returnData": true},
            {"id": "m1", "metricStat": {"metric": {"dimensions": {}, "name": "NetworkIn", "namespace": "AWS/EC2"}, "period": 300, "stat": "Maximum"}, "returnData": false}
        ])
    );
    assert_eq!(
        got["detail"]["previousState"],
        json!({"reason": "Unchecked: Initial alarm creation", "timestamp": "2019-10-01T13:56:40.987+0000", "value": "INSUFFICIENT_DATA"})
    );
}

#[test]
fn uuids_are_version_4() {
    let a = uuid_v4();
    let b = uuid_v4();
    assert_ne!(a, b);
    for u in [a, b] {
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
    }
}
