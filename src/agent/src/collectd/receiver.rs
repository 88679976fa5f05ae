//! The UDP receiver task: packets → value lists → named values in the [`Aggregator`].
//!
//! One task on the agent's runtime owns the socket. It reads every datagram that is ready
//! (up to [`BATCH`] at a time, then yields so other inputs and the collection loop run), parses
//! it ([`super::parse`]), names each value ([`Ingest`]) and holds it in the shared aggregator
//! that the collection tick drains. Every second it writes the counters ([`Stats`]) to the
//! stats file, re-reads the auth file if it changed, and logs rejected packets (the first of
//! each kind at once, then at most one summary line per kind per minute).

use super::aggregate::Aggregator;
use super::crypto::AuthFile;
use super::parse::{ErrorKind, Parser, Report, SecurityLevel, ValueList};
use super::typesdb::TypesDb;
use hostwatch_model::Dimension;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::UdpSocket;

/// Datagrams read before yielding to other tasks.
pub const BATCH: usize = 256;
/// Receive buffer size asked of the kernel (it may grant less).
pub const RECV_BUFFER: usize = 8 << 20;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;
/// Minimum gap between two log lines about the same kind of rejected packet.
const COMPLAIN_EVERY: Duration = Duration::from_secs(60);

/// The receiver's counters (monotonic since start), also written to the stats file.
#[derive(Debug, Default)]
pub struct Stats {
    /// Datagrams received.
    pub packets: AtomicU64,
    /// Values accepted and held for sending.
    pub values: AtomicU64,
    /// Packets (or their rest) dropped because they break the protocol.
    pub malformed: AtomicU64,
    /// Packets whose HMAC-SHA-256 signature did not verify (wrong password or tampering).
    pub bad_signature: AtomicU64,
    /// Encrypted packets whose SHA-1 check failed after decryption (wrong password).
    pub decrypt_failed: AtomicU64,
    /// Signed or encrypted packets from a user not in the auth file (or no auth file).
    pub unknown_user: AtomicU64,
    /// Packets with parts ignored because the security level needs signing / encryption.
    pub security_rejected: AtomicU64,
    /// Values parts without plugin or type.
    pub incomplete: AtomicU64,
    /// Values dropped because the held-values bound was reached (the queue was full).
    pub queue_full: AtomicU64,
    /// NaN or infinite values (collectd's "unknown"), not sendable to CloudWatch.
    pub non_finite: AtomicU64,
    /// Values stamped more than 2 hours ahead of or 14 days behind the receive time, which
    /// CloudWatch would reject (a sender with a wrong clock).
    pub out_of_range: AtomicU64,
    /// Notifications (not metrics), ignored.
    pub notifications: AtomicU64,
    /// Datagrams the kernel dropped because the socket's receive buffer was full.
    pub kernel_drops: AtomicU64,
}

impl Stats {
    fn add(c: &AtomicU64, n: u64) {
        if n > 0 {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The counters as JSON (names as in the stats file).
    pub fn to_json(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "packets_received": g(&self.packets),
            "values_received": g(&self.values),
            "packets_malformed": g(&self.malformed),
            "packets_bad_signature": g(&self.bad_signature),
            "packets_decrypt_failed": g(&self.decrypt_failed),
            "packets_unknown_user": g(&self.unknown_user),
            "packets_security_rejected": g(&self.security_rejected),
            "value_lists_incomplete": g(&self.incomplete),
            "values_dropped_queue_full": g(&self.queue_full),
            "values_non_finite": g(&self.non_finite),
            "values_out_of_range": g(&self.out_of_range),
            "notifications_ignored": g(&self.notifications),
            "packets_dropped_by_kernel": g(&self.kernel_drops),
        })
    }
}

/// How value lists become named values.
#[derive(Debug)]
pub struct Naming {
    /// `name_prefix`.
    pub prefix: String,
    pub types: TypesDb,
    /// Whether the packet's host becomes the `host` dimension (not when instance dimensions
    /// from `metrics.append_dimensions` replace the host, as the reference agent does).
    pub packet_host: bool,
    /// The agent's own `host` value, for value lists without a host.
    pub agent_host: Option<String>,
    /// The plugin's `append_dimensions`, resolved.
    pub appended: Vec<Dimension>,
    /// The metrics-level dimensions (instance id, ...).
    pub global: Vec<Dimension>,
}

