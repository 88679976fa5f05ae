//! State reasons (`StateReason`) and their JSON companions (`StateReasonData`) in AWS's texts.
//!
//! Recorded forms (the API reference, §3.3):
//! - `Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the threshold
//!   (2.0).` — when `DatapointsToAlarm` was not sent (M = N);
//! - `Threshold Crossed: 1 out of the last 1 datapoints [99.5 (02/10/19 16:59:00)] was greater
//!   than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).` — when it was
//!   (OK transitions say `was not greater than` and `for ALARM -> OK transition`, whose minimum
//!   is `N - M + 1` non-breaching datapoints);
//! - `Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were
//!   treated as [Breaching].` (or `[NonBreaching]`);
//! - anomaly bands: `Thresholds Crossed: … was less than the lower thresholds [l] or greater than
//!   the upper thresholds [u] …`.
//!
//! Datapoints are listed newest first with the start of their period. Unrecorded phrasings
//! (real datapoints together with filled ones; INSUFFICIENT_DATA: `Insufficient Data: 2
//! datapoints were unknown.`) follow the recorded ones' style.
//!
//! `StateReasonData` members, in AWS's order: `version`, `queryDate`, `startDate` (oldest
//! evaluated real datapoint), `unit`, `statistic` (absent for metric math), `period`,
//! `recentDatapoints` (evaluated real values, oldest first), `recentLowerThresholds` /
//! `recentUpperThresholds` (bands) or `threshold`, `evaluatedDatapoints` (newest first; a
//! missing one carries only its `timestamp`).

use serde::Serialize;

use super::evaluate::{Datapoint, Outcome, Params, Verdict};
use super::model::{Comparison, MetricAlarmConfig, MetricSource, TreatMissing};
use super::timefmt::{detail_ts, java_double, reason_date};

#[derive(Serialize)]
struct EvaluatedPoint {
    timestamp: String,
    #[serde(rename = "sampleCount", skip_serializing_if = "Option::is_none")]
    sample_count: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
}

#[derive(Serialize)]
struct ReasonData<'a> {
    version: &'static str,
    #[serde(rename = "queryDate")]
    query_date: String,
    #[serde(rename = "startDate", skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistic: Option<&'a str>,
    period: i64,
    #[serde(rename = "recentDatapoints")]
    recent_datapoints: Vec<f64>,
    #[serde(
        rename = "recentLowerThresholds",
        skip_serializing_if = "Option::is_none"
    )]
    recent_lower: Option<Vec<f64>>,
    #[serde(
        rename = "recentUpperThresholds",
        skip_serializing_if = "Option::is_none"
    )]
    recent_upper: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<f64>,
    #[serde(rename = "evaluatedDatapoints")]
    evaluated_datapoints: Vec<EvaluatedPoint>,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn was(n: usize) -> &'static str {
    if n == 1 {
        "was"
    } else {
        "were"
    }
}

