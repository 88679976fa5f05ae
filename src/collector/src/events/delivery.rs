//! The delivery loop: alarm events in, schedules fired, queued deliveries out.
//!
//! One [`EventService::tick`] at a time (a lock): (1) alarm outbox entries after the stored
//! cursor are routed through the default bus, the deliveries and the new cursor committed
//! together; (2) every enabled scheduled rule on the default bus whose next firing is due fires
//! once (missed firings collapse into one), the `Scheduled Event` deliveries and the firing
//! time committed together; (3) every active replay advances by one batch ([`super::replay`]);
//! (4) archive retention is swept once a minute ([`super::archive`]); (5) due queue rows are
//! attempted, oldest first, up to 16 at a time (no ordering between deliveries is promised, as
//! with EventBridge).
//!
//! Failure handling per row: success deletes it. A failure counts an attempt; when
//! `attempts > MaximumRetryAttempts` or the event is older than `MaximumEventAgeInSeconds`
//! the row goes to the dead-letter ARN (when set) and is deleted; otherwise it is retried after
//! `min(2^(attempts-1) s, 5 min)`. An input that cannot be rendered (a JSON template that
//! renders to invalid JSON, an InputPath that matches nothing) is dropped, as AWS does; so is
//! an event forwarded bus-to-bus more than [`MAX_BUS_HOPS`] times (a routing loop).

use serde_json::{json, Value};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::input::{self, InputError};
use super::model::{Delivery, DEFAULT_BUS};
use super::target::{self, TargetKind};
use super::EventService;
use crate::alarms::events::{uuid_v4, EventPublisher, Outgoing, PublishError};
use crate::alarms::timefmt::event_time;
use crate::store::events::{schedule_cursor, Batch, Job, Queued, ALARM_CURSOR};
use crate::store::StoreError;

/// Queue rows attempted per tick.
const BATCH: usize = 256;
/// Deliveries attempted at the same time (one slow endpoint does not hold up the others).
const PARALLEL: usize = 16;
/// Most bus-to-bus hops of one event; deeper forwarding is dropped (it is a loop).
pub const MAX_BUS_HOPS: u32 = 4;
/// Alarm outbox entries routed per tick.
const ALARM_BATCH: usize = 256;
/// Longest wait between attempts.
const MAX_BACKOFF_MS: i64 = 300_000;
/// How often the loop runs when nothing wakes it.
const IDLE: Duration = Duration::from_secs(1);

/// State carried between ticks.
#[derive(Debug, Default)]
pub struct TickState {
    alarm_cursor: Option<i64>,
    last_sweep_ms: Option<i64>,
}

/// What one tick did (tests, logs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub alarm_events: usize,
    pub scheduled: usize,
    pub replayed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead_lettered: usize,
    pub dropped: usize,
    /// The tick stopped at a batch limit: more work is probably due now.
    pub more: bool,
}

impl TickReport {
    fn absorb(
        &mut self,
        r: Result<Result<TickReport, StoreError>, tokio::task::JoinError>,
        first_error: &mut Option<StoreError>,
    ) {
        match r {
            Ok(Ok(o)) => {
                self.delivered += o.delivered;
                self.retried += o.retried;
                self.dead_lettered += o.dead_lettered;
                self.dropped += o.dropped;
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(StoreError::Corrupt(format!("delivery task: {e}")));
            }
        }
    }
}

/// Wakes the loop when the alarm service commits events (they are read from its outbox).
#[derive(Debug)]
pub struct AlarmWake(pub Weak<EventService>);

impl EventPublisher for AlarmWake {
    fn publish(&self, _entry: &Outgoing) -> Result<(), PublishError> {
        if let Some(s) = self.0.upgrade() {
            s.wake.notify_one();
        }
        Ok(())
    }
}

/// The running delivery loop.
#[derive(Debug)]
pub struct Worker {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Worker {
    /// Stop the loop and wait for the current tick to finish.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

/// Exponential backoff after `attempts` failures.
pub fn backoff_ms(attempts: u32) -> i64 {
    1000i64
        .checked_shl(attempts.saturating_sub(1).min(20))
        .unwrap_or(MAX_BACKOFF_MS)
        .min(MAX_BACKOFF_MS)
}

enum Outcome {
    Delivered,
    Failed(String),
    Dropped(String),
}

impl EventService {
    /// Start the delivery loop.
    pub fn start(self: &Arc<Self>) -> Worker {
        let stop = Arc::new(tokio::sync::Notify::new());
        let me = self.clone();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            loop {
                match me.tick().await {
                    // A full batch: go on at once (still stoppable), rather than idle.
                    Ok(r) if r.more => {
                        tokio::select! {
                            biased;
                            _ = stopped.notified() => return,
                            _ = tokio::task::yield_now() => continue,
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "Event delivery tick failed."),
                }
                tokio::select! {
                    _ = stopped.notified() => return,
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE) => {}
                }
            }
        });
        Worker { stop, task }
    }

