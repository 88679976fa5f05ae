//! Synthetic series: the band must contain normal values and exclude injected anomalies.

use super::*;

const T0: i64 = 1_700_006_400_000; // Wednesday 2023-11-15 00:00 UTC
const FIVE_MIN: i64 = 5 * MINUTE;

/// A deterministic pseudo-random source (64-bit LCG).
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [-a, a].
    fn within(&mut self, a: f64) -> f64 {
        (self.uniform() * 2.0 - 1.0) * a
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn series(from: i64, to: i64, step: i64, f: &mut dyn FnMut(i64) -> f64) -> Vec<(i64, f64)> {
    (0..)
        .map(|i| from + i * step)
        .take_while(|t| *t < to)
        .map(|t| (t, f(t)))
        .collect()
}

fn daily_sine(t: i64) -> f64 {
    100.0 + 20.0 * (2.0 * std::f64::consts::PI * (t.rem_euclid(DAY)) as f64 / DAY as f64).sin()
}

fn inside(m: &Model, points: &[(i64, f64)], k: f64) -> f64 {
    let n = points
        .iter()
        .filter(|(t, v)| {
            let (hi, lo) = m.band(*t, k);
            *v <= hi && *v >= lo
        })
        .count();
    n as f64 / points.len() as f64
}

fn excluded(m: &Model, t: i64, v: f64, k: f64) -> bool {
    let (hi, lo) = m.band(t, k);
    v > hi || v < lo
}

#[test]
fn daily_sine_with_noise() {
    let mut rng = Rng(7);
    let train = series(T0, T0 + 14 * DAY, FIVE_MIN, &mut |t| {
        daily_sine(t) + rng.within(2.0)
    });
    let m = Model::train(&train, FIVE_MIN).unwrap();
    assert_eq!(m.state(), "TRAINED");
    let next = series(T0 + 14 * DAY, T0 + 15 * DAY, FIVE_MIN, &mut |t| {
        daily_sine(t) + rng.within(2.0)
    });
    let share = inside(&m, &next, 2.0);
    assert!(
        share > 0.95,
        "only {share} of normal points inside the band"
    );
    assert!(inside(&m, &train, 2.0) > 0.95);
    // Uniform noise of ±2 has σ = 1.15: the band is about ±2.3 wide.
    assert!((1.0..1.5).contains(&m.spread()), "spread {}", m.spread());
    // A spike is outside, both at the peak and at the trough of the cycle.
    let peak = T0 + 14 * DAY + 6 * HOUR;
    assert!(excluded(&m, peak, daily_sine(peak) + 8.0, 2.0));
    let trough = T0 + 14 * DAY + 18 * HOUR;
    assert!(excluded(&m, trough, daily_sine(trough) - 8.0, 2.0));
    // The seasonal shape is learnt: the trough's normal value is far below the mean level and
    // still inside the band.
    assert!(!excluded(&m, trough, daily_sine(trough), 2.0));
    assert!(excluded(&m, trough, 100.0, 2.0));
}

#[test]
fn gaussian_noise_and_k() {
    let mut rng = Rng(11);
    let train = series(T0, T0 + 7 * DAY, MINUTE, &mut |t| {
        daily_sine(t) + 3.0 * rng.normal()
    });
    let m = Model::train(&train, MINUTE).unwrap();
    // Spread measured on the 1-minute values, not on the 5-minute means.
    assert!((2.6..3.4).contains(&m.spread()), "spread {}", m.spread());
    let next = series(T0 + 7 * DAY, T0 + 8 * DAY, MINUTE, &mut |t| {
        daily_sine(t) + 3.0 * rng.normal()
    });
    assert!(inside(&m, &next, 3.0) > 0.98);
    let two = inside(&m, &next, 2.0);
    assert!((0.92..0.98).contains(&two), "{two}");
    let t = T0 + 7 * DAY + 3 * HOUR;
    assert!(excluded(&m, t, daily_sine(t) + 20.0, 3.0));
}

#[test]
fn linear_trend() {
    let mut rng = Rng(3);
    let f = |t: i64| 50.0 + 0.5 * ((t - T0) as f64 / HOUR as f64);
    let train = series(T0, T0 + 7 * DAY, FIVE_MIN, &mut |t| f(t) + rng.within(1.0));
    let m = Model::train(&train, FIVE_MIN).unwrap();
    assert!((m.slope - 0.5).abs() < 0.01, "slope {}", m.slope);
    // Six hours past the training data the band follows the trend.
    let next = series(T0 + 7 * DAY, T0 + 7 * DAY + 6 * HOUR, FIVE_MIN, &mut |t| {
        f(t) + rng.within(1.0)
    });
    assert!(inside(&m, &next, 2.0) > 0.95);
    let t = T0 + 7 * DAY + 3 * HOUR;
    assert!(
        (m.predict(t) - f(t)).abs() < 0.5,
        "{} vs {}",
        m.predict(t),
        f(t)
    );
    // The value from the start of training is now an anomaly.
    assert!(excluded(&m, t, 50.0, 2.0));
}

/// Busy weekdays, quiet weekends, plus a daily cycle.
#[test]
fn weekly_pattern() {
    let mut rng = Rng(5);
    let f = |t: i64| {
        let weekday = (t + WEEK_OFFSET).rem_euclid(WEEK) / DAY; // 0 = Monday
        let base = if weekday >= 5 { 40.0 } else { 100.0 };
        base + 0.1
            * base
            * (2.0 * std::f64::consts::PI * t.rem_euclid(DAY) as f64 / DAY as f64).sin()
    };
    let train = series(T0, T0 + 14 * DAY, FIVE_MIN, &mut |t| f(t) + rng.within(2.0));
    let m = Model::train(&train, FIVE_MIN).unwrap();
    let next = series(T0 + 14 * DAY, T0 + 21 * DAY, FIVE_MIN, &mut |t| {
        f(t) + rng.within(2.0)
    });
    assert!(inside(&m, &next, 2.0) > 0.95, "{}", inside(&m, &next, 2.0));
    // T0 + 17 days is a Saturday, T0 + 19 days a Monday.
    let saturday_noon = T0 + 17 * DAY + 12 * HOUR;
    let monday_noon = T0 + 19 * DAY + 12 * HOUR;
    assert!(!excluded(&m, saturday_noon, f(saturday_noon), 2.0));
    assert!(
        excluded(&m, saturday_noon, f(monday_noon), 2.0),
        "weekday load on a Saturday"
    );
    assert!(
        excluded(&m, monday_noon, f(saturday_noon), 2.0),
        "weekend load on a Monday"
    );
}

#[test]
fn little_data_degrades() {
    assert!(Model::train(&[], MINUTE).is_none());
    assert!(Model::train(&[(T0, f64::NAN)], MINUTE).is_none());
    // Fewer than 12 fit points: a flat band around the median.
    let few: Vec<(i64, f64)> = (0..5)
        .map(|i| (T0 + i * FIVE_MIN, [1.0, 2.0, 3.0, 4.0, 50.0][i as usize]))
        .collect();
    let m = Model::train(&few, FIVE_MIN).unwrap();
    assert_eq!(m.state(), "TRAINED_INSUFFICIENT_DATA");
    assert_eq!(m.predict(T0), 3.0);
    assert_eq!(m.predict(T0 + 5 * DAY), 3.0);
    assert!(excluded(&m, T0, 50.0, 2.0));
    // Half a day: level only, no seasonality or trend.
    let half = series(T0, T0 + 12 * HOUR, FIVE_MIN, &mut |t| daily_sine(t));
    let m = Model::train(&half, FIVE_MIN).unwrap();
    assert!(m.daily.is_none() && m.weekly.is_none() && m.slope == 0.0);
    // A constant series: a zero-width band that contains the constant.
    let flat = series(T0, T0 + 2 * DAY, FIVE_MIN, &mut |_| 7.0);
    let m = Model::train(&flat, FIVE_MIN).unwrap();
    assert_eq!(m.spread(), 0.0);
    assert_eq!(m.band(T0 + 3 * DAY, 2.0), (7.0, 7.0));
}

#[test]
fn training_is_deterministic_and_order_free() {
    let mut rng = Rng(9);
    let train = series(T0, T0 + 3 * DAY, FIVE_MIN, &mut |t| {
        daily_sine(t) + rng.within(3.0)
    });
    let mut shuffled = train.clone();
    shuffled.reverse();
    let a = Model::train(&train, FIVE_MIN).unwrap();
    let b = Model::train(&shuffled, FIVE_MIN).unwrap();
    assert_eq!(a, b);
}

#[test]
fn spikes_in_training_do_not_widen_the_band_much() {
    let mut rng = Rng(13);
    let mut train = series(T0, T0 + 7 * DAY, FIVE_MIN, &mut |t| {
        daily_sine(t) + rng.within(2.0)
    });
    for i in (0..train.len()).step_by(97) {
        train[i].1 += 500.0;
    }
    let m = Model::train(&train, FIVE_MIN).unwrap();
    assert!(m.spread() < 1.6, "spread {}", m.spread());
}
