//! The `stats` command: aggregate functions, grouping and the result rows.
//!
//! Planning replaces each aggregate call inside a `stats` item with [`Expr::Agg`]`(i)`, so an
//! item may combine aggregates (`sum(a) / count(*)`) or, as the AWS examples do, refer to the
//! aliases of earlier items (`max(x) as hi, min(x) as lo, hi - lo as spread`).
//!
//! Semantics: `count(*)`/`count()` count rows, `count(f)` rows where `f` is present;
//! `count_distinct` is exact (AWS estimates it); `sum`, `avg`, `stddev` (sample, n-1) and
//! `pct(f, p)` (nearest rank over every value; AWS approximates) read numeric values and skip
//! others; `min`/`max` compare numbers numerically and fall back to the natural order for
//! text; `earliest`/`latest` take the value from the row with the smallest/largest
//! `@timestamp`, `sortsFirst`/`sortsLast` the first/last value in sort order. Groups come out in
//! ascending order of their `by` values.

use std::collections::{HashMap, HashSet};

use super::ast::{Expr, Item};
use super::error::QueryError;
use super::eval::eval;
use super::row::Row;
use super::value::Value;

/// `(min, max)` argument count of an aggregate function (lower-case name).
pub fn arity(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "count" => (0, 1),
        "pct" | "percentile" => (2, 2),
        "count_distinct" | "sum" | "avg" | "min" | "max" | "stddev" | "earliest" | "latest"
        | "sortsfirst" | "sortslast" => (1, 1),
        _ => return None,
    })
}

fn contains_agg(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if matches!(x, Expr::Call(n, _) if arity(n).is_some()) {
            found = true;
        }
    });
    found
}

fn walk(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Neg(a) | Expr::Not(a) => walk(a, f),
        Expr::Bin(_, a, b) => {
            walk(a, f);
            walk(b, f);
        }
        Expr::Like { expr, .. } => walk(expr, f),
        Expr::In { expr, list, .. } => {
            walk(expr, f);
            list.iter().for_each(|x| walk(x, f));
        }
        Expr::Call(_, args) => args.iter().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Parse-time checks: every item aggregates (or refers only to earlier items), `by` items do
/// not aggregate, aggregates do not nest.
pub fn check_items(items: &[Item], by: &[Item]) -> Result<(), QueryError> {
    let mut names: Vec<String> = Vec::new();
    for it in items {
        let mut nested = false;
        walk(&it.expr, &mut |x| {
            if let Expr::Call(n, args) = x {
                if arity(n).is_some() && args.iter().any(contains_agg) {
                    nested = true;
                }
            }
        });
        if nested {
            return Err(QueryError::whole(format!(
                "aggregate functions cannot be nested: {}",
                it.expr
            )));
        }
        if !contains_agg(&it.expr) {
            let mut ok = true;
            walk(&it.expr, &mut |x| {
                if let Expr::Field(f) = x {
                    ok &= names.contains(f);
                }
            });
            if !ok {
                return Err(QueryError::whole(format!(
                    "the stats expression {} must use an aggregate function",
                    it.expr
                )));
            }
        }
        names.push(it.name());
    }
    if let Some(b) = by.iter().find(|b| contains_agg(&b.expr)) {
        return Err(QueryError::whole(format!(
            "aggregate functions cannot be used in the by clause: {}",
            b.expr
        )));
    }
    Ok(())
}

/// One aggregate to compute.
#[derive(Debug, Clone)]
pub struct AggSpec {
    pub func: String,
    pub args: Vec<Expr>,
}

/// A planned `stats` command.
#[derive(Debug, Clone)]
pub struct StatsPlan {
    pub aggs: Vec<AggSpec>,
    /// Items with aggregate calls replaced by [`Expr::Agg`], and their output names.
    pub items: Vec<(String, Expr)>,
    pub by: Vec<(String, Expr)>,
}

impl StatsPlan {
    pub fn new(items: &[Item], by: &[Item]) -> Self {
        let mut aggs = Vec::new();
        let items = items
            .iter()
            .map(|it| (it.name(), extract(&it.expr, &mut aggs)))
            .collect();
        let by = by.iter().map(|b| (b.name(), b.expr.clone())).collect();
        StatsPlan { aggs, items, by }
    }

    /// Names of the result fields: the `by` fields, then the items.
    pub fn output_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by.iter().map(|(n, _)| n.clone()).collect();
        for (n, _) in &self.items {
            if !v.contains(n) {
                v.push(n.clone());
            }
        }
        v
    }
}

