//! The agent against an independent implementation on the same host, in the same test: the
//! Prometheus node exporter (Debian's `prometheus-node-exporter`, installed by
//! `scripts/test.sh`) on 127.0.0.1 is scraped before and after one `hostwatch-agent --once` run,
//! and the values must agree:
//!
//! | ours | node exporter | tolerance | why |
//! |---|---|---|---|
//! | `mem_total` | `node_memory_MemTotal_bytes` | **exact** | both are MemTotal of `/proc/meminfo` × 1024, a constant |
//! | `mem_available` | `node_memory_MemAvailable_bytes` | **5 %** of either scrape | MemAvailable moves with the page cache and the parallel tests between reads a second apart |
//! | `disk_total` (`/`) | `node_filesystem_size_bytes{mountpoint="/"}` | **0.1 %** | both are `statvfs` blocks × block size; a constant unless the file system is resized |
//! | `disk_free` (`/`) | `node_filesystem_avail_bytes{mountpoint="/"}` | **2 %** | both are f_bavail × block size (the space unprivileged users may use); other tests write files meanwhile. When f_bfree (`node_filesystem_free_bytes`) differs from f_bavail by more than twice that, ours must also be nearer f_bavail, so using f_bfree fails the test |
//! | `cpu_time_<mode>` (`cpu-total`) | `node_cpu_seconds_total{mode}` summed over cpus | between the scrape before and the scrape after, widened by **2 %** + 0.05 s per cpu | our sample is taken between the two scrapes and cumulative seconds only grow; the kernel's total line is the sum of the per-cpu lines; the slack covers tick rounding (0.01 s per cpu and mode) and an idle/iowait counter stepping back on tickless kernels |
//! | `cpu_time_active` | the sum of every mode but idle | same | `active` = total − idle, iowait included |
//! | `cpu_time_guest`, `cpu_time_guest_nice` | `node_cpu_guest_seconds_total{mode="user"/"nice"}` | same | |
//! | `net_bytes_recv` / `net_bytes_sent` (`lo`) | rate of `node_network_{receive,transmit}_bytes_total{device="lo"}` | **30 %** | see below |
//!
//! Loopback bytes: our net values are **increments over the one-second gap** of `--once` (the
//! first sample only sets the baseline), node exporter's are cumulative counters. A thread
//! therefore sends a steady 1 MiB over a 127.0.0.1 TCP connection every 10 ms (≈105 MB/s,
//! paced against the clock) for the whole measurement, and our 1-second increment is compared
//! with node exporter's bytes per second over the window that contains the agent's run. 30 %
//! because the windows differ (ours ≈1 s inside node exporter's ≈2 s), the sender's pacing
//! jitters on a loaded machine, and tests running in parallel add their own loopback traffic
//! to one window and not the other. A cumulative value (×10 or more), a rate in KiB (÷1024)
//! or the wrong direction/interface all fail it.
//!
//! Every spawned process is killed when the test ends (pass or fail); every wait is bounded.

use crate::util::bin;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The node exporter's program name as Debian installs it.
const NODE_EXPORTER: &str = "prometheus-node-exporter";

/// Run `cmd` to completion, killing it after `timeout`; stdout and stderr are captured.
pub fn output_within(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// `hostwatch-agent --once` with `config`; the JSON lines it printed.
pub fn agent_once(dir: &Path, config: &Value) -> Vec<Value> {
    let cfg = dir.join("agent-once.json");
    std::fs::write(&cfg, config.to_string()).expect("write agent config");
    let out = output_within(
        Command::new(bin("hostwatch-agent"))
            .arg("--config")
            .arg(&cfg)
            .arg("--state-dir")
            .arg(dir.join("agent-state"))
            .arg("--once")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "warn"),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "agent --once failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The value of the datum named `name` whose dimensions include all of `dims`.
pub fn datum<'a>(lines: &'a [Value], name: &str, dims: &[(&str, &str)]) -> Option<&'a Value> {
    lines
        .iter()
        .find(|l| l["metric_name"] == name && dims.iter().all(|(k, v)| l["dimensions"][*k] == *v))
}

