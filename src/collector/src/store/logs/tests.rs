//! Store-level tests: blocks, merging reads, restart recovery, retention.

use super::*;
use crate::clock::ManualClock;
use hostwatch_model::LogEvent;

const DAY: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000;

fn opts() -> LogStoreOptions {
    LogStoreOptions {
        sweep_interval: None,
        ..LogStoreOptions::default()
    }
}

fn ev(ts: i64, m: &str) -> LogEvent {
    LogEvent {
        timestamp: ts,
        message: m.to_string(),
    }
}

async fn setup(dir: &Path, clock: Arc<ManualClock>) -> LogStore {
    let s = LogStore::open_with(dir, clock, opts()).unwrap();
    s.create_group(NewGroup {
        name: "g".into(),
        kms_key_id: None,
        class: LogGroupClass::Standard,
        tags: BTreeMap::new(),
    })
    .await
    .unwrap();
    s.create_stream("g", "s").await.unwrap();
    s
}

async fn put(s: &LogStore, events: &[LogEvent]) -> i64 {
    s.append(AppendBatch {
        group: "g",
        stream: "s",
        events,
        ingestion_time: T0,
    })
    .await
    .unwrap()
}

fn all(dir: Direction, n: usize) -> ReadQuery {
    ReadQuery {
        from: Key::new(0, 0),
        to: Key::new(i64::MAX, 0),
        direction: dir,
        max_events: n,
        max_bytes: usize::MAX,
    }
}

fn msgs(v: &[StoredEvent]) -> Vec<&str> {
    v.iter().map(|e| e.message.as_str()).collect()
}

#[tokio::test]
async fn overlapping_blocks_read_in_key_order() {
    let d = tempfile::tempdir().unwrap();
    let s = setup(d.path(), ManualClock::new(T0)).await;
    put(
        &s,
        &[ev(T0 + 10, "a10"), ev(T0 + 30, "a30"), ev(T0 + 50, "a50")],
    )
    .await;
    put(&s, &[ev(T0, "b0"), ev(T0 + 30, "b30"), ev(T0 + 40, "b40")]).await;
    let got = s
        .read("g", "s", all(Direction::Forward, 100))
        .await
        .unwrap();
    assert_eq!(msgs(&got), ["b0", "a10", "a30", "b30", "b40", "a50"]);
    // Sequence numbers break the tie at T0+30 in commit order.
    assert!(got[2].seq < got[3].seq);
    let first3 = s.read("g", "s", all(Direction::Forward, 3)).await.unwrap();
    assert_eq!(msgs(&first3), ["b0", "a10", "a30"]);
    let last2 = s.read("g", "s", all(Direction::Backward, 2)).await.unwrap();
    assert_eq!(msgs(&last2), ["b40", "a50"]);
    // Paging from a key boundary.
    let q = ReadQuery {
        from: got[2].key(),
        ..all(Direction::Forward, 2)
    };
    assert_eq!(msgs(&s.read("g", "s", q).await.unwrap()), ["a30", "b30"]);
    let q = ReadQuery {
        to: got[3].key(),
        ..all(Direction::Backward, 2)
    };
    assert_eq!(msgs(&s.read("g", "s", q).await.unwrap()), ["a10", "a30"]);
    // Byte budget: each event counts its message plus 26 bytes; at least one is returned.
    let q = ReadQuery {
        max_bytes: 2 * (3 + 26),
        ..all(Direction::Forward, 100)
    };
    assert_eq!(s.read("g", "s", q).await.unwrap().len(), 2);
    let q = ReadQuery {
        max_bytes: 1,
        ..all(Direction::Forward, 100)
    };
    assert_eq!(s.read("g", "s", q).await.unwrap().len(), 1);
}

