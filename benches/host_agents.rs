//! Host-agent footprint benchmark: the release agent beside two independent host agents, side by
//! side in the same run on the same machine, each collecting once a second.
//!
//! Run: `cargo bench --bench host_agents` (optionally `-- --seconds N`, default 60).
//!
//! - **hostwatch-agent**: the release binary at a 1 s interval with every host plugin enabled
//!   (`resources: ["*"]` where a plugin takes resources, every measurement, procstat watching
//!   the agent itself through a `pattern` on its command line), shipping every 10 s to the release collector on 127.0.0.1.
//!   Beside it run the same agent with every plugin but `netstat` (whose cost is mostly the
//!   kernel's walk of its TCP hash table, the same for any agent), and the same agent limited
//!   to collectd's plugin set (cpu, mem, disk, diskio, net, swap, processes) for a
//!   like-for-like row.
//! - **collectd** (if installed): `collectd -f -C <generated conf>` with the cpu, memory, df,
//!   disk, interface, swap and processes plugins at `Interval 1`, writing CSV files to a temp
//!   directory.
//! - **node exporter** (if installed), scraped once a second over one keep-alive connection,
//!   twice: with its default collectors (the systemd collector off: it needs a system bus), and
//!   with only the collectors that match the agent's plugins (cpu, meminfo, filesystem,
//!   diskstats, netdev, tcpstat, processes).
//!
//! After a 10 s warm-up, each daemon's CPU time over the window is the sum of
//! `/proc/PID/task/*/schedstat` (ns) at the end minus at the start, divided by its cycles (the
//! window's seconds for the interval-driven daemons, the scrapes answered for node exporter).
//! `/proc/PID/stat` utime+stime (10 ms ticks, but it also keeps the time of threads that exited
//! during the window) is shown as a cross-check. RSS is VmRSS at the end of the window and
//! VmHWM (the peak). "series/cycle" is the work done per cycle: datums per agent tick (from a
//! `--once` run with the same config), value lists per collectd interval (its CSV files),
//! samples per node exporter scrape.
//!
//! `-- --per-plugin` adds a second window with one agent per plugin (all at once), to show
//! where the agent's time goes. A peer that is not installed gets a row saying so instead of
//! failing the run. The load average and the number of processes before and after the run
//! are printed with the table (the `processes`/`procstat` scan grows with the latter).

// A benchmark is a test program: a setup step that fails should stop it loudly.
#![allow(clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use common::{
    agent_command, every_measurement, print_table, proc_cpu_ns, seconds_arg, start_collector, stop,
    vm_hwm_kb, vm_rss_kb,
};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WARM_UP: Duration = Duration::from_secs(10);
/// Targets for the agent.
const TARGET_CPU_MS: f64 = 1.0;
const TARGET_RSS_MB: f64 = 12.0;

/// The node exporter's program name as Debian installs it.
const NODE_EXPORTER: &str = "prometheus-node-exporter";

