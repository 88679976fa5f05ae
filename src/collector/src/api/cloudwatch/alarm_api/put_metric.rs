//! PutMetricAlarm: input, validation, and the configuration it produces.
//!
//! Order of checks: required members, then every model constraint at once (`ValidationError`
//! list: lengths, enums, list sizes, minimums), then the semantic rules with CloudWatch's
//! messages — recorded ones verbatim (`DatapointsToAlarm must be less than or equal to
//! EvaluationPeriods`, `Statistic should not be set if list of Metrics is set.`, `Threshold and
//! ThresholdMetricId cannot both be set`, `MetricName must not be null`, `Metrics cannot be
//! checked across more than a day (EvaluationPeriods * Period must be <= 86400)`), the others in
//! their style.

use hostwatch_aws::lenient::{Bool, Float, Int, List};
use hostwatch_aws::ApiError;
use hostwatch_model::MetricKey;
use serde::Deserialize;

use super::common::{self, TagInput};
use super::metrics::{self, QueryInput};
use crate::alarms::events::uuid_v4;
use crate::alarms::model::{
    Actions, AlarmStatistic, Comparison, LowSampleCount, MetricAlarmConfig, MetricSource,
    TreatMissing,
};
use crate::api::cloudwatch::stat::{Basic, Stat};
use crate::api::cloudwatch::validate::{self, DimensionInput, Violations};
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    alarm_name: Option<String>,
    alarm_description: Option<String>,
    actions_enabled: Option<Bool>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<List<String>>,
    alarm_actions: Option<List<String>>,
    insufficient_data_actions: Option<List<String>>,
    metric_name: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    period: Option<Int>,
    unit: Option<String>,
    evaluation_periods: Option<Int>,
    datapoints_to_alarm: Option<Int>,
    threshold: Option<Float>,
    comparison_operator: Option<String>,
    treat_missing_data: Option<String>,
    evaluate_low_sample_count_percentile: Option<String>,
    metrics: Option<List<QueryInput>>,
    tags: Option<List<TagInput>>,
    threshold_metric_id: Option<String>,
    evaluation_criteria: Option<serde_json::Value>,
    evaluation_interval: Option<Int>,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::cloudwatch("ValidationError", msg)
}

/// Longest evaluation span, seconds, for periods under an hour.
const MAX_SPAN_SHORT: i64 = 86_400;
/// Longest evaluation span, seconds.
const MAX_SPAN: i64 = 604_800;

