//! What happens to accepted PutLogEvents batches after they are stored: metric filters and
//! subscription filters.
//!
//! # Order and guarantees
//! PutLogEvents first commits the events to `logs.db`, then (here) commits the metric
//! datapoints to `metrics.db` (the same path PutMetricData takes, so alarms and
//! GetMetricStatistics see them) and the subscription deliveries to the event service's
//! durable queue in `events.db`, and only then answers. The three are separate SQLite files,
//! so they are separate commits: when PutLogEvents answers success, all three are durable and
//! every matching event is delivered at least once (the event service retries until its
//! retry policy gives up). When the process dies between the commits, the client got no
//! answer and sends the batch again; the events are then stored twice (as they would be for
//! any unanswered PutLogEvents) and the metrics and deliveries of the retry are committed.
//! Filters apply only to events ingested after they were created, never retroactively. Events
//! written by an EventBridge CloudWatch Logs target ([`LogsApi::append_delivered`]) go through
//! the metric filters too, but not through the subscription filters: a subscription that feeds
//! an event bus whose rule writes back into the same group would otherwise loop for ever.
//!
//! A group without filters costs one map lookup under a read lock.
//!
//! # Metric datapoints
//! Per matching event the filter's `metricValue` (a number, or the numeric value extracted by
//! `$.selector` / `$field`; events whose value is missing or not a number are skipped) under
//! the extracted dimensions (an event lacking a dimension value is skipped); per non-matching
//! event `defaultValue` when set. Points of one series and second are summed into one
//! statistic set before they are stored.
//!
//! # Subscription payloads
//! One `DATA_MESSAGE` per (batch, filter) with the batch's matching events, as AWS builds them:
//! `{"messageType","owner","logGroup","logStream","subscriptionFilters":[name],
//! "logEvents":[{"id","timestamp","message"}]}`. How it reaches each destination kind:
//! * event bus: an event `{"source":"aws.logs","detail-type":"CloudWatch Logs Subscription",
//!   "resources":[group ARN],"detail":<DATA_MESSAGE>}` is put on the bus (rules match on
//!   `detail`; no compression, so patterns can see the messages);
//! * HTTP endpoint and command: the payload a Lambda function receives from AWS,
//!   `{"awslogs":{"data":"<base64 of gzip (level 6) of the DATA_MESSAGE>"}}`, so existing
//!   subscription consumers work unchanged;
//! * JSON-lines file and log group: the DATA_MESSAGE as plain JSON (one line / one event in a
//!   stream named after the filter), readable without decoding.

use base64::Engine as _;
use hostwatch_aws::ApiError;
use hostwatch_model::{DatumValue, Dimension, MetricKey, StatisticSet, Unit};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write as _;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use super::errors::internal;
use super::filter_events::event_id;
use super::LogsApi;
use crate::events::model::{Delivery, Target};
use crate::events::target::{self, TargetKind};
use crate::events::EventService;
use crate::logs_pattern::value::number;
use crate::store::log_filters::{Compiled, MetricFilterDef, SubscriptionDef};
use crate::store::logs::EventSource;
use crate::store::metrics::{MetricStore, Point, SeriesKey};

/// Where filter output goes; attached once at startup.
#[derive(Debug, Default)]
pub struct Sinks {
    pub metrics: OnceLock<MetricStore>,
    pub events: OnceLock<Arc<EventService>>,
}

impl LogsApi {
    /// Write metric-filter datapoints into `store` (the CloudWatch metric store).
    pub fn attach_metrics(&self, store: MetricStore) {
        let _ = self.sinks.metrics.set(store);
    }

    /// Deliver subscription filters' payloads through `events`.
    pub fn attach_events(&self, events: Arc<EventService>) {
        let _ = self.sinks.events.set(events);
    }
}

