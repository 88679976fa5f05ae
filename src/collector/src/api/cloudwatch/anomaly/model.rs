//! The anomaly detection model: robust trend + daily and weekly seasonality + robust spread.
//!
//! # Input
//! The values of the watched series at its query period `P` (one value per period: the
//! metric's statistic, or the math expression's result) over the training window — up to two
//! weeks before the training time, minus the detector's `ExcludedTimeRanges`.
//!
//! # Fitting
//! 1. **Fit points.** Values are averaged into buckets of `R = max(P, 5 min)`: a 1-minute
//!    metric is fitted on 5-minute means of its 1-minute values. The mean keeps the level of
//!    every statistic (the fitted level of a 1-minute `Sum` stays a 1-minute sum) while
//!    bounding the fit to 4,032 points for two weeks.
//! 2. **Backfitting**, three rounds, starting from a flat trend at the median:
//!    - *daily profile*: the median of `value − trend` in each hour of the day (24 bins, UTC);
//!    - *weekly profile*: the median of what remains in each hour of the week (168 bins,
//!      Monday 00:00 UTC first), **shrunk toward the daily profile** by the empirical-Bayes
//!      factor `e² / (e² + se²)`, where `e` is the bin's effect and `se = 1.2533 × s / √n` the
//!      standard error of a median of `n` points with spread `s`: a bin with few points or an
//!      effect within the noise contributes little, a clear weekly pattern (quiet weekends)
//!      contributes fully;
//!    - *trend*: a line `level + slope × hours` fitted on the de-seasonalised values with the
//!      Theil–Sen estimator over hourly medians (robust to spikes), its level the median
//!      of the residual intercepts.
//!
//!    Profiles are read with linear interpolation between bin centres (circularly), so a daily
//!    sine is followed closely instead of in hourly steps; empty daily bins are interpolated
//!    from their neighbours, empty weekly bins add nothing to the daily profile.
//! 3. **Spread**: [`robust::spread`] (1.4826 × MAD) of the residuals of the *P-level* values
//!    (so the band width matches the query's resolution, not the 5-minute means), after
//!    re-centring the level on the median residual.
//!
//! The band at time `t` is `prediction(t) ± k × spread` (`k` = the second argument of
//! `ANOMALY_DETECTION_BAND`, default 2). Heteroscedasticity (a spread varying with the time of
//! day), time zones other than UTC (`MetricTimezone` is stored but seasons are UTC) and
//! `PeriodicSpikes` are not modelled.
//!
//! # Little data
//! - no values: no model (the band has no datapoints);
//! - fewer than 12 fit points (an hour at 5-minute resolution): a flat band from the median
//!   and the spread of all values;
//! - less than one day of history: no seasonality; less than two days: no trend (slope 0);
//!   less than seven days: no weekly profile.
//!
//! A model spanning at least a day is reported as `TRAINED`, anything less as
//! `TRAINED_INSUFFICIENT_DATA`. Training is deterministic: the same values give the same model.

use super::robust::{median, spread, theil_sen};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// Fit resolution floor.
pub const FIT_MS: i64 = 5 * MINUTE;
/// Fewer fit points than this: flat band.
pub const MIN_FIT_POINTS: usize = 12;
const ROUNDS: usize = 3;
/// 1970-01-01 was a Thursday: shift so that hour-of-week 0 is Monday 00:00 UTC.
const WEEK_OFFSET: i64 = 3 * DAY;

/// A trained model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    t0: i64,
    level: f64,
    /// Per hour.
    slope: f64,
    daily: Option<Vec<f64>>,
    weekly: Option<Vec<f64>>,
    spread: f64,
    span_ms: i64,
}

/// A seasonal profile lookup: bins of `bin_ms` over a cycle of `bins × bin_ms`.
fn profile_at(bins: &[f64], bin_ms: i64, offset: i64, t: i64) -> f64 {
    let n = bins.len() as i64;
    if n == 0 {
        return 0.0;
    }
    // Position in bins, measured from the centre of bin 0.
    let cycle = n * bin_ms;
    let x = (t + offset - bin_ms / 2).rem_euclid(cycle) as f64 / bin_ms as f64;
    let i = x.floor() as i64;
    let frac = x - i as f64;
    let a = bins[(i.rem_euclid(n)) as usize];
    let b = bins[((i + 1).rem_euclid(n)) as usize];
    a + (b - a) * frac
}

