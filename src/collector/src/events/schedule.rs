//! Schedule expressions: `rate(<n> <unit>)` and six-field `cron(...)`, evaluated in UTC.
//!
//! A rate schedule fires at `created + k * period` (k ≥ 1); a cron schedule fires at the start
//! of every matching minute. [`Schedule::next_after`] gives the first firing strictly after a
//! time, so the delivery loop can catch up after downtime by firing once per missed tick.

use super::cron::Cron;

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// A fixed period in milliseconds, counted from the rule's creation.
    Rate(i64),
    Cron(Box<Cron>),
}

impl Schedule {
    /// Parse an expression exactly as AWS accepts it; `None` when invalid.
    pub fn parse(expr: &str) -> Option<Schedule> {
        if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            return parse_rate(inner).map(Schedule::Rate);
        }
        if let Some(inner) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return Cron::parse(inner).map(|c| Schedule::Cron(Box::new(c)));
        }
        None
    }

    /// The first firing strictly after `after_ms`, for a rule created at `created_ms`.
    pub fn next_after(&self, after_ms: i64, created_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate(period) => {
                if after_ms < created_ms {
                    return created_ms.checked_add(*period);
                }
                let k = (after_ms - created_ms) / period + 1;
                created_ms.checked_add(k.checked_mul(*period)?)
            }
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

fn parse_rate(inner: &str) -> Option<i64> {
    let (n, unit) = inner.split_once(' ')?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.starts_with('0') {
        return None;
    }
    let n: i64 = n.parse().ok()?;
    let unit_ms = match (unit, n == 1) {
        ("minute", true) | ("minutes", false) => 60_000,
        ("hour", true) | ("hours", false) => 3_600_000,
        ("day", true) | ("days", false) => 86_400_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_grammar_as_aws() {
        let ok: &[(&str, i64)] = &[
            ("rate(1 minute)", 60_000),
            ("rate(5 minutes)", 300_000),
            ("rate(1 hour)", 3_600_000),
            ("rate(2 days)", 172_800_000),
        ];
        for (e, ms) in ok {
            assert_eq!(Schedule::parse(e), Some(Schedule::Rate(*ms)), "{e}");
        }
        for e in [
            "rate(10 seconds)",
            "rate(10 years)",
            "rate(1 minutes)",
            "rate(1 hours)",
            "rate(1 days)",
            "rate(10 minute)",
            "rate(10 hour)",
            "rate(10 day)",
            "rate()",
            "rate(10)",
            "rate(10 minutess)",
            "rate(foo minutes)",
            "rate(0 minutes)",
            "rate(-10 minutes)",
            "rate(10 MINUTES)",
            "rate( 10 minutes )",
            " rate(10 minutes)",
        ] {
            assert_eq!(Schedule::parse(e), None, "{e}");
        }
    }

    #[test]
    fn rate_counts_from_creation() {
        let s = Schedule::Rate(60_000);
        assert_eq!(s.next_after(1_000, 1_000), Some(61_000));
        assert_eq!(s.next_after(61_000, 1_000), Some(121_000));
        assert_eq!(s.next_after(60_999, 1_000), Some(61_000));
        assert_eq!(s.next_after(0, 1_000), Some(61_000));
    }
}
