//! AWS six-field cron: `Minutes Hours Day-of-month Month Day-of-week Year`, UTC.
//!
//! Fields accept `,` lists of `*`, `n`, `a-b` (ranges may wrap, e.g. hours `20-2`) and
//! `x/step`; months `JAN`-`DEC`, weekdays `SUN`-`SAT` (1 = Sunday). Day-of-month also takes
//! `?`, `L` and `nW` (the weekday nearest to day n, within the month); day-of-week takes `?`,
//! `nL` (the last weekday n of the month) and a single `n#k` (the k-th weekday n). Exactly one
//! of day-of-month and day-of-week must be `?`. Years 1970-2199.

use chrono::{Datelike, NaiveDate, Weekday};

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const MIN_YEAR: u32 = 1970;
const MAX_YEAR: u32 = 2199;

/// Day-of-month rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dom {
    Unspecified,
    Set(Vec<bool>),
    Last,
    NearestWeekday(u32),
}

/// Day-of-week rule (1 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dow {
    Unspecified,
    Set(Vec<bool>),
    LastOf(u32),
    Nth(u32, u32),
}

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    dom: Dom,
    months: Vec<bool>,
    dow: Dow,
    years: Vec<bool>,
}

fn number(s: &str, min: u32, max: u32, names: &[&str]) -> Option<u32> {
    if let Some(i) = names.iter().position(|n| *n == s) {
        return Some(min + i as u32);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

/// Parse a `,` list field into a membership table indexed by `value - min`.
fn set(field: &str, min: u32, max: u32, names: &[&str]) -> Option<Vec<bool>> {
    let width = (max - min + 1) as usize;
    let mut out = vec![false; width];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, number(s, 1, max.max(1), &[])?),
            None => (item, 0),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (number(a, min, max, names)?, number(b, min, max, names)?)
        } else {
            let v = number(range, min, max, names)?;
            (v, if step > 0 { max } else { v })
        };
        let step = step.max(1);
        // Walk lo..=hi, wrapping past max back to min when lo > hi.
        let span = if lo <= hi {
            hi - lo
        } else {
            (max - lo) + (hi - min) + 1
        };
        let mut k = 0;
        while k <= span {
            let v = if lo + k <= max {
                lo + k
            } else {
                min + (lo + k - max - 1)
            };
            if let Some(slot) = out.get_mut((v - min) as usize) {
                *slot = true;
            }
            k += step;
        }
    }
    Some(out)
}

fn has(table: &[bool], v: u32, min: u32) -> bool {
    v >= min && table.get((v - min) as usize).copied().unwrap_or(false)
}

impl Cron {
    /// Parse the inside of `cron(...)`; `None` when AWS would reject it.
    pub fn parse(inner: &str) -> Option<Cron> {
        let f: Vec<&str> = inner.split(' ').collect();
        let [mi, h, dom, mo, dow, y] = f.as_slice() else {
            return None;
        };
        let dom = match *dom {
            "?" => Dom::Unspecified,
            "L" => Dom::Last,
            d if d.ends_with('W') => Dom::NearestWeekday(number(d.strip_suffix('W')?, 1, 31, &[])?),
            d => Dom::Set(set(d, 1, 31, &[])?),
        };
        let dow = match *dow {
            "?" => Dow::Unspecified,
            d if d.ends_with('L') && d.len() > 1 => {
                Dow::LastOf(number(d.strip_suffix('L')?, 1, 7, &DAYS)?)
            }
            d if d.contains('#') => {
                let (a, b) = d.split_once('#')?;
                Dow::Nth(number(a, 1, 7, &DAYS)?, number(b, 1, 5, &[])?)
            }
            "L" => Dow::LastOf(7),
            d => Dow::Set(set(d, 1, 7, &DAYS)?),
        };
        if (dom == Dom::Unspecified) == (dow == Dow::Unspecified) {
            return None;
        }
        Some(Cron {
            minutes: set(mi, 0, 59, &[])?,
            hours: set(h, 0, 23, &[])?,
            dom,
            months: set(mo, 1, 12, &MONTHS)?,
            dow,
            years: set(y, MIN_YEAR, MAX_YEAR, &[])?,
        })
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        let last = last_day(d.year(), d.month());
        let dow1 = d.weekday().num_days_from_sunday() + 1;
        let dom_ok = match &self.dom {
            Dom::Unspecified => true,
            Dom::Set(t) => has(t, d.day(), 1),
            Dom::Last => d.day() == last,
            Dom::NearestWeekday(n) => nearest_weekday(d.year(), d.month(), *n) == Some(d.day()),
        };
        let dow_ok = match &self.dow {
            Dow::Unspecified => true,
            Dow::Set(t) => has(t, dow1, 1),
            Dow::LastOf(w) => dow1 == *w && d.day() + 7 > last,
            Dow::Nth(w, k) => dow1 == *w && (d.day() - 1) / 7 + 1 == *k,
        };
        dom_ok && dow_ok
    }

