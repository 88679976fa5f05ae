//! The `Metrics` list of a metric-math alarm: GetMetricData-style queries with the alarm rules —
//! at most 10 `MetricStat`s and 10 expressions, unique ids, exactly one query returning data
//! (two with an anomaly band: the series and the band named by `ThresholdMetricId`), one
//! period for every metric, alarm periods only (10, 20, 30 or a multiple of 60 seconds).

use hostwatch_aws::lenient::{Bool, Int};
use hostwatch_aws::ApiError;
use serde::Deserialize;
use std::collections::HashSet;

use crate::alarms::model::{MathQuery, MetricStatSpec};
use crate::api::cloudwatch::math::query::{parse_metric_stat, MetricStatInput};
use crate::api::cloudwatch::validate::{self, Violations};

/// Most `MetricStat` queries (and, separately, expressions) in an alarm.
pub const MAX_METRICS: usize = 10;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    id: Option<String>,
    metric_stat: Option<MetricStatInput>,
    expression: Option<String>,
    label: Option<String>,
    return_data: Option<Bool>,
    period: Option<Int>,
    account_id: Option<String>,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::cloudwatch("ValidationError", msg)
}

/// Alarm periods: 10, 20, 30 or a multiple of 60 seconds.
pub fn check_period(period_s: i64) -> Result<(), ApiError> {
    if matches!(period_s, 10 | 20 | 30) || (period_s >= 60 && period_s % 60 == 0) {
        Ok(())
    } else {
        Err(invalid("Period must be 10, 20, 30 or a multiple of 60"))
    }
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

/// Validate the list; returns the queries and the alarm's period.
pub fn validate(
    v: &mut Violations,
    list: &[QueryInput],
    threshold_metric_id: Option<&str>,
) -> Result<(Vec<MathQuery>, i64), ApiError> {
    let mut out: Vec<MathQuery> = Vec::with_capacity(list.len());
    let mut ids = HashSet::new();
    for (i, q) in list.iter().enumerate() {
        let n = i + 1;
        let p = format!("Metrics.member.{n}");
        let id = validate::required(q.id.clone(), &format!("{p}.Id"))?;
        if !valid_id(&id) {
            return Err(invalid(format!(
                "The value {id} for parameter {p}.Id is invalid: it must start with a lowercase \
                 letter and contain only letters, digits and underscores."
            )));
        }
        if !ids.insert(id.clone()) {
            return Err(invalid(
                "The values for parameter id in Metrics are not unique.",
            ));
        }
        let metric_stat = match (&q.metric_stat, &q.expression) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "The parameters {p}.Expression and {p}.MetricStat are mutually exclusive and \
                     you have specified both."
                )))
            }
            (None, None) => {
                return Err(invalid(format!(
                    "The parameter {p} must specify either MetricStat or Expression."
                )))
            }
            (Some(ms), None) => Some(metric_stat(v, ms, &p, n)?),
            (None, Some(e)) => {
                v.length(&format!("metrics.{n}.member.expression"), e, 1, 2048);
                None
            }
        };
        if let Some(Int(ps)) = q.period {
            if metric_stat.is_some() {
                return Err(invalid(format!(
                    "The parameters {p}.Period and {p}.MetricStat are mutually exclusive and you \
                     have specified both."
                )));
            }
            check_period(ps)?;
        }
        if let Some(a) = &q.account_id {
            v.length(&format!("metrics.{n}.member.accountId"), a, 1, 255);
        }
        out.push(MathQuery {
            id,
            metric_stat,
            expression: q.expression.clone(),
            label: q.label.clone(),
            return_data: q.return_data.is_none_or(|Bool(b)| b),
            period_s: q.period.map(|Int(p)| p),
            account_id: q.account_id.clone(),
        });
    }
    let stats = out.iter().filter(|q| q.metric_stat.is_some()).count();
    if stats > MAX_METRICS || out.len() - stats > MAX_METRICS {
        return Err(invalid(format!(
            "An alarm's Metrics can contain at most {MAX_METRICS} metrics and {MAX_METRICS} \
             expressions."
        )));
    }
    let returning: Vec<&MathQuery> = out.iter().filter(|q| q.return_data).collect();
    match threshold_metric_id {
        None => {
            if returning.len() != 1 {
                return Err(invalid(
                    "Exactly one element of the metrics list should return data.",
                ));
            }
        }
        Some(t) => {
            let band = out.iter().find(|q| q.id == t).ok_or_else(|| {
                invalid(format!(
                    "ThresholdMetricId {t} does not match the Id of any element of Metrics."
                ))
            })?;
            if band.expression.is_none() || !band.return_data {
                return Err(invalid(format!(
                    "ThresholdMetricId {t} must name an expression that returns data."
                )));
            }
            if returning.len() != 2 {
                return Err(invalid(
                    "Exactly two elements of the metrics list should return data: the metric \
                     and the one named by ThresholdMetricId.",
                ));
            }
        }
    }
    let mut periods = out
        .iter()
        .filter_map(|q| q.metric_stat.as_ref().map(|m| m.period_s));
    let period = match periods.next() {
        Some(first) => {
            if periods.any(|p| p != first) {
                return Err(invalid(
                    "All metrics in an alarm must have the same period.",
                ));
            }
            first
        }
        None => returning
            .iter()
            .find_map(|q| q.period_s)
            .ok_or_else(|| invalid("The expression that returns data must have a Period."))?,
    };
    Ok((out, period))
}

fn metric_stat(
    v: &mut Violations,
    ms: &MetricStatInput,
    p: &str,
    n: usize,
) -> Result<MetricStatSpec, ApiError> {
    let coral = format!("metrics.{n}.member.metricStat");
    let q = parse_metric_stat(v, ms, p, &coral)?;
    let (period_s, stat, unit) = (q.period_s, q.stat_name, q.unit);
    super::common::at_least(v, &format!("{coral}.period"), period_s, 1);
    check_period(period_s)?;
    Ok(MetricStatSpec {
        metric: q.metric,
        period_s,
        stat,
        unit,
    })
}
