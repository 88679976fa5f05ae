//! Write jobs: what the group-commit writer applies inside its transaction, and how each
//! committed job is published to the in-memory [`Catalog`].
//!
//! Sequence numbers are handed out here, on the single writer thread, so they increase in commit
//! order; the counter is persisted in `log_meta.next_seq` by the same transaction as the block
//! that uses it, so numbers are never reused, not even after blocks are deleted.

use rusqlite::{params, Transaction};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::catalog::{Catalog, GroupInfo, LogGroupClass, StreamInfo};
use super::codec;
use super::MAX_BLOCK_SPAN_MS;
use crate::store::StoreError;

/// One unit of work for the writer.
#[derive(Debug)]
pub(super) enum Job {
    CreateGroup {
        name: String,
        creation_time: i64,
        kms_key_id: Option<String>,
        class: LogGroupClass,
        tags: BTreeMap<String, String>,
        /// Set by the writer to the new row id.
        id: AtomicI64,
    },
    DeleteGroup {
        name: String,
        id: i64,
    },
    CreateStream {
        group_name: String,
        group_id: i64,
        name: String,
        creation_time: i64,
        id: AtomicI64,
    },
    DeleteStream {
        group_name: String,
        group_id: i64,
        name: String,
        id: i64,
    },
    SetRetention {
        group_name: String,
        group_id: i64,
        days: Option<u32>,
    },
    SetTags {
        group_name: String,
        group_id: i64,
        tags: BTreeMap<String, String>,
    },
    Append(AppendJob),
    Sweep(SweepJob),
}

/// One block to insert.
#[derive(Debug)]
pub(super) struct AppendJob {
    pub group_name: String,
    pub group_id: i64,
    pub stream_name: String,
    pub stream_id: i64,
    pub min_ts: i64,
    pub max_ts: i64,
    pub count: i64,
    pub raw_bytes: i64,
    pub ingestion_time: i64,
    pub blob: Vec<u8>,
    /// Set by the writer: the sequence number of the block's first event.
    pub first_seq: Arc<AtomicI64>,
}

/// A retention sweep: delete events older than each listed group's retention at `now_ms`.
#[derive(Debug)]
pub(super) struct SweepJob {
    pub now_ms: i64,
    /// (name, id, retention in days) of every group with a retention policy.
    pub groups: Vec<(String, i64, u32)>,
    /// Filled by the writer; published on commit and read back by the caller.
    pub outcome: Arc<Mutex<SweepOutcome>>,
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepOutcome {
    /// Blocks deleted outright.
    pub blocks_deleted: u64,
    /// Blocks rewritten without their expired prefix.
    pub blocks_trimmed: u64,
    /// Events removed.
    pub events_removed: u64,
    /// Stored bytes freed.
    pub bytes_freed: i64,
    /// Per stream: (group name, group id, stream name, bytes freed).
    pub(super) streams: Vec<(String, i64, String, i64)>,
}

/// State kept by the writer thread between jobs.
#[derive(Debug, Default)]
pub(super) struct Writer {
    next_seq: Option<i64>,
}

impl Writer {
    /// Apply `job` inside the group transaction.
    pub fn apply(&mut self, tx: &Transaction<'_>, job: &Job) -> Result<(), StoreError> {
        match job {
            Job::CreateGroup {
                name,
                creation_time,
                kms_key_id,
                class,
                tags,
                id,
            } => {
                let tags = serde_json::to_string(tags)
                    .map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?;
                tx.execute(
                    "INSERT INTO log_groups (name, creation_time, kms_key_id, log_group_class, tags)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![name, creation_time, kms_key_id, class.as_str(), tags],
                )?;
                id.store(tx.last_insert_rowid(), Ordering::SeqCst);
            }
            Job::DeleteGroup { id, .. } => {
                tx.execute("DELETE FROM log_groups WHERE id = ?1", [id])?;
            }
            Job::CreateStream {
                group_id,
                name,
                creation_time,
                id,
                ..
            } => {
                tx.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?1, ?2, ?3)",
                    params![group_id, name, creation_time],
                )?;
                id.store(tx.last_insert_rowid(), Ordering::SeqCst);
            }
            Job::DeleteStream { id, .. } => {
                tx.execute("DELETE FROM log_streams WHERE id = ?1", [id])?;
            }
            Job::SetRetention { group_id, days, .. } => {
                tx.execute(
                    "UPDATE log_groups SET retention_days = ?1 WHERE id = ?2",
                    params![days, group_id],
                )?;
            }
            Job::SetTags { group_id, tags, .. } => {
                let tags = serde_json::to_string(tags)
                    .map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?;
                tx.execute(
                    "UPDATE log_groups SET tags = ?1 WHERE id = ?2",
                    params![tags, group_id],
                )?;
            }
            Job::Append(a) => self.append(tx, a)?,
            Job::Sweep(s) => sweep(tx, s)?,
        }
        Ok(())
    }

    fn append(&mut self, tx: &Transaction<'_>, a: &AppendJob) -> Result<(), StoreError> {
        let first_seq = match self.next_seq {
            Some(n) => n,
            None => tx.query_row(
                "SELECT value FROM log_meta WHERE key = 'next_seq'",
                [],
                |r| r.get(0),
            )?,
        };
        let next = first_seq + a.count;
        let changed = tx
            .prepare_cached(
                "UPDATE log_streams SET
                    first_event_ts = MIN(COALESCE(first_event_ts, ?1), ?1),
                    last_event_ts = MAX(COALESCE(last_event_ts, ?2), ?2),
                    last_ingestion_time = ?3,
                    stored_bytes = stored_bytes + ?4,
                    next_seq = ?5
                 WHERE id = ?6",
            )?
            .execute(params![
                a.min_ts,
                a.max_ts,
                a.ingestion_time,
                a.blob.len() as i64,
                next,
                a.stream_id
            ])?;
        if changed == 0 {
            // The stream was deleted after the request looked it up.
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
        }
        tx.prepare_cached(
            "INSERT INTO log_blocks
                (stream_id, min_ts, max_ts, first_seq, count, ingestion_time, raw_bytes, blob)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            a.stream_id,
            a.min_ts,
            a.max_ts,
            first_seq,
            a.count,
            a.ingestion_time,
            a.raw_bytes,
            a.blob
        ])?;
        tx.prepare_cached("UPDATE log_meta SET value = ?1 WHERE key = 'next_seq'")?
            .execute([next])?;
        // Only advance the in-memory counter once every statement of the job succeeded; a
        // rolled-back job leaves the persisted and cached counters in step.
        self.next_seq = Some(next);
        a.first_seq.store(first_seq, Ordering::SeqCst);
        Ok(())
    }
}

