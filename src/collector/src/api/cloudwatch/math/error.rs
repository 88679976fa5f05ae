//! Metric math errors and how they reach the caller.
//!
//! Every error found while parsing, checking or evaluating an expression becomes a
//! `ValidationError` (HTTP 400) whose message names the query: `Error in expression e1: Syntax
//! error at position 7`. Positions are 1-based character indexes into that query's
//! `Expression`. Operand type errors use the wording CloudWatch prints for them:
//! `Unsupported operand type(s) for ANOMALY_DETECTION_BAND: '[Array[TimeSeries], Scalar]'`.
//! Where AWS's wording is unrecorded the texts follow the same style. A storage failure while
//! reading metric data is an `InternalServiceError` instead.

use hostwatch_aws::ApiError;

/// A metric math failure (without the query id; see [`MathError::into_api`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MathError {
    /// A token or construct that does not fit the grammar, at a 1-based position.
    #[error("Syntax error at position {0}")]
    Syntax(usize),
    #[error("Expression nested too deeply at position {0}")]
    TooDeep(usize),
    #[error("Unknown function {name} at position {pos}")]
    UnknownFunction { name: String, pos: usize },
    #[error("Unrecognized identifier {name} at position {pos}")]
    UnknownId { name: String, pos: usize },
    /// A keyword (`REPEAT`, `ASC`, ...) or string where a value is needed, or an unknown one.
    #[error("Unexpected {what} at position {pos}")]
    Unexpected { what: String, pos: usize },
    /// Operands of the wrong types: `op` is the operator or function name.
    #[error("Unsupported operand type(s) for {op}: '[{types}]'")]
    Types { op: String, types: String },
    #[error("Invalid number of arguments for {func}: expected {expected}, got {got}")]
    Arity {
        func: String,
        expected: String,
        got: usize,
    },
    #[error("Invalid argument for {func}: {detail}")]
    Argument { func: String, detail: String },
    #[error("Circular reference: {0}")]
    Cycle(String),
    #[error("The expression must return a time series or an array of time series, not {0}")]
    FinalType(&'static str),
    #[error("The expression would produce more than {0} datapoints in one time series")]
    TooManyPoints(usize),
    /// A CloudWatch feature the collector does not offer (described by the text).
    #[error("{0} not supported by this collector")]
    Unsupported(String),
    /// Reading metric data failed (not the caller's fault).
    #[error("{0}")]
    Storage(String),
}

impl MathError {
    /// The API error for this failure in the expression of query `id`.
    pub fn into_api(self, id: &str) -> ApiError {
        match self {
            MathError::Storage(m) => ApiError::internal(format!("Metric storage failed: {m}")),
            other => ApiError::cloudwatch(
                "ValidationError",
                format!("Error in expression {id}: {other}"),
            ),
        }
    }

    /// `Types` for an operator or function and the type names of its operands.
    pub fn types(op: &str, types: &[&str]) -> MathError {
        MathError::Types {
            op: op.to_string(),
            types: types.join(", "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_name_the_query() {
        let e = MathError::Syntax(7).into_api("e1");
        assert_eq!(e.query_code(), "ValidationError");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.message.as_deref(),
            Some("Error in expression e1: Syntax error at position 7")
        );
        let t = MathError::types("ANOMALY_DETECTION_BAND", &["Array[TimeSeries]", "Scalar"]);
        assert_eq!(
            t.to_string(),
            "Unsupported operand type(s) for ANOMALY_DETECTION_BAND: '[Array[TimeSeries], Scalar]'"
        );
        let s = MathError::Storage("disk".into()).into_api("e1");
        assert_eq!(s.query_code(), "InternalServiceError");
    }
}
