//! The Parameter Store: `ssm.db` in the data directory.
//!
//! Parameters are configuration (written rarely, read by every agent of a fleet on each poll),
//! so the store is one SQLite connection behind a mutex, in WAL mode with versioned migrations
//! like the other stores ([`sqlite::open`]). Each write is one `IMMEDIATE` transaction that has
//! committed when the call returns, so a version number is never handed out twice, even across
//! a crash. Calls block: run them off the async runtime.
//!
//! # On-disk format
//! - `versions(name, version, type, value, description, allowed_pattern, key_id, tier,
//!   data_type, modified_ms, modified_user)`, primary key `(name, version)`: every retained
//!   version of every parameter. A parameter exists exactly while it has rows here; its current
//!   version is the highest. `value` is the value as given for `String` / `StringList`, and the
//!   sealed form (see `api::ssm::crypto`) for `SecureString`: plaintext secrets never reach the
//!   file. At most [`MAX_VERSIONS`] versions are kept per parameter (the oldest goes first).
//! - `tags(name, key, value)`: the parameter's tags (removed with the parameter).
//!
//! Deleting a parameter removes all its rows; a parameter created again under the same name
//! starts at version 1, as in AWS.

use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use super::sqlite::{self, OpenOptions};
use super::StoreError;

/// Versions kept per parameter.
pub const MAX_VERSIONS: i64 = 100;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE versions (
    name            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    value           TEXT    NOT NULL,
    description     TEXT,
    allowed_pattern TEXT,
    key_id          TEXT,
    tier            TEXT    NOT NULL,
    data_type       TEXT    NOT NULL,
    modified_ms     INTEGER NOT NULL,
    modified_user   TEXT    NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;
CREATE TABLE tags (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
) WITHOUT ROWID;
"#];

/// One stored version of a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub name: String,
    /// 1, 2, ...; assigned by [`SsmStore::put`].
    pub version: i64,
    /// `String`, `StringList` or `SecureString`.
    pub ptype: String,
    /// The value; sealed for `SecureString`.
    pub value: String,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub key_id: Option<String>,
    /// `Standard` or `Advanced`.
    pub tier: String,
    pub data_type: String,
    pub modified_ms: i64,
    pub modified_user: String,
}

const COLUMNS: &str = "name, version, type, value, description, allowed_pattern, key_id, tier, \
                       data_type, modified_ms, modified_user";

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredVersion> {
    Ok(StoredVersion {
        name: r.get(0)?,
        version: r.get(1)?,
        ptype: r.get(2)?,
        value: r.get(3)?,
        description: r.get(4)?,
        allowed_pattern: r.get(5)?,
        key_id: r.get(6)?,
        tier: r.get(7)?,
        data_type: r.get(8)?,
        modified_ms: r.get(9)?,
        modified_user: r.get(10)?,
    })
}

/// What [`SsmStore::put`]'s decision returns: the version to write (its `version` field is
/// ignored) and the tags to set (`None` keeps the current ones).
#[derive(Debug, Clone)]
pub struct PutPlan {
    pub record: StoredVersion,
    pub tags: Option<Vec<(String, String)>>,
}

/// How many parameters exist, by the tier of their current version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierCounts {
    pub standard: i64,
    pub advanced: i64,
}

/// The persisted parameters.
#[derive(Debug)]
pub struct SsmStore {
    conn: Mutex<Connection>,
}

