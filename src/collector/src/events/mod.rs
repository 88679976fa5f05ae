//! EventBridge-compatible event routing: buses, rules, targets, durable delivery.
//!
//! # Design
//! - Configuration (custom buses, rules with their targets) lives in `events.db`
//!   ([`crate::store::events`]) and, for routing, in memory ([`Config`]). Every change is
//!   committed first and applied to memory after, under one async lock, so memory never shows
//!   an uncommitted change.
//! - [`EventService::put_events`] matches events against the enabled rules of their bus and
//!   commits one queue row per matched (event, target) before it returns: an event PutEvents
//!   acknowledged is delivered even across a crash. Events matching no rule (and no archive)
//!   are not stored.
//! - The delivery loop ([`delivery`]) runs [`EventService::tick`]: it routes new alarm events
//!   from the alarm outbox through the default bus, fires due schedules, and delivers due queue
//!   rows at least once, retrying with exponential backoff within the target's
//!   `RetryPolicy`, then dead-lettering. All time comes from the injected clock.
//! - Targets are described in [`target`]; input rendering in [`input`]; schedules in
//!   [`schedule`] and [`cron`]; rule matching goes through [`matching`].
//! - Archives ([`archive`]): every event accepted on a bus (PutEvents, alarm events, events
//!   forwarded bus-to-bus, the collector's own lifecycle events) is copied into each archive of
//!   that bus whose pattern matches (no pattern: every event), whether or not a rule matched,
//!   in the same transaction as its deliveries. Replayed events are never archived. Retention
//!   is applied by a sweep in the delivery loop, on the injected clock.
//! - The collector's own `Collector Started` / `Collector Stopping` events ([`lifecycle`]) go
//!   on the default bus.
//! - Replays ([`replay`]) run in the delivery loop, a batch per tick, each batch's deliveries
//!   committed together with the replay's new cursor, so a replay survives restarts without
//!   repeating or skipping an event.

pub mod archive;
pub mod cron;
pub mod delivery;
pub mod input;
pub mod lifecycle;
pub mod logs_sink;
pub mod matching;
pub mod metrics;
pub mod model;
pub mod pattern;
pub mod replay;
pub mod schedule;
pub mod target;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock, Weak};

use crate::alarms::AlarmService;
use crate::clock::SharedClock;
use crate::store::events::{Batch, EventStore, Job};
use crate::store::StoreError;
use model::{Archive, Archived, Bus, Delivery, Replay, Rule, DEFAULT_BUS};

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

/// An archive with its compiled pattern.
#[derive(Debug, Clone)]
pub struct ArchiveEntry {
    pub archive: Archive,
    /// `None` when the archive has no pattern (it takes every event of its bus).
    pub pattern: Option<matching::Compiled>,
    /// False when the stored pattern no longer compiles: the archive then takes nothing.
    pub usable: bool,
}

impl ArchiveEntry {
    /// Compile a stored archive; a stored pattern that no longer parses archives nothing
    /// (logged) rather than failing the start.
    pub fn new(archive: Archive) -> ArchiveEntry {
        let compiled = archive.event_pattern.as_deref().map(matching::compile);
        if let Some(Err(e)) = &compiled {
            tracing::warn!(archive = archive.name, error = %e, "Stored pattern rejected.");
        }
        ArchiveEntry {
            usable: !matches!(compiled, Some(Err(_))),
            pattern: compiled.and_then(Result::ok),
            archive,
        }
    }

    /// True when `event` on the archive's bus goes into the archive.
    pub fn takes(&self, event: &Value) -> bool {
        self.usable
            && event.get("replay-name").is_none()
            && self.pattern.as_ref().is_none_or(|p| p.matches(event))
    }
}

