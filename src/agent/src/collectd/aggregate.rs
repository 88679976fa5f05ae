//! Holding received values until the collection tick, with optional per-interval aggregation.
//!
//! Values are grouped by series (metric name + dimensions, looked up by a caller-built identity
//! string so the hot path allocates nothing for a known series):
//!
//! - with an aggregation interval `I > 0` (`metrics_aggregation_interval`), every value goes to
//!   the window `[floor(t/I)·I, +I)` of its own timestamp (aligned to the epoch, as the
//!   reference agent aligns to the wall clock). [`Aggregator::drain`] at time `now` emits every
//!   window that has ended by `now` as a distribution (`Values` / `Counts`, sorted distinct
//!   values, split into datums of at most [`MAX_VALUES_PER_DATUM`] values) stamped with the
//!   window start. A value arriving after its window was emitted starts a new datum for the same
//!   window (CloudWatch merges them);
//! - with `I = 0`, each value is emitted as its own datum with its own timestamp.
//!
//! Bounds: at most [`MAX_SERIES`] series and [`MAX_HELD`] held values (a window compacts equal
//! values as it grows, so what is held follows the number of *distinct* values); a value beyond either is
//! refused ([`Aggregator::add`] returns `false`) and the caller counts it as dropped. Series that
//! held nothing for a whole drain are forgotten, so churn does not exhaust the series table.

use hostwatch_model::{DatumValue, Dimension, MetricDatum, Unit};
use std::collections::HashMap;

/// CloudWatch's limit on distinct values in one datum.
pub const MAX_VALUES_PER_DATUM: usize = 150;
/// Most series held at once.
pub const MAX_SERIES: usize = 100_000;
/// Most values held at once (about 16 bytes each).
pub const MAX_HELD: usize = 1_000_000;

#[derive(Debug)]
struct Series {
    name: String,
    dims: Vec<Dimension>,
    /// Open windows; few are open at once.
    windows: Vec<Window>,
    /// Without aggregation: (timestamp ms, value).
    raw: Vec<(i64, f64)>,
    /// Whether a value arrived since the previous drain.
    touched: bool,
}

#[derive(Debug)]
struct Window {
    start_ms: i64,
    /// Values with counts; the first `compacted` are sorted and distinct.
    pairs: Vec<(f64, f64)>,
    compacted: usize,
}

/// A window compacts its values when it holds this many more than after its last compaction.
const COMPACT_STEP: usize = 256;

/// Held values of one receiver.
#[derive(Debug)]
pub struct Aggregator {
    interval_ms: i64,
    storage_resolution: u32,
    series: HashMap<Box<str>, Series>,
    held: usize,
    max_held: usize,
    max_series: usize,
}

impl Aggregator {
    /// `interval_secs` 0 = no aggregation.
    pub fn new(interval_secs: u64, storage_resolution: u32) -> Self {
        Aggregator {
            interval_ms: i64::try_from(interval_secs)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            storage_resolution,
            series: HashMap::new(),
            held: 0,
            max_held: MAX_HELD,
            max_series: MAX_SERIES,
        }
    }

    /// Lower bounds (tests).
    pub fn with_limits(mut self, max_series: usize, max_held: usize) -> Self {
        self.max_series = max_series;
        self.max_held = max_held;
        self
    }

    /// Number of values held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Whether the series `identity` is known.
    pub fn has_series(&self, identity: &str) -> bool {
        self.series.contains_key(identity)
    }

