//! Evaluator-level tests: results, labels, error attribution, grids, anomaly bands.

use super::testkit::{dense, expr, metric, run_fake, Fake, MIN};
use super::*;

const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

fn labelled(mut q: DataQuery, label: &str) -> DataQuery {
    q.label = Some(label.into());
    q
}

fn returned(mut q: DataQuery) -> DataQuery {
    q.return_data = true;
    q
}

fn fixture() -> Fake {
    Fake::default()
        .with("Errors", &[Some(1.0), Some(2.0), None, Some(4.0)])
        .with(
            "Requests",
            &[Some(10.0), Some(20.0), Some(30.0), Some(40.0)],
        )
}

#[test]
fn results_follow_query_order_and_labels() {
    let qs = vec![
        returned(labelled(metric("errors", "Errors"), "Errs")),
        metric("requests", "Requests"),
        labelled(expr("rate", "errors / requests * 100"), "Error rate"),
        expr("all", "METRICS()"),
        labelled(expr("filled", "FILL(METRICS(), 0)"), "Filled With 0:"),
        expr("sum", "SUM(METRICS())"),
    ];
    let out = run_fake(&qs, &fixture(), 4).unwrap();
    let ids: Vec<&str> = out.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ids,
        ["errors", "rate", "all", "all", "filled", "filled", "sum"]
    );
    let labels: Vec<&str> = out.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        labels,
        [
            "Errs",
            "Error rate",
            "Errs",
            "Requests",
            "Filled With 0: Errs",
            "Filled With 0: Requests",
            "sum"
        ]
    );
    assert_eq!(
        dense(&out[1], 4),
        vec![Some(10.0), Some(10.0), Some(0.0), Some(10.0)]
    );
    assert_eq!(
        dense(&out[4], 4),
        vec![Some(1.0), Some(2.0), Some(0.0), Some(4.0)]
    );
    assert_eq!(
        dense(&out[6], 4),
        vec![Some(11.0), Some(22.0), Some(30.0), Some(44.0)]
    );
}

#[test]
fn expressions_reference_expressions_in_any_order() {
    let qs = vec![
        expr("e3", "e2 * 2"),
        metric("m1", "Errors"),
        expr("e2", "e1 + 1"),
        expr("e1", "FILL(m1, 0)"),
    ];
    let out = run_fake(&qs, &fixture(), 4).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(
        dense(&out[0], 4),
        vec![Some(4.0), Some(6.0), Some(2.0), Some(10.0)]
    );
    // An expression's label is its id when it has none.
    assert_eq!(out[0].1, "e3");
}

#[test]
fn errors_name_the_failing_query() {
    let cases: Vec<(Vec<DataQuery>, &str)> = vec![
        (
            vec![metric("m1", "Errors"), expr("e1", "m1 * 2"), expr("e2", "ABS(e1) + FOO(1)")],
            "Error in expression e2: Unknown function FOO at position 11",
        ),
        (
            vec![metric("m1", "Errors"), expr("e1", "e2 + m1"), expr("e2", "AVG(m1) * ABS(3)")],
            "Error in expression e2: Unsupported operand type(s) for ABS: '[Scalar]'",
        ),
        (
            vec![expr("e1", "m1 * 2")],
            "Error in expression e1: Unrecognized identifier m1 at position 1",
        ),
        (
            vec![metric("m1", "Errors"), expr("e1", "e1 / m1")],
            "Error in expression e1: Circular reference: e1 -> e1",
        ),
        (
            vec![metric("m1", "Errors"), expr("e1", "SUM(m1)")],
            "Error in expression e1: The expression must return a time series or an array of time series, not Scalar",
        ),
        (
            vec![metric("m1", "Errors"), expr("e1", "m1 +* 2")],
            "Error in expression e1: Syntax error at position 5",
        ),
    ];
    for (qs, want) in cases {
        let got = run_fake(&qs, &fixture(), 4).unwrap_err();
        assert_eq!(got.query_code(), "ValidationError");
        assert_eq!(got.message.as_deref(), Some(want));
        assert_eq!(
            validate_queries(&qs).unwrap_err().message.as_deref(),
            Some(want)
        );
    }
    // A scalar expression is fine when it is not returned.
    let mut scalar = expr("s", "AVG(m1)");
    scalar.return_data = false;
    let qs = vec![metric("m1", "Errors"), scalar, expr("e", "m1 - s")];
    assert!(validate_queries(&qs).is_ok());
    assert_eq!(value_type(&qs, 1).unwrap(), "Scalar");
    assert_eq!(value_type(&qs, 2).unwrap(), "TimeSeries");
}

#[test]
fn created_series_use_the_expression_period() {
    let mut e = expr("e", "TIME_SERIES(1)");
    if let QueryKind::Expression(x) = &mut e.kind {
        x.period_s = Some(120);
    }
    let out = run_fake(&[e], &Fake::default(), 10).unwrap();
    assert_eq!(
        out[0].2.timestamps,
        vec![0, 2 * MIN, 4 * MIN, 6 * MIN, 8 * MIN]
    );
    // Without a period: the finest metric period of the request, else one minute.
    let out = run_fake(&[expr("e", "TIME_SERIES(1)")], &Fake::default(), 3).unwrap();
    assert_eq!(out[0].2.timestamps, vec![0, MIN, 2 * MIN]);
}

