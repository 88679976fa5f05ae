//! Table tests for timestamp formats, zones, stamping and age checks.

use chrono::{Local, MappedLocalTime, NaiveDate, TimeZone};

use super::zone::resolve_with;
use super::*;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn ms(rfc3339: &str) -> i64 {
    at(rfc3339).timestamp_millis()
}

fn east(hours: i32, minutes: i32) -> Zone {
    Zone::Fixed(FixedOffset::east_opt(hours * 3600 + minutes * 60).unwrap())
}

/// (format, message, zone, now, expected instant and matched text)
type ParseRow<'a> = (&'a str, &'a str, Zone, &'a str, Option<(&'a str, &'a str)>);

const NOW: &str = "2024-03-15T10:00:00Z";

#[test]
fn parse_table() {
    let utc = Zone::Utc;
    let plus2 = east(2, 0);
    // (format, message, zone, now, expected instant and matched text)
    #[rustfmt::skip]
    let cases: &[ParseRow<'_>] = &[
        // %Y %m %d %H %M %S, in the given zone.
        ("%Y-%m-%d %H:%M:%S", "2024-03-14 09:08:07 hello", utc, NOW, Some(("2024-03-14T09:08:07Z", "2024-03-14 09:08:07"))),
        ("%Y-%m-%d %H:%M:%S", "2024-03-14 09:08:07 hello", plus2, NOW, Some(("2024-03-14T07:08:07Z", "2024-03-14 09:08:07"))),
        ("%Y-%m-%d %H:%M:%S", "INFO 2024-03-14 09:08:07 in the middle", utc, NOW, Some(("2024-03-14T09:08:07Z", "2024-03-14 09:08:07"))),
        // %y: 69..99 are 19xx, 00..68 are 20xx.
        ("%y-%m-%d %H:%M:%S", "24-03-14 09:08:07", utc, NOW, Some(("2024-03-14T09:08:07Z", "24-03-14 09:08:07"))),
        ("%y-%m-%d %H:%M:%S", "99-12-31 23:59:59", utc, NOW, Some(("1999-12-31T23:59:59Z", "99-12-31 23:59:59"))),
        ("%y-%m-%d %H:%M:%S", "68-01-01 00:00:00", utc, NOW, Some(("2068-01-01T00:00:00Z", "68-01-01 00:00:00"))),
        // %z with and without colon, and Z; the text's offset beats the zone.
        ("%d/%b/%Y:%H:%M:%S %z", "1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] \"GET /\"", utc, NOW, Some(("2023-10-10T20:55:36Z", "10/Oct/2023:13:55:36 -0700"))),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-02T03:04:05+05:30 x", plus2, NOW, Some(("2024-01-01T21:34:05Z", "2024-01-02T03:04:05+05:30"))),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-02T03:04:05+0530 x", plus2, NOW, Some(("2024-01-01T21:34:05Z", "2024-01-02T03:04:05+0530"))),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-02T03:04:05Z x", plus2, NOW, Some(("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"))),
        ("%Y-%m-%dT%H:%M:%S%z", "2024-01-02T03:04:05+24:00", utc, NOW, None),
        // %f after `.` or `,`, 1..9 digits, truncated to milliseconds.
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-02 03:04:05.5 x", utc, NOW, Some(("2024-01-02T03:04:05.500Z", "2024-01-02 03:04:05.5"))),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-02 03:04:05.12 x", utc, NOW, Some(("2024-01-02T03:04:05.120Z", "2024-01-02 03:04:05.12"))),
        ("%Y-%m-%d %H:%M:%S,%f", "2024-01-02 03:04:05,123 x", utc, NOW, Some(("2024-01-02T03:04:05.123Z", "2024-01-02 03:04:05,123"))),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-02 03:04:05,25 x", utc, NOW, Some(("2024-01-02T03:04:05.250Z", "2024-01-02 03:04:05,25"))),
        ("%Y-%m-%d %H:%M:%S,%f", "2024-01-02 03:04:05.123456 x", utc, NOW, Some(("2024-01-02T03:04:05.123Z", "2024-01-02 03:04:05.123456"))),
        ("%Y-%m-%d %H:%M:%S.%f", "2024-01-02 03:04:05.999999999 x", utc, NOW, Some(("2024-01-02T03:04:05.999Z", "2024-01-02 03:04:05.999999999"))),
        ("%Y-%m-%d %H:%M:%S.%f%z", "2024-01-02 03:04:05.1234567+01:00", utc, NOW, Some(("2024-01-02T02:04:05.123Z", "2024-01-02 03:04:05.1234567+01:00"))),
        // %A %a %B %b, any case.
        ("%A, %d %B %Y %H:%M", "Friday, 15 March 2024 09:30 up", utc, NOW, Some(("2024-03-15T09:30:00Z", "Friday, 15 March 2024 09:30"))),
        ("%a %b %d %H:%M:%S %Y", "Fri Mar 15 09:30:00 2024", utc, NOW, Some(("2024-03-15T09:30:00Z", "Fri Mar 15 09:30:00 2024"))),
        ("%a %b %d %H:%M:%S %Y", "FRI MAR 15 09:30:00 2024", utc, NOW, Some(("2024-03-15T09:30:00Z", "FRI MAR 15 09:30:00 2024"))),
        ("%B %d, %Y", "september 9, 2023", utc, NOW, Some(("2023-09-09T00:00:00Z", "september 9, 2023"))),
        // Non-padded %-m %-d %-I %-M %-S; %I with %p: 12 AM is 00, 12 PM is 12.
        ("%-m/%-d/%Y %-I:%M:%S %p", "3/5/2024 9:07:08 PM", utc, NOW, Some(("2024-03-05T21:07:08Z", "3/5/2024 9:07:08 PM"))),
        ("%m/%d/%Y %I:%M:%S %p", "03/05/2024 09:07:08 am", utc, NOW, Some(("2024-03-05T09:07:08Z", "03/05/2024 09:07:08 am"))),
        ("%Y-%m-%d %I:%M:%S %p", "2024-03-05 12:00:00 AM", utc, NOW, Some(("2024-03-05T00:00:00Z", "2024-03-05 12:00:00 AM"))),
        ("%Y-%m-%d %I:%M:%S %p", "2024-03-05 12:30:00 PM", utc, NOW, Some(("2024-03-05T12:30:00Z", "2024-03-05 12:30:00 PM"))),
        ("%Y-%m-%d %-I:%-M:%-S %p", "2024-03-05 1:2:3 pm", utc, NOW, Some(("2024-03-05T13:02:03Z", "2024-03-05 1:2:3 pm"))),
        ("%Y-%m-%d %H:%-M:%-S", "2024-03-05 10:5:7", utc, NOW, Some(("2024-03-05T10:05:07Z", "2024-03-05 10:5:7"))),
        // %m and %d accept one blank before a single digit; a format that
        // starts with them never matches leading whitespace.
        ("%b %d %H:%M:%S", "Mar  5 10:00:00 host sshd[1]: x", utc, NOW, Some(("2024-03-05T10:00:00Z", "Mar  5 10:00:00"))),
        ("%d/%m/%Y", " 5/ 3/2024", utc, NOW, Some(("2024-03-05T00:00:00Z", "5/ 3/2024"))),
        // %Z: known names map to offsets, unknown ones use the zone.
        ("%Y-%m-%d %H:%M:%S %Z", "2024-01-02 03:04:05 PST", plus2, NOW, Some(("2024-01-02T11:04:05Z", "2024-01-02 03:04:05 PST"))),
        ("%Y-%m-%d %H:%M:%S %Z", "2024-07-02 03:04:05 EDT", plus2, NOW, Some(("2024-07-02T07:04:05Z", "2024-07-02 03:04:05 EDT"))),
        ("%Y-%m-%d %H:%M:%S %Z", "2024-07-02 03:04:05 CEST", utc, NOW, Some(("2024-07-02T01:04:05Z", "2024-07-02 03:04:05 CEST"))),
        ("%Y-%m-%d %H:%M:%S %Z", "2024-01-02 03:04:05 utc", plus2, NOW, Some(("2024-01-02T03:04:05Z", "2024-01-02 03:04:05 utc"))),
        ("%Y-%m-%d %H:%M:%S %Z", "2024-01-02 03:04:05 XYZ", plus2, NOW, Some(("2024-01-02T01:04:05Z", "2024-01-02 03:04:05 XYZ"))),
        // Year-less: this year, unless that is more than 30 days ahead.
        ("%b %d %H:%M:%S", "Apr 10 08:00:00 x", utc, NOW, Some(("2024-04-10T08:00:00Z", "Apr 10 08:00:00"))),
        ("%b %d %H:%M:%S", "Apr 16 08:00:00 x", utc, NOW, Some(("2023-04-16T08:00:00Z", "Apr 16 08:00:00"))),
        ("%b %d %H:%M:%S", "Dec 31 23:59:59 x", utc, "2024-01-01T00:00:05Z", Some(("2023-12-31T23:59:59Z", "Dec 31 23:59:59"))),
        ("%b %d %H:%M:%S", "Jan  1 00:00:01 x", east(1, 0), "2023-12-31T23:00:30Z", Some(("2023-12-31T23:00:01Z", "Jan  1 00:00:01"))),
        ("%b %d %H:%M:%S", "Feb 29 12:00:00 x", utc, "2025-03-01T00:00:00Z", Some(("2024-02-29T12:00:00Z", "Feb 29 12:00:00"))),
        // Time only: today, or yesterday if today is over 12 h ahead.
        ("%H:%M:%S", "09:00:00 x", utc, NOW, Some(("2024-03-15T09:00:00Z", "09:00:00"))),
        ("%H:%M:%S", "23:59:59 x", utc, "2024-03-15T00:00:05Z", Some(("2024-03-14T23:59:59Z", "23:59:59"))),
        // Literals: %% and escaped regex metacharacters; unknown directives
        // match themselves.
        ("%H:%M:%S 100%%", "10:00:00 100% done", utc, NOW, Some(("2024-03-15T10:00:00Z", "10:00:00 100%"))),
        ("[%Y-%m-%d] (%H:%M:%S)", "[2024-01-02] (03:04:05) x", utc, NOW, Some(("2024-01-02T03:04:05Z", "[2024-01-02] (03:04:05)"))),
        ("%Y.%m.%d", "2024x01x02", utc, NOW, None),
        ("%Y-%m-%d %Q", "2024-01-02 %Q x", utc, NOW, Some(("2024-01-02T00:00:00Z", "2024-01-02 %Q"))),
        // No match, or the first match is out of range.
        ("%Y-%m-%d %H:%M:%S", "nothing here", utc, NOW, None),
        ("%Y-%m-%d", "\u{662}\u{660}\u{662}\u{664}-01-02", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-13-01 00:00:00", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2023-02-29 00:00:00", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-04-31 00:00:00", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-01-01 24:00:00", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-01-01 23:60:00", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-01-01 23:59:60", utc, NOW, None),
        ("%Y-%m-%d %H:%M:%S", "2024-13-01 00:00:00 then 2024-01-01 00:00:00", utc, NOW, None),
    ];
    for (fmt, msg, zone, now, want) in cases {
        let f = TimestampFormat::compile(fmt).unwrap();
        let got = f.parse(msg, *zone, at(now));
        let want = want.map(|(instant, text)| {
            let start = msg.find(text).unwrap();
            Found {
                millis: ms(instant),
                span: start..start + text.len(),
            }
        });
        assert_eq!(got, want, "{fmt:?} on {msg:?}");
    }
}

