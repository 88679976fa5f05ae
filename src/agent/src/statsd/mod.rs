//! The StatsD input (`metrics.metrics_collected.statsd`): a listener plus a [`MetricSource`].
//!
//! - [`parse`]: the line format (StatsD + DogStatsD tags), total over arbitrary bytes;
//! - [`aggregate`]: per-interval StatsD semantics and the aggregation windows;
//! - [`receiver`]: the UDP/TCP listener threads, the bounded queue and the counters.
//!
//! [`StatsdSource`] is what the agent's loop polls: every `metrics_collection_interval`
//! (default 10 s, wall-clock aligned) it drains the receiver's interval aggregates and emits:
//! - with `metrics_aggregation_interval` = 0: one datum per series per interval, timestamped at
//!   the tick: counters, gauges and sets as a single `Value`, timings and histograms as a
//!   distribution; StorageResolution 1;
//! - with N > 0: every interval value is merged into the series' distribution for the window
//!   `[floor(t/N)·N, +N)`, sent once the window has ended, timestamped at the window start;
//!   StorageResolution 1 if N < 60, else 60.
//!
//! Distributions are sent as `Values` + `Counts` only, split so that no datum holds more than
//! 150 distinct values. The reference agent adds `StatisticValues` to the same datum; CloudWatch
//! (and the collector) treat `Value`, `Values` and `StatisticValues` as mutually exclusive in
//! PutMetricData, and the exact Sum, SampleCount, Minimum and Maximum follow from
//! Values/Counts anyway, so nothing is lost by leaving it out.
//!
//! Names and dimensions as the reference agent emits them: the metric name is the bucket with
//! `.` replaced by `metric_separator` (no prefix); dimensions are `host` (unless
//! `omit_hostname`), then `metric_type` (`counter`, `gauge`, `set`, `timing`, `histogram`) and
//! the line's tags sorted by name, then the metrics-level dimensions; unit `None`.
//!
//! The agent's loop samples every source once at start-up and discards the output (it primes
//! the cpu counters); this source treats that first call as a no-op so that no StatsD data is
//! thrown away, which also matters when a config reload reuses a running receiver.
//!
//! Loss is never silent: malformed lines and dropped packets are counted (see
//! [`receiver::StatsSnapshot`], also written to `statsd-stats.json` in the state directory)
//! and every collection that saw new ones logs a warning with the totals.
//!
//! Not kept across a restart or reload: the windows not yet ended (at most one aggregation
//! interval of data), as in the reference agent.

pub mod aggregate;
pub mod parse;
pub mod receiver;

use crate::collect::dimensions::{assemble, HostContext};
use crate::collect::{storage_resolution, CollectError, MetricSource};
use crate::config::StatsdConfig;
use aggregate::{split, Drained, SeriesId, Windows};
use hostwatch_model::{DatumValue, Dimension, MetricDatum, Unit};
use receiver::{Receiver, ReceiverConfig, StatsSnapshot};
use std::path::Path;
use std::sync::Arc;

/// The StatsD plugin as the agent loop sees it.
#[derive(Debug)]
pub struct StatsdSource {
    receiver: Arc<Receiver>,
    interval_secs: u64,
    windows: Option<Windows>,
    storage_resolution: u32,
    host: Option<String>,
    global: Vec<Dimension>,
    primed: bool,
    reported: StatsSnapshot,
}

impl StatsdSource {
    /// Start (or join) the listener for `cfg`. `state_dir` receives `statsd-stats.json`.
    pub fn new(cfg: &StatsdConfig, ctx: &HostContext, state_dir: Option<&Path>) -> Self {
        let receiver = Receiver::get_or_start(&ReceiverConfig {
            service_address: cfg.service_address.clone(),
            metric_separator: cfg.metric_separator.clone(),
            allowed_pending_messages: usize::try_from(cfg.allowed_pending_messages)
                .unwrap_or(usize::MAX),
            tcp: true,
            stats_dir: state_dir.map(Path::to_path_buf),
        });
        let n = cfg.metrics_aggregation_interval;
        StatsdSource {
            receiver,
            interval_secs: cfg.metrics_collection_interval.max(1),
            windows: (n > 0).then(|| Windows::new(n)),
            storage_resolution: if n == 0 { 1 } else { storage_resolution(n) },
            host: ctx.host.clone(),
            global: ctx.global.clone(),
            primed: false,
            reported: StatsSnapshot::default(),
        }
    }

    /// The listener's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.receiver.stats()
    }

    fn dimensions(&self, id: &SeriesId) -> Vec<Dimension> {
        let mut own: Vec<Dimension> = Vec::with_capacity(id.tags.len() + 1);
        own.push(Dimension::new("metric_type", id.kind.as_str()));
        own.extend(
            id.tags
                .iter()
                .map(|(k, v)| Dimension::new(k.clone(), v.clone())),
        );
        own.sort_by(|a, b| a.name.cmp(&b.name));
        assemble(self.host.as_deref(), &own, &[], &self.global)
    }

    fn push(&self, id: &SeriesId, ts: i64, value: DatumValue, out: &mut Vec<MetricDatum>) {
        out.push(MetricDatum {
            metric_name: id.name.clone(),
            dimensions: self.dimensions(id),
            timestamp_ms: Some(ts),
            value,
            unit: Unit::None,
            storage_resolution: self.storage_resolution,
        });
    }

    fn push_dist(&self, id: &SeriesId, ts: i64, pairs: &[(f64, f64)], out: &mut Vec<MetricDatum>) {
        for (values, counts) in split(pairs) {
            self.push(
                id,
                ts,
                DatumValue::distribution_with_stats(values, counts),
                out,
            );
        }
    }

    fn report(&mut self) {
        let s = self.receiver.stats();
        let r = self.reported;
        if s.malformed > r.malformed || s.dropped() > r.dropped() {
            tracing::warn!(
                malformed = s.malformed,
                queue_dropped = s.queue_dropped,
                kernel_dropped = s.kernel_dropped,
                series_dropped = s.series_dropped,
                new_malformed = s.malformed - r.malformed,
                new_dropped = s.dropped().saturating_sub(r.dropped()),
                "statsd: malformed lines or dropped packets (totals since start)"
            );
        }
        tracing::debug!(?s, "statsd counters");
        self.reported = s;
    }
}

impl MetricSource for StatsdSource {
    fn plugin(&self) -> &'static str {
        "statsd"
    }

    fn interval_secs(&self) -> u64 {
        self.interval_secs
    }

    fn collect(&mut self, now_ms: i64, out: &mut Vec<MetricDatum>) -> Result<(), CollectError> {
        if !self.primed {
            self.primed = true;
            return Ok(());
        }
        self.report();
        let drained = self.receiver.drain();
        match self.windows.as_mut() {
            None => {
                for (id, value) in &drained {
                    match value {
                        Drained::Single(v) => self.push(id, now_ms, DatumValue::Single(*v), out),
                        Drained::Dist(pairs) => self.push_dist(id, now_ms, pairs, out),
                    }
                }
            }
            Some(w) => {
                let closed = w.add_and_close(now_ms, drained);
                for (start, id, pairs) in &closed {
                    self.push_dist(id, *start, pairs, out);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