/// One daemon under measurement.
struct Daemon {
    label: String,
    child: Child,
    /// Cycles so far: `None` = one per second of wall time.
    cycles: Option<Arc<AtomicU64>>,
    /// Work per cycle, filled in once known.
    series: Arc<AtomicU64>,
    /// collectd's CSV directory, counted for `series` at the end.
    csv_dir: Option<PathBuf>,
    /// Background scraper (node exporter), stopped before the daemon.
    scraper: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Daemon {
    fn new(label: String, child: Child) -> Self {
        Daemon {
            label,
            child,
            cycles: None,
            series: Arc::new(AtomicU64::new(0)),
            csv_dir: None,
            scraper: None,
        }
    }

    /// Stop the scraper, then the daemon (SIGTERM, SIGKILL after a grace period).
    fn stop(mut self) {
        if let Some((halt, t)) = self.scraper.take() {
            halt.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
        stop(&mut self.child, Duration::from_secs(15));
    }
}

/// A snapshot of one daemon's counters.
struct Snap {
    cpu_ns: Option<u64>,
    stat_ticks: Option<u64>,
    cycles: u64,
}

fn snap(d: &Daemon, started: Instant) -> Snap {
    let pid = d.child.id();
    Snap {
        cpu_ns: proc_cpu_ns(pid),
        stat_ticks: stat_ticks(pid),
        cycles: match &d.cycles {
            Some(c) => c.load(Ordering::Relaxed),
            None => started.elapsed().as_secs_f64().round() as u64,
        },
    }
}

/// utime + stime of the whole process (exited threads included), in clock ticks.
fn stat_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.get(s.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3; utime and stime are fields 14 and 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Every host plugin with every measurement; procstat selects with `procstat_selector`.
fn plugin_configs(procstat_selector: (&str, &str)) -> Vec<(&'static str, serde_json::Value)> {
    let mut procstat = serde_json::json!({
        "metrics_collection_interval": 1,
        "measurement": every_measurement("procstat")
    });
    procstat[procstat_selector.0] = serde_json::json!(procstat_selector.1);
    vec![
        (
            "cpu",
            serde_json::json!({"resources": ["*"], "totalcpu": true, "measurement": every_measurement("cpu")}),
        ),
        (
            "mem",
            serde_json::json!({"measurement": every_measurement("mem")}),
        ),
        (
            "swap",
            serde_json::json!({"measurement": every_measurement("swap")}),
        ),
        (
            "disk",
            serde_json::json!({"resources": ["*"], "measurement": every_measurement("disk")}),
        ),
        (
            "diskio",
            serde_json::json!({"resources": ["*"], "measurement": every_measurement("diskio")}),
        ),
        (
            "net",
            serde_json::json!({"resources": ["*"], "measurement": every_measurement("net")}),
        ),
        (
            "netstat",
            serde_json::json!({"measurement": every_measurement("netstat")}),
        ),
        (
            "processes",
            serde_json::json!({"measurement": every_measurement("processes")}),
        ),
        ("procstat", serde_json::json!([procstat])),
    ]
}

fn agent_config(endpoint: &str, plugins: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let collected: serde_json::Map<String, serde_json::Value> = plugins
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    serde_json::json!({
        "agent": {"metrics_collection_interval": 1, "region": "us-east-1"},
        "metrics": {
            "endpoint_override": endpoint,
            "force_flush_interval": 10,
            "metrics_collected": collected
        }
    })
}

/// Start the agent with `config` in its own directory `dir` (after counting the datums of one
/// `--once` cycle with the same config).
fn start_agent(
    label: String,
    dir: &Path,
    config: &serde_json::Value,
    creds: &Path,
) -> Result<Daemon, String> {
    let once = agent_command(dir, config, creds)
        .and_then(|mut c| c.arg("--once").env("RUST_LOG", "error").output())
        .map_err(|e| e.to_string())?;
    let series = once.stdout.iter().filter(|b| **b == b'\n').count() as u64;
    let log = std::fs::File::create(dir.join("agent.log")).map_err(|e| e.to_string())?;
    let child = agent_command(dir, config, creds)
        .and_then(|mut c| c.stdout(Stdio::null()).stderr(log).spawn())
        .map_err(|e| e.to_string())?;
    let d = Daemon::new(label, child);
    d.series.store(series, Ordering::Relaxed);
    Ok(d)
}

fn collectd_conf(dir: &Path) -> String {
    let csv = dir.join("csv");
    format!(
        "Hostname \"bench\"\nFQDNLookup false\nInterval 1\nBaseDir \"{base}\"\n\
         PIDFile \"{base}/collectd.pid\"\nTypesDB \"/usr/share/collectd/types.db\"\n\
         LoadPlugin cpu\nLoadPlugin memory\nLoadPlugin df\nLoadPlugin disk\n\
         LoadPlugin interface\nLoadPlugin swap\nLoadPlugin processes\nLoadPlugin csv\n\
         <Plugin csv>\n  DataDir \"{csv}\"\n  StoreRates false\n</Plugin>\n",
        base = dir.display(),
        csv = csv.display()
    )
}

fn start_collectd(dir: &Path) -> Result<Daemon, String> {
    let dir = dir.join("collectd");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let conf = dir.join("collectd.conf");
    std::fs::write(&conf, collectd_conf(&dir)).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("collectd.log")).map_err(|e| e.to_string())?;
    let child = Command::new("collectd")
        .arg("-f")
        .arg("-C")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "not installed".to_string(),
            _ => e.to_string(),
        })?;
    let mut d = Daemon::new("collectd (7 plugins, CSV)".into(), child);
    d.csv_dir = Some(dir.join("csv"));
    Ok(d)
}

