//! `metrics.aggregation_dimensions` and `drop_original_metrics`.
//!
//! Each datum is also emitted with only the dimensions of each aggregation set, provided every
//! name in the set is on the datum and the set is smaller than the datum's own dimension count
//! (so a rollup never repeats the original). `[]` gives a rollup with no dimensions. Duplicate
//! sets (same names in any order) count once. The rollup keeps the datum's dimension order.
//!
//! `drop_original_metrics` (per plugin, full metric names, `*` = all) suppresses the original
//! datum so only its rollups are sent.

use hostwatch_model::MetricDatum;

/// The configured aggregation sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollup {
    sets: Vec<Vec<String>>,
}

impl Rollup {
    /// Build from `metrics.aggregation_dimensions`.
    pub fn new(aggregation_dimensions: &[Vec<String>]) -> Self {
        let mut sets: Vec<Vec<String>> = Vec::new();
        for set in aggregation_dimensions {
            let mut s = set.clone();
            s.sort();
            s.dedup();
            if !sets.contains(&s) {
                sets.push(s);
            }
        }
        Rollup { sets }
    }

    /// Apply to `datums` (in place), with the plugin's `drop_original_metrics`.
    pub fn apply(&self, datums: &mut Vec<MetricDatum>, drop_original: &[String]) {
        if self.sets.is_empty() && drop_original.is_empty() {
            return;
        }
        let drop_all = drop_original.iter().any(|n| n == "*");
        let input = std::mem::take(datums);
        for d in input {
            for set in &self.sets {
                if set.len() < d.dimensions.len()
                    && set
                        .iter()
                        .all(|name| d.dimensions.iter().any(|x| &x.name == name))
                {
                    let mut r = d.clone();
                    r.dimensions.retain(|x| set.contains(&x.name));
                    datums.push(r);
                }
            }
            if !(drop_all || drop_original.contains(&d.metric_name)) {
                datums.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::{DatumValue, Dimension, Unit};

    fn datum(name: &str, dims: &[(&str, &str)]) -> MetricDatum {
        MetricDatum {
            metric_name: name.into(),
            dimensions: dims.iter().map(|(n, v)| Dimension::new(*n, *v)).collect(),
            timestamp_ms: Some(0),
            value: DatumValue::Single(1.0),
            unit: Unit::Percent,
            storage_resolution: 60,
        }
    }

    #[test]
    fn rollups_and_drops() {
        let r = Rollup::new(&[
            vec!["cpu".into()],
            vec![],
            vec!["cpu".into(), "host".into()],
            vec!["host".into(), "cpu".into()],
            vec!["missing".into()],
        ]);
        let mut v = vec![datum("cpu_usage_idle", &[("host", "h"), ("cpu", "cpu0")])];
        r.apply(&mut v, &[]);
        let dims: Vec<Vec<Dimension>> = v.iter().map(|d| d.dimensions.clone()).collect();
        assert_eq!(
            dims,
            vec![
                vec![Dimension::new("cpu", "cpu0")],
                vec![],
                vec![Dimension::new("host", "h"), Dimension::new("cpu", "cpu0")],
            ]
        );
        let mut v = vec![
            datum("cpu_usage_idle", &[("host", "h"), ("cpu", "cpu0")]),
            datum("cpu_usage_user", &[("host", "h"), ("cpu", "cpu0")]),
        ];
        r.apply(&mut v, &["cpu_usage_idle".to_string()]);
        assert_eq!(v.len(), 5);
        assert_eq!(
            v.iter()
                .filter(|d| d.metric_name == "cpu_usage_idle")
                .count(),
            2
        );
        let mut v = vec![datum("a", &[("host", "h")])];
        Rollup::default().apply(&mut v, &["*".to_string()]);
        assert!(v.is_empty());
    }
}
