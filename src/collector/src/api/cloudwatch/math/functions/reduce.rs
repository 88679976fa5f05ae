//! Reductions.
//!
//! - `AVG`, `SUM`, `MIN`, `MAX`, `STDDEV` of a TS → a scalar over its datapoints (NaN, i.e. no
//!   value, for an empty series); of a TS[] → a TS computed timestamp by timestamp over the
//!   union of the series' timestamps. `AVG` of an array treats missing values as 0 (documented:
//!   the sum is divided by the number of series); `SUM` adds the values present; `MIN`, `MAX`
//!   and `STDDEV` use the values present. `STDDEV` is the population standard deviation.
//! - `DATAPOINT_COUNT` of a TS → the number of datapoints; of a TS[] → at each timestamp, how
//!   many series have a value there.
//! - `METRIC_COUNT(TS[])` → the number of series.

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::{all_timestamps, Grid, Ts, Value};
use super::{arity, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, name: &str, args: &[Expr]) -> Result<Value, MathError> {
    arity(name, args, 1, 1)?;
    let vals = values(ev, args)?;
    match (name, vals.as_slice()) {
        ("METRIC_COUNT", [Value::Array(items)]) => Ok(Value::Scalar(items.len() as f64)),
        ("METRIC_COUNT", _) => Err(type_error(name, &vals)),
        (_, [Value::Ts(s)]) => {
            let v: Vec<f64> = s.values().collect();
            Ok(Value::Scalar(reduce(name, &v, v.len())))
        }
        (_, [Value::Array(items)]) => {
            let label = format!(
                "{name}({})",
                args.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(Value::Ts(pointwise(name, items, ev.grid(), label)))
        }
        _ => Err(type_error(name, &vals)),
    }
}

/// Reduce the values present (`n` = number of series for `AVG`).
fn reduce(name: &str, v: &[f64], n: usize) -> f64 {
    if name == "DATAPOINT_COUNT" {
        return v.len() as f64;
    }
    if v.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = v.iter().sum();
    match name {
        "SUM" => sum,
        "AVG" => sum / n.max(v.len()) as f64,
        "MIN" => v.iter().copied().fold(f64::INFINITY, f64::min),
        "MAX" => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        _ => {
            let mean = sum / v.len() as f64;
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        }
    }
}

fn pointwise(name: &str, items: &[Ts], default: Grid, label: String) -> Ts {
    let grid = items
        .iter()
        .map(|s| s.grid)
        .reduce(Grid::combine)
        .unwrap_or(default);
    let mut cursors = vec![0usize; items.len()];
    let mut points = Vec::new();
    let mut present = Vec::with_capacity(items.len());
    for t in all_timestamps(items) {
        present.clear();
        for (s, c) in items.iter().zip(cursors.iter_mut()) {
            while s.points.get(*c).is_some_and(|(ts, _)| *ts < t) {
                *c += 1;
            }
            if let Some((ts, v)) = s.points.get(*c) {
                if *ts == t {
                    present.push(*v);
                }
            }
        }
        let v = reduce(name, &present, items.len());
        if v.is_finite() {
            points.push((t, v));
        }
    }
    Ts {
        grid,
        points,
        label,
    }
}
