//! Line reader over one open file.
//!
//! # Design
//!
//! A [`LineReader`] owns one open file handle and reads it sequentially
//! from a start offset (normally the checkpointed offset) into a reused
//! read buffer. Bytes are appended to a pending buffer from which lines are
//! cut:
//!
//! * Lines end with the configured [`LineDelimiter`]: `\n` for UTF-8 and
//!   every other encoding that keeps ASCII bytes as they are (the default),
//!   or the UTF-16 newline code unit (`0A 00` little-endian, `00 0A`
//!   big-endian). UTF-16 works in 2-byte code units counted from the start
//!   offset, which is always a line boundary: a `0A` byte at an odd
//!   position is part of some other character, never a newline, and lines
//!   and chunks are only ever cut at even positions.
//! * One trailing carriage return (`\r`, or its UTF-16 code unit) is
//!   stripped (CRLF files). Every line carries `end_offset`, the file
//!   offset just *after* its terminator: the value to checkpoint once the
//!   line is acknowledged.
//! * A final line without a terminator is held back until it is completed.
//!   After an idle period of the caller's choosing,
//!   [`LineReader::flush_partial`] returns it with [`LineKind::Partial`]. If
//!   the rest of that line arrives later it is returned as a separate line;
//!   a bare terminator completing a flushed partial yields no empty line.
//!   In UTF-16 a trailing odd byte (half a code unit, still being written)
//!   stays held back.
//! * A line whose content exceeds `max_line_bytes` (default
//!   [`DEFAULT_MAX_LINE_BYTES`] = 1,048,576 − 200) is split into pieces of at
//!   most that size: every piece but the last has [`LineKind::Chunk`], the
//!   last has [`LineKind::Complete`]. No byte is dropped. With `\n` lines a
//!   cut is moved back by up to three bytes so it does not split a UTF-8
//!   sequence; in UTF-16 the limit is rounded down to whole code units and
//!   a cut is moved back by one unit so it does not split a surrogate pair.
//! * At end of file the reader checks, in order:
//!   1. **truncation**: the open file is now shorter than the read position
//!      (copytruncate). Held-back bytes are discarded, reading restarts at
//!      0 and [`ReadEvent::Truncated`] is returned.
//!   2. **deletion**: the path no longer exists. The handle has been read
//!      to its end; [`ReadEvent::Deleted`] is returned.
//!   3. **rotation**: the path now names another device/inode (rename and
//!      create). The old handle has been read to its end;
//!      [`ReadEvent::Rotated`] is returned so the caller opens the new file
//!      from offset 0.
//!
//!   Otherwise `Ok(None)`: caught up, poll again later.
//!
//! The reader stays usable after `Rotated`/`Deleted`: a writer that still
//! holds the old file open may append more, and further calls return it.
//! The caller decides how long to keep draining, then calls
//! [`LineReader::flush_partial`] to collect any held-back bytes before
//! dropping the reader.
//!
//! # Invariants
//!
//! * `offset()` is the file offset after the last byte returned; lines are
//!   returned in file order with strictly increasing `end_offset` (until a
//!   truncation restarts at 0).
//! * `offset() - start offset` is always a multiple of the delimiter's code
//!   unit size ([`LineDelimiter::unit`]).
//! * The concatenation of returned pieces plus stripped terminators equals
//!   the bytes of the file between the start offset and `offset()`.
//! * After `next_event` returns anything but a line, at most
//!   `max_line_bytes` bytes are held back, plus possibly one trailing
//!   carriage return (which `flush_partial` strips) and, in UTF-16, one odd
//!   byte.
//!
//! # Limits
//!
//! Truncation is detected by size only: if a file is truncated and then
//! grows past the old read position before the next check, it goes
//! unnoticed here; callers that care compare fingerprints periodically.
//! Rotation detection needs device/inode numbers and is inactive on
//! platforms without them (deletion is still detected). Chunk cuts respect
//! UTF-8 and UTF-16 sequences only; in other multi-byte encodings (e.g.
//! Shift_JIS, GBK) a cut through an over-long line may split a character,
//! which then decodes as replacement characters on both sides.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fingerprint::dev_inode;

/// Default maximum size of one returned line or chunk, in bytes.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1_048_576 - 200;
/// Default size of the reused read buffer, in bytes.
pub const DEFAULT_READ_BUFFER_BYTES: usize = 64 * 1024;

