//! Metric math for GetMetricData `Expression` queries: the slot where an evaluator plugs in.
//!
//! [`evaluate`] receives the expression, every query of the request and the series already
//! computed for the metric queries (by query index), and returns the expression's series.
//! Metric math is not implemented yet, so every expression is refused with a clear error.

use hostwatch_aws::ApiError;

use super::get_data::DataQuery;

/// One evaluated time series (ascending timestamps, ms) with its result messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// (Code, Value) pairs for `Messages`.
    pub messages: Vec<(String, String)>,
}

/// Evaluate expression `expr` of query `id`.
pub fn evaluate(
    id: &str,
    _expr: &str,
    _queries: &[DataQuery],
    _computed: &[(usize, Series)],
) -> Result<Series, ApiError> {
    Err(ApiError::invalid_parameter_value(format!(
        "Metric math expressions are not supported yet (query id {id})."
    )))
}
