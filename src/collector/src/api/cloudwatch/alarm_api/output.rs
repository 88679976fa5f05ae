//! The `MetricAlarm` and `CompositeAlarm` output shapes (full, and the partial forms of
//! `ChildrenOfAlarmName` / `ParentsOfAlarmName`).

use hostwatch_aws::Shape;
use hostwatch_model::MetricKey;

use crate::alarms::events::Scope;
use crate::alarms::model::{
    Actions, Alarm, AlarmConfig, AlarmStatistic, CompositeAlarmConfig, MathQuery,
    MetricAlarmConfig, MetricSource,
};

fn dimensions(k: &MetricKey) -> Shape {
    Shape::list(k.dimensions.iter().map(|d| {
        Shape::obj()
            .with("Name", d.name.as_str())
            .with("Value", d.value.as_str())
    }))
}

fn strings(list: &[String]) -> Shape {
    Shape::list(list.iter().map(String::as_str))
}

fn with_actions(s: Shape, a: &Actions) -> Shape {
    s.with("ActionsEnabled", a.enabled)
        .with("OKActions", strings(&a.ok))
        .with("AlarmActions", strings(&a.alarm))
        .with("InsufficientDataActions", strings(&a.insufficient_data))
}

fn math_query(q: &MathQuery) -> Shape {
    let stat = q.metric_stat.as_ref().map(|m| {
        Shape::obj()
            .with(
                "Metric",
                Shape::obj()
                    .with("Namespace", m.metric.namespace.as_str())
                    .with("MetricName", m.metric.metric_name.as_str())
                    .with("Dimensions", dimensions(&m.metric)),
            )
            .with("Period", m.period_s)
            .with("Stat", m.stat.as_str())
            .with_opt("Unit", m.unit.map(|u| u.as_str()))
    });
    Shape::obj()
        .with("Id", q.id.as_str())
        .with_opt("MetricStat", stat)
        .with_opt("Expression", q.expression.as_deref())
        .with_opt("Label", q.label.as_deref())
        .with("ReturnData", q.return_data)
        .with_opt("Period", q.period_s)
        .with_opt("AccountId", q.account_id.as_deref())
}

fn metric_alarm(a: &Alarm, c: &MetricAlarmConfig, scope: &Scope) -> Shape {
    let mut s = Shape::obj()
        .with("AlarmName", c.name.as_str())
        .with("AlarmArn", scope.arn(&c.name))
        .with_opt("AlarmDescription", c.description.as_deref())
        .with(
            "AlarmConfigurationUpdatedTimestamp",
            Shape::Timestamp(c.updated_ms),
        );
    s = with_actions(s, &c.actions)
        .with("StateValue", a.status.value.as_str())
        .with("StateReason", a.status.reason.as_str())
        .with_opt("StateReasonData", a.status.reason_data.as_deref())
        .with(
            "StateUpdatedTimestamp",
            Shape::Timestamp(a.status.updated_ms),
        );
    match &c.source {
        MetricSource::Single {
            metric,
            statistic,
            unit,
            ..
        } => {
            let (basic, extended) = match statistic {
                AlarmStatistic::Statistic(n) => (Some(n.as_str()), None),
                AlarmStatistic::Extended(n) => (None, Some(n.as_str())),
            };
            s = s
                .with("MetricName", metric.metric_name.as_str())
                .with("Namespace", metric.namespace.as_str())
                .with_opt("Statistic", basic)
                .with_opt("ExtendedStatistic", extended)
                .with("Dimensions", dimensions(metric))
                .with("Period", c.period_s)
                .with_opt("Unit", unit.map(|u| u.as_str()));
        }
        MetricSource::Math { .. } => {}
    }
    s = s
        .with("EvaluationPeriods", c.evaluation_periods)
        .with_opt("DatapointsToAlarm", c.datapoints_to_alarm)
        .with_opt("Threshold", c.threshold)
        .with("ComparisonOperator", c.comparison.as_str())
        .with_opt("TreatMissingData", c.treat_missing.map(|t| t.as_str()))
        .with_opt(
            "EvaluateLowSampleCountPercentile",
            c.low_sample_count.map(|l| l.as_str()),
        );
    if let MetricSource::Math {
        queries,
        threshold_metric_id,
    } = &c.source
    {
        s = s
            .with("Metrics", Shape::list(queries.iter().map(math_query)))
            .with_opt("ThresholdMetricId", threshold_metric_id.as_deref());
    }
    s.with(
        "StateTransitionedTimestamp",
        Shape::Timestamp(a.status.transitioned_ms),
    )
}

fn composite_alarm(a: &Alarm, c: &CompositeAlarmConfig, scope: &Scope) -> Shape {
    let s = Shape::obj()
        .with("ActionsEnabled", c.actions.enabled)
        .with("AlarmActions", strings(&c.actions.alarm))
        .with("AlarmArn", scope.arn(&c.name))
        .with(
            "AlarmConfigurationUpdatedTimestamp",
            Shape::Timestamp(c.updated_ms),
        )
        .with_opt("AlarmDescription", c.description.as_deref())
        .with("AlarmName", c.name.as_str())
        .with("AlarmRule", c.rule.as_str())
        .with(
            "InsufficientDataActions",
            strings(&c.actions.insufficient_data),
        )
        .with("OKActions", strings(&c.actions.ok))
        .with("StateReason", a.status.reason.as_str())
        .with_opt("StateReasonData", a.status.reason_data.as_deref())
        .with(
            "StateUpdatedTimestamp",
            Shape::Timestamp(a.status.updated_ms),
        )
        .with("StateValue", a.status.value.as_str())
        .with(
            "StateTransitionedTimestamp",
            Shape::Timestamp(a.status.transitioned_ms),
        )
        .with_opt("ActionsSuppressedBy", a.suppression.suppressed_by())
        .with_opt("ActionsSuppressedReason", a.suppression.suppressed_reason());
    match &c.suppressor_as_sent {
        Some(sup) => s
            .with("ActionsSuppressor", sup.as_str())
            .with_opt("ActionsSuppressorWaitPeriod", c.wait_period_s)
            .with_opt("ActionsSuppressorExtensionPeriod", c.extension_period_s),
        None => s,
    }
}

/// The full shape of an alarm.
pub fn alarm(a: &Alarm, scope: &Scope) -> Shape {
    match &a.config {
        AlarmConfig::Metric(c) => metric_alarm(a, c, scope),
        AlarmConfig::Composite(c) => composite_alarm(a, c, scope),
    }
}

/// `ChildrenOfAlarmName` results: name, ARN, state and its timestamp.
pub fn child(a: &Alarm, scope: &Scope) -> Shape {
    Shape::obj()
        .with("AlarmName", a.name())
        .with("AlarmArn", scope.arn(a.name()))
        .with("StateValue", a.status.value.as_str())
        .with(
            "StateUpdatedTimestamp",
            Shape::Timestamp(a.status.updated_ms),
        )
}

/// `ParentsOfAlarmName` results: name and ARN.
pub fn parent(a: &Alarm, scope: &Scope) -> Shape {
    Shape::obj()
        .with("AlarmName", a.name())
        .with("AlarmArn", scope.arn(a.name()))
}
