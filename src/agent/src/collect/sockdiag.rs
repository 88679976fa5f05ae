//! Counting sockets with netlink `sock_diag` dumps: TCP sockets by state, unix-domain sockets
//! by type. Used by the `netstat` plugin in the agent's own network namespace.
//!
//! # Wire format (native byte order, as the kernel's netlink)
//!
//! Every message starts with a 16-byte `nlmsghdr`: length (u32, header included), type (u16),
//! flags (u16), sequence number (u32), port id (u32). Messages are padded to 4 bytes.
//!
//! Requests (flags `NLM_F_REQUEST | NLM_F_DUMP` = `0x301`, port id 0 = the kernel):
//! - TCP, one walk for both address families: type 18 (`TCPDIAG_GETSOCK`) + the old
//!   `inet_diag_req` (60 bytes): family (ignored by this form), source and destination prefix
//!   lengths, extensions, the 48-byte socket id (all zero = any), the state mask at bytes
//!   52..56 of the body ([`TCP_STATES`]), and an unused table mask. 76 bytes in all.
//! - TCP, one address family (kernels that refuse the old form): type 20
//!   (`SOCK_DIAG_BY_FAMILY`) + `inet_diag_req_v2` (56 bytes): family, protocol (6), extensions,
//!   padding, the state mask (u32, [`TCP_STATES`]), the socket id. 72 bytes in all.
//! - Unix-domain: type 20 + `unix_diag_req` (24 bytes): family (1), protocol (0), padding
//!   (u16), the state mask (u32, all ones), inode (0 = any), what to show (0 = nothing extra),
//!   cookie (2 × u32). 40 bytes in all.
//!
//! Replies: one message per socket, of the request's type, whose body starts with the family
//! byte and then, at body offset 1, the byte this module counts by: the TCP state for
//! `inet_diag_msg`, the socket type for `unix_diag_msg` (1 stream, 2 datagram, 5 seqpacket).
//! The dump ends with `NLMSG_DONE` (type 3) or `NLMSG_ERROR` (type 2), both carrying an int:
//! 0 or a negative errno.
//!
//! # Cost
//!
//! A TCP dump walks the kernel's whole established-connection hash table, however few sockets
//! it holds (262,144 buckets on a 24 GiB machine), which is why TCP is asked for in the old
//! one-walk form. Measured on the reference machine (best of 50 dumps, 4 sockets): 0.2 ms per
//! walk on one kernel, 1.06 ms on a later one (6.18) on slower memory. The state mask names
//! the twelve connection states only (`ESTABLISHED` .. `NEW_SYN_RECV`, bits 1–12): since
//! Linux 6.7 an all-ones mask also asks for "bound but inactive" sockets (bit 13), which makes
//! the kernel walk its bind hash table as well (another 0.27 ms there) for sockets that
//! `/proc/net/tcp` never lists and no `netstat` field counts. A unix dump walks the
//! namespace's small unix hash table and sends 32 bytes per socket, against a formatted line
//! per socket for `/proc/net/unix`.
//!
//! Invariants: the socket and its 64 KiB receive buffer are opened once and kept; after any
//! error the socket is closed (a dump left half-read must not linger) and opened afresh on the
//! next use; replies to an older dump (another sequence number) are ignored.

use rustix::fd::OwnedFd;
use std::io;
use std::time::Duration;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// The dump request type of the current interface (and of its replies).
pub(crate) const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// The older TCP-only dump request; its replies carry the same type.
pub(crate) const TCPDIAG_GETSOCK: u16 = 18;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IPPROTO_TCP: u8 = 6;
const AF_UNIX: u8 = 1;
/// `AF_INET`, `AF_INET6`.
pub(crate) const FAMILIES: [u8; 2] = [2, 10];
/// The unix socket type not counted as `tcp_none`.
const SOCK_DGRAM: u8 = 2;
/// The TCP states asked for: bits 1 (`ESTABLISHED`) to 12 (`NEW_SYN_RECV`, request sockets,
/// reported as `SYN_RECV`). Bit 13 (`BOUND_INACTIVE`, Linux 6.7+) is left out on purpose: it
/// adds a walk of the bind hash table for sockets no field counts; older kernels ignore
/// unknown bits either way.
pub(crate) const TCP_STATES: u32 = 0x1ffe;
/// Receive buffer: the kernel fills dump messages up to 32 KiB.
const RECV_BUF: usize = 64 * 1024;

