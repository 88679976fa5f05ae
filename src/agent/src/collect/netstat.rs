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
//! number of non-datagram lines of `<proc>/net/unix`, read only when `tcp_none` is configured.
//! Two deliberate differences: a unix socket shared by several processes is counted once
//! (the reference counts it once per owning process), and `udp_socket` counts only UDP sockets
//! (the reference also adds unix-domain datagram sockets to it, through the same library quirk).
//!
//! Cost: reading `/proc/net/tcp` makes the kernel walk the whole TCP established hash table
//! (262,144 buckets on a 24 GiB machine) once per `read` call, which measured 4–15 ms of kernel
//! time per file on the reference machine even with a handful of sockets. When the proc root is
//! the default `/proc` (the agent's own network namespace), TCP sockets are therefore counted
//! with a netlink `sock_diag` dump instead, which reports the same sockets and the same state
//! codes (request sockets as `SYN_RECV`, time-wait sockets by their sub-state). A dump still
//! walks the whole table (about 0.3 ms per walk on the reference machine), so the plugin asks
//! in the older TCP-only request form, which the kernel answers for both address families in
//! one walk; a kernel that refuses it gets one dump per family (two walks) from then on. If
//! netlink is unavailable (no `inet_diag` in the kernel, a seccomp filter), the plugin falls
//! back to the proc files for the rest of the run, with one warning. UDP and unix tables are small and stay on the proc files. A non-default proc root
//! (fixtures, a host's `/proc` mounted into a container) always uses the proc files.
//!
//! Invariants:
//! - the files are read into one reused buffer and scanned as bytes: no allocation per line;
//!   the netlink socket and its receive buffer are opened once and kept across ticks;
//! - a missing `tcp6`/`udp6`/`unix` (IPv6 or unix sockets compiled out) counts as 0; if none of
//!   `tcp`, `tcp6`, `udp`, `udp6` can be read, the tick is a [`CollectError`];
//! - malformed lines (fewer than four columns, non-hex state) are skipped.

use super::dimensions::HostContext;
use super::emit::Emitter;
use super::processes::read_into;
use super::{effective_interval, CollectError, MetricSource};
use crate::config::PluginCommon;
use hostwatch_model::{MetricDatum, Unit};
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// Counting TCP sockets by state with a netlink `sock_diag` dump.
mod diag {
    use std::io;

    const NLMSG_HDRLEN: usize = 16;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    pub(super) const SOCK_DIAG_BY_FAMILY: u16 = 20;
    /// The older TCP-only dump request; its replies carry the same type.
    pub(super) const TCPDIAG_GETSOCK: u16 = 18;
    const NLM_F_REQUEST: u16 = 0x1;
    const NLM_F_DUMP: u16 = 0x300;
    const IPPROTO_TCP: u8 = 6;
    /// `AF_INET`, `AF_INET6`.
    pub(super) const FAMILIES: [u8; 2] = [2, 10];
    /// Receive buffer: the kernel fills dump messages up to 32 KiB.
    pub(super) const RECV_BUF: usize = 64 * 1024;

    /// A dump request (`nlmsghdr` + `inet_diag_req_v2`) for every TCP state of `family`.
    pub(super) fn request(family: u8, seq: u32) -> [u8; 72] {
        let mut r = [0u8; 72];
        r[0..4].copy_from_slice(&72u32.to_ne_bytes());
        r[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        r[8..12].copy_from_slice(&seq.to_ne_bytes());
        // r[12..16]: port id 0 = the kernel.
        r[16] = family;
        r[17] = IPPROTO_TCP;
        // r[18]: no extensions; r[19]: padding.
        r[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // all states
                                                            // r[24..72]: socket id, all zero = any.
        r
    }

    /// A dump request in the older TCP-only form (`nlmsghdr` + `inet_diag_req`), for every
    /// TCP state. The kernel answers it with the sockets of **both** address families in one
    /// walk of its socket tables (the family byte of this form is ignored), which halves the
    /// kernel's work against one [`request`] per family.
    pub(super) fn request_both_families(seq: u32) -> [u8; 76] {
        let mut r = [0u8; 76];
        r[0..4].copy_from_slice(&76u32.to_ne_bytes());
        r[4..6].copy_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
        r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        r[8..12].copy_from_slice(&seq.to_ne_bytes());
        // r[16..20]: family (ignored), address lengths, no extensions; r[20..68]: socket id,
        // all zero = any; then the state mask; r[72..76]: unused table mask.
        r[68..72].copy_from_slice(&u32::MAX.to_ne_bytes());
        r
    }

    /// Whether a dump is finished after a datagram.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Step {
        More,
        Done,
    }

    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(u32::from_ne_bytes(bytes))
    }

