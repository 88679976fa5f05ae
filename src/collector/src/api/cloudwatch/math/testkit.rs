//! Test helpers: an in-memory [`Source`] and query builders.

use hostwatch_aws::ApiError;
use hostwatch_model::MetricKey;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::eval::{BandTarget, Fetched, Source, Window};
use super::query::{DataQuery, ExpressionQuery, MetricQuery, QueryKind};
use super::value::Grid;
use super::{run, QueryResult};
use crate::api::cloudwatch::anomaly::model::Model;
use crate::api::cloudwatch::stat::Stat;

/// One minute, the fixtures' period.
pub const MIN: i64 = 60_000;

/// Series by metric name; every statistic reads the same values. Counts trainings.
#[derive(Default)]
pub struct Fake {
    pub data: HashMap<String, Vec<(i64, f64)>>,
    pub excluded: Vec<(i64, i64)>,
    pub models: RefCell<HashMap<String, Option<Arc<Model>>>>,
    pub trainings: RefCell<usize>,
}

impl Fake {
    /// Metric `name` with value `vals[k]` at `k` minutes (None: missing).
    pub fn with(mut self, name: &str, vals: &[Option<f64>]) -> Self {
        let pts = vals
            .iter()
            .enumerate()
            .filter_map(|(k, v)| v.map(|v| (k as i64 * MIN, v)))
            .collect();
        self.data.insert(name.to_string(), pts);
        self
    }
}

impl Source for Fake {
    fn metric(
        &self,
        q: &MetricQuery,
        grid: Grid,
        _: bool,
        _: i64,
    ) -> Result<Fetched, super::error::MathError> {
        let points = self
            .data
            .get(&q.metric.metric_name)
            .map(|p| {
                p.iter()
                    .copied()
                    .filter(|(t, _)| {
                        *t >= grid.start && *t < grid.end && (t - grid.start) % grid.period == 0
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Fetched {
            points,
            messages: Vec::new(),
        })
    }
    fn exclusions(&self, target: BandTarget<'_>) -> Vec<(i64, i64)> {
        match target {
            BandTarget::Metric(_) => self.excluded.clone(),
            _ => Vec::new(),
        }
    }
    fn cached_model(&self, key: &str) -> Option<Option<Arc<Model>>> {
        self.models.borrow().get(key).cloned()
    }
    fn store_model(&self, key: String, model: Option<Arc<Model>>) {
        *self.trainings.borrow_mut() += 1;
        self.models.borrow_mut().insert(key, model);
    }
}

/// A metric query on metric `name` (namespace `App`, `Average`, one minute).
pub fn metric(id: &str, name: &str) -> DataQuery {
    DataQuery {
        id: id.into(),
        label: None,
        return_data: false,
        kind: QueryKind::Metric(MetricQuery {
            metric: MetricKey::new("App", name, vec![]),
            period_s: 60,
            stat_name: "Average".into(),
            stat: Stat::parse("Average").unwrap_or(Stat::Percentile(50.0)),
            unit: None,
        }),
    }
}

/// An expression query returning data.
pub fn expr(id: &str, text: &str) -> DataQuery {
    DataQuery {
        id: id.into(),
        label: None,
        return_data: true,
        kind: QueryKind::Expression(ExpressionQuery {
            text: text.into(),
            period_s: None,
        }),
    }
}

/// Evaluate over `[0, minutes)` with "now" at the end.
pub fn run_fake(
    queries: &[DataQuery],
    fake: &Fake,
    minutes: i64,
) -> Result<Vec<QueryResult>, ApiError> {
    let window = Window {
        start_ms: 0,
        end_ms: minutes * MIN,
        now_ms: minutes * MIN,
        history: false,
    };
    run(queries, fake, window)
}

/// A result's values on the minute grid `0..minutes` (None where there is no datapoint).
pub fn dense(r: &QueryResult, minutes: i64) -> Vec<Option<f64>> {
    let s = &r.2;
    (0..minutes)
        .map(|k| {
            s.timestamps
                .iter()
                .position(|t| *t == k * MIN)
                .map(|i| s.values[i])
        })
        .collect()
}