/// `v (dd/MM/yy HH:mm:ss), …` for the given datapoints, newest first.
fn listing(range: &[Datapoint], idx: &[usize]) -> String {
    idx.iter()
        .rev()
        .filter_map(|&i| range.get(i))
        .map(|d| {
            format!(
                "{} ({})",
                java_double(d.value.unwrap_or(0.0)),
                reason_date(d.start_ms)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn band_list(range: &[Datapoint], idx: &[usize], upper: bool) -> String {
    idx.iter()
        .rev()
        .filter_map(|&i| range.get(i).and_then(|d| d.band))
        .map(|(lo, hi)| java_double(if upper { hi } else { lo }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `greater than the threshold (50.0)` or, for bands, the two threshold lists.
fn comparison_text(
    p: &Params,
    range: &[Datapoint],
    idx: &[usize],
    alarm: bool,
    threshold: f64,
) -> String {
    let not = if alarm { "" } else { "not " };
    match p.comparison {
        Comparison::LessThanLowerOrGreaterThanUpperThreshold => format!(
            "{not}less than the lower thresholds [{}] or {not}greater than the upper thresholds [{}]",
            band_list(range, idx, false),
            band_list(range, idx, true)
        ),
        Comparison::LessThanLowerThreshold => format!(
            "{not}less than the lower thresholds [{}]",
            band_list(range, idx, false)
        ),
        Comparison::GreaterThanUpperThreshold => format!(
            "{not}greater than the upper thresholds [{}]",
            band_list(range, idx, true)
        ),
        op => format!("{not}{} the threshold ({})", op.phrase(), java_double(threshold)),
    }
}

fn treated_as(t: TreatMissing) -> &'static str {
    if t == TreatMissing::Breaching {
        "Breaching"
    } else {
        "NonBreaching"
    }
}

/// The reason text for an ALARM or OK verdict.
fn threshold_text(
    config: &MetricAlarmConfig,
    p: &Params,
    range: &[Datapoint],
    o: &Outcome,
) -> String {
    let alarm = o.verdict == Verdict::Alarm;
    let agreeing: Vec<usize> = o
        .evaluated
        .iter()
        .copied()
        .filter(|&i| range.get(i).is_some_and(|d| p.breaches(d) == alarm))
        .collect();
    let filled = o.filled.len();
    let fill_clause = o.filled_as.map(|t| {
        format!(
            " and {} {} treated as [{}]",
            plural(filled, "missing datapoint", "missing datapoints"),
            was(filled),
            treated_as(t)
        )
    });
    if agreeing.is_empty() {
        if let Some(t) = o.filled_as {
            return format!(
                "Threshold Crossed: no datapoints were received for {} and {} {} treated as [{}].",
                plural(filled, "period", "periods"),
                plural(filled, "missing datapoint", "missing datapoints"),
                was(filled),
                treated_as(t)
            );
        }
    }
    let k = agreeing.len();
    let head = if p.comparison.is_band() {
        "Thresholds Crossed"
    } else {
        "Threshold Crossed"
    };
    let counted = if config.datapoints_to_alarm.is_some() {
        format!("{k} out of the last {} datapoints", p.n)
    } else {
        plural(k, "datapoint", "datapoints")
    };
    let mut text = format!(
        "{head}: {counted} [{}] {} {}",
        listing(range, &agreeing),
        was(k),
        comparison_text(p, range, &agreeing, alarm, p.threshold)
    );
    if let Some(c) = fill_clause {
        text.push_str(&c);
    }
    if config.datapoints_to_alarm.is_some() {
        let (min, transition) = if alarm {
            (p.m, "OK -> ALARM")
        } else {
            (p.n + 1 - p.m.min(p.n), "ALARM -> OK")
        };
        text.push_str(&format!(
            " (minimum {} for {transition} transition)",
            plural(min, "datapoint", "datapoints")
        ));
    }
    text.push('.');
    text
}

/// The reason and `StateReasonData` of an evaluation outcome.
pub fn metric_reason(
    config: &MetricAlarmConfig,
    p: &Params,
    range: &[Datapoint],
    o: &Outcome,
    now_ms: i64,
) -> (String, String) {
    let reason = match o.verdict {
        Verdict::InsufficientData => {
            let unknown = o.unknown.max(1);
            format!(
                "Insufficient Data: {} {} unknown.",
                plural(unknown, "datapoint", "datapoints"),
                was(unknown)
            )
        }
        _ => threshold_text(config, p, range, o),
    };
    (reason, reason_data(config, p, range, o, now_ms))
}

fn reason_data(
    config: &MetricAlarmConfig,
    p: &Params,
    range: &[Datapoint],
    o: &Outcome,
    now_ms: i64,
) -> String {
    let (unit, statistic) = match &config.source {
        MetricSource::Single {
            unit, statistic, ..
        } => (unit.map(|u| u.as_str()), Some(statistic.name())),
        MetricSource::Math { .. } => (None, None),
    };
    let real: Vec<&Datapoint> = o.evaluated.iter().filter_map(|&i| range.get(i)).collect();
    let mut all: Vec<usize> = o.evaluated.iter().chain(o.filled.iter()).copied().collect();
    all.sort_unstable();
    let band = p.comparison.is_band();
    let data = ReasonData {
        version: "1.0",
        query_date: detail_ts(now_ms),
        start_date: real.first().map(|d| detail_ts(d.start_ms)),
        unit,
        statistic,
        period: config.period_s,
        recent_datapoints: real.iter().filter_map(|d| d.value).collect(),
        recent_lower: band.then(|| real.iter().filter_map(|d| d.band.map(|b| b.0)).collect()),
        recent_upper: band.then(|| real.iter().filter_map(|d| d.band.map(|b| b.1)).collect()),
        threshold: (!band).then_some(p.threshold),
        evaluated_datapoints: all
            .iter()
            .rev()
            .filter_map(|&i| range.get(i))
            .map(|d| EvaluatedPoint {
                timestamp: detail_ts(d.start_ms),
                sample_count: d
                    .value
                    .filter(|_| statistic.is_some())
                    .map(|_| d.sample_count),
                value: d.value,
            })
            .collect(),
    };
    serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_string())
}
