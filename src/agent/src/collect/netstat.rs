//! The `netstat` plugin: socket counts by TCP state, and UDP sockets, from `<proc>/net/tcp`,
//! `tcp6`, `udp`, `udp6` (and `unix` for `tcp_none`).
//!
//! Every line after the header of `tcp`/`tcp6` is one TCP socket; its fourth column (`st`) is the
//! kernel's state code in hex: `01` established, `02` syn_sent, `03` syn_recv, `04` fin_wait1,
//! `05` fin_wait2, `06` time_wait, `07` close, `08` close_wait, `09` last_ack, `0A` listen,
//! `0B` closing. Other codes count nowhere (as in the reference agent). Every line after the
//! header of `udp`/`udp6` is one `udp_socket`. IPv4 and IPv6 are added together. The counts are
//! those of the agent's network namespace. All fields are gauges with unit `Count`; dimensions:
//! `host` only.
//!
//! `tcp_none`: the reference agent counts every socket its connection library reports with
//! status "NONE" that is not a datagram socket. On Linux those are exactly the **unix-domain**
//! stream and seqpacket sockets (TCP sockets always carry a state), so `tcp_none` here is the
//! number of non-datagram unix-domain sockets of the namespace (the sockets `<proc>/net/unix`
//! lists, counted as below), looked at only when `tcp_none` is configured.
//! Two deliberate differences: a unix socket shared by several processes is counted once
//! (the reference counts it once per owning process), and `udp_socket` counts only UDP sockets
//! (the reference also adds unix-domain datagram sockets to it, through the same library quirk).
//!
//! UDP: `udp_socket` is the number of hashed (bound or connected) UDP sockets, which the kernel
//! also keeps as a counter: the `UDP: inuse N` line of `<proc>/net/sockstat` and the
//! `UDP6: inuse N` line of `sockstat6` (its per-namespace count of UDP sockets in the tables
//! that `/proc/net/udp` and `udp6` list, UDP-Lite excluded in both). The counters are read when
//! `sockstat` exists; a proc root without it (or without the `UDP:` line) counts the lines of
//! the `udp`/`udp6` tables instead, from then on.
//!
//! Cost: reading `/proc/net/tcp` makes the kernel walk the whole TCP established hash table
//! (262,144 buckets on a 24 GiB machine) once per `read` call, which measured 4–15 ms of kernel
//! time per file on the reference machine even with a handful of sockets; `/proc/net/udp` walks
//! the UDP hash table (16,384 slots there) twice per file. So:
//! - when the proc root is the default `/proc` (the agent's own network namespace), TCP
//!   sockets are counted with a netlink `sock_diag` dump (see `sockdiag`), which reports the
//!   same sockets and the same state codes (request sockets as `SYN_RECV`, time-wait sockets by
//!   their sub-state). A dump still walks the whole table (0.2–1.06 ms per walk on the
//!   reference machine, depending on the kernel; see `sockdiag`), so the plugin asks in the older TCP-only request form, which the
//!   kernel answers for both address families in one walk; a kernel that refuses it gets one
//!   dump per family (two walks) from then on. Unix-domain sockets (`tcp_none`) are counted
//!   with a netlink dump too (32 bytes per socket instead of a formatted line). If netlink is
//!   unavailable for either (no `inet_diag` / `unix_diag` in the kernel, a seccomp filter), the
//!   plugin falls back to the proc files for it for the rest of the run, with one warning;
//! - UDP costs two small reads of `sockstat`/`sockstat6`, kept open and re-read with `pread`;
//! - a non-default proc root (fixtures, a host's `/proc` mounted into a container) uses the
//!   proc files for TCP and unix sockets.
//!
//! Invariants:
//! - the files are read into one reused buffer and scanned as bytes: no allocation per line;
//!   the netlink socket and its receive buffer are opened once and kept across ticks;
//! - a missing `tcp6`/`udp6`/`sockstat6`/`unix` (IPv6 or unix sockets compiled out) counts as
//!   0; if none of `tcp`, `tcp6`, `udp`, `udp6`, `sockstat` can be read (and netlink is not
//!   used for TCP), the tick is a [`CollectError`];
//! - malformed lines (fewer than four columns, non-hex state) are skipped.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::kept::KeptFile;
use super::procfs::read_into;
use super::sockdiag::DiagSocket;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::path::{Path, PathBuf};

