//! The metric math functions, one file per family, dispatched by name.
//!
//! | family | functions |
//! |---|---|
//! | `pointwise` | ABS, CEIL, FLOOR, LOG, LOG10 (TS → TS, TS[] → TS[]) |
//! | `reduce` | AVG, SUM, MIN, MAX, STDDEV, DATAPOINT_COUNT (TS → S, TS[] → TS), METRIC_COUNT |
//! | `series` | DIFF, DIFF_TIME, RATE, RUNNING_SUM, TIME_SERIES, PERIOD |
//! | `fill` | FILL(TS or TS[], S / REPEAT / LINEAR / TS) |
//! | `time` | MINUTE, HOUR, DAY, DATE, MONTH, YEAR, EPOCH |
//! | `array` | METRICS, FIRST, LAST, SORT, SLICE, REMOVE_EMPTY |
//! | `cond` | IF |
//! | `band` | ANOMALY_DETECTION_BAND |
//!
//! Functions receive their argument *nodes* and evaluate them themselves, because some
//! arguments are keywords (`REPEAT`, `AVG`, `DESC`) or strings, not values. Argument types
//! follow CloudWatch's function table; anything else is
//! `Unsupported operand type(s) for NAME: '[...]'`. `SEARCH`, `SERVICE_QUOTA` and
//! `INSIGHT_RULE_METRIC` name CloudWatch features the collector does not have and are refused.

mod array;
pub(crate) mod band;
mod cond;
mod fill;
mod pointwise;
mod reduce;
mod series;
mod time;

#[cfg(test)]
mod tests;

use super::ast::Expr;
use super::error::MathError;
use super::eval::Evaluator;
use super::value::Value;

/// Functions of CloudWatch's metric math that this collector cannot offer.
const UNSUPPORTED: [&str; 3] = ["SEARCH", "SERVICE_QUOTA", "INSIGHT_RULE_METRIC"];

/// Call function `name` with argument nodes `args`.
pub fn call(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[Expr],
    pos: usize,
) -> Result<Value, MathError> {
    match name {
        "ABS" | "CEIL" | "FLOOR" | "LOG" | "LOG10" => pointwise::call(ev, name, args),
        "AVG" | "SUM" | "MIN" | "MAX" | "STDDEV" | "DATAPOINT_COUNT" | "METRIC_COUNT" => {
            reduce::call(ev, name, args)
        }
        "DIFF" | "DIFF_TIME" | "RATE" | "RUNNING_SUM" | "TIME_SERIES" | "PERIOD" => {
            series::call(ev, name, args)
        }
        "FILL" => fill::call(ev, args),
        "MINUTE" | "HOUR" | "DAY" | "DATE" | "MONTH" | "YEAR" | "EPOCH" => {
            time::call(ev, name, args)
        }
        "METRICS" | "FIRST" | "LAST" | "SORT" | "SLICE" | "REMOVE_EMPTY" => {
            array::call(ev, name, args)
        }
        "IF" => cond::call(ev, args),
        "ANOMALY_DETECTION_BAND" => band::call(ev, args),
        _ if UNSUPPORTED.contains(&name) => Err(MathError::Unsupported(format!(
            "Function {name} at position {pos} is"
        ))),
        _ => Err(MathError::UnknownFunction {
            name: name.to_string(),
            pos,
        }),
    }
}

/// Check the number of arguments.
fn arity(name: &str, args: &[Expr], min: usize, max: usize) -> Result<(), MathError> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    let expected = if min == max {
        min.to_string()
    } else {
        format!("{min} to {max}")
    };
    Err(MathError::Arity {
        func: name.to_string(),
        expected,
        got: args.len(),
    })
}

/// Evaluate every argument (for functions whose arguments are all values).
fn values(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Vec<Value>, MathError> {
    args.iter().map(|a| ev.value(a)).collect()
}

/// The type error for `name` applied to `vals`.
fn type_error(name: &str, vals: &[Value]) -> MathError {
    let types: Vec<&str> = vals.iter().map(Value::type_name).collect();
    MathError::types(name, &types)
}

/// A keyword argument's name, or `None` when the node is not a bare keyword.
fn keyword(e: &Expr) -> Option<&str> {
    match e {
        Expr::Keyword { name, .. } => Some(name),
        _ => None,
    }
}
