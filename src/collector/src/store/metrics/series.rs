//! The series dictionary: series key <-> series id, kept in memory and mirrored in `series`.
//!
//! Invariants:
//! - ids are never reused; an id is handed out once, under the dictionary lock;
//! - an entry is `persisted` only after a transaction inserting its `series` row committed; until
//!   then every ingest job that uses it carries the row again (`INSERT OR IGNORE`), so a failed
//!   job can never leave committed points pointing at a missing series row;
//! - `last_ts_ms` only moves forward and only for committed points.

use hostwatch_model::{MetricKey, Unit};
use std::collections::{BTreeMap, HashMap};

use super::{SeriesId, SeriesKey};

#[derive(Debug)]
struct Slot {
    key: SeriesKey,
    persisted: bool,
    /// Latest committed point timestamp, `i64::MIN` when none.
    last_ts_ms: i64,
}

/// The in-memory dictionary.
#[derive(Debug, Default)]
pub struct SeriesIndex {
    by_key: HashMap<SeriesKey, SeriesId>,
    slots: HashMap<SeriesId, Slot>,
    /// Metric identity (without unit) -> its series, for listing and lookups.
    metrics: BTreeMap<MetricKey, Vec<SeriesId>>,
    next_id: SeriesId,
}

impl SeriesIndex {
    pub fn new() -> Self {
        SeriesIndex {
            next_id: 1,
            ..Default::default()
        }
    }

    /// Register a series loaded from disk.
    pub fn load(&mut self, id: SeriesId, key: SeriesKey) {
        self.next_id = self.next_id.max(id + 1);
        self.insert(id, key, true);
    }

    fn insert(&mut self, id: SeriesId, key: SeriesKey, persisted: bool) {
        self.metrics.entry(key.metric.clone()).or_default().push(id);
        self.by_key.insert(key.clone(), id);
        self.slots.insert(
            id,
            Slot {
                key,
                persisted,
                last_ts_ms: i64::MIN,
            },
        );
    }

    /// The id of `key`, creating it when new. Returns the key back when its row still has to be
    /// written (new or not yet persisted).
    pub fn intern(&mut self, key: SeriesKey) -> (SeriesId, Option<SeriesKey>) {
        if let Some(id) = self.by_key.get(&key) {
            let id = *id;
            let persisted = self.slots.get(&id).is_some_and(|s| s.persisted);
            return (id, (!persisted).then_some(key));
        }
        let id = self.next_id;
        self.next_id += 1;
        self.insert(id, key.clone(), false);
        (id, Some(key))
    }

    pub fn mark_persisted(&mut self, id: SeriesId) {
        if let Some(s) = self.slots.get_mut(&id) {
            s.persisted = true;
        }
    }

    pub fn observe(&mut self, id: SeriesId, ts_ms: i64) {
        if let Some(s) = self.slots.get_mut(&id) {
            s.last_ts_ms = s.last_ts_ms.max(ts_ms);
        }
    }

    /// The series (one per unit) of a metric identity.
    pub fn units_of(&self, metric: &MetricKey) -> Vec<(SeriesId, Unit)> {
        self.metrics
            .get(metric)
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| self.slots.get(id).map(|s| (*id, s.key.unit)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Metrics in key order strictly after `after`, each with the latest data time over its
    /// units, for which `keep` holds; at most `limit`, plus whether more matched.
    pub fn list(
        &self,
        after: Option<&MetricKey>,
        keep: &dyn Fn(&MetricKey, i64) -> bool,
        limit: usize,
    ) -> (Vec<MetricKey>, bool) {
        let iter: Box<dyn Iterator<Item = (&MetricKey, &Vec<SeriesId>)>> =
            match after {
                Some(a) => Box::new(self.metrics.range::<MetricKey, _>((
                    std::ops::Bound::Excluded(a),
                    std::ops::Bound::Unbounded,
                ))),
                None => Box::new(self.metrics.iter()),
            };
        let mut out = Vec::new();
        for (key, ids) in iter {
            let last = ids
                .iter()
                .filter_map(|id| self.slots.get(id).map(|s| s.last_ts_ms))
                .max()
                .unwrap_or(i64::MIN);
            if keep(key, last) {
                if out.len() == limit {
                    return (out, true);
                }
                out.push(key.clone());
            }
        }
        (out, false)
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::Dimension;

    fn key(name: &str, unit: Unit) -> SeriesKey {
        SeriesKey {
            metric: MetricKey::new("ns", name, vec![Dimension::new("d", "1")]),
            unit,
        }
    }

    #[test]
    fn interning_is_stable_and_tracks_persistence() {
        let mut ix = SeriesIndex::new();
        let (a, new_a) = ix.intern(key("a", Unit::Count));
        assert!(new_a.is_some());
        let (a2, again) = ix.intern(key("a", Unit::Count));
        assert_eq!(a, a2);
        assert!(
            again.is_some(),
            "not persisted yet: row must be carried again"
        );
        ix.mark_persisted(a);
        assert!(ix.intern(key("a", Unit::Count)).1.is_none());
        let (b, _) = ix.intern(key("a", Unit::Seconds));
        assert_ne!(a, b);
        assert_eq!(ix.units_of(&key("a", Unit::None).metric).len(), 2);
    }

    #[test]
    fn listing_pages_in_key_order() {
        let mut ix = SeriesIndex::new();
        for (i, n) in ["c", "a", "b"].iter().enumerate() {
            let (id, _) = ix.intern(key(n, Unit::None));
            ix.observe(id, i as i64);
        }
        let all = |_: &MetricKey, _: i64| true;
        let (page, more) = ix.list(None, &all, 2);
        assert!(more);
        assert_eq!(page[0].metric_name, "a");
        assert_eq!(page[1].metric_name, "b");
        let (rest, more) = ix.list(page.last(), &all, 2);
        assert!(!more);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].metric_name, "c");
        let recent = |_: &MetricKey, t: i64| t >= 1;
        assert_eq!(ix.list(None, &recent, 10).0.len(), 2);
    }
}
