//! Comparison values shared by JSON and space-delimited patterns, and `%regex%` checking.

use regex::Regex;

use super::PatternError;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Parse the longest operator at the start of `s`; returns it and its length.
    pub fn lex(s: &str) -> Option<(Op, usize)> {
        let b = s.as_bytes();
        match (b.first(), b.get(1)) {
            (Some(b'!'), Some(b'=')) => Some((Op::Ne, 2)),
            (Some(b'<'), Some(b'=')) => Some((Op::Le, 2)),
            (Some(b'>'), Some(b'=')) => Some((Op::Ge, 2)),
            (Some(b'='), _) => Some((Op::Eq, 1)),
            (Some(b'<'), _) => Some((Op::Lt, 1)),
            (Some(b'>'), _) => Some((Op::Gt, 1)),
            _ => None,
        }
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone)]
pub enum Literal {
    /// Exact text (quoted, or bare without `*`); `num` when it also reads as a number.
    Text { text: String, num: Option<f64> },
    /// Text with `*` wildcards (a lone `*` matches any value).
    Glob(String),
    /// `%regex%`.
    Regex(Regex),
}

impl Literal {
    /// A bare (unquoted) value.
    pub fn bare(s: &str) -> Literal {
        if s.contains('*') {
            Literal::Glob(s.to_string())
        } else {
            Literal::Text {
                text: s.to_string(),
                num: number(s),
            }
        }
    }

    /// A quoted value (already unescaped); `*` stays a wildcard, as AWS documents for strings.
    pub fn quoted(s: &str) -> Literal {
        if s.contains('*') {
            Literal::Glob(s.to_string())
        } else {
            Literal::Text {
                text: s.to_string(),
                num: None,
            }
        }
    }

    pub fn is_regex(&self) -> bool {
        matches!(self, Literal::Regex(_))
    }

    /// Check that `op` can be used with this literal (order comparisons need a number).
    pub fn check(&self, op: Op) -> Result<(), PatternError> {
        match (op, self) {
            (Op::Eq | Op::Ne, _) => Ok(()),
            (_, Literal::Text { num: Some(_), .. }) => Ok(()),
            _ => Err(PatternError::invalid()),
        }
    }

    /// Compare a present scalar value (its text) with this literal.
    pub fn compare(&self, op: Op, value: &str) -> bool {
        match op {
            Op::Eq => self.equals(value),
            Op::Ne => !self.equals(value),
            _ => {
                let (
                    Literal::Text {
                        num: Some(want), ..
                    },
                    Some(have),
                ) = (self, number(value))
                else {
                    return false;
                };
                match op {
                    Op::Lt => have < *want,
                    Op::Le => have <= *want,
                    Op::Gt => have > *want,
                    Op::Ge => have >= *want,
                    Op::Eq | Op::Ne => false,
                }
            }
        }
    }

    fn equals(&self, value: &str) -> bool {
        match self {
            Literal::Text { text, num } => {
                value == text
                    || match (num, number(value)) {
                        (Some(a), Some(b)) => a == &b,
                        _ => false,
                    }
            }
            Literal::Glob(g) => glob(g.as_bytes(), value.as_bytes()),
            Literal::Regex(r) => r.is_match(value),
        }
    }
}

/// A decimal or scientific number (`12`, `-1.5`, `+3`, `1e-3`), as AWS accepts them.
pub fn number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let digits = b.iter().any(u8::is_ascii_digit);
    let allowed = b
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !digits || !allowed {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `*`-wildcard match of the whole `text`.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// The text of a JSON scalar (`null`, objects and arrays have none).
pub fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compile the body of a `%...%` regular expression after checking AWS's character rules.
pub fn regex(body: &str) -> Result<Regex, PatternError> {
    let ok = !body.is_empty()
        && body.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'_' | b'#'
                        | b'='
                        | b'@'
                        | b'/'
                        | b';'
                        | b','
                        | b'-'
                        | b':'
                        | b'^'
                        | b'$'
                        | b'?'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                        | b'|'
                        | b'\\'
                        | b'*'
                        | b'+'
                        | b'.'
                )
        });
    if !ok {
        return Err(PatternError::term(&format!("%{body}%")));
    }
    regex::RegexBuilder::new(body)
        .size_limit(1 << 20)
        .build()
        .map_err(|_| PatternError::invalid())
}

/// Read a `"..."` string starting at `s[0] == '"'`: the unescaped text and the bytes consumed.
pub fn quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// Read a `%...%` regex starting at `s[0] == '%'`: the compiled regex and the bytes consumed.
pub fn percent_regex(s: &str) -> Result<(Regex, usize), PatternError> {
    let end = s[1..].find('%').ok_or_else(PatternError::invalid)? + 1;
    Ok((regex(&s[1..end])?, end + 1))
}
