//! The alarm store: `alarms.db` in the data directory.
//!
//! # Design
//! Alarms are few (thousands) and change rarely compared with metric data, so the whole set is
//! loaded at open and kept in memory by the alarm service; this store only persists changes.
//! Every change of the service — an API call, or one evaluation round — is written by one call
//! to [`AlarmStore::commit`]: one SQLite transaction holding the changed alarms, their history
//! items, the outbox entries (events and due actions) and, for a round, the round's time. A
//! crash therefore leaves either all of a change or none of it.
//!
//! # On-disk format (migration 1)
//! - `alarms(name TEXT PRIMARY KEY, kind INTEGER, config TEXT)`: `kind` 0 = metric alarm,
//!   1 = composite; `config` = `alarms::model::AlarmConfig` as serde JSON;
//! - `alarm_states(name TEXT PRIMARY KEY, state TEXT)`: the rest of the alarm (state, tags,
//!   configuration version, suppression) as serde JSON of [`StateDoc`]. Kept apart from the
//!   configuration so that a state change rewrites only this small row (an evaluation round
//!   that changes thousands of states writes a few pages per hundred alarms, not their whole
//!   configurations);
//! - `history(id INTEGER PRIMARY KEY, alarm_name, alarm_type, ts_ms, item_type, summary, data)`:
//!   `alarm_type` as `kind`, `item_type` 0 = ConfigurationUpdate, 1 = StateUpdate, 2 = Action,
//!   `data` = HistoryData JSON text; indexes `(alarm_name, ts_ms)` and `(ts_ms)`. Not tied to
//!   `alarms`: history outlives the alarm and is pruned by age (two weeks);
//! - `outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, created_ms, event TEXT NULL, actions TEXT
//!   NULL)`: `event` = EventBridge event JSON text, `actions` = `DueActions` JSON; `seq` is never
//!   reused; pruned by age (two weeks) like history;
//! - `meta(key TEXT PRIMARY KEY, value INTEGER)`: `last_round_ms` (the last evaluation round
//!   committed; rounds at or before it never run again) and `delivered_seq` (the last outbox
//!   entry handed to the attached publisher).

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

use super::sqlite::{self, OpenOptions};
use super::StoreError;
use crate::alarms::events::{DueActions, Outgoing, PendingEntry};
use crate::alarms::history::{HistoryItem, ItemType};
use crate::alarms::model::{Alarm, AlarmConfig, AlarmKind, AlarmStatus};
use crate::alarms::suppress::Suppression;
use serde::{Deserialize, Serialize};

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE alarms (
    name   TEXT PRIMARY KEY,
    kind   INTEGER NOT NULL,
    config TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE alarm_states (
    name  TEXT PRIMARY KEY,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE history (
    id         INTEGER PRIMARY KEY,
    alarm_name TEXT NOT NULL,
    alarm_type INTEGER NOT NULL,
    ts_ms      INTEGER NOT NULL,
    item_type  INTEGER NOT NULL,
    summary    TEXT NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX history_name_ts ON history(alarm_name, ts_ms);
CREATE INDEX history_ts ON history(ts_ms);
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    event      TEXT,
    actions    TEXT
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('last_round_ms', 0), ('delivered_seq', 0);
"#];

/// What [`AlarmStore::load`] returns.
#[derive(Debug, Default)]
pub struct Loaded {
    pub alarms: Vec<Alarm>,
    pub last_round_ms: i64,
    pub delivered_seq: i64,
}

/// The stored state part of an alarm (everything but its configuration).
#[derive(Debug, Serialize, Deserialize)]
pub struct StateDoc {
    pub status: AlarmStatus,
    pub tags: Vec<(String, String)>,
    pub version: u64,
    #[serde(default)]
    pub suppression: Suppression,
}

/// One atomic change.
#[derive(Debug, Default)]
pub struct Commit<'a> {
    /// Alarms to write, each with whether its configuration changed (else only its state row
    /// is rewritten).
    pub upserts: Vec<(&'a Alarm, bool)>,
    pub deletes: Vec<&'a str>,
    pub history: &'a [HistoryItem],
    pub outbox: &'a [PendingEntry],
    pub now_ms: i64,
    /// Set by an evaluation round.
    pub last_round_ms: Option<i64>,
    /// Drop history and outbox entries older than this.
    pub prune_before_ms: Option<i64>,
}

/// Filters of a history query.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub alarm_name: Option<String>,
    pub kinds: Vec<AlarmKind>,
    pub item_type: Option<ItemType>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub ascending: bool,
    /// Resume strictly after this `(ts_ms, id)` in scan order.
    pub after: Option<(i64, i64)>,
    pub limit: usize,
}

/// A stored history item with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub id: i64,
    pub item: HistoryItem,
}

/// [`StateDoc`] borrowed, for writing.
#[derive(Serialize)]
struct StateRef<'a> {
    status: &'a AlarmStatus,
    tags: &'a [(String, String)],
    version: u64,
    suppression: &'a Suppression,
}

