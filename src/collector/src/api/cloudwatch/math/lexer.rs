//! Tokens of a metric math expression.
//!
//! - numbers: `12`, `1.5`, `.5`, `1e-36`, `2E3` (always non-negative; a leading `-` is the unary
//!   operator);
//! - ids: `[a-z][A-Za-z0-9_]*` (references to other queries of the request);
//! - words: `[A-Z][A-Za-z0-9_]*` (function names and keywords such as `REPEAT`, `ASC`, `AVG`);
//!   `AND` and `OR` are the logical operators;
//! - strings: `"..."`, `'...'` or typographic `“...”` (for `METRICS("substr")`);
//! - operators `+ - * / ^ == != <= >= < > && ||`, punctuation `( ) [ ] ,`.
//!
//! Every token records its **position: the 1-based character index** of its first character in
//! the expression; errors cite it (`Syntax error at position 7`).

use super::error::MathError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Number(f64),
    /// A lowercase-first identifier.
    Id(String),
    /// An uppercase-first word: a function name or a keyword.
    Word(String),
    Str(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
    And,
    Or,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

/// A token with its 1-based character position.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Split an expression into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, MathError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = |a: char, b: char| c == a && chars.get(i + 1) == Some(&b);
        let (tok, len) = if two('=', '=') {
            (Tok::Eq, 2)
        } else if two('!', '=') {
            (Tok::Ne, 2)
        } else if two('<', '=') {
            (Tok::Le, 2)
        } else if two('>', '=') {
            (Tok::Ge, 2)
        } else if two('&', '&') {
            (Tok::And, 2)
        } else if two('|', '|') {
            (Tok::Or, 2)
        } else if let Some(t) = single(c) {
            (t, 1)
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            number(&chars, i)?
        } else if c.is_ascii_alphabetic() {
            let len = chars[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            let word: String = chars[i..i + len].iter().collect();
            let tok = match word.as_str() {
                "AND" => Tok::And,
                "OR" => Tok::Or,
                _ if c.is_ascii_lowercase() => Tok::Id(word),
                _ => Tok::Word(word),
            };
            (tok, len)
        } else if let Some(close) = closing_quote(c) {
            let body: String = chars[i + 1..]
                .iter()
                .take_while(|ch| **ch != close)
                .collect();
            let len = body.chars().count() + 2;
            if chars.get(i + len - 1) != Some(&close) {
                return Err(MathError::Syntax(pos));
            }
            (Tok::Str(body), len)
        } else {
            return Err(MathError::Syntax(pos));
        };
        out.push(Token { tok, pos });
        i += len;
    }
    Ok(out)
}

fn single(c: char) -> Option<Tok> {
    Some(match c {
        '+' => Tok::Plus,
        '-' => Tok::Minus,
        '*' => Tok::Star,
        '/' => Tok::Slash,
        '^' => Tok::Caret,
        '<' => Tok::Lt,
        '>' => Tok::Gt,
        '(' => Tok::LParen,
        ')' => Tok::RParen,
        '[' => Tok::LBracket,
        ']' => Tok::RBracket,
        ',' => Tok::Comma,
        _ => return None,
    })
}

fn closing_quote(c: char) -> Option<char> {
    match c {
        '"' => Some('"'),
        '\'' => Some('\''),
        '\u{201c}' => Some('\u{201d}'),
        _ => None,
    }
}

/// `digits [. digits] [(e|E) [+|-] digits]` or `. digits ...`.
fn number(chars: &[char], start: usize) -> Result<(Tok, usize), MathError> {
    let digits = |from: usize| {
        chars[from.min(chars.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut end = start + digits(start);
    if chars.get(end) == Some(&'.') {
        end += 1 + digits(end + 1);
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let mut j = end + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        let n = digits(j);
        if n == 0 {
            return Err(MathError::Syntax(end + 1));
        }
        end = j + n;
    }
    let text: String = chars[start..end].iter().collect();
    let v: f64 = text.parse().map_err(|_| MathError::Syntax(start + 1))?;
    if !v.is_finite() {
        return Err(MathError::Syntax(start + 1));
    }
    Ok((Tok::Number(v), end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn token_table() {
        let cases: &[(&str, Vec<Tok>)] = &[
            ("12", vec![Tok::Number(12.0)]),
            ("1.5", vec![Tok::Number(1.5)]),
            (".5", vec![Tok::Number(0.5)]),
            ("1e-36", vec![Tok::Number(1e-36)]),
            ("2E3", vec![Tok::Number(2000.0)]),
            ("m1", vec![Tok::Id("m1".into())]),
            ("errors_5xx", vec![Tok::Id("errors_5xx".into())]),
            ("FILL", vec![Tok::Word("FILL".into())]),
            ("AND OR && ||", vec![Tok::And, Tok::Or, Tok::And, Tok::Or]),
            (
                "== != <= >= < >",
                vec![Tok::Eq, Tok::Ne, Tok::Le, Tok::Ge, Tok::Lt, Tok::Gt],
            ),
            (
                "+-*/^",
                vec![Tok::Plus, Tok::Minus, Tok::Star, Tok::Slash, Tok::Caret],
            ),
            (
                "([,])",
                vec![
                    Tok::LParen,
                    Tok::LBracket,
                    Tok::Comma,
                    Tok::RBracket,
                    Tok::RParen,
                ],
            ),
            ("\"4xx\"", vec![Tok::Str("4xx".into())]),
            ("'a b'", vec![Tok::Str("a b".into())]),
            ("\u{201c}5xx\u{201d}", vec![Tok::Str("5xx".into())]),
            (
                "m1-1",
                vec![Tok::Id("m1".into()), Tok::Minus, Tok::Number(1.0)],
            ),
        ];
        for (src, want) in cases {
            assert_eq!(&toks(src), want, "{src}");
        }
    }

    #[test]
    fn positions_are_one_based_characters() {
        let t = lex("  m1 +\u{201c}x\u{201d}* 2").unwrap();
        let pos: Vec<usize> = t.iter().map(|t| t.pos).collect();
        assert_eq!(pos, vec![3, 6, 7, 10, 12]);
    }

    #[test]
    fn errors_cite_the_position() {
        for (src, pos) in [
            ("m1 $ 2", 4),
            ("m1 = 2", 4),
            ("\"open", 1),
            ("1e+", 2),
            ("m1 & m2", 4),
            ("1e999", 1),
        ] {
            assert_eq!(lex(src), Err(MathError::Syntax(pos)), "{src}");
        }
    }
}
