//! StatsD receive benchmark: the highest UDP rate the release agent takes over loopback with
//! zero drops, and its CPU time per million metrics.
//!
//! Run: `cargo bench --bench statsd` (optionally `-- --seconds N`, default 5 per step).
//!
//! - The release agent listens for StatsD on a free 127.0.0.1 port (collection every 10 s,
//!   60 s aggregation, default queue of 10,000 packets) and ships to the release collector.
//! - Sender threads in this process (two for single-metric packets, else one) pace UDP packets
//!   at a target rate for N seconds, cycling over 100 series of counters, gauges and timings
//!   (with tags on some). Two shapes: one metric per packet (the worst case for a receiver), and 20 metrics per
//!   packet (what batching clients send).
//! - Counting: the agent's own counters in `<state dir>/statsd-stats.json`, rewritten about once
//!   a second: `samples` taken, `queue_dropped` (its bounded queue was full) and
//!   `kernel_dropped` (the socket buffer overflowed, read from the system's UDP socket table).
//!   A step passes when every metric sent was taken and nothing was dropped.
//! - CPU: the agent's summed on-CPU time of all threads (schedstat) over the step, divided by
//!   the metrics taken; reported as CPU-milliseconds per million metrics.
//! - Rates go up from 50,000 metrics/s until a step drops or the sender itself cannot reach the
//!   target (then the limit is the load generator, which shares the cores with the agent).

// A benchmark: failing loudly on a broken set-up is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{agent_command, print_table, proc_cpu_ns, seconds_arg, start_collector, stop};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

const RATES: [u64; 11] = [
    50_000, 100_000, 150_000, 200_000, 300_000, 400_000, 600_000, 800_000, 1_200_000, 1_600_000,
    2_400_000,
];

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    samples: u64,
    queue_dropped: u64,
    kernel_dropped: u64,
    pending: u64,
}

fn read_counters(path: &Path) -> Option<Counters> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let g = |k: &str| v[k].as_u64();
    Some(Counters {
        samples: g("samples")?,
        queue_dropped: g("queue_dropped")?,
        kernel_dropped: g("kernel_dropped")?,
        pending: g("pending")?,
    })
}

/// Wait until the agent has processed everything and its stats file is current.
fn settled(path: &Path, expect_samples: u64) -> Counters {
    let start = Instant::now();
    let mut last = read_counters(path).unwrap_or_default();
    let mut same_since = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(200));
        let now = read_counters(path).unwrap_or(last);
        let changed = now.samples != last.samples
            || now.queue_dropped != last.queue_dropped
            || now.kernel_dropped != last.kernel_dropped;
        if changed {
            same_since = Instant::now();
        }
        last = now;
        if now.pending == 0
            && (now.samples >= expect_samples || same_since.elapsed() > Duration::from_millis(2500))
        {
            break;
        }
    }
    last
}

/// Packets for one shape: `per_packet` metrics each, cycling over the series.
fn packets(per_packet: usize) -> Vec<Vec<u8>> {
    let lines: Vec<String> = (0..100)
        .map(|i| match i % 4 {
            0 => format!("bench.req.count_{i}:1|c"),
            1 => format!("bench.queue_{i}:{}|g", i * 3),
            2 => format!("bench.latency_{i}:{}|ms|#route:/api/{i},code:200", i % 37),
            _ => format!("bench.hits_{i}:2|c|@0.5"),
        })
        .collect();
    let mut out = Vec::new();
    let mut k = 0;
    for _ in 0..100 {
        let mut p = Vec::new();
        for j in 0..per_packet {
            if j > 0 {
                p.push(b'\n');
            }
            p.extend_from_slice(lines[k % lines.len()].as_bytes());
            k += 1;
        }
        out.push(p);
    }
    out
}

/// Send at `rate` metrics/s for `seconds` from `threads` paced senders; returns
/// (metrics sent, achieved metrics/s).
fn blast(port: u16, rate: u64, per_packet: usize, seconds: u64, threads: u64) -> (u64, f64) {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                blast_one(
                    port,
                    rate / threads,
                    per_packet,
                    start,
                    Duration::from_secs(seconds),
                )
            })
        })
        .collect();
    let sent: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    (sent, sent as f64 / start.elapsed().as_secs_f64())
}

