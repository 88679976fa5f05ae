//! The Logs error shapes and the exact messages AWS answers with.
//!
//! Every Logs error is HTTP 400 except internal failures; the `__type` codes and messages below
//! follow recorded AWS responses.

use hostwatch_aws::ApiError;

use crate::store::logs::LogError;
use crate::store::StoreError;

pub const INVALID_PARAMETER: &str = "InvalidParameterException";
pub const VALIDATION: &str = "ValidationException";
pub const NOT_FOUND: &str = "ResourceNotFoundException";
pub const ALREADY_EXISTS: &str = "ResourceAlreadyExistsException";

/// `InvalidParameterException` with `msg`.
pub fn invalid_parameter(msg: impl Into<String>) -> ApiError {
    ApiError::new(INVALID_PARAMETER, 400, msg)
}

/// `ValidationException` with `msg`.
pub fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new(VALIDATION, 400, msg)
}

/// A model-constraint failure, worded as AWS words them.
pub fn constraint(value: &str, member: &str, constraint: &str) -> ApiError {
    invalid_parameter(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    ))
}

/// A required member that is missing.
pub fn missing(member: &str) -> ApiError {
    invalid_parameter(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

pub fn group_not_found() -> ApiError {
    ApiError::new(NOT_FOUND, 400, "The specified log group does not exist.")
}

pub fn stream_not_found() -> ApiError {
    ApiError::new(NOT_FOUND, 400, "The specified log stream does not exist.")
}

pub fn group_exists() -> ApiError {
    ApiError::new(
        ALREADY_EXISTS,
        400,
        "The specified log group already exists",
    )
}

pub fn stream_exists() -> ApiError {
    ApiError::new(
        ALREADY_EXISTS,
        400,
        "The specified log stream already exists",
    )
}

pub fn invalid_token() -> ApiError {
    invalid_parameter("The specified nextToken is invalid.")
}

/// A storage failure: logged, answered as a retryable server error.
pub fn internal(e: &StoreError) -> ApiError {
    tracing::error!(error = %e, "Logs store failure.");
    ApiError::new(
        "ServiceUnavailableException",
        500,
        "The service cannot complete the request.",
    )
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::GroupNotFound => group_not_found(),
            LogError::StreamNotFound => stream_not_found(),
            LogError::GroupExists => group_exists(),
            LogError::StreamExists => stream_exists(),
            LogError::Store(e) => internal(&e),
        }
    }
}
