//! Operators: arithmetic `+ - * / ^`, comparison `== != <= >= < >` (1 or 0), logical
//! `AND`/`&&`, `OR`/`||` (1 or 0, any non-zero value is true) and unary minus.
//!
//! Operand types (CloudWatch's table): S op S → S; TS op S and S op TS → TS (over the series'
//! datapoints); TS op TS → TS; TS[] op S, S op TS[], TS[] op TS, TS op TS[] → TS[] (element by
//! element, each element keeping its label); TS[] op TS[] of the same length → TS[] pairwise
//! (other lengths are a type error).
//!
//! Missing values (documented rule): between two series the result has a datapoint at every
//! timestamp where **either** series has one, and a missing value is treated as **0** — for
//! arithmetic and for comparisons alike (`metric1 = [30, 20, 0, 0]`, `metric2 = [20, -, 20, -]`
//! → `metric1 < metric2 = [0, 0, 1, 0]`). A division by zero drops the datapoint, and so does
//! any other non-finite result (`0 ^ -1`, overflow) or a NaN scalar operand.

use super::ast::BinOp;
use super::error::MathError;
use super::value::{union, Ts, Value};

/// Apply a binary operator to two scalars; `None` drops the datapoint.
pub fn scalar(op: BinOp, x: f64, y: f64) -> Option<f64> {
    if x.is_nan() || y.is_nan() {
        return None;
    }
    let b = |c: bool| if c { 1.0 } else { 0.0 };
    let v = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return None;
            }
            x / y
        }
        BinOp::Pow => x.powf(y),
        BinOp::Eq => b(x == y),
        BinOp::Ne => b(x != y),
        BinOp::Le => b(x <= y),
        BinOp::Ge => b(x >= y),
        BinOp::Lt => b(x < y),
        BinOp::Gt => b(x > y),
        BinOp::And => b(x != 0.0 && y != 0.0),
        BinOp::Or => b(x != 0.0 || y != 0.0),
    };
    v.is_finite().then_some(v)
}

/// Apply a binary operator to two values.
pub fn binary(op: BinOp, a: Value, b: Value) -> Result<Value, MathError> {
    Ok(match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => Value::Scalar(scalar(op, x, y).unwrap_or(f64::NAN)),
        (Value::Ts(s), Value::Scalar(y)) => Value::Ts(ts_scalar(op, &s, y)),
        (Value::Scalar(x), Value::Ts(s)) => Value::Ts(scalar_ts(op, x, &s)),
        (Value::Ts(l), Value::Ts(r)) => Value::Ts(ts_ts(op, &l, &r)),
        (Value::Array(items), Value::Scalar(y)) => {
            Value::Array(items.iter().map(|s| ts_scalar(op, s, y)).collect())
        }
        (Value::Scalar(x), Value::Array(items)) => {
            Value::Array(items.iter().map(|s| scalar_ts(op, x, s)).collect())
        }
        (Value::Array(items), Value::Ts(r)) => {
            Value::Array(items.iter().map(|l| ts_ts(op, l, &r)).collect())
        }
        (Value::Ts(l), Value::Array(items)) => Value::Array(
            items
                .iter()
                .map(|r| {
                    let mut s = ts_ts(op, &l, r);
                    s.label.clone_from(&r.label);
                    s
                })
                .collect(),
        ),
        (Value::Array(ls), Value::Array(rs)) => {
            if ls.len() != rs.len() {
                return Err(MathError::types(
                    op.symbol(),
                    &["Array[TimeSeries]", "Array[TimeSeries]"],
                ));
            }
            Value::Array(ls.iter().zip(&rs).map(|(l, r)| ts_ts(op, l, r)).collect())
        }
    })
}

/// Unary minus.
pub fn negate(v: Value) -> Value {
    match v {
        Value::Scalar(x) => Value::Scalar(-x),
        Value::Ts(s) => Value::Ts(s.map(|x| -x)),
        Value::Array(items) => Value::Array(items.iter().map(|s| s.map(|x| -x)).collect()),
    }
}

