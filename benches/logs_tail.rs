//! Log tailing benchmark: one large file of 200-byte lines, read by the agent and by rsyslog.
//!
//! Run: `cargo bench --bench logs_tail` (options: `-- --mb N`, default 1024; `--no-rsyslog`).
//!
//! 1. **Agent alone, in process** (one core): the agent's own read → frame → decode → assemble
//!    → stamp → batch → encode path (`LineReader`, `Processor`, `BatchBuilder::seal`) over the
//!    warm file, records discarded. This is the CPU the agent spends per byte before the
//!    network.
//! 2. **End to end**: the release agent tails the file into the release collector on loopback
//!    (spool, gzip, SigV4, PutLogEvents, collector storage). Done when the agent's checkpoint
//!    for the file reaches the start of its last line, i.e. every line before it was
//!    acknowledged by the collector (the last line waits 5 s under the default multi-line
//!    rule, since a continuation could still follow).
//!    Reported: wall time, MB/s, lines/s, the agent's CPU seconds (all threads) and peak RSS.
//! 3. **rsyslog `imfile`** (Debian's rsyslogd, `apt-get install rsyslog`; inotify mode) reading
//!    the same file into an `omfile` in rsyslog's default file format on the same machine. Done
//!    when the output holds every line. Reported the same way.
//!
//! The file is written once and read once before timing, so both tailers read from the page
//! cache.

// A benchmark harness: a failed setup step aborts the run.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{agent_command, print_table, proc_cpu_ns, start_collector, stop, vm_hwm_kb};
use hostwatch_agent::config::FileLogConfig;
use hostwatch_agent::logs::batch::{BatchBuilder, Event};
use hostwatch_agent::logs::process::{EntrySettings, Outcome, Processor};
use hostwatch_tailer::{LineReader, ReadEvent, ReaderOptions};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LINE: usize = 200;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn write_file(path: &Path, mb: u64) -> u64 {
    let lines = mb * 1024 * 1024 / LINE as u64;
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let pad = "x".repeat(LINE);
    for i in 0..lines {
        let head =
            format!("2026-11-22T12:00:00.000Z web-01 app[4242]: request {i:010} status=200 ");
        w.write_all(head.as_bytes()).unwrap();
        w.write_all(&pad.as_bytes()[..LINE - 1 - head.len()])
            .unwrap();
        w.write_all(b"\n").unwrap();
    }
    w.flush().unwrap();
    // Warm the page cache.
    let _ = std::fs::read(path).map(|b| b.len());
    lines
}

fn entry(path: &Path) -> FileLogConfig {
    FileLogConfig {
        file_path: path.display().to_string(),
        log_group_name: Some("bench".into()),
        log_stream_name: Some("s".into()),
        log_group_class: None,
        retention_in_days: None,
        timestamp_format: None,
        timezone: None,
        trim_timestamp: false,
        multi_line_start_pattern: None,
        encoding: None,
        filters: Vec::new(),
        blacklist: None,
        publish_multi_logs: false,
        auto_removal: false,
        backpressure_mode: None,
    }
}

