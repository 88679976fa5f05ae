//! Service tests: a real metric store and alarm store in a temporary directory, a manual clock,
//! rounds run by hand. `tables` drives the missing-data tables, M of N, the premature-alarm rule
//! and low-sample percentiles through stored datapoints; `composite` covers composite alarms,
//! cycles and suppression timing; `restart` durability and exactly-once events.

mod anomaly;
mod composite;
mod restart;
mod tables;

use hostwatch_model::{DatumValue, MetricKey, Unit};
use std::sync::{Arc, Mutex};

use super::events::{EventPublisher, Outgoing, PublishError, Scope};
use super::model::{
    Actions, AlarmStatistic, Comparison, CompositeAlarmConfig, MetricAlarmConfig, MetricSource,
    StateValue, TreatMissing,
};
use super::AlarmService;
use crate::clock::ManualClock;
use crate::store::metrics::{MetricStore, Point, SeriesKey, StoreOptions};

/// 2023-11-14T22:00:00Z, an hour boundary.
pub const T0: i64 = 1_699_999_200_000;
pub const MIN: i64 = 60_000;

/// Records what the service publishes; can be told to fail.
#[derive(Debug, Default)]
pub struct Recorder {
    pub seen: Mutex<Vec<Outgoing>>,
    pub fail: Mutex<bool>,
}

impl EventPublisher for Recorder {
    fn publish(&self, entry: &Outgoing) -> Result<(), PublishError> {
        if *self.fail.lock().unwrap() {
            return Err(PublishError("down".into()));
        }
        self.seen.lock().unwrap().push(entry.clone());
        Ok(())
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(Outgoing::event_json)
            .collect()
    }
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub metrics: MetricStore,
    pub svc: Arc<AlarmService>,
}

pub fn scope() -> Scope {
    Scope {
        region: "us-east-1".into(),
        account: "000000000000".into(),
    }
}

fn open(dir: &std::path::Path, clock: Arc<ManualClock>) -> (MetricStore, Arc<AlarmService>) {
    let metrics = MetricStore::open(
        dir,
        StoreOptions {
            compact_every: None,
            ..Default::default()
        },
    )
    .unwrap();
    let svc = AlarmService::open(dir, metrics.clone(), None, clock, scope()).unwrap();
    (metrics, svc)
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let (metrics, svc) = open(dir.path(), clock.clone());
        Harness {
            dir,
            clock,
            metrics,
            svc,
        }
    }

    /// Drop the service and the metric store and open both again (a restart).
    pub fn reopen(self) -> Self {
        let Harness {
            dir,
            clock,
            metrics,
            svc,
        } = self;
        drop(svc);
        drop(metrics);
        let (metrics, svc) = open(dir.path(), clock.clone());
        Harness {
            dir,
            clock,
            metrics,
            svc,
        }
    }

    pub async fn put(&self, metric: &str, ts_ms: i64, value: f64) {
        self.put_value(metric, ts_ms, DatumValue::Single(value))
            .await;
    }

    pub async fn put_value(&self, metric: &str, ts_ms: i64, value: DatumValue) {
        self.metrics
            .append(vec![(
                SeriesKey {
                    metric: MetricKey::new("App", metric, vec![]),
                    unit: Unit::None,
                },
                Point {
                    ts_ms,
                    value,
                    high_res: true,
                },
            )])
            .await
            .unwrap();
    }

    /// Run the round at `t` with the clock there too.
    pub fn round(&self, t: i64) -> super::round::RoundStats {
        self.clock.set(t);
        self.svc.run_round(t).unwrap()
    }

    pub fn state(&self, name: &str) -> StateValue {
        self.svc.get(name).expect("alarm exists").status.value
    }

    pub fn reason(&self, name: &str) -> String {
        self.svc.get(name).expect("alarm exists").status.reason
    }

    pub fn outbox(&self) -> Vec<Outgoing> {
        self.svc.outbox_after(0, 100_000).unwrap()
    }

    pub fn set_state(&self, name: &str, v: StateValue) {
        self.svc
            .set_alarm_state(name, v, format!("set to {}", v.as_str()), None)
            .unwrap();
    }
}

/// A `GreaterThanThreshold 5` alarm on `App/<metric>` (Average).
pub fn metric_alarm(
    name: &str,
    metric: &str,
    period_s: i64,
    n: u32,
    m: Option<u32>,
    treat: Option<TreatMissing>,
) -> MetricAlarmConfig {
    MetricAlarmConfig {
        name: name.into(),
        description: None,
        actions: Actions {
            enabled: true,
            ok: vec!["arn:aws:sns:us-east-1:000000000000:ok".into()],
            alarm: vec!["arn:aws:sns:us-east-1:000000000000:alarm".into()],
            insufficient_data: vec![],
        },
        source: MetricSource::Single {
            metric: MetricKey::new("App", metric, vec![]),
            statistic: AlarmStatistic::Statistic("Average".into()),
            unit: None,
            event_id: format!("id-{name}"),
        },
        period_s,
        evaluation_periods: n,
        datapoints_to_alarm: m,
        threshold: Some(5.0),
        comparison: Comparison::GreaterThanThreshold,
        treat_missing: treat,
        low_sample_count: None,
        updated_ms: 0,
    }
}

/// A composite alarm on `rule` (children resolved by name).
pub fn composite_alarm(name: &str, rule: &str) -> CompositeAlarmConfig {
    let expr = super::rule::parse(rule).unwrap();
    CompositeAlarmConfig {
        name: name.into(),
        description: None,
        actions: Actions {
            enabled: true,
            ok: vec!["arn:aws:sns:us-east-1:000000000000:c-ok".into()],
            alarm: vec!["arn:aws:sns:us-east-1:000000000000:c-alarm".into()],
            insufficient_data: vec![],
        },
        rule: rule.into(),
        children: expr.names().into_iter().map(str::to_string).collect(),
        suppressor: None,
        suppressor_as_sent: None,
        wait_period_s: None,
        extension_period_s: None,
        updated_ms: 0,
    }
}

