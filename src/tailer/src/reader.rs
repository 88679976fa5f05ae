//! Line reader over one open file.
//!
//! # Design
//!
//! A [`LineReader`] owns one open file handle and reads it sequentially
//! from a start offset (normally the checkpointed offset) into a reused
//! read buffer. Bytes are appended to a pending buffer from which lines are
//! cut:
//!
//! * Lines are split on `\n`; one trailing `\r` is stripped (CRLF files).
//!   Every line carries `end_offset`, the file offset just *after* its
//!   terminator: the value to checkpoint once the line is acknowledged.
//! * A final line without `\n` is held back until it is completed. After an
//!   idle period of the caller's choosing, [`LineReader::flush_partial`]
//!   returns it with [`LineKind::Partial`]. If the rest of that line arrives
//!   later it is returned as a separate line; a bare terminator completing
//!   a flushed partial yields no empty line.
//! * A line whose content exceeds `max_line_bytes` (default
//!   [`DEFAULT_MAX_LINE_BYTES`] = 1,048,576 − 200) is split into pieces of at
//!   most that size: every piece but the last has [`LineKind::Chunk`], the
//!   last has [`LineKind::Complete`]. No byte is dropped. A cut is moved back
//!   by up to three bytes so it does not split a UTF-8 sequence.
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
//! * The concatenation of returned pieces plus stripped terminators equals
//!   the bytes of the file between the start offset and `offset()`.
//! * After `next_event` returns anything but a line, at most
//!   `max_line_bytes` bytes are held back, plus possibly one trailing `\r`
//!   (which `flush_partial` strips).
//!
//! # Limits
//!
//! Truncation is detected by size only: if a file is truncated and then
//! grows past the old read position before the next check, it goes
//! unnoticed here; callers that care compare fingerprints periodically.
//! Rotation detection needs device/inode numbers and is inactive on
//! platforms without them (deletion is still detected).

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

