//! EventBridge-compatible event routing: buses, rules, targets, durable delivery.
//!
//! # Design
//! - Configuration (custom buses, rules with their targets) lives in `events.db`
//!   ([`crate::store::events`]) and, for routing, in memory ([`Config`]). Every change is
//!   committed first and applied to memory after, under one async lock, so memory never shows
//!   an uncommitted change.
//! - [`EventService::put_events`] matches events against the enabled rules of their bus and
//!   commits one queue row per matched (event, target) before it returns: an event PutEvents
//!   acknowledged is delivered even across a crash. Events matching no rule are not stored.
//! - The delivery loop ([`delivery`]) runs [`EventService::tick`]: it routes new alarm events
//!   from the alarm outbox through the default bus, fires due schedules, and delivers due queue
//!   rows at least once, retrying with exponential backoff within the target's
//!   `RetryPolicy`, then dead-lettering. All time comes from the injected clock.
//! - Targets are described in [`target`]; input rendering in [`input`]; schedules in
//!   [`schedule`] and [`cron`]; rule matching goes through [`matching`].

pub mod cron;
pub mod delivery;
pub mod input;
pub mod logs_sink;
pub mod matching;
pub mod model;
pub mod pattern;
pub mod schedule;
pub mod target;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::alarms::AlarmService;
use crate::clock::SharedClock;
use crate::store::events::{EventStore, Job};
use crate::store::StoreError;
use model::{Bus, Delivery, Rule, DEFAULT_BUS};

pub use delivery::{TickReport, Worker};

/// A rule with its compiled pattern and schedule.
#[derive(Debug, Clone)]
pub struct RuleEntry {
    pub rule: Rule,
    pub pattern: Option<matching::Compiled>,
    pub schedule: Option<schedule::Schedule>,
}

impl RuleEntry {
    /// Compile a stored rule; a pattern or schedule that no longer parses disables routing by
    /// it (logged) rather than failing the start.
    pub fn new(rule: Rule) -> RuleEntry {
        let pattern = rule.event_pattern.as_deref().and_then(|p| {
            matching::compile(p)
                .inspect_err(
                    |e| tracing::warn!(rule = rule.name, error = %e, "Stored pattern rejected."),
                )
                .ok()
        });
        let schedule = rule.schedule.as_deref().and_then(schedule::Schedule::parse);
        RuleEntry {
            rule,
            pattern,
            schedule,
        }
    }
}

/// The routing configuration.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Custom buses by name.
    pub buses: BTreeMap<String, Bus>,
    /// Rules by (bus, name).
    pub rules: BTreeMap<(String, String), RuleEntry>,
    /// Per bus, the enabled rules with a pattern, compiled together (see [`Config::reindex`]).
    index: BTreeMap<String, pattern::RuleSet>,
}

impl Config {
    /// Rebuild the per-bus match index from `rules` (after every change).
    pub fn reindex(&mut self) {
        self.index.clear();
        for ((bus, name), e) in &self.rules {
            let Some(p) = e.pattern.as_ref().filter(|_| e.rule.state.routes()) else {
                continue;
            };
            self.index
                .entry(bus.clone())
                .or_default()
                .add(name.as_str(), p.pattern());
        }
    }

    /// Names of the enabled rules of `bus` whose pattern matches `event`.
    pub fn matching_rules(&self, bus: &str, event: &Value) -> Vec<&str> {
        let Some(set) = self.index.get(bus) else {
            return Vec::new();
        };
        set.matches(event)
            .into_iter()
            .filter_map(|id| set.name(id))
            .collect()
    }

    /// True when `name` is the default bus or a custom one.
    pub fn bus_exists(&self, name: &str) -> bool {
        name == DEFAULT_BUS || self.buses.contains_key(name)
    }
}

