//! Operation-level tests of the Logs API, driven through [`LogsApi::handle`] with a manual clock.

use super::*;
use crate::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

struct H {
    api: LogsApi,
    clock: Arc<ManualClock>,
    ctx: RequestContext,
    _dir: tempfile::TempDir,
}

fn ctx() -> RequestContext {
    testkit::ctx(T0)
}

fn opts() -> LogStoreOptions {
    LogStoreOptions {
        sweep_interval: None,
        ..LogStoreOptions::default()
    }
}

impl H {
    fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let api = LogsApi::open_with(dir.path(), clock.clone(), opts()).unwrap();
        H {
            api,
            clock,
            ctx: ctx(),
            _dir: dir,
        }
    }

    fn reopen(self) -> H {
        let H {
            api, clock, _dir, ..
        } = self;
        drop(api);
        let api = LogsApi::open_with(_dir.path(), clock.clone(), opts()).unwrap();
        H {
            api,
            clock,
            ctx: ctx(),
            _dir,
        }
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        testkit::call(&self.api, &self.ctx, op, input).await
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        testkit::ok(&self.api, &self.ctx, op, input).await
    }

    async fn err(&self, op: &str, input: Value) -> (String, String) {
        match self.call(op, input.clone()).await {
            Ok(v) => panic!("{op} {input} unexpectedly succeeded: {v}"),
            Err(e) => {
                assert_eq!(e.status, 400, "{e}");
                (e.code, e.message.unwrap_or_default())
            }
        }
    }

    async fn group_and_stream(&self, g: &str, s: &str) {
        self.ok("CreateLogGroup", json!({"logGroupName": g})).await;
        self.ok(
            "CreateLogStream",
            json!({"logGroupName": g, "logStreamName": s}),
        )
        .await;
    }

    async fn put(&self, g: &str, s: &str, events: &[(i64, &str)]) -> Value {
        let evs: Vec<Value> = events
            .iter()
            .map(|(t, m)| json!({"timestamp": t, "message": m}))
            .collect();
        self.ok(
            "PutLogEvents",
            json!({"logGroupName": g, "logStreamName": s, "logEvents": evs}),
        )
        .await
    }

    async fn get(&self, input: Value) -> (Vec<String>, String, String) {
        let mut input = input;
        input["logGroupName"] = json!("g");
        input["logStreamName"] = json!("s");
        let v = self.ok("GetLogEvents", input).await;
        let msgs = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect();
        (
            msgs,
            v["nextForwardToken"].as_str().unwrap().to_string(),
            v["nextBackwardToken"].as_str().unwrap().to_string(),
        )
    }
}

fn expect(got: (String, String), code: &str, msg: &str) {
    assert_eq!(got, (code.to_string(), msg.to_string()));
}