/// The routing configuration.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// Custom buses by name.
    pub buses: BTreeMap<String, Bus>,
    /// Archives by name.
    pub archives: BTreeMap<String, ArchiveEntry>,
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
    replays: Mutex<BTreeMap<String, Replay>>,
    http: RwLock<reqwest::Client>,
    ddl: tokio::sync::Mutex<()>,
    logs: Mutex<Option<Weak<dyn target::LogSink>>>,
    alarms: Mutex<Option<Arc<AlarmService>>>,
    wake: tokio::sync::Notify,
    ticking: tokio::sync::Mutex<delivery::TickState>,
    /// Where the `AWS/Events` rule metrics go (attached at startup; none in unit tests).
    metric_store: std::sync::OnceLock<crate::store::metrics::MetricStore>,
    /// Invocation counts of the current tick, per rule.
    invocations: Mutex<metrics::Counts>,
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
        for a in loaded.archives {
            config.archives.insert(a.name.clone(), ArchiveEntry::new(a));
        }
        config.reindex();
        let replays = loaded
            .replays
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        Ok(Arc::new(EventService {
            store,
            clock,
            region: region.to_string(),
            account: account.to_string(),
            config: RwLock::new(config),
            replays: Mutex::new(replays),
            http: RwLock::new(
                target::http_client(None).map_err(|e| {
                    StoreError::Io(std::io::Error::other(format!("HTTP client: {e}")))
                })?,
            ),
            ddl: tokio::sync::Mutex::new(()),
            logs: Mutex::new(None),
            alarms: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            ticking: tokio::sync::Mutex::new(delivery::TickState::default()),
            metric_store: std::sync::OnceLock::new(),
            invocations: Mutex::new(metrics::Counts::new()),
        }))
    }

    /// The injected clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Trust the certificates of `pem` (a PEM bundle), besides the WebPKI roots, for
    /// `https://` targets.
    pub fn set_target_ca(&self, pem: &[u8]) -> Result<(), String> {
        let client = target::http_client(Some(pem))?;
        *self.http.write().unwrap_or_else(|p| p.into_inner()) = client;
        Ok(())
    }

    /// The HTTP client of HTTP targets (cheap to clone: one shared connection pool).
    pub fn http_client(&self) -> reqwest::Client {
        self.http.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The durable store.
    pub fn store(&self) -> &EventStore {
        &self.store
    }

    /// Attach the Logs store used by log-group targets and dead-letter queues.
    pub fn attach_logs(&self, sink: Weak<dyn target::LogSink>) {
        *lock(&self.logs) = Some(sink);
    }

    /// Publish the `AWS/Events` rule metrics into `store` (see [`metrics`]).
    pub fn attach_metrics(&self, store: crate::store::metrics::MetricStore) {
        let _ = self.metric_store.set(store);
    }

    /// Count an ended invocation of a rule's target (nothing for non-rule deliveries).
    fn count_invocation(&self, rule_arn: &str, failed: bool, dead_lettered: bool) {
        let Some(rule) = metrics::rule_of(rule_arn) else {
            return;
        };
        let mut counts = lock(&self.invocations);
        let c = counts.entry(rule).or_default();
        c.invocations += 1;
        c.failed += u64::from(failed);
        c.dead_lettered += u64::from(dead_lettered);
    }

    /// Write the counts gathered since the last call as datapoints at `now`.
    async fn publish_invocations(&self, now: i64) {
        let counts = std::mem::take(&mut *lock(&self.invocations));
        let Some(store) = self.metric_store.get() else {
            return;
        };
        if counts.is_empty() {
            return;
        }
        if let Err(e) = store.append(metrics::points(&counts, now)).await {
            tracing::warn!(error = %e, "AWS/Events metrics not written.");
        }
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

    /// The writes that accepting `events` on `bus` causes: deliveries to the targets of the
    /// matching rules and copies in the matching archives of the bus.
    pub fn accept(&self, bus: &str, events: &[Value], now: i64, hops: u32) -> Batch {
        let mut batch = Batch {
            next_ms: now,
            ..Batch::default()
        };
        for e in events {
            batch.deliveries.extend(self.route(bus, e, now, hops));
            self.archive_into(bus, e, now, &mut batch.archived);
        }
        batch
    }

    /// Add `event` (accepted on `bus`) to every archive of the bus that takes it.
    fn archive_into(&self, bus: &str, event: &Value, now: i64, out: &mut Vec<Archived>) {
        self.with_config(|c| {
            let mut body: Option<String> = None;
            for a in c.archives.values() {
                if a.archive.bus != bus || !a.takes(event) {
                    continue;
                }
                let text = body.get_or_insert_with(|| event.to_string()).clone();
                out.push(Archived {
                    archive: a.archive.name.clone(),
                    event_ms: archive::event_time_ms(event).unwrap_or(now),
                    stored_ms: now,
                    body: text,
                });
            }
        });
    }

    /// Accept events for `bus`: route and archive them, and commit before returning.
    pub async fn put_events(&self, bus: &str, events: &[Value]) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        self.enqueue(self.accept(bus, events, now, 0)).await
    }

    /// Commit a batch and wake the delivery loop when it queued deliveries.
    pub(crate) async fn enqueue(&self, batch: Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let any = !batch.deliveries.is_empty();
        self.store.submit(Job::Enqueue(Box::new(batch))).await?;
        if any {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Read the replays.
    pub fn with_replays<R>(&self, f: impl FnOnce(&BTreeMap<String, Replay>) -> R) -> R {
        f(&lock(&self.replays))
    }

    /// Commit a replay, then record it in memory. Call while holding [`Self::ddl`].
    pub async fn save_replay(&self, replay: Replay) -> Result<(), StoreError> {
        self.store
            .submit(Job::PutReplay(Box::new(replay.clone())))
            .await?;
        self.remember_replay(replay);
        Ok(())
    }

    /// Record a committed replay in memory; wake the loop while it has work left.
    fn remember_replay(&self, replay: Replay) {
        let active = replay.state.active();
        lock(&self.replays).insert(replay.name.clone(), replay);
        if active {
            self.wake.notify_one();
        }
    }

    /// `arn:aws:events:REGION:ACCOUNT:archive/NAME`.
    pub fn archive_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:archive/{name}",
            self.region, self.account
        )
    }

    /// `arn:aws:events:REGION:ACCOUNT:replay/NAME`.
    pub fn replay_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:events:{}:{}:replay/{name}",
            self.region, self.account
        )
    }
}
