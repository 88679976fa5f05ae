//! Tokens of the Logs Insights query language.
//!
//! The lexer turns the query text into [`Token`]s, each with its character span, so the parser
//! can report errors at a position as AWS does (`line L and position P`, both 1-based).
//!
//! Context-dependent choices, all made here so the parser sees plain tokens:
//! * `/` starts a regex literal unless the previous token ends an operand (a field, number,
//!   string, duration, `)` or `]`), in which case it divides. After `parse <field>` it always
//!   starts a regex (`parse @message /(?<a>\d+)/`).
//! * A number followed directly by letters is a duration (`5m`, `1h`, `30s`); `1e3` and `2.5E-1`
//!   stay numbers.
//! * An identifier followed directly by `://` is a bare URL string up to the next space, `|`,
//!   `)` or `,` (the AWS documentation filters on `referrer= http://34.250.27.141/`).
//! * `#` starts a comment that runs to the end of the line.
//! * Field names are letters, digits, `_`, `@`, `.` and `$`; any other name is written in
//!   backticks (`` `foo-bar` ``).

use super::error::QueryError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A field name or keyword (keywords are recognised by the parser, case-insensitively).
    Ident(String),
    /// A field name written in backticks.
    Quoted(String),
    Str(String),
    Regex(String),
    Num(f64),
    /// A period such as `5m`: the number and its unit.
    Duration(f64, String),
    Pipe,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eof,
}

impl Tok {
    /// The token as it would appear in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => s.clone(),
            Tok::Quoted(s) => format!("`{s}`"),
            Tok::Str(s) => format!("\"{s}\""),
            Tok::Regex(s) => format!("/{s}/"),
            Tok::Num(n) => super::value::format_number(*n),
            Tok::Duration(n, u) => format!("{}{u}", super::value::format_number(*n)),
            Tok::Pipe => "|".into(),
            Tok::Comma => ",".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
            Tok::Eq => "=".into(),
            Tok::Ne => "!=".into(),
            Tok::Lt => "<".into(),
            Tok::Le => "<=".into(),
            Tok::Gt => ">".into(),
            Tok::Ge => ">=".into(),
            Tok::Match => "=~".into(),
            Tok::Plus => "+".into(),
            Tok::Minus => "-".into(),
            Tok::Star => "*".into(),
            Tok::Slash => "/".into(),
            Tok::Percent => "%".into(),
            Tok::Caret => "^".into(),
            Tok::Eof => "<EOF>".into(),
        }
    }

    /// `true` for an identifier equal to `kw` ignoring ASCII case.
    pub fn is_kw(&self, kw: &str) -> bool {
        matches!(self, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn ends_operand(&self) -> bool {
        match self {
            Tok::Ident(s) => !KEYWORDS.iter().any(|k| s.eq_ignore_ascii_case(k)),
            Tok::Quoted(_)
            | Tok::Str(_)
            | Tok::Regex(_)
            | Tok::Num(_)
            | Tok::Duration(..)
            | Tok::RParen
            | Tok::RBracket => true,
            _ => false,
        }
    }
}

/// Words after which `/` starts a regex.
const KEYWORDS: &[&str] = &[
    "like", "and", "or", "not", "in", "as", "by", "filter", "parse", "fields", "display",
];

/// A token and where it is: character offsets `[start, end)` into the query, and the 1-based
/// line and column of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub col: usize,
}