#[tokio::test]
async fn create_and_describe_groups() {
    let h = H::new();
    h.ok(
        "CreateLogGroup",
        json!({"logGroupName": "/app/web", "logGroupClass": "INFREQUENT_ACCESS", "kmsKeyId": "k1", "tags": {"team": "a"}}),
    )
    .await;
    expect(
        h.err("CreateLogGroup", json!({"logGroupName": "/app/web"}))
            .await,
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    );
    expect(
        h.err("CreateLogGroup", json!({"logGroupName": "x".repeat(513)}))
            .await,
        "InvalidParameterException",
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
    );
    let (code, _) = h
        .err("CreateLogGroup", json!({"logGroupName": "bad name"}))
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (_, m) = h
        .err(
            "CreateLogGroup",
            json!({"logGroupName": "ok", "logGroupClass": "HOT"}),
        )
        .await;
    assert!(m.contains("[STANDARD, INFREQUENT_ACCESS, DELIVERY]"), "{m}");
    let (_, m) = h.err("CreateLogGroup", json!({})).await;
    assert!(m.contains("Value null at 'logGroupName'"), "{m}");

    h.clock.advance(5);
    h.ok("CreateLogGroup", json!({"logGroupName": "/app/db"}))
        .await;
    let v = h.ok("DescribeLogGroups", json!({})).await;
    let groups = v["logGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert!(v.get("nextToken").is_none());
    let web = &groups[1];
    assert_eq!(web["logGroupName"], "/app/web");
    assert_eq!(web["creationTime"], T0);
    assert_eq!(web["logGroupClass"], "INFREQUENT_ACCESS");
    assert_eq!(web["kmsKeyId"], "k1");
    assert_eq!(web["metricFilterCount"], 0);
    assert_eq!(web["storedBytes"], 0);
    assert_eq!(
        web["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*"
    );
    assert_eq!(
        web["logGroupArn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:/app/web"
    );
    assert!(web.get("retentionInDays").is_none());
    assert_eq!(groups[0]["logGroupClass"], "STANDARD");
    assert_eq!(groups[0]["creationTime"], T0 + 5);

    h.ok("DeleteLogGroup", json!({"logGroupName": "/app/db"}))
        .await;
    expect(
        h.err("DeleteLogGroup", json!({"logGroupName": "/app/db"}))
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn describe_groups_filters_and_paging() {
    let h = H::new();
    for n in ["a/one", "a/two", "b/Three", "b/three", "c"] {
        h.ok("CreateLogGroup", json!({"logGroupName": n})).await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["logGroups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["logGroupName"].as_str().unwrap().to_string())
            .collect()
    };
    let v = h
        .ok("DescribeLogGroups", json!({"logGroupNamePrefix": "a/"}))
        .await;
    assert_eq!(names(&v), ["a/one", "a/two"]);
    let v = h
        .ok("DescribeLogGroups", json!({"logGroupNamePattern": "hree"}))
        .await;
    assert_eq!(names(&v), ["b/Three", "b/three"]);
    let v = h
        .ok("DescribeLogGroups", json!({"logGroupNamePattern": "Three"}))
        .await;
    assert_eq!(names(&v), ["b/Three"], "pattern is case-sensitive");
    expect(
        h.err(
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": "a", "logGroupNamePattern": "b"}),
        )
        .await,
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
    );
    // The CloudWatch agent's call: identifiers, names or ARNs; unknown ones are skipped.
    let v = h
        .ok(
            "DescribeLogGroups",
            json!({"logGroupIdentifiers": [
                "c",
                "arn:aws:logs:us-east-1:123456789012:log-group:a/two:*",
                "missing"
            ]}),
        )
        .await;
    assert_eq!(names(&v), ["a/two", "c"]);
    expect(
        h.err("DescribeLogGroups", json!({"limit": 51})).await,
        "InvalidParameterException",
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
    // Paging.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut input = json!({"limit": 2});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let v = h.ok("DescribeLogGroups", input).await;
        seen.extend(names(&v));
        match v.get("nextToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["a/one", "a/two", "b/Three", "b/three", "c"]);
    expect(
        h.err("DescribeLogGroups", json!({"nextToken": "garbage"}))
            .await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
}

#[tokio::test]
async fn streams() {
    let h = H::new();
    expect(
        h.err(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "s"}),
        )
        .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    h.group_and_stream("g", "s").await;
    expect(
        h.err(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "s"}),
        )
        .await,
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    );
    let (_, m) = h
        .err(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "a:b"}),
        )
        .await;
    assert!(m.contains("[^:*]*"), "{m}");
    for s in ["b", "c"] {
        h.ok(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": s}),
        )
        .await;
    }
    h.put("g", "c", &[(T0 - 10, "x")]).await;
    h.put("g", "b", &[(T0 - 5, "x")]).await;
    h.put("g", "s", &[(T0 - 20, "x")]).await;
    let names = |v: &Value| -> Vec<String> {
        v["logStreams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["logStreamName"].as_str().unwrap().to_string())
            .collect()
    };
    let v = h
        .ok("DescribeLogStreams", json!({"logGroupName": "g"}))
        .await;
    assert_eq!(names(&v), ["b", "c", "s"]);
    let b = &v["logStreams"][0];
    assert_eq!(b["firstEventTimestamp"], T0 - 5);
    assert_eq!(b["lastEventTimestamp"], T0 - 5);
    assert_eq!(b["lastIngestionTime"], T0);
    assert_eq!(b["creationTime"], T0);
    assert_eq!(b["storedBytes"], 0);
    assert_eq!(
        b["arn"],
        "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:b"
    );
    assert_eq!(b["uploadSequenceToken"].as_str().unwrap().len(), 56);
    let v = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:g", "orderBy": "LastEventTime", "descending": true}),
        )
        .await;
    assert_eq!(names(&v), ["b", "c", "s"]);
    let v = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "orderBy": "LastEventTime"}),
        )
        .await;
    assert_eq!(names(&v), ["s", "c", "b"]);
    // Paging in descending name order.
    let v = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "descending": true, "limit": 2}),
        )
        .await;
    assert_eq!(names(&v), ["s", "c"]);
    let t = v["nextToken"].as_str().unwrap();
    let v = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "descending": true, "limit": 2, "nextToken": t}),
        )
        .await;
    assert_eq!(names(&v), ["b"]);
    assert!(v.get("nextToken").is_none());
    let v = h
        .ok(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "logStreamNamePrefix": "c"}),
        )
        .await;
    assert_eq!(names(&v), ["c"]);
    expect(
        h.err(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "logGroupIdentifier": "g"}),
        )
        .await,
        "ValidationException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    );
    expect(
        h.err(
            "DescribeLogStreams",
            json!({"logGroupName": "g", "orderBy": "LastEventTime", "logStreamNamePrefix": "a"}),
        )
        .await,
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    );
    expect(
        h.err("DescribeLogStreams", json!({"logGroupName": "nope"}))
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    h.ok(
        "DeleteLogStream",
        json!({"logGroupName": "g", "logStreamName": "c"}),
    )
    .await;
    let v = h
        .ok("DescribeLogStreams", json!({"logGroupName": "g"}))
        .await;
    assert_eq!(names(&v), ["b", "s"]);
}

