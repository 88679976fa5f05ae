//! The CloudWatch Logs store (`logs.db`).
//!
//! # On-disk format
//! * `log_groups(id, name UNIQUE, creation_time, retention_days NULL = never expire, kms_key_id,
//!   log_group_class, tags JSON object)`.
//! * `log_streams(id, group_id → log_groups ON DELETE CASCADE, name, creation_time,
//!   first_event_ts, last_event_ts, last_ingestion_time, stored_bytes, next_seq)`, unique
//!   `(group_id, name)`.
//! * `log_blocks(id, stream_id → log_streams ON DELETE CASCADE, min_ts, max_ts, first_seq,
//!   count, ingestion_time, raw_bytes, blob)`, indexed on `(stream_id, min_ts)` and
//!   `(stream_id, max_ts)`. One row holds the accepted events of one `PutLogEvents` call,
//!   encoded as described in [`codec`]; `raw_bytes` is the sum of their UTF-8 message bytes.
//! * `log_meta('next_seq')`: the next sequence number to hand out.
//!
//! Ids use `AUTOINCREMENT`, so a deleted group or stream's id is never given to a new one and a
//! request that looked up a stream just before it was deleted can never write into a successor.
//!
//! # Invariants
//! * Events inside a block are in chronological order; event `i` has sequence number
//!   `first_seq + i`; `min_ts`/`max_ts` are the first and last timestamps.
//! * `max_ts - min_ts <= MAX_BLOCK_SPAN_MS` (24 h, enforced by PutLogEvents), which bounds
//!   index range scans.
//! * Sequence numbers are unique across the store and increase in commit order; `(timestamp,
//!   seq)` totally orders a stream's events and is what read positions (tokens) refer to.
//! * `log_streams.stored_bytes` is the sum of the stream's blob lengths.
//! * Everything is written by one [`Committer`] thread; a write is acknowledged only after
//!   its transaction committed, so acknowledged events survive a crash. The in-memory
//!   [`Catalog`] is updated by the commit hook and therefore only shows committed state.
//!
//! # Retention
//! [`LogStore::sweep_retention`] (run periodically by a background thread, and callable
//! directly) deletes blocks wholly older than a group's retention and rewrites blocks that
//! straddle the cutoff. Reads additionally hide events older than the cutoff, so retention is
//! exact for readers between sweeps.

pub mod catalog;
pub mod codec;
pub mod reader;
pub mod scan;
mod schema;
pub mod stream_scan;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use super::sqlite::{self, Committer, GroupLimits, OpenOptions};
use super::StoreError;
use crate::clock::SharedClock;
pub use catalog::{Catalog, GroupInfo, LogGroupClass, StreamInfo};
pub use reader::{Direction, Key, ReadQuery, StoredEvent, EVENT_OVERHEAD};
pub use writer::SweepOutcome;
use writer::{AppendJob, Job, SweepJob, Writer};

/// Longest time span of one block (and of one PutLogEvents batch), in milliseconds.
pub const MAX_BLOCK_SPAN_MS: i64 = 86_400_000;

/// File name of the database under the data directory.
pub const FILE_NAME: &str = "logs.db";

/// Most idle reader connections kept.
const MAX_IDLE_READERS: usize = 4;

/// A Logs store failure.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("log group not found")]
    GroupNotFound,
    #[error("log stream not found")]
    StreamNotFound,
    #[error("log group already exists")]
    GroupExists,
    #[error("log stream already exists")]
    StreamExists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How the store runs.
#[derive(Debug, Clone, Copy)]
pub struct LogStoreOptions {
    /// Interval of the background retention sweep; `None` disables it (tests sweep by hand).
    pub sweep_interval: Option<Duration>,
    pub sqlite: OpenOptions,
}

impl Default for LogStoreOptions {
    fn default() -> Self {
        LogStoreOptions {
            sweep_interval: Some(Duration::from_secs(600)),
            sqlite: OpenOptions::default(),
        }
    }
}

/// A new log group.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub name: String,
    pub kms_key_id: Option<String>,
    pub class: LogGroupClass,
    pub tags: BTreeMap<String, String>,
}

/// Anything that reads as one log event (so callers can append borrowed messages).
pub trait EventSource {
    fn timestamp(&self) -> i64;
    fn message(&self) -> &str;
}

impl EventSource for hostwatch_model::LogEvent {
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn message(&self) -> &str {
        &self.message
    }
}

impl EventSource for (i64, &str) {
    fn timestamp(&self) -> i64 {
        self.0
    }
    fn message(&self) -> &str {
        self.1
    }
}

/// Events accepted for one stream: chronological, spanning at most [`MAX_BLOCK_SPAN_MS`].
#[derive(Debug, Clone, Copy)]
pub struct AppendBatch<'a, E> {
    pub group: &'a str,
    pub stream: &'a str,
    pub events: &'a [E],
    pub ingestion_time: i64,
}

