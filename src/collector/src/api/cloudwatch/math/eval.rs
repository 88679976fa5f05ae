//! The evaluator: values of queries over one time window.
//!
//! Metric queries are fetched from a [`Source`] on first use (so `METRICS()` and references
//! share one read); expression queries are evaluated in dependency order ([`Program::order`])
//! and memoised. Series are aligned on each query's period grid: a metric query's grid starts
//! at the request's StartTime rounded as CloudWatch rounds it (see `period::round_start`); a
//! series an expression creates itself (`TIME_SERIES`, the empty result of `FIRST([])`) uses the
//! expression's `Period`, else the finest metric period of the request, else one minute.
//!
//! A *history* window (anomaly model training) aligns grids on the period and ignores the
//! retention rules that hide old data at fine periods.

use std::sync::Arc;

use super::super::period;
use super::ast::Expr;
use super::error::MathError;
use super::functions;
use super::ops;
use super::program::Program;
use super::query::{MetricQuery, QueryKind};
use super::value::{Grid, Ts, Value};
use crate::api::cloudwatch::anomaly::model::Model;

/// The time range of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    /// Exclusive.
    pub end_ms: i64,
    pub now_ms: i64,
    /// Model training over past data: plain period alignment, no retention rules.
    pub history: bool,
}

impl Window {
    /// The grid of a series with period `period_ms` over this window.
    pub fn grid(&self, period_ms: i64) -> Grid {
        let start = if self.history {
            self.start_ms.div_euclid(period_ms.max(1)) * period_ms.max(1)
        } else {
            period::round_start(self.start_ms, period_ms, self.now_ms)
        };
        Grid {
            start,
            end: self.end_ms,
            period: period_ms,
        }
    }
}

/// A metric query's datapoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    pub points: Vec<(i64, f64)>,
    /// `(Code, Value)` result messages (e.g. `MultipleUnits`).
    pub messages: Vec<(String, String)>,
}

