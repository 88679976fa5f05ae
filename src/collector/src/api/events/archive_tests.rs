//! Archive and replay tests: the operations' errors as AWS words them, archiving on every
//! path, retention on the manual clock, replays (filters, cancel, restarts) through the
//! delivery loop with file targets.

use super::tests::H;
use serde_json::{json, Value};
use std::path::Path;

const T0: i64 = 1_700_000_000_000;
const BUS_ARN: &str = "arn:aws:events:us-east-1:123456789012:event-bus/default";
const ARCHIVE_ARN: &str = "arn:aws:events:us-east-1:123456789012:archive/arch";

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

async fn rule_to(h: &H, rule: &str, source: &str, out: &Path) {
    h.ok(
        "PutRule",
        json!({"Name": rule, "EventPattern": format!("{{\"source\":[\"{source}\"]}}")}),
    )
    .await;
    h.ok(
        "PutTargets",
        json!({"Rule": rule, "Targets": [{"Id": "f", "Arn": file_arn(out)}]}),
    )
    .await;
}

async fn put(h: &H, source: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let entries: Vec<Value> = chunk
            .iter()
            .map(|i| json!({"Source": source, "DetailType": "d", "Detail": format!("{{\"n\":{i}}}")}))
            .collect();
        let out = h.ok("PutEvents", json!({ "Entries": entries })).await;
        assert_eq!(out["FailedEntryCount"], 0);
    }
}

async fn archive(h: &H, pattern: Option<&str>) {
    let mut input = json!({"ArchiveName": "arch", "EventSourceArn": BUS_ARN});
    if let Some(p) = pattern {
        input["EventPattern"] = json!(p);
    }
    let out = h.ok("CreateArchive", input).await;
    assert_eq!(out["ArchiveArn"], ARCHIVE_ARN);
    assert_eq!(out["State"], "ENABLED");
}

async fn count(h: &H) -> i64 {
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "arch"}))
        .await;
    d["EventCount"].as_i64().unwrap()
}

async fn start_replay(h: &H, name: &str, filters: &[&str]) -> Value {
    let mut dest = json!({"Arn": BUS_ARN});
    if !filters.is_empty() {
        dest["FilterArns"] = json!(filters);
    }
    h.ok(
        "StartReplay",
        json!({"ReplayName": name, "EventSourceArn": ARCHIVE_ARN,
            "EventStartTime": (T0 - 60_000) / 1000, "EventEndTime": (T0 + 60_000) / 1000,
            "Destination": dest}),
    )
    .await
}

async fn drain(h: &H) -> usize {
    let svc = h.api.service();
    let mut replayed = 0;
    for _ in 0..100 {
        let r = svc.tick().await.unwrap();
        replayed += r.replayed;
        if r.replayed == 0 && r.delivered == 0 && svc.store().queued().unwrap() == 0 {
            break;
        }
    }
    replayed
}