    fn malformed() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, "malformed sock_diag reply")
    }

    /// Add the sockets of one received datagram of dump `seq` to `tcp` (indexed by state);
    /// socket messages have type `kind` (that of the request). Messages of other sequence
    /// numbers (a late reply to an abandoned dump) are ignored.
    pub(super) fn parse(
        mut data: &[u8],
        seq: u32,
        kind_wanted: u16,
        tcp: &mut [u64; 16],
    ) -> io::Result<Step> {
        while data.len() >= NLMSG_HDRLEN {
            let len = u32_at(data, 0).ok_or_else(malformed)? as usize;
            if len < NLMSG_HDRLEN || len > data.len() {
                return Err(malformed());
            }
            let kind = u16::from_ne_bytes([data[4], data[5]]);
            let msg_seq = u32_at(data, 8).ok_or_else(malformed)?;
            let payload = &data[NLMSG_HDRLEN..len];
            if msg_seq == seq {
                match kind {
                    NLMSG_DONE | NLMSG_ERROR => {
                        // Both start with an int: 0 or a negative errno.
                        let code = u32_at(payload, 0).map_or(0, |c| c as i32);
                        if code < 0 {
                            return Err(io::Error::from_raw_os_error(-code));
                        }
                        if kind == NLMSG_DONE {
                            return Ok(Step::Done);
                        }
                    }
                    k if k == kind_wanted => {
                        // inet_diag_msg: family, state, ...
                        let state = *payload.get(1).ok_or_else(malformed)?;
                        if let Some(slot) = tcp.get_mut(usize::from(state)) {
                            *slot += 1;
                        }
                    }
                    _ => {}
                }
            }
            let aligned = (len + 3) & !3;
            data = data.get(aligned..).unwrap_or_default();
        }
        Ok(Step::More)
    }
}

/// A `sock_diag` netlink socket kept open across ticks, with its receive buffer.
#[derive(Debug, Default)]
struct DiagSocket {
    fd: Option<rustix::fd::OwnedFd>,
    buf: Vec<u8>,
    /// Sequence number of the last dump request (replies to older dumps are ignored).
    seq: u32,
    /// The kernel refused the one-walk request for both families: one dump per family.
    per_family: bool,
}

impl DiagSocket {
    /// Count TCP sockets of both address families by state. The socket is opened on first use
    /// and kept; after an error it is closed (a dump left half-read must not linger).
    fn count_tcp(&mut self, tcp: &mut [u64; 16]) -> std::io::Result<()> {
        let mut fd = match self.fd.take() {
            Some(fd) => fd,
            None => open_diag_socket()?,
        };
        if self.buf.len() != diag::RECV_BUF {
            self.buf.resize(diag::RECV_BUF, 0);
        }
        if !self.per_family {
            self.seq = self.seq.wrapping_add(1);
            let req = diag::request_both_families(self.seq);
            match dump_tcp(
                &fd,
                &req,
                self.seq,
                diag::TCPDIAG_GETSOCK,
                &mut self.buf,
                tcp,
            ) {
                Ok(()) => {
                    self.fd = Some(fd);
                    return Ok(());
                }
                Err(e) => {
                    // A kernel without the older request form: one dump per family from now
                    // on, on a fresh socket.
                    tracing::debug!(error = %e, "netstat: one-walk TCP dump failed, one dump per family from now on");
                    *tcp = [0; 16];
                    self.per_family = true;
                    drop(fd);
                    fd = open_diag_socket()?;
                }
            }
        }
        for family in diag::FAMILIES {
            self.seq = self.seq.wrapping_add(1);
            let req = diag::request(family, self.seq);
            let kind = diag::SOCK_DIAG_BY_FAMILY;
            dump_tcp(&fd, &req, self.seq, kind, &mut self.buf, tcp)?;
        }
        self.fd = Some(fd);
        Ok(())
    }
}

