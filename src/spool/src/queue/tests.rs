//! Behaviour tests of [`Spool`] against real files in a temporary directory.

use std::fs;
use std::path::{Path, PathBuf};

use crate::acklog::COMPACT_MIN_ENTRIES;
use crate::record::record_bytes;
use crate::{Seq, Spool, SpoolError, SpoolOptions};

fn open(dir: &Path, max_bytes: u64, segment_bytes: u64) -> Spool {
    Spool::open(
        dir,
        SpoolOptions {
            max_bytes,
            segment_bytes,
        },
    )
    .unwrap()
}

fn big(dir: &Path) -> Spool {
    open(dir, 1 << 30, 1 << 20)
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("seg-"))
        .collect();
    v.sort();
    v
}

fn payload(i: u64) -> Vec<u8> {
    (0..(i % 37 + 3)).map(|j| (i * 31 + j) as u8).collect()
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = big(dir.path());
    let payloads: Vec<Vec<u8>> = vec![vec![], b"x".to_vec(), vec![0xFF; 70_000], payload(5)];
    let seqs: Vec<Seq> = payloads.iter().map(|p| s.append(p).unwrap()).collect();
    assert_eq!(seqs, vec![0, 1, 2, 3]);
    for (seq, p) in seqs.iter().zip(&payloads) {
        assert_eq!(&s.read(*seq).unwrap(), p);
    }
    let st = s.stats();
    assert_eq!(st.records, 4);
    assert_eq!(
        st.bytes,
        payloads.iter().map(|p| record_bytes(p.len())).sum::<u64>()
    );
    assert_eq!(st.oldest_seq, Some(0));
    assert_eq!(st.next_seq, 4);
    assert!(s.recovery_report().is_clean());
}

#[test]
fn fifo_order_and_peek_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 200);
    for i in 0..20 {
        s.append(&payload(i)).unwrap();
    }
    assert_eq!(s.pending().collect::<Vec<_>>(), (0..20).collect::<Vec<_>>());
    assert_eq!(s.peek_after(None, 3), vec![0, 1, 2]);
    assert_eq!(s.peek_after(Some(2), 3), vec![3, 4, 5]);
    assert_eq!(s.peek_after(Some(19), 3), Vec::<Seq>::new());
    // Walking with peek_after visits everything once, in order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let batch = s.peek_after(after, 4);
        let Some(&last) = batch.last() else { break };
        seen.extend(batch);
        after = Some(last);
    }
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
}

#[test]
fn out_of_order_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 100);
    for i in 0..10 {
        s.append(&payload(i)).unwrap();
    }
    for seq in [7, 2, 9, 0, 2] {
        s.ack(seq).unwrap();
    }
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![1, 3, 4, 5, 6, 8]);
    assert_eq!(s.stats().oldest_seq, Some(1));
    assert!(matches!(s.read(7), Err(SpoolError::UnknownSeq { seq: 7 })));
    assert!(matches!(s.ack(10), Err(SpoolError::UnknownSeq { seq: 10 })));
    assert!(matches!(
        s.read(10),
        Err(SpoolError::UnknownSeq { seq: 10 })
    ));
    s.sync().unwrap();
    drop(s);
    let s = open(dir.path(), 1 << 20, 100);
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![1, 3, 4, 5, 6, 8]);
    assert_eq!(s.read(4).unwrap(), payload(4));
}

