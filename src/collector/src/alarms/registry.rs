//! The in-memory set of alarms, with the reverse indexes composite evaluation needs.
//!
//! Invariant: the registry only ever holds committed state. Changes are prepared in a
//! [`super::txn::Txn`] overlay, written to the store, and applied here after the commit.

use std::collections::{BTreeMap, HashMap};

use super::model::{Alarm, AlarmConfig};

/// Every alarm, by name, and who refers to whom.
#[derive(Debug, Default)]
pub struct Registry {
    pub alarms: BTreeMap<String, Alarm>,
    /// Child name → composites whose rule references it.
    parents: HashMap<String, Vec<String>>,
    /// Suppressor name → composites it suppresses.
    suppressed: HashMap<String, Vec<String>>,
}

impl Registry {
    /// A registry holding `alarms`.
    pub fn new(alarms: Vec<Alarm>) -> Self {
        let mut r = Registry {
            alarms: alarms
                .into_iter()
                .map(|a| (a.name().to_string(), a))
                .collect(),
            ..Default::default()
        };
        r.reindex();
        r
    }

    /// Rebuild the reverse indexes (after composite configurations changed).
    pub fn reindex(&mut self) {
        self.parents.clear();
        self.suppressed.clear();
        for (name, a) in &self.alarms {
            if let AlarmConfig::Composite(c) = &a.config {
                for child in &c.children {
                    self.parents
                        .entry(child.clone())
                        .or_default()
                        .push(name.clone());
                }
                if let Some(s) = &c.suppressor {
                    self.suppressed
                        .entry(s.clone())
                        .or_default()
                        .push(name.clone());
                }
            }
        }
    }

    /// Composites whose rule references `name` (committed configurations).
    pub fn parents_of(&self, name: &str) -> &[String] {
        self.parents.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Composites suppressed by `name` (committed configurations).
    pub fn suppressed_by(&self, name: &str) -> &[String] {
        self.suppressed.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Apply a committed overlay (`None` = deleted).
    pub fn apply(&mut self, overlay: BTreeMap<String, Option<Alarm>>, reindex: bool) {
        for (name, a) in overlay {
            match a {
                Some(a) => {
                    self.alarms.insert(name, a);
                }
                None => {
                    self.alarms.remove(&name);
                }
            }
        }
        if reindex {
            self.reindex();
        }
    }
}
