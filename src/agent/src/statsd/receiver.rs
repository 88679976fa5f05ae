//! The StatsD listener: UDP (and newline-delimited TCP) on `service_address`.
//!
//! Design:
//! - Dedicated OS threads, not tasks of the agent's current-thread runtime: a UDP burst of
//!   hundreds of thousands of packets per second must not wait behind a slow collection tick or
//!   an HTTP flush, and a slow client must not stall other inputs.
//! - The UDP thread only receives: it drains the socket (one blocking `recv`, then
//!   non-blocking ones, pausing 1 ms between drains while traffic flows so that a busy socket
//!   costs about a thousand wake-ups a second rather than one per datagram) into batches of up
//!   to [`BATCH_PACKETS`] packets and hands each batch to the parse thread over a bounded
//!   queue. The queue holds at most `allowed_pending_messages`
//!   packets (counted per packet, the reference agent's setting); a packet that finds it full
//!   is dropped and counted in `queue_dropped`.
//! - The parse thread parses every line and adds it to the shared [`Gather`] (one lock per
//!   batch); malformed lines are counted (`malformed`) and skipped, never fatal.
//! - The kernel socket buffer is enlarged (to about `allowed_pending_messages` × 2 KiB, between
//!   4 and 64 MiB; the privileged "force" variant first, then the ordinary one, which the system
//!   may cap) to absorb scheduling hiccups; what the kernel still drops is read back from the
//!   system's UDP socket table for this socket and reported as `kernel_dropped`.
//! - TCP (same address and port) accepts up to [`MAX_TCP_CONNECTIONS`] clients, one thread
//!   each; complete lines go through the same queue and accounting. A TCP bind failure only
//!   disables TCP.
//! - Counters are published in `statsd-stats.json` in the agent's state directory (rewritten
//!   atomically about once a second while anything changes) and drops are logged as warnings
//!   by the source at every collection (see the module docs of [`super`]).
//! - Receivers are shared per `service_address` through a process-wide registry, so a config
//!   reload that keeps the address reuses the bound socket and the not-yet-collected data
//!   (the separator and queue size are updated in place). The threads stop within about a
//!   quarter of a second once the last [`Receiver`] handle is dropped; a bind that fails (the
//!   address still held by a previous receiver or another process) is retried every second.
//!
//! Invariants: nothing here panics on network input; every received packet is either parsed or
//! counted as dropped; the queue never holds more than `allowed_pending_messages` packets.

use super::aggregate::Gather;
use super::parse::{parse_line, Line};
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{
    sync_channel, Receiver as ChanRx, RecvTimeoutError, SyncSender, TrySendError,
};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Most packets per batch handed to the parse thread.
pub const BATCH_PACKETS: usize = 256;
/// The pause between non-blocking drains while packets keep arriving.
const DRAIN_PAUSE: Duration = Duration::from_millis(1);
/// Most concurrent TCP clients.
pub const MAX_TCP_CONNECTIONS: usize = 250;
/// Largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;
/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(250);
/// The stats file name in the state directory.
pub const STATS_FILE: &str = "statsd-stats.json";

/// What a receiver is started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// `service_address` as configured (`:8125`, `127.0.0.1:8125`, `udp://host:port`).
    pub service_address: String,
    pub metric_separator: String,
    pub allowed_pending_messages: usize,
    pub tcp: bool,
    /// Where `statsd-stats.json` goes; `None` for no file.
    pub stats_dir: Option<PathBuf>,
}

/// Counters since the receiver started.
#[derive(Debug, Default)]
struct Stats {
    packets: AtomicU64,
    bytes: AtomicU64,
    lines: AtomicU64,
    samples: AtomicU64,
    malformed: AtomicU64,
    queue_dropped: AtomicU64,
    series_dropped: AtomicU64,
    kernel_dropped: AtomicU64,
    tcp_connections: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// UDP datagrams plus TCP chunks received.
    pub packets: u64,
    pub bytes: u64,
    /// Well-formed, non-blank lines.
    pub lines: u64,
    /// Values taken (a line may carry several).
    pub samples: u64,
    /// Lines rejected by the parser.
    pub malformed: u64,
    /// Packets dropped because `allowed_pending_messages` were already queued.
    pub queue_dropped: u64,
    /// Samples of new series beyond the per-interval series cap.
    pub series_dropped: u64,
    /// Datagrams the kernel dropped on this socket (its buffer was full).
    pub kernel_dropped: u64,
    /// Packets queued but not parsed yet.
    pub pending: u64,
    pub tcp_connections: u64,
}