#[test]
fn full_and_too_large() {
    let dir = tempfile::tempdir().unwrap();
    // 100-byte records (24 + 76), two per segment, 400-byte bound.
    let mut s = open(dir.path(), 400, 200);
    assert!(matches!(
        s.append(&[0; 377]),
        Err(SpoolError::TooLarge {
            size: 401,
            max: 400
        })
    ));
    let seqs: Vec<Seq> = (0..4).map(|_| s.append(&[1; 76]).unwrap()).collect();
    assert_eq!(s.free_bytes(), 0);
    match s.append(&[2; 10]) {
        Err(SpoolError::Full { needed, free }) => assert_eq!((needed, free), (34, 0)),
        other => panic!("{other:?}"),
    }
    // Acking one record of a two-record segment frees nothing yet: the
    // file still holds it. Acking its neighbour deletes the segment.
    s.ack(seqs[0]).unwrap();
    assert!(matches!(s.append(&[2; 10]), Err(SpoolError::Full { .. })));
    assert_eq!(s.stats().bytes, 300);
    assert_eq!(s.stats().disk_bytes, 400);
    s.ack(seqs[1]).unwrap();
    assert_eq!(s.free_bytes(), 200);
    s.append(&[3; 176]).unwrap();
    assert!(matches!(
        s.append(&[]),
        Err(SpoolError::Full {
            needed: 24,
            free: 0
        })
    ));
    // An exactly fitting record is accepted into an empty spool.
    let dir2 = tempfile::tempdir().unwrap();
    let mut t = open(dir2.path(), 100, 10);
    t.append(&[0; 76]).unwrap();
    assert_eq!(t.free_bytes(), 0);
}

#[test]
fn segment_rollover_and_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 250);
    // 100-byte records: two fit in 250, the third starts a new segment.
    for _ in 0..5 {
        s.append(&[7; 76]).unwrap();
    }
    let files = segment_files(dir.path());
    assert_eq!(files.len(), 3);
    assert_eq!(s.stats().segments, 3);
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| fs::metadata(f).unwrap().len())
        .collect();
    assert_eq!(sizes, vec![200, 200, 100]);
    assert!(files[1].ends_with("seg-00000000000000000002.dat"));
    s.ack(3).unwrap();
    assert_eq!(segment_files(dir.path()).len(), 3);
    s.ack(2).unwrap();
    assert_eq!(
        segment_files(dir.path()),
        vec![files[0].clone(), files[2].clone()]
    );
    assert_eq!(s.stats().disk_bytes, 300);
    // Acking the newest (active) segment deletes it; the next append opens a new one.
    s.ack(4).unwrap();
    assert_eq!(segment_files(dir.path()), vec![files[0].clone()]);
    assert_eq!(s.append(b"next").unwrap(), 5);
    assert_eq!(segment_files(dir.path()).len(), 2);
    // A record bigger than segment_bytes gets a segment of its own.
    s.append(&[1; 1000]).unwrap();
    s.append(b"small").unwrap();
    assert_eq!(segment_files(dir.path()).len(), 4);
    s.sync().unwrap();
}

#[test]
fn reopen_after_drop_keeps_pending_and_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 300);
    for i in 0..12 {
        s.append(&payload(i)).unwrap();
    }
    for seq in [0, 1, 5, 11] {
        s.ack(seq).unwrap();
    }
    // No sync: a dropped (or SIGKILLed) process leaves everything in the page cache.
    drop(s);
    let mut s = open(dir.path(), 1 << 20, 300);
    let want: Vec<Seq> = vec![2, 3, 4, 6, 7, 8, 9, 10];
    assert_eq!(s.pending().collect::<Vec<_>>(), want);
    for seq in &want {
        assert_eq!(s.read(*seq).unwrap(), payload(*seq));
    }
    let r = *s.recovery_report();
    assert!(r.is_clean(), "{r:?}");
    assert_eq!(r.pending, 8);
    assert_eq!(r.acks_replayed, 4);
    let next = s.append(b"after").unwrap();
    assert!(next > 11);
    assert_eq!(s.pending().last(), Some(next));
}

