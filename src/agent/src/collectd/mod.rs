//! The collectd input: collectd's binary network protocol over UDP, as the CloudWatch agent's
//! `metrics_collected.collectd` section receives it.
//!
//! - [`parse`]: the packet format (every part type) and the three security levels;
//! - [`crypto`]: the auth file, HMAC-SHA-256 signatures, AES-256-OFB + SHA-1 encryption;
//! - [`typesdb`]: `types.db` parsing (data-source names) and built-in defaults;
//! - [`aggregate`]: values held until the collection tick, per-interval distributions;
//! - [`receiver`]: the UDP socket task, naming, counters and the stats file.
//!
//! # What is emitted (and why)
//!
//! The reference agent feeds collectd packets through telegraf's collectd parser in its default
//! "split" mode and names CloudWatch metrics `<measurement>` when the field is `value`. So each
//! value becomes one metric named **`<name_prefix><plugin>_<data source>`**, where the data
//! source name comes from `types.db` for the value list's type (`collectd_cpu_value`,
//! `collectd_memory_value`, `collectd_load_shortterm`, `collectd_interface_rx`). A type not in
//! `types.db` (or whose definition has a different number of values) is named `value` when it
//! has one value, else by index (`0`, `1`, ...), as the reference parser does. Dimensions:
//! `host` (the packet's host; the agent's own when the packet has none; none when
//! `metrics.append_dimensions` instance dimensions replace the host), `instance` (plugin
//! instance), `type`, `type_instance` (each only when not empty), then the section's
//! `append_dimensions` and the metrics-level ones. Unit `None`.
//!
//! Counters and derives are sent **raw** (cumulative), like the reference agent: its collectd
//! pipeline has no cumulative-to-delta step. Absolute values are sent as received (the
//! reference parser drops them; sending them loses nothing). NaN / infinite values (collectd's
//! "unknown") cannot go to CloudWatch and are counted and dropped, as are values stamped more
//! than 2 hours ahead of or 14 days behind the receive time (a sender with a wrong clock;
//! CloudWatch would reject them).
//!
//! Timestamps are the value lists' own (collectd's read time), the receive time when a packet
//! has none. With `metrics_aggregation_interval` N > 0 (default 60) values are aggregated per
//! N-second window of their timestamp into distributions (≤ 150 values per datum) stamped with
//! the window start and emitted at the collection tick after the window ends; N = 0 sends each
//! value as it is. StorageResolution is 1 when N or the agent's collection interval is below 60,
//! else 60.
//!
//! # Differences from the reference agent
//!
//! - A missing or unreadable `types.db` is a warning, not a failed start: built-in definitions
//!   of the common types are used and the named file is reported.
//! - Every rejected or dropped packet is counted ([`receiver::Stats`]) and written once a second
//!   to `collectd-stats.json` in the agent's state directory; the first rejection of each kind
//!   is logged at once (with the reason: wrong signature, failed decryption, unknown user,
//!   malformed part), then at most once a minute. Datagrams dropped by the kernel because the
//!   socket buffer was full are read from the kernel's UDP table and counted too.
//! - Only UDP addresses are accepted in `service_address` (`udp://`, `udp4://`, `udp6://`, or a
//!   bare `host:port`); collectd's network plugin only sends UDP.
//! - A reload rebinds the same port: the new receiver retries until the old one has closed
//!   (milliseconds); values held but not yet emitted by the old one are lost.

pub mod aggregate;
pub mod crypto;
pub mod parse;
pub mod receiver;
pub mod typesdb;

use crate::collect::dimensions::{resolve_plugin_dimensions, HostContext};
use crate::collect::{storage_resolution, CollectError, MetricSource};
use crate::config::CollectdConfig;
use aggregate::Aggregator;
use hostwatch_model::MetricDatum;
use parse::SecurityLevel;
use receiver::{Ingest, Listen, Naming, Stats};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use typesdb::TypesDb;

/// Name of the stats file in the state directory.
pub const STATS_FILE: &str = "collectd-stats.json";

/// Why the collectd input cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CollectdError {
    #[error("collectd service_address {0:?}: only udp:// addresses are supported")]
    Address(String),
    #[error("collectd_security_level {0:?} is not one of none, sign, encrypt")]
    SecurityLevel(String),
    #[error("the collectd receiver needs the agent's async runtime")]
    NoRuntime,
}

