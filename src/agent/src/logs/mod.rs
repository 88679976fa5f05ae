//! Log file collection: `logs.logs_collected.files.collect_list`.
//!
//! ```text
//!  inotify ─► tailer thread ─► reader ─► decode ─► multi-line ─► stamp/trim ─► filters
//!                                   │                                            │
//!                                   │             batches per (group, stream) ◄──┘
//!                                   │                       │ seal
//!  checkpoints ◄── ack (in order) ── sender task ◄── spool (on disk, bounded, fsync'd)
//! ```
//!
//! The contract is "never lose a line it has seen":
//! - a line is read, assembled into an event and batched; a sealed batch is appended to the
//!   on-disk spool (`<state>/logs/spool`) before anything is sent;
//! - the sender delivers spooled batches oldest first and only then advances the file
//!   checkpoints (`<state>/logs/checkpoints`), in read order;
//! - on start, each file resumes at `max(checkpoint, end of its spooled data)`: what was
//!   delivered is not read again, what was spooled is sent from the spool;
//! - an outage fills the spool; when it is full the tailer stops reading (the data waits in
//!   the files); retriable errors are retried for as long as it takes;
//! - SIGKILL at any instant loses nothing; at worst the batches delivered in the last
//!   [`sender::SAVE_EVERY`] are delivered again (see `sender` for the bound).
//!
//! Counters (events read, filtered, too old / too new, delivered, rejected, retries, spool
//! size) are written to `STATE_DIR/logs-stats.json` every 5 s and at stop.
//!
//! Module map: [`glob`] (file_path globs), [`discovery`] (inotify + re-scan, selection rules),
//! [`file`] (one tailed file: resume, reopen, rotated-file recovery), [`process`] (per-file
//! chain from bytes to events), [`names`] (group and stream names, placeholders), [`batch`]
//! (PutLogEvents limits, encoding, spool record format), [`queue`] (the shared spool),
//! [`tailer`] (the reading thread), [`sender`] (delivery and acknowledgement).

pub mod batch;
pub mod discovery;
pub mod file;
pub mod glob;
pub mod names;
pub mod process;
pub mod queue;
pub mod sender;
pub mod tailer;

use hostwatch_tailer::CheckpointStore;
use regex::Regex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::{AgentConfig, LogsSection};
use crate::ship::credentials::CredentialProvider;
use crate::ship::endpoint::{resolve_region, EndpointError, RegionError};
use crate::ship::imds::ImdsClient;
use crate::ship::logs::{logs_endpoint, LogsClient, LogsError};
use discovery::{Msg, Selector};
use names::HostFacts;
use process::EntrySettings;
use tailer::{Entry, Resume, TailStats, Tailer};

/// Timing and sizing of the log pipeline.
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// The agent's state directory; logs state lives in `<state_dir>/logs`.
    pub state_dir: PathBuf,
    pub spool_max_bytes: u64,
    /// Seal a batch this long after its first event (`force_flush_interval`).
    pub force_flush: Duration,
    /// Read every open file at least this often (a safety net under inotify).
    pub poll_interval: Duration,
    /// Re-scan the globs this often (inotify catches new files in between).
    pub rescan_interval: Duration,
    /// Release a file's descriptor after this long without new data.
    pub idle_close: Duration,
    /// Keep reading a rotated or deleted file this long after its last data.
    pub rotate_wait: Duration,
    /// Emit a final line without a newline after this long.
    pub partial_line_timeout: Duration,
}

impl LogsOptions {
    /// The defaults for `state_dir`.
    pub fn new(state_dir: PathBuf) -> LogsOptions {
        LogsOptions {
            state_dir,
            spool_max_bytes: 512 << 20,
            force_flush: Duration::from_secs(5),
            poll_interval: Duration::from_secs(2),
            rescan_interval: Duration::from_secs(60),
            idle_close: Duration::from_secs(60),
            rotate_wait: Duration::from_secs(10),
            partial_line_timeout: Duration::from_secs(5),
        }
    }

    /// Apply the config's `force_flush_interval` and spool size.
    pub fn with_config(mut self, config: &AgentConfig) -> LogsOptions {
        if let Some(logs) = &config.logs {
            if logs.force_flush_interval > 0 {
                self.force_flush = Duration::from_secs(logs.force_flush_interval);
            }
        }
        self.spool_max_bytes = config.agent.logs_spool_max_mb.saturating_mul(1 << 20);
        self
    }

