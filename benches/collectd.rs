//! collectd receive benchmark: the highest rate of collectd values the release agent takes over
//! loopback with zero drops, in each security level, and its CPU time per million values.
//!
//! Run: `cargo bench --bench collectd` (optionally `-- --seconds N`, default 5 per step).
//!
//! - The release agent listens for collectd packets on a free 127.0.0.1 port (default 60 s
//!   aggregation) and ships to the release collector; one agent per security level (none, sign,
//!   encrypt), with an auth file for user `bench`.
//! - Packets are built before each step the way collectd's network plugin builds them: up to
//!   1452 bytes, a part only when its value changed since the previous value list, signed
//!   (HMAC-SHA-256) or encrypted (AES-256-OFB, a fresh IV per packet) for those levels. The
//!   series are 40 hosts × (2 cpus × 8 states, 6 memory values, 3 load values, 3 interfaces ×
//!   2 types × rx/tx): 1,000 values per round, stamped with the current time, each series
//!   cycling through 50 distinct values.
//! - One sender thread in this process paces the packets at a target rate of values (1 ms
//!   slots) for N seconds.
//! - Counting: the agent's own counters in `<state dir>/collectd-stats.json`, rewritten once a
//!   second: `values_received`, `values_dropped_queue_full` (held-values bound) and
//!   `packets_dropped_by_kernel` (socket buffer overflow, from the kernel's UDP table), plus any
//!   packet rejected (malformed, bad signature, decryption failure). A step passes when every
//!   value sent was taken and nothing was dropped.
//! - CPU: the agent's summed on-CPU time of all threads (schedstat) over the step, divided by the
//!   values taken; reported as CPU-milliseconds per million values.
//! - Rates go up from 50,000 values/s until a step drops or the sender itself cannot reach the
//!   target (then the limit is the load generator, which shares the cores with the agent).

// A benchmark harness: a failed setup step (no free port, no binary) aborts the run.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{agent_command, print_table, proc_cpu_ns, seconds_arg, start_collector, stop};
use hostwatch_agent::collectd::crypto::{encrypt_packet, sign_packet};
use hostwatch_agent::collectd::parse::{
    PacketBuilder, Value, TYPE_HOST, TYPE_INTERVAL_HR, TYPE_PLUGIN, TYPE_PLUGIN_INSTANCE,
    TYPE_TIME_HR, TYPE_TYPE, TYPE_TYPE_INSTANCE,
};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

const RATES: [u64; 11] = [
    50_000, 100_000, 200_000, 300_000, 400_000, 600_000, 800_000, 1_200_000, 1_600_000, 2_400_000,
    3_200_000,
];
const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
/// collectd's default MaxPacketSize.
const MAX_PACKET: usize = 1452;

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    values: u64,
    queue_full: u64,
    kernel: u64,
    rejected: u64,
}

fn read_counters(path: &Path) -> Option<Counters> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let g = |k: &str| v[k].as_u64();
    Some(Counters {
        values: g("values_received")?,
        queue_full: g("values_dropped_queue_full")?,
        kernel: g("packets_dropped_by_kernel")?,
        rejected: g("packets_malformed")?
            + g("packets_bad_signature")?
            + g("packets_decrypt_failed")?
            + g("packets_unknown_user")?
            + g("packets_security_rejected")?,
    })
}

/// Wait until the agent has processed everything and its stats file is current.
fn settled(path: &Path, expect: u64) -> Counters {
    let start = Instant::now();
    let mut last = read_counters(path).unwrap_or_default();
    let mut same_since = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(200));
        let now = read_counters(path).unwrap_or(last);
        if now.values != last.values || now.kernel != last.kernel {
            same_since = Instant::now();
        }
        last = now;
        if now.values >= expect || same_since.elapsed() > Duration::from_millis(2500) {
            break;
        }
    }
    last
}

/// One value list of the synthetic host set.
struct Series {
    host: String,
    plugin: &'static str,
    plugin_instance: String,
    type_name: &'static str,
    type_instance: String,
    /// (data-source kind, base value)
    values: Vec<(u8, u64)>,
}

