//! Rows: one log event (with its built-in and discovered fields) or one `stats` result.
//!
//! Field lookup order: fields set by the query (`fields ... as`, `parse`, `stats` output), then
//! the built-in `@` fields of an event, then the fields discovered in a JSON message. JSON is
//! parsed lazily, at the first lookup of a field that is not found otherwise, and flattened as
//! AWS flattens it: nested objects join their keys with `.`, array elements are numbered
//! (`a.b`, `list.0.id`); at most [`MAX_JSON_FIELDS`] fields per event are discovered.

use std::borrow::Cow;
use std::cell::OnceCell;

use super::value::Value;

/// Most fields discovered in one JSON message.
pub const MAX_JSON_FIELDS: usize = 100;

/// The built-in fields of a stored event.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: Cow<'a, str>,
    pub log_stream: Cow<'a, str>,
    /// `account:group`.
    pub log: Cow<'a, str>,
    /// Identifies the event for `@ptr`: (group id, stream id, sequence number).
    pub ptr: (i64, i64, i64),
}

impl Event<'_> {
    fn into_owned(self) -> Event<'static> {
        Event {
            timestamp: self.timestamp,
            ingestion_time: self.ingestion_time,
            message: Cow::Owned(self.message.into_owned()),
            log_stream: Cow::Owned(self.log_stream.into_owned()),
            log: Cow::Owned(self.log.into_owned()),
            ptr: self.ptr,
        }
    }

    /// The opaque `@ptr` value of the event.
    pub fn ptr_text(&self) -> String {
        let (g, s, q) = self.ptr;
        hex::encode(format!("{g}:{s}:{q}"))
    }
}

/// The built-in event fields, in the order a result without `fields`/`display` shows them.
pub const BUILTIN_FIELDS: [&str; 5] = [
    "@timestamp",
    "@message",
    "@logStream",
    "@log",
    "@ingestionTime",
];

