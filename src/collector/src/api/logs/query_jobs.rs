//! Logs Insights query jobs: the registry of started queries and their background runs.
//!
//! Each started query runs on its own thread: it scans the streams of its log groups over the
//! time range (streams whose first/last event times miss the range are skipped, events older
//! than a group's retention are hidden), feeds the events to an [`Executor`] and stores the
//! rendered result. Status moves `Scheduled` → `Running` → `Complete` | `Failed` |
//! `Cancelled` (StopQuery) | `Timeout` (after [`QUERY_TIMEOUT`]).
//!
//! Partial results: while a query runs, the result as of the events scanned so far is
//! published at most every [`PARTIAL_EVERY`] (checked every [`CHECK_EVERY`] events), as AWS
//! returns partial results for a running query; a snapshot copies what the executor holds, so
//! none is taken while it holds more than [`MAX_PARTIAL_HELD`] rows or groups. A query that is
//! cancelled or times out keeps its last partial result; a failed one has none; a complete one
//! has its final result.
//!
//! Limits: at most [`MAX_CONCURRENT`] queries are scheduled or running at once (more are
//! refused with `LimitExceededException`, as AWS does beyond its concurrency quota). Finished
//! queries and their results are kept in memory for [`RESULT_TTL_MS`] (7 days, as AWS keeps
//! them), at most [`MAX_KEPT`] of them (the oldest finished ones go first); they do not survive
//! a collector restart. Dropping the registry cancels every running query.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::SharedClock;
use crate::insights::{Event, Executor, Output, Query, Statistics};
use crate::store::logs::LogStore;

/// Most queries scheduled or running at once.
pub const MAX_CONCURRENT: usize = 30;
/// How long a query may run.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// How long a finished query and its results are kept.
pub const RESULT_TTL_MS: i64 = 7 * 86_400_000;
/// Most queries kept (finished ones beyond this are dropped, oldest first).
pub const MAX_KEPT: usize = 200;
/// Events between two looks at the cancel flag, the clock and the progress counters.
const CHECK_EVERY: u64 = 4096;
/// Least time between two published partial results of a running query.
pub const PARTIAL_EVERY: Duration = Duration::from_secs(1);
/// Most rows (or `stats` groups) held for a partial result to be published.
pub const MAX_PARTIAL_HELD: usize = 20_000;

/// Query status, as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Scheduled,
        Status::Running,
        Status::Complete,
        Status::Failed,
        Status::Cancelled,
        Status::Timeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "Scheduled",
            Status::Running => "Running",
            Status::Complete => "Complete",
            Status::Failed => "Failed",
            Status::Cancelled => "Cancelled",
            Status::Timeout => "Timeout",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn active(self) -> bool {
        matches!(self, Status::Scheduled | Status::Running)
    }
}

/// A log group a query reads.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    /// `account:group`, the `@log` value.
    pub log: String,
}

/// What a query was started with.
#[derive(Debug, Clone)]
pub struct Spec {
    pub query: Query,
    /// The query string as DescribeQueries shows it.
    pub query_string: String,
    pub sources: Vec<Source>,
    /// Inclusive range in milliseconds.
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
}

/// The mutable part of a query.
#[derive(Debug, Clone)]
pub struct State {
    pub status: Status,
    pub statistics: Statistics,
    pub output: Option<Output>,
    pub duration_ms: Option<i64>,
    pub finished_at: Option<i64>,
}

/// One started query.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    /// Start order: later queries have larger numbers.
    pub seq: u64,
    pub create_time: i64,
    pub spec: Spec,
    cancel: AtomicBool,
    state: Mutex<State>,
}

impl Job {
    /// A query not started yet (`Scheduled`).
    fn new(id: String, seq: u64, create_time: i64, spec: Spec) -> Job {
        Job {
            id,
            seq,
            create_time,
            spec,
            cancel: AtomicBool::new(false),
            state: Mutex::new(State {
                status: Status::Scheduled,
                statistics: Statistics::default(),
                output: None,
                duration_ms: None,
                finished_at: None,
            }),
        }
    }