impl StatsSnapshot {
    /// Everything lost so far, for any reason.
    pub fn dropped(&self) -> u64 {
        self.queue_dropped + self.series_dropped + self.kernel_dropped
    }
}

struct Shared {
    gather: Mutex<Gather>,
    stats: Stats,
    separator: Mutex<String>,
    allowed_pending: AtomicUsize,
    pending: AtomicUsize,
    stop: AtomicBool,
    /// Set once the UDP socket is bound.
    bound: AtomicBool,
    stats_dir: Mutex<Option<PathBuf>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running listener; the threads stop when the last handle is dropped.
pub struct Receiver {
    address: String,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

static REGISTRY: Mutex<Vec<(String, Weak<Receiver>)>> = Mutex::new(Vec::new());

impl Receiver {
    /// The receiver for `cfg.service_address`: the running one (settings updated), or a new
    /// one whose threads start now.
    pub fn get_or_start(cfg: &ReceiverConfig) -> Arc<Receiver> {
        let mut reg = lock(&REGISTRY);
        reg.retain(|(_, w)| w.strong_count() > 0);
        if let Some(r) = reg
            .iter()
            .find(|(a, _)| *a == cfg.service_address)
            .and_then(|(_, w)| w.upgrade())
        {
            *lock(&r.shared.separator) = cfg.metric_separator.clone();
            r.shared
                .allowed_pending
                .store(cfg.allowed_pending_messages.max(1), Ordering::SeqCst);
            *lock(&r.shared.stats_dir) = cfg.stats_dir.clone();
            return r;
        }
        let r = Arc::new(Receiver::start(cfg));
        reg.push((cfg.service_address.clone(), Arc::downgrade(&r)));
        r
    }

    fn start(cfg: &ReceiverConfig) -> Receiver {
        let allowed = cfg.allowed_pending_messages.max(1);
        let shared = Arc::new(Shared {
            gather: Mutex::new(Gather::default()),
            stats: Stats::default(),
            separator: Mutex::new(cfg.metric_separator.clone()),
            allowed_pending: AtomicUsize::new(allowed),
            pending: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            bound: AtomicBool::new(false),
            stats_dir: Mutex::new(cfg.stats_dir.clone()),
        });
        let (tx, rx) = sync_channel::<Batch>(allowed.clamp(16, 1 << 20));
        let addr = bind_address(&cfg.service_address);
        let inode = Arc::new(AtomicU64::new(0));
        spawn("statsd-parse", {
            let shared = shared.clone();
            let inode = inode.clone();
            move || parse_loop(&shared, &rx, &inode)
        });
        spawn("statsd-udp", {
            let shared = shared.clone();
            let addr = addr.clone();
            let tx = tx.clone();
            move || udp_loop(&shared, &addr, &tx, &inode)
        });
        if cfg.tcp {
            spawn("statsd-tcp", {
                let shared = shared.clone();
                move || tcp_loop(&shared, &addr, &tx)
            });
        }
        Receiver {
            address: cfg.service_address.clone(),
            shared,
        }
    }

    /// Take everything aggregated since the last call.
    pub fn drain(&self) -> Vec<(super::aggregate::SeriesId, super::aggregate::Drained)> {
        let mut g = lock(&self.shared.gather);
        g.drain()
    }

    /// The counters now.
    pub fn stats(&self) -> StatsSnapshot {
        snapshot(&self.shared)
    }