/// The alarm database.
#[derive(Debug)]
pub struct AlarmStore {
    conn: Connection,
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(format!("alarms.db: {what}"))
}

impl AlarmStore {
    /// Open (or create) `alarms.db` under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let conn = sqlite::open(
            &dir.join("alarms.db"),
            MIGRATIONS,
            OpenOptions {
                cache_kib: 8 * 1024,
                fsync_every_commit: false,
            },
        )?;
        Ok(AlarmStore { conn })
    }

    /// Every alarm and the bookkeeping values.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let mut st = self.conn.prepare(
            "SELECT a.name, a.config, s.state FROM alarms a
             LEFT JOIN alarm_states s ON s.name = a.name ORDER BY a.name",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut alarms = Vec::new();
        for row in rows {
            let (name, config, state) = row?;
            let config: AlarmConfig = serde_json::from_str(&config)
                .map_err(|e| corrupt(format!("alarm {name:?} configuration: {e}")))?;
            let state = state.ok_or_else(|| corrupt(format!("alarm {name:?} has no state")))?;
            let state: StateDoc = serde_json::from_str(&state)
                .map_err(|e| corrupt(format!("alarm {name:?} state: {e}")))?;
            alarms.push(Alarm {
                config,
                status: state.status,
                tags: state.tags,
                version: state.version,
                suppression: state.suppression,
            });
        }
        Ok(Loaded {
            alarms,
            last_round_ms: self.meta("last_round_ms")?,
            delivered_seq: self.meta("delivered_seq")?,
        })
    }

    fn meta(&self, key: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Write one change atomically.
    pub fn commit(&mut self, c: &Commit<'_>) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut up_config = tx.prepare_cached(
                "INSERT INTO alarms (name, kind, config) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, config = excluded.config",
            )?;
            let mut up_state = tx.prepare_cached(
                "INSERT INTO alarm_states (name, state) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET state = excluded.state",
            )?;
            for (a, config_changed) in &c.upserts {
                let encode = |e: serde_json::Error| {
                    corrupt(format!("cannot encode alarm {:?}: {e}", a.name()))
                };
                if *config_changed {
                    let config = serde_json::to_string(&a.config).map_err(encode)?;
                    up_config.execute(params![a.name(), a.config.kind().code(), config])?;
                }
                let state = serde_json::to_string(&StateRef {
                    status: &a.status,
                    tags: &a.tags,
                    version: a.version,
                    suppression: &a.suppression,
                })
                .map_err(encode)?;
                up_state.execute(params![a.name(), state])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM alarms WHERE name = ?1")?;
            let mut del_state = tx.prepare_cached("DELETE FROM alarm_states WHERE name = ?1")?;
            for name in &c.deletes {
                del.execute([name])?;
                del_state.execute([name])?;
            }
            let mut hist = tx.prepare_cached(
                "INSERT INTO history (alarm_name, alarm_type, ts_ms, item_type, summary, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for h in c.history {
                hist.execute(params![
                    h.alarm_name,
                    h.alarm_kind.code(),
                    h.ts_ms,
                    h.item_type.code(),
                    h.summary,
                    h.data
                ])?;
            }
            let mut out = tx.prepare_cached(
                "INSERT INTO outbox (created_ms, event, actions) VALUES (?1, ?2, ?3)",
            )?;
            for e in c.outbox {
                let actions = match &e.actions {
                    Some(a) => Some(
                        serde_json::to_string(a)
                            .map_err(|e| corrupt(format!("cannot encode actions: {e}")))?,
                    ),
                    None => None,
                };
                out.execute(params![c.now_ms, e.event, actions])?;
            }
        }
        if let Some(t) = c.last_round_ms {
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'last_round_ms'",
                [t],
            )?;
        }
        if let Some(t) = c.prune_before_ms {
            tx.execute("DELETE FROM history WHERE ts_ms < ?1", [t])?;
            tx.execute("DELETE FROM outbox WHERE created_ms < ?1", [t])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// History items matching `q`, in scan order, at most `q.limit`.
    pub fn history(&self, q: &HistoryQuery) -> Result<Vec<StoredItem>, StoreError> {
        let mut sql = String::from(
            "SELECT id, alarm_name, alarm_type, ts_ms, item_type, summary, data FROM history WHERE 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(n) = &q.alarm_name {
            sql.push_str(" AND alarm_name = ?");
            args.push(n.clone().into());
        }
        if !q.kinds.is_empty() {
            let codes: Vec<String> = q.kinds.iter().map(|k| k.code().to_string()).collect();
            sql.push_str(&format!(" AND alarm_type IN ({})", codes.join(",")));
        }
        if let Some(t) = q.item_type {
            sql.push_str(" AND item_type = ?");
            args.push(t.code().into());
        }
        if let Some(s) = q.start_ms {
            sql.push_str(" AND ts_ms >= ?");
            args.push(s.into());
        }
        if let Some(e) = q.end_ms {
            sql.push_str(" AND ts_ms <= ?");
            args.push(e.into());
        }
        if let Some((ts, id)) = q.after {
            sql.push_str(if q.ascending {
                " AND (ts_ms, id) > (?, ?)"
            } else {
                " AND (ts_ms, id) < (?, ?)"
            });
            args.push(ts.into());
            args.push(id.into());
        }
        sql.push_str(if q.ascending {
            " ORDER BY ts_ms ASC, id ASC"
        } else {
            " ORDER BY ts_ms DESC, id DESC"
        });
        sql.push_str(&format!(" LIMIT {}", q.limit.min(10_000)));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, alarm_name, kind, ts_ms, item, summary, data) = row?;
            out.push(StoredItem {
                id,
                item: HistoryItem {
                    alarm_name,
                    alarm_kind: AlarmKind::from_code(kind)
                        .ok_or_else(|| corrupt(format!("history {id}: alarm type {kind}")))?,
                    ts_ms,
                    item_type: ItemType::from_code(item)
                        .ok_or_else(|| corrupt(format!("history {id}: item type {item}")))?,
                    summary,
                    data,
                },
            });
        }
        Ok(out)
    }

    /// Outbox entries with `seq > after`, oldest first, at most `limit`.
    pub fn outbox_after(&self, after: i64, limit: usize) -> Result<Vec<Outgoing>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, created_ms, event, actions FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![after, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, created_ms, event, actions) = row?;
            let actions: Option<DueActions> = match actions {
                Some(a) => Some(
                    serde_json::from_str(&a)
                        .map_err(|e| corrupt(format!("outbox {seq} actions: {e}")))?,
                ),
                None => None,
            };
            out.push(Outgoing {
                seq,
                created_ms,
                event,
                actions,
            });
        }
        Ok(out)
    }

    /// Record that entries up to `seq` were delivered.
    pub fn set_delivered(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'delivered_seq' AND value < ?1",
            [seq],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::{Actions, CompositeAlarmConfig, StateValue};

    fn alarm(name: &str) -> Alarm {
        Alarm {
            config: AlarmConfig::Composite(CompositeAlarmConfig {
                name: name.into(),
                description: None,
                actions: Actions::default(),
                rule: "TRUE".into(),
                children: vec![],
                suppressor: None,
                suppressor_as_sent: None,
                wait_period_s: None,
                extension_period_s: None,
                updated_ms: 1,
            }),
            status: AlarmStatus::initial(1),
            tags: vec![("k".into(), "v".into())],
            version: 1,
            suppression: Suppression::default(),
        }
    }

    fn item(name: &str, ts: i64, t: ItemType) -> HistoryItem {
        HistoryItem {
            alarm_name: name.into(),
            alarm_kind: AlarmKind::Composite,
            ts_ms: ts,
            item_type: t,
            summary: format!("s{ts}"),
            data: "{}".into(),
        }
    }

    #[test]
    fn round_trip_and_prune() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = AlarmStore::open(dir.path()).unwrap();
        let (a, mut b) = (alarm("a"), alarm("b"));
        let hist = [
            item("a", 10, ItemType::ConfigurationUpdate),
            item("a", 20, ItemType::StateUpdate),
            item("b", 30, ItemType::StateUpdate),
        ];
        let out = [PendingEntry {
            event: Some("{\"x\":1}".into()),
            actions: Some(DueActions {
                alarm_name: "a".into(),
                alarm_arn: "arn".into(),
                state: StateValue::Alarm,
                arns: vec!["arn:aws:sns:r:1:t".into()],
            }),
        }];
        s.commit(&Commit {
            upserts: vec![(&a, true), (&b, true)],
            history: &hist,
            outbox: &out,
            now_ms: 40,
            last_round_ms: Some(30),
            ..Default::default()
        })
        .unwrap();
        b.status.value = StateValue::Alarm;
        s.commit(&Commit {
            upserts: vec![(&b, false)],
            deletes: vec!["a"],
            now_ms: 50,
            ..Default::default()
        })
        .unwrap();
        drop(s);
        let mut s = AlarmStore::open(dir.path()).unwrap();
        let l = s.load().unwrap();
        assert_eq!(l.alarms, vec![b.clone()]);
        assert_eq!(l.last_round_ms, 30);
        let q = HistoryQuery {
            limit: 10,
            ..Default::default()
        };
        let all = s.history(&q).unwrap();
        assert_eq!(
            all.iter().map(|i| i.item.ts_ms).collect::<Vec<_>>(),
            vec![30, 20, 10]
        );
        let q = HistoryQuery {
            alarm_name: Some("a".into()),
            ascending: true,
            after: Some((10, all[2].id)),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            s.history(&q).unwrap().len(),
            1,
            "history outlives the alarm"
        );
        let q = HistoryQuery {
            item_type: Some(ItemType::StateUpdate),
            start_ms: Some(25),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(s.history(&q).unwrap().len(), 1);
        let o = s.outbox_after(0, 10).unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].actions.as_ref().unwrap().arns.len(), 1);
        s.set_delivered(o[0].seq).unwrap();
        s.set_delivered(0).unwrap();
        assert_eq!(s.load().unwrap().delivered_seq, o[0].seq);
        s.commit(&Commit {
            now_ms: 60,
            prune_before_ms: Some(25),
            ..Default::default()
        })
        .unwrap();
        let q = HistoryQuery {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            s.history(&q).unwrap().len(),
            1,
            "only the item at 30 is left"
        );
        assert_eq!(s.outbox_after(0, 10).unwrap().len(), 1, "written at 40");
        s.commit(&Commit {
            now_ms: 70,
            prune_before_ms: Some(45),
            ..Default::default()
        })
        .unwrap();
        assert!(s.history(&q).unwrap().is_empty());
        assert!(s.outbox_after(0, 10).unwrap().is_empty());
    }

    #[test]
    fn corrupt_documents_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = AlarmStore::open(dir.path()).unwrap();
        s.conn
            .execute("INSERT INTO alarms VALUES ('x', 0, 'not json')", [])
            .unwrap();
        assert!(matches!(s.load(), Err(StoreError::Corrupt(_))));
    }
}
