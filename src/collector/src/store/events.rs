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
//! # Schema version 2: archives and replays
//! - `archives(name TEXT PRIMARY KEY, body TEXT, event_count INTEGER, size_bytes INTEGER)`:
//!   `body` is the JSON of [`crate::events::model::Archive`]; the two counters are kept in the
//!   same transaction as every insert into (and sweep of) `archived`.
//! - `archived(id INTEGER PRIMARY KEY AUTOINCREMENT, archive TEXT, event_ms INTEGER,
//!   stored_ms INTEGER, body TEXT)`, indexed by `(archive, event_ms, id)` (replay order) and
//!   `(archive, stored_ms)` (retention): one row per (archive, event); `body` is the event
//!   envelope as JSON, its length in bytes is what `SizeBytes` counts.
//! - `replays(name TEXT PRIMARY KEY, body TEXT)`: `body` is the JSON of
//!   [`crate::events::model::Replay`], its state and its cursor in the archive included.
//!
//! Every write goes through one [`Committer`]: an enqueue, the archive rows of the same events,
//! the cursor it advances and a replay's progress commit in one transaction, so an alarm event,
//! a schedule tick or a replayed archive row is routed exactly once.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::path::Path;
use std::sync::Mutex;

use super::sqlite::{self, Committer, GroupLimits, OpenOptions};
use super::StoreError;
use crate::events::model::{Archive, Archived, Bus, Delivery, Replay, Rule};

const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE buses (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE rules (bus TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
                    PRIMARY KEY (bus, name));
CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, next_ms INTEGER NOT NULL,
                         attempts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX deliveries_due ON deliveries (next_ms);
CREATE TABLE cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
",
    "
CREATE TABLE archives (name TEXT PRIMARY KEY, body TEXT NOT NULL,
                       event_count INTEGER NOT NULL DEFAULT 0,
                       size_bytes INTEGER NOT NULL DEFAULT 0);
CREATE TABLE archived (id INTEGER PRIMARY KEY AUTOINCREMENT, archive TEXT NOT NULL,
                       event_ms INTEGER NOT NULL, stored_ms INTEGER NOT NULL,
                       body TEXT NOT NULL);
CREATE INDEX archived_replay ON archived (archive, event_ms, id);
CREATE INDEX archived_retention ON archived (archive, stored_ms);
CREATE TABLE replays (name TEXT PRIMARY KEY, body TEXT NOT NULL);
",
];

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
    /// Queue deliveries, archive events, set a cursor and save a replay, atomically.
    Enqueue(Box<Batch>),
    /// Create or replace an archive's definition (its events and counters stay).
    PutArchive(Archive),
    /// Delete an archive and its events.
    DeleteArchive(String),
    /// Delete archived events stored before the cutoff (ms), per archive.
    Sweep(Vec<(String, i64)>),
    /// Create or replace a replay.
    PutReplay(Box<Replay>),
    /// Remove a delivered (or dead-lettered) delivery.
    Done(i64),
    /// Record a failed attempt and when to try again.
    Retry {
        id: i64,
        attempts: u32,
        next_ms: i64,
    },
}

/// The writes caused by accepting events (see [`Job::Enqueue`]).
#[derive(Debug, Default)]
pub struct Batch {
    /// Deliveries to queue, due at `next_ms`.
    pub deliveries: Vec<Delivery>,
    pub next_ms: i64,
    /// Events to add to archives.
    pub archived: Vec<Archived>,
    /// A cursor to advance.
    pub cursor: Option<(String, i64)>,
    /// A replay's new state.
    pub replay: Option<Replay>,
}

impl Batch {
    /// True when committing the batch would change nothing.
    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
            && self.archived.is_empty()
            && self.cursor.is_none()
            && self.replay.is_none()
    }
}

