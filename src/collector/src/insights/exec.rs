//! Running a query: events stream through the leading per-row commands into an aggregation
//! or a bounded row buffer; the rest of the pipeline runs on the (small) materialised rows.
//!
//! * Per-row commands (`fields`, `filter`, `parse`, `display`, `unmask`) before the first
//!   `stats`, `sort`, `limit` or `dedup` run on each event as it is read, borrowing its
//!   message; nothing is copied for events that are filtered out or only aggregated.
//! * If that first command is `stats`, events are aggregated as they stream. Otherwise the
//!   surviving rows are kept; when the pipeline goes on with a sort and then a `limit` (or
//!   ends, so that only the result limit matters), only the best rows are kept: the buffer is
//!   sorted and cut back whenever it holds twice the rows needed.
//! * A pipeline over events that never sorts gets the default order, newest first
//!   (`@timestamp desc`), before its first `limit` or `dedup` and at the end, as AWS documents
//!   for `dedup`.
//! * Which fields a result row shows: all of them (built-in, discovered, extracted) until the
//!   first `fields`/`display`/`stats`; `fields` adds to the shown fields, `display` replaces
//!   them (the last one wins), `stats` shows its `by` fields and then its aggregates. Event
//!   rows also carry `@ptr`. Absent (null) fields are left out of a row, as AWS does.

use std::cmp::Ordering;

use super::ast::{Command, Expr, Item, Pattern, Query, SortKey};
use super::eval::eval;
use super::row::{Event, Row};
use super::stats::{StatsAcc, StatsPlan};
use super::value::Value;

/// Counters AWS reports in `statistics`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Statistics {
    pub records_matched: u64,
    pub records_scanned: u64,
    pub bytes_scanned: u64,
}

/// One result row: `(field, value)` pairs in display order.
pub type ResultRow = Vec<(String, String)>;

/// The finished output of a query.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub rows: Vec<ResultRow>,
    pub statistics: Statistics,
}

/// Which fields result rows show.
#[derive(Debug, Clone)]
enum Shown {
    All,
    Only(Vec<Item>),
}

#[derive(Debug, Clone)]
enum Sink {
    Stats(StatsAcc),
    Rows {
        rows: Vec<Row<'static>>,
        /// The order of the rows: an explicit `sort`, else the default order.
        order: Vec<SortKey>,
        /// `true` when `order` comes from a `sort` command (the rows must be sorted).
        explicit: bool,
        /// Keep only the first `n` rows in `order`.
        keep: Option<usize>,
    },
}

/// A query being run over a stream of events.
#[derive(Debug, Clone)]
pub struct Executor {
    head: Vec<Command>,
    tail: Vec<Command>,
    sink: Sink,
    max_rows: usize,
    sorted: bool,
    stats: Statistics,
}

fn default_order() -> Vec<SortKey> {
    vec![SortKey {
        expr: Expr::Field("@timestamp".into()),
        descending: true,
    }]
}

fn per_row(c: &Command) -> bool {
    matches!(
        c,
        Command::Fields(_)
            | Command::Display(_)
            | Command::Filter(_)
            | Command::Parse { .. }
            | Command::Unmask(_)
    )
}

impl Executor {
    /// Plan `query`; at most `max_rows` rows are returned (the StartQuery `limit`).
    pub fn new(query: &Query, max_rows: usize) -> Self {
        let split = query
            .commands
            .iter()
            .position(|c| !per_row(c))
            .unwrap_or(query.commands.len());
        let head = query.commands[..split].to_vec();
        let mut tail = query.commands[split..].to_vec();
        let mut sorted = false;
        let sink = match tail.first() {
            Some(Command::Stats { items, by }) => {
                let acc = StatsAcc::new(StatsPlan::new(items, by));
                tail.remove(0);
                sorted = true;
                Sink::Stats(acc)
            }
            first => {
                let order = match first {
                    Some(Command::Sort(keys)) => {
                        sorted = true;
                        keys.clone()
                    }
                    _ => default_order(),
                };
                let start = usize::from(matches!(first, Some(Command::Sort(_))));
                let mut keep = Some(max_rows);
                for c in &tail[start..] {
                    match c {
                        Command::Limit(n) => {
                            keep = Some((*n).min(max_rows));
                            break;
                        }
                        c if per_row(c) && !matches!(c, Command::Filter(_)) => {}
                        _ => {
                            keep = None;
                            break;
                        }
                    }
                }
                if let Some(Command::Sort(_)) = first {
                    tail.remove(0);
                }
                Sink::Rows {
                    rows: Vec::new(),
                    order,
                    explicit: sorted,
                    keep,
                }
            }
        };
        Executor {
            head,
            tail,
            sink,
            max_rows,
            sorted,
            stats: Statistics::default(),
        }
    }

    /// Statistics so far.
    pub fn statistics(&self) -> Statistics {
        self.stats
    }

    /// Rows (or `stats` groups) held so far: what a [`Executor::snapshot`] copies.
    pub fn held(&self) -> usize {
        match &self.sink {
            Sink::Stats(acc) => acc.groups(),
            Sink::Rows { rows, .. } => rows.len(),
        }
    }

    /// The result as if the events fed so far were all of them: the partial results of a
    /// query that is still running. Costs a copy of the [`Executor::held`] rows or groups;
    /// the executor itself goes on unchanged.
    pub fn snapshot(&self) -> Output {
        self.clone().finish()
    }

