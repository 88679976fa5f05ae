//! Filtered scans over many streams of one group (FilterLogEvents).
//!
//! 1. The block index is read for every selected stream (`(stream_id, min_ts)` index; the
//!    `MAX_BLOCK_SPAN_MS` invariant bounds the range), without blobs, and the blocks are sorted
//!    by `(min_ts, id)`: blocks outside the time range are never read.
//! 2. Blocks are visited in that order. Each blob is fetched by id, decompressed once into a
//!    reused buffer, and first tested as a whole with [`FilterPattern::may_match_any`] (for term
//!    patterns a `memmem` search of the required literals over the decompressed bytes): a block
//!    that cannot hold a match is skipped without decoding its events. Otherwise its events are
//!    walked in place (no copy) and only matches are copied out; when the pattern has a literal
//!    every match must contain, its occurrences in the block are found in one pass and only the
//!    events holding one are matched.
//! 3. Results are kept sorted by `(timestamp, seq)`; once the page is full (count or bytes) the
//!    scan stops at the first block whose `min_ts` is past the page's last key, exactly like
//!    [`super::reader`]. A scan that reaches its byte budget first stops at a block boundary
//!    `B` (a block `min_ts` after the lower bound): every event before `B` has been seen, so the
//!    page keeps only matches before `B` and resumes from `(B, 0)`.

use rusqlite::params;
use std::sync::Arc;

use super::reader::{trim, Key};
use super::{codec, LogError, LogStore, MAX_BLOCK_SPAN_MS};
use crate::logs_pattern::FilterPattern;
use crate::store::StoreError;

/// A filtered read over several streams.
#[derive(Debug, Clone)]
pub struct ScanQuery {
    /// Stream ids to search.
    pub streams: Vec<i64>,
    /// Lowest key to return (inclusive).
    pub from: Key,
    /// Timestamps must be below this (exclusive).
    pub end_ts: i64,
    /// Most events in the page.
    pub max_events: usize,
    /// Most bytes in the page (message bytes + 26 per event); at least one event is returned.
    pub max_bytes: usize,
    /// Stop after decompressing about this many payload bytes (the page is then partial).
    pub max_scan_bytes: usize,
}

/// One matching event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEvent {
    pub stream_id: i64,
    pub timestamp: i64,
    pub seq: i64,
    pub ingestion_time: i64,
    pub message: String,
}

impl ScanEvent {
    pub fn key(&self) -> Key {
        Key::new(self.timestamp, self.seq)
    }
}

/// The result of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanPage {
    pub events: Vec<ScanEvent>,
    /// Where the next page starts; `None` when the range is exhausted.
    pub next: Option<Key>,
    /// Decompressed payload bytes looked at.
    pub scanned_bytes: u64,
    /// Blocks skipped by the whole-block prefilter.
    pub blocks_skipped: u64,
    /// Blocks read.
    pub blocks_read: u64,
}

struct BlockMeta {
    id: i64,
    stream_id: i64,
    min_ts: i64,
    max_ts: i64,
    first_seq: i64,
    count: usize,
    ingestion_time: i64,
}

impl LogStore {
    /// Scan `q.streams` for events matching `pattern` (see the module docs).
    pub async fn scan(
        &self,
        q: ScanQuery,
        pattern: Arc<FilterPattern>,
    ) -> Result<ScanPage, LogError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_reader(|c| scan_blocking(c, &q, &pattern)))
            .await
            .map_err(|e| StoreError::Corrupt(format!("scan task failed: {e}")))?
            .map_err(LogError::from)
    }
}