    /// Run one round of routing and delivery at the clock's current time.
    pub async fn tick(self: &Arc<Self>) -> Result<TickReport, StoreError> {
        let mut state = self.ticking.lock().await;
        let now = self.clock.now_ms();
        let mut report = TickReport {
            alarm_events: self.route_alarms(&mut state, now).await?,
            scheduled: self.fire_schedules(now).await?,
            replayed: self.run_replays(now).await?,
            ..TickReport::default()
        };
        if state
            .last_sweep_ms
            .is_none_or(|t| now - t >= super::archive::SWEEP_EVERY_MS)
        {
            self.sweep_archives(now).await?;
            state.last_sweep_ms = Some(now);
        }
        let mut running = tokio::task::JoinSet::new();
        let mut first_error = None;
        let due = self.store.due(now, BATCH)?;
        report.more = due.len() == BATCH || report.replayed > 0;
        for q in due {
            while running.len() >= PARALLEL {
                if let Some(r) = running.join_next().await {
                    report.absorb(r, &mut first_error);
                }
            }
            let me = self.clone();
            running.spawn(async move { me.attempt(q, now).await });
        }
        while let Some(r) = running.join_next().await {
            report.absorb(r, &mut first_error);
        }
        self.publish_invocations(now).await;
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn route_alarms(&self, state: &mut TickState, now: i64) -> Result<usize, StoreError> {
        let Some(alarms) = self.alarms.lock().ok().and_then(|g| g.clone()) else {
            return Ok(0);
        };
        let cursor = match state.alarm_cursor {
            Some(c) => c,
            None => self.store.cursor(ALARM_CURSOR)?.unwrap_or(0),
        };
        let entries = alarms
            .outbox_after(cursor, ALARM_BATCH)
            .map_err(|e| StoreError::Corrupt(format!("alarm outbox: {e}")))?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            state.alarm_cursor = Some(cursor);
            return Ok(0);
        };
        let events: Vec<Value> = entries.iter().filter_map(Outgoing::event_json).collect();
        let mut batch = self.accept(DEFAULT_BUS, &events, now, 0);
        batch.cursor = Some((ALARM_CURSOR.to_string(), last));
        self.enqueue(batch).await?;
        state.alarm_cursor = Some(last);
        Ok(events.len())
    }

    async fn fire_schedules(&self, now: i64) -> Result<usize, StoreError> {
        let due: Vec<(super::RuleEntry, i64)> = {
            let entries: Vec<super::RuleEntry> = self.with_config(|c| {
                c.rules
                    .values()
                    .filter(|e| e.rule.bus == DEFAULT_BUS && e.rule.state.routes())
                    .filter(|e| e.schedule.is_some())
                    .cloned()
                    .collect()
            });
            let mut due = Vec::new();
            for e in entries {
                let Some(s) = &e.schedule else { continue };
                let last = self
                    .store
                    .cursor(&schedule_cursor(&e.rule.bus, &e.rule.name))?;
                let from = last.unwrap_or(e.rule.created_ms).max(e.rule.created_ms);
                if let Some(next) = s.next_after(from, e.rule.created_ms) {
                    if next <= now {
                        due.push((e, next));
                    }
                }
            }
            due
        };
        let fired = due.len();
        for (e, at) in due {
            let arn = self.rule_arn(&e.rule.bus, &e.rule.name);
            let event = json!({
                "version": "0",
                "id": uuid_v4(),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": self.account,
                "time": event_time(at),
                "region": self.region,
                "resources": [arn],
                "detail": {},
            });
            let deliveries = e
                .rule
                .targets
                .iter()
                .map(|t| Delivery {
                    rule_arn: arn.clone(),
                    rule_name: e.rule.name.clone(),
                    target: t.clone(),
                    event: event.clone(),
                    ingestion_ms: now,
                    hops: 0,
                })
                .collect();
            self.enqueue(Batch {
                deliveries,
                next_ms: now,
                cursor: Some((schedule_cursor(&e.rule.bus, &e.rule.name), now)),
                ..Batch::default()
            })
            .await?;
        }
        Ok(fired)
    }

