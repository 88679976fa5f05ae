//! Errors of the alarm service.

use crate::store::StoreError;

/// Why an alarm operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AlarmError {
    /// The alarm store failed.
    #[error("alarm storage: {0}")]
    Store(#[from] StoreError),
    /// The named alarm does not exist (`ResourceNotFound`).
    #[error("alarm {0} does not exist")]
    NotFound(String),
    /// A resource named by ARN does not exist (`ResourceNotFoundException`).
    #[error("{0}")]
    ResourceNotFound(String),
    /// The request breaks a rule of the service (`ValidationError`).
    #[error("{0}")]
    Validation(String),
    /// A limit was exceeded (`LimitExceeded`).
    #[error("{0}")]
    LimitExceeded(String),
}
