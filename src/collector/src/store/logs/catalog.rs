//! The in-memory copy of the `log_groups` and `log_streams` tables.
//!
//! Loaded once at open and afterwards changed only by the writer's commit hook, so it always
//! reflects committed state. Lookups and listings (DescribeLogGroups / DescribeLogStreams, the
//! existence checks of PutLogEvents) never touch SQLite.

use rusqlite::Connection;
use std::collections::BTreeMap;

use crate::store::StoreError;

/// Allowed `logGroupClass` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogGroupClass {
    Standard,
    InfrequentAccess,
    Delivery,
}

impl LogGroupClass {
    /// Every value, in the order AWS lists them.
    pub const ALL: [LogGroupClass; 3] = [
        LogGroupClass::Standard,
        LogGroupClass::InfrequentAccess,
        LogGroupClass::Delivery,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogGroupClass::Standard => "STANDARD",
            LogGroupClass::InfrequentAccess => "INFREQUENT_ACCESS",
            LogGroupClass::Delivery => "DELIVERY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A log group as last committed.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInfo {
    pub id: i64,
    pub name: String,
    pub creation_time: i64,
    pub retention_days: Option<u32>,
    pub kms_key_id: Option<String>,
    pub class: LogGroupClass,
    pub tags: BTreeMap<String, String>,
    /// Sum of the streams' stored bytes.
    pub stored_bytes: i64,
    pub streams: BTreeMap<String, StreamInfo>,
}

/// A log stream as last committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub id: i64,
    pub name: String,
    pub creation_time: i64,
    pub first_event_ts: Option<i64>,
    pub last_event_ts: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    /// Bytes of the stream's blocks on disk (compressed).
    pub stored_bytes: i64,
    /// The sequence number the stream's next event will be given at the earliest (the stream's
    /// upload sequence token).
    pub next_seq: i64,
}

/// All groups by name.
#[derive(Debug, Default)]
pub struct Catalog {
    pub groups: BTreeMap<String, GroupInfo>,
}

impl Catalog {
    /// Read the catalog from the database.
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let mut groups = BTreeMap::new();
        let mut by_id = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT id, name, creation_time, retention_days, kms_key_id, log_group_class, tags
             FROM log_groups",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let class: String = r.get(5)?;
            let tags: String = r.get(6)?;
            let retention: Option<i64> = r.get(3)?;
            let g = GroupInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                creation_time: r.get(2)?,
                retention_days: retention.and_then(|d| u32::try_from(d).ok()),
                kms_key_id: r.get(4)?,
                class: LogGroupClass::parse(&class)
                    .ok_or_else(|| StoreError::Corrupt(format!("log group class {class:?}")))?,
                tags: serde_json::from_str(&tags)
                    .map_err(|e| StoreError::Corrupt(format!("log group tags: {e}")))?,
                stored_bytes: 0,
                streams: BTreeMap::new(),
            };
            by_id.insert(g.id, g.name.clone());
            groups.insert(g.name.clone(), g);
        }
        let mut stmt = conn.prepare(
            "SELECT group_id, id, name, creation_time, first_event_ts, last_event_ts,
                    last_ingestion_time, stored_bytes, next_seq
             FROM log_streams",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let group_id: i64 = r.get(0)?;
            let s = StreamInfo {
                id: r.get(1)?,
                name: r.get(2)?,
                creation_time: r.get(3)?,
                first_event_ts: r.get(4)?,
                last_event_ts: r.get(5)?,
                last_ingestion_time: r.get(6)?,
                stored_bytes: r.get(7)?,
                next_seq: r.get(8)?,
            };
            let g = by_id
                .get(&group_id)
                .and_then(|name| groups.get_mut(name))
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("stream of missing group {group_id}"))
                })?;
            g.stored_bytes += s.stored_bytes;
            g.streams.insert(s.name.clone(), s);
        }
        Ok(Catalog { groups })
    }

    /// The group named `name` if its id is still `id` (it may have been deleted and re-created).
    pub fn group_mut(&mut self, name: &str, id: i64) -> Option<&mut GroupInfo> {
        self.groups.get_mut(name).filter(|g| g.id == id)
    }
}