#[tokio::test]
async fn rounds_follow_the_period_cadence() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("fast", "f", 10, 1, None, None), vec![])
        .unwrap();
    h.svc
        .put_metric_alarm(metric_alarm("slow", "s", 60, 1, None, None), vec![])
        .unwrap();
    // (round time, alarms evaluated)
    let table = [
        (T0 + 10_000, 1),
        (T0 + 20_000, 1),
        (T0 + 60_000, 2),
        (T0 + 70_000, 1),
        (T0 + 120_000, 2),
    ];
    for (t, want) in table {
        assert_eq!(
            h.round(t).evaluated,
            want,
            "round at +{} s",
            (t - T0) / 1000
        );
    }
    let again = h.round(T0 + 120_000);
    assert!(again.skipped, "a round never runs twice");
    assert!(h.round(T0 + 119_000).skipped, "nor an older one");
    assert!(super::round::is_due(10, T0 + 10_000));
    assert!(!super::round::is_due(300, T0 + 10_000));
}

#[tokio::test]
async fn a_ten_second_alarm_reaches_alarm_and_back() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("hr", "lat", 10, 1, None, None), vec![])
        .unwrap();
    assert_eq!(h.state("hr"), StateValue::InsufficientData);
    assert_eq!(h.reason("hr"), "Unchecked: Initial alarm creation");
    /// (datapoint (time, value) stored before the round, round time, expected state)
    type Step = (Option<(i64, f64)>, i64, StateValue);
    let steps: [Step; 4] = [
        (Some((T0 + 3_000, 9.0)), T0 + 10_000, StateValue::Alarm),
        (Some((T0 + 12_000, 1.0)), T0 + 20_000, StateValue::Ok),
        (None, T0 + 30_000, StateValue::Ok),
        (Some((T0 + 31_000, 7.0)), T0 + 40_000, StateValue::Alarm),
    ];
    for (point, t, want) in steps {
        if let Some((ts, v)) = point {
            h.put("lat", ts, v).await;
        }
        h.round(t);
        assert_eq!(h.state("hr"), want, "at +{} s", (t - T0) / 1000);
    }
    assert!(
        h.reason("hr")
            .starts_with("Threshold Crossed: 1 datapoint [7.0 ("),
        "{}",
        h.reason("hr")
    );
    // Every transition is an event carrying the due actions.
    let out = h.outbox();
    let changes: Vec<&Outgoing> = out
        .iter()
        .filter(|o| {
            o.event
                .as_deref()
                .is_some_and(|e| e.contains("Alarm State Change"))
        })
        .collect();
    assert_eq!(changes.len(), 3);
    let actions: Vec<(StateValue, Vec<String>)> = changes
        .iter()
        .map(|o| {
            let a = o.actions.as_ref().unwrap();
            (a.state, a.arns.clone())
        })
        .collect();
    assert_eq!(actions[0].0, StateValue::Alarm);
    assert_eq!(
        actions[1],
        (
            StateValue::Ok,
            vec!["arn:aws:sns:us-east-1:000000000000:ok".to_string()]
        )
    );
}

#[tokio::test]
async fn disabled_actions_are_not_due_but_events_still_flow() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 10, 1, None, None), vec![])
        .unwrap();
    h.svc
        .set_actions_enabled(&["a".to_string()], false)
        .unwrap();
    h.put("m", T0 + 1_000, 9.0).await;
    h.round(T0 + 10_000);
    let last = h.outbox().pop().unwrap();
    assert!(last.event.unwrap().contains("\"value\":\"ALARM\""));
    assert!(last.actions.is_none());
}

#[tokio::test]
async fn history_is_queryable_and_outlives_the_alarm() {
    use crate::store::alarms::HistoryQuery;
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 60, 1, None, None), vec![])
        .unwrap();
    h.set_state("a", StateValue::Alarm);
    h.svc.delete_alarms(&["a".to_string()]).unwrap();
    assert!(h.svc.get("a").is_none());
    let items = h
        .svc
        .history(&HistoryQuery {
            alarm_name: Some("a".into()),
            limit: 100,
            ascending: true,
            ..Default::default()
        })
        .unwrap();
    let summaries: Vec<&str> = items.iter().map(|i| i.item.summary.as_str()).collect();
    assert_eq!(
        summaries,
        vec![
            "Alarm \"a\" created",
            "Alarm updated from INSUFFICIENT_DATA to ALARM",
            "Queued action arn:aws:sns:us-east-1:000000000000:alarm",
            "Alarm \"a\" deleted",
        ]
    );
    // Two weeks later, at an hour boundary, history is pruned.
    let later = T0 + super::history::RETENTION_MS + 3_600_000;
    h.round(later);
    let items = h
        .svc
        .history(&HistoryQuery {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(items.is_empty(), "{items:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_rounds_on_the_injected_clock() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 10, 1, None, None), vec![])
        .unwrap();
    h.put("m", T0 + 12_000, 9.0).await;
    // The scheduler starts at T0 (a round that cannot see the datapoint yet); moving the clock
    // past the datapoint's period makes the next wake-up (at most a second away) run +20 s.
    let scheduler = h.svc.start();
    h.clock.set(T0 + 20_000);
    let mut reached = false;
    for _ in 0..200 {
        if h.svc.get("a").unwrap().status.value == StateValue::Alarm {
            reached = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    scheduler.stop().await;
    assert!(reached, "the round at +20 s ran");
    assert_eq!(h.svc.last_round_ms(), T0 + 20_000);
}