fn header(r: &mut [u8], kind: u16, seq: u32) {
    let len = u32::try_from(r.len()).unwrap_or(u32::MAX);
    r[0..4].copy_from_slice(&len.to_ne_bytes());
    r[4..6].copy_from_slice(&kind.to_ne_bytes());
    r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    r[8..12].copy_from_slice(&seq.to_ne_bytes());
    // r[12..16]: port id 0 = the kernel.
}

/// A dump request (`nlmsghdr` + `inet_diag_req_v2`) for the [`TCP_STATES`] of `family`.
pub(crate) fn request(family: u8, seq: u32) -> [u8; 72] {
    let mut r = [0u8; 72];
    header(&mut r, SOCK_DIAG_BY_FAMILY, seq);
    r[16] = family;
    r[17] = IPPROTO_TCP;
    // r[18]: no extensions; r[19]: padding.
    r[20..24].copy_from_slice(&TCP_STATES.to_ne_bytes());
    // r[24..72]: socket id, all zero = any.
    r
}

/// A dump request in the older TCP-only form (`nlmsghdr` + `inet_diag_req`), for the
/// [`TCP_STATES`]. The kernel answers it with the sockets of **both** address families in one walk of
/// its socket tables (the family byte of this form is ignored), which halves the kernel's
/// work against one [`request`] per family.
pub(crate) fn request_both_families(seq: u32) -> [u8; 76] {
    let mut r = [0u8; 76];
    header(&mut r, TCPDIAG_GETSOCK, seq);
    // r[16..20]: family (ignored), address lengths, no extensions; r[20..68]: socket id,
    // all zero = any; then the state mask; r[72..76]: unused table mask.
    r[68..72].copy_from_slice(&TCP_STATES.to_ne_bytes());
    r
}

