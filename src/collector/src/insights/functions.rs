//! Scalar functions: strings, numbers, dates and IP addresses.
//!
//! A function given a missing (null) primary argument returns null, except the presence
//! tests (`ispresent`, `isempty`, `isblank`), `coalesce` and `concat`, which are defined for
//! missing fields. Numeric functions read numeric strings as numbers. `bin(period)` depends on
//! the row's `@timestamp` and is evaluated by [`super::eval`].

use std::borrow::Cow;
use std::net::IpAddr;

use super::value::Value;

/// `(min, max)` argument count of a scalar function (lower-case name).
pub fn arity(name: &str) -> Option<(usize, usize)> {
    const N: usize = usize::MAX;
    Some(match name {
        "strlen" | "toupper" | "tolower" | "ispresent" | "isempty" | "isblank" | "unmask"
        | "abs" | "ceil" | "floor" | "log" | "sqrt" | "frommillis" | "tomillis" | "bin"
        | "isvalidip" | "isvalidipv4" | "isvalidipv6" => (1, 1),
        "trim" | "ltrim" | "rtrim" | "round" => (1, 2),
        "concat" | "coalesce" | "greatest" | "least" => (1, N),
        "substr" => (2, 3),
        "replace" => (3, 3),
        "strcontains" | "datefloor" | "dateceil" | "isipinsubnet" | "isipv4insubnet"
        | "isipv6insubnet" => (2, 2),
        _ => return None,
    })
}

/// Milliseconds in `n` periods of `unit` (`ms`, `s`, `m`, `h`, `d`, `w`); `None` when the unit
/// is unknown or the period is not positive.
pub fn period_ms(n: f64, unit: &str) -> Option<i64> {
    let per: f64 = match unit {
        "ms" => 1.0,
        "s" | "sec" => 1_000.0,
        "m" | "min" => 60_000.0,
        "h" | "hr" => 3_600_000.0,
        "d" => 86_400_000.0,
        "w" => 604_800_000.0,
        _ => return None,
    };
    let ms = n * per;
    (ms >= 1.0 && ms.fract() == 0.0 && ms < 1e15).then_some(ms as i64)
}

/// Floor `ts` to a multiple of `period` ms (since the epoch).
pub fn floor_to(ts: i64, period: i64) -> i64 {
    ts.div_euclid(period) * period
}

fn num<'a>(n: f64) -> Value<'a> {
    if n.is_finite() {
        Value::Num(n)
    } else {
        Value::Null
    }
}

fn trim_with<'a>(s: Cow<'a, str>, chars: Option<&str>, left: bool, right: bool) -> Value<'a> {
    let owned = |t: &str| Value::Str(Cow::Owned(t.to_string()));
    let f = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    };
    let t = match (left, right) {
        (true, true) => s.trim_matches(f),
        (true, false) => s.trim_start_matches(f),
        _ => s.trim_end_matches(f),
    };
    if t.len() == s.len() {
        Value::Str(s)
    } else {
        owned(t)
    }
}

fn text_of<'a>(v: Value<'a>) -> Cow<'a, str> {
    match v {
        Value::Str(s) => s,
        other => Cow::Owned(other.text().into_owned()),
    }
}

/// A period argument (`5m`) in ms, from the planner's [`super::ast::Expr::Period`] (numbers are
/// taken as milliseconds).
fn period_arg(v: &Value<'_>) -> Option<i64> {
    v.as_num().filter(|n| *n >= 1.0).map(|n| n as i64)
}

