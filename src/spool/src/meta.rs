//! The meta file: format version and the sequence-number reservation.
//!
//! Layout of `meta` (20 bytes, little-endian):
//!
//! | bytes  | field                                   |
//! |--------|-----------------------------------------|
//! | 0..4   | magic `HWSM`                            |
//! | 4      | spool format version, `1`               |
//! | 5..8   | reserved, zero                          |
//! | 8..16  | `seq_limit` (u64)                       |
//! | 16..20 | CRC-32 (IEEE) of bytes 0..16            |
//!
//! Invariant: every sequence number ever handed out is below the durable
//! `seq_limit`. The spool raises the limit (atomic rewrite, fsync) before
//! handing out a number at or above it, reserving [`SEQ_RESERVE`] numbers
//! at a time. After any crash, even one that lost unsynced records, the
//! next sequence number restarts at `seq_limit`, so numbers never repeat.
//! A newer version byte makes `open` fail instead of guessing.

use std::fs;
use std::io;
use std::path::Path;

use crate::error::{Result, SpoolError};
use crate::fsutil::write_atomic;
use crate::Seq;

/// Name of the meta file.
pub(crate) const META_FILE: &str = "meta";
/// Meta magic.
const MAGIC: [u8; 4] = *b"HWSM";
/// Spool format version written and read by this build.
pub(crate) const FORMAT_VERSION: u8 = 1;
const META_LEN: usize = 20;
/// Sequence numbers reserved per meta write.
pub(crate) const SEQ_RESERVE: u64 = 1 << 20;

/// What was found in the meta file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    Missing,
    Corrupt,
    Valid { seq_limit: Seq },
}

/// Reads the meta file.
pub(crate) fn read_meta(dir: &Path) -> Result<Meta> {
    let path = dir.join(META_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Meta::Missing),
        Err(e) => return Err(SpoolError::io("read", &path, e)),
    };
    if bytes.get(0..4) == Some(&MAGIC[..]) {
        if let Some(&v) = bytes.get(4) {
            if v > FORMAT_VERSION {
                return Err(SpoolError::UnsupportedVersion {
                    path,
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
        }
    }
    Ok(decode(&bytes).map_or(Meta::Corrupt, |seq_limit| Meta::Valid { seq_limit }))
}

/// Writes the meta file atomically and durably.
pub(crate) fn write_meta(dir: &Path, seq_limit: Seq) -> Result<()> {
    write_atomic(dir, META_FILE, &encode(seq_limit))
}

fn encode(seq_limit: Seq) -> [u8; META_LEN] {
    let mut b = [0u8; META_LEN];
    b[0..4].copy_from_slice(&MAGIC);
    b[4] = FORMAT_VERSION;
    b[8..16].copy_from_slice(&seq_limit.to_le_bytes());
    let crc = crc32fast::hash(&b[0..16]);
    b[16..20].copy_from_slice(&crc.to_le_bytes());
    b
}

fn decode(b: &[u8]) -> Option<Seq> {
    if b.len() != META_LEN || b[0..4] != MAGIC || b[4] != FORMAT_VERSION || b[5..8] != [0, 0, 0] {
        return None;
    }
    let crc = u32::from_le_bytes(b[16..20].try_into().ok()?);
    if crc32fast::hash(&b[0..16]) != crc {
        return None;
    }
    Some(Seq::from_le_bytes(b[8..16].try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_corrupt_and_future() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_meta(dir.path()).unwrap(), Meta::Missing);
        write_meta(dir.path(), 12345).unwrap();
        assert_eq!(
            read_meta(dir.path()).unwrap(),
            Meta::Valid { seq_limit: 12345 }
        );
        let path = dir.path().join(META_FILE);
        let good = fs::read(&path).unwrap();
        for i in 0..good.len() {
            let mut b = good.clone();
            b[i] ^= 0x10;
            fs::write(&path, &b).unwrap();
            match read_meta(dir.path()) {
                Ok(m) => assert_eq!(m, Meta::Corrupt, "flip at {i}"),
                Err(SpoolError::UnsupportedVersion { found, .. }) => {
                    assert_eq!((i, found), (4, 0x11))
                }
                Err(e) => panic!("{e}"),
            }
        }
        fs::write(&path, &good[..10]).unwrap();
        assert_eq!(read_meta(dir.path()).unwrap(), Meta::Corrupt);
    }
}