/// The collectd CSV files written (one per value list).
fn count_files(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                count_files(&p)
            } else {
                1
            }
        })
        .sum()
}

fn start_node_exporter(label: &str, args: &[&str]) -> Result<Daemon, String> {
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    for _ in 0..3 {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut child = Command::new(NODE_EXPORTER)
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=error")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "not installed".to_string(),
                _ => e.to_string(),
            })?;
        let url = format!("http://{addr}/metrics");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut up = false;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                break;
            }
            if http.get(&url).send().is_ok_and(|r| r.status() == 200) {
                up = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if !up {
            stop(&mut child, Duration::from_secs(2));
            continue;
        }
        let mut d = Daemon::new(label.into(), child);
        let cycles = Arc::new(AtomicU64::new(0));
        let halt = Arc::new(AtomicBool::new(false));
        let (c, s, h) = (cycles.clone(), d.series.clone(), halt.clone());
        let scraper = std::thread::spawn(move || {
            let start = Instant::now();
            let mut k = 0u32;
            while !h.load(Ordering::Relaxed) {
                if let Ok(r) = http.get(&url).send() {
                    if let Ok(body) = r.text() {
                        let n = body
                            .lines()
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .count();
                        s.store(n as u64, Ordering::Relaxed);
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                }
                k += 1;
                let next = start + Duration::from_secs(u64::from(k));
                while !h.load(Ordering::Relaxed) {
                    let Some(wait) = next.checked_duration_since(Instant::now()) else {
                        break;
                    };
                    std::thread::sleep(wait.min(Duration::from_millis(200)));
                }
            }
        });
        d.cycles = Some(cycles);
        d.scraper = Some((halt, scraper));
        return Ok(d);
    }
    Err("did not start serving on 127.0.0.1".into())
}

/// The measured figures of one daemon.
struct Figures {
    cpu_ms: f64,
    rss_mb: f64,
    hwm_mb: f64,
}

/// Warm up, measure every daemon over the same `seconds`, and return one table row each
/// (plus the figures of the daemons that stayed up, by index).
fn measure(daemons: &mut [Daemon], seconds: u64) -> (Vec<Vec<String>>, Vec<Option<Figures>>) {
    eprintln!(
        "warming up {} s, then measuring {seconds} s ...",
        WARM_UP.as_secs()
    );
    std::thread::sleep(WARM_UP);
    let started = Instant::now();
    let before: Vec<Snap> = daemons.iter().map(|d| snap(d, started)).collect();
    std::thread::sleep(Duration::from_secs(seconds));
    let after: Vec<Snap> = daemons.iter().map(|d| snap(d, started)).collect();
    let window = started.elapsed().as_secs_f64();
    let mut rows = Vec::new();
    let mut figures = Vec::new();
    for (i, d) in daemons.iter_mut().enumerate() {
        let pid = d.child.id();
        let alive = matches!(d.child.try_wait(), Ok(None));
        let rss = vm_rss_kb(pid).unwrap_or(0) as f64 / 1024.0;
        let hwm = vm_hwm_kb(pid).unwrap_or(0) as f64 / 1024.0;
        if let Some(csv) = &d.csv_dir {
            d.series.store(count_files(csv), Ordering::Relaxed);
        }
        let (b, a) = (&before[i], &after[i]);
        let cycles = a.cycles.saturating_sub(b.cycles).max(1);
        let (cpu, stat) = match (b.cpu_ns, a.cpu_ns, b.stat_ticks, a.stat_ticks) {
            (Some(b0), Some(a0), Some(b1), Some(a1)) if alive => (
                a0.saturating_sub(b0) as f64 / 1e6 / cycles as f64,
                a1.saturating_sub(b1) as f64 * 1000.0 / TICKS_PER_SEC / cycles as f64,
            ),
            _ => {
                rows.push(note_row(&d.label, "exited during the run"));
                figures.push(None);
                continue;
            }
        };
        figures.push(Some(Figures {
            cpu_ms: cpu,
            rss_mb: rss,
            hwm_mb: hwm,
        }));
        rows.push(vec![
            d.label.clone(),
            cycles.to_string(),
            format!("{cpu:.3}"),
            format!("{stat:.2}"),
            format!("{:.3}", cpu * cycles as f64 / window / 10.0),
            format!("{rss:.1}"),
            format!("{hwm:.1}"),
            threads(pid).to_string(),
            d.series.load(Ordering::Relaxed).to_string(),
        ]);
    }
    (rows, figures)
}

