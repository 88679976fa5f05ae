//! Log file tailing primitives for the hostwatch agent.
//!
//! This crate has no dependency on the agent's event model. It provides
//! three building blocks that the agent composes into a tailer:
//!
//! * [`fingerprint`]: the identity of a file (checksum of its first bytes
//!   plus device and inode), never its path.
//! * [`checkpoint`]: a crash-safe store of the last *acknowledged* byte
//!   offset per fingerprint, persisted as a versioned JSON file.
//! * [`reader`]: a line reader over one open file that holds back partial
//!   lines, splits over-long lines without losing bytes and reports
//!   truncation and rotation.
//!
//! The intended flow: open a file, fingerprint it, look up its checkpoint,
//! start a [`reader::LineReader`] at the checkpointed offset, ship each
//! line together with `(fingerprint, end_offset)`, and call
//! [`checkpoint::CheckpointStore::ack`] once the downstream has delivered it.

pub mod checkpoint;
pub mod fingerprint;
pub mod reader;

pub use checkpoint::{AckOutcome, Checkpoint, CheckpointError, CheckpointStore};
pub use fingerprint::{Fingerprint, Fingerprinter, Identity};
pub use reader::{Line, LineKind, LineReader, ReadEvent, ReaderError, ReaderOptions};
