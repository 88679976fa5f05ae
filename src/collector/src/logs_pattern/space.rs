//! Space-delimited patterns: `[ip, user, ..., status = 4* || status = 5*, bytes > 1000]`.
//!
//! A pattern is a list of fields separated by commas. A field is `...` (any number of message
//! fields), a name (binds the message field to `$name`), or conditions on one name joined by
//! `&&` / `||` (`&&` binds tighter). The message is split on runs of spaces; `"..."` and
//! `[...]` are one field each, without their delimiters.

use super::value::{self, Literal, Op};
use super::PatternError;

#[derive(Debug, Clone)]
enum FieldExpr {
    Any,
    Cmp(Op, Literal),
    And(Vec<FieldExpr>),
    Or(Vec<FieldExpr>),
}

impl FieldExpr {
    fn eval(&self, v: &str) -> bool {
        match self {
            FieldExpr::Any => true,
            FieldExpr::Cmp(op, lit) => lit.compare(*op, v),
            FieldExpr::And(e) => e.iter().all(|x| x.eval(v)),
            FieldExpr::Or(e) => e.iter().any(|x| x.eval(v)),
        }
    }

    fn regexes(&self) -> usize {
        match self {
            FieldExpr::Any => 0,
            FieldExpr::Cmp(_, l) => usize::from(l.is_regex()),
            FieldExpr::And(e) | FieldExpr::Or(e) => e.iter().map(FieldExpr::regexes).sum(),
        }
    }
}

#[derive(Debug, Clone)]
enum Field {
    Ellipsis,
    Named { name: String, expr: FieldExpr },
}

/// A compiled space-delimited pattern.
#[derive(Debug, Clone)]
pub struct SpacePattern {
    fields: Vec<Field>,
    has_ellipsis: bool,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Split the pattern body on top-level commas (not inside quotes or `%regex%`).
fn split_fields(body: &str) -> Result<Vec<&str>, PatternError> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let mut in_regex = false;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        if in_regex {
            in_regex = c != '%';
            continue;
        }
        match c {
            '"' => in_quote = true,
            '%' => in_regex = true,
            ',' => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_quote || in_regex {
        return Err(PatternError::invalid());
    }
    out.push(&body[start..]);
    Ok(out)
}

/// Parse one field's text.
fn parse_field(text: &str) -> Result<Field, PatternError> {
    let t = text.trim();
    if t == "..." {
        return Ok(Field::Ellipsis);
    }
    let mut name: Option<String> = None;
    let mut ors: Vec<FieldExpr> = Vec::new();
    let mut ands: Vec<FieldExpr> = Vec::new();
    let mut rest = t;
    loop {
        rest = rest.trim_start();
        let n = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        if n == 0 {
            return Err(PatternError::invalid());
        }
        let this = &rest[..n];
        match &name {
            None => name = Some(this.to_string()),
            Some(prev) if prev == this => {}
            Some(_) => return Err(PatternError::invalid()),
        }
        rest = rest[n..].trim_start();
        let expr = match Op::lex(rest) {
            None => FieldExpr::Any,
            Some((op, used)) => {
                rest = rest[used..].trim_start();
                let (lit, used) = if rest.starts_with('"') {
                    let (s, used) = value::quoted(rest).ok_or_else(PatternError::invalid)?;
                    (Literal::quoted(&s), used)
                } else if rest.starts_with('%') {
                    let (r, used) = value::percent_regex(rest)?;
                    (Literal::Regex(r), used)
                } else {
                    let end = [
                        rest.find(char::is_whitespace),
                        rest.find("&&"),
                        rest.find("||"),
                    ]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(rest.len());
                    if end == 0 {
                        return Err(PatternError::invalid());
                    }
                    (Literal::bare(&rest[..end]), end)
                };
                lit.check(op)?;
                rest = rest[used..].trim_start();
                FieldExpr::Cmp(op, lit)
            }
        };
        ands.push(expr);
        if let Some(r) = rest.strip_prefix("&&") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("||") {
            ors.push(collapse(std::mem::take(&mut ands), FieldExpr::And));
            rest = r;
        } else if rest.is_empty() {
            ors.push(collapse(std::mem::take(&mut ands), FieldExpr::And));
            break;
        } else {
            return Err(PatternError::invalid());
        }
    }
    Ok(Field::Named {
        name: name.ok_or_else(PatternError::invalid)?,
        expr: collapse(ors, FieldExpr::Or),
    })
}

fn collapse(mut v: Vec<FieldExpr>, wrap: fn(Vec<FieldExpr>) -> FieldExpr) -> FieldExpr {
    if v.len() == 1 {
        v.remove(0)
    } else {
        wrap(v)
    }
}

/// The fields of a message: (value, byte offset where the field starts).
fn tokenize(message: &str) -> Vec<(&str, usize)> {
    let b = message.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(end) = memchr::memchr(close, &b[i + 1..]) {
                let end = i + 1 + end;
                out.push((&message[i + 1..end], i));
                i = end + 1;
                continue;
            }
        }
        let end = b[i..]
            .iter()
            .position(|c| *c == b' ' || *c == b'\t')
            .map_or(b.len(), |p| i + p);
        out.push((&message[i..end], i));
        i = end;
    }
    out
}