/// (seconds, lines, bytes encoded) for the in-process path.
fn in_process(path: &Path) -> (f64, u64, u64) {
    let settings = EntrySettings::new(&entry(path)).unwrap();
    let mut processor = Processor::new(settings);
    let mut reader = LineReader::open(path, 0, ReaderOptions::default()).unwrap();
    let mut builder = BatchBuilder::new("bench".into(), "s".into(), None, None);
    let fp = hostwatch_tailer::Fingerprinter::default()
        .fingerprint_path(path)
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    let (mut lines, mut encoded) = (0u64, 0u64);
    let start = Instant::now();
    let now_ms = chrono::Utc::now().timestamp_millis();
    loop {
        match reader.next_event().unwrap() {
            Some(ReadEvent::Line(line)) => {
                processor.push_line(&line.bytes, line.end_offset, start, now_ms, &mut out);
                for (end, o) in out.drain(..) {
                    if let Outcome::Keep {
                        timestamp_ms,
                        message,
                    } = o
                    {
                        let ev = Event {
                            timestamp_ms,
                            message,
                        };
                        if !builder.fits(&ev) {
                            encoded += builder.seal().len() as u64;
                        }
                        builder.push(ev, now_ms);
                        lines += 1;
                    }
                    builder.extend_to(&fp, "bench", end, now_ms);
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    processor.flush(now_ms, &mut out);
    lines += out.len() as u64;
    encoded += builder.seal().len() as u64;
    (start.elapsed().as_secs_f64(), lines, encoded)
}

struct Run {
    secs: f64,
    lines: u64,
    cpu_s: f64,
    hwm_mb: f64,
}

fn checkpoint_offset(state: &Path) -> u64 {
    let p = state.join("logs/checkpoints/checkpoints.json");
    let Ok(bytes) = std::fs::read(p) else {
        return 0;
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    v["checkpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["offset"].as_u64())
        .max()
        .unwrap_or(0)
}

fn agent_end_to_end(dir: &Path, file: &Path, size: u64, lines: u64) -> Run {
    let (mut collector, endpoint) = start_collector(&dir.join("collector"));
    let creds = dir.join("collector/credentials");
    let config = json!({
        "agent": {"region": "us-east-1", "logs_spool_max_mb": 256},
        "logs": {"endpoint_override": endpoint, "force_flush_interval": 1,
            "logs_collected": {"files": {"collect_list": [
                {"file_path": file, "log_group_name": "bench", "log_stream_name": "s"}]}}}
    });
    let agent_dir = dir.join("agent");
    let start = Instant::now();
    let mut agent = agent_command(&agent_dir, &config, &creds)
        .unwrap()
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = agent.id();
    let mut cpu = 0;
    let mut hwm = 0;
    // The last line is held for 5 s by the multi-line rule (no continuation can be ruled out
    // before that): the run is timed until every line before it is acknowledged.
    while checkpoint_offset(&agent_dir.join("state")) < size - LINE as u64 {
        cpu = proc_cpu_ns(pid).unwrap_or(cpu);
        hwm = vm_hwm_kb(pid).unwrap_or(hwm);
        if start.elapsed() > Duration::from_secs(1800) {
            panic!("agent did not finish in 30 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = start.elapsed().as_secs_f64();
    cpu = proc_cpu_ns(pid).unwrap_or(cpu);
    hwm = vm_hwm_kb(pid).unwrap_or(hwm);
    let collector_cpu = proc_cpu_ns(collector.id()).unwrap_or(0) as f64 / 1e9;
    eprintln!("collector CPU during the run: {collector_cpu:.1} s");
    stop(&mut agent, Duration::from_secs(10));
    stop(&mut collector, Duration::from_secs(10));
    Run {
        secs,
        lines,
        cpu_s: cpu as f64 / 1e9,
        hwm_mb: hwm as f64 / 1024.0,
    }
}

fn rsyslog(dir: &Path, file: &Path, lines: u64) -> Option<Run> {
    let rsyslogd = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())?;
    let work = dir.join("rsyslog");
    std::fs::create_dir_all(&work).unwrap();
    let out = work.join("out.log");
    let conf = work.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{w}\")\n\
             module(load=\"imfile\" mode=\"inotify\")\n\
             input(type=\"imfile\" File=\"{f}\" Tag=\"bench\" ruleset=\"out\")\n\
             ruleset(name=\"out\") {{ action(type=\"omfile\" file=\"{o}\") }}\n",
            w = work.display(),
            f = file.display(),
            o = out.display()
        ),
    )
    .unwrap();
    let start = Instant::now();
    let mut child = Command::new(rsyslogd)
        .args(["-n", "-f"])
        .arg(&conf)
        .arg("-i")
        .arg(work.join("pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let pid = child.id();
    let (mut cpu, mut hwm) = (0, 0);
    let (mut seen, mut offset) = (0u64, 0u64);
    let mut still_since = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        cpu = proc_cpu_ns(pid).unwrap_or(cpu);
        hwm = vm_hwm_kb(pid).unwrap_or(hwm);
        // Count the output's lines incrementally (rsyslog adds its own prefix to each).
        if let Ok(mut f) = std::fs::File::open(&out) {
            use std::io::{Read, Seek, SeekFrom};
            let _ = f.seek(SeekFrom::Start(offset));
            loop {
                let n = f.read(&mut buf).unwrap_or(0);
                if n == 0 {
                    break;
                }
                offset += n as u64;
                seen += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                still_since = Instant::now();
            }
        }
        if seen >= lines {
            break;
        }
        if still_since.elapsed() > Duration::from_secs(20) {
            eprintln!("rsyslog stopped at {seen} of {lines} lines");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = start.elapsed().as_secs_f64();
    stop(&mut child, Duration::from_secs(10));
    Some(Run {
        secs,
        lines,
        cpu_s: cpu as f64 / 1e9,
        hwm_mb: hwm as f64 / 1024.0,
    })
}

fn row(name: &str, r: &Run, bytes: u64) -> Vec<String> {
    vec![
        name.to_string(),
        format!("{:.1}", r.secs),
        format!("{:.1}", bytes as f64 / 1e6 / r.secs),
        format!("{:.0}", r.lines as f64 / r.secs),
        format!("{:.1}", r.cpu_s),
        format!("{:.1}", r.hwm_mb),
    ]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb: u64 = arg("--mb").and_then(|s| s.parse().ok()).unwrap_or(1024);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.log");
    eprintln!("writing {mb} MiB of {LINE}-byte lines ...");
    let lines = write_file(&file, mb);
    let bytes = std::fs::metadata(&file).unwrap().len();

    let (secs, got, encoded) = in_process(&file);
    assert_eq!(got, lines, "in-process path saw every line");
    println!(
        "agent alone (read, frame, decode, assemble, batch, encode; one core): {:.0} MB/s, {:.0} lines/s ({} MB of request bodies)",
        bytes as f64 / 1e6 / secs,
        lines as f64 / secs,
        encoded / 1_000_000
    );

    let mut rows = Vec::new();
    let agent = agent_end_to_end(dir.path(), &file, bytes, lines);
    rows.push(row("hostwatch-agent → hostwatch-collector", &agent, bytes));
    if !std::env::args().any(|a| a == "--no-rsyslog") {
        match rsyslog(dir.path(), &file, lines) {
            Some(r) => rows.push(row("rsyslog imfile → omfile", &r, bytes)),
            None => eprintln!("rsyslogd not found: skipped"),
        }
    }
    print_table(
        &[
            "tailer",
            "wall s",
            "MB/s",
            "lines/s",
            "CPU s",
            "peak RSS MB",
        ],
        &rows,
    );
}
