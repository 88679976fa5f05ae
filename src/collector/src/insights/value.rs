//! Values: what a field or expression evaluates to, and how values compare and render.
//!
//! Logs Insights is loosely typed: a field holds a string, a number, a timestamp or nothing.
//! Strings that read as numbers take part in arithmetic and numeric comparisons (values
//! extracted by `parse` are strings). Results are rendered as AWS renders them: numbers without
//! a trailing `.0`, timestamps as `yyyy-MM-dd HH:mm:ss.SSS` (UTC), booleans as `1` / `0`.

use std::borrow::Cow;
use std::cmp::Ordering;

/// A value; strings borrow from the event when they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Str(Cow<'a, str>),
    Num(f64),
    /// Milliseconds since the epoch.
    Time(i64),
    Bool(bool),
}

impl<'a> Value<'a> {
    pub fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Value::Str(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value with no borrow.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Num(n) => Value::Num(n),
            Value::Time(t) => Value::Time(t),
            Value::Bool(b) => Value::Bool(b),
        }
    }

    /// The value as a number: numbers, timestamps (ms), booleans (1/0) and numeric strings.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Time(t) => Some(*t as f64),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Str(s) => parse_number(s),
            Value::Null => None,
        }
    }

    /// Truth in a filter: `true`, non-zero numbers and non-empty strings.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Time(_) => true,
            Value::Str(s) => !s.is_empty(),
        }
    }

    /// The text of the value as a result renders it (`None` for null).
    pub fn render(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Null => None,
            Value::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            Value::Num(n) => Some(Cow::Owned(format_number(*n))),
            Value::Time(t) => Some(Cow::Owned(format_time(*t))),
            Value::Bool(b) => Some(Cow::Borrowed(if *b { "1" } else { "0" })),
        }
    }

    /// The text of the value for string functions (empty for null).
    pub fn text(&self) -> Cow<'_, str> {
        self.render().unwrap_or(Cow::Borrowed(""))
    }

    /// Loose equality: numerically when both sides read as numbers, else as text.
    pub fn loose_eq(&self, other: &Value<'_>) -> bool {
        if self.is_null() || other.is_null() {
            return false;
        }
        match (self.as_num(), other.as_num()) {
            (Some(a), Some(b)) => a == b,
            _ => self.text() == other.text(),
        }
    }

    /// Loose ordering for `<`, `>`, ...: numeric when both read as numbers, else by text;
    /// `None` when either side is null.
    pub fn loose_cmp(&self, other: &Value<'_>) -> Option<Ordering> {
        if self.is_null() || other.is_null() {
            return None;
        }
        match (self.as_num(), other.as_num()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => Some(self.text().cmp(&other.text())),
        }
    }

    /// Total order used by `sort`, `stats` groups and `min`/`max` of text, as AWS documents
    /// its natural sort: nulls first, then non-number values in natural order (runs of digits
    /// compare by length, then value; everything else by Unicode), then numbers (and
    /// timestamps) numerically.
    pub fn sort_cmp(&self, other: &Value<'_>) -> Ordering {
        fn rank(v: &Value<'_>) -> u8 {
            match v {
                Value::Null => 0,
                Value::Str(s) if parse_number(s).is_none() => 1,
                _ => 2,
            }
        }
        let (ra, rb) = (rank(self), rank(other));
        if ra != rb {
            return ra.cmp(&rb);
        }
        match ra {
            0 => Ordering::Equal,
            1 => natural_cmp(&self.text(), &other.text()),
            _ => {
                let a = self.as_num().unwrap_or(0.0);
                let b = other.as_num().unwrap_or(0.0);
                a.total_cmp(&b)
            }
        }
    }
}

/// Natural order of two strings: runs of ASCII digits compare by length and then by value,
/// other characters by code point.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        let (Some(cx), Some(cy)) = (x.chars().next(), y.chars().next()) else {
            return x.len().cmp(&y.len());
        };
        if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let ex = x.find(|c: char| !c.is_ascii_digit()).unwrap_or(x.len());
            let ey = y.find(|c: char| !c.is_ascii_digit()).unwrap_or(y.len());
            let o = ex.cmp(&ey).then_with(|| x[..ex].cmp(&y[..ey]));
            if o != Ordering::Equal {
                return o;
            }
            x = &x[ex..];
            y = &y[ey..];
        } else {
            if cx != cy {
                return cx.cmp(&cy);
            }
            x = &x[cx.len_utf8()..];
            y = &y[cy.len_utf8()..];
        }
    }
}

/// A number from text: decimal integers and floats (no `inf`/`nan`), surrounding spaces allowed.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let first = t.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A number as AWS renders it: integers without a fraction, others in shortest form.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A timestamp as results render it: `2026-12-07 04:35:32.000` (UTC).
pub fn format_time(ms: i64) -> String {
    match chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering() {
        assert_eq!(format_number(200.0), "200");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(-0.125), "-0.125");
        assert_eq!(format_time(1_796_618_132_000), "2026-12-07 04:35:32.000");
        assert_eq!(format_time(1_796_618_132_045), "2026-12-07 04:35:32.045");
        assert_eq!(Value::Bool(true).render().unwrap(), "1");
    }

    #[test]
    fn loose_comparisons() {
        assert!(Value::str("200").loose_eq(&Value::Num(200.0)));
        assert!(Value::str("abc").loose_eq(&Value::str("abc")));
        assert!(!Value::Null.loose_eq(&Value::Null));
        assert_eq!(
            Value::str("10").loose_cmp(&Value::str("9")),
            Some(Ordering::Greater)
        );
        assert_eq!(
            Value::str("b").loose_cmp(&Value::str("a")),
            Some(Ordering::Greater)
        );
        assert_eq!(Value::Null.sort_cmp(&Value::Num(1.0)), Ordering::Less);
        assert_eq!(Value::str("x").sort_cmp(&Value::Num(1.0)), Ordering::Less);
        let mut v = vec!["a12345hfh", "111A", "5A", "@", "A9876fghj", "2345_", "!:"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            ["!:", "5A", "111A", "2345_", "@", "A9876fghj", "a12345hfh"]
        );
        assert_eq!(parse_number(" 12.5 "), Some(12.5));
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("1e3"), Some(1000.0));
    }
}
