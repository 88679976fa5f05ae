//! The sender task: delivers spooled batches oldest first, then acknowledges them.
//!
//! For each record: make sure the group's retention is set (once per group per run:
//! DescribeLogGroups, then PutRetentionPolicy if it differs, creating the group first when it
//! does not exist), call PutLogEvents, and on success acknowledge the record in the spool and
//! its extents in the checkpoint store (in spool order, which is read order per file).
//!
//! Failures:
//! - `ResourceNotFoundException`: CreateLogGroup (with `log_group_class`), CreateLogStream,
//!   then the same batch again ("already exists" counts as success);
//! - a request that can never be accepted (InvalidParameterException,
//!   DataAlreadyAcceptedException, a malformed or oversized request): logged with the batch's
//!   extent (files and offsets), then acknowledged, because sending it again cannot succeed;
//! - anything else (network, throttling, 5xx, but also authentication, permissions and quotas,
//!   which an operator can fix): the same batch again after a jittered backoff (1 s doubling to
//!   60 s), for as long as it takes; the batch stays in the spool, so a restart resumes it.
//!   Unlike the CloudWatch agent, nothing is dropped after a number of retries or at shutdown.
//!
//! Throughput: up to [`WINDOW`] batches are in flight at once (each compressed on the blocking
//! pool), but their results are taken in spool order, so acknowledgements and checkpoints still
//! advance in read order. A batch that fails holds back the acknowledgement of the later ones
//! until it succeeds (they may be delivered meanwhile; a crash then repeats them, never loses
//! them).
//!
//! Durability order: a delivered record is acknowledged in the spool only after the checkpoint
//! file that records its extents was saved; both happen at most every [`SAVE_EVERY`]. So a
//! file's data is always either covered by a saved checkpoint or still in the spool, which is
//! what lets a restart find the rest of a file that was rotated away meanwhile. After a crash
//! at worst the batches delivered since the last save are delivered again (never lost): the
//! duplicate bound is what was delivered in the last [`SAVE_EVERY`] plus the batches in flight
//! ([`WINDOW`]).

use hostwatch_tailer::CheckpointStore;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use super::batch::{decode_record, RecordHeader};
use super::queue::Queue;
use crate::ship::logs::{LogsClient, LogsError};
use crate::ship::metrics::{prepare_body, PreparedBody};

/// How often checkpoints and spool acknowledgements are made durable.
pub const SAVE_EVERY: Duration = Duration::from_millis(200);
/// Batches in flight at once.
pub const WINDOW: usize = 4;
/// Longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Delivery counters.
#[derive(Debug, Default)]
pub struct SendStats {
    pub batches: AtomicU64,
    pub events: AtomicU64,
    pub rejected_events: AtomicU64,
    pub dropped_batches: AtomicU64,
    pub retries: AtomicU64,
}

/// What every delivery task shares.
struct Ctx {
    client: Arc<LogsClient>,
    stats: Arc<SendStats>,
    /// Groups whose retention was checked in this run (held while checking, so one task does
    /// it per group).
    retention_done: tokio::sync::Mutex<HashSet<String>>,
}

/// The sender's state.
pub struct Sender {
    ctx: Arc<Ctx>,
    pub queue: Arc<Queue>,
    pub checkpoints: Arc<Mutex<CheckpointStore>>,
    dirty_since: Option<Instant>,
    /// Delivered records whose spool acknowledgement waits for the next checkpoint save.
    done: Vec<u64>,
}

enum Delivery {
    Done,
    Dropped,
    /// Shutdown deadline reached: the record stays in the spool.
    Stopped,
}

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(1u32 << attempt.min(6))
        .min(MAX_BACKOFF);
    // Uniform in [base/2, base).
    let half = base / 2;
    half + half.mul_f64(rand::random::<f64>())
}

type InFlight = (u64, RecordHeader, tokio::task::JoinHandle<Delivery>);

impl Sender {
    pub fn new(
        client: Arc<LogsClient>,
        queue: Arc<Queue>,
        checkpoints: Arc<Mutex<CheckpointStore>>,
        stats: Arc<SendStats>,
    ) -> Sender {
        Sender {
            ctx: Arc::new(Ctx {
                client,
                stats,
                retention_done: tokio::sync::Mutex::new(HashSet::new()),
            }),
            queue,
            checkpoints,
            dirty_since: None,
            done: Vec::new(),
        }
    }

