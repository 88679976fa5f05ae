//! Throughput micro-benchmarks, ignored by default. Run in release mode:
//! `cargo test -p hostwatch-spool --release -- --ignored --nocapture bench_`

use std::time::Instant;

use crate::{Spool, SpoolOptions};

const MIB: usize = 1 << 20;
const RECORDS: usize = 128;

fn mb_per_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / MIB as f64 / secs.max(f64::EPSILON)
}

#[test]
#[ignore]
fn bench_append_sync_then_read_ack_1mib() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SpoolOptions {
        max_bytes: 4 << 30,
        segment_bytes: 16 << 20,
    };
    let mut s = Spool::open(dir.path(), opts).unwrap();
    let payload: Vec<u8> = (0..MIB).map(|i| (i * 7 + i / 4096) as u8).collect();

    let t = Instant::now();
    for _ in 0..RECORDS {
        s.append(&payload).unwrap();
        s.sync().unwrap();
    }
    let each = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for _ in 0..RECORDS {
        s.append(&payload).unwrap();
    }
    s.sync().unwrap();
    let grouped = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut n = 0;
    for seq in s.peek_after(None, usize::MAX) {
        let p = s.read(seq).unwrap();
        assert_eq!(p.len(), MIB);
        s.ack(seq).unwrap();
        n += 1;
    }
    s.sync().unwrap();
    let read_ack = t.elapsed().as_secs_f64();
    assert_eq!(n, 2 * RECORDS);

    println!(
        "spool 1 MiB records: append+sync each {:.0} MB/s, append x{RECORDS} + one sync {:.0} MB/s, read+ack {:.0} MB/s",
        mb_per_s(RECORDS * MIB, each),
        mb_per_s(RECORDS * MIB, grouped),
        mb_per_s(2 * RECORDS * MIB, read_ack),
    );
}

#[test]
#[ignore]
fn bench_small_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Spool::open(dir.path(), SpoolOptions::default()).unwrap();
    let payload = vec![b'x'; 200];
    let count = 200_000;
    let t = Instant::now();
    for _ in 0..count {
        s.append(&payload).unwrap();
    }
    s.sync().unwrap();
    let append = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for seq in s.peek_after(None, usize::MAX) {
        s.read(seq).unwrap();
        s.ack(seq).unwrap();
    }
    s.sync().unwrap();
    let read_ack = t.elapsed().as_secs_f64();
    println!(
        "spool 200 B records: append {:.0} k/s, read+ack {:.0} k/s",
        count as f64 / append / 1e3,
        count as f64 / read_ack / 1e3,
    );
}
