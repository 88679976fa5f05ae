//! The error returned when an event pattern is rejected.
//!
//! Every variant's text is the reason EventBridge gives after `Event pattern is not valid.
//! Reason: `; [`PatternError::aws_message`] renders the whole message.

/// Why an event pattern was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The text is not JSON at all.
    #[error("{0}")]
    Json(String),
    /// The JSON is well formed but breaks the pattern grammar; the text is AWS's reason.
    #[error("{0}")]
    Invalid(String),
}

impl PatternError {
    /// An [`PatternError::Invalid`] with `reason`.
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        PatternError::Invalid(reason.into())
    }

    /// The message AWS returns with `InvalidEventPatternException`.
    pub fn aws_message(&self) -> String {
        format!("Event pattern is not valid. Reason: {self}")
    }
}
