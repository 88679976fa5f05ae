//! The composite alarm rule language (`AlarmRule`).
//!
//! ```text
//! rule    := or
//! or      := and ("OR" and)*
//! and     := unary ("AND" unary)*
//! unary   := "NOT" unary | primary
//! primary := "(" or ")" | "TRUE" | "FALSE" | state "(" name ")"
//! state   := "ALARM" | "OK" | "INSUFFICIENT_DATA"
//! name    := '"' any characters but '"' '"' | a run of characters other than
//!            whitespace, '(', ')' and '"'
//! ```
//! Keywords are upper case; precedence is NOT over AND over OR. A name is an alarm name or an
//! alarm ARN. Errors follow CloudWatch's: `Error in AlarmRule [Unsupported token 'Oldest' at
//! char 67, must be: ')']`, positions counted in characters from 0. Nesting (parentheses and
//! NOT) is limited to [`MAX_DEPTH`] so hostile rules cannot exhaust the stack.

use super::model::StateValue;

/// Deepest nesting of parentheses and NOT accepted.
pub const MAX_DEPTH: usize = 100;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `TRUE` / `FALSE`.
    Const(bool),
    /// `ALARM(x)`, `OK(x)`, `INSUFFICIENT_DATA(x)`: x is in that state. The name is as
    /// written (without quotes).
    State(StateValue, String),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A rule that does not parse; the message is the whole error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Word(String),
    Quoted(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// Character index of the token's first character.
    pos: usize,
    /// The token as written.
    text: String,
}

fn error(detail: String) -> RuleError {
    RuleError(format!("Error in AlarmRule [{detail}]"))
}

fn lex(rule: &str) -> Result<(Vec<Token>, usize), RuleError> {
    let chars: Vec<char> = rule.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '"' => {
                let close = chars[i + 1..].iter().position(|&c| c == '"');
                match close {
                    Some(n) => {
                        i += n + 2;
                        Tok::Quoted(chars[start + 1..start + 1 + n].iter().collect())
                    }
                    None => {
                        let text: String = chars[start..].iter().collect();
                        return Err(error(format!(
                            "Unsupported token '{text}' at char {start}, must be: '\"'"
                        )));
                    }
                }
            }
            _ => {
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '"')
                {
                    i += 1;
                }
                Tok::Word(chars[start..i].iter().collect())
            }
        };
        out.push(Token {
            tok,
            pos: start,
            text: chars[start..i].iter().collect(),
        });
    }
    Ok((out, chars.len()))
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(x), .. }) if x == w)
    }

    fn unexpected(&self, must_be: Option<&str>) -> RuleError {
        let suffix = must_be
            .map(|m| format!(", must be: '{m}'"))
            .unwrap_or_default();
        match self.peek() {
            Some(t) => error(format!(
                "Unsupported token '{}' at char {}{suffix}",
                t.text, t.pos
            )),
            None => error(format!(
                "Unexpected end of rule at char {}{suffix}",
                self.end
            )),
        }
    }

    fn expect(&mut self, tok: Tok, shown: &str) -> Result<(), RuleError> {
        if self.peek().map(|t| &t.tok) == Some(&tok) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(Some(shown)))
        }
    }

    fn depth_check(&self, depth: usize) -> Result<(), RuleError> {
        if depth > MAX_DEPTH {
            let pos = self.peek().map(|t| t.pos).unwrap_or(self.end);
            return Err(error(format!(
                "Rule nested deeper than {MAX_DEPTH} levels at char {pos}"
            )));
        }
        Ok(())
    }

    fn or(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let mut terms = vec![self.and(depth)?];
        while self.is_word("OR") {
            self.at += 1;
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let mut terms = vec![self.unary(depth)?];
        while self.is_word("AND") {
            self.at += 1;
            terms.push(self.unary(depth)?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, RuleError> {
        self.depth_check(depth)?;
        if self.is_word("NOT") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, RuleError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected(None));
        };
        match &t.tok {
            Tok::LParen => {
                self.at += 1;
                self.depth_check(depth + 1)?;
                let e = self.or(depth + 1)?;
                self.expect(Tok::RParen, ")")?;
                Ok(e)
            }
            Tok::Word(w) if w == "TRUE" || w == "FALSE" => {
                self.at += 1;
                Ok(Expr::Const(w == "TRUE"))
            }
            Tok::Word(w) => match StateValue::parse(w) {
                Some(state) => {
                    self.at += 1;
                    self.expect(Tok::LParen, "(")?;
                    let name = match self.peek().map(|t| &t.tok) {
                        Some(Tok::Word(n)) | Some(Tok::Quoted(n)) if !n.is_empty() => n.clone(),
                        _ => return Err(self.unexpected(None)),
                    };
                    self.at += 1;
                    self.expect(Tok::RParen, ")")?;
                    Ok(Expr::State(state, name))
                }
                None => Err(self.unexpected(None)),
            },
            _ => Err(self.unexpected(None)),
        }
    }
}

/// Parse a rule.
pub fn parse(rule: &str) -> Result<Expr, RuleError> {
    let (tokens, end) = lex(rule)?;
    let mut p = Parser { tokens, at: 0, end };
    let e = p.or(0)?;
    if p.peek().is_some() {
        return Err(p.unexpected(None));
    }
    Ok(e)
}

impl Expr {
    /// Evaluate with the states of the referenced alarms (`None`: no such alarm, every state
    /// function is false).
    pub fn eval(&self, state_of: &dyn Fn(&str) -> Option<StateValue>) -> bool {
        match self {
            Expr::Const(b) => *b,
            Expr::State(want, name) => state_of(name) == Some(*want),
            Expr::Not(e) => !e.eval(state_of),
            Expr::And(es) => es.iter().all(|e| e.eval(state_of)),
            Expr::Or(es) => es.iter().any(|e| e.eval(state_of)),
        }
    }

    /// The referenced names as written, each once, in rule order.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Const(_) => {}
            Expr::State(_, n) => {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
            Expr::Not(e) => e.collect(out),
            Expr::And(es) | Expr::Or(es) => es.iter().for_each(|e| e.collect(out)),
        }
    }

    /// Functions and literals in the rule (CloudWatch allows 500 elements).
    pub fn elements(&self) -> usize {
        match self {
            Expr::Const(_) | Expr::State(..) => 1,
            Expr::Not(e) => e.elements(),
            Expr::And(es) | Expr::Or(es) => es.iter().map(Expr::elements).sum(),
        }
    }
}