    /// Whether the UDP socket is bound.
    pub fn is_bound(&self) -> bool {
        self.shared.bound.load(Ordering::SeqCst)
    }
}

fn snapshot(s: &Shared) -> StatsSnapshot {
    let st = &s.stats;
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    StatsSnapshot {
        packets: l(&st.packets),
        bytes: l(&st.bytes),
        lines: l(&st.lines),
        samples: l(&st.samples),
        malformed: l(&st.malformed),
        queue_dropped: l(&st.queue_dropped),
        series_dropped: l(&st.series_dropped),
        kernel_dropped: l(&st.kernel_dropped),
        pending: s.pending.load(Ordering::Relaxed) as u64,
        tcp_connections: l(&st.tcp_connections),
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.to_string()).spawn(f) {
        tracing::error!("statsd: cannot start the {name} thread: {e}");
    }
}

/// `:8125` means every IPv4 interface; a `udp://` or `tcp://` prefix is accepted.
pub fn bind_address(service_address: &str) -> String {
    let a = service_address.trim();
    let a = a
        .strip_prefix("udp://")
        .or_else(|| a.strip_prefix("tcp://"))
        .unwrap_or(a);
    if a.starts_with(':') {
        format!("0.0.0.0{a}")
    } else {
        a.to_string()
    }
}

/// Packets on their way to the parse thread: their bytes, each followed by `\n`.
struct Batch {
    data: Vec<u8>,
    packets: usize,
}

impl Batch {
    fn new() -> Self {
        Batch {
            data: Vec::with_capacity(4096),
            packets: 0,
        }
    }
}

/// The queue side shared by UDP and TCP: admission per packet and hand-over per batch.
struct Producer<'a> {
    shared: &'a Shared,
    tx: &'a SyncSender<Batch>,
    batch: Batch,
}

impl Producer<'_> {
    fn packet(&mut self, bytes: &[u8]) {
        let st = &self.shared.stats;
        st.packets.fetch_add(1, Ordering::Relaxed);
        st.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let queued = self.shared.pending.load(Ordering::Relaxed) + self.batch.packets;
        if queued >= self.shared.allowed_pending.load(Ordering::Relaxed) {
            st.queue_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.batch.data.extend_from_slice(bytes);
        self.batch.data.push(b'\n');
        self.batch.packets += 1;
    }

    fn full(&self) -> bool {
        self.batch.packets >= BATCH_PACKETS || self.batch.data.len() >= MAX_DATAGRAM
    }

    fn flush(&mut self) {
        if self.batch.packets == 0 {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Batch::new());
        let n = batch.packets;
        self.shared.pending.fetch_add(n, Ordering::Relaxed);
        match self.tx.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.shared.pending.fetch_sub(n, Ordering::Relaxed);
                self.shared
                    .stats
                    .queue_dropped
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

fn bind_with_retry<T>(
    shared: &Shared,
    what: &str,
    addr: &str,
    bind: impl Fn(&str) -> std::io::Result<T>,
) -> Option<T> {
    let mut attempts = 0u64;
    let mut next_warning = 0u64;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return None;
        }
        match bind(addr) {
            Ok(s) => {
                if attempts > 0 {
                    tracing::info!("statsd: {what} listener bound to {addr}");
                }
                return Some(s);
            }
            Err(e) => {
                if attempts == next_warning {
                    next_warning += 60;
                    tracing::warn!("statsd: cannot bind {what} {addr}: {e}; retrying every second");
                }
                attempts += 1;
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn udp_loop(shared: &Shared, addr: &str, tx: &SyncSender<Batch>, inode: &AtomicU64) {
    let Some(sock) = bind_with_retry(shared, "UDP", addr, |a: &str| UdpSocket::bind(a)) else {
        return;
    };
    let allowed = shared.allowed_pending.load(Ordering::Relaxed);
    let want = allowed.saturating_mul(2048).clamp(4 << 20, 64 << 20);
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&sock, want).is_err() {
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&sock, want);
    }
    if let Ok(st) = rustix::fs::fstat(&sock) {
        inode.store(st.st_ino, Ordering::Relaxed);
    }
    if let Err(e) = sock.set_read_timeout(Some(POLL)) {
        tracing::warn!("statsd: cannot set the socket timeout: {e}");
    }
    shared.bound.store(true, Ordering::SeqCst);
    tracing::info!(
        address = addr,
        recv_buffer = rustix::net::sockopt::socket_recv_buffer_size(&sock).unwrap_or(0),
        "statsd: listening on UDP"
    );
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut p = Producer {
        shared,
        tx,
        batch: Batch::new(),
    };
    while !shared.stop.load(Ordering::Relaxed) {
        match sock.recv(&mut buf) {
            Ok(n) => p.packet(&buf[..n.min(buf.len())]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => {
                tracing::debug!("statsd: UDP receive error: {e}");
                continue;
            }
        }
        // Traffic is flowing: rather than waking up for every datagram, drain the socket
        // without blocking, hand the batches over, pause briefly so that packets collect in
        // the socket buffer, and go back to a blocking receive once a pause brought nothing.
        // The values are aggregated for seconds anyway; the pause only saves wake-ups.
        loop {
            let mut got = 0usize;
            while let Ok((_, n)) =
                rustix::net::recv(&sock, &mut buf[..], rustix::net::RecvFlags::DONTWAIT)
            {
                p.packet(&buf[..n.min(MAX_DATAGRAM)]);
                got += 1;
                if p.full() {
                    p.flush();
                }
            }
            p.flush();
            if got == 0 || shared.stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(DRAIN_PAUSE);
        }
    }
    shared.bound.store(false, Ordering::SeqCst);
}

fn tcp_loop(shared: &Arc<Shared>, addr: &str, tx: &SyncSender<Batch>) {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            // UDP is the reference protocol; TCP is an extra, so one try only.
            tracing::warn!("statsd: TCP listener on {addr} disabled: {e}");
            return;
        }
    };
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::warn!("statsd: TCP listener disabled: {e}");
        return;
    }
    let active = Arc::new(AtomicUsize::new(0));
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if active.load(Ordering::SeqCst) >= MAX_TCP_CONNECTIONS {
                    tracing::warn!("statsd: too many TCP clients; connection refused");
                    continue;
                }
                active.fetch_add(1, Ordering::SeqCst);
                shared.stats.tcp_connections.fetch_add(1, Ordering::Relaxed);
                let (shared, tx, active) = (shared.clone(), tx.clone(), active.clone());
                spawn("statsd-tcp-conn", move || {
                    tcp_conn(&shared, stream, &tx);
                    active.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL / 2),
            Err(e) => {
                tracing::debug!("statsd: TCP accept error: {e}");
                std::thread::sleep(POLL / 2);
            }
        }
    }
}

