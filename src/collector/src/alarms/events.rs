//! EventBridge events for alarms, in AWS's exact shape, and the publishing seam.
//!
//! Two event kinds (source `aws.cloudwatch`, on the default event bus):
//! - `CloudWatch Alarm State Change`: `detail.{alarmName, configuration, previousState,
//!   state}`; a single-metric alarm's configuration is `metrics[]` with one `metricStat` whose
//!   `id` is a UUID kept with the alarm; a composite's is `alarmRule` and the suppressor
//!   settings, and its `state` carries `actionsSuppressedBy` / `actionsSuppressedReason` when
//!   the transition's actions are held;
//! - `CloudWatch Alarm Configuration Change`: `detail.{alarmName, operation (create | update |
//!   delete), state, configuration, previousConfiguration (update only)}`.
//!
//! Envelope: `version "0"`, `id` a UUID v4, `time` to the second (`…Z`), `region`, `account`,
//! `resources` = the alarm ARN. Timestamps inside `detail` are `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`.
//! Members are serialised in AWS's documented order.
//!
//! # Delivery
//! Events never leave this module directly: a state or configuration change writes an
//! [`Outgoing`] entry into the alarm store's outbox table **in the same transaction** as the
//! change. That table is the log the collector's default event bus consumes (the EventBridge
//! service, a later issue, reads it by sequence number). An [`EventPublisher`], when attached,
//! is handed every entry after its transaction committed, in sequence order; the store records
//! how far delivery got, so after a restart delivery resumes after the last recorded entry.
//! An entry is therefore never lost and never created twice; one whose delivery was not yet
//! recorded when the process died is handed over again, and consumers deduplicate by `seq`.
//!
//! Actions (`AlarmActions`, `OKActions`, …) are carried with the entry ([`DueActions`]) when
//! they are due: on a transition while actions are enabled and not suppressed, or when a
//! composite's suppression period releases them (an entry without an event).

use serde::{Deserialize, Serialize};

use super::model::{
    Alarm, AlarmConfig, AlarmStatus, CompositeAlarmConfig, MathQuery, MetricAlarmConfig,
    MetricSource, StateValue,
};
use super::timefmt::{detail_ts, event_time};

/// Actions to run for one alarm, carried with an outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueActions {
    pub alarm_name: String,
    pub alarm_arn: String,
    /// The state the actions are for.
    pub state: StateValue,
    /// Action ARNs, as configured.
    pub arns: Vec<String>,
}

/// One entry of the durable outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Position in the outbox; strictly increasing, never reused.
    pub seq: i64,
    /// When the entry was written, ms.
    pub created_ms: i64,
    /// The EventBridge event as JSON text; `None` for an entry that only releases actions.
    pub event: Option<String>,
    /// Actions due with this entry.
    pub actions: Option<DueActions>,
}

impl Outgoing {
    /// The event parsed as JSON.
    pub fn event_json(&self) -> Option<serde_json::Value> {
        self.event
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
    }
}

/// An outbox entry before it has a sequence number.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEntry {
    pub event: Option<String>,
    pub actions: Option<DueActions>,
}

/// A publisher refused or failed an entry; delivery is retried after the next commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event delivery failed: {0}")]
pub struct PublishError(pub String);

/// Where outbox entries are delivered (the default event bus, once it exists; tests).
pub trait EventPublisher: Send + Sync + std::fmt::Debug {
    /// Deliver one entry. Called in `seq` order, from one thread at a time.
    fn publish(&self, entry: &Outgoing) -> Result<(), PublishError>;
}

/// Region, account and ARN prefix of the alarms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    /// The ARN of alarm `name`.
    pub fn arn(&self, name: &str) -> String {
        super::model::alarm_arn(&self.region, &self.account, name)
    }
}

/// A random UUID v4.
pub fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[derive(Serialize)]
struct Envelope<'a, D: Serialize> {
    version: &'static str,
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    source: &'static str,
    account: &'a str,
    time: String,
    region: &'a str,
    resources: Vec<String>,
    detail: D,
}

#[derive(Serialize)]
struct StateJson {
    #[serde(
        rename = "actionsSuppressedBy",
        skip_serializing_if = "Option::is_none"
    )]
    actions_suppressed_by: Option<&'static str>,
    #[serde(
        rename = "actionsSuppressedReason",
        skip_serializing_if = "Option::is_none"
    )]
    actions_suppressed_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(rename = "reasonData", skip_serializing_if = "Option::is_none")]
    reason_data: Option<String>,
    timestamp: String,
    value: &'static str,
}

#[derive(Serialize)]
struct MetricJson<'a> {
    dimensions: serde_json::Map<String, serde_json::Value>,
    name: &'a str,
    namespace: &'a str,
}

#[derive(Serialize)]
struct MetricStatJson<'a> {
    metric: MetricJson<'a>,
    period: i64,
    stat: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
}

#[derive(Serialize)]
struct MetricEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expression: Option<&'a str>,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(rename = "metricStat", skip_serializing_if = "Option::is_none")]
    metric_stat: Option<MetricStatJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<i64>,
    #[serde(rename = "returnData")]
    return_data: bool,
}

