//! Ingest benchmark: prints a table of sustained collector ingest rates beside the raw SQLite
//! insert rate on the same machine, and the agent's cost per collection cycle.
//!
//! Run: `cargo bench --bench ingest` (optionally `-- --seconds N`).
//!
//! - **raw SQLite**: rows `(series_id, ts, value)` into a table with no index, WAL,
//!   synchronous=NORMAL, 100k rows per transaction: the floor under any SQLite-backed store.
//! - **PutMetricData**: the release collector binary on 127.0.0.1; 4 client threads, each sending
//!   signed awsJson 1.0 requests of 1000 datums (1000 distinct series per client), as fast as the
//!   collector acknowledges. Reported as datapoints per second.
//! - **PutLogEvents**: same, 1 MiB batches (about 4,700 events of 200 bytes) into one stream per
//!   client. Reported as MB/s of message bytes.
//! - **agent**: the release agent binary shipping cpu (per core + total, every measurement) and
//!   mem (every measurement) at a 1 s interval for the run time: CPU time per collection cycle
//!   (summed schedstat of all its threads) and peak resident memory (VmHWM).
//!
//! The load generator shares the machine's cores with the collector, so the figures are a
//! lower bound for a collector with the machine to itself.

// A benchmark is a test program: a setup step that fails should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{
    agent_command, every_measurement, print_table, proc_cpu_ns, seconds_arg, start_collector, stop,
    vm_hwm_kb,
};
use hostwatch_aws::sigv4::{sign, SignableRequest};
use hostwatch_aws::Credentials;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;

fn main() {
    let seconds = seconds_arg(15);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rows = Vec::new();

    let raw = raw_sqlite(&dir.path().join("raw.db"), 3_000_000);
    rows.push((
        "raw SQLite insert, no index (rows/s)".to_string(),
        format!("{raw:.0}"),
    ));

    let (mut collector, endpoint) = start_collector(&dir.path().join("collector"));
    let creds = read_creds(&dir.path().join("collector/credentials"));

    let (dps, reqs) = run_clients(&endpoint, &creds, seconds, metric_bodies);
    rows.push((
        format!("PutMetricData, {CLIENTS} clients x 1000 datums (datapoints/s)"),
        format!("{dps:.0}"),
    ));
    rows.push(("  requests/s".to_string(), format!("{reqs:.1}")));
    rows.push((
        "  vs raw SQLite rows/s".to_string(),
        format!("{:.0} %", 100.0 * dps / raw),
    ));

    create_log_streams(&endpoint, &creds);
    let (bytes, reqs) = run_clients(&endpoint, &creds, seconds, log_bodies);
    rows.push((
        format!("PutLogEvents, {CLIENTS} clients x 1 MiB (MB/s of messages)"),
        format!("{:.1}", bytes / 1e6),
    ));
    rows.push(("  requests/s".to_string(), format!("{reqs:.1}")));

    let (cpu_ms, hwm_kb, cycles) = agent_cost(
        &endpoint,
        &dir.path().join("collector/credentials"),
        dir.path(),
        seconds.max(10),
    );
    rows.push((
        format!("agent CPU per cpu+mem cycle ({cycles} cycles, ms)"),
        format!("{cpu_ms:.2}"),
    ));
    rows.push((
        "agent peak RSS (MB)".to_string(),
        format!("{:.1}", hwm_kb as f64 / 1024.0),
    ));

    stop(&mut collector, Duration::from_secs(10));

    println!();
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(k, v)| vec![k, v]).collect();
    print_table(&["measurement", "result"], &rows);
}