/// Errors from the line reader.
#[derive(Debug, Error)]
pub enum ReaderError {
    /// An I/O operation failed.
    #[error("I/O error reading {path}: {source}")]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// How lines end in a file's bytes. Pick it from the file's encoding with
/// [`crate::encoding::Decoder::line_delimiter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineDelimiter {
    /// `\n`, one byte, optionally preceded by `\r`: UTF-8 and every
    /// encoding that keeps ASCII bytes as they are.
    #[default]
    Newline,
    /// UTF-16 little-endian: the code unit `0A 00` on a 2-byte boundary,
    /// optionally preceded by `0D 00`.
    Utf16Le,
    /// UTF-16 big-endian: the code unit `00 0A` on a 2-byte boundary,
    /// optionally preceded by `00 0D`.
    Utf16Be,
}

impl LineDelimiter {
    /// Bytes per code unit: lines end, and are cut, only at multiples of
    /// this counted from the reader's start offset.
    pub fn unit(self) -> usize {
        match self {
            Self::Newline => 1,
            Self::Utf16Le | Self::Utf16Be => 2,
        }
    }

    /// Whether the code unit starting at `bytes[0]` is a carriage return.
    fn is_cr(self, bytes: &[u8]) -> bool {
        match self {
            Self::Newline => bytes.first() == Some(&b'\r'),
            Self::Utf16Le => bytes.get(..2) == Some(&[0x0D, 0x00][..]),
            Self::Utf16Be => bytes.get(..2) == Some(&[0x00, 0x0D][..]),
        }
    }

    /// Index of the first newline code unit in `hay`, whose start is a code
    /// unit boundary. Only whole units are considered.
    fn find_newline(self, hay: &[u8]) -> Option<usize> {
        match self {
            Self::Newline => memchr::memchr(b'\n', hay),
            Self::Utf16Le => {
                memchr::memchr_iter(b'\n', hay).find(|&i| i % 2 == 0 && hay.get(i + 1) == Some(&0))
            }
            Self::Utf16Be => memchr::memchr_iter(b'\n', hay)
                .find(|&i| i % 2 == 1 && hay.get(i - 1) == Some(&0))
                .map(|i| i - 1),
        }
    }

    /// Where to cut a chunk of at most `max` bytes from the front of
    /// `bytes` (which is longer than `max`) without splitting a UTF-8
    /// sequence or a UTF-16 surrogate pair, unless the piece would be empty.
    fn chunk_len(self, bytes: &[u8], max: usize) -> usize {
        match self {
            Self::Newline => (0..4)
                .map(|back| max - back.min(max))
                .take_while(|&c| c > 0)
                .find(|&c| bytes.get(c).is_some_and(|&b| !is_utf8_continuation(b)))
                .unwrap_or(max),
            Self::Utf16Le | Self::Utf16Be => {
                // The high byte of the last unit before the cut.
                let hi = if self == Self::Utf16Le {
                    max.checked_sub(1)
                } else {
                    max.checked_sub(2)
                };
                let high_surrogate = hi
                    .and_then(|i| bytes.get(i))
                    .is_some_and(|&b| b & 0xFC == 0xD8);
                if high_surrogate && max > 2 {
                    max - 2
                } else {
                    max
                }
            }
        }
    }
}

/// Reader settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Maximum bytes per returned line or chunk (at least one code unit;
    /// rounded down to whole code units).
    pub max_line_bytes: usize,
    /// Size of the reused read buffer (at least 1).
    pub read_buffer_bytes: usize,
    /// How lines end (from the file's encoding).
    pub delimiter: LineDelimiter,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            read_buffer_bytes: DEFAULT_READ_BUFFER_BYTES,
            delimiter: LineDelimiter::Newline,
        }
    }
}

/// How a returned line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Ended by a newline (also the last piece of a split long line).
    Complete,
    /// A non-final piece of a line longer than the maximum size.
    Chunk,
    /// Held-back bytes without a newline, returned by `flush_partial`.
    Partial,
}

/// One line (or piece of a line) read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Line content without its newline and without one trailing carriage
    /// return.
    pub bytes: Vec<u8>,
    /// File offset after this line: checkpoint this once acknowledged.
    pub end_offset: u64,
    /// How the line ends.
    pub kind: LineKind,
}

/// What [`LineReader::next_event`] observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEvent {
    /// A line or chunk.
    Line(Line),
    /// The file shrank below the read position; reading restarted at 0.
    Truncated {
        /// The read position before the truncation.
        previous_offset: u64,
        /// Held-back bytes that were discarded.
        discarded: usize,
    },
    /// The path now names another file; the old one is read to its end.
    Rotated {
        /// Bytes held back (see [`LineReader::flush_partial`]).
        held_back: usize,
    },
    /// The path no longer exists; the open file is read to its end.
    Deleted {
        /// Bytes held back (see [`LineReader::flush_partial`]).
        held_back: usize,
    },
}