    /// Hold `value` at `ts_ms` for the series `identity`; `make` builds its metric name and
    /// dimensions the first time. Returns `false` when the value is refused (bounds).
    pub fn add(
        &mut self,
        identity: &str,
        make: impl FnOnce() -> (String, Vec<Dimension>),
        ts_ms: i64,
        value: f64,
    ) -> bool {
        if self.held >= self.max_held {
            return false;
        }
        if !self.series.contains_key(identity) {
            if self.series.len() >= self.max_series {
                return false;
            }
            let (name, dims) = make();
            self.series.insert(
                identity.into(),
                Series {
                    name,
                    dims,
                    windows: Vec::new(),
                    raw: Vec::new(),
                    touched: false,
                },
            );
        }
        let Some(s) = self.series.get_mut(identity) else {
            return false;
        };
        s.touched = true;
        if self.interval_ms == 0 {
            s.raw.push((ts_ms, value));
            self.held += 1;
            return true;
        }
        let start = ts_ms.div_euclid(self.interval_ms) * self.interval_ms;
        let window = match s.windows.iter_mut().position(|w| w.start_ms == start) {
            Some(i) => &mut s.windows[i],
            None => {
                s.windows.push(Window {
                    start_ms: start,
                    pairs: Vec::new(),
                    compacted: 0,
                });
                let last = s.windows.len() - 1;
                &mut s.windows[last]
            }
        };
        match window.pairs.last_mut() {
            // Repeated values are common (an idle counter); merge them at once.
            Some(last) if last.0 == value => last.1 += 1.0,
            _ => {
                window.pairs.push((value, 1.0));
                self.held += 1;
                if window.pairs.len() >= window.compacted + COMPACT_STEP {
                    // Memory follows the number of distinct values, not of values received.
                    let before = window.pairs.len();
                    compact(&mut window.pairs);
                    window.compacted = window.pairs.len();
                    self.held -= before - window.pairs.len();
                }
            }
        }
        true
    }

    /// Emit everything due by `now_ms` (see the module docs) into `out`, sorted by metric name.
    pub fn drain(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) {
        let start = out.len();
        let interval = self.interval_ms;
        let resolution = self.storage_resolution;
        let mut released = 0usize;
        self.series.retain(|_, s| {
            let was_touched = std::mem::replace(&mut s.touched, false);
            for (ts, v) in s.raw.drain(..) {
                released += 1;
                out.push(MetricDatum {
                    metric_name: s.name.clone(),
                    dimensions: s.dims.clone(),
                    timestamp_ms: Some(ts),
                    value: DatumValue::Single(v),
                    unit: Unit::None,
                    storage_resolution: resolution,
                });
            }
            let mut i = 0;
            while i < s.windows.len() {
                if s.windows[i].start_ms.saturating_add(interval) > now_ms {
                    i += 1;
                    continue;
                }
                let Window {
                    start_ms: ts,
                    mut pairs,
                    ..
                } = s.windows.swap_remove(i);
                released += pairs.len();
                compact(&mut pairs);
                for chunk in pairs.chunks(MAX_VALUES_PER_DATUM) {
                    out.push(MetricDatum {
                        metric_name: s.name.clone(),
                        dimensions: s.dims.clone(),
                        timestamp_ms: Some(ts),
                        value: DatumValue::distribution_with_stats(
                            chunk.iter().map(|p| p.0).collect(),
                            chunk.iter().map(|p| p.1).collect(),
                        ),
                        unit: Unit::None,
                        storage_resolution: resolution,
                    });
                }
            }
            was_touched || !s.windows.is_empty()
        });
        self.held = self.held.saturating_sub(released);
        out[start..].sort_by(|a, b| {
            (&a.metric_name, a.timestamp_ms).cmp(&(&b.metric_name, b.timestamp_ms))
        });
    }
}

