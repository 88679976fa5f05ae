//! Metric queries read from the [`MetricStore`], and the anomaly service behind bands.
//!
//! A metric query's series is its statistic per period bucket on the query's grid, as
//! GetMetricStatistics computes it: points are bucketed from the grid start, buckets without
//! data (or without a defined statistic) have no datapoint. When the metric has data in several
//! units and the query sets no `Unit`, one unit's data is used (the first in unit-name order)
//! and the result carries a `MultipleUnits` message. Outside training, data older than the
//! retention rules allow at the query's period is not served (`period::served_at`).

use std::sync::Arc;

use super::super::aggregate::bucketize;
use super::super::period;
use super::error::MathError;
use super::eval::{BandTarget, Fetched, Source};
use super::query::MetricQuery;
use super::value::Grid;
use crate::api::cloudwatch::anomaly::{model::Model, AnomalyService};
use crate::store::metrics::MetricStore;

/// Data from the metric store; models cached by the anomaly service when there is one.
#[derive(Debug, Clone, Copy)]
pub struct StoreSource<'a> {
    pub store: &'a MetricStore,
    pub anomaly: Option<&'a AnomalyService>,
}

impl Source for StoreSource<'_> {
    fn metric(
        &self,
        m: &MetricQuery,
        grid: Grid,
        history: bool,
        now_ms: i64,
    ) -> Result<Fetched, MathError> {
        let mut out = Fetched::default();
        if grid.period <= 0 || (!history && !period::served_at(grid.start, grid.period, now_ms)) {
            return Ok(out);
        }
        let mut candidates = Vec::new();
        for (sid, unit) in self.store.series_of(&m.metric) {
            if m.unit.is_some_and(|u| u != unit) {
                continue;
            }
            let points = self
                .store
                .read(sid, grid.start, grid.end)
                .map_err(|e| MathError::Storage(e.to_string()))?;
            if !points.is_empty() {
                candidates.push((unit, points));
            }
        }
        candidates.sort_by_key(|(u, _)| u.as_str());
        if candidates.len() > 1 {
            let names: Vec<&str> = candidates.iter().map(|(u, _)| u.as_str()).collect();
            out.messages.push((
                "MultipleUnits".to_string(),
                format!("Multiple units returned: '[{}]'", names.join(", ")),
            ));
        }
        if let Some((_, points)) = candidates.first() {
            for (at, b) in bucketize(points, grid.start, grid.period) {
                if at >= grid.end {
                    continue;
                }
                if let Some(v) = m.stat.eval(&b).filter(|v| v.is_finite()) {
                    out.points.push((at, v));
                }
            }
        }
        Ok(out)
    }

    fn exclusions(&self, target: BandTarget<'_>) -> Vec<(i64, i64)> {
        self.anomaly
            .map(|a| a.exclusions(target))
            .unwrap_or_default()
    }

    fn cached_model(&self, key: &str) -> Option<Option<Arc<Model>>> {
        self.anomaly.and_then(|a| a.cached_model(key))
    }

    fn store_model(&self, key: String, model: Option<Arc<Model>>) {
        if let Some(a) = self.anomaly {
            a.store_model(key, model);
        }
    }
}