    async fn attempt(&self, q: Queued, now: i64) -> Result<TickReport, StoreError> {
        let mut report = TickReport::default();
        let d = &q.delivery;
        match self.deliver(d).await {
            Outcome::Delivered => {
                report.delivered += 1;
                self.count_invocation(&d.rule_arn, false, false);
                self.store.submit(Job::Done(q.id)).await?;
            }
            Outcome::Dropped(why) => {
                tracing::warn!(
                    rule = d.rule_name,
                    target = d.target.id,
                    why,
                    "Event not delivered."
                );
                report.dropped += 1;
                self.count_invocation(&d.rule_arn, true, false);
                self.store.submit(Job::Done(q.id)).await?;
            }
            Outcome::Failed(why) => {
                let attempts = q.attempts.saturating_add(1);
                let policy = d.target.retry.unwrap_or_default();
                let too_old = now - d.ingestion_ms >= i64::from(policy.max_age_s) * 1000;
                if attempts > policy.max_retries || too_old {
                    let sent = self.dead_letter(d, attempts, &why).await;
                    self.count_invocation(&d.rule_arn, true, sent);
                    report.dead_lettered += 1;
                    self.store.submit(Job::Done(q.id)).await?;
                    return Ok(report);
                }
                tracing::debug!(
                    rule = d.rule_name,
                    target = d.target.id,
                    why,
                    attempts,
                    "Delivery failed; will retry."
                );
                report.retried += 1;
                self.store
                    .submit(Job::Retry {
                        id: q.id,
                        attempts,
                        next_ms: now + backoff_ms(attempts),
                    })
                    .await?;
            }
        }
        Ok(report)
    }

    async fn deliver(&self, d: &Delivery) -> Outcome {
        let kind = match target::parse(&d.target.arn) {
            Ok(k) => k,
            Err(e) => return Outcome::Dropped(e),
        };
        if let TargetKind::Bus(bus) = &kind {
            if d.hops >= MAX_BUS_HOPS {
                return Outcome::Dropped(format!(
                    "the event already crossed {MAX_BUS_HOPS} buses (a routing loop?)"
                ));
            }
            let exists = self.with_config(|c| c.bus_exists(bus));
            if !exists {
                return Outcome::Failed(format!("Event bus {bus} does not exist."));
            }
            let now = self.clock.now_ms();
            let batch = self.accept(bus, std::slice::from_ref(&d.event), now, d.hops + 1);
            return match self.enqueue(batch).await {
                Ok(()) => Outcome::Delivered,
                Err(e) => Outcome::Failed(e.to_string()),
            };
        }
        let payload = match input::render(&d.target, d) {
            Ok(p) => p,
            Err(e @ (InputError::InvalidJson | InputError::NoMatch(_))) => {
                return Outcome::Dropped(e.to_string())
            }
        };
        match self.send(&kind, d, &payload).await {
            Ok(()) => Outcome::Delivered,
            Err(e) => Outcome::Failed(e),
        }
    }

    async fn send(&self, kind: &TargetKind, d: &Delivery, payload: &str) -> Result<(), String> {
        match kind {
            TargetKind::Http(url) => {
                target::http_post(&self.http_client(), url, &d.target.headers, payload).await
            }
            TargetKind::LogGroup(group) => {
                self.write_log(group, &d.rule_name, d.ingestion_ms, payload)
                    .await
            }
            TargetKind::Command(argv) => {
                target::run_command(argv.clone(), payload.to_string()).await
            }
            TargetKind::File(path) => {
                target::append_line(path.clone(), target::json_line(payload)).await
            }
            TargetKind::Bus(_) => Err("bus targets are routed, not sent".to_string()),
        }
    }

    async fn write_log(&self, group: &str, stream: &str, ts: i64, msg: &str) -> Result<(), String> {
        let sink = self.logs.lock().ok().and_then(|g| g.clone());
        match sink.and_then(|w| w.upgrade()) {
            Some(s) => s.put(group, stream, ts, msg).await,
            None => Err("the Logs store is not attached".to_string()),
        }
    }

    /// Send a failed delivery to the target's dead-letter destination; `true` when it got there.
    async fn dead_letter(&self, d: &Delivery, attempts: u32, why: &str) -> bool {
        let record = json!({
            "event": d.event,
            "rule": d.rule_arn,
            "target": d.target.id,
            "attempts": attempts,
            "error": why,
        })
        .to_string();
        let result = match d.target.dead_letter_arn.as_deref().map(target::parse) {
            None => Err("no dead-letter queue".to_string()),
            Some(Ok(TargetKind::File(p))) => target::append_line(p, record).await,
            Some(Ok(TargetKind::LogGroup(g))) => {
                self.write_log(&g, &d.rule_name, self.clock.now_ms(), &record)
                    .await
            }
            Some(Ok(_)) => Err("unsupported dead-letter target".to_string()),
            Some(Err(e)) => Err(e),
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    rule = d.rule_name,
                    target = d.target.id,
                    error = e,
                    reason = why,
                    "Event dropped after retries."
                );
                false
            }
        }
    }
}
