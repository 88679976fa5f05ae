//! One evaluation round at a time `t` (a multiple of 10 s).
//!
//! 1. Under the lock, take the metric alarms due at `t` (10/20/30 s periods every round, the
//!    others when `t` is on the minute) with their configuration version and state, and the
//!    composites whose suppression timer runs.
//! 2. Without the lock, read datapoints grouped by metric: each series is read **once** per
//!    round, over the longest evaluation range of the alarms on it; every alarm builds its own
//!    range from those points and is evaluated ([`super::evaluate::evaluate`]).
//! 3. Under the lock, in one change: apply the transitions of alarms whose configuration did
//!    not change meanwhile, release expired suppression timers, propagate to composites, and
//!    record `t` as the last round — all in one store transaction.
//!
//! A round at or before the last recorded one is skipped, so a restart never evaluates a round
//! twice.

use std::collections::HashMap;

use hostwatch_model::{MetricKey, Unit};

use super::error::AlarmError;
use super::evaluate::{self, range_len, Decision};
use super::model::{AlarmConfig, MetricAlarmConfig, MetricSource, StateValue};
use super::{lock, math, range, AlarmService};
use crate::api::cloudwatch::stat::Stat;
use crate::store::metrics::Point;

/// Round spacing, ms.
pub const ROUND_MS: i64 = 10_000;

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundStats {
    /// The round was at or before the last one and did nothing.
    pub skipped: bool,
    /// Metric alarms evaluated.
    pub evaluated: usize,
    /// Series read.
    pub series_read: usize,
    /// State changes committed (metric and composite).
    pub transitions: usize,
}

struct Due {
    name: String,
    version: u64,
    config: MetricAlarmConfig,
    state: StateValue,
}

/// Whether an alarm with this period is evaluated in the round at `t`.
pub fn is_due(period_s: i64, t_ms: i64) -> bool {
    period_s < 60 || t_ms % 60_000 == 0
}

impl AlarmService {
    /// Run the round at `t_ms` (rounded down to a multiple of 10 s).
    pub fn run_round(&self, t_ms: i64) -> Result<RoundStats, AlarmError> {
        let t = t_ms.div_euclid(ROUND_MS) * ROUND_MS;
        let _one_round = lock(&self.rounds);
        let (due, timers) = {
            let g = lock(&self.inner);
            if t <= g.last_round_ms {
                return Ok(RoundStats {
                    skipped: true,
                    ..Default::default()
                });
            }
            let mut due = Vec::new();
            let mut timers = Vec::new();
            for (name, a) in &g.reg.alarms {
                match &a.config {
                    AlarmConfig::Metric(c) if is_due(c.period_s, t) => due.push(Due {
                        name: name.clone(),
                        version: a.version,
                        config: c.clone(),
                        state: a.status.value,
                    }),
                    AlarmConfig::Composite(_) if a.suppression.has_timer() => {
                        timers.push(name.clone())
                    }
                    _ => {}
                }
            }
            (due, timers)
        };
        let mut stats = RoundStats::default();
        let decisions = self.evaluate_due(&due, t, &mut stats)?;
        let transitions = self.change(t, Some(t), |txn| {
            for (d, decision) in due.iter().zip(decisions) {
                let Decision::Transition {
                    value,
                    reason,
                    reason_data,
                } = decision
                else {
                    continue;
                };
                let current = txn.get(&d.name).map(|a| (a.version, a.status.value));
                if current != Some((d.version, d.state)) {
                    continue;
                }
                txn.set_state(&d.name, value, reason, Some(reason_data));
            }
            txn.tick_suppression(&timers);
            txn.propagate();
            Ok(txn.transitions())
        })?;
        stats.transitions = transitions;
        Ok(stats)
    }

    /// Decisions for the due alarms, in their order.
    fn evaluate_due(
        &self,
        due: &[Due],
        t: i64,
        stats: &mut RoundStats,
    ) -> Result<Vec<Decision>, AlarmError> {
        // Group single-metric alarms by metric; remember the longest span each needs.
        let mut by_metric: HashMap<&MetricKey, i64> = HashMap::new();
        for d in due {
            if let MetricSource::Single { metric, .. } = &d.config.source {
                let span = d.config.period_s * 1000 * range_len(d.config.evaluation_periods) as i64;
                let e = by_metric.entry(metric).or_insert(0);
                *e = (*e).max(span);
            }
        }
        let mut points: HashMap<&MetricKey, Vec<(Unit, Vec<Point>)>> = HashMap::new();
        for (metric, span) in by_metric {
            let mut per_unit = Vec::new();
            for (sid, unit) in self.metrics.series_of(metric) {
                per_unit.push((unit, self.metrics.read(sid, t - span, t)?));
                stats.series_read += 1;
            }
            points.insert(metric, per_unit);
        }
        let mut out = Vec::with_capacity(due.len());
        for d in due {
            let decision = match &d.config.source {
                MetricSource::Single {
                    metric,
                    statistic,
                    unit,
                    ..
                } => {
                    let Some(stat) = Stat::parse(statistic.name()) else {
                        out.push(Decision::Keep);
                        continue;
                    };
                    let series = points.get(metric).map(Vec::as_slice).unwrap_or(&[]);
                    let selected = series
                        .iter()
                        .filter(|(u, _)| unit.is_none_or(|want| want == *u))
                        .flat_map(|(_, p)| p.iter());
                    let r = range::build(
                        selected,
                        t,
                        d.config.period_s * 1000,
                        range_len(d.config.evaluation_periods),
                        &stat,
                    );
                    stats.evaluated += 1;
                    evaluate::evaluate(&d.config, &r, d.state, t)
                }
                MetricSource::Math {
                    queries,
                    threshold_metric_id,
                } => {
                    let r = math::build_range(
                        &self.metrics,
                        self.anomaly.as_ref(),
                        queries,
                        threshold_metric_id.as_deref(),
                        t,
                        d.config.period_s * 1000,
                        range_len(d.config.evaluation_periods),
                    );
                    match r {
                        Ok(r) => {
                            stats.evaluated += 1;
                            evaluate::evaluate(&d.config, &r, d.state, t)
                        }
                        Err(e) => {
                            tracing::debug!(alarm = %d.name, error = %e, "Metric math alarm not evaluated.");
                            Decision::Keep
                        }
                    }
                }
            };
            out.push(decision);
        }
        Ok(out)
    }
}