fn subnet_contains(ip: &str, cidr: &str, v4: Option<bool>) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let Some((net, bits)) = cidr.trim().split_once('/') else {
        return false;
    };
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if v4 != Some(false) && bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if v4 != Some(true) && bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Call scalar function `name` (lower-case, arity already checked) on evaluated arguments.
pub fn call<'a>(name: &str, mut args: Vec<Value<'a>>) -> Value<'a> {
    let first_null = args.first().is_none_or(Value::is_null);
    let null_ok = matches!(
        name,
        "ispresent" | "isempty" | "isblank" | "coalesce" | "concat" | "greatest" | "least"
    );
    if first_null && !null_ok {
        return Value::Null;
    }
    let arg_text = |args: &[Value<'_>], i: usize| args.get(i).map(|v| v.text().into_owned());
    let arg_num = |args: &[Value<'_>], i: usize| args.get(i).and_then(Value::as_num);
    let a0 = args.first().cloned().unwrap_or(Value::Null);
    match name {
        "ispresent" => Value::Bool(!first_null),
        "isempty" => Value::Bool(first_null || a0.text().is_empty()),
        "isblank" => Value::Bool(first_null || a0.text().trim().is_empty()),
        "coalesce" => args
            .into_iter()
            .find(|v| !v.is_null())
            .unwrap_or(Value::Null),
        "concat" => {
            let mut s = String::new();
            for a in &args {
                s.push_str(&a.text());
            }
            Value::Str(Cow::Owned(s))
        }
        "unmask" => a0,
        "strlen" => Value::Num(a0.text().chars().count() as f64),
        "toupper" => Value::Str(Cow::Owned(a0.text().to_uppercase())),
        "tolower" => Value::Str(Cow::Owned(a0.text().to_lowercase())),
        "trim" | "ltrim" | "rtrim" => {
            let chars = arg_text(&args, 1);
            let s = text_of(args.swap_remove(0));
            trim_with(s, chars.as_deref(), name != "rtrim", name != "ltrim")
        }
        "substr" => {
            let s = a0.text();
            let count = s.chars().count() as i64;
            let start = arg_num(&args, 1).map_or(0, |n| n as i64).clamp(0, count);
            let len = arg_num(&args, 2).map_or(count - start, |n| n as i64).max(0);
            Value::Str(Cow::Owned(
                s.chars().skip(start as usize).take(len as usize).collect(),
            ))
        }
        "replace" => {
            let from = arg_text(&args, 1).unwrap_or_default();
            let to = arg_text(&args, 2).unwrap_or_default();
            if from.is_empty() {
                return a0;
            }
            Value::Str(Cow::Owned(a0.text().replace(&from, &to)))
        }
        "strcontains" => {
            let needle = arg_text(&args, 1).unwrap_or_default();
            Value::Bool(a0.text().contains(&needle))
        }
        "abs" | "ceil" | "floor" | "log" | "sqrt" => match a0.as_num() {
            None => Value::Null,
            Some(n) => num(match name {
                "abs" => n.abs(),
                "ceil" => n.ceil(),
                "floor" => n.floor(),
                "log" => n.ln(),
                _ => n.sqrt(),
            }),
        },
        "round" => match a0.as_num() {
            None => Value::Null,
            Some(n) => {
                let digits = arg_num(&args, 1).unwrap_or(0.0).clamp(0.0, 15.0) as i32;
                let f = 10f64.powi(digits);
                num((n * f).round() / f)
            }
        },
        "greatest" | "least" => {
            let nums = args.iter().filter_map(Value::as_num);
            let v = if name == "greatest" {
                nums.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
            } else {
                nums.fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))))
            };
            v.map_or(Value::Null, num)
        }
        "frommillis" => a0.as_num().map_or(Value::Null, |n| Value::Time(n as i64)),
        "tomillis" => a0.as_num().map_or(Value::Null, |n| Value::Num(n.trunc())),
        "datefloor" | "dateceil" => {
            let (Some(ts), Some(p)) = (a0.as_num(), args.get(1).and_then(period_arg)) else {
                return Value::Null;
            };
            let ts = ts as i64;
            let floor = floor_to(ts, p);
            Value::Time(if name == "dateceil" && floor != ts {
                floor + p
            } else {
                floor
            })
        }
        "isvalidip" | "isvalidipv4" | "isvalidipv6" => {
            let ip = a0.text().trim().parse::<IpAddr>();
            Value::Bool(matches!(
                (name, ip),
                ("isvalidip", Ok(_))
                    | ("isvalidipv4", Ok(IpAddr::V4(_)))
                    | ("isvalidipv6", Ok(IpAddr::V6(_)))
            ))
        }
        "isipinsubnet" | "isipv4insubnet" | "isipv6insubnet" => {
            let cidr = arg_text(&args, 1).unwrap_or_default();
            let v4 = match name {
                "isipv4insubnet" => Some(true),
                "isipv6insubnet" => Some(false),
                _ => None,
            };
            Value::Bool(subnet_contains(&a0.text(), &cidr, v4))
        }
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value<'static> {
        Value::Str(Cow::Owned(v.to_string()))
    }

    fn r(name: &str, args: Vec<Value<'static>>) -> String {
        call(name, args)
            .render()
            .map(|c| c.into_owned())
            .unwrap_or("<null>".into())
    }

    #[test]
    fn strings() {
        assert_eq!(r("strlen", vec![s("héllo")]), "5");
        assert_eq!(r("toupper", vec![s("aB")]), "AB");
        assert_eq!(r("tolower", vec![s("aB")]), "ab");
        assert_eq!(r("trim", vec![s("  a b ")]), "a b");
        assert_eq!(r("ltrim", vec![s("  a ")]), "a ");
        assert_eq!(r("rtrim", vec![s("  a ")]), "  a");
        assert_eq!(r("trim", vec![s("xxaxx"), s("x")]), "a");
        assert_eq!(
            r("concat", vec![s("a"), Value::Num(1.0), Value::Null, s("b")]),
            "a1b"
        );
        assert_eq!(r("substr", vec![s("abcdef"), Value::Num(2.0)]), "cdef");
        assert_eq!(
            r(
                "substr",
                vec![s("abcdef"), Value::Num(1.0), Value::Num(3.0)]
            ),
            "bcd"
        );
        assert_eq!(r("substr", vec![s("abc"), Value::Num(5.0)]), "");
        assert_eq!(r("replace", vec![s("a-b-c"), s("-"), s("+")]), "a+b+c");
        assert_eq!(r("strcontains", vec![s("abc"), s("bc")]), "1");
        assert_eq!(r("strcontains", vec![s("abc"), s("x")]), "0");
        assert_eq!(r("ispresent", vec![Value::Null]), "0");
        assert_eq!(r("ispresent", vec![s("")]), "1");
        assert_eq!(r("isempty", vec![s("")]), "1");
        assert_eq!(r("isempty", vec![s(" ")]), "0");
        assert_eq!(r("isblank", vec![s(" \t")]), "1");
        assert_eq!(r("coalesce", vec![Value::Null, s("b"), s("c")]), "b");
        assert_eq!(r("strlen", vec![Value::Null]), "<null>");
    }

    #[test]
    fn numbers() {
        assert_eq!(r("abs", vec![Value::Num(-2.5)]), "2.5");
        assert_eq!(r("ceil", vec![s("2.1")]), "3");
        assert_eq!(r("floor", vec![Value::Num(-2.1)]), "-3");
        assert_eq!(r("sqrt", vec![Value::Num(16.0)]), "4");
        assert_eq!(r("log", vec![Value::Num(1.0)]), "0");
        assert_eq!(r("sqrt", vec![Value::Num(-1.0)]), "<null>");
        assert_eq!(r("round", vec![Value::Num(2.567), Value::Num(2.0)]), "2.57");
        assert_eq!(r("round", vec![Value::Num(2.5)]), "3");
        assert_eq!(
            r("greatest", vec![Value::Num(1.0), s("7"), Value::Null]),
            "7"
        );
        assert_eq!(r("least", vec![Value::Num(1.0), s("-7")]), "-7");
        assert_eq!(r("abs", vec![s("x")]), "<null>");
    }

    #[test]
    fn dates() {
        let t = 1_796_618_132_045;
        assert_eq!(
            r("frommillis", vec![Value::Num(t as f64)]),
            "2026-12-07 04:35:32.045"
        );
        assert_eq!(r("tomillis", vec![Value::Time(t)]), t.to_string());
        assert_eq!(
            r("datefloor", vec![Value::Time(t), Value::Num(300_000.0)]),
            "2026-12-07 04:35:00.000"
        );
        assert_eq!(
            r("dateceil", vec![Value::Time(t), Value::Num(3_600_000.0)]),
            "2026-12-07 05:00:00.000"
        );
        assert_eq!(period_ms(5.0, "m"), Some(300_000));
        assert_eq!(period_ms(1.0, "h"), Some(3_600_000));
        assert_eq!(period_ms(30.0, "s"), Some(30_000));
        assert_eq!(period_ms(1.0, "q"), None);
        assert_eq!(period_ms(0.0, "m"), None);
        assert_eq!(floor_to(-1, 1000), -1000);
    }

    #[test]
    fn ips() {
        assert_eq!(r("isvalidip", vec![s("10.0.0.1")]), "1");
        assert_eq!(r("isvalidip", vec![s("::1")]), "1");
        assert_eq!(r("isvalidip", vec![s("10.0.0.256")]), "0");
        assert_eq!(r("isvalidipv4", vec![s("::1")]), "0");
        assert_eq!(r("isvalidipv6", vec![s("fe80::1")]), "1");
        assert_eq!(
            r("isipinsubnet", vec![s("192.0.2.7"), s("192.0.2.0/24")]),
            "1"
        );
        assert_eq!(
            r("isipv4insubnet", vec![s("192.0.3.7"), s("192.0.2.0/24")]),
            "0"
        );
        assert_eq!(
            r("isipv4insubnet", vec![s("10.1.2.3"), s("0.0.0.0/0")]),
            "1"
        );
        assert_eq!(
            r("isipv6insubnet", vec![s("2001:db8::5"), s("2001:db8::/32")]),
            "1"
        );
        assert_eq!(
            r("isipv6insubnet", vec![s("10.0.0.1"), s("10.0.0.0/8")]),
            "0"
        );
        assert_eq!(r("isipinsubnet", vec![s("10.0.0.1"), s("bogus")]), "0");
    }
}
