//! Metric filters and subscription filters of log groups: `log_filters.db`.
//!
//! # Schema (version 1)
//! - `metric_filters(group_name, name, body, PRIMARY KEY (group_name, name))`
//! - `subscription_filters(group_name, name, body, PRIMARY KEY (group_name, name))`
//!
//! `body` is the JSON of [`MetricFilterDef`] / [`SubscriptionDef`] (serde field names; add
//! optional fields only). Each definition records the id of the log group it was made for;
//! group ids are never reused (`AUTOINCREMENT` in `logs.db`), so a filter whose group was deleted
//! (and maybe re-created under the same name) is recognised as stale: it is ignored by ingestion
//! and listings, and replaced or removed by the next change to that name. DeleteLogGroup
//! removes the group's filters ([`Job::DeleteGroup`], matched by group id, so the filters of a
//! group re-created under the name meanwhile stay); rows left stale by collectors from before
//! that change stay ignored as described. Keeping the filters
//! in their own file keeps `logs.db`'s migrations untouched.
//!
//! Writes go through a [`Committer`]; the in-memory [`Filters`] (definitions with their compiled
//! patterns) is updated by the commit hook, so it only ever shows committed state.

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use super::sqlite::{self, Committer, GroupLimits, OpenOptions};
use super::StoreError;
use crate::logs_pattern::FilterPattern;

const MIGRATIONS: &[&str] = &["
CREATE TABLE metric_filters (group_name TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
                             PRIMARY KEY (group_name, name));
CREATE TABLE subscription_filters (group_name TEXT NOT NULL, name TEXT NOT NULL,
                                   body TEXT NOT NULL, PRIMARY KEY (group_name, name));
"];

/// File name under the data directory.
pub const FILE_NAME: &str = "log_filters.db";

/// The one `metricTransformations` member of a metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    /// A number, `$.selector` or `$field`.
    pub metric_value: String,
    pub default_value: Option<f64>,
    /// Dimension name → `$.selector` / `$field`.
    pub dimensions: BTreeMap<String, String>,
    pub unit: Option<String>,
}

/// A stored metric filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilterDef {
    pub group_name: String,
    pub group_id: i64,
    pub name: String,
    pub pattern: String,
    pub transformation: MetricTransformation,
    pub creation_time: i64,
    #[serde(default)]
    pub apply_on_transformed_logs: bool,
}

/// A stored subscription filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionDef {
    pub group_name: String,
    pub group_id: i64,
    pub name: String,
    pub pattern: String,
    pub destination_arn: String,
    pub role_arn: Option<String>,
    pub distribution: String,
    pub creation_time: i64,
    #[serde(default)]
    pub apply_on_transformed_logs: bool,
}

/// A definition with its compiled pattern.
#[derive(Debug, Clone)]
pub struct Compiled<D> {
    pub def: D,
    pub pattern: Arc<FilterPattern>,
}

/// Every filter, by (group name, filter name).
#[derive(Debug, Default)]
pub struct Filters {
    pub metric: BTreeMap<(String, String), Arc<Compiled<MetricFilterDef>>>,
    pub subscription: BTreeMap<(String, String), Arc<Compiled<SubscriptionDef>>>,
}

impl Filters {
    /// The live metric filters of a group (made for group id `group_id`), in name order.
    pub fn metric_of(&self, group: &str, group_id: i64) -> Vec<Arc<Compiled<MetricFilterDef>>> {
        range(&self.metric, group)
            .filter(|f| f.def.group_id == group_id)
            .cloned()
            .collect()
    }

    /// The live subscription filters of a group, in name order.
    pub fn subscription_of(
        &self,
        group: &str,
        group_id: i64,
    ) -> Vec<Arc<Compiled<SubscriptionDef>>> {
        range(&self.subscription, group)
            .filter(|f| f.def.group_id == group_id)
            .cloned()
            .collect()
    }

    /// True when `group` has any filter at all (live or stale): the ingest fast path.
    pub fn any_for(&self, group: &str) -> bool {
        range(&self.metric, group).next().is_some()
            || range(&self.subscription, group).next().is_some()
    }
}

fn range<'a, D>(
    map: &'a BTreeMap<(String, String), Arc<Compiled<D>>>,
    group: &str,
) -> impl Iterator<Item = &'a Arc<Compiled<D>>> + 'a {
    let group = group.to_string();
    map.range((group.clone(), String::new())..)
        .take_while(move |((g, _), _)| *g == group)
        .map(|(_, v)| v)
}

/// One write.
#[derive(Debug)]
pub enum Job {
    PutMetric(MetricFilterDef),
    DeleteMetric {
        group: String,
        name: String,
    },
    PutSubscription(SubscriptionDef),
    DeleteSubscription {
        group: String,
        name: String,
    },
    /// Every filter made for the group with this name and id (a deleted group).
    DeleteGroup {
        group: String,
        group_id: i64,
    },
}

fn encode<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("encode filter: {e}")))
}

