//! Robust statistics for the anomaly model: median, MAD-based spread, Theil–Sen slope.

/// Median of `v` (NaN when empty). Reorders `v`.
pub fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let mid = n / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *m;
    if n % 2 == 1 {
        return upper;
    }
    let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lower + upper) / 2.0
}

/// A robust estimate of the standard deviation of `v` around its median: 1.4826 × MAD, or,
/// when more than half the values are equal (MAD = 0), 1.2533 × the mean absolute deviation
/// (both equal σ for normal data). 0 when all values are equal.
pub fn spread(v: &[f64]) -> f64 {
    let mut w = v.to_vec();
    let m = median(&mut w);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    let mean_dev = if dev.is_empty() {
        0.0
    } else {
        dev.iter().sum::<f64>() / dev.len() as f64
    };
    let mad = median(&mut dev);
    if mad > 0.0 {
        1.4826 * mad
    } else if mean_dev > 0.0 {
        1.2533 * mean_dev
    } else {
        0.0
    }
}

/// Theil–Sen slope: the median of the pairwise slopes `(yj - yi) / (xj - xi)` over pairs with
/// distinct `x`; 0 when there is no such pair.
pub fn theil_sen(points: &[(f64, f64)]) -> f64 {
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, (xi, yi)) in points.iter().enumerate() {
        for (xj, yj) in &points[i + 1..] {
            let dx = xj - xi;
            if dx != 0.0 {
                slopes.push((yj - yi) / dx);
            }
        }
    }
    let m = median(&mut slopes);
    if m.is_finite() {
        m
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn spreads() {
        assert_eq!(spread(&[5.0; 10]), 0.0);
        let s = spread(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!((s - 1.4826).abs() < 1e-12, "{s}");
        // Mostly equal values: the MAD is 0, the mean deviation is not.
        let mut v = vec![0.0; 9];
        v.push(1.0);
        assert!((spread(&v) - 0.12533).abs() < 1e-9);
        // An outlier barely moves it.
        let t = spread(&[1.0, 2.0, 3.0, 4.0, 5.0, 1e9]);
        assert!(t < 3.0, "{t}");
    }

    #[test]
    fn theil_sen_ignores_outliers() {
        let mut pts: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 3.0 + 0.5 * i as f64)).collect();
        pts[7].1 = 1000.0;
        assert!((theil_sen(&pts) - 0.5).abs() < 1e-12);
        assert_eq!(theil_sen(&[(1.0, 1.0), (1.0, 5.0)]), 0.0);
        assert_eq!(theil_sen(&[]), 0.0);
    }
}
