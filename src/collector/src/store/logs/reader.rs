//! Reading the events of one stream in `(timestamp, seq)` order.
//!
//! Blocks of one stream may overlap in time (two requests can carry interleaved timestamps), so a
//! read merges: blocks are visited in `min_ts` order (forward) or `max_ts` descending order
//! (backward), decoded, filtered to the requested key range, and the best `max_events` kept. The
//! visit stops as soon as the page is full and no remaining block can contain a key that sorts
//! before (forward) or after (backward) the page's last key. Both visit orders are served by an
//! index, and the `MAX_BLOCK_SPAN_MS` invariant bounds the other end of each index range.

use rusqlite::{params, Connection};

use super::codec;
use super::MAX_BLOCK_SPAN_MS;
use crate::store::StoreError;

/// A position in a stream: events sort by `(ts, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub ts: i64,
    pub seq: i64,
}

impl Key {
    pub const fn new(ts: i64, seq: i64) -> Self {
        Key { ts, seq }
    }
}

/// Which end of the range a page is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The earliest events at or after `from`.
    Forward,
    /// The latest events before `to`.
    Backward,
}

/// One page request over the keys in `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct ReadQuery {
    pub from: Key,
    pub to: Key,
    pub direction: Direction,
    /// Most events in the page (at least 1).
    pub max_events: usize,
    /// Most bytes in the page, counting each event's message bytes + 26; a page always holds at
    /// least one event when any is in range.
    pub max_bytes: usize,
}

/// Per-event overhead used for byte budgets, as AWS counts it.
pub const EVENT_OVERHEAD: usize = 26;

/// The columns `min_ts, max_ts, first_seq, count, ingestion_time, blob` (in this order, from
/// column 0) of a `log_blocks` row, as every block reader selects them.
#[derive(Debug, Clone, Copy)]
pub(super) struct BlockRow<'r> {
    pub min_ts: i64,
    pub max_ts: i64,
    pub first_seq: i64,
    pub count: usize,
    pub ingestion_time: i64,
    pub blob: &'r [u8],
}

impl<'r> BlockRow<'r> {
    pub fn read(r: &'r rusqlite::Row<'_>) -> Result<Self, StoreError> {
        let count: i64 = r.get(3)?;
        Ok(BlockRow {
            min_ts: r.get(0)?,
            max_ts: r.get(1)?,
            first_seq: r.get(2)?,
            count: usize::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("log block count {count}")))?,
            ingestion_time: r.get(4)?,
            blob: r.get_ref(5)?.as_blob().map_err(rusqlite::Error::from)?,
        })
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub timestamp: i64,
    pub seq: i64,
    pub ingestion_time: i64,
    pub message: String,
}

impl StoredEvent {
    pub fn key(&self) -> Key {
        Key::new(self.timestamp, self.seq)
    }
}

/// Read one page of stream `stream_id`; the result is in ascending key order.
pub fn read(
    conn: &Connection,
    stream_id: i64,
    q: &ReadQuery,
) -> Result<Vec<StoredEvent>, StoreError> {
    if q.from >= q.to {
        return Ok(Vec::new());
    }
    let max_events = q.max_events.max(1);
    let mut page: Vec<StoredEvent> = Vec::new();
    let mut full = false;
    let forward = q.direction == Direction::Forward;
    let mut stmt = if forward {
        conn.prepare_cached(
            "SELECT min_ts, max_ts, first_seq, count, ingestion_time, blob FROM log_blocks
             WHERE stream_id = ?1 AND min_ts >= ?2 AND min_ts <= ?3 AND max_ts >= ?4
             ORDER BY min_ts",
        )?
    } else {
        conn.prepare_cached(
            "SELECT min_ts, max_ts, first_seq, count, ingestion_time, blob FROM log_blocks
             WHERE stream_id = ?1 AND max_ts <= ?2 AND max_ts >= ?3 AND min_ts <= ?4
             ORDER BY max_ts DESC",
        )?
    };
    let mut rows = if forward {
        stmt.query(params![
            stream_id,
            q.from.ts.saturating_sub(MAX_BLOCK_SPAN_MS),
            q.to.ts,
            q.from.ts
        ])?
    } else {
        stmt.query(params![
            stream_id,
            q.to.ts.saturating_add(MAX_BLOCK_SPAN_MS),
            q.from.ts,
            q.to.ts
        ])?
    };
    while let Some(r) = rows.next()? {
        let b = BlockRow::read(r)?;
        let (min_ts, max_ts) = (b.min_ts, b.max_ts);
        if full {
            // `page` is sorted best-first; its last element is the worst kept key.
            let stop = match page.last() {
                Some(worst) if forward => min_ts > worst.timestamp,
                Some(worst) => max_ts < worst.timestamp,
                None => false,
            };
            if stop {
                break;
            }
        }
        let events = codec::decode(b.blob, min_ts, max_ts, b.count)?;
        let ingestion_time = b.ingestion_time;
        for (i, e) in events.into_iter().enumerate() {
            let key = Key::new(e.timestamp, b.first_seq + i as i64);
            if key >= q.from && key < q.to {
                page.push(StoredEvent {
                    timestamp: e.timestamp,
                    seq: key.seq,
                    ingestion_time,
                    message: e.message,
                });
            }
        }
        if forward {
            page.sort_unstable_by_key(StoredEvent::key);
        } else {
            page.sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
        }
        full = trim(&mut page, max_events, q.max_bytes, |e| e.message.len());
    }
    if !forward {
        page.reverse();
    }
    Ok(page)
}

/// Keep the best-first prefix of `page` that fits the budgets (at most `max_events`, at most
/// `max_bytes` counted as AWS counts them, but always the first event); `true` when the page is
/// full (an event was dropped or the count is reached). `message_len` is an event's message
/// length in bytes. GetLogEvents and FilterLogEvents pages both end here.
pub(super) fn trim<T>(
    page: &mut Vec<T>,
    max_events: usize,
    max_bytes: usize,
    message_len: impl Fn(&T) -> usize,
) -> bool {
    let mut bytes = 0usize;
    let mut keep = 0usize;
    for e in page.iter() {
        if keep == max_events {
            break;
        }
        let size = message_len(e) + EVENT_OVERHEAD;
        if keep > 0 && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        keep += 1;
    }
    let full = keep < page.len() || keep == max_events;
    page.truncate(keep);
    full
}