#[test]
fn torn_tail_at_every_offset_of_last_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 1 << 20);
    for i in 0..6 {
        s.append(&payload(i)).unwrap();
    }
    s.ack(1).unwrap();
    s.sync().unwrap();
    drop(s);
    let files = segment_files(dir.path());
    assert_eq!(files.len(), 1);
    let full = fs::read(&files[0]).unwrap();
    let last_start = full.len() - record_bytes(payload(5).len()) as usize;
    let mut last_next = 0;
    for cut in last_start..full.len() {
        fs::write(&files[0], &full[..cut]).unwrap();
        let s = open(dir.path(), 1 << 20, 1 << 20);
        assert_eq!(
            s.pending().collect::<Vec<_>>(),
            vec![0, 2, 3, 4],
            "cut {cut}"
        );
        for seq in [0, 2, 3, 4] {
            assert_eq!(s.read(seq).unwrap(), payload(seq));
        }
        assert!(matches!(s.read(5), Err(SpoolError::UnknownSeq { .. })));
        assert_eq!(
            s.recovery_report().truncated_bytes,
            (cut - last_start) as u64
        );
        assert_eq!(s.recovery_report().corrupt_records, 0);
        assert_eq!(fs::metadata(&files[0]).unwrap().len(), last_start as u64);
        assert!(s.stats().next_seq > last_next.max(5));
        last_next = s.stats().next_seq;
    }
    // The repaired spool takes appends and reopens cleanly.
    fs::write(&files[0], &full[..full.len() - 1]).unwrap();
    let mut s = open(dir.path(), 1 << 20, 1 << 20);
    let n = s.append(b"fresh").unwrap();
    drop(s);
    let s = open(dir.path(), 1 << 20, 1 << 20);
    assert!(s.recovery_report().is_clean());
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![0, 2, 3, 4, n]);
    assert_eq!(s.read(n).unwrap(), b"fresh");
}

#[test]
fn flipped_byte_in_middle_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 1 << 20);
    for i in 0..5 {
        s.append(&payload(i)).unwrap();
    }
    // Damage while open: read refuses to return the bytes.
    let file = segment_files(dir.path()).remove(0);
    let clean = fs::read(&file).unwrap();
    let rec2 = (0..2).map(|i| record_bytes(payload(i).len())).sum::<u64>() as usize;
    let mut bytes = clean.clone();
    bytes[rec2 + 24 + 1] ^= 0x20;
    fs::write(&file, &bytes).unwrap();
    assert!(matches!(s.read(2), Err(SpoolError::Corrupt { seq: 2, .. })));
    assert_eq!(s.read(3).unwrap(), payload(3));
    drop(s);
    // Damage found at open: skipped, counted, the rest intact.
    let s = open(dir.path(), 1 << 20, 1 << 20);
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![0, 1, 3, 4]);
    let r = s.recovery_report();
    assert_eq!(
        (r.corrupt_records, r.corrupt_bytes),
        (1, record_bytes(payload(2).len()))
    );
    assert!(!r.is_clean());
    for seq in [0, 1, 3, 4] {
        assert_eq!(s.read(seq).unwrap(), payload(seq));
    }
}

#[test]
fn garbage_tail_of_an_older_segment_is_damage_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 60);
    for i in 0..4 {
        s.append(&payload(i)).unwrap();
    }
    drop(s);
    let files = segment_files(dir.path());
    assert!(files.len() >= 2);
    let mut b = fs::read(&files[0]).unwrap();
    let len = b.len();
    b.truncate(len - 3);
    fs::write(&files[0], &b).unwrap();
    let s = open(dir.path(), 1 << 20, 60);
    let r = *s.recovery_report();
    assert_eq!((r.corrupt_records, r.truncated_bytes), (1, 0));
    assert_eq!(s.pending().count(), 3);
}

#[test]
fn lock_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let s = big(dir.path());
    match Spool::open(dir.path(), SpoolOptions::default()) {
        Err(SpoolError::Locked { dir: d }) => assert_eq!(d, dir.path()),
        other => panic!("{other:?}"),
    }
    drop(s);
    big(dir.path());
}

#[test]
fn seq_monotonic_across_reopen_with_empty_queue() {
    let dir = tempfile::tempdir().unwrap();
    let mut last = None;
    for round in 0..4 {
        let mut s = big(dir.path());
        assert_eq!(s.stats().records, 0, "round {round}");
        assert_eq!(s.stats().segments, 0);
        let a = s.append(b"a").unwrap();
        let b = s.append(b"b").unwrap();
        assert!(b > a);
        if let Some(prev) = last {
            assert!(a > prev, "round {round}: {a} <= {prev}");
        }
        s.ack(a).unwrap();
        s.ack(b).unwrap();
        assert!(segment_files(dir.path()).is_empty());
        last = Some(b);
    }
    // Even without the meta file, numbers come from what is left on disk.
    let mut s = big(dir.path());
    let keep = s.append(b"keep").unwrap();
    drop(s);
    fs::remove_file(dir.path().join("meta")).unwrap();
    let mut s = big(dir.path());
    assert!(s.recovery_report().meta_rebuilt);
    assert!(s.append(b"next").unwrap() > keep);
}

