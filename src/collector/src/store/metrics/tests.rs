//! Store tests: durability across reopen, compaction, exactly-once reads.

use super::*;
use hostwatch_model::{Dimension, StatisticSet};

fn opts() -> StoreOptions {
    StoreOptions {
        compact_every: None,
        ..Default::default()
    }
}

fn key(name: &str, unit: Unit) -> SeriesKey {
    SeriesKey {
        metric: MetricKey::new("App", name, vec![Dimension::new("Host", "a")]),
        unit,
    }
}

fn single(ts_ms: i64, v: f64) -> Point {
    Point {
        ts_ms,
        value: DatumValue::Single(v),
        high_res: false,
    }
}

fn sorted(mut v: Vec<Point>) -> Vec<Point> {
    v.sort_by(|a, b| {
        a.ts_ms
            .cmp(&b.ts_ms)
            .then(format!("{:?}", a.value).cmp(&format!("{:?}", b.value)))
    });
    v
}

fn sid(store: &MetricStore, name: &str, unit: Unit) -> SeriesId {
    store
        .series_of(&key(name, unit).metric)
        .into_iter()
        .find(|(_, u)| *u == unit)
        .map(|(s, _)| s)
        .unwrap()
}

#[tokio::test]
async fn appended_points_are_readable_and_truncated_to_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    store
        .append(vec![
            (key("cpu", Unit::Percent), single(1_000_500, 1.0)),
            (key("cpu", Unit::Percent), single(2_000_000, 2.0)),
            (key("cpu", Unit::Count), single(2_000_000, 3.0)),
        ])
        .await
        .unwrap();
    let s = sid(&store, "cpu", Unit::Percent);
    let pts = sorted(store.read(s, 0, 10_000_000).unwrap());
    assert_eq!(pts, vec![single(1_000_000, 1.0), single(2_000_000, 2.0)]);
    assert_eq!(store.read(s, 1_000_001, 2_000_000).unwrap(), vec![]);
    assert_eq!(store.series_of(&key("cpu", Unit::None).metric).len(), 2);
}

#[tokio::test]
async fn acknowledged_data_survives_reopen_without_compaction() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = MetricStore::open(dir.path(), opts()).unwrap();
        store
            .append(vec![(key("m", Unit::Bytes), single(5_000, 7.0))])
            .await
            .unwrap();
        store
            .append(vec![(
                key("m", Unit::Bytes),
                Point {
                    ts_ms: 6_000,
                    value: DatumValue::StatisticSet(StatisticSet {
                        sample_count: 2.0,
                        sum: 3.0,
                        minimum: 1.0,
                        maximum: 2.0,
                    }),
                    high_res: true,
                },
            )])
            .await
            .unwrap();
    }
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    assert_eq!(store.head_points(), 2, "replayed from the ingest log");
    let s = sid(&store, "m", Unit::Bytes);
    let pts = sorted(store.read(s, 0, 100_000).unwrap());
    assert_eq!(pts.len(), 2);
    assert!(pts[1].high_res);
    // New writes after reopen get fresh sequence numbers and series ids stay stable.
    store
        .append(vec![(key("m", Unit::Bytes), single(7_000, 1.0))])
        .await
        .unwrap();
    assert_eq!(sid(&store, "m", Unit::Bytes), s);
    assert_eq!(store.read(s, 0, 100_000).unwrap().len(), 3);
}