    /// Feed one event.
    pub fn push(&mut self, event: Event<'_>) {
        self.stats.records_scanned += 1;
        self.stats.bytes_scanned += event.message.len() as u64;
        let mut row = Row::from_event(event);
        for c in &self.head {
            if !apply_row(c, &mut row) {
                return;
            }
        }
        self.stats.records_matched += 1;
        match &mut self.sink {
            Sink::Stats(acc) => acc.push(&row),
            Sink::Rows {
                rows, order, keep, ..
            } => {
                rows.push(row.into_owned());
                if let Some(n) = keep {
                    if rows.len() >= 2 * (*n).max(512) {
                        sort_rows(rows, order);
                        rows.truncate(*n);
                    }
                }
            }
        }
    }

    /// Run the rest of the pipeline and render the result rows.
    pub fn finish(self) -> Output {
        let mut shown = Shown::All;
        for c in &self.head {
            note_shown(c, &mut shown);
        }
        let mut sorted = self.sorted;
        let mut rows = match self.sink {
            Sink::Stats(acc) => {
                shown = stats_shown(&acc);
                acc.finish()
            }
            Sink::Rows {
                mut rows,
                order,
                explicit,
                keep,
            } => {
                if explicit || keep.is_some() {
                    sort_rows(&mut rows, &order);
                }
                if let Some(n) = keep {
                    rows.truncate(n);
                }
                rows
            }
        };
        for c in &self.tail {
            match c {
                Command::Stats { items, by } => {
                    let mut acc = StatsAcc::new(StatsPlan::new(items, by));
                    rows.iter().for_each(|r| acc.push(r));
                    shown = stats_shown(&acc);
                    rows = acc.finish();
                    sorted = true;
                }
                Command::Sort(keys) => {
                    sort_rows(&mut rows, keys);
                    sorted = true;
                }
                Command::Limit(n) => {
                    if !sorted {
                        sort_rows(&mut rows, &default_order());
                        sorted = true;
                    }
                    rows.truncate(*n);
                }
                Command::Dedup(fields) => {
                    if !sorted {
                        sort_rows(&mut rows, &default_order());
                        sorted = true;
                    }
                    dedup(&mut rows, fields);
                }
                c => {
                    note_shown(c, &mut shown);
                    rows.retain_mut(|r| apply_row(c, r));
                }
            }
        }
        if !sorted {
            sort_rows(&mut rows, &default_order());
        }
        rows.truncate(self.max_rows);
        Output {
            rows: rows.iter().map(|r| render(r, &shown)).collect(),
            statistics: self.stats,
        }
    }
}

/// After a stats command the shown fields are its output fields.
fn stats_shown(acc: &StatsAcc) -> Shown {
    Shown::Only(
        acc.output_names()
            .into_iter()
            .map(|n| Item {
                expr: Expr::Field(n),
                alias: None,
            })
            .collect(),
    )
}

fn note_shown(c: &Command, shown: &mut Shown) {
    match c {
        Command::Fields(items) => match shown {
            Shown::All => *shown = Shown::Only(items.clone()),
            Shown::Only(v) => v.extend(items.iter().cloned()),
        },
        Command::Display(items) => *shown = Shown::Only(items.clone()),
        _ => {}
    }
}

/// Apply a per-row command; `false` drops the row.
fn apply_row(c: &Command, row: &mut Row<'_>) -> bool {
    match c {
        Command::Filter(e) => eval(e, row, &[]).truthy(),
        Command::Fields(items) | Command::Display(items) => {
            for it in items {
                if it.alias.is_some() || !matches!(it.expr, Expr::Field(_)) {
                    let v = eval(&it.expr, row, &[]).into_owned();
                    row.put(&it.name(), v);
                }
            }
            true
        }
        Command::Parse { field, pattern } => {
            let src = eval(field, row, &[]).text().into_owned();
            let (regex, names, by_index) = match pattern {
                Pattern::Glob { regex, names } => (regex, names, true),
                Pattern::Regex { regex, names } => (regex, names, false),
            };
            if let Some(caps) = regex.captures(&src) {
                for (i, name) in names.iter().enumerate() {
                    let m = if by_index {
                        caps.get(i + 1)
                    } else {
                        caps.name(name)
                    };
                    if let Some(m) = m {
                        row.put(name, Value::Str(m.as_str().to_string().into()));
                    }
                }
            }
            true
        }
        _ => true,
    }
}

fn compare(a: &Row<'_>, b: &Row<'_>, keys: &[SortKey]) -> Ordering {
    for k in keys {
        let o = eval(&k.expr, a, &[]).sort_cmp(&eval(&k.expr, b, &[]));
        let o = if k.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn sort_rows(rows: &mut [Row<'_>], keys: &[SortKey]) {
    rows.sort_by(|a, b| compare(a, b, keys));
}

fn dedup(rows: &mut Vec<Row<'static>>, fields: &[Expr]) {
    let mut seen = std::collections::HashSet::new();
    rows.retain(|r| {
        let vals: Vec<Value<'_>> = fields.iter().map(|f| eval(f, r, &[])).collect();
        if vals.iter().any(Value::is_null) {
            return true;
        }
        let key: Vec<String> = vals.iter().map(|v| v.text().into_owned()).collect();
        seen.insert(key)
    });
}

fn render(row: &Row<'_>, shown: &Shown) -> ResultRow {
    let mut out: ResultRow = Vec::new();
    let mut add = |name: String, v: Value<'_>| {
        if let Some(text) = v.render() {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, text.into_owned()));
            }
        }
    };
    match shown {
        Shown::All => {
            for (n, v) in row.all_fields() {
                add(n, v);
            }
        }
        Shown::Only(items) => {
            for it in items {
                let name = it.name();
                let v = row.get(&name);
                let v = if v.is_null() && it.alias.is_none() {
                    eval(&it.expr, row, &[])
                } else {
                    v
                };
                add(name, v);
            }
        }
    }
    if let Some(e) = &row.event {
        out.push(("@ptr".to_string(), e.ptr_text()));
    }
    out
}
