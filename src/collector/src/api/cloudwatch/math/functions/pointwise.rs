//! ABS, CEIL, FLOOR, LOG (natural), LOG10: applied to every datapoint; TS → TS, TS[] → TS[].
//! A non-finite result (`LOG(0)`, `LOG(-1)`) drops the datapoint.

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::Value;
use super::{arity, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, name: &str, args: &[Expr]) -> Result<Value, MathError> {
    arity(name, args, 1, 1)?;
    let f: fn(f64) -> f64 = match name {
        "ABS" => f64::abs,
        "CEIL" => f64::ceil,
        "FLOOR" => f64::floor,
        "LOG" => f64::ln,
        _ => f64::log10,
    };
    let vals = values(ev, args)?;
    match vals.as_slice() {
        [Value::Ts(s)] => Ok(Value::Ts(s.map(f))),
        [Value::Array(items)] => Ok(Value::Array(items.iter().map(|s| s.map(f)).collect())),
        _ => Err(type_error(name, &vals)),
    }
}