fn open_diag_socket() -> std::io::Result<rustix::fd::OwnedFd> {
    use rustix::net::{netlink, sockopt, AddressFamily, SocketFlags};
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        rustix::net::SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(netlink::SOCK_DIAG),
    )?;
    sockopt::set_socket_timeout(&fd, sockopt::Timeout::Recv, Some(Duration::from_secs(2)))?;
    Ok(fd)
}

/// Send dump request `req` (sequence number `seq`, socket messages of type `kind`) and count
/// the TCP sockets of the reply into `tcp` by state.
fn dump_tcp(
    fd: &rustix::fd::OwnedFd,
    req: &[u8],
    seq: u32,
    kind: u16,
    buf: &mut [u8],
    tcp: &mut [u64; 16],
) -> std::io::Result<()> {
    use rustix::net::{RecvFlags, SendFlags};
    rustix::net::send(fd, req, SendFlags::empty())?;
    loop {
        let (n, full) = rustix::net::recv(fd, &mut *buf, RecvFlags::empty())?;
        if full > n {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "sock_diag reply truncated",
            ));
        }
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if diag::parse(&buf[..n], seq, kind, tcp)? == diag::Step::Done {
            return Ok(());
        }
    }
}

/// Where TCP counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TcpVia {
    Netlink,
    ProcFiles,
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
    tcp_via: TcpVia,
    diag: DiagSocket,
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
        NetstatSource {
            want_tcp: emitter.wants_any(|f| f.starts_with("tcp_") && f != "tcp_none"),
            want_udp: emitter.wants("udp_socket"),
            want_unix: emitter.wants("tcp_none"),
            emitter,
            interval,
            net_dir: proc_root.join("net"),
            tcp_via: if proc_root == Path::new(super::DEFAULT_PROC_ROOT) {
                TcpVia::Netlink
            } else {
                TcpVia::ProcFiles
            },
            diag: DiagSocket::default(),
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

    /// Count the configured socket kinds once.
    pub fn count(&mut self) -> Result<NetstatCounts, CollectError> {
        let mut counts = NetstatCounts::default();
        let mut found_inet = false;
        let mut last_err = None;
        if self.want_tcp && self.tcp_via == TcpVia::Netlink {
            match self.diag.count_tcp(&mut counts.tcp) {
                Ok(()) => found_inet = true,
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "netstat: netlink socket counting unavailable, reading the proc files from now on"
                    );
                    counts.tcp = [0; 16];
                    self.tcp_via = TcpVia::ProcFiles;
                }
            }
        }
        if self.want_tcp && self.tcp_via == TcpVia::ProcFiles {
            for name in ["tcp", "tcp6"] {
                if self.read_inet(name, &mut last_err) {
                    found_inet = true;
                    count_tcp(&self.buf, &mut counts.tcp);
                }
            }
        }
        if self.want_udp {
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
        if self.want_unix && self.read_table("unix")? {
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

    /// One netlink message: header + payload, padded to 4 bytes.
    fn nlmsg(kind: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = 16 + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    fn diag_msg(state: u8) -> Vec<u8> {
        // inet_diag_msg is 72 bytes: family, state, timer, retrans, id (48), 5 × u32.
        let mut p = vec![0u8; 72];
        p[0] = 2;
        p[1] = state;
        p
    }

    #[test]
    fn netlink_request_and_reply_parsing() {
        let r = diag::request(10, 7);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 72);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), 20);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 7);
        assert_eq!((r[16], r[17]), (10, 6));
        assert_eq!(&r[20..24], &[0xff; 4]);
        assert!(r[24..].iter().all(|&b| b == 0));

        let r = diag::request_both_families(9);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 76);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), 18);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 9);
        assert_eq!(&r[68..72], &[0xff; 4], "every state");
        assert!(r[12..68].iter().chain(&r[72..]).all(|&b| b == 0));
        // Its replies carry its type; the other type is not counted.
        let mut tcp = [0u64; 16];
        let mut dgram = nlmsg(18, 9, &diag_msg(0x0A));
        dgram.extend(nlmsg(20, 9, &diag_msg(0x01)));
        assert_eq!(
            diag::parse(&dgram, 9, 18, &mut tcp).unwrap(),
            diag::Step::More
        );
        assert_eq!((tcp[0x0A], tcp[0x01]), (1, 0));

        let mut tcp = [0u64; 16];
        let mut dgram = Vec::new();
        dgram.extend(nlmsg(20, 1, &diag_msg(0x01)));
        dgram.extend(nlmsg(20, 1, &diag_msg(0x0A)));
        dgram.extend(nlmsg(20, 1, &diag_msg(0x01)));
        dgram.extend(nlmsg(20, 99, &diag_msg(0x06))); // another dump: ignored
        dgram.extend(nlmsg(20, 1, &diag_msg(0x0F))); // unknown state: slot 15, not a field
        assert_eq!(
            diag::parse(&dgram, 1, 20, &mut tcp).unwrap(),
            diag::Step::More
        );
        assert_eq!((tcp[0x01], tcp[0x0A], tcp[0x06]), (2, 1, 0));
        let done = nlmsg(3, 1, &0i32.to_ne_bytes());
        assert_eq!(
            diag::parse(&done, 1, 20, &mut tcp).unwrap(),
            diag::Step::Done
        );
        // Errors: an error reply, a DONE carrying an error, a length beyond the datagram.
        let err = nlmsg(2, 1, &(-13i32).to_ne_bytes());
        assert_eq!(
            diag::parse(&err, 1, 20, &mut tcp)
                .unwrap_err()
                .raw_os_error(),
            Some(13)
        );
        let bad_done = nlmsg(3, 1, &(-4i32).to_ne_bytes());
        assert!(diag::parse(&bad_done, 1, 20, &mut tcp).is_err());
        let mut short = nlmsg(20, 1, &diag_msg(1));
        short.truncate(40);
        assert!(diag::parse(&short, 1, 20, &mut tcp).is_err());
        assert!(
            diag::parse(&nlmsg(20, 1, &[]), 1, 20, &mut tcp).is_err(),
            "no state byte"
        );
        assert_eq!(tcp[0x01], 2, "nothing counted from the bad messages");
    }

    #[test]
    fn fixture_roots_use_the_proc_files() {
        let src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            &fixture_root("netstat-basic"),
        );
        assert_eq!(src.tcp_via, TcpVia::ProcFiles);
        let src = NetstatSource::new(
            &all(),
            &HostContext::default(),
            60,
            Path::new(crate::collect::DEFAULT_PROC_ROOT),
        );
        assert_eq!(src.tcp_via, TcpVia::Netlink);
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
        if src.tcp_via != TcpVia::Netlink {
            eprintln!("netstat live: netlink unavailable here, proc files used");
            return;
        }
        let mut files = NetstatSource::new(&all(), &HostContext::default(), 60, root);
        files.tcp_via = TcpVia::ProcFiles;
        let start = std::time::Instant::now();
        let by_files = files.count().unwrap();
        let files_time = start.elapsed();
        let again = src.count().unwrap();
        assert!(
            src.diag.fd.is_some(),
            "the netlink socket is kept between ticks"
        );
        let mut per_family = NetstatSource::new(&all(), &HostContext::default(), 60, root);
        per_family.diag.per_family = true;
        let by_family = per_family.count().unwrap();
        eprintln!(
            "netstat live: one-walk dump {}, per family {by_family:?}",
            if src.diag.per_family {
                "refused"
            } else {
                "used"
            }
        );
        eprintln!(
            "netstat live: netlink {first:?} in {netlink_time:?}; proc files {by_files:?} in {files_time:?}"
        );
        let listen = |c: &NetstatCounts| c.tcp[0x0A];
        let (lo, hi) = (
            listen(&first).min(listen(&again)),
            listen(&first).max(listen(&again)),
        );
        assert!(
            (lo..=hi).contains(&listen(&by_files)),
            "listen: netlink {lo}..={hi}, files {}",
            listen(&by_files)
        );
        assert!(
            (lo..=hi).contains(&listen(&by_family)),
            "listen: netlink {lo}..={hi}, per family {}",
            listen(&by_family)
        );
    }
}
