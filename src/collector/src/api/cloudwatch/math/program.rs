//! A request's queries prepared for evaluation: expressions parsed, ids resolved, cycles
//! rejected, labels settled.
//!
//! Checks, in query order (the first failure is reported, naming its query):
//! 1. every expression parses (syntax errors carry their position);
//! 2. every id an expression uses names a query of the request (`Unrecognized identifier`);
//! 3. expressions do not reference each other in a cycle (`Circular reference: e1 -> e2 -> e1`).
//!
//! Evaluation order is derived from the reference graph, so a long chain of expressions never
//! recurses deeply.

use hostwatch_aws::ApiError;
use std::collections::HashMap;

use super::super::label::default_labels;
use super::ast::Expr;
use super::error::MathError;
use super::parser::parse;
use super::query::{DataQuery, QueryKind};

/// Default period of series created by an expression when neither the expression nor any
/// metric query of the request sets one.
const DEFAULT_PERIOD_MS: i64 = 60_000;

/// Parsed, checked queries.
#[derive(Debug)]
pub struct Program<'q> {
    pub queries: &'q [DataQuery],
    /// The parsed expression of each expression query (`None` for metric queries).
    exprs: Vec<Option<Expr>>,
    index: HashMap<&'q str, usize>,
    /// The label of each query: its `Label`, else CloudWatch's default.
    pub labels: Vec<String>,
    /// Finest period of the request's metric queries, else one minute.
    pub default_period_ms: i64,
}

impl<'q> Program<'q> {
    /// Parse and check `queries`.
    pub fn compile(queries: &'q [DataQuery]) -> Result<Program<'q>, ApiError> {
        let defaults = default_labels(queries);
        let labels = queries
            .iter()
            .zip(defaults)
            .map(|(q, d)| q.label.clone().unwrap_or(d))
            .collect();
        let index: HashMap<&str, usize> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id.as_str(), i))
            .collect();
        let mut exprs = Vec::with_capacity(queries.len());
        for q in queries {
            exprs.push(match &q.kind {
                QueryKind::Expression(e) => {
                    Some(parse_query(&e.text).map_err(|err| err.into_api(&q.id))?)
                }
                QueryKind::Metric(_) => None,
            });
        }
        let default_period_ms = queries
            .iter()
            .filter_map(|q| match &q.kind {
                QueryKind::Metric(m) => Some(m.period_s * 1000),
                QueryKind::Expression(_) => None,
            })
            .min()
            .unwrap_or(DEFAULT_PERIOD_MS);
        let p = Program {
            queries,
            exprs,
            index,
            labels,
            default_period_ms,
        };
        p.check_ids()?;
        p.check_cycles()?;
        Ok(p)
    }

    /// The index of query `id`.
    pub fn lookup(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The parsed expression of query `i`, if it is an expression query.
    pub fn expr(&self, i: usize) -> Option<&Expr> {
        self.exprs.get(i).and_then(Option::as_ref)
    }

    /// Indexes of the metric queries, in request order.
    pub fn metric_indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.queries
            .iter()
            .enumerate()
            .filter(|(_, q)| matches!(q.kind, QueryKind::Metric(_)))
            .map(|(i, _)| i)
    }

    fn check_ids(&self) -> Result<(), ApiError> {
        for (i, e) in self.exprs.iter().enumerate() {
            let Some(e) = e else { continue };
            for (name, pos) in e.ids() {
                if !self.index.contains_key(name) {
                    let err = MathError::UnknownId {
                        name: name.to_string(),
                        pos,
                    };
                    return Err(err.into_api(&self.queries[i].id));
                }
            }
        }
        Ok(())
    }

    /// Expression queries referenced directly by query `i`.
    fn deps(&self, i: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .expr(i)
            .map(|e| {
                e.ids()
                    .into_iter()
                    .filter_map(|(n, _)| self.lookup(n))
                    .filter(|j| self.expr(*j).is_some())
                    .collect()
            })
            .unwrap_or_default();
        out.dedup();
        out
    }

    /// [`Program::deps`] reversed, so that popping visits them in order of appearance.
    fn pending(&self, i: usize) -> Vec<usize> {
        let mut d = self.deps(i);
        d.reverse();
        d
    }

    fn check_cycles(&self) -> Result<(), ApiError> {
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; self.queries.len()];
        for root in 0..self.queries.len() {
            if state[root] != 0 || self.expr(root).is_none() {
                continue;
            }
            let mut stack: Vec<(usize, Vec<usize>)> = vec![(root, self.pending(root))];
            state[root] = 1;
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some(next) if state[next] == 1 => {
                        let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        let mut path: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(n, _)| self.queries[*n].id.as_str())
                            .collect();
                        path.push(&self.queries[next].id);
                        let err = MathError::Cycle(path.join(" -> "));
                        return Err(err.into_api(&self.queries[next].id));
                    }
                    Some(next) if state[next] == 0 => {
                        state[next] = 1;
                        stack.push((next, self.pending(next)));
                    }
                    Some(_) => {}
                    None => {
                        state[node] = 2;
                        stack.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// Query `i` and the expression queries it depends on, dependencies first, leaving out
    /// (and not looking behind) those for which `known` holds. Linear in the part visited.
    pub fn order(&self, i: usize, known: &dyn Fn(usize) -> bool) -> Vec<usize> {
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; self.queries.len()];
        let mut out = Vec::new();
        if known(i) {
            return out;
        }
        state[i] = 1;
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(i, self.pending(i))];
        while let Some((node, pending)) = stack.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(next) if state[next] == 0 && !known(next) => {
                    state[next] = 1;
                    stack.push((next, self.pending(next)));
                }
                Some(_) => {}
                None => {
                    state[node] = 2;
                    out.push(node);
                    stack.pop();
                }
            }
        }
        out
    }

    /// Every query an expression depends on, directly or through other expressions (all
    /// metric queries when `METRICS()` appears), ascending.
    pub fn closure(&self, e: &Expr) -> Vec<usize> {
        let mut seen = vec![false; self.queries.len()];
        let mut todo: Vec<&Expr> = vec![e];
        let mut metrics_all = false;
        while let Some(x) = todo.pop() {
            metrics_all |= x.calls("METRICS");
            for (name, _) in x.ids() {
                if let Some(j) = self.lookup(name) {
                    if !seen[j] {
                        seen[j] = true;
                        if let Some(sub) = self.expr(j) {
                            todo.push(sub);
                        }
                    }
                }
            }
        }
        if metrics_all {
            for j in self.metric_indexes() {
                seen[j] = true;
            }
        }
        (0..seen.len()).filter(|j| seen[*j]).collect()
    }

    /// Whether `e` calls `name`, directly or through the expressions it references.
    pub fn uses(&self, e: &Expr, name: &str) -> bool {
        e.calls(name)
            || self
                .closure(e)
                .into_iter()
                .any(|j| self.expr(j).is_some_and(|x| x.calls(name)))
    }
}