fn series() -> Vec<Series> {
    let mut out = Vec::new();
    for h in 0..40 {
        let host = format!("bench-host-{h:02}");
        let s = |plugin, pi: &str, type_name, ti: &str, values: Vec<(u8, u64)>| Series {
            host: host.clone(),
            plugin,
            plugin_instance: pi.to_string(),
            type_name,
            type_instance: ti.to_string(),
            values,
        };
        for cpu in 0..2 {
            for state in [
                "user",
                "system",
                "idle",
                "wait",
                "nice",
                "interrupt",
                "softirq",
                "steal",
            ] {
                out.push(s("cpu", &cpu.to_string(), "cpu", state, vec![(2, 100_000)]));
            }
        }
        for m in [
            "used",
            "buffered",
            "cached",
            "free",
            "slab_recl",
            "slab_unrecl",
        ] {
            out.push(s("memory", "", "memory", m, vec![(1, 1 << 30)]));
        }
        out.push(s("load", "", "load", "", vec![(1, 1), (1, 2), (1, 3)]));
        for iface in ["eth0", "eth1", "lo"] {
            for t in ["if_octets", "if_packets"] {
                out.push(s(
                    "interface",
                    iface,
                    t,
                    "",
                    vec![(2, 1_000_000), (2, 2_000_000)],
                ));
            }
        }
    }
    out
}

/// Packets holding `rounds` rounds of every series, collectd-style; returns (packet, values).
fn packets(level: &str, rounds: u64) -> Vec<(Vec<u8>, u64)> {
    let overhead = match level {
        "sign" => 36 + USER.len(),
        "encrypt" => 42 + USER.len(),
        _ => 0,
    };
    let all = series();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut cur = PacketBuilder::new();
    let mut cur_values = 0u64;
    let mut last: [String; 5] = Default::default();
    let mut last_time = u64::MAX;
    let mut iv = [0u8; 16];
    let mut seal = |payload: Vec<u8>, values: u64, out: &mut Vec<(Vec<u8>, u64)>| {
        if values == 0 {
            return;
        }
        iv[0] = iv[0].wrapping_add(1);
        iv[1] = iv[1].wrapping_add(iv[0] / 255);
        let p = match level {
            "sign" => sign_packet(USER, PASSWORD, &payload),
            "encrypt" => encrypt_packet(USER, PASSWORD, iv, &payload),
            _ => payload,
        };
        out.push((p, values));
    };
    for round in 0..rounds {
        let time = (now << 30) + (round << 20);
        for s in &all {
            let vals: Vec<Value> = s
                .values
                .iter()
                .map(|(kind, base)| {
                    let v = base + (round % 50);
                    match kind {
                        1 => Value::Gauge(v as f64 / 7.0),
                        _ => Value::Derive(v as i64),
                    }
                })
                .collect();
            // Worst case for this value list: every identification part changes.
            let need = 5 * 5
                + s.host.len()
                + s.plugin.len()
                + s.plugin_instance.len()
                + s.type_name.len()
                + s.type_instance.len()
                + 12 * 2
                + 6
                + 9 * vals.len();
            if cur.bytes.len() + need + overhead > MAX_PACKET {
                let payload = std::mem::take(&mut cur).build();
                seal(payload, cur_values, &mut out);
                cur_values = 0;
                last = Default::default();
                last_time = u64::MAX;
            }
            let fields = [
                (TYPE_HOST, s.host.as_str()),
                (TYPE_PLUGIN, s.plugin),
                (TYPE_PLUGIN_INSTANCE, s.plugin_instance.as_str()),
                (TYPE_TYPE, s.type_name),
                (TYPE_TYPE_INSTANCE, s.type_instance.as_str()),
            ];
            let first = cur.bytes.is_empty();
            for (i, (part, value)) in fields.iter().enumerate() {
                if first || last[i] != *value {
                    cur = cur.string(*part, value);
                    last[i] = value.to_string();
                }
                if i == 0 && (first || last_time != time) {
                    cur = cur
                        .number(TYPE_TIME_HR, time)
                        .number(TYPE_INTERVAL_HR, 10 << 30);
                    last_time = time;
                }
            }
            cur = cur.values(&vals);
            cur_values += vals.len() as u64;
        }
    }
    let payload = cur.build();
    seal(payload, cur_values, &mut out);
    out
}