fn value(lines: &[Value], name: &str, dims: &[(&str, &str)]) -> f64 {
    let d = datum(lines, name, dims).unwrap_or_else(|| panic!("{name} {dims:?} not printed"));
    d["value"].as_f64().expect("a number")
}

/// A free port on 127.0.0.1 (closed again at once; the caller retries if it is taken).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A running node exporter; killed on drop.
struct NodeExporter {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
}

impl NodeExporter {
    /// Start with only the collectors the comparison needs; loopback included in netdev (the
    /// Debian build excludes `lo` by default), and the file system collector limited to `/`.
    fn start() -> NodeExporter {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http client");
        for _ in 0..3 {
            let addr = format!("127.0.0.1:{}", free_port());
            let child = Command::new(NODE_EXPORTER)
                .arg(format!("--web.listen-address={addr}"))
                .args([
                    "--collector.disable-defaults",
                    "--collector.cpu",
                    "--collector.meminfo",
                    "--collector.filesystem",
                    // Only `/`, whatever its type (the default excludes overlay, the root
                    // file system of a container).
                    "--collector.filesystem.mount-points-exclude=^/.+",
                    "--collector.filesystem.fs-types-exclude=^$",
                    "--collector.netdev",
                    "--collector.netdev.device-exclude=^$",
                    "--log.level=warn",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot run {NODE_EXPORTER} ({e}); scripts/test.sh installs it")
                });
            let mut ne = NodeExporter {
                child,
                url: format!("http://{addr}/metrics"),
                http: http.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if ne.child.try_wait().ok().flatten().is_some() {
                    break; // exited: most likely the port was taken meanwhile; try another
                }
                if ne.http.get(&ne.url).send().is_ok_and(|r| r.status() == 200) {
                    return ne;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("{NODE_EXPORTER} did not start serving on 127.0.0.1");
    }

    /// One scrape: (`name`, labels, value) for every sample.
    fn scrape(&self) -> Vec<Sample> {
        let r = self.http.get(&self.url).send().expect("scrape");
        assert_eq!(r.status(), 200);
        parse_exposition(&r.text().expect("scrape body"))
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sample of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text exposition format (comments skipped, label values unescaped).
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, rest) = match line.find(['{', ' ']) {
            Some(i) => line.split_at(i),
            None => continue,
        };
        let mut labels = BTreeMap::new();
        let rest = if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices();
            let mut end = body.len();
            loop {
                // key
                let mut key = String::new();
                let mut has_value = false;
                for (i, c) in chars.by_ref() {
                    match c {
                        '=' => {
                            has_value = true;
                            break;
                        }
                        '}' => {
                            end = i + 1;
                            break;
                        }
                        ',' | ' ' => {}
                        c => key.push(c),
                    }
                }
                if !has_value {
                    break; // `}` or a truncated line
                }
                // value: "..." with \\, \" and \n escapes
                let mut val = String::new();
                let mut escaped = false;
                let _ = chars.next(); // opening quote
                for (_, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, 'n') => {
                            val.push('\n');
                            escaped = false
                        }
                        (true, c) => {
                            val.push(c);
                            escaped = false
                        }
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        (false, c) => val.push(c),
                    }
                }
                labels.insert(key, val);
            }
            &body[end..]
        } else {
            rest
        };
        let Some(v) = rest.split_whitespace().next() else {
            continue;
        };
        let value = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => match v.parse() {
                Ok(x) => x,
                Err(_) => continue,
            },
        };
        out.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    out
}

/// Sum of the samples named `name` whose labels include all of `want`; panics if none.
fn sum(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    let hits: Vec<f64> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && want
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
        })
        .map(|s| s.value)
        .collect();
    assert!(!hits.is_empty(), "node exporter has no {name} {want:?}");
    hits.iter().sum()
}