    /// The first matching minute strictly after `after_ms`, in ms; `None` past year 2199.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start_min = after_ms.div_euclid(60_000) + 1;
        let start = chrono::DateTime::from_timestamp(start_min.checked_mul(60)?, 0)?.naive_utc();
        let mut day = start.date();
        let mut first = true;
        while (day.year() as u32) <= MAX_YEAR {
            let year_ok = day.year() >= 0 && has(&self.years, day.year() as u32, MIN_YEAR);
            if year_ok && has(&self.months, day.month(), 1) && self.day_matches(day) {
                let (h0, m0) = if first {
                    (start.time().hour_of_day(), start.time().minute_of_hour())
                } else {
                    (0, 0)
                };
                for h in h0..24 {
                    if !has(&self.hours, h, 0) {
                        continue;
                    }
                    let from = if h == h0 { m0 } else { 0 };
                    if let Some(m) = (from..60).find(|m| has(&self.minutes, *m, 0)) {
                        let t = day.and_hms_opt(h, m, 0)?.and_utc().timestamp_millis();
                        return Some(t);
                    }
                }
            }
            first = false;
            day = day.succ_opt()?;
        }
        None
    }
}

trait HourMinute {
    fn hour_of_day(&self) -> u32;
    fn minute_of_hour(&self) -> u32;
}

impl HourMinute for chrono::NaiveTime {
    fn hour_of_day(&self) -> u32 {
        chrono::Timelike::hour(self)
    }
    fn minute_of_hour(&self) -> u32 {
        chrono::Timelike::minute(self)
    }
}

fn last_day(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// The weekday nearest to day `n` of the month, without leaving the month.
fn nearest_weekday(year: i32, month: u32, n: u32) -> Option<u32> {
    let last = last_day(year, month);
    let n = n.min(last);
    let d = NaiveDate::from_ymd_opt(year, month, n)?;
    Some(match d.weekday() {
        Weekday::Sat if n == 1 => 3,
        Weekday::Sat => n - 1,
        Weekday::Sun if n == last => n - 2,
        Weekday::Sun => n + 1,
        _ => n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn accepts_and_rejects_as_aws() {
        for e in [
            "0 2 ? * SAT *",
            "0 12 * * ? *",
            "5,35 14 * * ? *",
            "15 10 ? * 6L 2002-2005",
            "0 2 ? * SAT#3 *",
            "* * ? * SAT#3 *",
            "0/5 5 ? JAN 1-5 2022",
            "0/15 * * * ? *",
            "0/5 8-17 ? * MON-FRI *",
            "0/30 20-23 ? * MON-FRI *",
            "0 20-2 * * ? *",
            "0 8 15W * ? *",
            "0 8 L * ? *",
        ] {
            assert!(Cron::parse(e).is_some(), "{e}");
        }
        for e in [
            "7 20 * * NOT *",
            "INVALID",
            "0 dummy ? * MON-FRI *",
            "71 8 1 * ? *",
            "0 1 * * * *",
            "0 1 ? * ? *",
            "0 1 ? * 3#1,6#3 *",
            "0 1 * * ?",
        ] {
            assert!(Cron::parse(e).is_none(), "{e}");
        }
    }

    #[test]
    fn next_firings() {
        let table: &[(&str, &str, &str)] = &[
            (
                "0 12 * * ? *",
                "2024-03-01T12:00:00Z",
                "2024-03-02T12:00:00Z",
            ),
            (
                "0/15 * * * ? *",
                "2024-03-01T12:07:10Z",
                "2024-03-01T12:15:00Z",
            ),
            // 2024-03-16 is the third Saturday of March 2024.
            (
                "0 2 ? * SAT#3 *",
                "2024-03-01T00:00:00Z",
                "2024-03-16T02:00:00Z",
            ),
            // Last Friday (6L) of March 2024 is the 29th.
            (
                "15 10 ? * 6L *",
                "2024-03-01T00:00:00Z",
                "2024-03-29T10:15:00Z",
            ),
            (
                "0 8 L * ? *",
                "2024-02-01T00:00:00Z",
                "2024-02-29T08:00:00Z",
            ),
            // 2024-06-15 is a Saturday: nearest weekday is Friday the 14th.
            (
                "0 8 15W * ? *",
                "2024-06-01T00:00:00Z",
                "2024-06-14T08:00:00Z",
            ),
            (
                "0 20-2 * * ? *",
                "2024-03-01T02:30:00Z",
                "2024-03-01T20:00:00Z",
            ),
            (
                "0 20-2 * * ? *",
                "2024-03-01T23:30:00Z",
                "2024-03-02T00:00:00Z",
            ),
            ("0 0 1 1 ? 2023", "2024-01-01T00:00:00Z", ""),
        ];
        for (e, after, want) in table {
            let c = Cron::parse(e).unwrap();
            let got = c.next_after(ms(after));
            let want = (!want.is_empty()).then(|| ms(want));
            assert_eq!(got, want, "{e} after {after}");
        }
    }
}
