//! Log streams: CreateLogStream, DeleteLogStream, DescribeLogStreams.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::errors::{constraint, invalid_parameter, invalid_token};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_arns, group_name, group_ref, range, required, stream_name};
use super::LogsApi;
use crate::api::{parse_input, RequestContext};
use crate::store::logs::{LogError, StreamInfo};

/// Most streams per DescribeLogStreams page.
const MAX_DESCRIBE_LIMIT: i64 = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamInput {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
}

pub(super) async fn create_log_stream(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: StreamInput = parse_input(input, false)?;
    let group = required(&i.log_group_name, "logGroupName")?;
    let stream = required(&i.log_stream_name, "logStreamName")?;
    group_name(group, "logGroupName")?;
    stream_name(stream, "logStreamName")?;
    api.store.create_stream(group, stream).await?;
    Ok(None)
}

pub(super) async fn delete_log_stream(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: StreamInput = parse_input(input, false)?;
    let group = required(&i.log_group_name, "logGroupName")?;
    let stream = required(&i.log_stream_name, "logStreamName")?;
    group_name(group, "logGroupName")?;
    stream_name(stream, "logStreamName")?;
    api.store.delete_stream(group, stream).await?;
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeLogStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderBy {
    Name,
    LastEventTime,
}

/// A stream's position in the requested order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Name(String),
    /// Streams without events sort first (as timestamp 0), ties by name.
    Time(i64, String),
}

impl SortKey {
    fn of(order: OrderBy, s: &StreamInfo) -> Self {
        match order {
            OrderBy::Name => SortKey::Name(s.name.clone()),
            OrderBy::LastEventTime => SortKey::Time(s.last_event_ts.unwrap_or(0), s.name.clone()),
        }
    }

    fn token(&self) -> String {
        match self {
            SortKey::Name(n) => list_token("n", &[n]),
            SortKey::Time(t, n) => list_token("t", &[&t.to_string(), n]),
        }
    }

    fn parse(order: OrderBy, token: &str) -> Result<Self, ApiError> {
        match order {
            OrderBy::Name => match parse_list_token("n", token)?.as_slice() {
                [n] => Ok(SortKey::Name(n.clone())),
                _ => Err(invalid_token()),
            },
            OrderBy::LastEventTime => match parse_list_token("t", token)?.as_slice() {
                [t, n] => Ok(SortKey::Time(
                    t.parse().map_err(|_| invalid_token())?,
                    n.clone(),
                )),
                _ => Err(invalid_token()),
            },
        }
    }
}

pub(super) fn describe_log_streams(
    api: &LogsApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeLogStreamsInput = parse_input(input, false)?;
    let group = group_ref(&i.log_group_name, &i.log_group_identifier)?;
    let order = match i.order_by.as_deref() {
        None | Some("LogStreamName") => OrderBy::Name,
        Some("LastEventTime") => OrderBy::LastEventTime,
        Some(o) => {
            return Err(constraint(
                o,
                "orderBy",
                "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
            ))
        }
    };
    if let Some(p) = &i.log_stream_name_prefix {
        stream_name(p, "logStreamNamePrefix")?;
        if order == OrderBy::LastEventTime {
            return Err(invalid_parameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix.",
            ));
        }
    }
    let limit = i.limit.unwrap_or(MAX_DESCRIBE_LIMIT);
    range(limit, "limit", 1, MAX_DESCRIBE_LIMIT)?;
    let descending = i.descending.unwrap_or(false);
    let after = i
        .next_token
        .as_deref()
        .map(|t| SortKey::parse(order, t))
        .transpose()?;
    let prefix = i.log_stream_name_prefix.as_deref().unwrap_or("");
    let (page, next) = api.store.with_catalog(|cat| {
        let g = cat.groups.get(&group).ok_or(LogError::GroupNotFound)?;
        let mut keyed: Vec<(SortKey, &StreamInfo)> = g
            .streams
            .values()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| (SortKey::of(order, s), s))
            .filter(|(k, _)| match &after {
                None => true,
                Some(a) if descending => k < a,
                Some(a) => k > a,
            })
            .collect();
        if order == OrderBy::LastEventTime {
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
        }
        if descending {
            keyed.reverse();
        }
        let more = keyed.len() > limit as usize;
        keyed.truncate(limit as usize);
        let next = if more {
            keyed.last().map(|(k, _)| k.token())
        } else {
            None
        };
        let page: Vec<Shape> = keyed
            .iter()
            .map(|(_, s)| stream_shape(&group, s, ctx))
            .collect();
        Ok::<_, LogError>((page, next))
    })?;
    Ok(Some(
        Shape::obj()
            .with("logStreams", Shape::List(page))
            .with_opt("nextToken", next),
    ))
}

/// The `LogStream` output structure.
fn stream_shape(group: &str, s: &StreamInfo, ctx: &RequestContext) -> Shape {
    let (_, group_arn) = group_arns(&ctx.region, &ctx.account_id, group);
    Shape::obj()
        .with("logStreamName", Shape::Str(s.name.clone()))
        .with("creationTime", Shape::Int(s.creation_time))
        .with_opt("firstEventTimestamp", s.first_event_ts.map(Shape::Int))
        .with_opt("lastEventTimestamp", s.last_event_ts.map(Shape::Int))
        .with_opt("lastIngestionTime", s.last_ingestion_time.map(Shape::Int))
        .with(
            "uploadSequenceToken",
            Shape::Str(super::put_events::sequence_token(s.next_seq)),
        )
        .with(
            "arn",
            Shape::Str(format!("{group_arn}:log-stream:{}", s.name)),
        )
        // AWS reports 0 here (the member is deprecated); stored bytes are on the group.
        .with("storedBytes", Shape::Int(0))
}
