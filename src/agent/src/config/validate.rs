//! Walker helpers for the hand-written schema validator.
//!
//! The validator walks a `serde_json::Value`, tracks the JSON path of every value it looks at
//! and records every problem in a [`Ctx`] instead of stopping at the first one. Messages follow
//! the wording the CloudWatch agent's schema checker prints (`Invalid type. Expected: integer,
//! given: number`, `String length must be greater than or equal to 1`, ...), so users see the
//! same errors they know.

use super::error::PathError;
use super::pattern;
use serde_json::{Map, Value};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Upper bound of `timeIntervalDefinition` (seconds, two days).
pub const MAX_INTERVAL: i64 = 172_800;

/// A JSON path such as `/metrics/metrics_collected/cpu/measurement/0`; the root prints as `/`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        JsonPath(String::new())
    }

    /// The path of member `key` of the object at this path.
    pub fn key(&self, key: &str) -> Self {
        JsonPath(format!("{}/{}", self.0, key))
    }

    /// The path of element `index` of the array at this path.
    pub fn index(&self, index: usize) -> Self {
        JsonPath(format!("{}/{}", self.0, index))
    }

    pub fn render(&self) -> String {
        if self.0.is_empty() {
            "/".to_string()
        } else {
            self.0.clone()
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Collected errors, warnings and not-yet-built features of one validation run.
#[derive(Debug, Default)]
pub struct Ctx {
    pub errors: Vec<PathError>,
    pub warnings: Vec<String>,
    /// JSON paths of features that are accepted but have no effect in this agent (e.g.
    /// `/traces`, `/metrics/metrics_collected/nvidia_gpu`); sorted into sections at the end.
    pub unsupported: Vec<String>,
}

impl Ctx {
    pub fn error(&mut self, path: &JsonPath, message: impl Into<String>) {
        self.errors.push(PathError::new(path.render(), message));
    }

    pub fn warn(&mut self, path: &JsonPath, message: impl fmt::Display) {
        self.warnings
            .push(format!("Under path : {path} | Warning : {message}"));
    }

    /// Records a feature that is accepted but not built in this agent.
    pub fn unsupported(&mut self, path: &JsonPath) {
        self.unsupported.push(path.render());
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The schema type name of a value; integral numbers (including `60.0`) are `integer`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) if as_integer(v).is_some() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value as an integer if it is an integral JSON number (saturating at the `i64` range).
pub fn as_integer(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let f = n.as_f64()?;
    if f.is_finite() && f.fract() == 0.0 {
        // Saturating float-to-int conversion.
        Some(f as i64)
    } else {
        None
    }
}

pub fn msg_type(expected: &str, v: &Value) -> String {
    format!(
        "Invalid type. Expected: {expected}, given: {}",
        type_name(v)
    )
}

pub fn msg_required(key: &str) -> String {
    format!("{key} is required")
}

pub fn msg_additional(key: &str) -> String {
    format!("Additional property {key} is not allowed")
}

/// `<field> must be one of the following: "a", "b"`.
pub fn msg_enum(field: &str, allowed: &[&str]) -> String {
    let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    format!("{field} must be one of the following: {}", list.join(", "))
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks that `v` is a string of `min..=max` characters.
pub fn check_str<'a>(
    ctx: &mut Ctx,
    path: &JsonPath,
    v: &'a Value,
    min: usize,
    max: usize,
) -> Option<&'a str> {
    let Some(s) = v.as_str() else {
        ctx.error(path, msg_type("string", v));
        return None;
    };
    let len = char_len(s);
    if len < min {
        ctx.error(
            path,
            format!("String length must be greater than or equal to {min}"),
        );
        return None;
    }
    if len > max {
        ctx.error(
            path,
            format!("String length must be less than or equal to {max}"),
        );
        return None;
    }
    Some(s)
}

/// Checks that `v` is an integer in `min..=max`.
pub fn check_int(ctx: &mut Ctx, path: &JsonPath, v: &Value, min: i64, max: i64) -> Option<i64> {
    let Some(i) = as_integer(v) else {
        ctx.error(path, msg_type("integer", v));
        return None;
    };
    if i < min {
        ctx.error(path, format!("Must be greater than or equal to {min}"));
        return None;
    }
    if i > max {
        ctx.error(path, format!("Must be less than or equal to {max}"));
        return None;
    }
    Some(i)
}

pub fn check_bool(ctx: &mut Ctx, path: &JsonPath, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => {
            ctx.error(path, msg_type("boolean", v));
            None
        }
    }
}

/// Checks that `v` is an array with `min..=max` items; returns the items.
pub fn check_array<'a>(
    ctx: &mut Ctx,
    path: &JsonPath,
    v: &'a Value,
    min: usize,
    max: usize,
) -> Option<&'a [Value]> {
    let Some(items) = v.as_array() else {
        ctx.error(path, msg_type("array", v));
        return None;
    };
    if items.len() < min {
        ctx.error(path, format!("Array must have at least {min} items"));
    }
    if items.len() > max {
        ctx.error(path, format!("Array must have at most {max} items"));
    }
    Some(items)
}

