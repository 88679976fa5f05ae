//! `FILL(TS | TS[], S | REPEAT | LINEAR | TS)`: give every grid timestamp of the series a value.
//!
//! - `S`: the scalar (a scalar without value fills nothing);
//! - a TS: that series' value at the same timestamp, where it has one;
//! - `REPEAT`: the most recent real value before the gap (a gap at the start stays empty);
//! - `LINEAR`: linear interpolation between the real values on both sides of the gap (gaps at
//!   either end stay empty).
//!
//! Existing datapoints are kept unchanged. An array is filled series by series.

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::{Ts, Value};
use super::{arity, keyword, type_error};

enum Filler {
    Const(f64),
    Series(Ts),
    Repeat,
    Linear,
}

pub fn call(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("FILL", args, 2, 2)?;
    let target = ev.value(&args[0])?;
    let filler = match keyword(&args[1]) {
        Some("REPEAT") => Filler::Repeat,
        Some("LINEAR") => Filler::Linear,
        Some(other) => {
            return Err(MathError::Argument {
                func: "FILL".into(),
                detail: format!(
                    "{other} at position {} is not one of REPEAT, LINEAR",
                    args[1].pos()
                ),
            })
        }
        None => match ev.value(&args[1])? {
            Value::Scalar(v) => Filler::Const(v),
            Value::Ts(s) => Filler::Series(s),
            other => return Err(type_error("FILL", &[target, other])),
        },
    };
    match target {
        Value::Ts(s) => Ok(Value::Ts(fill(&s, &filler)?)),
        Value::Array(items) => Ok(Value::Array(
            items
                .iter()
                .map(|s| fill(s, &filler))
                .collect::<Result<_, _>>()?,
        )),
        Value::Scalar(_) => {
            let second = match filler {
                Filler::Series(s) => Value::Ts(s),
                _ => Value::Scalar(0.0),
            };
            Err(type_error("FILL", &[target, second]))
        }
    }
}

fn fill(s: &Ts, filler: &Filler) -> Result<Ts, MathError> {
    let mut grid = s.grid.timestamps()?;
    grid.extend(s.points.iter().map(|(t, _)| *t));
    grid.sort_unstable();
    grid.dedup();
    let mut out = Vec::with_capacity(grid.len());
    let mut next = 0; // index in s.points of the first point at or after t
    for t in grid {
        while s.points.get(next).is_some_and(|(pt, _)| *pt < t) {
            next += 1;
        }
        if let Some((pt, v)) = s.points.get(next) {
            if *pt == t {
                out.push((t, *v));
                continue;
            }
        }
        let before = next.checked_sub(1).and_then(|i| s.points.get(i));
        let after = s.points.get(next);
        let v = match filler {
            Filler::Const(c) => Some(*c),
            Filler::Series(f) => f.at(t),
            Filler::Repeat => before.map(|(_, v)| *v),
            Filler::Linear => match (before, after) {
                (Some((t0, v0)), Some((t1, v1))) => {
                    Some(v0 + (v1 - v0) * (t - t0) as f64 / (t1 - t0) as f64)
                }
                _ => None,
            },
        };
        if let Some(v) = v {
            out.push((t, v));
        }
    }
    Ok(s.with_points(out))
}
