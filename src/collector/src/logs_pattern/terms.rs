//! Unstructured patterns: terms, quoted phrases, `-` exclusions, `?` groups, `%regex%`.
//!
//! Compiled to an OR of groups, each an AND of required matchers and excluded matchers. Literal
//! terms are searched with a prebuilt `memmem` finder, which is what makes FilterLogEvents fast:
//! a whole decompressed block is checked for a group's required literals before any event of it
//! is looked at ([`TermPattern::may_match_any`]).

use memchr::memmem::Finder;
use regex::Regex;

use super::value;
use super::PatternError;

#[derive(Debug, Clone)]
enum Matcher {
    /// A literal searched as a substring.
    Literal(Box<Finder<'static>>),
    /// `" "`: AWS's "match everything" phrase.
    Any,
    Regex(Regex),
}

impl Matcher {
    fn is_match(&self, message: &str) -> bool {
        match self {
            Matcher::Literal(f) => f.find(message.as_bytes()).is_some(),
            Matcher::Any => true,
            Matcher::Regex(r) => r.is_match(message),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    required: Vec<Matcher>,
    excluded: Vec<Matcher>,
}

impl Group {
    fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|m| m.is_match(message))
            && !self.excluded.iter().any(|m| m.is_match(message))
    }

    fn is_empty(&self) -> bool {
        self.required.is_empty() && self.excluded.is_empty()
    }
}

/// A compiled term pattern.
#[derive(Debug, Clone)]
pub struct TermPattern {
    groups: Vec<Group>,
    regexes: usize,
}

fn plain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl TermPattern {
    /// Parse a (trimmed, non-empty) term pattern.
    pub fn parse(s: &str) -> Result<TermPattern, PatternError> {
        let mut groups: Vec<Group> = vec![Group::default()];
        let mut regexes = 0;
        let mut rest = s.trim_start();
        while !rest.is_empty() {
            let (optional, exclude, body) = match rest.as_bytes()[0] {
                b'?' => (true, false, &rest[1..]),
                b'-' => (false, true, &rest[1..]),
                _ => (false, false, rest),
            };
            let (matcher, used) = if body.starts_with('"') {
                let (text, n) = value::quoted(body).ok_or_else(|| {
                    PatternError::term(body.split_whitespace().next().unwrap_or(body))
                })?;
                if text.is_empty() {
                    return Err(PatternError::term("\"\""));
                }
                let m = if text.trim().is_empty() {
                    Matcher::Any
                } else {
                    Matcher::Literal(Box::new(Finder::new(text.as_bytes()).into_owned()))
                };
                (m, n)
            } else if body.starts_with('%') {
                let (r, n) = value::percent_regex(body)?;
                regexes += 1;
                (Matcher::Regex(r), n)
            } else {
                let end = body.find(char::is_whitespace).unwrap_or(body.len());
                let word = &body[..end];
                if word.is_empty() || !word.chars().all(plain_char) {
                    let shown = &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())];
                    return Err(PatternError::term(shown));
                }
                (
                    Matcher::Literal(Box::new(Finder::new(word.as_bytes()).into_owned())),
                    end,
                )
            };
            let after = &body[used..];
            if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                return Err(PatternError::term(
                    &rest[..rest.find(char::is_whitespace).unwrap_or(rest.len())],
                ));
            }
            if optional {
                let last_empty = groups.last().is_some_and(Group::is_empty);
                if !last_empty {
                    groups.push(Group::default());
                }
            }
            let g = groups.last_mut().ok_or_else(PatternError::invalid)?;
            if exclude {
                g.excluded.push(matcher);
            } else {
                g.required.push(matcher);
            }
            rest = after.trim_start();
        }
        groups.retain(|g| !g.is_empty());
        Ok(TermPattern { groups, regexes })
    }

    /// A literal every matching message contains (one group with a required literal), so a
    /// scan can look for it once over many messages.
    pub fn required_literal(&self) -> Option<&Finder<'static>> {
        match self.groups.as_slice() {
            [g] => g.required.iter().find_map(|m| match m {
                Matcher::Literal(f) => Some(&**f),
                _ => None,
            }),
            _ => None,
        }
    }

    pub fn regex_count(&self) -> usize {
        self.regexes
    }

    /// True when every message matches (only `" "`-style phrases).
    pub fn matches_all(&self) -> bool {
        self.groups.is_empty()
            || self.groups.iter().any(|g| {
                g.excluded.is_empty() && g.required.iter().all(|m| matches!(m, Matcher::Any))
            })
    }

    pub fn matches(&self, message: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|g| g.matches(message))
    }

    /// `false` only when no message inside `haystack` can match: every group has a required
    /// literal that does not occur in it.
    pub fn may_match_any(&self, haystack: &[u8]) -> bool {
        if self.groups.is_empty() {
            return true;
        }
        self.groups.iter().any(|g| {
            g.required.iter().all(|m| match m {
                Matcher::Literal(f) => f.find(haystack).is_some(),
                _ => true,
            })
        })
    }
}
