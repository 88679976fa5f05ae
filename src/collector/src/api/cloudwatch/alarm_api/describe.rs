//! DescribeAlarms (filters, AlarmTypes, ChildrenOfAlarmName / ParentsOfAlarmName, pagination)
//! and DescribeAlarmsForMetric.
//!
//! Alarms are listed by name. Without `AlarmTypes` only metric alarms are returned (AWS's
//! rule). `ChildrenOfAlarmName` / `ParentsOfAlarmName` exclude the other filters (only
//! `AlarmTypes`, `MaxRecords` and `NextToken` may accompany them) and return partial shapes;
//! without `AlarmTypes` they return both kinds. A page holds `MaxRecords` alarms (default 50)
//! across both lists; the token names the last alarm returned and is tied to the request.

use hostwatch_aws::lenient::{Int, List};
use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::{MetricKey, Unit};
use serde::Deserialize;

use super::common::{self, ALARM_TYPES};
use super::output;
use crate::alarms::model::{
    Alarm, AlarmConfig, AlarmKind, AlarmStatistic, MetricSource, StateValue,
};
use crate::alarms::AlarmService;
use crate::api::cloudwatch::token;
use crate::api::cloudwatch::validate::{self, DimensionInput, Violations};
use crate::api::parse_input;

const TOKEN_KIND: &str = "DescribeAlarms";
const DEFAULT_MAX_RECORDS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    alarm_names: Option<List<String>>,
    alarm_name_prefix: Option<String>,
    alarm_types: Option<List<String>>,
    children_of_alarm_name: Option<String>,
    parents_of_alarm_name: Option<String>,
    state_value: Option<String>,
    action_prefix: Option<String>,
    max_records: Option<Int>,
    next_token: Option<String>,
}

/// Which alarms a DescribeAlarms call selects.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Filtered {
        names: Vec<String>,
        prefix: Option<String>,
        state: Option<StateValue>,
        action_prefix: Option<String>,
    },
    ChildrenOf(String),
    ParentsOf(String),
}

/// A validated DescribeAlarms request.
#[derive(Debug, Clone)]
pub struct Query {
    pub selection: Selection,
    pub kinds: Vec<AlarmKind>,
    pub max: usize,
    /// Resume after this alarm name.
    pub after: Option<String>,
    pub fingerprint: String,
}

/// Parse `AlarmTypes` (model enum).
pub fn alarm_types(v: &mut Violations, list: Option<&List<String>>) -> Vec<AlarmKind> {
    let mut kinds = Vec::new();
    for t in list.map(|l| l.0.as_slice()).unwrap_or(&[]) {
        match AlarmKind::parse(t) {
            Some(k) if !kinds.contains(&k) => kinds.push(k),
            Some(_) => {}
            None => v.one_of("alarmTypes", t, &ALARM_TYPES),
        }
    }
    kinds
}

