//! Jobs run by the store's group-commit writer, and what happens after they commit.
//!
//! An ingest job writes one `ingest` row (plus any series rows not yet persisted) and, once
//! committed, publishes its points to the head. A compaction job writes blocks, deletes the
//! ingest rows it covers and advances `compacted_seq`, all in one transaction; once committed it
//! prunes the covered points from the head.
//!
//! Sequence numbers are assigned inside `apply`, which runs on the single writer thread in
//! commit order, so a higher sequence number is never committed before a lower one.

use rusqlite::{params, Transaction};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::schema::COMPACTED_SEQ;
use super::{Point, SeriesId, SeriesKey, Shared};
use crate::store::StoreError;

/// A unit of work for the writer.
#[derive(Debug)]
pub enum Job {
    Ingest(IngestJob),
    Compact(CompactJob),
}

/// One `PutMetricData` call.
#[derive(Debug)]
pub struct IngestJob {
    pub new_series: Vec<(SeriesId, SeriesKey)>,
    pub blob: Vec<u8>,
    pub points: Vec<(SeriesId, Point)>,
    /// Set by `apply`.
    pub seq: AtomicI64,
}

/// One block row.
#[derive(Debug)]
pub struct BlockRow {
    pub series_id: SeriesId,
    pub t_min: i64,
    pub t_max: i64,
    pub count: usize,
    pub data: Vec<u8>,
}

/// Fold every ingest row up to `upto` into `blocks`, replacing the block rows `replaces`
/// (whose points the new blocks contain).
#[derive(Debug)]
pub struct CompactJob {
    pub blocks: Vec<BlockRow>,
    pub replaces: Vec<i64>,
    pub upto: i64,
}

/// The writer's `apply` step; `next_seq` is the writer-owned sequence counter.
pub fn apply(tx: &Transaction<'_>, job: &Job, next_seq: &mut i64) -> Result<(), StoreError> {
    match job {
        Job::Ingest(j) => apply_ingest(tx, j, next_seq),
        Job::Compact(j) => apply_compact(tx, j),
    }
}

fn apply_ingest(tx: &Transaction<'_>, j: &IngestJob, next_seq: &mut i64) -> Result<(), StoreError> {
    if !j.new_series.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT OR IGNORE INTO series (id, namespace, metric_name, dimensions, unit) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (id, key) in &j.new_series {
            let dims = serde_json::to_string(&key.metric.dimensions)
                .map_err(|e| StoreError::Corrupt(format!("cannot encode dimensions: {e}")))?;
            st.execute(params![
                *id as i64,
                key.metric.namespace,
                key.metric.metric_name,
                dims,
                key.unit.code()
            ])?;
        }
    }
    let seq = *next_seq;
    *next_seq += 1;
    tx.prepare_cached("INSERT INTO ingest (seq, data) VALUES (?1, ?2)")?
        .execute(params![seq, j.blob])?;
    j.seq.store(seq, Ordering::SeqCst);
    Ok(())
}

fn apply_compact(tx: &Transaction<'_>, j: &CompactJob) -> Result<(), StoreError> {
    let mut st = tx.prepare_cached(
        "INSERT INTO blocks (series_id, t_min, t_max, count, seq, data) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for b in &j.blocks {
        st.execute(params![
            b.series_id as i64,
            b.t_min,
            b.t_max,
            b.count as i64,
            j.upto,
            b.data
        ])?;
    }
    let mut del = tx.prepare_cached("DELETE FROM blocks WHERE rowid = ?1")?;
    for rowid in &j.replaces {
        del.execute([rowid])?;
    }
    tx.prepare_cached("DELETE FROM ingest WHERE seq <= ?1")?
        .execute([j.upto])?;
    tx.prepare_cached("UPDATE meta SET value = ?1 WHERE key = ?2")?
        .execute(params![j.upto, COMPACTED_SEQ])?;
    Ok(())
}

/// The writer's `on_commit` step: publish committed data to memory.
pub fn on_commit(shared: &Arc<Shared>, job: Job) {
    match job {
        Job::Ingest(j) => {
            let seq = j.seq.load(Ordering::SeqCst);
            {
                let mut ix = shared.lock_index();
                for (id, _) in &j.new_series {
                    ix.mark_persisted(*id);
                }
                for (sid, p) in &j.points {
                    ix.observe(*sid, p.ts_ms);
                }
            }
            shared.lock_head().insert(seq, j.points);
            shared.committed_seq.fetch_max(seq, Ordering::SeqCst);
        }
        Job::Compact(j) => {
            shared.lock_head().prune_upto(j.upto);
            shared.compacted_seq.fetch_max(j.upto, Ordering::SeqCst);
        }
    }
}
