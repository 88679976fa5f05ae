//! The `AWS/Events` metrics that EventBridge publishes per rule, written by the delivery loop
//! into this collector's own metric store, so `get-metric-statistics`, alarms and the dashboard
//! see how a rule's targets fare.
//!
//! - `Invocations`: target invocations that ended, delivered or failed for good (retries
//!   pending are not counted until they end, as with EventBridge);
//! - `FailedInvocations`: invocations that failed for good (retries or event age used up, or a
//!   target that cannot be reached at all);
//! - `DeadLetterInvocations`: failed invocations whose event reached the target's dead-letter
//!   destination.
//!
//! Dimensions: `RuleName`, plus `EventBusName` for a rule on a custom bus (a default-bus rule
//! has only `RuleName`, as EventBridge publishes it). Unit `Count`. Each delivery tick that
//! ended invocations writes one datapoint per (metric, rule) with the tick's time; a metric
//! that stays zero in a tick is not written. Subscription-filter deliveries (not rules) count
//! nothing here.

use hostwatch_model::{DatumValue, Dimension, MetricKey, Unit};
use std::collections::BTreeMap;

use super::model::DEFAULT_BUS;
use crate::store::metrics::{Point, SeriesKey};

/// The namespace EventBridge publishes to.
pub const NAMESPACE: &str = "AWS/Events";

/// Counts of one rule within a tick.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RuleCounts {
    pub invocations: u64,
    pub failed: u64,
    pub dead_lettered: u64,
}

/// Counts per (bus, rule name).
pub type Counts = BTreeMap<(String, String), RuleCounts>;

/// The bus and name of a rule ARN (`...:rule/NAME` on the default bus, `...:rule/BUS/NAME`);
/// `None` for deliveries that do not come from a rule.
pub fn rule_of(rule_arn: &str) -> Option<(String, String)> {
    let (prefix, path) = rule_arn.split_once(":rule/")?;
    if !prefix.starts_with("arn:") {
        return None;
    }
    match path.split_once('/') {
        Some((bus, name)) => Some((bus.to_string(), name.to_string())),
        None => Some((DEFAULT_BUS.to_string(), path.to_string())),
    }
}

/// The datapoints for `counts` at `now_ms`.
pub fn points(counts: &Counts, now_ms: i64) -> Vec<(SeriesKey, Point)> {
    let ts_ms = now_ms - now_ms.rem_euclid(1000);
    let mut out = Vec::new();
    for ((bus, rule), c) in counts {
        let mut dims = vec![Dimension::new("RuleName", rule)];
        if bus != DEFAULT_BUS {
            dims.push(Dimension::new("EventBusName", bus));
        }
        for (name, n) in [
            ("Invocations", c.invocations),
            ("FailedInvocations", c.failed),
            ("DeadLetterInvocations", c.dead_lettered),
        ] {
            if n == 0 {
                continue;
            }
            out.push((
                SeriesKey {
                    metric: MetricKey::new(NAMESPACE, name, dims.clone()),
                    unit: Unit::Count,
                },
                Point {
                    ts_ms,
                    value: DatumValue::Single(n as f64),
                    high_res: false,
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_arns() {
        assert_eq!(
            rule_of("arn:aws:events:us-east-1:000000000000:rule/r1"),
            Some(("default".into(), "r1".into()))
        );
        assert_eq!(
            rule_of("arn:aws:events:us-east-1:000000000000:rule/ops/r2"),
            Some(("ops".into(), "r2".into()))
        );
        assert_eq!(
            rule_of("arn:aws:logs:us-east-1:0:log-group:g:subscription-filter:f"),
            None
        );
    }

    #[test]
    fn points_per_metric_and_rule() {
        let mut c = Counts::new();
        c.insert(
            ("default".into(), "r1".into()),
            RuleCounts {
                invocations: 3,
                failed: 1,
                dead_lettered: 0,
            },
        );
        c.insert(
            ("ops".into(), "r2".into()),
            RuleCounts {
                invocations: 1,
                ..RuleCounts::default()
            },
        );
        let p = points(&c, 1_700_000_000_250);
        let names: Vec<(String, Vec<String>, f64)> = p
            .iter()
            .map(|(k, pt)| {
                let v = match pt.value {
                    DatumValue::Single(v) => v,
                    _ => f64::NAN,
                };
                assert_eq!(pt.ts_ms, 1_700_000_000_000);
                assert_eq!(k.unit, Unit::Count);
                assert_eq!(k.metric.namespace, NAMESPACE);
                (
                    k.metric.metric_name.clone(),
                    k.metric
                        .dimensions
                        .iter()
                        .map(|d| format!("{}={}", d.name, d.value))
                        .collect(),
                    v,
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("Invocations".into(), vec!["RuleName=r1".into()], 3.0),
                ("FailedInvocations".into(), vec!["RuleName=r1".into()], 1.0),
                (
                    "Invocations".into(),
                    vec!["EventBusName=ops".into(), "RuleName=r2".into()],
                    1.0
                ),
            ]
        );
    }
}
