//! Step tables through the whole service: datapoints stored in the metric store, rounds run on
//! the manual clock, states read back.

use super::*;
use crate::alarms::model::LowSampleCount;
use hostwatch_model::StatisticSet;

const P: i64 = MIN;

/// (pattern oldest → newest over the 5-period range, MISSING, IGNORE, BREACHING, NOT BREACHING);
/// `None` = "retain current state".
type Row = (
    &'static str,
    Option<StateValue>,
    Option<StateValue>,
    Option<StateValue>,
    Option<StateValue>,
);

const A: Option<StateValue> = Some(StateValue::Alarm);
const O: Option<StateValue> = Some(StateValue::Ok);
const I: Option<StateValue> = Some(StateValue::InsufficientData);
const R: Option<StateValue> = None;

/// Store the pattern so that the round at `t` sees it as its range.
async fn store_pattern(h: &Harness, metric: &str, pattern: &str, t: i64) {
    let cells: Vec<&str> = pattern.split_whitespace().collect();
    let len = cells.len() as i64;
    for (i, c) in cells.iter().enumerate() {
        let start = t - (len - i as i64) * P;
        match *c {
            "0" => h.put(metric, start + 1_000, 1.0).await,
            "X" => h.put(metric, start + 1_000, 9.0).await,
            _ => {}
        }
    }
}

async fn run_table(m: u32, rows: &[Row]) {
    let h = Harness::new();
    let t = T0 + 10 * MIN;
    let mut expected = Vec::new();
    for (r, (pattern, missing, ignore, breaching, not_breaching)) in rows.iter().enumerate() {
        for (treat, want) in [
            (TreatMissing::Missing, missing),
            (TreatMissing::Ignore, ignore),
            (TreatMissing::Breaching, breaching),
            (TreatMissing::NotBreaching, not_breaching),
        ] {
            let metric = format!("row{r}-{}", treat.as_str());
            let name = format!("alarm-{metric}");
            h.svc
                .put_metric_alarm(
                    metric_alarm(&name, &metric, 60, 3, Some(m), Some(treat)),
                    vec![],
                )
                .unwrap();
            store_pattern(&h, &metric, pattern, t).await;
            // "Retain current state" is checked from a state evaluation would not produce.
            let want = match want {
                Some(s) => *s,
                None => {
                    h.set_state(&name, StateValue::Alarm);
                    StateValue::Alarm
                }
            };
            expected.push((name, pattern, treat, want));
        }
    }
    h.round(t);
    for (name, pattern, treat, want) in expected {
        assert_eq!(
            h.state(&name),
            want,
            "M={m} N=3 `{pattern}` treated as {}",
            treat.as_str()
        );
    }
}

#[tokio::test]
async fn missing_data_table_1_through_rounds() {
    run_table(
        3,
        &[
            ("0 - X - X", O, O, O, O),
            ("0 - - - -", O, O, O, O),
            ("- - - - -", I, R, A, O),
            ("0 X X - X", A, A, A, A),
            ("- - X - -", A, R, A, O),
        ],
    )
    .await;
}

#[tokio::test]
async fn missing_data_table_2_through_rounds() {
    run_table(
        2,
        &[
            ("0 - X - X", A, A, A, A),
            ("0 0 X 0 X", A, A, A, A),
            ("0 - X - -", O, O, A, O),
            ("- - - - 0", O, O, A, O),
            ("- - - X -", A, R, A, O),
        ],
    )
    .await;
}

#[tokio::test]
async fn breaching_fill_alarms_once_the_real_point_ages_out() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(
            metric_alarm("a", "m", 60, 3, None, Some(TreatMissing::Breaching)),
            vec![],
        )
        .unwrap();
    let t = T0 + 10 * MIN;
    store_pattern(&h, "m", "0 - - - -", t).await;
    // (round, state)
    for (round, want) in [(t, StateValue::Ok), (t + P, StateValue::Alarm)] {
        h.round(round);
        assert_eq!(h.state("a"), want, "at +{} min", (round - t) / P);
    }
    assert_eq!(
        h.reason("a"),
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching]."
    );
}

