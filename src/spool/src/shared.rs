//! [`SharedSpool`]: a [`Spool`] shared between plain threads, with
//! blocking waits for space and for records.
//!
//! One `Mutex<Spool>` serialises every operation (including the disk
//! reads of `read` and the fsyncs of `sync`, so keep batches of work per
//! call reasonable). Two `Condvar`s: `space` is notified whenever the
//! segment files shrink (an ack deleted a segment), `records` whenever a
//! record was appended. Waits take a timeout and re-check their condition
//! under the lock, so spurious wake-ups are harmless. No async runtime is
//! needed; an async caller runs these on a blocking thread.
//!
//! A panic inside [`SharedSpool::with`] poisons the mutex; the spool's own
//! methods keep its invariants between calls, so the lock is recovered
//! rather than propagating the poison.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::error::{Result, SpoolError};
use crate::queue::Spool;
use crate::record::record_bytes;
use crate::types::{RecoveryReport, SpoolOptions, SpoolStats};
use crate::Seq;

/// A cloneable, thread-safe handle to one [`Spool`].
#[derive(Debug, Clone)]
pub struct SharedSpool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spool: Mutex<Spool>,
    space: Condvar,
    records: Condvar,
}

impl SharedSpool {
    /// Wraps an open spool.
    pub fn new(spool: Spool) -> Self {
        SharedSpool {
            inner: Arc::new(Inner {
                spool: Mutex::new(spool),
                space: Condvar::new(),
                records: Condvar::new(),
            }),
        }
    }

    /// Opens the spool in `dir` (see [`Spool::open`]) and wraps it.
    pub fn open(dir: &Path, opts: SpoolOptions) -> Result<Self> {
        Spool::open(dir, opts).map(SharedSpool::new)
    }

    fn lock(&self) -> MutexGuard<'_, Spool> {
        self.inner
            .spool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends without waiting (see [`Spool::append`]); wakes record waiters.
    pub fn append(&self, payload: &[u8]) -> Result<Seq> {
        let seq = self.lock().append(payload)?;
        self.inner.records.notify_all();
        Ok(seq)
    }

    /// Appends, waiting up to `timeout` for space when the spool is full.
    /// Still [`SpoolError::Full`] when the time runs out; never drops.
    pub fn append_wait(&self, payload: &[u8], timeout: Duration) -> Result<Seq> {
        let needed = record_bytes(payload.len());
        let guard = self.lock();
        let max = guard.max_record_bytes();
        if needed > max {
            return Err(SpoolError::TooLarge { size: needed, max });
        }
        let (mut guard, _) = self
            .inner
            .space
            .wait_timeout_while(guard, timeout, |s| s.free_bytes() < needed)
            .unwrap_or_else(PoisonError::into_inner);
        let seq = guard.append(payload)?;
        drop(guard);
        self.inner.records.notify_all();
        Ok(seq)
    }

    /// Waits up to `timeout` until at least `needed` bytes (header included,
    /// see [`record_bytes`]) are free. Returns whether they are. The space
    /// can be taken by another thread before the caller appends; use
    /// [`SharedSpool::append_wait`] to wait and append atomically.
    pub fn wait_for_space(&self, needed: u64, timeout: Duration) -> Result<bool> {
        let guard = self.lock();
        let max = guard.max_record_bytes();
        if needed > max {
            return Err(SpoolError::TooLarge { size: needed, max });
        }
        let (guard, _) = self
            .inner
            .space
            .wait_timeout_while(guard, timeout, |s| s.free_bytes() < needed)
            .unwrap_or_else(PoisonError::into_inner);
        Ok(guard.free_bytes() >= needed)
    }

    /// Waits up to `timeout` for pending records above `after` (see
    /// [`Spool::peek_after`]) and returns up to `max` of them, oldest first;
    /// empty when the time ran out.
    pub fn wait_for_records(&self, after: Option<Seq>, max: usize, timeout: Duration) -> Vec<Seq> {
        let guard = self.lock();
        let (guard, _) = self
            .inner
            .records
            .wait_timeout_while(guard, timeout, |s| s.peek_after(after, 1).is_empty())
            .unwrap_or_else(PoisonError::into_inner);
        guard.peek_after(after, max)
    }

    /// See [`Spool::read`].
    pub fn read(&self, seq: Seq) -> Result<Vec<u8>> {
        self.lock().read(seq)
    }

    /// See [`Spool::ack`]; wakes space waiters when space was freed.
    pub fn ack(&self, seq: Seq) -> Result<()> {
        let mut guard = self.lock();
        let before = guard.free_bytes();
        let result = guard.ack(seq);
        let freed = guard.free_bytes() > before;
        drop(guard);
        if freed {
            self.inner.space.notify_all();
        }
        result
    }

    /// See [`Spool::sync`]; wakes space waiters when space was freed.
    pub fn sync(&self) -> Result<()> {
        let mut guard = self.lock();
        let before = guard.free_bytes();
        let result = guard.sync();
        let freed = guard.free_bytes() > before;
        drop(guard);
        if freed {
            self.inner.space.notify_all();
        }
        result
    }