/// `host:port` to bind for a `service_address`.
pub fn bind_address(service_address: &str) -> Result<String, CollectdError> {
    let bad = || CollectdError::Address(service_address.to_string());
    let (scheme, rest) = match service_address.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("udp", service_address),
    };
    if !matches!(scheme, "udp" | "udp4" | "udp6") {
        return Err(bad());
    }
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    if port.parse::<u16>().is_err() {
        return Err(bad());
    }
    let host = match host {
        "" if scheme == "udp6" => "[::]",
        "" => "0.0.0.0",
        h => h,
    };
    Ok(format!("{host}:{port}"))
}

/// Load the configured types.db files over the built-in definitions, warning about each file
/// that cannot be read.
pub fn load_types(paths: &[String]) -> TypesDb {
    let mut db = TypesDb::builtin();
    for p in paths {
        match db.add_file(Path::new(p)) {
            Ok(l) => {
                if l.bad_lines > 0 {
                    tracing::warn!(
                        file = %p,
                        bad_lines = l.bad_lines,
                        "collectd: types.db lines not understood were skipped"
                    );
                }
                tracing::debug!(file = %p, types = l.types, "collectd: types.db loaded");
            }
            Err(e) => tracing::warn!(
                "collectd: cannot read types.db {p}: {e}; using built-in definitions of {} common \
                 types (cpu, memory, df_complex, disk_octets, if_octets, load, ...): values of other \
                 multi-value types are named by index",
                TypesDb::builtin().len()
            ),
        }
    }
    db
}

/// The collectd input as a metric source: a receiver task fills the aggregator, every
/// collection tick drains it.
pub struct CollectdSource {
    interval: u64,
    aggregator: Arc<Mutex<Aggregator>>,
    stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for CollectdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectdSource")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl CollectdSource {
    /// Start the receiver on the current tokio runtime. `state_dir` receives the stats file.
    pub fn start(
        cfg: &CollectdConfig,
        ctx: &HostContext,
        agent_interval: u64,
        state_dir: Option<&Path>,
        proc_root: &Path,
    ) -> Result<CollectdSource, CollectdError> {
        let bind = bind_address(&cfg.service_address)?;
        let level = SecurityLevel::from_config(&cfg.collectd_security_level)
            .ok_or_else(|| CollectdError::SecurityLevel(cfg.collectd_security_level.clone()))?;
        let handle = tokio::runtime::Handle::try_current().map_err(|_| CollectdError::NoRuntime)?;
        let auth_path = PathBuf::from(&cfg.collectd_auth_file);
        let auth = match crypto::AuthFile::load(&auth_path) {
            Ok(a) => Some(a),
            Err(e) => {
                if level == SecurityLevel::None {
                    tracing::debug!("collectd: no auth file {}: {e}", auth_path.display());
                } else {
                    tracing::error!(
                        "collectd: cannot read auth file {}: {e}; with security level {} every \
                         packet is rejected until it can be read",
                        auth_path.display(),
                        level.as_str()
                    );
                }
                None
            }
        };
        let agg_secs = cfg.metrics_aggregation_interval;
        let resolution = storage_resolution(agent_interval.min(agg_secs.max(1)));
        let aggregator = Arc::new(Mutex::new(Aggregator::new(agg_secs, resolution)));
        let stats = Arc::new(Stats::default());
        let naming = Naming {
            prefix: cfg.name_prefix.clone(),
            types: load_types(&cfg.collectd_typesdb),
            packet_host: ctx.global.is_empty(),
            agent_host: ctx.host.clone(),
            appended: resolve_plugin_dimensions(
                "collectd",
                &cfg.append_dimensions,
                ctx.metadata.as_ref(),
            ),
            global: ctx.global.clone(),
        };
        let ingest = Ingest::new(level, auth, naming, aggregator.clone(), stats.clone());
        let listen = Listen {
            bind,
            stats_file: state_dir.map(|d| d.join(STATS_FILE)),
            auth_file: auth_path,
            proc_root: proc_root.to_path_buf(),
        };
        let task = handle.spawn(receiver::run(listen, ingest));
        Ok(CollectdSource {
            interval: if agg_secs > 0 {
                agg_secs
            } else {
                agent_interval.max(1)
            },
            aggregator,
            stats,
            task,
        })
    }

    /// The receiver's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }
}

impl Drop for CollectdSource {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MetricSource for CollectdSource {
    fn plugin(&self) -> &'static str {
        "collectd"
    }

    fn interval_secs(&self) -> u64 {
        self.interval
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        self.aggregator
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(now_ms, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
