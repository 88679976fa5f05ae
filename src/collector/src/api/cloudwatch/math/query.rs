//! The validated form of a `MetricDataQuery`, shared by GetMetricData (`MetricDataQueries`),
//! metric-math alarms (`PutMetricAlarm`'s `Metrics`) and metric-math anomaly detectors.
//!
//! Input shape (awsJson names; awsQuery spellings are accepted through the lenient types):
//! `{Id, MetricStat: {Metric: {Namespace, MetricName, Dimensions}, Period, Stat, Unit},
//!   Expression, Label, ReturnData, Period}`. Exactly one of `MetricStat` / `Expression`;
//! `Period` only with `Expression`; ids match `[a-z][A-Za-z0-9_]*` and are unique.
//! Errors name the query by its awsQuery path (`MetricDataQueries.member.2.Id`,
//! `Metrics.member.1.MetricStat.Stat`).

use hostwatch_aws::lenient::{Bool, Int, List};
use hostwatch_aws::ApiError;
use hostwatch_model::{MetricKey, Unit};
use serde::Deserialize;
use std::collections::HashSet;

use super::super::period;
use super::super::stat::Stat;
use super::super::validate::{self, DimensionInput, Violations};

/// One `MetricDataQuery` as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    id: Option<String>,
    metric_stat: Option<MetricStatInput>,
    expression: Option<String>,
    label: Option<String>,
    return_data: Option<Bool>,
    period: Option<Int>,
}

/// A `MetricStat` as sent (GetMetricData queries and alarm `Metrics` share it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricStatInput {
    metric: Option<MetricInput>,
    period: Option<Int>,
    stat: Option<String>,
    unit: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct MetricInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
}

/// A metric query: one statistic of one metric at one period.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    pub metric: MetricKey,
    pub period_s: i64,
    pub stat_name: String,
    pub stat: Stat,
    pub unit: Option<Unit>,
}

/// A math expression query.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpressionQuery {
    /// The expression as sent.
    pub text: String,
    /// `Period` of the query (seconds), used for the grid of series the expression creates
    /// itself (`TIME_SERIES`).
    pub period_s: Option<i64>,
}

/// What a query computes.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryKind {
    Metric(MetricQuery),
    Expression(ExpressionQuery),
}

/// One validated query.
#[derive(Debug, Clone, PartialEq)]
pub struct DataQuery {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    pub kind: QueryKind,
}

/// Validate a list of queries given as a JSON tree (`param` names the list in messages, e.g.
/// `"Metrics"` or `"MetricDataQueries"`). Checks each query and the uniqueness of ids; it does
/// not parse expressions (see [`super::validate_queries`]).
pub fn queries_from_json(
    list: &serde_json::Value,
    param: &str,
) -> Result<Vec<DataQuery>, ApiError> {
    let List(items): List<QueryInput> = serde_json::from_value(list.clone())
        .map_err(|e| ApiError::invalid_parameter_value(format!("Invalid request: {e}")))?;
    let mut v = Violations::default();
    let out = validate_list(&mut v, &items, param)?;
    v.finish()?;
    Ok(out)
}

/// Validate queries, recording model-constraint failures in `v`.
pub fn validate_list(
    v: &mut Violations,
    items: &[QueryInput],
    param: &str,
) -> Result<Vec<DataQuery>, ApiError> {
    let coral = lower_first(param);
    let mut ids = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, q) in items.iter().enumerate() {
        let dq = query(v, q, i + 1, param, &coral)?;
        if !ids.insert(dq.id.clone()) {
            return Err(ApiError::cloudwatch(
                "ValidationError",
                format!("The values for parameter id in {param} are not unique."),
            ));
        }
        out.push(dq);
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Whether `id` is a valid query id: `[a-z][A-Za-z0-9_]*`, at most 255 characters.
pub fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && id.len() <= 255
}

