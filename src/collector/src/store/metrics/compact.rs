//! Compaction (head -> blocks), recovery on open, and block reads.
//!
//! A compaction plans outside the writer thread: it copies every head point with
//! `seq <= committed_seq`, encodes one block per series — merged with the series' latest block
//! when that one is still small — and submits a single job that inserts the blocks, deletes the
//! blocks they replace and the covered ingest rows, and advances `compacted_seq` atomically.
//! Only one compaction runs at a time (the store's `compacting` lock), and only compactions
//! write blocks, so a planned merge cannot race another.

use rusqlite::{params, Connection, OptionalExtension};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::codec;
use super::head::Head;
use super::schema::COMPACTED_SEQ;
use super::series::SeriesIndex;
use super::writer::{BlockRow, CompactJob, Job};
use super::{Inner, Point, SeriesId, SeriesKey, Shared};
use crate::store::StoreError;
use hostwatch_model::{Dimension, MetricKey, Unit};

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompactStats {
    pub blocks: usize,
    pub points: usize,
    /// The ingest sequence number now covered by blocks.
    pub upto: i64,
}

/// Load the dictionary, per-series last data times and the uncompacted ingest rows.
/// Returns `(compacted_seq, highest seq seen)`.
pub(super) fn load(
    conn: &Connection,
    index: &mut SeriesIndex,
    head: &mut Head,
) -> Result<(i64, i64), StoreError> {
    load_series(conn, index)?;
    let mut st = conn.prepare("SELECT series_id, MAX(t_max) FROM blocks GROUP BY series_id")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (sid, t) = row?;
        index.observe(sid as SeriesId, t);
    }
    let compacted = compacted_seq(conn)?;
    let mut max_seq = compacted;
    let mut st = conn.prepare("SELECT seq, data FROM ingest WHERE seq > ?1 ORDER BY seq")?;
    let rows = st.query_map([compacted], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    for row in rows {
        let (seq, data) = row?;
        let points = codec::decode_ingest(&data)?;
        for (sid, p) in &points {
            index.observe(*sid, p.ts_ms);
        }
        head.insert(seq, points);
        max_seq = max_seq.max(seq);
    }
    Ok((compacted, max_seq))
}

fn load_series(conn: &Connection, index: &mut SeriesIndex) -> Result<(), StoreError> {
    let mut st = conn.prepare("SELECT id, namespace, metric_name, dimensions, unit FROM series")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (id, ns, name, dims, unit) = row?;
        let dims: Vec<Dimension> = serde_json::from_str(&dims)
            .map_err(|e| StoreError::Corrupt(format!("series {id} dimensions: {e}")))?;
        let unit = u8::try_from(unit)
            .ok()
            .and_then(Unit::from_code)
            .ok_or_else(|| StoreError::Corrupt(format!("series {id}: unit code {unit}")))?;
        let key = SeriesKey {
            metric: MetricKey::new(ns, name, dims),
            unit,
        };
        index.load(id as SeriesId, key);
    }
    Ok(())
}

fn compacted_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [COMPACTED_SEQ],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0))
}

/// A series' latest block absorbs new points while it holds fewer points than this.
const MERGE_BELOW: i64 = 512;
/// Never grow a block beyond this many points by merging.
const MAX_MERGED: usize = 8192;

/// Build the compaction job for everything committed so far; `None` when nothing is pending.
/// `conn` reads the latest block of each touched series, to merge small ones.
pub(super) fn plan(
    shared: &Shared,
    conn: &Connection,
) -> Result<Option<(CompactJob, CompactStats)>, StoreError> {
    let upto = shared.committed_seq.load(Ordering::SeqCst);
    if upto <= shared.compacted_seq.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let snapshot = shared.lock_head().snapshot_upto(upto);
    let mut stats = CompactStats {
        upto,
        ..Default::default()
    };
    let mut blocks = Vec::with_capacity(snapshot.len());
    let mut replaces = Vec::new();
    for (sid, mut pts) in snapshot {
        stats.points += pts.len();
        if let Some((rowid, old)) = small_latest_block(conn, sid, pts.len())? {
            pts.extend(old);
            pts.sort_by_key(|p| p.ts_ms);
            replaces.push(rowid);
        }
        blocks.push(block_row(sid, &pts));
    }
    stats.blocks = blocks.len();
    Ok(Some((
        CompactJob {
            blocks,
            replaces,
            upto,
        },
        stats,
    )))
}

