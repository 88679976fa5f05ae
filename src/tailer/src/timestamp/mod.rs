//! Timestamps from log messages: the `timestamp_format` setting.
//!
//! # Design
//!
//! [`TimestampFormat::compile`] turns a strftime-style format into one
//! regex with a capture group per field; [`TimestampFormat::parse`] takes
//! the regex's *first* match in a message and builds an instant from it in
//! milliseconds. The same regex serves as the `{timestamp_format}`
//! multi-line start rule ([`TimestampFormat::regex`]). Time is always
//! passed in by the caller.
//!
//! Directives (those of the CloudWatch agent, without its bugs):
//!
//! | directive | matches | notes |
//! |---|---|---|
//! | `%Y` | 4 digits | year |
//! | `%y` | 2 digits | 69..99 → 19xx, 00..68 → 20xx |
//! | `%b` | `Jan` .. `Dec` | any case |
//! | `%B` | `January` .. `December` | any case, every month (the agent matched only 7-letter names) |
//! | `%m`, `%-m` | 1 or 2 digits, optionally after one space or tab | month |
//! | `%d`, `%-d` | 1 or 2 digits, optionally after one space or tab | day (`Jan  5`) |
//! | `%A`, `%a` | `Monday` .. `Sunday`, `Mon` .. `Sun` | any case; not checked against the date |
//! | `%H` | 2 digits | hour 00..23 |
//! | `%I`, `%-I` | 2 digits, 1 or 2 digits | hour 1..12, with `%p` |
//! | `%M`, `%-M` | 2 digits, 1 or 2 digits | minute |
//! | `%S`, `%-S` | 2 digits, 1 or 2 digits | second (a leap second 60 does not parse) |
//! | `%p` | `AM` / `PM` | any case; 12 AM is 00, 12 PM is 12 |
//! | `%Z` | 1 to 5 letters | UTC, UT, GMT, Z, the US zones (EST EDT CST CDT MST MDT PST PDT AKST AKDT HST) and WET WEST CET CEST EET EEST map to offsets; other names use the configured zone |
//! | `%z` | `+0700`, `+07:00`, `Z` | |
//! | `%f` | 1 to 9 digits | fraction of a second, truncated to milliseconds; a `.` or `,` just before `%f` in the format matches either |
//! | `%%` | `%` | |
//!
//! Everything else in the format matches itself (regex metacharacters are
//! escaped), including unknown directives such as `%Q`, as in the agent.
//! The optional blank before `%m`/`%d` is left out when the format starts
//! with them, so a match never begins with whitespace.
//!
//! Building the instant:
//!
//! * A value out of range (month 13, 31 April, hour 24, ...) means no
//!   timestamp: only the first match is tried, as in the agent.
//! * The zone is the one in the text (`%z`, or a known `%Z`), else the
//!   caller's [`Zone`].
//! * A format with any date field but no year takes `now`'s year in that
//!   zone, or the year before if the result would be more than 30 days
//!   after `now` (December lines read in January). A missing month or day
//!   is 1.
//! * A format with only time fields takes `now`'s date in that zone, or the
//!   day before if the result would be more than 12 hours after `now`.
//! * Missing time fields are 0.
//! * [`Zone::Local`] wall times are resolved deterministically: the
//!   earlier instant in a repeated hour, the offset from before the
//!   transition in a skipped hour (see [`Zone`]).

use std::ops::Range;

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
};
use regex::{Captures, Regex};
use thiserror::Error;

mod stamper;
mod zone;

pub use stamper::{age_check, Age, Stamp, StampSource, Stamper, MAX_AGE_MS, MAX_FUTURE_MS};
pub use zone::Zone;

/// Errors compiling a timestamp format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimestampError {
    /// The format has no date or time directive, so it cannot yield a time.
    #[error("timestamp format {0:?} has no date or time directive")]
    NoDateOrTime(String),
    /// The generated regex was rejected (e.g. too large).
    #[error("timestamp format {format:?} does not compile: {message}")]
    Regex {
        /// The format.
        format: String,
        /// The regex engine's message.
        message: String,
    },
}

/// What a capture group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Year,
    Year2,
    MonthNumber,
    MonthName,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    AmPm,
    ZoneName,
    ZoneOffset,
    Fraction,
}

impl Field {
    fn is_date(self) -> bool {
        matches!(
            self,
            Self::Year | Self::Year2 | Self::MonthNumber | Self::MonthName | Self::Day
        )
    }