fn raw_sqlite(path: &Path, n: i64) -> f64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE p (series_id INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL)",
    )
    .expect("create");
    let start = Instant::now();
    let mut i = 0i64;
    while i < n {
        let tx = conn.unchecked_transaction().expect("tx");
        {
            let mut st = tx
                .prepare_cached("INSERT INTO p VALUES (?1, ?2, ?3)")
                .expect("prepare");
            for _ in 0..100_000 {
                st.execute((i % 1000, i / 1000, i as f64)).expect("insert");
                i += 1;
            }
        }
        tx.commit().expect("commit");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn read_creds(path: &Path) -> Credentials {
    let text = std::fs::read_to_string(path).expect("credentials file");
    hostwatch_aws::credentials::profile_from_ini(&text, "hostwatch").expect("hostwatch profile")
}

/// A prepared request body and how much it counts for (datapoints or message bytes).
struct Body {
    target: &'static str,
    content_type: &'static str,
    service: &'static str,
    bytes: Vec<u8>,
    weight: u64,
}

fn metric_bodies(client: usize) -> Vec<Body> {
    let now = chrono::Utc::now().timestamp();
    (0..50)
        .map(|k| {
            let ts = now - 3600 + k as i64;
            let data: Vec<serde_json::Value> = (0..1000)
                .map(|i| {
                    serde_json::json!({
                        "MetricName": format!("bench_metric_{}", i % 50),
                        "Dimensions": [{"Name": "host", "Value": format!("host-{client}")}, {"Name": "series", "Value": (i / 50).to_string()}],
                        "Timestamp": ts, "Value": (i * k) as f64 * 0.5, "Unit": "Percent", "StorageResolution": 1
                    })
                })
                .collect();
            Body {
                target: "GraniteServiceVersion20100801.PutMetricData",
                content_type: "application/x-amz-json-1.0",
                service: "monitoring",
                bytes: serde_json::json!({"Namespace": "Bench", "MetricData": data}).to_string().into_bytes(),
                weight: 1000,
            }
        })
        .collect()
}

fn log_bodies(client: usize) -> Vec<Body> {
    let now = chrono::Utc::now().timestamp_millis();
    (0..8)
        .map(|k| {
            let mut events = Vec::new();
            let mut size = 0usize;
            let mut msg_bytes = 0u64;
            let mut i = 0;
            loop {
                let message = format!(
                    "{} host-{client} app[{k}]: GET /api/v1/items/{i} status=200 bytes={} took={}ms user=alice agent=Mozilla/5.0 (X11; Linux x86_64) trace=abcdef0123456789",
                    chrono::DateTime::from_timestamp_millis(now).map(|t| t.to_rfc3339()).unwrap_or_default(),
                    i * 7 % 5000,
                    i % 300
                );
                if size + message.len() + 26 > 1_048_576 || events.len() == 10_000 {
                    break;
                }
                size += message.len() + 26;
                msg_bytes += message.len() as u64;
                events.push(serde_json::json!({"timestamp": now - 60_000 + i as i64, "message": message}));
                i += 1;
            }
            Body {
                target: "Logs_20140328.PutLogEvents",
                content_type: "application/x-amz-json-1.1",
                service: "logs",
                bytes: serde_json::json!({"logGroupName": "bench", "logStreamName": format!("client-{client}"), "logEvents": events})
                    .to_string()
                    .into_bytes(),
                weight: msg_bytes,
            }
        })
        .collect()
}

fn post(
    client: &reqwest::blocking::Client,
    endpoint: &str,
    creds: &Credentials,
    body: &Body,
) -> u16 {
    let host = endpoint.trim_start_matches("http://").to_string();
    let req = SignableRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: vec![
            ("host".into(), host),
            ("content-type".into(), body.content_type.into()),
            ("x-amz-target".into(), body.target.into()),
        ],
        body: &body.bytes,
    };
    let mut headers = req.headers.clone();
    headers.extend(sign(
        &req,
        creds,
        "us-east-1",
        body.service,
        chrono::Utc::now(),
    ));
    let mut rb = client.post(format!("{endpoint}/")).body(body.bytes.clone());
    for (k, v) in headers.into_iter().filter(|(k, _)| k != "host") {
        rb = rb.header(k, v);
    }
    match rb.send() {
        Ok(r) => {
            let status = r.status().as_u16();
            if status != 200 {
                eprintln!("HTTP {status}: {}", r.text().unwrap_or_default());
            }
            status
        }
        Err(e) => {
            eprintln!("request failed: {e}");
            0
        }
    }
}

fn create_log_streams(endpoint: &str, creds: &Credentials) {
    let client = reqwest::blocking::Client::new();
    let mk = |target: &'static str, body: serde_json::Value| Body {
        target,
        content_type: "application/x-amz-json-1.1",
        service: "logs",
        bytes: body.to_string().into_bytes(),
        weight: 0,
    };
    post(
        &client,
        endpoint,
        creds,
        &mk(
            "Logs_20140328.CreateLogGroup",
            serde_json::json!({"logGroupName": "bench"}),
        ),
    );
    for c in 0..CLIENTS {
        post(
            &client,
            endpoint,
            creds,
            &mk(
                "Logs_20140328.CreateLogStream",
                serde_json::json!({"logGroupName": "bench", "logStreamName": format!("client-{c}")}),
            ),
        );
    }
}

/// Run CLIENTS threads for `seconds`; returns (weight per second, requests per second).
fn run_clients(
    endpoint: &str,
    creds: &Credentials,
    seconds: u64,
    bodies: fn(usize) -> Vec<Body>,
) -> (f64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let weight = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let prepared: Vec<Vec<Body>> = (0..CLIENTS).map(bodies).collect();
    let started = Instant::now();
    let handles: Vec<_> = prepared
        .into_iter()
        .map(|bodies| {
            let (stop, weight, requests) = (stop.clone(), weight.clone(), requests.clone());
            let endpoint = endpoint.to_string();
            let creds = creds.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .build()
                    .expect("client");
                let mut k = 0;
                while !stop.load(Ordering::Relaxed) {
                    let b = &bodies[k % bodies.len()];
                    if post(&client, &endpoint, &creds, b) == 200 {
                        weight.fetch_add(b.weight, Ordering::Relaxed);
                        requests.fetch_add(1, Ordering::Relaxed);
                    }
                    k += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    let secs = started.elapsed().as_secs_f64();
    (
        weight.load(Ordering::Relaxed) as f64 / secs,
        requests.load(Ordering::Relaxed) as f64 / secs,
    )
}

/// Run the agent at a 1 s interval; returns (CPU ms per cycle, peak RSS kB, cycles).
fn agent_cost(endpoint: &str, creds: &Path, dir: &Path, seconds: u64) -> (f64, u64, u64) {
    let all_cpu = every_measurement("cpu");
    let all_mem = every_measurement("mem");
    let config = serde_json::json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {"endpoint_override": endpoint, "force_flush_interval": 10, "metrics_collected": {
            "cpu": {"resources": ["*"], "totalcpu": true, "measurement": all_cpu},
            "mem": {"measurement": all_mem}}}
    });
    let mut agent = agent_command(&dir.join("agent"), &config, creds)
        .and_then(|mut c| c.spawn())
        .expect("start agent");
    // Let start-up pass, then measure steady state.
    std::thread::sleep(Duration::from_secs(3));
    let t0 = proc_cpu_ns(agent.id()).unwrap_or(0);
    std::thread::sleep(Duration::from_secs(seconds));
    let t1 = proc_cpu_ns(agent.id()).unwrap_or(0);
    let hwm = vm_hwm_kb(agent.id()).unwrap_or(0);
    stop(&mut agent, Duration::from_secs(15));
    let cpu_ms = t1.saturating_sub(t0) as f64 / 1e6;
    (cpu_ms / seconds as f64, hwm, seconds)
}
