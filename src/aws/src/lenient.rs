//! Input types that accept both awsJson and awsQuery spellings.
//!
//! awsQuery sends every leaf as a string (`"1.5"`, `"true"`, `"2016-10-03T23:00:00Z"`); awsJson
//! sends numbers, booleans and epoch-second timestamps, and botocore spells non-finite doubles as
//! the strings `"NaN"`, `"Infinity"`, `"-Infinity"`. These wrappers deserialize from either.

use chrono::{DateTime, NaiveDateTime};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// A double from a JSON number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Float(pub f64);

/// An integer from a JSON number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Int(pub i64);

/// A boolean from a JSON boolean or `"true"` / `"false"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bool(pub bool);

/// A timestamp in milliseconds since the epoch, from epoch seconds (number or numeric string) or
/// an ISO-8601 string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

/// A list that also accepts the empty string awsQuery uses for an empty list.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

/// Parse a double as awsJson or awsQuery would spell it.
pub fn parse_f64(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Parse a timestamp string: epoch seconds, or ISO-8601 / RFC 3339 with or without zone (UTC).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_ms(secs);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.fZ",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(n.and_utc().timestamp_millis());
        }
    }
    None
}

fn secs_to_ms(secs: f64) -> Option<i64> {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms.abs() < 9.0e15 {
        Some(ms as i64)
    } else {
        None
    }
}

impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_f64()
                .map(Float)
                .ok_or_else(|| de::Error::custom("invalid number")),
            Value::String(s) => parse_f64(&s)
                .map(Float)
                .ok_or_else(|| de::Error::custom(format!("invalid double value {s:?}"))),
            other => Err(de::Error::custom(format!("expected a double, got {other}"))),
        }
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                        .map(|f| f as i64)
                })
                .map(Int)
                .ok_or_else(|| de::Error::custom("invalid integer")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Int)
                .map_err(|_| de::Error::custom(format!("invalid integer value {s:?}"))),
            other => Err(de::Error::custom(format!(
                "expected an integer, got {other}"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Bool(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Bool(false)),
            other => Err(de::Error::custom(format!(
                "expected a boolean, got {other}"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_f64()
                .and_then(secs_to_ms)
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom("invalid timestamp")),
            Value::String(s) => parse_timestamp(&s)
                .map(Timestamp)
                .ok_or_else(|| de::Error::custom(format!("invalid timestamp {s:?}"))),
            other => Err(de::Error::custom(format!(
                "expected a timestamp, got {other}"
            ))),
        }
    }
}

impl<'de, T: de::DeserializeOwned> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| serde_json::from_value(v).map_err(de::Error::custom))
                .collect::<Result<Vec<T>, _>>()
                .map(List),
            Value::String(s) if s.is_empty() => Ok(List(Vec::new())),
            Value::Null => Ok(List(Vec::new())),
            other => Err(de::Error::custom(format!("expected a list, got {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Input {
        value: Option<Float>,
        count: Option<Int>,
        flag: Option<Bool>,
        timestamp: Option<Timestamp>,
        items: Option<List<Float>>,
    }

    #[test]
    fn accepts_both_spellings() {
        let j: Input = serde_json::from_value(json!({"Value": 1.5, "Count": 3, "Flag": true, "Timestamp": 1475535600.5, "Items": [1, 2]})).unwrap();
        let q: Input = serde_json::from_value(json!({"Value": "1.5", "Count": "3", "Flag": "true", "Timestamp": "2016-10-03T23:00:00.500Z", "Items": ["1", "2"]})).unwrap();
        for i in [j, q] {
            assert_eq!(i.value, Some(Float(1.5)));
            assert_eq!(i.count, Some(Int(3)));
            assert_eq!(i.flag, Some(Bool(true)));
            assert_eq!(i.timestamp, Some(Timestamp(1_475_535_600_500)));
            assert_eq!(i.items.unwrap().0, vec![Float(1.0), Float(2.0)]);
        }
        let e: Input = serde_json::from_value(json!({"Items": ""})).unwrap();
        assert!(e.items.unwrap().0.is_empty());
        let n: Input = serde_json::from_value(json!({"Value": "NaN"})).unwrap();
        assert!(n.value.unwrap().0.is_nan());
        assert!(serde_json::from_value::<Input>(json!({"Value": "abc"})).is_err());
        assert_eq!(
            parse_timestamp("2016-10-03T23:00:00"),
            Some(1_475_535_600_000)
        );
    }
}
