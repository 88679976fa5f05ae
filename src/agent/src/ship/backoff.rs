//! Retry delays: jittered exponential backoff, as a pure function.
//!
//! The base delay for retry number `r` (0 for the first retry) is `200 ms · 2^r` while `r ≤ 5`,
//! else one minute; the delay actually waited is `base/2 + jitter·base/2` with `jitter` in
//! `[0, 1)`, so concurrent agents spread out while each delay stays within `[base/2, base)`.
//! The caller draws `jitter` (from `rand` in production, fixed in tests).

use std::time::Duration;

/// Attempts per batch (the first try included) before it is given up.
pub const MAX_ATTEMPTS: u32 = 5;

/// The un-jittered delay before retry `retry`.
pub fn base_delay(retry: u32) -> Duration {
    if retry <= 5 {
        Duration::from_millis(200u64 << retry)
    } else {
        Duration::from_secs(60)
    }
}

/// The delay before retry `retry`, with `jitter` in `[0, 1)` (clamped).
pub fn backoff(retry: u32, jitter: f64) -> Duration {
    let base = base_delay(retry);
    let half = base / 2;
    let j = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    half + half.mul_f64(j)
}

/// [`backoff`] with a random jitter.
pub fn random_backoff(retry: u32) -> Duration {
    backoff(retry, rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_then_caps() {
        assert_eq!(base_delay(0), Duration::from_millis(200));
        assert_eq!(base_delay(1), Duration::from_millis(400));
        assert_eq!(base_delay(5), Duration::from_millis(6400));
        assert_eq!(base_delay(6), Duration::from_secs(60));
        assert_eq!(base_delay(40), Duration::from_secs(60));
    }

    #[test]
    fn jitter_bounds() {
        assert_eq!(backoff(0, 0.0), Duration::from_millis(100));
        assert_eq!(backoff(0, 0.5), Duration::from_millis(150));
        assert_eq!(backoff(2, 0.0), Duration::from_millis(400));
        assert_eq!(backoff(0, 7.0), Duration::from_millis(200));
        assert_eq!(backoff(0, f64::NAN), Duration::from_millis(100));
        for r in 0..8 {
            let d = random_backoff(r);
            assert!(d >= base_delay(r) / 2 && d <= base_delay(r), "{d:?}");
        }
    }
}