/// Validate a DescribeAlarms request.
pub fn validate(input: serde_json::Value, fingerprint: String) -> Result<Query, ApiError> {
    let i: Input = parse_input(input, true)?;
    let mut v = Violations::default();
    let names = i
        .alarm_names
        .as_ref()
        .map(|l| l.0.clone())
        .unwrap_or_default();
    v.list_size("alarmNames", names.len(), 0, 100);
    for n in &names {
        common::alarm_name(&mut v, "alarmNames", n);
    }
    if let Some(p) = &i.alarm_name_prefix {
        v.length("alarmNamePrefix", p, 1, 255);
    }
    if let Some(p) = &i.action_prefix {
        v.length("actionPrefix", p, 1, 1024);
    }
    for (path, n) in [
        ("childrenOfAlarmName", &i.children_of_alarm_name),
        ("parentsOfAlarmName", &i.parents_of_alarm_name),
    ] {
        if let Some(n) = n {
            common::alarm_name(&mut v, path, n);
        }
    }
    let state = i.state_value.as_deref().and_then(|s| {
        let parsed = StateValue::parse(s);
        if parsed.is_none() {
            let all: Vec<&str> = StateValue::ALL.iter().map(|s| s.as_str()).collect();
            v.one_of("stateValue", s, &all);
        }
        parsed
    });
    let kinds = alarm_types(&mut v, i.alarm_types.as_ref());
    let max = match i.max_records {
        None => DEFAULT_MAX_RECORDS,
        Some(Int(m)) => {
            common::between(&mut v, "maxRecords", m, 1, 100);
            usize::try_from(m).unwrap_or(1)
        }
    };
    v.finish()?;
    let filtered = !names.is_empty()
        || i.alarm_name_prefix.is_some()
        || i.state_value.is_some()
        || i.action_prefix.is_some();
    let selection = match (&i.children_of_alarm_name, &i.parents_of_alarm_name) {
        (Some(_), Some(_)) => {
            return Err(ApiError::cloudwatch(
                "ValidationError",
                "ChildrenOfAlarmName and ParentsOfAlarmName cannot be specified together.",
            ))
        }
        (Some(_), None) | (None, Some(_)) if filtered => {
            let which = if i.children_of_alarm_name.is_some() {
                "ChildrenOfAlarmName"
            } else {
                "ParentsOfAlarmName"
            };
            return Err(ApiError::cloudwatch(
                "ValidationError",
                format!(
                    "If you specify {which}, you cannot specify any other parameters in the \
                     request except for MaxRecords and NextToken."
                ),
            ));
        }
        (Some(c), None) => Selection::ChildrenOf(c.clone()),
        (None, Some(p)) => Selection::ParentsOf(p.clone()),
        (None, None) => {
            if !names.is_empty() && i.alarm_name_prefix.is_some() {
                return Err(ApiError::invalid_parameter_combination(
                    "The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and \
                     you have specified both.",
                ));
            }
            Selection::Filtered {
                names,
                prefix: i.alarm_name_prefix.clone(),
                state,
                action_prefix: i.action_prefix.clone(),
            }
        }
    };
    let after = match &i.next_token {
        None => None,
        Some(t) => {
            let (last, fp): (String, String) = token::decode(TOKEN_KIND, t)?;
            if fp != fingerprint {
                return Err(token::invalid());
            }
            Some(last)
        }
    };
    Ok(Query {
        selection,
        kinds,
        max,
        after,
        fingerprint,
    })
}

fn matches_filters(a: &Alarm, sel: &Selection) -> bool {
    let Selection::Filtered {
        names,
        prefix,
        state,
        action_prefix,
    } = sel
    else {
        return true;
    };
    let actions = a.config.actions();
    (names.is_empty() || names.iter().any(|n| n == a.name()))
        && prefix
            .as_ref()
            .is_none_or(|p| a.name().starts_with(p.as_str()))
        && state.is_none_or(|s| s == a.status.value)
        && action_prefix.as_ref().is_none_or(|p| {
            actions
                .ok
                .iter()
                .chain(&actions.alarm)
                .chain(&actions.insufficient_data)
                .any(|x| x.starts_with(p.as_str()))
        })
}

