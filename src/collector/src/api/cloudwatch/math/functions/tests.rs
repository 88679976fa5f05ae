//! Every function and operator against a fixed request, table-driven.
//!
//! Fixture (one-minute grid over five minutes, `-` = no datapoint):
//! `m1 = [1, 2, -, 4, -]`, `m2 = [10, -, 30, -, -]`, `m3` empty, and the documented IF example
//! `c = [1, 1, 0, 0, -]`, `a = [30, -, 0, 0, 30]`, `b = [0, 0, 20, -, 20]`.

use super::super::testkit::{dense, expr, metric, run_fake, Fake};

const N: i64 = 5;

fn fixture() -> Fake {
    Fake::default()
        .with("M1", &[Some(1.0), Some(2.0), None, Some(4.0), None])
        .with("M2", &[Some(10.0), None, Some(30.0), None, None])
        .with("C", &[Some(1.0), Some(1.0), Some(0.0), Some(0.0), None])
        .with("A", &[Some(30.0), None, Some(0.0), Some(0.0), Some(30.0)])
        .with("B", &[Some(0.0), Some(0.0), Some(20.0), None, Some(20.0)])
}

fn queries(e: &str) -> Vec<super::super::query::DataQuery> {
    vec![
        metric("m1", "M1"),
        metric("m2", "M2"),
        metric("m3", "M3"),
        metric("c", "C"),
        metric("a", "A"),
        metric("b", "B"),
        expr("e", e),
    ]
}

fn eval(e: &str) -> Result<Vec<Option<f64>>, String> {
    let out =
        run_fake(&queries(e), &fixture(), N).map_err(|err| err.message.unwrap_or_default())?;
    match out.as_slice() {
        [one] => Ok(dense(one, N)),
        other => Err(format!("{} results", other.len())),
    }
}

fn v(x: f64) -> Option<f64> {
    Some(x)
}

const X: Option<f64> = None;