/// The event service.
#[derive(Debug)]
pub struct EventService {
    store: EventStore,
    clock: SharedClock,
    region: String,
    account: String,
    config: RwLock<Config>,
    ddl: tokio::sync::Mutex<()>,
    logs: Mutex<Option<Weak<dyn target::LogSink>>>,
    alarms: Mutex<Option<Arc<AlarmService>>>,
    wake: tokio::sync::Notify,
    ticking: tokio::sync::Mutex<delivery::TickState>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl EventService {
    /// Open (or create) `events.db` under `data_dir` and load the configuration.
    pub fn open(
        data_dir: &Path,
        clock: SharedClock,
        region: &str,
        account: &str,
    ) -> Result<Arc<Self>, StoreError> {
        let store = EventStore::open(data_dir)?;
        let loaded = store.load()?;
        let mut config = Config::default();
        for b in loaded.buses {
            config.buses.insert(b.name.clone(), b);
        }
        for r in loaded.rules {
            config
                .rules
                .insert((r.bus.clone(), r.name.clone()), RuleEntry::new(r));
        }
        config.reindex();
        Ok(Arc::new(EventService {
            store,
            clock,
            region: region.to_string(),
            account: account.to_string(),
            config: RwLock::new(config),
            ddl: tokio::sync::Mutex::new(()),
            logs: Mutex::new(None),
            alarms: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            ticking: tokio::sync::Mutex::new(delivery::TickState::default()),
        }))
    }

    /// The injected clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The durable store.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Attach the Logs store used by log-group targets and dead-letter queues.
    pub fn attach_logs(&self, sink: Weak<dyn target::LogSink>) {
        *lock(&self.logs) = Some(sink);
    }

    /// Route the alarm service's events through the default bus.
    pub fn attach_alarms(self: &Arc<Self>, alarms: Arc<AlarmService>) {
        *lock(&self.alarms) = Some(alarms.clone());
        alarms.set_publisher(Arc::new(delivery::AlarmWake(Arc::downgrade(self))));
    }

    /// Read the configuration.
    pub fn with_config<R>(&self, f: impl FnOnce(&Config) -> R) -> R {
        f(&self.config.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Serialise configuration changes: hold the guard across check, commit and apply.
    pub async fn ddl(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.ddl.lock().await
    }

    /// Commit a configuration job, then apply `f` to memory. Call while holding [`Self::ddl`].
    pub async fn change(&self, job: Job, f: impl FnOnce(&mut Config)) -> Result<(), StoreError> {
        self.store.submit(job).await?;
        let mut config = self.config.write().unwrap_or_else(|p| p.into_inner());
        f(&mut config);
        config.reindex();
        Ok(())
    }

    /// `arn:aws:events:REGION:ACCOUNT:event-bus/NAME`.
    pub fn bus_arn(&self, bus: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:event-bus/{bus}",
            self.region, self.account
        )
    }

    /// A rule's ARN (the bus appears in it for custom buses).
    pub fn rule_arn(&self, bus: &str, name: &str) -> String {
        if bus == DEFAULT_BUS {
            format!(
                "arn:aws:events:{}:{}:rule/{name}",
                self.region, self.account
            )
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                self.region, self.account
            )
        }
    }

    /// Region of the service.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Account of the service.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The deliveries `event` on `bus` causes (enabled rules whose pattern matches).
    /// `hops` counts the bus-to-bus targets the event already went through.
    pub fn route(&self, bus: &str, event: &Value, ingestion_ms: i64, hops: u32) -> Vec<Delivery> {
        self.with_config(|c| {
            let mut out = Vec::new();
            for name in c.matching_rules(bus, event) {
                let Some(e) = c.rules.get(&(bus.to_string(), name.to_string())) else {
                    continue;
                };
                let arn = self.rule_arn(bus, name);
                out.extend(e.rule.targets.iter().map(|t| Delivery {
                    rule_arn: arn.clone(),
                    rule_name: e.rule.name.clone(),
                    target: t.clone(),
                    event: event.clone(),
                    ingestion_ms,
                    hops,
                }));
            }
            out
        })
    }

    /// Accept events for `bus`: route them and commit their deliveries before returning.
    pub async fn put_events(&self, bus: &str, events: &[Value]) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let deliveries: Vec<Delivery> = events
            .iter()
            .flat_map(|e| self.route(bus, e, now, 0))
            .collect();
        self.enqueue(deliveries, now, None).await
    }

    /// Commit deliveries (and optionally a cursor) to the durable queue and wake the loop.
    pub(crate) async fn enqueue(
        &self,
        deliveries: Vec<Delivery>,
        now: i64,
        cursor: Option<(String, i64)>,
    ) -> Result<(), StoreError> {
        if deliveries.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let any = !deliveries.is_empty();
        self.store
            .submit(Job::Enqueue {
                deliveries,
                next_ms: now,
                cursor,
            })
            .await?;
        if any {
            self.wake.notify_one();
        }
        Ok(())
    }
}
