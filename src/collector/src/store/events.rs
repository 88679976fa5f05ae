//! Durable state of the event service: `events.db` under the data directory.
//!
//! # Schema (version 1)
//! - `buses(name TEXT PRIMARY KEY, body TEXT)`: custom buses; `body` is the JSON of
//!   [`crate::events::model::Bus`]. The `default` bus is implicit and never stored.
//! - `rules(bus TEXT, name TEXT, body TEXT, PRIMARY KEY(bus, name))`: `body` is the JSON of
//!   [`crate::events::model::Rule`], targets included.
//! - `deliveries(id INTEGER PRIMARY KEY AUTOINCREMENT, next_ms INTEGER, attempts INTEGER,
//!   body TEXT)` with an index on `next_ms`: the delivery queue. `body` is the JSON of
//!   [`crate::events::model::Delivery`]; `attempts` counts failed attempts so far; a row is
//!   deleted once delivered or dead-lettered, so a row present after a crash is delivered again
//!   (at least once).
//! - `cursors(name TEXT PRIMARY KEY, value INTEGER)`: `alarm_outbox` (the last alarm outbox
//!   sequence routed) and `schedule/<bus>/<rule>` (the last time a schedule fired, ms).
//!
//! Every write goes through one [`Committer`]: an enqueue and the cursor it advances commit in
//! one transaction, so an alarm event or a schedule tick is routed exactly once.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;
use std::sync::Mutex;

use super::sqlite::{self, Committer, GroupLimits, OpenOptions};
use super::StoreError;
use crate::events::model::{Bus, Delivery, Rule};

const MIGRATIONS: &[&str] = &["
CREATE TABLE buses (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE rules (bus TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
                    PRIMARY KEY (bus, name));
CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, next_ms INTEGER NOT NULL,
                         attempts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX deliveries_due ON deliveries (next_ms);
CREATE TABLE cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"];

/// One write to `events.db`.
#[derive(Debug)]
pub enum Job {
    PutBus(Bus),
    DeleteBus(String),
    PutRule(Box<Rule>),
    DeleteRule {
        bus: String,
        name: String,
    },
    /// Queue deliveries (due at `next_ms`) and optionally set a cursor, atomically.
    Enqueue {
        deliveries: Vec<Delivery>,
        next_ms: i64,
        cursor: Option<(String, i64)>,
    },
    /// Remove a delivered (or dead-lettered) delivery.
    Done(i64),
    /// Record a failed attempt and when to try again.
    Retry {
        id: i64,
        attempts: u32,
        next_ms: i64,
    },
}

/// A queued delivery read back from the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub id: i64,
    pub attempts: u32,
    pub next_ms: i64,
    pub delivery: Delivery,
}

/// Everything loaded at start.
#[derive(Debug, Default)]
pub struct Loaded {
    pub buses: Vec<Bus>,
    pub rules: Vec<Rule>,
}

/// The event store: a group-committing writer and one reader connection.
#[derive(Debug)]
pub struct EventStore {
    committer: Committer<Job>,
    reader: Mutex<Connection>,
}

fn corrupt(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt("encode", e))
}

fn apply(tx: &Transaction<'_>, job: &Job) -> Result<(), StoreError> {
    match job {
        Job::PutBus(b) => {
            tx.execute(
                "INSERT OR REPLACE INTO buses (name, body) VALUES (?1, ?2)",
                params![b.name, to_json(b)?],
            )?;
        }
        Job::DeleteBus(name) => {
            tx.execute("DELETE FROM buses WHERE name = ?1", [name])?;
            tx.execute("DELETE FROM rules WHERE bus = ?1", [name])?;
        }
        Job::PutRule(r) => {
            tx.execute(
                "INSERT OR REPLACE INTO rules (bus, name, body) VALUES (?1, ?2, ?3)",
                params![r.bus, r.name, to_json(r)?],
            )?;
        }
        Job::DeleteRule { bus, name } => {
            tx.execute(
                "DELETE FROM rules WHERE bus = ?1 AND name = ?2",
                params![bus, name],
            )?;
            tx.execute(
                "DELETE FROM cursors WHERE name = ?1",
                [schedule_cursor(bus, name)],
            )?;
        }
        Job::Enqueue {
            deliveries,
            next_ms,
            cursor,
        } => {
            let mut st = tx.prepare_cached(
                "INSERT INTO deliveries (next_ms, attempts, body) VALUES (?1, 0, ?2)",
            )?;
            for d in deliveries {
                st.execute(params![next_ms, to_json(d)?])?;
            }
            if let Some((name, value)) = cursor {
                tx.execute(
                    "INSERT OR REPLACE INTO cursors (name, value) VALUES (?1, ?2)",
                    params![name, value],
                )?;
            }
        }
        Job::Done(id) => {
            tx.execute("DELETE FROM deliveries WHERE id = ?1", [id])?;
        }
        Job::Retry {
            id,
            attempts,
            next_ms,
        } => {
            tx.execute(
                "UPDATE deliveries SET attempts = ?2, next_ms = ?3 WHERE id = ?1",
                params![id, attempts, next_ms],
            )?;
        }
    }
    Ok(())
}

/// The cursor name recording the last firing of a scheduled rule.
pub fn schedule_cursor(bus: &str, rule: &str) -> String {
    format!("schedule/{bus}/{rule}")
}

/// The cursor name of the alarm outbox.
pub const ALARM_CURSOR: &str = "alarm_outbox";

impl EventStore {
    /// Open (or create) `events.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join("events.db");
        let opts = OpenOptions {
            cache_kib: 4 * 1024,
            fsync_every_commit: false,
        };
        let writer = sqlite::open(&path, MIGRATIONS, opts)?;
        let reader = sqlite::open_reader(&path, opts)?;
        let committer = Committer::spawn(
            "events-writer",
            writer,
            GroupLimits::default(),
            apply,
            |_job| {},
        )?;
        Ok(EventStore {
            committer,
            reader: Mutex::new(reader),
        })
    }

    /// Commit one job; resolves after the transaction committed.
    pub async fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.committer.submit(job).await
    }

    fn with_reader<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Load buses and rules.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        self.with_reader(|c| {
            let mut out = Loaded::default();
            let mut st = c.prepare("SELECT body FROM buses ORDER BY name")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                out.buses
                    .push(serde_json::from_str(&body?).map_err(|e| corrupt("bus", e))?);
            }
            let mut st = c.prepare("SELECT body FROM rules ORDER BY bus, name")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                out.rules
                    .push(serde_json::from_str(&body?).map_err(|e| corrupt("rule", e))?);
            }
            Ok(out)
        })
    }

    /// A cursor's value.
    pub fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError> {
        self.with_reader(|c| {
            Ok(
                c.query_row("SELECT value FROM cursors WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?,
            )
        })
    }

    /// Up to `limit` deliveries due at `now_ms`, earliest first.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Queued>, StoreError> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, attempts, next_ms, body FROM deliveries WHERE next_ms <= ?1 \
                 ORDER BY next_ms, id LIMIT ?2",
            )?;
            let rows = st.query_map(params![now_ms, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, attempts, next_ms, body) = row?;
                out.push(Queued {
                    id,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    next_ms,
                    delivery: serde_json::from_str(&body).map_err(|e| corrupt("delivery", e))?,
                });
            }
            Ok(out)
        })
    }

    /// Number of queued deliveries.
    pub fn queued(&self) -> Result<usize, StoreError> {
        self.with_reader(|c| {
            let n: i64 = c.query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }
}