/// Bin index of `t` in a cycle of `n` bins of `bin_ms`.
fn bin_of(t: i64, bin_ms: i64, offset: i64, n: usize) -> usize {
    ((t + offset).div_euclid(bin_ms)).rem_euclid(n as i64) as usize
}

/// Median per bin, with empty bins interpolated circularly from the nearest filled ones.
/// Also returns the number of points in each bin.
fn bin_medians(
    points: &[(i64, f64)],
    bin_ms: i64,
    offset: i64,
    n: usize,
) -> (Vec<f64>, Vec<usize>) {
    let mut bins: Vec<Vec<f64>> = vec![Vec::new(); n];
    for (t, v) in points {
        bins[bin_of(*t, bin_ms, offset, n)].push(*v);
    }
    let counts: Vec<usize> = bins.iter().map(Vec::len).collect();
    let mut med: Vec<f64> = bins.iter_mut().map(|b| median(b)).collect();
    let filled: Vec<usize> = (0..n).filter(|i| counts[*i] > 0).collect();
    if filled.is_empty() {
        return (vec![0.0; n], counts);
    }
    for i in 0..n {
        if counts[i] > 0 {
            continue;
        }
        // Nearest filled bins before and after (circularly).
        let before = (1..=n).map(|d| (i + n - d) % n).find(|j| counts[*j] > 0);
        let after = (1..=n).map(|d| (i + d) % n).find(|j| counts[*j] > 0);
        med[i] = match (before, after) {
            (Some(b), Some(a)) => {
                let db = ((i + n - b) % n) as f64;
                let da = ((a + n - i) % n) as f64;
                if db + da == 0.0 {
                    med[b]
                } else {
                    med[b] + (med[a] - med[b]) * db / (db + da)
                }
            }
            _ => 0.0,
        };
    }
    (med, counts)
}

impl Model {
    /// Train on the values of a series with period `period_ms` (any order; non-finite values
    /// ignored). `None` when there is no value.
    pub fn train(samples: &[(i64, f64)], period_ms: i64) -> Option<Model> {
        let mut samples: Vec<(i64, f64)> = samples
            .iter()
            .copied()
            .filter(|(_, v)| v.is_finite())
            .collect();
        samples.sort_by_key(|(t, _)| *t);
        let (first, last) = (samples.first()?.0, samples.last()?.0);
        let fit = fit_points(&samples, period_ms.max(FIT_MS));
        let mut m = Model {
            t0: first,
            level: median(&mut fit.iter().map(|(_, v)| *v).collect::<Vec<_>>()),
            slope: 0.0,
            daily: None,
            weekly: None,
            spread: 0.0,
            span_ms: last - first,
        };
        if fit.len() >= MIN_FIT_POINTS {
            for _ in 0..ROUNDS {
                m.fit_round(&fit);
            }
        }
        let mut residuals: Vec<f64> = samples.iter().map(|(t, v)| v - m.predict(*t)).collect();
        let centre = median(&mut residuals.clone());
        if centre.is_finite() {
            m.level += centre;
            for r in &mut residuals {
                *r -= centre;
            }
        }
        m.spread = spread(&residuals);
        Some(m)
    }

    fn fit_round(&mut self, fit: &[(i64, f64)]) {
        let span = self.span_ms;
        let detrended: Vec<(i64, f64)> =
            fit.iter().map(|(t, v)| (*t, v - self.trend(*t))).collect();
        self.daily = (span >= DAY).then(|| bin_medians(&detrended, HOUR, 0, 24).0);
        let after_daily: Vec<(i64, f64)> = detrended
            .iter()
            .map(|(t, v)| (*t, v - self.daily_at(*t)))
            .collect();
        self.weekly = (span >= WEEK).then(|| weekly_profile(&after_daily));
        let deseason: Vec<(i64, f64)> = fit
            .iter()
            .map(|(t, v)| (*t, v - self.daily_at(*t) - self.weekly_at(*t)))
            .collect();
        self.slope = if span >= 2 * DAY {
            let hourly = hourly_medians(&deseason, self.t0);
            theil_sen(&hourly)
        } else {
            0.0
        };
        let mut intercepts: Vec<f64> = deseason
            .iter()
            .map(|(t, v)| v - self.slope * self.hours(*t))
            .collect();
        let level = median(&mut intercepts);
        if level.is_finite() {
            self.level = level;
        }
    }

