//! Per-stream event timestamps with fallbacks, and CloudWatch's age limits.

use std::ops::Range;

use chrono::{DateTime, Utc};

use super::{TimestampFormat, Zone};

/// CloudWatch Logs rejects events older than this (14 days), in ms.
pub const MAX_AGE_MS: i64 = 14 * 24 * 3600 * 1000;
/// CloudWatch Logs rejects events further ahead than this (2 hours), in ms.
pub const MAX_FUTURE_MS: i64 = 2 * 3600 * 1000;

/// Where an event's timestamp came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StampSource {
    /// Parsed from the event's message.
    Parsed,
    /// No timestamp in the message: the last one parsed on this stream.
    LastSeen,
    /// No timestamp in the message and none seen yet (or no format): now.
    Now,
}

/// An event's timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the Unix epoch.
    pub millis: i64,
    /// Where it came from.
    pub source: StampSource,
    /// Where the parsed timestamp is in the message (for `trim_timestamp`,
    /// see [`super::trim`]); `None` unless `source` is `Parsed`.
    pub span: Option<Range<usize>>,
}

/// Timestamps the events of one stream (one file). Events without a
/// timestamp get the stream's last parsed one, else the current time, as in
/// the CloudWatch agent; [`Stamp::source`] says which, so the caller can
/// warn when a stale timestamp keeps being reused.
#[derive(Debug, Clone)]
pub struct Stamper {
    format: Option<TimestampFormat>,
    zone: Zone,
    last: Option<i64>,
}

impl Stamper {
    /// A stamper for a stream with an optional `timestamp_format`.
    pub fn new(format: Option<TimestampFormat>, zone: Zone) -> Self {
        Self {
            format,
            zone,
            last: None,
        }
    }

    /// The timestamp of an event with `message`, at `now`.
    pub fn stamp(&mut self, message: &str, now: DateTime<Utc>) -> Stamp {
        let found = self
            .format
            .as_ref()
            .and_then(|f| f.parse(message, self.zone, now));
        if let Some(found) = found {
            self.last = Some(found.millis);
            return Stamp {
                millis: found.millis,
                source: StampSource::Parsed,
                span: Some(found.span),
            };
        }
        match self.last {
            Some(millis) => Stamp {
                millis,
                source: StampSource::LastSeen,
                span: None,
            },
            None => Stamp {
                millis: now.timestamp_millis(),
                source: StampSource::Now,
                span: None,
            },
        }
    }

    /// The last timestamp parsed on this stream.
    pub fn last_parsed(&self) -> Option<i64> {
        self.last
    }
}

/// Whether CloudWatch Logs would accept an event's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// Within the accepted window.
    Ok,
    /// More than 14 days before now.
    TooOld,
    /// More than 2 hours after now.
    TooNew,
}

/// Check `millis` against CloudWatch Logs' window around `now_ms`: at most
/// [`MAX_AGE_MS`] old and [`MAX_FUTURE_MS`] ahead (both bounds inclusive).
pub fn age_check(millis: i64, now_ms: i64) -> Age {
    if millis < now_ms.saturating_sub(MAX_AGE_MS) {
        Age::TooOld
    } else if millis > now_ms.saturating_add(MAX_FUTURE_MS) {
        Age::TooNew
    } else {
        Age::Ok
    }
}