/// Validate a PutMetricAlarm request.
pub fn validate(
    input: serde_json::Value,
) -> Result<(MetricAlarmConfig, Vec<(String, String)>), ApiError> {
    let i: Input = parse_input(input, true)?;
    let name = validate::required(i.alarm_name.clone(), "AlarmName")?;
    if i.evaluation_criteria.is_some() || i.evaluation_interval.is_some() {
        return Err(ApiError::invalid_parameter_value(
            "EvaluationCriteria and EvaluationInterval (PromQL alarms) are not supported by this \
             collector.",
        ));
    }
    let mut v = Violations::default();
    common::alarm_name(&mut v, "alarmName", &name);
    if let Some(d) = &i.alarm_description {
        v.length("alarmDescription", d, 0, 1024);
    }
    let actions = Actions {
        enabled: i.actions_enabled.is_none_or(|Bool(b)| b),
        ok: common::actions(&mut v, "oKActions", i.ok_actions.as_ref()),
        alarm: common::actions(&mut v, "alarmActions", i.alarm_actions.as_ref()),
        insufficient_data: common::actions(
            &mut v,
            "insufficientDataActions",
            i.insufficient_data_actions.as_ref(),
        ),
    };
    let tags = common::tags(&mut v, "tags", i.tags.as_ref(), "Tags")?;
    let Int(n) = validate::required(i.evaluation_periods, "EvaluationPeriods")?;
    common::at_least(&mut v, "evaluationPeriods", n, 1);
    if let Some(Int(m)) = i.datapoints_to_alarm {
        common::at_least(&mut v, "datapointsToAlarm", m, 1);
    }
    let op_name = validate::required(i.comparison_operator.as_deref(), "ComparisonOperator")?;
    let comparison = Comparison::parse(op_name);
    if comparison.is_none() {
        let names: Vec<&str> = Comparison::ALL.iter().map(|c| c.as_str()).collect();
        v.one_of("comparisonOperator", op_name, &names);
    }
    if let Some(t) = &i.treat_missing_data {
        v.length("treatMissingData", t, 1, 255);
    }
    if let Some(t) = &i.evaluate_low_sample_count_percentile {
        v.length("evaluateLowSampleCountPercentile", t, 1, 255);
    }
    if let Some(t) = &i.threshold_metric_id {
        v.length("thresholdMetricId", t, 1, 255);
    }
    let with_metrics = i.metrics.as_ref().is_some_and(|m| !m.0.is_empty());
    let single = if with_metrics {
        None
    } else {
        Some(single_metric(&mut v, &i)?)
    };
    v.finish()?;
    let comparison = comparison.ok_or_else(|| invalid("Invalid ComparisonOperator"))?;

    let (source, period_s) = match single {
        Some((metric, statistic, unit, period_s)) => (
            MetricSource::Single {
                metric,
                statistic,
                unit,
                event_id: uuid_v4(),
            },
            period_s,
        ),
        None => {
            for (set, member) in [
                (i.metric_name.is_some(), "MetricName"),
                (i.namespace.is_some(), "Namespace"),
                (i.statistic.is_some(), "Statistic"),
                (i.extended_statistic.is_some(), "ExtendedStatistic"),
                (
                    i.dimensions.as_ref().is_some_and(|d| !d.0.is_empty()),
                    "Dimensions",
                ),
                (i.period.is_some(), "Period"),
                (i.unit.is_some(), "Unit"),
            ] {
                if set {
                    return Err(invalid(format!(
                        "{member} should not be set if list of Metrics is set."
                    )));
                }
            }
            let mut v = Violations::default();
            let list = i.metrics.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
            let (queries, period) =
                metrics::validate(&mut v, list, i.threshold_metric_id.as_deref())?;
            v.finish()?;
            crate::alarms::math::check(&queries)?;
            (
                MetricSource::Math {
                    queries,
                    threshold_metric_id: i.threshold_metric_id.clone(),
                },
                period,
            )
        }
    };
    metrics::check_period(period_s)?;
    let span = period_s.saturating_mul(n);
    if period_s < 3600 && span > MAX_SPAN_SHORT {
        return Err(invalid(
            "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be \
             <= 86400)",
        ));
    }
    if span > MAX_SPAN {
        return Err(invalid(
            "Metrics cannot be checked across more than a week (EvaluationPeriods * Period must \
             be <= 604800)",
        ));
    }
    let m = i.datapoints_to_alarm.map(|Int(m)| m);
    if m.is_some_and(|m| m > n) {
        return Err(invalid(
            "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
        ));
    }
    let threshold = threshold(&i, comparison)?;
    let treat_missing = match i.treat_missing_data.as_deref() {
        None => None,
        Some(t) => Some(TreatMissing::parse(t).ok_or_else(|| {
            ApiError::invalid_parameter_value(format!(
                "The value {t} for parameter TreatMissingData is invalid. Valid values are: \
                 breaching, notBreaching, ignore, missing."
            ))
        })?),
    };
    let low_sample_count = match i.evaluate_low_sample_count_percentile.as_deref() {
        None => None,
        Some(t) => Some(LowSampleCount::parse(t).ok_or_else(|| {
            ApiError::invalid_parameter_value(format!(
                "The value {t} for parameter EvaluateLowSampleCountPercentile is invalid. Valid \
                 values are: evaluate, ignore."
            ))
        })?),
    };
    let config = MetricAlarmConfig {
        name,
        description: i.alarm_description.clone(),
        actions,
        source,
        period_s,
        evaluation_periods: u32::try_from(n).unwrap_or(u32::MAX),
        datapoints_to_alarm: m.map(|m| u32::try_from(m).unwrap_or(u32::MAX)),
        threshold,
        comparison,
        treat_missing,
        low_sample_count,
        updated_ms: 0,
    };
    Ok((config, tags))
}

