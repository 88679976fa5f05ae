//! GetMetricData: request validation, evaluation through metric math, pagination.
//!
//! The queries are validated by `math::query` (shared with metric-math alarms) and evaluated by
//! [`math::run_queries_with`]: metric queries and expressions (which may refer to any query by
//! id) over `[StartTime, EndTime)`; only `ReturnData` queries are answered, an expression
//! returning an array of series giving one result per series (same id). Pages hold at most
//! `MaxDatapoints` values in all; the token records where the next page resumes (result index,
//! offset) and a fingerprint of the request, so a token replayed with other parameters is
//! `InvalidNextToken`. A result cut by the page end has `StatusCode: PartialData`.

use hostwatch_aws::lenient::{Int, List, Timestamp};
use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::anomaly::AnomalyService;
use super::math::{self, QueryInput, QueryResult};
use super::validate::{self, Violations};
use super::{period, token};
use crate::store::metrics::MetricStore;

#[cfg(test)]
pub use super::math::MetricQuery;
pub use super::math::{DataQuery, QueryKind};

const MAX_QUERIES: usize = 500;
const DEFAULT_MAX_DATAPOINTS: i64 = 100_800;
const TOKEN_KIND: &str = "GetMetricData";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataInput {
    metric_data_queries: Option<List<QueryInput>>,
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
    next_token: Option<String>,
    scan_by: Option<String>,
    max_datapoints: Option<Int>,
}

/// A validated request.
#[derive(Debug)]
pub struct Request {
    pub queries: Vec<DataQuery>,
    pub start_ms: i64,
    pub end_ms: i64,
    pub ascending: bool,
    pub max_datapoints: usize,
    /// (result index, offset) to resume at.
    pub resume: (usize, usize),
    pub fingerprint: String,
}

/// Validate a request; `fingerprint` identifies its parameters apart from the token.
pub fn validate(input: &DataInput, fingerprint: String) -> Result<Request, ApiError> {
    let list = validate::required(input.metric_data_queries.as_ref(), "MetricDataQueries")?;
    if list.0.is_empty() {
        return Err(ApiError::missing_parameter("MetricDataQueries"));
    }
    let Timestamp(start) = validate::required(input.start_time, "StartTime")?;
    let Timestamp(end) = validate::required(input.end_time, "EndTime")?;
    if list.0.len() > MAX_QUERIES {
        return Err(ApiError::invalid_parameter_value(format!(
            "The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
        )));
    }
    let mut v = Violations::default();
    let ascending = match input.scan_by.as_deref() {
        None | Some("TimestampDescending") => false,
        Some("TimestampAscending") => true,
        Some(other) => {
            v.one_of(
                "scanBy",
                other,
                &["TimestampDescending", "TimestampAscending"],
            );
            false
        }
    };
    let queries = math::validate_list(&mut v, &list.0, "MetricDataQueries")?;
    v.finish()?;
    period::check_range(start, end)?;
    let max = match input.max_datapoints {
        None => DEFAULT_MAX_DATAPOINTS,
        Some(Int(n)) if n >= 1 => n,
        Some(_) => {
            return Err(ApiError::invalid_parameter_value(
                "The parameter MaxDatapoints must be greater than 0.",
            ))
        }
    };
    let resume = match &input.next_token {
        None => (0, 0),
        Some(t) => {
            let (qi, off, fp): (usize, usize, String) = token::decode(TOKEN_KIND, t)?;
            if fp != fingerprint {
                return Err(token::invalid());
            }
            (qi, off)
        }
    };
    Ok(Request {
        queries,
        start_ms: start,
        end_ms: end,
        ascending,
        max_datapoints: usize::try_from(max).unwrap_or(usize::MAX),
        resume,
        fingerprint,
    })
}

/// Evaluate and page the request (blocking: reads the store).
pub fn run(
    store: &MetricStore,
    anomaly: &AnomalyService,
    req: &Request,
    now_ms: i64,
) -> Result<Shape, ApiError> {
    let results = math::run_queries_with(
        store,
        Some(anomaly),
        &req.queries,
        req.start_ms,
        req.end_ms,
        now_ms,
    )?;
    Ok(page(req, results))
}

fn page(req: &Request, returned: Vec<QueryResult>) -> Shape {
    let (start_q, start_off) = req.resume;
    let mut budget = req.max_datapoints;
    let mut results = Vec::new();
    let mut next = None;
    for (i, (id, label, mut s)) in returned.into_iter().enumerate().skip(start_q) {
        if !req.ascending {
            s.timestamps.reverse();
            s.values.reverse();
        }
        let off = if i == start_q { start_off } else { 0 };
        let total = s.values.len();
        let from = off.min(total);
        let to = total.min(from.saturating_add(budget));
        let complete = to == total;
        budget -= to - from;
        results.push(result_shape(&id, &label, &s, from, to, complete));
        if !complete {
            next = Some(token::encode(TOKEN_KIND, &(i, to, &req.fingerprint)));
            break;
        }
    }
    Shape::obj()
        .with("MetricDataResults", Shape::List(results))
        .with_opt("NextToken", next)
        .with("Messages", Shape::List(Vec::new()))
}

fn result_shape(
    id: &str,
    label: &str,
    s: &math::Series,
    from: usize,
    to: usize,
    complete: bool,
) -> Shape {
    let messages: Vec<Shape> = s
        .messages
        .iter()
        .map(|(c, v)| {
            Shape::obj()
                .with("Code", c.as_str())
                .with("Value", v.as_str())
        })
        .collect();
    Shape::obj()
        .with("Id", id)
        .with("Label", label)
        .with(
            "Timestamps",
            Shape::List(
                s.timestamps[from..to]
                    .iter()
                    .map(|t| Shape::Timestamp(*t))
                    .collect(),
            ),
        )
        .with("Values", Shape::list(s.values[from..to].iter().copied()))
        .with(
            "StatusCode",
            if complete { "Complete" } else { "PartialData" },
        )
        .with_opt(
            "Messages",
            (!messages.is_empty()).then_some(Shape::List(messages)),
        )
}