fn query(
    v: &mut Violations,
    q: &QueryInput,
    n: usize,
    param: &str,
    coral: &str,
) -> Result<DataQuery, ApiError> {
    let p = format!("{param}.member.{n}");
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
            QueryKind::Metric(metric_stat(v, ms, &p, &format!("{coral}.{n}.member"))?)
        }
        (None, Some(e)) => {
            v.length(&format!("{coral}.{n}.member.expression"), e, 1, 2048);
            let period_s = match q.period {
                Some(Int(ps)) => {
                    period::period_ms(ps, &format!("{p}.Period"))?;
                    Some(ps)
                }
                None => None,
            };
            QueryKind::Expression(ExpressionQuery {
                text: e.clone(),
                period_s,
            })
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
    coral_member: &str,
) -> Result<MetricQuery, ApiError> {
    let q = parse_metric_stat(v, ms, p, &format!("{coral_member}.metricStat"))?;
    period::period_ms(q.period_s, &format!("{p}.MetricStat.Period"))?;
    Ok(q)
}

/// Validate a `MetricStat` at parameter path `p` (`coral`: the same path in AWS's
/// `metricStat.metric...` spelling for violation messages). The period is only required here;
/// its rules differ between GetMetricData and alarms, so callers check it.
pub(crate) fn parse_metric_stat(
    v: &mut Violations,
    ms: &MetricStatInput,
    p: &str,
    coral: &str,
) -> Result<MetricQuery, ApiError> {
    let mp = format!("{p}.MetricStat");
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
    Ok(MetricQuery {
        metric: MetricKey::new(ns, name, dims),
        period_s,
        stat_name,
        stat,
        unit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alarm_metrics_shape_is_accepted_in_both_spellings() {
        let json = json!([
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Errors",
                "Dimensions": [{"Name": "Host", "Value": "a"}]}, "Period": 60, "Stat": "Sum", "Unit": "Count"},
             "ReturnData": false},
            {"Id": "e1", "Expression": "m1 * 2", "Label": "doubled", "ReturnData": true, "Period": 60}
        ]);
        let query = json!([
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Errors",
                "Dimensions": [{"Name": "Host", "Value": "a"}]}, "Period": "60", "Stat": "Sum", "Unit": "Count"},
             "ReturnData": "false"},
            {"Id": "e1", "Expression": "m1 * 2", "Label": "doubled", "ReturnData": "true", "Period": "60"}
        ]);
        for v in [json, query] {
            let q = queries_from_json(&v, "Metrics").unwrap();
            assert_eq!(q.len(), 2);
            assert!(!q[0].return_data);
            let QueryKind::Metric(m) = &q[0].kind else {
                panic!("metric expected")
            };
            assert_eq!(m.metric.metric_name, "Errors");
            assert_eq!(m.unit, Some(Unit::Count));
            assert_eq!(
                q[1].kind,
                QueryKind::Expression(ExpressionQuery {
                    text: "m1 * 2".into(),
                    period_s: Some(60)
                })
            );
            assert_eq!(q[1].label.as_deref(), Some("doubled"));
        }
    }

    #[test]
    fn errors_use_the_list_name() {
        let e = queries_from_json(
            &json!([{"Id": "x", "Expression": "1"}, {"Id": "x", "Expression": "2"}]),
            "Metrics",
        )
        .unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("The values for parameter id in Metrics are not unique.")
        );
        let e = queries_from_json(&json!([{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "A", "MetricName": "b"}, "Period": 60}}]), "Metrics")
            .unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("The parameter Metrics.member.1.MetricStat.Stat is required.")
        );
        let e = queries_from_json(&json!([{"Id": "e1", "Expression": ""}]), "Metrics").unwrap_err();
        assert!(
            e.message
                .as_deref()
                .unwrap_or("")
                .contains("'metrics.1.member.expression'"),
            "{e}"
        );
        assert!(queries_from_json(&json!({"Id": "x"}), "Metrics").is_err());
        for (id, ok) in [
            ("m1", true),
            ("a_B9", true),
            ("M1", false),
            ("1m", false),
            ("", false),
        ] {
            assert_eq!(valid_id(id), ok, "{id}");
        }
    }
}
