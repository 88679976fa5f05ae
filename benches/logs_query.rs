//! FilterLogEvents benchmark: a term pattern and a JSON pattern over one large log group,
//! beside `grep -c` over the same events written to a file.
//!
//! Run: `cargo bench --bench logs_query` (default 5,000,000 events, about 1 GB of messages;
//! `LOGS_QUERY_EVENTS=500000 cargo bench --bench logs_query` for a smaller run).
//!
//! 1. Events (70% access-log-like text lines, 30% JSON lines, ~210 bytes each; `timeout` in one
//!    line of ~1,000, `"status":503` in one JSON line of 50) are ingested in process through
//!    `LogsApi::handle_body("PutLogEvents", ...)` (the collector's own request path without
//!    HTTP and SigV4), 4,000 events per request, into one group with two streams. The same
//!    messages are written to a file, one per line.
//! 2. `FilterLogEvents` over the whole time range, following `nextToken` until the end, with
//!    `timeout` (term) and `{ $.status >= 500 }` (JSON). MB/s counts message bytes in range.
//! 3. `grep -c timeout` and `grep -c '"status":503'` over the file (run once before timing,
//!    so the file is in the page cache as the database is).
//! 4. PutLogEvents cost on a slice of a tenth of the events: into a group without filters,
//!    with a term metric filter, and with a JSON metric filter with a dimension.
//!
//! Everything generated lives in a temporary directory that is deleted at the end.

// A benchmark harness: a failed setup step aborts the run.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::print_table;
use hostwatch_aws::Protocol;
use hostwatch_collector::api::logs::LogsApi;
use hostwatch_collector::api::RequestContext;
use hostwatch_collector::auth::Identity;
use hostwatch_collector::clock::ManualClock;
use hostwatch_collector::store::metrics::{MetricStore, StoreOptions};
use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

const BATCH: usize = 4_000;
const STEP_MS: i64 = 10;

fn ctx() -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "logs".into(),
        },
        protocol: Protocol::AwsJson11,
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        now_ms: 0,
    }
}

/// Event `i`'s message (deterministic).
fn message(i: u64) -> String {
    let mut x = i
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = || {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    };
    let host = next() % 16;
    let user = next() % 5000;
    let item = next() % 100_000;
    let dur = next() % 2_000;
    let trace = next();
    if i % 10 < 7 {
        let (level, what) = if i.is_multiple_of(997) {
            ("WARN", "upstream timeout after 30000 ms".to_string())
        } else {
            (
                "INFO",
                format!(
                    "GET /api/v1/items/{item} status=200 bytes={}",
                    next() % 90_000
                ),
            )
        };
        format!(
            "2026-12-06T10:{:02}:{:02}.{:03}Z web-{host:02} app[{}]: {level} {what} dur_ms={dur} user=u{user} trace={trace:016x} agent=\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"",
            (i / 60_000) % 60,
            (i / 1000) % 60,
            i % 1000,
            4000 + host
        )
    } else {
        let status = if i % 500 == 7 { 503 } else { 200 };
        json!({
            "ts": format!("2026-12-06T10:00:00.{:03}Z", i % 1000),
            "level": if status == 503 { "ERROR" } else { "INFO" },
            "host": format!("web-{host:02}"),
            "status": status,
            "latency": dur,
            "path": format!("/api/v1/items/{item}"),
            "user": format!("u{user}"),
            "trace": format!("{trace:016x}"),
            "span": format!("{:016x}", trace.rotate_left(17)),
        })
        .to_string()
    }
}

fn put_body(group: &str, stream: &str, events: &[(i64, String)]) -> Vec<u8> {
    let evs: Vec<Value> = events
        .iter()
        .map(|(t, m)| json!({"timestamp": t, "message": m}))
        .collect();
    serde_json::to_vec(&json!({"logGroupName": group, "logStreamName": stream, "logEvents": evs}))
        .unwrap()
}

async fn call(api: &LogsApi, op: &str, input: Value) -> Value {
    api.handle(op, input, &ctx())
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
        .map_or(Value::Null, |s| s.to_json())
}

/// Ingest events `[from, to)` of the generator into `group`; returns (seconds, message bytes).
async fn ingest(
    api: &LogsApi,
    group: &str,
    from: u64,
    to: u64,
    t0: i64,
    mut file: Option<&mut BufWriter<std::fs::File>>,
) -> (f64, u64) {
    let mut bytes = 0u64;
    let mut spent = 0f64;
    let mut i = from;
    while i < to {
        let end = (i + BATCH as u64).min(to);
        let events: Vec<(i64, String)> = (i..end)
            .map(|n| (t0 + n as i64 * STEP_MS, message(n)))
            .collect();
        if let Some(f) = file.as_deref_mut() {
            for (_, m) in &events {
                f.write_all(m.as_bytes()).unwrap();
                f.write_all(b"\n").unwrap();
            }
        }
        bytes += events.iter().map(|(_, m)| m.len() as u64).sum::<u64>();
        let stream = if (i / BATCH as u64).is_multiple_of(2) {
            "a"
        } else {
            "b"
        };
        let body = put_body(group, stream, &events);
        let start = Instant::now();
        let out = api.handle_body("PutLogEvents", &body, &ctx()).await;
        spent += start.elapsed().as_secs_f64();
        out.unwrap_or_else(|e| panic!("PutLogEvents: {e}"));
        i = end;
    }
    (spent, bytes)
}

