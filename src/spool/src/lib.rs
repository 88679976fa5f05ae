//! The hostwatch agent's bounded on-disk queue ("spool").
//!
//! The agent encodes each outgoing batch (opaque bytes here) and appends it
//! to the spool *before* sending it. A sender reads pending records oldest
//! first, sends them and acknowledges each one once the destination
//! accepted it; read checkpoints upstream advance only after that ack. The
//! spool survives SIGKILL and power loss at any instant, is bounded in
//! bytes and, when full, pushes back ([`SpoolError::Full`], or a wait with
//! [`SharedSpool`]) instead of dropping anything.
//!
//! # Use
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! use hostwatch_spool::{Spool, SpoolOptions};
//! let mut spool = Spool::open(tmp.path(), SpoolOptions { max_bytes: 1 << 20, segment_bytes: 64 << 10 })?;
//! let a = spool.append(b"batch one")?;
//! let b = spool.append(b"batch two")?;
//! spool.sync()?; // one fsync for both: now they survive power loss
//! for seq in spool.peek_after(None, 10) {
//!     let payload = spool.read(seq)?;
//!     // ... send payload; once the destination accepted it:
//!     spool.ack(seq)?;
//! }
//! spool.sync_acks()?;
//! assert_eq!((a, b, spool.stats().records), (0, 1, 0));
//! # Ok(()) }
//! ```
//!
//! # Durability contract
//!
//! * [`Spool::append`] writes the record with `pwrite`; it is in the page
//!   cache, so it survives a crash or SIGKILL of the process at once.
//!   It survives **power loss only after [`Spool::sync`]** returns, which
//!   fsyncs the segment data (and the directory when a segment was
//!   created). Callers group several appends under one sync.
//! * [`Spool::ack`] writes an entry to the ack log at once; it is fsynced
//!   by [`Spool::sync`] or [`Spool::sync_acks`]. After power loss **at most
//!   the acks since the last successful sync are forgotten**, and those
//!   records are delivered again (at-least-once delivery; never loss).
//! * Sequence numbers ([`Seq`]) strictly increase and never repeat, across
//!   restarts and crashes, even when every record was acked and deleted and
//!   even when a crash lost unsynced records (they are reserved durably in
//!   blocks; a restart may skip numbers).
//! * Bound: the sum of the live segment files' sizes never exceeds
//!   `max_bytes` through appends. This counts acknowledged records that
//!   share a segment with a pending one, so the disk bound is exact; their
//!   space is freed when the whole segment is acknowledged and deleted.
//!   (It implies the weaker bound "pending bytes ≤ `max_bytes`".)
//!   Choose `segment_bytes` well below `max_bytes` (1/16 to 1/64): one
//!   record that is never acknowledged pins its whole segment.
//! * One process at a time: `open` takes an exclusive `flock` on the
//!   `lock` file; a second open, in this or another process, gets
//!   [`SpoolError::Locked`] (after a retry of about 0.6 s, which covers a
//!   descriptor briefly inherited by a child between fork and exec). The
//!   kernel drops the lock when a process dies.
//!
//! # Recovery
//!
//! [`Spool::open`] scans every segment and validates each record's CRC.
//! A torn tail of the newest segment (an interrupted append: partial header
//! or payload, zeros, garbage with no valid record after it) is truncated.
//! A damaged record elsewhere is skipped by resynchronising on the next
//! valid record, counted and reported in [`RecoveryReport`]; nothing
//! panics. Then the ack log is replayed and fully acknowledged segments
//! are deleted. [`Spool::read`] re-verifies the CRC and returns
//! [`SpoolError::Corrupt`] rather than damaged bytes.
//!
//! # Memory
//!
//! Payloads stay on disk and are read on demand; memory holds a 24-byte
//! index entry per live record plus one small struct per segment.
//!
//! # On-disk format (version 1)
//!
//! A spool directory holds:
//!
//! | file | content |
//! |------|---------|
//! | `lock` | empty; held with `flock(LOCK_EX \| LOCK_NB)` while open |
//! | `meta` | format version and sequence reservation (20 bytes) |
//! | `acks.log` | append-only ack log |
//! | `seg-NNNNNNNNNNNNNNNNNNNN.dat` | a segment: records back to back, no file header; `N…` is the first sequence number the segment may hold, 20 zero-padded decimal digits |
//! | `*.tmp` | an interrupted atomic rewrite; removed at open |
//!
//! Other files are ignored. All integers are little-endian; every CRC is
//! CRC-32/IEEE (the zlib / Ethernet polynomial).
//!
//! **Record** (in a segment), 24-byte header then the payload:
//!
//! | bytes | field |
//! |-------|-------|
//! | 0..4 | magic `HWSR` (`48 57 53 52`) |
//! | 4 | record version, `1` |
//! | 5..8 | reserved, zero |
//! | 8..16 | sequence number, u64 |
//! | 16..20 | payload length, u32 |
//! | 20..24 | CRC-32 of header bytes 0..20 followed by the payload |
//! | 24.. | payload |
//!
//! Within a segment sequence numbers strictly increase (with possible
//! gaps) and stay below the next segment's name.
//!
//! **Ack log** `acks.log`: an 8-byte header, magic `HWSA`, version `1`,
//! three zero bytes; then 12-byte entries: acknowledged sequence number
//! (u64) and the CRC-32 of those 8 bytes (u32). Compacted (rewritten to the
//! acks of records still on disk via `acks.log.tmp`, fsync, rename,
//! directory fsync) once it holds more than max(4096, 2 × such acks)
//! entries.
//!
//! **Meta** `meta` (20 bytes): magic `HWSM`, spool format version `1`,
//! three zero bytes, `seq_limit` (u64: every sequence number ever handed
//! out is below it), CRC-32 of bytes 0..16. Rewritten atomically (tmp,
//! fsync, rename, directory fsync) to reserve 2^20 numbers at a time.
//!
//! **Versioning.** `meta` and `acks.log` carry a version byte; a version
//! newer than this build makes `open` fail with
//! [`SpoolError::UnsupportedVersion`] rather than misread data. Records
//! carry one too; a record with another version does not validate. A
//! future format changes these bytes.

mod acklog;
mod error;
mod fsutil;
mod index;
mod layout;
mod lock;
mod meta;
mod queue;
mod record;
mod scan;
mod shared;
mod types;

pub use error::{Result, SpoolError};
pub use queue::Spool;
pub use record::record_bytes;
pub use shared::SharedSpool;
pub use types::{RecoveryReport, SpoolOptions, SpoolStats};

/// A record's sequence number: assigned by [`Spool::append`], strictly
/// increasing, never repeated (also across restarts).
pub type Seq = u64;
