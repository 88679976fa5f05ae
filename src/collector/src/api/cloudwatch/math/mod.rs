//! CloudWatch metric math: the `Expression` queries of GetMetricData and of metric-math alarms.
//!
//! # Pipeline
//! `lexer` → `parser` (an `ast::Expr` per expression, positions kept) → `program` (ids
//! resolved, cycles rejected, evaluation order) → `eval` (values over a time window, data from a
//! `eval::Source`) with `ops` (operators) and `functions` (one file per family).
//!
//! # Semantics (CloudWatch's documentation)
//! - ids start with a lowercase letter; functions and keywords are uppercase;
//! - values are scalars (S), time series (TS) or arrays of time series (TS[]); the final value
//!   of a `ReturnData` expression must be a TS (one result) or a TS[] (one result per series,
//!   all with the expression's id, labelled `"<expression label> <series label>"`, or just the
//!   series label when the expression has no `Label`);
//! - between two series a missing value counts as 0, a division by zero drops the datapoint
//!   (see `ops`);
//! - every series is aligned on its query's period grid starting at the (rounded) StartTime;
//! - errors are `ValidationError`s naming the query and, for syntax, the 1-based position
//!   (`Error in expression e1: Syntax error at position 7`; see `error`).
//!
//! # Entry points
//! - [`queries_from_json`]: validate a `MetricDataQueries` / `Metrics` list (JSON tree in the
//!   awsJson or awsQuery spelling) into [`DataQuery`]s;
//! - [`validate_queries`]: parse and type-check the expressions without reading data;
//! - [`run_queries`] / [`run_queries_with`]: evaluate over `[start, end)` and return the
//!   `ReturnData` results in query order.

mod ast;
mod error;
mod eval;
mod fetch;
mod functions;
mod lexer;
mod ops;
mod parser;
mod program;
pub(crate) mod query;
mod value;

#[cfg(test)]
pub(crate) mod gmd_tests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use hostwatch_aws::ApiError;
use std::sync::Arc;

use crate::api::cloudwatch::anomaly::{model::Model, AnomalyService};
use crate::store::metrics::MetricStore;
use error::MathError;
use eval::{Evaluator, NoData, Source, Window};
use fetch::StoreSource;
use program::Program;
use value::Value;

pub(crate) use eval::BandTarget;
use functions::band::model_for;
pub(crate) use parser::parse;
pub(crate) use query::validate_list;
pub use query::{
    queries_from_json, DataQuery, ExpressionQuery, MetricQuery, QueryInput, QueryKind,
};

/// One evaluated time series (ascending timestamps, ms) with its result messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub timestamps: Vec<i64>,
    pub values: Vec<f64>,
    /// (Code, Value) pairs for `Messages`.
    pub messages: Vec<(String, String)>,
}

/// One result: the query id, its label and its series.
pub type QueryResult = (String, String, Series);

/// Parse and check every expression of `queries` without reading data: syntax, unknown ids,
/// cycles, operand types, and that `ReturnData` expressions end in a TS or TS[].
pub fn validate_queries(queries: &[DataQuery]) -> Result<(), ApiError> {
    let prog = Program::compile(queries)?;
    check(&prog)
}

fn check(prog: &Program<'_>) -> Result<(), ApiError> {
    let window = Window {
        start_ms: 0,
        end_ms: 1,
        now_ms: 1,
        history: true,
    };
    let mut ev = Evaluator::new(prog, &NoData, window);
    for (i, q) in prog.queries.iter().enumerate() {
        if prog.expr(i).is_none() {
            continue;
        }
        let v = evaluate(&mut ev, prog, i)?;
        if q.return_data {
            if let Value::Scalar(_) = v {
                return Err(MathError::FinalType("Scalar").into_api(&q.id));
            }
        }
    }
    Ok(())
}

/// Evaluate query `i`, blaming an error on the query whose expression failed.
fn evaluate(ev: &mut Evaluator<'_>, prog: &Program<'_>, i: usize) -> Result<Value, ApiError> {
    let todo = prog.order(i, &|j| ev.is_known(j));
    for j in todo {
        ev.query(j).map_err(|e| e.into_api(&prog.queries[j].id))?;
    }
    ev.query(i).map_err(|e| e.into_api(&prog.queries[i].id))
}

