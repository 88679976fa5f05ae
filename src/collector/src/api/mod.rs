//! The service APIs: one module per service, each turning a decoded request into a [`Shape`].
//!
//! Every handler receives its input as a JSON tree (awsJson bodies as sent; awsQuery bodies
//! decoded by `hostwatch_aws::query`) and deserialises it with the `hostwatch_aws::lenient` types,
//! so one implementation serves every protocol. Handlers return `Ok(None)` for operations without
//! output members.

pub mod cloudwatch;
pub mod events;
pub mod logs;
pub mod ssm;

use hostwatch_aws::{ApiError, Protocol};
use serde::de::DeserializeOwned;

use crate::auth::Identity;

/// What a handler knows about the request besides its input.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub identity: Identity,
    pub protocol: Protocol,
    /// The collector's region (resource ARNs).
    pub region: String,
    pub account_id: String,
    /// Milliseconds since the epoch, from the collector's clock, taken once per request.
    pub now_ms: i64,
}

/// Deserialise an operation's input, mapping failures to the service's error shape.
pub fn parse_input<T: DeserializeOwned>(
    input: serde_json::Value,
    cloudwatch: bool,
) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| {
        if cloudwatch {
            ApiError::invalid_parameter_value(format!("Invalid request: {e}"))
        } else {
            ApiError::new(
                "SerializationException",
                400,
                format!("Invalid request: {e}"),
            )
        }
    })
}

/// Parse an awsJson body into a JSON object; an empty (or all-whitespace) body is `{}`.
pub fn parse_json_body(body: &[u8], cloudwatch: bool) -> Result<serde_json::Value, ApiError> {
    let malformed = |msg: String| {
        if cloudwatch {
            ApiError::cloudwatch("MalformedInput", msg)
        } else {
            ApiError::new("SerializationException", 400, msg)
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let input: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("Malformed JSON body: {e}")))?;
    if !input.is_object() {
        return Err(malformed(
            "The request body must be a JSON object.".to_string(),
        ));
    }
    Ok(input)
}

/// The error for an operation this collector does not implement.
pub fn unknown_operation(service_prefix: &str, op: &str, cloudwatch: bool) -> ApiError {
    if cloudwatch {
        ApiError::cloudwatch(
            "InvalidAction",
            format!("The action {op} is not valid for this web service."),
        )
    } else {
        ApiError::new(
            "UnknownOperationException",
            400,
            format!("Unknown operation {service_prefix}.{op}"),
        )
    }
}
