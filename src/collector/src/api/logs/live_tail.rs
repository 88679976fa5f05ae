//! StartLiveTail: log events streamed to the caller as they are ingested.
//!
//! # Ingest side
//! [`LiveTailHub`] is a broadcast channel of ingested batches. PutLogEvents calls
//! [`LiveTailHub::publish`] after its batch committed; with no session open that is one atomic
//! load (the receiver count) and nothing is copied, so ingest costs the same as without Live
//! Tail. With sessions open, the accepted events of the batch are copied once into an `Arc`
//! shared by every session. The channel holds [`HUB_CAPACITY`] batches; a session that falls
//! further behind loses the oldest ones (and marks its next update `sampled`), as AWS drops the
//! oldest events of a slow consumer.
//!
//! # Session
//! The reply is an event stream (`hostwatch_aws::eventstream`): `initial-response` (`{}`, which
//! botocore requires first), `sessionStart`, then a `sessionUpdate` every
//! [`LiveTailLimits::update_every`] (one second) with the events that matched since the previous
//! one, an empty `sessionResults` when none did. More than [`MAX_EVENTS_PER_UPDATE`] matches in
//! one interval are sampled down uniformly (reservoir sampling, arrival order kept) and the
//! update carries `sessionMetadata.sampled = true`. After [`LiveTailLimits::max_session`] (three
//! hours) a `SessionTimeoutException` is sent and the stream ends. A client that disconnects
//! ends its session at once: the session task notices the closed channel and exits, dropping its
//! broadcast receiver. When the collector shuts down ([`LiveTailHub::close_sessions`]), every
//! session sends what matched since its last update in one final `sessionUpdate` and ends its
//! stream, so an open Live Tail never holds the shutdown for its grace period. Frames wait in a queue of [`FRAME_QUEUE`] (AWS buffers up to 10 updates);
//! while it is full the session stops reading the hub and older batches are lost as above.
//!
//! # Input rules
//! `logGroupIdentifiers`: 1–10 log-group ARNs (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, as
//! AWS documents; a trailing `*` is refused, plain names too); the groups must exist.
//! `logStreamNames` / `logStreamNamePrefixes` (1–100 each) are mutually exclusive and allowed only
//! with a single log group. `logEventFilterPattern` goes through [`super::live_filter`].

use hostwatch_aws::eventstream::{self, Message};
use hostwatch_aws::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

use super::errors::{constraint, group_not_found, invalid_parameter, missing};
use super::live_filter::{compile_filter, Filter};
use super::validate::{group_name, stream_name};
use super::LogsApi;
use crate::api::{parse_input, RequestContext};
use crate::store::logs::EventSource;

/// Most log groups per session.
pub const MAX_GROUPS: usize = 10;
/// Most stream names or prefixes.
pub const MAX_STREAM_FILTERS: usize = 100;
/// Most events in one `sessionUpdate`.
pub const MAX_EVENTS_PER_UPDATE: usize = 500;
/// Ingested batches the hub keeps for slow sessions.
pub const HUB_CAPACITY: usize = 4096;
/// Encoded frames waiting for a slow client.
pub const FRAME_QUEUE: usize = 10;

/// Session timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTailLimits {
    pub update_every: Duration,
    pub max_session: Duration,
}

impl Default for LiveTailLimits {
    fn default() -> Self {
        LiveTailLimits {
            update_every: Duration::from_secs(1),
            max_session: Duration::from_secs(3 * 3600),
        }
    }
}

/// The events one PutLogEvents call stored.
#[derive(Debug)]
pub struct IngestedBatch {
    pub group: String,
    pub stream: String,
    pub ingestion_time: i64,
    /// `(timestamp, message)` in the batch's (chronological) order.
    pub events: Vec<(i64, String)>,
}

/// The broadcast point between ingest and Live Tail sessions.
#[derive(Debug)]
pub struct LiveTailHub {
    tx: broadcast::Sender<Arc<IngestedBatch>>,
    limits: LiveTailLimits,
    /// Set once, when the collector shuts down.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for LiveTailHub {
    fn default() -> Self {
        Self::new(LiveTailLimits::default())
    }
}