/// Reader settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Maximum bytes per returned line or chunk (at least 1).
    pub max_line_bytes: usize,
    /// Size of the reused read buffer (at least 1).
    pub read_buffer_bytes: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        Self {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            read_buffer_bytes: DEFAULT_READ_BUFFER_BYTES,
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
    /// Line content without `\n` and without one trailing `\r`.
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
    /// No `\n` exists in `pending[head..scanned]`.
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
        let opts = ReaderOptions {
            max_line_bytes: opts.max_line_bytes.max(1),
            read_buffer_bytes: opts.read_buffer_bytes.max(1),
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

    /// Cut the next complete line or over-long chunk from the pending bytes.
    fn take_line(&mut self) -> Option<Line> {
        loop {
            let max = self.opts.max_line_bytes;
            let newline = self.pending[self.scanned..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| self.scanned + i);
            self.scanned = newline.unwrap_or(self.pending.len());
            match newline {
                Some(nl) => {
                    let mut end = nl;
                    if end > self.head && self.pending[end - 1] == b'\r' {
                        end -= 1;
                    }
                    let len = end - self.head;
                    if len <= max {
                        let bytes = self.pending[self.head..end].to_vec();
                        self.head = nl + 1;
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
                    // A trailing `\r` may be the start of a CRLF terminator:
                    // do not count it, so a line of exactly `max` bytes plus
                    // CRLF split across reads is not cut before its `\r`.
                    let mut avail = self.pending.len() - self.head;
                    if avail > 0 && self.pending.last() == Some(&b'\r') {
                        avail -= 1;
                    }
                    if avail > max {
                        return Some(self.take_chunk());
                    }
                    return None;
                }
            }
        }
    }

    /// Cut `max_line_bytes` (or up to three fewer, to keep a UTF-8 sequence
    /// whole) from the front. Requires more than `max_line_bytes` pending.
    fn take_chunk(&mut self) -> Line {
        let max = self.opts.max_line_bytes;
        let mut cut = self.head + max;
        for back in 0..4 {
            let c = self.head + max - back;
            if c <= self.head {
                break;
            }
            if !is_utf8_continuation(self.pending[c]) {
                cut = c;
                break;
            }
        }
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
    /// reordered); otherwise the held-back bytes, with one trailing `\r`
    /// stripped, as [`LineKind::Partial`]. `None` if nothing is held back.
    pub fn flush_partial(&mut self) -> Option<Line> {
        if let Some(line) = self.take_line() {
            return Some(line);
        }
        if self.head == self.pending.len() {
            return None;
        }
        let mut end = self.pending.len();
        if self.pending[end - 1] == b'\r' {
            end -= 1;
        }
        let bytes = self.pending[self.head..end].to_vec();
        self.head = self.pending.len();
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
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::io::Write;

    fn append(path: &Path, data: &[u8]) {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap()
            .write_all(data)
            .unwrap();
    }

    fn line(r: &mut LineReader) -> Line {
        match r.next_event().unwrap() {
            Some(ReadEvent::Line(l)) => l,
            other => panic!("expected a line, got {other:?}"),
        }
    }

    fn complete(bytes: &[u8], end_offset: u64) -> Line {
        Line {
            bytes: bytes.to_vec(),
            end_offset,
            kind: LineKind::Complete,
        }
    }

    /// Read every line until a non-line event; return lines and the event.
    fn drain(r: &mut LineReader) -> (Vec<Vec<u8>>, Option<ReadEvent>) {
        let mut out = Vec::new();
        loop {
            match r.next_event().unwrap() {
                Some(ReadEvent::Line(l)) => out.push(l.bytes),
                other => return (out, other),
            }
        }
    }

    #[test]
    fn partial_lines_are_held_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"a\nb");
        let mut r = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        assert_eq!(line(&mut r), complete(b"a", 2));
        assert_eq!(r.next_event().unwrap(), None);
        assert_eq!(r.held_back(), 1);
        append(&p, b"c\n");
        assert_eq!(line(&mut r), complete(b"bc", 5));
        assert_eq!(r.next_event().unwrap(), None);
        assert_eq!(r.flush_partial(), None);

        append(&p, b"tail\r");
        assert_eq!(r.next_event().unwrap(), None);
        let l = r.flush_partial().unwrap();
        assert_eq!(l.bytes, b"tail");
        assert_eq!(l.kind, LineKind::Partial);
        assert_eq!(l.end_offset, 10);
        // The terminator of the flushed partial yields no empty line.
        append(&p, b"\nnext\n");
        assert_eq!(line(&mut r), complete(b"next", 16));
        // A real empty line is still returned.
        append(&p, b"\n");
        assert_eq!(line(&mut r), complete(b"", 17));
    }

    #[test]
    fn start_offset_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"skip\r\na\r\nb\rc\r\n\r\n");
        let mut r = LineReader::open(&p, 6, ReaderOptions::default()).unwrap();
        assert_eq!(line(&mut r), complete(b"a", 9));
        assert_eq!(line(&mut r), complete(b"b\rc", 14));
        assert_eq!(line(&mut r), complete(b"", 16));
        assert_eq!(r.next_event().unwrap(), None);
        assert_eq!(r.offset(), 16);
    }

    #[test]
    fn long_lines_are_chunked_without_loss() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let long: Vec<u8> = (0..25u8).map(|i| b'a' + i).collect();
        append(&p, &long);
        append(&p, b"\r\nshort\n");
        let opts = ReaderOptions {
            max_line_bytes: 10,
            read_buffer_bytes: 4,
        };
        let mut r = LineReader::open(&p, 0, opts).unwrap();
        let a = line(&mut r);
        let b = line(&mut r);
        let c = line(&mut r);
        assert_eq!((a.kind, a.end_offset), (LineKind::Chunk, 10));
        assert_eq!((b.kind, b.end_offset), (LineKind::Chunk, 20));
        assert_eq!((c.kind, c.end_offset), (LineKind::Complete, 27));
        assert_eq!([a.bytes, b.bytes, c.bytes].concat(), long);
        assert_eq!(line(&mut r), complete(b"short", 33));
        assert_eq!(r.next_event().unwrap(), None);
    }

    #[test]
    fn long_line_without_newline_is_chunked_and_default_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let big = vec![b'x'; DEFAULT_MAX_LINE_BYTES * 2 + 5];
        append(&p, &big);
        let mut r = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        let a = line(&mut r);
        let b = line(&mut r);
        assert_eq!(a.bytes.len(), DEFAULT_MAX_LINE_BYTES);
        assert_eq!(b.bytes.len(), DEFAULT_MAX_LINE_BYTES);
        assert_eq!(b.kind, LineKind::Chunk);
        assert_eq!(r.next_event().unwrap(), None);
        assert_eq!(r.held_back(), 5);
        let c = r.flush_partial().unwrap();
        assert_eq!(c.bytes.len(), 5);
        assert_eq!(c.end_offset, big.len() as u64);
    }

    #[test]
    fn max_size_line_with_crlf_split_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"0123456789\r");
        let opts = ReaderOptions {
            max_line_bytes: 10,
            read_buffer_bytes: 64,
        };
        let mut r = LineReader::open(&p, 0, opts).unwrap();
        assert_eq!(r.next_event().unwrap(), None);
        append(&p, b"\n");
        assert_eq!(line(&mut r), complete(b"0123456789", 12));
        assert_eq!(r.next_event().unwrap(), None);
    }

    #[test]
    fn chunks_do_not_split_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        // "ab" then a 3-byte character straddling the 4-byte limit.
        let text = "ab\u{20ac}cd\u{20ac}\n";
        append(&p, text.as_bytes());
        let opts = ReaderOptions {
            max_line_bytes: 4,
            read_buffer_bytes: 64,
        };
        let mut r = LineReader::open(&p, 0, opts).unwrap();
        let (pieces, ev) = drain(&mut r);
        assert_eq!(ev, None);
        for piece in &pieces {
            assert!(std::str::from_utf8(piece).is_ok(), "{piece:?}");
        }
        assert_eq!(pieces.concat(), text.trim_end().as_bytes());
    }

    #[test]
    fn truncation_restarts_at_zero() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"one\ntwo\nthr");
        let mut r = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        let (lines, ev) = drain(&mut r);
        assert_eq!(lines, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(ev, None);
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&p, b"new\n");
        assert_eq!(
            r.next_event().unwrap(),
            Some(ReadEvent::Truncated {
                previous_offset: 11,
                discarded: 3
            })
        );
        assert_eq!(line(&mut r), complete(b"new", 4));
        assert_eq!(r.next_event().unwrap(), None);
    }

    #[test]
    fn start_beyond_end_is_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"x\n");
        let mut r = LineReader::open(&p, 100, ReaderOptions::default()).unwrap();
        assert_eq!(
            r.next_event().unwrap(),
            Some(ReadEvent::Truncated {
                previous_offset: 100,
                discarded: 0
            })
        );
        assert_eq!(line(&mut r), complete(b"x", 2));
    }

    #[cfg(unix)]
    #[test]
    fn rename_and_create_rotation_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let rotated = dir.path().join("a.log.1");
        append(&p, b"1\n2\n");
        let mut r = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        assert_eq!(line(&mut r), complete(b"1", 2));
        // The writer keeps its handle across the rename and writes more.
        let mut writer = OpenOptions::new().append(true).open(&p).unwrap();
        fs::rename(&p, &rotated).unwrap();
        writer.write_all(b"3\n").unwrap();
        append(&p, b"4\n5\n");
        let (old, ev) = drain(&mut r);
        assert_eq!(old, vec![b"2".to_vec(), b"3".to_vec()]);
        assert_eq!(ev, Some(ReadEvent::Rotated { held_back: 0 }));
        // A late write to the old file is still picked up while draining.
        writer.write_all(b"late\n").unwrap();
        let (old, ev) = drain(&mut r);
        assert_eq!(old, vec![b"late".to_vec()]);
        assert_eq!(ev, Some(ReadEvent::Rotated { held_back: 0 }));
        let mut n = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        let (new, ev) = drain(&mut n);
        assert_eq!(new, vec![b"4".to_vec(), b"5".to_vec()]);
        assert_eq!(ev, None);
    }

    #[cfg(unix)]
    #[test]
    fn deleted_while_open_is_read_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, b"a\nb\n");
        let mut r = LineReader::open(&p, 0, ReaderOptions::default()).unwrap();
        let mut writer = OpenOptions::new().append(true).open(&p).unwrap();
        fs::remove_file(&p).unwrap();
        writer.write_all(b"c\nunfinished").unwrap();
        let (lines, ev) = drain(&mut r);
        assert_eq!(lines, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
        assert_eq!(ev, Some(ReadEvent::Deleted { held_back: 10 }));
        let last = r.flush_partial().unwrap();
        assert_eq!(last.bytes, b"unfinished");
        assert_eq!(last.kind, LineKind::Partial);
        assert_eq!(last.end_offset, 16);
    }
}
