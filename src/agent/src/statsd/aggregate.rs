//! Aggregation: per collection interval ([`Gather`]), then per aggregation window ([`Windows`]).
//!
//! Stage 1, [`Gather`] (fed by the parse thread, drained by the source every
//! `metrics_collection_interval`), follows the StatsD semantics of the reference agent:
//! - a series is (metric name, metric type, tags sorted by name; a later duplicate tag wins);
//! - counters: the sum of `value / rate` (kept as a float, so `@0.3` rates are not truncated);
//! - gauges: the last value; `+x` / `-x` change the previous value, which is remembered across
//!   intervals (a relative change to a gauge never seen starts from 0);
//! - sets: the number of distinct members (memory-bounded: the count saturates at
//!   [`MAX_SET_MEMBERS`] per interval);
//! - timings and histograms: every value, with weight `1/rate`, compacted into
//!   (value, count) pairs;
//! - every series is reset after a drain (a gauge's last value is kept only as the base for
//!   relative changes; an untouched gauge is not re-emitted).
//!
//! Stage 2, [`Windows`]: with `metrics_aggregation_interval` N > 0, every drained series value
//! is merged into the distribution of its window `[floor(t/N)·N, +N)` (aligned to the epoch, as
//! the reference agent aligns to the wall clock); a window is emitted once a drain at or after
//! its end happens, stamped with the window start. With N = 0 nothing is merged.
//!
//! Invariants: at most [`MAX_SERIES`] series per interval (more are counted as dropped, never
//! stored); every stored number is finite; distributions are sorted by value with distinct
//! values, so splitting them at [`MAX_VALUES_PER_DATUM`] keeps each datum's values distinct.

use super::parse::{write_name, Kind, Line, SampleValue};
use std::collections::{HashMap, HashSet};

/// Most series kept per collection interval (and gauge bases remembered).
pub const MAX_SERIES: usize = 100_000;
/// Most distinct members a set remembers per interval (its count saturates there).
pub const MAX_SET_MEMBERS: usize = 100_000;
/// CloudWatch's limit on distinct values in one datum.
pub const MAX_VALUES_PER_DATUM: usize = 150;
/// A timing series compacts its raw values when it holds this many more since the last time.
const COMPACT_STEP: usize = 4096;

/// What identifies a series, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId {
    pub name: String,
    pub kind: Kind,
    /// Sorted by name, names unique.
    pub tags: Vec<(String, String)>,
}

#[derive(Debug)]
enum Acc {
    Counter(f64),
    Gauge(f64),
    Set(HashSet<Box<str>>),
    /// Raw (value, weight) pairs; `compacted` is how many leading ones are sorted and distinct.
    Dist {
        pairs: Vec<(f64, f64)>,
        compacted: usize,
    },
}

#[derive(Debug)]
struct Series {
    id: SeriesId,
    acc: Acc,
}

/// A drained series value.
#[derive(Debug, Clone, PartialEq)]
pub enum Drained {
    Single(f64),
    /// Sorted by value, values distinct, weights > 0.
    Dist(Vec<(f64, f64)>),
}

/// The per-interval aggregation state.
#[derive(Debug, Default)]
pub struct Gather {
    series: HashMap<Box<str>, Series>,
    gauge_base: HashMap<Box<str>, f64>,
    key: String,
    sorted_tags: Vec<usize>,
}

/// What [`Gather::add_line`] did with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Added {
    pub samples: u64,
    /// Samples of a new series beyond [`MAX_SERIES`].
    pub series_dropped: u64,
}

