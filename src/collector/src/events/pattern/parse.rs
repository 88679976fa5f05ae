//! Validation of a pattern's JSON and its compilation into alternatives of field matchers.
//!
//! The result is in disjunctive normal form: a list of alternatives, each a map from a dotted
//! field path to the field's matchers (the field matches if any matcher does; an alternative
//! matches if all its fields do; the pattern matches if any alternative does). `$or` is
//! expanded here: every branch gets a copy of the fields seen so far, and later fields are added
//! to every branch. Error texts are Ruler's (which AWS returns after `Reason: `).
//!
//! `$or` doubles as an ordinary field name when its value is an object, or an array whose first
//! element is a match expression (`"$or": [{"cidr": "10.0.0.0/24"}]`), as Ruler accepts.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::cidr::Cidr;
use super::error::PatternError;
use super::matcher::{AnythingBut, Literal, Matcher, NumericRange};
use super::wildcard::Wildcard;

/// One alternative: field path to its matchers.
pub(crate) type Alternative = BTreeMap<String, Vec<Matcher>>;

/// The most alternatives `$or` expansion may produce before the pattern is refused.
pub const MAX_ALTERNATIVES: usize = 1_000;

const OR: &str = "$or";

/// Matcher keywords; inside `$or` they may not be used as field names.
const MATCH_KEYWORDS: &[&str] = &[
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
];

fn invalid<T>(reason: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError::invalid(reason))
}