/// Parses packets into the aggregator.
pub struct Ingest {
    pub level: SecurityLevel,
    pub auth: Option<AuthFile>,
    pub naming: Naming,
    pub aggregator: Arc<Mutex<Aggregator>>,
    pub stats: Arc<Stats>,
    identity: String,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

/// Epoch milliseconds of a collectd time (2^-30 s units).
pub fn cdtime_to_ms(t: u64) -> i64 {
    let secs = t >> 30;
    let frac_ms = ((t & ((1 << 30) - 1)) * 1000) >> 30;
    i64::try_from(secs.saturating_mul(1000).saturating_add(frac_ms)).unwrap_or(i64::MAX)
}

impl Ingest {
    pub fn new(
        level: SecurityLevel,
        auth: Option<AuthFile>,
        naming: Naming,
        aggregator: Arc<Mutex<Aggregator>>,
        stats: Arc<Stats>,
    ) -> Self {
        Ingest {
            level,
            auth,
            naming,
            aggregator,
            stats,
            identity: String::new(),
        }
    }

    /// Parse one datagram received at `now_ms` and hold its values; returns the parse report.
    pub fn packet(&mut self, packet: &[u8], now_ms: i64) -> Report {
        let parser = Parser {
            level: self.level,
            auth: self.auth.as_ref(),
        };
        let mut accepted = 0u64;
        let mut refused = 0u64;
        let mut non_finite = 0u64;
        let mut out_of_range = 0u64;
        let report = {
            let mut agg = self
                .aggregator
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let naming = &self.naming;
            let identity = &mut self.identity;
            parser.parse(packet, &mut |vl| {
                let h = hold(naming, identity, &mut agg, vl, now_ms);
                accepted += h.accepted;
                refused += h.refused;
                non_finite += h.non_finite;
                out_of_range += h.out_of_range;
            })
        };
        let s = &self.stats;
        Stats::add(&s.packets, 1);
        Stats::add(&s.values, accepted);
        Stats::add(&s.queue_full, refused);
        Stats::add(&s.non_finite, non_finite);
        Stats::add(&s.out_of_range, out_of_range);
        Stats::add(&s.incomplete, report.incomplete);
        Stats::add(&s.notifications, report.notifications);
        if report.ignored_parts > 0 {
            Stats::add(&s.security_rejected, 1);
        }
        if let Some(e) = &report.error {
            let c = match e.kind() {
                ErrorKind::Malformed => &s.malformed,
                ErrorKind::BadSignature => &s.bad_signature,
                ErrorKind::DecryptFailed => &s.decrypt_failed,
                ErrorKind::UnknownUser => &s.unknown_user,
            };
            Stats::add(c, 1);
        }
        report
    }
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Furthest a value's time may be ahead of the receive time (CloudWatch's limit).
const MAX_AHEAD_MS: i64 = 2 * 3600 * 1000;
/// Furthest a value's time may be behind the receive time (CloudWatch's limit).
const MAX_BEHIND_MS: i64 = 14 * 24 * 3600 * 1000;

/// What became of the values of one value list.
#[derive(Debug, Default)]
struct Held {
    accepted: u64,
    /// Refused by the aggregator's bounds.
    refused: u64,
    non_finite: u64,
    out_of_range: u64,
}

/// Hold every value of `vl`.
fn hold(
    naming: &Naming,
    identity: &mut String,
    agg: &mut Aggregator,
    vl: &ValueList<'_>,
    now_ms: i64,
) -> Held {
    let mut held = Held::default();
    let ts = if vl.time == 0 {
        now_ms
    } else {
        cdtime_to_ms(vl.time)
    };
    if ts > now_ms.saturating_add(MAX_AHEAD_MS) || ts < now_ms.saturating_sub(MAX_BEHIND_MS) {
        held.out_of_range = vl.values.len() as u64;
        return held;
    }
    let (host, plugin, pinst, type_name, tinst) = (
        lossy(vl.host),
        lossy(vl.plugin),
        lossy(vl.plugin_instance),
        lossy(vl.type_name),
        lossy(vl.type_instance),
    );
    let names = naming
        .types
        .names(&type_name)
        .filter(|n| n.len() == vl.values.len());
    for (i, value) in vl.values.iter().enumerate() {
        let v = value.as_f64();
        if !v.is_finite() {
            held.non_finite += 1;
            continue;
        }
        identity.clear();
        let _ = write!(
            identity,
            "{host}\0{plugin}\0{pinst}\0{type_name}\0{tinst}\0{i}"
        );
        let make = || {
            let ds: std::borrow::Cow<'_, str> = match names {
                Some(n) => n[i].as_str().into(),
                None if vl.values.len() == 1 => "value".into(),
                None => i.to_string().into(),
            };
            let name = format!("{}{plugin}_{ds}", naming.prefix);
            let mut dims = Vec::with_capacity(3);
            if !pinst.is_empty() {
                dims.push(Dimension::new("instance", pinst.as_ref()));
            }
            dims.push(Dimension::new("type", type_name.as_ref()));
            if !tinst.is_empty() {
                dims.push(Dimension::new("type_instance", tinst.as_ref()));
            }
            let host = if !naming.packet_host {
                None
            } else if host.is_empty() {
                naming.agent_host.as_deref()
            } else {
                Some(host.as_ref())
            };
            let dims =
                crate::collect::dimensions::assemble(host, &dims, &naming.appended, &naming.global);
            (name, dims)
        };
        if agg.add(identity, make, ts, v) {
            held.accepted += 1;
        } else {
            held.refused += 1;
        }
    }
    held
}