    /// See [`Spool::sync_acks`].
    pub fn sync_acks(&self) -> Result<()> {
        self.lock().sync_acks()
    }

    /// See [`Spool::peek_after`].
    pub fn peek_after(&self, after: Option<Seq>, max: usize) -> Vec<Seq> {
        self.lock().peek_after(after, max)
    }

    /// See [`Spool::stats`].
    pub fn stats(&self) -> SpoolStats {
        self.lock().stats()
    }

    /// See [`Spool::free_bytes`].
    pub fn free_bytes(&self) -> u64 {
        self.lock().free_bytes()
    }

    /// See [`Spool::recovery_report`].
    pub fn recovery_report(&self) -> RecoveryReport {
        *self.lock().recovery_report()
    }

    /// Runs `f` with exclusive access to the spool (for several operations
    /// under one lock), then wakes all waiters.
    pub fn with<R>(&self, f: impl FnOnce(&mut Spool) -> R) -> R {
        let r = f(&mut self.lock());
        self.inner.space.notify_all();
        self.inner.records.notify_all();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    // Generous upper bounds so a blocked thread cannot hang the suite;
    // nothing asserts on elapsed time.
    const LONG: Duration = Duration::from_secs(60);

    fn opts(max_bytes: u64, segment_bytes: u64) -> SpoolOptions {
        SpoolOptions {
            max_bytes,
            segment_bytes,
        }
    }

    #[test]
    fn append_wait_blocks_until_an_ack_frees_a_segment() {
        let dir = tempfile::tempdir().unwrap();
        // Each record is 24 + 76 = 100 bytes; one record per segment.
        let shared = SharedSpool::open(dir.path(), opts(200, 100)).unwrap();
        let a = shared.append(&[1; 76]).unwrap();
        shared.append(&[2; 76]).unwrap();
        assert!(matches!(
            shared.append(&[3; 76]),
            Err(SpoolError::Full {
                needed: 100,
                free: 0
            })
        ));
        assert!(!shared.wait_for_space(100, Duration::ZERO).unwrap());
        assert!(matches!(
            shared.append_wait(&[3; 76], Duration::ZERO),
            Err(SpoolError::Full { .. })
        ));

        let writer = {
            let shared = shared.clone();
            thread::spawn(move || shared.append_wait(&[3; 76], LONG))
        };
        // The writer may or may not be waiting yet; either way it must succeed after the ack.
        shared.ack(a).unwrap();
        let c = writer.join().unwrap().unwrap();
        assert_eq!(shared.read(c).unwrap(), vec![3; 76]);
        assert_eq!(shared.stats().records, 2);
    }

    #[test]
    fn wait_for_records_wakes_on_append() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedSpool::open(dir.path(), SpoolOptions::default()).unwrap();
        assert!(shared.wait_for_records(None, 10, Duration::ZERO).is_empty());
        let reader = {
            let shared = shared.clone();
            thread::spawn(move || shared.wait_for_records(None, 10, LONG))
        };
        let seq = shared.append(b"x").unwrap();
        assert_eq!(reader.join().unwrap(), vec![seq]);
        // Records at or below `after` do not satisfy the wait.
        assert!(shared
            .wait_for_records(Some(seq), 10, Duration::ZERO)
            .is_empty());
    }

    #[test]
    fn wait_for_space_rejects_impossible_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedSpool::open(dir.path(), opts(100, 100)).unwrap();
        assert!(matches!(
            shared.wait_for_space(101, LONG),
            Err(SpoolError::TooLarge { .. })
        ));
        assert!(shared.wait_for_space(100, Duration::ZERO).unwrap());
        assert!(matches!(
            shared.append_wait(&[0; 77], LONG),
            Err(SpoolError::TooLarge { .. })
        ));
    }

    #[test]
    fn concurrent_producers_and_consumer_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedSpool::open(dir.path(), opts(4096, 512)).unwrap();
        let producers: Vec<_> = (0..3u8)
            .map(|p| {
                let shared = shared.clone();
                thread::spawn(move || {
                    for i in 0..200u8 {
                        shared.append_wait(&[p, i, 0, 0, 0, 0, 0, 0], LONG).unwrap();
                    }
                })
            })
            .collect();
        let mut seen = Vec::new();
        let mut after = None;
        while seen.len() < 600 {
            let batch = shared.wait_for_records(after, 16, LONG);
            assert!(!batch.is_empty());
            for seq in batch {
                let p = shared.read(seq).unwrap();
                seen.push((p[0], p[1]));
                shared.ack(seq).unwrap();
                after = Some(seq);
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        // Each producer's records arrive complete and in its own order.
        for p in 0..3u8 {
            let mine: Vec<u8> = seen
                .iter()
                .filter(|(q, _)| *q == p)
                .map(|(_, i)| *i)
                .collect();
            assert_eq!(mine, (0..200u8).collect::<Vec<_>>());
        }
        assert_eq!(shared.stats().records, 0);
    }
}
