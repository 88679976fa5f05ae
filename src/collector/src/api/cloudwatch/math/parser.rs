//! Recursive-descent parser for metric math.
//!
//! Grammar, loosest binding first (all binary operators are left-associative except `^`):
//!
//! ```text
//! expr    := and (("OR" | "||") and)*
//! and     := cmp (("AND" | "&&") cmp)*
//! cmp     := sum (("==" | "!=" | "<=" | ">=" | "<" | ">") sum)*
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | power
//! power   := primary ("^" unary)?            -- right-associative; -2^2 = -(2^2)
//! primary := number | string | id | WORD "(" [expr ("," expr)*] ")" | WORD
//!          | "(" expr ")" | "[" expr ("," expr)* "]"
//! ```
//!
//! A `WORD` followed by `(` is a function call; a bare `WORD` is a keyword argument
//! (`REPEAT`, `ASC`, ...), checked by the function that receives it. Function names are not
//! checked here (the evaluator reports unknown ones with their position). Nesting is limited to
//! [`MAX_DEPTH`] levels so hostile input cannot exhaust the stack. An error at the end of the
//! input cites the position just past the last character.

use super::ast::{BinOp, Expr};
use super::error::MathError;
use super::lexer::{lex, Tok, Token};

/// Deepest nesting of parentheses, brackets, calls and unary minus accepted.
pub const MAX_DEPTH: usize = 64;