fn apply(tx: &Transaction<'_>, job: &Job) -> Result<(), StoreError> {
    match job {
        Job::PutMetric(d) => {
            tx.execute(
                "INSERT OR REPLACE INTO metric_filters (group_name, name, body) VALUES (?1, ?2, ?3)",
                params![d.group_name, d.name, encode(d)?],
            )?;
        }
        Job::DeleteMetric { group, name } => {
            tx.execute(
                "DELETE FROM metric_filters WHERE group_name = ?1 AND name = ?2",
                params![group, name],
            )?;
        }
        Job::PutSubscription(d) => {
            tx.execute(
                "INSERT OR REPLACE INTO subscription_filters (group_name, name, body)
                 VALUES (?1, ?2, ?3)",
                params![d.group_name, d.name, encode(d)?],
            )?;
        }
        Job::DeleteSubscription { group, name } => {
            tx.execute(
                "DELETE FROM subscription_filters WHERE group_name = ?1 AND name = ?2",
                params![group, name],
            )?;
        }
        Job::DeleteGroup { group, group_id } => {
            for table in ["metric_filters", "subscription_filters"] {
                tx.execute(
                    &format!(
                        "DELETE FROM {table} WHERE group_name = ?1
                         AND json_extract(body, '$.group_id') = ?2"
                    ),
                    params![group, group_id],
                )?;
            }
        }
    }
    Ok(())
}

/// Compile `pattern`; `extra` are the selectors read from matching events besides the
/// pattern's own (a metric filter's value and dimensions; see [`FilterPattern::also_read`]).
fn compile<D>(def: D, pattern: &str, extra: &[String]) -> Option<Arc<Compiled<D>>> {
    match FilterPattern::parse(pattern) {
        Ok(mut p) => {
            for selector in extra {
                p.also_read(selector);
            }
            Some(Arc::new(Compiled {
                def,
                pattern: Arc::new(p),
            }))
        }
        Err(e) => {
            tracing::warn!(pattern, error = %e, "Stored filter pattern no longer parses; filter ignored.");
            None
        }
    }
}

fn publish(state: &RwLock<Filters>, job: Job) {
    let mut s = state.write().unwrap_or_else(|p| p.into_inner());
    match job {
        Job::PutMetric(d) => {
            let key = (d.group_name.clone(), d.name.clone());
            let pattern = d.pattern.clone();
            let t = &d.transformation;
            let extra: Vec<String> = std::iter::once(t.metric_value.clone())
                .chain(t.dimensions.values().cloned())
                .collect();
            match compile(d, &pattern, &extra) {
                Some(c) => s.metric.insert(key, c),
                None => s.metric.remove(&key),
            };
        }
        Job::DeleteMetric { group, name } => {
            s.metric.remove(&(group, name));
        }
        Job::PutSubscription(d) => {
            let key = (d.group_name.clone(), d.name.clone());
            let pattern = d.pattern.clone();
            match compile(d, &pattern, &[]) {
                Some(c) => s.subscription.insert(key, c),
                None => s.subscription.remove(&key),
            };
        }
        Job::DeleteSubscription { group, name } => {
            s.subscription.remove(&(group, name));
        }
        Job::DeleteGroup { group, group_id } => {
            s.metric
                .retain(|(g, _), c| !(*g == group && c.def.group_id == group_id));
            s.subscription
                .retain(|(g, _), c| !(*g == group && c.def.group_id == group_id));
        }
    }
}

/// The filter store.
#[derive(Debug)]
pub struct FilterStore {
    committer: Committer<Job>,
    state: Arc<RwLock<Filters>>,
}

impl FilterStore {
    /// Open (or create) the store under `dir` and load every filter.
    pub fn open(dir: &Path, opts: OpenOptions) -> Result<Self, StoreError> {
        let path = dir.join(FILE_NAME);
        let opts = OpenOptions {
            cache_kib: opts.cache_kib.min(2 * 1024),
            ..opts
        };
        let conn = sqlite::open(&path, MIGRATIONS, opts)?;
        let state = Arc::new(RwLock::new(Filters::default()));
        {
            let mut st = conn.prepare("SELECT body FROM metric_filters")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                let d: MetricFilterDef = serde_json::from_str(&body?)
                    .map_err(|e| StoreError::Corrupt(format!("metric filter: {e}")))?;
                publish(&state, Job::PutMetric(d));
            }
            let mut st = conn.prepare("SELECT body FROM subscription_filters")?;
            for body in st.query_map([], |r| r.get::<_, String>(0))? {
                let d: SubscriptionDef = serde_json::from_str(&body?)
                    .map_err(|e| StoreError::Corrupt(format!("subscription filter: {e}")))?;
                publish(&state, Job::PutSubscription(d));
            }
        }
        let published = state.clone();
        let committer = Committer::spawn(
            "log-filters-writer",
            conn,
            GroupLimits::default(),
            apply,
            move |job| publish(&published, job),
        )?;
        Ok(FilterStore { committer, state })
    }

    /// Commit a change; resolves after the commit (memory updated).
    pub async fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.committer.submit(job).await
    }

    /// Read the committed filters.
    pub fn with<R>(&self, f: impl FnOnce(&Filters) -> R) -> R {
        f(&self.state.read().unwrap_or_else(|p| p.into_inner()))
    }
}