#[tokio::test]
async fn acknowledged_events_survive_restart() {
    let d = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let next = {
        let s = setup(d.path(), clock.clone()).await;
        put(&s, &[ev(T0, "one"), ev(T0 + 1, "two")]).await
    };
    let s = LogStore::open_with(d.path(), clock.clone(), opts()).unwrap();
    let got = s.read("g", "s", all(Direction::Forward, 10)).await.unwrap();
    assert_eq!(msgs(&got), ["one", "two"]);
    assert_eq!(got[0].ingestion_time, T0);
    let info = s.with_catalog(|c| c.groups["g"].streams["s"].clone());
    assert_eq!(info.first_event_ts, Some(T0));
    assert_eq!(info.last_event_ts, Some(T0 + 1));
    assert_eq!(info.next_seq, next);
    assert!(info.stored_bytes > 0);
    // Sequence numbers keep increasing after a restart.
    let next2 = put(&s, &[ev(T0 + 2, "three")]).await;
    assert_eq!(next2, next + 1);
    assert!(s.group("g").unwrap().stored_bytes > info.stored_bytes);
}

#[tokio::test]
async fn catalog_errors() {
    let d = tempfile::tempdir().unwrap();
    let s = setup(d.path(), ManualClock::new(T0)).await;
    let dup = s
        .create_group(NewGroup {
            name: "g".into(),
            kms_key_id: None,
            class: LogGroupClass::Standard,
            tags: BTreeMap::new(),
        })
        .await;
    assert!(matches!(dup, Err(LogError::GroupExists)));
    assert!(matches!(
        s.create_stream("g", "s").await,
        Err(LogError::StreamExists)
    ));
    assert!(matches!(
        s.create_stream("nope", "s").await,
        Err(LogError::GroupNotFound)
    ));
    let r = s
        .append(AppendBatch {
            group: "g",
            stream: "nope",
            events: &[ev(T0, "x")],
            ingestion_time: T0,
        })
        .await;
    assert!(matches!(r, Err(LogError::StreamNotFound)));
    s.delete_stream("g", "s").await.unwrap();
    s.create_stream("g", "s").await.unwrap();
    assert!(s
        .read("g", "s", all(Direction::Forward, 10))
        .await
        .unwrap()
        .is_empty());
    s.delete_group("g").await.unwrap();
    assert!(s.group("g").is_none());
    assert!(matches!(
        s.delete_group("g").await,
        Err(LogError::GroupNotFound)
    ));
}

