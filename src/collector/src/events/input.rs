//! What a target receives: the whole event, a constant `Input`, the value at `InputPath`, or
//! an `InputTransformer` rendering.
//!
//! Paths are the JSONPath subset AWS accepts: `$`, then `.name` and `[index]` steps.
//!
//! Template rendering follows AWS's quoting rules:
//! - a placeholder outside a JSON string is replaced by the value as JSON (`"text"`, `5`,
//!   `{"a":1}`);
//! - a placeholder inside a JSON string (or in a template that is not JSON) is replaced by the
//!   value's text: strings unquoted and unescaped, objects and arrays "inlined" without quotes
//!   (`{a:1,b:x}`, `[HIGH,LOW]`) in string templates (`"..."`) and plain text; inside a string
//!   of a `{`/`[` template an object or array is inserted as raw JSON (which breaks the
//!   document);
//! - a path that resolves to nothing yields the empty string;
//! - predefined: `<aws.events.rule-arn>`, `<aws.events.rule-name>`,
//!   `<aws.events.event.ingestion-time>`, `<aws.events.event>` (the envelope without
//!   `detail`, with `detailType`) and `<aws.events.event.json>` (the whole event).
//!
//! A template starting with `{` or `[` must render to valid JSON; otherwise the delivery fails
//! permanently ([`InputError::InvalidJson`]), as AWS silently drops it.

use serde_json::Value;

use super::model::{Delivery, InputTransformer, Target};

/// A target input that cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("the input template did not render to valid JSON")]
    InvalidJson,
    #[error("InputPath {0} matched nothing")]
    NoMatch(String),
}

/// Resolve a JSONPath (`$`, `$.a.b`, `$.a[0].b`) in `v`. `None` when malformed or absent.
pub fn resolve<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let rest = path.trim().strip_prefix('$')?;
    let mut cur = v;
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(r) = chars.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let (name, tail) = r.split_at(end);
            if name.is_empty() {
                return None;
            }
            cur = cur.as_object()?.get(name)?;
            chars = tail;
        } else if let Some(r) = chars.strip_prefix('[') {
            let end = r.find(']')?;
            let (idx, tail) = r.split_at(end);
            let i: usize = idx.trim().parse().ok()?;
            cur = cur.as_array()?.get(i)?;
            chars = tail.get(1..)?;
        } else {
            return None;
        }
    }
    Some(cur)
}

/// True when `path` is syntactically a path [`resolve`] accepts.
pub fn valid_path(path: &str) -> bool {
    let Some(rest) = path.trim().strip_prefix('$') else {
        return false;
    };
    let mut chars = rest;
    while !chars.is_empty() {
        if let Some(r) = chars.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return false;
            }
            chars = &r[end..];
        } else if let Some(r) = chars.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return false;
            };
            if r[..end].trim().parse::<usize>().is_err() {
                return false;
            }
            chars = &r[end + 1..];
        } else {
            return false;
        }
    }
    true
}

/// Names of the placeholders AWS defines for every transformer.
pub const PREDEFINED: &[&str] = &[
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
];

/// The placeholders (`<name>`) of a template, in order of appearance.
pub fn placeholders(template: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && is_name_byte(b[j]) {
                j += 1;
            }
            if j < b.len() && b[j] == b'>' && j > start {
                out.push((i, j + 1, &template[start..j]));
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// The first placeholder of `t` that is neither predefined nor in its paths map.
pub fn undefined_placeholder(t: &InputTransformer) -> Option<String> {
    placeholders(&t.template)
        .into_iter()
        .map(|(_, _, n)| n)
        .find(|n| !PREDEFINED.contains(n) && !t.paths.iter().any(|(k, _)| k == n))
        .map(str::to_string)
}

/// A value's text inside a string: strings raw, containers inlined without quotes.
fn inline_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(inline_text).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", inline_text(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn envelope_without_detail(event: &Value) -> Value {
    let mut m = serde_json::Map::new();
    for (from, to) in [
        ("id", "id"),
        ("account", "account"),
        ("detail-type", "detailType"),
        ("time", "time"),
        ("source", "source"),
        ("region", "region"),
        ("resources", "resources"),
        ("version", "version"),
    ] {
        if let Some(v) = event.get(from) {
            m.insert(to.to_string(), v.clone());
        }
    }
    Value::Object(m)
}

/// Render a transformer for one delivery.
pub fn transform(t: &InputTransformer, d: &Delivery) -> Result<String, InputError> {
    let lookup = |name: &str| -> Value {
        match name {
            "aws.events.rule-arn" => Value::String(d.rule_arn.clone()),
            "aws.events.rule-name" => Value::String(d.rule_name.clone()),
            "aws.events.event.ingestion-time" => {
                Value::String(crate::alarms::timefmt::event_time(d.ingestion_ms))
            }
            "aws.events.event" => envelope_without_detail(&d.event),
            "aws.events.event.json" => d.event.clone(),
            _ => t
                .paths
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, p)| resolve(&d.event, p))
                .cloned()
                .unwrap_or_else(|| Value::String(String::new())),
        }
    };
    let template = &t.template;
    let trimmed = template.trim_start();
    let json_template = trimmed.starts_with('{') || trimmed.starts_with('[');
    let string_template = trimmed.starts_with('"');
    let mut out = String::with_capacity(template.len());
    let mut last = 0;
    let mut in_string = false;
    let mut scanned = 0;
    let bytes = template.as_bytes();
    for (start, end, name) in placeholders(template) {
        // Track whether `start` sits inside a JSON string literal.
        let mut escaped = false;
        for &c in bytes.get(scanned..start).unwrap_or_default() {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = in_string;
            } else if c == b'"' {
                in_string = !in_string;
            }
        }
        scanned = end;
        out.push_str(&template[last..start]);
        let v = lookup(name);
        let container = v.is_object() || v.is_array();
        if in_string && json_template && container {
            // Quoted object/array inside a JSON template: AWS inserts the raw JSON, which
            // breaks the document, and the event is not delivered.
            out.push_str(&v.to_string());
        } else if in_string || !(json_template || string_template) {
            out.push_str(&inline_text(&v));
        } else {
            out.push_str(&v.to_string());
        }
        last = end;
    }
    out.push_str(&template[last..]);
    if json_template && serde_json::from_str::<Value>(&out).is_err() {
        return Err(InputError::InvalidJson);
    }
    Ok(out)
}

