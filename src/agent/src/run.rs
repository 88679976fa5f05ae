//! The agent runtime: the daemon loop and the one-shot `--once` mode.
//!
//! Design:
//! - One tokio **current-thread** runtime for the whole agent (small footprint). The loop task
//!   owns the plugins and the pending datums; a separate shipper task owns the PutMetricData
//!   client and sends what the loop hands it over a bounded channel, so retries and slow
//!   endpoints never delay collection.
//! - Collection ticks are aligned to the wall clock: a plugin with interval `I` seconds runs at
//!   every multiple of `I` since the epoch, and its datums carry that tick time. Missed ticks
//!   (a suspended host) are skipped, not replayed. Each plugin is sampled once when the pipeline
//!   is built (output discarded) so the first real tick already has cpu usage deltas.
//! - Flushing: every `metrics.force_flush_interval` (default 60 s), shortly after the aligned
//!   boundary (a per-process random offset of up to 5 s spreads a fleet's requests), and at once
//!   whenever 1000 datums are pending. A batch that still fails after its retries for a
//!   transient reason (endpoint unreachable, throttled, 5xx, no credentials yet) is kept by the
//!   shipper and sent again with the next flush; a batch the endpoint rejects (4xx) is dropped
//!   with the AWS error logged. Datums held in memory are bounded ([`MAX_PENDING`] in the loop
//!   and as much again in the shipper); beyond that the oldest are dropped with a warning.
//! - Control: SIGTERM / SIGINT flush everything held and exit within 10 s (pending datums get an
//!   8 s deadline, retries included); SIGHUP reloads the config through the caller's reload
//!   function and swaps the pipeline, after handing everything pending to the old shipper, which
//!   drains in the background. An invalid new config keeps the old one (logged).
//! - Plugins: every host plugin (cpu, mem, swap, disk, diskio, net, netstat, processes, one
//!   source per procstat entry) plus the StatsD and collectd receivers, which run their own
//!   listener threads and are drained like any other source. A plugin whose collection fails
//!   is reported once (again when the error changes), counted, and never stops the others.
//!
//! `--once` ([`once`]): samples twice, one second apart, and prints the second sample's datums
//! as JSON lines `{"namespace","metric_name","dimensions":{..},"value","unit","timestamp"}` with
//! `timestamp` in epoch **milliseconds**. No credentials or network are needed (the metadata
//! service is asked only when an `append_dimensions` value holds a `${aws:...}` placeholder).

use crate::collect::dimensions::{has_placeholder, HostContext, InstanceMetadata};
use crate::collect::disk::DiskSource;
use crate::collect::diskio::DiskIoSource;
use crate::collect::net::{NetSource, DEFAULT_SYS_ROOT};
use crate::collect::netstat::NetstatSource;
use crate::collect::processes::ProcessesSource;
use crate::collect::procstat::ProcstatSource;
use crate::collect::rollup::Rollup;
use crate::collect::swap::SwapSource;
use crate::collect::{CpuSource, MemSource, MetricSource, DEFAULT_PROC_ROOT};
use crate::config::AgentConfig;
use crate::logs::{LogsOptions, LogsService, LogsStartError};
use crate::ship::credentials::{process_env, CredentialProvider, EnvLookup};
use crate::ship::endpoint::{metrics_endpoint, resolve_region, EndpointError, RegionError};
use crate::ship::imds::{ImdsClient, ImdsError};
use crate::ship::metrics::{MetricsClient, ShipError, MAX_DATUMS_PER_CALL};
use crate::wake::{WallTimer, Woke};
use hostwatch_model::{DatumValue, MetricDatum};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Most datums held in memory while the shipper is behind.
pub const MAX_PENDING: usize = 20_000;
/// Batches queued for the shipper.
const SHIP_QUEUE: usize = 8;
/// How long shutdown may spend delivering what is held.
const SHUTDOWN_BUDGET: Duration = Duration::from_secs(8);
/// Upper bound of the random flush offset.
const MAX_FLUSH_OFFSET_MS: i64 = 5_000;
/// Default `force_flush_interval`.
const DEFAULT_FLUSH_SECS: u64 = 60;

/// How the runtime is set up.
#[derive(Clone)]
pub struct RunOptions {
    /// State directory (reserved for the on-disk queue; created by the binary).
    pub state_dir: PathBuf,
    /// Where `/proc` is.
    pub proc_root: PathBuf,
    /// Where `/sys` is (network interface flags).
    pub sys_root: PathBuf,
    /// The environment (credentials, region, metadata endpoint).
    pub env: EnvLookup,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("state_dir", &self.state_dir)
            .field("proc_root", &self.proc_root)
            .field("sys_root", &self.sys_root)
            .finish_non_exhaustive()
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            state_dir: PathBuf::from("/var/lib/hostwatch-agent"),
            proc_root: PathBuf::from(DEFAULT_PROC_ROOT),
            sys_root: PathBuf::from(DEFAULT_SYS_ROOT),
            env: process_env(),
        }
    }
}

/// Re-reads the config file on SIGHUP; `Err` carries the loader's message.
pub type ReloadFn = Box<dyn FnMut() -> Result<AgentConfig, String>>;

/// A request to the running daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Flush and exit.
    Shutdown,
    /// Reload the configuration.
    Reload,
}