/// Every netstat field and its default unit.
pub const FIELDS: [(&str, Unit); 13] = [
    ("tcp_close", Unit::Count),
    ("tcp_close_wait", Unit::Count),
    ("tcp_closing", Unit::Count),
    ("tcp_established", Unit::Count),
    ("tcp_fin_wait1", Unit::Count),
    ("tcp_fin_wait2", Unit::Count),
    ("tcp_last_ack", Unit::Count),
    ("tcp_listen", Unit::Count),
    ("tcp_none", Unit::Count),
    ("tcp_syn_sent", Unit::Count),
    ("tcp_syn_recv", Unit::Count),
    ("tcp_time_wait", Unit::Count),
    ("udp_socket", Unit::Count),
];

/// Socket counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetstatCounts {
    /// Indexed by the kernel's TCP state code (1..=11 are used).
    pub tcp: [u64; 16],
    pub udp: u64,
    /// Unix-domain stream/seqpacket sockets (`tcp_none`).
    pub unix_non_dgram: u64,
}

impl NetstatCounts {
    /// A field's value.
    pub fn field(&self, field: &str) -> Option<f64> {
        let code = match field {
            "tcp_established" => 0x01,
            "tcp_syn_sent" => 0x02,
            "tcp_syn_recv" => 0x03,
            "tcp_fin_wait1" => 0x04,
            "tcp_fin_wait2" => 0x05,
            "tcp_time_wait" => 0x06,
            "tcp_close" => 0x07,
            "tcp_close_wait" => 0x08,
            "tcp_last_ack" => 0x09,
            "tcp_listen" => 0x0A,
            "tcp_closing" => 0x0B,
            "tcp_none" => return Some(self.unix_non_dgram as f64),
            "udp_socket" => return Some(self.udp as f64),
            _ => return None,
        };
        Some(self.tcp[code] as f64)
    }
}

/// The `n`th whitespace-separated column of a line.
fn column(line: &[u8], n: usize) -> Option<&[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .nth(n)
}

fn parse_hex(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 8 {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        let d = (c as char).to_digit(16)?;
        n = (n << 4) | d;
    }
    Some(n)
}

/// The data lines of a `/proc/net/*` table (the header line skipped).
fn data_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
        .skip(1)
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
}

/// Add the sockets of a `tcp`/`tcp6` table to `tcp`.
pub fn count_tcp(text: &[u8], tcp: &mut [u64; 16]) {
    for line in data_lines(text) {
        if let Some(code) = column(line, 3).and_then(parse_hex) {
            if let Some(slot) = tcp.get_mut(code as usize) {
                *slot += 1;
            }
        }
    }
}

/// The number of sockets of a `udp`/`udp6` table.
pub fn count_udp(text: &[u8]) -> u64 {
    data_lines(text).filter(|l| column(l, 3).is_some()).count() as u64
}

/// The number of non-datagram sockets of the `unix` table (`Type` is the fifth column:
/// 1 stream, 2 datagram, 5 seqpacket).
pub fn count_unix_non_dgram(text: &[u8]) -> u64 {
    const SOCK_DGRAM: u32 = 2;
    data_lines(text)
        .filter(|l| {
            column(l, 4)
                .and_then(parse_hex)
                .is_some_and(|t| t != SOCK_DGRAM)
        })
        .count() as u64
}

/// The socket count of the `<key>: inuse N` line of a `sockstat` file (`UDP`, `UDP6`).
pub fn sockstat_inuse(text: &[u8], key: &str) -> Option<u64> {
    text.split(|&b| b == b'\n').find_map(|line| {
        let rest = line.strip_prefix(key.as_bytes())?.strip_prefix(b":")?;
        let mut words = rest
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        while let Some(w) = words.next() {
            if w == b"inuse" {
                return std::str::from_utf8(words.next()?).ok()?.parse().ok();
            }
        }
        None
    })
}