fn ts_scalar(op: BinOp, s: &Ts, y: f64) -> Ts {
    s.with_points(
        s.points
            .iter()
            .filter_map(|(t, x)| scalar(op, *x, y).map(|v| (*t, v))),
    )
}

fn scalar_ts(op: BinOp, x: f64, s: &Ts) -> Ts {
    s.with_points(
        s.points
            .iter()
            .filter_map(|(t, y)| scalar(op, x, *y).map(|v| (*t, v))),
    )
}

fn ts_ts(op: BinOp, l: &Ts, r: &Ts) -> Ts {
    let points: Vec<(i64, f64)> = union(&l.points, &r.points)
        .into_iter()
        .filter_map(|(t, a, b)| scalar(op, a.unwrap_or(0.0), b.unwrap_or(0.0)).map(|v| (t, v)))
        .collect();
    Ts {
        grid: l.grid.combine(r.grid),
        points,
        label: l.label.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::value::Grid;
    use super::*;

    const G: Grid = Grid {
        start: 0,
        end: 4,
        period: 1,
    };

    fn ts(vals: &[Option<f64>]) -> Ts {
        Ts {
            grid: G,
            points: vals
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as i64, v)))
                .collect(),
            label: "l".into(),
        }
    }

    fn dense(s: &Value) -> Vec<Option<f64>> {
        match s {
            Value::Ts(s) => (0..4).map(|t| s.at(t)).collect(),
            other => panic!("not a series: {other:?}"),
        }
    }

    #[test]
    fn scalar_operator_table() {
        let nan = f64::NAN;
        let cases: &[(BinOp, f64, f64, Option<f64>)] = &[
            (BinOp::Add, 2.0, 3.0, Some(5.0)),
            (BinOp::Sub, 2.0, 3.0, Some(-1.0)),
            (BinOp::Mul, 2.0, 3.0, Some(6.0)),
            (BinOp::Div, 3.0, 2.0, Some(1.5)),
            (BinOp::Div, 3.0, 0.0, None),
            (BinOp::Div, 0.0, 0.0, None),
            (BinOp::Pow, 2.0, 10.0, Some(1024.0)),
            (BinOp::Pow, 0.0, -1.0, None),
            (BinOp::Pow, -8.0, 0.5, None),
            (BinOp::Eq, 2.0, 2.0, Some(1.0)),
            (BinOp::Ne, 2.0, 2.0, Some(0.0)),
            (BinOp::Le, 2.0, 2.0, Some(1.0)),
            (BinOp::Ge, 1.0, 2.0, Some(0.0)),
            (BinOp::Lt, 1.0, 2.0, Some(1.0)),
            (BinOp::Gt, 1.0, 2.0, Some(0.0)),
            (BinOp::And, 5.0, -1.0, Some(1.0)),
            (BinOp::And, 5.0, 0.0, Some(0.0)),
            (BinOp::Or, 0.0, 0.0, Some(0.0)),
            (BinOp::Or, 0.0, 3.0, Some(1.0)),
            (BinOp::Add, nan, 1.0, None),
            (BinOp::Gt, 1.0, nan, None),
            (BinOp::Mul, 1e308, 10.0, None),
        ];
        for (op, x, y, want) in cases {
            assert_eq!(scalar(*op, *x, *y), *want, "{x} {} {y}", op.symbol());
        }
    }

    /// The documented example: metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
    #[test]
    fn documented_comparison_example() {
        let m1 = Value::Ts(ts(&[Some(30.0), Some(20.0), Some(0.0), Some(0.0)]));
        let m2 = Value::Ts(ts(&[Some(20.0), None, Some(20.0), None]));
        let lt = binary(BinOp::Lt, m1.clone(), m2.clone()).unwrap();
        assert_eq!(dense(&lt), vec![Some(0.0), Some(0.0), Some(1.0), Some(0.0)]);
        let ge = binary(BinOp::Ge, m1.clone(), Value::Scalar(30.0)).unwrap();
        assert_eq!(dense(&ge), vec![Some(1.0), Some(0.0), Some(0.0), Some(0.0)]);
        let a = binary(BinOp::Gt, m1, Value::Scalar(15.0)).unwrap();
        let b = binary(BinOp::Gt, m2, Value::Scalar(15.0)).unwrap();
        let and = binary(BinOp::And, a, b).unwrap();
        assert_eq!(
            dense(&and),
            vec![Some(1.0), Some(0.0), Some(0.0), Some(0.0)]
        );
    }

    #[test]
    fn missing_values_are_zero_between_series_and_division_by_zero_drops() {
        let a = Value::Ts(ts(&[Some(6.0), Some(4.0), None, None]));
        let b = Value::Ts(ts(&[Some(2.0), None, Some(5.0), None]));
        let cases = [
            (BinOp::Add, vec![Some(8.0), Some(4.0), Some(5.0), None]),
            (BinOp::Sub, vec![Some(4.0), Some(4.0), Some(-5.0), None]),
            (BinOp::Mul, vec![Some(12.0), Some(0.0), Some(0.0), None]),
            (BinOp::Div, vec![Some(3.0), None, Some(0.0), None]),
            (BinOp::Pow, vec![Some(36.0), Some(1.0), Some(0.0), None]),
        ];
        for (op, want) in cases {
            let got = binary(op, a.clone(), b.clone()).unwrap();
            assert_eq!(dense(&got), want, "{}", op.symbol());
        }
        let by_zero = binary(BinOp::Div, a.clone(), Value::Scalar(0.0)).unwrap();
        assert_eq!(dense(&by_zero), vec![None; 4]);
        let scalar_first = binary(BinOp::Sub, Value::Scalar(10.0), a).unwrap();
        assert_eq!(dense(&scalar_first), vec![Some(4.0), Some(6.0), None, None]);
    }

    #[test]
    fn arrays_apply_element_by_element() {
        let m1 = ts(&[Some(1.0), None, None, None]);
        let mut m2 = ts(&[Some(2.0), Some(4.0), None, None]);
        m2.label = "two".into();
        let arr = Value::Array(vec![m1.clone(), m2.clone()]);
        let Value::Array(out) = binary(BinOp::Div, Value::Scalar(100.0), arr.clone()).unwrap()
        else {
            panic!("array expected");
        };
        assert_eq!(out[0].points, vec![(0, 100.0)]);
        assert_eq!(out[1].points, vec![(0, 50.0), (1, 25.0)]);
        assert_eq!(out[1].label, "two");
        let Value::Array(out) = binary(BinOp::Add, arr.clone(), Value::Ts(m2.clone())).unwrap()
        else {
            panic!("array expected");
        };
        assert_eq!(out[0].points, vec![(0, 3.0), (1, 4.0)]);
        let Value::Array(pair) = binary(BinOp::Mul, arr.clone(), arr.clone()).unwrap() else {
            panic!("array expected");
        };
        assert_eq!(pair[1].points, vec![(0, 4.0), (1, 16.0)]);
        let short = Value::Array(vec![m1]);
        assert_eq!(
            binary(BinOp::Add, arr.clone(), short)
                .unwrap_err()
                .to_string(),
            "Unsupported operand type(s) for +: '[Array[TimeSeries], Array[TimeSeries]]'"
        );
        let Value::Array(neg) = negate(arr) else {
            panic!("array expected");
        };
        assert_eq!(neg[1].points, vec![(0, -2.0), (1, -4.0)]);
        assert_eq!(negate(Value::Scalar(2.0)), Value::Scalar(-2.0));
        assert!(matches!(
            binary(BinOp::Div, Value::Scalar(1.0), Value::Scalar(0.0)),
            Ok(Value::Scalar(v)) if v.is_nan()
        ));
    }
}
