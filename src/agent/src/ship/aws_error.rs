//! Reading AWS error replies and deciding whether a failed call is worth retrying.
//!
//! The error code is taken, in order, from the `x-amzn-query-error: <Code>;<Sender|Receiver>`
//! header (CloudWatch's query-compatible JSON replies), the JSON body's `__type` (anything before
//! `#` and after `:` stripped, as the SDKs do), or an XML `<Code>` element (awsQuery replies).
//! The message comes from the JSON `message`/`Message` or the XML `<Message>`.
//!
//! Retry policy: HTTP 429 and 5xx, and the throttling / transient codes below, are retried;
//! every other client error is final (logged with its code and message by the caller).
//! Expired-credential codes are retried once after the credentials are refreshed.

/// An AWS error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsErrorInfo {
    pub status: u16,
    pub code: String,
    pub message: String,
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

const TRANSIENT: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServiceError",
    "InternalFailure",
    "ServiceUnavailable",
];

const EXPIRED_CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidClientTokenId",
];

impl AwsErrorInfo {
    /// Whether the call should be tried again.
    pub fn is_retryable(&self) -> bool {
        self.status == 429
            || self.status >= 500
            || THROTTLING.contains(&self.code.as_str())
            || TRANSIENT.contains(&self.code.as_str())
    }

    /// Whether refreshing the credentials may fix it.
    pub fn is_expired_credentials(&self) -> bool {
        EXPIRED_CREDENTIALS.contains(&self.code.as_str())
    }
}

impl std::fmt::Display for AwsErrorInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} {}: {}", self.status, self.code, self.message)
    }
}

fn xml_element<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].trim())
}

fn clean_type(t: &str) -> &str {
    let t = t.rsplit('#').next().unwrap_or(t);
    t.split(':').next().unwrap_or(t).trim()
}

/// Parse an error reply.
pub fn parse_error(status: u16, query_error_header: Option<&str>, body: &[u8]) -> AwsErrorInfo {
    let text = String::from_utf8_lossy(body);
    let mut code = query_error_header
        .and_then(|h| h.split(';').next())
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let message;
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(&text) {
        if code.is_none() {
            code = obj
                .get("__type")
                .or_else(|| obj.get("code"))
                .and_then(|v| v.as_str())
                .map(|t| clean_type(t).to_string());
        }
        message = obj
            .get("message")
            .or_else(|| obj.get("Message"))
            .and_then(|v| v.as_str())
            .map(String::from);
    } else {
        if code.is_none() {
            code = xml_element(&text, "Code").map(String::from);
        }
        message = xml_element(&text, "Message").map(String::from);
    }
    let fallback_message = || {
        let t = text.trim();
        if t.is_empty() {
            "(empty body)".to_string()
        } else {
            t.chars().take(512).collect()
        }
    };
    AwsErrorInfo {
        status,
        code: code.unwrap_or_else(|| format!("HTTP{status}")),
        message: message.unwrap_or_else(fallback_message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_query_header() {
        let e = parse_error(
            400,
            Some("InvalidParameterValue;Sender"),
            br#"{"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException","message":"bad"}"#,
        );
        assert_eq!(e.code, "InvalidParameterValue");
        assert_eq!(e.message, "bad");
        assert!(!e.is_retryable());
    }

    #[test]
    fn json_type_only_and_throttling() {
        let e = parse_error(
            400,
            None,
            br#"{"__type":"ns#Throttling:http://x","Message":"Rate exceeded"}"#,
        );
        assert_eq!(e.code, "Throttling");
        assert_eq!(e.message, "Rate exceeded");
        assert!(e.is_retryable());
    }

    #[test]
    fn xml_and_status_rules() {
        let e = parse_error(
            403,
            None,
            b"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>expired</Message></Error></ErrorResponse>",
        );
        assert_eq!(e.code, "ExpiredToken");
        assert!(e.is_expired_credentials());
        assert!(!e.is_retryable());
        assert!(parse_error(503, None, b"").is_retryable());
        assert!(parse_error(429, None, b"").is_retryable());
        let e = parse_error(404, None, b"");
        assert_eq!(e.code, "HTTP404");
        assert_eq!(e.message, "(empty body)");
        assert!(!e.is_retryable());
    }
}