impl Gather {
    /// Add every sample of a parsed line. `separator` replaces `.` in bucket names.
    pub fn add_line(&mut self, line: &Line<'_>, separator: &str) -> Added {
        let mut added = Added::default();
        // Tags sorted by name (a stable sort, so the last duplicate of a name comes last and
        // wins); a user tag called `metric_type` is replaced by the real one.
        let tags = &line.tags;
        self.sorted_tags.clear();
        self.sorted_tags
            .extend((0..tags.len()).filter(|&i| tags[i].0 != "metric_type"));
        self.sorted_tags.sort_by(|&a, &b| tags[a].0.cmp(tags[b].0));
        let mut kept: Vec<usize> = Vec::with_capacity(self.sorted_tags.len());
        for &i in &self.sorted_tags {
            match kept.last_mut() {
                Some(last) if tags[*last].0 == tags[i].0 => *last = i,
                _ => kept.push(i),
            }
        }
        for s in &line.samples {
            // Key: kind byte, name, then "\0k\0v" per tag.
            self.key.clear();
            self.key.push(char::from(s.kind.tag_byte()));
            write_name(s.bucket, separator, &mut self.key);
            for &i in &kept {
                self.key.push('\0');
                self.key.push_str(tags[i].0);
                self.key.push('\0');
                self.key.push_str(tags[i].1);
            }
            if !self.series.contains_key(self.key.as_str()) {
                if self.series.len() >= MAX_SERIES {
                    added.series_dropped += 1;
                    continue;
                }
                let mut name = String::new();
                write_name(s.bucket, separator, &mut name);
                let id = SeriesId {
                    name,
                    kind: s.kind,
                    tags: kept
                        .iter()
                        .map(|&i| (tags[i].0.to_string(), tags[i].1.to_string()))
                        .collect(),
                };
                let acc = match s.kind {
                    Kind::Counter => Acc::Counter(0.0),
                    Kind::Gauge => Acc::Gauge(
                        self.gauge_base
                            .get(self.key.as_str())
                            .copied()
                            .unwrap_or(0.0),
                    ),
                    Kind::Set => Acc::Set(HashSet::new()),
                    Kind::Timing | Kind::Histogram => Acc::Dist {
                        pairs: Vec::new(),
                        compacted: 0,
                    },
                };
                self.series
                    .insert(self.key.as_str().into(), Series { id, acc });
            }
            let Some(series) = self.series.get_mut(self.key.as_str()) else {
                continue;
            };
            apply(&mut series.acc, s.value, s.rate);
            added.samples += 1;
        }
        added
    }

