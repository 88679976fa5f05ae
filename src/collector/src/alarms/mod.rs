//! CloudWatch alarms: metric alarms, composite alarms, their history and their events.
//!
//! # Parts (one concern per file)
//! - [`model`]: configurations, states and the API's enums;
//! - [`evaluate`] (pure): a metric alarm's decision from the datapoints of its evaluation range,
//!   its current state and "now" — CloudWatch's missing-data tables, M of N, the
//!   premature-alarm rule, low-sample percentiles; [`reason`] renders the state reasons and
//!   `StateReasonData`; `range` builds the range from stored points, [`math`] from a
//!   metric-math alarm's queries;
//! - [`rule`] (the `AlarmRule` grammar), [`composite`] (rule values, cycles, reasons) and
//!   [`suppress`] (actions suppressor with wait and extension periods);
//! - [`history`] and [`events`] (EventBridge events in AWS's shape, the outbox, the
//!   [`events::EventPublisher`] seam);
//! - [`registry`] (the committed alarm set in memory) and [`txn`] (one change prepared as an
//!   overlay, with composite propagation);
//! - [`ops`] (the API operations), [`round`] (one evaluation round) and [`scheduler`] (the
//!   background task running rounds on the injected clock).
//!
//! # Invariants
//! - All time comes from the injected clock; rounds run at multiples of 10 s: alarms with a
//!   10/20/30 s period are evaluated every round, the others on the minute.
//! - Every change — API call or round — is one store transaction holding the changed alarms,
//!   their history items and their outbox entries (events and due actions); memory is updated
//!   only after it committed. A round records its time in the same transaction and a round at
//!   or before the last recorded one never runs, so a restart keeps every state and neither
//!   repeats nor loses an event (see [`events`] for delivery).
//! - Events go to the outbox table of `alarms.db`, the log the collector's default event bus
//!   consumes; an attached [`events::EventPublisher`] receives them after commit, in order.
//!   Configured actions travel with the entries ([`events::DueActions`]); nothing here runs
//!   them (routing to targets is the event bus's job).
//!
//! # Known gaps
//! - PromQL alarms (`EvaluationCriteria`) are refused; `EvaluationState`, alarm contributors
//!   and the SNS message body are not produced; Auto Scaling actions are handed over once per
//!   transition, not every minute while the state lasts;
//! - the evaluation range is `N + max(N / 3, 2)` periods (AWS documents only "more than N");
//!   data older than the range is not consulted right after creation;
//! - the limit of 150 composites per child alarm is not enforced;
//! - metric-math alarms are evaluated through the metric-math engine ([`math`]), one alarm at a
//!   time; 20 s and 30 s math alarms are aligned on their period;
//! - unrecorded message texts and reason phrasings follow the recorded ones' style (see
//!   [`reason`], [`ops`] and the API layer).

pub mod composite;
pub mod error;
pub mod evaluate;
pub mod events;
pub mod history;
pub mod math;
pub mod model;
pub mod ops;
pub(crate) mod range;
pub mod reason;
pub mod registry;
pub mod round;
pub mod rule;
pub mod scheduler;
pub mod suppress;
pub mod timefmt;
pub mod txn;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use error::AlarmError;
pub use events::{EventPublisher, Outgoing, Scope};
use model::Alarm;

use crate::api::cloudwatch::anomaly::AnomalyService;
use crate::clock::SharedClock;
use crate::store::alarms::{AlarmStore, Commit, HistoryQuery, StoredItem};
use crate::store::metrics::MetricStore;
use crate::store::StoreError;
use registry::Registry;
use txn::Txn;

/// Most outbox entries read per delivery batch.
const DELIVERY_BATCH: usize = 256;

/// Everything behind the service's lock.
#[derive(Debug)]
struct Inner {
    store: AlarmStore,
    reg: Registry,
    last_round_ms: i64,
    delivered_seq: i64,
}

