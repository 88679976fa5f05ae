//! Validation of a CloudWatch dashboard body.
//!
//! The body is a JSON object with a `widgets` array (and optional `start`, `end`,
//! `periodOverride`, `variables`). Each widget has a `type` (`metric`, `text`, `alarm`, `log`,
//! `explorer`, `custom`), a position and size on the 24-column grid (`x` 0–23, `y` ≥ 0,
//! `width` 1–24, `height` 1–1000, all optional) and `properties`, which the types this
//! collector renders require: `metrics` (or alarm `annotations`) for metric widgets,
//! `markdown` for text, `alarms` for alarm widgets, `query` for log widgets.
//!
//! Problems are reported the way CloudWatch reports them: a list of `{dataPath, message}` with a
//! JSON-pointer-like path (`/widgets/0/width`) and a JSON-schema style message
//! (`Should be integer`, `Should have required property 'widgets'`).

use serde_json::Value;

/// Most widgets on one dashboard.
pub const MAX_WIDGETS: usize = 500;

/// One validation problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub data_path: String,
    pub message: String,
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        data_path: path.into(),
        message: message.into(),
    }
}

const TYPES: [&str; 6] = ["metric", "text", "alarm", "log", "explorer", "custom"];
const VIEWS: [&str; 6] = ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"];

/// Check a dashboard body; an empty list means it is valid.
pub fn validate(body: &str) -> Vec<Problem> {
    let root: Value = match serde_json::from_str(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return vec![problem(
                "",
                "The field DashboardBody must be a valid JSON object",
            )]
        }
    };
    let mut out = Vec::new();
    for (key, want) in [("start", "string"), ("end", "string")] {
        if root.get(key).is_some_and(|v| !v.is_string()) {
            out.push(problem(format!("/{key}"), format!("Should be {want}")));
        }
    }
    let Some(widgets) = root.get("widgets") else {
        out.push(problem("", "Should have required property 'widgets'"));
        return out;
    };
    let Some(widgets) = widgets.as_array() else {
        out.push(problem("/widgets", "Should be array"));
        return out;
    };
    if widgets.len() > MAX_WIDGETS {
        out.push(problem(
            "/widgets",
            format!("Should NOT have more than {MAX_WIDGETS} items"),
        ));
    }
    for (i, w) in widgets.iter().enumerate() {
        widget(&format!("/widgets/{i}"), w, &mut out);
    }
    out
}

fn integer_in(w: &Value, path: &str, key: &str, lo: i64, hi: i64, out: &mut Vec<Problem>) {
    let Some(v) = w.get(key) else { return };
    let p = format!("{path}/{key}");
    match v.as_i64() {
        None => out.push(problem(p, "Should be integer")),
        Some(n) if n < lo => out.push(problem(p, format!("Should be >= {lo}"))),
        Some(n) if n > hi => out.push(problem(p, format!("Should be <= {hi}"))),
        Some(_) => {}
    }
}

fn widget(path: &str, w: &Value, out: &mut Vec<Problem>) {
    if !w.is_object() {
        out.push(problem(path, "Should be object"));
        return;
    }
    let kind = match w.get("type") {
        None => {
            out.push(problem(path, "Should have required property 'type'"));
            return;
        }
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => t.as_str(),
        Some(_) => {
            out.push(problem(
                format!("{path}/type"),
                "Should be equal to one of the allowed values",
            ));
            return;
        }
    };
    integer_in(w, path, "x", 0, 23, out);
    integer_in(w, path, "y", 0, i64::from(i32::MAX), out);
    integer_in(w, path, "width", 1, 24, out);
    integer_in(w, path, "height", 1, 1000, out);
    let props = match w.get("properties") {
        Some(p @ Value::Object(_)) => p,
        Some(_) => {
            out.push(problem(format!("{path}/properties"), "Should be object"));
            return;
        }
        None if matches!(kind, "metric" | "text" | "alarm" | "log") => {
            out.push(problem(path, "Should have required property 'properties'"));
            return;
        }
        None => return,
    };
    let pp = format!("{path}/properties");
    match kind {
        "metric" => metric_properties(&pp, props, out),
        "text" => required_string(&pp, props, "markdown", out),
        "log" => required_string(&pp, props, "query", out),
        "alarm" => match props.get("alarms") {
            None => out.push(problem(pp, "Should have required property 'alarms'")),
            Some(Value::Array(a)) => {
                for (j, x) in a.iter().enumerate() {
                    if !x.is_string() {
                        out.push(problem(format!("{pp}/alarms/{j}"), "Should be string"));
                    }
                }
            }
            Some(_) => out.push(problem(format!("{pp}/alarms"), "Should be array")),
        },
        _ => {}
    }
}

fn required_string(path: &str, props: &Value, key: &str, out: &mut Vec<Problem>) {
    match props.get(key) {
        None => out.push(problem(
            path,
            format!("Should have required property '{key}'"),
        )),
        Some(Value::String(_)) => {}
        Some(_) => out.push(problem(format!("{path}/{key}"), "Should be string")),
    }
}