/// Longest TCP line kept; a longer one is cut and counted as malformed by the parser.
const MAX_TCP_LINE: usize = 65_536;

fn tcp_conn(shared: &Shared, mut stream: TcpStream, tx: &SyncSender<Batch>) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let mut p = Producer {
        shared,
        tx,
        batch: Batch::new(),
    };
    let mut buf = vec![0u8; 65_536];
    let mut carry: Vec<u8> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                carry.extend_from_slice(&buf[..n]);
                if let Some(last_nl) = carry.iter().rposition(|&b| b == b'\n') {
                    p.packet(&carry[..last_nl]);
                    carry.drain(..=last_nl);
                    p.flush();
                }
                if carry.len() > MAX_TCP_LINE {
                    // Treat the over-long head as one (malformed) line.
                    let head = std::mem::take(&mut carry);
                    p.packet(&head);
                    p.flush();
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !carry.is_empty() {
        p.packet(&carry);
    }
    p.flush();
}

fn parse_loop(shared: &Shared, rx: &ChanRx<Batch>, inode: &AtomicU64) {
    let mut last_write = Instant::now();
    let mut last_written: Option<StatsSnapshot> = None;
    loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(batch) => {
                let mut line = Line::default();
                let separator = lock(&shared.separator).clone();
                let (mut lines, mut samples, mut malformed, mut series_dropped) = (0, 0, 0, 0);
                {
                    let mut g = lock(&shared.gather);
                    for raw in batch.data.split(|&b| b == b'\n') {
                        match parse_line(raw, &mut line) {
                            Ok(true) => {
                                let added = g.add_line(&line, &separator);
                                lines += 1;
                                samples += added.samples;
                                series_dropped += added.series_dropped;
                            }
                            Ok(false) => {}
                            Err(e) => {
                                malformed += 1;
                                tracing::trace!("statsd: malformed line: {e}");
                            }
                        }
                    }
                }
                let st = &shared.stats;
                st.lines.fetch_add(lines, Ordering::Relaxed);
                st.samples.fetch_add(samples, Ordering::Relaxed);
                st.malformed.fetch_add(malformed, Ordering::Relaxed);
                st.series_dropped
                    .fetch_add(series_dropped, Ordering::Relaxed);
                shared.pending.fetch_sub(batch.packets, Ordering::Relaxed);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_write.elapsed() >= Duration::from_secs(1) {
            last_write = Instant::now();
            if let Some(d) = kernel_drops(inode.load(Ordering::Relaxed)) {
                shared.stats.kernel_dropped.store(d, Ordering::Relaxed);
            }
            let snap = snapshot(shared);
            if last_written != Some(snap) {
                write_stats(shared, &snap);
                last_written = Some(snap);
            }
        }
    }
}