    /// A copy of the current state.
    pub fn state(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Why a query could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    TooManyQueries,
}

/// The registry of queries.
#[derive(Debug)]
pub struct QueryJobs {
    jobs: Mutex<HashMap<String, Arc<Job>>>,
    next_seq: std::sync::atomic::AtomicU64,
    store: LogStore,
    clock: SharedClock,
    timeout: Duration,
    partial_every: Duration,
}

impl QueryJobs {
    pub fn new(store: LogStore, clock: SharedClock) -> Self {
        QueryJobs {
            jobs: Mutex::new(HashMap::new()),
            next_seq: std::sync::atomic::AtomicU64::new(1),
            store,
            clock,
            timeout: QUERY_TIMEOUT,
            partial_every: PARTIAL_EVERY,
        }
    }

    /// Register and start a query; returns its id.
    pub fn start(&self, spec: Spec) -> Result<Arc<Job>, StartError> {
        let now = self.clock.now_ms();
        let job = {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            evict(&mut jobs, now);
            let active = jobs.values().filter(|j| j.state().status.active()).count();
            if active >= MAX_CONCURRENT {
                return Err(StartError::TooManyQueries);
            }
            let job = Arc::new(Job::new(
                crate::alarms::events::uuid_v4(),
                self.next_seq.fetch_add(1, Ordering::Relaxed),
                now,
                spec,
            ));
            jobs.insert(job.id.clone(), job.clone());
            job
        };
        let store = self.store.share();
        let clock = self.clock.clone();
        let limits = RunLimits {
            timeout: self.timeout,
            partial_every: self.partial_every,
        };
        let runner = job.clone();
        let spawned = std::thread::Builder::new()
            .name("logs-insights".to_string())
            .spawn(move || run(&runner, &store, &clock, limits));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "Cannot start a Logs Insights query thread.");
            job.update(|s| {
                s.status = Status::Failed;
                s.finished_at = Some(now);
            });
        }
        Ok(job)
    }

    /// A query by id.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        evict(&mut jobs, self.clock.now_ms());
        jobs.get(id).cloned()
    }

    /// Every kept query, the most recently started first.
    pub fn list(&self) -> Vec<Arc<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        evict(&mut jobs, self.clock.now_ms());
        let mut v: Vec<Arc<Job>> = jobs.values().cloned().collect();
        v.sort_by_key(|j| std::cmp::Reverse(j.seq));
        v
    }

    /// Stop a scheduled or running query; `false` when it had already finished.
    pub fn stop(&self, job: &Job) -> bool {
        let now = self.clock.now_ms();
        let mut stopped = false;
        job.update(|s| {
            if s.status.active() {
                s.status = Status::Cancelled;
                s.finished_at = Some(now);
                stopped = true;
            }
        });
        job.cancel.store(true, Ordering::SeqCst);
        stopped
    }
}

impl Drop for QueryJobs {
    fn drop(&mut self) {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        for j in jobs.values() {
            j.cancel.store(true, Ordering::SeqCst);
        }
    }
}

/// Drop finished queries older than the TTL, then the oldest finished ones beyond MAX_KEPT.
fn evict(jobs: &mut HashMap<String, Arc<Job>>, now: i64) {
    jobs.retain(|_, j| match j.state().finished_at {
        Some(t) => now.saturating_sub(t) < RESULT_TTL_MS,
        None => true,
    });
    if jobs.len() > MAX_KEPT {
        let mut finished: Vec<(i64, String)> = jobs
            .values()
            .filter_map(|j| j.state().finished_at.map(|t| (t, j.id.clone())))
            .collect();
        finished.sort();
        let excess = jobs.len() - MAX_KEPT;
        for (_, id) in finished.into_iter().take(excess) {
            jobs.remove(&id);
        }
    }
}

/// How a run ended early.
enum Stop {
    Cancelled,
    Timeout,
}

/// Time limits of one run.
#[derive(Debug, Clone, Copy)]
struct RunLimits {
    timeout: Duration,
    partial_every: Duration,
}

