//! The head: committed points not yet folded into blocks, per series, in memory.
//!
//! Every point carries the sequence number of the ingest row it came from. Points enter only
//! after their ingest row committed, and leave only after a compaction that covers their
//! sequence number committed (see `store::metrics` for why readers stay consistent).

use std::collections::HashMap;

use super::{Point, SeriesId};

#[derive(Debug, Clone)]
struct HeadPoint {
    seq: i64,
    point: Point,
}

/// Uncompacted points by series.
#[derive(Debug, Default)]
pub struct Head {
    series: HashMap<SeriesId, Vec<HeadPoint>>,
    points: usize,
}

impl Head {
    /// Publish the points of ingest row `seq`.
    pub fn insert(&mut self, seq: i64, points: impl IntoIterator<Item = (SeriesId, Point)>) {
        for (sid, point) in points {
            self.series
                .entry(sid)
                .or_default()
                .push(HeadPoint { seq, point });
            self.points += 1;
        }
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.points
    }

    /// Points of `sid` in `[from_ms, to_ms)` with their sequence numbers.
    pub fn range(&self, sid: SeriesId, from_ms: i64, to_ms: i64) -> Vec<(i64, Point)> {
        self.series
            .get(&sid)
            .map(|v| {
                v.iter()
                    .filter(|h| h.point.ts_ms >= from_ms && h.point.ts_ms < to_ms)
                    .map(|h| (h.seq, h.point.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Copies of every point with `seq <= upto`, by series, each sorted by time.
    pub fn snapshot_upto(&self, upto: i64) -> Vec<(SeriesId, Vec<Point>)> {
        let mut out: Vec<(SeriesId, Vec<Point>)> = self
            .series
            .iter()
            .filter_map(|(sid, v)| {
                let mut pts: Vec<Point> = v
                    .iter()
                    .filter(|h| h.seq <= upto)
                    .map(|h| h.point.clone())
                    .collect();
                if pts.is_empty() {
                    return None;
                }
                pts.sort_by_key(|p| p.ts_ms);
                Some((*sid, pts))
            })
            .collect();
        out.sort_by_key(|(sid, _)| *sid);
        out
    }

    /// Drop every point with `seq <= upto` (after the compaction covering them committed).
    pub fn prune_upto(&mut self, upto: i64) {
        let mut removed = 0;
        self.series.retain(|_, v| {
            let before = v.len();
            v.retain(|h| h.seq > upto);
            removed += before - v.len();
            !v.is_empty()
        });
        self.points -= removed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::DatumValue;

    fn p(ts: i64, v: f64) -> Point {
        Point {
            ts_ms: ts,
            value: DatumValue::Single(v),
            high_res: false,
        }
    }

    #[test]
    fn snapshot_and_prune_respect_sequence_numbers() {
        let mut h = Head::default();
        h.insert(1, [(1, p(2000, 1.0)), (2, p(1000, 2.0))]);
        h.insert(2, [(1, p(1000, 3.0))]);
        assert_eq!(h.len(), 3);
        let snap = h.snapshot_upto(1);
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].1, vec![p(2000, 1.0)]);
        let all = h.snapshot_upto(2);
        assert_eq!(all[0].1, vec![p(1000, 3.0), p(2000, 1.0)], "sorted by time");
        h.prune_upto(1);
        assert_eq!(h.len(), 1);
        assert_eq!(h.range(1, 0, 10_000), vec![(2, p(1000, 3.0))]);
        assert!(h.range(2, 0, 10_000).is_empty());
        assert!(h.range(1, 0, 1000).is_empty(), "end is exclusive");
    }
}
