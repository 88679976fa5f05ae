//! Aggregation of stored points into period buckets, exactly as CloudWatch combines them.
//!
//! Every value form folds into one statistic set per bucket: a single value counts once, a
//! statistic set adds its four members, a distribution adds each value `count` times
//! (`Values [1,10] Counts [2,4]` → SampleCount 6, Sum 42). Percentile-style statistics need the
//! raw values: a bucket keeps them as (value, weight) pairs and stays `raw_ok` only while every
//! statistic set in it is degenerate (`SampleCount = 1` and `Min = Max = Sum`, or `Min = Max`
//! and `Sum = Min × SampleCount`), which stands for `SampleCount` copies of one value.

use hostwatch_model::DatumValue;
use std::collections::BTreeMap;

use crate::store::metrics::Point;

/// The aggregate of one period of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub sample_count: f64,
    pub sum: f64,
    pub minimum: f64,
    pub maximum: f64,
    /// Raw values with their weights, when known.
    pub values: Vec<(f64, f64)>,
    /// `false` once a non-degenerate statistic set was added (percentiles unavailable).
    pub raw_ok: bool,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            sample_count: 0.0,
            sum: 0.0,
            minimum: f64::INFINITY,
            maximum: f64::NEG_INFINITY,
            values: Vec::new(),
            raw_ok: true,
        }
    }
}

impl Bucket {
    /// Fold one stored value in.
    pub fn add(&mut self, v: &DatumValue) {
        let s = v.to_statistic_set();
        self.sample_count += s.sample_count;
        self.sum += s.sum;
        self.minimum = self.minimum.min(s.minimum);
        self.maximum = self.maximum.max(s.maximum);
        match v {
            DatumValue::Single(x) => self.values.push((*x, 1.0)),
            DatumValue::Distribution { values, counts, .. } => self
                .values
                .extend(values.iter().copied().zip(counts.iter().copied())),
            DatumValue::StatisticSet(set) => {
                let single =
                    set.sample_count == 1.0 && set.minimum == set.maximum && set.maximum == set.sum;
                let flat = set.minimum == set.maximum && set.sum == set.minimum * set.sample_count;
                if single || flat {
                    self.values.push((set.minimum, set.sample_count));
                } else {
                    self.raw_ok = false;
                }
            }
        }
    }

    pub fn average(&self) -> f64 {
        if self.sample_count > 0.0 {
            self.sum / self.sample_count
        } else {
            0.0
        }
    }

    /// Raw values sorted ascending, when percentile-style statistics are available.
    pub fn sorted_values(&self) -> Option<Vec<(f64, f64)>> {
        if !self.raw_ok || self.values.is_empty() || self.values.iter().any(|(v, _)| *v < 0.0) {
            return None;
        }
        let mut v: Vec<(f64, f64)> = self
            .values
            .iter()
            .copied()
            .filter(|(_, w)| *w > 0.0)
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        (!v.is_empty()).then_some(v)
    }
}

/// Bucket points by `period_ms` periods starting at `start_ms` (points before `start_ms` are
/// ignored). Keys are period start times.
pub fn bucketize<'a>(
    points: impl IntoIterator<Item = &'a Point>,
    start_ms: i64,
    period_ms: i64,
) -> BTreeMap<i64, Bucket> {
    let mut out: BTreeMap<i64, Bucket> = BTreeMap::new();
    for p in points {
        if p.ts_ms < start_ms || period_ms <= 0 {
            continue;
        }
        let at = start_ms + (p.ts_ms - start_ms) / period_ms * period_ms;
        out.entry(at).or_default().add(&p.value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::StatisticSet;

    fn pt(ts: i64, value: DatumValue) -> Point {
        Point {
            ts_ms: ts,
            value,
            high_res: false,
        }
    }

    #[test]
    fn distribution_counts_weigh_values() {
        let b = bucketize(
            &[pt(
                0,
                DatumValue::Distribution {
                    values: vec![1.0, 10.0],
                    counts: vec![2.0, 4.0],
                    stats: None,
                },
            )],
            0,
            60_000,
        );
        let b = &b[&0];
        assert_eq!(b.sample_count, 6.0);
        assert_eq!(b.sum, 42.0);
        assert_eq!(b.maximum, 10.0);
        assert_eq!(b.minimum, 1.0);
        assert_eq!(b.average(), 7.0);
    }

    #[test]
    fn value_and_statistic_set_in_one_minute_combine() {
        let pts = [
            pt(1_000, DatumValue::Single(11.0)),
            pt(
                30_000,
                DatumValue::StatisticSet(StatisticSet {
                    sample_count: 10.0,
                    sum: 55.0,
                    minimum: 1.0,
                    maximum: 10.0,
                }),
            ),
        ];
        let b = bucketize(&pts, 0, 60_000);
        assert_eq!(b.len(), 1);
        let b = &b[&0];
        assert_eq!(
            (b.sum, b.sample_count, b.minimum, b.maximum, b.average()),
            (66.0, 11.0, 1.0, 11.0, 6.0)
        );
        assert!(!b.raw_ok, "a real statistic set hides the raw values");
        assert!(b.sorted_values().is_none());
    }

    #[test]
    fn degenerate_statistic_sets_keep_percentiles() {
        let set = |n: f64, v: f64| {
            DatumValue::StatisticSet(StatisticSet {
                sample_count: n,
                sum: v * n,
                minimum: v,
                maximum: v,
            })
        };
        let b = bucketize(&[pt(0, set(1.0, 5.0)), pt(0, set(3.0, 2.0))], 0, 60_000);
        assert_eq!(b[&0].sorted_values(), Some(vec![(2.0, 3.0), (5.0, 1.0)]));
        let neg = bucketize(&[pt(0, DatumValue::Single(-1.0))], 0, 60_000);
        assert!(neg[&0].sorted_values().is_none(), "negative values");
    }

    #[test]
    fn periods_split_points() {
        let pts: Vec<Point> = (0..5)
            .map(|i| pt(100_000 + i * 30_000, DatumValue::Single(i as f64)))
            .collect();
        let b = bucketize(&pts, 60_000, 60_000);
        let keys: Vec<i64> = b.keys().copied().collect();
        assert_eq!(keys, vec![60_000, 120_000, 180_000]);
        assert_eq!(b[&120_000].sample_count, 2.0);
        assert!(bucketize(&pts, 200_000, 60_000)
            .keys()
            .all(|k| *k >= 200_000));
    }
}
