//! Throughput of reader → decoder → assembler on UTF-8 200-byte lines.
//!
//! Ignored by default: it writes a 64 MiB file and is only meaningful in a
//! release build. Run with
//! `cargo test -p hostwatch-tailer --release -- --ignored --nocapture`.
//! It prints MB/s and asserts only correctness, never timing.

use std::io::{BufWriter, Write};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use hostwatch_tailer::{
    Assembler, AssemblerOptions, Decoder, Filters, LineReader, ReadEvent, ReaderOptions,
    StampSource, Stamper, TimestampFormat, Zone,
};

const LINE_BYTES: usize = 200;
const FILE_BYTES: usize = 64 * 1024 * 1024;

/// One log line of exactly `LINE_BYTES` bytes including its newline.
fn line(i: usize) -> String {
    let mut s = format!(
        "2024-05-01 12:00:{:02},{:03} INFO [worker-{}] c.e.Service - request id={i:08} took {} ms user=jürgen path=/api/v1/items",
        i % 60,
        i % 1000,
        i % 16,
        i % 997
    );
    while s.len() < LINE_BYTES - 1 {
        s.push('x');
    }
    s.truncate(LINE_BYTES - 1);
    s.push('\n');
    s
}

#[test]
#[ignore = "throughput measurement; run in release with --ignored"]
fn frame_decode_assemble_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.log");
    let lines = FILE_BYTES / LINE_BYTES;
    {
        let mut w = BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..lines {
            w.write_all(line(i).as_bytes()).unwrap();
        }
        w.flush().unwrap();
    }
    let total = (lines * LINE_BYTES) as f64;
    let mut best = 0.0f64;
    for _ in 0..3 {
        let decoder = Decoder::for_name(None).unwrap();
        let opts = ReaderOptions {
            delimiter: decoder.line_delimiter(),
            ..ReaderOptions::default()
        };
        let mut reader = LineReader::open(&path, 0, opts).unwrap();
        let mut assembler = Assembler::new(AssemblerOptions::default());
        let now = Instant::now();
        let mut events = 0usize;
        let mut message_bytes = 0usize;
        let started = Instant::now();
        while let Some(ReadEvent::Line(l)) = reader.next_event().unwrap() {
            let decoded = decoder.decode(&l.bytes);
            if let Some(e) = assembler.push(&decoded.text, l.end_offset, now) {
                events += 1;
                message_bytes += e.message.len();
            }
        }
        if let Some(e) = assembler.flush() {
            events += 1;
            message_bytes += e.message.len();
            assert_eq!(e.end_offset, total as u64);
        }
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(events, lines);
        assert_eq!(message_bytes, lines * (LINE_BYTES - 1));
        let mb_s = total / secs / 1e6;
        println!("reader+decoder+assembler: {mb_s:.0} MB/s ({lines} lines in {secs:.3} s)");
        best = best.max(mb_s);
    }
    println!("best: {best:.0} MB/s");

    // The same, plus timestamp parsing and two filters per event.
    let decoder = Decoder::for_name(None).unwrap();
    let mut reader = LineReader::open(&path, 0, ReaderOptions::default()).unwrap();
    let mut assembler = Assembler::new(AssemblerOptions::default());
    let format = TimestampFormat::compile("%Y-%m-%d %H:%M:%S,%f").unwrap();
    let mut stamper = Stamper::new(Some(format), Zone::Utc);
    let filters = Filters::new(&[("include", "INFO|ERROR"), ("exclude", "healthcheck")]).unwrap();
    let wall = Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap();
    let now = Instant::now();
    let mut kept = 0usize;
    let started = Instant::now();
    let mut handle = |message: &str| {
        let stamp = stamper.stamp(message, wall);
        assert_eq!(stamp.source, StampSource::Parsed);
        if filters.keep(message) {
            kept += 1;
        }
    };
    while let Some(ReadEvent::Line(l)) = reader.next_event().unwrap() {
        let decoded = decoder.decode(&l.bytes);
        if let Some(e) = assembler.push(&decoded.text, l.end_offset, now) {
            handle(&e.message);
        }
    }
    if let Some(e) = assembler.flush() {
        handle(&e.message);
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(kept, lines);
    println!("with stamper and 2 filters: {:.0} MB/s", total / secs / 1e6);
}