#[tokio::test]
async fn archive_operations_and_errors() {
    let h = H::new();
    archive(&h, Some(r#"{"source":["app"]}"#)).await;
    h.ok("CreateEventBus", json!({"Name": "orders"})).await;
    let orders = "arn:aws:events:us-east-1:123456789012:event-bus/orders";
    h.ok(
        "CreateArchive",
        json!({"ArchiveName": "other", "EventSourceArn": orders, "RetentionDays": 7,
            "Description": "kept a week"}),
    )
    .await;
    let table: &[(&str, Value, &str, &str)] = &[
        (
            "CreateArchive",
            json!({"ArchiveName": "arch", "EventSourceArn": BUS_ARN}),
            "ResourceAlreadyExistsException",
            "Archive arch already exists.",
        ),
        (
            "CreateArchive",
            json!({"ArchiveName": "x", "EventSourceArn":
                "arn:aws:events:us-east-1:123456789012:event-bus/nope"}),
            "ResourceNotFoundException",
            "Event bus nope does not exist.",
        ),
        (
            "CreateArchive",
            json!({"ArchiveName": "x", "EventSourceArn": BUS_ARN, "EventPattern": "{\"a\":[]}"}),
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed",
        ),
        (
            "CreateArchive",
            json!({"ArchiveName": "x", "EventSourceArn": BUS_ARN, "RetentionDays": -1}),
            "ValidationException",
            "1 validation error detected: Value '-1' at 'retentionDays' failed to satisfy \
             constraint: Member must have value greater than or equal to 0",
        ),
        (
            "CreateArchive",
            json!({"ArchiveName": "a".repeat(49), "EventSourceArn": BUS_ARN}),
            "ValidationException",
            &format!(
                "1 validation error detected: Value '{}' at 'archiveName' failed to satisfy \
                 constraint: Member must have length less than or equal to 48",
                "a".repeat(49)
            ),
        ),
        (
            "DescribeArchive",
            json!({"ArchiveName": "nope"}),
            "ResourceNotFoundException",
            "Archive nope does not exist.",
        ),
        (
            "ListArchives",
            json!({"EventSourceArn": "arn:aws:events:us-east-1:123456789012:event-bus/nope"}),
            "ResourceNotFoundException",
            "Event bus nope does not exist.",
        ),
        (
            "UpdateArchive",
            json!({"ArchiveName": "nope"}),
            "ValidationException",
            "At least one of EventPattern, RetentionDays or Description must be provided.",
        ),
        (
            "UpdateArchive",
            json!({"ArchiveName": "nope", "RetentionDays": 1}),
            "ResourceNotFoundException",
            "Archive nope does not exist.",
        ),
        (
            "DeleteArchive",
            json!({"ArchiveName": "nope"}),
            "ResourceNotFoundException",
            "Archive nope does not exist.",
        ),
    ];
    for (op, input, code, msg) in table {
        assert_eq!(
            h.err(op, input.clone()).await,
            (code.to_string(), msg.to_string()),
            "{op} {input}"
        );
    }
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "other"}))
        .await;
    assert_eq!(
        d["ArchiveArn"],
        "arn:aws:events:us-east-1:123456789012:archive/other"
    );
    assert_eq!(d["EventSourceArn"], orders);
    assert_eq!(
        (d["RetentionDays"].clone(), d["Description"].clone()),
        (json!(7), json!("kept a week"))
    );
    assert_eq!(
        (d["EventCount"].clone(), d["SizeBytes"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(d["CreationTime"], json!(T0 / 1000));
    let names = |v: &Value| -> Vec<String> {
        v["Archives"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["ArchiveName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&h.ok("ListArchives", json!({})).await),
        ["arch", "other"]
    );
    assert_eq!(
        names(&h.ok("ListArchives", json!({"NamePrefix": "ot"})).await),
        ["other"]
    );
    assert_eq!(
        names(
            &h.ok("ListArchives", json!({"EventSourceArn": BUS_ARN}))
                .await
        ),
        ["arch"]
    );
    assert!(names(&h.ok("ListArchives", json!({"State": "DISABLED"})).await).is_empty());
    let page = h.ok("ListArchives", json!({"Limit": 1})).await;
    assert_eq!(names(&page), ["arch"]);
    let next = h
        .ok(
            "ListArchives",
            json!({"Limit": 1, "NextToken": page["NextToken"]}),
        )
        .await;
    assert_eq!(names(&next), ["other"]);
    assert!(next.get("NextToken").is_none());
    h.ok(
        "UpdateArchive",
        json!({"ArchiveName": "other", "RetentionDays": 0, "EventPattern": "{\"source\":[\"b\"]}"}),
    )
    .await;
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "other"}))
        .await;
    assert_eq!(
        (d["RetentionDays"].clone(), d["Description"].clone()),
        (json!(0), json!("kept a week"))
    );
    assert_eq!(d["EventPattern"], "{\"source\":[\"b\"]}");
    h.ok("DeleteArchive", json!({"ArchiveName": "other"})).await;
    assert_eq!(names(&h.ok("ListArchives", json!({})).await), ["arch"]);
}

#[tokio::test]
async fn archives_take_matching_events_whether_or_not_a_rule_matched() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    rule_to(&h, "r", "app", &out).await;
    archive(&h, Some(r#"{"source":["app", "quiet"]}"#)).await;
    put(&h, "app", 2).await;
    put(&h, "quiet", 1).await;
    put(&h, "other", 1).await;
    assert_eq!(count(&h).await, 3);
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "arch"}))
        .await;
    assert!(d["SizeBytes"].as_i64().unwrap() > 3 * 150, "{d}");
    // Restarting keeps archives, their events and counters.
    let H { api, dir, .. } = h;
    drop(api);
    let h = H::open(dir);
    assert_eq!(count(&h).await, 3);
    // Bus-to-bus: events forwarded onto another bus go into that bus's archives too.
    h.ok("CreateEventBus", json!({"Name": "b2"})).await;
    h.ok(
        "CreateArchive",
        json!({"ArchiveName": "b2arch", "EventSourceArn":
            "arn:aws:events:us-east-1:123456789012:event-bus/b2"}),
    )
    .await;
    h.ok(
        "PutRule",
        json!({"Name": "fwd", "EventPattern": "{\"source\":[\"fwd\"]}"}),
    )
    .await;
    h.ok(
        "PutTargets",
        json!({"Rule": "fwd", "Targets": [{"Id": "b",
            "Arn": "arn:aws:events:us-east-1:123456789012:event-bus/b2"}]}),
    )
    .await;
    put(&h, "fwd", 1).await;
    h.api.service().tick().await.unwrap();
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "b2arch"}))
        .await;
    assert_eq!(d["EventCount"], 1);
}

