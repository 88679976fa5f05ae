//! Property-style test: random appends, acks, reads, syncs and reopens,
//! checked after every step against an in-memory model (a map from
//! sequence number to payload) and against the files on disk.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::record::record_bytes;
use crate::{Seq, Spool, SpoolError, SpoolOptions};

/// xorshift64: deterministic, no extra crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn segment_sizes(dir: &Path) -> (usize, u64) {
    let mut count = 0;
    let mut bytes = 0;
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_str().unwrap().starts_with("seg-") {
            count += 1;
            bytes += e.metadata().unwrap().len();
        }
    }
    (count, bytes)
}

fn check(
    spool: &Spool,
    model: &BTreeMap<Seq, Vec<u8>>,
    opts: SpoolOptions,
    on_disk: bool,
    ctx: &str,
) {
    let pending: Vec<Seq> = spool.pending().collect();
    let want: Vec<Seq> = model.keys().copied().collect();
    assert_eq!(pending, want, "{ctx}");
    let st = spool.stats();
    assert_eq!(st.records, model.len() as u64, "{ctx}");
    assert_eq!(
        st.bytes,
        model.values().map(|p| record_bytes(p.len())).sum::<u64>(),
        "{ctx}"
    );
    assert_eq!(st.oldest_seq, model.keys().next().copied(), "{ctx}");
    assert!(st.disk_bytes <= opts.max_bytes, "{ctx}");
    assert!(st.bytes <= st.disk_bytes, "{ctx}");
    if on_disk {
        assert_eq!(
            segment_sizes(spool.dir()),
            (st.segments, st.disk_bytes),
            "{ctx}"
        );
    }
}

fn run(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let opts = SpoolOptions {
        max_bytes: 2000 + rng.below(6000),
        segment_bytes: 100 + rng.below(1500),
    };
    let mut spool = Spool::open(dir.path(), opts).unwrap();
    let mut model: BTreeMap<Seq, Vec<u8>> = BTreeMap::new();
    let mut acked: Vec<Seq> = Vec::new();
    let mut last_seq: Option<Seq> = None;
    // [appended, full, acked, reopened]: every path must be exercised.
    let mut seen = [0u32; 4];
    for step in 0..steps {
        let ctx = format!("seed {seed} step {step}");
        match rng.below(100) {
            0..=44 => {
                let len = rng.below(400) as usize;
                let fill = rng.next() as u8;
                let p: Vec<u8> = (0..len).map(|i| fill.wrapping_add(i as u8)).collect();
                let needed = record_bytes(len);
                let free = spool.free_bytes();
                match spool.append(&p) {
                    Ok(seq) => {
                        assert!(needed <= free, "{ctx}");
                        assert!(
                            last_seq.is_none_or(|l| seq > l),
                            "{ctx}: {seq} after {last_seq:?}"
                        );
                        last_seq = Some(seq);
                        model.insert(seq, p);
                        seen[0] += 1;
                    }
                    Err(SpoolError::Full { needed: n, free: f }) => {
                        assert_eq!((n, f), (needed, free), "{ctx}");
                        assert!(needed > free, "{ctx}");
                        seen[1] += 1;
                    }
                    Err(SpoolError::TooLarge { size, .. }) => {
                        assert!(size > opts.max_bytes, "{ctx}")
                    }
                    Err(e) => panic!("{ctx}: {e}"),
                }
            }
            45..=79 => {
                if !model.is_empty() {
                    let i = rng.below(model.len() as u64) as usize;
                    let seq = model.keys().nth(i).copied().unwrap();
                    spool.ack(seq).unwrap();
                    model.remove(&seq);
                    acked.push(seq);
                    seen[2] += 1;
                }
            }
            80..=89 => {
                if !model.is_empty() {
                    let i = rng.below(model.len() as u64) as usize;
                    let (seq, p) = model.iter().nth(i).unwrap();
                    assert_eq!(&spool.read(*seq).unwrap(), p, "{ctx}");
                }
            }
            90..=93 => spool.sync().unwrap(),
            94..=96 => {
                drop(spool);
                spool = Spool::open(dir.path(), opts).unwrap();
                assert!(
                    spool.recovery_report().is_clean(),
                    "{ctx}: {:?}",
                    spool.recovery_report()
                );
                assert_eq!(spool.recovery_report().pending, model.len() as u64, "{ctx}");
                seen[3] += 1;
            }
            _ => {
                // Re-acking is a no-op; acking the future is an error.
                if let Some(&seq) = acked.get(rng.below(acked.len() as u64) as usize) {
                    spool.ack(seq).unwrap();
                }
                let future = spool.stats().next_seq + rng.below(10);
                assert!(
                    matches!(spool.ack(future), Err(SpoolError::UnknownSeq { .. })),
                    "{ctx}"
                );
            }
        }
        check(&spool, &model, opts, step % 8 == 0, &ctx);
    }
    assert!(seen.iter().all(|&n| n > 0), "seed {seed}: {seen:?}");
    drop(spool);
    let spool = Spool::open(dir.path(), opts).unwrap();
    check(&spool, &model, opts, true, &format!("seed {seed} final"));
    for (seq, p) in &model {
        assert_eq!(&spool.read(*seq).unwrap(), p);
    }
}

#[test]
fn random_operations_match_the_model() {
    for seed in [1, 2, 3, 0x9E37_79B9_7F4A_7C15, 0xDEAD_BEEF, 42, 7, 1234567] {
        run(seed, 1500);
    }
}