#[test]
fn operator_and_function_table() {
    let ln = f64::ln;
    let cases: Vec<(&str, Vec<Option<f64>>)> = vec![
        // Arithmetic (missing counts as 0 between series; x/0 drops the point).
        ("m1 + m2", vec![v(11.0), v(2.0), v(30.0), v(4.0), X]),
        ("m1 - m2", vec![v(-9.0), v(2.0), v(-30.0), v(4.0), X]),
        ("m1 * 2", vec![v(2.0), v(4.0), X, v(8.0), X]),
        ("m2 / m1", vec![v(10.0), v(0.0), X, v(0.0), X]),
        ("m1 / 0", vec![X; 5]),
        ("m1 ^ 2", vec![v(1.0), v(4.0), X, v(16.0), X]),
        ("2 ^ m1", vec![v(2.0), v(4.0), X, v(16.0), X]),
        ("-m1", vec![v(-1.0), v(-2.0), X, v(-4.0), X]),
        ("10 - m1 * 2", vec![v(8.0), v(6.0), X, v(2.0), X]),
        ("(10 - m1) * 2", vec![v(18.0), v(16.0), X, v(12.0), X]),
        // Comparison and logic.
        ("m1 > 1", vec![v(0.0), v(1.0), X, v(1.0), X]),
        ("m1 >= 2", vec![v(0.0), v(1.0), X, v(1.0), X]),
        ("m1 < 2", vec![v(1.0), v(0.0), X, v(0.0), X]),
        ("m1 <= 2", vec![v(1.0), v(1.0), X, v(0.0), X]),
        ("m1 == 2", vec![v(0.0), v(1.0), X, v(0.0), X]),
        ("m1 != 2", vec![v(1.0), v(0.0), X, v(1.0), X]),
        ("m1 < m2", vec![v(1.0), v(0.0), v(1.0), v(0.0), X]),
        ("m1 > 1 AND m1 < 4", vec![v(0.0), v(1.0), X, v(0.0), X]),
        ("m1 > 1 && m1 < 4", vec![v(0.0), v(1.0), X, v(0.0), X]),
        ("m1 < 2 OR m1 > 3", vec![v(1.0), v(0.0), X, v(1.0), X]),
        ("m1 < 2 || m1 > 3", vec![v(1.0), v(0.0), X, v(1.0), X]),
        ("m1 > 1 AND m2 > 5", vec![v(0.0), v(0.0), v(0.0), v(0.0), X]),
        // Pointwise.
        ("ABS(-m1)", vec![v(1.0), v(2.0), X, v(4.0), X]),
        ("CEIL(m1 / 3)", vec![v(1.0), v(1.0), X, v(2.0), X]),
        ("FLOOR(m1 / 3)", vec![v(0.0), v(0.0), X, v(1.0), X]),
        ("LOG(m1)", vec![v(0.0), v(ln(2.0)), X, v(ln(4.0)), X]),
        ("LOG10(m2)", vec![v(1.0), X, v(30f64.log10()), X, X]),
        ("LOG(m1 - 1)", vec![X, v(0.0), X, v(ln(3.0)), X]),
        (
            "FIRST(ABS(METRICS(\"m\")))",
            vec![v(1.0), v(2.0), X, v(4.0), X],
        ),
        // Reductions.
        ("SUM([m1, m2])", vec![v(11.0), v(2.0), v(30.0), v(4.0), X]),
        ("AVG([m1, m2])", vec![v(5.5), v(1.0), v(15.0), v(2.0), X]),
        ("MIN([m1, m2])", vec![v(1.0), v(2.0), v(30.0), v(4.0), X]),
        ("MAX([m1, m2])", vec![v(10.0), v(2.0), v(30.0), v(4.0), X]),
        ("STDDEV([m1, m2])", vec![v(4.5), v(0.0), v(0.0), v(0.0), X]),
        (
            "DATAPOINT_COUNT([m1, m2])",
            vec![v(2.0), v(1.0), v(1.0), v(1.0), X],
        ),
        (
            "SUM(METRICS(\"m\"))",
            vec![v(11.0), v(2.0), v(30.0), v(4.0), X],
        ),
        (
            "SUM(100 / [m1, m2])",
            vec![v(110.0), v(50.0), v(100.0 / 30.0), v(25.0), X],
        ),
        ("AVG([m1, m2] / m1)", vec![v(5.5), v(0.5), X, v(0.5), X]),
        (
            "SUM(-[m1, m2])",
            vec![v(-11.0), v(-2.0), v(-30.0), v(-4.0), X],
        ),
        ("TIME_SERIES(SUM(m1))", vec![v(7.0); 5]),
        ("TIME_SERIES(AVG(m2))", vec![v(20.0); 5]),
        ("TIME_SERIES(MIN(m1) + MAX(m1))", vec![v(5.0); 5]),
        ("TIME_SERIES(STDDEV(m2))", vec![v(10.0); 5]),
        ("TIME_SERIES(DATAPOINT_COUNT(m1))", vec![v(3.0); 5]),
        ("TIME_SERIES(METRIC_COUNT(METRICS()))", vec![v(6.0); 5]),
        ("TIME_SERIES(METRIC_COUNT(METRICS(\"m\")))", vec![v(3.0); 5]),
        ("TIME_SERIES(AVG(m3))", vec![X; 5]),
        (
            "m1 - AVG(m1)",
            vec![
                v(1.0 - 7.0 / 3.0),
                v(2.0 - 7.0 / 3.0),
                X,
                v(4.0 - 7.0 / 3.0),
                X,
            ],
        ),
        ("MAX(m1) / m1", vec![v(4.0), v(2.0), X, v(1.0), X]),
        // Consecutive datapoints.
        ("DIFF(m1)", vec![X, v(1.0), X, v(2.0), X]),
        ("DIFF_TIME(m1)", vec![X, v(60.0), X, v(120.0), X]),
        ("RATE(m1)", vec![X, v(1.0 / 60.0), X, v(2.0 / 120.0), X]),
        ("RUNNING_SUM(m1)", vec![v(1.0), v(3.0), X, v(7.0), X]),
        (
            "SUM(RUNNING_SUM([m1, m2]))",
            vec![v(11.0), v(3.0), v(40.0), v(7.0), X],
        ),
        ("TIME_SERIES(PERIOD(m1))", vec![v(60.0); 5]),
        (
            "m1 / PERIOD(m1)",
            vec![v(1.0 / 60.0), v(2.0 / 60.0), X, v(4.0 / 60.0), X],
        ),
        ("TIME_SERIES(5) * 2", vec![v(10.0); 5]),
        // FILL.
        ("FILL(m1, 0)", vec![v(1.0), v(2.0), v(0.0), v(4.0), v(0.0)]),
        (
            "FILL(m1, MIN(m1))",
            vec![v(1.0), v(2.0), v(1.0), v(4.0), v(1.0)],
        ),
        (
            "FILL(m2, REPEAT)",
            vec![v(10.0), v(10.0), v(30.0), v(30.0), v(30.0)],
        ),
        ("FILL(m2, LINEAR)", vec![v(10.0), v(20.0), v(30.0), X, X]),
        ("FILL(m1, LINEAR)", vec![v(1.0), v(2.0), v(3.0), v(4.0), X]),
        ("FILL(m1, m2)", vec![v(1.0), v(2.0), v(30.0), v(4.0), X]),
        ("FILL(m3, 5)", vec![v(5.0); 5]),
        (
            "SUM(FILL(METRICS(\"m\"), 1))",
            vec![v(12.0), v(4.0), v(32.0), v(6.0), v(3.0)],
        ),
        (
            "SUM(FILL(METRICS(\"m\"), m1))",
            vec![v(12.0), v(6.0), v(30.0), v(12.0), X],
        ),
        // IF, including the documented tables.
        ("IF(c, a, b)", vec![v(30.0), v(0.0), v(20.0), X, X]),
        ("IF(c, 5, b)", vec![v(5.0), v(5.0), v(20.0), X, X]),
        ("IF(c, a, 5)", vec![v(30.0), v(0.0), v(5.0), v(5.0), X]),
        ("IF(c, a)", vec![v(30.0), v(0.0), X, X, X]),
        ("IF(c, 1, 0)", vec![v(1.0), v(1.0), v(0.0), v(0.0), X]),
        ("IF(m1 > 1, m1)", vec![X, v(2.0), X, v(4.0), X]),
        ("IF(m1 < 3, 10, 2)", vec![v(10.0), v(10.0), X, v(2.0), X]),
        ("IF(1, m1, m2)", vec![v(1.0), v(2.0), X, v(4.0), X]),
        ("IF(0, m1, m2)", vec![v(10.0), X, v(30.0), X, X]),
        ("IF(0, m1)", vec![X; 5]),
        (
            "IF(AVG(m1) > 2, m1, m2)",
            vec![v(1.0), v(2.0), X, v(4.0), X],
        ),
        ("TIME_SERIES(IF(1, 3, 4))", vec![v(3.0); 5]),
        // Calendar parts of the timestamps (the fixture starts on Thursday 1970-01-01 UTC).
        ("MINUTE(m1)", vec![v(0.0), v(1.0), v(2.0), v(3.0), v(4.0)]),
        ("HOUR(m1)", vec![v(0.0); 5]),
        ("DAY(m1)", vec![v(4.0); 5]),
        ("DATE(m1)", vec![v(1.0); 5]),
        ("MONTH(m1)", vec![v(1.0); 5]),
        ("YEAR(m1)", vec![v(1970.0); 5]),
        (
            "EPOCH(m1)",
            vec![v(0.0), v(60.0), v(120.0), v(180.0), v(240.0)],
        ),
        ("IF(MINUTE(m1) < 2, m1)", vec![v(1.0), v(2.0), X, X, X]),
        // Arrays.
        ("FIRST(METRICS())", vec![v(1.0), v(2.0), X, v(4.0), X]),
        ("LAST(METRICS(\"m\"))", vec![X; 5]),
        (
            "FIRST(SORT(METRICS(\"m\"), MAX, DESC))",
            vec![v(10.0), X, v(30.0), X, X],
        ),
        (
            "FIRST(SORT(METRICS(\"m\"), MAX, ASC))",
            vec![v(1.0), v(2.0), X, v(4.0), X],
        ),
        ("LAST(SORT(METRICS(\"m\"), AVG, ASC))", vec![X; 5]),
        (
            "LAST(SORT(METRICS(\"m\"), SUM, DESC, 2))",
            vec![v(1.0), v(2.0), X, v(4.0), X],
        ),
        (
            "FIRST(SORT(METRICS(\"m\"), MIN, DESC))",
            vec![v(10.0), X, v(30.0), X, X],
        ),
        (
            "TIME_SERIES(METRIC_COUNT(SORT(METRICS(), AVG, DESC, 2)))",
            vec![v(2.0); 5],
        ),
        (
            "FIRST(SLICE(SORT(METRICS(\"m\"), SUM, DESC), 1, 2))",
            vec![v(1.0), v(2.0), X, v(4.0), X],
        ),
        (
            "TIME_SERIES(METRIC_COUNT(SLICE(METRICS(), 4)))",
            vec![v(2.0); 5],
        ),
        (
            "TIME_SERIES(METRIC_COUNT(SLICE(METRICS(), 1, 3)))",
            vec![v(2.0); 5],
        ),
        (
            "TIME_SERIES(METRIC_COUNT(SLICE(METRICS(), 5, 99)))",
            vec![v(1.0); 5],
        ),
        (
            "TIME_SERIES(METRIC_COUNT(REMOVE_EMPTY(METRICS(\"m\"))))",
            vec![v(2.0); 5],
        ),
        (
            "SUM([METRICS(\"1\"), METRICS(\"2\")])",
            vec![v(11.0), v(2.0), v(30.0), v(4.0), X],
        ),
        ("FIRST([m2, m1])", vec![v(10.0), X, v(30.0), X, X]),
    ];
    let mut failures = Vec::new();
    for (e, want) in &cases {
        match eval(e) {
            Ok(got) if close(&got, want) => {}
            other => failures.push(format!("{e}: got {other:?}, want {want:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => (x - y).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        })
}

#[test]
fn error_table() {
    let cases: &[(&str, &str)] = &[
        ("ABS(5)", "Unsupported operand type(s) for ABS: '[Scalar]'"),
        ("ABS(m1, m2)", "Invalid number of arguments for ABS: expected 1, got 2"),
        ("IF(m1)", "Invalid number of arguments for IF: expected 2 to 3, got 1"),
        ("FOO(m1)", "Unknown function FOO at position 1"),
        ("m1 + Foo(2)", "Unknown function Foo at position 6"),
        (
            "FILL(m1, BAR)",
            "Invalid argument for FILL: BAR at position 10 is not one of REPEAT, LINEAR",
        ),
        ("FILL(5, 0)", "Unsupported operand type(s) for FILL: '[Scalar, Scalar]'"),
        (
            "SORT(METRICS(), MEDIAN, ASC)",
            "Invalid argument for SORT: expected one of AVG, MIN, MAX, SUM at position 17",
        ),
        (
            "SORT(METRICS(), AVG, UP)",
            "Invalid argument for SORT: expected one of ASC, DESC at position 22",
        ),
        ("SORT(m1, AVG, ASC)", "Unsupported operand type(s) for SORT: '[TimeSeries]'"),
        ("SLICE(m1, 1)", "Unsupported operand type(s) for SLICE: '[TimeSeries, Scalar]'"),
        ("FIRST(m1)", "Unsupported operand type(s) for FIRST: '[TimeSeries]'"),
        ("METRIC_COUNT(m1)", "Unsupported operand type(s) for METRIC_COUNT: '[TimeSeries]'"),
        ("m1 + REPEAT", "Unexpected keyword REPEAT at position 6"),
        ("m1 + \"x\"", "Unexpected string at position 6"),
        ("METRICS(m1)", "Unsupported operand type(s) for METRICS: '[TimeSeries]'"),
        ("[m1, 5]", "Unsupported operand type(s) for []: '[TimeSeries, Scalar]'"),
        (
            "ANOMALY_DETECTION_BAND(METRICS(), 2)",
            "Unsupported operand type(s) for ANOMALY_DETECTION_BAND: '[Array[TimeSeries], Scalar]'",
        ),
        (
            "ANOMALY_DETECTION_BAND(m1, m2)",
            "Unsupported operand type(s) for ANOMALY_DETECTION_BAND: '[TimeSeries, TimeSeries]'",
        ),
        (
            "ANOMALY_DETECTION_BAND(m1, -1)",
            "Invalid argument for ANOMALY_DETECTION_BAND: the number of standard deviations must be 0 or more, not -1",
        ),
        (
            "ANOMALY_DETECTION_BAND(FIRST(ANOMALY_DETECTION_BAND(m1)))",
            "Invalid argument for ANOMALY_DETECTION_BAND: an expression may contain only one ANOMALY_DETECTION_BAND (position 24)",
        ),
        (
            "PERIOD(m1 * 2) * m1",
            "Invalid argument for PERIOD: only metrics are accepted, not the results of other expressions",
        ),
        ("IF([m1], 1)", "Unsupported operand type(s) for IF: '[Array[TimeSeries], Scalar]'"),
        ("IF(m1, METRICS())", "Unsupported operand type(s) for IF: '[TimeSeries, Array[TimeSeries]]'"),
        ("IF(1, m1, 2)", "Unsupported operand type(s) for IF: '[Scalar, TimeSeries, Scalar]'"),
        (
            "SEARCH('{AWS/EC2} CPUUtilization', 'Average', 300)",
            "Function SEARCH at position 1 is not supported by this collector",
        ),
        ("TIME_SERIES(m1)", "Unsupported operand type(s) for TIME_SERIES: '[TimeSeries]'"),
        ("AVG(5) * m1", "Unsupported operand type(s) for AVG: '[Scalar]'"),
        ("MINUTE(METRICS())", "Unsupported operand type(s) for MINUTE: '[Array[TimeSeries]]'"),
        ("DIFF(3)", "Unsupported operand type(s) for DIFF: '[Scalar]'"),
        ("METRICS() + METRICS(\"m\")", "Unsupported operand type(s) for +: '[Array[TimeSeries], Array[TimeSeries]]'"),
        (
            "AVG(m1)",
            "The expression must return a time series or an array of time series, not Scalar",
        ),
        ("m1 +", "Syntax error at position 5"),
        ("SUM(m1,, m2)", "Syntax error at position 8"),
    ];
    let mut failures = Vec::new();
    for (e, want) in cases {
        let want = format!("Error in expression e: {want}");
        match eval(e) {
            Err(got) if got == want => {}
            other => failures.push(format!("{e}: got {other:?}\n   want {want}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
