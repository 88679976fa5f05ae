//! The default label of a GetMetricData result (when the query sets none).
//!
//! CloudWatch labels a metric query with its metric name, and appends the statistic and/or the
//! period **only when they differ between the metric queries of the same request**:
//! (Sum,60)+(Minimum,30) → `m Sum 60` / `m Minimum 30`; (Sum,60)+(Minimum,60) → `m Sum` /
//! `m Minimum`; (Sum,60)+(Sum,30) → `m 60` / `m 30`; identical → `m`. Units never appear.
//! An expression query without a label is labelled with its id.

use std::collections::HashSet;

use super::get_data::{DataQuery, QueryKind};

/// Default labels, index-aligned with `queries`.
pub fn default_labels(queries: &[DataQuery]) -> Vec<String> {
    let metrics = queries.iter().filter_map(|q| match &q.kind {
        QueryKind::Metric(m) => Some(m),
        QueryKind::Expression(_) => None,
    });
    let stats: HashSet<&str> = metrics.clone().map(|m| m.stat_name.as_str()).collect();
    let periods: HashSet<i64> = metrics.map(|m| m.period_s).collect();
    queries
        .iter()
        .map(|q| match &q.kind {
            QueryKind::Metric(m) => {
                let mut l = m.metric.metric_name.clone();
                if stats.len() > 1 {
                    l.push(' ');
                    l.push_str(&m.stat_name);
                }
                if periods.len() > 1 {
                    l.push_str(&format!(" {}", m.period_s));
                }
                l
            }
            QueryKind::Expression(_) => q.id.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::cloudwatch::get_data::MetricQuery;
    use crate::api::cloudwatch::stat::Stat;
    use hostwatch_model::MetricKey;

    fn q(stat: &str, period_s: i64) -> DataQuery {
        DataQuery {
            id: "x".into(),
            label: None,
            return_data: true,
            kind: QueryKind::Metric(MetricQuery {
                metric: MetricKey::new("ns", "metric1", vec![]),
                period_s,
                stat_name: stat.into(),
                stat: Stat::parse(stat).unwrap_or(Stat::Percentile(1.0)),
                unit: None,
            }),
        }
    }

    #[test]
    fn appends_only_what_differs() {
        assert_eq!(
            default_labels(&[q("Sum", 60), q("Minimum", 30)]),
            ["metric1 Sum 60", "metric1 Minimum 30"]
        );
        assert_eq!(
            default_labels(&[q("Sum", 60), q("Minimum", 60)]),
            ["metric1 Sum", "metric1 Minimum"]
        );
        assert_eq!(
            default_labels(&[q("Sum", 60), q("Sum", 30)]),
            ["metric1 60", "metric1 30"]
        );
        assert_eq!(
            default_labels(&[q("Sum", 60), q("Sum", 60)]),
            ["metric1", "metric1"]
        );
        assert_eq!(default_labels(&[q("p99", 60)]), ["metric1"]);
    }
}
