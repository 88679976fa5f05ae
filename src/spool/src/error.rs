//! The spool's error type.
//!
//! Every failure is typed: back-pressure (`Full`), a record that can never
//! fit (`TooLarge`), a second opener (`Locked`), a caller mistake
//! (`UnknownSeq`, `InvalidOptions`), damaged or future data (`Corrupt`,
//! `UnsupportedVersion`) and I/O failures naming the operation and path.

use std::io;
use std::path::PathBuf;

use crate::Seq;

/// Errors returned by the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Another `Spool` (in this or another process) holds the directory lock.
    #[error("spool directory {dir} is already in use by another open spool")]
    Locked {
        /// The spool directory.
        dir: PathBuf,
    },
    /// Appending would exceed `max_bytes`; acknowledge records (or wait) and retry.
    #[error("spool full: the record needs {needed} bytes but only {free} are free")]
    Full {
        /// On-disk bytes the record needs (header included).
        needed: u64,
        /// Bytes free under `max_bytes` right now.
        free: u64,
    },
    /// The record can never fit, even in an empty spool.
    #[error("record of {size} bytes (header included) exceeds the limit of {max} bytes")]
    TooLarge {
        /// On-disk bytes the record would need (header included).
        size: u64,
        /// The largest record the spool accepts.
        max: u64,
    },
    /// The sequence number is not a pending record of this spool.
    #[error("sequence number {seq} is not a pending record")]
    UnknownSeq {
        /// The sequence number asked for.
        seq: Seq,
    },
    /// A record failed validation when it was read back.
    #[error("record {seq} in {path} is corrupt: {reason}")]
    Corrupt {
        /// The record's sequence number.
        seq: Seq,
        /// The segment file holding it.
        path: PathBuf,
        /// What did not match.
        reason: &'static str,
    },
    /// A file was written by a newer, unknown format version.
    #[error("{path} has format version {found}; this build supports up to {supported}")]
    UnsupportedVersion {
        /// The file carrying the version.
        path: PathBuf,
        /// The version found.
        found: u8,
        /// The newest version this build reads.
        supported: u8,
    },
    /// Every sequence number has been used (after 2^64 appends).
    #[error("sequence numbers exhausted")]
    SeqExhausted,
    /// The options cannot work.
    #[error("invalid spool options: {0}")]
    InvalidOptions(&'static str),
    /// An I/O operation failed.
    #[error("spool I/O error ({op}) on {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl SpoolError {
    /// Wraps an I/O error with the operation and path it came from.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        SpoolError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = SpoolError> = std::result::Result<T, E>;
