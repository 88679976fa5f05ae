//! Export tasks: CreateExportTask, DescribeExportTasks, CancelExportTask.
//!
//! A task copies the events of one log group with `from <= timestamp <= to` (optionally only
//! streams starting with `logStreamNamePrefix`) into the export layout described in
//! [`super::export_files`]. Events older than the group's retention are not exported, as they
//! are not readable either.
//!
//! Lifecycle: CreateExportTask stores the task as `PENDING` (refusing with
//! `LimitExceededException` while another task is `PENDING` or `RUNNING`, AWS's one active task
//! per account) and starts it on a blocking thread: `RUNNING`, then `COMPLETED`, or `FAILED`
//! with the reason in `status.message`. CancelExportTask moves a `PENDING` or `RUNNING` task to
//! `CANCELLED` at once; the runner notices between pages and stops, leaving the files it already
//! wrote. Tasks live in `export_tasks.db` ([`crate::store::export_tasks`]), so they survive a
//! restart; a task that was `PENDING` or `RUNNING` when the collector stopped is run again from
//! its start (its task directory is cleared first) once [`LogsApi::resume_exports`] is called at
//! startup.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::errors::{constraint, group_not_found, invalid_parameter, missing};
use super::export_files::{self, ChunkWriter, DEFAULT_PREFIX};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_name, range, required, stream_name};
use super::LogsApi;
use crate::api::parse_input;
use crate::clock::SharedClock;
use crate::store::export_tasks::{ExportStatus, ExportTask, ExportTaskStore};
use crate::store::logs::{Direction, Key, LogStore, ReadQuery};
use crate::store::StoreError;

/// Most tasks per DescribeExportTasks page.
const MAX_DESCRIBE_LIMIT: i64 = 50;
/// Events read per page while exporting.
const PAGE_EVENTS: usize = 10_000;
/// Bytes read per page while exporting.
const PAGE_BYTES: usize = 4 * 1024 * 1024;

/// The export machinery of one collector.
#[derive(Debug)]
pub struct Exports {
    inner: Arc<Inner>,
    /// Start tasks as soon as they are created (tests turn this off to observe `PENDING`).
    autostart: bool,
}

#[derive(Debug)]
struct Inner {
    tasks: ExportTaskStore,
    root: PathBuf,
    logs: LogStore,
    clock: SharedClock,
    /// Cancellation flags of the tasks being run.
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

impl Exports {
    /// Open the task store under `data_dir`; files go under `root`.
    pub fn open(
        data_dir: &Path,
        root: PathBuf,
        logs: LogStore,
        clock: SharedClock,
    ) -> Result<Self, StoreError> {
        if let Err(e) = std::fs::create_dir_all(&root) {
            tracing::warn!(dir = %root.display(), error = %e, "Cannot create the export directory.");
        }
        Ok(Exports {
            inner: Arc::new(Inner {
                tasks: ExportTaskStore::open(data_dir)?,
                root,
                logs,
                clock,
                cancels: Mutex::new(HashMap::new()),
            }),
            autostart: true,
        })
    }

    /// Where buckets live.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn spawn(&self, task: ExportTask) {
        let flag = Arc::new(AtomicBool::new(false));
        self.inner
            .cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(task.task_id.clone(), flag.clone());
        let inner = self.inner.clone();
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                task = task.task_id,
                "No async runtime: export task not started."
            );
            return;
        };
        tokio::task::spawn_blocking(move || run(&inner, &handle, task, &flag));
    }
}

impl LogsApi {
    /// Put exported files under `dir` instead of `DATA_DIR/exports` (before
    /// [`LogsApi::resume_exports`]).
    pub fn with_export_dir(mut self, dir: PathBuf) -> Result<Self, StoreError> {
        let data_dir = self.data_dir.clone();
        self.exports = Exports::open(&data_dir, dir, self.store.clone(), self.clock.clone())?;
        Ok(self)
    }

