//! CloudWatch anomaly detection: the model behind `ANOMALY_DETECTION_BAND` and the detector
//! operations `PutAnomalyDetector`, `DescribeAnomalyDetectors`, `DeleteAnomalyDetector`.
//!
//! - `model`: the statistical model (trend + daily/weekly seasonality + robust spread), pure and
//!   deterministic; its module doc describes the algorithm, its inputs and how it degrades with
//!   little data;
//! - `detector`: a detector's identity and configuration, and its stored JSON form;
//! - `ops`: the three operations (validation, outputs);
//! - `cache`: trained models kept in memory.
//!
//! [`AnomalyService`] holds the detectors (persisted in `anomaly.db`, see
//! `store::anomaly`, and mirrored in memory) and the model cache. Detectors are optional for
//! bands: a band trains its model from the stored data whether or not a detector exists; a
//! detector adds its `ExcludedTimeRanges`. Models are never persisted: each one is a function of
//! the stored metric data, the detector configuration and the training time (see
//! `math::functions::band`), so it can always be recomputed.

pub(crate) mod cache;
pub(crate) mod detector;
pub(crate) mod model;
pub(crate) mod ops;
mod robust;

#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use super::math::BandTarget;
use crate::api::parse_input;
use crate::store::anomaly::AnomalyStore;
use crate::store::metrics::MetricStore;
use crate::store::StoreError;
use cache::ModelCache;
use detector::{Detector, Subject};
use model::Model;

/// Detectors and trained models. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AnomalyService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: AnomalyStore,
    detectors: RwLock<BTreeMap<String, Detector>>,
    cache: Mutex<ModelCache>,
    /// Serialises writes so the database and the in-memory map change in the same order.
    writes: tokio::sync::Mutex<()>,
}

impl AnomalyService {
    /// Open (or create) the detector store under `data_dir` and load the detectors. A stored
    /// detector that cannot be read is skipped with a warning.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let db = AnomalyStore::open(data_dir)?;
        let mut detectors = BTreeMap::new();
        for (key, spec) in db.load()? {
            match serde_json::from_str::<Detector>(&spec) {
                Ok(d) => {
                    detectors.insert(key, d);
                }
                Err(e) => {
                    tracing::warn!(key, error = %e, "Skipping an unreadable anomaly detector.")
                }
            }
        }
        Ok(AnomalyService {
            inner: Arc::new(Inner {
                db,
                detectors: RwLock::new(detectors),
                cache: Mutex::new(ModelCache::default()),
                writes: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Handle `PutAnomalyDetector`, `DescribeAnomalyDetectors` or `DeleteAnomalyDetector`.
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        store: &MetricStore,
        now_ms: i64,
    ) -> Result<Option<Shape>, ApiError> {
        match op {
            "PutAnomalyDetector" => ops::put(self, parse_input(input, true)?, now_ms).await,
            "DeleteAnomalyDetector" => ops::delete(self, parse_input(input, true)?).await,
            _ => {
                let input: ops::DescribeInput = parse_input(input, true)?;
                let (svc, store) = (self.clone(), store.clone());
                tokio::task::spawn_blocking(move || ops::describe(&svc, &store, &input, now_ms))
                    .await
                    .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
                    .map(Some)
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Detector>> {
        self.inner
            .detectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn cache(&self) -> MutexGuard<'_, ModelCache> {
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every detector with its key, in key order.
    pub(crate) fn detectors(&self) -> Vec<(String, Detector)> {
        self.read()
            .iter()
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect()
    }

    /// Store a detector (replacing one with the same subject); returns after the commit.
    pub(crate) async fn put(&self, d: Detector, now_ms: i64) -> Result<(), ApiError> {
        let key = d.subject.key();
        let spec = serde_json::to_string(&d)
            .map_err(|e| ApiError::internal(format!("cannot encode the detector: {e}")))?;
        let _serial = self.inner.writes.lock().await;
        let svc = self.clone();
        let k = key.clone();
        blocking(move || svc.inner.db.upsert(&k, &spec, now_ms)).await?;
        self.inner
            .detectors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, d);
        Ok(())
    }

    /// Delete a detector by key; `false` when it does not exist.
    pub(crate) async fn delete(&self, key: &str) -> Result<bool, ApiError> {
        let _serial = self.inner.writes.lock().await;
        let svc = self.clone();
        let k = key.to_string();
        let existed = blocking(move || svc.inner.db.delete(&k)).await?;
        self.inner
            .detectors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(existed)
    }

    /// The excluded time ranges configured for a band's target.
    pub(crate) fn exclusions(&self, target: BandTarget<'_>) -> Vec<(i64, i64)> {
        let detectors = self.read();
        match target {
            BandTarget::Metric(m) => {
                let key = Subject::single(m.metric.clone(), m.stat_name.clone()).key();
                detectors
                    .get(&key)
                    .map(|d| d.excluded.clone())
                    .unwrap_or_default()
            }
            BandTarget::Expression(text) => detectors
                .values()
                .find(|d| match &d.subject {
                    Subject::Math { queries } => queries
                        .iter()
                        .any(|q| q.return_data && q.expression.as_deref() == Some(text)),
                    Subject::Single { .. } => false,
                })
                .map(|d| d.excluded.clone())
                .unwrap_or_default(),
            BandTarget::Other => Vec::new(),
        }
    }

    /// A cached model.
    pub(crate) fn cached_model(&self, key: &str) -> Option<Option<Arc<Model>>> {
        self.cache().get(key)
    }

    /// Cache a trained model.
    pub(crate) fn store_model(&self, key: String, model: Option<Arc<Model>>) {
        self.cache().insert(key, model);
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("storage task failed: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, "Anomaly detector storage failed.");
            ApiError::internal("The anomaly detector store failed to process the request.")
        })
}