async fn filter_all(api: &LogsApi, group: &str, pattern: &str) -> (f64, u64, u32) {
    let start = Instant::now();
    let mut token: Option<String> = None;
    let mut matched = 0u64;
    let mut calls = 0u32;
    loop {
        let mut input = json!({"logGroupName": group, "filterPattern": pattern});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let out = call(api, "FilterLogEvents", input).await;
        calls += 1;
        matched += out["events"].as_array().map_or(0, |a| a.len() as u64);
        match out["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    (start.elapsed().as_secs_f64(), matched, calls)
}

fn grep_count(file: &Path, needle: &str) -> (f64, u64) {
    let run = || {
        std::process::Command::new("grep")
            .args(["-c", "-F", needle])
            .arg(file)
            .output()
            .unwrap()
    };
    run();
    let start = Instant::now();
    let out = run();
    let secs = start.elapsed().as_secs_f64();
    let n = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (secs, n)
}

fn mbps(bytes: u64, secs: f64) -> String {
    format!("{:.0}", bytes as f64 / 1e6 / secs)
}

fn main() {
    let events: u64 = std::env::var("LOGS_QUERY_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let dir = tempfile::Builder::new()
        .prefix("hostwatch-logs-query")
        .tempdir_in("/tmp")
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let t0 = 1_800_000_000_000i64;
        let now = t0 + events as i64 * STEP_MS + 60_000;
        let clock = ManualClock::new(now);
        let api = LogsApi::open(dir.path(), clock.clone()).unwrap();
        let metrics = MetricStore::open(dir.path(), StoreOptions::default()).unwrap();
        api.attach_metrics(metrics);
        for g in ["big", "plain", "mf-term", "mf-json"] {
            call(&api, "CreateLogGroup", json!({"logGroupName": g})).await;
            for s in ["a", "b"] {
                call(
                    &api,
                    "CreateLogStream",
                    json!({"logGroupName": g, "logStreamName": s}),
                )
                .await;
            }
        }
        let path = dir.path().join("events.log");
        let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        let (put_secs, bytes) = ingest(&api, "big", 0, events, t0, Some(&mut file)).await;
        file.flush().unwrap();
        drop(file);
        println!(
            "ingested {events} events, {:.0} MB of messages, in {put_secs:.1} s of PutLogEvents",
            bytes as f64 / 1e6
        );
        let mut rows = Vec::new();
        for (label, pattern, needle) in [
            ("term `timeout`", "timeout", "timeout"),
            ("JSON `{ $.status >= 500 }`", "{ $.status >= 500 }", "\"status\":503"),
        ] {
            let (secs, matched, calls) = filter_all(&api, "big", pattern).await;
            let (gsecs, gcount) = grep_count(&path, needle);
            rows.push(vec![
                label.to_string(),
                matched.to_string(),
                calls.to_string(),
                format!("{secs:.2}"),
                mbps(bytes, secs),
                gcount.to_string(),
                format!("{gsecs:.2}"),
                mbps(bytes, gsecs),
                format!("{:.2}", gsecs / secs),
            ]);
        }
        print_table(
            &[
                "FilterLogEvents pattern",
                "matches",
                "calls",
                "s",
                "MB/s",
                "grep -c matches",
                "grep s",
                "grep MB/s",
                "speed vs grep",
            ],
            &rows,
        );
        // PutLogEvents with and without metric filters, on a slice.
        let slice = (events / 10).max(BATCH as u64);
        call(
            &api,
            "PutMetricFilter",
            json!({"logGroupName": "mf-term", "filterName": "timeouts", "filterPattern": "timeout",
                   "metricTransformations": [{"metricName": "Timeouts", "metricNamespace": "Bench",
                                              "metricValue": "1"}]}),
        )
        .await;
        call(
            &api,
            "PutMetricFilter",
            json!({"logGroupName": "mf-json", "filterName": "latency", "filterPattern": "{ $.latency >= 0 }",
                   "metricTransformations": [{"metricName": "Latency", "metricNamespace": "Bench",
                                              "metricValue": "$.latency", "dimensions": {"Host": "$.host"}}]}),
        )
        .await;
        let mut rows = Vec::new();
        let base_rate = events as f64 / put_secs;
        rows.push(vec![
            "no filter (the run above)".to_string(),
            format!("{events}"),
            format!("{base_rate:.0}"),
            mbps(bytes, put_secs),
        ]);
        for (label, group) in [
            ("no filter, same slice", "plain"),
            ("metric filter, term `timeout`", "mf-term"),
            ("metric filter, JSON `$.latency` + dimension", "mf-json"),
        ] {
            let (secs, b) = ingest(&api, group, 0, slice, t0, None).await;
            rows.push(vec![
                label.to_string(),
                format!("{slice}"),
                format!("{:.0}", slice as f64 / secs),
                mbps(b, secs),
            ]);
        }
        print_table(&["PutLogEvents into a group with", "events", "events/s", "MB/s"], &rows);
    });
    drop(rt);
    // The temporary directory (database and file) is removed here.
}