fn extract(e: &Expr, aggs: &mut Vec<AggSpec>) -> Expr {
    let b = |x: &Expr, aggs: &mut Vec<AggSpec>| Box::new(extract(x, aggs));
    match e {
        Expr::Call(n, args) if arity(n).is_some() => {
            aggs.push(AggSpec {
                func: n.clone(),
                args: args.clone(),
            });
            Expr::Agg(aggs.len() - 1)
        }
        Expr::Call(n, args) => {
            Expr::Call(n.clone(), args.iter().map(|a| extract(a, aggs)).collect())
        }
        Expr::Neg(a) => Expr::Neg(b(a, aggs)),
        Expr::Not(a) => Expr::Not(b(a, aggs)),
        Expr::Bin(op, x, y) => Expr::Bin(*op, b(x, aggs), b(y, aggs)),
        other => other.clone(),
    }
}

/// The running state of one aggregate in one group.
#[derive(Debug, Clone)]
enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum(f64, u64),
    Avg(f64, u64),
    Min(Value<'static>),
    Max(Value<'static>),
    /// Welford: n, mean, m2.
    Stddev(u64, f64, f64),
    Pct(Vec<f64>, f64),
    Earliest(Option<(i64, Value<'static>)>),
    Latest(Option<(i64, Value<'static>)>),
    SortsFirst(Value<'static>),
    SortsLast(Value<'static>),
}

impl Acc {
    fn new(spec: &AggSpec) -> Acc {
        match spec.func.as_str() {
            "count" => Acc::Count(0),
            "count_distinct" => Acc::Distinct(HashSet::new()),
            "sum" => Acc::Sum(0.0, 0),
            "avg" => Acc::Avg(0.0, 0),
            "min" => Acc::Min(Value::Null),
            "max" => Acc::Max(Value::Null),
            "stddev" => Acc::Stddev(0, 0.0, 0.0),
            "pct" | "percentile" => {
                let p = match spec.args.get(1) {
                    Some(Expr::Num(p)) => *p,
                    _ => 50.0,
                };
                Acc::Pct(Vec::new(), p)
            }
            "earliest" => Acc::Earliest(None),
            "latest" => Acc::Latest(None),
            "sortsfirst" => Acc::SortsFirst(Value::Null),
            _ => Acc::SortsLast(Value::Null),
        }
    }

    fn update(&mut self, spec: &AggSpec, row: &Row<'_>) {
        let arg = || match spec.args.first() {
            None | Some(Expr::Star) => Value::Bool(true),
            Some(e) => eval(e, row, &[]),
        };
        match self {
            Acc::Count(n) => {
                if !arg().is_null() {
                    *n += 1;
                }
            }
            Acc::Distinct(set) => {
                let v = arg();
                if !v.is_null() && !set.contains(v.text().as_ref()) {
                    set.insert(v.text().into_owned());
                }
            }
            Acc::Sum(s, n) | Acc::Avg(s, n) => {
                if let Some(x) = arg().as_num() {
                    *s += x;
                    *n += 1;
                }
            }
            Acc::Min(m) | Acc::SortsFirst(m) => {
                let v = arg();
                if !v.is_null() && (m.is_null() || v.sort_cmp(m).is_lt()) {
                    *m = v.into_owned();
                }
            }
            Acc::Max(m) | Acc::SortsLast(m) => {
                let v = arg();
                if !v.is_null() && (m.is_null() || v.sort_cmp(m).is_gt()) {
                    *m = v.into_owned();
                }
            }
            Acc::Stddev(n, mean, m2) => {
                if let Some(x) = arg().as_num() {
                    *n += 1;
                    let d = x - *mean;
                    *mean += d / *n as f64;
                    *m2 += d * (x - *mean);
                }
            }
            Acc::Pct(vals, _) => {
                if let Some(x) = arg().as_num() {
                    vals.push(x);
                }
            }
            Acc::Earliest(best) | Acc::Latest(best) => {
                let earliest = spec.func == "earliest";
                let (Some(ts), v) = (row.timestamp(), arg()) else {
                    return;
                };
                if v.is_null() {
                    return;
                }
                let better = match best {
                    None => true,
                    Some((b, _)) => (earliest && ts < *b) || (!earliest && ts >= *b),
                };
                if better {
                    *best = Some((ts, v.into_owned()));
                }
            }
        }
    }

    fn finish(self) -> Value<'static> {
        match self {
            Acc::Count(n) => Value::Num(n as f64),
            Acc::Distinct(s) => Value::Num(s.len() as f64),
            Acc::Sum(_, 0) | Acc::Avg(_, 0) => Value::Null,
            Acc::Sum(s, _) => Value::Num(s),
            Acc::Avg(s, n) => Value::Num(s / n as f64),
            Acc::Min(v) | Acc::Max(v) | Acc::SortsFirst(v) | Acc::SortsLast(v) => v,
            Acc::Stddev(n, _, _) if n < 2 => {
                if n == 1 {
                    Value::Num(0.0)
                } else {
                    Value::Null
                }
            }
            Acc::Stddev(n, _, m2) => Value::Num((m2 / (n - 1) as f64).sqrt()),
            Acc::Pct(mut vals, p) => {
                if vals.is_empty() {
                    return Value::Null;
                }
                vals.sort_by(f64::total_cmp);
                let rank = ((p / 100.0) * vals.len() as f64).ceil() as usize;
                Value::Num(vals[rank.clamp(1, vals.len()) - 1])
            }
            Acc::Earliest(b) | Acc::Latest(b) => b.map_or(Value::Null, |(_, v)| v),
        }
    }
}

/// A hashable group key part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyPart {
    Null,
    Str(String),
    Num(u64),
    Time(i64),
    Bool(bool),
}

impl KeyPart {
    fn of(v: Value<'_>) -> KeyPart {
        match v {
            Value::Null => KeyPart::Null,
            Value::Str(s) => KeyPart::Str(s.into_owned()),
            Value::Num(n) => KeyPart::Num((n + 0.0).to_bits()),
            Value::Time(t) => KeyPart::Time(t),
            Value::Bool(b) => KeyPart::Bool(b),
        }
    }

    fn value(&self) -> Value<'static> {
        match self {
            KeyPart::Null => Value::Null,
            KeyPart::Str(s) => Value::Str(s.clone().into()),
            KeyPart::Num(b) => Value::Num(f64::from_bits(*b)),
            KeyPart::Time(t) => Value::Time(*t),
            KeyPart::Bool(b) => Value::Bool(*b),
        }
    }
}

/// Groups and their accumulators for one `stats` command.
#[derive(Debug, Clone)]
pub struct StatsAcc {
    plan: StatsPlan,
    groups: HashMap<Vec<KeyPart>, Vec<Acc>>,
    fresh: Vec<Acc>,
    /// The current row's key, reused so a lookup allocates nothing for non-text keys.
    scratch: Vec<KeyPart>,
}

impl StatsAcc {
    pub fn new(plan: StatsPlan) -> Self {
        let fresh = plan.aggs.iter().map(Acc::new).collect();
        StatsAcc {
            plan,
            groups: HashMap::new(),
            fresh,
            scratch: Vec::new(),
        }
    }

    /// Names of the result fields.
    pub fn output_names(&self) -> Vec<String> {
        self.plan.output_names()
    }

    /// Number of groups so far.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// Add one row.
    pub fn push(&mut self, row: &Row<'_>) {
        self.scratch.clear();
        for (_, e) in &self.plan.by {
            self.scratch.push(KeyPart::of(eval(e, row, &[])));
        }
        if let Some(accs) = self.groups.get_mut(self.scratch.as_slice()) {
            for (acc, spec) in accs.iter_mut().zip(&self.plan.aggs) {
                acc.update(spec, row);
            }
            return;
        }
        let mut accs = self.fresh.clone();
        for (acc, spec) in accs.iter_mut().zip(&self.plan.aggs) {
            acc.update(spec, row);
        }
        self.groups.insert(self.scratch.clone(), accs);
    }

    /// The result rows, in ascending order of their group values. A query without `by` over no
    /// rows still yields one row (`count(*)` = 0).
    pub fn finish(mut self) -> Vec<Row<'static>> {
        if self.plan.by.is_empty() && self.groups.is_empty() {
            self.groups.insert(Vec::new(), self.fresh.clone());
        }
        let mut groups: Vec<(Vec<KeyPart>, Vec<Acc>)> = self.groups.into_iter().collect();
        groups.sort_by(|(a, _), (b, _)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x.value().sort_cmp(&y.value()))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let plan = self.plan;
        groups
            .into_iter()
            .map(|(key, accs)| {
                let aggs: Vec<Value<'static>> = accs.into_iter().map(Acc::finish).collect();
                let mut row = Row::computed(Vec::new());
                for ((name, _), k) in plan.by.iter().zip(&key) {
                    row.put(name, k.value());
                }
                for (name, e) in &plan.items {
                    let v = eval(e, &row, &aggs).into_owned();
                    row.put(name, v);
                }
                row
            })
            .collect()
    }
}
