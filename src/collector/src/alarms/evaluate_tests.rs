//! Step tables for metric alarm evaluation: both missing-data tables of the API reference
//! (§3.2) row by row in all four `TreatMissingData` columns, M of N, the premature-alarm rule,
//! low-sample percentiles, and the reason texts.
//!
//! Patterns are written oldest → newest: `0` a datapoint that does not breach, `X` one that
//! does, `-` a missing one. The alarm is `GreaterThanThreshold 5`, so `0` is 1.0 and `X` 10.0.

use super::*;
use crate::alarms::model::{
    Actions, AlarmStatistic, Comparison, LowSampleCount, MetricAlarmConfig, MetricSource,
    TreatMissing,
};
use hostwatch_model::{MetricKey, Unit};

const PERIOD_MS: i64 = 300_000;
/// 2019-10-02T17:05:00Z, a minute boundary.
const NOW: i64 = 1_570_035_900_000;

fn config(n: u32, m: Option<u32>, treat: Option<TreatMissing>) -> MetricAlarmConfig {
    MetricAlarmConfig {
        name: "cpu".into(),
        description: None,
        actions: Actions::default(),
        source: MetricSource::Single {
            metric: MetricKey::new("App", "Cpu", vec![]),
            statistic: AlarmStatistic::Statistic("Average".into()),
            unit: None,
            event_id: "id".into(),
        },
        period_s: PERIOD_MS / 1000,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: Some(5.0),
        comparison: Comparison::GreaterThanThreshold,
        treat_missing: treat,
        low_sample_count: None,
        updated_ms: 0,
    }
}

/// The range for a pattern, ending at `NOW`.
fn range(pattern: &str) -> Vec<Datapoint> {
    let cells: Vec<&str> = pattern.split_whitespace().collect();
    let len = cells.len() as i64;
    cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let start = NOW - (len - i as i64) * PERIOD_MS;
            match *c {
                "0" => Datapoint {
                    start_ms: start,
                    value: Some(1.0),
                    sample_count: 1.0,
                    band: None,
                },
                "X" => Datapoint {
                    start_ms: start,
                    value: Some(10.0),
                    sample_count: 1.0,
                    band: None,
                },
                _ => Datapoint::missing(start),
            }
        })
        .collect()
}

fn verdict(n: u32, m: u32, treat: TreatMissing, pattern: &str) -> Verdict {
    let c = config(n, Some(m), Some(treat));
    judge(&Params::of(&c), &range(pattern)).verdict
}

use Verdict::{Alarm as A, InsufficientData as I, Ok as O, Retain as R};