#[tokio::test]
async fn put_log_events_validation() {
    let h = H::new();
    let put = |g: &str, s: &str, events: Value| json!({"logGroupName": g, "logStreamName": s, "logEvents": events});
    let one = json!([{"timestamp": T0, "message": "m"}]);
    expect(
        h.err("PutLogEvents", put("g", "s", one.clone())).await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
    expect(
        h.err("PutLogEvents", put("g", "s", one.clone())).await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
    h.ok(
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .await;
    expect(
        h.err(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0, "message": "a"}, {"timestamp": T0 - 1, "message": "b"}]),
            ),
        )
        .await,
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    );
    expect(
        h.err(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0, "message": "a"}, {"timestamp": T0, "message": ""}]),
            ),
        )
        .await,
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    let (_, m) = h.err("PutLogEvents", put("g", "s", json!([]))).await;
    assert!(m.contains("greater than or equal to 1"), "{m}");
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"timestamp": T0, "message": "m"}))
        .collect();
    let (_, m) = h.err("PutLogEvents", put("g", "s", json!(many))).await;
    assert!(m.contains("less than or equal to 10000"), "{m}");
    let max: Vec<Value> = (0..10_000)
        .map(|_| json!({"timestamp": T0, "message": "m"}))
        .collect();
    h.ok("PutLogEvents", put("g", "s", json!(max))).await;
    // Exactly 1,048,576 bytes is accepted; one more byte is not.
    let exact = "x".repeat(1_048_576 - 2 * 26 - 1);
    h.ok(
        "PutLogEvents",
        put(
            "g",
            "s",
            json!([{"timestamp": T0, "message": exact}, {"timestamp": T0, "message": "y"}]),
        ),
    )
    .await;
    expect(
        h.err(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0, "message": exact}, {"timestamp": T0, "message": "yy"}]),
            ),
        )
        .await,
        "InvalidParameterException",
        "Upload too large: 1048577 bytes exceeds limit of 1048576",
    );
    let (_, m) = h
        .err(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0, "message": "x".repeat(1_048_577)}]),
            ),
        )
        .await;
    assert_eq!(
        m,
        "Log event too large: 1048577 bytes exceeds limit of 1048576"
    );
    // 24 hours among the valid events.
    expect(
        h.err(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0 - DAY - 1, "message": "a"}, {"timestamp": T0, "message": "b"}]),
            ),
        )
        .await,
        "InvalidParameterException",
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    );
    h.ok(
        "PutLogEvents",
        put(
            "g",
            "s",
            json!([{"timestamp": T0 - DAY, "message": "a"}, {"timestamp": T0, "message": "b"}]),
        ),
    )
    .await;
    // The span rule ignores rejected events.
    let v = h
        .ok(
            "PutLogEvents",
            put(
                "g",
                "s",
                json!([{"timestamp": T0 - 20 * DAY, "message": "old"}, {"timestamp": T0, "message": "b"}]),
            ),
        )
        .await;
    assert_eq!(v["rejectedLogEventsInfo"]["tooOldLogEventEndIndex"], 1);
    // The sequence token is ignored.
    let v = h
        .ok(
            "PutLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "sequenceToken": "bogus", "logEvents": one}),
        )
        .await;
    assert_eq!(v["nextSequenceToken"].as_str().unwrap().len(), 56);
    assert!(v.get("rejectedLogEventsInfo").is_none());
}

