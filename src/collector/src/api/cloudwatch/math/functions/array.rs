//! Arrays of time series.
//!
//! - `METRICS()` / `METRICS("s")`: the metric queries of the request (not expressions), in
//!   request order, optionally only those whose id contains `s`;
//! - `FIRST(TS[])`, `LAST(TS[])`: the first / last series (an empty series for an empty array);
//! - `SORT(TS[], AVG|MIN|MAX|SUM, ASC|DESC[, n])`: series ordered by that statistic of their
//!   values (stable; series without datapoints last), optionally only the first `n`;
//! - `SLICE(TS[], a[, b])`: series `a` (inclusive, 0-based) to `b` (exclusive; default the end),
//!   indexes rounded down and clamped to the array;
//! - `REMOVE_EMPTY(TS[])`: the series that have at least one datapoint.

use std::cmp::Ordering;

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::{Ts, Value};
use super::{arity, keyword, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, name: &str, args: &[Expr]) -> Result<Value, MathError> {
    match name {
        "METRICS" => metrics(ev, args),
        "SORT" => sort(ev, args),
        "SLICE" => slice(ev, args),
        _ => {
            arity(name, args, 1, 1)?;
            let vals = values(ev, args)?;
            let [Value::Array(items)] = vals.as_slice() else {
                return Err(type_error(name, &vals));
            };
            Ok(match name {
                "REMOVE_EMPTY" => Value::Array(
                    items
                        .iter()
                        .filter(|s| !s.points.is_empty())
                        .cloned()
                        .collect(),
                ),
                _ => {
                    let pick = if name == "FIRST" {
                        items.first()
                    } else {
                        items.last()
                    };
                    Value::Ts(pick.cloned().unwrap_or_else(|| Ts::empty(ev.grid(), "")))
                }
            })
        }
    }
}

fn metrics(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("METRICS", args, 0, 1)?;
    let filter = match args.first() {
        None => None,
        Some(Expr::Str { value, .. }) => Some(value.as_str()),
        Some(other) => {
            let v = ev.value(other)?;
            return Err(type_error("METRICS", &[v]));
        }
    };
    let prog = ev.prog;
    let mut out = Vec::new();
    for i in prog.metric_indexes() {
        if filter.is_none_or(|f| prog.queries[i].id.contains(f)) {
            match ev.query(i)? {
                Value::Ts(s) => out.push(s),
                other => return Err(type_error("METRICS", &[other])),
            }
        }
    }
    Ok(Value::Array(out))
}

fn sort(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("SORT", args, 3, 4)?;
    let arr = ev.value(&args[0])?;
    let func = keyword(&args[1]);
    let order = keyword(&args[2]);
    let limit = match args.get(3) {
        Some(e) => Some(ev.value(e)?),
        None => None,
    };
    let Value::Array(mut items) = arr else {
        return Err(type_error("SORT", &[arr]));
    };
    let key: fn(&Ts) -> f64 = match func {
        Some("AVG") => |s| stat(s, |v| v.iter().sum::<f64>() / v.len() as f64),
        Some("MIN") => |s| stat(s, |v| v.iter().copied().fold(f64::INFINITY, f64::min)),
        Some("MAX") => |s| stat(s, |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        Some("SUM") => |s| stat(s, |v| v.iter().sum()),
        _ => return Err(bad_keyword("SORT", &args[1], "AVG, MIN, MAX, SUM")),
    };
    let descending = match order {
        Some("ASC") => false,
        Some("DESC") => true,
        _ => return Err(bad_keyword("SORT", &args[2], "ASC, DESC")),
    };
    let mut keyed: Vec<(f64, Ts)> = items.drain(..).map(|s| (key(&s), s)).collect();
    keyed.sort_by(|(a, _), (b, _)| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ if descending => b.total_cmp(a),
        _ => a.total_cmp(b),
    });
    let mut out: Vec<Ts> = keyed.into_iter().map(|(_, s)| s).collect();
    match limit {
        None => {}
        Some(Value::Scalar(n)) => out.truncate(index(n, out.len())),
        Some(other) => {
            return Err(type_error(
                "SORT",
                &[
                    Value::Array(out),
                    Value::Scalar(0.0),
                    Value::Scalar(0.0),
                    other,
                ],
            ))
        }
    }
    Ok(Value::Array(out))
}

fn slice(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("SLICE", args, 2, 3)?;
    let vals = values(ev, args)?;
    match vals.as_slice() {
        [Value::Array(items), Value::Scalar(a)] => {
            let from = index(*a, items.len());
            Ok(Value::Array(items[from..].to_vec()))
        }
        [Value::Array(items), Value::Scalar(a), Value::Scalar(b)] => {
            let from = index(*a, items.len());
            let to = index(*b, items.len()).max(from);
            Ok(Value::Array(items[from..to].to_vec()))
        }
        _ => Err(type_error("SLICE", &vals)),
    }
}

/// A scalar used as an index: rounded down, clamped to `0..=len` (NaN counts as 0).
fn index(v: f64, len: usize) -> usize {
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= len as f64 {
        len
    } else {
        v.floor() as usize
    }
}

fn stat(s: &Ts, f: impl Fn(&[f64]) -> f64) -> f64 {
    let v: Vec<f64> = s.values().collect();
    if v.is_empty() {
        f64::NAN
    } else {
        f(&v)
    }
}

fn bad_keyword(func: &str, e: &Expr, allowed: &str) -> MathError {
    MathError::Argument {
        func: func.to_string(),
        detail: format!("expected one of {allowed} at position {}", e.pos()),
    }
}
