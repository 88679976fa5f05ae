//! Statistic names (`Stat` / `Statistics` / `ExtendedStatistics`) and their evaluation.
//!
//! Grammar (CloudWatch's): `SampleCount | Average | Sum | Minimum | Maximum | IQM`,
//! `(p|tm|tc|ts|wm)NN` with `NN` = `0`–`99` with up to 10 decimals or `100`,
//! `(TM|TC|TS|WM)(a%:b%)` (percent bounds), `(TM|TC|TS|WM|PR)(a:b)` (absolute bounds); either
//! bound may be omitted.
//!
//! # Evaluation of percentile-style statistics
//! The values of a bucket, sorted, each with its weight (count), are laid end to end on a
//! "rank axis" of total length `N` (the sample count): value `v` with weight `w` covers the
//! rank interval `(c, c + w]` where `c` is the weight of all smaller values.
//! - `pX` is **nearest rank without interpolation**: the smallest value whose interval reaches
//!   rank `X/100 × N` (`p0` is the minimum, `p100` the maximum). It is always a value that was
//!   actually published.
//! - Percent-bounded statistics take the rank window `(a/100 × N, b/100 × N]`; a value counts
//!   with the part of its weight inside the window (so weights split at the edges):
//!   `TM` = weighted mean, `TC` = weight, `TS` = weighted sum in the window. `tmX` = `TM(:X%)`.
//! - Absolute bounds select values `v` with `a < v <= b`; `PR(a:b)` is the percentage of the
//!   weight in that range.
//! - `WM(a%:b%)` clamps every value to `[pa, pb]` and takes the weighted mean; `IQM` =
//!   `TM(25%:75%)`.
//!
//! Percentile-style statistics are unavailable (no datapoint) when the bucket lacks raw values
//! (see `aggregate`).

use super::aggregate::Bucket;

/// The five basic statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Basic {
    pub const ALL: [(&'static str, Basic); 5] = [
        ("SampleCount", Basic::SampleCount),
        ("Average", Basic::Average),
        ("Sum", Basic::Sum),
        ("Minimum", Basic::Minimum),
        ("Maximum", Basic::Maximum),
    ];

    pub fn parse(s: &str) -> Option<Basic> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, b)| *b)
    }

    pub fn eval(self, b: &Bucket) -> f64 {
        match self {
            Basic::SampleCount => b.sample_count,
            Basic::Average => b.average(),
            Basic::Sum => b.sum,
            Basic::Minimum => b.minimum,
            Basic::Maximum => b.maximum,
        }
    }
}

/// What a windowed statistic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Mean,
    Count,
    Sum,
    Winsorized,
    PercentRank,
}

/// A bound of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// Percentages of the rank axis (0–100).
    Percent(Option<f64>, Option<f64>),
    /// Absolute values: `lo < v <= hi`.
    Absolute(Option<f64>, Option<f64>),
}

/// A parsed statistic.
#[derive(Debug, Clone, PartialEq)]
pub enum Stat {
    Basic(Basic),
    Percentile(f64),
    Windowed(Window, Bounds),
}

impl Stat {
    /// Parse a statistic name; `None` when it is not valid.
    pub fn parse(s: &str) -> Option<Stat> {
        if let Some(b) = Basic::parse(s) {
            return Some(Stat::Basic(b));
        }
        if s == "IQM" {
            return Some(Stat::Windowed(
                Window::Mean,
                Bounds::Percent(Some(25.0), Some(75.0)),
            ));
        }
        parse_short(s).or_else(|| parse_range(s))
    }

    /// Evaluate on a bucket; `None` when the statistic is unavailable for it.
    pub fn eval(&self, b: &Bucket) -> Option<f64> {
        if b.sample_count <= 0.0 {
            return None;
        }
        match self {
            Stat::Basic(basic) => Some(basic.eval(b)),
            Stat::Percentile(p) => b.sorted_values().map(|v| percentile(&v, *p)),
            Stat::Windowed(w, bounds) => b.sorted_values().and_then(|v| windowed(&v, *w, *bounds)),
        }
    }
}

