//! Delivery-loop tests: schedules, retries with backoff, dead letters, restarts, bus-to-bus
//! routing and input transformation, all on a manual clock with file targets.

use super::tests::H;
use serde_json::{json, Value};
use std::path::Path;

const T0: i64 = 1_700_000_000_000;

fn file_arn(p: &Path) -> String {
    format!("arn:hostwatch:file:::{}", p.display())
}

fn lines(p: &Path) -> Vec<Value> {
    match std::fs::read_to_string(p) {
        Ok(s) => s
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn rule_to(h: &H, target: Value) {
    h.ok(
        "PutRule",
        json!({"Name": "r", "EventPattern": "{\"source\":[\"app\"]}"}),
    )
    .await;
    h.ok("PutTargets", json!({"Rule": "r", "Targets": [target]}))
        .await;
}

async fn put_app_event(h: &H) {
    let out = h
        .ok(
            "PutEvents",
            json!({"Entries": [{"Source": "app", "DetailType": "d",
                "Detail": "{\"instance\":\"i-1\",\"state\":\"RUNNING\"}"}]}),
        )
        .await;
    assert_eq!(out["FailedEntryCount"], 0);
}

#[tokio::test]
async fn rate_rule_fires_on_time() {
    let h = H::new();
    let out = h.dir.path().join("sched.jsonl");
    h.ok(
        "PutRule",
        json!({"Name": "every", "ScheduleExpression": "rate(1 minute)"}),
    )
    .await;
    h.ok(
        "PutTargets",
        json!({"Rule": "every", "Targets": [{"Id": "f", "Arn": file_arn(&out)}]}),
    )
    .await;
    let svc = h.api.service();
    h.clock.set(T0 + 59_999);
    assert_eq!(svc.tick().await.unwrap().scheduled, 0);
    assert!(lines(&out).is_empty());
    h.clock.set(T0 + 60_000);
    let r = svc.tick().await.unwrap();
    assert_eq!((r.scheduled, r.delivered), (1, 1));
    assert_eq!(
        svc.tick().await.unwrap().scheduled,
        0,
        "fires once per period"
    );
    let got = lines(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["detail-type"], "Scheduled Event");
    assert_eq!(got[0]["source"], "aws.events");
    assert_eq!(got[0]["time"], "2023-11-14T22:14:20Z");
    assert_eq!(
        got[0]["resources"],
        json!(["arn:aws:events:us-east-1:123456789012:rule/every"])
    );
    assert_eq!(got[0]["detail"], json!({}));
    h.clock.set(T0 + 119_999);
    assert_eq!(svc.tick().await.unwrap().scheduled, 0);
    h.clock.set(T0 + 120_000);
    assert_eq!(svc.tick().await.unwrap().scheduled, 1);
    h.ok("DisableRule", json!({"Name": "every"})).await;
    h.clock.set(T0 + 180_000);
    assert_eq!(
        svc.tick().await.unwrap().scheduled,
        0,
        "disabled rules do not fire"
    );
    assert_eq!(lines(&out).len(), 2);
}

#[tokio::test]
async fn fails_three_times_then_delivers_once() {
    let h = H::new();
    let dir = h.dir.path().join("later");
    let out = dir.join("out.jsonl");
    rule_to(&h, json!({"Id": "f", "Arn": file_arn(&out)})).await;
    put_app_event(&h).await;
    let svc = h.api.service();
    // Attempts at +0, +1 s, +3 s fail (backoff 1 s, 2 s, then 4 s).
    for step in [0, 1_000, 2_000] {
        h.clock.advance(step);
        let r = svc.tick().await.unwrap();
        assert_eq!((r.retried, r.delivered), (1, 0), "after {step}");
    }
    std::fs::create_dir(&dir).unwrap();
    h.clock.advance(3_999);
    assert_eq!(
        svc.tick().await.unwrap().delivered,
        0,
        "not due before the backoff ends"
    );
    h.clock.advance(1);
    assert_eq!(svc.tick().await.unwrap().delivered, 1);
    h.clock.advance(60_000);
    assert_eq!(svc.tick().await.unwrap().delivered, 0);
    assert_eq!(lines(&out).len(), 1);
    assert_eq!(lines(&out)[0]["detail"]["instance"], "i-1");
    assert_eq!(svc.store().queued().unwrap(), 0);
}

#[tokio::test]
async fn keeps_failing_ends_in_the_dead_letter_queue() {
    let h = H::new();
    let out = h.dir.path().join("missing/out.jsonl");
    let dlq = h.dir.path().join("dlq.jsonl");
    rule_to(
        &h,
        json!({"Id": "f", "Arn": file_arn(&out),
            "RetryPolicy": {"MaximumRetryAttempts": 2},
            "DeadLetterConfig": {"Arn": file_arn(&dlq)}}),
    )
    .await;
    put_app_event(&h).await;
    let svc = h.api.service();
    let mut dead = 0;
    for _ in 0..10 {
        dead += svc.tick().await.unwrap().dead_lettered;
        h.clock.advance(10_000);
    }
    assert_eq!(dead, 1);
    let got = lines(&dlq);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["attempts"], 3);
    assert_eq!(got[0]["target"], "f");
    assert_eq!(
        got[0]["rule"],
        "arn:aws:events:us-east-1:123456789012:rule/r"
    );
    assert_eq!(got[0]["event"]["source"], "app");
    assert_eq!(svc.store().queued().unwrap(), 0);
}

#[tokio::test]
async fn event_age_limit_dead_letters() {
    let h = H::new();
    let out = h.dir.path().join("missing/out.jsonl");
    let dlq = h.dir.path().join("dlq.jsonl");
    rule_to(
        &h,
        json!({"Id": "f", "Arn": file_arn(&out),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": file_arn(&dlq)}}),
    )
    .await;
    put_app_event(&h).await;
    let svc = h.api.service();
    assert_eq!(svc.tick().await.unwrap().retried, 1);
    h.clock.advance(60_000);
    assert_eq!(svc.tick().await.unwrap().dead_lettered, 1);
    assert_eq!(lines(&dlq).len(), 1);
}

#[tokio::test]
async fn queued_deliveries_survive_a_restart() {
    let h = H::new();
    let dir = h.dir.path().join("later");
    let out = dir.join("out.jsonl");
    rule_to(&h, json!({"Id": "f", "Arn": file_arn(&out)})).await;
    put_app_event(&h).await;
    let H { api, dir: tmp, .. } = h;
    drop(api);
    let h = H::open(tmp);
    let svc = h.api.service();
    assert_eq!(svc.store().queued().unwrap(), 1);
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(svc.tick().await.unwrap().delivered, 1);
    assert_eq!(lines(&out).len(), 1);
    let rules = h.ok("ListTargetsByRule", json!({"Rule": "r"})).await;
    assert_eq!(rules["Targets"][0]["Id"], "f");
}

#[tokio::test]
async fn bus_target_and_input_transformer() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    h.ok("CreateEventBus", json!({"Name": "second"})).await;
    rule_to(
        &h,
        json!({"Id": "fwd", "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/second"}),
    )
    .await;
    h.ok(
        "PutRule",
        json!({"Name": "r2", "EventBusName": "second",
            "EventPattern": "{\"detail\":{\"state\":[\"RUNNING\"]}}"}),
    )
    .await;
    h.ok(
        "PutTargets",
        json!({"Rule": "r2", "EventBusName": "second", "Targets": [{
        "Id": "f", "Arn": file_arn(&out),
        "InputTransformer": {
            "InputPathsMap": {"i": "$.detail.instance", "s": "$.detail.state"},
            "InputTemplate": "{\"msg\": \"<i> is <s>\", \"rule\": <aws.events.rule-name>}"
        }}]}),
    )
    .await;
    put_app_event(&h).await;
    let svc = h.api.service();
    assert_eq!(
        svc.tick().await.unwrap().delivered,
        1,
        "forwarded to the second bus"
    );
    assert_eq!(
        svc.tick().await.unwrap().delivered,
        1,
        "delivered from the second bus"
    );
    assert_eq!(
        lines(&out),
        vec![json!({"msg": "i-1 is RUNNING", "rule": "r2"})]
    );
}

#[tokio::test]
async fn bus_to_bus_loops_are_cut() {
    let h = H::new();
    h.ok("CreateEventBus", json!({"Name": "second"})).await;
    rule_to(
        &h,
        json!({"Id": "fwd", "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/second"}),
    )
    .await;
    h.ok(
        "PutRule",
        json!({"Name": "back", "EventBusName": "second",
            "EventPattern": "{\"source\":[\"app\"]}"}),
    )
    .await;
    h.ok(
        "PutTargets",
        json!({"Rule": "back", "EventBusName": "second", "Targets": [{
            "Id": "home", "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/default"}]}),
    )
    .await;
    put_app_event(&h).await;
    let svc = h.api.service();
    let (mut delivered, mut dropped) = (0, 0);
    for _ in 0..10 {
        let r = svc.tick().await.unwrap();
        delivered += r.delivered;
        dropped += r.dropped;
    }
    assert_eq!((delivered, dropped), (4, 1));
    assert_eq!(svc.store().queued().unwrap(), 0);
}

/// Sum of the `AWS/Events` metric `name` of rule `rule` (default bus) in `store`.
fn rule_metric(store: &crate::store::metrics::MetricStore, name: &str, rule: &str) -> f64 {
    use hostwatch_model::{DatumValue, Dimension, MetricKey};
    let key = MetricKey::new("AWS/Events", name, vec![Dimension::new("RuleName", rule)]);
    store
        .series_of(&key)
        .iter()
        .flat_map(|(sid, _)| store.read(*sid, 0, i64::MAX).unwrap())
        .map(|p| match p.value {
            DatumValue::Single(v) => v,
            other => panic!("unexpected {other:?}"),
        })
        .sum()
}

#[tokio::test]
async fn rule_metrics_count_invocations_failures_and_dead_letters() {
    let h = H::new();
    let store = crate::store::metrics::MetricStore::open(
        h.dir.path(),
        crate::store::metrics::StoreOptions {
            compact_every: None,
            ..Default::default()
        },
    )
    .unwrap();
    let svc = h.api.service();
    svc.attach_metrics(store.clone());
    // Rule r: a target that always fails, one retry, then the dead-letter file.
    let dlq = h.dir.path().join("dlq.jsonl");
    rule_to(
        &h,
        json!({"Id": "f", "Arn": file_arn(&h.dir.path().join("missing/out.jsonl")),
            "RetryPolicy": {"MaximumRetryAttempts": 1},
            "DeadLetterConfig": {"Arn": file_arn(&dlq)}}),
    )
    .await;
    // Rule ok: the same events to a working file.
    h.ok(
        "PutRule",
        json!({"Name": "ok", "EventPattern": "{\"source\":[\"app\"]}"}),
    )
    .await;
    let good = h.dir.path().join("good.jsonl");
    h.ok(
        "PutTargets",
        json!({"Rule": "ok", "Targets": [{"Id": "g", "Arn": file_arn(&good)}]}),
    )
    .await;
    put_app_event(&h).await;
    put_app_event(&h).await;
    svc.tick().await.unwrap();
    // After the first round: both good deliveries counted; the failing ones are still retrying.
    assert_eq!(rule_metric(&store, "Invocations", "ok"), 2.0);
    assert_eq!(rule_metric(&store, "Invocations", "r"), 0.0);
    for _ in 0..6 {
        h.clock.advance(10_000);
        svc.tick().await.unwrap();
    }
    assert_eq!(lines(&good).len(), 2);
    assert_eq!(lines(&dlq).len(), 2);
    assert_eq!(rule_metric(&store, "Invocations", "ok"), 2.0);
    assert_eq!(rule_metric(&store, "FailedInvocations", "ok"), 0.0);
    assert_eq!(rule_metric(&store, "Invocations", "r"), 2.0);
    assert_eq!(rule_metric(&store, "FailedInvocations", "r"), 2.0);
    assert_eq!(rule_metric(&store, "DeadLetterInvocations", "r"), 2.0);
}