    fn is_time(self) -> bool {
        matches!(
            self,
            Self::Hour24 | Self::Hour12 | Self::Minute | Self::Second | Self::Fraction
        )
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// A compiled `timestamp_format`. See the module documentation.
#[derive(Debug, Clone)]
pub struct TimestampFormat {
    format: String,
    regex: Regex,
    /// The field of capture group `i + 1`.
    fields: Vec<Field>,
    has_date: bool,
}

/// A timestamp found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Milliseconds since the Unix epoch.
    pub millis: i64,
    /// Where the timestamp is in the message (bytes).
    pub span: Range<usize>,
}

/// Regex and field of one directive, or `None` for an unknown one.
fn directive(d: &str, at_start: bool) -> Option<(String, Option<Field>)> {
    let blank = if at_start { "" } else { "[ \\t]?" };
    let group = |re: &str, f: Field| Some((format!("({re})"), Some(f)));
    match d {
        "Y" => group("[0-9]{4}", Field::Year),
        "y" => group("[0-9]{2}", Field::Year2),
        "b" => group(
            "(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
            Field::MonthName,
        ),
        "B" => group(&format!("(?i:{})", MONTHS.join("|")), Field::MonthName),
        "m" | "-m" => Some((format!("{blank}([0-9]{{1,2}})"), Some(Field::MonthNumber))),
        "d" | "-d" => Some((format!("{blank}([0-9]{{1,2}})"), Some(Field::Day))),
        "A" => Some((
            "(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)".into(),
            None,
        )),
        "a" => Some(("(?i:mon|tue|wed|thu|fri|sat|sun)".into(), None)),
        "H" => group("[0-9]{2}", Field::Hour24),
        "I" => group("[0-9]{2}", Field::Hour12),
        "-I" => group("[0-9]{1,2}", Field::Hour12),
        "M" => group("[0-9]{2}", Field::Minute),
        "-M" => group("[0-9]{1,2}", Field::Minute),
        "S" => group("[0-9]{2}", Field::Second),
        "-S" => group("[0-9]{1,2}", Field::Second),
        "p" => group("(?i:am|pm)", Field::AmPm),
        "Z" => group("[A-Za-z]{1,5}", Field::ZoneName),
        "z" => group("Z|[+-][0-9]{2}:?[0-9]{2}", Field::ZoneOffset),
        "f" => group("[0-9]{1,9}", Field::Fraction),
        _ => None,
    }
}

impl TimestampFormat {
    /// Compile a `timestamp_format`.
    pub fn compile(fmt: &str) -> Result<Self, TimestampError> {
        let mut pattern = String::new();
        let mut fields = Vec::new();
        let mut rest = fmt;
        while let Some(c) = rest.chars().next() {
            let after = &rest[c.len_utf8()..];
            if c != '%' {
                if (c == '.' || c == ',') && after.starts_with("%f") {
                    pattern.push_str("[.,]");
                } else {
                    pattern.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
                }
                rest = after;
                continue;
            }
            if let Some(tail) = after.strip_prefix('%') {
                pattern.push('%');
                rest = tail;
                continue;
            }
            let name_len = match after.strip_prefix('-') {
                Some(t) => 1 + t.chars().next().map_or(0, char::len_utf8),
                None => after.chars().next().map_or(0, char::len_utf8),
            };
            let name = &after[..name_len];
            match directive(name, pattern.is_empty()) {
                Some((re, field)) => {
                    pattern.push_str(&re);
                    fields.extend(field);
                    rest = &after[name_len..];
                }
                None => {
                    // Unknown directive: the `%` matches itself.
                    pattern.push('%');
                    rest = after;
                }
            }
        }
        if !fields.iter().any(|f| f.is_date() || f.is_time()) {
            return Err(TimestampError::NoDateOrTime(fmt.to_string()));
        }
        let regex = Regex::new(&pattern).map_err(|e| TimestampError::Regex {
            format: fmt.to_string(),
            message: e.to_string(),
        })?;
        Ok(Self {
            format: fmt.to_string(),
            has_date: fields.iter().any(|f| f.is_date()),
            regex,
            fields,
        })
    }

    /// The format as given.
    pub fn format(&self) -> &str {
        &self.format
    }

