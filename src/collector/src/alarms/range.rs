//! Building an alarm's evaluation range from stored points: bucket by period (the statistics
//! code GetMetricStatistics uses), evaluate the alarm's statistic per bucket.
//!
//! Buckets are aligned to the evaluation time, not to the epoch: at time `t` the range of `len`
//! periods starts at `t - len × period`, so a 5-minute alarm evaluated every minute slides one
//! minute at a time, as CloudWatch's does.

use super::evaluate::Datapoint;
use crate::api::cloudwatch::aggregate::bucketize;
use crate::api::cloudwatch::stat::Stat;
use crate::store::metrics::Point;

/// The `len` datapoints (oldest first) of the periods ending at `end_ms`.
pub fn build<'a>(
    points: impl IntoIterator<Item = &'a Point>,
    end_ms: i64,
    period_ms: i64,
    len: usize,
    stat: &Stat,
) -> Vec<Datapoint> {
    let span = period_ms.saturating_mul(len as i64);
    let start = end_ms.saturating_sub(span);
    let buckets = bucketize(
        points.into_iter().filter(|p| p.ts_ms < end_ms),
        start,
        period_ms,
    );
    (0..len as i64)
        .map(|i| {
            let at = start + i * period_ms;
            match buckets.get(&at) {
                Some(b) => match stat.eval(b) {
                    Some(v) => Datapoint {
                        start_ms: at,
                        value: Some(v),
                        sample_count: b.sample_count,
                        band: None,
                    },
                    None => Datapoint::missing(at),
                },
                None => Datapoint::missing(at),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::DatumValue;

    fn pt(ts: i64, v: f64) -> Point {
        Point {
            ts_ms: ts,
            value: DatumValue::Single(v),
            high_res: true,
        }
    }

    #[test]
    fn buckets_end_at_the_evaluation_time() {
        let end = 1_000_000;
        let points = [
            pt(end - 35_000, 100.0), // before the range
            pt(end - 30_000, 1.0),
            pt(end - 25_000, 3.0),
            pt(end - 1_000, 7.0),
            pt(end, 50.0), // after the range
        ];
        let r = build(&points, end, 10_000, 3, &Stat::parse("Average").unwrap());
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].start_ms, end - 30_000);
        assert_eq!(r[0].value, Some(2.0));
        assert_eq!(r[0].sample_count, 2.0);
        assert_eq!(r[1].value, None);
        assert_eq!(r[2].value, Some(7.0));
        let r = build(&points, end, 10_000, 3, &Stat::parse("p100").unwrap());
        assert_eq!(r[0].value, Some(3.0));
        let neg = [pt(end - 1_000, -1.0)];
        let r = build(&neg, end, 10_000, 1, &Stat::parse("p50").unwrap());
        assert_eq!(
            r[0].value, None,
            "percentiles are unavailable for negative values"
        );
    }
}