fn write_stats(shared: &Shared, snap: &StatsSnapshot) {
    let Some(dir) = lock(&shared.stats_dir).clone() else {
        return;
    };
    let Ok(text) = serde_json::to_string(snap) else {
        return;
    };
    let tmp = dir.join(format!("{STATS_FILE}.tmp"));
    let r = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, dir.join(STATS_FILE)));
    if let Err(e) = r {
        tracing::debug!(
            "statsd: cannot write {}: {e}",
            dir.join(STATS_FILE).display()
        );
    }
}

/// The kernel's drop counter for the UDP socket with this inode (IPv4 or IPv6 table).
fn kernel_drops(inode: u64) -> Option<u64> {
    if inode == 0 {
        return None;
    }
    let want = inode.to_string();
    for table in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        if let Some(d) = drops_in_table(&text, &want) {
            return Some(d);
        }
    }
    None
}

/// In a UDP socket table, the `drops` column (the last) of the row whose inode (10th) matches.
fn drops_in_table(text: &str, inode: &str) -> Option<u64> {
    text.lines().skip(1).find_map(|row| {
        let cols: Vec<&str> = row.split_whitespace().collect();
        (cols.get(9) == Some(&inode))
            .then(|| cols.last().and_then(|d| d.parse().ok()))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(bind_address(":8125"), "0.0.0.0:8125");
        assert_eq!(bind_address("udp://127.0.0.1:1"), "127.0.0.1:1");
        assert_eq!(bind_address("[::1]:9"), "[::1]:9");
    }

    #[test]
    fn udp_table_drops() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                 12: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 17\n";
        assert_eq!(drops_in_table(t, "4242"), Some(17));
        assert_eq!(drops_in_table(t, "1"), None);
    }

    fn free_port() -> u16 {
        UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn wait(mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn udp_and_tcp_end_to_end_and_registry() {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let cfg = ReceiverConfig {
            service_address: format!("127.0.0.1:{port}"),
            metric_separator: "_".into(),
            allowed_pending_messages: 1000,
            tcp: true,
            stats_dir: Some(dir.path().to_path_buf()),
        };
        let r = Receiver::get_or_start(&cfg);
        wait(|| r.is_bound());
        let again = Receiver::get_or_start(&cfg);
        assert!(Arc::ptr_eq(&r, &again));
        drop(again);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = format!("127.0.0.1:{port}");
        client.send_to(b"a.b:1|c\na.b:2|c\nbad line", &to).unwrap();
        client.send_to(b"\xff\x00garbage", &to).unwrap();
        let mut tcp = loop {
            if let Ok(s) = TcpStream::connect(&to) {
                break s;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        use std::io::Write;
        tcp.write_all(b"a.b:4|c\nt:3|ms\nt:").unwrap();
        tcp.write_all(b"5|ms\n").unwrap();
        drop(tcp);
        wait(|| r.stats().lines >= 5);
        let s = r.stats();
        assert_eq!(s.malformed, 2);
        assert_eq!(s.queue_dropped, 0);
        let d = r.drain();
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].0.name, "a_b");
        assert_eq!(d[0].1, super::super::aggregate::Drained::Single(7.0));
        wait(|| dir.path().join(STATS_FILE).exists());
        let text = std::fs::read_to_string(dir.path().join(STATS_FILE)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["packets"].as_u64().unwrap() >= 3);
        // Dropping the last handle frees the port.
        drop(r);
        wait(|| UdpSocket::bind(format!("127.0.0.1:{port}")).is_ok());
    }

    #[test]
    fn a_full_queue_is_counted() {
        // The parse thread is held up by holding the aggregation lock.
        let port = free_port();
        let cfg = ReceiverConfig {
            service_address: format!("127.0.0.1:{port}"),
            metric_separator: "_".into(),
            allowed_pending_messages: 5,
            tcp: false,
            stats_dir: None,
        };
        let r = Receiver::get_or_start(&cfg);
        wait(|| r.is_bound());
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = format!("127.0.0.1:{port}");
        let total = 200u64;
        {
            let _held = lock(&r.shared.gather);
            for _ in 0..total {
                client.send_to(b"x:1|c", &to).unwrap();
            }
            wait(|| r.stats().packets + r.stats().kernel_dropped >= total);
        }
        wait(|| {
            let s = r.stats();
            s.pending == 0 && s.lines + s.queue_dropped == total
        });
        let s = r.stats();
        assert!(s.queue_dropped > 0, "{s:?}");
        assert!(s.lines <= total - s.queue_dropped);
        assert_eq!(s.dropped(), s.queue_dropped + s.kernel_dropped);
    }
}