/// Reads lines from one open file. See the module documentation.
#[derive(Debug)]
pub struct LineReader {
    file: File,
    path: PathBuf,
    identity: (u64, u64),
    opts: ReaderOptions,
    /// Bytes read but not yet fully returned; `pending[0]` is at file
    /// offset `pending_start`.
    pending: Vec<u8>,
    pending_start: u64,
    /// Index in `pending` of the first byte not yet returned.
    head: usize,
    /// No newline exists in `pending[head..scanned]`; `scanned - head` is a
    /// multiple of the code unit.
    scanned: usize,
    read_buf: Vec<u8>,
    /// The last returned line was a flushed partial.
    after_partial: bool,
}

fn is_utf8_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

impl LineReader {
    /// Open `path` and position at `start_offset`.
    pub fn open(
        path: impl Into<PathBuf>,
        start_offset: u64,
        opts: ReaderOptions,
    ) -> Result<Self, ReaderError> {
        let path = path.into();
        let file = File::open(&path).map_err(|source| ReaderError::Io {
            path: path.clone(),
            source,
        })?;
        Self::from_file(file, path, start_offset, opts)
    }

    /// Use an already open handle (e.g. one just fingerprinted), positioned
    /// at `start_offset`. `path` is where the file is watched for rotation.
    pub fn from_file(
        mut file: File,
        path: impl Into<PathBuf>,
        start_offset: u64,
        opts: ReaderOptions,
    ) -> Result<Self, ReaderError> {
        let path = path.into();
        let io_err = |source| ReaderError::Io {
            path: path.clone(),
            source,
        };
        let meta = file.metadata().map_err(io_err)?;
        file.seek(SeekFrom::Start(start_offset)).map_err(io_err)?;
        let unit = opts.delimiter.unit();
        let opts = ReaderOptions {
            max_line_bytes: (opts.max_line_bytes / unit * unit).max(unit),
            read_buffer_bytes: opts.read_buffer_bytes.max(1),
            delimiter: opts.delimiter,
        };
        Ok(Self {
            file,
            identity: dev_inode(&meta),
            opts,
            pending: Vec::new(),
            pending_start: start_offset,
            head: 0,
            scanned: 0,
            read_buf: vec![0; opts.read_buffer_bytes],
            after_partial: false,
            path,
        })
    }

    /// The watched path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open handle, e.g. to fingerprint it (fingerprinting preserves
    /// the stream position; do not seek it yourself).
    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// The settings in effect (after rounding `max_line_bytes`).
    pub fn options(&self) -> ReaderOptions {
        self.opts
    }

    /// File offset after the last returned byte.
    pub fn offset(&self) -> u64 {
        self.pending_start + self.head as u64
    }

    /// File offset up to which bytes have been read.
    pub fn read_position(&self) -> u64 {
        self.pending_start + self.pending.len() as u64
    }

    /// Bytes read but not yet returned.
    pub fn held_back(&self) -> usize {
        self.pending.len() - self.head
    }

