//! Logs Insights operation tests: StartQuery validation and errors, results over several
//! groups with retention and time-range pruning, StopQuery, DescribeQueries, the concurrency
//! limit.

use super::*;
use crate::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// 2026-12-07 04:00:00 UTC.
const T0: i64 = 1_796_616_000_000;
const T0S: i64 = T0 / 1000;

struct H {
    api: LogsApi,
    _clock: Arc<ManualClock>,
    ctx: RequestContext,
    _dir: tempfile::TempDir,
}

impl H {
    fn new() -> H {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0 + 3_600_000);
        let opts = LogStoreOptions {
            sweep_interval: None,
            ..LogStoreOptions::default()
        };
        let api = LogsApi::open_with(dir.path(), clock.clone(), opts).unwrap();
        let ctx = testkit::ctx(T0);
        H {
            api,
            _clock: clock,
            ctx,
            _dir: dir,
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
            Err(e) => (e.code, e.message.unwrap_or_default()),
        }
    }

    async fn put(&self, g: &str, s: &str, events: &[(i64, &str)]) {
        if self.api.store.group(g).is_none() {
            self.ok("CreateLogGroup", json!({"logGroupName": g})).await;
        }
        let _ = self
            .call(
                "CreateLogStream",
                json!({"logGroupName": g, "logStreamName": s}),
            )
            .await;
        let evs: Vec<Value> = events
            .iter()
            .map(|(t, m)| json!({"timestamp": t, "message": m}))
            .collect();
        self.ok(
            "PutLogEvents",
            json!({"logGroupName": g, "logStreamName": s, "logEvents": evs}),
        )
        .await;
    }

    /// Start a query and poll until it finishes; returns the GetQueryResults reply.
    async fn query(&self, mut input: Value) -> Value {
        input["startTime"] = input.get("startTime").cloned().unwrap_or(json!(T0S - 3600));
        input["endTime"] = input.get("endTime").cloned().unwrap_or(json!(T0S + 3600));
        let id = self.ok("StartQuery", input).await["queryId"]
            .as_str()
            .unwrap()
            .to_string();
        for _ in 0..500 {
            let r = self.ok("GetQueryResults", json!({"queryId": id})).await;
            if !matches!(r["status"].as_str(), Some("Scheduled" | "Running")) {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("query {id} did not finish");
    }
}

/// Rows as `field=value` strings, without `@ptr`.
fn rows(r: &Value) -> Vec<String> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .filter(|f| f["field"] != "@ptr")
                .map(|f| {
                    format!(
                        "{}={}",
                        f["field"].as_str().unwrap(),
                        f["value"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[tokio::test]
async fn start_query_validation_and_errors() {
    let h = H::new();
    h.put("g", "s", &[(T0, "x")]).await;
    let base = json!({"logGroupName": "g", "startTime": T0S, "endTime": T0S, "queryString": "fields @message"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    assert_eq!(
        h.err("StartQuery", with("queryString", json!("fields a |")))
            .await,
        (
            "MalformedQueryException".into(),
            "unexpected symbol found <EOF> at line 1 and position 11".into()
        )
    );
    assert_eq!(
        h.err("StartQuery", with("logGroupName", json!("nope"))).await,
        (
            "ResourceNotFoundException".into(),
            "Log group 'nope' does not exist for account ID '123456789012' (Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: req-1; Proxy: null)".into()
        )
    );
    let (code, msg) = h.err("StartQuery", with("limit", json!(10_001))).await;
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.ends_with("Member must have value less than or equal to 10000"),
        "{msg}"
    );
    let (code, _) = h
        .err("StartQuery", with("logGroupNames", json!(["g"])))
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (code, msg) = h.err("StartQuery", with("endTime", json!(T0S - 1))).await;
    assert_eq!(code, "InvalidParameterException", "{msg}");
    let mut no_query = base.clone();
    no_query.as_object_mut().unwrap().remove("queryString");
    assert!(h
        .err("StartQuery", no_query)
        .await
        .1
        .contains("at 'queryString'"));
    assert_eq!(
        h.err("GetQueryResults", json!({"queryId": "nope"})).await.0,
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn results_over_several_groups_within_the_time_range() {
    let h = H::new();
    h.put(
        "web",
        "a",
        &[
            (T0, r#"{"status":200,"ms":10}"#),
            (T0 + 1_000, r#"{"status":500,"ms":30}"#),
        ],
    )
    .await;
    h.put("web", "b", &[(T0 + 2_000, "plain 404 line")]).await;
    // Outside the range (the end second is inclusive up to .999).
    h.put("web", "b", &[(T0 + 10_000, r#"{"status":200,"ms":99}"#)])
        .await;
    h.put("api", "c", &[(T0 + 500, r#"{"status":200,"ms":20}"#)])
        .await;
    let r = h
        .query(json!({
            "logGroupNames": ["web", "api"],
            "startTime": T0S, "endTime": T0S + 9,
            "queryString": "filter ispresent(status) | stats count(*) as n, avg(ms) as avg by status | sort status"
        }))
        .await;
    assert_eq!(r["status"], "Complete");
    assert_eq!(rows(&r), ["status=200 n=2 avg=15", "status=500 n=1 avg=30"]);
    assert_eq!(r["statistics"]["recordsScanned"], 4.0);
    assert_eq!(r["statistics"]["recordsMatched"], 3.0);
    assert_eq!(r["statistics"]["logGroupsScanned"], 2.0);
    let r = h
        .query(json!({
            "logGroupIdentifiers": ["arn:aws:logs:us-east-1:123456789012:log-group:web:*"],
            "startTime": T0S, "endTime": T0S + 9,
            "queryString": "fields @timestamp, @message, @logStream, @log | sort @timestamp desc | limit 2",
            "limit": 5
        }))
        .await;
    assert_eq!(
        rows(&r),
        [
            "@timestamp=2026-12-07 04:00:02.000 @message=plain 404 line @logStream=b @log=123456789012:web",
            "@timestamp=2026-12-07 04:00:01.000 @message={\"status\":500,\"ms\":30} @logStream=a @log=123456789012:web",
        ]
    );
    let first = &r["results"][0];
    assert_eq!(first.as_array().unwrap().last().unwrap()["field"], "@ptr");
    // The StartQuery limit caps the rows (default order: newest first).
    let r = h
        .query(json!({"logGroupName": "web", "queryString": "fields @message", "limit": 1}))
        .await;
    assert_eq!(rows(&r), ["@message={\"status\":200,\"ms\":99}"]);
}

#[tokio::test]
async fn retention_hides_old_events() {
    let h = H::new();
    // The clock is at T0 + 1 h; a 1-day retention hides events older than T0 + 1 h - 1 day.
    h.put(
        "g",
        "s",
        &[(T0 - 86_400_000 + 1_800_000, "old"), (T0, "new")],
    )
    .await;
    h.ok(
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    )
    .await;
    let r = h
        .query(json!({"logGroupName": "g", "startTime": T0S - 2 * 86_400, "queryString": "fields @message"}))
        .await;
    assert_eq!(rows(&r), ["@message=new"]);
}

#[tokio::test]
async fn describe_and_stop_queries() {
    let h = H::new();
    h.put("g1", "s", &[(T0, "x")]).await;
    h.put("g2", "s", &[(T0, "y")]).await;
    h.query(json!({"logGroupName": "g1", "startTime": T0S, "endTime": T0S + 1, "queryString": "fields @message"}))
        .await;
    h.query(json!({"logGroupName": "g2", "queryString": "stats count(*)"}))
        .await;
    let d = h.ok("DescribeQueries", json!({"logGroupName": "g1"})).await;
    let qs = d["queries"].as_array().unwrap();
    assert_eq!(qs.len(), 1);
    assert_eq!(qs[0]["status"], "Complete");
    assert_eq!(qs[0]["logGroupName"], "g1");
    assert_eq!(qs[0]["queryLanguage"], "CWLI");
    assert_eq!(
        qs[0]["queryString"],
        format!(
            "SOURCE \"g1\" START={T0S}000 END={}999 | fields @message",
            T0S + 1
        )
    );
    let all = h.ok("DescribeQueries", json!({"status": "Complete"})).await;
    assert_eq!(all["queries"].as_array().unwrap().len(), 2);
    // Pagination: one per page, newest first, then the end.
    let p1 = h.ok("DescribeQueries", json!({"maxResults": 1})).await;
    assert_eq!(p1["queries"][0]["logGroupName"], "g2");
    let tok = p1["nextToken"].as_str().unwrap();
    let p2 = h
        .ok(
            "DescribeQueries",
            json!({"maxResults": 1, "nextToken": tok}),
        )
        .await;
    assert_eq!(p2["queries"][0]["logGroupName"], "g1");
    assert!(p2.get("nextToken").is_none());
    assert_eq!(
        h.err("DescribeQueries", json!({"nextToken": "zz"})).await.1,
        "The specified nextToken is invalid."
    );
    assert_eq!(
        h.err("DescribeQueries", json!({"status": "Done"})).await.0,
        "InvalidParameterException"
    );
    // Stopping a finished query reports no success.
    let id = qs[0]["queryId"].as_str().unwrap();
    assert_eq!(
        h.ok("StopQuery", json!({"queryId": id})).await["success"],
        false
    );
    assert_eq!(
        h.err("StopQuery", json!({"queryId": "x"})).await.0,
        "ResourceNotFoundException"
    );
}

#[tokio::test]
async fn concurrency_limit_and_stop() {
    let h = H::new();
    // Enough events that a query runs for a while: 20 batches of 10,000.
    let msgs: Vec<String> = (0..10_000)
        .map(|i| format!("line {i} {}", "x".repeat(40)))
        .collect();
    for b in 0..20 {
        let evs: Vec<(i64, &str)> = msgs
            .iter()
            .enumerate()
            .map(|(i, m)| (T0 + b * 10_000 + i as i64, m.as_str()))
            .collect();
        h.put("big", "s", &evs).await;
    }
    let start = json!({"logGroupName": "big", "startTime": T0S, "endTime": T0S + 3600, "queryString": "filter @message like /line 1/ | stats count(*)"});
    let mut ids = Vec::new();
    let mut refused = None;
    for _ in 0..(query_jobs::MAX_CONCURRENT + 5) {
        match h.call("StartQuery", start.clone()).await {
            Ok(v) => ids.push(v["queryId"].as_str().unwrap().to_string()),
            Err(e) => {
                refused = Some((e.code, e.message.unwrap_or_default()));
                break;
            }
        }
    }
    // Either the machine finished some queries meanwhile, or the 31st was refused.
    if let Some(r) = refused {
        assert_eq!(
            r,
            (
                "LimitExceededException".into(),
                "Resource limit exceeded.".into()
            )
        );
        assert_eq!(ids.len(), query_jobs::MAX_CONCURRENT);
    }
    let mut cancelled = 0;
    for id in &ids {
        let stopped = h.ok("StopQuery", json!({"queryId": id})).await["success"] == true;
        let r = h.ok("GetQueryResults", json!({"queryId": id})).await;
        if stopped {
            cancelled += 1;
            assert_eq!(r["status"], "Cancelled");
            // No rows, or the partial count published before the stop (a query that ran past
            // the partial-result interval), never more than every matching line.
            match r["results"].as_array().unwrap().as_slice() {
                [] => {}
                [row] => {
                    let n: u64 = row[0]["value"].as_str().unwrap().parse().unwrap();
                    assert!(n <= 20 * 1_111, "{r}");
                }
                more => panic!("{} rows from a stats query", more.len()),
            }
        } else {
            assert_eq!(r["status"], "Complete");
        }
    }
    assert!(cancelled > 0, "no query was still running");
    // After stopping, new queries are accepted again and complete.
    let r = h.query(start).await;
    assert_eq!(r["status"], "Complete");
    assert_eq!(rows(&r), ["count(*)=22220"]);
}

#[tokio::test]
async fn get_log_record_follows_a_result_pointer() {
    let h = H::new();
    h.put(
        "web",
        "a",
        &[
            (T0, "plain line"),
            (
                T0 + 1000,
                r#"{"status":500,"req":{"path":"/x","ids":[4,5]}}"#,
            ),
        ],
    )
    .await;
    let r = h
        .query(
            json!({"logGroupName": "web", "queryString": "fields @message | sort @timestamp desc"}),
        )
        .await;
    let ptr_of = |row: &Value| {
        row.as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "@ptr")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Newest first: the JSON event, then the plain one.
    let json_ptr = ptr_of(&r["results"][0]);
    let plain_ptr = ptr_of(&r["results"][1]);
    let rec = h
        .ok(
            "GetLogRecord",
            json!({"logRecordPointer": json_ptr, "unmask": true}),
        )
        .await;
    assert_eq!(
        rec["logRecord"],
        json!({
            "@ingestionTime": (T0 + 3_600_000).to_string(),
            "@log": "123456789012:web",
            "@logStream": "a",
            "@message": r#"{"status":500,"req":{"path":"/x","ids":[4,5]}}"#,
            "@timestamp": (T0 + 1000).to_string(),
            "status": "500",
            "req.path": "/x",
            "req.ids.0": "4",
            "req.ids.1": "5",
        })
    );
    let rec = h
        .ok("GetLogRecord", json!({"logRecordPointer": plain_ptr}))
        .await;
    assert_eq!(rec["logRecord"]["@message"], "plain line");
    assert_eq!(rec["logRecord"]["@timestamp"], T0.to_string());
    assert_eq!(rec["logRecord"].as_object().unwrap().len(), 5);

    // Errors: no pointer, a pointer that does not decode, one to nothing stored.
    let (code, msg) = h.err("GetLogRecord", json!({})).await;
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("logRecordPointer"), "{msg}");
    let (code, _) = h
        .err("GetLogRecord", json!({"logRecordPointer": "not-a-pointer"}))
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (g, s, q) = log_record::parse_pointer(&json_ptr).unwrap();
    for (g, s, q) in [(g, s, q + 100), (g, s + 100, q), (g + 100, s, q)] {
        let missing = hex::encode(format!("{g}:{s}:{q}"));
        let (code, _) = h
            .err("GetLogRecord", json!({"logRecordPointer": missing}))
            .await;
        assert_eq!(code, "ResourceNotFoundException", "{g}:{s}:{q}");
    }
    // A deleted group's pointers find nothing, even after the name is reused.
    h.ok("DeleteLogGroup", json!({"logGroupName": "web"})).await;
    h.put("web", "a", &[(T0, "plain line")]).await;
    let (code, _) = h
        .err("GetLogRecord", json!({"logRecordPointer": plain_ptr}))
        .await;
    assert_eq!(code, "ResourceNotFoundException");
}