impl LogsApi {
    /// Store one event delivered by an EventBridge CloudWatch Logs target into `group`,
    /// creating `stream` when missing. The group's metric filters and open Live Tail sessions
    /// see it as they see PutLogEvents; its subscription filters do not (see the module docs).
    /// Errors are texts for the delivery log (the group does not exist, storage failed).
    pub async fn append_delivered(
        &self,
        group: &str,
        stream: &str,
        timestamp_ms: i64,
        message: &str,
    ) -> Result<(), String> {
        use crate::store::logs::{AppendBatch, LogError};
        match self.store.create_stream(group, stream).await {
            Ok(()) | Err(LogError::StreamExists) => {}
            Err(LogError::GroupNotFound) => {
                return Err(format!("log group {group} does not exist"))
            }
            Err(e) => return Err(e.to_string()),
        }
        let events = [(timestamp_ms, message)];
        let now = self.clock.now_ms();
        let next_seq = self
            .store
            .append(AppendBatch {
                group,
                stream,
                events: &events,
                ingestion_time: now,
            })
            .await
            .map_err(|e| e.to_string())?;
        after_append(
            self,
            group,
            stream,
            &events,
            next_seq - 1,
            now,
            Filters::MetricOnly,
        )
        .await
        .map_err(|e| e.to_string())?;
        self.live.publish(group, stream, &events, now);
        Ok(())
    }
}

/// Which filters a stored batch goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Filters {
    /// Metric and subscription filters (PutLogEvents).
    All,
    /// Metric filters only (events written by an EventBridge target; see the module docs).
    MetricOnly,
}

/// Apply the group's metric and subscription filters to a stored batch whose first event got
/// sequence number `first_seq`.
pub(super) async fn after_append<E: EventSource>(
    api: &LogsApi,
    group: &str,
    stream: &str,
    events: &[E],
    first_seq: i64,
    now_ms: i64,
    which: Filters,
) -> Result<(), ApiError> {
    if events.is_empty() || !api.filters.with(|f| f.any_for(group)) {
        return Ok(());
    }
    let Ok(group_id) = api.store.group_id(group) else {
        return Ok(());
    };
    let (metric, subs) = api.filters.with(|f| {
        (
            f.metric_of(group, group_id),
            f.subscription_of(group, group_id),
        )
    });
    if let (false, Some(store)) = (metric.is_empty(), api.sinks.metrics.get()) {
        let points = datapoints(&metric, events);
        store.append(points).await.map_err(|e| internal(&e))?;
    }
    if which == Filters::MetricOnly {
        return Ok(());
    }
    if let (false, Some(bus)) = (subs.is_empty(), api.sinks.events.get()) {
        deliver(bus, &subs, group, stream, events, first_seq, now_ms).await?;
    }
    Ok(())
}

/// The datapoints a batch produces, one statistic set per (series, second).
pub fn datapoints<E: EventSource>(
    filters: &[Arc<Compiled<MetricFilterDef>>],
    events: &[E],
) -> Vec<(SeriesKey, Point)> {
    let mut agg: HashMap<(SeriesKey, i64), StatisticSet> = HashMap::new();
    let mut add = |key: SeriesKey, ts: i64, v: f64| {
        let s = agg
            .entry((key, ts.div_euclid(1000) * 1000))
            .or_insert(StatisticSet {
                sample_count: 0.0,
                sum: 0.0,
                minimum: v,
                maximum: v,
            });
        s.sample_count += 1.0;
        s.sum += v;
        s.minimum = s.minimum.min(v);
        s.maximum = s.maximum.max(v);
    };
    for f in filters {
        let t = &f.def.transformation;
        let unit = t
            .unit
            .as_deref()
            .and_then(|u| Unit::from_str(u).ok())
            .unwrap_or(Unit::None);
        let constant = number(&t.metric_value);
        let plain_key = || SeriesKey {
            metric: MetricKey::new(t.metric_namespace.clone(), t.metric_name.clone(), vec![]),
            unit,
        };
        for e in events {
            let Some(x) = f.pattern.match_fields(e.message()) else {
                if let Some(d) = t.default_value {
                    add(plain_key(), e.timestamp(), d);
                }
                continue;
            };
            let Some(v) = constant.or_else(|| x.get(&t.metric_value).and_then(|s| number(&s)))
            else {
                continue;
            };
            let mut dims = Vec::with_capacity(t.dimensions.len());
            for (name, sel) in &t.dimensions {
                match x.get(sel) {
                    Some(val) if !val.is_empty() && val.chars().count() <= 1024 => {
                        dims.push(Dimension::new(name.clone(), val))
                    }
                    _ => break,
                }
            }
            if dims.len() != t.dimensions.len() {
                continue;
            }
            let key = if dims.is_empty() {
                plain_key()
            } else {
                SeriesKey {
                    metric: MetricKey::new(t.metric_namespace.clone(), t.metric_name.clone(), dims),
                    unit,
                }
            };
            add(key, e.timestamp(), v);
        }
    }
    agg.into_iter()
        .map(|((key, ts), s)| {
            let value = if s.sample_count == 1.0 {
                DatumValue::Single(s.sum)
            } else {
                DatumValue::StatisticSet(s)
            };
            (
                key,
                Point {
                    ts_ms: ts,
                    value,
                    high_res: false,
                },
            )
        })
        .collect()
}