#[tokio::test]
async fn m_of_n_over_time() {
    // 2 out of 3, 10-second periods; one datapoint (or none) arrives before each round.
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 10, 3, Some(2), None), vec![])
        .unwrap();
    let t0 = T0 + MIN;
    // (value in the period before the round, state after the round)
    let steps: [(Option<f64>, StateValue); 8] = [
        (Some(1.0), StateValue::Ok),
        (Some(9.0), StateValue::Ok),
        (Some(1.0), StateValue::Ok),
        (Some(9.0), StateValue::Alarm),
        (Some(1.0), StateValue::Ok),
        (Some(1.0), StateValue::Ok),
        (Some(9.0), StateValue::Ok),
        (Some(9.0), StateValue::Alarm),
    ];
    for (i, (v, want)) in steps.iter().enumerate() {
        let round = t0 + (i as i64 + 1) * 10_000;
        if let Some(v) = v {
            h.put("m", round - 5_000, *v).await;
        }
        h.round(round);
        assert_eq!(h.state("a"), *want, "step {i}");
    }
    assert!(
        h.reason("a")
            .starts_with("Threshold Crossed: 2 out of the last 3 datapoints ["),
        "{}",
        h.reason("a")
    );
    assert!(h
        .reason("a")
        .ends_with("(minimum 2 datapoints for OK -> ALARM transition)."));
}

#[tokio::test]
async fn premature_alarm_rule_over_time() {
    // M = N = 3, missing data treated as missing: one breaching datapoint, then nothing.
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 60, 3, None, None), vec![])
        .unwrap();
    let t = T0 + 10 * MIN;
    h.put("m", t - P + 1_000, 9.0).await;
    // (round, state): `- - - - X`, `- - - X -`, `- - X - -`, … the point ages out at +5.
    let steps = [
        (t, StateValue::InsufficientData),
        (t + P, StateValue::InsufficientData),
        (t + 2 * P, StateValue::Alarm),
        (t + 3 * P, StateValue::Alarm),
        (t + 5 * P, StateValue::InsufficientData),
    ];
    for (round, want) in steps {
        h.round(round);
        assert_eq!(h.state("a"), want, "at +{} min", (round - t) / P);
    }
}

#[tokio::test]
async fn low_sample_percentiles_wait_for_enough_samples() {
    let h = Harness::new();
    let mut c = metric_alarm("p99", "lat", 60, 1, None, None);
    c.source = MetricSource::Single {
        metric: MetricKey::new("App", "lat", vec![]),
        statistic: AlarmStatistic::Extended("p99".into()),
        unit: None,
        event_id: "x".into(),
    };
    c.low_sample_count = Some(LowSampleCount::Ignore);
    h.svc.put_metric_alarm(c.clone(), vec![]).unwrap();
    c.name = "p99-evaluate".into();
    c.low_sample_count = Some(LowSampleCount::Evaluate);
    h.svc.put_metric_alarm(c, vec![]).unwrap();
    let t = T0 + 10 * MIN;
    // 999 samples of 9.0 in the last minute: below 10 / (1 - 0.99) = 1000.
    h.put_value(
        "lat",
        t - 30_000,
        DatumValue::StatisticSet(StatisticSet {
            sample_count: 999.0,
            sum: 999.0 * 9.0,
            minimum: 9.0,
            maximum: 9.0,
        }),
    )
    .await;
    h.round(t);
    assert_eq!(
        h.state("p99"),
        StateValue::InsufficientData,
        "too few samples: no change"
    );
    assert_eq!(h.state("p99-evaluate"), StateValue::Alarm);
    // A late sample for the same minute: 1000 samples are enough.
    h.put("lat", t - 20_000, 9.0).await;
    h.round(t + P);
    assert_eq!(h.state("p99"), StateValue::Alarm);
}

