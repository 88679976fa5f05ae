//! Restarts keep every state and fire nothing twice; delivery resumes where it stopped.

use super::*;

#[tokio::test]
async fn restart_keeps_state_and_fires_nothing_twice() {
    let mut h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 60, 1, None, None), vec![])
        .unwrap();
    h.svc
        .put_composite_alarm(composite_alarm("c", "ALARM(a)"), vec![])
        .unwrap();
    let t = T0 + 5 * MIN;
    h.put("m", t - 30_000, 9.0).await;
    assert_eq!(h.round(t).transitions, 2);
    let before = h.outbox();
    let states = |h: &Harness| (h.state("a"), h.state("c"), h.reason("a"));
    let kept = states(&h);

    h = h.reopen();
    assert_eq!(states(&h), kept, "state survives a restart");
    assert_eq!(h.svc.last_round_ms(), t);
    assert!(h.round(t).skipped, "the same round is not evaluated again");
    // The next round computes the same state: no transition, no event.
    h.put("m", t + 30_000, 9.5).await;
    assert_eq!(h.round(t + MIN).transitions, 0);
    assert_eq!(h.outbox(), before, "nothing published twice");
    assert_eq!(states(&h).0, StateValue::Alarm);
}

#[tokio::test]
async fn delivery_is_in_order_and_resumes_after_restart() {
    let mut h = Harness::new();
    let rec = Arc::new(Recorder::default());
    h.svc.set_publisher(rec.clone());
    h.svc
        .put_metric_alarm(metric_alarm("a", "m", 10, 1, None, None), vec![])
        .unwrap();
    h.put("m", T0 + 1_000, 9.0).await;
    h.round(T0 + 10_000);
    let kinds: Vec<String> = rec
        .events()
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "CloudWatch Alarm Configuration Change",
            "CloudWatch Alarm State Change"
        ]
    );
    let seqs: Vec<i64> = rec.seen.lock().unwrap().iter().map(|o| o.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // The bus is down: entries wait in the outbox.
    *rec.fail.lock().unwrap() = true;
    h.put("m", T0 + 11_000, 1.0).await;
    h.round(T0 + 20_000);
    assert_eq!(rec.seen.lock().unwrap().len(), 2);

    // After a restart a new publisher gets exactly what was not delivered.
    h = h.reopen();
    let rec2 = Arc::new(Recorder::default());
    h.svc.set_publisher(rec2.clone());
    let events = rec2.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["state"]["value"], "OK");
    assert_eq!(events[0]["source"], "aws.cloudwatch");
    assert_eq!(
        events[0]["resources"][0],
        "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a"
    );
    h = h.reopen();
    let rec3 = Arc::new(Recorder::default());
    h.svc.set_publisher(rec3.clone());
    assert!(
        rec3.seen.lock().unwrap().is_empty(),
        "nothing delivered twice"
    );
}