/// Where and how the receiver runs.
#[derive(Debug, Clone)]
pub struct Listen {
    /// `host:port` to bind.
    pub bind: String,
    /// Where the counters are written (JSON), if anywhere.
    pub stats_file: Option<PathBuf>,
    /// The auth file, re-read when it changes.
    pub auth_file: PathBuf,
    /// Root of the proc filesystem (kernel drop counter).
    pub proc_root: PathBuf,
}

/// Rate-limited warnings per kind of rejected packet.
#[derive(Debug, Default)]
struct Complainer {
    last: Vec<(ErrorKind, Instant, u64)>,
    security_last: Option<(Instant, u64)>,
}

impl Complainer {
    fn report(&mut self, report: &Report, peer: std::net::SocketAddr, stats: &Stats) {
        if let Some(e) = &report.error {
            let kind = e.kind();
            let total = match kind {
                ErrorKind::Malformed => &stats.malformed,
                ErrorKind::BadSignature => &stats.bad_signature,
                ErrorKind::DecryptFailed => &stats.decrypt_failed,
                ErrorKind::UnknownUser => &stats.unknown_user,
            }
            .load(Ordering::Relaxed);
            let now = Instant::now();
            let due = match self.last.iter().find(|(k, _, _)| *k == kind) {
                Some((_, at, _)) => now.duration_since(*at) >= COMPLAIN_EVERY,
                None => true,
            };
            if due {
                self.last.retain(|(k, _, _)| *k != kind);
                self.last.push((kind, now, total));
                tracing::warn!(
                    %peer,
                    total,
                    "collectd: packet rejected: {e} (further ones are counted in the stats file and logged at most once a minute)"
                );
            }
        }
        if report.ignored_parts > 0 {
            let now = Instant::now();
            let due = self
                .security_last
                .is_none_or(|(at, _)| now.duration_since(at) >= COMPLAIN_EVERY);
            if due {
                let total = stats.security_rejected.load(Ordering::Relaxed);
                self.security_last = Some((now, total));
                tracing::warn!(
                    %peer,
                    total,
                    "collectd: packet without the required signature or encryption ignored"
                );
            }
        }
    }
}

fn auth_mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The `drops` column of the kernel's UDP socket table for the socket with `inode`.
pub fn kernel_drops(proc_root: &Path, inode: u64) -> Option<u64> {
    for table in ["net/udp", "net/udp6"] {
        let Ok(text) = std::fs::read_to_string(proc_root.join(table)) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if f.len() >= 13 && f[9].parse::<u64>().ok() == Some(inode) {
                return f[12].parse().ok();
            }
        }
    }
    None
}

