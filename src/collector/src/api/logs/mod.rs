//! CloudWatch Logs API (awsJson 1.1, target prefix `Logs_20140328`).
//!
//! One file per concern: [`groups`] (log groups and retention), [`streams`], [`put_events`],
//! [`get_events`], [`tags`], [`queries`] (Logs Insights, run by [`query_jobs`]), [`log_record`]
//! (GetLogRecord, by a result row's `@ptr`), [`live_tail`]
//! (StartLiveTail, streamed by the server), [`export`] (export tasks), with [`validate`], [`tokens`] and [`errors`] shared between them.
//! Data lives in [`crate::store::logs`]. Inputs are camelCase JSON; timestamps are epoch
//! milliseconds in and out (`Shape::Int`). Every client error is HTTP 400 with an AWS `__type`.

mod errors;
pub mod export;
mod export_files;
mod filter_events;
mod get_events;
mod groups;
pub mod ingest;
mod live_filter;
pub mod live_tail;
mod log_record;
mod metric_filters;
mod put_events;
mod queries;
mod query_jobs;
mod streams;
mod subscriptions;
mod tags;
mod tokens;
mod validate;

#[cfg(test)]
mod filter_tests;
#[cfg(test)]
mod query_tests;
#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use std::path::Path;

use super::RequestContext;
use crate::clock::SharedClock;
use crate::store::log_filters::FilterStore;
use crate::store::logs::{LogStore, LogStoreOptions, SweepOutcome};
use crate::store::StoreError;

pub use groups::RETENTION_DAYS;

/// The CloudWatch Logs service: its store and handlers.
#[derive(Debug)]
pub struct LogsApi {
    store: LogStore,
    clock: SharedClock,
    /// Metric and subscription filters (`log_filters.db`).
    filters: FilterStore,
    /// Serialises filter changes (check-then-write).
    filter_ddl: tokio::sync::Mutex<()>,
    /// Where filter output goes (attached at startup).
    sinks: ingest::Sinks,
    queries: query_jobs::QueryJobs,
    live: live_tail::LiveTailHub,
    data_dir: std::path::PathBuf,
    exports: export::Exports,
}

impl LogsApi {
    /// Open (or create) the log store under `data_dir`; retention is swept in the background.
    pub fn open(data_dir: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        Self::open_with(data_dir, clock, LogStoreOptions::default())
    }

    /// Open with explicit store options (tests disable the background sweep).
    pub fn open_with(
        data_dir: &Path,
        clock: SharedClock,
        opts: LogStoreOptions,
    ) -> Result<Self, StoreError> {
        let store = LogStore::open_with(data_dir, clock.clone(), opts)?;
        let queries = query_jobs::QueryJobs::new(store.share(), clock.clone());
        let exports = export::Exports::open(
            data_dir,
            data_dir.join("exports"),
            store.clone(),
            clock.clone(),
        )?;
        Ok(LogsApi {
            store,
            clock,
            filters: FilterStore::open(data_dir, opts.sqlite)?,
            filter_ddl: tokio::sync::Mutex::new(()),
            sinks: ingest::Sinks::default(),
            queries,
            live: live_tail::LiveTailHub::default(),
            data_dir: data_dir.to_path_buf(),
            exports,
        })
    }

    /// The underlying store.
    pub fn store(&self) -> &LogStore {
        &self.store
    }

    /// Apply retention now (the background sweep does the same periodically).
    pub async fn sweep_retention(&self) -> Result<SweepOutcome, ApiError> {
        Ok(self.store.sweep_retention().await?)
    }

    /// Handle one operation from its raw awsJson body.
    ///
    /// Equivalent to decoding the body into a JSON tree and calling [`LogsApi::handle`], but
    /// PutLogEvents is parsed straight from the bytes with messages borrowed from them, which
    /// is several times cheaper for 1 MiB batches. An empty body is `{}`.
    pub async fn handle_body(
        &self,
        op: &str,
        body: &[u8],
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        if op == "PutLogEvents" && !body.iter().all(u8::is_ascii_whitespace) {
            let i = put_events::PutLogEventsInput::from_slice(body)?;
            return put_events::put_log_events(self, i).await;
        }
        let input = super::parse_json_body(body, false)?;
        self.handle(op, input, ctx).await
    }

    /// Handle one operation.
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        match op {
            "CreateLogGroup" => groups::create_log_group(self, input).await,
            "DeleteLogGroup" => groups::delete_log_group(self, input).await,
            "DescribeLogGroups" => groups::describe_log_groups(self, input, ctx),
            "PutRetentionPolicy" => groups::put_retention_policy(self, input).await,
            "DeleteRetentionPolicy" => groups::delete_retention_policy(self, input).await,
            "CreateLogStream" => streams::create_log_stream(self, input).await,
            "DeleteLogStream" => streams::delete_log_stream(self, input).await,
            "DescribeLogStreams" => streams::describe_log_streams(self, input, ctx),
            "PutLogEvents" => {
                let i = put_events::PutLogEventsInput::from_value(&input)?;
                put_events::put_log_events(self, i).await
            }
            "GetLogEvents" => get_events::get_log_events(self, input).await,
            "FilterLogEvents" => filter_events::filter_log_events(self, input).await,
            "PutMetricFilter" => {
                metric_filters::put_metric_filter(self, input, self.clock.now_ms()).await
            }
            "DescribeMetricFilters" => metric_filters::describe_metric_filters(self, input),
            "DeleteMetricFilter" => metric_filters::delete_metric_filter(self, input).await,
            "TestMetricFilter" => metric_filters::test_metric_filter(input),
            "PutSubscriptionFilter" => {
                subscriptions::put_subscription_filter(self, input, self.clock.now_ms()).await
            }
            "DescribeSubscriptionFilters" => {
                subscriptions::describe_subscription_filters(self, input)
            }
            "DeleteSubscriptionFilter" => {
                subscriptions::delete_subscription_filter(self, input).await
            }
            "TagLogGroup" => tags::tag(self, input, false).await,
            "UntagLogGroup" => tags::untag(self, input, false).await,
            "ListTagsLogGroup" => tags::list(self, input, false),
            "TagResource" => tags::tag(self, input, true).await,
            "UntagResource" => tags::untag(self, input, true).await,
            "ListTagsForResource" => tags::list(self, input, true),
            "StartQuery" => queries::start_query(self, input, ctx),
            "GetQueryResults" => queries::get_query_results(self, input),
            "StopQuery" => queries::stop_query(self, input),
            "DescribeQueries" => queries::describe_queries(self, input),
            "GetLogRecord" => log_record::get_log_record(self, input, ctx).await,
            "CreateExportTask" => export::create_export_task(self, input).await,
            "DescribeExportTasks" => export::describe_export_tasks(self, input),
            "CancelExportTask" => export::cancel_export_task(self, input),
            _ => Err(super::unknown_operation("Logs_20140328", op, false)),
        }
    }
}