#[tokio::test]
async fn retention_is_swept_on_the_clock() {
    let h = H::new();
    h.ok(
        "CreateArchive",
        json!({"ArchiveName": "arch", "EventSourceArn": BUS_ARN, "RetentionDays": 1}),
    )
    .await;
    put(&h, "app", 3).await;
    let svc = h.api.service();
    h.clock.advance(86_400_000 - 60_000);
    svc.tick().await.unwrap();
    assert_eq!(count(&h).await, 3, "kept for a day");
    put(&h, "app", 1).await;
    h.clock.advance(120_000);
    svc.tick().await.unwrap();
    assert_eq!(count(&h).await, 1, "older than a day: swept");
    let d = h
        .ok("DescribeArchive", json!({"ArchiveName": "arch"}))
        .await;
    let size = d["SizeBytes"].as_i64().unwrap();
    assert!((100..1000).contains(&size), "{d}");
}

#[tokio::test]
async fn replay_redelivers_with_replay_name_through_the_queue() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    rule_to(&h, "r", "app", &out).await;
    archive(&h, None).await;
    put(&h, "app", 2).await;
    put(&h, "unrouted", 1).await;
    drain(&h).await;
    let first = lines(&out);
    assert_eq!(first.len(), 2);
    let out = start_replay(&h, "again", &[]).await;
    assert_eq!(
        out["ReplayArn"],
        "arn:aws:events:us-east-1:123456789012:replay/again"
    );
    assert_eq!(out["State"], "STARTING");
    assert_eq!(
        h.err(
            "StartReplay",
            json!({"ReplayName": "again", "EventSourceArn": ARCHIVE_ARN,
        "EventStartTime": 0, "EventEndTime": 1, "Destination": {"Arn": BUS_ARN}})
        )
        .await,
        (
            "ResourceAlreadyExistsException".into(),
            "Replay again already exists.".into()
        )
    );
    assert_eq!(drain(&h).await, 3);
    let all = lines(&h.dir.path().join("out.jsonl"));
    assert_eq!(
        all.len(),
        4,
        "the two routed events again, the unrouted one still unrouted"
    );
    for replayed in &all[2..] {
        // Deliveries are not ordered: find the original by its detail.
        let orig = first
            .iter()
            .find(|o| o["detail"] == replayed["detail"])
            .unwrap();
        assert_eq!(replayed["replay-name"], "again");
        assert_ne!(replayed["id"], orig["id"], "a replayed event has a new id");
        assert_eq!(replayed["time"], orig["time"]);
        assert_eq!(replayed["source"], "app");
    }
    assert_ne!(all[2]["detail"], all[3]["detail"]);
    assert_eq!(count(&h).await, 3, "replayed events are not archived again");
    let d = h.ok("DescribeReplay", json!({"ReplayName": "again"})).await;
    assert_eq!(d["State"], "COMPLETED");
    assert_eq!(d["EventSourceArn"], ARCHIVE_ARN);
    assert_eq!(d["Destination"], json!({"Arn": BUS_ARN}));
    assert_eq!(d["EventLastReplayedTime"], json!(T0 / 1000));
    assert_eq!(d["ReplayStartTime"], json!(T0 / 1000));
    assert!(d.get("ReplayEndTime").is_some());
    assert_eq!(
        h.err("CancelReplay", json!({"ReplayName": "again"})).await,
        (
            "IllegalStatusException".into(),
            "Replay again is not in a valid state for this operation.".into()
        )
    );
    let l = h.ok("ListReplays", json!({"State": "COMPLETED"})).await;
    assert_eq!(l["Replays"][0]["ReplayName"], "again");
    assert_eq!(
        h.ok("ListReplays", json!({"State": "RUNNING"})).await["Replays"],
        json!([])
    );
}