/// Why the agent could not start or finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error(transparent)]
    Region(#[from] RegionError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Imds(#[from] ImdsError),
    #[error(transparent)]
    Ship(#[from] ShipError),
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
    #[error("log collection: {0}")]
    Logs(#[from] LogsStartError),
}

/// The next multiple of `interval_ms` strictly after `now_ms`.
pub fn next_aligned(now_ms: i64, interval_ms: i64) -> i64 {
    let i = interval_ms.max(1);
    now_ms.div_euclid(i).saturating_add(1).saturating_mul(i)
}

/// The latest multiple of `interval_ms` not after `now_ms`.
pub fn latest_aligned(now_ms: i64, interval_ms: i64) -> i64 {
    let i = interval_ms.max(1);
    now_ms.div_euclid(i).saturating_mul(i)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn os_hostname() -> Option<String> {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
}

/// Whether the config has a `${aws:...}` placeholder anywhere the runtime resolves one.
fn needs_metadata(config: &AgentConfig) -> bool {
    let Some(m) = &config.metrics else {
        return false;
    };
    let mc = &m.metrics_collected;
    let plugin_maps = [
        mc.cpu.as_ref().map(|c| &c.common.append_dimensions),
        mc.mem.as_ref().map(|c| &c.append_dimensions),
        mc.swap.as_ref().map(|c| &c.append_dimensions),
        mc.disk.as_ref().map(|c| &c.common.append_dimensions),
        mc.diskio.as_ref().map(|c| &c.common.append_dimensions),
        mc.net.as_ref().map(|c| &c.common.append_dimensions),
        mc.netstat.as_ref().map(|c| &c.append_dimensions),
        mc.processes.as_ref().map(|c| &c.append_dimensions),
        mc.collectd.as_ref().map(|c| &c.append_dimensions),
    ];
    has_placeholder(&m.append_dimensions)
        || plugin_maps.into_iter().flatten().any(has_placeholder)
        || mc
            .procstat
            .iter()
            .any(|p| has_placeholder(&p.common.append_dimensions))
}

/// Instance metadata, when the config needs it and the service answers.
async fn fetch_metadata(config: &AgentConfig, imds: &ImdsClient) -> Option<InstanceMetadata> {
    if !needs_metadata(config) {
        return None;
    }
    match imds.instance_metadata().await {
        Ok(md) => Some(md),
        Err(e) => {
            tracing::warn!("append_dimensions: instance metadata unavailable: {e}");
            None
        }
    }
}

/// The shared dimension context for `config`.
pub fn host_context(config: &AgentConfig, metadata: Option<InstanceMetadata>) -> HostContext {
    let hostname = if config.agent.omit_hostname {
        None
    } else {
        os_hostname()
    };
    let empty = Default::default();
    let global = config
        .metrics
        .as_ref()
        .map(|m| &m.append_dimensions)
        .unwrap_or(&empty);
    HostContext::new(hostname, global, metadata)
}

/// One scheduled plugin.
///
/// Failure reporting: a failing plugin never stops the others (each is collected on its own),
/// and its failure is logged **once**: a warning on the first failed tick, again only when the
/// error message changes, and an info line when a tick succeeds again. Every failed tick is
/// counted; the count goes with the recovery line, and a plugin that failed at all logs its
/// count when it is dropped (at shutdown, or when a reload replaces the pipeline).
struct Plugin {
    source: Box<dyn MetricSource>,
    drop_original: Vec<String>,
    next_due_ms: i64,
    /// Failed collection ticks since the plugin was built.
    failures: u64,
    /// The error being reported, while the plugin keeps failing; `None` when it works.
    failing: Option<String>,
    /// One tick's datums before they join the pending queue; empty between ticks, its
    /// capacity kept so that a tick does not grow a vector from nothing.
    scratch: Vec<MetricDatum>,
}

impl Plugin {
    fn new(source: Box<dyn MetricSource>, drop_original: &[String]) -> Self {
        Plugin {
            source,
            drop_original: drop_original.to_vec(),
            next_due_ms: 0,
            failures: 0,
            failing: None,
            scratch: Vec::new(),
        }
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        if self.failures > 0 {
            tracing::info!(
                plugin = self.source.plugin(),
                failures = self.failures,
                still_failing = self.failing.is_some(),
                "collection failures of this plugin while it ran"
            );
        }
    }
}

/// Schedule `source` if it can produce anything; otherwise say why it is left out.
fn add_plugin(
    out: &mut Vec<Plugin>,
    source: Box<dyn MetricSource>,
    productive: bool,
    drop_original: &[String],
) {
    if productive {
        out.push(Plugin::new(source, drop_original));
    } else {
        tracing::warn!(
            plugin = source.plugin(),
            "this plugin's configuration selects nothing: no metrics will be collected for it"
        );
    }
}

/// Build the plugins the config asks for (one `add_plugin` call each); a plugin whose config can
/// never produce a datum is left out with a warning.
fn build_plugins(config: &AgentConfig, ctx: &HostContext, options: &RunOptions) -> Vec<Plugin> {
    let mut out = Vec::new();
    let Some(metrics) = &config.metrics else {
        return out;
    };
    let agent_interval = config.agent.metrics_collection_interval;
    let root = options.proc_root.as_path();
    let mc = &metrics.metrics_collected;
    if let Some(cpu) = &mc.cpu {
        let src = CpuSource::new(cpu, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &cpu.common.drop_original_metrics,
        );
    }
    if let Some(mem) = &mc.mem {
        let src = MemSource::new(mem, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &mem.drop_original_metrics,
        );
    }
    if let Some(swap) = &mc.swap {
        let src = SwapSource::new(swap, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &swap.drop_original_metrics,
        );
    }
    if let Some(disk) = &mc.disk {
        let src = DiskSource::new(disk, ctx, agent_interval, root).with_sys_root(&options.sys_root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &disk.common.drop_original_metrics,
        );
    }
    if let Some(diskio) = &mc.diskio {
        let src = DiskIoSource::new(diskio, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &diskio.common.drop_original_metrics,
        );
    }
    if let Some(net) = &mc.net {
        let src = NetSource::new(net, ctx, agent_interval, root, &options.sys_root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &net.common.drop_original_metrics,
        );
    }
    if let Some(netstat) = &mc.netstat {
        let src = NetstatSource::new(netstat, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &netstat.drop_original_metrics,
        );
    }
    if let Some(processes) = &mc.processes {
        let src = ProcessesSource::new(processes, ctx, agent_interval, root);
        let productive = src.is_productive();
        add_plugin(
            &mut out,
            Box::new(src),
            productive,
            &processes.drop_original_metrics,
        );
    }
    for entry in &mc.procstat {
        let src = ProcstatSource::new(entry, ctx, agent_interval, root);
        let productive = src.is_productive();
        // `drop_original_metrics` does not apply to procstat (as in the CloudWatch agent).
        add_plugin(&mut out, Box::new(src), productive, &[]);
    }
    if let Some(statsd) = &mc.statsd {
        // Starts (or, after a reload with the same address, joins) the listener threads.
        let src = crate::statsd::StatsdSource::new(statsd, ctx, Some(&options.state_dir));
        add_plugin(&mut out, Box::new(src), true, &statsd.drop_original_metrics);
    }
    if let Some(collectd) = &mc.collectd {
        // Spawns the UDP receiver task on this runtime (see `crate::collectd`).
        match crate::collectd::CollectdSource::start(
            collectd,
            ctx,
            agent_interval,
            Some(&options.state_dir),
            root,
        ) {
            Ok(src) => add_plugin(
                &mut out,
                Box::new(src),
                true,
                &collectd.drop_original_metrics,
            ),
            Err(e) => tracing::error!("collectd input not started: {e}"),
        }
    }
    out
}

/// What one collection tick of a plugin reported (see [`Plugin`] for the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TickReport {
    /// Collected; nothing logged.
    Ok,
    /// Collected after failing: the recovery and the failure count were logged.
    Recovered,
    /// Failed with a new error message: warned.
    Warned,
    /// Failed with the same message as the previous tick: counted, not logged.
    Repeated,
}

/// Collect one tick of `plugin` into `out`. A failed tick adds nothing (datums the source
/// appended before failing are discarded, so a tick is all or nothing).
fn collect_into(
    plugin: &mut Plugin,
    rollup: &Rollup,
    tick_ms: i64,
    out: &mut Vec<MetricDatum>,
) -> TickReport {
    let mut fresh = std::mem::take(&mut plugin.scratch);
    fresh.clear();
    let collected = plugin.source.collect(tick_ms, &mut fresh);
    if collected.is_ok() {
        rollup.apply(&mut fresh, &plugin.drop_original);
        out.append(&mut fresh);
    }
    fresh.clear();
    plugin.scratch = fresh;
    match collected {
        Ok(()) => match plugin.failing.take() {
            Some(last_error) => {
                tracing::info!(
                    plugin = plugin.source.plugin(),
                    failures = plugin.failures,
                    "collection works again (last error: {last_error})"
                );
                TickReport::Recovered
            }
            None => TickReport::Ok,
        },
        Err(e) => {
            plugin.failures = plugin.failures.saturating_add(1);
            let message = e.to_string();
            if plugin.failing.as_deref() == Some(message.as_str()) {
                return TickReport::Repeated;
            }
            tracing::warn!(
                plugin = plugin.source.plugin(),
                failures = plugin.failures,
                "collection failed: {message} (the other plugins go on; this error is not \
                 logged again until it changes or the plugin recovers)"
            );
            plugin.failing = Some(message);
            TickReport::Warned
        }
    }
}

/// Render one datum as a `--once` JSON line.
pub fn once_line(namespace: &str, d: &MetricDatum) -> serde_json::Value {
    let dims: serde_json::Map<String, serde_json::Value> = d
        .dimensions
        .iter()
        .map(|x| (x.name.clone(), serde_json::Value::String(x.value.clone())))
        .collect();
    let value = match &d.value {
        DatumValue::Single(v) => serde_json::json!(v),
        DatumValue::StatisticSet(s) => serde_json::json!({
            "SampleCount": s.sample_count, "Sum": s.sum, "Minimum": s.minimum, "Maximum": s.maximum
        }),
        DatumValue::Distribution {
            values,
            counts,
            stats,
        } => {
            let mut v = serde_json::json!({"Values": values, "Counts": counts});
            if let Some(s) = stats {
                v["StatisticValues"] = serde_json::json!({
                    "SampleCount": s.sample_count, "Sum": s.sum, "Minimum": s.minimum, "Maximum": s.maximum
                });
            }
            v
        }
    };
    serde_json::json!({
        "namespace": namespace,
        "metric_name": d.metric_name,
        "dimensions": dims,
        "value": value,
        "unit": d.unit.as_str(),
        "timestamp": d.timestamp_ms,
    })
}

/// `--once`: sample twice, `gap` apart, and write the second sample as JSON lines to `out`.
/// Returns the number of lines written.
pub async fn once_async(
    config: &AgentConfig,
    options: &RunOptions,
    gap: Duration,
    out: &mut dyn Write,
) -> Result<usize, RunError> {
    let metadata = if needs_metadata(config) {
        let imds = ImdsClient::from_env(options.env.as_ref())?;
        fetch_metadata(config, &imds).await
    } else {
        None
    };
    let ctx = host_context(config, metadata);
    let mut plugins = build_plugins(config, &ctx, options);
    let rollup = Rollup::new(
        config
            .metrics
            .as_ref()
            .map(|m| m.aggregation_dimensions.as_slice())
            .unwrap_or(&[]),
    );
    let namespace = config
        .metrics
        .as_ref()
        .map(|m| m.namespace.as_str())
        .unwrap_or("CWAgent");
    let mut first = Vec::new();
    for p in plugins.iter_mut() {
        collect_into(p, &rollup, now_ms(), &mut first);
    }
    tokio::time::sleep(gap).await;
    let tick = now_ms();
    let mut second = Vec::new();
    for p in plugins.iter_mut() {
        collect_into(p, &rollup, tick, &mut second);
    }
    for d in &second {
        let line = once_line(namespace, d);
        writeln!(out, "{line}").map_err(RunError::Output)?;
    }
    out.flush().map_err(RunError::Output)?;
    Ok(second.len())
}

/// `--once` on its own current-thread runtime, one second between the samples.
pub fn once(
    config: &AgentConfig,
    options: &RunOptions,
    out: &mut dyn Write,
) -> Result<usize, RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Only DNS look-ups and file reads use blocking threads; keep that pool tiny.
        .max_blocking_threads(2)
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(once_async(config, options, Duration::from_secs(1), out))
}

/// The shipper task's handle.
struct Shipper {
    tx: mpsc::Sender<Vec<MetricDatum>>,
    task: tokio::task::JoinHandle<()>,
    deadline: tokio::sync::watch::Sender<Option<Instant>>,
}

impl Shipper {
    fn spawn(client: MetricsClient) -> Self {
        let (tx, mut rx) = mpsc::channel::<Vec<MetricDatum>>(SHIP_QUEUE);
        let (deadline_tx, deadline_rx) = tokio::sync::watch::channel::<Option<Instant>>(None);
        let task = tokio::spawn(async move {
            // Datums whose batch failed for a transient reason, resent with the next batch.
            let mut backlog: Vec<MetricDatum> = Vec::new();
            loop {
                let next = rx.recv().await;
                let closed = next.is_none();
                let mut batch = std::mem::take(&mut backlog);
                batch.extend(next.unwrap_or_default());
                if batch.is_empty() {
                    if closed {
                        break;
                    }
                    continue;
                }
                let deadline = *deadline_rx.borrow();
                let outcome = client.put(&batch, deadline).await;
                if outcome.errors.is_empty() {
                    tracing::debug!(delivered = outcome.delivered, "PutMetricData delivered");
                }
                backlog = outcome.retry_later;
                let dropped = batch
                    .len()
                    .saturating_sub(outcome.delivered + backlog.len());
                if dropped > 0 {
                    tracing::warn!(dropped, "datums rejected by the endpoint were dropped");
                }
                if backlog.len() > MAX_PENDING {
                    let excess = backlog.len() - MAX_PENDING;
                    backlog.drain(..excess);
                    tracing::warn!(
                        dropped = excess,
                        "endpoint unreachable for long: oldest datums dropped"
                    );
                }
                if closed {
                    if !backlog.is_empty() {
                        tracing::warn!(
                            dropped = backlog.len(),
                            "undelivered datums dropped at shutdown"
                        );
                    }
                    break;
                }
                if !backlog.is_empty() {
                    tracing::warn!(
                        held = backlog.len(),
                        "endpoint unavailable; datums kept for the next flush"
                    );
                }
            }
        });
        Shipper {
            tx,
            task,
            deadline: deadline_tx,
        }
    }

    /// Close the queue; the task ends once everything queued was tried.
    fn close(self, deadline: Instant) -> tokio::task::JoinHandle<()> {
        let _ = self.deadline.send(Some(deadline));
        drop(self.tx);
        self.task
    }
}

/// Everything built from one configuration.
struct Pipeline {
    plugins: Vec<Plugin>,
    rollup: Rollup,
    shipper: Option<Shipper>,
    flush_ms: i64,
    flush_offset_ms: i64,
    next_flush_ms: i64,
    pending: Vec<MetricDatum>,
}

impl Pipeline {
    async fn build(
        config: &AgentConfig,
        options: &RunOptions,
        imds: &ImdsClient,
        creds: &Arc<CredentialProvider>,
    ) -> Result<Pipeline, RunError> {
        let metadata = fetch_metadata(config, imds).await;
        let ctx = host_context(config, metadata);
        let mut plugins = build_plugins(config, &ctx, options);
        let metrics = config.metrics.as_ref();
        let rollup = Rollup::new(
            metrics
                .map(|m| m.aggregation_dimensions.as_slice())
                .unwrap_or(&[]),
        );
        let shipper = if plugins.is_empty() {
            tracing::warn!("no supported metrics plugin configured: nothing to collect");
            None
        } else {
            let namespace = metrics.map(|m| m.namespace.as_str()).unwrap_or("CWAgent");
            let region =
                resolve_region(config.agent.region.as_deref(), options.env.as_ref(), imds).await?;
            let endpoint = metrics_endpoint(
                metrics.and_then(|m| m.endpoint_override.as_deref()),
                &region,
            )?;
            if metrics.is_some_and(|m| m.role_arn.is_some()) || config.agent.role_arn.is_some() {
                tracing::warn!(
                    "role_arn is not supported yet; the default credential chain is used"
                );
            }
            tracing::info!(
                endpoint = %endpoint.url,
                %region,
                %namespace,
                plugins = ?plugins.iter().map(|p| (p.source.plugin(), p.source.interval_secs())).collect::<Vec<_>>(),
                "metrics pipeline ready"
            );
            let client = MetricsClient::new(endpoint, &region, namespace, creds.clone())?;
            Some(Shipper::spawn(client))
        };
        let now = now_ms();
        let mut discard = Vec::new();
        for p in plugins.iter_mut() {
            // Prime: establishes the cpu baseline so the first tick has usage values.
            let _ = p.source.collect(now, &mut discard);
            discard.clear();
            p.next_due_ms = next_aligned(now, p.source.interval_secs() as i64 * 1000);
        }
        let flush_ms = metrics
            .map(|m| m.force_flush_interval)
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_FLUSH_SECS) as i64
            * 1000;
        let flush_offset_ms = rand::random_range(0..flush_ms.clamp(1, MAX_FLUSH_OFFSET_MS));
        Ok(Pipeline {
            plugins,
            rollup,
            shipper,
            flush_ms,
            flush_offset_ms,
            next_flush_ms: next_aligned(now, flush_ms) + flush_offset_ms,
            pending: Vec::new(),
        })
    }

    /// When the loop must wake next (epoch ms); `None` when there is nothing to do.
    fn next_wake_ms(&self) -> Option<i64> {
        let collect = self.plugins.iter().map(|p| p.next_due_ms).min()?;
        Some(collect.min(self.next_flush_ms))
    }

    /// Re-align every deadline to `now` after the wall clock was stepped: a step backwards
    /// would otherwise leave every plugin waiting for its old boundary (up to the size of the
    /// step), a step forwards is caught up by the next [`Pipeline::tick`] anyway.
    fn clock_stepped(&mut self, now: i64) {
        for p in self.plugins.iter_mut() {
            let interval_ms = p.source.interval_secs() as i64 * 1000;
            p.next_due_ms = p.next_due_ms.min(next_aligned(now, interval_ms));
        }
        self.next_flush_ms = self
            .next_flush_ms
            .min(next_aligned(now, self.flush_ms) + self.flush_offset_ms);
    }

    fn tick(&mut self, now: i64) {
        for p in self.plugins.iter_mut() {
            if p.next_due_ms <= now {
                let interval_ms = p.source.interval_secs() as i64 * 1000;
                // The latest boundary not after now: the due tick when on time, the current
                // one after a stall (missed ticks are skipped, never back-dated).
                let tick = latest_aligned(now, interval_ms);
                collect_into(p, &self.rollup, tick, &mut self.pending);
                p.next_due_ms = next_aligned(now, interval_ms);
            }
        }
        if now >= self.next_flush_ms {
            self.flush(false);
            self.next_flush_ms = next_aligned(now, self.flush_ms) + self.flush_offset_ms;
        } else if self.pending.len() >= MAX_DATUMS_PER_CALL {
            self.flush(true);
        }
        self.bound_pending();
    }

    /// Hand pending datums to the shipper: all of them, or only whole 1000-datum batches.
    fn flush(&mut self, full_batches_only: bool) {
        let Some(shipper) = &self.shipper else {
            self.pending.clear();
            return;
        };
        loop {
            let n = if full_batches_only {
                if self.pending.len() < MAX_DATUMS_PER_CALL {
                    break;
                }
                MAX_DATUMS_PER_CALL
            } else {
                self.pending.len()
            };
            if n == 0 {
                break;
            }
            let batch: Vec<MetricDatum> = self.pending.drain(..n).collect();
            match shipper.tx.try_send(batch) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(batch))
                | Err(mpsc::error::TrySendError::Closed(batch)) => {
                    // Shipper busy: keep the datums for the next flush.
                    let rest = std::mem::replace(&mut self.pending, batch);
                    self.pending.extend(rest);
                    break;
                }
            }
            if !full_batches_only {
                break;
            }
        }
    }

    fn bound_pending(&mut self) {
        if self.pending.len() > MAX_PENDING {
            let excess = self.pending.len() - MAX_PENDING;
            self.pending.drain(..excess);
            tracing::warn!(
                dropped = excess,
                "endpoint too slow or unreachable: oldest datums dropped"
            );
        }
    }

    /// Hand everything to the shipper (waiting for queue room until `deadline`) and close it.
    async fn close(mut self, deadline: Instant) -> Option<tokio::task::JoinHandle<()>> {
        let shipper = self.shipper.take()?;
        if !self.pending.is_empty() {
            let batch = std::mem::take(&mut self.pending);
            let n = batch.len();
            if tokio::time::timeout_at(deadline, shipper.tx.send(batch))
                .await
                .is_err()
            {
                tracing::warn!(dropped = n, "shutdown deadline reached before sending");
            }
        }
        Some(shipper.close(deadline))
    }
}

