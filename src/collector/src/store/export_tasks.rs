//! The export task store: `export_tasks.db` in the data directory.
//!
//! Export tasks are a handful of rows written a few times each, so the store is one SQLite
//! connection behind a mutex, in WAL mode with versioned migrations like the other stores
//! ([`sqlite::open`]); every write is its own transaction and has committed when the call
//! returns. Calls block briefly: they are fine on the async runtime for these few rows.
//!
//! # On-disk format
//! `export_tasks(task_id TEXT PRIMARY KEY, task_name, log_group_name, stream_prefix NULL,
//! from_ms, to_ms, destination, destination_prefix, status, status_message, creation_time,
//! completion_time NULL)`; `status` is one of the [`ExportStatus`] codes. Times are
//! milliseconds since the Unix epoch.
//!
//! # Invariant
//! At most one task is `PENDING` or `RUNNING` (AWS's per-account limit): [`ExportTaskStore::
//! insert_if_idle`] checks and inserts in one transaction.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::sqlite::{self, OpenOptions};
use super::StoreError;

/// File name under the data directory.
pub const FILE_NAME: &str = "export_tasks.db";

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE export_tasks (
    task_id            TEXT PRIMARY KEY,
    task_name          TEXT,
    log_group_name     TEXT NOT NULL,
    stream_prefix      TEXT,
    from_ms            INTEGER NOT NULL,
    to_ms              INTEGER NOT NULL,
    destination        TEXT NOT NULL,
    destination_prefix TEXT NOT NULL,
    status             TEXT NOT NULL,
    status_message     TEXT NOT NULL,
    creation_time      INTEGER NOT NULL,
    completion_time    INTEGER
);
CREATE INDEX export_tasks_status ON export_tasks(status);
"#];

/// An export task's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Pending,
    Running,
    Completed,
    Cancelled,
    Failed,
}

impl ExportStatus {
    /// Every code AWS defines, in the model's order (`PENDING_CANCEL` is never entered here:
    /// cancelling takes effect at once).
    pub const CODES: [&'static str; 6] = [
        "CANCELLED",
        "COMPLETED",
        "FAILED",
        "PENDING",
        "PENDING_CANCEL",
        "RUNNING",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Pending => "PENDING",
            ExportStatus::Running => "RUNNING",
            ExportStatus::Completed => "COMPLETED",
            ExportStatus::Cancelled => "CANCELLED",
            ExportStatus::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ExportStatus::Pending,
            ExportStatus::Running,
            ExportStatus::Completed,
            ExportStatus::Cancelled,
            ExportStatus::Failed,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// `PENDING` or `RUNNING`.
    pub fn is_active(self) -> bool {
        matches!(self, ExportStatus::Pending | ExportStatus::Running)
    }
}

/// One export task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportTask {
    pub task_id: String,
    pub task_name: Option<String>,
    pub log_group_name: String,
    pub stream_prefix: Option<String>,
    pub from_ms: i64,
    pub to_ms: i64,
    pub destination: String,
    pub destination_prefix: String,
    pub status: ExportStatus,
    pub status_message: String,
    pub creation_time: i64,
    pub completion_time: Option<i64>,
}

/// Persisted export tasks.
#[derive(Debug)]
pub struct ExportTaskStore {
    conn: Mutex<Connection>,
}

const COLUMNS: &str = "task_id, task_name, log_group_name, stream_prefix, from_ms, to_ms,
    destination, destination_prefix, status, status_message, creation_time, completion_time";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ExportTask, String)> {
    let status: String = r.get(8)?;
    Ok((
        ExportTask {
            task_id: r.get(0)?,
            task_name: r.get(1)?,
            log_group_name: r.get(2)?,
            stream_prefix: r.get(3)?,
            from_ms: r.get(4)?,
            to_ms: r.get(5)?,
            destination: r.get(6)?,
            destination_prefix: r.get(7)?,
            status: ExportStatus::Pending,
            status_message: r.get(9)?,
            creation_time: r.get(10)?,
            completion_time: r.get(11)?,
        },
        status,
    ))
}

fn finish(pair: (ExportTask, String)) -> Result<ExportTask, StoreError> {
    let (mut t, status) = pair;
    t.status = ExportStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("export task status {status:?}")))?;
    Ok(t)
}