/// (pattern, MISSING, IGNORE, BREACHING, NOT BREACHING)
type Row = (&'static str, Verdict, Verdict, Verdict, Verdict);

fn check_table(n: u32, m: u32, rows: &[Row]) {
    for (pattern, missing, ignore, breaching, not_breaching) in rows {
        for (treat, want) in [
            (TreatMissing::Missing, missing),
            (TreatMissing::Ignore, ignore),
            (TreatMissing::Breaching, breaching),
            (TreatMissing::NotBreaching, not_breaching),
        ] {
            assert_eq!(
                verdict(n, m, treat, pattern),
                *want,
                "M={m} N={n} `{pattern}` treated as {}",
                treat.as_str()
            );
        }
    }
}

#[test]
fn range_sizes() {
    assert_eq!(range_len(1), 3);
    assert_eq!(range_len(3), 5);
    assert_eq!(range_len(5), 7);
    assert_eq!(range_len(6), 8);
    assert_eq!(range_len(30), 40);
}

#[test]
fn missing_data_table_1_m3_of_n3() {
    check_table(
        3,
        3,
        &[
            ("0 - X - X", O, O, O, O),
            ("0 - - - -", O, O, O, O),
            ("- - - - -", I, R, A, O),
            ("0 X X - X", A, A, A, A),
            ("- - X - -", A, R, A, O),
        ],
    );
}

#[test]
fn missing_data_table_2_m2_of_n3() {
    check_table(
        3,
        2,
        &[
            ("0 - X - X", A, A, A, A),
            ("0 0 X 0 X", A, A, A, A),
            ("0 - X - -", O, O, A, O),
            ("- - - - 0", O, O, A, O),
            ("- - - X -", A, R, A, O),
        ],
    );
}

#[test]
fn table_1_row_2_goes_to_alarm_once_the_real_point_leaves_the_range() {
    // One evaluation per period: the non-breaching datapoint ages out of the range.
    let steps = [("0 - - - -", O), ("- - - - -", A), ("- - - - X", A)];
    for (pattern, want) in steps {
        assert_eq!(
            verdict(3, 3, TreatMissing::Breaching, pattern),
            want,
            "{pattern}"
        );
    }
}

#[test]
fn m_out_of_n() {
    // (M, N, pattern, verdict); every datapoint present (`r >= N`), so the treatment is moot.
    let rows = [
        (2, 3, "0 0 X 0 X", A),
        (2, 3, "0 0 0 X 0", O),
        (3, 5, "0 0 X 0 X 0 X", A),
        (3, 5, "X X 0 0 X 0 0", O),
        (1, 1, "0 0 X", A),
        (1, 1, "X X 0", O),
        (4, 4, "X X X X 0 X", O),
        (4, 4, "0 X X X X X", A),
    ];
    for (m, n, pattern, want) in rows {
        for treat in TreatMissing::ALL {
            let c = config(n, Some(m), Some(treat));
            let got = judge(&Params::of(&c), &range(pattern)).verdict;
            assert_eq!(got, want, "{m} of {n} `{pattern}` {}", treat.as_str());
        }
    }
}

#[test]
fn missing_points_make_evaluation_reach_further_back() {
    // N = 3 real datapoints exist in the range: the most recent three are evaluated.
    let c = config(3, Some(3), Some(TreatMissing::Breaching));
    let r = range("X X - X -");
    let o = judge(&Params::of(&c), &r);
    assert_eq!(o.verdict, A);
    assert_eq!(o.evaluated, vec![0, 1, 3]);
    assert!(o.filled.is_empty(), "the treatment is not needed");
    let r = range("0 X - X -");
    assert_eq!(judge(&Params::of(&c), &r).verdict, O);
}

#[test]
fn premature_alarm_rule() {
    // (M, N, pattern, MISSING verdict, IGNORE verdict)
    let rows = [
        (3, 3, "- - - - X", I, R),
        (3, 3, "- - - X -", I, R),
        (3, 3, "- - X - -", A, R),
        (3, 3, "X - - - -", A, R),
        (3, 3, "- X - X -", A, R),
        (2, 3, "- - - - X", I, R),
        (2, 3, "- - - X -", A, R),
        (2, 3, "0 - X - -", O, O),
        (2, 3, "- - - X 0", O, O),
    ];
    for (m, n, pattern, missing, ignore) in rows {
        assert_eq!(
            verdict(n, m, TreatMissing::Missing, pattern),
            missing,
            "{m}/{n} `{pattern}` missing"
        );
        assert_eq!(
            verdict(n, m, TreatMissing::Ignore, pattern),
            ignore,
            "{m}/{n} `{pattern}` ignore"
        );
    }
    let c = config(3, Some(3), Some(TreatMissing::Missing));
    assert!(judge(&Params::of(&c), &range("- - X - -")).premature);
}

#[test]
fn dynamodb_alarms_always_ignore_missing_data() {
    let mut c = config(3, Some(3), Some(TreatMissing::Breaching));
    c.source = MetricSource::Single {
        metric: MetricKey::new("AWS/DynamoDB", "ThrottledRequests", vec![]),
        statistic: AlarmStatistic::Statistic("Sum".into()),
        unit: None,
        event_id: "id".into(),
    };
    assert_eq!(judge(&Params::of(&c), &range("- - - - -")).verdict, R);
}

fn percentile_config(p: &str, low: Option<LowSampleCount>) -> MetricAlarmConfig {
    let mut c = config(1, None, None);
    c.source = MetricSource::Single {
        metric: MetricKey::new("App", "Latency", vec![]),
        statistic: AlarmStatistic::Extended(p.into()),
        unit: None,
        event_id: "id".into(),
    };
    c.low_sample_count = low;
    c
}

#[test]
fn low_sample_percentiles() {
    assert_eq!(low_sample_limit(99.0), Some(1000.0));
    assert_eq!(low_sample_limit(50.0), Some(20.0));
    assert_eq!(low_sample_limit(10.0), Some(100.0));
    assert_eq!(low_sample_limit(100.0), None);
    assert_eq!(low_sample_limit(0.0), None);
    // (statistic, EvaluateLowSampleCountPercentile, samples, verdict)
    let rows = [
        ("p99", Some(LowSampleCount::Ignore), 999.0, R),
        ("p99", Some(LowSampleCount::Ignore), 1000.0, A),
        ("p99", Some(LowSampleCount::Evaluate), 1.0, A),
        ("p99", None, 1.0, A),
        ("p50", Some(LowSampleCount::Ignore), 19.0, R),
        ("p50", Some(LowSampleCount::Ignore), 20.0, A),
        ("p10", Some(LowSampleCount::Ignore), 99.0, R),
        ("p10", Some(LowSampleCount::Ignore), 100.0, A),
        ("p100", Some(LowSampleCount::Ignore), 1.0, A),
        ("tm99", Some(LowSampleCount::Ignore), 1.0, A),
    ];
    for (stat, low, samples, want) in rows {
        let c = percentile_config(stat, low);
        let mut r = range("- - X");
        r[2].sample_count = samples;
        assert_eq!(
            judge(&Params::of(&c), &r).verdict,
            want,
            "{stat} {low:?} {samples} samples"
        );
    }
}

fn transition(
    c: &MetricAlarmConfig,
    pattern: &str,
    current: StateValue,
) -> (StateValue, String, serde_json::Value) {
    match evaluate(c, &range(pattern), current, NOW + 40_985) {
        Decision::Transition {
            value,
            reason,
            reason_data,
        } => (value, reason, serde_json::from_str(&reason_data).unwrap()),
        Decision::Keep => panic!("`{pattern}` should transition from {current:?}"),
    }
}

#[test]
fn unchanged_state_is_kept() {
    let c = config(1, None, None);
    assert_eq!(
        evaluate(&c, &range("- - X"), StateValue::Alarm, NOW),
        Decision::Keep
    );
    let c = config(3, Some(3), Some(TreatMissing::Ignore));
    assert_eq!(
        evaluate(&c, &range("- - - - -"), StateValue::Ok, NOW),
        Decision::Keep
    );
}

#[test]
fn reasons_without_datapoints_to_alarm() {
    let mut c = config(1, None, None);
    c.threshold = Some(2.0);
    c.source = MetricSource::Single {
        metric: MetricKey::new("App", "Cpu", vec![]),
        statistic: AlarmStatistic::Statistic("Average".into()),
        unit: Some(Unit::Seconds),
        event_id: "id".into(),
    };
    let mut r = range("- - X");
    r[2].value = Some(21.5);
    r[2].sample_count = 2.0;
    let (v, reason, data) = match evaluate(&c, &r, StateValue::InsufficientData, NOW + 40_985) {
        Decision::Transition {
            value,
            reason,
            reason_data,
        } => (
            value,
            reason,
            serde_json::from_str::<serde_json::Value>(&reason_data).unwrap(),
        ),
        Decision::Keep => panic!("should transition"),
    };
    assert_eq!(v, StateValue::Alarm);
    assert_eq!(
        reason,
        "Threshold Crossed: 1 datapoint [21.5 (02/10/19 17:00:00)] was greater than the threshold (2.0)."
    );
    assert_eq!(
        data,
        serde_json::json!({
            "version": "1.0",
            "queryDate": "2019-10-02T17:05:40.985+0000",
            "startDate": "2019-10-02T17:00:00.000+0000",
            "unit": "Seconds",
            "statistic": "Average",
            "period": 300,
            "recentDatapoints": [21.5],
            "threshold": 2.0,
            "evaluatedDatapoints": [
                {"timestamp": "2019-10-02T17:00:00.000+0000", "sampleCount": 2.0, "value": 21.5}
            ]
        })
    );
    let (v, reason, _) = transition(&config(3, None, None), "X X 0 X X", StateValue::Alarm);
    assert_eq!(v, StateValue::Ok);
    assert_eq!(
        reason,
        "Threshold Crossed: 1 datapoint [1.0 (02/10/19 16:50:00)] was not greater than the threshold (5.0)."
    );
}

#[test]
fn reasons_with_datapoints_to_alarm() {
    let (_, reason, _) = transition(&config(3, Some(2), None), "0 0 X 0 X", StateValue::Ok);
    assert_eq!(
        reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [10.0 (02/10/19 17:00:00), 10.0 (02/10/19 16:50:00)] \
         were greater than the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    let (_, reason, _) = transition(&config(1, Some(1), None), "X X 0", StateValue::Alarm);
    assert_eq!(
        reason,
        "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (02/10/19 17:00:00)] was not greater \
         than the threshold (5.0) (minimum 1 datapoint for ALARM -> OK transition)."
    );
}

#[test]
fn reasons_for_filled_and_unknown_datapoints() {
    let (v, reason, data) = transition(
        &config(2, None, Some(TreatMissing::Breaching)),
        "- - - -",
        StateValue::InsufficientData,
    );
    assert_eq!(v, StateValue::Alarm);
    assert_eq!(
        reason,
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching]."
    );
    assert_eq!(data["recentDatapoints"], serde_json::json!([]));
    assert_eq!(
        data["evaluatedDatapoints"],
        serde_json::json!([{"timestamp": "2019-10-02T17:00:00.000+0000"}, {"timestamp": "2019-10-02T16:55:00.000+0000"}])
    );
    assert!(data.get("startDate").is_none());
    let (v, reason, _) = transition(
        &config(1, None, Some(TreatMissing::NotBreaching)),
        "- - -",
        StateValue::Alarm,
    );
    assert_eq!(v, StateValue::Ok);
    assert_eq!(
        reason,
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );
    let (v, reason, _) = transition(&config(3, None, None), "- - - - X", StateValue::Ok);
    assert_eq!(v, StateValue::InsufficientData);
    assert_eq!(reason, "Insufficient Data: 2 datapoints were unknown.");
    let (v, reason, _) = transition(
        &config(3, Some(2), Some(TreatMissing::Breaching)),
        "0 - X - -",
        StateValue::Ok,
    );
    assert_eq!(v, StateValue::Alarm);
    assert_eq!(
        reason,
        "Threshold Crossed: 1 out of the last 3 datapoints [10.0 (02/10/19 16:50:00)] was greater than the \
         threshold (5.0) and 1 missing datapoint was treated as [Breaching] (minimum 2 datapoints for OK -> ALARM transition)."
    );
}

#[test]
fn anomaly_band_reasons() {
    let mut c = config(1, Some(1), None);
    c.comparison = Comparison::LessThanLowerOrGreaterThanUpperThreshold;
    c.threshold = None;
    let mut r = range("- - 0");
    r[2].value = Some(0.0);
    r[2].band = Some((0.5, 2.5));
    let Decision::Transition {
        reason,
        reason_data,
        ..
    } = evaluate(&c, &r, StateValue::Ok, NOW)
    else {
        panic!("should transition");
    };
    assert_eq!(
        reason,
        "Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (02/10/19 17:00:00)] was less than the lower \
         thresholds [0.5] or greater than the upper thresholds [2.5] (minimum 1 datapoint for OK -> ALARM transition)."
    );
    let data: serde_json::Value = serde_json::from_str(&reason_data).unwrap();
    assert_eq!(data["recentLowerThresholds"], serde_json::json!([0.5]));
    assert_eq!(data["recentUpperThresholds"], serde_json::json!([2.5]));
    assert!(data.get("threshold").is_none());
}