type Single = (
    MetricKey,
    AlarmStatistic,
    Option<hostwatch_model::Unit>,
    i64,
);

/// `MetricName` + `Namespace` + `Dimensions` + `Period` + one statistic.
fn single_metric(v: &mut Violations, i: &Input) -> Result<Single, ApiError> {
    let name = i
        .metric_name
        .as_deref()
        .ok_or_else(|| invalid("MetricName must not be null"))?;
    let ns = i
        .namespace
        .as_deref()
        .ok_or_else(|| invalid("Namespace must not be null"))?;
    let Int(period_s) = i.period.ok_or_else(|| invalid("Period must not be null"))?;
    validate::namespace(v, "namespace", ns);
    v.length("metricName", name, 1, 255);
    common::at_least(v, "period", period_s, 1);
    let dims = validate::dimensions(
        v,
        i.dimensions
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        &|| "Dimensions".into(),
        &|| "dimensions".into(),
    )?;
    let unit = i
        .unit
        .as_deref()
        .map(|u| validate::unit(v, "unit", Some(u)));
    let statistic =
        match (&i.statistic, &i.extended_statistic) {
            (Some(_), Some(_)) => return Err(ApiError::invalid_parameter_combination(
                "The parameters Statistic and ExtendedStatistic are mutually exclusive and you \
                 have specified both.",
            )),
            (None, None) => {
                return Err(invalid(
                    "Statistic or ExtendedStatistic must be set for an alarm on a metric.",
                ))
            }
            (Some(s), None) => {
                if Basic::parse(s).is_none() {
                    let names: Vec<&str> = Basic::ALL.iter().map(|(n, _)| *n).collect();
                    v.one_of("statistic", s, &names);
                }
                AlarmStatistic::Statistic(s.clone())
            }
            (None, Some(s)) => match Stat::parse(s) {
                Some(Stat::Basic(_)) | None => {
                    return Err(ApiError::invalid_parameter_value(format!(
                        "The value {s} for parameter ExtendedStatistic is invalid."
                    )))
                }
                Some(_) => AlarmStatistic::Extended(s.clone()),
            },
        };
    Ok((MetricKey::new(ns, name, dims), statistic, unit, period_s))
}

/// `Threshold` for static operators, `ThresholdMetricId` for anomaly bands.
fn threshold(i: &Input, comparison: Comparison) -> Result<Option<f64>, ApiError> {
    let t = i.threshold.map(|Float(t)| t);
    match (t, &i.threshold_metric_id) {
        (Some(_), Some(_)) => Err(invalid(
            "Threshold and ThresholdMetricId cannot both be set",
        )),
        (_, Some(_)) if !comparison.is_band() => Err(invalid(format!(
            "ThresholdMetricId can only be used with the comparison operators \
             LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold and \
             GreaterThanUpperThreshold, not {}.",
            comparison.as_str()
        ))),
        (_, None) if comparison.is_band() => Err(invalid(format!(
            "The comparison operator {} requires ThresholdMetricId.",
            comparison.as_str()
        ))),
        (_, Some(_)) if i.metrics.is_none() => {
            Err(invalid("ThresholdMetricId requires a list of Metrics."))
        }
        (None, None) => Err(invalid("Threshold must not be null")),
        (Some(t), None) => {
            validate::check_value(&|| "Threshold".to_string(), t)?;
            Ok(Some(t))
        }
        (None, Some(_)) => Ok(None),
    }
}
