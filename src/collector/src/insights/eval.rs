//! Evaluating expressions against a row.

use std::borrow::Cow;

use super::ast::{BinOp, Expr, LikePattern};
use super::functions;
use super::row::Row;
use super::value::Value;

/// Evaluate `e` on `row`; `aggs` holds the values of a `stats` command's aggregates
/// ([`Expr::Agg`]) when evaluating its items.
pub fn eval<'r>(e: &Expr, row: &'r Row<'_>, aggs: &[Value<'static>]) -> Value<'r> {
    match e {
        Expr::Field(name) => row.get(name),
        Expr::Str(s) => Value::Str(Cow::Owned(s.clone())),
        Expr::Num(n) => Value::Num(*n),
        Expr::Period(ms, _) => Value::Num(*ms as f64),
        Expr::Star => Value::Null,
        Expr::Agg(i) => aggs.get(*i).cloned().unwrap_or(Value::Null),
        Expr::Neg(inner) => match eval(inner, row, aggs).as_num() {
            Some(n) => Value::Num(-n),
            None => Value::Null,
        },
        Expr::Not(inner) => Value::Bool(!eval(inner, row, aggs).truthy()),
        Expr::Bin(BinOp::And, a, b) => {
            Value::Bool(eval(a, row, aggs).truthy() && eval(b, row, aggs).truthy())
        }
        Expr::Bin(BinOp::Or, a, b) => {
            Value::Bool(eval(a, row, aggs).truthy() || eval(b, row, aggs).truthy())
        }
        Expr::Bin(op, a, b) => {
            let (x, y) = (eval(a, row, aggs), eval(b, row, aggs));
            binary(*op, &x, &y)
        }
        Expr::Like {
            expr,
            pattern,
            negated,
        } => {
            let v = eval(expr, row, aggs);
            if v.is_null() {
                return Value::Bool(false);
            }
            let text = v.text();
            let hit = match pattern {
                LikePattern::Substring(s) => text.contains(s.as_str()),
                LikePattern::Regex(r) => r.is_match(&text),
            };
            Value::Bool(hit != *negated)
        }
        Expr::In {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, aggs);
            if v.is_null() {
                return Value::Bool(false);
            }
            let hit = list.iter().any(|item| v.loose_eq(&eval(item, row, aggs)));
            Value::Bool(hit != *negated)
        }
        Expr::Call(name, args) if name == "bin" => {
            let period = args.first().map(|p| eval(p, row, aggs).as_num());
            match (row.timestamp(), period.flatten()) {
                (Some(ts), Some(p)) if p >= 1.0 => Value::Time(functions::floor_to(ts, p as i64)),
                _ => Value::Null,
            }
        }
        Expr::Call(name, args) => {
            let vals = args.iter().map(|a| eval(a, row, aggs)).collect();
            functions::call(name, vals)
        }
    }
}

/// A comparison or arithmetic operator on two values.
pub fn binary<'a>(op: BinOp, x: &Value<'_>, y: &Value<'_>) -> Value<'a> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let cmp = |want: &[std::cmp::Ordering]| match x.loose_cmp(y) {
        Some(o) => Value::Bool(want.contains(&o)),
        None => Value::Bool(false),
    };
    match op {
        BinOp::Eq => Value::Bool(x.loose_eq(y)),
        BinOp::Ne => Value::Bool(!x.is_null() && !y.is_null() && !x.loose_eq(y)),
        BinOp::Lt => cmp(&[Less]),
        BinOp::Le => cmp(&[Less, Equal]),
        BinOp::Gt => cmp(&[Greater]),
        BinOp::Ge => cmp(&[Greater, Equal]),
        BinOp::And => Value::Bool(x.truthy() && y.truthy()),
        BinOp::Or => Value::Bool(x.truthy() || y.truthy()),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod | BinOp::Pow => {
            let (Some(a), Some(b)) = (x.as_num(), y.as_num()) else {
                return Value::Null;
            };
            let r = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div if b == 0.0 => return Value::Null,
                BinOp::Div => a / b,
                BinOp::Mod if b == 0.0 => return Value::Null,
                BinOp::Mod => a % b,
                _ => a.powf(b),
            };
            if r.is_finite() {
                Value::Num(r)
            } else {
                Value::Null
            }
        }
    }
}
