//! Anomaly-detection alarms: two weeks of a smooth daily pattern at 5-minute resolution, a
//! metric-math alarm on `ANOMALY_DETECTION_BAND(m1, 2)` with each band operator, and rounds run
//! on a manual clock. Also the API validation of band operators.

use hostwatch_model::{DatumValue, MetricKey, Unit};
use std::sync::Arc;

use super::super::model::{
    Actions, Comparison, MathQuery, MetricAlarmConfig, MetricSource, MetricStatSpec, StateValue,
};
use super::super::AlarmService;
use super::{scope, MIN, T0};
use crate::api::cloudwatch::anomaly::AnomalyService;
use crate::clock::ManualClock;
use crate::store::metrics::{MetricStore, Point, SeriesKey, StoreOptions};

const DAY: i64 = 1440 * MIN;
const STEP: i64 = 5 * MIN;

/// The deterministic daily pattern: 10 ± 5 over the day plus a little noise.
fn pattern(ts_ms: i64) -> f64 {
    let tod = (ts_ms.rem_euclid(DAY)) as f64 / DAY as f64;
    let noise = ((ts_ms / STEP) as f64 * 12.9898).sin() * 0.2;
    10.0 + 5.0 * (2.0 * std::f64::consts::PI * tod).sin() + noise
}

struct Bench {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    metrics: MetricStore,
    svc: Arc<AlarmService>,
}

impl Bench {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let metrics = MetricStore::open(
            dir.path(),
            StoreOptions {
                compact_every: None,
                ..Default::default()
            },
        )
        .unwrap();
        let anomaly = AnomalyService::open(dir.path()).unwrap();
        let svc = AlarmService::open(
            dir.path(),
            metrics.clone(),
            Some(anomaly),
            clock.clone(),
            scope(),
        )
        .unwrap();
        let b = Bench {
            _dir: dir,
            clock,
            metrics,
            svc,
        };
        // Two weeks of history up to (not including) T0.
        let mut ts = T0 - 14 * DAY;
        let mut batch = Vec::new();
        while ts < T0 {
            batch.push(b.point(ts + 1_000, pattern(ts)));
            ts += STEP;
        }
        b.metrics.append(batch).await.unwrap();
        b
    }

    fn point(&self, ts_ms: i64, value: f64) -> (SeriesKey, Point) {
        (
            SeriesKey {
                metric: MetricKey::new("App", "load", vec![]),
                unit: Unit::None,
            },
            Point {
                ts_ms,
                value: DatumValue::Single(value),
                high_res: false,
            },
        )
    }

    async fn put(&self, ts_ms: i64, value: f64) {
        self.metrics
            .append(vec![self.point(ts_ms, value)])
            .await
            .unwrap();
    }

    fn round(&self, t: i64) {
        self.clock.set(t);
        self.svc.run_round(t).unwrap();
    }

    fn state(&self, name: &str) -> StateValue {
        self.svc.get(name).unwrap().status.value
    }

    fn reason(&self, name: &str) -> String {
        self.svc.get(name).unwrap().status.reason
    }

    fn reason_data(&self, name: &str) -> serde_json::Value {
        let s = self.svc.get(name).unwrap().status.reason_data.unwrap();
        serde_json::from_str(&s).unwrap()
    }
}

fn band_alarm(name: &str, comparison: Comparison) -> MetricAlarmConfig {
    MetricAlarmConfig {
        name: name.into(),
        description: None,
        actions: Actions {
            enabled: true,
            ok: vec![],
            alarm: vec![],
            insufficient_data: vec![],
        },
        source: MetricSource::Math {
            queries: vec![
                MathQuery {
                    id: "m1".into(),
                    metric_stat: Some(MetricStatSpec {
                        metric: MetricKey::new("App", "load", vec![]),
                        period_s: 300,
                        stat: "Average".into(),
                        unit: None,
                    }),
                    expression: None,
                    label: None,
                    return_data: true,
                    period_s: None,
                    account_id: None,
                },
                MathQuery {
                    id: "ad1".into(),
                    metric_stat: None,
                    expression: Some("ANOMALY_DETECTION_BAND(m1, 2)".into()),
                    label: None,
                    return_data: true,
                    period_s: None,
                    account_id: None,
                },
            ],
            threshold_metric_id: Some("ad1".into()),
        },
        period_s: 300,
        evaluation_periods: 1,
        datapoints_to_alarm: None,
        threshold: None,
        comparison,
        treat_missing: None,
        low_sample_count: None,
        updated_ms: 0,
    }
}