fn blast_one(port: u16, rate: u64, per_packet: usize, start: Instant, run: Duration) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("sender socket");
    sock.connect(("127.0.0.1", port)).expect("connect");
    let pkts = packets(per_packet);
    let pkt_rate = (rate / per_packet as u64).max(1);
    let end = start + run;
    let mut sent_pkts: u64 = 0;
    let mut i = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        // Packets due by now at the target pace.
        let due = (now.duration_since(start).as_secs_f64() * pkt_rate as f64) as u64;
        if sent_pkts >= due {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        let burst = (due - sent_pkts).min(256);
        for _ in 0..burst {
            if sock.send(&pkts[i % pkts.len()]).is_ok() {
                sent_pkts += 1;
            }
            i += 1;
        }
    }
    sent_pkts * per_packet as u64
}

struct Step {
    target: u64,
    achieved: f64,
    sent: u64,
    taken: u64,
    dropped: u64,
    cpu_ms_per_million: f64,
}

fn run_step(
    agent: &Child,
    stats: &Path,
    port: u16,
    rate: u64,
    per_packet: usize,
    secs: u64,
) -> Step {
    let before = settled(stats, 0);
    let cpu0 = proc_cpu_ns(agent.id()).unwrap_or(0);
    let threads = if per_packet == 1 { 2 } else { 1 };
    let (sent, achieved) = blast(port, rate, per_packet, secs, threads);
    let after = settled(stats, before.samples + sent);
    let cpu1 = proc_cpu_ns(agent.id()).unwrap_or(0);
    let taken = after.samples - before.samples;
    // The agent's own drop counters, or what never arrived, whichever is larger (the two
    // count the same packets when the agent saw them all).
    let dropped = ((after.queue_dropped - before.queue_dropped)
        + (after.kernel_dropped - before.kernel_dropped))
        .max(sent.saturating_sub(taken));
    Step {
        target: rate,
        achieved,
        sent,
        taken,
        dropped,
        cpu_ms_per_million: (cpu1 - cpu0) as f64 / 1e6 / (taken.max(1) as f64 / 1e6),
    }
}

fn start_agent(endpoint: &str, creds: &Path, dir: &Path, port: u16) -> (Child, PathBuf) {
    let config = serde_json::json!({
        "agent": {"region": "us-east-1"},
        "metrics": {"endpoint_override": endpoint, "force_flush_interval": 10, "metrics_collected": {
            "statsd": {"service_address": format!("127.0.0.1:{port}"),
                       "metrics_collection_interval": 10, "metrics_aggregation_interval": 60}}}
    });
    let base = dir.join("agent-statsd");
    let agent = agent_command(&base, &config, creds)
        .and_then(|mut c| c.spawn())
        .expect("start agent");
    (agent, base.join("state/statsd-stats.json"))
}

fn main() {
    let seconds = seconds_arg(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut collector, endpoint) = start_collector(&dir.path().join("collector"));
    let port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let (mut agent, stats) = start_agent(
        &endpoint,
        &dir.path().join("collector/credentials"),
        dir.path(),
        port,
    );
    // Wait for the listener, then for the stats file (written once traffic arrived).
    let t = Instant::now();
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = blast(port, 1000, 1, 1, 1);
    while read_counters(&stats).is_none() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }

    let mut rows = Vec::new();
    let mut best: Vec<(usize, u64, f64)> = Vec::new();
    for per_packet in [1usize, 20] {
        let mut best_rate = 0u64;
        let mut best_cpu = 0.0;
        for rate in RATES {
            let s = run_step(&agent, &stats, port, rate, per_packet, seconds);
            rows.push(vec![
                per_packet.to_string(),
                s.target.to_string(),
                format!("{:.0}", s.achieved),
                s.sent.to_string(),
                s.taken.to_string(),
                s.dropped.to_string(),
                format!("{:.0}", s.cpu_ms_per_million),
            ]);
            let reached = s.achieved >= 0.95 * s.target as f64;
            if s.dropped == 0 {
                best_rate = best_rate.max(s.achieved as u64);
                best_cpu = s.cpu_ms_per_million;
            }
            if s.dropped > 0 || !reached {
                break;
            }
        }
        best.push((per_packet, best_rate, best_cpu));
    }
    println!();
    print_table(
        &[
            "metrics/packet",
            "target/s",
            "sent/s",
            "sent",
            "taken",
            "dropped",
            "agent CPU ms per 1M",
        ],
        &rows,
    );
    println!();
    for (per_packet, rate, cpu) in best {
        println!(
            "{per_packet} metric(s) per packet: highest zero-drop rate {rate} metrics/s, \
             agent CPU {cpu:.0} ms per million metrics"
        );
    }
    stop(&mut agent, Duration::from_secs(10));
    stop(&mut collector, Duration::from_secs(10));
}
