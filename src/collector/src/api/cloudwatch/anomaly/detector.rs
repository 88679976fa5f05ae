//! An anomaly detector: what it watches and how its model is trained.
//!
//! # Stored form (the `spec` and `key` columns of `anomaly.db`)
//! `spec` is the [`Detector`] as JSON:
//! ```json
//! {"subject": {"type": "single", "namespace": "App", "metric_name": "Latency",
//!              "dimensions": [{"name": "Host", "value": "a"}], "stat": "p99"},
//!  "excluded": [[1700000000000, 1700003600000]],
//!  "timezone": "Europe/Paris",
//!  "periodic_spikes": true}
//! ```
//! or, for a metric-math detector, `"subject": {"type": "math", "queries": [Q, ...]}` with each
//! `Q` = `{"id", "label", "return_data", "metric": {"namespace", "metric_name", "dimensions",
//! "period", "stat", "unit"} | null, "expression": "..." | null, "period": N | null}`.
//! `excluded` holds inclusive `[start, end]` ranges in epoch milliseconds; `timezone` and
//! `periodic_spikes` may be null. `key` is the JSON of `subject` alone (dimensions sorted by
//! name), so putting the same metric and statistic again replaces the detector.

use hostwatch_aws::Shape;
use hostwatch_model::{Dimension, MetricKey};
use serde::{Deserialize, Serialize};

use crate::api::cloudwatch::math::{queries_from_json, DataQuery, QueryKind};
use hostwatch_aws::ApiError;

/// A metric query of a math detector, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMetricStat {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: Vec<Dimension>,
    pub period: i64,
    pub stat: String,
    pub unit: Option<String>,
}

/// One query of a math detector, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredQuery {
    pub id: String,
    pub label: Option<String>,
    pub return_data: bool,
    pub metric: Option<StoredMetricStat>,
    pub expression: Option<String>,
    pub period: Option<i64>,
}

/// What a detector watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    Single {
        namespace: String,
        metric_name: String,
        dimensions: Vec<Dimension>,
        stat: String,
    },
    Math {
        queries: Vec<StoredQuery>,
    },
}

/// One anomaly detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    pub subject: Subject,
    /// Inclusive `[start, end]` ranges (ms) left out of training.
    pub excluded: Vec<(i64, i64)>,
    pub timezone: Option<String>,
    pub periodic_spikes: Option<bool>,
}

impl Subject {
    /// The identity key (JSON of the subject).
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A single-metric subject (dimensions sorted).
    pub fn single(metric: MetricKey, stat: String) -> Subject {
        Subject::Single {
            namespace: metric.namespace,
            metric_name: metric.metric_name,
            dimensions: metric.dimensions,
            stat,
        }
    }

    /// A math subject from validated queries.
    pub fn math(queries: &[DataQuery]) -> Subject {
        Subject::Math {
            queries: queries.iter().map(stored).collect(),
        }
    }

    /// `SINGLE_METRIC` or `METRIC_MATH`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Subject::Single { .. } => "SINGLE_METRIC",
            Subject::Math { .. } => "METRIC_MATH",
        }
    }
}

fn stored(q: &DataQuery) -> StoredQuery {
    let (metric, expression, period) = match &q.kind {
        QueryKind::Metric(m) => (
            Some(StoredMetricStat {
                namespace: m.metric.namespace.clone(),
                metric_name: m.metric.metric_name.clone(),
                dimensions: m.metric.dimensions.clone(),
                period: m.period_s,
                stat: m.stat_name.clone(),
                unit: m.unit.map(|u| u.as_str().to_string()),
            }),
            None,
            None,
        ),
        QueryKind::Expression(e) => (None, Some(e.text.clone()), e.period_s),
    };
    StoredQuery {
        id: q.id.clone(),
        label: q.label.clone(),
        return_data: q.return_data,
        metric,
        expression,
        period,
    }
}

fn dimensions_shape(dims: &[Dimension]) -> Shape {
    Shape::list(dims.iter().map(|d| {
        Shape::obj()
            .with("Name", d.name.as_str())
            .with("Value", d.value.as_str())
    }))
}

fn dimensions_json(dims: &[Dimension]) -> serde_json::Value {
    dims.iter()
        .map(|d| serde_json::json!({"Name": d.name, "Value": d.value}))
        .collect()
}

impl StoredQuery {
    /// The `MetricDataQuery` output shape.
    pub fn shape(&self) -> Shape {
        let metric_stat = self.metric.as_ref().map(|m| {
            Shape::obj()
                .with(
                    "Metric",
                    Shape::obj()
                        .with("Namespace", m.namespace.as_str())
                        .with("MetricName", m.metric_name.as_str())
                        .with("Dimensions", dimensions_shape(&m.dimensions)),
                )
                .with("Period", m.period)
                .with("Stat", m.stat.as_str())
                .with_opt("Unit", m.unit.as_deref())
        });
        Shape::obj()
            .with("Id", self.id.as_str())
            .with_opt("MetricStat", metric_stat)
            .with_opt("Expression", self.expression.as_deref())
            .with_opt("Label", self.label.as_deref())
            .with("ReturnData", self.return_data)
            .with_opt("Period", self.period)
    }