impl LiveTailHub {
    pub fn new(limits: LiveTailLimits) -> Self {
        let (tx, _) = broadcast::channel(HUB_CAPACITY);
        let (closing, _) = tokio::sync::watch::channel(false);
        LiveTailHub {
            tx,
            limits,
            closing,
        }
    }

    /// End every open session (and any started later) after one last update: called when
    /// the collector shuts down.
    pub fn close_sessions(&self) {
        self.closing.send_replace(true);
    }

    /// Offer a committed batch to the open sessions (free when there are none).
    pub fn publish<E: EventSource>(
        &self,
        group: &str,
        stream: &str,
        events: &[E],
        ingestion_time: i64,
    ) {
        if events.is_empty() || self.tx.receiver_count() == 0 {
            return;
        }
        let batch = IngestedBatch {
            group: group.to_string(),
            stream: stream.to_string(),
            ingestion_time,
            events: events
                .iter()
                .map(|e| (e.timestamp(), e.message().to_string()))
                .collect(),
        };
        // An error only means every session closed in the meantime.
        let _ = self.tx.send(Arc::new(batch));
    }

    /// Sessions currently open.
    pub fn sessions(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartLiveTailInput {
    log_group_identifiers: Option<Vec<String>>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefixes: Option<Vec<String>>,
    log_event_filter_pattern: Option<String>,
}

/// Which streams of the session's groups are tailed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StreamSelector {
    All,
    Names(Vec<String>),
    Prefixes(Vec<String>),
}

impl StreamSelector {
    fn accepts(&self, stream: &str) -> bool {
        match self {
            StreamSelector::All => true,
            StreamSelector::Names(n) => n.iter().any(|s| s == stream),
            StreamSelector::Prefixes(p) => p.iter().any(|s| stream.starts_with(s.as_str())),
        }
    }
}

/// A validated session request.
struct Session {
    /// Group name → the identifier the caller used (echoed in every event).
    groups: HashMap<String, String>,
    identifiers: Vec<String>,
    streams: StreamSelector,
    pattern: Option<String>,
    filter: Filter,
}

/// The group name inside a Live Tail `logGroupIdentifier` (a log-group ARN).
fn arn_group_name(identifier: &str) -> Result<String, ApiError> {
    if identifier.is_empty() || identifier.len() > 2048 {
        return Err(constraint(
            identifier,
            "logGroupIdentifiers",
            "Member must have length between 1 and 2048",
        ));
    }
    if identifier.ends_with('*') {
        return Err(invalid_parameter(format!(
            "Invalid log group identifier {identifier}: a log group ARN must not end with '*'."
        )));
    }
    let name = identifier
        .strip_prefix("arn:")
        .and_then(|_| identifier.split_once(":log-group:"))
        .map(|(_, name)| name)
        .ok_or_else(|| {
            invalid_parameter(format!(
                "Invalid log group identifier {identifier}: specify each log group by its ARN (arn:aws:logs:REGION:ACCOUNT_ID:log-group:LOG_GROUP_NAME)."
            ))
        })?;
    group_name(name, "logGroupIdentifiers")?;
    Ok(name.to_string())
}

fn stream_filters(
    values: Option<Vec<String>>,
    member: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(v) = values else {
        return Ok(None);
    };
    if v.is_empty() || v.len() > MAX_STREAM_FILTERS {
        return Err(constraint(
            "",
            member,
            &format!("Member must have length between 1 and {MAX_STREAM_FILTERS}"),
        ));
    }
    for s in &v {
        stream_name(s, member)?;
    }
    Ok(Some(v))
}

fn validate(api: &LogsApi, input: serde_json::Value) -> Result<Session, ApiError> {
    let i: StartLiveTailInput = parse_input(input, false)?;
    let ids = i
        .log_group_identifiers
        .ok_or_else(|| missing("logGroupIdentifiers"))?;
    if ids.is_empty() {
        return Err(constraint(
            "[]",
            "logGroupIdentifiers",
            "Member must have length greater than or equal to 1",
        ));
    }
    if ids.len() > MAX_GROUPS {
        return Err(constraint(
            &format!("[{}]", ids.join(", ")),
            "logGroupIdentifiers",
            &format!("Member must have length less than or equal to {MAX_GROUPS}"),
        ));
    }
    let mut groups = HashMap::new();
    for id in &ids {
        let name = arn_group_name(id)?;
        if api.store.group(&name).is_none() {
            return Err(group_not_found());
        }
        groups.entry(name).or_insert_with(|| id.clone());
    }
    let names = stream_filters(i.log_stream_names, "logStreamNames")?;
    let prefixes = stream_filters(i.log_stream_name_prefixes, "logStreamNamePrefixes")?;
    let streams = match (names, prefixes) {
        (Some(_), Some(_)) => {
            return Err(invalid_parameter(
                "logStreamNames and logStreamNamePrefixes are mutually exclusive parameters.",
            ))
        }
        (None, None) => StreamSelector::All,
        (Some(n), None) => StreamSelector::Names(n),
        (None, Some(p)) => StreamSelector::Prefixes(p),
    };
    if streams != StreamSelector::All && ids.len() > 1 {
        return Err(invalid_parameter(
            "logStreamNames and logStreamNamePrefixes can only be specified with a single log group identifier.",
        ));
    }
    let filter = compile_filter(i.log_event_filter_pattern.as_deref().unwrap_or(""))?;
    Ok(Session {
        groups,
        identifiers: ids,
        streams,
        pattern: i.log_event_filter_pattern,
        filter,
    })
}

impl LogsApi {
    /// Validate a StartLiveTail request (its raw awsJson body) and start its session. The
    /// returned stream yields the encoded event-stream frames; dropping it ends the session.
    pub fn start_live_tail(
        &self,
        body: &[u8],
        ctx: &RequestContext,
    ) -> Result<FrameStream, ApiError> {
        let input = crate::api::parse_json_body(body, false)?;
        start_live_tail(self, input, ctx)
    }