fn sine(t: i64) -> f64 {
    100.0 + 20.0 * (2.0 * std::f64::consts::PI * t.rem_euclid(DAY) as f64 / DAY as f64).sin()
}

/// Four days of a daily sine at one-minute resolution, with small deterministic noise.
fn history(days: i64) -> Vec<Option<f64>> {
    (0..days * DAY / MIN)
        .map(|k| Some(sine(k * MIN) + ((k * 7919) % 13) as f64 / 13.0 - 0.5))
        .collect()
}

fn band_queries(k: &str) -> Vec<DataQuery> {
    vec![
        returned(metric("m1", "S")),
        expr("ad", &format!("ANOMALY_DETECTION_BAND(m1{k})")),
    ]
}

#[test]
fn anomaly_band_contains_normal_values() {
    let fake = Fake::default().with("S", &history(4));
    let qs = band_queries(", 3");
    let window = Window {
        start_ms: 4 * DAY - 6 * HOUR,
        end_ms: 4 * DAY,
        now_ms: 4 * DAY,
        history: false,
    };
    let out = run(&qs, &fake, window).unwrap();
    assert_eq!(out.len(), 3);
    let (upper, lower) = (&out[1], &out[2]);
    assert_eq!((upper.0.as_str(), upper.1.as_str()), ("ad", "S Upper"));
    assert_eq!(lower.1, "S Lower");
    // Not sparse: one value per grid minute.
    assert_eq!(upper.2.timestamps.len(), 360);
    let values = &out[0].2;
    let mut inside = 0;
    for (i, t) in values.timestamps.iter().enumerate() {
        let j = upper.2.timestamps.iter().position(|u| u == t).unwrap();
        assert!(upper.2.values[j] > lower.2.values[j]);
        if values.values[i] <= upper.2.values[j] && values.values[i] >= lower.2.values[j] {
            inside += 1;
        }
        // The band follows the daily cycle (no flat band around the mean).
        assert!((upper.2.values[j] + lower.2.values[j]) / 2.0 - sine(*t) < 1.5);
    }
    assert!(inside as f64 / values.values.len() as f64 > 0.95);
    assert_eq!(*fake.trainings.borrow(), 1);
    // The same request again, and another width: no retraining.
    run(&band_queries(""), &fake, window).unwrap();
    run(&qs, &fake, window).unwrap();
    assert_eq!(*fake.trainings.borrow(), 1);
    // Fifteen minutes later the model is retrained.
    let later = Window {
        now_ms: window.now_ms + 15 * MIN,
        ..window
    };
    run(&qs, &fake, later).unwrap();
    assert_eq!(*fake.trainings.borrow(), 2);
}

#[test]
fn excluded_ranges_are_left_out_of_training() {
    let mut data = history(4);
    // A day-long incident on day 2.
    for v in data
        .iter_mut()
        .skip((DAY / MIN) as usize)
        .take((DAY / MIN) as usize)
    {
        *v = v.map(|x| x + 500.0);
    }
    let window = Window {
        start_ms: 4 * DAY - HOUR,
        end_ms: 4 * DAY,
        now_ms: 4 * DAY,
        history: false,
    };
    let width = |excluded: Vec<(i64, i64)>| {
        let mut fake = Fake::default().with("S", &data);
        fake.excluded = excluded;
        let out = run(&band_queries(""), &fake, window).unwrap();
        out[1].2.values[0] - out[2].2.values[0]
    };
    let with_incident = width(Vec::new());
    let without = width(vec![(DAY, 2 * DAY - 1)]);
    let clean = {
        let fake = Fake::default().with("S", &history(4));
        let out = run(&band_queries(""), &fake, window).unwrap();
        out[1].2.values[0] - out[2].2.values[0]
    };
    assert!(
        without < 0.8 * with_incident,
        "{without} vs {with_incident}"
    );
    assert!(
        (without - clean).abs() < 0.2 * clean,
        "{without} vs {clean}"
    );
}

#[test]
fn band_without_history_is_empty() {
    let out = run_fake(&band_queries(""), &Fake::default(), 5).unwrap();
    assert_eq!(out.len(), 3);
    assert!(out[1].2.values.is_empty() && out[2].2.values.is_empty());
}

#[test]
fn band_of_an_expression() {
    let fake = Fake::default().with("S", &history(3));
    let qs = vec![
        metric("m1", "S"),
        expr("e1", "m1 * 2"),
        expr("ad", "LAST(ANOMALY_DETECTION_BAND(e1))"),
    ];
    let window = Window {
        start_ms: 3 * DAY - HOUR,
        end_ms: 3 * DAY,
        now_ms: 3 * DAY,
        history: false,
    };
    let out = run(&qs, &fake, window).unwrap();
    let (e1, lower) = (&out[0], &out[1]);
    assert_eq!(lower.1, "ad");
    let below =
        e1.2.values
            .iter()
            .zip(&lower.2.values)
            .filter(|(v, lo)| v < lo)
            .count();
    assert!(below < 3, "{below} values under the lower bound");
}

#[test]
fn long_reference_chains_evaluate() {
    let mut qs = vec![expr("e0", "TIME_SERIES(0)")];
    for i in 1..500 {
        let mut q = expr(&format!("e{i}"), &format!("e{} + 1", i - 1));
        q.return_data = i == 499;
        qs.push(q);
    }
    qs[0].return_data = false;
    qs.reverse();
    let out = run_fake(&qs, &Fake::default(), 2).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].2.values, vec![499.0, 499.0]);
}