/// `pNN`, `tmNN`, `tcNN`, `tsNN`, `wmNN`.
fn parse_short(s: &str) -> Option<Stat> {
    let (window, num) = if let Some(n) = s.strip_prefix("tm") {
        (Some(Window::Mean), n)
    } else if let Some(n) = s.strip_prefix("tc") {
        (Some(Window::Count), n)
    } else if let Some(n) = s.strip_prefix("ts") {
        (Some(Window::Sum), n)
    } else if let Some(n) = s.strip_prefix("wm") {
        (Some(Window::Winsorized), n)
    } else {
        (None, s.strip_prefix('p')?)
    };
    let x = short_number(num)?;
    Some(match window {
        None => Stat::Percentile(x),
        Some(w) => Stat::Windowed(w, Bounds::Percent(None, Some(x))),
    })
}

/// `\d{1,2}(\.\d{0,10})?|100`.
fn short_number(s: &str) -> Option<f64> {
    if s == "100" {
        return Some(100.0);
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let ok = (1..=2).contains(&int.len())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 10
        && frac.bytes().all(|b| b.is_ascii_digit());
    if ok {
        s.trim_end_matches('.').parse().ok()
    } else {
        None
    }
}

/// `TM(a%:b%)`, `PR(a:b)` …
fn parse_range(s: &str) -> Option<Stat> {
    let open = s.find('(')?;
    let inner = s[open + 1..].strip_suffix(')')?;
    let window = match &s[..open] {
        "TM" => Window::Mean,
        "TC" => Window::Count,
        "TS" => Window::Sum,
        "WM" => Window::Winsorized,
        "PR" => Window::PercentRank,
        _ => return None,
    };
    let (lo, hi) = inner.split_once(':')?;
    let pct = |x: &str| x.is_empty() || x.ends_with('%');
    if lo.is_empty() && hi.is_empty() {
        return None;
    }
    if pct(lo) && pct(hi) && (lo.ends_with('%') || hi.ends_with('%')) {
        if window == Window::PercentRank {
            return None;
        }
        let p = |x: &str| -> Option<Option<f64>> {
            if x.is_empty() {
                return Some(None);
            }
            let v: f64 = x.strip_suffix('%')?.parse().ok()?;
            (0.0..=100.0).contains(&v).then_some(Some(v))
        };
        let (a, b) = (p(lo)?, p(hi)?);
        if a.unwrap_or(0.0) > b.unwrap_or(100.0) {
            return None;
        }
        return Some(Stat::Windowed(window, Bounds::Percent(a, b)));
    }
    if window == Window::Winsorized {
        return None;
    }
    let a = |x: &str| -> Option<Option<f64>> {
        if x.is_empty() {
            Some(None)
        } else {
            x.parse::<f64>().ok().filter(|v| v.is_finite()).map(Some)
        }
    };
    let (a, b) = (a(lo)?, a(hi)?);
    if let (Some(x), Some(y)) = (a, b) {
        if x > y {
            return None;
        }
    }
    Some(Stat::Windowed(window, Bounds::Absolute(a, b)))
}

fn total(v: &[(f64, f64)]) -> f64 {
    v.iter().map(|(_, w)| w).sum()
}

/// Nearest-rank percentile over sorted weighted values.
pub fn percentile(v: &[(f64, f64)], p: f64) -> f64 {
    let target = p / 100.0 * total(v);
    let mut cum = 0.0;
    for (x, w) in v {
        cum += w;
        if cum >= target && (cum > 0.0) {
            return *x;
        }
    }
    v.last().map(|(x, _)| *x).unwrap_or(0.0)
}

fn windowed(v: &[(f64, f64)], w: Window, bounds: Bounds) -> Option<f64> {
    let n = total(v);
    // (value, weight inside the window)
    let inside: Vec<(f64, f64)> = match bounds {
        Bounds::Percent(a, b) => {
            if w == Window::Winsorized {
                let lo = percentile(v, a.unwrap_or(0.0));
                let hi = percentile(v, b.unwrap_or(100.0));
                let s: f64 = v.iter().map(|(x, wt)| x.clamp(lo, hi) * wt).sum();
                return Some(s / n);
            }
            let lo = a.unwrap_or(0.0) / 100.0 * n;
            let hi = b.unwrap_or(100.0) / 100.0 * n;
            let mut c = 0.0;
            v.iter()
                .map(|(x, wt)| {
                    let (s, e) = (c, c + wt);
                    c = e;
                    (*x, (e.min(hi) - s.max(lo)).max(0.0))
                })
                .collect()
        }
        Bounds::Absolute(a, b) => v
            .iter()
            .map(|(x, wt)| {
                let ok = a.is_none_or(|a| *x > a) && b.is_none_or(|b| *x <= b);
                (*x, if ok { *wt } else { 0.0 })
            })
            .collect(),
    };
    let count: f64 = inside.iter().map(|(_, w)| w).sum();
    let sum: f64 = inside.iter().map(|(x, w)| x * w).sum();
    match w {
        Window::Count => Some(count),
        Window::Sum => Some(sum),
        Window::PercentRank => Some(if n > 0.0 { count / n * 100.0 } else { 0.0 }),
        Window::Mean | Window::Winsorized => (count > 0.0).then(|| sum / count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hostwatch_model::DatumValue;

    fn bucket(values: &[f64]) -> Bucket {
        let mut b = Bucket::default();
        for v in values {
            b.add(&DatumValue::Single(*v));
        }
        b
    }

    fn eval(s: &str, b: &Bucket) -> Option<f64> {
        Stat::parse(s)
            .unwrap_or_else(|| panic!("{s} should parse"))
            .eval(b)
    }

    #[test]
    fn grammar() {
        for ok in [
            "Sum",
            "p99",
            "p99.9",
            "p0",
            "p100",
            "p0.0000000001",
            "tm90",
            "tc10",
            "ts50",
            "wm99",
            "IQM",
            "TM(10%:90%)",
            "TM(:90%)",
            "TC(10%:)",
            "WM(5%:95%)",
            "PR(10:20)",
            "TS(:5)",
            "TM(-1:)",
            "p50.",
        ] {
            assert!(Stat::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "sum",
            "p101",
            "p",
            "p100.0",
            "p1.00000000001",
            "P50",
            "TM90",
            "tm(10%:90%)",
            "TM(10%:5)",
            "PR(10%:20%)",
            "TM(:)",
            "WM(1:2)",
            "TM(90%:10%)",
            "TM(2:1)",
            "XX(1:2)",
            "TM(10%:90%",
            "p-1",
        ] {
            assert!(Stat::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let b = bucket(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(eval("p0", &b), Some(1.0));
        assert_eq!(eval("p25", &b), Some(1.0));
        assert_eq!(eval("p50", &b), Some(2.0));
        assert_eq!(eval("p51", &b), Some(3.0));
        assert_eq!(eval("p100", &b), Some(4.0));
        let mut d = Bucket::default();
        d.add(&DatumValue::Distribution {
            values: vec![1.0, 10.0],
            counts: vec![2.0, 4.0],
            stats: None,
        });
        assert_eq!(eval("p33", &d), Some(1.0));
        assert_eq!(eval("p34", &d), Some(10.0));
    }

    #[test]
    fn trimmed_and_ranked_statistics() {
        let b = bucket(&(1..=10).map(f64::from).collect::<Vec<_>>());
        assert_eq!(eval("tm90", &b), Some(5.0));
        assert_eq!(eval("TM(10%:90%)", &b), Some(5.5));
        assert_eq!(eval("IQM", &b), Some(5.5));
        assert_eq!(eval("tc50", &b), Some(5.0));
        assert_eq!(eval("ts50", &b), Some(15.0));
        assert_eq!(eval("TC(2:5)", &b), Some(3.0), "lower bound exclusive");
        assert_eq!(eval("PR(:5)", &b), Some(50.0));
        assert_eq!(eval("WM(10%:90%)", &b), Some(5.4));
        assert_eq!(eval("wm80", &b), Some((36.0 + 8.0 * 2.0) / 10.0));
        assert_eq!(eval("TM(100:)", &b), None, "empty window has no mean");
        assert_eq!(eval("Average", &b), Some(5.5));
        assert_eq!(eval("Sum", &Bucket::default()), None, "empty bucket");
    }
}