    fn io_err(&self, source: io::Error) -> ReaderError {
        ReaderError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Return the next line, or report truncation/rotation/deletion, or
    /// `Ok(None)` when caught up with the file.
    pub fn next_event(&mut self) -> Result<Option<ReadEvent>, ReaderError> {
        loop {
            if let Some(line) = self.take_line() {
                return Ok(Some(ReadEvent::Line(line)));
            }
            self.compact();
            let n = loop {
                match self.file.read(&mut self.read_buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(self.io_err(e)),
                }
            };
            if n > 0 {
                self.pending.extend_from_slice(&self.read_buf[..n]);
                continue;
            }
            return self.at_eof();
        }
    }

    fn at_eof(&mut self) -> Result<Option<ReadEvent>, ReaderError> {
        let len = match self.file.metadata() {
            Ok(m) => m.len(),
            Err(e) => return Err(self.io_err(e)),
        };
        let read_pos = self.read_position();
        if len < read_pos {
            if let Err(e) = self.file.seek(SeekFrom::Start(0)) {
                return Err(self.io_err(e));
            }
            let discarded = self.held_back();
            self.pending.clear();
            self.pending_start = 0;
            self.head = 0;
            self.scanned = 0;
            self.after_partial = false;
            return Ok(Some(ReadEvent::Truncated {
                previous_offset: read_pos,
                discarded,
            }));
        }
        let held_back = self.held_back();
        match fs::metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Ok(Some(ReadEvent::Deleted { held_back }))
            }
            Err(e) => Err(self.io_err(e)),
            Ok(m) if dev_inode(&m) != self.identity => Ok(Some(ReadEvent::Rotated { held_back })),
            Ok(_) => Ok(None),
        }
    }

    /// Drop returned bytes from the front of the pending buffer.
    fn compact(&mut self) {
        if self.head > 0 {
            self.pending.drain(..self.head);
            self.pending_start += self.head as u64;
            self.scanned -= self.head;
            self.head = 0;
        }
    }

    /// End of the whole code units held back: `head` plus a multiple of the
    /// code unit size.
    fn aligned_end(&self) -> usize {
        let unit = self.opts.delimiter.unit();
        self.head + (self.pending.len() - self.head) / unit * unit
    }

    /// Whether the code unit at `at` is a carriage return.
    fn is_cr_at(&self, at: usize) -> bool {
        self.pending
            .get(at..)
            .is_some_and(|rest| self.opts.delimiter.is_cr(rest))
    }

    /// Cut the next complete line or over-long chunk from the pending bytes.
    fn take_line(&mut self) -> Option<Line> {
        let delimiter = self.opts.delimiter;
        let unit = delimiter.unit();
        loop {
            let max = self.opts.max_line_bytes;
            let end_units = self.aligned_end();
            let newline = delimiter
                .find_newline(&self.pending[self.scanned..end_units])
                .map(|i| self.scanned + i);
            self.scanned = newline.unwrap_or(end_units);
            match newline {
                Some(nl) => {
                    let mut end = nl;
                    if end >= self.head + unit && self.is_cr_at(end - unit) {
                        end -= unit;
                    }
                    let len = end - self.head;
                    if len <= max {
                        let bytes = self.pending[self.head..end].to_vec();
                        self.head = nl + unit;
                        self.scanned = self.head;
                        if len == 0 && self.after_partial {
                            // Terminator of a line already flushed as partial.
                            self.after_partial = false;
                            continue;
                        }
                        self.after_partial = false;
                        return Some(Line {
                            bytes,
                            end_offset: self.offset(),
                            kind: LineKind::Complete,
                        });
                    }
                    return Some(self.take_chunk());
                }
                None => {
                    // A trailing carriage return may be the start of a CRLF
                    // terminator: do not count it, so a line of exactly
                    // `max` bytes plus CRLF split across reads is not cut
                    // before its carriage return.
                    let mut avail = end_units - self.head;
                    if avail >= unit && self.is_cr_at(end_units - unit) {
                        avail -= unit;
                    }
                    if avail > max {
                        return Some(self.take_chunk());
                    }
                    return None;
                }
            }
        }
    }

    /// Cut `max_line_bytes` (or a little less, to keep a character whole)
    /// from the front. Requires more than `max_line_bytes` pending.
    fn take_chunk(&mut self) -> Line {
        let max = self.opts.max_line_bytes;
        let cut = self.head
            + self
                .opts
                .delimiter
                .chunk_len(&self.pending[self.head..], max);
        let bytes = self.pending[self.head..cut].to_vec();
        self.head = cut;
        self.scanned = self.scanned.max(self.head);
        self.after_partial = false;
        Line {
            bytes,
            end_offset: self.offset(),
            kind: LineKind::Chunk,
        }
    }

    /// Return buffered data without waiting for a newline. If a complete
    /// line or chunk is still buffered it is returned first (so nothing is
    /// reordered); otherwise the held-back whole code units, with one
    /// trailing carriage return stripped, as [`LineKind::Partial`]. `None`
    /// if nothing (or, in UTF-16, only an odd byte) is held back.
    pub fn flush_partial(&mut self) -> Option<Line> {
        if let Some(line) = self.take_line() {
            return Some(line);
        }
        let unit = self.opts.delimiter.unit();
        let whole = self.aligned_end();
        if whole == self.head {
            return None;
        }
        let mut end = whole;
        if self.is_cr_at(end - unit) {
            end -= unit;
        }
        let bytes = self.pending[self.head..end].to_vec();
        self.head = whole;
        self.scanned = self.head;
        self.after_partial = true;
        Some(Line {
            bytes,
            end_offset: self.offset(),
            kind: LineKind::Partial,
        })
    }
}

#[cfg(test)]
mod tests;
