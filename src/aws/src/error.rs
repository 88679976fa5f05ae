//! The AWS error shape.
//!
//! An [`ApiError`] carries everything each protocol needs to render an error the way the SDKs
//! parse it:
//! - awsJson: HTTP status, body `{"__type": code, "message": ...}`; for CloudWatch (a
//!   query-compatible service) also the header `x-amzn-query-error: <query_code>;Sender`, without
//!   which boto3 cannot raise its modelled exceptions;
//! - awsQuery: HTTP status, `<ErrorResponse><Error><Type>Sender</Type><Code>query_code</Code>...`.

/// An error answered to an API caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {}", message.as_deref().unwrap_or(""))]
pub struct ApiError {
    /// The error shape name (`__type` in JSON), e.g. `InvalidParameterValueException`.
    pub code: String,
    /// The awsQuery error code, e.g. `InvalidParameterValue` (query-compatible services only).
    pub query_code: Option<String>,
    /// HTTP status.
    pub status: u16,
    /// Human-readable message; `None` renders no message element.
    pub message: Option<String>,
    /// `true` for client faults (`Sender`), `false` for server faults (`Receiver`).
    pub sender: bool,
}

/// CloudWatch error shapes: (query code, shape name, HTTP status), from the service model.
const CLOUDWATCH_ERRORS: &[(&str, &str, u16)] = &[
    (
        "InvalidParameterValue",
        "InvalidParameterValueException",
        400,
    ),
    (
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        400,
    ),
    ("MissingParameter", "MissingRequiredParameterException", 400),
    ("InternalServiceError", "InternalServiceFault", 500),
    ("LimitExceeded", "LimitExceededFault", 400),
    ("LimitExceededException", "LimitExceededException", 400),
    ("ResourceNotFound", "ResourceNotFound", 404),
    (
        "ResourceNotFoundException",
        "ResourceNotFoundException",
        404,
    ),
    ("InvalidNextToken", "InvalidNextToken", 400),
    ("InvalidFormat", "InvalidFormatFault", 400),
    ("InvalidParameterInput", "DashboardInvalidInputError", 400),
    (
        "ConcurrentModificationException",
        "ConcurrentModificationException",
        429,
    ),
    ("ResourceConflict", "ResourceConflict", 409),
    ("ValidationError", "ValidationError", 400),
    ("InvalidAction", "InvalidAction", 400),
    ("InvalidClientTokenId", "InvalidClientTokenId", 403),
    ("SignatureDoesNotMatch", "SignatureDoesNotMatch", 403),
    (
        "MissingAuthenticationToken",
        "MissingAuthenticationToken",
        403,
    ),
    ("IncompleteSignature", "IncompleteSignature", 400),
    ("RequestEntityTooLarge", "RequestEntityTooLarge", 413),
    ("MalformedInput", "MalformedInput", 400),
];

impl ApiError {
    /// A plain (non query-compatible) error, as Logs, EventBridge and SSM answer.
    pub fn new(code: &str, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            query_code: None,
            status,
            message: Some(message.into()),
            sender: status < 500,
        }
    }

    /// A CloudWatch error by its awsQuery code; shape name and status come from the model.
    pub fn cloudwatch(query_code: &str, message: impl Into<String>) -> Self {
        let (shape, status) = CLOUDWATCH_ERRORS
            .iter()
            .find(|(q, _, _)| *q == query_code)
            .map(|(_, s, st)| (*s, *st))
            .unwrap_or((query_code, 400));
        ApiError {
            code: shape.to_string(),
            query_code: Some(query_code.to_string()),
            status,
            message: Some(message.into()),
            sender: status < 500,
        }
    }

    /// Drop the message (some AWS errors, e.g. CloudWatch `ResourceNotFound`, carry none).
    pub fn without_message(mut self) -> Self {
        self.message = None;
        self
    }

    /// Override the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self.sender = status < 500;
        self
    }

    /// CloudWatch `InvalidParameterValue`.
    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        Self::cloudwatch("InvalidParameterValue", message)
    }

    /// CloudWatch `InvalidParameterCombination`.
    pub fn invalid_parameter_combination(message: impl Into<String>) -> Self {
        Self::cloudwatch("InvalidParameterCombination", message)
    }

    /// CloudWatch `MissingParameter`.
    pub fn missing_parameter(name: &str) -> Self {
        Self::cloudwatch(
            "MissingParameter",
            format!("The parameter {name} is required."),
        )
    }

    /// CloudWatch `InternalServiceError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::cloudwatch("InternalServiceError", message)
    }

    /// The awsQuery code: the query code when known, else the shape name.
    pub fn query_code(&self) -> &str {
        self.query_code.as_deref().unwrap_or(&self.code)
    }

    /// `Sender` or `Receiver`.
    pub fn fault(&self) -> &'static str {
        if self.sender {
            "Sender"
        } else {
            "Receiver"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudwatch_codes_map_to_shapes() {
        let e = ApiError::invalid_parameter_value("x");
        assert_eq!(e.code, "InvalidParameterValueException");
        assert_eq!(e.query_code(), "InvalidParameterValue");
        assert_eq!(e.status, 400);
        let e = ApiError::cloudwatch("ResourceNotFound", "").without_message();
        assert_eq!(e.status, 404);
        assert_eq!(e.message, None);
        assert_eq!(ApiError::internal("boom").fault(), "Receiver");
    }
}
