//! The metric store: `metrics.db` in the data directory.
//!
//! # Design
//! Writing one SQLite row per datapoint with a `(series, time)` index is far too slow for the
//! ingest target, so points are stored in **blocks**, the way time-series databases lay out
//! chunks:
//!
//! 1. A **series** is (namespace, metric name, sorted dimensions, unit) and gets a numeric id from
//!    the in-memory dictionary (`series`), mirrored in the `series` table.
//! 2. Every `append` (one `PutMetricData` call) becomes **one** row in the append-only `ingest`
//!    log: all its points, binary-encoded (`codec`). The row is written through the shared
//!    group-commit writer; `append` returns only after the transaction committed, so an
//!    acknowledged call survives `kill -9`.
//! 3. After commit the points are published to the in-memory **head** (`head`), where queries
//!    see them at once.
//! 4. A background **compactor** (`compact`) periodically takes every head point up to the
//!    latest committed ingest sequence number `W`, writes one lz4-compressed block per series
//!    (folding the series' latest block into it while that block is small, so slow series do
//!    not end up with a block per point), deletes the ingest rows `<= W` and sets
//!    `meta.compacted_seq = W` — in one transaction — then drops those points from the head.
//! 5. On open, ingest rows above `compacted_seq` are replayed into the head.
//!
//! # On-disk format
//! - `series(id, namespace, metric_name, dimensions JSON [{name,value}] sorted, unit code)`;
//! - `ingest(seq, data)`: `data` = version byte, varint n, n x (varint series id, point with an
//!   absolute timestamp) — see `codec`;
//! - `blocks(series_id, t_min, t_max, count, seq, data)`: `data` = lz4 (size-prepended) of version
//!   byte, varint n, n x (point with a timestamp delta to the previous point), points sorted by
//!   time; `t_min`/`t_max` in ms, inclusive; `seq` = the compaction's `W`;
//!   index `(series_id, t_max)`;
//! - `meta(key, value)`: `compacted_seq`.
//!
//! # Invariants
//! - timestamps are whole seconds (sub-second parts are truncated on append: CloudWatch
//!   aggregates at 1 s granularity);
//! - every ingest row has `seq > compacted_seq`; every point with `seq <= compacted_seq` is in a
//!   block, every committed point with a higher `seq` is in the head (or about to be published);
//! - readers take the head first, then, in one SQLite read transaction, `compacted_seq` and the
//!   blocks, keeping head points only when `seq > compacted_seq`. A point pruned from the head
//!   was covered by a compaction that committed before the read transaction began, so it is
//!   in the blocks read; a point still in the head with `seq <= compacted_seq` is in the blocks
//!   too and is skipped. Each point is therefore seen exactly once.
//!
//! # Known gaps
//! - retention and rollup (§ retention table of the API reference) are not applied: all points
//!   are kept at full resolution forever; only a series' latest block is ever merged into;
//! - the series dictionary is held entirely in memory.

mod codec;
mod compact;
mod head;
mod schema;
mod series;
mod writer;

use hostwatch_model::{DatumValue, MetricKey, Unit};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::sqlite::{self, Committer, GroupLimits, OpenOptions};
use super::StoreError;
pub use compact::CompactStats;
use head::Head;
use series::SeriesIndex;
use writer::{IngestJob, Job};

/// A series id (never reused).
pub type SeriesId = u64;

/// The identity of one stored series: a metric and a unit (CloudWatch never converts units).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub metric: MetricKey,
    pub unit: Unit,
}

/// One stored datapoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Milliseconds since the epoch, a whole second.
    pub ts_ms: i64,
    pub value: DatumValue,
    /// Sent with `StorageResolution` 1.
    pub high_res: bool,
}

/// How the store runs.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    pub sqlite: OpenOptions,
    /// Run the background compactor, waking this often; `None` compacts only on request.
    pub compact_every: Option<Duration>,
    /// Compact as soon as the head holds this many points.
    pub compact_at_points: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sqlite: OpenOptions::default(),
            compact_every: Some(Duration::from_secs(30)),
            compact_at_points: 400_000,
        }
    }
}

/// State shared with the writer thread's commit hook.
#[derive(Debug)]
struct Shared {
    index: Mutex<SeriesIndex>,
    head: Mutex<Head>,
    /// Highest ingest seq published to the head.
    committed_seq: AtomicI64,
    /// Highest ingest seq folded into blocks.
    compacted_seq: AtomicI64,
}

impl Shared {
    fn lock_index(&self) -> MutexGuard<'_, SeriesIndex> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn lock_head(&self) -> MutexGuard<'_, Head> {
        self.head.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    committer: Committer<Job>,
    path: PathBuf,
    opts: StoreOptions,
    readers: Mutex<Vec<Connection>>,
    /// Serialises compactions.
    compacting: tokio::sync::Mutex<()>,
}

/// The metric store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MetricStore {
    inner: Arc<Inner>,
}