    fn dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}

/// Why log collection could not start.
#[derive(Debug, thiserror::Error)]
pub enum LogsStartError {
    #[error(transparent)]
    Region(#[from] RegionError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Client(#[from] LogsError),
    #[error("log checkpoints: {0}")]
    Checkpoints(#[from] hostwatch_tailer::CheckpointError),
    #[error("log spool: {0}")]
    Spool(#[from] hostwatch_spool::SpoolError),
    #[error(transparent)]
    Settings(#[from] process::SettingsError),
    #[error(transparent)]
    Glob(#[from] glob::GlobError),
    #[error("cannot start the tailer thread: {0}")]
    Thread(std::io::Error),
}

/// The running log pipeline.
pub struct LogsService {
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Msg>,
    thread: Option<std::thread::JoinHandle<()>>,
    sender: tokio::task::JoinHandle<()>,
    deadline: watch::Sender<Option<Instant>>,
    pub tail_stats: Arc<TailStats>,
    pub send_stats: Arc<sender::SendStats>,
    stats_task: tokio::task::JoinHandle<()>,
    stats_writer: StatsWriter,
}

/// Name of the counters file in the state directory.
pub const STATS_FILE: &str = "logs-stats.json";

/// Writes the pipeline's counters to `STATE_DIR/logs-stats.json` (tmp + rename).
#[derive(Clone)]
struct StatsWriter {
    path: PathBuf,
    tail: Arc<TailStats>,
    send: Arc<sender::SendStats>,
    queue: Arc<queue::Queue>,
}

impl StatsWriter {
    fn snapshot(&self) -> serde_json::Value {
        let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let (records, bytes) = self.queue.pending();
        serde_json::json!({
            "files_open": g(&self.tail.files_open),
            "events_read": g(&self.tail.events),
            "events_filtered": g(&self.tail.filtered),
            "events_too_old": g(&self.tail.rejected_too_old),
            "events_too_new": g(&self.tail.rejected_too_new),
            "batches_sealed": g(&self.tail.batches),
            "batches_delivered": g(&self.send.batches),
            "events_delivered": g(&self.send.events),
            "events_rejected_by_destination": g(&self.send.rejected_events),
            "batches_dropped": g(&self.send.dropped_batches),
            "retries": g(&self.send.retries),
            "spool_records": records,
            "spool_bytes": bytes,
        })
    }

    fn write(&self) {
        let tmp = self.path.with_extension("json.tmp");
        let text = self.snapshot().to_string();
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.path))
        {
            tracing::debug!("cannot write {}: {e}", self.path.display());
        }
    }
}

impl std::fmt::Debug for StatsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsWriter")
            .field("path", &self.path)
            .finish()
    }
}

impl std::fmt::Debug for LogsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsService").finish_non_exhaustive()
    }
}

/// Compile the `collect_list`.
pub fn compile_entries(logs: &LogsSection) -> Result<Vec<Entry>, LogsStartError> {
    let mut out = Vec::new();
    for cfg in &logs.files {
        let glob = glob::Glob::new(&cfg.file_path)?;
        let blacklist = cfg
            .blacklist
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| process::SettingsError {
                file_path: cfg.file_path.clone(),
                reason: e.to_string(),
            })?;
        out.push(Entry {
            selector: Selector {
                glob,
                blacklist,
                publish_multi_logs: cfg.publish_multi_logs,
            },
            settings: EntrySettings::new(cfg)?,
            config: cfg.clone(),
        });
    }
    Ok(out)
}

/// Host facts for placeholders: the metadata service when it answers, the OS otherwise.
pub async fn host_facts(imds: &ImdsClient, region: &str) -> HostFacts {
    let local_hostname = hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty());
    let mut facts = HostFacts {
        local_hostname,
        region: Some(region.to_string()),
        ..HostFacts::default()
    };
    if !imds.is_disabled() {
        if let Ok(doc) = imds.instance_metadata().await {
            facts.instance_id = Some(doc.instance_id).filter(|s| !s.is_empty());
            let get =
                |p: &'static str| async move { imds.get(p).await.ok().filter(|s| !s.is_empty()) };
            facts.hostname = get("/latest/meta-data/hostname").await;
            facts.ip_address = get("/latest/meta-data/local-ipv4").await;
            facts.account_id = imds
                .get("/latest/dynamic/instance-identity/document")
                .await
                .ok()
                .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
                .and_then(|v| v.get("accountId")?.as_str().map(String::from));
        }
    }
    if facts.ip_address.is_none() {
        facts.ip_address = names::first_ipv4();
    }
    facts
}