#[tokio::test]
async fn replay_goes_only_to_the_filtered_rules_and_its_window() {
    let h = H::new();
    let a = h.dir.path().join("a.jsonl");
    let b = h.dir.path().join("b.jsonl");
    rule_to(&h, "ra", "app", &a).await;
    rule_to(&h, "rb", "app", &b).await;
    archive(&h, None).await;
    put(&h, "app", 1).await;
    h.clock.advance(120_000);
    put(&h, "app", 1).await; // outside the replay window
    drain(&h).await;
    assert_eq!((lines(&a).len(), lines(&b).len()), (2, 2));
    start_replay(
        &h,
        "only-a",
        &["arn:aws:events:us-east-1:123456789012:rule/ra"],
    )
    .await;
    assert_eq!(drain(&h).await, 1);
    assert_eq!((lines(&a).len(), lines(&b).len()), (3, 2));
    assert_eq!(lines(&a)[2]["detail"], json!({"n": 0}));
    let d = h
        .ok("DescribeReplay", json!({"ReplayName": "only-a"}))
        .await;
    assert_eq!(
        d["Destination"]["FilterArns"],
        json!(["arn:aws:events:us-east-1:123456789012:rule/ra"])
    );
}

#[tokio::test]
async fn replay_errors() {
    let h = H::new();
    archive(&h, None).await;
    h.ok("CreateEventBus", json!({"Name": "orders"})).await;
    let base = json!({"ReplayName": "r", "EventSourceArn": ARCHIVE_ARN,
        "EventStartTime": 100, "EventEndTime": 200, "Destination": {"Arn": BUS_ARN}});
    let with = |k: &str, v: Value| {
        let mut i = base.clone();
        i[k] = v;
        i
    };
    let table: Vec<(Value, &str, &str)> = vec![
        (
            with("EventSourceArn", json!("arn:aws:events:us-east-1:123456789012:archive/nope")),
            "ValidationException",
            "Parameter EventSourceArn is not valid. Reason: Archive nope does not exist.",
        ),
        (
            with("EventEndTime", json!(100)),
            "ValidationException",
            "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
        ),
        (
            with("EventEndTime", json!(90)),
            "ValidationException",
            "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
        ),
        (
            with("Destination", json!({"Arn": "arn:aws:events:us-east-1:123456789012:event-bus/nope"})),
            "ResourceNotFoundException",
            "Event bus nope does not exist.",
        ),
        (
            with("Destination", json!({"Arn": "arn:aws:events:us-east-1:123456789012:event-bus/orders"})),
            "ValidationException",
            "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
        ),
        (
            with("Destination", json!({"Arn": BUS_ARN,
                "FilterArns": ["arn:aws:events:us-east-1:123456789012:rule/nope"]})),
            "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.",
        ),
        (
            with("ReplayName", json!("bad name")),
            "ValidationException",
            "1 validation error detected: Value 'bad name' at 'replayName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+",
        ),
    ];
    for (input, code, msg) in &table {
        assert_eq!(
            h.err("StartReplay", input.clone()).await,
            (code.to_string(), msg.to_string()),
            "{input}"
        );
    }
    assert_eq!(
        h.err("DescribeReplay", json!({"ReplayName": "nope"})).await,
        (
            "ResourceNotFoundException".into(),
            "Replay nope does not exist.".into()
        )
    );
    assert_eq!(
        h.err("CancelReplay", json!({"ReplayName": "nope"})).await,
        (
            "ResourceNotFoundException".into(),
            "Replay nope does not exist.".into()
        )
    );
    for i in 0..10 {
        h.ok("StartReplay", with("ReplayName", json!(format!("r{i}"))))
            .await;
    }
    assert_eq!(
        h.err("StartReplay", with("ReplayName", json!("r10"))).await,
        (
            "LimitExceededException".into(),
            "The requested resource exceeds the maximum number allowed.".into()
        )
    );
}