/// Steady loopback traffic: one TCP connection on 127.0.0.1, `block` bytes every `every`.
struct Traffic {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Traffic {
    fn start(block: usize, every: Duration) -> Traffic {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let reader = std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = vec![0u8; 1 << 20];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            }
        });
        let mut conn = TcpStream::connect(addr).expect("connect");
        conn.set_write_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let s = stop.clone();
        let writer = std::thread::spawn(move || {
            let data = vec![0x5a_u8; block];
            let start = Instant::now();
            let mut k = 0u32;
            while !s.load(Ordering::Relaxed) {
                if conn.write_all(&data).is_err() {
                    break;
                }
                k += 1;
                // Paced against the clock: a late block is followed at once by the next one.
                if let Some(wait) = (start + every * k).checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        });
        Traffic {
            stop,
            threads: vec![writer, reader],
        }
    }
}

impl Drop for Traffic {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn within(ours: f64, theirs: f64, rel: f64) -> bool {
    (ours - theirs).abs() <= rel * theirs.abs()
}

#[test]
fn node_exporter_agrees_on_memory_disk_loopback_and_cpu() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ne = NodeExporter::start();
    let traffic = Traffic::start(1 << 20, Duration::from_millis(10));
    std::thread::sleep(Duration::from_millis(800)); // let the traffic settle