/// `uniqueItems`: reports the first pair of equal items.
pub fn check_unique(ctx: &mut Ctx, path: &JsonPath, items: &[Value]) -> bool {
    // Objects serialise with sorted keys, so equal values have equal text.
    let mut first_seen: HashMap<String, usize> = HashMap::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        match first_seen.entry(item.to_string()) {
            Entry::Occupied(first) => {
                let i = *first.get();
                ctx.error(path, format!("array items[{i},{j}] must be unique"));
                return false;
            }
            Entry::Vacant(slot) => {
                slot.insert(j);
            }
        }
    }
    true
}

/// How a list of strings is constrained.
#[derive(Debug, Clone, Copy)]
pub struct StrList {
    pub min_items: usize,
    pub max_items: usize,
    pub min_len: usize,
    pub max_len: usize,
    pub unique: bool,
}

impl StrList {
    /// Any number of strings of 1..=`max_len` characters.
    pub const fn of_len(max_len: usize) -> Self {
        StrList {
            min_items: 0,
            max_items: usize::MAX,
            min_len: 1,
            max_len,
            unique: false,
        }
    }

    pub const fn max_items(mut self, max: usize) -> Self {
        self.max_items = max;
        self
    }

    pub const fn min_items(mut self, min: usize) -> Self {
        self.min_items = min;
        self
    }

    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    pub const fn any_len(mut self) -> Self {
        self.min_len = 0;
        self.max_len = usize::MAX;
        self
    }
}

pub fn check_str_list(
    ctx: &mut Ctx,
    path: &JsonPath,
    v: &Value,
    rule: StrList,
) -> Option<Vec<String>> {
    let items = check_array(ctx, path, v, rule.min_items, rule.max_items)?;
    if rule.unique {
        check_unique(ctx, path, items);
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(s) = check_str(ctx, &path.index(i), item, rule.min_len, rule.max_len) {
            out.push(s.to_string());
        }
    }
    Some(out)
}

