//! Functions over consecutive datapoints, and series from scalars.
//!
//! - `DIFF`: each value minus the previous datapoint's value;
//! - `DIFF_TIME`: seconds between each datapoint and the previous one;
//! - `RATE`: `DIFF / DIFF_TIME` (per second);
//! - `RUNNING_SUM`: the cumulative sum;
//!   (all four: TS → TS and TS[] → TS[]; "previous" is the previous datapoint present, so gaps
//!   are bridged; the first datapoint has no predecessor and is dropped by the first three);
//! - `TIME_SERIES(S)`: a non-sparse series on the expression's grid with every value `S` (empty
//!   when `S` has no value);
//! - `PERIOD(m)`: the period of metric query `m` in seconds (only metric queries, as
//!   documented).

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::query::QueryKind;
use super::super::value::{Ts, Value};
use super::{arity, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, name: &str, args: &[Expr]) -> Result<Value, MathError> {
    arity(name, args, 1, 1)?;
    if name == "PERIOD" {
        return period(ev, args);
    }
    let vals = values(ev, args)?;
    match (name, vals.as_slice()) {
        ("TIME_SERIES", [Value::Scalar(v)]) => {
            let grid = ev.grid();
            let points = if v.is_finite() {
                grid.timestamps()?.into_iter().map(|t| (t, *v)).collect()
            } else {
                Vec::new()
            };
            Ok(Value::Ts(Ts {
                grid,
                points,
                label: format!("TIME_SERIES({})", args[0]),
            }))
        }
        ("TIME_SERIES", _) => Err(type_error(name, &vals)),
        (_, [Value::Ts(s)]) => Ok(Value::Ts(successive(name, s))),
        (_, [Value::Array(items)]) => Ok(Value::Array(
            items.iter().map(|s| successive(name, s)).collect(),
        )),
        _ => Err(type_error(name, &vals)),
    }
}

fn successive(name: &str, s: &Ts) -> Ts {
    if name == "RUNNING_SUM" {
        let mut total = 0.0;
        return s.with_points(s.points.iter().map(|(t, v)| {
            total += v;
            (*t, total)
        }));
    }
    s.with_points(s.points.windows(2).map(|w| {
        let ((t0, v0), (t1, v1)) = (w[0], w[1]);
        let dt = (t1 - t0) as f64 / 1000.0;
        let v = match name {
            "DIFF" => v1 - v0,
            "DIFF_TIME" => dt,
            _ => (v1 - v0) / dt,
        };
        (t1, v)
    }))
}

fn period(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    if let Expr::Id { name, .. } = &args[0] {
        if let Some(i) = ev.prog.lookup(name) {
            if let QueryKind::Metric(m) = &ev.prog.queries[i].kind {
                return Ok(Value::Scalar(m.period_s as f64));
            }
        }
    }
    let vals = values(ev, args)?;
    match vals.as_slice() {
        [Value::Ts(_)] => Err(MathError::Argument {
            func: "PERIOD".into(),
            detail: "only metrics are accepted, not the results of other expressions".into(),
        }),
        _ => Err(type_error("PERIOD", &vals)),
    }
}