/// Run a DescribeAlarms query.
pub fn describe(service: &AlarmService, q: &Query) -> Shape {
    let scope = service.scope().clone();
    service.with_alarms(|alarms| {
        let kinds: Vec<AlarmKind> = match (&q.selection, q.kinds.is_empty()) {
            (Selection::Filtered { .. }, true) => vec![AlarmKind::Metric],
            (_, true) => vec![AlarmKind::Metric, AlarmKind::Composite],
            (_, false) => q.kinds.clone(),
        };
        let related: Option<Vec<&str>> = match &q.selection {
            Selection::ChildrenOf(c) => Some(match alarms.get(c).map(|a| &a.config) {
                Some(AlarmConfig::Composite(cfg)) => {
                    cfg.children.iter().map(String::as_str).collect()
                }
                _ => Vec::new(),
            }),
            Selection::ParentsOf(p) => Some(
                alarms
                    .values()
                    .filter(|a| match &a.config {
                        AlarmConfig::Composite(cfg) => cfg.children.iter().any(|k| k == p),
                        AlarmConfig::Metric(_) => false,
                    })
                    .map(Alarm::name)
                    .collect(),
            ),
            Selection::Filtered { .. } => None,
        };
        let from = match &q.after {
            Some(last) => std::ops::Bound::Excluded(last.clone()),
            None => std::ops::Bound::Unbounded,
        };
        let mut metric = Vec::new();
        let mut composite = Vec::new();
        let mut last = None;
        let mut more = false;
        for (name, a) in alarms.range((from, std::ops::Bound::Unbounded)) {
            if !kinds.contains(&a.config.kind()) || !matches_filters(a, &q.selection) {
                continue;
            }
            if related
                .as_ref()
                .is_some_and(|r| !r.contains(&name.as_str()))
            {
                continue;
            }
            if metric.len() + composite.len() == q.max {
                more = true;
                break;
            }
            let shape = match &q.selection {
                Selection::ChildrenOf(_) => output::child(a, &scope),
                Selection::ParentsOf(_) => output::parent(a, &scope),
                Selection::Filtered { .. } => output::alarm(a, &scope),
            };
            match a.config.kind() {
                AlarmKind::Metric => metric.push(shape),
                AlarmKind::Composite => composite.push(shape),
            }
            last = Some(name.clone());
        }
        let next = match (more, last) {
            (true, Some(l)) => Some(token::encode(TOKEN_KIND, &(l, &q.fingerprint))),
            _ => None,
        };
        Shape::obj()
            .with("MetricAlarms", Shape::List(metric))
            .with("CompositeAlarms", Shape::List(composite))
            .with_opt("NextToken", next)
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ForMetricInput {
    metric_name: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    extended_statistic: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    period: Option<Int>,
    unit: Option<String>,
}

/// A validated DescribeAlarmsForMetric request.
#[derive(Debug, Clone)]
pub struct ForMetric {
    metric: MetricKey,
    statistic: Option<AlarmStatistic>,
    period_s: Option<i64>,
    unit: Option<Unit>,
}

/// Validate a DescribeAlarmsForMetric request.
pub fn validate_for_metric(input: serde_json::Value) -> Result<ForMetric, ApiError> {
    let i: ForMetricInput = parse_input(input, true)?;
    let name = validate::required(i.metric_name.as_deref(), "MetricName")?;
    let ns = validate::required(i.namespace.as_deref(), "Namespace")?;
    let mut v = Violations::default();
    v.length("metricName", name, 1, 255);
    validate::namespace(&mut v, "namespace", ns);
    let dims = validate::dimensions(
        &mut v,
        i.dimensions
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        &|| "Dimensions".into(),
        &|| "dimensions".into(),
    )?;
    if let Some(s) = &i.statistic {
        let names: Vec<&str> = crate::api::cloudwatch::stat::Basic::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect();
        v.one_of("statistic", s, &names);
    }
    if let Some(Int(p)) = i.period {
        common::at_least(&mut v, "period", p, 1);
    }
    let unit = i
        .unit
        .as_deref()
        .map(|u| validate::unit(&mut v, "unit", Some(u)));
    v.finish()?;
    let statistic =
        match (&i.statistic, &i.extended_statistic) {
            (Some(_), Some(_)) => return Err(ApiError::invalid_parameter_combination(
                "The parameters Statistic and ExtendedStatistic are mutually exclusive and you \
                 have specified both.",
            )),
            (Some(s), None) => Some(AlarmStatistic::Statistic(s.clone())),
            (None, Some(s)) => Some(AlarmStatistic::Extended(s.clone())),
            (None, None) => None,
        };
    Ok(ForMetric {
        metric: MetricKey::new(ns, name, dims),
        statistic,
        period_s: i.period.map(|Int(p)| p),
        unit,
    })
}

/// Single-metric alarms on exactly this metric, with the optional filters.
pub fn for_metric(service: &AlarmService, q: &ForMetric) -> Shape {
    let scope = service.scope().clone();
    service.with_alarms(|alarms| {
        let list: Vec<Shape> = alarms
            .values()
            .filter(|a| match &a.config {
                AlarmConfig::Metric(c) => match &c.source {
                    MetricSource::Single {
                        metric,
                        statistic,
                        unit,
                        ..
                    } => {
                        *metric == q.metric
                            && q.statistic.as_ref().is_none_or(|s| s == statistic)
                            && q.period_s.is_none_or(|p| p == c.period_s)
                            && q.unit.is_none_or(|u| *unit == Some(u))
                    }
                    MetricSource::Math { .. } => false,
                },
                AlarmConfig::Composite(_) => false,
            })
            .map(|a| output::alarm(a, &scope))
            .collect();
        Shape::obj().with("MetricAlarms", Shape::List(list))
    })
}