/// One archived event read back for a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedRow {
    pub id: i64,
    pub event_ms: i64,
    pub body: String,
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
    pub archives: Vec<Archive>,
    pub replays: Vec<Replay>,
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
        Job::Enqueue(b) => {
            let mut st = tx.prepare_cached(
                "INSERT INTO deliveries (next_ms, attempts, body) VALUES (?1, 0, ?2)",
            )?;
            for d in &b.deliveries {
                st.execute(params![b.next_ms, to_json(d)?])?;
            }
            archive_events(tx, &b.archived)?;
            if let Some((name, value)) = &b.cursor {
                tx.execute(
                    "INSERT OR REPLACE INTO cursors (name, value) VALUES (?1, ?2)",
                    params![name, value],
                )?;
            }
            if let Some(r) = &b.replay {
                put_replay(tx, r)?;
            }
        }
        Job::PutArchive(a) => {
            tx.execute(
                "INSERT INTO archives (name, body) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                params![a.name, to_json(a)?],
            )?;
        }
        Job::DeleteArchive(name) => {
            tx.execute("DELETE FROM archives WHERE name = ?1", [name])?;
            tx.execute("DELETE FROM archived WHERE archive = ?1", [name])?;
        }
        Job::Sweep(cutoffs) => {
            for (name, cutoff) in cutoffs {
                let (n, bytes): (i64, i64) = tx.query_row(
                    "SELECT count(*), coalesce(sum(length(CAST(body AS BLOB))), 0) FROM archived \
                     WHERE archive = ?1 AND stored_ms < ?2",
                    params![name, cutoff],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if n == 0 {
                    continue;
                }
                tx.execute(
                    "DELETE FROM archived WHERE archive = ?1 AND stored_ms < ?2",
                    params![name, cutoff],
                )?;
                tx.execute(
                    "UPDATE archives SET event_count = max(event_count - ?2, 0), \
                     size_bytes = max(size_bytes - ?3, 0) WHERE name = ?1",
                    params![name, n, bytes],
                )?;
            }
        }
        Job::PutReplay(r) => put_replay(tx, r)?,
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

fn archive_events(tx: &Transaction<'_>, rows: &[Archived]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO archived (archive, event_ms, stored_ms, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut count = tx.prepare_cached(
        "UPDATE archives SET event_count = event_count + 1, size_bytes = size_bytes + ?2 \
         WHERE name = ?1",
    )?;
    for a in rows {
        insert.execute(params![a.archive, a.event_ms, a.stored_ms, a.body])?;
        count.execute(params![a.archive, a.body.len() as i64])?;
    }
    Ok(())
}

fn put_replay(tx: &Transaction<'_>, r: &Replay) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR REPLACE INTO replays (name, body) VALUES (?1, ?2)",
        params![r.name, to_json(r)?],
    )?;
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
            let mut st = c.prepare("SELECT body FROM archives ORDER BY name")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                out.archives
                    .push(serde_json::from_str(&body?).map_err(|e| corrupt("archive", e))?);
            }
            let mut st = c.prepare("SELECT body FROM replays ORDER BY name")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                out.replays
                    .push(serde_json::from_str(&body?).map_err(|e| corrupt("replay", e))?);
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

    /// `(EventCount, SizeBytes)` of an archive.
    pub fn archive_stats(&self, name: &str) -> Result<(i64, i64), StoreError> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT event_count, size_bytes FROM archives WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, 0)))
        })
    }

    /// Up to `limit` events of `archive` after `cursor` (event time, id) in replay order, with
    /// an event time at most `end_ms`.
    pub fn archived_after(
        &self,
        archive: &str,
        cursor: (i64, i64),
        end_ms: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedRow>, StoreError> {
        self.with_reader(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, event_ms, body FROM archived WHERE archive = ?1 \
                 AND (event_ms, id) > (?2, ?3) AND event_ms <= ?4 \
                 ORDER BY event_ms, id LIMIT ?5",
            )?;
            let rows = st.query_map(
                params![archive, cursor.0, cursor.1, end_ms, limit as i64],
                |r| {
                    Ok(ArchivedRow {
                        id: r.get(0)?,
                        event_ms: r.get(1)?,
                        body: r.get(2)?,
                    })
                },
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
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