/// The alarm service: the alarm set, its store and its evaluation.
#[derive(Debug)]
pub struct AlarmService {
    inner: Mutex<Inner>,
    scope: Scope,
    clock: SharedClock,
    metrics: MetricStore,
    /// Anomaly detectors, for metric-math alarms on anomaly bands.
    anomaly: Option<AnomalyService>,
    publisher: Mutex<Option<Arc<dyn EventPublisher>>>,
    /// Serialises deliveries (entries go out in order, once per process).
    delivering: Mutex<()>,
    /// Serialises rounds.
    rounds: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AlarmService {
    /// Open (or create) `alarms.db` under `data_dir`. `metrics` is where datapoints are read,
    /// `anomaly` the detectors anomaly-band alarms use, `scope` gives the region and account of
    /// the alarm ARNs.
    pub fn open(
        data_dir: &Path,
        metrics: MetricStore,
        anomaly: Option<AnomalyService>,
        clock: SharedClock,
        scope: Scope,
    ) -> Result<Arc<Self>, StoreError> {
        let store = AlarmStore::open(data_dir)?;
        let loaded = store.load()?;
        Ok(Arc::new(AlarmService {
            inner: Mutex::new(Inner {
                store,
                reg: Registry::new(loaded.alarms),
                last_round_ms: loaded.last_round_ms,
                delivered_seq: loaded.delivered_seq,
            }),
            scope,
            clock,
            metrics,
            anomaly,
            publisher: Mutex::new(None),
            delivering: Mutex::new(()),
            rounds: Mutex::new(()),
        }))
    }

    /// Attach the publisher that receives outbox entries, and hand it what is pending.
    pub fn set_publisher(&self, publisher: Arc<dyn EventPublisher>) {
        *lock(&self.publisher) = Some(publisher);
        self.deliver();
    }

    /// Region and account of the alarms.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The injected clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Read the committed alarm set.
    pub fn with_alarms<R>(&self, f: impl FnOnce(&BTreeMap<String, Alarm>) -> R) -> R {
        f(&lock(&self.inner).reg.alarms)
    }

    /// One alarm, cloned.
    pub fn get(&self, name: &str) -> Option<Alarm> {
        lock(&self.inner).reg.alarms.get(name).cloned()
    }

    /// History items (blocking: reads SQLite).
    pub fn history(&self, q: &HistoryQuery) -> Result<Vec<StoredItem>, AlarmError> {
        Ok(lock(&self.inner).store.history(q)?)
    }

    /// Outbox entries after `seq` (the event log the default bus consumes).
    pub fn outbox_after(&self, seq: i64, limit: usize) -> Result<Vec<Outgoing>, AlarmError> {
        Ok(lock(&self.inner).store.outbox_after(seq, limit)?)
    }

    /// The time of the last committed evaluation round (ms; 0 before the first).
    pub fn last_round_ms(&self) -> i64 {
        lock(&self.inner).last_round_ms
    }

    /// Prepare a change with `f`, propagate it to composites, commit it, apply it, deliver.
    /// `round` is set by an evaluation round (its time, recorded in the same transaction).
    fn change<R>(
        &self,
        now_ms: i64,
        round: Option<i64>,
        f: impl FnOnce(&mut Txn<'_>) -> Result<R, AlarmError>,
    ) -> Result<R, AlarmError> {
        let result = {
            let mut g = lock(&self.inner);
            let Inner {
                store,
                reg,
                last_round_ms,
                ..
            } = &mut *g;
            let mut txn = Txn::new(reg, &self.scope, now_ms);
            let result = f(&mut txn)?;
            txn.propagate();
            let deletes: Vec<&str> = txn
                .overlay
                .iter()
                .filter(|(_, a)| a.is_none())
                .map(|(n, _)| n.as_str())
                .collect();
            store.commit(&Commit {
                upserts: txn
                    .overlay
                    .values()
                    .flatten()
                    .map(|a| (a, txn.config_dirty.contains(a.name())))
                    .collect(),
                deletes,
                history: &txn.history,
                outbox: &txn.outbox,
                now_ms,
                last_round_ms: round,
                prune_before_ms: round
                    .filter(|t| t % 3_600_000 == 0)
                    .map(|t| t - history::RETENTION_MS),
            })?;
            let Txn {
                overlay,
                configs_changed,
                ..
            } = txn;
            reg.apply(overlay, configs_changed);
            if let Some(t) = round {
                *last_round_ms = t;
            }
            result
        };
        self.deliver();
        Ok(result)
    }

    /// Hand pending outbox entries to the publisher, in order, recording each delivery.
    pub fn deliver(&self) {
        let Some(publisher) = lock(&self.publisher).clone() else {
            return;
        };
        let _one_at_a_time = lock(&self.delivering);
        loop {
            let batch = {
                let g = lock(&self.inner);
                g.store.outbox_after(g.delivered_seq, DELIVERY_BATCH)
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "Cannot read the alarm event outbox.");
                    return;
                }
            };
            if batch.is_empty() {
                return;
            }
            for entry in batch {
                if let Err(e) = publisher.publish(&entry) {
                    tracing::warn!(error = %e, seq = entry.seq, "Alarm event delivery failed; will retry.");
                    return;
                }
                let mut g = lock(&self.inner);
                if let Err(e) = g.store.set_delivered(entry.seq) {
                    tracing::error!(error = %e, "Cannot record alarm event delivery.");
                    return;
                }
                g.delivered_seq = entry.seq;
            }
        }
    }
}

#[cfg(test)]
mod tests;
