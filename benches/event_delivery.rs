//! EventBridge end-to-end benchmark: `PutEvents` into the release collector, delivered to an
//! HTTP target on loopback.
//!
//! Run: `cargo bench --bench event_delivery` (optionally `-- --seconds N` of sending per row,
//! default 10).
//!
//! The release collector binary runs on 127.0.0.1. One rule on the default bus matches every
//! event and has one HTTP target: a small HTTP/1.1 server in this process (keep-alive, answers
//! `204`), reached through an InputTransformer that keeps the event's sequence number.
//! 4 client threads send signed `PutEvents` of 10 entries (about 100 bytes of detail each) as
//! fast as the collector acknowledges, for the run time; the run then waits until every
//! accepted event has arrived (or 120 s).
//!
//! Reported per row: events/s accepted (acknowledged by `PutEvents`), events/s delivered (over
//! the time from the first send to the last receipt), and the latency from the start of the
//! `PutEvents` call that carried an event to its receipt by the target (p50, p99, max). Rows:
//! the rule alone, then the same with an archive on the bus (every event also archived), both
//! as fast as the clients can send (the queue grows when intake outruns delivery, so latency
//! there is mostly queueing), then paced at 2,000 events/s (latency without a backlog).
//!
//! Load generator, target and collector share the machine's cores.

// A benchmark: failing loudly on a broken set-up is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{print_table, seconds_arg, start_collector, stop};
use hostwatch_aws::sigv4::{sign, SignableRequest};
use hostwatch_aws::Credentials;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const ENTRIES: usize = 10;
/// Most events one row sends (sequence numbers index the send-time table).
const MAX_EVENTS: usize = 4_000_000;

fn main() {
    let seconds = seconds_arg(10);
    let mut rows = Vec::new();
    let cases: [(&str, bool, Option<u64>); 3] = [
        ("rule + HTTP target, flat out", false, None),
        ("rule + HTTP target + archive, flat out", true, None),
        (
            "rule + HTTP target + archive, 2,000 ev/s",
            true,
            Some(2_000),
        ),
    ];
    for (label, archive, rate) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let r = run(dir.path(), seconds, archive, rate);
        rows.push(vec![
            label.to_string(),
            format!("{:.0}", r.accepted_per_s),
            format!("{:.0}", r.delivered_per_s),
            format!("{}/{}", r.delivered, r.accepted),
            format!("{:.1}", r.p50_ms),
            format!("{:.1}", r.p99_ms),
            format!("{:.1}", r.max_ms),
        ]);
    }
    print_table(
        &[
            "case",
            "accepted ev/s",
            "delivered ev/s",
            "delivered/accepted",
            "p50 ms",
            "p99 ms",
            "max ms",
        ],
        &rows,
    );
}

struct RunResult {
    accepted: u64,
    delivered: u64,
    accepted_per_s: f64,
    delivered_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// The target: records, per delivered sequence number, the latency since its send (µs).
struct Sink {
    port: u16,
    latencies_us: Arc<Mutex<Vec<u64>>>,
    last_receipt_ns: Arc<AtomicU64>,
}

fn sink(epoch: Instant, sent_ns: Arc<Vec<AtomicU64>>) -> Sink {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let latencies_us = Arc::new(Mutex::new(Vec::new()));
    let last_receipt_ns = Arc::new(AtomicU64::new(0));
    let (lat, last) = (latencies_us.clone(), last_receipt_ns.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let (lat, last, sent_ns) = (lat.clone(), last.clone(), sent_ns.clone());
            std::thread::spawn(move || serve(stream, epoch, &sent_ns, &lat, &last));
        }
    });
    Sink {
        port,
        latencies_us,
        last_receipt_ns,
    }
}

/// Serve keep-alive requests on one connection until it closes.
fn serve(
    stream: std::net::TcpStream,
    epoch: Instant,
    sent_ns: &[AtomicU64],
    lat: &Mutex<Vec<u64>>,
    last: &AtomicU64,
) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut len = 0usize;
        let mut any = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            any = true;
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        if !any {
            continue;
        }
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let now = epoch.elapsed().as_nanos() as u64;
        if let Some(seq) = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["seq"].as_u64())
        {
            let sent = sent_ns[seq as usize].load(Ordering::Relaxed);
            lat.lock().unwrap().push(now.saturating_sub(sent) / 1000);
            last.fetch_max(now, Ordering::Relaxed);
        }
        if writer
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

fn read_creds(path: &Path) -> Credentials {
    let text = std::fs::read_to_string(path).expect("credentials file");
    hostwatch_aws::credentials::profile_from_ini(&text, "hostwatch").expect("hostwatch profile")
}

