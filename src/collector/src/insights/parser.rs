//! Recursive-descent parser: tokens to a [`Query`].
//!
//! Grammar (keywords and command names are case-insensitive):
//! ```text
//! query    := command ('|' command)*
//! command  := fields items | display items | filter expr | stats items [by items]
//!           | sort expr [asc|desc] (',' ...)* | limit N | parse [expr] (STRING | REGEX) [as names]
//!           | dedup exprs | unmask exprs
//! items    := expr [as name] (',' expr [as name])*
//! expr     := or ; or := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not | cmp
//! cmp      := add [('='|'!='|'<'|'<='|'>'|'>=') add | ['not'] 'like' pat | '=~' pat
//!                  | ['not'] 'in' '[' exprs ']']
//! add      := mul (('+'|'-') mul)* ; mul := pow (('*'|'/'|'%') pow)* ; pow := unary ['^' pow]
//! unary    := '-' unary | primary
//! primary  := NUMBER | STRING | DURATION | FIELD | name '(' [args] ')' | '(' expr ')'
//! ```
//! Functions are checked by name and argument count at parse time; aggregate functions are only
//! accepted inside `stats`. Errors carry the offending token's position.

use regex::Regex;

use super::ast::{BinOp, Command, Expr, Item, LikePattern, Pattern, Query, SortKey};
use super::error::QueryError;
use super::functions;
use super::lexer::{lex, Tok, Token};
use super::stats;

/// Most characters in a query, as AWS allows.
pub const MAX_QUERY_LEN: usize = 10_000;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 10_000;

/// Parse a query string.
pub fn parse(src: &str) -> Result<Query, QueryError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        in_stats: false,
    };
    let mut commands = Vec::new();
    loop {
        commands.push(p.command()?);
        match p.peek() {
            Tok::Pipe => {
                p.pos += 1;
            }
            Tok::Eof => break,
            _ => return Err(p.unexpected()),
        }
    }
    check_dedup(&commands)?;
    Ok(Query { commands })
}

/// Only `limit` may follow `dedup`.
fn check_dedup(commands: &[Command]) -> Result<(), QueryError> {
    if let Some(i) = commands.iter().position(|c| matches!(c, Command::Dedup(_))) {
        if commands[i + 1..]
            .iter()
            .any(|c| !matches!(c, Command::Limit(_)))
        {
            return Err(QueryError::whole(
                "Only the limit command can be used after the dedup command",
            ));
        }
    }
    Ok(())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    in_stats: bool,
}

/// Words that cannot name a field without backticks.
const RESERVED: &[&str] = &["and", "or", "not", "like", "in", "as", "by", "asc", "desc"];

