//! GetLogEvents.
//!
//! The events of one stream with `startTime <= timestamp < endTime`, in `(timestamp, seq)`
//! order. Without a token the page is the oldest events (`startFromHead=true`) or the newest
//! (`startFromHead=false`, the default). A token's own direction decides which way the next page
//! goes. Both tokens are always returned: `nextForwardToken` points just after the page and
//! `nextBackwardToken` at its first event; when a page is empty the token that was passed in is
//! handed back unchanged, which is how callers detect the end of the stream.
//!
//! Page size: `limit` events (1–10,000), and never more than 1 MiB counting message bytes + 26
//! per event (at least one event when any is in range). Events older than the group's
//! retention are not returned even before the retention sweep removed them.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::tokens::EventToken;
use super::validate::{group_ref, range, required, stream_name};
use super::LogsApi;
use crate::api::parse_input;
use crate::store::logs::{Direction, Key, ReadQuery, StoredEvent};

/// Most events per page.
pub const MAX_LIMIT: i64 = 10_000;
/// Most bytes per page (message bytes + 26 per event).
pub const MAX_PAGE_BYTES: usize = 1_048_576;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

pub(super) async fn get_log_events(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: GetLogEventsInput = parse_input(input, false)?;
    let group = group_ref(&i.log_group_name, &i.log_group_identifier)?;
    let stream = required(&i.log_stream_name, "logStreamName")?;
    stream_name(stream, "logStreamName")?;
    let limit = i.limit.unwrap_or(MAX_LIMIT);
    range(limit, "limit", 1, MAX_LIMIT)?;
    let token = i.next_token.as_deref().map(EventToken::parse).transpose()?;
    let retention = api
        .store
        .group(&group)
        .ok_or_else(super::errors::group_not_found)?
        .retention_days;
    let mut start = i.start_time.unwrap_or(0).max(0);
    if let Some(days) = retention {
        start = start.max(
            api.clock
                .now_ms()
                .saturating_sub(i64::from(days) * 86_400_000),
        );
    }
    let end = i.end_time.unwrap_or(i64::MAX).max(0);
    let lower = Key::new(start, 0);
    let upper = Key::new(end, 0);
    let (direction, from, to) = match token {
        Some(t) if t.direction == Direction::Forward => {
            (Direction::Forward, t.key.max(lower), upper)
        }
        Some(t) => (Direction::Backward, lower, t.key.min(upper)),
        None if i.start_from_head.unwrap_or(false) => (Direction::Forward, lower, upper),
        None => (Direction::Backward, lower, upper),
    };
    let q = ReadQuery {
        from,
        to,
        direction,
        max_events: limit as usize,
        max_bytes: MAX_PAGE_BYTES,
    };
    let events = api.store.read(&group, stream, q).await?;
    let (forward, backward) = next_tokens(&events, token, i.next_token.as_deref(), &q);
    let list: Vec<Shape> = events
        .into_iter()
        .map(|e| {
            Shape::obj()
                .with("timestamp", Shape::Int(e.timestamp))
                .with("message", Shape::Str(e.message))
                .with("ingestionTime", Shape::Int(e.ingestion_time))
        })
        .collect();
    Ok(Some(
        Shape::obj()
            .with("events", Shape::List(list))
            .with("nextForwardToken", Shape::Str(forward))
            .with("nextBackwardToken", Shape::Str(backward)),
    ))
}

/// The (forward, backward) tokens for a page.
fn next_tokens(
    events: &[StoredEvent],
    given: Option<EventToken>,
    given_raw: Option<&str>,
    q: &ReadQuery,
) -> (String, String) {
    match (events.first(), events.last()) {
        (Some(first), Some(last)) => (
            EventToken::forward(Key::new(last.timestamp, last.seq.saturating_add(1))).encode(),
            EventToken::backward(first.key()).encode(),
        ),
        _ => {
            // Nothing in this direction: hand the caller's token back, and point the other
            // direction at the same boundary.
            let boundary = match (given, q.direction) {
                (Some(t), _) => t.key,
                (None, Direction::Forward) => q.from,
                (None, Direction::Backward) => q.to,
            };
            let f = EventToken::forward(boundary).encode();
            let b = EventToken::backward(boundary).encode();
            match (given, given_raw) {
                (Some(t), Some(raw)) if t.direction == Direction::Forward => (raw.to_string(), b),
                (Some(_), Some(raw)) => (f, raw.to_string()),
                _ => (f, b),
            }
        }
    }
}