fn scan_blocking(
    conn: &rusqlite::Connection,
    q: &ScanQuery,
    pattern: &FilterPattern,
) -> Result<ScanPage, StoreError> {
    let mut page = ScanPage::default();
    if q.from.ts >= q.end_ts {
        return Ok(page);
    }
    let mut blocks = Vec::new();
    {
        let mut st = conn.prepare_cached(
            "SELECT id, stream_id, min_ts, max_ts, first_seq, count, ingestion_time FROM log_blocks
             WHERE stream_id = ?1 AND min_ts >= ?2 AND min_ts < ?3 AND max_ts >= ?4",
        )?;
        for sid in &q.streams {
            let rows = st.query_map(
                params![
                    sid,
                    q.from.ts.saturating_sub(MAX_BLOCK_SPAN_MS),
                    q.end_ts,
                    q.from.ts
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                },
            )?;
            for row in rows {
                let (id, stream_id, min_ts, max_ts, first_seq, count, ingestion_time) = row?;
                let count = usize::try_from(count)
                    .map_err(|_| StoreError::Corrupt(format!("log block count {count}")))?;
                blocks.push(BlockMeta {
                    id,
                    stream_id,
                    min_ts,
                    max_ts,
                    first_seq,
                    count,
                    ingestion_time,
                });
            }
        }
    }
    blocks.sort_unstable_by_key(|b| (b.min_ts, b.id));
    let mut blob_st = conn.prepare_cached("SELECT blob FROM log_blocks WHERE id = ?1")?;
    let mut payload: Vec<u8> = Vec::new();
    let mut hits: Vec<usize> = Vec::new();
    let max_events = q.max_events.max(1);
    let mut full = false;
    let mut budget_stop: Option<i64> = None;
    for b in &blocks {
        if full {
            if let Some(worst) = page.events.last() {
                if b.min_ts > worst.timestamp {
                    break;
                }
            }
        } else if page.scanned_bytes >= q.max_scan_bytes as u64 && b.min_ts > q.from.ts {
            budget_stop = Some(b.min_ts);
            break;
        }
        let found = {
            let mut rows = blob_st.query([b.id])?;
            match rows.next()? {
                Some(r) => {
                    let blob = r.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
                    codec::decompress_into(blob, &mut payload).map_err(|e| in_block(e, b.id))?;
                    true
                }
                // Deleted by a retention sweep or a stream deletion since the index was read.
                None => false,
            }
        };
        if !found {
            continue;
        }
        page.scanned_bytes += payload.len() as u64;
        page.blocks_read += 1;
        if !pattern.may_match_any(&payload) {
            page.blocks_skipped += 1;
            continue;
        }
        let before = page.events.len();
        // Where the pattern's required literal occurs: events without an occurrence are
        // skipped without being looked at.
        hits.clear();
        let needle_len = match pattern.required_literal() {
            Some(f) => {
                hits.extend(f.find_iter(&payload));
                f.needle().len()
            }
            None => 0,
        };
        let mut next_hit = 0usize;
        codec::walk_payload(
            &payload,
            b.min_ts,
            b.max_ts,
            b.count,
            |i, ts, start, end| {
                let key = Key::new(ts, b.first_seq + i as i64);
                if key < q.from || ts >= q.end_ts {
                    return Ok(());
                }
                if needle_len > 0 {
                    while next_hit < hits.len() && hits[next_hit] < start {
                        next_hit += 1;
                    }
                    if next_hit == hits.len() || hits[next_hit] + needle_len > end {
                        return Ok(());
                    }
                }
                let msg = std::str::from_utf8(&payload[start..end])
                    .map_err(|_| StoreError::Corrupt("log block: message is not UTF-8".into()))?;
                if pattern.matches(msg) {
                    page.events.push(ScanEvent {
                        stream_id: b.stream_id,
                        timestamp: ts,
                        seq: key.seq,
                        ingestion_time: b.ingestion_time,
                        message: msg.to_string(),
                    });
                }
                Ok(())
            },
        )
        .map_err(|e| in_block(e, b.id))?;
        if page.events.len() != before {
            page.events.sort_unstable_by_key(ScanEvent::key);
            full = trim(&mut page.events, max_events, q.max_bytes, |e| {
                e.message.len()
            });
        }
    }
    if let Some(boundary) = budget_stop {
        page.events.retain(|e| e.timestamp < boundary);
        page.next = Some(Key::new(boundary, 0));
    } else if full {
        page.next = page
            .events
            .last()
            .map(|e| Key::new(e.timestamp, e.seq.saturating_add(1)));
    }
    Ok(page)
}

