//! JSON patterns: `{ <expr> }` over events whose message is a JSON object.
//!
//! Grammar (precedence `()` > `&&` > `||`):
//! ```text
//! expr := and ('||' and)*
//! and  := atom ('&&' atom)*
//! atom := '(' expr ')' | path op value | path 'IS' ('NULL' | 'TRUE' | 'FALSE') | path 'NOT' 'EXISTS'
//! path := '$' ('.' name | '[' digits ']')+          name := [A-Za-z0-9_-]+
//! value:= '"' string '"' | %regex% | bare word (number, text, `*` wildcards)
//! ```

use serde_json::Value;

use super::json_prune::{parse_pruned, Need, StepRef};
use super::value::{self, Literal, Op};
use super::PatternError;

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A selector such as `$.a.b[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
}

impl Path {
    /// Parse a whole selector string.
    pub fn parse(s: &str) -> Result<Path, PatternError> {
        let (p, used) = Path::lex(s)?;
        if used != s.len() {
            return Err(PatternError::invalid());
        }
        Ok(p)
    }

    /// Parse the selector at the start of `s` (which starts with `$`).
    fn lex(s: &str) -> Result<(Path, usize), PatternError> {
        let b = s.as_bytes();
        if b.first() != Some(&b'$') {
            return Err(PatternError::invalid());
        }
        let mut i = 1;
        let mut steps = Vec::new();
        loop {
            match b.get(i) {
                Some(b'.') => {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len()
                        && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-'))
                    {
                        j += 1;
                    }
                    if j == start {
                        return Err(PatternError::invalid());
                    }
                    steps.push(Step::Key(s[start..j].to_string()));
                    i = j;
                }
                Some(b'[') => {
                    let close = s[i..].find(']').ok_or_else(PatternError::invalid)? + i;
                    let idx: usize = s[i + 1..close]
                        .parse()
                        .map_err(|_| PatternError::invalid())?;
                    steps.push(Step::Index(idx));
                    i = close + 1;
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(PatternError::invalid());
        }
        Ok((
            Path {
                text: s[..i].to_string(),
                steps,
            },
            i,
        ))
    }

    /// The value the selector names in `doc`.
    pub fn resolve<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        let mut cur = doc;
        for s in &self.steps {
            cur = match s {
                Step::Key(k) => cur.as_object()?.get(k)?,
                Step::Index(i) => cur.as_array()?.get(*i)?,
            };
        }
        Some(cur)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn steps_ref(&self) -> impl Iterator<Item = StepRef<'_>> {
        self.steps.iter().map(|s| match s {
            Step::Key(k) => StepRef::Key(k),
            Step::Index(i) => StepRef::Index(*i),
        })
    }
}

#[derive(Debug, Clone)]
enum Cond {
    Compare(Path, Op, Literal),
    IsNull(Path),
    IsBool(Path, bool),
    NotExists(Path),
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Cond),
}

impl Expr {
    fn eval(&self, doc: &Value) -> bool {
        match self {
            Expr::Or(v) => v.iter().any(|e| e.eval(doc)),
            Expr::And(v) => v.iter().all(|e| e.eval(doc)),
            Expr::Cond(c) => match c {
                Cond::Compare(p, op, lit) => p
                    .resolve(doc)
                    .and_then(value::json_text)
                    .is_some_and(|t| lit.compare(*op, &t)),
                Cond::IsNull(p) => p.resolve(doc).is_some_and(Value::is_null),
                Cond::IsBool(p, b) => p.resolve(doc).and_then(Value::as_bool) == Some(*b),
                Cond::NotExists(p) => p.resolve(doc).is_none(),
            },
        }
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Cond)) {
        match self {
            Expr::Or(v) | Expr::And(v) => v.iter().for_each(|e| e.walk(f)),
            Expr::Cond(c) => f(c),
        }
    }
}

/// A compiled JSON pattern.
#[derive(Debug, Clone)]
pub struct JsonPattern {
    expr: Expr,
    /// What of a message the expression reads (see `json_prune`).
    need: Need,
    /// What [`JsonPattern::match_doc`] keeps: `need` and the selectors added by
    /// [`JsonPattern::also_read`].
    extract: Need,
}

#[derive(Debug, Clone)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Op(Op),
    Path(Path),
    Str(String),
    Regex(regex::Regex),
    Word(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, PatternError> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    while i < b.len() {
        let c = b[i];
        let rest = &s[i..];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == b')' {
            out.push(Tok::RParen);
            i += 1;
        } else if rest.starts_with("&&") {
            out.push(Tok::And);
            i += 2;
        } else if rest.starts_with("||") {
            out.push(Tok::Or);
            i += 2;
        } else if let Some((op, n)) = Op::lex(rest) {
            out.push(Tok::Op(op));
            i += n;
        } else if c == b'$' {
            let (p, n) = Path::lex(rest)?;
            out.push(Tok::Path(p));
            i += n;
        } else if c == b'"' {
            let (text, n) = value::quoted(rest).ok_or_else(PatternError::invalid)?;
            out.push(Tok::Str(text));
            i += n;
        } else if c == b'%' {
            let (r, n) = value::percent_regex(rest)?;
            out.push(Tok::Regex(r));
            i += n;
        } else {
            let n = rest
                .find(|ch: char| {
                    ch.is_whitespace()
                        || matches!(ch, '(' | ')' | '&' | '|' | '=' | '!' | '<' | '>')
                })
                .unwrap_or(rest.len());
            if n == 0 {
                return Err(PatternError::invalid());
            }
            out.push(Tok::Word(rest[..n].to_string()));
            i += n;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut v = vec![self.and()?];
        while matches!(self.peek(), Some(Tok::Or)) {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Expr::Or(v)
        })
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut v = vec![self.atom()?];
        while matches!(self.peek(), Some(Tok::And)) {
            self.pos += 1;
            v.push(self.atom()?);
        }
        Ok(if v.len() == 1 {
            v.remove(0)
        } else {
            Expr::And(v)
        })
    }

    fn word(&mut self, want: &str) -> Result<(), PatternError> {
        match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case(want) => Ok(()),
            _ => Err(PatternError::invalid()),
        }
    }

    fn atom(&mut self) -> Result<Expr, PatternError> {
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Tok::RParen) => Ok(e),
                    _ => Err(PatternError::invalid()),
                }
            }
            Some(Tok::Path(p)) => {
                let cond = match self.next() {
                    Some(Tok::Op(op)) => {
                        let lit = match self.next() {
                            Some(Tok::Str(s)) => Literal::quoted(&s),
                            Some(Tok::Word(w)) => Literal::bare(&w),
                            Some(Tok::Regex(r)) => Literal::Regex(r),
                            _ => return Err(PatternError::invalid()),
                        };
                        lit.check(op)?;
                        Cond::Compare(p, op, lit)
                    }
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                        Some(Tok::Word(k)) if k.eq_ignore_ascii_case("NULL") => Cond::IsNull(p),
                        Some(Tok::Word(k)) if k.eq_ignore_ascii_case("TRUE") => {
                            Cond::IsBool(p, true)
                        }
                        Some(Tok::Word(k)) if k.eq_ignore_ascii_case("FALSE") => {
                            Cond::IsBool(p, false)
                        }
                        _ => return Err(PatternError::invalid()),
                    },
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => {
                        self.word("EXISTS")?;
                        Cond::NotExists(p)
                    }
                    _ => return Err(PatternError::invalid()),
                };
                Ok(Expr::Cond(cond))
            }
            _ => Err(PatternError::invalid()),
        }
    }
}

impl JsonPattern {
    /// Parse the text between the braces.
    pub fn parse(body: &str) -> Result<JsonPattern, PatternError> {
        let toks = lex(body)?;
        if toks.is_empty() {
            return Err(PatternError::invalid());
        }
        let mut p = Parser { toks, pos: 0 };
        let expr = p.or()?;
        if p.pos != p.toks.len() {
            return Err(PatternError::invalid());
        }
        let mut need = Need::default();
        expr.walk(&mut |c| {
            let (Cond::Compare(p, ..) | Cond::IsNull(p) | Cond::IsBool(p, _) | Cond::NotExists(p)) =
                c;
            need.add(p.steps_ref());
        });
        let extract = need.clone();
        Ok(JsonPattern {
            expr,
            need,
            extract,
        })
    }

    /// Also keep `selector` (`$.a.b`) in the documents [`JsonPattern::match_doc`] returns, for
    /// reading it from matching events; a selector that does not parse is ignored (reading it
    /// finds nothing either way).
    pub fn also_read(&mut self, selector: &str) {
        if let Ok(p) = Path::parse(selector) {
            self.extract.add(p.steps_ref());
        }
    }

    pub fn regex_count(&self) -> usize {
        let mut n = 0;
        self.expr.walk(&mut |c| {
            if let Cond::Compare(_, _, l) = c {
                n += usize::from(l.is_regex());
            }
        });
        n
    }

    /// The selectors used, in pattern order.
    pub fn selectors(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.expr.walk(&mut |c| {
            let p = match c {
                Cond::Compare(p, ..)
                | Cond::IsNull(p)
                | Cond::IsBool(p, _)
                | Cond::NotExists(p) => p,
            };
            out.push(p.as_str().to_string());
        });
        out
    }

    /// Parse `message` as a JSON object and evaluate; the document when it matches. The
    /// document holds what the pattern's selectors and those of [`JsonPattern::also_read`]
    /// name, nothing else (see `json_prune`).
    pub fn match_doc(&self, message: &str) -> Option<Value> {
        let t = message.trim_start();
        if !t.starts_with('{') {
            return None;
        }
        let doc = parse_pruned(t, &self.extract)?;
        self.expr.eval(&doc).then_some(doc)
    }

    /// Whether `message` matches. Reads only what the selectors name (see `json_prune`),
    /// with the same outcome as [`JsonPattern::match_doc`].
    pub fn matches(&self, message: &str) -> bool {
        let t = message.trim_start();
        if !t.starts_with('{') {
            return false;
        }
        parse_pruned(t, &self.need).is_some_and(|doc| self.expr.eval(&doc))
    }
}