    /// Replace the session timing (tests use short intervals).
    pub fn with_live_tail_limits(mut self, limits: LiveTailLimits) -> Self {
        self.live = LiveTailHub::new(limits);
        self
    }

    /// The Live Tail hub (ingest publishes into it).
    pub fn live_tail(&self) -> &LiveTailHub {
        &self.live
    }
}

fn start_live_tail(
    api: &LogsApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<FrameStream, ApiError> {
    let session = validate(api, input)?;
    let rx = api.live.tx.subscribe();
    let (out, frames) = mpsc::channel(FRAME_QUEUE);
    let start = json!({
        "requestId": ctx.request_id,
        "sessionId": crate::alarms::events::uuid_v4(),
        "logGroupIdentifiers": session.identifiers,
    });
    let closing = api.live.closing.subscribe();
    tokio::spawn(run_session(
        session,
        start,
        rx,
        out,
        api.live.limits,
        closing,
    ));
    Ok(FrameStream { rx: frames })
}

/// One event as a `LiveTailSessionLogEvent`.
fn session_event(identifier: &str, batch: &IngestedBatch, ts: i64, message: &str) -> Value {
    json!({
        "logStreamName": batch.stream,
        "logGroupIdentifier": identifier,
        "message": message,
        "timestamp": ts,
        "ingestionTime": batch.ingestion_time,
    })
}

/// The events gathered for the next update, sampled down to [`MAX_EVENTS_PER_UPDATE`].
#[derive(Debug, Default)]
struct Pending {
    /// (arrival number, event).
    kept: Vec<(u64, Value)>,
    seen: u64,
    sampled: bool,
}

impl Pending {
    fn offer(&mut self, make: impl FnOnce() -> Value) {
        let n = self.seen;
        self.seen += 1;
        if self.kept.len() < MAX_EVENTS_PER_UPDATE {
            self.kept.push((n, make()));
            return;
        }
        self.sampled = true;
        let j = rand::random_range(0..=n);
        if let Some(slot) = self.kept.get_mut(j as usize) {
            *slot = (n, make());
        }
    }

    fn take_update(&mut self) -> Value {
        let mut kept = std::mem::take(&mut self.kept);
        kept.sort_unstable_by_key(|(n, _)| *n);
        let sampled = std::mem::take(&mut self.sampled);
        self.seen = 0;
        json!({
            "sessionMetadata": { "sampled": sampled },
            "sessionResults": kept.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        })
    }
}

impl Session {
    fn take(&self, batch: &IngestedBatch, pending: &mut Pending) {
        let Some(identifier) = self.groups.get(&batch.group) else {
            return;
        };
        if !self.streams.accepts(&batch.stream) {
            return;
        }
        for (ts, message) in &batch.events {
            if (self.filter)(message) {
                pending.offer(|| session_event(identifier, batch, *ts, message));
            }
        }
    }
}

fn frame(msg: &Message) -> Option<Vec<u8>> {
    match eventstream::encode(msg) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(error = %e, "Live Tail frame could not be encoded.");
            None
        }
    }
}

