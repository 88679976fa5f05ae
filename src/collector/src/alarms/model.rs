//! The alarm data model: configurations (metric and composite), states, and the enums of the
//! CloudWatch API with their wire names.
//!
//! Every type here is `serde`-serialisable; the alarm store keeps a configuration and a state as
//! one JSON document each (see `store::alarms`), so adding an optional field never needs a
//! migration. Wire names (`OK`, `GreaterThanThreshold`, `notBreaching`, …) are the API's.

use hostwatch_model::{MetricKey, Unit};
use serde::{Deserialize, Serialize};

/// An alarm state (`StateValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StateValue {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl StateValue {
    /// Every state, in the order AWS lists them in validation messages.
    pub const ALL: [StateValue; 3] = [
        StateValue::InsufficientData,
        StateValue::Alarm,
        StateValue::Ok,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StateValue::Ok => "OK",
            StateValue::Alarm => "ALARM",
            StateValue::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<StateValue> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `ComparisonOperator`. The metric value is the left operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

impl Comparison {
    /// Every operator, in the service model's order.
    pub const ALL: [Comparison; 7] = [
        Comparison::GreaterThanOrEqualToThreshold,
        Comparison::GreaterThanThreshold,
        Comparison::LessThanThreshold,
        Comparison::LessThanOrEqualToThreshold,
        Comparison::LessThanLowerOrGreaterThanUpperThreshold,
        Comparison::LessThanLowerThreshold,
        Comparison::GreaterThanUpperThreshold,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Comparison::LessThanLowerOrGreaterThanUpperThreshold => {
                "LessThanLowerOrGreaterThanUpperThreshold"
            }
            Comparison::LessThanLowerThreshold => "LessThanLowerThreshold",
            Comparison::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Comparison> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The three operators that compare against an anomaly-detection band.
    pub fn is_band(self) -> bool {
        matches!(
            self,
            Comparison::LessThanLowerOrGreaterThanUpperThreshold
                | Comparison::LessThanLowerThreshold
                | Comparison::GreaterThanUpperThreshold
        )
    }

    /// Whether `value` breaches: against `threshold` for the static operators, against the band
    /// `[lower, upper]` for the band operators (`threshold` is then unused).
    pub fn breaches(self, value: f64, threshold: f64, band: Option<(f64, f64)>) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
            Comparison::LessThanLowerOrGreaterThanUpperThreshold => {
                band.is_some_and(|(lo, hi)| value < lo || value > hi)
            }
            Comparison::LessThanLowerThreshold => band.is_some_and(|(lo, _)| value < lo),
            Comparison::GreaterThanUpperThreshold => band.is_some_and(|(_, hi)| value > hi),
        }
    }

    /// The words of a state reason: `greater than`, `less than or equal to`, …
    pub fn phrase(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "greater than or equal to",
            Comparison::GreaterThanThreshold => "greater than",
            Comparison::LessThanThreshold => "less than",
            Comparison::LessThanOrEqualToThreshold => "less than or equal to",
            Comparison::LessThanLowerOrGreaterThanUpperThreshold => {
                "less than the lower thresholds or greater than the upper thresholds"
            }
            Comparison::LessThanLowerThreshold => "less than the lower thresholds",
            Comparison::GreaterThanUpperThreshold => "greater than the upper thresholds",
        }
    }
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissing {
    #[serde(rename = "breaching")]
    Breaching,
    #[serde(rename = "notBreaching")]
    NotBreaching,
    #[serde(rename = "ignore")]
    Ignore,
    #[serde(rename = "missing")]
    Missing,
}

impl TreatMissing {
    /// Every value, as AWS documents them.
    pub const ALL: [TreatMissing; 4] = [
        TreatMissing::Breaching,
        TreatMissing::NotBreaching,
        TreatMissing::Ignore,
        TreatMissing::Missing,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissing::Breaching => "breaching",
            TreatMissing::NotBreaching => "notBreaching",
            TreatMissing::Ignore => "ignore",
            TreatMissing::Missing => "missing",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<TreatMissing> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// `EvaluateLowSampleCountPercentile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LowSampleCount {
    #[serde(rename = "evaluate")]
    Evaluate,
    #[serde(rename = "ignore")]
    Ignore,
}

impl LowSampleCount {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LowSampleCount::Evaluate => "evaluate",
            LowSampleCount::Ignore => "ignore",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<LowSampleCount> {
        match s {
            "evaluate" => Some(LowSampleCount::Evaluate),
            "ignore" => Some(LowSampleCount::Ignore),
            _ => None,
        }
    }
}

/// Which statistic a single-metric alarm uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmStatistic {
    /// `Statistic` (one of the five basic statistics).
    Statistic(String),
    /// `ExtendedStatistic` (percentiles, trimmed means, …).
    Extended(String),
}

