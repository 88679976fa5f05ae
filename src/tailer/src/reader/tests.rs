//! Tests for the line reader, including UTF-16 framing.

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
        ..ReaderOptions::default()
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
        ..ReaderOptions::default()
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
        ..ReaderOptions::default()
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
/// `s` as UTF-16 bytes, little- or big-endian.
fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
    s.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn from_utf16(bytes: &[u8], big_endian: bool) -> String {
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|c| {
            let pair = [c[0], c[1]];
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        })
        .collect();
    String::from_utf16(&units).unwrap()
}

fn utf16_opts(big_endian: bool, read_buffer_bytes: usize) -> ReaderOptions {
    ReaderOptions {
        read_buffer_bytes,
        delimiter: if big_endian {
            LineDelimiter::Utf16Be
        } else {
            LineDelimiter::Utf16Le
        },
        ..ReaderOptions::default()
    }
}

#[test]
fn utf16_lines_in_both_byte_orders() {
    // Characters whose code units contain 0x0A or 0x0D bytes that are
    // not newlines or carriage returns in either byte order.
    let tricky = "\u{0A0A}\u{010A}\u{0A00}\u{0D0A}\u{0A0D}\u{0D00}";
    let text = format!("\u{FEFF}first\r\n{tricky}\n\r\n\nlast\r\n");
    // An odd read buffer size splits code units across reads; a large
    // one scans the whole file at once.
    for (big_endian, read_buffer_bytes) in [(false, 3), (false, 4096), (true, 3), (true, 4096)] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        append(&p, &utf16(&text, big_endian));
        let opts = utf16_opts(big_endian, read_buffer_bytes);
        let mut r = LineReader::open(&p, 0, opts).unwrap();
        let mut got = Vec::new();
        while let Some(ReadEvent::Line(l)) = r.next_event().unwrap() {
            got.push((from_utf16(&l.bytes, big_endian), l.end_offset, l.kind));
        }
        let want = vec![
            ("\u{FEFF}first".to_string(), 16, LineKind::Complete),
            (tricky.to_string(), 30, LineKind::Complete),
            (String::new(), 34, LineKind::Complete),
            (String::new(), 36, LineKind::Complete),
            ("last".to_string(), 48, LineKind::Complete),
        ];
        assert_eq!(got, want, "big_endian={big_endian} {read_buffer_bytes}");
        assert_eq!(r.offset(), 48);
        assert_eq!(r.held_back(), 0);
    }
}

#[test]
fn utf16_line_split_across_writes_and_reads() {
    for big_endian in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let line_bytes = utf16("héllo wörld\r\n", big_endian);
        // Write the line in pieces that end mid code unit, mid CRLF and
        // between the carriage return and the newline.
        let cuts = [0, 3, 7, 21, 23, 24, line_bytes.len() - 1, line_bytes.len()];
        append(&p, &utf16("x\n", big_endian));
        let mut r = LineReader::open(&p, 4, utf16_opts(big_endian, 5)).unwrap();
        for w in cuts.windows(2) {
            assert_eq!(r.next_event().unwrap(), None, "big_endian={big_endian}");
            append(&p, &line_bytes[w[0]..w[1]]);
        }
        let l = line(&mut r);
        assert_eq!(from_utf16(&l.bytes, big_endian), "héllo wörld");
        assert_eq!(l.end_offset, 4 + line_bytes.len() as u64);
        assert_eq!(r.next_event().unwrap(), None);
    }
}

#[test]
fn utf16_partial_keeps_an_odd_byte_back() {
    for big_endian in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let rest = utf16("c\r\nd\n", big_endian);
        append(&p, &utf16("ab", big_endian));
        append(&p, &rest[..1]);
        let mut r = LineReader::open(&p, 0, utf16_opts(big_endian, 64)).unwrap();
        assert_eq!(r.next_event().unwrap(), None);
        assert_eq!(r.held_back(), 5);
        let partial = r.flush_partial().unwrap();
        assert_eq!(from_utf16(&partial.bytes, big_endian), "ab");
        assert_eq!((partial.kind, partial.end_offset), (LineKind::Partial, 4));
        assert_eq!(r.held_back(), 1);
        assert_eq!(r.flush_partial(), None);
        append(&p, &rest[1..]);
        let l = line(&mut r);
        assert_eq!(from_utf16(&l.bytes, big_endian), "c");
        assert_eq!(l.end_offset, 10);
        let l = line(&mut r);
        assert_eq!(from_utf16(&l.bytes, big_endian), "d");
        assert_eq!(l.end_offset, 14);
    }
}

#[test]
fn utf16_chunks_keep_surrogate_pairs_whole() {
    for big_endian in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let text = "a\u{1F600}bc\u{1F600}\u{1F600}d";
        append(&p, &utf16(&format!("{text}\n"), big_endian));
        // 5 is rounded down to 4 bytes: two code units.
        let opts = ReaderOptions {
            max_line_bytes: 5,
            ..utf16_opts(big_endian, 64)
        };
        let mut r = LineReader::open(&p, 0, opts).unwrap();
        assert_eq!(r.options().max_line_bytes, 4);
        let (pieces, ev) = drain(&mut r);
        assert_eq!(ev, None);
        let decoded: Vec<String> = pieces
            .iter()
            .map(|piece| from_utf16(piece, big_endian))
            .collect();
        assert_eq!(
            decoded,
            ["a", "\u{1F600}", "bc", "\u{1F600}", "\u{1F600}", "d"],
            "big_endian={big_endian}"
        );
    }
}

#[test]
fn utf16_truncation_restarts_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.log");
    append(&p, &utf16("one\ntw", false));
    append(&p, b"o");
    let mut r = LineReader::open(&p, 0, utf16_opts(false, 64)).unwrap();
    let (lines, ev) = drain(&mut r);
    assert_eq!(lines, vec![utf16("one", false)]);
    assert_eq!(ev, None);
    OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&p, &utf16("\u{0A0A}\n", false));
    assert_eq!(
        r.next_event().unwrap(),
        Some(ReadEvent::Truncated {
            previous_offset: 13,
            discarded: 5
        })
    );
    assert_eq!(line(&mut r), complete(&utf16("\u{0A0A}", false), 4));
}