/// Parse an expression query; Metrics Insights (SQL) queries are refused by name.
fn parse_query(text: &str) -> Result<Expr, MathError> {
    let head: String = text.trim_start().chars().take(7).collect();
    if head.eq_ignore_ascii_case("SELECT ") {
        return Err(MathError::Unsupported(
            "Metrics Insights queries (SELECT ...) are".into(),
        ));
    }
    parse(text)
}

#[cfg(test)]
mod tests {
    use super::super::query::ExpressionQuery;
    use super::*;

    fn expr(id: &str, text: &str) -> DataQuery {
        DataQuery {
            id: id.into(),
            label: None,
            return_data: true,
            kind: QueryKind::Expression(ExpressionQuery {
                text: text.into(),
                period_s: None,
            }),
        }
    }

    fn msg(qs: &[DataQuery]) -> String {
        Program::compile(qs)
            .err()
            .and_then(|e| e.message)
            .unwrap_or_default()
    }

    #[test]
    fn validation_error_table() {
        let cases: Vec<(Vec<DataQuery>, &str)> = vec![
            (
                vec![expr("e1", "1 +")],
                "Error in expression e1: Syntax error at position 4",
            ),
            (
                vec![expr("e1", "TIME_SERIES(1)"), expr("e2", "e1 + m9")],
                "Error in expression e2: Unrecognized identifier m9 at position 6",
            ),
            (
                vec![expr("e1", "e1 + 1")],
                "Error in expression e1: Circular reference: e1 -> e1",
            ),
            (
                vec![
                    expr("e1", "e2 * 2"),
                    expr("e2", "e3 + 1"),
                    expr("e3", "SUM([e1, e2])"),
                ],
                "Error in expression e1: Circular reference: e1 -> e2 -> e3 -> e1",
            ),
        ];
        for (qs, want) in cases {
            assert_eq!(msg(&qs), want);
        }
    }

    #[test]
    fn order_puts_dependencies_first() {
        let qs = vec![
            expr("e1", "e2 + e3"),
            expr("e2", "e3 * 2"),
            expr("e3", "TIME_SERIES(1)"),
            expr("e4", "e1"),
        ];
        let p = Program::compile(&qs).unwrap();
        assert_eq!(p.order(3, &|_| false), vec![2, 1, 0, 3]);
        assert_eq!(p.order(2, &|_| false), vec![2]);
        assert_eq!(p.order(3, &|j| j == 1), vec![2, 0, 3]);
        assert!(p.order(3, &|_| true).is_empty());
        let e4 = p.expr(3).unwrap();
        assert_eq!(p.closure(e4), vec![0, 1, 2]);
        assert!(!p.uses(e4, "METRICS"));
        assert!(p.uses(e4, "TIME_SERIES"));
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let mut qs = vec![expr("e0", "TIME_SERIES(0)")];
        for i in 1..500 {
            qs.push(expr(&format!("e{i}"), &format!("e{} + 1", i - 1)));
        }
        let p = Program::compile(&qs).unwrap();
        assert_eq!(p.order(499, &|_| false).len(), 500);
    }
}
