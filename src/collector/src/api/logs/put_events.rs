//! PutLogEvents.
//!
//! Order of checks, each failing the whole request:
//! 1. names and event count (1–10,000), every message at least 1 character and at most 1 MiB;
//! 2. batch size: Σ(UTF-8 message bytes + 26) ≤ 1,048,576;
//! 3. group and stream exist;
//! 4. timestamps in chronological (non-decreasing) order.
//!
//! Then events more than 2 hours in the future, more than 14 days old, or older than the group's
//! retention are rejected one by one (reported in `rejectedLogEventsInfo`), and the remaining
//! events must span at most 24 hours. Because the batch is sorted, the old and expired events are
//! a prefix and the too-new ones a suffix, so the indexes are: `tooNewLogEventStartIndex` the
//! first too-new event (inclusive), `tooOldLogEventEndIndex` and `expiredLogEventEndIndex` one
//! past the last rejected event of their kind (exclusive). An event that is both too old and
//! expired counts as too old.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::borrow::Cow;

use super::errors::{constraint, invalid_parameter};
use super::validate::{group_name, range, stream_name};
use super::LogsApi;
use crate::store::logs::{AppendBatch, EventSource, EVENT_OVERHEAD, MAX_BLOCK_SPAN_MS};

/// Most events per request.
pub const MAX_EVENTS: usize = 10_000;
/// Largest request, counting message bytes plus [`EVENT_OVERHEAD`] per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Largest single message.
pub const MAX_EVENT_BYTES: usize = 1_048_576;
/// How far into the future an event may be.
pub const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
/// How old an event may be.
pub const MAX_AGE_MS: i64 = 14 * 86_400_000;

/// The input, borrowing strings from the request where it can (the hot path of the collector:
/// a 1 MiB batch is read without building a JSON tree or copying unescaped messages).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutLogEventsInput<'a> {
    #[serde(borrow)]
    log_group_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    log_stream_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    log_events: Option<Vec<InputLogEvent<'a>>>,
}

/// One `InputLogEvent`.
#[derive(Debug, Clone, Deserialize)]
pub struct InputLogEvent<'a> {
    timestamp: i64,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

impl EventSource for InputLogEvent<'_> {
    fn timestamp(&self) -> i64 {
        self.timestamp
    }
    fn message(&self) -> &str {
        &self.message
    }
}

impl<'a> PutLogEventsInput<'a> {
    /// Parse from the request body.
    pub fn from_slice(body: &'a [u8]) -> Result<Self, ApiError> {
        serde_json::from_slice(body).map_err(serialization)
    }

    /// Parse from an already decoded JSON tree (strings are borrowed from it).
    pub fn from_value(v: &'a serde_json::Value) -> Result<Self, ApiError> {
        Self::deserialize(v).map_err(serialization)
    }
}

fn serialization(e: serde_json::Error) -> ApiError {
    ApiError::new(
        "SerializationException",
        400,
        format!("Invalid request: {e}"),
    )
}

/// Which events of a sorted batch are rejected, and why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rejections {
    pub too_new_start: Option<usize>,
    pub too_old_end: Option<usize>,
    pub expired_end: Option<usize>,
}