#[tokio::test]
async fn put_log_events_rejects_individual_events() {
    let h = H::new();
    h.group_and_stream("g", "s").await;
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    )
    .await;
    let v = h
        .put(
            "g",
            "s",
            &[
                (T0 - 15 * DAY, "too-old-0"),
                (T0 - 14 * DAY - 1, "too-old-1"),
                (T0 - 2 * DAY, "expired-2"),
                (T0 - DAY - 1, "expired-3"),
                (T0 - DAY, "ok-4"),
                (T0, "ok-5"),
                (T0 + 2 * HOUR + 1, "too-new-6"),
                (T0 + 3 * HOUR, "too-new-7"),
            ],
        )
        .await;
    let info = &v["rejectedLogEventsInfo"];
    assert_eq!(info["tooOldLogEventEndIndex"], 2);
    assert_eq!(info["expiredLogEventEndIndex"], 4);
    assert_eq!(info["tooNewLogEventStartIndex"], 6);
    assert!(v["nextSequenceToken"].is_string());
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs, ["ok-4", "ok-5"]);
    // The boundaries themselves are accepted: exactly 2 hours ahead, exactly 14 days old.
    let v = h.put("g", "s", &[(T0 + 2 * HOUR, "edge-new")]).await;
    assert!(v.get("rejectedLogEventsInfo").is_none(), "{v}");
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 30}),
    )
    .await;
    let v = h.put("g", "s", &[(T0 - 14 * DAY, "edge-old")]).await;
    assert!(v.get("rejectedLogEventsInfo").is_none(), "{v}");
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs, ["edge-old", "ok-4", "ok-5", "edge-new"]);
    // Everything rejected: nothing stored, still a token.
    let v = h.put("g", "s", &[(T0 + 5 * HOUR, "future")]).await;
    assert_eq!(v["rejectedLogEventsInfo"]["tooNewLogEventStartIndex"], 0);
    assert!(v["nextSequenceToken"].is_string());
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs.len(), 4);
}