fn spawn_signal_forwarder(tx: mpsc::UnboundedSender<Control>) -> Result<(), RunError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(RunError::Signals)?;
    tokio::spawn(async move {
        loop {
            let c = tokio::select! {
                _ = term.recv() => Control::Shutdown,
                _ = int.recv() => Control::Shutdown,
                _ = hup.recv() => Control::Reload,
            };
            if tx.send(c).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// The daemon, driven by `control` instead of OS signals (tests use this directly).
pub async fn daemon(
    config: AgentConfig,
    options: RunOptions,
    mut reload: ReloadFn,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> Result<(), RunError> {
    let imds = Arc::new(ImdsClient::from_env(options.env.as_ref())?);
    let creds = Arc::new(CredentialProvider::new(options.env.clone(), imds.clone()));
    let mut pipeline = Pipeline::build(&config, &options, &imds, &creds).await?;
    let mut logs = start_logs(&config, &options, &imds, &creds).await?;
    if pipeline.shipper.is_some() {
        if let Err(e) = creds.credentials().await {
            tracing::warn!("{e}; will retry at every flush");
        }
    }
    let mut draining: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    // One wake per tick at the aligned wall-clock deadline (see `wake`).
    let mut timer = WallTimer::new();
    loop {
        let now = now_ms();
        let at = pipeline
            .next_wake_ms()
            .unwrap_or_else(|| now.saturating_add(3_600_000));
        tokio::select! {
            woke = timer.sleep_until_ms(at, now) => {
                let now = now_ms();
                if woke == Woke::ClockStepped {
                    pipeline.clock_stepped(now);
                }
                pipeline.tick(now);
            }
            c = control.recv() => match c {
                Some(Control::Reload) => {
                    tracing::info!("reloading the configuration");
                    match reload() {
                        Ok(new_config) => {
                            match Pipeline::build(&new_config, &options, &imds, &creds).await {
                                Ok(new_pipeline) => {
                                    // The old log pipeline lets go of the spool first; what it
                                    // did not deliver is resumed by the new one, never repeated.
                                    if let Some(l) = logs.take() {
                                        l.stop(Instant::now() + Duration::from_secs(2)).await;
                                    }
                                    match start_logs(&new_config, &options, &imds, &creds).await {
                                        Ok(l) => logs = l,
                                        Err(e) => tracing::error!("log collection not restarted: {e}"),
                                    }
                                    let old = std::mem::replace(&mut pipeline, new_pipeline);
                                    let deadline = Instant::now() + Duration::from_secs(3600);
                                    if let Some(h) = old.close(deadline).await {
                                        draining.push(h);
                                    }
                                    tracing::info!("configuration reloaded");
                                }
                                Err(e) => tracing::error!("new configuration not applied, keeping the old one: {e}"),
                            }
                        }
                        Err(e) => tracing::error!("new configuration is invalid, keeping the old one: {e}"),
                    }
                }
                Some(Control::Shutdown) | None => break,
            }
        }
        draining.retain(|h| !h.is_finished());
    }
    tracing::info!("shutting down: flushing held metrics and logs");
    let deadline = Instant::now() + SHUTDOWN_BUDGET;
    if let Some(l) = logs.take() {
        l.stop(deadline).await;
    }
    if let Some(h) = pipeline.close(deadline).await {
        draining.push(h);
    }
    for h in draining {
        if tokio::time::timeout_at(deadline, h).await.is_err() {
            tracing::warn!("shutdown deadline reached: undelivered metrics dropped");
            break;
        }
    }
    Ok(())
}

/// The log pipeline for `config`, when it collects files.
async fn start_logs(
    config: &AgentConfig,
    options: &RunOptions,
    imds: &ImdsClient,
    creds: &Arc<CredentialProvider>,
) -> Result<Option<LogsService>, RunError> {
    let logs_options = LogsOptions::new(options.state_dir.clone()).with_config(config);
    Ok(LogsService::start(config, logs_options, options.env.as_ref(), imds, creds).await?)
}

/// Run the daemon until SIGTERM / SIGINT, on a current-thread runtime.
pub fn run(config: AgentConfig, options: RunOptions, reload: ReloadFn) -> Result<(), RunError> {
    run_with(config, options, reload, None)
}

/// Starts a task that sends control requests (e.g. the fleet config watcher) on the daemon's
/// runtime.
pub type ControlSource = Box<dyn FnOnce(mpsc::UnboundedSender<Control>)>;

/// [`run`], plus `source` started on the runtime with a sender of control requests: a
/// [`Control::Reload`] it sends takes the same path as SIGHUP.
pub fn run_with(
    config: AgentConfig,
    options: RunOptions,
    reload: ReloadFn,
    source: Option<ControlSource>,
) -> Result<(), RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Only DNS look-ups and file reads use blocking threads; keep that pool tiny.
        .max_blocking_threads(2)
        .build()
        .map_err(RunError::Runtime)?;
    rt.block_on(async move {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(start) = source {
            start(tx.clone());
        }
        spawn_signal_forwarder(tx)?;
        daemon(config, options, reload, rx).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        AgentSection, CpuConfig, Measurement, MetricsCollected, MetricsSection, PluginCommon,
    };
    use crate::ship::test_server::{Reply, TestServer};
    use std::collections::BTreeMap;
    use std::path::Path;

    fn measurements(fields: &[&str]) -> Vec<Measurement> {
        fields
            .iter()
            .map(|f| Measurement {
                field: f.to_string(),
                rename: None,
                unit: None,
            })
            .collect()
    }

    fn config(interval: u64, flush: u64, endpoint: Option<String>) -> AgentConfig {
        AgentConfig {
            agent: AgentSection {
                metrics_collection_interval: interval,
                region: Some("us-west-2".into()),
                ..Default::default()
            },
            metrics: Some(MetricsSection {
                namespace: "Test/NS".into(),
                append_dimensions: BTreeMap::new(),
                aggregation_dimensions: vec![],
                metrics_collected: MetricsCollected {
                    cpu: Some(CpuConfig {
                        common: PluginCommon {
                            measurements: measurements(&["time_idle", "usage_idle"]),
                            ..Default::default()
                        },
                        per_cpu: false,
                        total_cpu: true,
                    }),
                    mem: Some(PluginCommon {
                        measurements: measurements(&["used_percent", "total"]),
                        append_dimensions: [("Team".to_string(), "infra".to_string())]
                            .into_iter()
                            .collect(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                force_flush_interval: flush,
                endpoint_override: endpoint,
                role_arn: None,
            }),
            logs: None,
        }
    }

    fn fixture_root() -> tempfile::TempDir {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/proc");
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(data.join("cpu-basic/stat.0"), dir.path().join("stat")).unwrap();
        std::fs::copy(data.join("mem-basic/meminfo"), dir.path().join("meminfo")).unwrap();
        dir
    }

    fn options(root: &Path, env: &[(&str, &str)]) -> RunOptions {
        let map: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RunOptions {
            state_dir: root.join("state"),
            proc_root: root.to_path_buf(),
            sys_root: root.join("sys"),
            env: Arc::new(move |k| map.get(k).cloned()),
        }
    }

    /// A source that follows a script: `Some(msg)` fails that tick with `msg` (after appending
    /// a datum, which must be discarded), `None` succeeds with one datum.
    struct Scripted {
        name: &'static str,
        script: Vec<Option<&'static str>>,
        tick: usize,
    }

    impl MetricSource for Scripted {
        fn plugin(&self) -> &'static str {
            self.name
        }
        fn interval_secs(&self) -> u64 {
            1
        }
        fn collect(
            &mut self,
            now_ms: i64,
            out: &mut Vec<MetricDatum>,
        ) -> Result<(), crate::collect::CollectError> {
            let step = self.script.get(self.tick).copied().flatten();
            self.tick += 1;
            out.push(MetricDatum {
                metric_name: format!("{}_value", self.name),
                dimensions: vec![],
                timestamp_ms: Some(now_ms),
                value: DatumValue::Single(self.tick as f64),
                unit: hostwatch_model::Unit::Count,
                storage_resolution: 1,
            });
            match step {
                Some(message) => Err(crate::collect::CollectError::Parse {
                    path: PathBuf::from("/proc/scripted"),
                    message: message.to_string(),
                }),
                None => Ok(()),
            }
        }
    }

    #[test]
    fn a_failing_plugin_is_reported_once_counted_and_never_stops_the_others() {
        let flaky = Scripted {
            name: "flaky",
            script: vec![
                Some("boom"),
                Some("boom"),
                Some("boom"),
                Some("bang"),
                None,
                None,
                Some("boom"),
                None,
            ],
            tick: 0,
        };
        let steady = Scripted {
            name: "steady",
            script: vec![],
            tick: 0,
        };
        let mut plugins = [
            Plugin::new(Box::new(flaky), &[]),
            Plugin::new(Box::new(steady), &[]),
        ];
        let rollup = Rollup::new(&[]);
        let mut reports = Vec::new();
        let mut failures = Vec::new();
        let mut out = Vec::new();
        for tick in 0..8 {
            for p in plugins.iter_mut() {
                let r = collect_into(p, &rollup, 1_000 * tick, &mut out);
                if p.source.plugin() == "flaky" {
                    reports.push(r);
                    failures.push(p.failures);
                } else {
                    assert_eq!(r, TickReport::Ok);
                }
            }
        }
        use TickReport::*;
        assert_eq!(
            reports,
            vec![Warned, Repeated, Repeated, Warned, Recovered, Ok, Warned, Recovered]
        );
        assert_eq!(failures, vec![1, 2, 3, 4, 4, 4, 5, 5]);
        assert!(plugins[0].failing.is_none());
        assert_eq!(plugins[1].failures, 0);
        // The steady plugin delivered every tick; the flaky one only its good ticks, and none
        // of the datums it appended before failing.
        let count = |name: &str| out.iter().filter(|d| d.metric_name == name).count();
        assert_eq!(count("steady_value"), 8);
        assert_eq!(count("flaky_value"), 3);
        let flaky_ticks: Vec<Option<i64>> = out
            .iter()
            .filter(|d| d.metric_name == "flaky_value")
            .map(|d| d.timestamp_ms)
            .collect();
        assert_eq!(flaky_ticks, vec![Some(4_000), Some(5_000), Some(7_000)]);
    }

    #[test]
    fn metadata_is_fetched_only_for_placeholders_anywhere() {
        let load = |json: &str| crate::config::load_str(json, "t").unwrap().config;
        assert!(!needs_metadata(&load(
            r#"{"metrics":{"metrics_collected":{"mem":{"measurement":["used_percent"]}}}}"#
        )));
        assert!(needs_metadata(&load(
            r#"{"metrics":{"metrics_collected":{"procstat":[{"exe":"x","measurement":["pid"],"append_dimensions":{"Id":"${aws:InstanceId}"}}]}}}"#
        )));
        assert!(needs_metadata(&load(
            r#"{"metrics":{"metrics_collected":{"net":{"measurement":["bytes_sent"],"append_dimensions":{"Id":"${aws:InstanceId}"}}}}}"#
        )));
        assert!(needs_metadata(&load(
            r#"{"metrics":{"append_dimensions":{"InstanceId":"${aws:InstanceId}"},"metrics_collected":{"swap":{"measurement":["used"]}}}}"#
        )));
    }

    #[test]
    fn alignment() {
        assert_eq!(next_aligned(0, 60_000), 60_000);
        assert_eq!(next_aligned(59_999, 60_000), 60_000);
        assert_eq!(next_aligned(60_000, 60_000), 120_000);
        assert_eq!(next_aligned(61_234, 10_000), 70_000);
        assert_eq!(next_aligned(5, 0), 6);
        assert_eq!(latest_aligned(60_000, 60_000), 60_000);
        assert_eq!(latest_aligned(119_999, 60_000), 60_000);
        assert_eq!(latest_aligned(61_234, 10_000), 60_000);
    }

    #[test]
    fn a_backwards_clock_step_realigns_every_deadline() {
        let source = |name| {
            Plugin::new(
                Box::new(Scripted {
                    name,
                    script: vec![None; 8],
                    tick: 0,
                }),
                &[],
            )
        };
        let t = 1_800_000_000_000i64;
        let mut p = Pipeline {
            plugins: vec![source("a"), source("b")],
            rollup: Rollup::new(&[]),
            shipper: None,
            flush_ms: 10_000,
            flush_offset_ms: 250,
            next_flush_ms: t + 10_250,
            pending: Vec::new(),
        };
        p.plugins[0].next_due_ms = t + 1_000;
        p.plugins[1].next_due_ms = t + 1_000;
        // A step forwards changes nothing: the next tick catches up.
        p.clock_stepped(t + 60_500);
        assert_eq!(p.next_wake_ms(), Some(t + 1_000));
        // An hour backwards: every deadline is the next boundary after the new now, not the
        // old one an hour away.
        let back = t - 3_600_000 + 400;
        p.clock_stepped(back);
        assert_eq!(p.plugins[0].next_due_ms, t - 3_600_000 + 1_000);
        assert_eq!(p.plugins[1].next_due_ms, t - 3_600_000 + 1_000);
        assert_eq!(p.next_flush_ms, t - 3_600_000 + 10_000 + 250);
        assert_eq!(p.next_wake_ms(), Some(t - 3_600_000 + 1_000));
        p.tick(t - 3_600_000 + 1_000);
        assert_eq!(
            p.pending.len(),
            2,
            "both plugins collected at the new boundary"
        );
    }

    #[tokio::test]
    async fn once_prints_json_lines() {
        let root = fixture_root();
        let mut out = Vec::new();
        let n = once_async(
            &config(60, 60, None),
            &options(root.path(), &[]),
            Duration::from_millis(10),
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), n);
        // Same /proc/stat twice: Δtotal = 0, so no usage; time_idle, mem used_percent, total.
        let names: Vec<&str> = lines
            .iter()
            .map(|l| l["metric_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            vec!["cpu_time_idle", "mem_used_percent", "mem_total"]
        );
        let cpu = &lines[0];
        assert_eq!(cpu["namespace"], "Test/NS");
        assert_eq!(cpu["dimensions"]["cpu"], "cpu-total");
        assert_eq!(cpu["value"], serde_json::json!(170.0));
        assert_eq!(cpu["unit"], "None");
        assert!(cpu["timestamp"].as_i64().unwrap() > 1_600_000_000_000);
        assert_eq!(lines[2]["unit"], "Bytes");
        assert_eq!(lines[2]["dimensions"]["Team"], "infra");
    }

    #[tokio::test]
    async fn once_resolves_instance_placeholders() {
        let imds = crate::ship::imds::tests::imds_v2().await;
        let root = fixture_root();
        let mut cfg = config(60, 60, None);
        if let Some(m) = cfg.metrics.as_mut() {
            m.append_dimensions = [
                ("InstanceId".to_string(), "${aws:InstanceId}".to_string()),
                (
                    "InstanceType".to_string(),
                    "${aws:InstanceType}".to_string(),
                ),
            ]
            .into_iter()
            .collect();
            if let Some(mem) = m.metrics_collected.mem.as_mut() {
                mem.append_dimensions
                    .insert("Ami".to_string(), "${aws:ImageId}".to_string());
            }
        }
        let url = imds.url();
        let opts = options(
            root.path(),
            &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", url.as_str())],
        );
        let mut out = Vec::new();
        once_async(&cfg, &opts, Duration::from_millis(10), &mut out)
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        let mem: serde_json::Value = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|l| l["metric_name"] == "mem_total")
            .unwrap();
        // The instance dimensions replace host, as the reference agent does.
        assert_eq!(
            mem["dimensions"],
            serde_json::json!({
                "Ami": "ami-1", "InstanceId": "i-abc", "InstanceType": "m5.large", "Team": "infra"
            })
        );
    }

    #[tokio::test]
    async fn daemon_ships_and_flushes_on_shutdown() {
        let server = TestServer::start(|_| Reply::new(200, "{}")).await;
        let root = fixture_root();
        let opts = options(
            root.path(),
            &[
                ("AWS_ACCESS_KEY_ID", "AKID"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
        // Collect every second, flush only every hour: the data must arrive via shutdown.
        let cfg = config(1, 3600, Some(server.url()));
        let (tx, rx) = mpsc::unbounded_channel();
        let reloads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let r = reloads.clone();
        let mut reloaded = config(1, 3600, Some(server.url()));
        if let Some(m) = reloaded.metrics.as_mut() {
            m.namespace = "Reloaded/NS".into();
        }
        // First SIGHUP: invalid file (old config kept); second: a new namespace.
        let reload: ReloadFn =
            Box::new(
                move || match r.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                    0 => Err("bad config".to_string()),
                    _ => Ok(reloaded.clone()),
                },
            );
        let task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2300)).await;
            tx.send(Control::Reload).unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            tx.send(Control::Reload).unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            tx.send(Control::Shutdown).unwrap();
            tx
        });
        let started = std::time::Instant::now();
        daemon(cfg, opts, reload, rx).await.unwrap();
        let _tx = task.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(reloads.load(std::sync::atomic::Ordering::SeqCst), 2);
        let reqs = server.requests();
        assert!(!reqs.is_empty(), "nothing shipped");
        let mut names = Vec::new();
        let mut namespaces = std::collections::BTreeSet::new();
        for r in &reqs {
            let body = if r.header("content-encoding") == Some("gzip") {
                hostwatch_aws::gzip::inflate(&r.body, 10_000_000).unwrap()
            } else {
                r.body.clone()
            };
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            namespaces.insert(v["Namespace"].as_str().unwrap().to_string());
            for d in v["MetricData"].as_array().unwrap() {
                assert_eq!(d["StorageResolution"], 1);
                assert!(d["Timestamp"].as_i64().is_some(), "whole seconds");
                names.push(d["MetricName"].as_str().unwrap().to_string());
            }
            assert!(r
                .header("authorization")
                .unwrap()
                .contains("/us-west-2/monitoring/aws4_request"));
        }
        // Held datums went out under the old namespace at reload, the rest at shutdown.
        assert_eq!(
            namespaces.into_iter().collect::<Vec<_>>(),
            vec!["Reloaded/NS".to_string(), "Test/NS".to_string()]
        );
        assert!(names.iter().any(|n| n == "mem_used_percent"), "{names:?}");
        assert!(names.iter().any(|n| n == "cpu_time_idle"), "{names:?}");
    }

    #[tokio::test]
    async fn shipper_keeps_transient_failures_for_the_next_flush() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        // Down for the first 5 requests (one batch's attempts), then up.
        let server = TestServer::start(move |_| {
            if c.fetch_add(1, Ordering::SeqCst) < 5 {
                Reply::new(503, "")
            } else {
                Reply::new(200, "{}")
            }
        })
        .await;
        let env: EnvLookup = Arc::new(|k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKID".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("s".to_string()),
            _ => None,
        });
        let imds = Arc::new(ImdsClient::new("http://127.0.0.1:9", true).unwrap());
        let creds = Arc::new(CredentialProvider::new(env, imds));
        let client = MetricsClient::new(
            crate::ship::endpoint::parse_endpoint(&server.url()).unwrap(),
            "us-west-2",
            "N",
            creds,
        )
        .unwrap();
        let shipper = Shipper::spawn(client);
        let datum = |name: &str| MetricDatum {
            metric_name: name.into(),
            dimensions: vec![],
            timestamp_ms: Some(1_700_000_000_000),
            value: DatumValue::Single(1.0),
            unit: hostwatch_model::Unit::Count,
            storage_resolution: 60,
        };
        shipper.tx.send(vec![datum("first")]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        shipper.tx.send(vec![datum("second")]).await.unwrap();
        let handle = shipper.close(Instant::now() + Duration::from_secs(20));
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .unwrap()
            .unwrap();
        let reqs = server.requests();
        assert_eq!(reqs.len(), 6);
        let last = &reqs[5];
        let body = hostwatch_aws::gzip::inflate(&last.body, 1_000_000)
            .unwrap_or_else(|_| last.body.clone());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let names: Vec<&str> = v["MetricData"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["MetricName"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["first", "second"]);
    }

    #[tokio::test]
    async fn startup_fails_clearly_without_region() {
        let root = fixture_root();
        let mut cfg = config(60, 60, None);
        cfg.agent.region = None;
        let opts = options(root.path(), &[("AWS_EC2_METADATA_DISABLED", "true")]);
        let (_tx, rx) = mpsc::unbounded_channel();
        let e = daemon(cfg, opts, Box::new(|| Err("x".into())), rx)
            .await
            .unwrap_err();
        assert!(matches!(e, RunError::Region(_)), "{e}");
        assert!(e.to_string().contains("AWS_REGION"));
    }
}