fn event_frame(event_type: &str, payload: &Value) -> Option<Vec<u8>> {
    frame(&Message::event(
        event_type,
        payload.to_string().into_bytes(),
    ))
}

async fn run_session(
    session: Session,
    mut start: Value,
    mut rx: broadcast::Receiver<Arc<IngestedBatch>>,
    out: mpsc::Sender<Vec<u8>>,
    limits: LiveTailLimits,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let deadline = tokio::time::Instant::now() + limits.max_session;
    match &session.streams {
        StreamSelector::All => {}
        StreamSelector::Names(n) => start["logStreamNames"] = json!(n),
        StreamSelector::Prefixes(p) => start["logStreamNamePrefixes"] = json!(p),
    }
    if let Some(p) = &session.pattern {
        start["logEventFilterPattern"] = json!(p);
    }
    let opening = [
        event_frame("initial-response", &json!({})),
        event_frame("sessionStart", &start),
    ];
    for f in opening.into_iter().flatten() {
        if out.send(f).await.is_err() {
            return;
        }
    }
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + limits.update_every,
        limits.update_every,
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = Pending::default();
    loop {
        if *closing.borrow_and_update() {
            // Shutting down: what the hub already holds, then one last update.
            loop {
                match rx.try_recv() {
                    Ok(batch) => session.take(&batch, &mut pending),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => pending.sampled = true,
                    Err(_) => break,
                }
            }
            if !pending.kept.is_empty() || pending.sampled {
                if let Some(f) = event_frame("sessionUpdate", &pending.take_update()) {
                    let _ = out.try_send(f);
                }
            }
            return;
        }
        tokio::select! {
            changed = closing.changed() => if changed.is_err() { return },
            received = rx.recv() => match received {
                Ok(batch) => session.take(&batch, &mut pending),
                Err(broadcast::error::RecvError::Lagged(_)) => pending.sampled = true,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                let Some(f) = event_frame("sessionUpdate", &pending.take_update()) else {
                    continue;
                };
                // A full queue holds this session here; the hub keeps ingest going meanwhile.
                tokio::select! {
                    sent = out.send(f) => if sent.is_err() { return },
                    _ = tokio::time::sleep_until(deadline) => {}
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let msg = Message::exception(
                    "SessionTimeoutException",
                    &format!(
                        "Session timed out after {} minutes.",
                        limits.max_session.as_secs() / 60
                    ),
                );
                if let Some(f) = frame(&msg) {
                    let _ = out.try_send(f);
                }
                return;
            }
            _ = out.closed() => return,
        }
    }
}

/// The encoded frames of one session, as an HTTP body stream.
#[derive(Debug)]
pub struct FrameStream {
    rx: mpsc::Receiver<Vec<u8>>,
}

impl futures_core::Stream for FrameStream {
    type Item = Result<Vec<u8>, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|f| f.map(Ok))
    }
}

/// The HTTP reply of a started session: 200, `application/vnd.amazon.eventstream`, the frames
/// streamed as the session produces them (each is written out as soon as it is queued).
pub fn response(frames: FrameStream, request_id: &str) -> axum::response::Response {
    let mut resp = axum::response::Response::new(axum::body::Body::from_stream(frames));
    let headers = resp.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(eventstream::CONTENT_TYPE),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    resp
}

impl FrameStream {
    /// The next frame (tests and in-process callers).
    pub async fn next_frame(&mut self) -> Option<Vec<u8>> {
        self.rx.recv().await
    }
}

#[cfg(test)]
#[path = "live_tail_tests.rs"]
mod tests;