fn metric_properties(path: &str, props: &Value, out: &mut Vec<Problem>) {
    let has_annotations = props
        .get("annotations")
        .and_then(|a| a.get("alarms"))
        .is_some();
    match props.get("metrics") {
        None if !has_annotations => {
            out.push(problem(path, "Should have required property 'metrics'"))
        }
        None => {}
        Some(Value::Array(rows)) => {
            for (j, row) in rows.iter().enumerate() {
                let rp = format!("{path}/metrics/{j}");
                let Some(items) = row.as_array() else {
                    out.push(problem(rp, "Should be array"));
                    continue;
                };
                if items.is_empty() {
                    out.push(problem(rp, "Should NOT have fewer than 1 items"));
                    continue;
                }
                for (k, item) in items.iter().enumerate() {
                    let last = k + 1 == items.len();
                    let ok = item.is_string() || (last && item.is_object());
                    if !ok {
                        out.push(problem(format!("{rp}/{k}"), "Should be string"));
                    }
                }
            }
        }
        Some(_) => out.push(problem(format!("{path}/metrics"), "Should be array")),
    }
    if let Some(v) = props.get("view") {
        if !v.as_str().is_some_and(|v| VIEWS.contains(&v)) {
            out.push(problem(
                format!("{path}/view"),
                "Should be equal to one of the allowed values",
            ));
        }
    }
    if props.get("stacked").is_some_and(|v| !v.is_boolean()) {
        out.push(problem(format!("{path}/stacked"), "Should be boolean"));
    }
    if props.get("period").is_some_and(|v| v.as_i64().is_none()) {
        out.push(problem(format!("{path}/period"), "Should be integer"));
    }
    for key in ["stat", "title", "region"] {
        if props.get(key).is_some_and(|v| !v.is_string()) {
            out.push(problem(format!("{path}/{key}"), "Should be string"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(body: &str) -> Vec<(String, String)> {
        validate(body)
            .into_iter()
            .map(|p| (p.data_path, p.message))
            .collect()
    }

    #[test]
    fn valid_bodies() {
        for body in [
            r#"{"widgets":[]}"#,
            r##"{"start":"-PT3H","widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,
               "properties":{"metrics":[["CWAgent","mem_used_percent","host","a"],[".",".",".","b",{"stat":"Maximum"}]],
               "view":"timeSeries","stacked":false,"period":300,"stat":"Average","region":"us-east-1","title":"Memory"}},
               {"type":"text","x":12,"y":0,"width":12,"height":3,"properties":{"markdown":"# Hosts"}},
               {"type":"alarm","properties":{"alarms":["arn:aws:cloudwatch:us-east-1:000000000000:alarm:a"]}},
               {"type":"log","properties":{"query":"SOURCE 'app' | fields @message"}},
               {"type":"metric","properties":{"annotations":{"alarms":["arn:x"]}}}]}"##,
        ] {
            assert_eq!(paths(body), vec![], "{body}");
        }
    }

    #[test]
    fn step_table_of_problems() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            (
                "not json",
                &[("", "The field DashboardBody must be a valid JSON object")],
            ),
            (
                "[]",
                &[("", "The field DashboardBody must be a valid JSON object")],
            ),
            ("{}", &[("", "Should have required property 'widgets'")]),
            (r#"{"widgets":{}}"#, &[("/widgets", "Should be array")]),
            (r#"{"widgets":[1]}"#, &[("/widgets/0", "Should be object")]),
            (
                r#"{"widgets":[{}]}"#,
                &[("/widgets/0", "Should have required property 'type'")],
            ),
            (
                r#"{"widgets":[{"type":"chart"}]}"#,
                &[(
                    "/widgets/0/type",
                    "Should be equal to one of the allowed values",
                )],
            ),
            (
                r#"{"widgets":[{"type":"text","x":24,"y":-1,"width":0,"height":1.5,"properties":{"markdown":"m"}}]}"#,
                &[
                    ("/widgets/0/x", "Should be <= 23"),
                    ("/widgets/0/y", "Should be >= 0"),
                    ("/widgets/0/width", "Should be >= 1"),
                    ("/widgets/0/height", "Should be integer"),
                ],
            ),
            (
                r#"{"widgets":[{"type":"metric"}]}"#,
                &[("/widgets/0", "Should have required property 'properties'")],
            ),
            (
                r#"{"widgets":[{"type":"metric","properties":{}}]}"#,
                &[(
                    "/widgets/0/properties",
                    "Should have required property 'metrics'",
                )],
            ),
            (
                r#"{"widgets":[{"type":"metric","properties":{"metrics":[[], "x", ["a", 1, "b"]],"view":"map","stacked":"yes"}}]}"#,
                &[
                    (
                        "/widgets/0/properties/metrics/0",
                        "Should NOT have fewer than 1 items",
                    ),
                    ("/widgets/0/properties/metrics/1", "Should be array"),
                    ("/widgets/0/properties/metrics/2/1", "Should be string"),
                    (
                        "/widgets/0/properties/view",
                        "Should be equal to one of the allowed values",
                    ),
                    ("/widgets/0/properties/stacked", "Should be boolean"),
                ],
            ),
            (
                r#"{"widgets":[{"type":"text","properties":{"markdown":3}}]}"#,
                &[("/widgets/0/properties/markdown", "Should be string")],
            ),
            (
                r#"{"widgets":[{"type":"alarm","properties":{"alarms":"a"}}]}"#,
                &[("/widgets/0/properties/alarms", "Should be array")],
            ),
            (
                r#"{"widgets":[{"type":"log","properties":{}}]}"#,
                &[(
                    "/widgets/0/properties",
                    "Should have required property 'query'",
                )],
            ),
        ];
        for (body, want) in cases {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(p, m)| (p.to_string(), m.to_string()))
                .collect();
            assert_eq!(paths(body), want, "{body}");
        }
        let many = format!(
            r#"{{"widgets":[{}]}}"#,
            vec![r#"{"type":"custom"}"#; MAX_WIDGETS + 1].join(",")
        );
        assert_eq!(
            paths(&many),
            vec![(
                "/widgets".to_string(),
                "Should NOT have more than 500 items".to_string()
            )]
        );
    }
}