impl AlarmStatistic {
    /// The statistic's name as sent.
    pub fn name(&self) -> &str {
        match self {
            AlarmStatistic::Statistic(s) | AlarmStatistic::Extended(s) => s,
        }
    }
}

/// A `MetricStat` of a metric-math alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricStatSpec {
    pub metric: MetricKey,
    pub period_s: i64,
    pub stat: String,
    pub unit: Option<Unit>,
}

/// One element of a metric-math alarm's `Metrics` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MathQuery {
    pub id: String,
    pub metric_stat: Option<MetricStatSpec>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: bool,
    /// `Period` of an expression query.
    pub period_s: Option<i64>,
    pub account_id: Option<String>,
}

/// What a metric alarm watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetricSource {
    /// `MetricName` + `Namespace` + `Dimensions` + a statistic.
    Single {
        metric: MetricKey,
        statistic: AlarmStatistic,
        unit: Option<Unit>,
        /// The id this metric gets in events (`configuration.metrics[0].id`), a UUID.
        event_id: String,
    },
    /// `Metrics`: GetMetricData-style queries; exactly one returns the alarm's series (two for
    /// an anomaly-band alarm: the series and the band named by `threshold_metric_id`).
    Math {
        queries: Vec<MathQuery>,
        threshold_metric_id: Option<String>,
    },
}

/// The actions of an alarm, by the state they are for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    pub enabled: bool,
    pub ok: Vec<String>,
    pub alarm: Vec<String>,
    pub insufficient_data: Vec<String>,
}

impl Actions {
    /// The configured actions for transitions into `state`.
    pub fn for_state(&self, state: StateValue) -> &[String] {
        match state {
            StateValue::Ok => &self.ok,
            StateValue::Alarm => &self.alarm,
            StateValue::InsufficientData => &self.insufficient_data,
        }
    }
}

/// A metric alarm's configuration (`PutMetricAlarm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricAlarmConfig {
    pub name: String,
    pub description: Option<String>,
    pub actions: Actions,
    pub source: MetricSource,
    /// The period of every datapoint, seconds.
    pub period_s: i64,
    /// N.
    pub evaluation_periods: u32,
    /// M, when sent (the reason texts differ when it is).
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: Option<f64>,
    pub comparison: Comparison,
    /// As sent; `None` behaves as `missing` and is not echoed by DescribeAlarms.
    pub treat_missing: Option<TreatMissing>,
    pub low_sample_count: Option<LowSampleCount>,
    /// `AlarmConfigurationUpdatedTimestamp`, ms.
    pub updated_ms: i64,
}

impl MetricAlarmConfig {
    /// M: `DatapointsToAlarm`, defaulting to N.
    pub fn m(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// The missing-data treatment in force (`AWS/DynamoDB` alarms always behave as `ignore`).
    pub fn effective_treat_missing(&self) -> TreatMissing {
        if let MetricSource::Single { metric, .. } = &self.source {
            if metric.namespace == "AWS/DynamoDB" {
                return TreatMissing::Ignore;
            }
        }
        self.treat_missing.unwrap_or(TreatMissing::Missing)
    }
}

/// A composite alarm's configuration (`PutCompositeAlarm`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeAlarmConfig {
    pub name: String,
    pub description: Option<String>,
    pub actions: Actions,
    /// `AlarmRule` as sent.
    pub rule: String,
    /// The alarms the rule references, by name, each once, in rule order.
    pub children: Vec<String>,
    /// `ActionsSuppressor`, resolved to an alarm name.
    pub suppressor: Option<String>,
    /// `ActionsSuppressor` as sent (a name or an ARN), echoed back.
    pub suppressor_as_sent: Option<String>,
    pub wait_period_s: Option<i64>,
    pub extension_period_s: Option<i64>,
    pub updated_ms: i64,
}

/// Either kind of alarm configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlarmConfig {
    Metric(MetricAlarmConfig),
    Composite(CompositeAlarmConfig),
}

impl AlarmConfig {
    /// The alarm's name.
    pub fn name(&self) -> &str {
        match self {
            AlarmConfig::Metric(c) => &c.name,
            AlarmConfig::Composite(c) => &c.name,
        }
    }

    /// The alarm's actions.
    pub fn actions(&self) -> &Actions {
        match self {
            AlarmConfig::Metric(c) => &c.actions,
            AlarmConfig::Composite(c) => &c.actions,
        }
    }

    /// Mutable access to the actions (Enable/DisableAlarmActions).
    pub fn actions_mut(&mut self) -> &mut Actions {
        match self {
            AlarmConfig::Metric(c) => &mut c.actions,
            AlarmConfig::Composite(c) => &mut c.actions,
        }
    }

    /// `AlarmDescription`.
    pub fn description(&self) -> Option<&str> {
        match self {
            AlarmConfig::Metric(c) => c.description.as_deref(),
            AlarmConfig::Composite(c) => c.description.as_deref(),
        }
    }

