//! Composite alarms through the service: following children, nesting, cycles, deletion rules,
//! suppression timing.

use super::*;
use crate::alarms::AlarmError;

fn arn(name: &str) -> String {
    format!("arn:aws:cloudwatch:us-east-1:000000000000:alarm:{name}")
}

fn state_change_events(h: &Harness, alarm: &str) -> Vec<serde_json::Value> {
    h.outbox()
        .iter()
        .filter_map(Outgoing::event_json)
        .filter(|e| {
            e["detail-type"] == "CloudWatch Alarm State Change" && e["detail"]["alarmName"] == alarm
        })
        .collect()
}

fn children(h: &Harness) {
    for (name, metric) in [("a", "ma"), ("b", "mb")] {
        h.svc
            .put_metric_alarm(metric_alarm(name, metric, 60, 1, None, None), vec![])
            .unwrap();
    }
}

#[tokio::test]
async fn composite_follows_its_children() {
    let h = Harness::new();
    children(&h);
    h.svc
        .put_composite_alarm(composite_alarm("c", "ALARM(a) AND NOT ALARM(b)"), vec![])
        .unwrap();
    let c = h.svc.get("c").unwrap();
    assert_eq!(c.status.value, StateValue::Ok, "evaluated at creation");
    assert_eq!(
        c.status.reason,
        format!(
            "{} was created and its alarm rule evaluates to OK",
            arn("c")
        )
    );
    let data: serde_json::Value =
        serde_json::from_str(c.status.reason_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["triggeringAlarms"].as_array().unwrap().len(), 2);
    assert_eq!(data["triggeringAlarms"][0]["arn"], arn("a"));
    assert_eq!(
        data["triggeringAlarms"][0]["state"]["value"],
        "INSUFFICIENT_DATA"
    );

    // (child, new state, composite state after)
    let steps = [
        ("a", StateValue::Alarm, StateValue::Alarm),
        ("b", StateValue::Alarm, StateValue::Ok),
        ("b", StateValue::Ok, StateValue::Alarm),
        ("a", StateValue::InsufficientData, StateValue::Ok),
        ("b", StateValue::InsufficientData, StateValue::Ok),
    ];
    for (i, (child, v, want)) in steps.iter().enumerate() {
        h.clock.set(T0 + (i as i64 + 1) * 1_000);
        h.set_state(child, *v);
        assert_eq!(h.state("c"), *want, "step {i}");
    }
    let events = state_change_events(&h, "c");
    assert_eq!(events.len(), 5, "created→OK, then four transitions");
    assert_eq!(
        events[1]["detail"]["state"]["reason"],
        format!(
            "{} transitioned to ALARM at Tuesday 14 November, 2023 22:00:01 UTC",
            arn("a")
        )
    );
    assert_eq!(
        events[1]["detail"]["configuration"]["alarmRule"],
        "ALARM(a) AND NOT ALARM(b)"
    );
    let data: serde_json::Value =
        serde_json::from_str(events[2]["detail"]["state"]["reasonData"].as_str().unwrap()).unwrap();
    assert_eq!(
        data,
        serde_json::json!({"triggeringAlarms": [{"arn": arn("b"), "state": {"value": "ALARM", "timestamp": "2023-11-14T22:00:02.000+0000"}}]})
    );
}

#[tokio::test]
async fn composite_follows_metric_data_in_the_same_round() {
    let h = Harness::new();
    children(&h);
    h.svc
        .put_composite_alarm(composite_alarm("c", "ALARM(a) OR ALARM(b)"), vec![])
        .unwrap();
    h.svc
        .put_composite_alarm(composite_alarm("top", "ALARM(c) AND OK(b)"), vec![])
        .unwrap();
    let t = T0 + 5 * MIN;
    h.put("ma", t - 30_000, 9.0).await;
    h.put("mb", t - 30_000, 1.0).await;
    let stats = h.round(t);
    assert_eq!(stats.transitions, 4, "a, b, c and top");
    assert_eq!(h.state("c"), StateValue::Alarm);
    assert_eq!(h.state("top"), StateValue::Alarm);
    assert!(
        h.reason("top")
            .starts_with(&format!("{} transitioned to ALARM", arn("c"))),
        "{}",
        h.reason("top")
    );
}