/// The alarm name a rule name refers to: the name itself, or the name inside an alarm ARN of
/// this region and account. A foreign ARN resolves to nothing.
pub fn resolve(name: &str, region: &str, account: &str) -> Option<String> {
    if !name.starts_with("arn:") {
        return Some(name.to_string());
    }
    let prefix = format!("arn:aws:cloudwatch:{region}:{account}:alarm:");
    name.strip_prefix(&prefix)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use StateValue::*;

    fn st(s: StateValue, n: &str) -> Expr {
        Expr::State(s, n.into())
    }

    #[test]
    fn valid_rules() {
        let table: Vec<(&str, Expr)> = vec![
            ("TRUE", Expr::Const(true)),
            ("  FALSE ", Expr::Const(false)),
            ("ALARM(cpu)", st(Alarm, "cpu")),
            ("OK( \"disk full\" )", st(Ok, "disk full")),
            (
                "INSUFFICIENT_DATA(a-b.c_d)",
                st(InsufficientData, "a-b.c_d"),
            ),
            (
                "ALARM(arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu)",
                st(Alarm, "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu"),
            ),
            (
                "ALARM(a) OR ALARM(b) AND NOT ALARM(c)",
                Expr::Or(vec![
                    st(Alarm, "a"),
                    Expr::And(vec![st(Alarm, "b"), Expr::Not(Box::new(st(Alarm, "c")))]),
                ]),
            ),
            (
                "(ALARM(a) OR ALARM(b)) AND NOT (OK(c) OR TRUE)",
                Expr::And(vec![
                    Expr::Or(vec![st(Alarm, "a"), st(Alarm, "b")]),
                    Expr::Not(Box::new(Expr::Or(vec![st(Ok, "c"), Expr::Const(true)]))),
                ]),
            ),
            (
                "NOT NOT TRUE",
                Expr::Not(Box::new(Expr::Not(Box::new(Expr::Const(true))))),
            ),
            ("ALARM(OK)", st(Alarm, "OK")),
            ("ALARM(\"a(b)\")", st(Alarm, "a(b)")),
        ];
        for (rule, want) in table {
            assert_eq!(parse(rule), Result::Ok(want), "{rule}");
        }
    }

    #[test]
    fn invalid_rules_point_at_the_position() {
        let table = [
            ("()", "Unsupported token ')' at char 1"),
            (
                "(ALARM(SampleQueue Oldest Age))",
                "Unsupported token 'Oldest' at char 19, must be: ')'",
            ),
            (
                "ALARM cpu",
                "Unsupported token 'cpu' at char 6, must be: '('",
            ),
            ("ALARM()", "Unsupported token ')' at char 6"),
            ("ALARM(a) AND", "Unexpected end of rule at char 12"),
            ("ALARM(a) ALARM(b)", "Unsupported token 'ALARM' at char 9"),
            ("alarm(a)", "Unsupported token 'alarm' at char 0"),
            ("ALARM(a) and ALARM(b)", "Unsupported token 'and' at char 9"),
            (
                "(ALARM(a)",
                "Unexpected end of rule at char 9, must be: ')'",
            ),
            (
                "ALARM(\"a)",
                "Unsupported token '\"a)' at char 6, must be: '\"'",
            ),
            ("", "Unexpected end of rule at char 0"),
            ("NOT", "Unexpected end of rule at char 3"),
            ("TRUE)", "Unsupported token ')' at char 4"),
            ("ALARM(é) OR x", "Unsupported token 'x' at char 12"),
        ];
        for (rule, want) in table {
            assert_eq!(
                parse(rule),
                Err(RuleError(format!("Error in AlarmRule [{want}]"))),
                "{rule}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let ok = format!("{}TRUE{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}TRUE{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&deep).unwrap_err().0.contains("nested deeper"));
        let nots = format!("{}TRUE", "NOT ".repeat(5000));
        assert!(parse(&nots).is_err());
    }

    #[test]
    fn evaluation_and_precedence() {
        let states = |n: &str| match n {
            "a" => Some(Alarm),
            "b" => Some(Ok),
            "c" => Some(InsufficientData),
            _ => None,
        };
        let table = [
            ("ALARM(a)", true),
            ("ALARM(b)", false),
            ("OK(b) AND INSUFFICIENT_DATA(c)", true),
            ("ALARM(b) OR ALARM(a) AND OK(b)", true),
            ("(ALARM(b) OR ALARM(a)) AND NOT OK(b)", false),
            ("NOT ALARM(b) AND ALARM(a)", true),
            ("NOT (ALARM(b) OR ALARM(a))", false),
            (
                "ALARM(missing) OR OK(missing) OR INSUFFICIENT_DATA(missing)",
                false,
            ),
            ("FALSE OR TRUE AND FALSE", false),
            ("TRUE OR TRUE AND FALSE", true),
        ];
        for (rule, want) in table {
            assert_eq!(parse(rule).unwrap().eval(&states), want, "{rule}");
        }
    }

    #[test]
    fn names_elements_and_arns() {
        let e = parse("ALARM(a) OR (OK(b) AND NOT ALARM(a)) OR TRUE").unwrap();
        assert_eq!(e.names(), vec!["a", "b"]);
        assert_eq!(e.elements(), 4);
        assert_eq!(resolve("cpu", "us-east-1", "1"), Some("cpu".into()));
        assert_eq!(
            resolve("arn:aws:cloudwatch:us-east-1:1:alarm:cpu", "us-east-1", "1"),
            Some("cpu".into())
        );
        assert_eq!(
            resolve("arn:aws:cloudwatch:eu-west-1:1:alarm:cpu", "us-east-1", "1"),
            None
        );
        assert_eq!(
            resolve("arn:aws:cloudwatch:us-east-1:1:alarm:", "us-east-1", "1"),
            None
        );
    }
}
