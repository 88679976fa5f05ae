//! Host metric collection: one file per plugin, plus the shared pieces every plugin uses.
//!
//! Design:
//! - A plugin is a [`MetricSource`]: the runtime calls [`MetricSource::collect`] on the plugin's
//!   own interval with the (wall-clock aligned) tick time, and the plugin appends finished
//!   [`MetricDatum`]s to the output vector. Sources keep whatever state they need between calls
//!   (the cpu plugin keeps the previous tick counters to compute usage percentages).
//! - Everything the plugin does *not* decide (metric names, `rename`, units, the order and
//!   capping of dimensions, `host`, `append_dimensions`, storage resolution) is done by one
//!   [`emit::Emitter`] built from the plugin's config, so every plugin behaves the same.
//! - Sources read from a proc root given to their constructor (default `/proc`), and from a
//!   sysfs root where they need one (default `/sys`), so tests run against fixture snapshots.
//! - Cost (every plugin may run every second): files read every tick stay open and are re-read
//!   with `pread` (`kept`); a source several plugins read is read once per tick for all of them
//!   (`pertick`: the process scan of `processes` and `procstat` in `proctable`, `meminfo` for
//!   `mem` and `swap`); per-process files are opened relative to the open proc root
//!   (`procfs`); sockets are counted over netlink where the proc tables are costly
//!   (`sockdiag`); the mount table is re-read only when the kernel signals a change
//!   (`mounts`).
//!
//! Invariants:
//! - only configured measurements are emitted, in the order of the config's `measurement` list;
//! - every emitted value is finite (non-finite values are dropped with a debug log);
//! - a source never panics on odd input: unreadable or malformed files are a [`CollectError`]
//!   for that tick only.

pub mod cpu;
pub mod delta;
pub mod dimensions;
pub mod disk;
pub mod diskio;
mod ebs;
pub mod emit;
mod kept;
pub mod mem;
mod mounts;
pub mod net;
pub mod netstat;
mod pertick;
mod procdetail;
pub mod processes;
mod procfs;
pub mod procstat;
mod proctable;
pub mod rollup;
mod sockdiag;
pub mod swap;
#[cfg(test)]
mod testutil;

use hostwatch_model::MetricDatum;
use std::path::PathBuf;

pub use cpu::CpuSource;
pub use dimensions::HostContext;
pub use mem::MemSource;

/// The default proc root.
pub const DEFAULT_PROC_ROOT: &str = "/proc";

/// A plugin that produces datums on each collection tick.
pub trait MetricSource {
    /// The plugin name as in the config (`cpu`, `mem`, ...).
    fn plugin(&self) -> &'static str;
    /// Collection interval in seconds (plugin override, else the agent interval); at least 1.
    fn interval_secs(&self) -> u64;
    /// Sample now and append the datums for tick `now_ms` (epoch milliseconds) to `out`.
    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError>;
}

/// Why one collection tick failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// The interval a plugin runs at: its own override, else the agent interval; never 0.
pub fn effective_interval(plugin_override: Option<u64>, agent_interval: u64) -> u64 {
    plugin_override.unwrap_or(agent_interval).max(1)
}

/// CloudWatch storage resolution for a collection interval: 1 (high resolution) below 60 s.
pub fn storage_resolution(interval_secs: u64) -> u32 {
    if interval_secs < 60 {
        1
    } else {
        60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_resolution() {
        assert_eq!(effective_interval(Some(10), 60), 10);
        assert_eq!(effective_interval(None, 60), 60);
        assert_eq!(effective_interval(Some(0), 60), 1);
        assert_eq!(storage_resolution(10), 1);
        assert_eq!(storage_resolution(59), 1);
        assert_eq!(storage_resolution(60), 60);
        assert_eq!(storage_resolution(300), 60);
    }
}