/// The payload a target receives for `d`.
pub fn render(target: &Target, d: &Delivery) -> Result<String, InputError> {
    if let Some(input) = &target.input {
        return Ok(input.clone());
    }
    if let Some(path) = &target.input_path {
        return resolve(&d.event, path)
            .map(Value::to_string)
            .ok_or_else(|| InputError::NoMatch(path.clone()));
    }
    if let Some(t) = &target.input_transformer {
        return transform(t, d);
    }
    Ok(d.event.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delivery() -> Delivery {
        Delivery {
            rule_arn: "arn:aws:events:us-east-1:123456789012:rule/r".into(),
            rule_name: "r".into(),
            target: Target {
                id: "t".into(),
                arn: "x".into(),
                role_arn: None,
                input: None,
                input_path: None,
                input_transformer: None,
                dead_letter_arn: None,
                retry: None,
                headers: vec![],
            },
            event: json!({"version":"0","id":"e1","detail-type":"dt","source":"src",
                "account":"123456789012","time":"2024-01-01T00:00:00Z","region":"us-east-1",
                "resources":[],"detail":{"instance":"i-1","state":"RUNNING","n":5,
                "tags":{"acc_id":"ab","sf_id":"baz"},"list":["HIGH","LOW"]}}),
            ingestion_ms: 0,
            hops: 0,
        }
    }

    fn tr(paths: &[(&str, &str)], template: &str) -> InputTransformer {
        InputTransformer {
            paths: paths
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            template: template.to_string(),
        }
    }

    #[test]
    fn resolves_paths() {
        let d = delivery();
        let table: &[(&str, Option<Value>)] = &[
            ("$.detail.instance", Some(json!("i-1"))),
            ("$.detail.list[1]", Some(json!("LOW"))),
            ("$.detail.missing", None),
            ("$.detail.list[9]", None),
            ("detail", None),
            ("$", Some(d.event.clone())),
        ];
        for (p, want) in table {
            assert_eq!(resolve(&d.event, p).cloned(), *want, "{p}");
        }
        assert!(valid_path("$.a[0].b"));
        assert!(!valid_path("$.a[x]"));
        assert!(!valid_path("$..a"));
    }

    #[test]
    fn renders_templates_with_aws_quoting() {
        let d = delivery();
        let paths = [
            ("instance", "$.detail.instance"),
            ("state", "$.detail.state"),
            ("n", "$.detail.n"),
            ("tags", "$.detail.tags"),
            ("list", "$.detail.list"),
            ("none", "$.detail.none"),
        ];
        let table: &[(&str, &str)] = &[
            (
                r#"{"i": <instance>, "s": "state is <state>", "n": <n>}"#,
                r#"{"i": "i-1", "s": "state is RUNNING", "n": 5}"#,
            ),
            (
                r#""<instance> is in state <state>""#,
                r#""i-1 is in state RUNNING""#,
            ),
            (
                r#""<tags> <list>""#,
                r#""{acc_id:ab,sf_id:baz} [HIGH,LOW]""#,
            ),
            (
                r#"{"t": <tags>}"#,
                r#"{"t": {"acc_id":"ab","sf_id":"baz"}}"#,
            ),
            (r#"{"x": "<none>"}"#, r#"{"x": ""}"#),
            (r#"{"r": "<aws.events.rule-name>"}"#, r#"{"r": "r"}"#),
            ("plain <instance> text", "plain i-1 text"),
        ];
        for (tpl, want) in table {
            assert_eq!(transform(&tr(&paths, tpl), &d).unwrap(), *want, "{tpl}");
        }
        assert_eq!(
            transform(&tr(&paths, r#"{"t": "<tags>"}"#), &d),
            Err(InputError::InvalidJson)
        );
        let whole = transform(&tr(&[], "{\"e\": <aws.events.event>}"), &d).unwrap();
        let v: Value = serde_json::from_str(&whole).unwrap();
        assert_eq!(v["e"]["detailType"], "dt");
        assert!(v["e"].get("detail").is_none());
    }

    #[test]
    fn finds_undefined_placeholders() {
        let t = tr(&[("a", "$.a")], "<a> <aws.events.rule-arn> <b>");
        assert_eq!(undefined_placeholder(&t), Some("b".to_string()));
        assert_eq!(undefined_placeholder(&tr(&[("a", "$.a")], "<a>")), None);
    }
}