#[test]
fn every_month_name() {
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let full = TimestampFormat::compile("%B %d %Y").unwrap();
    let abbr = TimestampFormat::compile("%b %d %Y").unwrap();
    for (i, name) in months.iter().enumerate() {
        let want = ms(&format!("2023-{:02}-05T00:00:00Z", i + 1));
        for text in [name.to_string(), name.to_uppercase(), name.to_lowercase()] {
            let msg = format!("{text} 5 2023");
            let got = full.parse(&msg, Zone::Utc, at(NOW)).map(|f| f.millis);
            assert_eq!(got, Some(want), "%B {msg}");
            let short = format!("{} 5 2023", &text[..3]);
            let got = abbr.parse(&short, Zone::Utc, at(NOW)).map(|f| f.millis);
            assert_eq!(got, Some(want), "%b {short}");
        }
    }
}

#[test]
fn compile_errors_and_regex() {
    let cases: &[(&str, Result<&str, TimestampError>)] = &[
        (
            "%Y-%m-%d",
            Ok("([0-9]{4})\\-[ \\t]?([0-9]{1,2})\\-[ \\t]?([0-9]{1,2})"),
        ),
        ("%d.%f", Ok("([0-9]{1,2})[.,]([0-9]{1,9})")),
        ("a.b*%H", Ok("a\\.b\\*([0-9]{2})")),
        ("100%", Err(TimestampError::NoDateOrTime("100%".into()))),
        (
            "%A %p %Z",
            Err(TimestampError::NoDateOrTime("%A %p %Z".into())),
        ),
        ("", Err(TimestampError::NoDateOrTime(String::new()))),
    ];
    for (fmt, want) in cases {
        let got = TimestampFormat::compile(fmt).map(|f| f.regex().as_str().to_string());
        assert_eq!(got, want.clone().map(str::to_string), "{fmt:?}");
    }
    let f = TimestampFormat::compile("%H:%M").unwrap();
    assert_eq!(f.format(), "%H:%M");
    assert!(f.regex().is_match("at 10:30"));
}