    /// Deliver until `deadline` holds a time and either the spool is empty or the time passed.
    pub async fn run(mut self, mut deadline: watch::Receiver<Option<Instant>>) {
        let mut inflight: VecDeque<InFlight> = VecDeque::new();
        let mut last: Option<u64> = None;
        loop {
            let stop_at = *deadline.borrow();
            if stop_at.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            while inflight.len() < WINDOW {
                let Some((seq, bytes)) = self.queue.next_after(last) else {
                    break;
                };
                last = Some(seq);
                let record = bytes.map_err(|e| e.to_string()).and_then(|b| {
                    decode_record(&b)
                        .map(|(h, body)| (h, body.to_vec()))
                        .map_err(|e| e.to_string())
                });
                let (header, body) = match record {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::error!(seq, "spooled log batch unreadable, skipped: {e}");
                        let h = RecordHeader {
                            v: super::batch::RECORD_VERSION,
                            group: String::new(),
                            stream: String::new(),
                            class: None,
                            retention: None,
                            events: 0,
                            first_ms: None,
                            last_ms: None,
                            extents: Vec::new(),
                        };
                        inflight.push_back((seq, h, tokio::spawn(async { Delivery::Dropped })));
                        continue;
                    }
                };
                let task = if header.events == 0 {
                    tokio::spawn(async { Delivery::Done })
                } else {
                    let ctx = self.ctx.clone();
                    let h = header.clone();
                    let d = deadline.clone();
                    tokio::spawn(async move { deliver(ctx, h, body, d).await })
                };
                inflight.push_back((seq, header, task));
            }
            let Some((seq, header, task)) = inflight.pop_front() else {
                self.persist(true);
                if stop_at.is_some() {
                    // Stopping and nothing is left: done.
                    break;
                }
                tokio::select! {
                    _ = self.queue.wait_ready(Duration::from_secs(1)) => {}
                    _ = deadline.changed() => {}
                }
                continue;
            };
            match task.await.unwrap_or(Delivery::Stopped) {
                Delivery::Stopped => break,
                Delivery::Done | Delivery::Dropped => {
                    self.acknowledge(&header);
                    self.done.push(seq);
                    self.dirty_since.get_or_insert_with(Instant::now);
                    self.persist(false);
                }
            }
        }
        // Whatever is still in flight stays in the spool for the next start.
        for (_, _, task) in inflight {
            task.abort();
        }
        self.persist(true);
    }

    fn acknowledge(&self, header: &RecordHeader) {
        let Ok(mut c) = self.checkpoints.lock() else {
            return;
        };
        for e in &header.extents {
            if matches!(c.ack(&e.fp, e.end), hostwatch_tailer::AckOutcome::Unknown) {
                c.track(&e.fp, std::path::Path::new(&e.path));
                c.ack(&e.fp, e.end);
            }
        }
    }

    /// Save checkpoints, then acknowledge the delivered records in the spool and sync (see the
    /// module doc for why in this order).
    fn persist(&mut self, force: bool) {
        let Some(since) = self.dirty_since else {
            return;
        };
        if !force && since.elapsed() < SAVE_EVERY {
            return;
        }
        if let Ok(mut c) = self.checkpoints.lock() {
            if let Err(e) = c.save() {
                tracing::error!("cannot save log checkpoints: {e}");
                return;
            }
        }
        for seq in self.done.drain(..) {
            self.queue.ack(seq);
        }
        self.queue.sync_acks();
        self.dirty_since = None;
    }
}

/// Deliver one batch: retention, PutLogEvents, create on ResourceNotFound, retry.
async fn deliver(
    ctx: Arc<Ctx>,
    header: RecordHeader,
    body: Vec<u8>,
    mut deadline: watch::Receiver<Option<Instant>>,
) -> Delivery {
    let prepared = match tokio::task::spawn_blocking(move || prepare_body(body)).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("compressing a log batch failed: {e}");
            return Delivery::Stopped;
        }
    };
    let mut attempt = 0u32;
    loop {
        let err = match attempt_once(&ctx, &header, &prepared).await {
            Ok(()) => return Delivery::Done,
            Err(e) => e,
        };
        if err.is_resource_not_found() {
            match create(&ctx, &header).await {
                Ok(()) => continue,
                Err(e) if e.is_permanent_rejection() => return give_up(&ctx, &header, &e),
                Err(e) => tracing::warn!("creating {}/{}: {e}", header.group, header.stream),
            }
        } else if err.is_permanent_rejection() {
            return give_up(&ctx, &header, &err);
        } else if attempt.checked_rem(10) == Some(0) {
            tracing::warn!(
                group = %header.group,
                stream = %header.stream,
                attempt,
                "PutLogEvents failed, will retry: {err}"
            );
        }
        ctx.stats.retries.fetch_add(1, Ordering::Relaxed);
        let wait = backoff(attempt);
        attempt = attempt.saturating_add(1);
        let stop_at = *deadline.borrow();
        if stop_at.is_some_and(|d| Instant::now() + wait >= d) {
            return Delivery::Stopped;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = deadline.changed() => {}
        }
    }
}