impl ExportTaskStore {
    /// Open (or create) the store under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let opts = OpenOptions {
            cache_kib: 1024,
            fsync_every_commit: false,
        };
        let conn = sqlite::open(&dir.join(FILE_NAME), MIGRATIONS, opts)?;
        Ok(ExportTaskStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Insert `task` unless a task is already active; `Ok(false)` when one is.
    pub fn insert_if_idle(&self, task: &ExportTask) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let active: i64 = tx.query_row(
            "SELECT COUNT(*) FROM export_tasks WHERE status IN ('PENDING', 'RUNNING')",
            [],
            |r| r.get(0),
        )?;
        if active > 0 {
            return Ok(false);
        }
        tx.execute(
            &format!("INSERT INTO export_tasks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                task.task_id,
                task.task_name,
                task.log_group_name,
                task.stream_prefix,
                task.from_ms,
                task.to_ms,
                task.destination,
                task.destination_prefix,
                task.status.as_str(),
                task.status_message,
                task.creation_time,
                task.completion_time,
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// One task.
    pub fn get(&self, task_id: &str) -> Result<Option<ExportTask>, StoreError> {
        let conn = self.lock();
        let found = conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM export_tasks WHERE task_id = ?1"),
                [task_id],
                row,
            )
            .optional()?;
        found.map(finish).transpose()
    }

    /// Every task, newest first (ties by id).
    pub fn list(&self) -> Result<Vec<ExportTask>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM export_tasks ORDER BY creation_time DESC, task_id"
        ))?;
        let rows = stmt.query_map([], row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(finish(r?)?);
        }
        Ok(out)
    }

    /// Move a task to `to` if its status is one of `from`; `Ok(false)` when it was not (the
    /// task finished or was cancelled meanwhile).
    pub fn transition(
        &self,
        task_id: &str,
        from: &[ExportStatus],
        to: ExportStatus,
        message: &str,
        completion_time: Option<i64>,
    ) -> Result<bool, StoreError> {
        let conn = self.lock();
        let current: Option<String> = conn
            .query_row(
                "SELECT status FROM export_tasks WHERE task_id = ?1",
                [task_id],
                |r| r.get(0),
            )
            .optional()?;
        let allowed = current
            .as_deref()
            .and_then(ExportStatus::parse)
            .is_some_and(|s| from.contains(&s));
        if !allowed {
            return Ok(false);
        }
        conn.execute(
            "UPDATE export_tasks SET status = ?2, status_message = ?3, completion_time = ?4
             WHERE task_id = ?1",
            params![task_id, to.as_str(), message, completion_time],
        )?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, created: i64) -> ExportTask {
        ExportTask {
            task_id: id.into(),
            task_name: Some("n".into()),
            log_group_name: "g".into(),
            stream_prefix: None,
            from_ms: 0,
            to_ms: 10,
            destination: "bucket".into(),
            destination_prefix: "exportedlogs".into(),
            status: ExportStatus::Pending,
            status_message: "Pending".into(),
            creation_time: created,
            completion_time: None,
        }
    }

    #[test]
    fn one_active_task_and_transitions_survive_reopen() {
        let d = tempfile::tempdir().unwrap();
        let s = ExportTaskStore::open(d.path()).unwrap();
        assert!(s.insert_if_idle(&task("a", 1)).unwrap());
        assert!(!s.insert_if_idle(&task("b", 2)).unwrap());
        assert!(s
            .transition(
                "a",
                &[ExportStatus::Pending],
                ExportStatus::Running,
                "Running",
                None
            )
            .unwrap());
        assert!(!s.insert_if_idle(&task("b", 2)).unwrap());
        assert!(s
            .transition(
                "a",
                &[ExportStatus::Running],
                ExportStatus::Completed,
                "Completed successfully",
                Some(5)
            )
            .unwrap());
        // Finished tasks cannot move again.
        assert!(!s
            .transition(
                "a",
                &[ExportStatus::Running],
                ExportStatus::Failed,
                "x",
                None
            )
            .unwrap());
        assert!(!s
            .transition(
                "zz",
                &[ExportStatus::Running],
                ExportStatus::Failed,
                "x",
                None
            )
            .unwrap());
        assert!(s.insert_if_idle(&task("b", 2)).unwrap());
        drop(s);
        let s = ExportTaskStore::open(d.path()).unwrap();
        let all = s.list().unwrap();
        assert_eq!(
            all.iter().map(|t| t.task_id.as_str()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        let a = s.get("a").unwrap().unwrap();
        assert_eq!(a.status, ExportStatus::Completed);
        assert_eq!(a.completion_time, Some(5));
        assert_eq!(a.status_message, "Completed successfully");
        assert_eq!(s.get("missing").unwrap(), None);
    }
}
