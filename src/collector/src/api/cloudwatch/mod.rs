//! CloudWatch (metrics) API: PutMetricData, ListMetrics, GetMetricStatistics, GetMetricData,
//! the anomaly detector operations, the dashboard operations (`dashboards`) and (through
//! `alarm_api`) the alarm operations.
//!
//! One file per concern: `put`, `list`, `statistics`, `get_data` (with `label` and `math`,
//! metric math) implement the operations, `anomaly` the anomaly detectors and bands,
//! `alarm_api` the alarm operations over [`crate::alarms`]; `validate` holds the shared checks
//! and AWS's error texts, `period` the time rules, `aggregate` and `stat` the statistics,
//! `token` the pagination tokens. Data lives in [`MetricStore`].
//!
//! Every "now" comes from the injected clock. Queries read SQLite, so they run on the blocking
//! thread pool; PutMetricData answers only after its points are committed.
//!
//! [`CloudWatchApi::handle_json_body`] takes an awsJson body as bytes and deserializes
//! PutMetricData straight from them (`input` keeps list decoding allocation-light), which
//! roughly halves the per-datum cost compared with going through a JSON tree.
//!
//! # Known gaps
//! - Metrics Insights (SQL) queries and `SEARCH` are refused (`math`);
//! - `LabelOptions`, `IncludeLinkedAccounts` and `OwningAccount` are accepted and ignored;
//! - standard-resolution data keeps its second-level timestamps, so sub-minute periods over it
//!   show per-second buckets where CloudWatch would show per-minute ones;
//! - where AWS's exact wording is unrecorded (list-size, duplicate-dimension, bad-id, bad-stat
//!   and future-timestamp messages), the texts follow the recorded ones' style.

pub(crate) mod aggregate;
mod alarm_api;
pub mod anomaly;
pub mod dashboards;
mod get_data;
mod input;
mod label;
mod list;
pub mod math;
mod period;
mod put;
pub(crate) mod stat;
mod statistics;
mod token;
pub(crate) mod validate;

#[cfg(test)]
pub(crate) mod test_calls;
#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::MetricKey;
use sha2::{Digest, Sha256};
use std::path::Path;

use super::{parse_input, RequestContext};
use crate::clock::SharedClock;
use crate::store::metrics::{MetricStore, StoreOptions};
use crate::store::StoreError;

/// Largest PutMetricData request body (after gzip inflation): CloudWatch's 1 MB per request.
pub const MAX_PUT_METRIC_DATA_BYTES: usize = 1_048_576;

