//! Runtime values of metric math: scalars (S), time series (TS) and arrays of them (TS[]).
//!
//! A [`Ts`] lives on a [`Grid`]: the period and the range `[start, end)` of the query that
//! produced it; its datapoints sit on grid timestamps `start + k × period`. Functions that
//! create non-sparse series (`TIME_SERIES`, `FILL`, `MINUTE`, ...) fill every grid timestamp.
//!
//! Invariants of `Ts::points`: ascending, unique timestamps, finite values. Operations that
//! would produce a non-finite value (division by zero, `LOG(0)`, overflow) drop that datapoint,
//! as CloudWatch drops a point whose computation divides by zero. A scalar may be NaN, meaning
//! "no value" (for example `AVG` of an empty series); combined with a series it yields no
//! datapoints.

use super::error::MathError;

/// Most datapoints a function may generate for one series (guards against huge ranges with
/// tiny periods).
pub const MAX_GRID_POINTS: usize = 1_000_000;

/// The time grid of a series: period and range, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    pub start: i64,
    /// Exclusive.
    pub end: i64,
    pub period: i64,
}

impl Grid {
    /// Number of grid timestamps.
    pub fn len(&self) -> usize {
        if self.period <= 0 || self.end <= self.start {
            return 0;
        }
        usize::try_from((self.end - self.start + self.period - 1) / self.period)
            .unwrap_or(usize::MAX)
    }

    /// Every grid timestamp, or `TooManyPoints` when there are more than [`MAX_GRID_POINTS`].
    pub fn timestamps(&self) -> Result<Vec<i64>, MathError> {
        let n = self.len();
        if n > MAX_GRID_POINTS {
            return Err(MathError::TooManyPoints(MAX_GRID_POINTS));
        }
        Ok((0..n as i64)
            .map(|k| self.start + k * self.period)
            .collect())
    }

    /// The grid of a combination of two series: the finer period over both ranges.
    pub fn combine(self, other: Grid) -> Grid {
        Grid {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
            period: if other.period < self.period {
                other.period
            } else {
                self.period
            },
        }
    }
}

/// One time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Ts {
    pub grid: Grid,
    /// `(timestamp ms, value)`, ascending, finite.
    pub points: Vec<(i64, f64)>,
    /// The label this series carries into an array result.
    pub label: String,
}

impl Ts {
    /// An empty series on `grid`.
    pub fn empty(grid: Grid, label: impl Into<String>) -> Ts {
        Ts {
            grid,
            points: Vec::new(),
            label: label.into(),
        }
    }

    /// A series with the same grid and label and other points (non-finite values dropped).
    pub fn with_points(&self, points: impl IntoIterator<Item = (i64, f64)>) -> Ts {
        Ts {
            grid: self.grid,
            points: points.into_iter().filter(|(_, v)| v.is_finite()).collect(),
            label: self.label.clone(),
        }
    }

    /// Apply `f` to every value.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Ts {
        self.with_points(self.points.iter().map(|(t, v)| (*t, f(*v))))
    }

    /// The values only.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.points.iter().map(|(_, v)| *v)
    }

    /// The value at `t`, if present.
    pub fn at(&self, t: i64) -> Option<f64> {
        self.points
            .binary_search_by_key(&t, |(ts, _)| *ts)
            .ok()
            .and_then(|i| self.points.get(i))
            .map(|(_, v)| *v)
    }
}

/// A value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Ts(Ts),
    Array(Vec<Ts>),
}

impl Value {
    /// The type name CloudWatch uses in its messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar(_) => "Scalar",
            Value::Ts(_) => "TimeSeries",
            Value::Array(_) => "Array[TimeSeries]",
        }
    }
}

/// Walk the union of two series' timestamps: `(t, a(t), b(t))`.
pub fn union(a: &[(i64, f64)], b: &[(i64, f64)]) -> Vec<(i64, Option<f64>, Option<f64>)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i), b.get(j)) {
            (Some(&(ta, va)), Some(&(tb, vb))) => {
                if ta == tb {
                    out.push((ta, Some(va), Some(vb)));
                    i += 1;
                    j += 1;
                } else if ta < tb {
                    out.push((ta, Some(va), None));
                    i += 1;
                } else {
                    out.push((tb, None, Some(vb)));
                    j += 1;
                }
            }
            (Some(&(ta, va)), None) => {
                out.push((ta, Some(va), None));
                i += 1;
            }
            (None, Some(&(tb, vb))) => {
                out.push((tb, None, Some(vb)));
                j += 1;
            }
            (None, None) => return out,
        }
    }
}

/// The sorted union of the timestamps of several series.
pub fn all_timestamps(series: &[Ts]) -> Vec<i64> {
    let mut ts: Vec<i64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(t, _)| *t))
        .collect();
    ts.sort_unstable();
    ts.dedup();
    ts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids() {
        let g = Grid {
            start: 0,
            end: 250,
            period: 100,
        };
        assert_eq!(g.len(), 3);
        assert_eq!(g.timestamps().unwrap(), vec![0, 100, 200]);
        let fine = Grid {
            start: 50,
            end: 400,
            period: 10,
        };
        assert_eq!(
            g.combine(fine),
            Grid {
                start: 0,
                end: 400,
                period: 10
            }
        );
        let huge = Grid {
            start: 0,
            end: i64::MAX / 2,
            period: 1,
        };
        assert_eq!(
            huge.timestamps(),
            Err(MathError::TooManyPoints(MAX_GRID_POINTS))
        );
        assert_eq!(
            Grid {
                start: 5,
                end: 5,
                period: 1
            }
            .len(),
            0
        );
    }

    #[test]
    fn union_walks_both() {
        let a = [(1, 1.0), (3, 3.0)];
        let b = [(2, 20.0), (3, 30.0), (4, 40.0)];
        assert_eq!(
            union(&a, &b),
            vec![
                (1, Some(1.0), None),
                (2, None, Some(20.0)),
                (3, Some(3.0), Some(30.0)),
                (4, None, Some(40.0))
            ]
        );
    }
}