const BOTH: &str = "both";
const UPPER: &str = "upper";
const LOWER: &str = "lower";

/// The three band alarms; `m` is their `DatapointsToAlarm`.
async fn bench_with_alarms(m: Option<u32>) -> Bench {
    let b = Bench::new().await;
    for (name, op) in [
        (BOTH, Comparison::LessThanLowerOrGreaterThanUpperThreshold),
        (UPPER, Comparison::GreaterThanUpperThreshold),
        (LOWER, Comparison::LessThanLowerThreshold),
    ] {
        let mut c = band_alarm(name, op);
        c.datapoints_to_alarm = m;
        b.svc.put_metric_alarm(c, vec![]).unwrap();
        assert_eq!(b.state(name), StateValue::InsufficientData);
    }
    b
}

fn states(b: &Bench) -> [StateValue; 3] {
    [b.state(BOTH), b.state(UPPER), b.state(LOWER)]
}

#[tokio::test]
async fn band_alarms_follow_normal_spike_and_dip() {
    use StateValue::{Alarm, Ok};
    let b = bench_with_alarms(None).await;
    // (value stored in the period [t - 5 min, t), round time t, states of both/upper/lower)
    let steps = [
        (None, T0 + STEP, [Ok, Ok, Ok]),
        (Some(60.0), T0 + 2 * STEP, [Alarm, Alarm, Ok]),
        (None, T0 + 3 * STEP, [Ok, Ok, Ok]),
        (Some(-40.0), T0 + 4 * STEP, [Alarm, Ok, Alarm]),
        (None, T0 + 5 * STEP, [Ok, Ok, Ok]),
    ];
    for (value, t, want) in steps {
        let start = t - STEP;
        b.put(start + 1_000, value.unwrap_or_else(|| pattern(start)))
            .await;
        b.round(t);
        assert_eq!(
            states(&b),
            want,
            "round at +{} min: {} | {} | {}",
            (t - T0) / MIN,
            b.reason(BOTH),
            b.reason(UPPER),
            b.reason(LOWER)
        );
    }
}

#[tokio::test]
async fn band_reasons_have_the_documented_shape() {
    // With DatapointsToAlarm set the reason has the `M out of the last N` form of the docs.
    let b = bench_with_alarms(Some(1)).await;
    b.put(T0 + 1_000, 60.0).await;
    b.round(T0 + STEP);
    assert_eq!(b.state(BOTH), StateValue::Alarm);

    // `Thresholds Crossed: 1 out of the last 1 datapoints [60.0 (14/11/23 22:00:00)] was less than
    // the lower thresholds [l] or greater than the upper thresholds [u] (minimum 1 datapoint for
    // OK -> ALARM transition).`
    let reason = b.reason(BOTH);
    let prefix = "Thresholds Crossed: 1 out of the last 1 datapoints [60.0 (14/11/23 22:00:00)] \
                  was less than the lower thresholds [";
    assert!(reason.starts_with(prefix), "{reason}");
    assert!(
        reason.ends_with("] (minimum 1 datapoint for OK -> ALARM transition)."),
        "{reason}"
    );
    let rest = &reason[prefix.len()..];
    let (lower, rest) = rest
        .split_once("] or greater than the upper thresholds [")
        .unwrap();
    let (upper, _) = rest.split_once(']').unwrap();
    let (lower, upper): (f64, f64) = (lower.parse().unwrap(), upper.parse().unwrap());
    // The band sits around the daily pattern at 22:00 UTC.
    let expected = pattern(T0);
    assert!(
        lower < expected && expected < upper,
        "{lower} {expected} {upper}"
    );
    assert!(upper < 60.0);

    let data = b.reason_data(BOTH);
    assert_eq!(data["version"], "1.0");
    assert_eq!(data["period"], 300);
    assert!(data.get("statistic").is_none(), "{data}");
    assert!(data.get("threshold").is_none(), "{data}");
    assert_eq!(data["recentDatapoints"], serde_json::json!([60.0]));
    // (serde_json's default float parsing may be one ulp off, hence the tolerance)
    let near = |v: &serde_json::Value, want: f64| {
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
        assert!(
            (v[0].as_f64().unwrap() - want).abs() < 1e-9,
            "{v} vs {want}"
        );
    };
    near(&data["recentLowerThresholds"], lower);
    near(&data["recentUpperThresholds"], upper);
    assert_eq!(data["evaluatedDatapoints"][0]["value"], 60.0);

    let up = b.reason(UPPER);
    assert!(
        up.starts_with(
            "Thresholds Crossed: 1 out of the last 1 datapoints [60.0 (14/11/23 22:00:00)] was \
             greater than the upper thresholds ["
        ),
        "{up}"
    );
    let data = b.reason_data(UPPER);
    assert!(data["recentUpperThresholds"].is_array(), "{data}");
    assert!(data["recentLowerThresholds"].is_array(), "{data}");
    // The lower-only alarm is OK and says so.
    let low = b.reason(LOWER);
    assert!(
        low.contains("was not less than the lower thresholds ["),
        "{low}"
    );
    assert!(
        low.ends_with("(minimum 1 datapoint for ALARM -> OK transition)."),
        "{low}"
    );
}