    /// Number of series held.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Take every series' value and reset (gauge bases are kept).
    pub fn drain(&mut self) -> Vec<(SeriesId, Drained)> {
        let series = std::mem::take(&mut self.series);
        let mut out = Vec::with_capacity(series.len());
        for (key, s) in series {
            let value = match s.acc {
                Acc::Counter(v) => Drained::Single(v),
                Acc::Gauge(v) => {
                    if self.gauge_base.len() < MAX_SERIES || self.gauge_base.contains_key(&key) {
                        self.gauge_base.insert(key, v);
                    }
                    Drained::Single(v)
                }
                Acc::Set(m) => Drained::Single(m.len() as f64),
                Acc::Dist { mut pairs, .. } => {
                    compact(&mut pairs);
                    Drained::Dist(pairs)
                }
            };
            if let Drained::Single(v) = value {
                if !v.is_finite() {
                    continue;
                }
            }
            out.push((s.id, value));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn apply(acc: &mut Acc, value: SampleValue<'_>, rate: f64) {
    match (acc, value) {
        (Acc::Counter(sum), SampleValue::Number(v)) => *sum += v / rate,
        (Acc::Gauge(g), SampleValue::Number(v)) => *g = v,
        (Acc::Gauge(g), SampleValue::Relative(v)) => *g += v,
        (Acc::Set(m), SampleValue::Member(v)) if m.len() < MAX_SET_MEMBERS && !m.contains(v) => {
            m.insert(v.into());
        }
        (Acc::Dist { pairs, compacted }, SampleValue::Number(v)) => {
            pairs.push((v, 1.0 / rate));
            if pairs.len() >= *compacted + COMPACT_STEP {
                compact(pairs);
                *compacted = pairs.len();
            }
        }
        // The parser pairs values with kinds; anything else cannot happen and is ignored.
        _ => {}
    }
}

/// Sort by value and merge equal values, summing weights; drops non-finite results.
pub fn compact(pairs: &mut Vec<(f64, f64)>) {
    pairs.retain(|(v, w)| v.is_finite() && w.is_finite() && *w > 0.0);
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

/// An ended window: (window start in epoch ms, series, compacted distribution).
pub type ClosedWindow = (i64, SeriesId, Vec<(f64, f64)>);

/// Stage 2: distributions per (window start, series).
#[derive(Debug, Default)]
pub struct Windows {
    interval_ms: i64,
    open: HashMap<(i64, SeriesId), Vec<(f64, f64)>>,
}

impl Windows {
    /// Windows of `interval_secs` (> 0).
    pub fn new(interval_secs: u64) -> Self {
        Windows {
            interval_ms: i64::try_from(interval_secs.max(1))
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            open: HashMap::new(),
        }
    }

    /// Merge values drained at `now_ms`, then return every window that has ended by `now_ms`
    /// as (window start, series, compacted distribution), oldest first.
    pub fn add_and_close(
        &mut self,
        now_ms: i64,
        drained: Vec<(SeriesId, Drained)>,
    ) -> Vec<ClosedWindow> {
        let start = now_ms.div_euclid(self.interval_ms) * self.interval_ms;
        for (id, value) in drained {
            let e = self.open.entry((start, id)).or_default();
            match value {
                Drained::Single(v) => e.push((v, 1.0)),
                Drained::Dist(p) => e.extend(p),
            }
            if e.len() > COMPACT_STEP {
                compact(e);
            }
        }
        let interval = self.interval_ms;
        let ended: Vec<(i64, SeriesId)> = self
            .open
            .keys()
            .filter(|(s, _)| s.saturating_add(interval) <= now_ms)
            .cloned()
            .collect();
        let mut out = Vec::with_capacity(ended.len());
        for k in ended {
            if let Some(mut pairs) = self.open.remove(&k) {
                compact(&mut pairs);
                out.push((k.0, k.1, pairs));
            }
        }
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }

    /// Series held in open windows.
    pub fn open_len(&self) -> usize {
        self.open.len()
    }
}

/// Split a compacted distribution into chunks of at most [`MAX_VALUES_PER_DATUM`] values.
pub fn split(pairs: &[(f64, f64)]) -> impl Iterator<Item = (Vec<f64>, Vec<f64>)> + '_ {
    pairs.chunks(MAX_VALUES_PER_DATUM).map(|c| {
        (
            c.iter().map(|p| p.0).collect(),
            c.iter().map(|p| p.1).collect(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statsd::parse::parse_line;

    fn feed(g: &mut Gather, text: &str, sep: &str) {
        for l in text.lines() {
            let mut line = Line::default();
            parse_line(l.as_bytes(), &mut line).unwrap();
            g.add_line(&line, sep);
        }
    }

    fn by_name(d: &[(SeriesId, Drained)], name: &str, kind: Kind) -> Drained {
        d.iter()
            .find(|(id, _)| id.name == name && id.kind == kind)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} missing in {d:?}"))
    }

    #[test]
    fn interval_semantics() {
        let mut g = Gather::default();
        feed(
            &mut g,
            "c:1|c\nc:2|c|@0.5\ng:10|g\ng:-3|g\ng:+1|g\ns:a|s\ns:b|s\ns:a|s\nt:5|ms\nt:5|ms|@0.5\nt:1|ms\nh:2|h\na.b.c:1|c",
            "_",
        );
        let d = g.drain();
        assert_eq!(by_name(&d, "c", Kind::Counter), Drained::Single(5.0));
        assert_eq!(by_name(&d, "g", Kind::Gauge), Drained::Single(8.0));
        assert_eq!(by_name(&d, "s", Kind::Set), Drained::Single(2.0));
        assert_eq!(
            by_name(&d, "t", Kind::Timing),
            Drained::Dist(vec![(1.0, 1.0), (5.0, 3.0)])
        );
        assert_eq!(
            by_name(&d, "h", Kind::Histogram),
            Drained::Dist(vec![(2.0, 1.0)])
        );
        assert_eq!(by_name(&d, "a_b_c", Kind::Counter), Drained::Single(1.0));
        assert!(g.is_empty());
        // Relative gauge changes apply to the previous interval's value; untouched gauges
        // and counters are not re-emitted.
        feed(&mut g, "g:+2|g\nnew:-1|g", "_");
        let d = g.drain();
        assert_eq!(d.len(), 2);
        assert_eq!(by_name(&d, "g", Kind::Gauge), Drained::Single(10.0));
        assert_eq!(by_name(&d, "new", Kind::Gauge), Drained::Single(-1.0));
    }

    #[test]
    fn tags_make_series() {
        let mut g = Gather::default();
        feed(
            &mut g,
            "r:1|c|#b:2,a:1\nr:1|c|#a:1,b:2\nr:1|c|#a:9\nr:1|c|#a:1,a:9\nr:1|c|#metric_type:x\nr:1|c",
            ".",
        );
        let d = g.drain();
        let got: Vec<(Vec<(String, String)>, Drained)> =
            d.into_iter().map(|(id, v)| (id.tags, v)).collect();
        let t = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            got,
            vec![
                (t(&[]), Drained::Single(2.0)),
                (t(&[("a", "1"), ("b", "2")]), Drained::Single(2.0)),
                (t(&[("a", "9")]), Drained::Single(2.0)),
            ]
        );
    }

    #[test]
    fn series_cap() {
        let mut g = Gather::default();
        let mut line_text = String::new();
        let mut dropped = 0;
        for i in 0..MAX_SERIES + 10 {
            line_text.clear();
            line_text.push_str(&format!("s{i}:1|c"));
            let mut line = Line::default();
            parse_line(line_text.as_bytes(), &mut line).unwrap();
            dropped += g.add_line(&line, "_").series_dropped;
        }
        assert_eq!(dropped, 10);
        assert_eq!(g.len(), MAX_SERIES);
    }

    #[test]
    fn compaction_and_split() {
        let mut p = vec![
            (3.0, 1.0),
            (1.0, 2.0),
            (3.0, 0.5),
            (f64::NAN, 1.0),
            (2.0, 0.0),
        ];
        compact(&mut p);
        assert_eq!(p, vec![(1.0, 2.0), (3.0, 1.5)]);
        let many: Vec<(f64, f64)> = (0..320).map(|i| (f64::from(i), 1.0)).collect();
        let chunks: Vec<_> = split(&many).collect();
        assert_eq!(
            chunks.iter().map(|c| c.0.len()).collect::<Vec<_>>(),
            vec![150, 150, 20]
        );
        // Many raw values compact while they arrive.
        let mut g = Gather::default();
        for i in 0..20_000 {
            let text = format!("t:{}|ms", i % 7);
            let mut line = Line::default();
            parse_line(text.as_bytes(), &mut line).unwrap();
            g.add_line(&line, "_");
        }
        match by_name(&g.drain(), "t", Kind::Timing) {
            Drained::Dist(p) => {
                assert_eq!(p.len(), 7);
                assert_eq!(p.iter().map(|x| x.1).sum::<f64>(), 20_000.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn windows_merge_and_close_aligned() {
        let id = |n: &str| SeriesId {
            name: n.into(),
            kind: Kind::Counter,
            tags: vec![],
        };
        let mut w = Windows::new(60);
        // Drains at 10 s steps within [60, 120): nothing closes.
        for (t, v) in [(60_000, 1.0), (70_000, 2.0), (110_000, 1.0)] {
            assert!(w
                .add_and_close(t, vec![(id("c"), Drained::Single(v))])
                .is_empty());
        }
        let closed = w.add_and_close(120_000, vec![(id("c"), Drained::Dist(vec![(9.0, 2.0)]))]);
        assert_eq!(
            closed,
            vec![(60_000, id("c"), vec![(1.0, 2.0), (2.0, 1.0)])]
        );
        assert_eq!(w.open_len(), 1);
        // A late drain closes several windows at once, oldest first.
        let closed = w.add_and_close(300_000, vec![]);
        assert_eq!(closed, vec![(120_000, id("c"), vec![(9.0, 2.0)])]);
    }
}
