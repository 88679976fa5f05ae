//! Time-range and period rules shared by GetMetricStatistics and GetMetricData.
//!
//! - a period is 1, 5, 10, 20, 30 or a multiple of 60 seconds;
//! - StartTime is rounded down: to the period for sub-minute periods, else by its age — to the
//!   minute when under 15 days old, to 5 minutes up to 63 days, to the hour beyond;
//! - data older than 3 hours / 15 days / 63 days is only served at periods that are multiples of
//!   60 / 300 / 3600 seconds (CloudWatch's rollup); other requests get no data.

use hostwatch_aws::ApiError;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Periods below a minute that high-resolution data may use.
const SUB_MINUTE: [i64; 5] = [1, 5, 10, 20, 30];

/// Check a period (seconds) and return it in milliseconds.
pub fn period_ms(period_s: i64, query_path: &str) -> Result<i64, ApiError> {
    if period_s < 1 || !(SUB_MINUTE.contains(&period_s) || period_s % 60 == 0) {
        return Err(ApiError::invalid_parameter_value(format!(
            "The parameter {query_path} must be 1, 5, 10, 20, 30, or a multiple of 60."
        )));
    }
    period_s.checked_mul(1000).ok_or_else(|| {
        ApiError::invalid_parameter_value(format!("The parameter {query_path} is too large."))
    })
}

/// `StartTime < EndTime`, with AWS's two messages.
pub fn check_range(start_ms: i64, end_ms: i64) -> Result<(), ApiError> {
    if start_ms == end_ms {
        return Err(ApiError::invalid_parameter_value(
            "The parameter StartTime must not equal parameter EndTime.",
        ));
    }
    if start_ms > end_ms {
        return Err(ApiError::invalid_parameter_value(
            "The parameter StartTime must be less than the parameter EndTime.",
        ));
    }
    Ok(())
}

/// The effective start of a query.
pub fn round_start(start_ms: i64, period_ms: i64, now_ms: i64) -> i64 {
    let age = now_ms - start_ms;
    let unit = if period_ms < MINUTE {
        period_ms
    } else if age < 15 * DAY {
        MINUTE
    } else if age < 63 * DAY {
        5 * MINUTE
    } else {
        HOUR
    };
    start_ms.div_euclid(unit) * unit
}

/// Whether data starting at `start_ms` is still available at this period.
pub fn served_at(start_ms: i64, period_ms: i64, now_ms: i64) -> bool {
    let age = now_ms - start_ms;
    let needed = if age > 63 * DAY {
        HOUR
    } else if age > 15 * DAY {
        5 * MINUTE
    } else if age > 3 * HOUR {
        MINUTE
    } else {
        return true;
    };
    period_ms % needed == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        for ok in [1, 5, 10, 20, 30, 60, 120, 86_400] {
            assert_eq!(period_ms(ok, "Period").unwrap(), ok * 1000);
        }
        for bad in [0, -60, 2, 45, 61, 90] {
            let e = period_ms(bad, "Period").unwrap_err();
            assert_eq!(e.query_code(), "InvalidParameterValue", "{bad}");
        }
    }

    #[test]
    fn start_rounding_depends_on_age_and_period() {
        let now = 100 * DAY;
        let t = now - HOUR + 12_345;
        assert_eq!(round_start(t, MINUTE, now), now - HOUR);
        assert_eq!(round_start(t, 10_000, now), now - HOUR + 10_000);
        assert_eq!(round_start(t, 1_000, now), now - HOUR + 12_000);
        let t = now - 20 * DAY + 7 * MINUTE;
        assert_eq!(round_start(t, MINUTE, now), now - 20 * DAY + 5 * MINUTE);
        let t = now - 70 * DAY + 90 * MINUTE;
        assert_eq!(round_start(t, MINUTE, now), now - 70 * DAY + HOUR);
    }

    #[test]
    fn old_data_needs_coarse_periods() {
        let now = 100 * DAY;
        assert!(served_at(now - HOUR, 1_000, now));
        assert!(!served_at(now - 4 * HOUR, 1_000, now));
        assert!(served_at(now - 4 * HOUR, MINUTE, now));
        assert!(!served_at(now - 16 * DAY, MINUTE, now));
        assert!(served_at(now - 16 * DAY, 5 * MINUTE, now));
        assert!(!served_at(now - 64 * DAY, 5 * MINUTE, now));
        assert!(served_at(now - 64 * DAY, HOUR, now));
    }

    #[test]
    fn range_messages() {
        assert_eq!(
            check_range(5, 5).unwrap_err().message.as_deref(),
            Some("The parameter StartTime must not equal parameter EndTime.")
        );
        assert_eq!(
            check_range(6, 5).unwrap_err().message.as_deref(),
            Some("The parameter StartTime must be less than the parameter EndTime.")
        );
        assert!(check_range(4, 5).is_ok());
    }
}
