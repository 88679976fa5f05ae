//! Metric alarm evaluation: a pure function of the configuration, the datapoints of the
//! evaluation range, the current state and "now".
//!
//! # The evaluation range
//! An alarm with N evaluation periods is judged on the last `R = N + max(N / 3, 2)` periods
//! ([`range_len`]; AWS documents "more than N" and shows 5 for N = 3). The range ends at the
//! evaluation time: datapoint `i` (oldest first) covers
//! `[t - (R - i) × Period, t - (R - i - 1) × Period)`.
//!
//! # The rules (CloudWatch's, §3.2 of the API reference)
//! With `r` real (non-missing) datapoints in the range and `b` of the evaluated ones breaching:
//! 1. `r >= N`: the most recent N real datapoints are evaluated (older ones and the missing-data
//!    treatment are ignored): ALARM when `b >= M`, else OK.
//! 2. `r < N`: all `r` real datapoints are evaluated, and `N - r` missing ones are filled
//!    according to `TreatMissingData`:
//!    - `breaching`: ALARM when `b + (N - r) >= M`, else OK;
//!    - `notBreaching`: ALARM when `b >= M`, else OK;
//!    - `missing`: no datapoint at all → INSUFFICIENT_DATA; `b >= M` → ALARM; any real
//!      datapoint not breaching → OK; otherwise (every real datapoint breaches, but fewer than
//!      M) the **premature-alarm rule** decides: ALARM when the oldest breaching datapoint is at
//!      least M periods old (counting the newest period as 1), else INSUFFICIENT_DATA;
//!    - `ignore`: as `missing`, except that every outcome `missing` would leave to
//!      INSUFFICIENT_DATA or to the premature-alarm rule keeps the current state.
//! 3. `AWS/DynamoDB` alarms always treat missing data as `ignore`.
//! 4. Percentile alarms with `EvaluateLowSampleCountPercentile = ignore` keep their state while
//!    an evaluated datapoint has fewer samples than `10 / (1 - p)` (p ≥ 0.5) or `10 / p`
//!    (p < 0.5).
//!
//! The state reason and `StateReasonData` of the outcome are rendered by `reason`.

use super::model::{AlarmStatistic, MetricAlarmConfig, StateValue, TreatMissing};
use super::reason;
use crate::api::cloudwatch::stat::Stat;

/// One period of the evaluation range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    /// Period start, ms.
    pub start_ms: i64,
    /// The statistic's value; `None` when the period has no data (missing).
    pub value: Option<f64>,
    /// Samples behind the value (0 when missing).
    pub sample_count: f64,
    /// `(lower, upper)` of an anomaly-detection band at this period.
    pub band: Option<(f64, f64)>,
}

impl Datapoint {
    /// A missing datapoint.
    pub fn missing(start_ms: i64) -> Self {
        Datapoint {
            start_ms,
            value: None,
            sample_count: 0.0,
            band: None,
        }
    }
}

/// What an evaluation decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Keep the current state and reason: the computed state is the current one, or the
    /// treatment says to retain it (`ignore`, low sample counts).
    Keep,
    /// Change to `value`, with the reason texts of the evaluation.
    Transition {
        value: StateValue,
        reason: String,
        reason_data: String,
    },
}

/// The number of periods in the evaluation range for N evaluation periods.
pub fn range_len(n: u32) -> usize {
    let n = n as usize;
    n + (n / 3).max(2)
}

/// The raw verdict before texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Alarm,
    Ok,
    InsufficientData,
    Retain,
}

/// How a verdict was reached: which datapoints were evaluated and what was filled.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Indices (into the range, oldest first) of the real datapoints evaluated.
    pub evaluated: Vec<usize>,
    /// Indices of the missing datapoints filled by the treatment.
    pub filled: Vec<usize>,
    /// What the filled datapoints were treated as (`Breaching` or `NotBreaching`).
    pub filled_as: Option<TreatMissing>,
    /// The premature-alarm rule decided.
    pub premature: bool,
    /// Missing datapoints that left the verdict undecided (INSUFFICIENT_DATA reasons).
    pub unknown: usize,
}

/// The parameters evaluation needs, taken from a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub n: usize,
    pub m: usize,
    pub threshold: f64,
    pub comparison: super::model::Comparison,
    pub treat: TreatMissing,
    /// `Some(p)` (0–100) for a percentile alarm that ignores low sample counts.
    pub low_sample_percentile: Option<f64>,
}