#[tokio::test]
async fn rules_must_name_existing_alarms() {
    let h = Harness::new();
    children(&h);
    let e = h
        .svc
        .put_composite_alarm(
            composite_alarm("c", "ALARM(a) OR ALARM(nope) OR OK(gone)"),
            vec![],
        )
        .unwrap_err();
    assert!(
        matches!(&e, AlarmError::Validation(m)
        if m == "Could not save the composite alarm as alarms [nope, gone] in the alarm rule do not exist"),
        "{e}"
    );
    let e = h
        .svc
        .put_composite_alarm(composite_alarm("self", "ALARM(self)"), vec![])
        .unwrap_err();
    assert!(matches!(e, AlarmError::Validation(_)));
    let e = h
        .svc
        .put_metric_alarm(metric_alarm("c0", "x", 60, 1, None, None), vec![])
        .and_then(|_| {
            h.svc
                .put_composite_alarm(composite_alarm("c0", "TRUE"), vec![])
        })
        .unwrap_err();
    assert!(
        matches!(e, AlarmError::Validation(_)),
        "a metric alarm's name is taken"
    );
}

#[tokio::test]
async fn cycles_stop_evaluation_and_block_deletion() {
    let h = Harness::new();
    h.svc
        .put_metric_alarm(metric_alarm("m", "mm", 60, 1, None, None), vec![])
        .unwrap();
    h.svc
        .put_composite_alarm(composite_alarm("x", "ALARM(m)"), vec![])
        .unwrap();
    h.svc
        .put_composite_alarm(composite_alarm("y", "ALARM(x)"), vec![])
        .unwrap();
    // Close the cycle x → y → x.
    h.svc
        .put_composite_alarm(composite_alarm("x", "ALARM(y) OR ALARM(m)"), vec![])
        .unwrap();
    h.set_state("m", StateValue::Alarm);
    assert_eq!(
        h.state("x"),
        StateValue::Ok,
        "a composite in a cycle is not evaluated"
    );
    assert_eq!(h.state("y"), StateValue::Ok);
    for name in ["x", "y", "m"] {
        let e = h.svc.delete_alarms(&[name.to_string()]).unwrap_err();
        assert!(
            matches!(e, AlarmError::Validation(_)),
            "{name} is referenced"
        );
    }
    let e = h
        .svc
        .delete_alarms(&["x".to_string(), "y".to_string()])
        .unwrap_err();
    assert!(matches!(e, AlarmError::Validation(m) if m.contains("at most one composite")));
    // Break the cycle: x is evaluated again and the alarms can go.
    h.svc
        .put_composite_alarm(composite_alarm("x", "FALSE"), vec![])
        .unwrap();
    assert_eq!(h.state("x"), StateValue::Ok);
    h.svc.delete_alarms(&["y".to_string()]).unwrap();
    h.svc
        .delete_alarms(&["x".to_string(), "m".to_string(), "unknown".to_string()])
        .unwrap();
    assert!(h.svc.with_alarms(|a| a.is_empty()));
}

fn with_suppressor(
    mut c: CompositeAlarmConfig,
    s: &str,
    wait: i64,
    ext: i64,
) -> CompositeAlarmConfig {
    c.suppressor = Some(s.into());
    c.suppressor_as_sent = Some(s.into());
    c.wait_period_s = Some(wait);
    c.extension_period_s = Some(ext);
    c
}