    /// `AlarmConfigurationUpdatedTimestamp`, ms.
    pub fn updated_ms(&self) -> i64 {
        match self {
            AlarmConfig::Metric(c) => c.updated_ms,
            AlarmConfig::Composite(c) => c.updated_ms,
        }
    }

    /// `MetricAlarm` or `CompositeAlarm`.
    pub fn kind(&self) -> AlarmKind {
        match self {
            AlarmConfig::Metric(_) => AlarmKind::Metric,
            AlarmConfig::Composite(_) => AlarmKind::Composite,
        }
    }
}

/// The two alarm types (`AlarmType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlarmKind {
    #[serde(rename = "MetricAlarm")]
    Metric,
    #[serde(rename = "CompositeAlarm")]
    Composite,
}

impl AlarmKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::Metric => "MetricAlarm",
            AlarmKind::Composite => "CompositeAlarm",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<AlarmKind> {
        match s {
            "MetricAlarm" => Some(AlarmKind::Metric),
            "CompositeAlarm" => Some(AlarmKind::Composite),
            _ => None,
        }
    }

    /// The stored code (`alarms.kind`, `history.alarm_type`).
    pub fn code(self) -> i64 {
        match self {
            AlarmKind::Metric => 0,
            AlarmKind::Composite => 1,
        }
    }

    /// Inverse of [`AlarmKind::code`].
    pub fn from_code(code: i64) -> Option<AlarmKind> {
        match code {
            0 => Some(AlarmKind::Metric),
            1 => Some(AlarmKind::Composite),
            _ => None,
        }
    }
}

/// An alarm's current state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmStatus {
    pub value: StateValue,
    pub reason: String,
    /// `StateReasonData`: a JSON document as a string.
    pub reason_data: Option<String>,
    /// `StateUpdatedTimestamp`, ms.
    pub updated_ms: i64,
    /// `StateTransitionedTimestamp`, ms: the last change of `value`.
    pub transitioned_ms: i64,
}

impl AlarmStatus {
    /// The state of a newly created alarm.
    pub fn initial(now_ms: i64) -> Self {
        AlarmStatus {
            value: StateValue::InsufficientData,
            reason: "Unchecked: Initial alarm creation".to_string(),
            reason_data: None,
            updated_ms: now_ms,
            transitioned_ms: now_ms,
        }
    }
}

/// One alarm: configuration, state, tags, and the bookkeeping of composite suppression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub config: AlarmConfig,
    pub status: AlarmStatus,
    /// Resource tags, sorted by key.
    pub tags: Vec<(String, String)>,
    /// Incremented by every configuration change; an evaluation computed for an older version
    /// is discarded.
    pub version: u64,
    /// Composite alarms only: the actions-suppression state.
    #[serde(default)]
    pub suppression: super::suppress::Suppression,
}

impl Alarm {
    /// The alarm's name.
    pub fn name(&self) -> &str {
        self.config.name()
    }
}

/// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`.
pub fn alarm_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for s in StateValue::ALL {
            assert_eq!(StateValue::parse(s.as_str()), Some(s));
        }
        for c in Comparison::ALL {
            assert_eq!(Comparison::parse(c.as_str()), Some(c));
        }
        for t in TreatMissing::ALL {
            assert_eq!(TreatMissing::parse(t.as_str()), Some(t));
        }
        assert_eq!(StateValue::parse("ok"), None);
        assert_eq!(
            serde_json::to_string(&StateValue::InsufficientData).unwrap(),
            "\"INSUFFICIENT_DATA\""
        );
    }

    #[test]
    fn comparisons() {
        use Comparison::*;
        let table = [
            (GreaterThanOrEqualToThreshold, 5.0, true),
            (GreaterThanOrEqualToThreshold, 4.9, false),
            (GreaterThanThreshold, 5.0, false),
            (GreaterThanThreshold, 5.1, true),
            (LessThanThreshold, 5.0, false),
            (LessThanThreshold, 4.9, true),
            (LessThanOrEqualToThreshold, 5.0, true),
            (LessThanOrEqualToThreshold, 5.1, false),
        ];
        for (op, v, want) in table {
            assert_eq!(op.breaches(v, 5.0, None), want, "{op:?} {v}");
        }
        let band = Some((1.0, 2.0));
        assert!(LessThanLowerOrGreaterThanUpperThreshold.breaches(0.5, 0.0, band));
        assert!(LessThanLowerOrGreaterThanUpperThreshold.breaches(2.5, 0.0, band));
        assert!(!LessThanLowerOrGreaterThanUpperThreshold.breaches(1.5, 0.0, band));
        assert!(LessThanLowerThreshold.breaches(0.5, 0.0, band));
        assert!(!GreaterThanUpperThreshold.breaches(0.5, 0.0, band));
        assert!(!GreaterThanUpperThreshold.breaches(9.0, 0.0, None));
    }
}