/// Sort by value and merge equal values, summing counts; drops non-finite values.
pub fn compact(pairs: &mut Vec<(f64, f64)>) {
    pairs.retain(|(v, c)| v.is_finite() && c.is_finite() && *c > 0.0);
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = 0usize;
    for i in 0..pairs.len() {
        if out > 0 && pairs[out - 1].0 == pairs[i].0 {
            pairs[out - 1].1 += pairs[i].1;
        } else {
            pairs[out] = pairs[i];
            out += 1;
        }
    }
    pairs.truncate(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mk(name: &str) -> impl FnOnce() -> (String, Vec<Dimension>) + '_ {
        move || (name.to_string(), vec![Dimension::new("host", "h")])
    }

    #[test]
    fn windows_by_value_time() {
        let mut a = Aggregator::new(10, 1);
        for (ts, v) in [
            (10_000, 1.0),
            (12_000, 3.0),
            (13_000, 1.0),
            (19_999, 1.0),
            (20_000, 5.0),
        ] {
            assert!(a.add("a", mk("m"), ts, v));
        }
        let mut out = Vec::new();
        a.drain(19_999, &mut out);
        assert!(out.is_empty());
        a.drain(20_000, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].timestamp_ms, Some(10_000));
        assert_eq!(out[0].storage_resolution, 1);
        assert_eq!(
            out[0].value,
            DatumValue::distribution_with_stats(vec![1.0, 3.0], vec![3.0, 1.0])
        );
        assert_eq!(a.held(), 1);
        out.clear();
        a.drain(30_000, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].timestamp_ms, Some(20_000));
        assert_eq!(a.held(), 0);
        // No value since the previous drain and nothing open: forgotten.
        assert!(!a.has_series("a"));
        a.add("b", mk("m"), 30_000, 1.0);
        a.drain(30_000, &mut out);
        assert!(a.has_series("b"), "touched since the previous drain");
    }

    #[test]
    fn splits_at_150_values() {
        let mut a = Aggregator::new(60, 60);
        for i in 0..320 {
            a.add("s", mk("m"), 0, f64::from(i));
        }
        let mut out = Vec::new();
        a.drain(60_000, &mut out);
        let sizes: Vec<usize> = out
            .iter()
            .map(|d| match &d.value {
                DatumValue::Distribution { values, .. } => values.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, vec![150, 150, 20]);
    }

    #[test]
    fn no_aggregation_keeps_each_value() {
        let mut a = Aggregator::new(0, 1);
        a.add("s", mk("m"), 1_500, 2.0);
        a.add("s", mk("m"), 1_000, 1.0);
        let mut out = Vec::new();
        a.drain(0, &mut out);
        let got: Vec<(Option<i64>, DatumValue)> =
            out.into_iter().map(|d| (d.timestamp_ms, d.value)).collect();
        assert_eq!(
            got,
            vec![
                (Some(1_000), DatumValue::Single(1.0)),
                (Some(1_500), DatumValue::Single(2.0))
            ]
        );
        assert_eq!(a.held(), 0);
    }

    #[test]
    fn bounds_refuse_values() {
        let mut a = Aggregator::new(0, 1).with_limits(2, 3);
        assert!(a.add("a", mk("a"), 0, 1.0));
        assert!(a.add("b", mk("b"), 0, 1.0));
        assert!(!a.add("c", mk("c"), 0, 1.0), "series bound");
        assert!(a.add("a", mk("a"), 0, 2.0));
        assert!(!a.add("a", mk("a"), 0, 3.0), "value bound");
        let mut out = Vec::new();
        a.drain(0, &mut out);
        assert_eq!(out.len(), 3);
        assert!(a.add("a", mk("a"), 0, 3.0));
    }

    #[test]
    fn held_values_follow_distinct_values() {
        let mut a = Aggregator::new(60, 60).with_limits(10, 1_000);
        for i in 0..100_000 {
            assert!(a.add("s", mk("m"), 0, f64::from(i % 7)), "value {i}");
        }
        assert!(a.held() < COMPACT_STEP + 7, "{}", a.held());
        let mut out = Vec::new();
        a.drain(60_000, &mut out);
        assert_eq!(
            out[0].value,
            DatumValue::distribution_with_stats(
                (0..7).map(f64::from).collect(),
                (0..7)
                    .map(|i| if i < 100_000 % 7 { 14_286.0 } else { 14_285.0 })
                    .collect()
            )
        );
        assert_eq!(a.held(), 0);
    }

    #[test]
    fn compaction() {
        let mut p = vec![
            (3.0, 1.0),
            (1.0, 2.0),
            (3.0, 0.5),
            (f64::NAN, 1.0),
            (2.0, 0.0),
        ];
        compact(&mut p);
        assert_eq!(p, vec![(1.0, 2.0), (3.0, 1.5)]);
    }
}