/// What an anomaly band is computed for (to find its detector's configuration).
#[derive(Debug, Clone, Copy)]
pub enum BandTarget<'a> {
    Metric(&'a MetricQuery),
    Expression(&'a str),
    Other,
}

/// Where data and trained models come from.
pub trait Source {
    /// The statistic values of a metric query on `grid`; `history` skips retention rules.
    fn metric(
        &self,
        q: &MetricQuery,
        grid: Grid,
        history: bool,
        now_ms: i64,
    ) -> Result<Fetched, MathError>;
    /// Time ranges (inclusive, ms) excluded from training for `target`'s detector.
    fn exclusions(&self, target: BandTarget<'_>) -> Vec<(i64, i64)>;
    /// A model trained earlier under `key` (`Some(None)`: trained, no data).
    fn cached_model(&self, key: &str) -> Option<Option<Arc<Model>>>;
    /// Remember a trained model.
    fn store_model(&self, key: String, model: Option<Arc<Model>>);
}

/// A source without data (for checking expressions).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoData;

impl Source for NoData {
    fn metric(&self, _: &MetricQuery, _: Grid, _: bool, _: i64) -> Result<Fetched, MathError> {
        Ok(Fetched::default())
    }
    fn exclusions(&self, _: BandTarget<'_>) -> Vec<(i64, i64)> {
        Vec::new()
    }
    fn cached_model(&self, _: &str) -> Option<Option<Arc<Model>>> {
        Some(None)
    }
    fn store_model(&self, _: String, _: Option<Arc<Model>>) {}
}

/// Evaluates queries of a [`Program`] over a [`Window`].
pub struct Evaluator<'p> {
    pub prog: &'p Program<'p>,
    pub source: &'p dyn Source,
    pub window: Window,
    values: Vec<Option<Value>>,
    messages: Vec<Vec<(String, String)>>,
    /// The grid of series created by the expression being evaluated.
    grid: Grid,
}

impl<'p> Evaluator<'p> {
    pub fn new(prog: &'p Program<'p>, source: &'p dyn Source, window: Window) -> Self {
        let n = prog.queries.len();
        Evaluator {
            prog,
            source,
            window,
            values: vec![None; n],
            messages: vec![Vec::new(); n],
            grid: window.grid(prog.default_period_ms),
        }
    }

    /// Use `period_ms` for series created outside any expression query (a band's argument).
    pub fn with_period(mut self, period_ms: i64) -> Self {
        self.grid = self.window.grid(period_ms);
        self
    }

    /// The grid for series the current expression creates.
    pub fn grid(&self) -> Grid {
        self.grid
    }

    /// Whether query `i` is already evaluated.
    pub fn is_known(&self, i: usize) -> bool {
        self.values.get(i).is_some_and(Option::is_some)
    }

    /// Messages of query `i` (metric queries' `MultipleUnits`).
    pub fn messages(&self, i: usize) -> &[(String, String)] {
        self.messages.get(i).map_or(&[], Vec::as_slice)
    }

    /// The value of query `i` (evaluating what it depends on first).
    pub fn query(&mut self, i: usize) -> Result<Value, MathError> {
        if let Some(v) = self.values.get(i).and_then(Option::as_ref) {
            return Ok(v.clone());
        }
        let todo = {
            let values = &self.values;
            self.prog
                .order(i, &|j| values.get(j).is_some_and(Option::is_some))
        };
        for j in todo {
            let v = self.compute(j)?;
            self.values[j] = Some(v);
        }
        self.values
            .get(i)
            .and_then(Option::clone)
            .ok_or_else(|| MathError::Storage(format!("query {i} was not evaluated")))
    }

    /// Evaluate query `j`, whose expression dependencies are already evaluated.
    fn compute(&mut self, j: usize) -> Result<Value, MathError> {
        let prog = self.prog;
        let q = &prog.queries[j];
        let label = prog.labels[j].clone();
        match &q.kind {
            QueryKind::Metric(m) => {
                let grid = self.window.grid(m.period_s * 1000);
                let f = self
                    .source
                    .metric(m, grid, self.window.history, self.window.now_ms)?;
                self.messages[j] = f.messages;
                Ok(Value::Ts(Ts {
                    grid,
                    points: f.points,
                    label,
                }))
            }
            QueryKind::Expression(e) => {
                let Some(expr) = prog.expr(j) else {
                    return Err(MathError::Storage(format!("query {} is not parsed", q.id)));
                };
                let period_ms = e.period_s.map_or(prog.default_period_ms, |p| p * 1000);
                let saved = std::mem::replace(&mut self.grid, self.window.grid(period_ms));
                let v = self.value(expr);
                self.grid = saved;
                Ok(match v? {
                    Value::Ts(mut s) => {
                        s.label = label;
                        Value::Ts(s)
                    }
                    other => other,
                })
            }
        }
    }

    /// Evaluate an expression node.
    pub fn value(&mut self, e: &Expr) -> Result<Value, MathError> {
        match e {
            Expr::Num { value, .. } => Ok(Value::Scalar(*value)),
            Expr::Id { name, pos } => match self.prog.lookup(name) {
                Some(i) => self.query(i),
                None => Err(MathError::UnknownId {
                    name: name.clone(),
                    pos: *pos,
                }),
            },
            Expr::Str { pos, .. } => Err(MathError::Unexpected {
                what: "string".into(),
                pos: *pos,
            }),
            Expr::Keyword { name, pos } => Err(MathError::Unexpected {
                what: format!("keyword {name}"),
                pos: *pos,
            }),
            Expr::Neg { expr, .. } => Ok(ops::negate(self.value(expr)?)),
            Expr::Binary { op, lhs, rhs, .. } => {
                let a = self.value(lhs)?;
                let b = self.value(rhs)?;
                ops::binary(*op, a, b)
            }
            Expr::Array { items, .. } => {
                let mut out = Vec::new();
                for item in items {
                    match self.value(item)? {
                        Value::Ts(s) => out.push(s),
                        Value::Array(a) => out.extend(a),
                        Value::Scalar(_) => {
                            let types: Vec<&str> =
                                items.iter().map(|i| self.static_type(i)).collect();
                            return Err(MathError::types("[]", &types));
                        }
                    }
                }
                Ok(Value::Array(out))
            }
            Expr::Call { name, args, pos } => functions::call(self, name, args, *pos),
        }
    }

    /// A best-effort type name of a node for messages (no evaluation errors).
    fn static_type(&mut self, e: &Expr) -> &'static str {
        self.value(e).map_or("Unknown", |v| v.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_grids() {
        let live = Window {
            start_ms: 125_000,
            end_ms: 600_000,
            now_ms: 600_000,
            history: false,
        };
        assert_eq!(live.grid(60_000).start, 120_000);
        assert_eq!(live.grid(10_000).start, 120_000);
        let hist = Window {
            history: true,
            ..live
        };
        assert_eq!(hist.grid(300_000).start, 0);
        assert_eq!(hist.grid(10_000).start, 120_000);
    }
}