#[tokio::test]
async fn without_datapoints_to_alarm_the_reason_is_the_short_form() {
    let b = bench_with_alarms(None).await;
    b.put(T0 + 1_000, -40.0).await;
    b.round(T0 + STEP);
    assert_eq!(b.state(LOWER), StateValue::Alarm);
    let r = b.reason(LOWER);
    assert!(
        r.starts_with(
            "Thresholds Crossed: 1 datapoint [-40.0 (14/11/23 22:00:00)] was less than the lower \
             thresholds ["
        ),
        "{r}"
    );
    assert!(r.ends_with("]."), "{r}");
    let data = b.reason_data(LOWER);
    assert_eq!(data["recentDatapoints"], serde_json::json!([-40.0]));
    let (lo, hi) = (
        data["recentLowerThresholds"][0].as_f64().unwrap(),
        data["recentUpperThresholds"][0].as_f64().unwrap(),
    );
    assert!(-40.0 < lo && lo < hi, "{data}");
}

#[tokio::test]
async fn band_alarm_without_data_is_insufficient() {
    let b = bench_with_alarms(None).await;
    // Nothing in the last periods (history stops 3 periods before the round).
    b.round(T0 + 6 * STEP);
    assert_eq!(
        b.state(UPPER),
        StateValue::InsufficientData,
        "{}",
        b.reason(UPPER)
    );
}

#[tokio::test]
async fn band_operators_are_validated() {
    use crate::api::cloudwatch::CloudWatchApi;
    use serde_json::json;

    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
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
        scope(),
    )
    .unwrap();
    api.attach_alarms(svc.clone());
    let ctx = crate::api::cloudwatch::test_calls::context(T0);
    let metrics = json!([
        {"Id": "m1", "ReturnData": true, "MetricStat": {
            "Metric": {"Namespace": "App", "MetricName": "load"},
            "Period": 300, "Stat": "Average"}},
        {"Id": "ad1", "ReturnData": true, "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
    ]);
    let base = |op: &str| {
        json!({
            "AlarmName": "ad",
            "Metrics": metrics.clone(),
            "ThresholdMetricId": "ad1",
            "EvaluationPeriods": 1,
            "ComparisonOperator": op,
        })
    };
    // The valid form is accepted with each band operator.
    for op in [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ] {
        api.handle("PutMetricAlarm", base(op), &ctx)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"));
    }
    let mut cases = Vec::new();
    for op in [
        "LessThanLowerOrGreaterThanUpperThreshold",
        "LessThanLowerThreshold",
        "GreaterThanUpperThreshold",
    ] {
        // A band operator without ThresholdMetricId, with or without a static threshold.
        let mut v = base(op);
        v.as_object_mut().unwrap().remove("ThresholdMetricId");
        // (with only m1 returning data, so the single-ReturnData check does not fire first)
        v["Metrics"][1]["ReturnData"] = json!(false);
        cases.push((v.clone(), "requires ThresholdMetricId".to_string()));
        v["Threshold"] = json!(5);
        cases.push((v, "requires ThresholdMetricId".to_string()));
        // Both a static threshold and ThresholdMetricId.
        let mut v = base(op);
        v["Threshold"] = json!(5);
        cases.push((v, "cannot both be set".to_string()));
    }
    // ThresholdMetricId with a static operator.
    cases.push((
        base("GreaterThanThreshold"),
        "ThresholdMetricId can only be used with the comparison operators".to_string(),
    ));
    for (input, want) in cases {
        let e = api
            .handle("PutMetricAlarm", input.clone(), &ctx)
            .await
            .expect_err(&format!("{input}"));
        assert_eq!(e.query_code(), "ValidationError", "{input}");
        let msg = e.message.clone().unwrap_or_default();
        assert!(msg.contains(&want), "{input}: {msg}");
    }
}