fn note_row(label: &str, note: &str) -> Vec<String> {
    let mut row = vec![label.to_string(), note.to_string()];
    row.resize(HEADER.len(), String::new());
    row
}

const HEADER: [&str; 9] = [
    "daemon",
    "cycles",
    "CPU ms/cycle (schedstat)",
    "CPU ms/cycle (stat ticks)",
    "% of one core",
    "VmRSS MB",
    "VmHWM MB",
    "threads",
    "series/cycle",
];

/// USER_HZ on every mainstream Linux architecture.
const TICKS_PER_SEC: f64 = 100.0;

/// The machine's conditions worth noting beside the figures: the load average and the number
/// of processes (the `processes` and `procstat` scan grows with it).
fn conditions() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let processes = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .bytes()
                        .all(|b| b.is_ascii_digit())
                })
                .count()
        })
        .unwrap_or(0);
    format!("load average {}, {processes} processes", load.join(" "))
}

fn main() {
    let seconds = seconds_arg(60).max(5);
    let per_plugin = std::env::args().any(|a| a == "--per-plugin");
    let before = conditions();
    // collectd's CSV writer refuses paths with a component starting with a dot.
    let dir = tempfile::Builder::new()
        .prefix("hostwatch-bench-")
        .tempdir()
        .expect("temp dir");
    let (mut collector, endpoint) = start_collector(&dir.path().join("collector"));
    let creds = dir.path().join("collector/credentials");

    // Phase 1: the agent with everything, beside the peers.
    let mut daemons: Vec<Daemon> = Vec::new();
    let mut missing: Vec<(String, String)> = Vec::new();
    let agent_label = "hostwatch-agent (all plugins, *)".to_string();
    // procstat watches the agent itself, selected by its unique config path (an `exe` selector
    // would also pick up any other agent running on the machine, and change the work).
    let agent_dir = dir.path().join("agent");
    let own = agent_dir.join("agent.json").display().to_string();
    let all = agent_config(&endpoint, &plugin_configs(("pattern", &own)));
    match start_agent(agent_label.clone(), &agent_dir, &all, &creds) {
        Ok(d) => daemons.push(d),
        Err(e) => missing.push((agent_label, e)),
    }
    // Every plugin but netstat: netstat's cost is mostly the kernel walking its whole TCP
    // connection hash table (see the agent's `sockdiag` docs), a floor no agent can go under,
    // so this row shows the agent's own work apart from it.
    let no_netstat_label = "hostwatch-agent (all plugins but netstat)".to_string();
    let no_netstat_dir = dir.path().join("agent-no-netstat");
    let own_no_netstat = no_netstat_dir.join("agent.json").display().to_string();
    let no_netstat: Vec<(&str, serde_json::Value)> = plugin_configs(("pattern", &own_no_netstat))
        .into_iter()
        .filter(|(n, _)| *n != "netstat")
        .collect();
    match start_agent(
        no_netstat_label.clone(),
        &no_netstat_dir,
        &agent_config(&endpoint, &no_netstat),
        &creds,
    ) {
        Ok(d) => daemons.push(d),
        Err(e) => missing.push((no_netstat_label, e)),
    }
    // The same agent limited to collectd's plugin set, for a like-for-like row.
    let same_label = "hostwatch-agent (collectd's 7 plugins)".to_string();
    let same: Vec<(&str, serde_json::Value)> = plugin_configs(("pattern", &own))
        .into_iter()
        .filter(|(n, _)| !matches!(*n, "netstat" | "procstat"))
        .collect();
    match start_agent(
        same_label.clone(),
        &dir.path().join("agent-collectd-set"),
        &agent_config(&endpoint, &same),
        &creds,
    ) {
        Ok(d) => daemons.push(d),
        Err(e) => missing.push((same_label, e)),
    }
    match start_collectd(dir.path()) {
        Ok(d) => daemons.push(d),
        Err(e) => missing.push(("collectd".into(), e)),
    }
    for (label, args) in [
        (
            "node exporter (defaults, systemd off), 1 scrape/s",
            &["--no-collector.systemd"][..],
        ),
        (
            "node exporter (agent-scope collectors), 1 scrape/s",
            &[
                "--collector.disable-defaults",
                "--collector.cpu",
                "--collector.meminfo",
                "--collector.filesystem",
                "--collector.diskstats",
                "--collector.netdev",
                "--collector.tcpstat",
                "--collector.processes",
            ][..],
        ),
    ] {
        match start_node_exporter(label, args) {
            Ok(d) => daemons.push(d),
            Err(e) => missing.push((label.into(), e)),
        }
    }
    let (mut rows, figures) = measure(&mut daemons, seconds);
    let agent_figures = daemons
        .iter()
        .zip(&figures)
        .find(|(d, _)| d.label.starts_with("hostwatch-agent (all"))
        .and_then(|(_, f)| f.as_ref())
        .map(|f| (f.cpu_ms, f.rss_mb.max(f.hwm_mb)));
    for (label, why) in missing {
        rows.push(note_row(&label, &format!("{why}: not measured")));
    }
    let log = std::fs::read_to_string(dir.path().join("agent/agent.log")).unwrap_or_default();
    for d in daemons {
        d.stop();
    }

    // Phase 2 (optional): one agent per plugin, all in one window, to see where the time goes.
    let mut breakdown = Vec::new();
    if per_plugin {
        let mut agents = Vec::new();
        let names: Vec<&str> = plugin_configs(("pid_file", ""))
            .iter()
            .map(|(n, _)| *n)
            .collect();
        for name in names {
            let sub = dir.path().join(format!("agent-{name}"));
            // procstat watches one process here too: its own agent, by its unique config path.
            let own = sub.join("agent.json").display().to_string();
            let Some((_, cfg)) = plugin_configs(("pattern", &own))
                .into_iter()
                .find(|(n, _)| *n == name)
            else {
                continue;
            };
            let config = agent_config(&endpoint, &[(name, cfg)]);
            let label = format!("hostwatch-agent, {name} only");
            match start_agent(label.clone(), &sub, &config, &creds) {
                Ok(d) => agents.push(d),
                Err(e) => breakdown.push(note_row(&label, &e)),
            }
        }
        let (r, _) = measure(&mut agents, seconds);
        breakdown.extend(r);
        for d in agents {
            d.stop();
        }
    }
    stop(&mut collector, Duration::from_secs(10));

    println!(
        "\nHost agents side by side, {seconds} s after a {} s warm-up, 1 s interval \
         (before: {before}; after: {}):\n",
        WARM_UP.as_secs(),
        conditions()
    );
    print_table(&HEADER, &rows);
    if let Some((cpu, rss)) = agent_figures {
        let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "\nagent targets: CPU {cpu:.3} ms/cycle (target <= {TARGET_CPU_MS} ms: {}), \
             peak RSS {rss:.1} MB (target < {TARGET_RSS_MB} MB: {})",
            verdict(cpu <= TARGET_CPU_MS),
            verdict(rss < TARGET_RSS_MB)
        );
    }
    if !breakdown.is_empty() {
        println!(
            "\nOne agent per plugin (each pays the runtime's own per-tick cost once), \
             {seconds} s in one window:\n"
        );
        print_table(&HEADER, &breakdown);
    }
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .collect();
    if !warnings.is_empty() {
        println!(
            "\nthe agent logged {} warnings/errors; the first:",
            warnings.len()
        );
        for l in warnings.iter().take(5) {
            println!("  {l}");
        }
    }
}
