//! Logs Insights benchmark: `stats count(*) by bin(5m)` over one log group of 5 million
//! 200-byte events (about 1 GB of messages), beside `grep -c` over the same lines in a file.
//!
//! Run: `cargo bench --bench logs_insights` (smaller: `INSIGHTS_BENCH_EVENTS=500000 cargo bench
//! --bench logs_insights`).
//!
//! The events (a fixed head, then hex noise, so they compress like text) are stored in
//! process through the collector's log store (PutLogEvents-sized
//! blocks of 5,000 events, one event every 50 ms, so the range spans about 70 hours) under
//! the system temp directory; the same messages are written to a text file, one per line.
//! Each query goes through the Logs API (`StartQuery`, then `GetQueryResults` polled every
//! 10 ms until `Complete`), so the time includes scheduling and rendering. Every measurement is
//! run once to warm the page cache, then timed. MB/s counts message bytes (the query's
//! `bytesScanned`; for grep the file size). Generated data is deleted at the end.

// A benchmark harness: a failed setup step aborts the run.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::print_table;
use hostwatch_aws::Protocol;
use hostwatch_collector::api::logs::LogsApi;
use hostwatch_collector::api::RequestContext;
use hostwatch_collector::auth::Identity;
use hostwatch_collector::clock::{SharedClock, SystemClock};
use hostwatch_collector::store::logs::{AppendBatch, LogStoreOptions};
use serde_json::{json, Value};
use std::io::{BufWriter, Write};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINE: usize = 200;
const BATCH: usize = 5_000;
const STEP_MS: i64 = 50;

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

/// A 200-byte line: a fixed head, then hex noise so the store compresses it as it would
/// real text rather than a run of one character.
fn message(i: u64) -> String {
    let status = if i.is_multiple_of(97) { 500 } else { 200 };
    let mut s =
        format!("2026-11-22T12:00:00.000Z web-01 app[4242]: request {i:010} status={status} ");
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while s.len() < LINE - 1 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{x:016x} "));
    }
    s.truncate(LINE - 1);
    s
}

async fn run_query(api: &LogsApi, start_s: i64, end_s: i64, q: &str) -> (Duration, Value) {
    let ctx = ctx();
    let t = Instant::now();
    let started = api
        .handle(
            "StartQuery",
            json!({"logGroupName": "bench", "startTime": start_s, "endTime": end_s, "queryString": q, "limit": 10000}),
            &ctx,
        )
        .await
        .unwrap()
        .unwrap()
        .to_json();
    let id = started["queryId"].as_str().unwrap().to_string();
    loop {
        let r = api
            .handle("GetQueryResults", json!({"queryId": id}), &ctx)
            .await
            .unwrap()
            .unwrap()
            .to_json();
        match r["status"].as_str() {
            Some("Complete") => return (t.elapsed(), r),
            Some("Scheduled" | "Running") => tokio::time::sleep(Duration::from_millis(10)).await,
            other => panic!("query ended {other:?}"),
        }
    }
}

#[tokio::main]
async fn main() {
    let events: u64 = std::env::var("INSIGHTS_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);
    let dir = tempfile::Builder::new()
        .prefix("hostwatch-insights-bench")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let api = LogsApi::open_with(
        dir.path(),
        clock,
        LogStoreOptions {
            sweep_interval: None,
            ..LogStoreOptions::default()
        },
    )
    .unwrap();
    let ctx = ctx();
    api.handle("CreateLogGroup", json!({"logGroupName": "bench"}), &ctx)
        .await
        .unwrap();
    api.handle(
        "CreateLogStream",
        json!({"logGroupName": "bench", "logStreamName": "s"}),
        &ctx,
    )
    .await
    .unwrap();

    // Events end one minute ago, one every STEP_MS.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t0 = now - 60_000 - events as i64 * STEP_MS;
    let file_path = dir.path().join("events.log");
    let mut file = BufWriter::with_capacity(1 << 20, std::fs::File::create(&file_path).unwrap());
    let load = Instant::now();
    let mut i = 0u64;
    while i < events {
        let n = BATCH.min((events - i) as usize);
        let msgs: Vec<String> = (i..i + n as u64).map(message).collect();
        let evs: Vec<(i64, &str)> = msgs
            .iter()
            .enumerate()
            .map(|(k, m)| (t0 + (i as i64 + k as i64) * STEP_MS, m.as_str()))
            .collect();
        for m in &msgs {
            file.write_all(m.as_bytes()).unwrap();
            file.write_all(b"\n").unwrap();
        }
        api.store()
            .append(AppendBatch {
                group: "bench",
                stream: "s",
                events: &evs,
                ingestion_time: now,
            })
            .await
            .unwrap();
        i += n as u64;
    }
    file.flush().unwrap();
    drop(file);
    let load_s = load.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&file_path).unwrap().len();
    let db_bytes: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("logs.db"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "stored {events} events ({:.0} MB of messages, {:.0} MB on disk) in {load_s:.1} s",
        file_bytes as f64 / 1e6,
        db_bytes as f64 / 1e6
    );

    let (start_s, end_s) = (t0 / 1000, now / 1000);
    let mut rows = Vec::new();
    for q in [
        "stats count(*) by bin(5m)",
        "filter @message like /status=500/ | stats count(*) as errors",
    ] {
        run_query(&api, start_s, end_s, q).await;
        let (took, r) = run_query(&api, start_s, end_s, q).await;
        let scanned = r["statistics"]["recordsScanned"].as_f64().unwrap() as u64;
        assert_eq!(scanned, events, "every event scanned");
        let bytes = r["statistics"]["bytesScanned"].as_f64().unwrap();
        let secs = took.as_secs_f64();
        rows.push(vec![
            format!("Insights: {q}"),
            format!("{}", r["results"].as_array().unwrap().len()),
            format!("{secs:.2}"),
            format!("{:.0}", bytes / 1e6 / secs),
            format!("{:.2}", scanned as f64 / secs / 1e6),
        ]);
    }
    for (label, pattern) in [
        ("grep -c request", "request"),
        ("grep -c status=500", "status=500"),
    ] {
        let grep = || {
            Command::new("grep")
                .args(["-c", pattern])
                .arg(&file_path)
                .output()
                .unwrap()
        };
        grep();
        let t = Instant::now();
        let out = grep();
        let secs = t.elapsed().as_secs_f64();
        let count = String::from_utf8_lossy(&out.stdout).trim().to_string();
        rows.push(vec![
            label.to_string(),
            count,
            format!("{secs:.2}"),
            format!("{:.0}", file_bytes as f64 / 1e6 / secs),
            format!("{:.2}", events as f64 / secs / 1e6),
        ]);
    }
    print_table(
        &["what", "rows / count", "seconds", "MB/s", "M events/s"],
        &rows,
    );
    drop(api);
    dir.close().unwrap();
}