/// Parse one expression.
pub fn parse(src: &str) -> Result<Expr, MathError> {
    let tokens = lex(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        end_pos: src.chars().count() + 1,
        depth: 0,
    };
    let e = p.expr()?;
    match p.peek() {
        None => Ok(e),
        Some(t) => Err(MathError::Syntax(t.pos)),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    end_pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.end_pos, |t| t.pos)
    }

    fn next(&mut self) -> Result<Token, MathError> {
        let t = self
            .tokens
            .get(self.at)
            .cloned()
            .ok_or(MathError::Syntax(self.end_pos))?;
        self.at += 1;
        Ok(t)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek().is_some_and(|t| t.tok == *tok) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), MathError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(MathError::Syntax(self.pos()))
        }
    }

    fn enter(&mut self) -> Result<(), MathError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(MathError::TooDeep(self.pos()));
        }
        Ok(())
    }

    /// One precedence level: `next (op next)*` for the operators `ops` maps.
    fn level(
        &mut self,
        next: fn(&mut Parser) -> Result<Expr, MathError>,
        ops: fn(&Tok) -> Option<BinOp>,
    ) -> Result<Expr, MathError> {
        let mut lhs = next(self)?;
        while let Some((op, pos)) = self.peek().and_then(|t| ops(&t.tok).map(|o| (o, t.pos))) {
            self.at += 1;
            let rhs = next(self)?;
            lhs = Expr::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                pos,
            };
        }
        Ok(lhs)
    }

    fn expr(&mut self) -> Result<Expr, MathError> {
        self.level(Parser::and, |t| (*t == Tok::Or).then_some(BinOp::Or))
    }

    fn and(&mut self) -> Result<Expr, MathError> {
        self.level(Parser::cmp, |t| (*t == Tok::And).then_some(BinOp::And))
    }

    fn cmp(&mut self) -> Result<Expr, MathError> {
        self.level(Parser::sum, |t| match t {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::Le => Some(BinOp::Le),
            Tok::Ge => Some(BinOp::Ge),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Gt => Some(BinOp::Gt),
            _ => None,
        })
    }

    fn sum(&mut self) -> Result<Expr, MathError> {
        self.level(Parser::product, |t| match t {
            Tok::Plus => Some(BinOp::Add),
            Tok::Minus => Some(BinOp::Sub),
            _ => None,
        })
    }

    fn product(&mut self) -> Result<Expr, MathError> {
        self.level(Parser::unary, |t| match t {
            Tok::Star => Some(BinOp::Mul),
            Tok::Slash => Some(BinOp::Div),
            _ => None,
        })
    }

    fn unary(&mut self) -> Result<Expr, MathError> {
        if let Some(pos) = self.peek().filter(|t| t.tok == Tok::Minus).map(|t| t.pos) {
            self.at += 1;
            self.enter()?;
            let expr = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg {
                expr: Box::new(expr),
                pos,
            });
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, MathError> {
        let base = self.primary()?;
        if let Some(pos) = self.peek().filter(|t| t.tok == Tok::Caret).map(|t| t.pos) {
            self.at += 1;
            self.enter()?;
            let exp = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Binary {
                op: BinOp::Pow,
                lhs: Box::new(base),
                rhs: Box::new(exp),
                pos,
            });
        }
        Ok(base)
    }

    fn primary(&mut self) -> Result<Expr, MathError> {
        let t = self.next()?;
        let pos = t.pos;
        match t.tok {
            Tok::Number(value) => Ok(Expr::Num { value, pos }),
            Tok::Str(value) => Ok(Expr::Str { value, pos }),
            Tok::Id(name) => Ok(Expr::Id { name, pos }),
            Tok::Word(name) => {
                if !self.eat(&Tok::LParen) {
                    return Ok(Expr::Keyword { name, pos });
                }
                self.enter()?;
                let args = if self.eat(&Tok::RParen) {
                    Vec::new()
                } else {
                    let a = self.list()?;
                    self.expect(&Tok::RParen)?;
                    a
                };
                self.depth -= 1;
                Ok(Expr::Call { name, args, pos })
            }
            Tok::LParen => {
                self.enter()?;
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                self.depth -= 1;
                Ok(e)
            }
            Tok::LBracket => {
                self.enter()?;
                let items = self.list()?;
                self.expect(&Tok::RBracket)?;
                self.depth -= 1;
                Ok(Expr::Array { items, pos })
            }
            _ => Err(MathError::Syntax(pos)),
        }
    }

    fn list(&mut self) -> Result<Vec<Expr>, MathError> {
        let mut items = vec![self.expr()?];
        while self.eat(&Tok::Comma) {
            items.push(self.expr()?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    #[test]
    fn precedence_and_associativity_table() {
        let cases = [
            ("m1 + m2 * 3", "(m1 + (m2 * 3))"),
            ("(m1 + m2) * 3", "((m1 + m2) * 3)"),
            ("m1 - m2 - m3", "((m1 - m2) - m3)"),
            ("m1 / m2 * 100", "((m1 / m2) * 100)"),
            ("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"),
            ("-2 ^ 2", "(-(2 ^ 2))"),
            ("2 ^ -1", "(2 ^ (-1))"),
            ("-m1 * 5", "((-m1) * 5)"),
            ("--m1", "(-(-m1))"),
            ("m1 > 1 AND m2 < 2 OR m3", "(((m1 > 1) AND (m2 < 2)) OR m3)"),
            ("m1 && m2 || m3 && m4", "((m1 AND m2) OR (m3 AND m4))"),
            ("m1 + 1 >= m2 * 2", "((m1 + 1) >= (m2 * 2))"),
            ("m1 == 1 != 0", "((m1 == 1) != 0)"),
            ("SUM(METRICS())", "SUM(METRICS())"),
            ("FILL(m1, REPEAT)", "FILL(m1, REPEAT)"),
            ("SUM(100/[m1, m2])", "SUM((100 / [m1, m2]))"),
            (
                "SORT(METRICS(\"4xx\"), AVG, DESC, 10)",
                "SORT(METRICS(\"4xx\"), AVG, DESC, 10)",
            ),
            ("IF(m1 < 400, m1)", "IF((m1 < 400), m1)"),
            (
                "1e-36 + .5",
                "(0.000000000000000000000000000000000001 + 0.5)",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(canon(src), want, "{src}");
        }
    }

    #[test]
    fn syntax_errors_cite_positions() {
        let cases = [
            ("m1 +", 5),
            ("m1 + * 2", 6),
            ("(m1 + 2", 8),
            ("m1 m2", 4),
            ("SUM(m1,)", 8),
            ("[m1, m2", 8),
            ("FILL(m1 0)", 9),
            ("", 1),
            ("m1)", 3),
            (",", 1),
            ("SUM(m1 $)", 8),
        ];
        for (src, pos) in cases {
            assert_eq!(parse(src), Err(MathError::Syntax(pos)), "{src}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}m1{}", "(".repeat(200), ")".repeat(200));
        assert!(matches!(parse(&deep), Err(MathError::TooDeep(_))));
        let minus = format!("{}m1", "-".repeat(5000));
        assert!(matches!(parse(&minus), Err(MathError::TooDeep(_))));
        let ok = format!("{}m1{}", "(".repeat(30), ")".repeat(30));
        assert_eq!(canon(&ok), "m1");
    }

    #[test]
    fn nodes_keep_positions_and_ids() {
        let e = parse("m1 + e_2 * FOO(m3)").unwrap();
        assert_eq!(e.ids(), vec![("m1", 1), ("e_2", 6), ("m3", 16)]);
        assert_eq!(e.pos(), 4);
        assert!(e.calls("FOO"));
        assert!(!e.calls("BAR"));
    }
}
