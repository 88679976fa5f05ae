//! The syntax tree of a metric math expression.
//!
//! Nodes keep the 1-based position of the token that introduced them so that evaluation errors
//! can point into the source. [`Expr`]'s `Display` prints a canonical, fully parenthesised form
//! (used as a stable cache key and in tests).

use std::fmt;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
    And,
    Or,
}

impl BinOp {
    /// The operator as written (`AND` for both `AND` and `&&`).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Pow => "^",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::And => "AND",
            BinOp::Or => "OR",
        }
    }
}

/// An expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num {
        value: f64,
        pos: usize,
    },
    Str {
        value: String,
        pos: usize,
    },
    /// A reference to another query of the request.
    Id {
        name: String,
        pos: usize,
    },
    /// An uppercase word that is not called (`REPEAT`, `LINEAR`, `ASC`, `DESC`, `AVG`, ...).
    Keyword {
        name: String,
        pos: usize,
    },
    Call {
        name: String,
        args: Vec<Expr>,
        pos: usize,
    },
    /// `[a, b, ...]`: an array of time series.
    Array {
        items: Vec<Expr>,
        pos: usize,
    },
    Neg {
        expr: Box<Expr>,
        pos: usize,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        pos: usize,
    },
}

impl Expr {
    /// The 1-based position of the node.
    pub fn pos(&self) -> usize {
        match self {
            Expr::Num { pos, .. }
            | Expr::Str { pos, .. }
            | Expr::Id { pos, .. }
            | Expr::Keyword { pos, .. }
            | Expr::Call { pos, .. }
            | Expr::Array { pos, .. }
            | Expr::Neg { pos, .. }
            | Expr::Binary { pos, .. } => *pos,
        }
    }

    /// Visit this node and every node below it, depth first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Call { args: items, .. } | Expr::Array { items, .. } => {
                for e in items {
                    e.walk(f);
                }
            }
            Expr::Neg { expr, .. } => expr.walk(f),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            Expr::Num { .. } | Expr::Str { .. } | Expr::Id { .. } | Expr::Keyword { .. } => {}
        }
    }

    /// The ids referenced, with their positions, in order of appearance.
    pub fn ids(&self) -> Vec<(&str, usize)> {
        let mut out = Vec::new();
        self.walk_ids(&mut out);
        out
    }

    fn walk_ids<'a>(&'a self, out: &mut Vec<(&'a str, usize)>) {
        match self {
            Expr::Id { name, pos } => out.push((name, *pos)),
            Expr::Call { args: items, .. } | Expr::Array { items, .. } => {
                for e in items {
                    e.walk_ids(out);
                }
            }
            Expr::Neg { expr, .. } => expr.walk_ids(out),
            Expr::Binary { lhs, rhs, .. } => {
                lhs.walk_ids(out);
                rhs.walk_ids(out);
            }
            Expr::Num { .. } | Expr::Str { .. } | Expr::Keyword { .. } => {}
        }
    }

    /// Whether a call to function `name` appears in this tree.
    pub fn calls(&self, name: &str) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Call { name: n, .. } if n == name) {
                found = true;
            }
        });
        found
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &[Expr]| -> fmt::Result {
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{e}")?;
            }
            Ok(())
        };
        match self {
            Expr::Num { value, .. } => write!(f, "{value}"),
            Expr::Str { value, .. } => write!(f, "{value:?}"),
            Expr::Id { name, .. } | Expr::Keyword { name, .. } => f.write_str(name),
            Expr::Call { name, args, .. } => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
            Expr::Array { items, .. } => {
                f.write_str("[")?;
                list(f, items)?;
                f.write_str("]")
            }
            Expr::Neg { expr, .. } => write!(f, "(-{expr})"),
            Expr::Binary { op, lhs, rhs, .. } => write!(f, "({lhs} {} {rhs})", op.symbol()),
        }
    }
}