#[tokio::test]
async fn every_statistic_drives_alarms() {
    // Values 1..=10 in the last minute; `GreaterThanThreshold 5` on each statistic.
    let h = Harness::new();
    let t = T0 + 10 * MIN;
    let table: [(&str, StateValue); 14] = [
        ("Average", StateValue::Alarm),     // 5.5
        ("Minimum", StateValue::Ok),        // 1
        ("Maximum", StateValue::Alarm),     // 10
        ("Sum", StateValue::Alarm),         // 55
        ("SampleCount", StateValue::Alarm), // 10
        ("p90", StateValue::Alarm),         // 9
        ("p10", StateValue::Ok),            // 1
        ("tm90", StateValue::Ok),           // 5.0
        ("TM(20%:80%)", StateValue::Alarm), // 5.5
        ("IQM", StateValue::Alarm),         // 5.5
        ("TC(5:)", StateValue::Ok),         // 5 values above 5
        ("TS(:3)", StateValue::Alarm),      // 1 + 2 + 3 = 6
        ("WM(10%:90%)", StateValue::Alarm), // 5.4
        ("PR(:5)", StateValue::Alarm),      // 50 %
    ];
    for (i, (stat, _)) in table.iter().enumerate() {
        let mut c = metric_alarm(&format!("s{i}"), "vals", 60, 1, None, None);
        let statistic = if matches!(
            *stat,
            "Average" | "Minimum" | "Maximum" | "Sum" | "SampleCount"
        ) {
            AlarmStatistic::Statistic(stat.to_string())
        } else {
            AlarmStatistic::Extended(stat.to_string())
        };
        c.source = MetricSource::Single {
            metric: MetricKey::new("App", "vals", vec![]),
            statistic,
            unit: None,
            event_id: "x".into(),
        };
        h.svc.put_metric_alarm(c, vec![]).unwrap();
    }
    for v in 1..=10 {
        h.put("vals", t - 50_000 + v * 1_000, v as f64).await;
    }
    h.round(t);
    for (i, (stat, want)) in table.iter().enumerate() {
        assert_eq!(h.state(&format!("s{i}")), *want, "{stat}");
    }
}

#[tokio::test]
async fn metric_math_alarms_are_evaluated() {
    use crate::alarms::model::{MathQuery, MetricStatSpec};
    let h = Harness::new();
    let stat = |id: &str, metric: &str| MathQuery {
        id: id.into(),
        metric_stat: Some(MetricStatSpec {
            metric: MetricKey::new("App", metric, vec![]),
            period_s: 60,
            stat: "Sum".into(),
            unit: None,
        }),
        expression: None,
        label: None,
        return_data: false,
        period_s: None,
        account_id: None,
    };
    let mut c = metric_alarm("total", "unused", 60, 2, None, None);
    c.source = MetricSource::Math {
        queries: vec![
            stat("m1", "in"),
            stat("m2", "out"),
            MathQuery {
                id: "e1".into(),
                metric_stat: None,
                expression: Some("m1 + m2".into()),
                label: Some("Total".into()),
                return_data: true,
                period_s: None,
                account_id: None,
            },
        ],
        threshold_metric_id: None,
    };
    c.threshold = Some(10.0);
    h.svc.put_metric_alarm(c, vec![]).unwrap();
    let t = T0 + 10 * MIN;
    // (minute offset before t, in, out): totals 8 then 12, 11.
    for (m, a, b) in [(3, 4.0, 4.0), (2, 6.0, 6.0), (1, 5.0, 6.0)] {
        h.put("in", t - m * MIN + 1_000, a).await;
        h.put("out", t - m * MIN + 2_000, b).await;
    }
    h.round(t);
    assert_eq!(h.state("total"), StateValue::Alarm);
    assert_eq!(
        h.reason("total"),
        "Threshold Crossed: 2 datapoints [11.0 (14/11/23 22:09:00), 12.0 (14/11/23 22:08:00)] were \
         greater than the threshold (10.0)."
    );
    let data: serde_json::Value =
        serde_json::from_str(&h.svc.get("total").unwrap().status.reason_data.unwrap()).unwrap();
    assert!(
        data.get("statistic").is_none(),
        "math alarms have no statistic: {data}"
    );
    assert_eq!(data["recentDatapoints"], serde_json::json!([12.0, 11.0]));
    assert!(data["evaluatedDatapoints"][0].get("sampleCount").is_none());
}