impl LogsService {
    /// Start collecting, when the config has a `collect_list`. `None`: nothing to collect.
    pub async fn start(
        config: &AgentConfig,
        options: LogsOptions,
        env: &dyn Fn(&str) -> Option<String>,
        imds: &ImdsClient,
        creds: &Arc<CredentialProvider>,
    ) -> Result<Option<LogsService>, LogsStartError> {
        let Some(logs) = config.logs.as_ref().filter(|l| !l.files.is_empty()) else {
            return Ok(None);
        };
        let entries = compile_entries(logs)?;
        let region = resolve_region(config.agent.region.as_deref(), env, imds).await?;
        let endpoint = logs_endpoint(logs.endpoint_override.as_deref(), &region)?;
        let client = Arc::new(LogsClient::new(endpoint, &region, creds.clone())?);
        let facts = host_facts(imds, &region).await;
        let dir = options.dir();
        let stop = Arc::new(AtomicBool::new(false));
        let checkpoints = Arc::new(Mutex::new(CheckpointStore::open(dir.join("checkpoints"))?));
        let queue = queue::Queue::open(&dir.join("spool"), options.spool_max_bytes, stop.clone())?;
        let mut spooled: HashMap<hostwatch_tailer::Fingerprint, (u64, String)> = HashMap::new();
        let pending = queue.pending_headers();
        for h in &pending {
            for e in &h.extents {
                let v = spooled.entry(e.fp.clone()).or_insert((0, e.path.clone()));
                v.0 = v.0.max(e.end);
            }
        }
        tracing::info!(
            endpoint = client.endpoint(),
            %region,
            files = entries.len(),
            spooled_batches = pending.len(),
            "log pipeline ready"
        );
        let tail_stats = Arc::new(TailStats::default());
        let send_stats = Arc::new(sender::SendStats::default());
        let resume = Resume {
            checkpoints: checkpoints.clone(),
            spooled,
        };
        let stats_path = options.state_dir.join(STATS_FILE);
        let tailer = Tailer::new(
            entries,
            facts,
            logs.log_stream_name.clone(),
            options,
            resume,
            queue.clone(),
            tail_stats.clone(),
        );
        let stats_writer = StatsWriter {
            path: stats_path,
            tail: tail_stats.clone(),
            send: send_stats.clone(),
            queue: queue.clone(),
        };
        let w = stats_writer.clone();
        let stats_task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                w.write();
            }
        });
        let (tx, rx) = mpsc::channel();
        let thread_tx = tx.clone();
        let thread_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name("log-tailer".into())
            .spawn(move || tailer.run(thread_tx, rx, thread_stop))
            .map_err(LogsStartError::Thread)?;
        let (deadline_tx, deadline_rx) = watch::channel(None);
        let s = sender::Sender::new(client, queue, checkpoints, send_stats.clone());
        let sender = tokio::spawn(s.run(deadline_rx));
        Ok(Some(LogsService {
            stop,
            tx,
            thread: Some(thread),
            sender,
            deadline: deadline_tx,
            tail_stats,
            send_stats,
            stats_task,
            stats_writer,
        }))
    }

    /// Stop reading, seal what is batched, deliver until `deadline`, persist everything.
    /// What is not delivered by then stays in the spool for the next start.
    pub async fn stop(mut self, deadline: Instant) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let joined = tokio::task::spawn_blocking(move || t.join());
            if tokio::time::timeout_at(deadline, joined).await.is_err() {
                tracing::warn!("the log tailer did not stop in time");
            }
        }
        let _ = self.deadline.send(Some(deadline));
        if tokio::time::timeout_at(deadline + Duration::from_millis(500), &mut self.sender)
            .await
            .is_err()
        {
            tracing::warn!("log delivery did not finish in time; the rest stays spooled");
            self.sender.abort();
        }
        self.stats_task.abort();
        self.stats_writer.write();
    }
}
