//! GetLogRecord: one whole event, found by the `@ptr` value a Logs Insights result row carries.
//!
//! Pointer: the hex encoding of `group id:stream id:sequence number` (see
//! [`crate::insights::row::Event::ptr_text`]); it stays valid while the event is stored and its
//! group and stream exist (a deleted and re-created group has a new id, so an old pointer does
//! not find events of the new group).
//!
//! Answer: `logRecord`, every field as a string: `@timestamp` and `@ingestionTime` as epoch
//! milliseconds, `@message`, `@logStream`, `@log` (`account:group`), then the fields Logs
//! Insights discovers in a JSON message (flattened the same way: `a.b`, `list.0`), at most 100.
//! `unmask` is accepted and has no effect (no data protection policies here: messages are
//! stored as sent).
//!
//! Errors (texts are ours, AWS's are not on record): a pointer that does not decode is an
//! `InvalidParameterException`; a pointer to an event that is not stored (never was, past its
//! group's retention, group or stream deleted) is a `ResourceNotFoundException`.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::errors::{internal, invalid_parameter, missing, NOT_FOUND};
use super::LogsApi;
use crate::api::{parse_input, RequestContext};
use crate::insights::row::discover;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetLogRecordInput {
    log_record_pointer: Option<String>,
    #[allow(dead_code)]
    unmask: Option<bool>,
}

/// `(group id, stream id, sequence number)` of a pointer, or `None` if it is not one.
pub fn parse_pointer(ptr: &str) -> Option<(i64, i64, i64)> {
    let text = String::from_utf8(hex::decode(ptr).ok()?).ok()?;
    let mut parts = text.split(':');
    let g = parts.next()?.parse().ok()?;
    let s = parts.next()?.parse().ok()?;
    let q = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((g, s, q))
}

fn not_found() -> ApiError {
    ApiError::new(NOT_FOUND, 400, "The specified log record does not exist.")
}

pub(super) async fn get_log_record(
    api: &LogsApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let i: GetLogRecordInput = parse_input(input, false)?;
    let ptr = i
        .log_record_pointer
        .ok_or_else(|| missing("logRecordPointer"))?;
    let (group_id, stream_id, seq) = parse_pointer(&ptr)
        .ok_or_else(|| invalid_parameter("The specified log record pointer is invalid."))?;
    let found = api.store.with_catalog(|c| {
        c.groups.values().find(|g| g.id == group_id).and_then(|g| {
            g.streams
                .values()
                .find(|s| s.id == stream_id)
                .map(|s| (g.name.clone(), g.retention_days, s.name.clone()))
        })
    });
    let (group, retention_days, stream) = found.ok_or_else(not_found)?;
    let store = api.store.share();
    let event = tokio::task::spawn_blocking(move || store.event_by_seq(stream_id, seq))
        .await
        .map_err(|e| internal(&StoreError::Corrupt(format!("lookup task failed: {e}"))))?
        .map_err(|e| internal(&e))?
        .ok_or_else(not_found)?;
    if let Some(days) = retention_days {
        let oldest = api
            .clock
            .now_ms()
            .saturating_sub(i64::from(days) * 86_400_000);
        if event.timestamp < oldest {
            return Err(not_found());
        }
    }
    let log = format!("{}:{group}", ctx.account_id);
    let mut record = Shape::obj()
        .with("@ingestionTime", event.ingestion_time.to_string().as_str())
        .with("@log", log.as_str())
        .with("@logStream", stream.as_str())
        .with("@message", event.message.as_str())
        .with("@timestamp", event.timestamp.to_string().as_str());
    for (name, value) in discover(&event.message) {
        if name.starts_with('@') {
            continue;
        }
        if let Some(text) = value.render() {
            record = record.with(name.as_str(), text.as_ref());
        }
    }
    Ok(Some(Shape::obj().with("logRecord", record)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::row::Event;
    use std::borrow::Cow;

    #[test]
    fn pointers_round_trip_and_garbage_is_refused() {
        let e = Event {
            timestamp: 1,
            ingestion_time: 2,
            message: Cow::Borrowed("m"),
            log_stream: Cow::Borrowed("s"),
            log: Cow::Borrowed("1:g"),
            ptr: (7, 42, 123_456),
        };
        assert_eq!(parse_pointer(&e.ptr_text()), Some((7, 42, 123_456)));
        for bad in [
            "",
            "zz",
            "not hex at all",
            &hex::encode("1:2"),
            &hex::encode("1:2:3:4"),
            &hex::encode("a:b:c"),
            &hex::encode([0xff, 0xfe]),
        ] {
            assert_eq!(parse_pointer(bad), None, "{bad:?}");
        }
    }
}