/// A block's corruption error, naming the block.
fn in_block(e: StoreError, id: i64) -> StoreError {
    match e {
        StoreError::Corrupt(m) => StoreError::Corrupt(format!("{m} (block {id})")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::logs::AppendBatch;

    const T0: i64 = 1_700_000_000_000;

    /// Two streams with overlapping blocks; every page size and scan budget must return every
    /// match exactly once, in key order.
    #[tokio::test]
    async fn pages_and_budget_stops_lose_and_repeat_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            crate::store::logs::testutil::store_with_group(dir.path(), ManualClock::new(T0), "g")
                .await;
        for s in ["a", "b"] {
            store.create_stream("g", s).await.unwrap();
        }
        let mut want = Vec::new();
        for block in 0..20i64 {
            let stream = if block % 2 == 0 { "a" } else { "b" };
            // Blocks of the two streams interleave in time.
            let msgs: Vec<(i64, String)> = (0..50i64)
                .map(|i| {
                    let ts = T0 + (block / 2) * 100 + i * 2 + block % 2;
                    let m = if i % 7 == 0 {
                        format!("hit {block}/{i}")
                    } else {
                        format!("miss {block}/{i}")
                    };
                    (ts, m)
                })
                .collect();
            for (ts, m) in &msgs {
                if m.starts_with("hit") {
                    want.push((*ts, m.clone()));
                }
            }
            let events: Vec<(i64, &str)> = msgs.iter().map(|(t, m)| (*t, m.as_str())).collect();
            store
                .append(AppendBatch {
                    group: "g",
                    stream,
                    events: &events,
                    ingestion_time: T0,
                })
                .await
                .unwrap();
        }
        want.sort();
        let ids: Vec<i64> =
            store.with_catalog(|c| c.groups["g"].streams.values().map(|s| s.id).collect());
        let pattern = Arc::new(FilterPattern::parse("hit").unwrap());
        for (max_events, max_scan_bytes) in
            [(1000, usize::MAX), (3, usize::MAX), (1000, 1), (4, 500)]
        {
            let mut from = Key::new(0, 0);
            let mut got = Vec::new();
            let mut calls = 0;
            loop {
                let page = store
                    .scan(
                        ScanQuery {
                            streams: ids.clone(),
                            from,
                            end_ts: i64::MAX,
                            max_events,
                            max_bytes: usize::MAX,
                            max_scan_bytes,
                        },
                        pattern.clone(),
                    )
                    .await
                    .unwrap();
                calls += 1;
                assert!(calls < 1000, "no progress");
                got.extend(page.events.iter().map(|e| (e.timestamp, e.message.clone())));
                match page.next {
                    Some(k) => {
                        assert!(k > from, "the next page starts after this one");
                        from = k;
                    }
                    None => break,
                }
            }
            assert_eq!(
                got, want,
                "max_events {max_events}, budget {max_scan_bytes}"
            );
        }
        // A pattern absent from every block skips them all after the block-level test.
        let none = store
            .scan(
                ScanQuery {
                    streams: ids,
                    from: Key::new(0, 0),
                    end_ts: i64::MAX,
                    max_events: 10,
                    max_bytes: usize::MAX,
                    max_scan_bytes: usize::MAX,
                },
                Arc::new(FilterPattern::parse("absent").unwrap()),
            )
            .await
            .unwrap();
        assert!(none.events.is_empty() && none.next.is_none());
        assert_eq!(none.blocks_skipped, 20);
    }
}
