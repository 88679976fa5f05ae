//! `MINUTE`, `HOUR`, `DAY`, `DATE`, `MONTH`, `YEAR`, `EPOCH` (TS → TS): a non-sparse series on
//! the argument's period and range whose values come from each timestamp, in UTC:
//! minute 0–59, hour 0–23, day of the week 1 (Monday)–7 (Sunday), day of the month 1–31,
//! month 1–12, the four-digit year, and seconds since the Unix epoch.

use chrono::{DateTime, Datelike, Timelike};

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::Evaluator;
use super::super::value::{Ts, Value};
use super::{arity, type_error, values};

pub fn call(ev: &mut Evaluator<'_>, name: &str, args: &[Expr]) -> Result<Value, MathError> {
    arity(name, args, 1, 1)?;
    let vals = values(ev, args)?;
    let [Value::Ts(s)] = vals.as_slice() else {
        return Err(type_error(name, &vals));
    };
    let mut stamps = s.grid.timestamps()?;
    stamps.extend(s.points.iter().map(|(t, _)| *t));
    stamps.sort_unstable();
    stamps.dedup();
    let points = stamps
        .into_iter()
        .filter_map(|t| part(name, t).map(|v| (t, v)));
    Ok(Value::Ts(Ts {
        grid: s.grid,
        points: points.collect(),
        label: format!("{name}({})", args[0]),
    }))
}

/// The calendar part `name` of timestamp `t_ms` (UTC).
pub fn part(name: &str, t_ms: i64) -> Option<f64> {
    let dt = DateTime::from_timestamp_millis(t_ms)?;
    Some(match name {
        "MINUTE" => f64::from(dt.minute()),
        "HOUR" => f64::from(dt.hour()),
        "DAY" => f64::from(dt.weekday().number_from_monday()),
        "DATE" => f64::from(dt.day()),
        "MONTH" => f64::from(dt.month()),
        "YEAR" => f64::from(dt.year()),
        _ => t_ms.div_euclid(1000) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_parts() {
        // 2024-02-29T13:45:00Z, a Thursday.
        let t = 1_709_214_300_000;
        let cases = [
            ("MINUTE", 45.0),
            ("HOUR", 13.0),
            ("DAY", 4.0),
            ("DATE", 29.0),
            ("MONTH", 2.0),
            ("YEAR", 2024.0),
            ("EPOCH", 1_709_214_300.0),
        ];
        for (name, want) in cases {
            assert_eq!(part(name, t), Some(want), "{name}");
        }
        // 2024-03-03 is a Sunday.
        assert_eq!(part("DAY", 1_709_424_000_000), Some(7.0));
    }
}