impl SsmStore {
    /// Open (or create) `ssm.db` under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let opts = OpenOptions {
            cache_kib: 4096,
            fsync_every_commit: false,
        };
        let conn = sqlite::open(&dir.join("ssm.db"), MIGRATIONS, opts)?;
        Ok(SsmStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current version of `name`.
    pub fn latest(&self, name: &str) -> Result<Option<StoredVersion>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM versions WHERE name = ?1 ORDER BY version DESC LIMIT 1"
                ),
                params![name],
                from_row,
            )
            .optional()?)
    }

    /// One version of `name`.
    pub fn version(&self, name: &str, version: i64) -> Result<Option<StoredVersion>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                &format!("SELECT {COLUMNS} FROM versions WHERE name = ?1 AND version = ?2"),
                params![name, version],
                from_row,
            )
            .optional()?)
    }

    /// Every retained version of `name`, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<StoredVersion>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM versions WHERE name = ?1 ORDER BY version"
        ))?;
        let rows = stmt.query_map(params![name], from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The current version of every parameter whose name is greater than `after` (all when
    /// `None`), in name order.
    pub fn all_latest(&self, after: Option<&str>) -> Result<Vec<StoredVersion>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM versions v WHERE name > ?1 AND version = \
             (SELECT MAX(version) FROM versions w WHERE w.name = v.name) ORDER BY name"
        ))?;
        let rows = stmt.query_map(params![after.unwrap_or("")], from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The tags of `name`, in key order.
    pub fn tags(&self, name: &str) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT key, value FROM tags WHERE name = ?1 ORDER BY key")?;
        let rows = stmt.query_map(params![name], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Write a new version of `name` in one transaction. `decide` sees the current version (if
    /// any) and the number of parameters stored per tier, and returns what to write or the caller's
    /// error, which writes nothing. Returns the version number written.
    pub fn put<E>(
        &self,
        name: &str,
        decide: impl FnOnce(Option<&StoredVersion>, TierCounts) -> Result<PutPlan, E>,
    ) -> Result<Result<i64, E>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = tx
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM versions WHERE name = ?1 ORDER BY version DESC LIMIT 1"
                ),
                params![name],
                from_row,
            )
            .optional()?;
        let mut counts = TierCounts::default();
        {
            let mut stmt = tx.prepare(
                "SELECT tier, COUNT(*) FROM versions v WHERE version = \
                 (SELECT MAX(version) FROM versions w WHERE w.name = v.name) GROUP BY tier",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (tier, n) = row?;
                if tier == "Advanced" {
                    counts.advanced += n;
                } else {
                    counts.standard += n;
                }
            }
        }
        let plan = match decide(current.as_ref(), counts) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let version = current.as_ref().map_or(1, |c| c.version + 1);
        let r = &plan.record;
        tx.execute(
            &format!(
                "INSERT INTO versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                name,
                version,
                r.ptype,
                r.value,
                r.description,
                r.allowed_pattern,
                r.key_id,
                r.tier,
                r.data_type,
                r.modified_ms,
                r.modified_user
            ],
        )?;
        tx.execute(
            "DELETE FROM versions WHERE name = ?1 AND version <= ?2",
            params![name, version - MAX_VERSIONS],
        )?;
        if let Some(tags) = &plan.tags {
            tx.execute("DELETE FROM tags WHERE name = ?1", params![name])?;
            for (k, v) in tags {
                tx.execute(
                    "INSERT INTO tags (name, key, value) VALUES (?1, ?2, ?3)
                     ON CONFLICT(name, key) DO UPDATE SET value = excluded.value",
                    params![name, k, v],
                )?;
            }
        }
        tx.commit()?;
        Ok(Ok(version))
    }

    /// Delete each name (one transaction); `true` for those that existed.
    pub fn delete(&self, names: &[String]) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let n = tx.execute("DELETE FROM versions WHERE name = ?1", params![name])?;
            tx.execute("DELETE FROM tags WHERE name = ?1", params![name])?;
            out.push(n > 0);
        }
        tx.commit()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, value: &str) -> StoredVersion {
        StoredVersion {
            name: name.into(),
            version: 0,
            ptype: "String".into(),
            value: value.into(),
            description: None,
            allowed_pattern: None,
            key_id: None,
            tier: "Standard".into(),
            data_type: "text".into(),
            modified_ms: 1,
            modified_user: "u".into(),
        }
    }

    fn put(s: &SsmStore, name: &str, value: &str) -> i64 {
        s.put::<()>(name, |_, _| {
            Ok(PutPlan {
                record: rec(name, value),
                tags: None,
            })
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn versions_count_up_survive_reopen_and_restart_after_delete() {
        let dir = tempfile::tempdir().unwrap();
        let s = SsmStore::open(dir.path()).unwrap();
        assert_eq!(put(&s, "/a/b", "1"), 1);
        assert_eq!(put(&s, "/a/b", "2"), 2);
        assert_eq!(put(&s, "c", "x"), 1);
        drop(s);
        let s = SsmStore::open(dir.path()).unwrap();
        assert_eq!(s.latest("/a/b").unwrap().unwrap().value, "2");
        assert_eq!(s.version("/a/b", 1).unwrap().unwrap().value, "1");
        assert_eq!(s.history("/a/b").unwrap().len(), 2);
        let names: Vec<_> = s
            .all_latest(None)
            .unwrap()
            .into_iter()
            .map(|v| (v.name, v.version))
            .collect();
        assert_eq!(names, vec![("/a/b".into(), 2), ("c".into(), 1)]);
        assert_eq!(s.all_latest(Some("/a/b")).unwrap().len(), 1);
        assert_eq!(
            s.delete(&["/a/b".into(), "nope".into()]).unwrap(),
            vec![true, false]
        );
        assert!(s.latest("/a/b").unwrap().is_none());
        assert_eq!(put(&s, "/a/b", "again"), 1);
    }

    #[test]
    fn a_refused_put_writes_nothing_and_tags_are_replaced_only_when_given() {
        let dir = tempfile::tempdir().unwrap();
        let s = SsmStore::open(dir.path()).unwrap();
        let r = s
            .put("p", |cur, count| {
                assert!(cur.is_none());
                assert_eq!(count, TierCounts::default());
                Ok::<_, ()>(PutPlan {
                    record: rec("p", "v"),
                    tags: Some(vec![("k".into(), "v".into())]),
                })
            })
            .unwrap();
        assert_eq!(r, Ok(1));
        let refused = s.put::<&str>("p", |_, _| Err("no")).unwrap();
        assert_eq!(refused, Err("no"));
        assert_eq!(s.history("p").unwrap().len(), 1);
        put(&s, "p", "w");
        assert_eq!(s.tags("p").unwrap(), vec![("k".into(), "v".into())]);
        s.delete(&["p".into()]).unwrap();
        assert!(s.tags("p").unwrap().is_empty());
    }

    #[test]
    fn only_the_newest_hundred_versions_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = SsmStore::open(dir.path()).unwrap();
        for i in 0..105 {
            put(&s, "p", &i.to_string());
        }
        let h = s.history("p").unwrap();
        assert_eq!(h.len(), 100);
        assert_eq!(h[0].version, 6);
        assert_eq!(h[99].version, 105);
    }
}