/// Where TCP or unix-domain counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Netlink,
    ProcFiles,
}

/// Where UDP counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UdpVia {
    Sockstat,
    Tables,
}

/// The netstat plugin.
#[derive(Debug)]
pub struct NetstatSource {
    emitter: Emitter,
    interval: u64,
    net_dir: PathBuf,
    want_tcp: bool,
    want_udp: bool,
    want_unix: bool,
    tcp_via: Via,
    unix_via: Via,
    udp_via: UdpVia,
    diag: DiagSocket,
    sockstat: KeptFile,
    sockstat6: KeptFile,
    buf: Vec<u8>,
    /// Scratch path for the tables of `net_dir`.
    path: PathBuf,
}

impl NetstatSource {
    /// Build from the plugin config.
    pub fn new(
        common: &PluginCommon,
        ctx: &HostContext,
        agent_interval: u64,
        proc_root: &Path,
    ) -> Self {
        let interval = effective_interval(common.metrics_collection_interval, agent_interval);
        let emitter = Emitter::new("netstat", common, &FIELDS, ctx, interval);
        let live = proc_root == Path::new(super::DEFAULT_PROC_ROOT);
        let via = if live { Via::Netlink } else { Via::ProcFiles };
        let net_dir = proc_root.join("net");
        NetstatSource {
            want_tcp: emitter.wants_any(|f| f.starts_with("tcp_") && f != "tcp_none"),
            want_udp: emitter.wants("udp_socket"),
            want_unix: emitter.wants("tcp_none"),
            emitter,
            interval,
            tcp_via: via,
            unix_via: via,
            udp_via: UdpVia::Sockstat,
            diag: DiagSocket::default(),
            sockstat: KeptFile::single_record(net_dir.join("sockstat")),
            sockstat6: KeptFile::single_record(net_dir.join("sockstat6")),
            net_dir,
            buf: Vec::with_capacity(16 * 1024),
            path: PathBuf::new(),
        }
    }

    /// Whether this configuration can ever produce a datum.
    pub fn is_productive(&self) -> bool {
        !self.emitter.is_empty()
    }

