//! The agent's view of the spool: one shared queue between the tailer thread (which appends
//! sealed batches) and the sender task (which reads, delivers and acknowledges them).
//!
//! The spool itself (`hostwatch-spool`) is single-owner; here it sits behind a mutex held only
//! for the duration of one spool call. A condition variable wakes a tailer waiting for room
//! (the spool is full: reading stops, nothing is dropped); a `tokio::sync::Notify` wakes the
//! sender when records arrive.

use hostwatch_spool::{Seq, Spool, SpoolError, SpoolOptions};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::batch::{decode_record, RecordHeader};

/// The shared queue.
#[derive(Debug)]
pub struct Queue {
    spool: Mutex<Spool>,
    room: Condvar,
    ready: tokio::sync::Notify,
    stop: Arc<AtomicBool>,
}

impl Queue {
    /// Open the spool in `dir`, bounded to `max_bytes`.
    pub fn open(
        dir: &Path,
        max_bytes: u64,
        stop: Arc<AtomicBool>,
    ) -> Result<Arc<Queue>, SpoolError> {
        let opts = SpoolOptions {
            max_bytes,
            segment_bytes: (max_bytes / 32).clamp(1 << 20, 32 << 20),
        };
        let spool = Spool::open(dir, opts)?;
        Ok(Arc::new(Queue {
            spool: Mutex::new(spool),
            room: Condvar::new(),
            ready: tokio::sync::Notify::new(),
            stop,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spool> {
        // A panic while holding the lock cannot leave the spool inconsistent on disk (every
        // operation is append-only or atomic), so a poisoned lock is taken over.
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append a record, waiting while the spool is full. Returns false (nothing appended) only
    /// when the agent is stopping and there is no room, or the record can never fit.
    pub fn append_blocking(&self, record: &[u8]) -> bool {
        let mut guard = self.lock();
        loop {
            match guard.append(record) {
                Ok(_) => return true,
                Err(SpoolError::Full { .. }) => {
                    if self.stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    // Make what is there durable and visible, then wait for the sender.
                    let _ = guard.sync();
                    self.ready.notify_one();
                    let (g, _) = self
                        .room
                        .wait_timeout(guard, Duration::from_millis(200))
                        .unwrap_or_else(|p| p.into_inner());
                    guard = g;
                }
                Err(e) => {
                    tracing::error!(bytes = record.len(), "cannot spool a log batch: {e}");
                    return false;
                }
            }
        }
    }

    /// Whether an append would succeed without waiting (roughly: some room is free).
    pub fn has_room_now(&self) -> bool {
        self.lock().free_bytes() > 0
    }

    /// `fsync` what was appended.
    pub fn sync(&self) {
        if let Err(e) = self.lock().sync() {
            tracing::error!("cannot sync the log spool: {e}");
        }
    }

    /// Wake the sender.
    pub fn notify_sender(&self) {
        self.ready.notify_one();
    }

    /// Wait until records may be available (or `timeout`).
    pub async fn wait_ready(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.ready.notified()).await;
    }

    /// The oldest pending record after `after` (FIFO), with its bytes.
    pub fn next_after(&self, after: Option<Seq>) -> Option<(Seq, Result<Vec<u8>, SpoolError>)> {
        let guard = self.lock();
        let seq = guard.peek_after(after, 1).into_iter().next()?;
        Some((seq, guard.read(seq)))
    }

    /// Acknowledge a delivered (or given-up) record and wake a tailer waiting for room.
    pub fn ack(&self, seq: Seq) {
        let mut guard = self.lock();
        if let Err(e) = guard.ack(seq) {
            tracing::error!(seq, "cannot acknowledge a spooled log batch: {e}");
        }
        drop(guard);
        self.room.notify_all();
    }

    /// Persist acknowledgements.
    pub fn sync_acks(&self) {
        if let Err(e) = self.lock().sync_acks() {
            tracing::error!("cannot sync the log spool: {e}");
        }
    }

    /// Headers of every pending record (at start: where spooled data ends per file).
    pub fn pending_headers(&self) -> Vec<RecordHeader> {
        let guard = self.lock();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let batch = guard.peek_after(after, 256);
            if batch.is_empty() {
                break;
            }
            for seq in batch {
                after = Some(seq);
                match guard.read(seq) {
                    Ok(bytes) => match decode_record(&bytes) {
                        Ok((h, _)) => out.push(h),
                        Err(e) => tracing::warn!(seq, "unreadable spooled batch: {e}"),
                    },
                    Err(e) => tracing::warn!(seq, "unreadable spooled batch: {e}"),
                }
            }
        }
        out
    }

    /// Records and bytes pending.
    pub fn pending(&self) -> (u64, u64) {
        let s = self.lock().stats();
        (s.records, s.bytes)
    }
}