impl Parser {
    fn tok(&self) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[self.pos.min(last)]
    }

    fn peek(&self) -> &Tok {
        &self.tok().tok
    }

    fn peek_at(&self, k: usize) -> &Tok {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + k).min(last)].tok
    }

    fn next(&mut self) -> Token {
        let t = self.tok().clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self) -> QueryError {
        let t = self.tok();
        QueryError::unexpected(&t.tok.describe(), t.line, t.col, t.start, t.end)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == tok {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), QueryError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let Tok::Ident(name) = self.peek().clone() else {
            return Err(self.unexpected());
        };
        let cmd = name.to_ascii_lowercase();
        let known = [
            "fields", "display", "filter", "stats", "sort", "limit", "parse", "dedup", "unmask",
        ];
        if !known.contains(&cmd.as_str()) {
            return Err(self.unexpected());
        }
        self.pos += 1;
        Ok(match cmd.as_str() {
            "fields" => Command::Fields(self.items()?),
            "display" => Command::Display(self.items()?),
            "filter" => Command::Filter(self.expr()?),
            "stats" => {
                self.in_stats = true;
                let items = self.items()?;
                self.in_stats = false;
                let by = if self.eat_kw("by") {
                    self.items()?
                } else {
                    Vec::new()
                };
                stats::check_items(&items, &by)?;
                Command::Stats { items, by }
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let expr = self.expr()?;
                    let descending = if self.eat_kw("desc") {
                        true
                    } else {
                        self.eat_kw("asc");
                        false
                    };
                    keys.push(SortKey { expr, descending });
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                Command::Sort(keys)
            }
            "limit" => {
                let t = self.next();
                match t.tok {
                    Tok::Num(n) if n >= 1.0 && n.fract() == 0.0 && n <= MAX_LIMIT as f64 => {
                        Command::Limit(n as usize)
                    }
                    Tok::Num(_) => {
                        return Err(QueryError::at(
                            t.line,
                            t.col,
                            t.start,
                            t.end,
                            &format!(
                                "limit must be a whole number between 1 and {MAX_LIMIT}, found {}",
                                t.tok.describe()
                            ),
                        ))
                    }
                    _ => {
                        return Err(QueryError::unexpected(
                            &t.tok.describe(),
                            t.line,
                            t.col,
                            t.start,
                            t.end,
                        ))
                    }
                }
            }
            "parse" => self.parse_command()?,
            "dedup" => Command::Dedup(self.expr_list()?),
            _ => Command::Unmask(self.expr_list()?),
        })
    }

    fn parse_command(&mut self) -> Result<Command, QueryError> {
        let field = if matches!(self.peek(), Tok::Str(_) | Tok::Regex(_)) {
            Expr::Field("@message".into())
        } else {
            self.additive()?
        };
        let t = self.next();
        match t.tok {
            Tok::Str(glob) => {
                if !self.eat_kw("as") {
                    return Err(self.unexpected());
                }
                let names = self.names()?;
                let stars = glob.matches('*').count();
                if stars != names.len() {
                    return Err(QueryError::at(
                        t.line,
                        t.col,
                        t.start,
                        t.end,
                        &format!(
                            "the parse pattern has {stars} wildcards but {} field names",
                            names.len()
                        ),
                    ));
                }
                let regex = glob_regex(&glob)
                    .map_err(|e| QueryError::at(t.line, t.col, t.start, t.end, &e))?;
                Ok(Command::Parse {
                    field,
                    pattern: Pattern::Glob { regex, names },
                })
            }
            Tok::Regex(re) => {
                let regex = compile_regex(&re)
                    .map_err(|e| QueryError::at(t.line, t.col, t.start, t.end, &e))?;
                let names: Vec<String> =
                    regex.capture_names().flatten().map(String::from).collect();
                if names.is_empty() {
                    return Err(QueryError::at(
                        t.line,
                        t.col,
                        t.start,
                        t.end,
                        "the parse regex must contain at least one named capture group",
                    ));
                }
                Ok(Command::Parse {
                    field,
                    pattern: Pattern::Regex { regex, names },
                })
            }
            other => Err(QueryError::unexpected(
                &other.describe(),
                t.line,
                t.col,
                t.start,
                t.end,
            )),
        }
    }

    fn names(&mut self) -> Result<Vec<String>, QueryError> {
        let mut out = vec![self.name()?];
        while self.eat(&Tok::Comma) {
            out.push(self.name()?);
        }
        Ok(out)
    }

    fn name(&mut self) -> Result<String, QueryError> {
        match self.peek().clone() {
            Tok::Ident(s) if !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r)) => {
                self.pos += 1;
                Ok(s)
            }
            Tok::Quoted(s) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn items(&mut self) -> Result<Vec<Item>, QueryError> {
        let mut out = Vec::new();
        loop {
            let expr = self.expr()?;
            let alias = if self.eat_kw("as") {
                Some(self.name()?)
            } else {
                None
            };
            out.push(Item { expr, alias });
            if !self.eat(&Tok::Comma) {
                return Ok(out);
            }
        }
    }

    fn expr_list(&mut self) -> Result<Vec<Expr>, QueryError> {
        let mut out = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            out.push(self.expr()?);
        }
        Ok(out)
    }

    fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.and()?;
        while self.eat_kw("or") {
            let r = self.and()?;
            e = Expr::Bin(BinOp::Or, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.not()?;
        while self.eat_kw("and") {
            let r = self.not()?;
            e = Expr::Bin(BinOp::And, Box::new(e), Box::new(r));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.peek().is_kw("not")
            && !self.peek_at(1).is_kw("like")
            && !self.peek_at(1).is_kw("in")
        {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.additive()?;
        let op = match self.peek() {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            let right = self.additive()?;
            return Ok(Expr::Bin(op, Box::new(left), Box::new(right)));
        }
        let negated = self.peek().is_kw("not")
            && (self.peek_at(1).is_kw("like") || self.peek_at(1).is_kw("in"));
        if negated {
            self.pos += 1;
        }
        if self.eat_kw("like") {
            let pattern = self.like_pattern(false)?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern,
                negated,
            });
        }
        if !negated && self.eat(&Tok::Match) {
            let pattern = self.like_pattern(true)?;
            return Ok(Expr::Like {
                expr: Box::new(left),
                pattern,
                negated,
            });
        }
        if self.eat_kw("in") {
            self.expect(&Tok::LBracket)?;
            let mut list = Vec::new();
            if !self.eat(&Tok::RBracket) {
                loop {
                    list.push(self.additive()?);
                    if self.eat(&Tok::RBracket) {
                        break;
                    }
                    self.expect(&Tok::Comma)?;
                }
            }
            return Ok(Expr::In {
                expr: Box::new(left),
                list,
                negated,
            });
        }
        Ok(left)
    }

    fn like_pattern(&mut self, regex_only: bool) -> Result<LikePattern, QueryError> {
        let t = self.next();
        match t.tok {
            Tok::Str(s) if !regex_only => Ok(LikePattern::Substring(s)),
            Tok::Str(s) | Tok::Regex(s) => compile_regex(&s)
                .map(LikePattern::Regex)
                .map_err(|e| QueryError::at(t.line, t.col, t.start, t.end, &e)),
            other => Err(QueryError::unexpected(
                &other.describe(),
                t.line,
                t.col,
                t.start,
                t.end,
            )),
        }
    }

    fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(e),
            };
            self.pos += 1;
            let r = self.multiplicative()?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.power()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Mod,
                _ => return Ok(e),
            };
            self.pos += 1;
            let r = self.power()?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
    }

    fn power(&mut self) -> Result<Expr, QueryError> {
        let base = self.unary()?;
        if self.eat(&Tok::Caret) {
            let exp = self.power()?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.eat(&Tok::Minus) {
            return Ok(match self.unary()? {
                Expr::Num(n) => Expr::Num(-n),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let t = self.tok().clone();
        match &t.tok {
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Expr::Num(*n))
            }
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Expr::Str(s.clone()))
            }
            Tok::Duration(n, unit) => {
                self.pos += 1;
                let ms = functions::period_ms(*n, unit).ok_or_else(|| {
                    QueryError::at(
                        t.line,
                        t.col,
                        t.start,
                        t.end,
                        &format!("invalid time period {}", t.tok.describe()),
                    )
                })?;
                Ok(Expr::Period(ms, t.tok.describe()))
            }
            Tok::Quoted(s) => {
                self.pos += 1;
                Ok(Expr::Field(s.clone()))
            }
            Tok::LParen => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::Ident(s) if *self.peek_at(1) == Tok::LParen => {
                let name = s.to_ascii_lowercase();
                self.pos += 2;
                let mut args = Vec::new();
                if !self.eat(&Tok::RParen) {
                    loop {
                        if *self.peek() == Tok::Star && name == "count" {
                            self.pos += 1;
                            args.push(Expr::Star);
                        } else {
                            args.push(self.expr()?);
                        }
                        if self.eat(&Tok::RParen) {
                            break;
                        }
                        self.expect(&Tok::Comma)?;
                    }
                }
                self.check_call(&name, &args, &t)?;
                Ok(Expr::Call(name, args))
            }
            Tok::Ident(s) if !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r)) => {
                self.pos += 1;
                Ok(Expr::Field(s.clone()))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn check_call(&self, name: &str, args: &[Expr], at: &Token) -> Result<(), QueryError> {
        let err = |what: String| QueryError::at(at.line, at.col, at.start, at.end, &what);
        let arity = if let Some(a) = stats::arity(name) {
            if !self.in_stats {
                return Err(err(format!(
                    "the aggregate function {name} can only be used in a stats command"
                )));
            }
            a
        } else if let Some(a) = functions::arity(name) {
            a
        } else {
            return Err(err(format!("unknown function {name}")));
        };
        let (min, max) = arity;
        if args.len() < min || args.len() > max {
            return Err(err(format!(
                "wrong number of arguments for function {name}: {}",
                args.len()
            )));
        }
        Ok(())
    }
}

