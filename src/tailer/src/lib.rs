//! Log file tailing primitives for the hostwatch agent.
//!
//! This crate has no dependency on the agent's event model. Everything in
//! it is synchronous; nothing but the reader does I/O, and the current time
//! is always passed in by the caller, so every step is testable with an
//! injected clock.
//!
//! Building blocks:
//!
//! * [`fingerprint`]: the identity of a file (checksum of its first bytes
//!   plus device and inode), never its path.
//! * [`checkpoint`]: a crash-safe store of the last *acknowledged* byte
//!   offset per fingerprint, persisted as a versioned JSON file.
//! * [`reader`]: a line reader over one open file that holds back partial
//!   lines, splits over-long lines without losing bytes, reports
//!   truncation and rotation, and splits UTF-16 files on their own
//!   newlines.
//! * [`encoding`]: a per-file decoder from the `encoding` setting to UTF-8
//!   that never drops a line.
//! * [`multiline`]: joins lines into events by a start rule, with a quiet
//!   timeout and a size limit that splits instead of discarding.
//! * [`timestamp`]: `timestamp_format` parsing, per-stream fallbacks and
//!   CloudWatch's age limits.
//! * [`filter`]: include/exclude filters on whole events.
//!
//! # Flow
//!
//! ```text
//! LineReader ──bytes──► Decoder ──text──► Assembler ──Event──► Stamper ──► Filters ──► batch
//!  (offsets)            (U+FFFD)          (end_offset)         (millis)    (keep?)
//! ```
//!
//! 1. Open the file, fingerprint it, look up its checkpoint.
//! 2. Choose the [`Decoder`] from the `encoding` setting, resolve a UTF-16
//!    byte order with [`Decoder::sniff_bom`] on the file's first bytes, and
//!    start a [`LineReader`] at the checkpointed offset with
//!    [`ReaderOptions::delimiter`] set to [`Decoder::line_delimiter`].
//! 3. [`Decoder::decode`] each line and [`Assembler::push`] the text with
//!    the line's `end_offset`; call [`Assembler::poll`] on a timer and
//!    [`Assembler::flush`] at shutdown or the end of a rotated file.
//! 4. [`Stamper::stamp`] each completed [`Event`] (optionally [`trim`] the
//!    timestamp), check it with [`age_check`], then apply [`Filters::keep`].
//! 5. Ship the event with `(fingerprint, event.end_offset)` and call
//!    [`checkpoint::CheckpointStore::ack`] once the downstream has
//!    delivered it. An event's `end_offset` is handed out only once the
//!    event is complete, so a checkpoint never passes a half-assembled
//!    event; a dropped (filtered or too old) event must still be acked in
//!    order, or its offset re-read after a restart.
//!
//! # Throughput
//!
//! Steps 2 and 3 avoid per-line work where they can: newlines are found
//! with `memchr`, valid UTF-8 is borrowed rather than copied, the default
//! start rule is a byte check, and regexes only ever run `is_match`. The
//! ignored test `tests/throughput.rs` measures the reader, decoder and
//! assembler together (run it with
//! `cargo test -p hostwatch-tailer --release -- --ignored --nocapture`).

pub mod checkpoint;
pub mod encoding;
pub mod filter;
pub mod fingerprint;
pub mod multiline;
pub mod reader;
pub mod timestamp;

pub use checkpoint::{AckOutcome, Checkpoint, CheckpointError, CheckpointStore};
pub use encoding::{Decoded, Decoder, EncodingError};
pub use filter::{FilterError, FilterKind, Filters};
pub use fingerprint::{Fingerprint, Fingerprinter, Identity};
pub use multiline::{Assembler, AssemblerOptions, Event, StartRule};
pub use reader::{
    Line, LineDelimiter, LineKind, LineReader, ReadEvent, ReaderError, ReaderOptions,
};
pub use timestamp::{
    age_check, trim, Age, Found, Stamp, StampSource, Stamper, TimestampError, TimestampFormat, Zone,
};
