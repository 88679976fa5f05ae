//! Regular expressions in the config: check them at load time and make them usable by the
//! `regex` crate.
//!
//! Configs are written for RE2 syntax, which the `regex` crate follows closely. The one
//! difference that real configs hit: RE2 takes a `{` that does not start a valid counted
//! repetition (`{n}`, `{n,}`, `{n,m}`) as a literal brace, e.g. the pattern
//! `{timestampe_format}` (a typo of the `{timestamp_format}` keyword) matches those literal
//! characters. The `regex` crate rejects it, so such braces are escaped before compiling.

use regex::Regex;

/// Rewrites `pattern` for the `regex` crate and compiles it. Returns the rewritten pattern
/// (what the runtime must compile) or a one-line reason.
pub fn compile(pattern: &str) -> Result<String, String> {
    let rewritten = escape_literal_braces(pattern);
    match Regex::new(&rewritten) {
        Ok(_) => Ok(rewritten),
        Err(e) => Err(one_line_reason(&e)),
    }
}

/// The `error: ...` line of a (multi-line) regex parse error, or the whole text.
fn one_line_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| text.lines().next().unwrap_or("").trim().to_string())
}

/// Escapes every `{` outside a character class that does not begin `{digits}`,
/// `{digits,}` or `{digits,digits}`.
fn escape_literal_braces(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.get(i + 1) {
                    out.push(*next);
                    i += 1;
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal member of the class.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
            }
            '[' if in_class && chars.get(i + 1) == Some(&':') => {
                // A POSIX class such as `[:alpha:]` inside a bracket expression.
                let rest: String = chars[i..].iter().collect();
                if let Some(end) = rest.find(":]") {
                    out.push_str(&rest[..end + 2]);
                    i += rest[..end + 2].chars().count();
                    continue;
                }
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class && !is_repetition(&chars[i..]) => out.push_str("\\{"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether `s` (starting at a `{`) is a counted repetition `{n}`, `{n,}` or `{n,m}`.
fn is_repetition(s: &[char]) -> bool {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while s.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if s.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    s.get(i) == Some(&'}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_braces_are_escaped() {
        assert_eq!(
            compile("{timestampe_format}").unwrap(),
            "\\{timestampe_format}"
        );
        assert_eq!(compile("a{2}b{1,}c{1,3}").unwrap(), "a{2}b{1,}c{1,3}");
        assert_eq!(compile("x{").unwrap(), "x\\{");
        assert_eq!(compile("[{]").unwrap(), "[{]");
        assert_eq!(compile("\\{a}").unwrap(), "\\{a}");
        assert_eq!(compile("[]{]").unwrap(), "[]{]");
        assert_eq!(compile("[[:alpha:]{]").unwrap(), "[[:alpha:]{]");
    }

    #[test]
    fn rewritten_pattern_matches_like_re2() {
        let p = compile("{timestampe_format}").unwrap();
        assert!(Regex::new(&p).unwrap().is_match("x {timestampe_format} y"));
        let p = compile("StatusCode 4\\d{2}").unwrap();
        assert!(Regex::new(&p).unwrap().is_match("StatusCode 404"));
    }

    #[test]
    fn bad_patterns_give_one_line_reasons() {
        assert_eq!(compile("(abc").unwrap_err(), "unclosed group");
        assert_eq!(compile("[a-").unwrap_err().lines().count(), 1);
    }
}