impl Params {
    /// From a metric alarm configuration.
    pub fn of(config: &MetricAlarmConfig) -> Params {
        let low_sample_percentile = match (&config.source, config.low_sample_count) {
            (
                super::model::MetricSource::Single {
                    statistic: AlarmStatistic::Extended(s),
                    ..
                },
                Some(super::model::LowSampleCount::Ignore),
            ) => match Stat::parse(s) {
                Some(Stat::Percentile(p)) => Some(p),
                _ => None,
            },
            _ => None,
        };
        Params {
            n: config.evaluation_periods.max(1) as usize,
            m: config.m().max(1) as usize,
            threshold: config.threshold.unwrap_or(0.0),
            comparison: config.comparison,
            treat: config.effective_treat_missing(),
            low_sample_percentile,
        }
    }

    /// Whether a datapoint breaches (missing ones never do).
    pub fn breaches(&self, d: &Datapoint) -> bool {
        d.value
            .is_some_and(|v| self.comparison.breaches(v, self.threshold, d.band))
    }
}

/// Samples below which a percentile `p` (0–100) counts as a low sample.
pub fn low_sample_limit(p: f64) -> Option<f64> {
    // 10 / (1 - p/100) = 1000 / (100 - p), and 10 / (p/100) = 1000 / p: exact for whole p.
    if p <= 0.0 || p >= 100.0 {
        None
    } else if p >= 50.0 {
        Some(1000.0 / (100.0 - p))
    } else {
        Some(1000.0 / p)
    }
}

/// Judge a range (oldest first) by the rules in the module docs.
pub fn judge(p: &Params, range: &[Datapoint]) -> Outcome {
    let real: Vec<usize> = (0..range.len())
        .filter(|&i| range[i].value.is_some())
        .collect();
    let mut out = Outcome {
        verdict: Verdict::Retain,
        evaluated: Vec::new(),
        filled: Vec::new(),
        filled_as: None,
        premature: false,
        unknown: 0,
    };
    let r = real.len();
    if r >= p.n {
        out.evaluated = real[r - p.n..].to_vec();
    } else {
        out.evaluated = real.clone();
    }
    if let Some(limit) = p.low_sample_percentile.and_then(low_sample_limit) {
        if out.evaluated.iter().any(|&i| range[i].sample_count < limit) {
            return out;
        }
    }
    let b = out
        .evaluated
        .iter()
        .filter(|&&i| p.breaches(&range[i]))
        .count();
    if r >= p.n {
        out.verdict = if b >= p.m {
            Verdict::Alarm
        } else {
            Verdict::Ok
        };
        return out;
    }
    let to_fill = p.n - r;
    match p.treat {
        TreatMissing::Breaching | TreatMissing::NotBreaching => {
            out.filled = (0..range.len())
                .rev()
                .filter(|&i| range[i].value.is_none())
                .take(to_fill)
                .collect();
            out.filled.reverse();
            out.filled_as = Some(p.treat);
            let total = if p.treat == TreatMissing::Breaching {
                b + to_fill
            } else {
                b
            };
            out.verdict = if total >= p.m {
                Verdict::Alarm
            } else {
                Verdict::Ok
            };
        }
        TreatMissing::Missing | TreatMissing::Ignore => {
            let undecided = if p.treat == TreatMissing::Ignore {
                Verdict::Retain
            } else {
                Verdict::InsufficientData
            };
            out.unknown = to_fill;
            out.verdict = if r == 0 {
                undecided
            } else if b >= p.m {
                Verdict::Alarm
            } else if b < r {
                Verdict::Ok
            } else if p.treat == TreatMissing::Missing && oldest_breach_age(p, range) >= p.m {
                out.premature = true;
                Verdict::Alarm
            } else {
                undecided
            };
        }
    }
    out
}

/// Age in periods (newest = 1) of the oldest breaching datapoint in the range, 0 when none.
fn oldest_breach_age(p: &Params, range: &[Datapoint]) -> usize {
    range
        .iter()
        .position(|d| p.breaches(d))
        .map(|i| range.len() - i)
        .unwrap_or(0)
}

/// Evaluate a metric alarm on its evaluation range (oldest first) at `now_ms`.
pub fn evaluate(
    config: &MetricAlarmConfig,
    range: &[Datapoint],
    current: StateValue,
    now_ms: i64,
) -> Decision {
    let params = Params::of(config);
    let outcome = judge(&params, range);
    let value = match outcome.verdict {
        Verdict::Retain => return Decision::Keep,
        Verdict::Alarm => StateValue::Alarm,
        Verdict::Ok => StateValue::Ok,
        Verdict::InsufficientData => StateValue::InsufficientData,
    };
    if value == current {
        return Decision::Keep;
    }
    let (reason, reason_data) = reason::metric_reason(config, &params, range, &outcome, now_ms);
    Decision::Transition {
        value,
        reason,
        reason_data,
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