/// One signed EventBridge call; returns the HTTP status and the answer.
fn call(
    client: &reqwest::blocking::Client,
    endpoint: &str,
    creds: &Credentials,
    op: &str,
    body: &[u8],
) -> (u16, Value) {
    let host = endpoint.trim_start_matches("http://").to_string();
    let target = format!("AWSEvents.{op}");
    let req = SignableRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: vec![
            ("host".into(), host),
            ("content-type".into(), "application/x-amz-json-1.1".into()),
            ("x-amz-target".into(), target),
        ],
        body,
    };
    let mut headers = req.headers.clone();
    headers.extend(sign(&req, creds, "us-east-1", "events", chrono::Utc::now()));
    let mut rb = client.post(format!("{endpoint}/")).body(body.to_vec());
    for (k, v) in headers.into_iter().filter(|(k, _)| k != "host") {
        rb = rb.header(k, v);
    }
    match rb.send() {
        Ok(r) => {
            let status = r.status().as_u16();
            let v = r
                .bytes()
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(Value::Null);
            if status != 200 {
                eprintln!("{op}: HTTP {status}: {v}");
            }
            (status, v)
        }
        Err(e) => {
            eprintln!("{op}: request failed: {e}");
            (0, Value::Null)
        }
    }
}

fn setup(endpoint: &str, creds: &Credentials, port: u16, archive: bool) {
    let client = reqwest::blocking::Client::new();
    let ok = |op: &str, body: Value| {
        let (status, _) = call(&client, endpoint, creds, op, body.to_string().as_bytes());
        assert_eq!(status, 200, "{op}");
    };
    ok(
        "PutRule",
        json!({"Name": "bench", "EventPattern": "{\"source\":[\"bench\"]}"}),
    );
    ok(
        "PutTargets",
        json!({"Rule": "bench", "Targets": [{"Id": "sink",
            "Arn": format!("arn:hostwatch:http:::http://127.0.0.1:{port}/events"),
            "InputTransformer": {"InputPathsMap": {"seq": "$.detail.seq"},
                                 "InputTemplate": "{\"seq\": <seq>}"}}]}),
    );
    if archive {
        ok(
            "CreateArchive",
            json!({"ArchiveName": "bench",
                "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/default"}),
        );
    }
}

/// One row; `rate` paces the clients to that many events per second in total.
fn run(dir: &Path, seconds: u64, archive: bool, rate: Option<u64>) -> RunResult {
    let epoch = Instant::now();
    let sent_ns: Arc<Vec<AtomicU64>> =
        Arc::new((0..MAX_EVENTS).map(|_| AtomicU64::new(0)).collect());
    let target = sink(epoch, sent_ns.clone());
    let (mut collector, endpoint) = start_collector(&dir.join("collector"));
    let creds = read_creds(&dir.join("collector/credentials"));
    setup(&endpoint, &creds, target.port, archive);

    let next_seq = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let halt = Arc::new(AtomicBool::new(false));
    let started_ns = epoch.elapsed().as_nanos() as u64;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (endpoint, creds) = (endpoint.clone(), creds.clone());
            let (next_seq, accepted, halt, sent_ns) = (
                next_seq.clone(),
                accepted.clone(),
                halt.clone(),
                sent_ns.clone(),
            );
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .build()
                    .unwrap();
                let pad = "x".repeat(80);
                // Seconds between two calls of this client when paced.
                let interval = rate.map(|r| (ENTRIES * CLIENTS) as f64 / r as f64);
                let began = Instant::now();
                let mut calls = 0u32;
                while !halt.load(Ordering::Relaxed) {
                    if let Some(i) = interval {
                        let due = began + Duration::from_secs_f64(i * f64::from(calls));
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        calls += 1;
                    }
                    let first = next_seq.fetch_add(ENTRIES as u64, Ordering::Relaxed);
                    if first as usize + ENTRIES > MAX_EVENTS {
                        return;
                    }
                    let entries: Vec<Value> = (first..first + ENTRIES as u64)
                        .map(|seq| {
                            json!({"Source": "bench", "DetailType": "Bench",
                                "Detail": json!({"seq": seq, "pad": pad}).to_string()})
                        })
                        .collect();
                    let body = json!({ "Entries": entries }).to_string();
                    let now = epoch.elapsed().as_nanos() as u64;
                    for seq in first..first + ENTRIES as u64 {
                        sent_ns[seq as usize].store(now, Ordering::Relaxed);
                    }
                    let (status, answer) =
                        call(&client, &endpoint, &creds, "PutEvents", body.as_bytes());
                    if status == 200 && answer["FailedEntryCount"] == 0 {
                        accepted.fetch_add(ENTRIES as u64, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    halt.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let send_secs = (epoch.elapsed().as_nanos() as u64 - started_ns) as f64 / 1e9;
    let accepted = accepted.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(120);
    while (target.latencies_us.lock().unwrap().len() as u64) < accepted && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    stop(&mut collector, Duration::from_secs(10));
    let mut lat = target.latencies_us.lock().unwrap().clone();
    lat.sort_unstable();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return f64::NAN;
        }
        let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
        lat[i] as f64 / 1000.0
    };
    let last = target.last_receipt_ns.load(Ordering::Relaxed);
    let deliver_secs = last.saturating_sub(started_ns) as f64 / 1e9;
    RunResult {
        accepted,
        delivered: lat.len() as u64,
        accepted_per_s: accepted as f64 / send_secs,
        delivered_per_s: lat.len() as f64 / deliver_secs.max(1e-9),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(f64::NAN, |m| *m as f64 / 1000.0),
    }
}
