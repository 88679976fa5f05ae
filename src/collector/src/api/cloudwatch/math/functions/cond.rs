//! `IF(condition, trueValue[, falseValue])` (documented semantics).
//!
//! A condition value is false when it is 0 and true otherwise.
//!
//! - Condition a TS (e.g. `m1 < 400`), values S or TS: the result has a datapoint for each
//!   datapoint of the condition: the true value when true (a TS without a datapoint there gives
//!   **0**), the false value when false (dropped when the false value is omitted or a TS without
//!   a datapoint there). Timestamps without a condition datapoint are dropped.
//! - Condition a scalar, values TS: the whole true or false series (empty when the false value
//!   is omitted). With scalar values the result is a scalar.
//!
//! Arrays are not accepted.

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::{Ts, Value};
use super::{arity, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("IF", args, 2, 3)?;
    let vals = values(ev, args)?;
    let err = || type_error("IF", &vals);
    let (cond, yes, no) = match vals.as_slice() {
        [c, y] => (c, y, None),
        [c, y, n] => (c, y, Some(n)),
        _ => return Err(err()),
    };
    if matches!(yes, Value::Array(_)) || matches!(no, Some(Value::Array(_))) {
        return Err(err());
    }
    match cond {
        Value::Ts(c) => Ok(Value::Ts(per_point(c, yes, no))),
        Value::Scalar(c) => {
            let truth = (!c.is_nan()).then_some(*c != 0.0);
            match (yes, no) {
                (Value::Ts(y), None | Some(Value::Ts(_))) => Ok(Value::Ts(match (truth, no) {
                    (Some(true), _) => y.clone(),
                    (Some(false), Some(Value::Ts(n))) => n.clone(),
                    _ => Ts::empty(y.grid, y.label.clone()),
                })),
                (Value::Scalar(y), None | Some(Value::Scalar(_))) => {
                    Ok(Value::Scalar(match (truth, no) {
                        (Some(true), _) => *y,
                        (Some(false), Some(Value::Scalar(n))) => *n,
                        _ => f64::NAN,
                    }))
                }
                _ => Err(err()),
            }
        }
        Value::Array(_) => Err(err()),
    }
}

fn per_point(c: &Ts, yes: &Value, no: Option<&Value>) -> Ts {
    let label = match yes {
        Value::Ts(s) => s.label.clone(),
        _ => c.label.clone(),
    };
    let points = c.points.iter().filter_map(|(t, v)| {
        let out = if *v != 0.0 {
            match yes {
                Value::Ts(s) => Some(s.at(*t).unwrap_or(0.0)),
                Value::Scalar(x) => Some(*x),
                Value::Array(_) => None,
            }
        } else {
            match no {
                Some(Value::Ts(s)) => s.at(*t),
                Some(Value::Scalar(x)) => Some(*x),
                _ => None,
            }
        };
        out.map(|o| (*t, o))
    });
    let mut out = c.with_points(points);
    out.label = label;
    out
}