#[tokio::test]
async fn get_log_events_paging_and_tokens() {
    let h = H::new();
    h.group_and_stream("g", "s").await;
    let events: Vec<(i64, String)> = (0..10).map(|i| (T0 - 100 + i, format!("e{i}"))).collect();
    let refs: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
    h.put("g", "s", &refs[..5]).await;
    h.put("g", "s", &refs[5..]).await;

    expect(
        h.err(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 10001}),
        )
        .await,
        "InvalidParameterException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    );
    expect(
        h.err(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "nextToken": "f/xyz"}),
        )
        .await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    expect(
        h.err(
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "nope"}),
        )
        .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );

    // Default: newest page first.
    let (msgs, _, _) = h.get(json!({"limit": 3})).await;
    assert_eq!(msgs, ["e7", "e8", "e9"]);

    // Forward from the head, to the end; the end is signalled by the same token coming back.
    let (mut all, mut tok, _) = h.get(json!({"limit": 4, "startFromHead": true})).await;
    let mut pages = 1;
    loop {
        let (msgs, next, _) = h
            .get(json!({"limit": 4, "startFromHead": true, "nextToken": tok}))
            .await;
        if next == tok {
            assert!(msgs.is_empty());
            break;
        }
        all.extend(msgs);
        tok = next;
        pages += 1;
        assert!(pages < 10, "forward paging never returned the same token");
    }
    // 4 + 4 + 2 events, then one empty page that hands the token back.
    assert_eq!(pages, 3);
    // The token is handed back exactly as given, even when spelled differently.
    let padded = format!("f/0{}", &tok[2..]);
    let (msgs, next, _) = h
        .get(json!({"startFromHead": true, "nextToken": padded}))
        .await;
    assert!(msgs.is_empty());
    assert_eq!(next, padded);
    assert_eq!(all, (0..10).map(|i| format!("e{i}")).collect::<Vec<_>>());
    // New events after the end are picked up by the saved forward token.
    h.put("g", "s", &[(T0, "late")]).await;
    let (msgs, next, _) = h
        .get(json!({"startFromHead": true, "nextToken": tok}))
        .await;
    assert_eq!(msgs, ["late"]);
    assert_ne!(next, tok);

    // Backward from the newest page to the beginning.
    let (mut back, _, mut btok) = h.get(json!({"limit": 4})).await;
    assert_eq!(back, ["e7", "e8", "e9", "late"]);
    let mut pages = 1;
    loop {
        let (msgs, _, prev) = h.get(json!({"limit": 4, "nextToken": btok})).await;
        if prev == btok {
            assert!(msgs.is_empty());
            break;
        }
        let mut m = msgs;
        m.extend(back);
        back = m;
        btok = prev;
        pages += 1;
        assert!(pages < 10, "backward paging never returned the same token");
    }
    assert_eq!(pages, 3);
    assert_eq!(back.len(), 11);
    assert_eq!(back[0], "e0");

    // startTime inclusive, endTime exclusive.
    let (msgs, _, _) = h
        .get(json!({"startTime": T0 - 98, "endTime": T0 - 95, "startFromHead": true}))
        .await;
    assert_eq!(msgs, ["e2", "e3", "e4"]);
    // Empty range: both tokens still present.
    let (msgs, f, b) = h.get(json!({"startTime": T0 + 1})).await;
    assert!(msgs.is_empty());
    assert!(f.starts_with("f/") && b.starts_with("b/"));
}

#[tokio::test]
async fn get_log_events_default_page_is_one_mebibyte() {
    let h = H::new();
    h.group_and_stream("g", "s").await;
    let big = "x".repeat(100_000);
    for i in 0..3 {
        let evs: Vec<(i64, &str)> = (0..10).map(|j| (T0 + i * 10 + j, big.as_str())).collect();
        h.put("g", "s", &evs).await;
    }
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    // 10 events of 100,026 bytes fit in 1,048,576; 11 do not.
    assert_eq!(msgs.len(), 10);
}

