//! Metric filters: PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter,
//! TestMetricFilter.
//!
//! A metric filter turns matching log events of its group into datapoints as they are ingested
//! (see [`super::ingest`]); it never looks at events stored before it was created. Limits as
//! AWS: one `metricTransformations` member, at most 3 dimensions (only with JSON or
//! space-delimited patterns, and not together with `defaultValue`), 100 metric filters per
//! group, at most 5 filters with regular expressions per group (metric and subscription filters
//! together).

use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::Unit;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

use super::errors::{constraint, group_not_found, internal, invalid_parameter, missing, NOT_FOUND};
use super::filter_events::compile;
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_name, range};
use super::LogsApi;
use crate::api::parse_input;
use crate::logs_pattern::FilterPattern;
use crate::store::log_filters::{Job, MetricFilterDef, MetricTransformation};

/// Most metric filters in one group.
pub const MAX_METRIC_FILTERS: usize = 100;
/// Most filters (metric and subscription) with a regular expression in one group.
pub const MAX_REGEX_FILTERS: usize = 5;
/// Most dimensions of a metric transformation.
pub const MAX_DIMENSIONS: usize = 3;
/// Most log event messages in one TestMetricFilter call.
pub const MAX_TEST_MESSAGES: usize = 50;

const TOKEN_KIND: &str = "metric-filter";

/// `LimitExceededException` as AWS words it.
pub fn limit_exceeded() -> ApiError {
    ApiError::new("LimitExceededException", 400, "Resource limit exceeded.")
}

/// A filter name: 1–512 characters, no `:` or `*`.
pub fn filter_name(value: Option<&str>, member: &str) -> Result<String, ApiError> {
    let v = value.ok_or_else(|| missing(member))?;
    if v.is_empty() {
        return Err(constraint(
            v,
            member,
            "Member must have length greater than or equal to 1",
        ));
    }
    if v.chars().count() > 512 {
        return Err(constraint(
            v,
            member,
            "Member must have length less than or equal to 512",
        ));
    }
    if v.contains([':', '*']) {
        return Err(constraint(
            v,
            member,
            "Member must satisfy regular expression pattern: [^:*]*",
        ));
    }
    Ok(v.to_string())
}

/// `logGroupName` and `filterName` of a filter Put or Delete: both required and checked.
pub(super) fn group_and_name<'a>(
    group: Option<&'a str>,
    name: Option<&str>,
) -> Result<(&'a str, String), ApiError> {
    let group = group.ok_or_else(|| missing("logGroupName"))?;
    group_name(group, "logGroupName")?;
    Ok((group, filter_name(name, "filterName")?))
}

/// The required `filterPattern` of a filter Put, with its compiled form.
pub(super) fn required_pattern(src: Option<&str>) -> Result<(&str, FilterPattern), ApiError> {
    let src = src.ok_or_else(|| missing("filterPattern"))?;
    Ok((src, compile(src, "filterPattern")?))
}

/// The `filterNamePrefix` of a filter Describe: at most 512 characters.
pub(super) fn check_name_prefix(prefix: Option<&str>) -> Result<(), ApiError> {
    match prefix {
        Some(p) if p.chars().count() > 512 => Err(constraint(
            p,
            "filterNamePrefix",
            "Member must have length less than or equal to 512",
        )),
        _ => Ok(()),
    }
}