async fn attempt_once(
    ctx: &Ctx,
    header: &RecordHeader,
    prepared: &PreparedBody,
) -> Result<(), LogsError> {
    ensure_retention(ctx, header).await?;
    let t0 = Instant::now();
    let answer = ctx.client.call_prepared("PutLogEvents", prepared).await?;
    tracing::debug!(
        events = header.events,
        bytes = prepared.bytes.len(),
        ms = t0.elapsed().as_millis() as u64,
        "PutLogEvents delivered"
    );
    note_rejections(ctx, header, &answer);
    ctx.stats.batches.fetch_add(1, Ordering::Relaxed);
    ctx.stats
        .events
        .fetch_add(header.events as u64, Ordering::Relaxed);
    Ok(())
}

fn give_up(ctx: &Ctx, header: &RecordHeader, err: &LogsError) -> Delivery {
    let extents: Vec<String> = header
        .extents
        .iter()
        .map(|e| format!("{} up to byte {}", e.path, e.end))
        .collect();
    tracing::error!(
        group = %header.group,
        stream = %header.stream,
        events = header.events,
        extent = %extents.join(", "),
        "PutLogEvents rejected the batch for good, not retried: {err}"
    );
    ctx.stats.dropped_batches.fetch_add(1, Ordering::Relaxed);
    Delivery::Dropped
}

fn note_rejections(ctx: &Ctx, header: &RecordHeader, answer: &serde_json::Value) {
    let Some(info) = answer.get("rejectedLogEventsInfo") else {
        return;
    };
    tracing::warn!(
        group = %header.group,
        stream = %header.stream,
        "PutLogEvents rejected some events: {info}"
    );
    let idx = |k: &str| info.get(k).and_then(serde_json::Value::as_i64);
    let mut n = 0i64;
    if let Some(i) = idx("tooOldLogEventEndIndex") {
        n += i;
    }
    if let Some(i) = idx("expiredLogEventEndIndex") {
        n += i;
    }
    if let Some(i) = idx("tooNewLogEventStartIndex") {
        n += header.events as i64 - i;
    }
    ctx.stats
        .rejected_events
        .fetch_add(n.max(0) as u64, Ordering::Relaxed);
}

async fn create(ctx: &Ctx, header: &RecordHeader) -> Result<(), LogsError> {
    match ctx
        .client
        .create_log_stream(&header.group, &header.stream)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.is_resource_not_found() => {
            ctx.client
                .create_log_group(&header.group, header.class.as_deref())
                .await?;
            ctx.client
                .create_log_stream(&header.group, &header.stream)
                .await
        }
        Err(e) => Err(e),
    }
}

/// `retention_in_days`, once per group per run.
async fn ensure_retention(ctx: &Ctx, header: &RecordHeader) -> Result<(), LogsError> {
    let Some(days) = header.retention.filter(|d| *d > 0) else {
        return Ok(());
    };
    let mut done = ctx.retention_done.lock().await;
    if done.contains(&header.group) {
        return Ok(());
    }
    let current = match ctx.client.retention_of(&header.group).await {
        Ok(c) => c,
        Err(e) if e.is_resource_not_found() => {
            ctx.client
                .create_log_group(&header.group, header.class.as_deref())
                .await?;
            None
        }
        Err(e) if e.is_retryable() => return Err(e),
        Err(e) => {
            tracing::warn!(group = %header.group, "cannot read the retention: {e}");
            done.insert(header.group.clone());
            return Ok(());
        }
    };
    if current != Some(days) {
        match ctx.client.put_retention_policy(&header.group, days).await {
            Ok(()) => tracing::info!(group = %header.group, days, "retention set"),
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => tracing::warn!(group = %header.group, "cannot set the retention: {e}"),
        }
    }
    done.insert(header.group.clone());
    Ok(())
}