/// The Logs store. Clones share one store; dropping the last stops the writer and sweeper.
#[derive(Debug, Clone)]
pub struct LogStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    opts: LogStoreOptions,
    clock: SharedClock,
    committer: Committer<Job>,
    catalog: Arc<RwLock<Catalog>>,
    /// Serialises catalog changes (check-then-write) so they cannot race each other.
    ddl: tokio::sync::Mutex<()>,
    readers: Mutex<Vec<Connection>>,
    /// Dropped with the store: tells the sweeper thread to exit.
    _stop: mpsc::Sender<()>,
}

impl LogStore {
    /// Open (or create) `logs.db` under `dir` with default options.
    pub fn open(dir: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        Self::open_with(dir, clock, LogStoreOptions::default())
    }

    /// Open with explicit options.
    pub fn open_with(
        dir: &Path,
        clock: SharedClock,
        opts: LogStoreOptions,
    ) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let conn = sqlite::open(&path, schema::MIGRATIONS, opts.sqlite)?;
        let catalog = Arc::new(RwLock::new(Catalog::load(&conn)?));
        let mut writer = Writer::default();
        let published = catalog.clone();
        let committer = Committer::spawn(
            "logs-writer",
            conn,
            GroupLimits::default(),
            move |tx, job: &Job| writer.apply(tx, job),
            move |job| writer::publish(&published, job),
        )?;
        let (stop_tx, stop_rx) = mpsc::channel();
        let inner = Arc::new(Inner {
            path,
            opts,
            clock,
            committer,
            catalog,
            ddl: tokio::sync::Mutex::new(()),
            readers: Mutex::new(Vec::new()),
            _stop: stop_tx,
        });
        if let Some(every) = opts.sweep_interval {
            let weak = Arc::downgrade(&inner);
            std::thread::Builder::new()
                .name("logs-retention".to_string())
                .spawn(move || sweeper(weak, stop_rx, every))?;
        }
        Ok(LogStore { inner })
    }

    /// The store's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Run `f` on the committed catalog.
    pub fn with_catalog<R>(&self, f: impl FnOnce(&Catalog) -> R) -> R {
        let cat = self.inner.catalog.read().unwrap_or_else(|e| e.into_inner());
        f(&cat)
    }

    /// A copy of one group's metadata without its streams.
    pub fn group(&self, name: &str) -> Option<GroupInfo> {
        self.with_catalog(|c| {
            c.groups.get(name).map(|g| GroupInfo {
                streams: BTreeMap::new(),
                ..g.clone()
            })
        })
    }

    /// Create a group.
    pub async fn create_group(&self, g: NewGroup) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        if self.with_catalog(|c| c.groups.contains_key(&g.name)) {
            return Err(LogError::GroupExists);
        }
        self.submit(Job::CreateGroup {
            name: g.name,
            creation_time: self.inner.clock.now_ms(),
            kms_key_id: g.kms_key_id,
            class: g.class,
            tags: g.tags,
            id: AtomicI64::new(0),
        })
        .await
    }

    /// Delete a group with all its streams and events.
    pub async fn delete_group(&self, name: &str) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        let id = self.group_id(name)?;
        self.submit(Job::DeleteGroup {
            name: name.to_string(),
            id,
        })
        .await
    }

    /// Set (`Some`) or remove (`None`) a group's retention in days.
    pub async fn set_retention(&self, name: &str, days: Option<u32>) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        let id = self.group_id(name)?;
        self.submit(Job::SetRetention {
            group_name: name.to_string(),
            group_id: id,
            days,
        })
        .await
    }

    /// Change a group's tags: `f` receives the current tags and edits them.
    pub async fn update_tags(
        &self,
        name: &str,
        f: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        let (id, mut tags) = self
            .with_catalog(|c| c.groups.get(name).map(|g| (g.id, g.tags.clone())))
            .ok_or(LogError::GroupNotFound)?;
        f(&mut tags);
        self.submit(Job::SetTags {
            group_name: name.to_string(),
            group_id: id,
            tags,
        })
        .await
    }

    /// Create a stream in an existing group.
    pub async fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        let group_id = self.with_catalog(|c| match c.groups.get(group) {
            None => Err(LogError::GroupNotFound),
            Some(g) if g.streams.contains_key(stream) => Err(LogError::StreamExists),
            Some(g) => Ok(g.id),
        })?;
        self.submit(Job::CreateStream {
            group_name: group.to_string(),
            group_id,
            name: stream.to_string(),
            creation_time: self.inner.clock.now_ms(),
            id: AtomicI64::new(0),
        })
        .await
    }

    /// Delete a stream and its events.
    pub async fn delete_stream(&self, group: &str, stream: &str) -> Result<(), LogError> {
        let _ddl = self.inner.ddl.lock().await;
        let (group_id, id) = self.stream_ids(group, stream)?;
        self.submit(Job::DeleteStream {
            group_name: group.to_string(),
            group_id,
            name: stream.to_string(),
            id,
        })
        .await
    }

    /// Store a batch of accepted events as one block. Returns the stream's next sequence
    /// number after the batch.
    pub async fn append<E: EventSource>(&self, batch: AppendBatch<'_, E>) -> Result<i64, LogError> {
        let (group_id, stream_id) = self.stream_ids(batch.group, batch.stream)?;
        let (Some(first), Some(last)) = (batch.events.first(), batch.events.last()) else {
            return Ok(self.next_seq(batch.group, batch.stream));
        };
        let (min_ts, max_ts) = (first.timestamp(), last.timestamp());
        let raw_bytes: i64 = batch.events.iter().map(|e| e.message().len() as i64).sum();
        let (blob, _) = codec::encode(
            min_ts,
            batch.events.iter().map(|e| (e.timestamp(), e.message())),
            raw_bytes as usize + 8 * batch.events.len(),
        );
        let count = batch.events.len() as i64;
        let first_seq = Arc::new(AtomicI64::new(0));
        let job = Job::Append(AppendJob {
            group_name: batch.group.to_string(),
            group_id,
            stream_name: batch.stream.to_string(),
            stream_id,
            min_ts,
            max_ts,
            count,
            raw_bytes,
            ingestion_time: batch.ingestion_time,
            blob,
            first_seq: first_seq.clone(),
        });
        match self.inner.committer.submit(job).await {
            Ok(()) => Ok(first_seq.load(Ordering::SeqCst) + count),
            Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {
                Err(LogError::StreamNotFound)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The stream's upload sequence number (0 when the stream is unknown).
    pub fn next_seq(&self, group: &str, stream: &str) -> i64 {
        self.with_catalog(|c| {
            c.groups
                .get(group)
                .and_then(|g| g.streams.get(stream))
                .map_or(0, |s| s.next_seq)
        })
    }

    /// Read one page of a stream's events (ascending order).
    pub async fn read(
        &self,
        group: &str,
        stream: &str,
        q: ReadQuery,
    ) -> Result<Vec<StoredEvent>, LogError> {
        let (_, stream_id) = self.stream_ids(group, stream)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(|c| reader::read(c, stream_id, &q)))
            .await
            .map_err(|e| StoreError::Corrupt(format!("read task failed: {e}")))?
            .map_err(LogError::from)
    }

    /// Apply every group's retention as of the clock's "now".
    pub async fn sweep_retention(&self) -> Result<SweepOutcome, LogError> {
        let (job, outcome) = self.inner.sweep_job();
        self.inner.committer.submit(job).await?;
        let out = outcome.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Ok(out)
    }

    /// The id of the group named `name` (ids are never reused: see the catalog).
    pub fn group_id(&self, name: &str) -> Result<i64, LogError> {
        self.with_catalog(|c| c.groups.get(name).map(|g| g.id))
            .ok_or(LogError::GroupNotFound)
    }

    fn stream_ids(&self, group: &str, stream: &str) -> Result<(i64, i64), LogError> {
        self.with_catalog(|c| {
            let g = c.groups.get(group).ok_or(LogError::GroupNotFound)?;
            let s = g.streams.get(stream).ok_or(LogError::StreamNotFound)?;
            Ok((g.id, s.id))
        })
    }

    async fn submit(&self, job: Job) -> Result<(), LogError> {
        Ok(self.inner.committer.submit(job).await?)
    }
}

impl Inner {
    fn sweep_job(&self) -> (Job, Arc<Mutex<SweepOutcome>>) {
        let groups = {
            let cat = self.catalog.read().unwrap_or_else(|e| e.into_inner());
            cat.groups
                .values()
                .filter_map(|g| g.retention_days.map(|d| (g.name.clone(), g.id, d)))
                .collect()
        };
        let outcome = Arc::new(Mutex::new(SweepOutcome::default()));
        let job = Job::Sweep(SweepJob {
            now_ms: self.clock.now_ms(),
            groups,
            outcome: outcome.clone(),
        });
        (job, outcome)
    }

    fn with_reader<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => sqlite::open_reader(&self.path, self.opts.sqlite_reader())?,
        };
        let r = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < MAX_IDLE_READERS {
            pool.push(conn);
        }
        r
    }
}

impl LogStoreOptions {
    fn sqlite_reader(&self) -> OpenOptions {
        OpenOptions {
            cache_kib: self.sqlite.cache_kib.min(16 * 1024),
            ..self.sqlite
        }
    }
}

/// Background retention: sweep every `every` until the store is dropped.
fn sweeper(store: Weak<Inner>, stop: mpsc::Receiver<()>, every: Duration) {
    loop {
        match stop.recv_timeout(every) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        let Some(inner) = store.upgrade() else {
            return;
        };
        let (job, outcome) = inner.sweep_job();
        match inner.committer.submit_blocking(job) {
            Ok(()) => {
                let o = outcome.lock().unwrap_or_else(|e| e.into_inner());
                if o.events_removed > 0 {
                    tracing::info!(
                        events = o.events_removed,
                        bytes = o.bytes_freed,
                        "Retention sweep removed expired log events."
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "Retention sweep failed."),
        }
    }
}