    /// Run again the tasks that were `PENDING` or `RUNNING` when the collector last stopped.
    pub fn resume_exports(&self) -> Result<usize, StoreError> {
        let active: Vec<ExportTask> = self
            .exports
            .inner
            .tasks
            .list()?
            .into_iter()
            .filter(|t| t.status.is_active())
            .collect();
        let n = active.len();
        for mut t in active {
            if t.status == ExportStatus::Running {
                self.exports.inner.tasks.transition(
                    &t.task_id,
                    &[ExportStatus::Running],
                    ExportStatus::Pending,
                    "Pending",
                    None,
                )?;
                t.status = ExportStatus::Pending;
            }
            tracing::info!(task = t.task_id, "Resuming export task after restart.");
            self.exports.spawn(t);
        }
        Ok(n)
    }

    /// Keep new tasks `PENDING` instead of starting them (tests).
    #[cfg(test)]
    pub(crate) fn pause_exports(&mut self) {
        self.exports.autostart = false;
    }
}

/// Why a run stopped early.
enum RunError {
    Cancelled,
    Failed(String),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Failed(format!("Storage error: {e}"))
    }
}

fn run(inner: &Inner, handle: &tokio::runtime::Handle, task: ExportTask, cancel: &AtomicBool) {
    let id = task.task_id.clone();
    let outcome = (|| -> Result<(), RunError> {
        if !inner.tasks.transition(
            &id,
            &[ExportStatus::Pending],
            ExportStatus::Running,
            "Running",
            None,
        )? {
            return Err(RunError::Cancelled);
        }
        export(inner, handle, &task, cancel)
    })();
    let now = inner.clock.now_ms();
    let result = match outcome {
        Ok(()) => inner.tasks.transition(
            &id,
            &[ExportStatus::Running],
            ExportStatus::Completed,
            "Completed successfully",
            Some(now),
        ),
        Err(RunError::Cancelled) => Ok(false),
        Err(RunError::Failed(msg)) => {
            tracing::warn!(task = id, error = msg, "Export task failed.");
            inner.tasks.transition(
                &id,
                &[ExportStatus::Running, ExportStatus::Pending],
                ExportStatus::Failed,
                &msg,
                Some(now),
            )
        }
    };
    if let Err(e) = result {
        tracing::error!(task = id, error = %e, "Cannot record the export task's outcome.");
    }
    inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}

