//! The `wildcard` matcher: `*` matches any run of characters (also none), `\*` is a literal star
//! and `\\` a literal backslash.
//!
//! A pattern is kept as its literal segments between stars. Invariants: `segments.len()` is the
//! number of stars plus one; two stars are never adjacent (rejected at parse time), so every
//! inner segment is non-empty. Matching is the greedy star algorithm: anchor the first segment
//! as a prefix and the last as a suffix, then find each inner segment leftmost in what is left;
//! with only `*` as a metacharacter the leftmost choice is always safe, so it runs in
//! O(len(value) * len(pattern)) without backtracking.

use super::error::PatternError;

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    segments: Vec<String>,
}

impl Wildcard {
    /// Parse `text` (the JSON string value of a `wildcard` matcher).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut segments = vec![String::new()];
        let mut chars = text.chars().enumerate().peekable();
        let mut previous_star = false;
        while let Some((pos, c)) = chars.next() {
            match c {
                '*' => {
                    if previous_star {
                        return Err(PatternError::invalid(format!(
                            "Consecutive wildcard characters at pos {pos}"
                        )));
                    }
                    previous_star = true;
                    segments.push(String::new());
                    continue;
                }
                '\\' => match chars.next() {
                    Some((_, next @ ('*' | '\\'))) => push_char(&mut segments, next),
                    _ => {
                        return Err(PatternError::invalid(format!(
                            "Invalid escape character at pos {pos}"
                        )))
                    }
                },
                other => push_char(&mut segments, other),
            }
            previous_star = false;
        }
        Ok(Wildcard { segments })
    }

    /// Whether `value` matches the whole pattern.
    pub fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.segments.split_first() {
            Some(split) => split,
            None => return value.is_empty(),
        };
        let Some(mut remaining) = value.strip_prefix(first.as_str()) else {
            return false;
        };
        let Some((last, inner)) = rest.split_last() else {
            return remaining.is_empty();
        };
        for segment in inner {
            match remaining.find(segment.as_str()) {
                Some(at) => remaining = &remaining[at + segment.len()..],
                None => return false,
            }
        }
        remaining.ends_with(last.as_str())
    }
}

fn push_char(segments: &mut [String], c: char) {
    if let Some(last) = segments.last_mut() {
        last.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("*", "anything", true),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("a*", "abc", true),
            ("a*", "bac", false),
            ("*c", "abc", true),
            ("*c", "abcd", false),
            ("a*c", "ac", true),
            ("a*c", "abbbc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*ab*ab*", "xabyab", true),
            ("*ab*ab*", "xab", false),
            (
                "arn:aws:events:*:event-bus/*",
                "arn:aws:events:us-east-1:event-bus/x",
                true,
            ),
            (
                "arn:aws:events:*:event-bus/*",
                "arn:aws:events:us-east-1:rule/x",
                false,
            ),
            (r"a\*b", "a*b", true),
            (r"a\*b", "axb", false),
            (r"a\\b", r"a\b", true),
            (r"a\\*", r"a\anything", true),
        ];
        for (pattern, value, want) in cases {
            let w = Wildcard::parse(pattern).unwrap();
            assert_eq!(w.matches(value), *want, "{pattern:?} vs {value:?}");
        }
    }

    #[test]
    fn invalid_table() {
        let cases: &[(&str, &str)] = &[
            ("a**b", "Consecutive wildcard characters at pos 2"),
            (
                "arn:aws:events:us-east-1:**",
                "Consecutive wildcard characters at pos 26",
            ),
            (r"a\b", "Invalid escape character at pos 1"),
            (r"ab\", "Invalid escape character at pos 2"),
        ];
        for (pattern, reason) in cases {
            assert_eq!(
                Wildcard::parse(pattern),
                Err(PatternError::invalid(*reason)),
                "{pattern:?}"
            );
        }
    }
}
