//! GetMetricData: validation of the queries, evaluation, default labels, pagination.
//!
//! Evaluation runs metric queries first, then expression queries (which may refer to any query
//! by id) through [`super::expression`]; only `ReturnData` queries are answered. Pages hold at
//! most `MaxDatapoints` values in all; the token records where the next page resumes (result
//! index, offset) and a fingerprint of the request, so a token replayed with other parameters is
//! `InvalidNextToken`. A result cut by the page end has `StatusCode: PartialData`.

use hostwatch_aws::lenient::{Bool, Int, List, Timestamp};
use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::{MetricKey, Unit};
use serde::Deserialize;
use std::collections::HashSet;

use super::aggregate::bucketize;
use super::expression::{self, Series};
use super::label::default_labels;
use super::stat::Stat;
use super::validate::{self, DimensionInput, Violations};
use super::{period, token};
use crate::store::metrics::MetricStore;

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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct QueryInput {
    id: Option<String>,
    metric_stat: Option<MetricStatInput>,
    expression: Option<String>,
    label: Option<String>,
    return_data: Option<Bool>,
    period: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricStatInput {
    metric: Option<MetricInput>,
    period: Option<Int>,
    stat: Option<String>,
    unit: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetricInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
}

/// A metric query.
#[derive(Debug, Clone)]
pub struct MetricQuery {
    pub metric: MetricKey,
    pub period_s: i64,
    pub stat_name: String,
    pub stat: Stat,
    pub unit: Option<Unit>,
}

/// What a query computes.
#[derive(Debug, Clone)]
pub enum QueryKind {
    Metric(MetricQuery),
    Expression(String),
}

/// One validated query.
#[derive(Debug, Clone)]
pub struct DataQuery {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    pub kind: QueryKind,
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
    let mut queries = Vec::with_capacity(list.0.len());
    let mut ids = HashSet::new();
    for (i, q) in list.0.iter().enumerate() {
        let dq = query(&mut v, q, i + 1)?;
        if !ids.insert(dq.id.clone()) {
            return Err(ApiError::cloudwatch(
                "ValidationError",
                "The values for parameter id in MetricDataQueries are not unique.",
            ));
        }
        queries.push(dq);
    }
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

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

fn query(v: &mut Violations, q: &QueryInput, n: usize) -> Result<DataQuery, ApiError> {
    let p = format!("MetricDataQueries.member.{n}");
    let id = validate::required(q.id.clone(), &format!("{p}.Id"))?;
    if !valid_id(&id) {
        return Err(ApiError::cloudwatch(
            "ValidationError",
            format!(
                "The value {id} for parameter {p}.Id is invalid: it must start with a lowercase \
                 letter and contain only letters, digits and underscores."
            ),
        ));
    }
    let kind = match (&q.metric_stat, &q.expression) {
        (Some(_), Some(_)) => {
            return Err(ApiError::cloudwatch(
                "ValidationError",
                format!(
                    "The parameters {p}.Expression and {p}.MetricStat are mutually exclusive and \
                     you have specified both."
                ),
            ))
        }
        (None, None) => {
            return Err(ApiError::cloudwatch(
                "ValidationError",
                format!("The parameter {p} must specify either MetricStat or Expression."),
            ))
        }
        (Some(ms), None) => {
            if q.period.is_some() {
                return Err(ApiError::cloudwatch(
                    "ValidationError",
                    format!(
                        "The parameters {p}.Period and {p}.MetricStat are mutually exclusive and \
                         you have specified both."
                    ),
                ));
            }
            QueryKind::Metric(metric_stat(v, ms, &p, n)?)
        }
        (None, Some(e)) => {
            v.length(
                &format!("metricDataQueries.{n}.member.expression"),
                e,
                1,
                2048,
            );
            if let Some(Int(ps)) = q.period {
                period::period_ms(ps, &format!("{p}.Period"))?;
            }
            QueryKind::Expression(e.clone())
        }
    };
    Ok(DataQuery {
        id,
        label: q.label.clone(),
        return_data: q.return_data.is_none_or(|Bool(b)| b),
        kind,
    })
}

fn metric_stat(
    v: &mut Violations,
    ms: &MetricStatInput,
    p: &str,
    n: usize,
) -> Result<MetricQuery, ApiError> {
    let mp = format!("{p}.MetricStat");
    let coral = format!("metricDataQueries.{n}.member.metricStat");
    let metric = validate::required(ms.metric.as_ref(), &format!("{mp}.Metric"))?;
    let Int(period_s) = validate::required(ms.period, &format!("{mp}.Period"))?;
    let stat_name = validate::required(ms.stat.clone(), &format!("{mp}.Stat"))?;
    let ns = validate::required(
        metric.namespace.as_deref(),
        &format!("{mp}.Metric.Namespace"),
    )?;
    let name = validate::required(
        metric.metric_name.as_deref(),
        &format!("{mp}.Metric.MetricName"),
    )?;
    validate::namespace(v, &format!("{coral}.metric.namespace"), ns);
    v.length(&format!("{coral}.metric.metricName"), name, 1, 255);
    let dims = validate::dimensions(
        v,
        metric
            .dimensions
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        &|| format!("{mp}.Metric.Dimensions"),
        &|| format!("{coral}.metric.dimensions"),
    )?;
    let unit = ms
        .unit
        .as_deref()
        .map(|u| validate::unit(v, &format!("{coral}.unit"), Some(u)));
    let stat = Stat::parse(&stat_name).ok_or_else(|| {
        ApiError::invalid_parameter_value(format!(
            "The value {stat_name} for parameter {mp}.Stat is invalid."
        ))
    })?;
    period::period_ms(period_s, &format!("{mp}.Period"))?;
    Ok(MetricQuery {
        metric: MetricKey::new(ns, name, dims),
        period_s,
        stat_name,
        stat,
        unit,
    })
}

/// Evaluate and page the request (blocking: reads the store).
pub fn run(store: &MetricStore, req: &Request, now_ms: i64) -> Result<Shape, ApiError> {
    let labels = default_labels(&req.queries);
    let mut series: Vec<(usize, Series)> = Vec::new();
    for (i, q) in req.queries.iter().enumerate() {
        if let QueryKind::Metric(m) = &q.kind {
            series.push((i, metric_series(store, m, req, now_ms)?));
        }
    }
    for (i, q) in req.queries.iter().enumerate() {
        if let QueryKind::Expression(e) = &q.kind {
            let s = expression::evaluate(&q.id, e, &req.queries, &series)?;
            series.push((i, s));
        }
    }
    series.sort_by_key(|(i, _)| *i);
    let returned: Vec<(&DataQuery, String, Series)> = series
        .into_iter()
        .filter_map(|(i, s)| {
            let q = req.queries.get(i)?;
            let label = q.label.clone().unwrap_or_else(|| labels[i].clone());
            q.return_data.then_some((q, label, s))
        })
        .collect();
    Ok(page(req, returned))
}

fn metric_series(
    store: &MetricStore,
    m: &MetricQuery,
    req: &Request,
    now_ms: i64,
) -> Result<Series, ApiError> {
    let period_ms = m.period_s * 1000;
    let start = period::round_start(req.start_ms, period_ms, now_ms);
    if !period::served_at(start, period_ms, now_ms) {
        return Ok(Series::default());
    }
    let mut candidates = Vec::new();
    for (sid, unit) in store.series_of(&m.metric) {
        if m.unit.is_some_and(|u| u != unit) {
            continue;
        }
        let points = store
            .read(sid, start, req.end_ms)
            .map_err(|e| ApiError::internal(format!("Metric storage failed: {e}")))?;
        if !points.is_empty() {
            candidates.push((unit, points));
        }
    }
    candidates.sort_by_key(|(u, _)| u.as_str());
    let mut out = Series::default();
    if candidates.len() > 1 {
        let names: Vec<&str> = candidates.iter().map(|(u, _)| u.as_str()).collect();
        out.messages.push((
            "MultipleUnits".to_string(),
            format!("Multiple units returned: '[{}]'", names.join(", ")),
        ));
    }
    if let Some((_, points)) = candidates.first() {
        for (at, b) in bucketize(points, start, period_ms) {
            if let Some(v) = m.stat.eval(&b) {
                out.timestamps.push(at);
                out.values.push(v);
            }
        }
    }
    Ok(out)
}

fn page(req: &Request, returned: Vec<(&DataQuery, String, Series)>) -> Shape {
    let (start_q, start_off) = req.resume;
    let mut budget = req.max_datapoints;
    let mut results = Vec::new();
    let mut next = None;
    for (i, (q, label, mut s)) in returned.into_iter().enumerate().skip(start_q) {
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
        results.push(result_shape(q, &label, &s, from, to, complete));
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
    q: &DataQuery,
    label: &str,
    s: &Series,
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
        .with("Id", q.id.as_str())
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