/// Run a query to its end and record the outcome.
fn run(job: &Job, store: &LogStore, clock: &SharedClock, limits: RunLimits) {
    let RunLimits {
        timeout,
        partial_every,
    } = limits;
    let started = Instant::now();
    let mut last_partial = started;
    let mut begun = false;
    job.update(|s| {
        if s.status == Status::Scheduled {
            s.status = Status::Running;
            begun = true;
        }
    });
    if !begun {
        return;
    }
    let spec = &job.spec;
    let mut ex = Executor::new(&spec.query, spec.limit);
    let mut stop: Option<Stop> = None;
    let mut failed = None;
    let mut n: u64 = 0;
    let now = clock.now_ms();
    'groups: for src in &spec.sources {
        let Some((group_id, retention, streams)) = store.with_catalog(|c| {
            c.groups.get(&src.name).map(|g| {
                let streams: Vec<(i64, String, Option<i64>, Option<i64>)> = g
                    .streams
                    .values()
                    .map(|s| (s.id, s.name.clone(), s.first_event_ts, s.last_event_ts))
                    .collect();
                (g.id, g.retention_days, streams)
            })
        }) else {
            continue;
        };
        let mut from = spec.start_ms;
        if let Some(days) = retention {
            from = from.max(now.saturating_sub(i64::from(days) * 86_400_000));
        }
        for (stream_id, stream_name, first, last) in streams {
            let (Some(first), Some(last)) = (first, last) else {
                continue;
            };
            if last < from || first > spec.end_ms {
                continue;
            }
            let scanned = store.scan_stream(stream_id, from, spec.end_ms, &mut |e| {
                ex.push(Event {
                    timestamp: e.timestamp,
                    ingestion_time: e.ingestion_time,
                    message: e.message.into(),
                    log_stream: stream_name.as_str().into(),
                    log: src.log.as_str().into(),
                    ptr: (group_id, stream_id, e.seq),
                });
                n += 1;
                if n.is_multiple_of(CHECK_EVERY) {
                    let stats = ex.statistics();
                    let partial = (last_partial.elapsed() >= partial_every
                        && ex.held() <= MAX_PARTIAL_HELD)
                        .then(|| ex.snapshot());
                    if partial.is_some() {
                        last_partial = Instant::now();
                    }
                    job.update(|s| {
                        s.statistics = stats;
                        if partial.is_some() {
                            s.output = partial;
                        }
                    });
                    if job.cancel.load(Ordering::Relaxed) {
                        stop = Some(Stop::Cancelled);
                        return ControlFlow::Break(());
                    }
                    if started.elapsed() > timeout {
                        stop = Some(Stop::Timeout);
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            });
            match scanned {
                Ok(ControlFlow::Break(())) => break 'groups,
                Ok(ControlFlow::Continue(())) => {}
                Err(e) => {
                    failed = Some(e);
                    break 'groups;
                }
            }
        }
    }
    if job.cancel.load(Ordering::Relaxed) {
        stop = Some(Stop::Cancelled);
    }
    let statistics = ex.statistics();
    let output = match (&stop, &failed) {
        (None, None) => Some(ex.finish()),
        _ => None,
    };
    let keep_partial = failed.is_none();
    let duration = started.elapsed().as_millis() as i64;
    let finished_at = clock.now_ms();
    if let Some(e) = &failed {
        tracing::error!(error = %e, query = %job.id, "Logs Insights query failed.");
    }
    job.update(|s| {
        s.statistics = statistics;
        s.duration_ms = Some(duration);
        if !s.status.active() {
            // Stopped by StopQuery meanwhile: keep Cancelled.
            return;
        }
        s.finished_at = Some(finished_at);
        s.status = match (stop, failed) {
            (Some(Stop::Cancelled), _) => Status::Cancelled,
            (Some(Stop::Timeout), _) => Status::Timeout,
            (None, Some(_)) => Status::Failed,
            (None, None) => Status::Complete,
        };
        if output.is_some() || !keep_partial {
            s.output = output;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::logs::testutil::store_with_group;
    use crate::store::logs::AppendBatch;

    const EVENTS: usize = 5_000;

    async fn store_with_events(dir: &std::path::Path) -> LogStore {
        let store = store_with_group(dir, ManualClock::new(10_000_000), "g").await;
        store.create_stream("g", "s").await.unwrap();
        let events: Vec<(i64, String)> = (0..EVENTS)
            .map(|i| (1_000 + i as i64, format!("line {i}")))
            .collect();
        let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
        store
            .append(AppendBatch {
                group: "g",
                stream: "s",
                events: &events,
                ingestion_time: 2_000_000,
            })
            .await
            .unwrap();
        store
    }

    fn job(query: &str, cancelled: bool) -> Job {
        let job = Job::new(
            "q".into(),
            1,
            0,
            Spec {
                query: crate::insights::parse(query).unwrap(),
                query_string: query.into(),
                sources: vec![Source {
                    name: "g".into(),
                    log: "1:g".into(),
                }],
                start_ms: 0,
                end_ms: 1_000_000,
                limit: 1_000,
            },
        );
        job.cancel.store(cancelled, Ordering::Relaxed);
        job
    }

    fn count_of(out: &Option<Output>) -> Option<String> {
        let rows = &out.as_ref()?.rows;
        assert_eq!(rows.len(), 1, "{rows:?}");
        rows[0]
            .iter()
            .find(|(f, _)| f == "count(*)")
            .map(|(_, v)| v.clone())
    }

    #[tokio::test]
    async fn running_queries_publish_partial_results_and_keep_them_when_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_events(dir.path()).await;
        let clock: SharedClock = ManualClock::new(10_000_000);
        let limits = RunLimits {
            timeout: QUERY_TIMEOUT,
            partial_every: Duration::ZERO,
        };
        // Stopped at the first check (after CHECK_EVERY events): the partial result published
        // there is what the cancelled query keeps.
        let stopped = job("stats count(*)", true);
        run(&stopped, &store, &clock, limits);
        let st = stopped.state();
        assert_eq!(st.status, Status::Cancelled);
        assert_eq!(count_of(&st.output).as_deref(), Some("4096"));
        assert_eq!(st.statistics.records_scanned, CHECK_EVERY);
        // Run to the end: the final result replaces the partial one.
        let whole = job("stats count(*)", false);
        run(&whole, &store, &clock, limits);
        let st = whole.state();
        assert_eq!(st.status, Status::Complete);
        assert_eq!(count_of(&st.output).as_deref(), Some("5000"));
        // With partial results held back (the default interval has not passed), a stopped
        // query has none.
        let quiet = job("stats count(*)", true);
        run(
            &quiet,
            &store,
            &clock,
            RunLimits {
                timeout: QUERY_TIMEOUT,
                partial_every: PARTIAL_EVERY * 3600,
            },
        );
        let st = quiet.state();
        assert_eq!(st.status, Status::Cancelled);
        assert!(st.output.is_none());
    }

    #[test]
    fn a_snapshot_is_the_result_so_far_and_leaves_the_executor_going() {
        let q = crate::insights::parse("fields @message | sort @timestamp asc | limit 3").unwrap();
        let mut ex = Executor::new(&q, 1_000);
        let event = |i: i64| Event {
            timestamp: i,
            ingestion_time: i,
            message: format!("m{i}").into(),
            log_stream: "s".into(),
            log: "1:g".into(),
            ptr: (1, 1, i),
        };
        ex.push(event(5));
        ex.push(event(2));
        let messages = |o: &Output| -> Vec<String> {
            o.rows
                .iter()
                .map(|r| r.iter().find(|(f, _)| f == "@message").unwrap().1.clone())
                .collect()
        };
        let snap = ex.snapshot();
        assert_eq!(messages(&snap), ["m2", "m5"]);
        assert_eq!(ex.held(), 2);
        ex.push(event(1));
        ex.push(event(9));
        assert_eq!(messages(&ex.snapshot()), ["m1", "m2", "m5"]);
        assert_eq!(messages(&ex.finish()), ["m1", "m2", "m5"]);
    }
}