impl MetricStore {
    /// Open (or create) `metrics.db` under `dir`, replaying uncompacted ingest rows.
    pub fn open(dir: &Path, opts: StoreOptions) -> Result<Self, StoreError> {
        let path = dir.join("metrics.db");
        let conn = sqlite::open(&path, schema::MIGRATIONS, opts.sqlite)?;
        let mut index = SeriesIndex::new();
        let mut head = Head::default();
        let (compacted, max_seq) = compact::load(&conn, &mut index, &mut head)?;
        let shared = Arc::new(Shared {
            index: Mutex::new(index),
            head: Mutex::new(head),
            committed_seq: AtomicI64::new(max_seq),
            compacted_seq: AtomicI64::new(compacted),
        });
        let hook = shared.clone();
        let mut next_seq = max_seq.max(compacted) + 1;
        let committer = Committer::spawn(
            "metrics-writer",
            conn,
            GroupLimits::default(),
            move |tx, job: &Job| writer::apply(tx, job, &mut next_seq),
            move |job| writer::on_commit(&hook, job),
        )?;
        let inner = Arc::new(Inner {
            shared,
            committer,
            path,
            opts,
            readers: Mutex::new(Vec::new()),
            compacting: tokio::sync::Mutex::new(()),
        });
        if let Some(every) = opts.compact_every {
            compact::spawn_background(Arc::downgrade(&inner), every)?;
        }
        Ok(MetricStore { inner })
    }

    /// Durably store the points of one call; returns after the commit.
    pub async fn append(&self, points: Vec<(SeriesKey, Point)>) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        let job = self.ingest_job(points);
        self.inner.committer.submit(Job::Ingest(job)).await
    }

    fn ingest_job(&self, points: Vec<(SeriesKey, Point)>) -> IngestJob {
        let mut new_series = Vec::new();
        let mut resolved = Vec::with_capacity(points.len());
        {
            let mut ix = self.inner.shared.lock_index();
            for (key, mut p) in points {
                let (id, unpersisted) = ix.intern(key);
                if let Some(k) = unpersisted {
                    if !new_series.iter().any(|(i, _)| *i == id) {
                        new_series.push((id, k));
                    }
                }
                p.ts_ms = p.ts_ms.div_euclid(1000) * 1000;
                resolved.push((id, p));
            }
        }
        IngestJob {
            new_series,
            blob: codec::encode_ingest(&resolved),
            points: resolved,
            seq: AtomicI64::new(0),
        }
    }

    /// The series (one per unit) holding data of `metric` (dimensions must match exactly).
    pub fn series_of(&self, metric: &MetricKey) -> Vec<(SeriesId, Unit)> {
        self.inner.shared.lock_index().units_of(metric)
    }

    /// Metrics in key order after `after` for which `keep(metric, last_data_ms)` holds; at most
    /// `limit`, plus whether more matched.
    pub fn list_metrics(
        &self,
        after: Option<&MetricKey>,
        keep: &dyn Fn(&MetricKey, i64) -> bool,
        limit: usize,
    ) -> (Vec<MetricKey>, bool) {
        self.inner.shared.lock_index().list(after, keep, limit)
    }

    /// Points of one series with `from_ms <= ts < to_ms`, unordered. Blocking (SQLite read).
    pub fn read(&self, sid: SeriesId, from_ms: i64, to_ms: i64) -> Result<Vec<Point>, StoreError> {
        let head = self.inner.shared.lock_head().range(sid, from_ms, to_ms);
        let conn = self.reader()?;
        let result = compact::read_blocks(&conn, sid, from_ms, to_ms);
        self.give_back(conn);
        let (compacted, mut points) = result?;
        points.extend(
            head.into_iter()
                .filter(|(seq, _)| *seq > compacted)
                .map(|(_, p)| p),
        );
        Ok(points)
    }

    /// Fold the head into blocks now.
    pub async fn compact_now(&self) -> Result<CompactStats, StoreError> {
        let _guard = self.inner.compacting.lock().await;
        let store = self.clone();
        let planned = tokio::task::spawn_blocking(move || store.plan_compaction())
            .await
            .map_err(|e| StoreError::Corrupt(format!("compaction planner failed: {e}")))??;
        match planned {
            Some((job, stats)) => {
                self.inner.committer.submit(Job::Compact(job)).await?;
                Ok(stats)
            }
            None => Ok(CompactStats::default()),
        }
    }

    /// Plan a compaction with a pooled reader connection (blocking).
    fn plan_compaction(&self) -> Result<Option<(writer::CompactJob, CompactStats)>, StoreError> {
        let conn = self.reader()?;
        let planned = compact::plan(&self.inner.shared, &conn);
        self.give_back(conn);
        planned
    }

    /// Number of points waiting in the head.
    pub fn head_points(&self) -> usize {
        self.inner.shared.lock_head().len()
    }

    /// Number of known series.
    pub fn series_count(&self) -> usize {
        self.inner.shared.lock_index().len()
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        match pooled {
            Some(c) => Ok(c),
            None => sqlite::open_reader(&self.inner.path, self.reader_options()),
        }
    }

    fn reader_options(&self) -> OpenOptions {
        OpenOptions {
            cache_kib: 16 * 1024,
            ..self.inner.opts.sqlite
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut pool = self.inner.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
    }

    /// The committed sequence counter (for tests and diagnostics).
    pub fn committed_seq(&self) -> i64 {
        self.inner.shared.committed_seq.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests;
