//! Input helpers and AWS error shapes shared by the EventBridge handlers.

use hostwatch_aws::ApiError;
use serde_json::Value;

use crate::events::model::DEFAULT_BUS;
use crate::store::StoreError;

/// `ValidationException` (HTTP 400).
pub fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new("ValidationException", 400, msg)
}

/// `ResourceNotFoundException` (HTTP 400, as AWS answers for EventBridge).
pub fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError::new("ResourceNotFoundException", 400, msg)
}

/// `ResourceAlreadyExistsException`.
pub fn already_exists(msg: impl Into<String>) -> ApiError {
    ApiError::new("ResourceAlreadyExistsException", 400, msg)
}

/// `LimitExceededException`.
pub fn limit_exceeded() -> ApiError {
    ApiError::new(
        "LimitExceededException",
        400,
        "The requested resource exceeds the maximum number allowed.",
    )
}

/// `InvalidEventPatternException` with Ruler's reason.
pub fn invalid_pattern(reason: &str) -> ApiError {
    ApiError::new(
        "InvalidEventPatternException",
        400,
        format!("Event pattern is not valid. Reason: {reason}"),
    )
}

/// A storage failure.
pub fn internal(e: StoreError) -> ApiError {
    ApiError::new("InternalException", 500, format!("Internal error: {e}"))
}

/// The "1 validation error detected" message of a constraint violation.
pub fn constraint(value: &str, at: &str, constraint: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: \
         {constraint}"
    ))
}

fn wrong_type(name: &str, want: &str) -> ApiError {
    ApiError::new(
        "SerializationException",
        400,
        format!("Invalid request: {name} must be {want}"),
    )
}

/// An optional string member.
pub fn opt_str<'v>(input: &'v Value, name: &str) -> Result<Option<&'v str>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(name, "a string")),
    }
}

/// A required string member (`at` is the camelCase name AWS reports).
pub fn req_str<'v>(input: &'v Value, name: &str, at: &str) -> Result<&'v str, ApiError> {
    opt_str(input, name)?.ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{at}' failed to satisfy constraint: \
             Member must not be null"
        ))
    })
}

/// An optional integer member.
pub fn opt_int(input: &Value, name: &str) -> Result<Option<i64>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(name, "an integer")),
    }
}

/// An optional list member.
pub fn opt_list<'v>(input: &'v Value, name: &str) -> Result<&'v [Value], ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(wrong_type(name, "a list")),
    }
}

/// Check a rule or target name: 1-64 of `[.-_A-Za-z0-9]`.
pub fn check_name(value: &str, at: &str) -> Result<(), ApiError> {
    check_name_max(value, at, 64)
}

/// Check a name of 1-`max` characters of `[.-_A-Za-z0-9]`.
pub fn check_name_max(value: &str, at: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(constraint(
            value,
            at,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.chars().count() > max {
        return Err(constraint(
            value,
            at,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    {
        return Err(constraint(
            value,
            at,
            "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// The bus named by `EventBusName` (a name or an ARN); the default bus when absent.
pub fn bus_name(input: &Value) -> Result<String, ApiError> {
    let Some(v) = opt_str(input, "EventBusName")? else {
        return Ok(DEFAULT_BUS.to_string());
    };
    if v.starts_with("arn:") {
        return match v.split_once(":event-bus/") {
            Some((_, name)) if !name.is_empty() => Ok(name.to_string()),
            _ => Err(validation(format!(
                "Parameter {v} is not valid. Reason: Provided Arn is not in correct format."
            ))),
        };
    }
    if v.is_empty() || v.len() > 256 {
        return Err(constraint(
            v,
            "eventBusName",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(v.to_string())
}

/// Paginate `items` with an opaque numeric token; returns the page and the next token.
pub fn page<T: Clone>(
    items: &[T],
    input: &Value,
    default_limit: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match opt_str(input, "NextToken")? {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .ok()
            .filter(|s| *s <= items.len())
            .ok_or_else(|| validation("The nextToken provided is invalid."))?,
    };
    let limit = match opt_int(input, "Limit")? {
        None => default_limit,
        Some(l) if (1..=100).contains(&l) => l as usize,
        Some(l) => {
            return Err(constraint(
                &l.to_string(),
                "limit",
                "Member must have value between 1 and 100",
            ))
        }
    };
    let end = start.saturating_add(limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.get(start..end).unwrap_or_default().to_vec(), next))
}

/// `IllegalStatusException`.
pub fn illegal_status(msg: impl Into<String>) -> ApiError {
    ApiError::new("IllegalStatusException", 400, msg)
}

/// Check an optional Description (at most 512 characters).
pub fn check_description(description: Option<&str>) -> Result<(), ApiError> {
    match description {
        Some(d) if d.chars().count() > 512 => Err(constraint(
            d,
            "description",
            "Member must have length less than or equal to 512",
        )),
        _ => Ok(()),
    }
}

/// An optional timestamp member (epoch seconds, as awsJson sends them, or an RFC 3339 string),
/// in ms.
pub fn opt_time(input: &Value, name: &str) -> Result<Option<i64>, ApiError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|s| Some((s * 1000.0).round() as i64))
            .ok_or_else(|| wrong_type(name, "a timestamp")),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| wrong_type(name, "a timestamp")),
        Some(_) => Err(wrong_type(name, "a timestamp")),
    }
}

/// A required timestamp member, in ms.
pub fn req_time(input: &Value, name: &str, at: &str) -> Result<i64, ApiError> {
    opt_time(input, name)?.ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{at}' failed to satisfy constraint: \
             Member must not be null"
        ))
    })
}

/// The resource name after `:{kind}/` in an EventBridge ARN, checked against the model's ARN
/// pattern (`at` is the member AWS reports).
pub fn arn_resource<'v>(arn: &'v str, kind: &str, at: &str) -> Result<&'v str, ApiError> {
    let well_formed = arn.starts_with("arn:aws") && arn.split(':').nth(2) == Some("events");
    match arn.split_once(&format!(":{kind}/")) {
        Some((_, name)) if well_formed && !name.is_empty() => Ok(name),
        _ => Err(constraint(
            arn,
            at,
            "Member must satisfy regular expression pattern: \
             ^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$",
        )),
    }
}
