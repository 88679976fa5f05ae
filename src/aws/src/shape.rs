//! A protocol-neutral output tree.
//!
//! Handlers build a [`Shape`] once; [`Shape::to_json`] renders it for awsJson and
//! [`Shape::write_xml`] for awsQuery. The tree keeps the one distinction the two encodings need
//! and JSON values cannot carry: timestamps are epoch-second numbers in JSON but ISO-8601 strings
//! in XML, lists are arrays in JSON but `<member>` elements in XML, maps are objects in JSON but
//! `<entry><key/><value/></entry>` in XML.
//!
//! Struct members whose value is [`Shape::Absent`] are left out of both renderings, which is how
//! optional output members are expressed.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// One node of an API reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A structure: members in output order.
    Struct(Vec<(String, Shape)>),
    /// A list.
    List(Vec<Shape>),
    /// A string-keyed map.
    Map(Vec<(String, Shape)>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A timestamp, in milliseconds since the Unix epoch.
    Timestamp(i64),
    /// An unset optional member: not rendered.
    Absent,
}

impl Shape {
    /// An empty structure, to be filled with [`Shape::with`].
    pub fn obj() -> Shape {
        Shape::Struct(Vec::new())
    }

    /// Add a member to a structure (no-op on other variants).
    pub fn with(mut self, name: &str, value: impl Into<Shape>) -> Shape {
        if let Shape::Struct(members) = &mut self {
            members.push((name.to_string(), value.into()));
        }
        self
    }

    /// Add a member when `value` is `Some`.
    pub fn with_opt<T: Into<Shape>>(self, name: &str, value: Option<T>) -> Shape {
        match value {
            Some(v) => self.with(name, v),
            None => self,
        }
    }

    /// A list from anything that converts into shapes.
    pub fn list<T: Into<Shape>>(items: impl IntoIterator<Item = T>) -> Shape {
        Shape::List(items.into_iter().map(Into::into).collect())
    }

    /// Render for awsJson.
    pub fn to_json(&self) -> Value {
        match self {
            Shape::Struct(members) | Shape::Map(members) => {
                let mut m = Map::new();
                for (k, v) in members {
                    if !matches!(v, Shape::Absent) {
                        m.insert(k.clone(), v.to_json());
                    }
                }
                Value::Object(m)
            }
            Shape::List(items) => Value::Array(items.iter().map(Shape::to_json).collect()),
            Shape::Str(s) => Value::String(s.clone()),
            Shape::Int(i) => Value::from(*i),
            Shape::Float(f) => float_json(*f),
            Shape::Bool(b) => Value::Bool(*b),
            Shape::Timestamp(ms) => {
                if ms % 1000 == 0 {
                    Value::from(ms / 1000)
                } else {
                    float_json(*ms as f64 / 1000.0)
                }
            }
            Shape::Absent => Value::Null,
        }
    }

    /// Render the *contents* of this node as awsQuery XML into `out`.
    pub fn write_xml(&self, out: &mut String) {
        match self {
            Shape::Struct(members) => {
                for (k, v) in members {
                    if matches!(v, Shape::Absent) {
                        continue;
                    }
                    out.push('<');
                    out.push_str(k);
                    out.push('>');
                    v.write_xml(out);
                    out.push_str("</");
                    out.push_str(k);
                    out.push('>');
                }
            }
            Shape::List(items) => {
                for v in items {
                    out.push_str("<member>");
                    v.write_xml(out);
                    out.push_str("</member>");
                }
            }
            Shape::Map(entries) => {
                for (k, v) in entries {
                    out.push_str("<entry><key>");
                    escape_xml(k, out);
                    out.push_str("</key><value>");
                    v.write_xml(out);
                    out.push_str("</value></entry>");
                }
            }
            Shape::Str(s) => escape_xml(s, out),
            Shape::Int(i) => out.push_str(&i.to_string()),
            Shape::Float(f) => out.push_str(&float_text(*f)),
            Shape::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Shape::Timestamp(ms) => out.push_str(&iso8601(*ms)),
            Shape::Absent => {}
        }
    }
}

fn float_json(f: f64) -> Value {
    if f.is_finite() {
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    } else {
        Value::String(float_text(f))
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f == f64::INFINITY {
        "Infinity".to_string()
    } else if f == f64::NEG_INFINITY {
        "-Infinity".to_string()
    } else if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// `2016-10-03T23:00:00.000Z`, the form AWS uses in XML replies.
pub fn iso8601(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_string())
}

/// Escape text for an XML element body.
pub fn escape_xml(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

impl From<String> for Shape {
    fn from(s: String) -> Self {
        Shape::Str(s)
    }
}
impl From<&str> for Shape {
    fn from(s: &str) -> Self {
        Shape::Str(s.to_string())
    }
}
impl From<&String> for Shape {
    fn from(s: &String) -> Self {
        Shape::Str(s.clone())
    }
}
impl From<i64> for Shape {
    fn from(i: i64) -> Self {
        Shape::Int(i)
    }
}
impl From<i32> for Shape {
    fn from(i: i32) -> Self {
        Shape::Int(i64::from(i))
    }
}
impl From<u32> for Shape {
    fn from(i: u32) -> Self {
        Shape::Int(i64::from(i))
    }
}
impl From<usize> for Shape {
    fn from(i: usize) -> Self {
        Shape::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Shape {
    fn from(f: f64) -> Self {
        Shape::Float(f)
    }
}
impl From<bool> for Shape {
    fn from(b: bool) -> Self {
        Shape::Bool(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Shape {
        Shape::obj()
            .with("Label", "cpu")
            .with(
                "Datapoints",
                Shape::list([Shape::obj()
                    .with("Timestamp", Shape::Timestamp(1_475_535_600_000))
                    .with("Sum", 42.0)
                    .with("Unit", "Count")]),
            )
            .with("NextToken", Shape::Absent)
            .with("Tags", Shape::Map(vec![("a&b".into(), "<v>".into())]))
    }

    #[test]
    fn json_rendering() {
        let v = sample().to_json();
        assert_eq!(
            v,
            serde_json::json!({"Label":"cpu","Datapoints":[{"Timestamp":1475535600,"Sum":42.0,"Unit":"Count"}],"Tags":{"a&b":"<v>"}})
        );
        assert_eq!(Shape::Float(f64::NAN).to_json(), serde_json::json!("NaN"));
        assert_eq!(Shape::Timestamp(1500).to_json(), serde_json::json!(1.5));
    }

    #[test]
    fn xml_rendering() {
        let mut s = String::new();
        sample().write_xml(&mut s);
        assert_eq!(
            s,
            "<Label>cpu</Label><Datapoints><member><Timestamp>2016-10-03T23:00:00.000Z</Timestamp><Sum>42.0</Sum><Unit>Count</Unit></member></Datapoints><Tags><entry><key>a&amp;b</key><value>&lt;v&gt;</value></entry></Tags>"
        );
    }
}
