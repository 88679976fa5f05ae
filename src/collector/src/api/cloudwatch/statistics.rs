//! GetMetricStatistics: one metric (dimensions matched exactly), one datapoint per period per
//! unit, only the requested statistics, `Label` = metric name.

use hostwatch_aws::lenient::{Int, List, Timestamp};
use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::{MetricKey, Unit};
use serde::Deserialize;

use super::aggregate::{bucketize, Bucket};
use super::period;
use super::stat::{Basic, Stat};
use super::validate::{self, DimensionInput, Violations};
use crate::store::metrics::MetricStore;
use crate::store::StoreError;

const MAX_DATAPOINTS: i64 = 1440;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
    period: Option<Int>,
    statistics: Option<List<String>>,
    extended_statistics: Option<List<String>>,
    unit: Option<String>,
}

/// A validated request.
#[derive(Debug)]
pub struct Query {
    metric: MetricKey,
    unit: Option<Unit>,
    start_ms: i64,
    end_ms: i64,
    period_ms: i64,
    basic: Vec<Basic>,
    extended: Vec<(String, Stat)>,
    /// `false` when the data at this age is not kept at this period (answer: no datapoints).
    served: bool,
}

/// Validate the request against AWS's rules.
pub fn validate(input: &StatisticsInput, now_ms: i64) -> Result<Query, ApiError> {
    let ns = validate::required(input.namespace.as_deref(), "Namespace")?;
    let name = validate::required(input.metric_name.as_deref(), "MetricName")?;
    let Timestamp(start) = validate::required(input.start_time, "StartTime")?;
    let Timestamp(end) = validate::required(input.end_time, "EndTime")?;
    let Int(period_s) = validate::required(input.period, "Period")?;
    let mut v = Violations::default();
    validate::namespace(&mut v, "namespace", ns);
    v.length("metricName", name, 1, 255);
    let dims = validate::dimensions(
        &mut v,
        input
            .dimensions
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        &|| "Dimensions".into(),
        &|| "dimensions".into(),
    )?;
    let unit = input
        .unit
        .as_deref()
        .map(|u| validate::unit(&mut v, "unit", Some(u)));
    let (basic, extended) = statistics(&mut v, input)?;
    v.finish()?;
    let period_ms = period::period_ms(period_s, "Period")?;
    period::check_range(start, end)?;
    let start_ms = period::round_start(start, period_ms, now_ms);
    let requested = (end - start_ms + period_ms - 1) / period_ms;
    if requested > MAX_DATAPOINTS {
        return Err(ApiError::invalid_parameter_combination(format!(
            "You have requested up to {requested} datapoints, which exceeds the limit of \
             {MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or \
             decreasing the time range."
        )));
    }
    Ok(Query {
        metric: MetricKey::new(ns, name, dims),
        unit,
        start_ms,
        end_ms: end,
        period_ms,
        basic,
        extended,
        served: period::served_at(start_ms, period_ms, now_ms),
    })
}

type Requested = (Vec<Basic>, Vec<(String, Stat)>);

fn statistics(v: &mut Violations, input: &StatisticsInput) -> Result<Requested, ApiError> {
    let stats = input
        .statistics
        .as_ref()
        .map(|l| l.0.as_slice())
        .unwrap_or(&[]);
    let ext = input
        .extended_statistics
        .as_ref()
        .map(|l| l.0.as_slice())
        .unwrap_or(&[]);
    match (stats.is_empty(), ext.is_empty()) {
        (false, false) => {
            return Err(ApiError::invalid_parameter_combination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you \
                 have specified both.",
            ))
        }
        (true, true) => {
            return Err(ApiError::cloudwatch(
                "MissingParameter",
                "Must specify either Statistics or ExtendedStatistics.",
            ))
        }
        _ => {}
    }
    v.list_size("statistics", stats.len(), 0, 5);
    v.list_size("extendedStatistics", ext.len(), 0, 10);
    let mut basic = Vec::new();
    let mut bad = Vec::new();
    for s in stats {
        match Basic::parse(s) {
            Some(b) if !basic.contains(&b) => basic.push(b),
            Some(_) => {}
            None => bad.push(s.as_str()),
        }
    }
    if !bad.is_empty() {
        let names: Vec<&str> = Basic::ALL.iter().map(|(n, _)| *n).collect();
        v.push(
            "statistics",
            Some(&format!("[{}]", stats.join(", "))),
            &format!(
                "Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                names.join(", ")
            ),
        );
    }
    let mut extended = Vec::new();
    for (i, s) in ext.iter().enumerate() {
        match Stat::parse(s) {
            Some(Stat::Basic(_)) | None => {
                return Err(ApiError::invalid_parameter_value(format!(
                    "The value {s} for parameter ExtendedStatistics.member.{} is invalid.",
                    i + 1
                )))
            }
            Some(stat) => {
                if !extended.iter().any(|(n, _)| n == s) {
                    extended.push((s.clone(), stat));
                }
            }
        }
    }
    Ok((basic, extended))
}

/// Compute the answer (blocking: reads the store).
pub fn run(store: &MetricStore, q: &Query) -> Result<Shape, StoreError> {
    let mut datapoints = Vec::new();
    if q.served {
        let mut series = store.series_of(&q.metric);
        series.sort_by_key(|(_, u)| u.as_str());
        for (sid, unit) in series {
            if q.unit.is_some_and(|u| u != unit) {
                continue;
            }
            let points = store.read(sid, q.start_ms, q.end_ms)?;
            for (at, b) in bucketize(&points, q.start_ms, q.period_ms) {
                datapoints.extend(datapoint(q, at, &b, unit));
            }
        }
    }
    Ok(Shape::obj()
        .with("Label", q.metric.metric_name.as_str())
        .with("Datapoints", Shape::List(datapoints)))
}

fn datapoint(q: &Query, at: i64, b: &Bucket, unit: Unit) -> Option<Shape> {
    let has = |s: Basic| q.basic.contains(&s).then(|| s.eval(b));
    let ext: Vec<(String, Shape)> = q
        .extended
        .iter()
        .filter_map(|(n, s)| s.eval(b).map(|v| (n.clone(), Shape::Float(v))))
        .collect();
    if q.basic.is_empty() && ext.is_empty() {
        return None;
    }
    Some(
        Shape::obj()
            .with("Timestamp", Shape::Timestamp(at))
            .with_opt("SampleCount", has(Basic::SampleCount))
            .with_opt("Average", has(Basic::Average))
            .with_opt("Sum", has(Basic::Sum))
            .with_opt("Minimum", has(Basic::Minimum))
            .with_opt("Maximum", has(Basic::Maximum))
            .with("Unit", unit.as_str())
            .with_opt(
                "ExtendedStatistics",
                (!ext.is_empty()).then_some(Shape::Map(ext)),
            ),
    )
}