    let cpu_fields = [
        "time_active",
        "time_guest",
        "time_guest_nice",
        "time_idle",
        "time_iowait",
        "time_irq",
        "time_nice",
        "time_softirq",
        "time_steal",
        "time_system",
        "time_user",
    ];
    let config = json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {"metrics_collected": {
            "mem": {"measurement": ["total", "available"]},
            "disk": {"resources": ["/"], "measurement": ["total", "free"]},
            "net": {"resources": ["lo"], "measurement": ["bytes_recv", "bytes_sent"]},
            "cpu": {"totalcpu": true, "measurement": cpu_fields}
        }}
    });

    let t0 = Instant::now();
    let before = ne.scrape();
    let t0 = t0 + (Instant::now() - t0) / 2;
    let lines = agent_once(dir.path(), &config);
    let t1 = Instant::now();
    let after = ne.scrape();
    let t1 = t1 + (Instant::now() - t1) / 2;
    drop(traffic);
    let window = (t1 - t0).as_secs_f64();

    // Memory.
    let ours = value(&lines, "mem_total", &[]);
    let theirs = sum(&after, "node_memory_MemTotal_bytes", &[]);
    eprintln!("mem_total: ours {ours}, node exporter {theirs}");
    assert_eq!(ours, theirs, "mem_total");
    let ours = value(&lines, "mem_available", &[]);
    let a = sum(&before, "node_memory_MemAvailable_bytes", &[]);
    let b = sum(&after, "node_memory_MemAvailable_bytes", &[]);
    eprintln!("mem_available: ours {ours}, node exporter {a} .. {b}");
    assert!(
        within(ours, a, 0.05) || within(ours, b, 0.05),
        "mem_available {ours} vs node exporter {a} .. {b}"
    );

    // The root file system.
    let root = [("mountpoint", "/")];
    let ours = value(&lines, "disk_total", &[("path", "/")]);
    let theirs = sum(&after, "node_filesystem_size_bytes", &root);
    eprintln!("disk_total /: ours {ours}, node exporter {theirs}");
    assert!(within(ours, theirs, 0.001), "disk_total {ours} vs {theirs}");
    let ours = value(&lines, "disk_free", &[("path", "/")]);
    let avail = sum(&after, "node_filesystem_avail_bytes", &root);
    let bfree = sum(&after, "node_filesystem_free_bytes", &root);
    eprintln!("disk_free /: ours {ours}, node exporter avail {avail} (free {bfree})");
    assert!(
        within(ours, avail, 0.02),
        "disk_free {ours} vs node_filesystem_avail_bytes {avail} (free incl. reserved: {bfree})"
    );
    if (bfree - avail).abs() > 0.04 * avail {
        assert!(
            (ours - avail).abs() < (ours - bfree).abs(),
            "disk_free {ours} is nearer f_bfree {bfree} than f_bavail {avail}"
        );
    }

    // Cumulative cpu seconds: our second sample lies between the two scrapes.
    let ncpu = after
        .iter()
        .filter(|s| {
            s.name == "node_cpu_seconds_total" && s.labels.get("mode").is_some_and(|m| m == "idle")
        })
        .count()
        .max(1) as f64;
    let node_cpu = |samples: &[Sample], field: &str| -> f64 {
        match field {
            "time_active" => [
                "user", "nice", "system", "iowait", "irq", "softirq", "steal",
            ]
            .iter()
            .map(|m| sum(samples, "node_cpu_seconds_total", &[("mode", m)]))
            .sum(),
            "time_guest" => sum(samples, "node_cpu_guest_seconds_total", &[("mode", "user")]),
            "time_guest_nice" => sum(samples, "node_cpu_guest_seconds_total", &[("mode", "nice")]),
            f => {
                let mode = f.trim_start_matches("time_");
                sum(samples, "node_cpu_seconds_total", &[("mode", mode)])
            }
        }
    };
    for field in cpu_fields {
        let name = format!("cpu_{field}");
        let d = datum(&lines, &name, &[("cpu", "cpu-total")])
            .unwrap_or_else(|| panic!("{name} not printed"));
        assert_eq!(d["unit"], "None", "{d}");
        let ours = d["value"].as_f64().expect("number");
        let lo = node_cpu(&before, field);
        let hi = node_cpu(&after, field);
        let slack = 0.02 * hi + 0.05 * ncpu;
        eprintln!("{name}: ours {ours} s, node exporter {lo} .. {hi} s (slack {slack:.2})");
        assert!(
            ours >= lo - slack && ours <= hi + slack,
            "{name} = {ours} s, node exporter {lo} s before and {hi} s after (± {slack})"
        );
    }

    // Loopback: our one-second increments against node exporter's rate over the window.
    for (ours_name, theirs_name) in [
        ("net_bytes_recv", "node_network_receive_bytes_total"),
        ("net_bytes_sent", "node_network_transmit_bytes_total"),
    ] {
        let d = datum(&lines, ours_name, &[("interface", "lo")])
            .unwrap_or_else(|| panic!("{ours_name} for lo not printed"));
        assert_eq!(d["unit"], "Bytes", "{d}");
        let ours = d["value"].as_f64().expect("number");
        let lo = [("device", "lo")];
        let rate = (sum(&after, theirs_name, &lo) - sum(&before, theirs_name, &lo)) / window;
        eprintln!(
            "{ours_name} lo: ours {ours} B/1 s, node exporter {rate:.0} B/s over {window:.2} s"
        );
        assert!(
            rate > 50e6,
            "the loopback traffic did not flow: {rate} B/s over {window} s"
        );
        assert!(
            within(ours, rate, 0.30),
            "{ours_name} {ours} B in 1 s vs node exporter {rate:.0} B/s over {window:.2} s"
        );
    }
}

#[test]
fn exposition_parser_reads_labels_and_values() {
    let s = parse_exposition(
        "# HELP x y\nnode_a 1.5e+10\nnode_b{device=\"lo\",mode=\"a\\\"b\"} 7\nnode_c{} +Inf\n",
    );
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].name, "node_a");
    assert_eq!(s[0].value, 1.5e10);
    assert_eq!(s[1].labels["device"], "lo");
    assert_eq!(s[1].labels["mode"], "a\"b");
    assert_eq!(s[1].value, 7.0);
    assert!(s[2].value.is_infinite());
}