/// A JSON object being validated, with its path.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    pub path: JsonPath,
    pub map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    /// Checks that `v` is an object.
    pub fn new(ctx: &mut Ctx, path: JsonPath, v: &'a Value) -> Option<Obj<'a>> {
        match v {
            Value::Object(map) => Some(Obj { path, map }),
            _ => {
                ctx.error(&path, msg_type("object", v));
                None
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<(JsonPath, &'a Value)> {
        self.map.get(key).map(|v| (self.path.key(key), v))
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// `additionalProperties: false`: every other key is an error.
    pub fn allow_only(&self, ctx: &mut Ctx, allowed: &[&str]) {
        for key in self.map.keys() {
            if !allowed.contains(&key.as_str()) {
                ctx.error(&self.path, msg_additional(key));
            }
        }
    }

    /// A required member: an error at this object's path when it is missing.
    pub fn required(&self, ctx: &mut Ctx, key: &str) -> Option<(JsonPath, &'a Value)> {
        let got = self.get(key);
        if got.is_none() {
            ctx.error(&self.path, msg_required(key));
        }
        got
    }

    pub fn str(&self, ctx: &mut Ctx, key: &str, min: usize, max: usize) -> Option<String> {
        let (p, v) = self.get(key)?;
        check_str(ctx, &p, v, min, max).map(str::to_string)
    }

    pub fn int(&self, ctx: &mut Ctx, key: &str, min: i64, max: i64) -> Option<i64> {
        let (p, v) = self.get(key)?;
        check_int(ctx, &p, v, min, max)
    }

    /// A `timeIntervalDefinition` (1..=172800 s) or, with `allow_zero`, 0..=172800 s.
    pub fn interval(&self, ctx: &mut Ctx, key: &str, allow_zero: bool) -> Option<u64> {
        let min = if allow_zero { 0 } else { 1 };
        self.int(ctx, key, min, MAX_INTERVAL)
            .and_then(|i| u64::try_from(i).ok())
    }

    pub fn bool(&self, ctx: &mut Ctx, key: &str) -> Option<bool> {
        let (p, v) = self.get(key)?;
        check_bool(ctx, &p, v)
    }

    pub fn str_list(&self, ctx: &mut Ctx, key: &str, rule: StrList) -> Option<Vec<String>> {
        let (p, v) = self.get(key)?;
        check_str_list(ctx, &p, v, rule)
    }

    /// A string restricted to `allowed` (exact match, or ASCII case-insensitive when
    /// `ignore_case`); returns the allowed spelling.
    pub fn enum_str(
        &self,
        ctx: &mut Ctx,
        key: &str,
        allowed: &[&str],
        ignore_case: bool,
    ) -> Option<String> {
        let (p, v) = self.get(key)?;
        let Some(s) = v.as_str() else {
            ctx.error(&p, msg_type("string", v));
            return None;
        };
        let found = allowed.iter().find(|a| {
            if ignore_case {
                a.eq_ignore_ascii_case(s)
            } else {
                **a == s
            }
        });
        match found {
            Some(a) => Some((*a).to_string()),
            None => {
                ctx.error(&p, msg_enum(key, allowed));
                None
            }
        }
    }

    /// `append_dimensions`: at most 30 string values of 1..=1024 characters.
    pub fn dimensions(&self, ctx: &mut Ctx, key: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some((p, v)) = self.get(key) else {
            return out;
        };
        let Some(obj) = Obj::new(ctx, p, v) else {
            return out;
        };
        if obj.map.len() > 30 {
            ctx.error(&obj.path, "Must have at most 30 properties");
        }
        for (k, val) in obj.map {
            if let Some(s) = check_str(ctx, &obj.path.key(k), val, 1, 1024) {
                out.insert(k.clone(), s.to_string());
            }
        }
        out
    }

    /// `credentials: {role_arn}` (role_arn 20..=2048 characters, or a `${...}` placeholder).
    pub fn role_arn(&self, ctx: &mut Ctx) -> Option<String> {
        let (p, v) = self.get("credentials")?;
        let creds = Obj::new(ctx, p, v)?;
        creds.allow_only(ctx, &["role_arn"]);
        let (rp, rv) = creds.get("role_arn")?;
        let placeholder = rv
            .as_str()
            .is_some_and(|s| s.len() > 3 && s.starts_with("${") && s.ends_with('}'));
        let min = if placeholder { 1 } else { 20 };
        check_str(ctx, &rp, rv, min, 2048).map(str::to_string)
    }

    /// `endpoint_override`: 4..=2048 characters.
    pub fn endpoint(&self, ctx: &mut Ctx, key: &str) -> Option<String> {
        self.str(ctx, key, 4, 2048)
    }

    /// A regular expression member; returns it rewritten for the `regex` crate.
    pub fn regex(&self, ctx: &mut Ctx, key: &str, min: usize, max: usize) -> Option<String> {
        let (p, v) = self.get(key)?;
        let s = check_str(ctx, &p, v, min, max)?;
        check_regex(ctx, &p, s)
    }
}

/// Compiles a pattern written for the CloudWatch agent (RE2 syntax); returns the form the
/// `regex` crate accepts with the same meaning, or records an error.
pub fn check_regex(ctx: &mut Ctx, path: &JsonPath, pattern_text: &str) -> Option<String> {
    match pattern::compile(pattern_text) {
        Ok(rewritten) => Some(rewritten),
        Err(reason) => {
            ctx.error(
                path,
                format!("invalid regular expression {pattern_text:?}: {reason}"),
            );
            None
        }
    }
}
