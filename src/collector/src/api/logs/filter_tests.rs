//! Tests of FilterLogEvents, metric filters, TestMetricFilter and subscription filters, driven
//! through [`LogsApi::handle`] with a manual clock, a real metric store and a real event service.

use super::*;
use crate::api::events::EventsApi;
use crate::clock::{Clock, ManualClock};
use crate::events::EventService;
use crate::store::metrics::{MetricStore, StoreOptions};
use hostwatch_model::{DatumValue, Dimension, MetricKey};
use serde_json::{json, Value};
use std::sync::Arc;

const T0: i64 = 1_700_000_000_000;

struct H {
    api: LogsApi,
    metrics: MetricStore,
    events: Arc<EventService>,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
}

fn ctx(now_ms: i64) -> RequestContext {
    testkit::ctx(now_ms)
}

impl H {
    fn new() -> H {
        Self::open(tempfile::tempdir().unwrap())
    }

    fn open(dir: tempfile::TempDir) -> H {
        let clock = ManualClock::new(T0);
        let opts = LogStoreOptions {
            sweep_interval: None,
            ..LogStoreOptions::default()
        };
        let api = LogsApi::open_with(dir.path(), clock.clone(), opts).unwrap();
        let metrics = MetricStore::open(
            dir.path(),
            StoreOptions {
                compact_every: None,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let events =
            EventService::open(dir.path(), clock.clone(), "us-east-1", "123456789012").unwrap();
        api.attach_metrics(metrics.clone());
        api.attach_events(events.clone());
        H {
            api,
            metrics,
            events,
            clock,
            dir,
        }
    }

    fn reopen(self) -> H {
        let H { api, dir, .. } = self;
        drop(api);
        H::open(dir)
    }

    async fn call(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        testkit::call(&self.api, &ctx(self.clock.now_ms()), op, input).await
    }

    async fn ok(&self, op: &str, input: Value) -> Value {
        testkit::ok(&self.api, &ctx(self.clock.now_ms()), op, input).await
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

    async fn group(&self, g: &str, streams: &[&str]) {
        self.ok("CreateLogGroup", json!({"logGroupName": g})).await;
        for s in streams {
            self.ok(
                "CreateLogStream",
                json!({"logGroupName": g, "logStreamName": s}),
            )
            .await;
        }
    }

    async fn put(&self, g: &str, s: &str, events: &[(i64, &str)]) {
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

    async fn filter(&self, input: Value) -> (Vec<String>, Value) {
        let v = self.ok("FilterLogEvents", input).await;
        let msgs = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect();
        (msgs, v)
    }

    fn metric_points(&self, ns: &str, name: &str, dims: Vec<Dimension>) -> Vec<(i64, f64, f64)> {
        let key = MetricKey::new(ns, name, dims);
        let mut out = Vec::new();
        for (sid, _) in self.metrics.series_of(&key) {
            for p in self.metrics.read(sid, 0, i64::MAX).unwrap() {
                let s = p.value.to_statistic_set();
                out.push((p.ts_ms, s.sum, s.sample_count));
            }
        }
        out.sort_by(|a, b| a.partial_cmp(b).unwrap());
        out
    }
}

#[tokio::test]
async fn filter_log_events_terms_json_streams_and_pages() {
    let h = H::new();
    h.group("g", &["a", "b", "c"]).await;
    h.put("g", "a", &[(T0 - 50, "ERROR one"), (T0 - 30, "INFO two")])
        .await;
    h.put(
        "g",
        "b",
        &[
            (T0 - 40, r#"{"level":"ERROR","latency":900}"#),
            (T0 - 20, "ERROR three"),
        ],
    )
    .await;
    h.put("g", "c", &[(T0 - 10, "ERROR four")]).await;
    let (msgs, v) = h
        .filter(json!({"logGroupName": "g", "filterPattern": "ERROR"}))
        .await;
    assert_eq!(
        msgs,
        [
            "ERROR one",
            r#"{"level":"ERROR","latency":900}"#,
            "ERROR three",
            "ERROR four"
        ]
    );
    let e = &v["events"][0];
    assert_eq!(e["logStreamName"], "a");
    assert_eq!(e["timestamp"], T0 - 50);
    assert_eq!(e["ingestionTime"], T0);
    assert_eq!(e["eventId"].as_str().unwrap().len(), 56);
    assert!(v.get("nextToken").is_none());
    assert_eq!(v["searchedLogStreams"].as_array().unwrap().len(), 3);
    assert_eq!(v["searchedLogStreams"][0]["searchedCompletely"], true);
    // JSON pattern; the identifier may be an ARN.
    let (msgs, _) = h
        .filter(json!({
            "logGroupIdentifier": "arn:aws:logs:us-east-1:123456789012:log-group:g",
            "filterPattern": "{ $.level = \"ERROR\" && $.latency > 500 }"
        }))
        .await;
    assert_eq!(msgs, [r#"{"level":"ERROR","latency":900}"#]);
    // Empty pattern, time range (both ends inclusive), stream selection.
    let (msgs, _) = h
        .filter(json!({"logGroupName": "g", "startTime": T0 - 40, "endTime": T0 - 20}))
        .await;
    assert_eq!(msgs.len(), 3);
    let (msgs, _) = h
        .filter(json!({"logGroupName": "g", "logStreamNames": ["a", "c", "zz"]}))
        .await;
    assert_eq!(msgs, ["ERROR one", "INFO two", "ERROR four"]);
    let (msgs, _) = h
        .filter(json!({"logGroupName": "g", "logStreamNamePrefix": "b"}))
        .await;
    assert_eq!(msgs.len(), 2);
    // Pages of two, then one, then done.
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut input = json!({"logGroupName": "g", "filterPattern": "ERROR", "limit": 2});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let (msgs, v) = h.filter(input).await;
        pages.push(msgs);
        match v["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let flat: Vec<String> = pages.concat();
    assert_eq!(flat.len(), 4, "{pages:?}");
    assert_eq!(flat[3], "ERROR four");
    // Errors.
    let (code, msg) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "logStreamNames": ["a"], "logStreamNamePrefix": "a"}),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("logStreamNamePrefix"));
    let (code, msg) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "a/b"}),
        )
        .await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        (
            "InvalidParameterException",
            "Invalid character(s) in term 'a/b'"
        )
    );
    let (code, msg) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "limit": 10001}),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(msg, "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000");
    let (_, msg) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "nextToken": "bogus"}),
        )
        .await;
    assert_eq!(msg, "The specified nextToken is invalid.");
    let (code, _) = h
        .err("FilterLogEvents", json!({"logGroupName": "nope"}))
        .await;
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = h
        .err(
            "FilterLogEvents",
            json!({"logGroupName": "g", "filterPattern": "x".repeat(1025)}),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn test_metric_filter_shapes() {
    let h = H::new();
    let v = h
        .ok(
            "TestMetricFilter",
            json!({
                "filterPattern": "[ip, user, ..., status = 4*, bytes]",
                "logEventMessages": ["1.2.3.4 bob GET / 404 12", "1.2.3.4 bob GET / 200 12"]
            }),
        )
        .await;
    assert_eq!(
        v,
        json!({"matches": [{
            "eventNumber": 1,
            "eventMessage": "1.2.3.4 bob GET / 404 12",
            "extractedValues": {"$ip": "1.2.3.4", "$user": "bob", "$status": "404", "$bytes": "12"}
        }]})
    );
    let v = h
        .ok(
            "TestMetricFilter",
            json!({"filterPattern": "{ $.a.b = 1 }", "logEventMessages": ["x", "{\"a\":{\"b\":1}}"]}),
        )
        .await;
    assert_eq!(v["matches"][0]["eventNumber"], 2);
    assert_eq!(v["matches"][0]["extractedValues"], json!({"$.a.b": "1"}));
    let v = h
        .ok(
            "TestMetricFilter",
            json!({"filterPattern": "ERROR", "logEventMessages": ["ERROR"]}),
        )
        .await;
    assert_eq!(v["matches"][0]["extractedValues"], json!({}));
    let (code, _) = h
        .err(
            "TestMetricFilter",
            json!({"filterPattern": "ERROR", "logEventMessages": []}),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (_, msg) = h
        .err(
            "TestMetricFilter",
            json!({"filterPattern": "{ $.a = ", "logEventMessages": ["x"]}),
        )
        .await;
    assert_eq!(
        msg,
        "If a filter pattern starts with '{' it must end with '}'"
    );
}

fn mf(name: &str, pattern: &str, t: Value) -> Value {
    json!({"logGroupName": "g", "filterName": name, "filterPattern": pattern,
           "metricTransformations": [t]})
}

#[tokio::test]
async fn metric_filter_api_and_errors() {
    let h = H::new();
    h.group("g", &["s"]).await;
    let t = json!({"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"});
    h.ok("PutMetricFilter", mf("errors", "ERROR", t.clone()))
        .await;
    h.ok(
        "PutMetricFilter",
        mf(
            "latency",
            "{ $.latency > 0 }",
            json!({"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.latency",
                   "unit": "Milliseconds", "dimensions": {"Service": "$.svc"}}),
        ),
    )
    .await;
    let v = h
        .ok("DescribeMetricFilters", json!({"logGroupName": "g"}))
        .await;
    let list = v["metricFilters"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["filterName"], "errors");
    assert_eq!(list[0]["creationTime"], T0);
    assert_eq!(
        list[1]["metricTransformations"][0],
        json!({"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.latency",
               "unit": "Milliseconds", "dimensions": {"Service": "$.svc"}})
    );
    // Filters and pagination.
    let v = h
        .ok(
            "DescribeMetricFilters",
            json!({"metricName": "Latency", "metricNamespace": "App"}),
        )
        .await;
    assert_eq!(v["metricFilters"][0]["filterName"], "latency");
    let v = h
        .ok(
            "DescribeMetricFilters",
            json!({"logGroupName": "g", "filterNamePrefix": "err"}),
        )
        .await;
    assert_eq!(v["metricFilters"].as_array().unwrap().len(), 1);
    let v = h.ok("DescribeMetricFilters", json!({"limit": 1})).await;
    let token = v["nextToken"].as_str().unwrap().to_string();
    let v = h
        .ok(
            "DescribeMetricFilters",
            json!({"limit": 1, "nextToken": token}),
        )
        .await;
    assert_eq!(v["metricFilters"][0]["filterName"], "latency");
    assert!(v.get("nextToken").is_none());
    // Errors, worded as AWS words them.
    let two = json!({"logGroupName": "g", "filterName": "x", "filterPattern": "",
        "metricTransformations": [
            {"metricName": "metric1", "metricNamespace": "namespace1", "metricValue": "1"},
            {"metricName": "metric2", "metricNamespace": "namespace2", "metricValue": "1"}]});
    let (code, msg) = h.err("PutMetricFilter", two).await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(msg, "1 validation error detected: Value '[MetricTransformation(metricName=metric1, metricNamespace=namespace1, metricValue=1, defaultValue=null, unit=null, dimensions=null), MetricTransformation(metricName=metric2, metricNamespace=namespace2, metricValue=1, defaultValue=null, unit=null, dimensions=null)]' at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1");
    let long = "X".repeat(513);
    let (_, msg) = h.err("PutMetricFilter", mf(&long, "", t.clone())).await;
    assert_eq!(msg, format!("1 validation error detected: Value '{long}' at 'filterName' failed to satisfy constraint: Member must have length less than or equal to 512"));
    let long = "X".repeat(1025);
    let (_, msg) = h.err("PutMetricFilter", mf("x", &long, t.clone())).await;
    assert_eq!(msg, format!("1 validation error detected: Value '{long}' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"));
    let (_, msg) = h
        .err(
            "PutMetricFilter",
            mf(
                "x",
                "ERROR",
                json!({"metricName": "m", "metricNamespace": "n", "metricValue": "1",
                       "dimensions": {"a": "$.a"}}),
            ),
        )
        .await;
    assert_eq!(
        msg,
        "The specified filter pattern does not support dimensions"
    );
    let (code, _) = h
        .err(
            "PutMetricFilter",
            mf(
                "x",
                "ERROR",
                json!({"metricName": "m", "metricNamespace": "n", "metricValue": "$.a"}),
            ),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = h
        .err(
            "PutMetricFilter",
            mf("x", "ERROR", json!({"metricName": "m", "metricNamespace": "n", "metricValue": "1", "unit": "Parsecs"})),
        )
        .await;
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = h
        .err(
            "PutMetricFilter",
            json!({"logGroupName": "nope", "filterName": "x", "filterPattern": "",
                   "metricTransformations": [t.clone()]}),
        )
        .await;
    assert_eq!(code, "ResourceNotFoundException");
    let (_, msg) = h
        .err(
            "DeleteMetricFilter",
            json!({"logGroupName": "g", "filterName": "nope"}),
        )
        .await;
    assert_eq!(msg, "The specified metric filter does not exist.");
    // 100 per group.
    for n in 2..100 {
        h.ok("PutMetricFilter", mf(&format!("f{n:03}"), "", t.clone()))
            .await;
    }
    let (code, msg) = h.err("PutMetricFilter", mf("extra", "", t.clone())).await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("LimitExceededException", "Resource limit exceeded.")
    );
    // Replacing an existing filter is not a new one.
    h.ok("PutMetricFilter", mf("errors", "WARN", t.clone()))
        .await;
    h.ok(
        "DeleteMetricFilter",
        json!({"logGroupName": "g", "filterName": "errors"}),
    )
    .await;
    h.ok("PutMetricFilter", mf("extra", "", t.clone())).await;
    // Persisted across a restart.
    let h = h.reopen();
    let v = h
        .ok(
            "DescribeMetricFilters",
            json!({"logGroupName": "g", "filterNamePrefix": "lat"}),
        )
        .await;
    assert_eq!(v["metricFilters"][0]["filterPattern"], "{ $.latency > 0 }");
    // A deleted group's filters are gone, also when the name comes back, and their rows are
    // removed (not just ignored): nothing is left after a restart either.
    assert!(h.api.filters.with(|f| f.metric.len()) > 0);
    h.ok("DeleteLogGroup", json!({"logGroupName": "g"})).await;
    assert_eq!(h.api.filters.with(|f| f.metric.len()), 0);
    h.group("g", &[]).await;
    let v = h
        .ok("DescribeMetricFilters", json!({"logGroupName": "g"}))
        .await;
    assert_eq!(v["metricFilters"], json!([]));
    h.ok("PutMetricFilter", mf("fresh", "ERROR", t.clone()))
        .await;
    let h = h.reopen();
    let names = h.api.filters.with(|f| {
        f.metric
            .keys()
            .map(|(g, n)| format!("{g}/{n}"))
            .collect::<Vec<_>>()
    });
    assert_eq!(names, ["g/fresh"]);
}

#[tokio::test]
async fn metric_filters_write_datapoints_on_ingest() {
    let h = H::new();
    h.group("g", &["s"]).await;
    // Stored before the filter: never counted.
    h.put("g", "s", &[(T0 - 5_000, "ERROR before")]).await;
    h.ok(
        "PutMetricFilter",
        mf(
            "errors",
            "ERROR",
            json!({"metricName": "Errors", "metricNamespace": "App", "metricValue": "1",
                   "defaultValue": 0}),
        ),
    )
    .await;
    h.ok(
        "PutMetricFilter",
        mf(
            "latency",
            "{ $.latency > 0 }",
            json!({"metricName": "Latency", "metricNamespace": "App", "metricValue": "$.latency",
                   "unit": "Milliseconds", "dimensions": {"Service": "$.svc"}}),
        ),
    )
    .await;
    h.ok(
        "PutMetricFilter",
        mf(
            "bytes",
            "[ip, status = 5*, bytes]",
            json!({"metricName": "Bytes5xx", "metricNamespace": "App", "metricValue": "$bytes"}),
        ),
    )
    .await;
    h.put(
        "g",
        "s",
        &[
            (T0 - 3_000, "ERROR a"),
            (T0 - 3_000, "ERROR b"),
            (T0 - 3_000, "INFO c"),
            (T0 - 2_000, r#"{"latency": 120, "svc": "api"}"#),
            (T0 - 2_000, r#"{"latency": 80, "svc": "api"}"#),
            (T0 - 2_000, r#"{"latency": 5, "svc": "db"}"#),
            (T0 - 2_000, r#"{"latency": 7}"#),
            (T0 - 1_000, "10.0.0.1 503 2048"),
            (T0 - 1_000, "10.0.0.1 200 99"),
        ],
    )
    .await;
    // Errors: 2 matches at T0-3s, default 0 for every other event.
    let errors = h.metric_points("App", "Errors", vec![]);
    let total: f64 = errors.iter().map(|p| p.1).sum();
    let samples: f64 = errors.iter().map(|p| p.2).sum();
    assert_eq!(total, 2.0);
    assert_eq!(samples, 9.0, "{errors:?}");
    let api = h.metric_points("App", "Latency", vec![Dimension::new("Service", "api")]);
    assert_eq!(api, vec![(T0 - 2_000, 200.0, 2.0)]);
    let db = h.metric_points("App", "Latency", vec![Dimension::new("Service", "db")]);
    assert_eq!(db, vec![(T0 - 2_000, 5.0, 1.0)]);
    let bytes = h.metric_points("App", "Bytes5xx", vec![]);
    assert_eq!(bytes, vec![(T0 - 1_000, 2048.0, 1.0)]);
    // The unit is the filter's.
    let key = MetricKey::new("App", "Latency", vec![Dimension::new("Service", "api")]);
    let units: Vec<_> = h
        .metrics
        .series_of(&key)
        .into_iter()
        .map(|(_, u)| u)
        .collect();
    assert_eq!(units, vec![hostwatch_model::Unit::Milliseconds]);
    assert!(matches!(
        h.metrics
            .read(h.metrics.series_of(&key)[0].0, 0, i64::MAX)
            .unwrap()[0]
            .value,
        DatumValue::StatisticSet(_)
    ));
}

#[tokio::test]
async fn subscription_filters_api_limits_and_delivery() {
    let h = H::new();
    h.group("g", &["s"]).await;
    h.group("other", &[]).await;
    let out = h.dir.path().join("sub.jsonl");
    let file_arn = format!("arn:hostwatch:file:::{}", out.display());
    let sub = |name: &str, pattern: &str, dest: &str| {
        json!({"logGroupName": "g", "filterName": name, "filterPattern": pattern,
               "destinationArn": dest})
    };
    h.ok("PutSubscriptionFilter", sub("to-file", "ERROR", &file_arn))
        .await;
    h.ok(
        "PutSubscriptionFilter",
        sub(
            "to-bus",
            "{ $.level = \"ERROR\" }",
            "arn:aws:events:us-east-1:123456789012:event-bus/default",
        ),
    )
    .await;
    let (code, msg) = h
        .err(
            "PutSubscriptionFilter",
            sub("third", "", "arn:hostwatch:file:::/tmp/x"),
        )
        .await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("LimitExceededException", "Resource limit exceeded.")
    );
    // Updating an existing one is fine.
    h.ok("PutSubscriptionFilter", sub("to-file", "ERROR", &file_arn))
        .await;
    for bad in [
        "arn:aws:kinesis:us-east-1:123456789012:stream/x",
        "arn:aws:events:us-east-1:123456789012:event-bus/missing",
        "arn:aws:logs:us-east-1:123456789012:log-group:g",
        "arn:aws:logs:us-east-1:123456789012:log-group:missing",
        "arn:hostwatch:file:::relative",
    ] {
        let (code, msg) = h
            .err("PutSubscriptionFilter", sub("to-file", "", bad))
            .await;
        assert_eq!(code, "InvalidParameterException", "{bad}");
        assert!(msg.starts_with("Could not deliver test message"), "{msg}");
    }
    let v = h
        .ok("DescribeSubscriptionFilters", json!({"logGroupName": "g"}))
        .await;
    let list = v["subscriptionFilters"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["filterName"], "to-bus");
    assert_eq!(list[1]["destinationArn"], file_arn.as_str());
    assert_eq!(list[1]["distribution"], "ByLogStream");
    let v = h
        .ok(
            "DescribeSubscriptionFilters",
            json!({"logGroupName": "g", "limit": 1}),
        )
        .await;
    let t = v["nextToken"].as_str().unwrap().to_string();
    let v = h
        .ok(
            "DescribeSubscriptionFilters",
            json!({"logGroupName": "g", "nextToken": t}),
        )
        .await;
    assert_eq!(v["subscriptionFilters"][0]["filterName"], "to-file");
    let (code, _) = h
        .err(
            "DescribeSubscriptionFilters",
            json!({"logGroupName": "nope"}),
        )
        .await;
    assert_eq!(code, "ResourceNotFoundException");
    let (_, msg) = h
        .err(
            "DeleteSubscriptionFilter",
            json!({"logGroupName": "g", "filterName": "nope"}),
        )
        .await;
    assert_eq!(msg, "The specified subscription filter does not exist.");
    // A rule on the default bus catches what the bus subscription puts there.
    let bus_out = h.dir.path().join("bus.jsonl");
    let events_api = EventsApi::new(h.events.clone());
    let ectx = ctx(T0);
    events_api
        .handle(
            "PutRule",
            json!({"Name": "logs", "EventPattern": "{\"source\":[\"aws.logs\"]}"}),
            &ectx,
        )
        .await
        .unwrap();
    events_api
        .handle(
            "PutTargets",
            json!({"Rule": "logs", "Targets": [{"Id": "f",
                "Arn": format!("arn:hostwatch:file:::{}", bus_out.display())}]}),
            &ectx,
        )
        .await
        .unwrap();
    h.put(
        "g",
        "s",
        &[
            (T0 - 2, "ERROR disk"),
            (T0 - 1, "INFO fine"),
            (T0, r#"{"level":"ERROR","msg":"x"}"#),
        ],
    )
    .await;
    h.events.tick().await.unwrap();
    h.events.tick().await.unwrap();
    let line = std::fs::read_to_string(&out).unwrap();
    let msg: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(msg["messageType"], "DATA_MESSAGE");
    assert_eq!(msg["owner"], "123456789012");
    assert_eq!(msg["logGroup"], "g");
    assert_eq!(msg["logStream"], "s");
    assert_eq!(msg["subscriptionFilters"], json!(["to-file"]));
    let evs = msg["logEvents"].as_array().unwrap();
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0]["message"], "ERROR disk");
    assert_eq!(evs[0]["timestamp"], T0 - 2);
    assert_eq!(evs[0]["id"].as_str().unwrap().len(), 56);
    let line = std::fs::read_to_string(&bus_out).unwrap();
    let ev: Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(ev["source"], "aws.logs");
    assert_eq!(ev["detail-type"], "CloudWatch Logs Subscription");
    assert_eq!(
        ev["resources"],
        json!(["arn:aws:logs:us-east-1:123456789012:log-group:g"])
    );
    assert_eq!(ev["detail"]["subscriptionFilters"], json!(["to-bus"]));
    assert_eq!(
        ev["detail"]["logEvents"][0]["message"],
        r#"{"level":"ERROR","msg":"x"}"#
    );
    // Deleting stops delivery; a batch without matches sends nothing.
    h.ok(
        "DeleteSubscriptionFilter",
        json!({"logGroupName": "g", "filterName": "to-file"}),
    )
    .await;
    h.put("g", "s", &[(T0, "ERROR again")]).await;
    h.events.tick().await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1);
    assert_eq!(h.events.store().queued().unwrap(), 0);
}

#[test]
fn lambda_payload_is_gzip_base64_of_the_message() {
    use base64::Engine as _;
    use std::io::Read as _;
    let msg = json!({"messageType": "DATA_MESSAGE", "logEvents": []});
    let p: Value = serde_json::from_str(&ingest::lambda_payload(&msg)).unwrap();
    let data = base64::engine::general_purpose::STANDARD
        .decode(p["awslogs"]["data"].as_str().unwrap())
        .unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&data[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), msg);
}

#[tokio::test]
async fn at_most_five_regex_filters_per_group() {
    let h = H::new();
    h.group("g", &["s"]).await;
    let t = json!({"metricName": "m", "metricNamespace": "n", "metricValue": "1"});
    for n in 0..4 {
        h.ok("PutMetricFilter", mf(&format!("r{n}"), "%ab+c%", t.clone()))
            .await;
    }
    h.ok(
        "PutSubscriptionFilter",
        json!({"logGroupName": "g", "filterName": "s1", "filterPattern": "%x%",
               "destinationArn": "arn:hostwatch:file:::/tmp/never-written"}),
    )
    .await;
    let (code, _) = h.err("PutMetricFilter", mf("r5", "%d%", t.clone())).await;
    assert_eq!(code, "LimitExceededException");
    // Replacing a regex filter, or adding one without a regex, is fine.
    h.ok("PutMetricFilter", mf("r0", "%other%", t.clone()))
        .await;
    h.ok("PutMetricFilter", mf("plain", "ERROR", t.clone()))
        .await;
}