/// The latest block of `sid` when it is small enough to absorb `adding` more points.
fn small_latest_block(
    conn: &Connection,
    sid: SeriesId,
    adding: usize,
) -> Result<Option<(i64, Vec<Point>)>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT rowid, count, data FROM blocks WHERE series_id = ?1 \
             ORDER BY t_max DESC LIMIT 1",
        )?
        .query_row([sid as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .optional()?;
    match row {
        Some((rowid, count, data))
            if count < MERGE_BELOW && count as usize + adding <= MAX_MERGED =>
        {
            Ok(Some((rowid, codec::decode_block(&data)?)))
        }
        _ => Ok(None),
    }
}

fn block_row(series_id: SeriesId, pts: &[Point]) -> BlockRow {
    let t_min = pts.first().map(|p| p.ts_ms).unwrap_or(0);
    let t_max = pts.last().map(|p| p.ts_ms).unwrap_or(0);
    BlockRow {
        series_id,
        t_min,
        t_max,
        count: pts.len(),
        data: codec::encode_block(pts),
    }
}

/// `compacted_seq` and the block points of `sid` in `[from_ms, to_ms)`, from one snapshot.
pub(super) fn read_blocks(
    conn: &Connection,
    sid: SeriesId,
    from_ms: i64,
    to_ms: i64,
) -> Result<(i64, Vec<Point>), StoreError> {
    conn.execute_batch("BEGIN")?;
    let r = read_blocks_in_tx(conn, sid, from_ms, to_ms);
    let end = conn.execute_batch("COMMIT");
    let out = r?;
    end?;
    Ok(out)
}

fn read_blocks_in_tx(
    conn: &Connection,
    sid: SeriesId,
    from_ms: i64,
    to_ms: i64,
) -> Result<(i64, Vec<Point>), StoreError> {
    let compacted = compacted_seq(conn)?;
    let mut st = conn.prepare_cached(
        "SELECT data FROM blocks WHERE series_id = ?1 AND t_max >= ?2 AND t_min < ?3",
    )?;
    let mut rows = st.query(params![sid as i64, from_ms, to_ms])?;
    let mut points = Vec::new();
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(0)?;
        points.extend(
            codec::decode_block(&data)?
                .into_iter()
                .filter(|p| p.ts_ms >= from_ms && p.ts_ms < to_ms),
        );
    }
    Ok((compacted, points))
}

/// Start the background compactor; it stops when the store is dropped.
pub(super) fn spawn_background(inner: Weak<Inner>, every: Duration) -> Result<(), StoreError> {
    let tick = every.min(Duration::from_millis(250));
    std::thread::Builder::new()
        .name("metrics-compactor".to_string())
        .spawn(move || {
            let mut last = Instant::now();
            loop {
                std::thread::sleep(tick);
                let Some(inner) = inner.upgrade() else { return };
                let pending = inner.shared.lock_head().len();
                let due = pending >= inner.opts.compact_at_points
                    || (pending > 0 && last.elapsed() >= every);
                if due {
                    if let Err(e) = compact_blocking(&inner) {
                        tracing::error!(error = %e, "Metric compaction failed.");
                    }
                    last = Instant::now();
                }
            }
        })?;
    Ok(())
}

fn compact_blocking(inner: &Arc<Inner>) -> Result<(), StoreError> {
    let _guard = inner.compacting.blocking_lock();
    let store = super::MetricStore {
        inner: inner.clone(),
    };
    if let Some((job, stats)) = store.plan_compaction()? {
        inner.committer.submit_blocking(Job::Compact(job))?;
        tracing::debug!(
            blocks = stats.blocks,
            points = stats.points,
            upto = stats.upto,
            "Metrics compacted."
        );
    }
    Ok(())
}