    fn hours(&self, t: i64) -> f64 {
        (t - self.t0) as f64 / HOUR as f64
    }

    fn trend(&self, t: i64) -> f64 {
        self.level + self.slope * self.hours(t)
    }

    fn daily_at(&self, t: i64) -> f64 {
        self.daily
            .as_deref()
            .map_or(0.0, |b| profile_at(b, HOUR, 0, t))
    }

    fn weekly_at(&self, t: i64) -> f64 {
        self.weekly
            .as_deref()
            .map_or(0.0, |b| profile_at(b, HOUR, WEEK_OFFSET, t))
    }

    /// The expected value at `t`.
    pub fn predict(&self, t: i64) -> f64 {
        self.trend(t) + self.daily_at(t) + self.weekly_at(t)
    }

    /// The robust standard deviation of the residuals.
    #[cfg(test)]
    pub fn spread(&self) -> f64 {
        self.spread
    }

    /// `(upper, lower)` bounds of the band at `t` for `k` standard deviations.
    pub fn band(&self, t: i64, k: f64) -> (f64, f64) {
        let p = self.predict(t);
        (p + k * self.spread, p - k * self.spread)
    }

    /// `TRAINED` with at least a day of history, else `TRAINED_INSUFFICIENT_DATA`.
    pub fn state(&self) -> &'static str {
        if self.span_ms >= DAY {
            "TRAINED"
        } else {
            "TRAINED_INSUFFICIENT_DATA"
        }
    }
}

/// Means of the values (and of their timestamps) per bucket of `r_ms`.
fn fit_points(samples: &[(i64, f64)], r_ms: i64) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((t, _)) = samples.get(i) {
        let bucket = t.div_euclid(r_ms);
        let n = samples[i..]
            .iter()
            .take_while(|(u, _)| u.div_euclid(r_ms) == bucket)
            .count();
        let group = &samples[i..i + n];
        let mean_t = group.iter().map(|(u, _)| *u as f64).sum::<f64>() / n as f64;
        let mean_v = group.iter().map(|(_, v)| *v).sum::<f64>() / n as f64;
        out.push((mean_t.round() as i64, mean_v));
        i += n;
    }
    out
}

/// Hour-of-week medians of `points`, each shrunk by its empirical-Bayes weight.
fn weekly_profile(points: &[(i64, f64)]) -> Vec<f64> {
    let (med, counts) = bin_medians(points, HOUR, WEEK_OFFSET, 168);
    let s = spread(&points.iter().map(|(_, v)| *v).collect::<Vec<_>>());
    med.iter()
        .zip(&counts)
        .map(|(e, n)| {
            if *n == 0 || *e == 0.0 {
                return 0.0;
            }
            let se = 1.2533 * s / (*n as f64).sqrt();
            e * (e * e) / (e * e + se * se)
        })
        .collect()
}

/// `(hours since t0, median)` per clock hour.
fn hourly_medians(points: &[(i64, f64)], t0: i64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some((t, _)) = points.get(i) {
        let h = t.div_euclid(HOUR);
        let n = points[i..]
            .iter()
            .take_while(|(u, _)| u.div_euclid(HOUR) == h)
            .count();
        let group = &points[i..i + n];
        let mut vals: Vec<f64> = group.iter().map(|(_, v)| *v).collect();
        let mean_t = group.iter().map(|(u, _)| (u - t0) as f64).sum::<f64>() / n as f64;
        out.push((mean_t / HOUR as f64, median(&mut vals)));
        i += n;
    }
    out
}

#[cfg(test)]
mod tests;