/// A stored block, as the sweep rewrites it.
struct BlockRow {
    id: i64,
    min_ts: i64,
    max_ts: i64,
    first_seq: i64,
    count: i64,
    blob: Vec<u8>,
}

fn sweep(tx: &Transaction<'_>, s: &SweepJob) -> Result<(), StoreError> {
    let mut out = SweepOutcome::default();
    for (group_name, group_id, days) in &s.groups {
        let cutoff = s.now_ms.saturating_sub(i64::from(*days) * 86_400_000);
        let streams: Vec<(i64, String)> = tx
            .prepare_cached("SELECT id, name FROM log_streams WHERE group_id = ?1")?
            .query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (stream_id, stream_name) in streams {
            let mut freed = 0i64;
            // Blocks wholly older than the cutoff.
            let (bytes, blocks, events): (i64, i64, i64) = tx
                .prepare_cached(
                    "SELECT COALESCE(SUM(length(blob)), 0), COUNT(*), COALESCE(SUM(count), 0)
                     FROM log_blocks WHERE stream_id = ?1 AND max_ts < ?2",
                )?
                .query_row(params![stream_id, cutoff], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
            if blocks > 0 {
                tx.prepare_cached("DELETE FROM log_blocks WHERE stream_id = ?1 AND max_ts < ?2")?
                    .execute(params![stream_id, cutoff])?;
                freed += bytes;
                out.blocks_deleted += blocks as u64;
                out.events_removed += events as u64;
            }
            // Blocks straddling the cutoff: drop their expired prefix.
            let straddling: Vec<BlockRow> = tx
                .prepare_cached(
                    "SELECT id, min_ts, max_ts, first_seq, count, blob FROM log_blocks
                     WHERE stream_id = ?1 AND min_ts >= ?2 AND min_ts < ?3 AND max_ts >= ?3",
                )?
                .query_map(
                    params![stream_id, cutoff.saturating_sub(MAX_BLOCK_SPAN_MS), cutoff],
                    |r| {
                        Ok(BlockRow {
                            id: r.get(0)?,
                            min_ts: r.get(1)?,
                            max_ts: r.get(2)?,
                            first_seq: r.get(3)?,
                            count: r.get(4)?,
                            blob: r.get(5)?,
                        })
                    },
                )?
                .collect::<Result<_, _>>()?;
            for BlockRow {
                id,
                min_ts,
                max_ts,
                first_seq,
                count,
                blob,
            } in straddling
            {
                let count_usize = usize::try_from(count)
                    .map_err(|_| StoreError::Corrupt(format!("block {id}: count {count}")))?;
                let events = codec::decode(&blob, min_ts, max_ts, count_usize)?;
                let drop = events.iter().take_while(|e| e.timestamp < cutoff).count();
                if drop == 0 || drop == events.len() {
                    // Cannot happen given min_ts < cutoff <= max_ts; leave the block alone.
                    continue;
                }
                let kept = &events[drop..];
                let new_min = kept[0].timestamp;
                let raw: i64 = kept.iter().map(|e| e.message.len() as i64).sum();
                let (new_blob, _) = codec::encode(
                    new_min,
                    kept.iter().map(|e| (e.timestamp, e.message.as_str())),
                    raw as usize + 8 * kept.len(),
                );
                tx.prepare_cached(
                    "UPDATE log_blocks SET min_ts = ?1, first_seq = ?2, count = ?3,
                        raw_bytes = ?4, blob = ?5 WHERE id = ?6",
                )?
                .execute(params![
                    new_min,
                    first_seq + drop as i64,
                    kept.len() as i64,
                    raw,
                    new_blob,
                    id
                ])?;
                freed += blob.len() as i64 - new_blob.len() as i64;
                out.blocks_trimmed += 1;
                out.events_removed += drop as u64;
            }
            if freed != 0 {
                tx.prepare_cached(
                    "UPDATE log_streams SET stored_bytes = MAX(stored_bytes - ?1, 0) WHERE id = ?2",
                )?
                .execute(params![freed, stream_id])?;
                out.bytes_freed += freed;
                out.streams
                    .push((group_name.clone(), *group_id, stream_name, freed));
            }
        }
    }
    let mut slot = s.outcome.lock().unwrap_or_else(|e| e.into_inner());
    *slot = out;
    Ok(())
}

/// Publish a committed job to the catalog.
pub(super) fn publish(catalog: &RwLock<Catalog>, job: Job) {
    let mut cat = catalog.write().unwrap_or_else(|e| e.into_inner());
    match job {
        Job::CreateGroup {
            name,
            creation_time,
            kms_key_id,
            class,
            tags,
            id,
        } => {
            cat.groups.insert(
                name.clone(),
                GroupInfo {
                    id: id.load(Ordering::SeqCst),
                    name,
                    creation_time,
                    retention_days: None,
                    kms_key_id,
                    class,
                    tags,
                    stored_bytes: 0,
                    streams: BTreeMap::new(),
                },
            );
        }
        Job::DeleteGroup { name, id } => {
            if cat.group_mut(&name, id).is_some() {
                cat.groups.remove(&name);
            }
        }
        Job::CreateStream {
            group_name,
            group_id,
            name,
            creation_time,
            id,
        } => {
            if let Some(g) = cat.group_mut(&group_name, group_id) {
                g.streams.insert(
                    name.clone(),
                    StreamInfo {
                        id: id.load(Ordering::SeqCst),
                        name,
                        creation_time,
                        first_event_ts: None,
                        last_event_ts: None,
                        last_ingestion_time: None,
                        stored_bytes: 0,
                        next_seq: 1,
                    },
                );
            }
        }
        Job::DeleteStream {
            group_name,
            group_id,
            name,
            id,
        } => {
            if let Some(g) = cat.group_mut(&group_name, group_id) {
                if g.streams.get(&name).is_some_and(|s| s.id == id) {
                    if let Some(s) = g.streams.remove(&name) {
                        g.stored_bytes -= s.stored_bytes;
                    }
                }
            }
        }
        Job::SetRetention {
            group_name,
            group_id,
            days,
        } => {
            if let Some(g) = cat.group_mut(&group_name, group_id) {
                g.retention_days = days;
            }
        }
        Job::SetTags {
            group_name,
            group_id,
            tags,
        } => {
            if let Some(g) = cat.group_mut(&group_name, group_id) {
                g.tags = tags;
            }
        }
        Job::Append(a) => {
            if let Some(g) = cat.group_mut(&a.group_name, a.group_id) {
                let bytes = a.blob.len() as i64;
                if let Some(s) = g.streams.get_mut(&a.stream_name) {
                    if s.id == a.stream_id {
                        s.first_event_ts =
                            Some(s.first_event_ts.map_or(a.min_ts, |t| t.min(a.min_ts)));
                        s.last_event_ts =
                            Some(s.last_event_ts.map_or(a.max_ts, |t| t.max(a.max_ts)));
                        s.last_ingestion_time = Some(a.ingestion_time);
                        s.stored_bytes += bytes;
                        s.next_seq = a.first_seq.load(Ordering::SeqCst) + a.count;
                        g.stored_bytes += bytes;
                    }
                }
            }
        }
        Job::Sweep(s) => {
            let outcome = s.outcome.lock().unwrap_or_else(|e| e.into_inner());
            for (group_name, group_id, stream_name, freed) in &outcome.streams {
                if let Some(g) = cat.group_mut(group_name, *group_id) {
                    if let Some(st) = g.streams.get_mut(stream_name) {
                        st.stored_bytes = (st.stored_bytes - freed).max(0);
                    }
                    g.stored_bytes = (g.stored_bytes - freed).max(0);
                }
            }
        }
    }
}

/// Read the persisted sequence counter (tests).
#[cfg(test)]
pub(super) fn persisted_next_seq(conn: &rusqlite::Connection) -> Result<Option<i64>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT value FROM log_meta WHERE key = 'next_seq'",
            [],
            |r| r.get(0),
        )
        .optional()?)
}