/// One step of a suppression timing table.
enum Step {
    /// Set an alarm's state at this second.
    Set(&'static str, StateValue),
    /// Run the round at this second.
    Round,
}

#[tokio::test]
async fn suppression_timing() {
    let h = Harness::new();
    children(&h);
    h.svc
        .put_metric_alarm(metric_alarm("s", "ms", 60, 1, None, None), vec![])
        .unwrap();
    h.svc
        .put_composite_alarm(
            with_suppressor(composite_alarm("c", "ALARM(a)"), "s", 60, 120),
            vec![],
        )
        .unwrap();
    let alarm_arn = "arn:aws:sns:us-east-1:000000000000:c-alarm";
    let ok_arn = "arn:aws:sns:us-east-1:000000000000:c-ok";
    // (second, step, actions released for c at this step, ActionsSuppressedBy after)
    let table: Vec<(i64, Step, Option<&str>, Option<&str>)> = vec![
        (
            10,
            Step::Set("a", StateValue::Alarm),
            None,
            Some("WaitPeriod"),
        ),
        (40, Step::Round, None, Some("WaitPeriod")),
        (70, Step::Round, Some(alarm_arn), None),
        (80, Step::Set("s", StateValue::Alarm), None, None),
        (90, Step::Set("a", StateValue::Ok), None, Some("Alarm")),
        (200, Step::Round, None, Some("Alarm")),
        (
            210,
            Step::Set("s", StateValue::Ok),
            None,
            Some("ExtensionPeriod"),
        ),
        (320, Step::Round, None, Some("ExtensionPeriod")),
        (330, Step::Round, Some(ok_arn), None),
        (
            340,
            Step::Set("a", StateValue::Alarm),
            None,
            Some("WaitPeriod"),
        ),
        (350, Step::Set("s", StateValue::Alarm), None, Some("Alarm")),
        (
            360,
            Step::Set("s", StateValue::Ok),
            None,
            Some("ExtensionPeriod"),
        ),
        (470, Step::Round, None, Some("ExtensionPeriod")),
        (490, Step::Round, Some(alarm_arn), None),
    ];
    for (sec, step, released, by) in table {
        let t = T0 + sec * 1000;
        let before = h.outbox().len();
        match step {
            Step::Set(name, v) => {
                h.clock.set(t);
                h.set_state(name, v);
            }
            Step::Round => {
                h.round(t);
            }
        }
        let new: Vec<Outgoing> = h.outbox().split_off(before);
        let got: Vec<String> = new
            .iter()
            .filter_map(|o| o.actions.as_ref())
            .filter(|a| a.alarm_name == "c")
            .flat_map(|a| a.arns.clone())
            .collect();
        assert_eq!(
            got,
            released.map(|a| vec![a.to_string()]).unwrap_or_default(),
            "at {sec} s"
        );
        assert_eq!(
            h.svc.get("c").unwrap().suppression.suppressed_by(),
            by,
            "at {sec} s"
        );
    }
    let first = state_change_events(&h, "c")
        .into_iter()
        .find(|e| e["detail"]["state"]["value"] == "ALARM")
        .unwrap();
    assert_eq!(
        first["detail"]["state"]["actionsSuppressedBy"],
        "WaitPeriod"
    );
    assert_eq!(
        first["detail"]["state"]["actionsSuppressedReason"],
        "Actions suppressed by WaitPeriod"
    );
    assert_eq!(
        first["detail"]["configuration"]["actionsSuppressorWaitPeriod"],
        60
    );
}

#[tokio::test]
async fn replacing_the_suppressor_discards_the_period() {
    let h = Harness::new();
    children(&h);
    h.svc
        .put_composite_alarm(
            with_suppressor(composite_alarm("c", "ALARM(a)"), "b", 60, 60),
            vec![],
        )
        .unwrap();
    h.set_state("a", StateValue::Alarm);
    assert_eq!(
        h.svc.get("c").unwrap().suppression.suppressed_by(),
        Some("WaitPeriod")
    );
    h.svc
        .put_composite_alarm(composite_alarm("c", "ALARM(a)"), vec![])
        .unwrap();
    assert_eq!(h.svc.get("c").unwrap().suppression.suppressed_by(), None);
    let before = h.outbox().len();
    h.round(T0 + 2 * MIN + 10_000);
    assert!(h.outbox()[before..]
        .iter()
        .all(|o| o.actions.as_ref().is_none_or(|a| a.alarm_name != "c")));
}
