//! Time zones for timestamps without an offset in the text.

use chrono::{
    DateTime, FixedOffset, Local, MappedLocalTime, NaiveDate, NaiveDateTime, TimeDelta, TimeZone,
    Utc,
};

/// The zone a timestamp is read in when the text carries no offset.
///
/// `Local` follows the machine's time zone (`chrono::Local`), including its
/// daylight-saving transitions, which are resolved deterministically:
///
/// * a wall time that occurs twice (clocks go back) is the **earlier**
///   instant;
/// * a wall time that never occurs (clocks go forward) is read with the
///   offset in effect before the transition, which lands after the gap by
///   as much as it lay inside it (02:30 in a skipped 02:00..03:00 hour is
///   03:30 of the new offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// UTC.
    Utc,
    /// The machine's local time zone.
    Local,
    /// A fixed offset from UTC.
    Fixed(FixedOffset),
}

impl Zone {
    /// The zone for a `collect_list` entry's `timezone` setting: exactly
    /// `UTC` means UTC, anything else (or nothing) local time, as in the
    /// CloudWatch agent.
    pub fn from_setting(timezone: Option<&str>) -> Self {
        match timezone {
            Some("UTC") => Self::Utc,
            _ => Self::Local,
        }
    }

    /// The instant of a wall time in this zone.
    pub(super) fn resolve(self, naive: &NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Self::Utc => Some(naive.and_utc()),
            Self::Fixed(offset) => at_offset(naive, offset),
            Self::Local => resolve_with(|n| Local.offset_from_local_datetime(n), naive),
        }
    }

    /// The calendar date at `now` in this zone.
    pub(super) fn local_date(self, now: DateTime<Utc>) -> Option<NaiveDate> {
        match self {
            Self::Utc => Some(now.date_naive()),
            Self::Fixed(offset) => Some(now.with_timezone(&offset).date_naive()),
            Self::Local => Some(now.with_timezone(&Local).date_naive()),
        }
    }
}

fn at_offset(naive: &NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    naive.checked_sub_offset(offset).map(|utc| utc.and_utc())
}

/// Resolve a wall time given the zone's offsets for wall times (see
/// [`Zone`] for the rules). Generic so the rules can be tested with a
/// made-up zone.
pub(super) fn resolve_with(
    offsets: impl Fn(&NaiveDateTime) -> MappedLocalTime<FixedOffset>,
    naive: &NaiveDateTime,
) -> Option<DateTime<Utc>> {
    match offsets(naive) {
        MappedLocalTime::Single(offset) => at_offset(naive, offset),
        MappedLocalTime::Ambiguous(a, b) => {
            let (a, b) = (at_offset(naive, a)?, at_offset(naive, b)?);
            Some(a.min(b))
        }
        MappedLocalTime::None => {
            // Skipped: find the closest valid wall time before the gap (in
            // half-hour steps, up to two days for the rare skipped day).
            for step in 1..=96 {
                let probe = naive.checked_sub_signed(TimeDelta::minutes(30 * step))?;
                if let Some(offset) = offsets(&probe).earliest() {
                    return at_offset(naive, offset);
                }
            }
            None
        }
    }
}

/// Offsets of the `%Z` names this crate knows; others are ignored.
const ABBREVIATIONS: &[(&str, i32)] = &[
    ("UTC", 0),
    ("UT", 0),
    ("GMT", 0),
    ("Z", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
    ("AKST", -9),
    ("AKDT", -8),
    ("HST", -10),
    ("WET", 0),
    ("WEST", 1),
    ("CET", 1),
    ("CEST", 2),
    ("EET", 2),
    ("EEST", 3),
];

/// The offset of a zone abbreviation (any case), if known.
pub(super) fn abbreviation(name: &str) -> Option<FixedOffset> {
    let hours = ABBREVIATIONS
        .iter()
        .find(|(abbr, _)| abbr.eq_ignore_ascii_case(name))?
        .1;
    FixedOffset::east_opt(hours * 3600)
}

/// `Z`, `+hhmm`, `+hh:mm` (or `-`).
pub(super) fn parse_offset(text: &str) -> Option<FixedOffset> {
    if text.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text.chars().skip(1).filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..)?.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}