/// Refuse a PutMetricData body over [`MAX_PUT_METRIC_DATA_BYTES`] with a 413, for any protocol.
pub fn check_request_size(op: &str, len: usize) -> Result<(), ApiError> {
    if op == "PutMetricData" && len > MAX_PUT_METRIC_DATA_BYTES {
        return Err(ApiError::cloudwatch(
            "RequestEntityTooLarge",
            format!("Request size {len} exceeded {MAX_PUT_METRIC_DATA_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The CloudWatch service: its store and handlers.
#[derive(Debug)]
pub struct CloudWatchApi {
    store: MetricStore,
    anomaly: anomaly::AnomalyService,
    dashboards: dashboards::DashboardApi,
    clock: SharedClock,
    alarms: std::sync::OnceLock<std::sync::Arc<crate::alarms::AlarmService>>,
}

impl CloudWatchApi {
    /// Open (or create) the metric store under `data_dir`.
    pub fn open(data_dir: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        Self::open_with(data_dir, clock, StoreOptions::default())
    }

    /// Open with explicit store options.
    pub fn open_with(
        data_dir: &Path,
        clock: SharedClock,
        opts: StoreOptions,
    ) -> Result<Self, StoreError> {
        Ok(CloudWatchApi {
            store: MetricStore::open(data_dir, opts)?,
            anomaly: anomaly::AnomalyService::open(data_dir)?,
            dashboards: dashboards::DashboardApi::open(data_dir)?,
            clock,
            alarms: std::sync::OnceLock::new(),
        })
    }

    /// The metric store (for other collector components, e.g. alarms).
    pub fn store(&self) -> &MetricStore {
        &self.store
    }

    /// Serve the alarm operations with `alarms` (set once, at startup).
    pub fn attach_alarms(&self, alarms: std::sync::Arc<crate::alarms::AlarmService>) {
        let _ = self.alarms.set(alarms);
    }

    /// Anomaly detectors and trained models (for `math::run_queries_with`).
    pub fn anomaly(&self) -> &anomaly::AnomalyService {
        &self.anomaly
    }

    /// Handle one awsJson request from its raw body.
    ///
    /// Equivalent to parsing the body into a JSON tree and calling [`CloudWatchApi::handle`],
    /// but PutMetricData is deserialized straight from the bytes, skipping the intermediate tree
    /// (the dominant cost of large batches). Malformed JSON is `MalformedInput`.
    pub async fn handle_json_body(
        &self,
        op: &str,
        body: &[u8],
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        check_request_size(op, body.len())?;
        if op != "PutMetricData" {
            let input = super::parse_json_body(body, true)?;
            return self.handle(op, input, ctx).await;
        }
        let input: put::PutInput = if body.iter().all(u8::is_ascii_whitespace) {
            put::PutInput::default()
        } else {
            serde_json::from_slice(body).map_err(|e| {
                if e.is_data() {
                    ApiError::invalid_parameter_value(format!("Invalid request: {e}"))
                } else {
                    malformed(e)
                }
            })?
        };
        self.put(input).await
    }

    async fn put(&self, input: put::PutInput) -> Result<Option<Shape>, ApiError> {
        let points = put::validate(input, self.clock.now_ms())?;
        self.store.append(points).await.map_err(storage_error)?;
        Ok(None)
    }

    /// Handle one operation.
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        let now_ms = self.clock.now_ms();
        match op {
            "PutMetricData" => {
                let input: put::PutInput = parse_input(input, true)?;
                self.put(input).await
            }
            "ListMetrics" => {
                let input: list::ListInput = parse_input(input, true)?;
                list::list(&self.store, &input, now_ms).map(Some)
            }
            "GetMetricStatistics" => {
                let input: statistics::StatisticsInput = parse_input(input, true)?;
                let q = statistics::validate(&input, now_ms)?;
                let store = self.store.clone();
                blocking(move || statistics::run(&store, &q).map_err(storage_error)).await
            }
            "GetMetricData" => {
                let fp = fingerprint(&input);
                let input: get_data::DataInput = parse_input(input, true)?;
                let req = get_data::validate(&input, fp)?;
                let (store, ad) = (self.store.clone(), self.anomaly.clone());
                blocking(move || get_data::run(&store, &ad, &req, now_ms)).await
            }
            op if alarm_api::OPERATIONS.contains(&op) => {
                alarm_api::handle(self.alarms.get(), op, input).await
            }
            op if dashboards::OPERATIONS.contains(&op) => {
                self.dashboards.handle(op, input, ctx).await
            }
            "PutAnomalyDetector" | "DescribeAnomalyDetectors" | "DeleteAnomalyDetector" => {
                self.anomaly.handle(op, input, &self.store, now_ms).await
            }
            _ => Err(super::unknown_operation(
                "GraniteServiceVersion20100801",
                op,
                true,
            )),
        }
    }
}

async fn blocking<F>(f: F) -> Result<Option<Shape>, ApiError>
where
    F: FnOnce() -> Result<Shape, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("query task failed: {e}")))?
        .map(Some)
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::cloudwatch("MalformedInput", format!("Malformed JSON body: {e}"))
}

fn storage_error(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "Metric storage failed.");
    ApiError::internal("The metric store failed to process the request.")
}

/// A digest of the request parameters other than `NextToken`.
fn fingerprint(input: &serde_json::Value) -> String {
    let mut v = input.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("NextToken");
    }
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..12])
}

/// `Metric` output shape.
fn metric_shape(k: &MetricKey) -> Shape {
    Shape::obj()
        .with("Namespace", k.namespace.as_str())
        .with("MetricName", k.metric_name.as_str())
        .with(
            "Dimensions",
            Shape::list(k.dimensions.iter().map(|d| {
                Shape::obj()
                    .with("Name", d.name.as_str())
                    .with("Value", d.value.as_str())
            })),
        )
}
