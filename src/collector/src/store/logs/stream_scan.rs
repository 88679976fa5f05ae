//! Scanning one stream's events over a time range, for Logs Insights queries (FilterLogEvents has
//! its own multi-stream, paged scan in [`super::scan`]).
//!
//! Unlike [`super::reader`], a scan does not order events across blocks: blocks are visited in
//! `min_ts` order through the `(stream_id, min_ts)` index, only those that overlap the range
//! (the [`MAX_BLOCK_SPAN_MS`] invariant bounds the index range), and each event is handed to
//! the caller with its message borrowed from one reused decompression buffer, so a scan
//! allocates nothing per event. The caller may stop the scan after any event.

use rusqlite::params;
use std::ops::ControlFlow;

use super::reader::{BlockRow, StoredEvent};
use super::{codec, LogStore, MAX_BLOCK_SPAN_MS};
use crate::store::StoreError;

/// One scanned event.
#[derive(Debug, Clone, Copy)]
pub struct ScannedEvent<'a> {
    pub timestamp: i64,
    pub seq: i64,
    pub ingestion_time: i64,
    pub message: &'a str,
}

impl LogStore {
    /// Another handle on the same store (for a query running on its own thread). The store
    /// stays open until every handle is dropped.
    pub fn share(&self) -> LogStore {
        LogStore {
            inner: self.inner.clone(),
        }
    }

    /// Visit the events of stream `stream_id` with `from <= timestamp <= to` (milliseconds,
    /// both inclusive). Blocking: run it on a worker thread. Returns `Break` when `f` stopped
    /// the scan.
    pub fn scan_stream(
        &self,
        stream_id: i64,
        from: i64,
        to: i64,
        f: &mut dyn FnMut(&ScannedEvent<'_>) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, StoreError> {
        if from > to {
            return Ok(ControlFlow::Continue(()));
        }
        self.inner.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT min_ts, max_ts, first_seq, count, ingestion_time, blob FROM log_blocks
                 WHERE stream_id = ?1 AND min_ts >= ?2 AND min_ts <= ?3 AND max_ts >= ?4
                 ORDER BY min_ts",
            )?;
            let mut rows = stmt.query(params![
                stream_id,
                from.saturating_sub(MAX_BLOCK_SPAN_MS),
                to,
                from
            ])?;
            let mut buf = Vec::new();
            while let Some(r) = rows.next()? {
                let BlockRow {
                    min_ts,
                    max_ts,
                    first_seq,
                    count,
                    ingestion_time,
                    blob,
                } = BlockRow::read(r)?;
                let whole = min_ts >= from && max_ts <= to;
                let mut i = 0i64;
                let mut flow = ControlFlow::Continue(());
                codec::visit(blob, min_ts, max_ts, count, &mut buf, |ts, message| {
                    let seq = first_seq + i;
                    i += 1;
                    if flow.is_break() || !(whole || (ts >= from && ts <= to)) {
                        return;
                    }
                    flow = f(&ScannedEvent {
                        timestamp: ts,
                        seq,
                        ingestion_time,
                        message,
                    });
                })?;
                if flow.is_break() {
                    return Ok(flow);
                }
            }
            Ok(ControlFlow::Continue(()))
        })
    }

    /// The event with sequence number `seq` in stream `stream_id`, if it is stored (for
    /// GetLogRecord). Blocks hold consecutive sequence numbers from `first_seq`, so at most
    /// one block is decoded; the lookup walks the stream's block rows through the
    /// `(stream_id, …)` index. Blocking: run it on a worker thread.
    pub fn event_by_seq(
        &self,
        stream_id: i64,
        seq: i64,
    ) -> Result<Option<StoredEvent>, StoreError> {
        self.inner.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT min_ts, max_ts, first_seq, count, ingestion_time, blob FROM log_blocks
                 WHERE stream_id = ?1 AND first_seq <= ?2 AND first_seq + count > ?2
                 LIMIT 1",
            )?;
            let mut rows = stmt.query(params![stream_id, seq])?;
            let Some(r) = rows.next()? else {
                return Ok(None);
            };
            let b = BlockRow::read(r)?;
            let mut buf = Vec::new();
            let mut i = b.first_seq;
            let mut found = None;
            codec::visit(
                b.blob,
                b.min_ts,
                b.max_ts,
                b.count,
                &mut buf,
                |ts, message| {
                    if i == seq {
                        found = Some(StoredEvent {
                            timestamp: ts,
                            seq,
                            ingestion_time: b.ingestion_time,
                            message: message.to_string(),
                        });
                    }
                    i += 1;
                },
            )?;
            Ok(found)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::logs::testutil::store_with_group;
    use crate::store::logs::AppendBatch;

    #[tokio::test]
    async fn scans_a_range_across_blocks_and_stops_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_group(dir.path(), ManualClock::new(0), "g").await;
        store.create_stream("g", "s").await.unwrap();
        for batch in [[(10i64, "a"), (20, "b")], [(15, "c"), (30, "d")]] {
            store
                .append(AppendBatch {
                    group: "g",
                    stream: "s",
                    events: &batch,
                    ingestion_time: 99,
                })
                .await
                .unwrap();
        }
        let id = store.with_catalog(|c| c.groups["g"].streams["s"].id);
        // Lookup by sequence number: each block's events in order, nothing past the end.
        let mut seqs = Vec::new();
        let _ = store
            .scan_stream(id, 0, 100, &mut |e| {
                seqs.push((e.seq, e.message.to_string()));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(seqs.len(), 4);
        for (seq, message) in &seqs {
            let e = store.event_by_seq(id, *seq).unwrap().unwrap();
            assert_eq!(&e.message, message);
            assert_eq!(e.ingestion_time, 99);
        }
        let last = seqs.iter().map(|(q, _)| *q).max().unwrap();
        assert_eq!(store.event_by_seq(id, last + 1).unwrap(), None);
        assert_eq!(store.event_by_seq(id + 1, seqs[0].0).unwrap(), None);
        let mut seen = Vec::new();
        let flow = store
            .scan_stream(id, 15, 29, &mut |e| {
                seen.push((e.timestamp, e.message.to_string(), e.ingestion_time));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(flow.is_continue());
        seen.sort();
        assert_eq!(seen, [(15, "c".into(), 99), (20, "b".into(), 99)]);
        let mut n = 0;
        let flow = store
            .scan_stream(id, 0, 100, &mut |_| {
                n += 1;
                ControlFlow::Break(())
            })
            .unwrap();
        assert!(flow.is_break());
        assert_eq!(n, 1);
        assert!(store
            .scan_stream(id, 50, 40, &mut |_| ControlFlow::Break(()))
            .unwrap()
            .is_continue());
    }
}