/// Validate and compile a pattern document.
pub(crate) fn compile(root: &Value) -> Result<Vec<Alternative>, PatternError> {
    let Value::Object(map) = root else {
        return invalid("Filter is not an object");
    };
    let mut alternatives = Vec::new();
    parse_object(map, "", &mut alternatives, false)?;
    Ok(alternatives)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn parse_object(
    map: &Map<String, Value>,
    prefix: &str,
    alternatives: &mut Vec<Alternative>,
    inside_or: bool,
) -> Result<(), PatternError> {
    if map.is_empty() {
        return invalid("Empty objects are not allowed");
    }
    for (key, value) in map {
        if key == OR && is_or_relationship(value) {
            parse_or(value, prefix, alternatives)?;
            continue;
        }
        if inside_or && MATCH_KEYWORDS.contains(&key.as_str()) {
            return invalid(format!(
                "{key} is Ruler reserved fieldName which cannot be used inside $or."
            ));
        }
        match value {
            Value::Object(inner) => {
                parse_object(inner, &join(prefix, key), alternatives, inside_or)?
            }
            Value::Array(items) => {
                let matchers = parse_matchers(items)?;
                if alternatives.is_empty() {
                    alternatives.push(Alternative::new());
                }
                let path = join(prefix, key);
                for alternative in alternatives.iter_mut() {
                    alternative.insert(path.clone(), matchers.clone());
                }
            }
            _ => return invalid(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(())
}

/// Whether a `$or` key introduces alternatives (rather than naming an ordinary field).
fn is_or_relationship(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Array(items) => !matches!(
            items.first(),
            Some(Value::Object(first)) if first.keys().any(|k| MATCH_KEYWORDS.contains(&k.as_str()))
        ),
        _ => true,
    }
}

fn parse_or(
    value: &Value,
    prefix: &str,
    alternatives: &mut Vec<Alternative>,
) -> Result<(), PatternError> {
    let Value::Array(branches) = value else {
        return invalid("It must be an Array followed with $or.");
    };
    let current = std::mem::take(alternatives);
    for branch in branches {
        let Value::Object(map) = branch else {
            return invalid("Only JSON object is allowed in array of $or relationship.");
        };
        let mut expanded = if current.is_empty() {
            vec![Alternative::new()]
        } else {
            current.clone()
        };
        parse_object(map, prefix, &mut expanded, true)?;
        alternatives.extend(expanded);
        if alternatives.len() > MAX_ALTERNATIVES {
            return invalid("Rule is too complex - try using fewer $or combinations");
        }
    }
    if branches.len() < 2 {
        return invalid("There must have at least 2 Objects in $or relationship.");
    }
    Ok(())
}

fn parse_matchers(items: &[Value]) -> Result<Vec<Matcher>, PatternError> {
    if items.is_empty() {
        return invalid("Empty arrays are not allowed");
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(Matcher::Exact(Literal::Str(s.clone()))),
            Value::Number(n) => number(n).map(|x| Matcher::Exact(Literal::Num(x))),
            Value::Bool(b) => Ok(Matcher::Exact(Literal::Bool(*b))),
            Value::Null => Ok(Matcher::Exact(Literal::Null)),
            Value::Object(map) => parse_expression(map),
            Value::Array(_) => invalid("Match value must be String, number, true, false, or null"),
        })
        .collect()
}

fn number(n: &serde_json::Number) -> Result<f64, PatternError> {
    match n.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        _ => invalid(format!("Value {n} is out of range")),
    }
}

/// The text Ruler quotes for a JSON token it did not expect (`]` for a missing one).
fn token_text(value: Option<&Value>) -> String {
    match value {
        None => "]".to_string(),
        Some(Value::Object(_)) => "{".to_string(),
        Some(Value::Array(_)) => "[".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn parse_expression(map: &Map<String, Value>) -> Result<Matcher, PatternError> {
    let mut entries = map.iter();
    let Some((name, value)) = entries.next() else {
        return invalid("Match expression name not found");
    };
    if map.len() > 1 {
        if let Some(unknown) = map.keys().find(|k| !MATCH_KEYWORDS.contains(&k.as_str())) {
            return invalid(format!("Unrecognized match type {unknown}"));
        }
        return invalid("Only one key allowed in match expression");
    }
    match name.as_str() {
        "prefix" => match affix(value, "prefix")? {
            (text, false) => Ok(Matcher::Prefix(text)),
            (text, true) => Ok(Matcher::PrefixIgnoreCase(text)),
        },
        "suffix" => match affix(value, "suffix")? {
            (text, false) => Ok(Matcher::Suffix(text)),
            (text, true) => Ok(Matcher::SuffixIgnoreCase(text)),
        },
        "equals-ignore-case" => match value {
            Value::String(s) => Ok(Matcher::EqualsIgnoreCase(s.to_lowercase())),
            _ => invalid("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match value {
            Value::String(s) => Ok(Matcher::Wildcard(Wildcard::parse(s)?)),
            _ => invalid("wildcard match pattern must be a string"),
        },
        "numeric" => match value {
            Value::Array(items) => parse_numeric(items).map(Matcher::Numeric),
            _ => invalid("Value of numeric must be an array."),
        },
        "anything-but" => parse_anything_but(value).map(Matcher::AnythingBut),
        "exists" => match value {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => invalid("exists match pattern must be either true or false."),
        },
        "cidr" => match value {
            Value::String(s) => Ok(Matcher::Cidr(Cidr::parse(s)?)),
            _ => invalid("prefix match pattern must be a string"),
        },
        other => invalid(format!("Unrecognized match type {other}")),
    }
}

/// The text of a `prefix`/`suffix` matcher and whether it ignores case (then lower-cased).
fn affix(value: &Value, name: &str) -> Result<(String, bool), PatternError> {
    match value {
        Value::String(s) => Ok((s.clone(), false)),
        Value::Object(inner) if inner.len() == 1 => match inner.get("equals-ignore-case") {
            Some(Value::String(s)) => Ok((s.to_lowercase(), true)),
            _ => invalid(format!("{name} match pattern must be a string")),
        },
        _ => invalid(format!("{name} match pattern must be a string")),
    }
}

fn parse_numeric(items: &[Value]) -> Result<NumericRange, PatternError> {
    let mut it = items.iter();
    let operator = match it.next() {
        Some(Value::String(op)) => op.as_str(),
        other => {
            return invalid(format!(
                "Invalid member in numeric match: {}",
                token_text(other)
            ))
        }
    };
    let operand = |v: Option<&Value>, name: &str| -> Result<f64, PatternError> {
        match v {
            Some(Value::Number(n)) => number(n),
            _ => invalid(format!("Value of {name} must be numeric")),
        }
    };
    let single_end = |it: &mut std::slice::Iter<'_, Value>| match it.next() {
        None => Ok(()),
        Some(_) => invalid("Too many elements in numeric expression"),
    };
    match operator {
        "=" => {
            let x = operand(it.next(), "equals")?;
            single_end(&mut it)?;
            Ok(NumericRange {
                lower: Some((x, true)),
                upper: Some((x, true)),
            })
        }
        "<" | "<=" => {
            let x = operand(it.next(), operator)?;
            single_end(&mut it)?;
            Ok(NumericRange {
                lower: None,
                upper: Some((x, operator == "<=")),
            })
        }
        ">" | ">=" => {
            let bottom = (operand(it.next(), operator)?, operator == ">=");
            let top_operator = match it.next() {
                None => {
                    return Ok(NumericRange {
                        lower: Some(bottom),
                        upper: None,
                    })
                }
                Some(Value::String(op)) => op.as_str(),
                Some(other) => {
                    return invalid(format!(
                        "Bad value in numeric range: {}",
                        token_text(Some(other))
                    ))
                }
            };
            if top_operator != "<" && top_operator != "<=" {
                return invalid(format!("Bad numeric range operator: {top_operator}"));
            }
            let top = operand(it.next(), top_operator)?;
            if it.next().is_some() {
                return invalid("Too many terms in numeric range expression");
            }
            Ok(NumericRange {
                lower: Some(bottom),
                upper: Some((top, top_operator == "<=")),
            })
        }
        other => invalid(format!("Unrecognized numeric range operator: {other}")),
    }
}

fn parse_anything_but(value: &Value) -> Result<AnythingBut, PatternError> {
    match value {
        Value::Object(map) => {
            let Some((name, inner)) = map.iter().next() else {
                return invalid("Anything-But expression name not found");
            };
            if map.len() > 1 {
                return invalid("Only one key allowed in match expression");
            }
            match name.as_str() {
                "prefix" => affix_list(inner).map(AnythingBut::Prefix),
                "suffix" => affix_list(inner).map(AnythingBut::Suffix),
                "equals-ignore-case" => {
                    let texts = string_or_list(inner).ok_or_else(|| {
                        PatternError::invalid(
                            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                        )
                    })?;
                    Ok(AnythingBut::IgnoreCase(
                        texts.iter().map(|s| s.to_lowercase()).collect(),
                    ))
                }
                "wildcard" => {
                    let texts = string_or_list(inner).ok_or_else(|| {
                        PatternError::invalid("wildcard match pattern must be a string")
                    })?;
                    let wildcards = texts
                        .iter()
                        .map(|s| Wildcard::parse(s))
                        .collect::<Result<_, _>>()?;
                    Ok(AnythingBut::Wildcard(wildcards))
                }
                other => invalid(format!("Unsupported anything-but pattern: {other}")),
            }
        }
        Value::String(s) => Ok(AnythingBut::Values {
            strings: vec![s.clone()],
            numbers: Vec::new(),
        }),
        Value::Number(n) => Ok(AnythingBut::Values {
            strings: Vec::new(),
            numbers: vec![number(n)?],
        }),
        Value::Array(items) => {
            let mut strings = Vec::new();
            let mut numbers = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => strings.push(s.clone()),
                    Value::Number(n) => numbers.push(number(n)?),
                    _ => {
                        return invalid(
                            "Inside anything but list, start|null|boolean is not supported.",
                        )
                    }
                }
            }
            if strings.is_empty() == numbers.is_empty() {
                return invalid(
                    "Inside anything but list, either all values are number or string, mixed type is not supported",
                );
            }
            Ok(AnythingBut::Values { strings, numbers })
        }
        _ => invalid("Value of anything-but must be an array or single string/number value."),
    }
}

/// A string or a non-empty list of strings, else `None`.
fn string_or_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

/// The texts of an anything-but `prefix`/`suffix`: non-empty strings.
fn affix_list(value: &Value) -> Result<Vec<String>, PatternError> {
    let texts = string_or_list(value)
        .ok_or_else(|| PatternError::invalid("prefix/suffix match pattern must be a string"))?;
    if texts.iter().any(String::is_empty) {
        return invalid("Null prefix/suffix not allowed");
    }
    Ok(texts)
}