impl Rejections {
    /// Classify the events of a chronological batch at `now_ms`.
    pub fn classify(
        events: &[InputLogEvent<'_>],
        now_ms: i64,
        retention_days: Option<u32>,
    ) -> Self {
        let too_old_cutoff = now_ms.saturating_sub(MAX_AGE_MS);
        let too_new_cutoff = now_ms.saturating_add(MAX_FUTURE_MS);
        let too_old = events.partition_point(|e| e.timestamp < too_old_cutoff);
        let expired = retention_days.map_or(0, |d| {
            let cutoff = now_ms.saturating_sub(i64::from(d) * 86_400_000);
            events.partition_point(|e| e.timestamp < cutoff)
        });
        let too_new = events.partition_point(|e| e.timestamp <= too_new_cutoff);
        Rejections {
            too_new_start: (too_new < events.len()).then_some(too_new),
            too_old_end: (too_old > 0).then_some(too_old),
            expired_end: (expired > too_old).then_some(expired),
        }
    }

    /// The index range of the accepted events.
    pub fn accepted(&self, len: usize) -> std::ops::Range<usize> {
        let start = self
            .too_old_end
            .unwrap_or(0)
            .max(self.expired_end.unwrap_or(0));
        let end = self.too_new_start.unwrap_or(len).max(start);
        start..end
    }

    fn any(&self) -> bool {
        self.too_new_start.is_some() || self.too_old_end.is_some() || self.expired_end.is_some()
    }

    fn shape(&self) -> Shape {
        let int = |v: Option<usize>| v.map(|i| Shape::Int(i as i64));
        Shape::obj()
            .with_opt("tooNewLogEventStartIndex", int(self.too_new_start))
            .with_opt("tooOldLogEventEndIndex", int(self.too_old_end))
            .with_opt("expiredLogEventEndIndex", int(self.expired_end))
    }
}

/// The deprecated sequence token for a stream position (56 decimal digits, as AWS's look).
pub fn sequence_token(next_seq: i64) -> String {
    format!("{:056}", next_seq.max(0))
}

pub(super) async fn put_log_events(
    api: &LogsApi,
    i: PutLogEventsInput<'_>,
) -> Result<Option<Shape>, ApiError> {
    let group = i
        .log_group_name
        .as_deref()
        .ok_or_else(|| super::errors::missing("logGroupName"))?;
    let stream = i
        .log_stream_name
        .as_deref()
        .ok_or_else(|| super::errors::missing("logStreamName"))?;
    group_name(group, "logGroupName")?;
    stream_name(stream, "logStreamName")?;
    let events = i
        .log_events
        .as_deref()
        .ok_or_else(|| super::errors::missing("logEvents"))?;
    check_batch(events)?;
    let retention = api.store.with_catalog(|c| {
        let g = c
            .groups
            .get(group)
            .ok_or_else(super::errors::group_not_found)?;
        if !g.streams.contains_key(stream) {
            return Err(super::errors::stream_not_found());
        }
        Ok(g.retention_days)
    })?;
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(invalid_parameter(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let now = api.clock.now_ms();
    let rejected = Rejections::classify(events, now, retention);
    let accepted = &events[rejected.accepted(events.len())];
    if let (Some(first), Some(last)) = (accepted.first(), accepted.last()) {
        if last.timestamp - first.timestamp > MAX_BLOCK_SPAN_MS {
            return Err(invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
            ));
        }
    }
    let next_seq = api
        .store
        .append(AppendBatch {
            group,
            stream,
            events: accepted,
            ingestion_time: now,
        })
        .await?;
    let first_seq = next_seq - accepted.len() as i64;
    super::ingest::after_append(
        api,
        group,
        stream,
        accepted,
        first_seq,
        now,
        super::ingest::Filters::All,
    )
    .await?;
    api.live.publish(group, stream, accepted, now);
    let mut out = Shape::obj().with("nextSequenceToken", Shape::Str(sequence_token(next_seq)));
    if rejected.any() {
        out = out.with("rejectedLogEventsInfo", rejected.shape());
    }
    Ok(Some(out))
}

/// Count, message and size limits.
fn check_batch(events: &[InputLogEvent<'_>]) -> Result<(), ApiError> {
    range(events.len() as i64, "logEvents", 1, MAX_EVENTS as i64).map_err(|_| {
        let bound = if events.is_empty() {
            "Member must have length greater than or equal to 1".to_string()
        } else {
            format!("Member must have length less than or equal to {MAX_EVENTS}")
        };
        invalid_parameter(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: {bound}"
        ))
    })?;
    let mut total = 0usize;
    for (n, e) in events.iter().enumerate() {
        if e.message.is_empty() {
            return Err(constraint(
                "",
                &format!("logEvents.{}.member.message", n + 1),
                "Member must have length greater than or equal to 1",
            ));
        }
        if e.message.len() > MAX_EVENT_BYTES {
            return Err(invalid_parameter(format!(
                "Log event too large: {} bytes exceeds limit of {MAX_EVENT_BYTES}",
                e.message.len()
            )));
        }
        total += e.message.len() + EVENT_OVERHEAD;
    }
    if total > MAX_BATCH_BYTES {
        return Err(invalid_parameter(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const DAY: i64 = 86_400_000;

    fn ev(timestamp: i64, message: &str) -> InputLogEvent<'_> {
        InputLogEvent {
            timestamp,
            message: Cow::Borrowed(message),
        }
    }

    fn evs(ts: &[i64]) -> Vec<InputLogEvent<'static>> {
        ts.iter().map(|t| ev(*t, "m")).collect()
    }

    #[test]
    fn classify_indices() {
        let e = evs(&[NOW - 20 * DAY, NOW - 5 * DAY, NOW, NOW + 3 * 3_600_000]);
        let r = Rejections::classify(&e, NOW, Some(3));
        assert_eq!(
            r,
            Rejections {
                too_new_start: Some(3),
                too_old_end: Some(1),
                expired_end: Some(2),
            }
        );
        assert_eq!(r.accepted(e.len()), 2..3);
        // Retention longer than 14 days: expired events are all too old already.
        let r = Rejections::classify(&e, NOW, Some(30));
        assert_eq!(r.expired_end, None);
        assert_eq!(r.too_old_end, Some(1));
        // Nothing rejected.
        let r = Rejections::classify(&evs(&[NOW]), NOW, None);
        assert!(!r.any());
        assert_eq!(r.accepted(1), 0..1);
        // Everything too new.
        let r = Rejections::classify(&evs(&[NOW + DAY]), NOW, None);
        assert_eq!(r.too_new_start, Some(0));
        assert!(r.accepted(1).is_empty());
    }

    #[test]
    fn batch_limits() {
        assert!(check_batch(&[]).is_err());
        let small = "é".repeat(10);
        let ok = vec![ev(0, &small); 3];
        assert!(check_batch(&ok).is_ok());
        // UTF-8 bytes, not characters, count: 2 events of 524,262 two-byte chars + 26 each.
        let big = "é".repeat((MAX_BATCH_BYTES / 2 - EVENT_OVERHEAD) / 2);
        let two = vec![ev(0, &big); 2];
        assert!(check_batch(&two).is_ok());
        let mut three = two.clone();
        three.push(ev(0, "x"));
        let e = check_batch(&three).unwrap_err();
        // Borrowed and escaped (owned) messages parse alike.
        let body = br#"{"logEvents":[{"timestamp":1,"message":"plain"},{"timestamp":2,"message":"q\"uote"}]}"#;
        let i = PutLogEventsInput::from_slice(body).unwrap();
        let evs = i.log_events.unwrap();
        assert!(matches!(evs[0].message, Cow::Borrowed("plain")));
        assert_eq!(evs[1].message, "q\"uote");
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            PutLogEventsInput::from_value(&v)
                .unwrap()
                .log_events
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            PutLogEventsInput::from_slice(b"{\"logEvents\": 5}")
                .unwrap_err()
                .code,
            "SerializationException"
        );
        assert!(e
            .message
            .unwrap_or_default()
            .starts_with("Upload too large: "));
    }

    #[test]
    fn sequence_tokens_are_56_digits() {
        assert_eq!(sequence_token(7).len(), 56);
        assert!(sequence_token(7).ends_with("007"));
    }
}