fn export(
    inner: &Inner,
    handle: &tokio::runtime::Handle,
    task: &ExportTask,
    cancel: &AtomicBool,
) -> Result<(), RunError> {
    let io = |e: std::io::Error| RunError::Failed(format!("Cannot write the export: {e}"));
    let bucket = export_files::bucket_dir(&inner.root, &task.destination)
        .map_err(|e| RunError::Failed(e.message.unwrap_or_default()))?;
    let mut task_dir = bucket;
    for seg in export_files::prefix_segments(&task.destination_prefix)
        .map_err(|e| RunError::Failed(e.message.unwrap_or_default()))?
    {
        task_dir.push(seg);
    }
    task_dir.push(&task.task_id);
    if task_dir.exists() {
        std::fs::remove_dir_all(&task_dir).map_err(io)?;
    }
    let (streams, retention) = inner
        .logs
        .with_catalog(|c| {
            c.groups.get(&task.log_group_name).map(|g| {
                let names: Vec<String> = g
                    .streams
                    .keys()
                    .filter(|s| {
                        task.stream_prefix
                            .as_deref()
                            .is_none_or(|p| s.starts_with(p))
                    })
                    .cloned()
                    .collect();
                (names, g.retention_days)
            })
        })
        .ok_or_else(|| RunError::Failed("The specified log group does not exist.".into()))?;
    let mut start = task.from_ms.max(0);
    if let Some(days) = retention {
        start = start.max(
            inner
                .clock
                .now_ms()
                .saturating_sub(i64::from(days) * 86_400_000),
        );
    }
    let end = Key::new(task.to_ms.saturating_add(1), 0);
    for stream in streams {
        let mut dir = task_dir.clone();
        for seg in export_files::stream_segments(&stream) {
            dir.push(seg);
        }
        let mut writer = ChunkWriter::new(dir);
        let mut from = Key::new(start, 0);
        loop {
            if cancel.load(Ordering::SeqCst) {
                return Err(RunError::Cancelled);
            }
            let q = ReadQuery {
                from,
                to: end,
                direction: Direction::Forward,
                max_events: PAGE_EVENTS,
                max_bytes: PAGE_BYTES,
            };
            let page = match handle.block_on(inner.logs.read(&task.log_group_name, &stream, q)) {
                Ok(p) => p,
                // Deleted while exporting: what was written stays.
                Err(crate::store::logs::LogError::StreamNotFound) => break,
                Err(crate::store::logs::LogError::GroupNotFound) => {
                    return Err(RunError::Failed(
                        "The specified log group does not exist.".into(),
                    ))
                }
                Err(e) => return Err(RunError::Failed(format!("Storage error: {e}"))),
            };
            let Some(last) = page.last() else {
                break;
            };
            from = Key::new(last.timestamp, last.seq.saturating_add(1));
            for e in &page {
                writer
                    .write_line(&export_files::line(e.timestamp, &e.message))
                    .map_err(io)?;
            }
        }
        writer.finish().map_err(io)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateExportTaskInput {
    task_name: Option<String>,
    log_group_name: Option<String>,
    log_stream_name_prefix: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    destination: Option<String>,
    destination_prefix: Option<String>,
}

pub(super) async fn create_export_task(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: CreateExportTaskInput = parse_input(input, false)?;
    let group = required(&i.log_group_name, "logGroupName")?;
    group_name(group, "logGroupName")?;
    let from = i.from.ok_or_else(|| missing("from"))?;
    let to = i.to.ok_or_else(|| missing("to"))?;
    let destination = required(&i.destination, "destination")?;
    if destination.is_empty() || destination.chars().count() > 512 {
        return Err(constraint(
            destination,
            "destination",
            "Member must have length between 1 and 512",
        ));
    }
    if let Some(n) = &i.task_name {
        if n.is_empty() || n.chars().count() > 512 {
            return Err(constraint(
                n,
                "taskName",
                "Member must have length between 1 and 512",
            ));
        }
    }
    if let Some(p) = &i.log_stream_name_prefix {
        stream_name(p, "logStreamNamePrefix")?;
    }
    range(from, "from", 0, i64::MAX)?;
    range(to, "to", 0, i64::MAX)?;
    if from > to {
        return Err(invalid_parameter(
            "The specified time range is invalid: 'from' must not be later than 'to'.",
        ));
    }
    let prefix = i
        .destination_prefix
        .clone()
        .unwrap_or_else(|| DEFAULT_PREFIX.to_string());
    export_files::prefix_segments(&prefix)?;
    let created = api
        .store
        .group(group)
        .ok_or_else(group_not_found)?
        .creation_time;
    if to < created {
        return Err(invalid_parameter(
            "The specified time range is invalid: 'to' is earlier than the creation time of the log group.",
        ));
    }
    export_files::bucket_dir(api.exports.root(), destination)?;
    let task = ExportTask {
        task_id: crate::alarms::events::uuid_v4(),
        task_name: i.task_name,
        log_group_name: group.to_string(),
        stream_prefix: i.log_stream_name_prefix,
        from_ms: from,
        to_ms: to,
        destination: destination.to_string(),
        destination_prefix: prefix,
        status: ExportStatus::Pending,
        status_message: "Pending".to_string(),
        creation_time: api.clock.now_ms(),
        completion_time: None,
    };
    if !api
        .exports
        .inner
        .tasks
        .insert_if_idle(&task)
        .map_err(|e| super::errors::internal(&e))?
    {
        return Err(ApiError::new(
            "LimitExceededException",
            400,
            "Resource limit exceeded.",
        ));
    }
    let id = task.task_id.clone();
    if api.exports.autostart {
        api.exports.spawn(task);
    }
    Ok(Some(Shape::obj().with("taskId", Shape::Str(id))))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeExportTasksInput {
    task_id: Option<String>,
    status_code: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

fn task_shape(t: &ExportTask) -> Shape {
    Shape::obj()
        .with("taskId", Shape::Str(t.task_id.clone()))
        .with_opt("taskName", t.task_name.clone().map(Shape::Str))
        .with("logGroupName", Shape::Str(t.log_group_name.clone()))
        .with("from", Shape::Int(t.from_ms))
        .with("to", Shape::Int(t.to_ms))
        .with("destination", Shape::Str(t.destination.clone()))
        .with(
            "destinationPrefix",
            Shape::Str(t.destination_prefix.clone()),
        )
        .with(
            "status",
            Shape::obj()
                .with("code", Shape::Str(t.status.as_str().to_string()))
                .with("message", Shape::Str(t.status_message.clone())),
        )
        .with(
            "executionInfo",
            Shape::obj()
                .with("creationTime", Shape::Int(t.creation_time))
                .with_opt("completionTime", t.completion_time.map(Shape::Int)),
        )
}

pub(super) fn describe_export_tasks(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeExportTasksInput = parse_input(input, false)?;
    let limit = i.limit.unwrap_or(MAX_DESCRIBE_LIMIT);
    range(limit, "limit", 1, MAX_DESCRIBE_LIMIT)?;
    let status = match i.status_code.as_deref() {
        None => None,
        Some(c) if ExportStatus::CODES.contains(&c) => Some(c.to_string()),
        Some(c) => {
            return Err(constraint(
                c,
                "statusCode",
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    ExportStatus::CODES.join(", ")
                ),
            ))
        }
    };
    let after = i
        .next_token
        .as_deref()
        .map(|t| parse_list_token("export", t))
        .transpose()?;
    let tasks = api
        .exports
        .inner
        .tasks
        .list()
        .map_err(|e| super::errors::internal(&e))?;
    // Listing order: creation time descending, then task id; the token holds the last key.
    let sort_key = |t: &ExportTask| (std::cmp::Reverse(t.creation_time), t.task_id.clone());
    let after_key = match after {
        None => None,
        Some(parts) => {
            let [created, id] = parts.as_slice() else {
                return Err(super::errors::invalid_token());
            };
            let created: i64 = created
                .parse()
                .map_err(|_| super::errors::invalid_token())?;
            Some((std::cmp::Reverse(created), id.clone()))
        }
    };
    let mut selected = tasks.into_iter().filter(|t| {
        i.task_id.as_deref().is_none_or(|id| t.task_id == id)
            && status.as_deref().is_none_or(|s| t.status.as_str() == s)
            && after_key.as_ref().is_none_or(|k| sort_key(t) > *k)
    });
    let page: Vec<ExportTask> = selected.by_ref().take(limit as usize).collect();
    let more = selected.next().is_some();
    let mut out = Shape::obj().with("exportTasks", Shape::list(page.iter().map(task_shape)));
    if more {
        if let Some(last) = page.last() {
            out = out.with(
                "nextToken",
                Shape::Str(list_token(
                    "export",
                    &[&last.creation_time.to_string(), &last.task_id],
                )),
            );
        }
    }
    Ok(Some(out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelExportTaskInput {
    task_id: Option<String>,
}

pub(super) fn cancel_export_task(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: CancelExportTaskInput = parse_input(input, false)?;
    let id = required(&i.task_id, "taskId")?;
    let tasks = &api.exports.inner.tasks;
    let internal = |e: StoreError| super::errors::internal(&e);
    if tasks.get(id).map_err(internal)?.is_none() {
        return Err(ApiError::new(
            super::errors::NOT_FOUND,
            400,
            "The specified export task does not exist.",
        ));
    }
    let cancelled = tasks
        .transition(
            id,
            &[ExportStatus::Pending, ExportStatus::Running],
            ExportStatus::Cancelled,
            "Cancelled by user",
            Some(api.clock.now_ms()),
        )
        .map_err(internal)?;
    if !cancelled {
        return Err(ApiError::new(
            "InvalidOperationException",
            400,
            "The specified export task has already finished.",
        ));
    }
    if let Some(flag) = api
        .exports
        .inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(id)
    {
        flag.store(true, Ordering::SeqCst);
    }
    Ok(None)
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
