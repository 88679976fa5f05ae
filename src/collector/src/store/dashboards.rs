//! The saved-dashboard store: `dashboards.db` in the data directory.
//!
//! Dashboards are configuration (few rows, written by people), so the store is one SQLite
//! connection behind a mutex, in WAL mode with versioned migrations like the other stores
//! ([`sqlite::open`]); each write is one transaction and has committed when the call returns.
//! Calls block: run them off the async runtime.
//!
//! # On-disk format
//! `dashboards(name TEXT PRIMARY KEY, body TEXT NOT NULL, modified_ms INTEGER NOT NULL)`:
//! - `name`: the dashboard name as given (validated by the API: `[A-Za-z0-9_-]{1,255}`);
//! - `body`: the dashboard body exactly as put (UTF-8 JSON text, CloudWatch's dashboard-body
//!   structure), returned unchanged by GetDashboard;
//! - `modified_ms`: when it was last put, milliseconds since the Unix epoch.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::sqlite::{self, OpenOptions};
use super::StoreError;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE dashboards (
    name        TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    modified_ms INTEGER NOT NULL
);
"#];

/// One stored dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDashboard {
    pub name: String,
    pub body: String,
    pub modified_ms: i64,
}

/// Persisted dashboards.
#[derive(Debug)]
pub struct DashboardStore {
    conn: Mutex<Connection>,
}

impl DashboardStore {
    /// Open (or create) `dashboards.db` under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let opts = OpenOptions {
            cache_kib: 1024,
            fsync_every_commit: false,
        };
        let conn = sqlite::open(&dir.join("dashboards.db"), MIGRATIONS, opts)?;
        Ok(DashboardStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Create or replace a dashboard.
    pub fn put(&self, name: &str, body: &str, now_ms: i64) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO dashboards (name, body, modified_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET body = excluded.body, modified_ms = excluded.modified_ms",
            params![name, body, now_ms],
        )?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<Option<StoredDashboard>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT name, body, modified_ms FROM dashboards WHERE name = ?1",
                params![name],
                |r| {
                    Ok(StoredDashboard {
                        name: r.get(0)?,
                        body: r.get(1)?,
                        modified_ms: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Up to `limit` dashboards whose name starts with `prefix` and sorts after `after`, in
    /// name order.
    pub fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredDashboard>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT name, body, modified_ms FROM dashboards
             WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2 ORDER BY name LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![prefix, after.unwrap_or(""), limit as i64], |r| {
            Ok(StoredDashboard {
                name: r.get(0)?,
                body: r.get(1)?,
                modified_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Delete every named dashboard, or none: returns the first name that does not exist
    /// (and deletes nothing) or `None` when all were deleted.
    pub fn delete_all(&self, names: &[String]) -> Result<Option<String>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for name in names {
            let n = tx.execute("DELETE FROM dashboards WHERE name = ?1", params![name])?;
            if n == 0 && !names_before(names, name) {
                return Ok(Some(name.clone())); // dropping `tx` rolls back
            }
        }
        tx.commit()?;
        Ok(None)
    }
}

/// Whether `name` already appeared earlier in `names` (a repeated name is not missing).
fn names_before(names: &[String], name: &String) -> bool {
    names
        .iter()
        .position(|n| n == name)
        .is_some_and(|first| names.iter().skip(first + 1).any(|n| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_list_delete_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = DashboardStore::open(dir.path()).unwrap();
        s.put("hosts", "{\"widgets\":[]}", 1).unwrap();
        s.put("app-a", "{}", 2).unwrap();
        s.put("app-b", "{}", 3).unwrap();
        s.put("hosts", "{\"widgets\":[1]}", 4).unwrap();
        drop(s);
        let s = DashboardStore::open(dir.path()).unwrap();
        let h = s.get("hosts").unwrap().unwrap();
        assert_eq!((h.body.as_str(), h.modified_ms), ("{\"widgets\":[1]}", 4));
        assert!(s.get("nope").unwrap().is_none());
        let names = |v: Vec<StoredDashboard>| v.into_iter().map(|d| d.name).collect::<Vec<_>>();
        assert_eq!(
            names(s.list("", None, 10).unwrap()),
            ["app-a", "app-b", "hosts"]
        );
        assert_eq!(names(s.list("app", None, 10).unwrap()), ["app-a", "app-b"]);
        assert_eq!(names(s.list("", Some("app-a"), 1).unwrap()), ["app-b"]);
        // All or nothing.
        assert_eq!(
            s.delete_all(&["app-a".into(), "missing".into()]).unwrap(),
            Some("missing".into())
        );
        assert!(s.get("app-a").unwrap().is_some());
        assert_eq!(
            s.delete_all(&["app-a".into(), "app-a".into()]).unwrap(),
            None
        );
        assert!(s.get("app-a").unwrap().is_none());
    }
}