#[tokio::test]
async fn retention_policy_and_sweep() {
    let h = H::new();
    h.group_and_stream("g", "s").await;
    let (code, m) = h
        .err(
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 2}),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    assert!(m.starts_with("1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"), "{m}");
    expect(
        h.err(
            "PutRetentionPolicy",
            json!({"logGroupName": "nope", "retentionInDays": 1}),
        )
        .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    h.put("g", "s", &[(T0 - 2 * DAY, "old")]).await;
    h.put("g", "s", &[(T0, "new")]).await;
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 3}),
    )
    .await;
    let v = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(v["logGroups"][0]["retentionInDays"], 3);
    let stored = v["logGroups"][0]["storedBytes"].as_i64().unwrap();
    assert!(stored > 0);
    // Two days later the first event is older than 3 days: hidden at once, removed by the sweep.
    h.clock.advance(2 * DAY);
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs, ["new"]);
    let out = h.api.sweep_retention().await.unwrap();
    assert_eq!(out.events_removed, 1);
    h.ok("DeleteRetentionPolicy", json!({"logGroupName": "g"}))
        .await;
    let v = h.ok("DescribeLogGroups", json!({})).await;
    assert!(v["logGroups"][0].get("retentionInDays").is_none());
    assert!(v["logGroups"][0]["storedBytes"].as_i64().unwrap() < stored);
    // The removed event does not come back once retention is lifted.
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs, ["new"]);
}

#[tokio::test]
async fn data_survives_restart() {
    let h = H::new();
    h.group_and_stream("g", "s").await;
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 30}),
    )
    .await;
    h.put("g", "s", &[(T0 - 1, "before"), (T0, "restart")])
        .await;
    let h = h.reopen();
    let (msgs, _, _) = h.get(json!({"startFromHead": true})).await;
    assert_eq!(msgs, ["before", "restart"]);
    let v = h.ok("DescribeLogGroups", json!({})).await;
    assert_eq!(v["logGroups"][0]["retentionInDays"], 30);
    let v = h
        .ok("DescribeLogStreams", json!({"logGroupName": "g"}))
        .await;
    assert_eq!(v["logStreams"][0]["lastEventTimestamp"], T0);
}

