//! File names inside a spool directory.
//!
//! Segment files are named `seg-NNNNNNNNNNNNNNNNNNNN.dat`: the first
//! sequence number the segment may hold, as 20 zero-padded decimal
//! digits, so lexical order equals numeric order. Files with other names
//! are left alone.

use crate::Seq;

const PREFIX: &str = "seg-";
const SUFFIX: &str = ".dat";
const DIGITS: usize = 20;

/// The file name of the segment starting at `first_seq`.
pub(crate) fn segment_file_name(first_seq: Seq) -> String {
    format!("{PREFIX}{first_seq:0DIGITS$}{SUFFIX}")
}

/// The first sequence number encoded in a segment file name.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<Seq> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table() {
        assert_eq!(segment_file_name(0), "seg-00000000000000000000.dat");
        assert_eq!(segment_file_name(u64::MAX), "seg-18446744073709551615.dat");
        let cases: &[(&str, Option<Seq>)] = &[
            ("seg-00000000000000000042.dat", Some(42)),
            ("seg-18446744073709551615.dat", Some(u64::MAX)),
            ("seg-99999999999999999999.dat", None),
            ("seg-42.dat", None),
            ("seg-0000000000000000004x.dat", None),
            ("seg-+0000000000000000042.dat", None),
            ("seg-00000000000000000042.dat.tmp", None),
            ("acks.log", None),
            ("meta", None),
        ];
        for (name, want) in cases {
            assert_eq!(parse_segment_file_name(name), *want, "{name}");
        }
    }
}
