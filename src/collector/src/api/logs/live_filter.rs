//! The `logEventFilterPattern` check of a Live Tail session.
//!
//! [`compile_filter`] is the single place where a pattern becomes a predicate over messages.
//! Until the full filter-pattern language (JSON, space-delimited, regex, `?` / `-` terms) is
//! available, it supports the unstructured subset: space-separated terms and double-quoted
//! phrases, every one of which must occur in the message (case-sensitive substring match, as
//! CloudWatch matches terms). An empty pattern, or one made only of blanks (`" "`), matches every
//! event. Anything outside the subset is refused with `InvalidParameterException` rather than
//! matched wrongly.

use hostwatch_aws::ApiError;

use super::errors::{constraint, invalid_parameter};

/// Longest pattern AWS accepts.
pub const MAX_PATTERN_LEN: usize = 1024;

/// A compiled pattern: `true` when the message matches.
pub type Filter = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// Compile `pattern` into a predicate.
pub fn compile_filter(pattern: &str) -> Result<Filter, ApiError> {
    if pattern.chars().count() > MAX_PATTERN_LEN {
        return Err(constraint(
            pattern,
            "logEventFilterPattern",
            &format!("Member must have length less than or equal to {MAX_PATTERN_LEN}"),
        ));
    }
    let terms = plain_terms(pattern)?;
    if terms.is_empty() {
        return Ok(Box::new(|_| true));
    }
    Ok(Box::new(move |m: &str| {
        terms.iter().all(|t| m.contains(t.as_str()))
    }))
}

/// Split a plain-term pattern into its terms (quotes removed, blank phrases dropped).
fn plain_terms(pattern: &str) -> Result<Vec<String>, ApiError> {
    let unsupported = |what: &str| {
        invalid_parameter(format!(
            "Invalid filter pattern '{pattern}': {what} is not supported by this collector yet; use plain terms or \"quoted phrases\"."
        ))
    };
    let trimmed = pattern.trim_start();
    if trimmed.starts_with('{') {
        return Err(unsupported("a JSON pattern"));
    }
    if trimmed.starts_with('[') {
        return Err(unsupported("a space-delimited pattern"));
    }
    let mut terms = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '"' {
            chars.next();
            let mut phrase = String::new();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => {
                        if let Some(next) = chars.next() {
                            phrase.push(next);
                        }
                    }
                    other => phrase.push(other),
                }
            }
            if !closed {
                return Err(invalid_parameter(format!(
                    "Invalid filter pattern '{pattern}': unterminated quoted phrase."
                )));
            }
            if !phrase.trim().is_empty() {
                terms.push(phrase);
            }
            continue;
        }
        let mut term = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            term.push(c);
            chars.next();
        }
        if term.starts_with('?') {
            return Err(unsupported("an OR term (?term)"));
        }
        if term.starts_with('-') && term.len() > 1 {
            return Err(unsupported("an exclusion term (-term)"));
        }
        if term.starts_with('%') && term.ends_with('%') && term.len() > 1 {
            return Err(unsupported("a regular expression"));
        }
        if term.contains('"') {
            return Err(invalid_parameter(format!(
                "Invalid filter pattern '{pattern}': a quote inside a term."
            )));
        }
        terms.push(term);
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, msg: &str) -> bool {
        compile_filter(pattern).unwrap()(msg)
    }

    #[test]
    fn terms_and_phrases() {
        // Step table: (pattern, message, matches).
        let table: &[(&str, &str, bool)] = &[
            ("", "anything", true),
            ("   ", "anything", true),
            ("\" \"", "anything", true),
            ("ERROR", "an ERROR here", true),
            ("ERROR", "an error here", false),
            ("ERROR", "ERRORNEOUS", true),
            ("ERROR 404", "ERROR: GET / 404", true),
            ("ERROR 404", "ERROR: GET / 200", false),
            (
                "\"INTERNAL SERVER ERROR\"",
                "500 INTERNAL SERVER ERROR",
                true,
            ),
            ("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER", false),
            ("\"a \\\"q\\\" b\" x", "x a \"q\" b", true),
            ("ERROR][grpc", "[ERROR][grpc] failed", true),
            ("ERROR][grpc", "[ERROR] [grpc] failed", false),
            ("-", "a - b", true),
        ];
        for (p, m, want) in table {
            assert_eq!(matches(p, m), *want, "pattern {p:?} on {m:?}");
        }
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        for p in [
            "{ $.level = \"ERROR\" }",
            "[ip, user, ...]",
            "?ERROR ?WARN",
            "ERROR -DEBUG",
            "%colou?r%",
            "\"open",
            "a\"b",
        ] {
            let e = compile_filter(p).err().unwrap();
            assert_eq!(e.code, "InvalidParameterException", "{p}");
        }
        let long = "x".repeat(1025);
        let e = compile_filter(&long).err().unwrap();
        assert!(e
            .message
            .unwrap_or_default()
            .ends_with("Member must have length less than or equal to 1024"));
        assert!(compile_filter(&"x".repeat(1024)).is_ok());
    }
}
