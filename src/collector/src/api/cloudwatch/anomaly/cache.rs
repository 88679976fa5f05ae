//! In-memory cache of trained models.
//!
//! Keys describe everything a model depends on besides the stored data (the watched
//! expression and the queries it uses, the excluded ranges, the training end time), so an entry
//! never needs invalidating: a new training time or configuration is a new key. The cache holds
//! at most [`CAPACITY`] models and drops the least recently inserted when full.

use std::collections::HashMap;
use std::sync::Arc;

use super::model::Model;

/// Most models kept.
pub const CAPACITY: usize = 256;

/// Trained models by key (`None`: trained on no data).
#[derive(Debug, Default)]
pub struct ModelCache {
    entries: HashMap<String, (u64, Option<Arc<Model>>)>,
    next: u64,
}

impl ModelCache {
    /// The model stored under `key`.
    pub fn get(&self, key: &str) -> Option<Option<Arc<Model>>> {
        self.entries.get(key).map(|(_, m)| m.clone())
    }

    /// Store a model, evicting the oldest entry when full.
    pub fn insert(&mut self, key: String, model: Option<Arc<Model>>) {
        if !self.entries.contains_key(&key) && self.entries.len() >= CAPACITY {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.entries.remove(&k);
            }
        }
        self.next += 1;
        self.entries.insert(key, (self.next, model));
    }

    /// Number of cached models.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_evicts_oldest() {
        let mut c = ModelCache::default();
        for i in 0..CAPACITY + 10 {
            c.insert(format!("k{i}"), None);
        }
        assert_eq!(c.len(), CAPACITY);
        assert!(c.get("k0").is_none());
        assert_eq!(c.get(&format!("k{}", CAPACITY + 9)), Some(None));
        c.insert("k20".into(), None);
        assert_eq!(c.len(), CAPACITY);
    }
}