/// Send at `rate` values/s for `seconds`; returns (values sent, achieved values/s).
fn blast(port: u16, pkts: &[(Vec<u8>, u64)], rate: u64, seconds: u64) -> (u64, f64) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("sender socket");
    sock.connect(("127.0.0.1", port)).expect("connect");
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut sent: u64 = 0;
    let mut i = 0usize;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let due = (now.duration_since(start).as_secs_f64() * rate as f64) as u64;
        if sent >= due {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        let mut burst = 0;
        while sent < due && burst < 256 {
            let (p, n) = &pkts[i % pkts.len()];
            if sock.send(p).is_ok() {
                sent += n;
            }
            i += 1;
            burst += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    (sent, sent as f64 / elapsed)
}

struct Step {
    target: u64,
    achieved: f64,
    sent: u64,
    taken: u64,
    dropped: u64,
    cpu_ms_per_million: f64,
}

fn run_step(agent: &Child, stats: &Path, port: u16, level: &str, rate: u64, secs: u64) -> Step {
    // About one round per 1,000 values: build enough distinct packets for a few seconds.
    let pkts = packets(level, (rate / 1000).clamp(5, 500));
    let before = settled(stats, 0);
    let cpu0 = proc_cpu_ns(agent.id()).unwrap_or(0);
    let (sent, achieved) = blast(port, &pkts, rate, secs);
    let after = settled(stats, before.values + sent);
    let cpu1 = proc_cpu_ns(agent.id()).unwrap_or(0);
    let taken = after.values - before.values;
    let dropped = (after.queue_full - before.queue_full)
        + (after.kernel - before.kernel)
        + (after.rejected - before.rejected)
        + sent.saturating_sub(taken);
    Step {
        target: rate,
        achieved,
        sent,
        taken,
        dropped,
        cpu_ms_per_million: (cpu1.saturating_sub(cpu0)) as f64 / 1e6 / (taken.max(1) as f64 / 1e6),
    }
}

fn start_agent(
    endpoint: &str,
    creds: &Path,
    dir: &Path,
    port: u16,
    level: &str,
) -> (Child, PathBuf) {
    let base = dir.join(format!("agent-{level}"));
    std::fs::create_dir_all(&base).expect("agent dir");
    let auth = base.join("auth_file");
    std::fs::write(&auth, format!("{USER}: {PASSWORD}\n")).expect("auth file");
    let config = serde_json::json!({
        "agent": {"region": "us-east-1"},
        "metrics": {"endpoint_override": endpoint, "force_flush_interval": 10, "metrics_collected": {
            "collectd": {"service_address": format!("udp://127.0.0.1:{port}"),
                         "collectd_security_level": level,
                         "collectd_auth_file": auth,
                         "metrics_aggregation_interval": 60}}}
    });
    let agent = agent_command(&base, &config, creds)
        .and_then(|mut c| c.spawn())
        .expect("start agent");
    (agent, base.join("state/collectd-stats.json"))
}

fn main() {
    let seconds = seconds_arg(5);
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut collector, endpoint) = start_collector(&dir.path().join("collector"));
    let mut rows = Vec::new();
    let mut best = Vec::new();
    for level in ["none", "sign", "encrypt"] {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let (mut agent, stats) = start_agent(
            &endpoint,
            &dir.path().join("collector/credentials"),
            dir.path(),
            port,
            level,
        );
        // Wait for the listener and its first stats file.
        let t = Instant::now();
        while read_counters(&stats).is_none() && t.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut best_rate = 0u64;
        let mut best_cpu = 0.0;
        for rate in RATES {
            let s = run_step(&agent, &stats, port, level, rate, seconds);
            rows.push(vec![
                level.to_string(),
                s.target.to_string(),
                format!("{:.0}", s.achieved),
                s.sent.to_string(),
                s.taken.to_string(),
                s.dropped.to_string(),
                format!("{:.0}", s.cpu_ms_per_million),
            ]);
            let reached = s.achieved >= 0.95 * s.target as f64;
            if s.dropped == 0 && reached {
                best_rate = s.target;
                best_cpu = s.cpu_ms_per_million;
            }
            if s.dropped > 0 || !reached {
                break;
            }
        }
        best.push((level, best_rate, best_cpu));
        stop(&mut agent, Duration::from_secs(10));
    }
    println!();
    print_table(
        &[
            "security level",
            "target values/s",
            "sent/s",
            "sent",
            "taken",
            "dropped",
            "agent CPU ms per 1M",
        ],
        &rows,
    );
    println!();
    for (level, rate, cpu) in best {
        println!(
            "security level {level}: highest zero-drop rate {rate} values/s, \
             agent CPU {cpu:.0} ms per million values"
        );
    }
    stop(&mut collector, Duration::from_secs(10));
}