#[tokio::test]
async fn compaction_moves_head_into_blocks_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    for i in 0..10 {
        let batch = (0..100)
            .map(|j| (key("m", Unit::None), single((i * 100 + j) * 1000, j as f64)))
            .collect();
        store.append(batch).await.unwrap();
    }
    let s = sid(&store, "m", Unit::None);
    let before = sorted(store.read(s, 0, i64::MAX).unwrap());
    assert_eq!(before.len(), 1000);
    let stats = store.compact_now().await.unwrap();
    assert_eq!(stats.points, 1000);
    assert_eq!(stats.blocks, 1);
    assert_eq!(store.head_points(), 0);
    assert_eq!(sorted(store.read(s, 0, i64::MAX).unwrap()), before);
    // Range filtering inside a block.
    assert_eq!(store.read(s, 10_000, 20_000).unwrap().len(), 10);
    // More data after compaction: head + blocks merge.
    store
        .append(vec![(key("m", Unit::None), single(5_000_000, 1.0))])
        .await
        .unwrap();
    assert_eq!(store.read(s, 0, i64::MAX).unwrap().len(), 1001);
    assert_eq!(store.compact_now().await.unwrap().points, 1);
    assert_eq!(store.compact_now().await.unwrap(), CompactStats::default());
    drop(store);
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    assert_eq!(store.head_points(), 0, "compacted ingest rows were deleted");
    assert_eq!(store.read(s, 0, i64::MAX).unwrap().len(), 1001);
    let listed = store.list_metrics(None, &|_, last| last == 5_000_000, 10).0;
    assert_eq!(listed.len(), 1, "last data time recovered from blocks");
}

#[tokio::test]
async fn reads_during_compaction_never_lose_or_duplicate_points() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    let mut expected = 0;
    for round in 0..20 {
        let batch = (0..50)
            .map(|j| (key("m", Unit::None), single((round * 50 + j) * 1000, 1.0)))
            .collect();
        store.append(batch).await.unwrap();
        expected += 50;
        let s = sid(&store, "m", Unit::None);
        let reader = {
            let store = store.clone();
            tokio::task::spawn_blocking(move || {
                (0..20)
                    .map(|_| store.read(s, 0, i64::MAX).map(|v| v.len()))
                    .collect::<Vec<_>>()
            })
        };
        if round % 3 == 0 {
            store.compact_now().await.unwrap();
        }
        for n in reader.await.unwrap() {
            assert_eq!(n.unwrap(), expected);
        }
    }
}

#[tokio::test]
async fn background_compactor_runs_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(
        dir.path(),
        StoreOptions {
            compact_every: Some(Duration::from_millis(20)),
            compact_at_points: 1,
            ..Default::default()
        },
    )
    .unwrap();
    store
        .append(vec![(key("m", Unit::None), single(1000, 1.0))])
        .await
        .unwrap();
    for _ in 0..200 {
        if store.head_points() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.head_points(), 0);
    let s = sid(&store, "m", Unit::None);
    assert_eq!(store.read(s, 0, i64::MAX).unwrap().len(), 1);
}

#[tokio::test]
async fn small_blocks_are_merged_instead_of_piling_up() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetricStore::open(dir.path(), opts()).unwrap();
    for i in 0..10 {
        store
            .append(vec![(
                key("slow", Unit::None),
                single(i * 60_000, i as f64),
            )])
            .await
            .unwrap();
        store.compact_now().await.unwrap();
    }
    let conn = Connection::open(dir.path().join("metrics.db")).unwrap();
    let (blocks, points): (i64, i64) = conn
        .query_row("SELECT COUNT(*), SUM(count) FROM blocks", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((blocks, points), (1, 10));
    let s = sid(&store, "slow", Unit::None);
    let pts = sorted(store.read(s, 0, i64::MAX).unwrap());
    assert_eq!(pts.len(), 10);
    assert_eq!(pts[9], single(540_000, 9.0));
    // A full block is left alone; new points start a new one.
    let big: Vec<_> = (0..600)
        .map(|j| (key("slow", Unit::None), single(1_000_000 + j * 1000, 1.0)))
        .collect();
    store.append(big).await.unwrap();
    store.compact_now().await.unwrap();
    store
        .append(vec![(key("slow", Unit::None), single(5_000_000, 1.0))])
        .await
        .unwrap();
    store.compact_now().await.unwrap();
    let blocks: i64 = conn
        .query_row("SELECT COUNT(*) FROM blocks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(blocks, 2);
    assert_eq!(store.read(s, 0, i64::MAX).unwrap().len(), 611);
}