    /// The query in the awsJson input shape.
    fn json(&self) -> serde_json::Value {
        let mut o = serde_json::json!({"Id": self.id, "ReturnData": self.return_data});
        if let Some(m) = &self.metric {
            let mut ms = serde_json::json!({
                "Metric": {"Namespace": m.namespace, "MetricName": m.metric_name,
                           "Dimensions": dimensions_json(&m.dimensions)},
                "Period": m.period, "Stat": m.stat});
            if let Some(u) = &m.unit {
                ms["Unit"] = serde_json::json!(u);
            }
            o["MetricStat"] = ms;
        }
        if let Some(e) = &self.expression {
            o["Expression"] = serde_json::json!(e);
        }
        if let Some(l) = &self.label {
            o["Label"] = serde_json::json!(l);
        }
        if let Some(p) = self.period {
            o["Period"] = serde_json::json!(p);
        }
        o
    }
}

/// Rebuild validated queries from stored ones.
pub fn to_queries(stored: &[StoredQuery]) -> Result<Vec<DataQuery>, ApiError> {
    let list: serde_json::Value = stored.iter().map(StoredQuery::json).collect();
    queries_from_json(&list, "MetricDataQueries")
}

impl Detector {
    /// The `AnomalyDetector` output shape with training state `state`.
    pub fn shape(&self, state: &str) -> Shape {
        let ranges = Shape::list(self.excluded.iter().map(|(a, b)| {
            Shape::obj()
                .with("StartTime", Shape::Timestamp(*a))
                .with("EndTime", Shape::Timestamp(*b))
        }));
        let config = Shape::obj()
            .with("ExcludedTimeRanges", ranges)
            .with_opt("MetricTimezone", self.timezone.as_deref());
        let chars = self
            .periodic_spikes
            .map(|p| Shape::obj().with("PeriodicSpikes", p));
        match &self.subject {
            Subject::Single {
                namespace,
                metric_name,
                dimensions,
                stat,
            } => Shape::obj()
                .with("Namespace", namespace.as_str())
                .with("MetricName", metric_name.as_str())
                .with("Dimensions", dimensions_shape(dimensions))
                .with("Stat", stat.as_str())
                .with("Configuration", config)
                .with("StateValue", state)
                .with_opt("MetricCharacteristics", chars)
                .with(
                    "SingleMetricAnomalyDetector",
                    Shape::obj()
                        .with("Namespace", namespace.as_str())
                        .with("MetricName", metric_name.as_str())
                        .with("Dimensions", dimensions_shape(dimensions))
                        .with("Stat", stat.as_str()),
                ),
            Subject::Math { queries } => Shape::obj()
                .with("Configuration", config)
                .with("StateValue", state)
                .with_opt("MetricCharacteristics", chars)
                .with(
                    "MetricMathAnomalyDetector",
                    Shape::obj().with(
                        "MetricDataQueries",
                        Shape::list(queries.iter().map(StoredQuery::shape)),
                    ),
                ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_round_trips_and_keys_ignore_configuration() {
        let d = Detector {
            subject: Subject::single(
                MetricKey::new(
                    "App",
                    "Lat",
                    vec![Dimension::new("b", "2"), Dimension::new("a", "1")],
                ),
                "p99".into(),
            ),
            excluded: vec![(1, 2)],
            timezone: Some("Europe/Paris".into()),
            periodic_spikes: Some(true),
        };
        let text = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Detector>(&text).unwrap(), d);
        assert_eq!(
            d.subject.key(),
            r#"{"type":"single","namespace":"App","metric_name":"Lat","dimensions":[{"name":"a","value":"1"},{"name":"b","value":"2"}],"stat":"p99"}"#
        );
        let out = d.shape("TRAINED").to_json();
        assert_eq!(out["SingleMetricAnomalyDetector"]["Stat"], "p99");
        assert_eq!(
            out["Configuration"]["ExcludedTimeRanges"][0]["EndTime"],
            0.002
        );
        assert_eq!(out["MetricCharacteristics"]["PeriodicSpikes"], true);
    }

    #[test]
    fn math_queries_round_trip() {
        let list = json!([
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Err",
               "Dimensions": [{"Name": "H", "Value": "x"}]}, "Period": 300, "Stat": "Sum", "Unit": "Count"},
             "ReturnData": false},
            {"Id": "e1", "Expression": "m1 * 2", "Label": "twice", "ReturnData": true}
        ]);
        let qs = queries_from_json(&list, "MetricDataQueries").unwrap();
        let Subject::Math { queries } = Subject::math(&qs) else {
            panic!("math subject expected")
        };
        assert_eq!(to_queries(&queries).unwrap(), qs);
        let shape = queries[0].shape().to_json();
        assert_eq!(shape["MetricStat"]["Unit"], "Count");
        assert_eq!(shape["MetricStat"]["Metric"]["Dimensions"][0]["Name"], "H");
    }
}