    /// Read one table; `Ok(false)` when it does not exist.
    fn read_table(&mut self, name: &str) -> Result<bool, CollectError> {
        self.path.clone_from(&self.net_dir);
        self.path.push(name);
        match read_into(&self.path, &mut self.buf) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(CollectError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Read one IPv4/IPv6 table: `true` when it was read. A missing table is not an error; a
    /// table that exists but cannot be read is remembered in `last_err`.
    fn read_inet(&mut self, name: &str, last_err: &mut Option<CollectError>) -> bool {
        match self.read_table(name) {
            Ok(found) => found,
            Err(e) => {
                *last_err = Some(e);
                false
            }
        }
    }

    /// UDP sockets of both families from `sockstat` and `sockstat6`; `None` when `sockstat`
    /// cannot be read or has no `UDP:` line (or `sockstat6` exists without a `UDP6:` line).
    fn udp_from_sockstat(&mut self) -> Option<u64> {
        if let Err(e) = self.sockstat.read(&mut self.buf) {
            tracing::debug!(path = %self.sockstat.path().display(), error = %e, "netstat: no sockstat, counting the UDP tables");
            return None;
        }
        let v4 = sockstat_inuse(&self.buf, "UDP")?;
        let v6 = match self.sockstat6.read(&mut self.buf) {
            Ok(()) => sockstat_inuse(&self.buf, "UDP6")?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => {
                tracing::debug!(path = %self.sockstat6.path().display(), error = %e, "netstat: sockstat6 unreadable, counting the UDP tables");
                return None;
            }
        };
        Some(v4 + v6)
    }

    /// Count the configured socket kinds once.
    pub fn count(&mut self) -> Result<NetstatCounts, CollectError> {
        let mut counts = NetstatCounts::default();
        let mut found_inet = false;
        let mut last_err = None;
        if self.want_tcp && self.tcp_via == Via::Netlink {
            match self.diag.count_tcp(&mut counts.tcp) {
                Ok(()) => found_inet = true,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "netstat: netlink socket counting unavailable, reading the proc files from now on"
                    );
                    counts.tcp = [0; 16];
                    self.tcp_via = Via::ProcFiles;
                }
            }
        }
        if self.want_tcp && self.tcp_via == Via::ProcFiles {
            for name in ["tcp", "tcp6"] {
                if self.read_inet(name, &mut last_err) {
                    found_inet = true;
                    count_tcp(&self.buf, &mut counts.tcp);
                }
            }
        }
        if self.want_udp && self.udp_via == UdpVia::Sockstat {
            match self.udp_from_sockstat() {
                Some(n) => {
                    found_inet = true;
                    counts.udp = n;
                }
                None => self.udp_via = UdpVia::Tables,
            }
        }
        if self.want_udp && self.udp_via == UdpVia::Tables {
            for name in ["udp", "udp6"] {
                if self.read_inet(name, &mut last_err) {
                    found_inet = true;
                    counts.udp += count_udp(&self.buf);
                }
            }
        }
        if (self.want_tcp || self.want_udp) && !found_inet {
            return Err(last_err.unwrap_or_else(|| CollectError::Read {
                path: self.net_dir.join("tcp"),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no socket tables"),
            }));
        }
        if self.want_unix && self.unix_via == Via::Netlink {
            match self.diag.count_unix_non_dgram() {
                Ok(n) => counts.unix_non_dgram = n,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "netstat: netlink unix socket counting unavailable, reading the proc file from now on"
                    );
                    self.unix_via = Via::ProcFiles;
                }
            }
        }
        if self.want_unix && self.unix_via == Via::ProcFiles && self.read_table("unix")? {
            counts.unix_non_dgram = count_unix_non_dgram(&self.buf);
        }
        Ok(counts)
    }
}

impl MetricSource for NetstatSource {
    fn plugin(&self) -> &'static str {
        "netstat"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        let counts = self.count()?;
        self.emitter.emit(now_ms, &[], |f| counts.field(f), out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hostwatch_model::Dimension;

    use crate::collect::testutil::{measuring as common, proc_fixture as fixture_root, value_of};

    fn all() -> PluginCommon {
        common(&FIELDS.map(|(f, _)| f))
    }

    fn get(out: &[MetricDatum], name: &str) -> Option<f64> {
        value_of(out, name, None)
    }

    #[test]
    fn counts_ipv4_and_ipv6() {
        let ctx = HostContext {
            host: Some("h".into()),
            ..Default::default()
        };
        let mut src = NetstatSource::new(&all(), &ctx, 60, &fixture_root("netstat-basic"));
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 13);
        // tcp: 2 LISTEN, 3 ESTABLISHED, 1 TIME_WAIT, 1 SYN_SENT, 1 CLOSE_WAIT, 1 unknown (0C)
        // tcp6: 1 LISTEN, 1 ESTABLISHED, 1 FIN_WAIT1, 1 FIN_WAIT2, 1 LAST_ACK, 1 CLOSING,
        //       1 CLOSE, 1 SYN_RECV
        let expect = [
            ("netstat_tcp_listen", 3.0),
            ("netstat_tcp_established", 4.0),
            ("netstat_tcp_time_wait", 1.0),
            ("netstat_tcp_syn_sent", 1.0),
            ("netstat_tcp_syn_recv", 1.0),
            ("netstat_tcp_close_wait", 1.0),
            ("netstat_tcp_fin_wait1", 1.0),
            ("netstat_tcp_fin_wait2", 1.0),
            ("netstat_tcp_last_ack", 1.0),
            ("netstat_tcp_closing", 1.0),
            ("netstat_tcp_close", 1.0),
            // udp: 2 sockets, udp6: 1 socket
            ("netstat_udp_socket", 3.0),
            // unix: 3 stream + 1 seqpacket (+ 2 datagram, not counted)
            ("netstat_tcp_none", 4.0),
        ];
        for (name, v) in expect {
            assert_eq!(get(&out, name), Some(v), "{name}");
        }
        for d in &out {
            assert_eq!(d.unit, Unit::Count);
            assert_eq!(d.dimensions, vec![Dimension::new("host", "h")]);
        }
    }

