//! The on-disk layout of exported log data.
//!
//! There is no S3 here: the export root directory (collector config `export_dir`, default
//! `DATA_DIR/exports`) holds one directory per "bucket", which the operator creates
//! (`mkdir EXPORT_DIR/my-bucket`); a `destination` naming a directory that does not exist is
//! refused as AWS refuses an unknown bucket. Inside, a task writes the S3 keys AWS writes:
//!
//! ```text
//! <bucket>/<destinationPrefix>/<taskId>/<logStreamName>/000000.gz, 000001.gz, ...
//! ```
//!
//! Each file is gzip of lines `<ISO-8601 timestamp, milliseconds, Z> <message>\n` in the
//! stream's `(timestamp, sequence)` order; a new file starts after [`CHUNK_BYTES`] of
//! uncompressed lines. A stream without events in the range gets no directory.
//!
//! Path safety: the bucket must be a valid S3 bucket name (lower-case letters, digits, `.` and
//! `-`, 3–63 characters, no `..`), so it is always one plain directory name. The prefix is split
//! on `/` like an S3 key: empty segments are dropped and `.` / `..` segments are refused. A
//! stream name whose `/`-separated segments are all plain names maps to those directories; any
//! other stream name (one with an empty, `.` or `..` segment) becomes a single directory name
//! with `%`, `/` and `.` percent-encoded. Nothing a caller sends can name a path outside the
//! bucket directory.

use flate2::write::GzEncoder;
use flate2::Compression;
use hostwatch_aws::ApiError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::errors::invalid_parameter;

/// Uncompressed bytes per export file.
pub const CHUNK_BYTES: u64 = 64 * 1024 * 1024;

/// The default `destinationPrefix`.
pub const DEFAULT_PREFIX: &str = "exportedlogs";

/// AWS's answer for a bucket that does not exist.
pub fn bucket_not_found() -> ApiError {
    invalid_parameter("The given bucket does not exist. Please make sure the bucket is valid.")
}

/// Whether `name` is a valid S3 bucket name (the rules that matter for paths and a bit more).
fn valid_bucket(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'-'))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

/// The directory of bucket `destination` under `root`; it must exist.
pub fn bucket_dir(root: &Path, destination: &str) -> Result<PathBuf, ApiError> {
    if !valid_bucket(destination) {
        return Err(bucket_not_found());
    }
    let dir = root.join(destination);
    if !dir.is_dir() {
        return Err(bucket_not_found());
    }
    Ok(dir)
}

/// The path segments of a `destinationPrefix`.
pub fn prefix_segments(prefix: &str) -> Result<Vec<String>, ApiError> {
    if prefix.len() > 1024 {
        return Err(invalid_parameter(
            "destinationPrefix must be at most 1024 bytes long.",
        ));
    }
    let mut out = Vec::new();
    for seg in prefix.split('/') {
        match seg {
            "" => {}
            "." | ".." => {
                return Err(invalid_parameter(
                    "destinationPrefix must not contain '.' or '..' path segments.",
                ))
            }
            s if s.contains('\0') => {
                return Err(invalid_parameter(
                    "destinationPrefix must not contain NUL characters.",
                ))
            }
            s => out.push(s.to_string()),
        }
    }
    Ok(out)
}

/// The path segments a stream's files go under.
pub fn stream_segments(stream: &str) -> Vec<String> {
    let plain = stream
        .split('/')
        .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains('\0'));
    if plain {
        return stream.split('/').map(str::to_string).collect();
    }
    let mut enc = String::with_capacity(stream.len() + 8);
    for c in stream.chars() {
        match c {
            '%' => enc.push_str("%25"),
            '/' => enc.push_str("%2F"),
            '.' => enc.push_str("%2E"),
            '\0' => enc.push_str("%00"),
            c => enc.push(c),
        }
    }
    vec![enc]
}

/// One exported line.
pub fn line(timestamp_ms: i64, message: &str) -> String {
    let ts = chrono::DateTime::from_timestamp_millis(timestamp_ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| timestamp_ms.to_string());
    format!("{ts} {message}\n")
}

