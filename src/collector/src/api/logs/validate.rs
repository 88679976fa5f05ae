//! Input validation shared by the Logs operations: names, identifiers, limits.

use hostwatch_aws::ApiError;

use super::errors::{constraint, invalid_parameter, missing, validation};

/// Longest group or stream name.
pub const MAX_NAME_LEN: usize = 512;

const GROUP_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]+";
const STREAM_PATTERN: &str = "[^:*]*";

fn name_length(value: &str, member: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(constraint(
            value,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(invalid_parameter(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        ));
    }
    Ok(())
}

/// A log group name: 1–512 characters of `[\.\-_/#A-Za-z0-9]`.
pub fn group_name(value: &str, member: &str) -> Result<(), ApiError> {
    name_length(value, member)?;
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'));
    if !ok {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {GROUP_PATTERN}"),
        ));
    }
    Ok(())
}

/// A log stream name: 1–512 characters, no `:` or `*`.
pub fn stream_name(value: &str, member: &str) -> Result<(), ApiError> {
    name_length(value, member)?;
    if value.contains([':', '*']) {
        return Err(constraint(
            value,
            member,
            &format!("Member must satisfy regular expression pattern: {STREAM_PATTERN}"),
        ));
    }
    Ok(())
}

/// A required string member.
pub fn required<'a>(value: &'a Option<String>, member: &str) -> Result<&'a str, ApiError> {
    value.as_deref().ok_or_else(|| missing(member))
}

/// An integer member bounded to `[min, max]`.
pub fn range(value: i64, member: &str, min: i64, max: i64) -> Result<(), ApiError> {
    if value < min {
        return Err(constraint(
            &value.to_string(),
            member,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(constraint(
            &value.to_string(),
            member,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// The group name of a `logGroupIdentifier`: a name or a log-group ARN (with or without the
/// trailing `:*`).
pub fn identifier_to_name(identifier: &str) -> Result<String, ApiError> {
    let name = match identifier.strip_prefix("arn:") {
        None => identifier,
        Some(_) => {
            let (_, rest) = identifier.split_once(":log-group:").ok_or_else(|| {
                invalid_parameter(format!("Invalid log group identifier: {identifier}"))
            })?;
            rest.strip_suffix(":*").unwrap_or(rest)
        }
    };
    group_name(name, "logGroupIdentifier")?;
    Ok(name.to_string())
}

/// Resolve `logGroupName` / `logGroupIdentifier` (exactly one must be given).
pub fn group_ref(name: &Option<String>, identifier: &Option<String>) -> Result<String, ApiError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(validation(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
        )),
        (Some(n), None) => {
            group_name(n, "logGroupName")?;
            Ok(n.clone())
        }
        (None, Some(id)) => identifier_to_name(id),
        (None, None) => Err(invalid_parameter(
            "Either logGroupName or logGroupIdentifier must be specified.",
        )),
    }
}

/// The two ARNs of a group: (`arn` with `:*`, `logGroupArn` without).
pub fn group_arns(region: &str, account: &str, name: &str) -> (String, String) {
    let base = format!("arn:aws:logs:{region}:{account}:log-group:{name}");
    (format!("{base}:*"), base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: ApiError) -> (String, String) {
        (e.code, e.message.unwrap_or_default())
    }

    #[test]
    fn group_names() {
        assert!(group_name("/aws/lambda/my-fn_1.#x", "logGroupName").is_ok());
        let (code, m) = msg(group_name(&"a".repeat(513), "logGroupName").unwrap_err());
        assert_eq!(code, "InvalidParameterException");
        assert_eq!(
            m,
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
        );
        assert!(group_name(&"a".repeat(512), "logGroupName").is_ok());
        let (_, m) = msg(group_name("a b", "logGroupName").unwrap_err());
        assert_eq!(
            m,
            r"1 validation error detected: Value 'a b' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"
        );
        let (_, m) = msg(group_name("", "logGroupName").unwrap_err());
        assert!(m.contains("Member must have length greater than or equal to 1"));
    }

    #[test]
    fn stream_names() {
        assert!(stream_name("host/i-123 [a]", "logStreamName").is_ok());
        assert!(stream_name("a:b", "logStreamName").is_err());
        assert!(stream_name("a*", "logStreamName").is_err());
        assert!(stream_name(&"é".repeat(512), "logStreamName").is_ok());
        assert!(stream_name(&"é".repeat(513), "logStreamName").is_err());
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier_to_name("my/group").unwrap(), "my/group");
        assert_eq!(
            identifier_to_name("arn:aws:logs:us-east-1:123456789012:log-group:my/group:*").unwrap(),
            "my/group"
        );
        assert_eq!(
            identifier_to_name("arn:aws:logs:us-east-1:123456789012:log-group:g").unwrap(),
            "g"
        );
        assert!(identifier_to_name("arn:aws:s3:::bucket").is_err());
        let (code, m) = msg(group_ref(&Some("a".into()), &Some("a".into())).unwrap_err());
        assert_eq!(code, "ValidationException");
        assert_eq!(
            m,
            "LogGroup name and LogGroup ARN are mutually exclusive parameters."
        );
        assert!(group_ref(&None, &None).is_err());
    }

    #[test]
    fn limits() {
        let (code, m) = msg(range(10001, "limit", 1, 10000).unwrap_err());
        assert_eq!(code, "InvalidParameterException");
        assert_eq!(m, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000");
        let (_, m) = msg(range(0, "limit", 1, 50).unwrap_err());
        assert!(m.ends_with("Member must have value greater than or equal to 1"));
        assert!(range(50, "limit", 1, 50).is_ok());
    }
}
