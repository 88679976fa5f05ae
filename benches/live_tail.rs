//! Live Tail benchmark: what open StartLiveTail sessions cost the ingest path.
//!
//! Run: `cargo bench --bench live_tail` (optionally `-- --seconds N`).
//!
//! In process (no HTTP): PutLogEvents through `LogsApi::handle_body` with 1 MiB batches (about
//! 4,700 events of 200 bytes) into one stream, as fast as the store commits them, for N seconds
//! each with 0, 1 and 4 Live Tail sessions open on the group. Each session's frames are read
//! and dropped by a task, as an HTTP client would drain them. Reported: MB/s of message bytes
//! ingested, and the events the sessions delivered (sampled to 500 per second each, as AWS
//! does). With no session, ingest does one atomic load more than without Live Tail.

// A benchmark is a test program: a setup step that fails should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{print_table, seconds_arg};
use hostwatch_aws::eventstream::Decoder;
use hostwatch_collector::api::logs::LogsApi;
use hostwatch_collector::api::RequestContext;
use hostwatch_collector::auth::Identity;
use hostwatch_collector::clock::SystemClock;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ctx() -> RequestContext {
    RequestContext {
        request_id: "bench".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "logs".into(),
        },
        protocol: hostwatch_aws::Protocol::AwsJson11,
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        now_ms: 0,
    }
}

/// A 1 MiB PutLogEvents body of 200-byte messages stamped `now`.
fn batch(now: i64) -> (Vec<u8>, usize) {
    let mut events = Vec::new();
    let mut bytes = 0;
    let mut i = 0;
    while bytes + 200 + 26 <= 1_048_576 {
        let msg = format!("{i:08} {}", "x".repeat(191));
        bytes += msg.len() + 26;
        events.push(serde_json::json!({"timestamp": now, "message": msg}));
        i += 1;
    }
    let body = serde_json::json!({
        "logGroupName": "bench",
        "logStreamName": "s",
        "logEvents": events,
    });
    (body.to_string().into_bytes(), i * 200)
}

async fn run(api: &LogsApi, sessions: usize, seconds: u64) -> (f64, u64) {
    let ctx = ctx();
    let delivered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut readers = Vec::new();
    for _ in 0..sessions {
        let req =
            br#"{"logGroupIdentifiers":["arn:aws:logs:us-east-1:000000000000:log-group:bench"]}"#;
        let mut frames = api.start_live_tail(req, &ctx).unwrap();
        let delivered = delivered.clone();
        readers.push(tokio::spawn(async move {
            let mut d = Decoder::new();
            while let Some(f) = frames.next_frame().await {
                d.push(&f);
                while let Some(m) = d.next_message().unwrap() {
                    if m.header_str(":event-type") == Some("sessionUpdate") {
                        let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
                        let n = v["sessionResults"].as_array().map_or(0, Vec::len);
                        delivered.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // Let the sessions subscribe before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let mut bytes = 0usize;
    while start.elapsed() < Duration::from_secs(seconds) {
        let (body, b) = batch(chrono::Utc::now().timestamp_millis());
        api.handle_body("PutLogEvents", &body, &ctx).await.unwrap();
        bytes += b;
    }
    let secs = start.elapsed().as_secs_f64();
    // Let the last update go out, then end the sessions.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for r in readers {
        r.abort();
    }
    (
        bytes as f64 / secs / 1e6,
        delivered.load(std::sync::atomic::Ordering::Relaxed),
    )
}

fn main() {
    let seconds = seconds_arg(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for sessions in [0usize, 1, 4] {
        let dir = tempfile::tempdir().unwrap();
        let api = LogsApi::open(dir.path(), Arc::new(SystemClock)).unwrap();
        let (mbs, delivered) = rt.block_on(async {
            api.handle(
                "CreateLogGroup",
                serde_json::json!({"logGroupName": "bench"}),
                &ctx(),
            )
            .await
            .unwrap();
            api.handle(
                "CreateLogStream",
                serde_json::json!({"logGroupName": "bench", "logStreamName": "s"}),
                &ctx(),
            )
            .await
            .unwrap();
            run(&api, sessions, seconds).await
        });
        rows.push(vec![
            sessions.to_string(),
            format!("{mbs:.1}"),
            delivered.to_string(),
        ]);
    }
    println!("Live Tail sessions vs PutLogEvents ingest ({seconds} s each, in process)");
    print_table(
        &[
            "open sessions",
            "PutLogEvents MB/s",
            "events delivered (all sessions)",
        ],
        &rows,
    );
}