/// One row of the pipeline.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub event: Option<Event<'a>>,
    json: OnceCell<Vec<(String, Value<'static>)>>,
    /// Fields set by the query, in creation order (a name appears once).
    pub set: Vec<(String, Value<'a>)>,
}

impl<'a> Row<'a> {
    pub fn from_event(event: Event<'a>) -> Self {
        Row {
            event: Some(event),
            json: OnceCell::new(),
            set: Vec::new(),
        }
    }

    /// A row of computed fields only (a `stats` result).
    pub fn computed(set: Vec<(String, Value<'a>)>) -> Self {
        Row {
            event: None,
            json: OnceCell::new(),
            set,
        }
    }

    /// Set (or replace) a field.
    pub fn put(&mut self, name: &str, v: Value<'a>) {
        match self.set.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.set.push((name.to_string(), v)),
        }
    }

    /// The event's `@timestamp`, if the row is an event.
    pub fn timestamp(&self) -> Option<i64> {
        self.event.as_ref().map(|e| e.timestamp)
    }

    /// Look a field up (null when absent).
    pub fn get(&self, name: &str) -> Value<'_> {
        if let Some((_, v)) = self.set.iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        let Some(e) = &self.event else {
            return Value::Null;
        };
        match name {
            "@timestamp" => return Value::Time(e.timestamp),
            "@message" => return Value::Str(Cow::Borrowed(e.message.as_ref())),
            "@logStream" => return Value::Str(Cow::Borrowed(e.log_stream.as_ref())),
            "@log" => return Value::Str(Cow::Borrowed(e.log.as_ref())),
            "@ingestionTime" => return Value::Time(e.ingestion_time),
            "@ptr" => return Value::Str(Cow::Owned(e.ptr_text())),
            _ => {}
        }
        self.json_fields()
            .iter()
            .find(|(n, _)| n == name)
            .map_or(Value::Null, |(_, v)| v.clone())
    }

    /// The fields discovered in the event's JSON message.
    pub fn json_fields(&self) -> &[(String, Value<'static>)] {
        self.json.get_or_init(|| match &self.event {
            Some(e) => discover(&e.message),
            None => Vec::new(),
        })
    }

    /// The row with no borrow, for keeping it past the event's buffer.
    pub fn into_owned(self) -> Row<'static> {
        Row {
            event: self.event.map(Event::into_owned),
            json: self.json,
            set: self
                .set
                .into_iter()
                .map(|(n, v)| (n, v.into_owned()))
                .collect(),
        }
    }

    /// Every field the row shows when the query does not choose its fields: the built-in
    /// fields, the discovered JSON fields, then fields set by the query.
    pub fn all_fields(&self) -> Vec<(String, Value<'_>)> {
        let mut out: Vec<(String, Value<'_>)> = Vec::new();
        if self.event.is_some() {
            for f in BUILTIN_FIELDS {
                out.push((f.to_string(), self.get(f)));
            }
            for (n, v) in self.json_fields() {
                let taken =
                    self.set.iter().any(|(s, _)| s == n) || BUILTIN_FIELDS.contains(&n.as_str());
                if !taken {
                    out.push((n.clone(), v.clone()));
                }
            }
        }
        for (n, v) in &self.set {
            match out.iter_mut().find(|(o, _)| o == n) {
                Some(slot) => slot.1 = v.clone(),
                None => out.push((n.clone(), v.clone())),
            }
        }
        out
    }
}

/// The flattened fields of a JSON object message (empty for anything else).
pub fn discover(message: &str) -> Vec<(String, Value<'static>)> {
    let t = message.trim_start();
    if !t.starts_with('{') {
        return Vec::new();
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(t) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in map {
        flatten(k, v, &mut out);
    }
    out
}

fn flatten(prefix: String, v: serde_json::Value, out: &mut Vec<(String, Value<'static>)>) {
    if out.len() >= MAX_JSON_FIELDS {
        return;
    }
    let leaf = match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten(format!("{prefix}.{k}"), v, out);
            }
            return;
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                flatten(format!("{prefix}.{i}"), v, out);
            }
            return;
        }
        serde_json::Value::Null => return,
        serde_json::Value::Bool(b) => Value::Str(Cow::Owned(b.to_string())),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) => Value::Num(f),
            None => Value::Str(Cow::Owned(n.to_string())),
        },
        serde_json::Value::String(s) => Value::Str(Cow::Owned(s)),
    };
    out.push((prefix, leaf));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_discovery() {
        let f = discover(r#"{"a":{"b":1,"c":[10,{"d":"x"}]},"e":true,"n":null,"s":"t"}"#);
        let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.b", "a.c.0", "a.c.1.d", "e", "s"]);
        assert_eq!(f[0].1, Value::Num(1.0));
        assert_eq!(f[2].1, Value::str("x"));
        assert!(discover("plain text {").is_empty());
        assert!(discover("[1,2]").is_empty());
        let big: String = format!(
            "{{{}}}",
            (0..150)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(discover(&big).len(), MAX_JSON_FIELDS);
    }

    #[test]
    fn lookup_order() {
        let mut r = Row::from_event(Event {
            timestamp: 5,
            ingestion_time: 6,
            message: Cow::Borrowed(r#"{"x":1,"@timestamp":"no"}"#),
            log_stream: Cow::Borrowed("s"),
            log: Cow::Borrowed("1:g"),
            ptr: (1, 2, 3),
        });
        assert_eq!(r.get("x"), Value::Num(1.0));
        assert_eq!(r.get("@timestamp"), Value::Time(5));
        r.put("x", Value::str("set"));
        assert_eq!(r.get("x"), Value::str("set"));
        assert_eq!(r.get("missing"), Value::Null);
        let all: Vec<String> = r.all_fields().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            all,
            [
                "@timestamp",
                "@message",
                "@logStream",
                "@log",
                "@ingestionTime",
                "x"
            ]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
        );
    }
}