fn metric_name(value: Option<&str>, member: &str) -> Result<String, ApiError> {
    let v = value.ok_or_else(|| missing(member))?;
    if v.chars().count() > 255 {
        return Err(constraint(
            v,
            member,
            "Member must have length less than or equal to 255",
        ));
    }
    if v.is_empty() || v.contains([':', '*', '$']) {
        return Err(constraint(
            v,
            member,
            "Member must satisfy regular expression pattern: [^:*$]*",
        ));
    }
    Ok(v.to_string())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransformationInput {
    metric_name: Option<String>,
    metric_namespace: Option<String>,
    metric_value: Option<String>,
    default_value: Option<f64>,
    dimensions: Option<BTreeMap<String, String>>,
    unit: Option<String>,
}

impl TransformationInput {
    /// AWS's rendering of a transformation inside validation messages.
    fn render(&self) -> String {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
        format!(
            "MetricTransformation(metricName={}, metricNamespace={}, metricValue={}, defaultValue={}, unit={}, dimensions={})",
            s(&self.metric_name),
            s(&self.metric_namespace),
            s(&self.metric_value),
            self.default_value.map_or("null".into(), |v| v.to_string()),
            s(&self.unit),
            self.dimensions.as_ref().map_or("null".into(), |d| format!("{d:?}")),
        )
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
    filter_pattern: Option<String>,
    metric_transformations: Option<Vec<TransformationInput>>,
    apply_on_transformed_logs: Option<bool>,
}

/// Check a `metricValue` or a dimension value against the pattern: a number (metric values
/// only), `$.selector` (JSON patterns) or `$name` (a named field of a space-delimited pattern).
fn check_reference(v: &str, pattern: &FilterPattern, number_ok: bool) -> bool {
    if number_ok && crate::logs_pattern::value::number(v).is_some() {
        return true;
    }
    if v.starts_with("$.") {
        return pattern.is_json() && crate::logs_pattern::json::Path::parse(v).is_ok();
    }
    match v.strip_prefix('$') {
        Some(name) => {
            pattern.is_structured()
                && !pattern.is_json()
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

pub(super) async fn put_metric_filter(
    api: &LogsApi,
    input: serde_json::Value,
    now_ms: i64,
) -> Result<Option<Shape>, ApiError> {
    let i: PutInput = parse_input(input, false)?;
    let (group, name) = group_and_name(i.log_group_name.as_deref(), i.filter_name.as_deref())?;
    let (pattern_src, pattern) = required_pattern(i.filter_pattern.as_deref())?;
    let mut ts = i
        .metric_transformations
        .ok_or_else(|| missing("metricTransformations"))?;
    if ts.len() != 1 {
        let rendered: Vec<String> = ts.iter().map(TransformationInput::render).collect();
        let bound = if ts.is_empty() {
            "Member must have length greater than or equal to 1"
        } else {
            "Member must have length less than or equal to 1"
        };
        return Err(constraint(
            &format!("[{}]", rendered.join(", ")),
            "metricTransformations",
            bound,
        ));
    }
    let t = ts.remove(0);
    let m = "metricTransformations.1.member";
    let metric_name_v = metric_name(t.metric_name.as_deref(), &format!("{m}.metricName"))?;
    let namespace = metric_name(
        t.metric_namespace.as_deref(),
        &format!("{m}.metricNamespace"),
    )?;
    let value = t
        .metric_value
        .clone()
        .ok_or_else(|| missing(&format!("{m}.metricValue")))?;
    if value.is_empty() || value.chars().count() > 100 {
        return Err(constraint(
            &value,
            &format!("{m}.metricValue"),
            "Member must have length less than or equal to 100",
        ));
    }
    if !check_reference(&value, &pattern, true) {
        return Err(invalid_parameter(format!(
            "Invalid metric value '{value}': use a number, or a $.selector / $field of the filter pattern."
        )));
    }
    let dimensions = t.dimensions.clone().unwrap_or_default();
    if !dimensions.is_empty() {
        if dimensions.len() > MAX_DIMENSIONS {
            return Err(constraint(
                &format!("{dimensions:?}"),
                &format!("{m}.dimensions"),
                &format!("Member must have length less than or equal to {MAX_DIMENSIONS}"),
            ));
        }
        if !pattern.is_structured() {
            return Err(invalid_parameter(
                "The specified filter pattern does not support dimensions",
            ));
        }
        if t.default_value.is_some() {
            return Err(invalid_parameter(
                "A metric transformation cannot have both a defaultValue and dimensions.",
            ));
        }
        for (k, v) in &dimensions {
            if k.is_empty() || k.chars().count() > 255 || !check_reference(v, &pattern, false) {
                return Err(invalid_parameter(format!(
                    "Invalid dimension '{k}': its value must be a $.selector / $field of the filter pattern."
                )));
            }
        }
    }
    if let Some(u) = &t.unit {
        if Unit::from_str(u).is_err() {
            let all: Vec<&str> = Unit::all().map(Unit::as_str).collect();
            return Err(constraint(
                u,
                &format!("{m}.unit"),
                &format!("Member must satisfy enum value set: [{}]", all.join(", ")),
            ));
        }
    }
    if t.default_value.is_some_and(|d| !d.is_finite()) {
        return Err(invalid_parameter(
            "The defaultValue must be a finite number.",
        ));
    }
    let group_id = api.store.group_id(group)?;
    let _ddl = api.filter_ddl.lock().await;
    check_put_limits(api, group, group_id, &name, FilterKind::Metric, &pattern)?;
    let def = MetricFilterDef {
        group_name: group.to_string(),
        group_id,
        name,
        pattern: pattern_src.to_string(),
        transformation: MetricTransformation {
            metric_name: metric_name_v,
            metric_namespace: namespace,
            metric_value: value,
            default_value: t.default_value,
            dimensions,
            unit: t.unit,
        },
        creation_time: now_ms,
        apply_on_transformed_logs: i.apply_on_transformed_logs.unwrap_or(false),
    };
    api.filters
        .submit(Job::PutMetric(def))
        .await
        .map_err(|e| internal(&e))?;
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    metric_name: Option<String>,
    metric_namespace: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// The shape of one metric filter.
fn filter_shape(d: &MetricFilterDef) -> Shape {
    let t = &d.transformation;
    let mut ts = Shape::obj()
        .with("metricName", Shape::Str(t.metric_name.clone()))
        .with("metricNamespace", Shape::Str(t.metric_namespace.clone()))
        .with("metricValue", Shape::Str(t.metric_value.clone()));
    if let Some(v) = t.default_value {
        ts = ts.with("defaultValue", Shape::Float(v));
    }
    if !t.dimensions.is_empty() {
        let mut dims = Shape::obj();
        for (k, v) in &t.dimensions {
            dims = dims.with(k, Shape::Str(v.clone()));
        }
        ts = ts.with("dimensions", dims);
    }
    if let Some(u) = &t.unit {
        ts = ts.with("unit", Shape::Str(u.clone()));
    }
    Shape::obj()
        .with("filterName", Shape::Str(d.name.clone()))
        .with("filterPattern", Shape::Str(d.pattern.clone()))
        .with("metricTransformations", Shape::List(vec![ts]))
        .with("creationTime", Shape::Int(d.creation_time))
        .with("logGroupName", Shape::Str(d.group_name.clone()))
        .with(
            "applyOnTransformedLogs",
            Shape::Bool(d.apply_on_transformed_logs),
        )
}

pub(super) fn describe_metric_filters(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeInput = parse_input(input, false)?;
    if let Some(g) = &i.log_group_name {
        group_name(g, "logGroupName")?;
    }
    check_name_prefix(i.filter_name_prefix.as_deref())?;
    if let Some(n) = &i.metric_name {
        if n.chars().count() > 255 {
            return Err(constraint(
                n,
                "metricName",
                "Member must have length less than or equal to 255",
            ));
        }
    }
    if i.metric_name.is_some() != i.metric_namespace.is_some() {
        return Err(invalid_parameter(
            "metricName and metricNamespace must be specified together.",
        ));
    }
    let limit = i.limit.unwrap_or(50);
    range(limit, "limit", 1, 50)?;
    let after = i
        .next_token
        .as_deref()
        .map(|t| parse_list_token(TOKEN_KIND, t))
        .transpose()?;
    let group_ids: BTreeMap<String, i64> = api
        .store
        .with_catalog(|c| c.groups.values().map(|g| (g.name.clone(), g.id)).collect());
    if let Some(g) = &i.log_group_name {
        if !group_ids.contains_key(g) {
            return Err(group_not_found());
        }
    }
    let all = api.filters.with(|f| {
        f.metric
            .values()
            .filter(|x| group_ids.get(&x.def.group_name) == Some(&x.def.group_id))
            .map(|x| x.def.clone())
            .collect::<Vec<_>>()
    });
    let mut page = Vec::new();
    let mut more = false;
    for d in all {
        if let Some(g) = &i.log_group_name {
            if &d.group_name != g {
                continue;
            }
            if let Some(p) = &i.filter_name_prefix {
                if !d.name.starts_with(p.as_str()) {
                    continue;
                }
            }
        }
        if let (Some(n), Some(ns)) = (&i.metric_name, &i.metric_namespace) {
            if &d.transformation.metric_name != n || &d.transformation.metric_namespace != ns {
                continue;
            }
        }
        if let Some(a) = &after {
            if a.len() != 2 || (d.group_name.as_str(), d.name.as_str()) <= (&a[0], &a[1]) {
                continue;
            }
        }
        if page.len() == limit as usize {
            more = true;
            break;
        }
        page.push(d);
    }
    let mut out = Shape::obj().with(
        "metricFilters",
        Shape::List(page.iter().map(filter_shape).collect()),
    );
    if let (true, Some(last)) = (more, page.last()) {
        out = out.with(
            "nextToken",
            Shape::Str(list_token(TOKEN_KIND, &[&last.group_name, &last.name])),
        );
    }
    Ok(Some(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
}

/// The two kinds of log-group filter, which share one delete path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FilterKind {
    Metric,
    Subscription,
}

/// The limits a put must respect, checked under `filter_ddl`: at most [`MAX_METRIC_FILTERS`]
/// metric filters or [`super::subscriptions::MAX_SUBSCRIPTIONS`] subscription filters in the
/// group (replacing one of the same name is always allowed), and at most
/// [`MAX_REGEX_FILTERS`] filters with a regex across both kinds.
pub(super) fn check_put_limits(
    api: &LogsApi,
    group: &str,
    group_id: i64,
    name: &str,
    kind: FilterKind,
    pattern: &FilterPattern,
) -> Result<(), ApiError> {
    // (name, kind, has a regex) of every live filter of the group.
    let filters: Vec<(String, FilterKind, bool)> = api.filters.with(|f| {
        let metric = f.metric_of(group, group_id).into_iter().map(|x| {
            let regex = x.pattern.regex_count() > 0;
            (x.def.name.clone(), FilterKind::Metric, regex)
        });
        let subscription = f.subscription_of(group, group_id).into_iter().map(|x| {
            let regex = x.pattern.regex_count() > 0;
            (x.def.name.clone(), FilterKind::Subscription, regex)
        });
        metric.chain(subscription).collect()
    });
    let same = |n: &str, k: FilterKind| k == kind && n == name;
    let of_kind = filters.iter().filter(|(_, k, _)| *k == kind).count();
    let exists = filters.iter().any(|(n, k, _)| same(n, *k));
    let max = match kind {
        FilterKind::Metric => MAX_METRIC_FILTERS,
        FilterKind::Subscription => super::subscriptions::MAX_SUBSCRIPTIONS,
    };
    if !exists && of_kind >= max {
        return Err(limit_exceeded());
    }
    let regex_filters = filters
        .iter()
        .filter(|(n, k, regex)| *regex && !same(n, *k))
        .count();
    if pattern.regex_count() > 0 && regex_filters >= MAX_REGEX_FILTERS {
        return Err(limit_exceeded());
    }
    Ok(())
}

pub(super) async fn delete_metric_filter(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    delete_filter(api, input, FilterKind::Metric).await
}

/// DeleteMetricFilter and DeleteSubscriptionFilter: the filter must exist in the group (a
/// filter left from a deleted group of the same name does not count).
pub(super) async fn delete_filter(
    api: &LogsApi,
    input: serde_json::Value,
    kind: FilterKind,
) -> Result<Option<Shape>, ApiError> {
    let i: DeleteInput = parse_input(input, false)?;
    let (group, name) = group_and_name(i.log_group_name.as_deref(), i.filter_name.as_deref())?;
    let group_id = api.store.group_id(group)?;
    let _ddl = api.filter_ddl.lock().await;
    let key = (group.to_string(), name.clone());
    let exists = api.filters.with(|f| match kind {
        FilterKind::Metric => f.metric.get(&key).map(|x| x.def.group_id),
        FilterKind::Subscription => f.subscription.get(&key).map(|x| x.def.group_id),
    }) == Some(group_id);
    if !exists {
        let message = match kind {
            FilterKind::Metric => "The specified metric filter does not exist.",
            FilterKind::Subscription => "The specified subscription filter does not exist.",
        };
        return Err(ApiError::new(NOT_FOUND, 400, message));
    }
    let (group, name) = key;
    let job = match kind {
        FilterKind::Metric => Job::DeleteMetric { group, name },
        FilterKind::Subscription => Job::DeleteSubscription { group, name },
    };
    api.filters.submit(job).await.map_err(|e| internal(&e))?;
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestInput {
    filter_pattern: Option<String>,
    log_event_messages: Option<Vec<String>>,
}

pub(super) fn test_metric_filter(input: serde_json::Value) -> Result<Option<Shape>, ApiError> {
    let i: TestInput = parse_input(input, false)?;
    let pattern = compile(
        i.filter_pattern
            .as_deref()
            .ok_or_else(|| missing("filterPattern"))?,
        "filterPattern",
    )?;
    let messages = i
        .log_event_messages
        .ok_or_else(|| missing("logEventMessages"))?;
    if messages.is_empty() || messages.len() > MAX_TEST_MESSAGES {
        let bound = if messages.is_empty() {
            "Member must have length greater than or equal to 1".to_string()
        } else {
            format!("Member must have length less than or equal to {MAX_TEST_MESSAGES}")
        };
        return Err(invalid_parameter(format!(
            "1 validation error detected: Value at 'logEventMessages' failed to satisfy constraint: {bound}"
        )));
    }
    let matches: Vec<Shape> = messages
        .iter()
        .enumerate()
        .filter_map(|(n, m)| {
            let x = pattern.match_fields(m)?;
            let mut values = Shape::obj();
            for (k, v) in x.values() {
                values = values.with(&k, Shape::Str(v));
            }
            Some(
                Shape::obj()
                    .with("eventNumber", Shape::Int(n as i64 + 1))
                    .with("eventMessage", Shape::Str(m.clone()))
                    .with("extractedValues", values),
            )
        })
        .collect();
    Ok(Some(Shape::obj().with("matches", Shape::List(matches))))
}
