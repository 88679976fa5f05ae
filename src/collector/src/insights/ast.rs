//! The parsed form of a query: a pipeline of [`Command`]s over [`Expr`]essions.

use regex::Regex;

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    pub commands: Vec<Command>,
}

/// An expression with an optional `as` name.
#[derive(Debug, Clone)]
pub struct Item {
    pub expr: Expr,
    pub alias: Option<String>,
}

impl Item {
    /// The name of the field this item produces: its alias, the field it names, or its text.
    pub fn name(&self) -> String {
        match (&self.alias, &self.expr) {
            (Some(a), _) => a.clone(),
            (None, Expr::Field(f)) => f.clone(),
            (None, e) => e.to_string(),
        }
    }
}

/// One sort key.
#[derive(Debug, Clone)]
pub struct SortKey {
    pub expr: Expr,
    pub descending: bool,
}

/// How `parse` extracts fields.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// A glob: every `*` captures into the field of the same position.
    Glob { regex: Regex, names: Vec<String> },
    /// A regex with named groups.
    Regex { regex: Regex, names: Vec<String> },
}

/// One pipeline command.
#[derive(Debug, Clone)]
pub enum Command {
    Fields(Vec<Item>),
    Display(Vec<Item>),
    Filter(Expr),
    Stats { items: Vec<Item>, by: Vec<Item> },
    Sort(Vec<SortKey>),
    Limit(usize),
    Parse { field: Expr, pattern: Pattern },
    Dedup(Vec<Expr>),
    Unmask(Vec<Expr>),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

/// An expression.
#[derive(Debug, Clone)]
pub enum Expr {
    Field(String),
    Str(String),
    Num(f64),
    /// A period in milliseconds, with its text (`5m`).
    Period(i64, String),
    /// `*` inside `count(*)`.
    Star,
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `a like "text"` (substring) / `a like /re/` / `a =~ /re/`; `negated` for `not like`.
    Like {
        expr: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// A function call; `name` is lower-case.
    Call(String, Vec<Expr>),
    /// Reference to the `n`th aggregate of a `stats` command (set by the planner).
    Agg(usize),
}

/// What `like` matches.
#[derive(Debug, Clone)]
pub enum LikePattern {
    Substring(String),
    Regex(Regex),
}

fn write_list(f: &mut std::fmt::Formatter<'_>, items: &[Expr]) -> std::fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            write!(f, ",")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl std::fmt::Display for Expr {
    /// The canonical text of an expression, used to name unaliased result fields
    /// (`count(*)`, `avg(@duration)`, `bin(5m)`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Field(n) => {
                if n.chars().all(|c| c.is_alphanumeric() || "_@.$".contains(c)) {
                    write!(f, "{n}")
                } else {
                    write!(f, "`{n}`")
                }
            }
            Expr::Str(s) => write!(f, "\"{s}\""),
            Expr::Num(n) => write!(f, "{}", super::value::format_number(*n)),
            Expr::Period(_, text) => write!(f, "{text}"),
            Expr::Star => write!(f, "*"),
            Expr::Neg(e) => write!(f, "-{e}"),
            Expr::Not(e) => write!(f, "not {e}"),
            Expr::Bin(op @ (BinOp::And | BinOp::Or), a, b) => {
                write!(f, "{a} {} {b}", op.symbol())
            }
            Expr::Bin(op, a, b) => write!(f, "{a}{}{b}", op.symbol()),
            Expr::Like {
                expr,
                pattern,
                negated,
            } => {
                let not = if *negated { "not " } else { "" };
                match pattern {
                    LikePattern::Substring(s) => write!(f, "{expr} {not}like \"{s}\""),
                    LikePattern::Regex(r) => write!(f, "{expr} {not}like /{}/", r.as_str()),
                }
            }
            Expr::In {
                expr,
                list,
                negated,
            } => {
                let not = if *negated { "not " } else { "" };
                write!(f, "{expr} {not}in [")?;
                write_list(f, list)?;
                write!(f, "]")
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                write!(f, ")")
            }
            Expr::Agg(n) => write!(f, "#agg{n}"),
        }
    }
}