/// A dump request (`nlmsghdr` + `unix_diag_req`) for every unix-domain socket, nothing extra
/// shown.
pub(crate) fn unix_request(seq: u32) -> [u8; 40] {
    let mut r = [0u8; 40];
    header(&mut r, SOCK_DIAG_BY_FAMILY, seq);
    r[16] = AF_UNIX;
    // r[17]: protocol 0; r[18..20]: padding.
    r[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // all states
                                                        // r[24..40]: inode, show, cookie: 0.
    r
}

/// Whether a dump is finished after a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
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

/// Pass the counted byte (body offset 1) of every socket message of dump `seq` in one received
/// datagram to `on_socket`; socket messages have type `kind` (that of the request). Messages
/// of other sequence numbers (a late reply to an abandoned dump) are ignored.
pub(crate) fn parse(
    mut data: &[u8],
    seq: u32,
    kind: u16,
    mut on_socket: impl FnMut(u8),
) -> io::Result<Step> {
    while data.len() >= NLMSG_HDRLEN {
        let len = u32_at(data, 0).ok_or_else(malformed)? as usize;
        if len < NLMSG_HDRLEN || len > data.len() {
            return Err(malformed());
        }
        let msg_kind = u16::from_ne_bytes([data[4], data[5]]);
        let msg_seq = u32_at(data, 8).ok_or_else(malformed)?;
        let payload = &data[NLMSG_HDRLEN..len];
        if msg_seq == seq {
            match msg_kind {
                NLMSG_DONE | NLMSG_ERROR => {
                    // Both start with an int: 0 or a negative errno.
                    let code = u32_at(payload, 0).map_or(0, |c| c as i32);
                    if code < 0 {
                        return Err(io::Error::from_raw_os_error(-code));
                    }
                    if msg_kind == NLMSG_DONE {
                        return Ok(Step::Done);
                    }
                }
                k if k == kind => on_socket(*payload.get(1).ok_or_else(malformed)?),
                _ => {}
            }
        }
        let aligned = (len + 3) & !3;
        data = data.get(aligned..).unwrap_or_default();
    }
    Ok(Step::More)
}

/// A `sock_diag` netlink socket kept open across ticks, with its receive buffer.
#[derive(Debug, Default)]
pub(crate) struct DiagSocket {
    fd: Option<OwnedFd>,
    buf: Vec<u8>,
    /// Sequence number of the last dump request (replies to older dumps are ignored).
    seq: u32,
    /// The kernel refused the one-walk request for both families: one dump per family.
    per_family: bool,
}

impl DiagSocket {
    /// Count TCP sockets of both address families by state into `tcp` (indexed by the
    /// kernel's state code). The socket is opened on first use and kept.
    pub(crate) fn count_tcp(&mut self, tcp: &mut [u64; 16]) -> io::Result<()> {
        let mut counts = [0u64; 16];
        if !self.per_family {
            self.seq = self.seq.wrapping_add(1);
            let req = request_both_families(self.seq);
            match self.dump(&req, TCPDIAG_GETSOCK, &mut |state| bump(&mut counts, state)) {
                Ok(()) => {
                    add(tcp, &counts);
                    return Ok(());
                }
                Err(e) => {
                    // A kernel without the older request form: one dump per family from now
                    // on, counting afresh.
                    tracing::debug!(error = %e, "netstat: one-walk TCP dump failed, one dump per family from now on");
                    counts = [0; 16];
                    self.per_family = true;
                }
            }
        }
        for family in FAMILIES {
            self.seq = self.seq.wrapping_add(1);
            let req = request(family, self.seq);
            self.dump(&req, SOCK_DIAG_BY_FAMILY, &mut |state| {
                bump(&mut counts, state)
            })?;
        }
        add(tcp, &counts);
        Ok(())
    }

    /// The number of unix-domain sockets that are not datagram sockets.
    pub(crate) fn count_unix_non_dgram(&mut self) -> io::Result<u64> {
        self.seq = self.seq.wrapping_add(1);
        let req = unix_request(self.seq);
        let mut n = 0u64;
        self.dump(&req, SOCK_DIAG_BY_FAMILY, &mut |kind: u8| {
            if kind != SOCK_DGRAM {
                n += 1;
            }
        })?;
        Ok(n)
    }

    /// Send `req` and pass every socket of the reply to `on_socket`. Any error closes the
    /// socket.
    fn dump(&mut self, req: &[u8], kind: u16, on_socket: &mut dyn FnMut(u8)) -> io::Result<()> {
        let fd = match self.fd.take() {
            Some(fd) => fd,
            None => open_socket()?,
        };
        if self.buf.len() != RECV_BUF {
            self.buf.resize(RECV_BUF, 0);
        }
        let seq = self.seq;
        let result = exchange(&fd, req, seq, kind, &mut self.buf, on_socket);
        if result.is_ok() {
            self.fd = Some(fd);
        }
        result
    }

    /// Whether the socket is open (tests).
    #[cfg(test)]
    pub(crate) fn is_open(&self) -> bool {
        self.fd.is_some()
    }

    /// Whether TCP is dumped one family at a time.
    #[cfg(test)]
    pub(crate) fn per_family(&self) -> bool {
        self.per_family
    }

    /// Dump TCP one family at a time (tests).
    #[cfg(test)]
    pub(crate) fn force_per_family(&mut self) {
        self.per_family = true;
    }
}

/// Count one socket of TCP state `state`.
fn bump(counts: &mut [u64; 16], state: u8) {
    if let Some(slot) = counts.get_mut(usize::from(state)) {
        *slot += 1;
    }
}

fn add(tcp: &mut [u64; 16], counts: &[u64; 16]) {
    for (t, c) in tcp.iter_mut().zip(counts) {
        *t += c;
    }
}

fn open_socket() -> io::Result<OwnedFd> {
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

/// Send dump request `req` (sequence number `seq`, socket messages of type `kind`) and pass
/// every socket of the reply to `on_socket`.
fn exchange(
    fd: &OwnedFd,
    req: &[u8],
    seq: u32,
    kind: u16,
    buf: &mut [u8],
    on_socket: &mut dyn FnMut(u8),
) -> io::Result<()> {
    use rustix::net::{RecvFlags, SendFlags};
    rustix::net::send(fd, req, SendFlags::empty())?;
    loop {
        let (n, full) = rustix::net::recv(fd, &mut *buf, RecvFlags::empty())?;
        if full > n {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "sock_diag reply truncated",
            ));
        }
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if parse(&buf[..n], seq, kind, &mut *on_socket)? == Step::Done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn count_into(tcp: &mut [u64; 16]) -> impl FnMut(u8) + '_ {
        |state| bump(tcp, state)
    }

    #[test]
    fn netlink_request_and_reply_parsing() {
        let r = request(10, 7);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 72);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), 20);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 7);
        assert_eq!((r[16], r[17]), (10, 6));
        assert_eq!(&r[20..24], &0x1ffe_u32.to_ne_bytes(), "states 1..=12");
        assert!(r[24..].iter().all(|&b| b == 0));

        let r = request_both_families(9);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 76);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), 18);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 9);
        assert_eq!(&r[68..72], &0x1ffe_u32.to_ne_bytes(), "states 1..=12");
        assert!(r[12..68].iter().chain(&r[72..]).all(|&b| b == 0));
        // Its replies carry its type; the other type is not counted.
        let mut tcp = [0u64; 16];
        let mut dgram = nlmsg(18, 9, &diag_msg(0x0A));
        dgram.extend(nlmsg(20, 9, &diag_msg(0x01)));
        assert_eq!(
            parse(&dgram, 9, 18, count_into(&mut tcp)).unwrap(),
            Step::More
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
            parse(&dgram, 1, 20, count_into(&mut tcp)).unwrap(),
            Step::More
        );
        assert_eq!((tcp[0x01], tcp[0x0A], tcp[0x06]), (2, 1, 0));
        let done = nlmsg(3, 1, &0i32.to_ne_bytes());
        assert_eq!(
            parse(&done, 1, 20, count_into(&mut tcp)).unwrap(),
            Step::Done
        );
        // Errors: an error reply, a DONE carrying an error, a length beyond the datagram.
        let err = nlmsg(2, 1, &(-13i32).to_ne_bytes());
        assert_eq!(
            parse(&err, 1, 20, count_into(&mut tcp))
                .unwrap_err()
                .raw_os_error(),
            Some(13)
        );
        let bad_done = nlmsg(3, 1, &(-4i32).to_ne_bytes());
        assert!(parse(&bad_done, 1, 20, count_into(&mut tcp)).is_err());
        let mut short = nlmsg(20, 1, &diag_msg(1));
        short.truncate(40);
        assert!(parse(&short, 1, 20, count_into(&mut tcp)).is_err());
        assert!(
            parse(&nlmsg(20, 1, &[]), 1, 20, count_into(&mut tcp)).is_err(),
            "no state byte"
        );
        assert_eq!(tcp[0x01], 2, "nothing counted from the bad messages");
    }

    #[test]
    fn unix_request_and_reply_parsing() {
        let r = unix_request(5);
        assert_eq!(u32::from_ne_bytes(r[0..4].try_into().unwrap()), 40);
        assert_eq!(u16::from_ne_bytes(r[4..6].try_into().unwrap()), 20);
        assert_eq!(u16::from_ne_bytes(r[6..8].try_into().unwrap()), 0x301);
        assert_eq!(u32::from_ne_bytes(r[8..12].try_into().unwrap()), 5);
        assert_eq!((r[16], r[17]), (1, 0));
        assert_eq!(&r[20..24], &[0xff; 4], "every state");
        assert!(r[24..].iter().all(|&b| b == 0));
        // unix_diag_msg: family, type, state, pad, inode, cookie (16 bytes).
        let msg = |kind: u8| {
            let mut p = vec![0u8; 16];
            p[0] = 1;
            p[1] = kind;
            p
        };
        let mut dgram = Vec::new();
        for kind in [1, 2, 5, 1, 2] {
            dgram.extend(nlmsg(20, 5, &msg(kind)));
        }
        let mut kinds = Vec::new();
        assert_eq!(parse(&dgram, 5, 20, |k| kinds.push(k)).unwrap(), Step::More);
        assert_eq!(kinds, vec![1, 2, 5, 1, 2]);
    }

    /// Against the machine running the tests (skipped where netlink diagnostics are not
    /// available): the unix dump counts what `/proc/net/unix` lists, one walk or two agree.
    #[test]
    fn live_dumps() {
        let mut s = DiagSocket::default();
        let mut tcp = [0u64; 16];
        if let Err(e) = s.count_tcp(&mut tcp) {
            eprintln!("sock_diag unavailable here: {e}");
            return;
        }
        assert!(s.is_open(), "kept between dumps");
        let mut per_family = DiagSocket::default();
        per_family.force_per_family();
        // Listening sockets: one walk and two agree (other tests open and close listeners
        // meanwhile, so on one of a few tries).
        let mut tries = Vec::new();
        let agreed = (0..10).any(|_| {
            let mut one = [0u64; 16];
            let mut two = [0u64; 16];
            s.count_tcp(&mut one).unwrap();
            per_family.count_tcp(&mut two).unwrap();
            tries.push((one[0x0A], two[0x0A]));
            one[0x0A] == two[0x0A]
        });
        assert!(agreed, "listen (one walk, per family): {tries:?}");
        eprintln!("sock_diag: one walk refused: {}", s.per_family());
        let Ok(n) = s.count_unix_non_dgram() else {
            eprintln!("unix_diag unavailable here");
            return;
        };
        // Hold one stream socket pair so there is something to count.
        let (_a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let with_pair = s.count_unix_non_dgram().unwrap();
        assert!(with_pair >= 2, "{n} then {with_pair}");
        if let Ok(text) = std::fs::read("/proc/net/unix") {
            eprintln!(
                "unix: dump {with_pair}, /proc/net/unix non-datagram {}",
                crate::collect::netstat::count_unix_non_dgram(&text)
            );
        }
    }
}