#[tokio::test]
async fn tags() {
    let h = H::new();
    h.ok(
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": {"a": "1"}}),
    )
    .await;
    h.ok(
        "TagLogGroup",
        json!({"logGroupName": "g", "tags": {"b": "2"}}),
    )
    .await;
    let v = h.ok("ListTagsLogGroup", json!({"logGroupName": "g"})).await;
    assert_eq!(v["tags"], json!({"a": "1", "b": "2"}));
    h.ok(
        "UntagResource",
        json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:g", "tagKeys": ["a"]}),
    )
    .await;
    let v = h
        .ok(
            "ListTagsForResource",
            json!({"resourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:g"}),
        )
        .await;
    assert_eq!(v["tags"], json!({"b": "2"}));
    expect(
        h.err("ListTagsLogGroup", json!({"logGroupName": "nope"}))
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn unknown_operation() {
    let h = H::new();
    let e = h.call("StartLiveTail", json!({})).await.unwrap_err();
    assert_eq!(e.code, "UnknownOperationException");
}

/// Throughput of PutLogEvents from JSON bytes to commit (no HTTP, no SigV4): 4 concurrent
/// clients sending ~1 MiB batches. Run with
/// `cargo test --release -p hostwatch-collector put_log_events_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn put_log_events_throughput() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let h = Arc::new(H::new());
        let clients = 4;
        h.ok("CreateLogGroup", json!({"logGroupName": "g"})).await;
        for c in 0..clients {
            h.ok(
                "CreateLogStream",
                json!({"logGroupName": "g", "logStreamName": format!("s{c}")}),
            )
            .await;
        }
        // Apache-style lines of ~180 bytes; 5,500 of them make a ~1 MiB batch.
        let mut bodies = Vec::new();
        let mut batch_bytes = 0usize;
        for c in 0..clients {
            let mut evs = Vec::new();
            let mut size = 0usize;
            let mut i = 0i64;
            loop {
                let m = format!(
                    "192.168.{}.{} - - [22/Nov/2026:10:00:{:02} +0000] \"GET /api/v1/items/{} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) client/{c}\"",
                    i % 256, (i * 7) % 256, i % 60, i * 31, 1000 + i % 9000
                );
                if size + m.len() + 26 > 1_048_576 {
                    break;
                }
                size += m.len() + 26;
                evs.push(json!({"timestamp": T0 - 1000 + i / 10, "message": m}));
                i += 1;
            }
            batch_bytes = size;
            let body = json!({"logGroupName": "g", "logStreamName": format!("s{c}"), "logEvents": evs});
            bodies.push(serde_json::to_vec(&body).unwrap());
        }
        let per_client = 60;
        let mut total_requests = 0;
        for raw in [false, true] {
            let start = std::time::Instant::now();
            let tasks: Vec<_> = bodies
                .iter()
                .cloned()
                .map(|body| {
                    let h = h.clone();
                    tokio::spawn(async move {
                        for _ in 0..per_client {
                            if raw {
                                h.api.handle_body("PutLogEvents", &body, &h.ctx).await.unwrap();
                            } else {
                                let v: Value = serde_json::from_slice(&body).unwrap();
                                h.api.handle("PutLogEvents", v, &h.ctx).await.unwrap();
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            let secs = start.elapsed().as_secs_f64();
            let total = (batch_bytes * clients * per_client) as f64;
            total_requests += clients * per_client;
            println!(
                "PutLogEvents via {}: {} requests of {} bytes in {:.2} s = {:.1} MB/s ({:.0} req/s)",
                if raw { "handle_body (typed parse)" } else { "JSON tree + handle" },
                clients * per_client,
                batch_bytes,
                secs,
                total / secs / 1e6,
                (clients * per_client) as f64 / secs
            );
        }
        let total = (batch_bytes * total_requests) as f64;
        let db = h._dir.path().join(crate::store::logs::FILE_NAME);
        let on_disk = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
        println!("logs.db: {:.1} MB for {:.1} MB of events", on_disk as f64 / 1e6, total / 1e6);
        // Read path, worst case: every block of s0 covers the same instants, so a page has to
        // merge all of them.
        let start = std::time::Instant::now();
        let v = h
            .ok("GetLogEvents", json!({"logGroupName": "g", "logStreamName": "s0"}))
            .await;
        println!(
            "GetLogEvents over {} fully overlapping blocks ({} events): {:.1} ms",
            2 * per_client,
            v["events"].as_array().map_or(0, Vec::len),
            start.elapsed().as_secs_f64() * 1e3
        );
        // Read path, usual case: 300 blocks in time order.
        h.ok(
            "CreateLogStream",
            json!({"logGroupName": "g", "logStreamName": "r"}),
        )
        .await;
        let line = "x".repeat(180);
        for b in 0..300i64 {
            let evs: Vec<(i64, &str)> = (0..5000i64)
                .map(|i| (T0 - 2 * HOUR + b * 10_000 + i, line.as_str()))
                .collect();
            h.api
                .store()
                .append(crate::store::logs::AppendBatch {
                    group: "g",
                    stream: "r",
                    events: &evs,
                    ingestion_time: T0,
                })
                .await
                .unwrap();
        }
        for (what, input) in [
            ("newest page", json!({})),
            ("oldest page", json!({"startFromHead": true})),
            (
                "middle, 100 events",
                json!({"startTime": T0 - 2 * HOUR + 1_500_000, "startFromHead": true, "limit": 100}),
            ),
        ] {
            let mut input = input;
            input["logGroupName"] = json!("g");
            input["logStreamName"] = json!("r");
            let start = std::time::Instant::now();
            let v = h.ok("GetLogEvents", input).await;
            println!(
                "GetLogEvents {what} of 300 ordered blocks ({} events): {:.1} ms",
                v["events"].as_array().map_or(0, Vec::len),
                start.elapsed().as_secs_f64() * 1e3
            );
        }
    });
}