/// The `configuration` of a state-change event.
#[derive(Serialize)]
struct StateChangeConfig<'a> {
    #[serde(rename = "alarmRule", skip_serializing_if = "Option::is_none")]
    alarm_rule: Option<&'a str>,
    #[serde(rename = "actionsSuppressor", skip_serializing_if = "Option::is_none")]
    actions_suppressor: Option<&'a str>,
    #[serde(
        rename = "actionsSuppressorWaitPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    wait: Option<i64>,
    #[serde(
        rename = "actionsSuppressorExtensionPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    extension: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<MetricEntry<'a>>>,
}

#[derive(Serialize)]
struct StateChangeDetail<'a> {
    #[serde(rename = "alarmName")]
    alarm_name: &'a str,
    configuration: StateChangeConfig<'a>,
    #[serde(rename = "previousState")]
    previous_state: StateJson,
    state: StateJson,
}

/// The `configuration` of a configuration-change event.
#[derive(Serialize)]
struct FullConfig<'a> {
    #[serde(rename = "alarmRule", skip_serializing_if = "Option::is_none")]
    alarm_rule: Option<&'a str>,
    #[serde(rename = "actionsSuppressor", skip_serializing_if = "Option::is_none")]
    actions_suppressor: Option<&'a str>,
    #[serde(
        rename = "actionsSuppressorWaitPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    wait: Option<i64>,
    #[serde(
        rename = "actionsSuppressorExtensionPeriod",
        skip_serializing_if = "Option::is_none"
    )]
    extension: Option<i64>,
    #[serde(rename = "evaluationPeriods", skip_serializing_if = "Option::is_none")]
    evaluation_periods: Option<u32>,
    #[serde(rename = "datapointsToAlarm", skip_serializing_if = "Option::is_none")]
    datapoints_to_alarm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(rename = "thresholdMetricId", skip_serializing_if = "Option::is_none")]
    threshold_metric_id: Option<&'a str>,
    #[serde(rename = "comparisonOperator", skip_serializing_if = "Option::is_none")]
    comparison_operator: Option<&'static str>,
    #[serde(rename = "treatMissingData", skip_serializing_if = "Option::is_none")]
    treat_missing_data: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<MetricEntry<'a>>>,
    #[serde(rename = "alarmName")]
    alarm_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "actionsEnabled")]
    actions_enabled: bool,
    timestamp: String,
    #[serde(rename = "okActions")]
    ok_actions: &'a [String],
    #[serde(rename = "alarmActions")]
    alarm_actions: &'a [String],
    #[serde(rename = "insufficientDataActions")]
    insufficient_data_actions: &'a [String],
}

#[derive(Serialize)]
struct ConfigChangeDetail<'a> {
    #[serde(rename = "alarmName")]
    alarm_name: &'a str,
    operation: &'static str,
    state: StateJson,
    configuration: FullConfig<'a>,
    #[serde(
        rename = "previousConfiguration",
        skip_serializing_if = "Option::is_none"
    )]
    previous_configuration: Option<FullConfig<'a>>,
}

fn dimensions_map(
    metric: &hostwatch_model::MetricKey,
) -> serde_json::Map<String, serde_json::Value> {
    metric
        .dimensions
        .iter()
        .map(|d| (d.name.clone(), serde_json::Value::String(d.value.clone())))
        .collect()
}

fn metric_stat_json(spec: &super::model::MetricStatSpec) -> MetricStatJson<'_> {
    MetricStatJson {
        metric: MetricJson {
            dimensions: dimensions_map(&spec.metric),
            name: &spec.metric.metric_name,
            namespace: &spec.metric.namespace,
        },
        period: spec.period_s,
        stat: &spec.stat,
        unit: spec.unit.map(|u| u.as_str()),
    }
}

fn math_entry(q: &MathQuery) -> MetricEntry<'_> {
    MetricEntry {
        expression: q.expression.as_deref(),
        id: &q.id,
        label: q.label.as_deref(),
        metric_stat: q.metric_stat.as_ref().map(metric_stat_json),
        period: q.period_s,
        return_data: q.return_data,
    }
}

fn metric_entries(c: &MetricAlarmConfig) -> Vec<MetricEntry<'_>> {
    match &c.source {
        MetricSource::Single {
            metric,
            statistic,
            unit,
            event_id,
        } => vec![MetricEntry {
            expression: None,
            id: event_id,
            label: None,
            metric_stat: Some(MetricStatJson {
                metric: MetricJson {
                    dimensions: dimensions_map(metric),
                    name: &metric.metric_name,
                    namespace: &metric.namespace,
                },
                period: c.period_s,
                stat: statistic.name(),
                unit: unit.map(|u| u.as_str()),
            }),
            period: None,
            return_data: true,
        }],
        MetricSource::Math { queries, .. } => queries.iter().map(math_entry).collect(),
    }
}

fn state_json(s: &AlarmStatus, suppressed_by: Option<&'static str>) -> StateJson {
    StateJson {
        actions_suppressed_by: suppressed_by,
        actions_suppressed_reason: suppressed_by.map(|b| format!("Actions suppressed by {b}")),
        reason: Some(s.reason.clone()),
        reason_data: s.reason_data.clone(),
        timestamp: detail_ts(s.updated_ms),
        value: s.value.as_str(),
    }
}