/// The DATA_MESSAGE of one filter for one batch, or `None` when nothing matched.
pub fn data_message<E: EventSource>(
    owner: &str,
    group: &str,
    stream: &str,
    filter: &Compiled<SubscriptionDef>,
    events: &[E],
    first_seq: i64,
) -> Option<Value> {
    let log_events: Vec<Value> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| filter.pattern.matches(e.message()))
        .map(|(i, e)| {
            json!({
                "id": event_id(e.timestamp(), first_seq + i as i64),
                "timestamp": e.timestamp(),
                "message": e.message(),
            })
        })
        .collect();
    if log_events.is_empty() {
        return None;
    }
    Some(json!({
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": [filter.def.name],
        "logEvents": log_events,
    }))
}

/// `{"awslogs":{"data":"<base64(gzip(message))>"}}`, the payload AWS hands to Lambda.
pub fn lambda_payload(message: &Value) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let data = match gz
        .write_all(message.to_string().as_bytes())
        .and_then(|_| gz.finish())
    {
        Ok(bytes) => base64::engine::general_purpose::STANDARD.encode(bytes),
        // Writing into a Vec cannot fail.
        Err(_) => String::new(),
    };
    json!({"awslogs": {"data": data}}).to_string()
}

async fn deliver<E: EventSource>(
    bus: &Arc<EventService>,
    subs: &[Arc<Compiled<SubscriptionDef>>],
    group: &str,
    stream: &str,
    events: &[E],
    first_seq: i64,
    now_ms: i64,
) -> Result<(), ApiError> {
    let group_arn = format!(
        "arn:aws:logs:{}:{}:log-group:{group}",
        bus.region(),
        bus.account()
    );
    let mut queued = Vec::new();
    for s in subs {
        let Some(msg) = data_message(bus.account(), group, stream, s, events, first_seq) else {
            continue;
        };
        let kind = match target::parse(&s.def.destination_arn) {
            Ok(k) => k,
            Err(why) => {
                tracing::warn!(
                    filter = s.def.name,
                    why,
                    "Subscription destination unusable."
                );
                continue;
            }
        };
        let payload = match &kind {
            TargetKind::Bus(name) => {
                let event = json!({
                    "version": "0",
                    "id": crate::alarms::events::uuid_v4(),
                    "detail-type": "CloudWatch Logs Subscription",
                    "source": "aws.logs",
                    "account": bus.account(),
                    "time": crate::alarms::timefmt::event_time(now_ms),
                    "region": bus.region(),
                    "resources": [group_arn],
                    "detail": msg,
                });
                bus.put_events(name, &[event])
                    .await
                    .map_err(|e| internal(&e))?;
                continue;
            }
            TargetKind::Http { .. } | TargetKind::Command(_) => lambda_payload(&msg),
            TargetKind::File(_) | TargetKind::LogGroup(_) => msg.to_string(),
        };
        queued.push(Delivery {
            rule_arn: format!("{group_arn}:subscription-filter:{}", s.def.name),
            rule_name: s.def.name.clone(),
            target: Target {
                id: s.def.name.clone(),
                arn: s.def.destination_arn.clone(),
                role_arn: s.def.role_arn.clone(),
                input: Some(payload),
                input_path: None,
                input_transformer: None,
                dead_letter_arn: None,
                retry: None,
                headers: Vec::new(),
            },
            event: msg,
            ingestion_ms: now_ms,
            hops: 0,
        });
    }
    bus.enqueue(crate::store::events::Batch {
        deliveries: queued,
        next_ms: now_ms,
        ..Default::default()
    })
    .await
    .map_err(|e| internal(&e))
}