    #[test]
    fn ipv4_only_host() {
        let mut src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("netstat-ipv4-only"),
        );
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(get(&out, "netstat_tcp_established"), Some(1.0));
        assert_eq!(get(&out, "netstat_tcp_listen"), Some(1.0));
        assert_eq!(get(&out, "netstat_udp_socket"), Some(1.0));
        assert_eq!(get(&out, "netstat_tcp_none"), Some(0.0), "no unix table");
    }

    #[test]
    fn only_configured_fields_are_read() {
        // Only udp asked for: the tcp and unix tables are not read.
        let mut src = NetstatSource::new(
            &common(&["udp_socket"]),
            &HostContext::default(),
            60,
            &fixture_root("netstat-ipv4-only"),
        );
        assert!(src.want_udp && !src.want_tcp && !src.want_unix);
        let mut out = Vec::new();
        src.collect(0, &mut out).unwrap();
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn no_tables_is_an_error() {
        let mut src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("does-not-exist"),
        );
        let mut out = Vec::new();
        assert!(src.collect(0, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn line_parsing() {
        let mut tcp = [0u64; 16];
        count_tcp(
            b"  sl  local_address rem_address   st\n   0: 0100007F:0CEA 00000000:0000 0A x\n\n   1: bad\n   2: 0:0 0:0 ZZ\n   3: 0:0 0:0 01",
            &mut tcp,
        );
        assert_eq!(tcp[0x0A], 1);
        assert_eq!(tcp[0x01], 1);
        assert_eq!(tcp.iter().sum::<u64>(), 2);
        assert_eq!(count_udp(b"header\n"), 0);
        assert_eq!(count_udp(b""), 0);
        assert_eq!(parse_hex(b"0B"), Some(11));
        assert_eq!(parse_hex(b"0x"), None);
    }

    #[test]
    fn fixture_roots_use_the_proc_files() {
        let src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("netstat-basic"),
        );
        assert_eq!(
            (src.tcp_via, src.unix_via),
            (Via::ProcFiles, Via::ProcFiles)
        );
        let src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            Path::new(crate::collect::DEFAULT_PROC_ROOT),
        );
        assert_eq!((src.tcp_via, src.unix_via), (Via::Netlink, Via::Netlink));
    }

    /// Against the machine running the tests (skipped without `/proc/net/tcp`): netlink and
    /// the proc files agree on the listening sockets (stable over a few milliseconds).
    #[test]
    fn live_proc_smoke() {
        let root = Path::new(crate::collect::DEFAULT_PROC_ROOT);
        if !root.join("net/tcp").exists() {
            return;
        }
        let mut src = NetstatSource::new(&all(), &HostContext::default(), 60, root);
        let start = std::time::Instant::now();
        let first = src.count().unwrap();
        let netlink_time = start.elapsed();
        if src.tcp_via != Via::Netlink {
            eprintln!("netstat live: netlink unavailable here, proc files used");
            return;
        }
        let mut files = NetstatSource::new(&all(), &HostContext::default(), 60, root);
        files.tcp_via = Via::ProcFiles;
        files.unix_via = Via::ProcFiles;
        files.udp_via = UdpVia::Tables;
        let start = std::time::Instant::now();
        let by_files = files.count().unwrap();
        let files_time = start.elapsed();
        let again = src.count().unwrap();
        assert!(
            src.diag.is_open(),
            "the netlink socket is kept between ticks"
        );
        let mut per_family = NetstatSource::new(&all(), &HostContext::default(), 60, root);
        per_family.diag.force_per_family();
        let by_family = per_family.count().unwrap();
        eprintln!(
            "netstat live: one-walk dump {}, per family {by_family:?}",
            if src.diag.per_family() {
                "refused"
            } else {
                "used"
            }
        );
        eprintln!(
            "netstat live: netlink {first:?} in {netlink_time:?}; proc files {by_files:?} in {files_time:?}"
        );
        // Other tests open and close sockets meanwhile: a figure of one source must fall
        // between two of the other taken around it, on one of a few tries.
        assert_eq!(src.udp_via, UdpVia::Sockstat, "sockstat is read on Linux");
        type Pick = fn(&NetstatCounts) -> u64;
        let checks: [(&str, Pick, bool); 3] = [
            ("listen, proc files", |c| c.tcp[0x0A], false),
            ("listen, one dump per family", |c| c.tcp[0x0A], true),
            ("udp, tables against sockstat", |c| c.udp, false),
        ];
        for (what, pick, family) in checks {
            let mut tries = Vec::new();
            let agreed = (0..10).any(|_| {
                let a = pick(&src.count().unwrap());
                let other = if family { &mut per_family } else { &mut files };
                let b = pick(&other.count().unwrap());
                let c = pick(&src.count().unwrap());
                tries.push((a, b, c));
                (a.min(c)..=a.max(c)).contains(&b)
            });
            assert!(agreed, "{what}: (netlink/sockstat, other, again) {tries:?}");
        }
        eprintln!(
            "netstat live: unix non-datagram: netlink {} / {} (via {:?}), proc file {}",
            first.unix_non_dgram, again.unix_non_dgram, src.unix_via, by_files.unix_non_dgram
        );
    }

    #[test]
    fn udp_from_sockstat_counters() {
        // sockstat says 5 + 2; the tables (which would say 1) are not read.
        let mut src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("netstat-sockstat"),
        );
        let c = src.count().unwrap();
        assert_eq!(c.udp, 7);
        assert_eq!(src.udp_via, UdpVia::Sockstat);
        assert_eq!(c.tcp[0x01], 1, "tcp still from its table");
        // Without sockstat6 (no IPv6): the IPv4 count alone.
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("net");
        std::fs::create_dir(&net).unwrap();
        std::fs::write(net.join("sockstat"), "UDP: inuse 3 mem 0\n").unwrap();
        let mut src = NetstatSource::new(
            &common(&["udp_socket"]),
            &HostContext::default(),
            60,
            dir.path(),
        );
        assert_eq!(src.count().unwrap().udp, 3);
        // A sockstat without a UDP line: the tables from then on (even once it has one).
        std::fs::write(net.join("sockstat"), "TCP: inuse 1\n").unwrap();
        std::fs::write(
            net.join("udp"),
            "  sl local rem st\n 0: 0:0 0:0 07\n 1: 0:0 0:0 07\n",
        )
        .unwrap();
        let mut src = NetstatSource::new(
            &common(&["udp_socket"]),
            &HostContext::default(),
            60,
            dir.path(),
        );
        assert_eq!(src.count().unwrap().udp, 2);
        assert_eq!(src.udp_via, UdpVia::Tables);
        std::fs::write(net.join("sockstat"), "UDP: inuse 9 mem 0\n").unwrap();
        assert_eq!(src.count().unwrap().udp, 2);
    }

    #[test]
    fn sockstat_parsing() {
        let text =
            b"sockets: used 9\nTCP: inuse 4 orphan 0 tw 1\nUDP: inuse 5 mem 3\nUDPLITE: inuse 1\n";
        assert_eq!(sockstat_inuse(text, "UDP"), Some(5));
        assert_eq!(sockstat_inuse(text, "TCP"), Some(4));
        assert_eq!(sockstat_inuse(text, "UDPLITE"), Some(1));
        assert_eq!(sockstat_inuse(text, "UDP6"), None);
        assert_eq!(sockstat_inuse(b"UDP: inuse\n", "UDP"), None);
        assert_eq!(sockstat_inuse(b"UDP: inuse x\n", "UDP"), None);
        assert_eq!(sockstat_inuse(b"UDP6: inuse 2\n", "UDP6"), Some(2));
    }
}
