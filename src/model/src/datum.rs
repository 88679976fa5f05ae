//! Metric datums and log events.

use crate::Unit;
use serde::{Deserialize, Serialize};

/// One dimension (name/value pair) of a metric.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dimension {
    pub name: String,
    pub value: String,
}

impl Dimension {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Dimension {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// Pre-aggregated values (`StatisticValues` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatisticSet {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
}

/// The value part of a datum: one of the forms CloudWatch accepts. `Value` excludes the other
/// two; `Values`+`Counts` may come with `StatisticValues` (the CloudWatch agent sends both for
/// its distributions), in which case the set gives SampleCount, Sum, Minimum and Maximum and the
/// values give percentiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DatumValue {
    /// `Value`.
    Single(f64),
    /// `StatisticValues`.
    StatisticSet(StatisticSet),
    /// `Values` + `Counts` (counts default to 1 each), optionally with `StatisticValues`.
    Distribution {
        values: Vec<f64>,
        counts: Vec<f64>,
        stats: Option<StatisticSet>,
    },
}

impl DatumValue {
    /// A distribution carrying its own exact statistic set, as the CloudWatch agent sends
    /// aggregated StatsD and collectd values (`Values`+`Counts` with `StatisticValues`).
    pub fn distribution_with_stats(values: Vec<f64>, counts: Vec<f64>) -> DatumValue {
        let stats = DatumValue::Distribution {
            values: values.clone(),
            counts: counts.clone(),
            stats: None,
        }
        .to_statistic_set();
        DatumValue::Distribution {
            values,
            counts,
            stats: Some(stats),
        }
    }

    /// The statistic set this value aggregates to.
    pub fn to_statistic_set(&self) -> StatisticSet {
        match self {
            DatumValue::Single(v) => StatisticSet {
                sample_count: 1.0,
                sum: *v,
                minimum: *v,
                maximum: *v,
            },
            DatumValue::StatisticSet(s) => *s,
            DatumValue::Distribution { stats: Some(s), .. } => *s,
            DatumValue::Distribution {
                values,
                counts,
                stats: None,
            } => {
                let mut s = StatisticSet {
                    sample_count: 0.0,
                    sum: 0.0,
                    minimum: f64::INFINITY,
                    maximum: f64::NEG_INFINITY,
                };
                for (v, c) in values.iter().zip(counts.iter()) {
                    s.sample_count += c;
                    s.sum += v * c;
                    s.minimum = s.minimum.min(*v);
                    s.maximum = s.maximum.max(*v);
                }
                s
            }
        }
    }
}

/// One `MetricDatum`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDatum {
    pub metric_name: String,
    /// In the order given; CloudWatch identity treats them as a set (see [`MetricKey`]).
    pub dimensions: Vec<Dimension>,
    /// Milliseconds since the Unix epoch. `None` means "now" on the receiving side.
    pub timestamp_ms: Option<i64>,
    pub value: DatumValue,
    pub unit: Unit,
    /// 1 (high resolution) or 60 (standard).
    pub storage_resolution: u32,
}

/// The identity of a metric: namespace, name and the *set* of dimensions (sorted by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricKey {
    pub namespace: String,
    pub metric_name: String,
    /// Sorted by name, then value; names are unique.
    pub dimensions: Vec<Dimension>,
}

impl MetricKey {
    /// Build a key, sorting the dimensions so that order on the wire does not matter.
    pub fn new(
        namespace: impl Into<String>,
        metric_name: impl Into<String>,
        mut dimensions: Vec<Dimension>,
    ) -> Self {
        dimensions.sort();
        MetricKey {
            namespace: namespace.into(),
            metric_name: metric_name.into(),
            dimensions,
        }
    }
}

/// One log event as sent by `PutLogEvents` (`InputLogEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_aggregates_like_cloudwatch() {
        // Values [1,10] Counts [2,4] => SampleCount 6, Sum 42, Max 10 (recorded AWS behaviour).
        let v = DatumValue::Distribution {
            values: vec![1.0, 10.0],
            counts: vec![2.0, 4.0],
            stats: None,
        };
        let s = v.to_statistic_set();
        assert_eq!(s.sample_count, 6.0);
        assert_eq!(s.sum, 42.0);
        assert_eq!(s.maximum, 10.0);
        assert_eq!(s.minimum, 1.0);
    }

    #[test]
    fn distribution_with_exact_stats() {
        let v = DatumValue::distribution_with_stats(vec![1.0, 10.0], vec![2.0, 4.0]);
        let DatumValue::Distribution { stats: Some(s), .. } = v else {
            panic!("no stats: {v:?}");
        };
        assert_eq!(
            (s.sample_count, s.sum, s.minimum, s.maximum),
            (6.0, 42.0, 1.0, 10.0)
        );
    }

    #[test]
    fn statistic_values_win_over_values() {
        let stats = StatisticSet {
            sample_count: 7.0,
            sum: 43.0,
            minimum: 0.5,
            maximum: 10.0,
        };
        let v = DatumValue::Distribution {
            values: vec![1.0, 10.0],
            counts: vec![2.0, 4.0],
            stats: Some(stats),
        };
        assert_eq!(v.to_statistic_set(), stats);
    }

    #[test]
    fn key_ignores_dimension_order() {
        let a = MetricKey::new(
            "ns",
            "m",
            vec![Dimension::new("b", "2"), Dimension::new("a", "1")],
        );
        let b = MetricKey::new(
            "ns",
            "m",
            vec![Dimension::new("a", "1"), Dimension::new("b", "2")],
        );
        assert_eq!(a, b);
    }
}
