//! Alarm evaluation benchmark: one evaluation round over 10,000 alarms on 10,000 series, CPU
//! time and wall time.
//!
//! Run: `cargo bench --bench alarms` (optionally `-- --alarms N`, default 10,000).
//!
//! In-process, release build: a metric store and an alarm service in a temporary directory, a
//! manual clock. Setup: N series (`Bench/Latency`, one `Host` dimension each), each with one
//! datapoint per minute over the last 10 minutes; N alarms (`Average`, period 60 s, 3 of 3,
//! one per series; half of them breaching). Rounds run on the minute, so every alarm is due.
//!
//! Measured per round: wall time, and CPU time of the whole process (summed schedstat of every
//! thread) over the round; a round runs on the calling thread (one core), reading each series
//! once. Four rounds:
//! - first round, data in the store's in-memory head: every alarm leaves INSUFFICIENT_DATA, so
//!   the round writes N state changes, N events and the history items in one transaction;
//! - steady round (the next minute, one more datapoint per series): states unchanged, nothing
//!   written but the round marker;
//! - the same two after compaction, when every read goes to SQLite blocks.

// A benchmark: failing loudly on a broken set-up is the point.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use common::{print_table, proc_cpu_ns};
use hostwatch_collector::alarms::model::{
    Actions, AlarmStatistic, Comparison, MetricAlarmConfig, MetricSource,
};
use hostwatch_collector::alarms::{AlarmService, Scope};
use hostwatch_collector::clock::ManualClock;
use hostwatch_collector::store::metrics::{MetricStore, Point, SeriesKey, StoreOptions};
use hostwatch_model::{DatumValue, Dimension, MetricKey, Unit};
use std::time::Instant;

/// 2023-11-14T22:00:00Z.
const T0: i64 = 1_699_999_200_000;
const MIN: i64 = 60_000;

fn alarms_arg(default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--alarms")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn metric(i: usize) -> MetricKey {
    MetricKey::new(
        "Bench",
        "Latency",
        vec![Dimension::new("Host", format!("host-{i:05}"))],
    )
}

/// One datapoint per series at `ts`: 9.0 for even series (breaching), 1.0 for odd ones.
async fn put_minute(store: &MetricStore, n: usize, ts: i64) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let points = chunk
            .iter()
            .map(|&i| {
                (
                    SeriesKey {
                        metric: metric(i),
                        unit: Unit::Milliseconds,
                    },
                    Point {
                        ts_ms: ts,
                        value: DatumValue::Single(if i % 2 == 0 { 9.0 } else { 1.0 }),
                        high_res: false,
                    },
                )
            })
            .collect();
        store.append(points).await.unwrap();
    }
}

fn alarm(i: usize) -> MetricAlarmConfig {
    MetricAlarmConfig {
        name: format!("latency-{i:05}"),
        description: None,
        actions: Actions {
            enabled: true,
            ok: vec![],
            alarm: vec!["arn:aws:sns:us-east-1:000000000000:pager".into()],
            insufficient_data: vec![],
        },
        source: MetricSource::Single {
            metric: metric(i),
            statistic: AlarmStatistic::Statistic("Average".into()),
            unit: None,
            event_id: format!("id-{i}"),
        },
        period_s: 60,
        evaluation_periods: 3,
        datapoints_to_alarm: None,
        threshold: Some(5.0),
        comparison: Comparison::GreaterThanThreshold,
        treat_missing: None,
        low_sample_count: None,
        updated_ms: 0,
    }
}

/// (wall ms, CPU ms, alarms evaluated, series read, transitions)
fn measured_round(
    svc: &AlarmService,
    clock: &ManualClock,
    t: i64,
) -> (f64, f64, usize, usize, usize) {
    clock.set(t);
    let pid = std::process::id();
    let cpu0 = proc_cpu_ns(pid).unwrap_or(0);
    let start = Instant::now();
    let stats = svc.run_round(t).unwrap();
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    let cpu = (proc_cpu_ns(pid).unwrap_or(0) - cpu0) as f64 / 1e6;
    (
        wall,
        cpu,
        stats.evaluated,
        stats.series_read,
        stats.transitions,
    )
}

fn main() {
    let n = alarms_arg(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let store = MetricStore::open(
        dir.path(),
        StoreOptions {
            compact_every: None,
            ..Default::default()
        },
    )
    .unwrap();
    let setup = Instant::now();
    runtime.block_on(async {
        for m in 1..=10 {
            put_minute(&store, n, T0 - m * MIN + 5_000).await;
        }
    });
    let svc = AlarmService::open(
        dir.path(),
        store.clone(),
        None,
        clock.clone(),
        Scope {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        },
    )
    .unwrap();
    for i in 0..n {
        svc.put_metric_alarm(alarm(i), vec![]).unwrap();
    }
    println!(
        "setup: {n} series x 10 datapoints, {n} alarms in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    let mut row = |label: &str, r: (f64, f64, usize, usize, usize)| {
        rows.push(vec![
            label.to_string(),
            format!("{:.0}", r.0),
            format!("{:.0}", r.1),
            r.2.to_string(),
            r.3.to_string(),
            r.4.to_string(),
        ]);
    };
    row(
        "first round, head (all transition)",
        measured_round(&svc, &clock, T0),
    );
    runtime.block_on(put_minute(&store, n, T0 + 5_000));
    row("steady round, head", measured_round(&svc, &clock, T0 + MIN));

    // The same over compacted blocks: a fresh alarm set so that every alarm transitions again.
    runtime.block_on(put_minute(&store, n, T0 + MIN + 5_000));
    runtime.block_on(store.compact_now()).unwrap();
    assert_eq!(store.head_points(), 0);
    let names: Vec<String> = (0..n).map(|i| format!("latency-{i:05}")).collect();
    for chunk in names.chunks(100) {
        svc.delete_alarms(chunk).unwrap();
    }
    for i in 0..n {
        svc.put_metric_alarm(alarm(i), vec![]).unwrap();
    }
    row(
        "first round, blocks (all transition)",
        measured_round(&svc, &clock, T0 + 2 * MIN),
    );
    runtime.block_on(put_minute(&store, n, T0 + 2 * MIN + 5_000));
    runtime.block_on(store.compact_now()).unwrap();
    row(
        "steady round, blocks",
        measured_round(&svc, &clock, T0 + 3 * MIN),
    );

    println!();
    print_table(
        &[
            "round",
            "wall ms",
            "CPU ms",
            "alarms",
            "series read",
            "transitions",
        ],
        &rows,
    );
}