/// Writes one stream's lines into numbered gzip files, rolling over every [`CHUNK_BYTES`].
pub struct ChunkWriter {
    dir: PathBuf,
    next_index: u32,
    current: Option<GzEncoder<BufWriter<File>>>,
    bytes: u64,
    chunk_bytes: u64,
}

impl ChunkWriter {
    /// Files go into `dir` (created on the first line).
    pub fn new(dir: PathBuf) -> Self {
        ChunkWriter {
            dir,
            next_index: 0,
            current: None,
            bytes: 0,
            chunk_bytes: CHUNK_BYTES,
        }
    }

    /// Roll over after `chunk_bytes` instead of [`CHUNK_BYTES`].
    #[cfg(test)]
    pub fn with_chunk_bytes(mut self, chunk_bytes: u64) -> Self {
        self.chunk_bytes = chunk_bytes.max(1);
        self
    }

    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        if self.current.is_some() && self.bytes >= self.chunk_bytes {
            self.close_current()?;
        }
        let enc = match &mut self.current {
            Some(e) => e,
            None => {
                std::fs::create_dir_all(&self.dir)?;
                let path = self.dir.join(format!("{:06}.gz", self.next_index));
                self.next_index += 1;
                self.bytes = 0;
                let file = BufWriter::new(File::create(path)?);
                self.current
                    .insert(GzEncoder::new(file, Compression::default()))
            }
        };
        enc.write_all(line.as_bytes())?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    fn close_current(&mut self) -> std::io::Result<()> {
        if let Some(enc) = self.current.take() {
            let file = enc.finish()?.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
        }
        Ok(())
    }

    /// Finish the last file; the number of files written.
    pub fn finish(mut self) -> std::io::Result<u32> {
        self.close_current()?;
        Ok(self.next_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn bucket_names_and_paths() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("my-bucket.1")).unwrap();
        assert!(bucket_dir(root.path(), "my-bucket.1").is_ok());
        for bad in [
            "missing", "..", "../x", "a/b", "UPPER", "ab", "-abc", "a..b", "/etc",
        ] {
            let e = bucket_dir(root.path(), bad).unwrap_err();
            assert_eq!(
                e.message.as_deref(),
                Some("The given bucket does not exist. Please make sure the bucket is valid."),
                "{bad}"
            );
        }
        assert_eq!(prefix_segments("a//b/").unwrap(), ["a", "b"]);
        assert_eq!(prefix_segments("/abs").unwrap(), ["abs"]);
        assert!(prefix_segments("a/../b").is_err());
        assert!(prefix_segments("./a").is_err());
        assert_eq!(stream_segments("host/i-1/app"), ["host", "i-1", "app"]);
        assert_eq!(stream_segments("../../etc"), ["%2E%2E%2F%2E%2E%2Fetc"]);
        assert_eq!(stream_segments("a//b"), ["a%2F%2Fb"]);
        assert_eq!(stream_segments("."), ["%2E"]);
        assert_eq!(stream_segments("50%/x/"), ["50%25%2Fx%2F"]);
    }

    #[test]
    fn lines_and_chunks() {
        assert_eq!(
            line(1_700_000_000_123, "hello"),
            "2023-11-14T22:13:20.123Z hello\n"
        );
        let d = tempfile::tempdir().unwrap();
        let mut w = ChunkWriter::new(d.path().join("s"));
        w.write_line("a\n").unwrap();
        w.write_line("b\n").unwrap();
        assert_eq!(w.finish().unwrap(), 1);
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(d.path().join("s/000000.gz")).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "a\nb\n");
        // Nothing written: no directory, no file.
        let w = ChunkWriter::new(d.path().join("empty"));
        assert_eq!(w.finish().unwrap(), 0);
        assert!(!d.path().join("empty").exists());
        // Rollover: a new file once a file holds the chunk size.
        let mut w = ChunkWriter::new(d.path().join("r")).with_chunk_bytes(4);
        for l in ["12\n", "34\n", "56\n"] {
            w.write_line(l).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
        assert!(d.path().join("r/000001.gz").is_file());
    }
}
