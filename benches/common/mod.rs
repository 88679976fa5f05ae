//! Helpers shared by the benchmarks (included with `#[path]`; each bench uses a subset).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The value of `--seconds N` on the command line, else `default`.
pub fn seconds_arg(default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Start the release collector on 127.0.0.1 (a free port) with `data_dir`; returns the child
/// and its endpoint URL.
pub fn start_collector(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hostwatch-collector"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start collector");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        let line = lines.next().expect("collector output").expect("line");
        if let Some(url) = line.strip_prefix("hostwatch-collector listening on ") {
            break url.to_string();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    (child, endpoint)
}

/// SIGTERM `child`, wait up to `grace` for it to exit, then SIGKILL it.
pub fn stop(child: &mut Child, grace: Duration) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let start = Instant::now();
    while start.elapsed() < grace {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Nanoseconds on CPU, summed over every thread of `pid` (schedstat, finer than stat's ticks).
pub fn proc_cpu_ns(pid: u32) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let s = std::fs::read_to_string(path).ok()?;
        total += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, ...).
pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Peak resident memory of `pid` in kB.
pub fn vm_hwm_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmHWM")
}

/// Current resident memory of `pid` in kB.
pub fn vm_rss_kb(pid: u32) -> Option<u64> {
    status_kb(pid, "VmRSS")
}

/// Print a Markdown table: `header` then `rows`, columns padded; the first column left-aligned,
/// the others right-aligned.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::from("|");
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(c.chars().count());
            if i == 0 {
                s.push_str(&format!(" {c}{} |", " ".repeat(pad)));
            } else {
                s.push_str(&format!(" {}{c} |", " ".repeat(pad)));
            }
        }
        println!("{s}");
    };
    line(header.iter().map(|h| h.to_string()).collect());
    println!(
        "|{}",
        width
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 {
                format!("{}|", "-".repeat(w + 2))
            } else {
                format!("{}:|", "-".repeat(w + 1))
            })
            .collect::<String>()
    );
    for r in rows {
        let mut cells = r.clone();
        cells.resize(cols, String::new());
        line(cells);
    }
}

/// Every measurement the agent collects for `plugin` (its config allow-list, less the NVMe
/// diskio fields, which come from another source not built yet).
pub fn every_measurement(plugin: &str) -> Vec<&'static str> {
    use hostwatch_agent::config::measurements::{allowed_fields, is_nvme_field};
    allowed_fields(plugin)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|f| !is_nvme_field(f))
        .collect()
}

/// The release agent, ready to spawn: `config` is written to `dir/agent.json`, its state
/// directory is `dir/state`, and it ships with the collector's generated credentials (`creds`).
/// Callers add stdio settings or `--once` before spawning.
pub fn agent_command(
    dir: &Path,
    config: &serde_json::Value,
    creds: &Path,
) -> std::io::Result<Command> {
    std::fs::create_dir_all(dir)?;
    let cfg = dir.join("agent.json");
    std::fs::write(&cfg, config.to_string())?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hostwatch-agent"));
    cmd.arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .env("AWS_SHARED_CREDENTIALS_FILE", creds)
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn");
    Ok(cmd)
}