/// Compile a query regex (Rust `regex` syntax, which includes `(?<name>...)` and `(?i)`).
pub fn compile_regex(re: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(re)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| format!("invalid regular expression /{re}/: {}", first_line(&e)))
}

fn first_line(e: &regex::Error) -> String {
    let s = e.to_string();
    s.lines().last().unwrap_or_default().trim().to_string()
}

/// The regex of a `parse` glob: literal text, each `*` a lazy capture (greedy at the end).
fn glob_regex(glob: &str) -> Result<Regex, String> {
    let parts: Vec<&str> = glob.split('*').collect();
    let mut re = String::from("(?s)");
    for (i, part) in parts.iter().enumerate() {
        re.push_str(&regex::escape(part));
        if i + 1 < parts.len() {
            let last = i + 2 == parts.len() && parts[i + 1].is_empty();
            re.push_str(if last { "(.*)" } else { "(.*?)" });
        }
    }
    compile_regex(&re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        parse(q).unwrap_err().message
    }

    #[test]
    fn pipelines() {
        let q = parse("fields @timestamp, @message | sort @timestamp desc | limit 25").unwrap();
        assert_eq!(q.commands.len(), 3);
        assert!(matches!(&q.commands[1], Command::Sort(k) if k[0].descending));
        assert!(matches!(q.commands[2], Command::Limit(25)));
        let q = parse("stats count(*) as n, avg(x) by bin(5m) as t, host").unwrap();
        let Command::Stats { items, by } = &q.commands[0] else {
            panic!()
        };
        assert_eq!(items[0].name(), "n");
        assert_eq!(items[1].name(), "avg(x)");
        assert_eq!(by[0].name(), "t");
        assert!(
            matches!(by[0].expr, Expr::Call(_, ref a) if matches!(a[0], Expr::Period(300_000, _)))
        );
        assert_eq!(by[1].name(), "host");
    }

    #[test]
    fn precedence() {
        let q = parse("filter a = 1 or b = 2 and not c like /x/").unwrap();
        let Command::Filter(e) = &q.commands[0] else {
            panic!()
        };
        let Expr::Bin(BinOp::Or, l, r) = e else {
            panic!("{e:?}")
        };
        assert!(matches!(**l, Expr::Bin(BinOp::Eq, ..)));
        let Expr::Bin(BinOp::And, _, r) = &**r else {
            panic!("{r:?}")
        };
        assert!(matches!(&**r, Expr::Not(n) if matches!(**n, Expr::Like { negated: false, .. })));
        let q = parse("fields 1 + 2 * 3 ^ 2 as v").unwrap();
        let Command::Fields(items) = &q.commands[0] else {
            panic!()
        };
        assert_eq!(items[0].expr.to_string(), "1+2*3^2");
        let q = parse("filter x not in [1, \"a\"] and y not like \"z\"").unwrap();
        assert!(
            matches!(&q.commands[0], Command::Filter(Expr::Bin(BinOp::And, a, _)) if matches!(**a, Expr::In { negated: true, .. }))
        );
    }

    #[test]
    fn parse_command() {
        let q = parse("parse @message \"[*] *\" as level, msg").unwrap();
        let Command::Parse {
            pattern: Pattern::Glob { regex, names },
            ..
        } = &q.commands[0]
        else {
            panic!()
        };
        assert_eq!(names, &["level", "msg"]);
        let c = regex.captures("x [ERROR] boom now").unwrap();
        assert_eq!((&c[1], &c[2]), ("ERROR", "boom now"));
        let q = parse("parse /id=(?<id>\\d+)/").unwrap();
        assert!(
            matches!(&q.commands[0], Command::Parse { pattern: Pattern::Regex { names, .. }, field: Expr::Field(f) } if names == &["id"] && f == "@message")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            err("fields a |"),
            "unexpected symbol found <EOF> at line 1 and position 11"
        );
        assert_eq!(
            err("fields a\n| bogus x"),
            "unexpected symbol found bogus at line 2 and position 3"
        );
        assert_eq!(
            err("filter a = )"),
            "unexpected symbol found ) at line 1 and position 12"
        );
        assert!(err("fields nosuch(x)").contains("unknown function nosuch"));
        assert!(err("fields avg(x)").contains("only be used in a stats command"));
        assert!(err("parse @message \"a*b*\" as x").contains("2 wildcards but 1 field names"));
        assert!(err("filter a like /(/").contains("invalid regular expression"));
        assert!(err("stats count(*) by bin(5q)").contains("invalid time period 5q"));
        assert!(err("dedup a | sort a").contains("Only the limit command"));
        assert!(err("limit 0").contains("limit must be"));
        assert!(err("stats strlen(x)").contains("aggregate"));
    }
}