    /// The compiled regex (unanchored); also the `{timestamp_format}`
    /// multi-line start rule.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The first timestamp in `message`, read in `zone` unless the text
    /// names its own; `now` completes year-less and date-less formats.
    pub fn parse(&self, message: &str, zone: Zone, now: DateTime<Utc>) -> Option<Found> {
        let caps = self.regex.captures(message)?;
        let span = caps.get(0)?.range();
        let parts = self.parts(&caps)?;
        let zone = parts.offset.map_or(zone, Zone::Fixed);
        let time =
            NaiveTime::from_hms_milli_opt(parts.hour, parts.minute, parts.second, parts.millis)?;
        let instant = if self.has_date {
            self.dated(&parts, time, zone, now)?
        } else {
            time_only(time, zone, now)?
        };
        Some(Found {
            millis: instant.timestamp_millis(),
            span,
        })
    }

    fn parts(&self, caps: &Captures<'_>) -> Option<Parts> {
        let mut p = Parts::default();
        let mut hour12 = None;
        let mut pm = None;
        for (i, field) in self.fields.iter().enumerate() {
            let Some(m) = caps.get(i + 1) else { continue };
            let text = m.as_str().trim_start_matches([' ', '\t']);
            let number = || text.parse::<u32>().ok();
            match field {
                Field::Year => p.year = Some(i32::try_from(number()?).ok()?),
                Field::Year2 => {
                    let yy = i32::try_from(number()?).ok()?;
                    p.year = Some(if yy >= 69 { 1900 + yy } else { 2000 + yy });
                }
                Field::MonthNumber => p.month = Some(number()?),
                Field::MonthName => {
                    let lower = text.to_ascii_lowercase();
                    let index = MONTHS.iter().position(|m| m.starts_with(&lower))?;
                    p.month = Some(u32::try_from(index).ok()? + 1);
                }
                Field::Day => p.day = Some(number()?),
                Field::Hour24 => p.hour = number()?,
                Field::Hour12 => {
                    let h = number()?;
                    p.hour = h;
                    hour12 = Some(h);
                }
                Field::Minute => p.minute = number()?,
                Field::Second => p.second = number()?,
                Field::AmPm => pm = Some(text.eq_ignore_ascii_case("pm")),
                Field::ZoneName => {
                    if let Some(off) = zone::abbreviation(text) {
                        p.offset = Some(off);
                    }
                }
                Field::ZoneOffset => p.offset = Some(zone::parse_offset(text)?),
                Field::Fraction => {
                    // Truncate to milliseconds: "5" is 500, "123456" is 123.
                    let digits: String = text.chars().chain("00".chars()).take(3).collect();
                    p.millis = digits.parse().ok()?;
                }
            }
        }
        if let Some(pm) = pm {
            let h = hour12.unwrap_or(p.hour);
            if (1..=12).contains(&h) {
                p.hour = h % 12 + if pm { 12 } else { 0 };
            }
        }
        Some(p)
    }

    fn dated(
        &self,
        p: &Parts,
        time: NaiveTime,
        zone: Zone,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let month = p.month.unwrap_or(1);
        let day = p.day.unwrap_or(1);
        let at = |year| {
            let date = NaiveDate::from_ymd_opt(year, month, day)?;
            zone.resolve(&NaiveDateTime::new(date, time))
        };
        if let Some(year) = p.year {
            return at(year);
        }
        let this_year = zone.local_date(now)?.year();
        let limit = now.checked_add_signed(TimeDelta::days(30))?;
        match at(this_year) {
            Some(t) if t <= limit => Some(t),
            _ => at(this_year - 1),
        }
    }
}

/// A time of day without a date: today in `zone`, or yesterday if today
/// would be more than 12 hours ahead of `now`.
fn time_only(time: NaiveTime, zone: Zone, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let today = zone.local_date(now)?;
    let t = zone.resolve(&NaiveDateTime::new(today, time))?;
    if t > now.checked_add_signed(TimeDelta::hours(12))? {
        return zone.resolve(&NaiveDateTime::new(today.pred_opt()?, time));
    }
    Some(t)
}

/// Field values read from one match.
#[derive(Debug, Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    hour: u32,
    minute: u32,
    second: u32,
    millis: u32,
    offset: Option<FixedOffset>,
}

/// `message` without the timestamp at `span` and the spaces and tabs right
/// after it (`trim_timestamp`). Line breaks are kept. An invalid span
/// returns the message unchanged.
pub fn trim(message: &str, span: Range<usize>) -> String {
    if span.start > span.end {
        return message.to_string();
    }
    match (message.get(..span.start), message.get(span.end..)) {
        (Some(before), Some(after)) => {
            let after = after.trim_start_matches([' ', '\t']);
            let mut out = String::with_capacity(before.len() + after.len());
            out.push_str(before);
            out.push_str(after);
            out
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests;
