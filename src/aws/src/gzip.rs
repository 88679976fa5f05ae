//! gzip for request bodies: compression (agent side) and bounded inflation (collector side).
//!
//! Inflation is capped so that a small hostile body cannot expand into gigabytes of memory.

use std::io::{Read, Write};

/// The inflated body would exceed the cap, or the gzip stream is corrupt.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    #[error("decompressed body exceeds {0} bytes")]
    TooLarge(usize),
    #[error("invalid gzip body: {0}")]
    Corrupt(#[from] std::io::Error),
}

/// Inflate `body`, failing once more than `max` bytes would be produced.
pub fn inflate(body: &[u8], max: usize) -> Result<Vec<u8>, GzipError> {
    let decoder = flate2::read::MultiGzDecoder::new(body);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(max));
    let mut limited = decoder.take(max as u64 + 1);
    limited.read_to_end(&mut out)?;
    if out.len() > max {
        return Err(GzipError::TooLarge(max));
    }
    Ok(out)
}

/// Compress `body` with gzip at a fast level.
pub fn compress(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 64),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_cap() {
        let data = vec![b'a'; 100_000];
        let z = compress(&data);
        assert!(z.len() < 1000);
        assert_eq!(inflate(&z, 100_000).unwrap(), data);
        assert!(matches!(inflate(&z, 99_999), Err(GzipError::TooLarge(_))));
        assert!(matches!(
            inflate(b"not gzip", 10),
            Err(GzipError::Corrupt(_))
        ));
    }
}