impl SpacePattern {
    /// Parse the text between the brackets.
    pub fn parse(body: &str) -> Result<SpacePattern, PatternError> {
        if body.trim().is_empty() {
            return Err(PatternError::invalid());
        }
        let fields = split_fields(body)?
            .into_iter()
            .map(parse_field)
            .collect::<Result<Vec<_>, _>>()?;
        let has_ellipsis = fields.iter().any(|f| matches!(f, Field::Ellipsis));
        Ok(SpacePattern {
            fields,
            has_ellipsis,
        })
    }

    pub fn regex_count(&self) -> usize {
        self.fields
            .iter()
            .map(|f| match f {
                Field::Ellipsis => 0,
                Field::Named { expr, .. } => expr.regexes(),
            })
            .sum()
    }

    pub fn matches(&self, message: &str) -> bool {
        self.match_fields(message).is_some()
    }

    /// Match and bind every named field (in pattern order).
    pub fn match_fields(&self, message: &str) -> Option<Vec<(String, String)>> {
        let toks = tokenize(message);
        let mut bound: Vec<(String, String)> = Vec::new();
        if self.has_ellipsis {
            let mut failed = std::collections::HashSet::new();
            if self.bind(&toks, 0, 0, &mut bound, &mut failed) {
                return Some(bound);
            }
            return None;
        }
        if toks.len() < self.fields.len() {
            return None;
        }
        let last = self.fields.len() - 1;
        for (i, f) in self.fields.iter().enumerate() {
            let Field::Named { name, expr } = f else {
                return None;
            };
            let v: &str = if i == last && toks.len() > self.fields.len() {
                message[toks[i].1..].trim_end()
            } else {
                toks[i].0
            };
            if !expr.eval(v) {
                return None;
            }
            bound.push((name.clone(), v.to_string()));
        }
        Some(bound)
    }

    /// Backtracking match of fields `fi..` against tokens `ti..` (patterns with `...`); states
    /// that failed once are remembered, so the work is bounded by fields x tokens.
    fn bind(
        &self,
        toks: &[(&str, usize)],
        fi: usize,
        ti: usize,
        bound: &mut Vec<(String, String)>,
        failed: &mut std::collections::HashSet<(usize, usize)>,
    ) -> bool {
        let Some(f) = self.fields.get(fi) else {
            return ti == toks.len();
        };
        if failed.contains(&(fi, ti)) {
            return false;
        }
        let ok = match f {
            Field::Ellipsis => (ti..=toks.len()).any(|k| self.bind(toks, fi + 1, k, bound, failed)),
            Field::Named { name, expr } => {
                let Some((v, _)) = toks.get(ti) else {
                    return false;
                };
                if !expr.eval(v) {
                    return false;
                }
                bound.push((name.clone(), v.to_string()));
                if self.bind(toks, fi + 1, ti + 1, bound, failed) {
                    return true;
                }
                bound.pop();
                false
            }
        };
        if !ok {
            failed.insert((fi, ti));
        }
        ok
    }
}