fn write_stats(path: &Path, listening: &str, level: SecurityLevel, stats: &Stats) {
    let mut v = stats.to_json();
    if let Some(m) = v.as_object_mut() {
        m.insert("listening".into(), listening.into());
        m.insert("security_level".into(), level.as_str().into());
    }
    let tmp = path.with_extension("json.tmp");
    let result = std::fs::write(&tmp, v.to_string()).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        tracing::debug!("collectd: cannot write {}: {e}", path.display());
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn bind(addr: &str) -> UdpSocket {
    let started = Instant::now();
    let mut complained = false;
    loop {
        match UdpSocket::bind(addr).await {
            Ok(s) => return s,
            Err(e) => {
                // A reload binds the new receiver while the old one is still closing (a few
                // milliseconds): retry quickly and quietly at first, then complain once.
                let quiet = started.elapsed() < Duration::from_secs(3);
                if quiet || complained {
                    tracing::debug!("collectd: cannot listen on udp://{addr}: {e}; retrying");
                } else {
                    tracing::error!(
                        "collectd: cannot listen on udp://{addr}: {e}; retrying every second"
                    );
                    complained = true;
                }
                let pause = if quiet { 50 } else { 1000 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }
    }
}

/// Run the receiver until the task is aborted.
pub async fn run(listen: Listen, mut ingest: Ingest) {
    let sock = bind(&listen.bind).await;
    if let Err(e) = rustix::net::sockopt::set_socket_recv_buffer_size(&sock, RECV_BUFFER) {
        tracing::debug!("collectd: cannot enlarge the receive buffer: {e}");
    }
    let inode = rustix::fs::fstat(&sock).map(|s| s.st_ino).ok();
    let local = sock
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| listen.bind.clone());
    tracing::info!(
        listening = %local,
        security_level = ingest.level.as_str(),
        "collectd receiver ready"
    );
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut complainer = Complainer::default();
    let mut mtime = auth_mtime(&listen.auth_file);
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let now = now_ms();
                match r {
                    Ok((n, peer)) => {
                        let report = ingest.packet(&buf[..n], now);
                        complainer.report(&report, peer, &ingest.stats);
                    }
                    Err(e) => {
                        tracing::debug!("collectd: receive error: {e}");
                        continue;
                    }
                }
                for _ in 1..BATCH {
                    match sock.try_recv_from(&mut buf) {
                        Ok((n, peer)) => {
                            let report = ingest.packet(&buf[..n], now);
                            complainer.report(&report, peer, &ingest.stats);
                        }
                        Err(_) => break,
                    }
                }
                tokio::task::yield_now().await;
            }
            _ = tick.tick() => {
                let m = auth_mtime(&listen.auth_file);
                if m != mtime {
                    mtime = m;
                    match AuthFile::load(&listen.auth_file) {
                        Ok(a) => {
                            tracing::info!(users = a.len(), "collectd: auth file re-read");
                            ingest.auth = Some(a);
                        }
                        Err(e) => tracing::warn!(
                            "collectd: cannot re-read auth file {}: {e}; keeping the previous users",
                            listen.auth_file.display()
                        ),
                    }
                }
                if let Some(d) = inode.and_then(|i| kernel_drops(&listen.proc_root, i)) {
                    ingest.stats.kernel_drops.store(d, Ordering::Relaxed);
                }
                if let Some(path) = &listen.stats_file {
                    write_stats(path, &local, ingest.level, &ingest.stats);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::{PacketBuilder, Value, TYPE_HOST, TYPE_PLUGIN, TYPE_TYPE};
    use super::*;
    use hostwatch_model::DatumValue;

    fn naming(packet_host: bool) -> Naming {
        Naming {
            prefix: "collectd_".into(),
            types: TypesDb::builtin(),
            packet_host,
            agent_host: Some("agent-host".into()),
            appended: vec![Dimension::new("Team", "infra")],
            global: vec![],
        }
    }

    fn ingest(interval: u64, naming: Naming) -> Ingest {
        Ingest::new(
            SecurityLevel::None,
            None,
            naming,
            Arc::new(Mutex::new(Aggregator::new(interval, 1))),
            Arc::new(Stats::default()),
        )
    }

    #[test]
    fn time_conversion() {
        assert_eq!(cdtime_to_ms(1_700_000_000 << 30), 1_700_000_000_000);
        assert_eq!(cdtime_to_ms((1 << 30) + (1 << 29)), 1_500);
        assert_eq!(cdtime_to_ms(u64::MAX), 17_179_869_183_999);
    }

    #[test]
    fn names_and_dimensions_like_the_reference_agent() {
        let mut ing = ingest(0, naming(true));
        let packet = PacketBuilder::new()
            .identity("web-1", 100, "cpu", "0", "cpu", "user")
            .values(&[Value::Derive(42)])
            .identity("web-1", 100, "load", "", "load", "")
            .values(&[Value::Gauge(0.5), Value::Gauge(0.25), Value::Gauge(0.1)])
            .identity("", 100, "custom", "", "unknown_type", "x")
            .values(&[Value::Gauge(1.0), Value::Gauge(f64::NAN)])
            .identity("", 100, "custom", "", "unknown_type", "y")
            .values(&[Value::Absolute(7)])
            .build();
        let report = ing.packet(&packet, 0);
        assert_eq!(report.values, 7);
        let mut out = Vec::new();
        ing.aggregator.lock().unwrap().drain(0, &mut out);
        type Row = (String, Vec<(String, String)>, f64);
        let got: Vec<Row> = out
            .iter()
            .map(|d| {
                let v = match d.value {
                    DatumValue::Single(v) => v,
                    _ => f64::NAN,
                };
                (
                    d.metric_name.clone(),
                    d.dimensions
                        .iter()
                        .map(|x| (x.name.clone(), x.value.clone()))
                        .collect(),
                    v,
                )
            })
            .collect();
        let dims = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert_eq!(
            got,
            vec![
                (
                    "collectd_cpu_value".into(),
                    dims(&[
                        ("host", "web-1"),
                        ("instance", "0"),
                        ("type", "cpu"),
                        ("type_instance", "user"),
                        ("Team", "infra")
                    ]),
                    42.0
                ),
                (
                    "collectd_custom_0".into(),
                    dims(&[
                        ("host", "agent-host"),
                        ("type", "unknown_type"),
                        ("type_instance", "x"),
                        ("Team", "infra")
                    ]),
                    1.0
                ),
                (
                    "collectd_custom_value".into(),
                    dims(&[
                        ("host", "agent-host"),
                        ("type", "unknown_type"),
                        ("type_instance", "y"),
                        ("Team", "infra")
                    ]),
                    7.0
                ),
                (
                    "collectd_load_longterm".into(),
                    dims(&[("host", "web-1"), ("type", "load"), ("Team", "infra")]),
                    0.1
                ),
                (
                    "collectd_load_midterm".into(),
                    dims(&[("host", "web-1"), ("type", "load"), ("Team", "infra")]),
                    0.25
                ),
                (
                    "collectd_load_shortterm".into(),
                    dims(&[("host", "web-1"), ("type", "load"), ("Team", "infra")]),
                    0.5
                ),
            ]
        );
        assert!(out.iter().all(|d| d.timestamp_ms == Some(100_000)));
        assert_eq!(ing.stats.non_finite.load(Ordering::Relaxed), 1);
        assert_eq!(ing.stats.values.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn instance_dimensions_replace_the_host() {
        let mut n = naming(false);
        n.global = vec![Dimension::new("InstanceId", "i-1")];
        let mut ing = ingest(0, n);
        let packet = PacketBuilder::new()
            .identity("web-1", 100, "memory", "", "memory", "used")
            .values(&[Value::Gauge(5.0)])
            .build();
        ing.packet(&packet, 0);
        let mut out = Vec::new();
        ing.aggregator.lock().unwrap().drain(0, &mut out);
        let names: Vec<&str> = out[0].dimensions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["type", "type_instance", "Team", "InstanceId"]);
    }

    #[test]
    fn missing_time_uses_receive_time_and_counts() {
        let mut ing = ingest(10, naming(true));
        let packet = PacketBuilder::new()
            .string(TYPE_HOST, "h")
            .string(TYPE_PLUGIN, "p")
            .string(TYPE_TYPE, "gauge")
            .values(&[Value::Gauge(1.0)])
            .values(&[Value::Gauge(1.0)])
            .build();
        ing.packet(&packet, 123_456);
        ing.packet(&[0, 0, 0], 123_456);
        let mut out = Vec::new();
        ing.aggregator.lock().unwrap().drain(130_000, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].timestamp_ms, Some(120_000));
        assert_eq!(
            out[0].value,
            DatumValue::distribution_with_stats(vec![1.0], vec![2.0])
        );
        let j = ing.stats.to_json();
        assert_eq!(j["packets_received"], 2);
        assert_eq!(j["packets_malformed"], 1);
        assert_eq!(j["values_received"], 2);
    }

    #[test]
    fn kernel_drop_table() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(
            dir.path().join("net/udp"),
            "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             1: 0100007F:64DE 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n",
        )
        .unwrap();
        assert_eq!(kernel_drops(dir.path(), 4242), Some(17));
        assert_eq!(kernel_drops(dir.path(), 1), None);
    }
}