/// Evaluate `queries` over `[start_ms, end_ms)` at time `now_ms` and return the results of the
/// `ReturnData` queries in order (an array-valued expression gives several results with its
/// id). Anomaly bands are trained on the fly without detector configuration or model cache;
/// see [`run_queries_with`]. Blocking: reads the store.
pub fn run_queries(
    store: &MetricStore,
    queries: &[DataQuery],
    start_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<Vec<QueryResult>, ApiError> {
    run_queries_with(store, None, queries, start_ms, end_ms, now_ms)
}

/// [`run_queries`] with the anomaly service: bands honour the detectors' `ExcludedTimeRanges`
/// and trained models are cached.
pub fn run_queries_with(
    store: &MetricStore,
    anomaly: Option<&AnomalyService>,
    queries: &[DataQuery],
    start_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<Vec<QueryResult>, ApiError> {
    let source = StoreSource { store, anomaly };
    let window = Window {
        start_ms,
        end_ms,
        now_ms,
        history: false,
    };
    run(queries, &source, window)
}

/// Evaluate the `ReturnData` queries with data from `source`.
fn run(
    queries: &[DataQuery],
    source: &dyn Source,
    window: Window,
) -> Result<Vec<QueryResult>, ApiError> {
    let prog = Program::compile(queries)?;
    check(&prog)?;
    let mut ev = Evaluator::new(&prog, source, window);
    let mut out = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        if !q.return_data {
            continue;
        }
        match evaluate(&mut ev, &prog, i)? {
            Value::Ts(s) => out.push((
                q.id.clone(),
                prog.labels[i].clone(),
                series(&s.points, ev.messages(i)),
            )),
            Value::Array(items) => {
                for s in items {
                    let label = match q.label.as_deref() {
                        Some(l) if !l.is_empty() => format!("{l} {}", s.label),
                        _ => s.label.clone(),
                    };
                    out.push((q.id.clone(), label, series(&s.points, &[])));
                }
            }
            Value::Scalar(_) => return Err(MathError::FinalType("Scalar").into_api(&q.id)),
        }
    }
    Ok(out)
}

/// The model of the `ReturnData` query of an anomaly detector's `queries` at `now_ms`
/// (`Ok(None)`: no training data). Blocking.
pub(crate) fn detector_model(
    store: &MetricStore,
    anomaly: &AnomalyService,
    queries: &[DataQuery],
    now_ms: i64,
) -> Result<Option<Arc<Model>>, ApiError> {
    let prog = Program::compile(queries)?;
    let Some(i) = queries.iter().position(|q| q.return_data) else {
        return Ok(None);
    };
    let q = &queries[i];
    let period_ms = match &q.kind {
        QueryKind::Metric(m) => m.period_s * 1000,
        QueryKind::Expression(e) => e.period_s.map_or(prog.default_period_ms, |p| p * 1000),
    };
    let source = StoreSource {
        store,
        anomaly: Some(anomaly),
    };
    let arg = ast::Expr::Id {
        name: q.id.clone(),
        pos: 1,
    };
    model_for(&prog, &source, &arg, now_ms, period_ms).map_err(|e| e.into_api(&q.id))
}

/// The type of query `i`'s value (`Scalar`, `TimeSeries` or `Array[TimeSeries]`), found without
/// reading data.
pub(crate) fn value_type(queries: &[DataQuery], i: usize) -> Result<&'static str, ApiError> {
    let prog = Program::compile(queries)?;
    let window = Window {
        start_ms: 0,
        end_ms: 1,
        now_ms: 1,
        history: true,
    };
    let mut ev = Evaluator::new(&prog, &NoData, window);
    Ok(evaluate(&mut ev, &prog, i)?.type_name())
}

fn series(points: &[(i64, f64)], messages: &[(String, String)]) -> Series {
    Series {
        timestamps: points.iter().map(|(t, _)| *t).collect(),
        values: points.iter().map(|(_, v)| *v).collect(),
        messages: messages.to_vec(),
    }
}
