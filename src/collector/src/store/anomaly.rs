//! The anomaly detector store: `anomaly.db` in the data directory.
//!
//! Detectors are configuration (a handful of rows, written rarely), so the store is one SQLite
//! connection behind a mutex, in WAL mode with versioned migrations like the other stores
//! ([`sqlite::open`]); each write is its own transaction and has committed when the call
//! returns. Calls block: run them off the async runtime.
//!
//! # On-disk format
//! `detectors(key TEXT PRIMARY KEY, spec TEXT NOT NULL, updated_ms INTEGER NOT NULL)`:
//! - `key`: the detector's identity, a UTF-8 JSON text chosen by the caller (the API layer uses
//!   the JSON of the detected metric or math queries, see `api::cloudwatch::anomaly::detector`);
//! - `spec`: the detector as UTF-8 JSON, opaque to this store;
//! - `updated_ms`: when it was last put, milliseconds since the Unix epoch.
//!
//! Trained models are not stored: they are recomputed from the metric data.

use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::sqlite::{self, OpenOptions};
use super::StoreError;

/// Migration scripts, applied in order (`PRAGMA user_version` counts the applied ones).
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE detectors (
    key        TEXT PRIMARY KEY,
    spec       TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
"#];

/// Persisted anomaly detectors.
#[derive(Debug)]
pub struct AnomalyStore {
    conn: Mutex<Connection>,
}

impl AnomalyStore {
    /// Open (or create) `anomaly.db` under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let opts = OpenOptions {
            cache_kib: 1024,
            fsync_every_commit: false,
        };
        let conn = sqlite::open(&dir.join("anomaly.db"), MIGRATIONS, opts)?;
        Ok(AnomalyStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every detector as `(key, spec)`, in key order.
    pub fn load(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT key, spec FROM detectors ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Insert or replace a detector.
    pub fn upsert(&self, key: &str, spec: &str, now_ms: i64) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO detectors (key, spec, updated_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET spec = excluded.spec, updated_ms = excluded.updated_ms",
            params![key, spec, now_ms],
        )?;
        Ok(())
    }

    /// Delete a detector; `false` when there was none.
    pub fn delete(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .execute("DELETE FROM detectors WHERE key = ?1", params![key])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detectors_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = AnomalyStore::open(dir.path()).unwrap();
        s.upsert("b", "{\"x\":1}", 1).unwrap();
        s.upsert("a", "{}", 2).unwrap();
        s.upsert("b", "{\"x\":2}", 3).unwrap();
        drop(s);
        let s = AnomalyStore::open(dir.path()).unwrap();
        assert_eq!(
            s.load().unwrap(),
            vec![("a".into(), "{}".into()), ("b".into(), "{\"x\":2}".into())]
        );
        assert!(s.delete("a").unwrap());
        assert!(!s.delete("a").unwrap());
        assert_eq!(s.load().unwrap().len(), 1);
    }
}