#[test]
fn ack_log_compaction() {
    let dir = tempfile::tempdir().unwrap();
    // segment_bytes 1: one record per segment, so every ack deletes its
    // segment and leaves a stale entry; the log must stay bounded.
    let mut s = open(dir.path(), 1 << 20, 1);
    for i in 0..(COMPACT_MIN_ENTRIES * 2 + 100) {
        let seq = s.append(&payload(i)).unwrap();
        s.ack(seq).unwrap();
        assert!(s.stats().ack_log_entries <= COMPACT_MIN_ENTRIES + 1);
    }
    let log_len = fs::metadata(dir.path().join("acks.log")).unwrap().len();
    assert!(log_len <= 8 + 12 * (COMPACT_MIN_ENTRIES + 1), "{log_len}");
    assert!(segment_files(dir.path()).is_empty());
    drop(s);

    // Compaction keeps the acks of records whose segment is still live.
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path(), 1 << 20, 1);
    for i in 0..3000 {
        let seq = s.append(&payload(i)).unwrap();
        s.ack(seq).unwrap();
    }
    drop(s);
    let mut s = open(dir.path(), 1 << 20, 1 << 20);
    assert_eq!(s.stats().ack_log_entries, 3000);
    let first = s.append(b"first").unwrap();
    let mut compacted = false;
    for i in 0..1200 {
        let before = s.stats().ack_log_entries;
        let seq = s.append(&payload(i)).unwrap();
        s.ack(seq).unwrap();
        compacted |= s.stats().ack_log_entries < before;
    }
    assert!(compacted);
    assert_eq!(s.stats().ack_log_entries, 1200);
    s.sync().unwrap();
    drop(s);
    let s = open(dir.path(), 1 << 20, 1 << 20);
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![first]);
    assert_eq!(s.recovery_report().acks_replayed, 1200);
    assert_eq!(s.read(first).unwrap(), b"first");
}

#[test]
fn unknown_files_ignored_tmp_removed_future_version_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = big(dir.path());
    s.append(b"x").unwrap();
    drop(s);
    fs::write(dir.path().join("README"), b"hello").unwrap();
    fs::write(dir.path().join("meta.tmp"), b"half").unwrap();
    let s = big(dir.path());
    assert_eq!(s.recovery_report().tmp_files_removed, 1);
    assert!(dir.path().join("README").exists());
    assert_eq!(s.pending().count(), 1);
    drop(s);
    let meta = dir.path().join("meta");
    let mut b = fs::read(&meta).unwrap();
    b[4] = 9;
    fs::write(&meta, &b).unwrap();
    assert!(matches!(
        Spool::open(dir.path(), SpoolOptions::default()),
        Err(SpoolError::UnsupportedVersion { found: 9, .. })
    ));
}

#[test]
fn invalid_options() {
    let dir = tempfile::tempdir().unwrap();
    for (max_bytes, segment_bytes) in [(0, 1), (1, 0)] {
        let r = Spool::open(
            dir.path(),
            SpoolOptions {
                max_bytes,
                segment_bytes,
            },
        );
        assert!(matches!(r, Err(SpoolError::InvalidOptions(_))));
    }
}

#[test]
fn damaged_ack_entry_means_redelivery_not_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = big(dir.path());
    for i in 0..3 {
        s.append(&payload(i)).unwrap();
    }
    s.ack(0).unwrap();
    s.ack(1).unwrap();
    drop(s);
    let path = dir.path().join("acks.log");
    let mut b = fs::read(&path).unwrap();
    b[8 + 12 + 9] ^= 1;
    fs::write(&path, &b).unwrap();
    let s = big(dir.path());
    assert_eq!(s.recovery_report().ack_corrupt_entries, 1);
    assert_eq!(s.pending().collect::<Vec<_>>(), vec![1, 2]);
}
