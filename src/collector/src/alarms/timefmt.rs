//! The time and number spellings CloudWatch uses in alarm texts and events (all UTC):
//!
//! | where | format | example |
//! |---|---|---|
//! | event `time` | `yyyy-MM-dd'T'HH:mm:ss'Z'` | `2019-10-02T17:04:40Z` |
//! | event `detail` timestamps, `StateReasonData` dates | `yyyy-MM-dd'T'HH:mm:ss.SSS+0000` | `2019-10-02T17:04:40.989+0000` |
//! | datapoints in a state reason | `dd/MM/yy HH:mm:ss` | `02/10/19 16:59:00` |
//! | composite alarm reasons | `EEEE d MMMM, yyyy HH:mm:ss 'UTC'` | `Friday 22 July, 2022 15:57:45 UTC` |
//!
//! Numbers in reasons are printed the way the service (a JVM) prints doubles: `50.0`, `21.5`,
//! `1.0E7`.

use chrono::{DateTime, Utc};

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// `2019-10-02T17:04:40Z`.
pub fn event_time(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2019-10-02T17:04:40.989+0000`.
pub fn detail_ts(ms: i64) -> String {
    at(ms).format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// `02/10/19 16:59:00`.
pub fn reason_date(ms: i64) -> String {
    at(ms).format("%d/%m/%y %H:%M:%S").to_string()
}

/// `Friday 22 July, 2022 15:57:45 UTC`.
pub fn composite_date(ms: i64) -> String {
    at(ms).format("%A %-d %B, %Y %H:%M:%S UTC").to_string()
}

/// A double as a JVM prints it: `1.0`, `-2.5`, `1.0E7`, `NaN`.
pub fn java_double(v: f64) -> String {
    crate::api::cloudwatch::validate::java_double(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        // 2019-10-02T17:04:40.989Z
        let t = 1_570_035_880_989;
        assert_eq!(event_time(t), "2019-10-02T17:04:40Z");
        assert_eq!(detail_ts(t), "2019-10-02T17:04:40.989+0000");
        assert_eq!(reason_date(1_570_035_540_000), "02/10/19 16:59:00");
        // 2022-07-22T15:57:45.394Z
        assert_eq!(
            composite_date(1_658_505_465_394),
            "Friday 22 July, 2022 15:57:45 UTC"
        );
        assert_eq!(java_double(50.0), "50.0");
        assert_eq!(java_double(99.50160229693434), "99.50160229693434");
    }
}
