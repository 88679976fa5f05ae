//! FilterLogEvents.
//!
//! Searches the streams of one group (`logStreamNames`, or `logStreamNamePrefix`, or all) for
//! events with `startTime <= timestamp <= endTime` (both inclusive, as AWS documents) matching
//! `filterPattern`, in `(timestamp, seq)` order across streams (always interleaved). A page
//! holds at most `limit` events (1–10,000, default 10,000) and 1 MiB (message bytes + 26 per
//! event). One call decompresses at most [`MAX_SCAN_BYTES`] of stored events; a call that stops
//! there returns what it found (possibly nothing) with a `nextToken`, as AWS does for long
//! searches. `nextToken` is absent when the range is exhausted. The scan itself is
//! [`crate::store::logs::scan`]. `startFromHead=false` is accepted and ignored (pages are always
//! oldest first); `unmask` is accepted (nothing is masked here).
//!
//! `searchedLogStreams` (deprecated by AWS) lists the searched streams, `searchedCompletely`
//! true on the last page.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::errors::{invalid_parameter, invalid_token};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_ref, range, stream_name};
use super::LogsApi;
use crate::api::parse_input;
use crate::logs_pattern::{FilterPattern, MAX_PATTERN_LEN};
use crate::store::logs::scan::ScanQuery;
use crate::store::logs::Key;

/// Most events per page.
pub const MAX_LIMIT: i64 = 10_000;
/// Most bytes per page.
pub const MAX_PAGE_BYTES: usize = 1_048_576;
/// Most stream names in `logStreamNames`.
pub const MAX_STREAM_NAMES: usize = 100;
/// Decompressed bytes one call may look at before answering with a partial page.
pub const MAX_SCAN_BYTES: usize = 256 * 1024 * 1024;

const TOKEN_KIND: &str = "filter";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterLogEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
    #[allow(dead_code)]
    interleaved: Option<bool>,
    #[allow(dead_code)]
    unmask: Option<bool>,
    #[allow(dead_code)]
    start_from_head: Option<bool>,
}

/// The 56-digit event id of a stored event (timestamp and store-wide sequence number).
pub fn event_id(timestamp: i64, seq: i64) -> String {
    format!("{:026}{:030}", timestamp.max(0), seq.max(0))
}

/// Compile a `filterPattern` member, mapping errors to AWS's shape.
pub fn compile(pattern: &str, member: &str) -> Result<FilterPattern, ApiError> {
    if pattern.chars().count() > MAX_PATTERN_LEN {
        return Err(super::errors::constraint(
            pattern,
            member,
            &format!("Member must have length less than or equal to {MAX_PATTERN_LEN}"),
        ));
    }
    FilterPattern::parse(pattern).map_err(|e| invalid_parameter(e.message))
}

pub(super) async fn filter_log_events(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: FilterLogEventsInput = parse_input(input, false)?;
    let group = group_ref(&i.log_group_name, &i.log_group_identifier)?;
    let names = i.log_stream_names.filter(|n| !n.is_empty());
    if names.is_some() && i.log_stream_name_prefix.is_some() {
        return Err(invalid_parameter(
            "You cannot specify both logStreamNames and logStreamNamePrefix.",
        ));
    }
    if let Some(n) = &names {
        if n.len() > MAX_STREAM_NAMES {
            return Err(super::errors::invalid_parameter(format!(
                "1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to {MAX_STREAM_NAMES}"
            )));
        }
        for s in n {
            stream_name(s, "logStreamNames")?;
        }
    }
    let limit = i.limit.unwrap_or(MAX_LIMIT);
    range(limit, "limit", 1, MAX_LIMIT)?;
    let pattern = compile(i.filter_pattern.as_deref().unwrap_or(""), "filterPattern")?;
    let resume = match i.next_token.as_deref() {
        None => None,
        Some(t) => {
            let parts = parse_list_token(TOKEN_KIND, t)?;
            let [ts, seq] = parts.as_slice() else {
                return Err(invalid_token());
            };
            Some(Key::new(
                ts.parse().map_err(|_| invalid_token())?,
                seq.parse().map_err(|_| invalid_token())?,
            ))
        }
    };
    let (retention, streams) = api.store.with_catalog(|c| {
        let g = c
            .groups
            .get(&group)
            .ok_or_else(super::errors::group_not_found)?;
        let streams: BTreeMap<i64, String> = g
            .streams
            .values()
            .filter(|s| match (&names, &i.log_stream_name_prefix) {
                (Some(n), _) => n.iter().any(|x| x == &s.name),
                (None, Some(p)) => s.name.starts_with(p.as_str()),
                (None, None) => true,
            })
            .map(|s| (s.id, s.name.clone()))
            .collect();
        Ok::<_, ApiError>((g.retention_days, streams))
    })?;
    let mut start = i.start_time.unwrap_or(0).max(0);
    if let Some(days) = retention {
        start = start.max(
            api.clock
                .now_ms()
                .saturating_sub(i64::from(days) * 86_400_000),
        );
    }
    let end_ts = i.end_time.map_or(i64::MAX, |e| e.saturating_add(1)).max(0);
    let from = resume.map_or(Key::new(start, 0), |k| k.max(Key::new(start, 0)));
    let page = api
        .store
        .scan(
            ScanQuery {
                streams: streams.keys().copied().collect(),
                from,
                end_ts,
                max_events: limit as usize,
                max_bytes: MAX_PAGE_BYTES,
                max_scan_bytes: MAX_SCAN_BYTES,
            },
            Arc::new(pattern),
        )
        .await?;
    let done = page.next.is_none();
    let events: Vec<Shape> = page
        .events
        .into_iter()
        .map(|e| {
            Shape::obj()
                .with(
                    "logStreamName",
                    Shape::Str(streams.get(&e.stream_id).cloned().unwrap_or_default()),
                )
                .with("timestamp", Shape::Int(e.timestamp))
                .with("message", Shape::Str(e.message))
                .with("ingestionTime", Shape::Int(e.ingestion_time))
                .with("eventId", Shape::Str(event_id(e.timestamp, e.seq)))
        })
        .collect();
    let searched: Vec<Shape> = streams
        .values()
        .map(|n| {
            Shape::obj()
                .with("logStreamName", Shape::Str(n.clone()))
                .with("searchedCompletely", Shape::Bool(done))
        })
        .collect();
    let mut out = Shape::obj()
        .with("events", Shape::List(events))
        .with("searchedLogStreams", Shape::List(searched));
    if let Some(k) = page.next {
        out = out.with(
            "nextToken",
            Shape::Str(list_token(
                TOKEN_KIND,
                &[&k.ts.to_string(), &k.seq.to_string()],
            )),
        );
    }
    Ok(Some(out))
}