fn envelope<D: Serialize>(
    scope: &Scope,
    name: &str,
    detail_type: &'static str,
    now_ms: i64,
    detail: D,
) -> String {
    let env = Envelope {
        version: "0",
        id: uuid_v4(),
        detail_type,
        source: "aws.cloudwatch",
        account: &scope.account,
        time: event_time(now_ms),
        region: &scope.region,
        resources: vec![scope.arn(name)],
        detail,
    };
    serde_json::to_string(&env).unwrap_or_else(|_| "{}".to_string())
}

/// `CloudWatch Alarm State Change` for `alarm` (already in its new state) leaving `previous`.
pub fn state_change(
    scope: &Scope,
    alarm: &Alarm,
    previous: &AlarmStatus,
    suppressed_by: Option<&'static str>,
    now_ms: i64,
) -> String {
    let configuration = match &alarm.config {
        AlarmConfig::Metric(c) => StateChangeConfig {
            alarm_rule: None,
            actions_suppressor: None,
            wait: None,
            extension: None,
            description: c.description.as_deref(),
            metrics: Some(metric_entries(c)),
        },
        AlarmConfig::Composite(c) => StateChangeConfig {
            alarm_rule: Some(&c.rule),
            actions_suppressor: c.suppressor_as_sent.as_deref(),
            wait: c.suppressor.as_ref().and(c.wait_period_s),
            extension: c.suppressor.as_ref().and(c.extension_period_s),
            description: c.description.as_deref(),
            metrics: None,
        },
    };
    let detail = StateChangeDetail {
        alarm_name: alarm.name(),
        configuration,
        previous_state: state_json(previous, None),
        state: state_json(&alarm.status, suppressed_by),
    };
    envelope(
        scope,
        alarm.name(),
        "CloudWatch Alarm State Change",
        now_ms,
        detail,
    )
}

fn full_config(config: &AlarmConfig) -> FullConfig<'_> {
    let actions = config.actions();
    let base = FullConfig {
        alarm_rule: None,
        actions_suppressor: None,
        wait: None,
        extension: None,
        evaluation_periods: None,
        datapoints_to_alarm: None,
        threshold: None,
        threshold_metric_id: None,
        comparison_operator: None,
        treat_missing_data: None,
        metrics: None,
        alarm_name: config.name(),
        description: config.description(),
        actions_enabled: actions.enabled,
        timestamp: detail_ts(config.updated_ms()),
        ok_actions: &actions.ok,
        alarm_actions: &actions.alarm,
        insufficient_data_actions: &actions.insufficient_data,
    };
    match config {
        AlarmConfig::Metric(c) => FullConfig {
            evaluation_periods: Some(c.evaluation_periods),
            datapoints_to_alarm: c.datapoints_to_alarm,
            threshold: c.threshold,
            threshold_metric_id: match &c.source {
                MetricSource::Math {
                    threshold_metric_id,
                    ..
                } => threshold_metric_id.as_deref(),
                MetricSource::Single { .. } => None,
            },
            comparison_operator: Some(c.comparison.as_str()),
            treat_missing_data: Some(
                c.treat_missing
                    .unwrap_or(super::model::TreatMissing::Missing)
                    .as_str(),
            ),
            metrics: Some(metric_entries(c)),
            ..base
        },
        AlarmConfig::Composite(c) => composite_full(c, base),
    }
}

fn composite_full<'a>(c: &'a CompositeAlarmConfig, base: FullConfig<'a>) -> FullConfig<'a> {
    FullConfig {
        alarm_rule: Some(&c.rule),
        actions_suppressor: c.suppressor_as_sent.as_deref(),
        wait: c.suppressor.as_ref().and(c.wait_period_s),
        extension: c.suppressor.as_ref().and(c.extension_period_s),
        ..base
    }
}

/// A configuration as the `configuration` member of a configuration-change event.
pub fn config_json(config: &AlarmConfig) -> serde_json::Value {
    serde_json::to_value(full_config(config)).unwrap_or_default()
}

/// What a configuration change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    /// The `operation` member.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// `CloudWatch Alarm Configuration Change`.
pub fn config_change(
    scope: &Scope,
    alarm: &Alarm,
    operation: Operation,
    previous: Option<&AlarmConfig>,
    now_ms: i64,
) -> String {
    let state = StateJson {
        actions_suppressed_by: alarm.suppression.suppressed_by(),
        actions_suppressed_reason: None,
        reason: None,
        reason_data: None,
        timestamp: detail_ts(alarm.status.updated_ms),
        value: alarm.status.value.as_str(),
    };
    let detail = ConfigChangeDetail {
        alarm_name: alarm.name(),
        operation: operation.as_str(),
        state,
        configuration: full_config(&alarm.config),
        previous_configuration: previous.map(full_config),
    };
    envelope(
        scope,
        alarm.name(),
        "CloudWatch Alarm Configuration Change",
        now_ms,
        detail,
    )
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