#[tokio::test]
async fn cancelled_replays_stop_and_failed_ones_say_why() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    rule_to(&h, "r", "app", &out).await;
    archive(&h, None).await;
    put(&h, "app", 3).await;
    drain(&h).await;
    start_replay(&h, "stop", &[]).await;
    let c = h.ok("CancelReplay", json!({"ReplayName": "stop"})).await;
    assert_eq!(c["State"], "CANCELLING");
    assert_eq!(drain(&h).await, 0);
    let d = h.ok("DescribeReplay", json!({"ReplayName": "stop"})).await;
    assert_eq!(d["State"], "CANCELLED");
    assert_eq!(lines(&out).len(), 3, "nothing replayed");
    start_replay(&h, "orphan", &[]).await;
    h.ok("DeleteArchive", json!({"ArchiveName": "arch"})).await;
    drain(&h).await;
    let d = h
        .ok("DescribeReplay", json!({"ReplayName": "orphan"}))
        .await;
    assert_eq!(d["State"], "FAILED");
    assert_eq!(d["StateReason"], "Archive arch does not exist.");
}

#[tokio::test]
async fn a_replay_resumes_after_a_restart_without_repeats() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    rule_to(&h, "r", "app", &out).await;
    archive(&h, None).await;
    let n = crate::events::replay::REPLAY_BATCH + 40;
    put(&h, "app", n).await;
    drain(&h).await;
    assert_eq!(lines(&out).len(), n);
    start_replay(&h, "long", &[]).await;
    let r = h.api.service().tick().await.unwrap();
    assert_eq!(r.replayed, crate::events::replay::REPLAY_BATCH);
    let d = h.ok("DescribeReplay", json!({"ReplayName": "long"})).await;
    assert_eq!(d["State"], "RUNNING");
    let H { api, dir, .. } = h;
    drop(api);
    let h = H::open(dir);
    assert_eq!(drain(&h).await, 40);
    let d = h.ok("DescribeReplay", json!({"ReplayName": "long"})).await;
    assert_eq!(d["State"], "COMPLETED");
    let got = lines(&out);
    assert_eq!(got.len(), 2 * n);
    let mut seen: Vec<i64> = got[n..]
        .iter()
        .map(|e| e["detail"]["n"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    let want: Vec<i64> = (0..n as i64).collect();
    assert_eq!(seen, want, "every archived event replayed exactly once");
}

#[tokio::test]
async fn lifecycle_events_go_on_the_default_bus_and_into_its_archives() {
    let h = H::new();
    let out = h.dir.path().join("out.jsonl");
    rule_to(&h, "life", "hostwatch.collector", &out).await;
    archive(&h, Some(r#"{"source":["hostwatch.collector"]}"#)).await;
    let svc = h.api.service();
    svc.collector_started("http://127.0.0.1:4590")
        .await
        .unwrap();
    h.clock.advance(90_000);
    svc.collector_stopping(90).await.unwrap();
    drain(&h).await;
    let mut got = lines(&out);
    got.sort_by_key(|e| e["time"].as_str().unwrap().to_string());
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["detail-type"], "Collector Started");
    assert_eq!(got[0]["source"], "hostwatch.collector");
    assert_eq!(got[0]["time"], "2023-11-14T22:13:20Z");
    assert_eq!(got[0]["detail"]["endpoint"], "http://127.0.0.1:4590");
    assert_eq!(got[0]["detail"]["pid"], std::process::id());
    assert_eq!(
        got[0]["detail"]["collectorVersion"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(got[1]["detail-type"], "Collector Stopping");
    assert_eq!(got[1]["detail"]["uptimeSeconds"], 90);
    assert_eq!(got[1]["resources"], json!([]));
    assert_eq!(count(&h).await, 2);
}