#[test]
fn trim_table() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str)] = &[
        // (format, message, trimmed)
        ("%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05   message", "message"),
        ("%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05\tmessage", "message"),
        ("%Y-%m-%d %H:%M:%S", "[INFO] 2024-01-02 03:04:05 message", "[INFO] message"),
        ("%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05 \n\tat x", "\n\tat x"),
        ("%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05", ""),
        ("%H:%M:%S", "ü 10:00:00 ü", "ü ü"),
    ];
    for (fmt, msg, want) in cases {
        let f = TimestampFormat::compile(fmt).unwrap();
        let found = f.parse(msg, Zone::Utc, at(NOW)).unwrap();
        assert_eq!(trim(msg, found.span), *want, "{msg:?}");
    }
    // Invalid spans leave the message alone.
    let msg = "ü 10:00";
    let reversed = Range { start: 5, end: 3 };
    for span in [reversed, 0..99, 1..2, 99..100] {
        assert_eq!(trim(msg, span.clone()), msg, "{span:?}");
    }
}

/// A made-up zone: -05:00, and -04:00 from 2024-03-10 02:00 (the hour up to
/// 03:00 is skipped) to 2024-11-03 02:00 local daylight time (01:00..02:00
/// happens twice).
fn daylight_zone(n: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
    let standard = FixedOffset::west_opt(5 * 3600).unwrap();
    let daylight = FixedOffset::west_opt(4 * 3600).unwrap();
    let local = |m, d, h| {
        NaiveDate::from_ymd_opt(2024, m, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    };
    if *n < local(3, 10, 2) {
        MappedLocalTime::Single(standard)
    } else if *n < local(3, 10, 3) {
        MappedLocalTime::None
    } else if *n < local(11, 3, 1) {
        MappedLocalTime::Single(daylight)
    } else if *n < local(11, 3, 2) {
        MappedLocalTime::Ambiguous(daylight, standard)
    } else {
        MappedLocalTime::Single(standard)
    }
}

#[test]
fn daylight_saving_resolution() {
    let cases = [
        // (local wall time, instant)
        ("2024-01-15 12:00:00", "2024-01-15T17:00:00Z"),
        ("2024-03-10 01:59:59", "2024-03-10T06:59:59Z"),
        // Skipped: read with the offset before the gap, i.e. 03:30 EDT.
        ("2024-03-10 02:30:00", "2024-03-10T07:30:00Z"),
        ("2024-03-10 03:00:00", "2024-03-10T07:00:00Z"),
        ("2024-06-01 12:00:00", "2024-06-01T16:00:00Z"),
        // Repeated: the earlier of the two instants (still daylight time).
        ("2024-11-03 01:30:00", "2024-11-03T05:30:00Z"),
        ("2024-11-03 02:00:00", "2024-11-03T07:00:00Z"),
    ];
    for (wall, want) in cases {
        let naive = NaiveDateTime::parse_from_str(wall, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            resolve_with(daylight_zone, &naive),
            Some(at(want)),
            "{wall}"
        );
    }
    // A zone with no valid wall time at all resolves to nothing.
    let naive = NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(resolve_with(|_| MappedLocalTime::None, &naive), None);
}

#[test]
fn local_zone_agrees_with_chrono() {
    // Whatever the machine's zone, an ordinary wall time resolves exactly
    // as chrono's Local does.
    let f = TimestampFormat::compile("%Y-%m-%d %H:%M:%S").unwrap();
    let got = f.parse("2024-06-01 12:00:00", Zone::Local, at(NOW));
    let naive = NaiveDate::from_ymd_opt(2024, 6, 1)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let want = Local.from_local_datetime(&naive).earliest().unwrap();
    assert_eq!(got.map(|f| f.millis), Some(want.timestamp_millis()));
    assert_eq!(Zone::from_setting(Some("UTC")), Zone::Utc);
    assert_eq!(Zone::from_setting(Some("utc")), Zone::Local);
    assert_eq!(Zone::from_setting(Some("Local")), Zone::Local);
    assert_eq!(Zone::from_setting(None), Zone::Local);
}

#[test]
fn stamper_falls_back_to_last_seen_then_now() {
    let format = TimestampFormat::compile("%Y-%m-%d %H:%M:%S").unwrap();
    let mut s = Stamper::new(Some(format), Zone::Utc);
    let now = at(NOW);
    #[rustfmt::skip]
    let cases: &[(&str, i64, StampSource, Option<Range<usize>>)] = &[
        ("no timestamp yet", ms(NOW), StampSource::Now, None),
        ("2024-03-15 09:00:00 first", ms("2024-03-15T09:00:00Z"), StampSource::Parsed, Some(0..19)),
        ("\tat continuation", ms("2024-03-15T09:00:00Z"), StampSource::LastSeen, None),
        ("x 2024-03-15 09:00:01 second", ms("2024-03-15T09:00:01Z"), StampSource::Parsed, Some(2..21)),
        ("2024-99-99 00:00:00 invalid", ms("2024-03-15T09:00:01Z"), StampSource::LastSeen, None),
    ];
    for (msg, millis, source, span) in cases {
        let want = Stamp {
            millis: *millis,
            source: *source,
            span: span.clone(),
        };
        assert_eq!(s.stamp(msg, now), want, "{msg:?}");
    }
    assert_eq!(s.last_parsed(), Some(ms("2024-03-15T09:00:01Z")));
    let mut plain = Stamper::new(None, Zone::Local);
    let stamp = plain.stamp("2024-03-15 09:00:00", now);
    assert_eq!((stamp.millis, stamp.source), (ms(NOW), StampSource::Now));
}

#[test]
fn age_table() {
    let now = ms(NOW);
    let cases = [
        (now, Age::Ok),
        (now - MAX_AGE_MS, Age::Ok),
        (now - MAX_AGE_MS - 1, Age::TooOld),
        (now + MAX_FUTURE_MS, Age::Ok),
        (now + MAX_FUTURE_MS + 1, Age::TooNew),
        (ms("2024-03-01T09:59:59.999Z"), Age::TooOld),
        (ms("2024-03-15T12:00:00.001Z"), Age::TooNew),
        (i64::MIN, Age::TooOld),
        (i64::MAX, Age::TooNew),
    ];
    for (millis, want) in cases {
        assert_eq!(age_check(millis, now), want, "{millis}");
    }
    assert_eq!(age_check(0, i64::MIN), Age::TooNew);
    assert_eq!(age_check(0, i64::MAX), Age::TooOld);
}
