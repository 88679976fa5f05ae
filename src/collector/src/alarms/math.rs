//! Metric-math alarms: their `Metrics` list evaluated through the metric-math engine
//! (`api::cloudwatch::math::run_queries_with`) over the evaluation range, turned into the
//! datapoints [`super::evaluate`] judges.
//!
//! The series of the query that returns data gives the values; for an anomaly-band alarm the
//! query named by `ThresholdMetricId` returns two series, the upper then the lower bound, which
//! give each datapoint its band. A period without a value is missing. The engine aligns a
//! series on its period from the (rounded) start of the range, which for periods of a minute or
//! more is the range's own alignment; 20 s and 30 s math alarms are aligned on their period.

use crate::api::cloudwatch::anomaly::AnomalyService;
use crate::api::cloudwatch::math::{self, DataQuery, ExpressionQuery, MetricQuery, QueryKind};
use crate::api::cloudwatch::stat::Stat;
use crate::store::metrics::MetricStore;
use hostwatch_aws::ApiError;

use super::evaluate::Datapoint;
use super::model::MathQuery;

/// The engine's form of an alarm's queries (`None` when a statistic no longer parses).
pub fn data_queries(queries: &[MathQuery]) -> Option<Vec<DataQuery>> {
    queries
        .iter()
        .map(|q| {
            let kind = match (&q.metric_stat, &q.expression) {
                (Some(m), _) => QueryKind::Metric(MetricQuery {
                    metric: m.metric.clone(),
                    period_s: m.period_s,
                    stat_name: m.stat.clone(),
                    stat: Stat::parse(&m.stat)?,
                    unit: m.unit,
                }),
                (None, Some(e)) => QueryKind::Expression(ExpressionQuery {
                    text: e.clone(),
                    period_s: q.period_s,
                }),
                (None, None) => return None,
            };
            Some(DataQuery {
                id: q.id.clone(),
                label: q.label.clone(),
                return_data: q.return_data,
                kind,
            })
        })
        .collect()
}

/// Check the expressions of an alarm's queries without reading data (syntax, ids, types).
pub fn check(queries: &[MathQuery]) -> Result<(), ApiError> {
    let dq = data_queries(queries)
        .ok_or_else(|| ApiError::cloudwatch("ValidationError", "Invalid metric statistic."))?;
    math::validate_queries(&dq)
}

fn value_at(timestamps: &[i64], values: &[f64], at: i64) -> Option<f64> {
    timestamps
        .binary_search(&at)
        .ok()
        .and_then(|i| values.get(i).copied())
}

/// The evaluation range (`len` periods of `period_ms` ending at `end_ms`) of a math alarm.
pub fn build_range(
    store: &MetricStore,
    anomaly: Option<&AnomalyService>,
    queries: &[MathQuery],
    threshold_metric_id: Option<&str>,
    end_ms: i64,
    period_ms: i64,
    len: usize,
) -> Result<Vec<Datapoint>, ApiError> {
    let dq = data_queries(queries)
        .ok_or_else(|| ApiError::cloudwatch("ValidationError", "Invalid metric statistic."))?;
    let start = end_ms.saturating_sub(period_ms.saturating_mul(len as i64));
    let results = math::run_queries_with(store, anomaly, &dq, start, end_ms, end_ms)?;
    let main = results
        .iter()
        .find(|(id, _, _)| Some(id.as_str()) != threshold_metric_id)
        .map(|(_, _, s)| s);
    let mut bands = results
        .iter()
        .filter(|(id, _, _)| Some(id.as_str()) == threshold_metric_id)
        .map(|(_, _, s)| s);
    let (upper, lower) = (bands.next(), bands.next());
    Ok((0..len as i64)
        .map(|i| {
            let at = start + i * period_ms;
            let value = main.and_then(|s| value_at(&s.timestamps, &s.values, at));
            let band = match (upper, lower) {
                (Some(u), Some(l)) => value_at(&l.timestamps, &l.values, at).zip(value_at(
                    &u.timestamps,
                    &u.values,
                    at,
                )),
                _ => None,
            };
            match value {
                Some(v) => Datapoint {
                    start_ms: at,
                    value: Some(v),
                    sample_count: 1.0,
                    band,
                },
                None => Datapoint::missing(at),
            }
        })
        .collect())
}