/// Split `src` into tokens; the last one is [`Tok::Eof`].
pub fn lex(src: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<char> = src.chars().collect();
    let mut lx = Lexer {
        chars: &chars,
        pos: 0,
        line: 1,
        col: 1,
        out: Vec::new(),
    };
    lx.run()?;
    Ok(lx.out)
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
    line: usize,
    col: usize,
    out: Vec<Token>,
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '.' | '$')
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.pos + k).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn err(&self, line: usize, col: usize, start: usize, what: &str) -> QueryError {
        QueryError::at(line, col, start, self.pos.max(start + 1), what)
    }

    /// `/` starts a regex here (see the module docs).
    fn regex_allowed(&self) -> bool {
        let n = self.out.len();
        let Some(last) = self.out.last() else {
            return true;
        };
        if n >= 2 && self.out[n - 2].tok.is_kw("parse") {
            return true;
        }
        !last.tok.ends_operand()
    }

    fn run(&mut self) -> Result<(), QueryError> {
        loop {
            while self.peek(0).is_some_and(char::is_whitespace) {
                self.bump();
            }
            let (start, line, col) = (self.pos, self.line, self.col);
            let Some(c) = self.peek(0) else {
                self.out.push(Token {
                    tok: Tok::Eof,
                    start,
                    end: start,
                    line,
                    col,
                });
                return Ok(());
            };
            let tok = match c {
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                    continue;
                }
                '"' | '\'' => self.string(c, line, col)?,
                '`' => {
                    self.bump();
                    let mut s = String::new();
                    loop {
                        match self.bump() {
                            None => {
                                return Err(self.err(line, col, start, "unterminated field name"))
                            }
                            Some('`') => break,
                            Some(ch) => s.push(ch),
                        }
                    }
                    Tok::Quoted(s)
                }
                '/' if self.regex_allowed() => {
                    self.bump();
                    let mut s = String::new();
                    loop {
                        match self.bump() {
                            None => return Err(self.err(line, col, start, "unterminated regex")),
                            Some('\\') if self.peek(0) == Some('/') => {
                                self.bump();
                                s.push('/');
                            }
                            Some('\\') => {
                                s.push('\\');
                                if let Some(n) = self.bump() {
                                    s.push(n);
                                }
                            }
                            Some('/') => break,
                            Some(ch) => s.push(ch),
                        }
                    }
                    Tok::Regex(s)
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number(line, col)?
                }
                c if ident_char(c) => {
                    let mut s = String::new();
                    while let Some(ch) = self.peek(0).filter(|c| ident_char(*c)) {
                        s.push(ch);
                        self.bump();
                    }
                    if self.peek(0) == Some(':')
                        && self.peek(1) == Some('/')
                        && self.peek(2) == Some('/')
                    {
                        while let Some(ch) = self
                            .peek(0)
                            .filter(|c| !c.is_whitespace() && !matches!(c, '|' | ')' | ','))
                        {
                            s.push(ch);
                            self.bump();
                        }
                        Tok::Str(s)
                    } else {
                        Tok::Ident(s)
                    }
                }
                _ => {
                    self.bump();
                    let two = |lx: &mut Self, next: char, yes: Tok, no: Tok| {
                        if lx.peek(0) == Some(next) {
                            lx.bump();
                            yes
                        } else {
                            no
                        }
                    };
                    match c {
                        '|' => Tok::Pipe,
                        ',' => Tok::Comma,
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        '+' => Tok::Plus,
                        '-' => Tok::Minus,
                        '*' => Tok::Star,
                        '/' => Tok::Slash,
                        '%' => Tok::Percent,
                        '^' => Tok::Caret,
                        '<' => two(self, '=', Tok::Le, Tok::Lt),
                        '>' => two(self, '=', Tok::Ge, Tok::Gt),
                        '=' => match self.peek(0) {
                            Some('~') => {
                                self.bump();
                                Tok::Match
                            }
                            Some('=') => {
                                self.bump();
                                Tok::Eq
                            }
                            _ => Tok::Eq,
                        },
                        '!' if self.peek(0) == Some('=') => {
                            self.bump();
                            Tok::Ne
                        }
                        other => {
                            return Err(QueryError::unexpected(
                                &other.to_string(),
                                line,
                                col,
                                start,
                                self.pos,
                            ))
                        }
                    }
                }
            };
            self.out.push(Token {
                tok,
                start,
                end: self.pos,
                line,
                col,
            });
        }
    }

    fn string(&mut self, quote: char, line: usize, col: usize) -> Result<Tok, QueryError> {
        let start = self.pos;
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err(line, col, start, "unterminated string")),
                Some('\\') => match self.bump() {
                    Some('n') => s.push('\n'),
                    Some('t') => s.push('\t'),
                    Some('r') => s.push('\r'),
                    Some(ch) => s.push(ch),
                    None => return Err(self.err(line, col, start, "unterminated string")),
                },
                Some(ch) if ch == quote => return Ok(Tok::Str(s)),
                Some(ch) => s.push(ch),
            }
        }
    }

    fn number(&mut self, line: usize, col: usize) -> Result<Tok, QueryError> {
        let start = self.pos;
        let mut s = String::new();
        while let Some(ch) = self.peek(0).filter(|c| c.is_ascii_digit() || *c == '.') {
            s.push(ch);
            self.bump();
        }
        let exp = matches!(self.peek(0), Some('e' | 'E'))
            && (self.peek(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek(1), Some('+' | '-'))
                    && self.peek(2).is_some_and(|c| c.is_ascii_digit())));
        if exp {
            for _ in 0..2 {
                if let Some(ch) = self.bump() {
                    s.push(ch);
                }
            }
            while let Some(ch) = self.peek(0).filter(char::is_ascii_digit) {
                s.push(ch);
                self.bump();
            }
        }
        let n: f64 = s
            .parse()
            .map_err(|_| QueryError::unexpected(&s, line, col, start, self.pos))?;
        if self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            let mut unit = String::new();
            while let Some(ch) = self.peek(0).filter(|c| c.is_ascii_alphanumeric()) {
                unit.push(ch);
                self.bump();
            }
            return Ok(Tok::Duration(n, unit));
        }
        Ok(Tok::Num(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn regex_or_division() {
        assert_eq!(
            toks("@m / 1000"),
            vec![
                Tok::Ident("@m".into()),
                Tok::Slash,
                Tok::Num(1000.0),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("filter @message like /a\\/b/"),
            vec![
                Tok::Ident("filter".into()),
                Tok::Ident("@message".into()),
                Tok::Ident("like".into()),
                Tok::Regex("a/b".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("parse @message /(?<x>\\d+)/")[2],
            Tok::Regex("(?<x>\\d+)".into())
        );
        assert_eq!(toks("f =~ /E*/")[2], Tok::Regex("E*".into()));
    }

    #[test]
    fn numbers_durations_strings() {
        assert_eq!(
            toks("5m 1.5 1e3 2E-1 'a\"b' \"c\\\"d\" `foo-bar`"),
            vec![
                Tok::Duration(5.0, "m".into()),
                Tok::Num(1.5),
                Tok::Num(1000.0),
                Tok::Num(0.2),
                Tok::Str("a\"b".into()),
                Tok::Str("c\"d".into()),
                Tok::Quoted("foo-bar".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_urls_operators() {
        assert_eq!(
            toks("a # | filter x\n| b= http://1.2.3.4/ and c!=d<=e>=f=~/g/"),
            vec![
                Tok::Ident("a".into()),
                Tok::Pipe,
                Tok::Ident("b".into()),
                Tok::Eq,
                Tok::Str("http://1.2.3.4/".into()),
                Tok::Ident("and".into()),
                Tok::Ident("c".into()),
                Tok::Ne,
                Tok::Ident("d".into()),
                Tok::Le,
                Tok::Ident("e".into()),
                Tok::Ge,
                Tok::Ident("f".into()),
                Tok::Match,
                Tok::Regex("g".into()),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn positions_and_errors() {
        let t = lex("fields a\n  | x").unwrap();
        assert_eq!((t[2].line, t[2].col, t[2].start), (2, 3, 11));
        let e = lex("fields a ; b").unwrap_err();
        assert_eq!(
            e.message,
            "unexpected symbol found ; at line 1 and position 10"
        );
        assert!(lex("filter a like \"x").is_err());
    }
}