#[tokio::test]
async fn retention_sweep_deletes_and_trims() {
    let d = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let s = setup(d.path(), clock.clone()).await;
    // Block 1 wholly old; block 2 straddles the future cutoff; block 3 recent.
    put(
        &s,
        &[ev(T0 - 3 * DAY, "old1"), ev(T0 - 3 * DAY + 5, "old2")],
    )
    .await;
    put(
        &s,
        &[ev(T0 - DAY - 10, "mid-old"), ev(T0 - DAY + 10, "mid-new")],
    )
    .await;
    put(&s, &[ev(T0, "new")]).await;
    let before = s.group("g").unwrap().stored_bytes;
    // No retention: nothing happens.
    assert_eq!(s.sweep_retention().await.unwrap().events_removed, 0);
    s.set_retention("g", Some(1)).await.unwrap();
    let out = s.sweep_retention().await.unwrap();
    assert_eq!(out.blocks_deleted, 1);
    assert_eq!(out.blocks_trimmed, 1);
    assert_eq!(out.events_removed, 3);
    let got = s.read("g", "s", all(Direction::Forward, 10)).await.unwrap();
    assert_eq!(msgs(&got), ["mid-new", "new"]);
    let after = s.group("g").unwrap().stored_bytes;
    assert!(after < before, "{after} < {before}");
    // Persisted accounting matches the catalog after a restart.
    drop(s);
    let s = LogStore::open_with(d.path(), clock.clone(), opts()).unwrap();
    assert_eq!(s.group("g").unwrap().stored_bytes, after);
    // Time moves on: everything expires.
    clock.advance(2 * DAY);
    let out = s.sweep_retention().await.unwrap();
    assert_eq!(out.events_removed, 2);
    assert!(s
        .read("g", "s", all(Direction::Forward, 10))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(s.group("g").unwrap().stored_bytes, 0);
    let seq = {
        let c = rusqlite::Connection::open(d.path().join(FILE_NAME)).unwrap();
        writer::persisted_next_seq(&c).unwrap()
    };
    assert_eq!(seq, Some(6));
}

#[tokio::test]
async fn background_sweeper_runs_and_stops() {
    let d = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let s = LogStore::open_with(
        d.path(),
        clock.clone(),
        LogStoreOptions {
            sweep_interval: Some(Duration::from_millis(20)),
            ..opts()
        },
    )
    .unwrap();
    s.create_group(NewGroup {
        name: "g".into(),
        kms_key_id: None,
        class: LogGroupClass::Standard,
        tags: BTreeMap::new(),
    })
    .await
    .unwrap();
    s.create_stream("g", "s").await.unwrap();
    put(&s, &[ev(T0 - 2 * DAY, "old")]).await;
    s.set_retention("g", Some(1)).await.unwrap();
    let mut gone = false;
    for _ in 0..200 {
        if s.group("g").unwrap().stored_bytes == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        gone,
        "the background sweep should have removed the expired block"
    );
}

#[tokio::test]
async fn concurrent_appends_get_unique_ordered_sequence_numbers() {
    let d = tempfile::tempdir().unwrap();
    let s = Arc::new(setup(d.path(), ManualClock::new(T0)).await);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                for b in 0..10 {
                    let evs: Vec<LogEvent> = (0..50)
                        .map(|i| ev(T0 + i, &format!("t{t}-b{b}-{i}")))
                        .collect();
                    put(&s, &evs).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let got = s
        .read("g", "s", all(Direction::Forward, 10_000))
        .await
        .unwrap();
    assert_eq!(got.len(), 8 * 10 * 50);
    assert!(got.windows(2).all(|w| w[0].key() < w[1].key()));
    let mut seqs: Vec<i64> = got.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), got.len());
    assert_eq!(s.next_seq("g", "s"), 4001);
}

#[tokio::test]
async fn append_to_a_deleted_stream_is_refused_by_the_writer() {
    let d = tempfile::tempdir().unwrap();
    let s = setup(d.path(), ManualClock::new(T0)).await;
    // A request that looked the stream up before it was deleted still holds its ids.
    let (group_id, stream_id) = s.stream_ids("g", "s").unwrap();
    s.delete_stream("g", "s").await.unwrap();
    let (blob, _) = codec::encode(T0, [(T0, "late")], 16);
    let job = Job::Append(AppendJob {
        group_name: "g".into(),
        group_id,
        stream_name: "s".into(),
        stream_id,
        min_ts: T0,
        max_ts: T0,
        count: 1,
        raw_bytes: 4,
        ingestion_time: T0,
        blob,
        first_seq: Arc::new(AtomicI64::new(0)),
    });
    let r = s.inner.committer.submit(job).await;
    assert!(matches!(
        r,
        Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    ));
    let c = rusqlite::Connection::open(d.path().join(FILE_NAME)).unwrap();
    let n: i64 = c
        .query_row("SELECT COUNT(*) FROM log_blocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn damaged_blocks_are_reported_not_panicked_on() {
    let d = tempfile::tempdir().unwrap();
    let s = setup(d.path(), ManualClock::new(T0)).await;
    put(&s, &[ev(T0, "fine")]).await;
    let c = rusqlite::Connection::open(d.path().join(FILE_NAME)).unwrap();
    c.execute("UPDATE log_blocks SET blob = x'01ffffff7f00'", [])
        .unwrap();
    let r = s.read("g", "s", all(Direction::Forward, 10)).await;
    assert!(matches!(r, Err(LogError::Store(StoreError::Corrupt(_)))));
}
