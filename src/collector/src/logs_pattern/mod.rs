//! The CloudWatch Logs filter-pattern language, compiled once and matched many times.
//!
//! Used by FilterLogEvents, metric filters, subscription filters and TestMetricFilter (and meant
//! for Live Tail). A pattern is one of four forms, chosen by its first non-blank character:
//!
//! | form | example | module |
//! |---|---|---|
//! | empty / blank | `""` | matches every event |
//! | terms | `ERROR -DEBUG`, `?ERROR ?"Fatal error"`, `%colou?r%` | [`terms`] |
//! | JSON | `{ $.user.id = 2 && ($.code >= 500 \|\| $.fault IS TRUE) }` | [`json`] |
//! | space-delimited | `[ip, user, ..., status = 4*, bytes > 1000]` | [`space`] |
//!
//! Comparison values (strings, `*` wildcards, numbers, `%regex%`) are shared by the JSON and
//! space-delimited forms ([`value`]). Everything is case-sensitive, as in CloudWatch Logs.
//! Matching a JSON pattern reads only the parts of a message its selectors name
//! ([`json_prune`]), and extracting fields reads those plus the selectors given to
//! [`FilterPattern::also_read`] (a metric filter's value and dimensions).
//!
//! # Decisions where AWS's documentation is silent (recorded here so they are easy to revisit)
//! * A term matches as a substring (`ERROR` matches `ERRORS`), as third-party tests of the service
//!   report.
//! * `?` starts a group of terms: `?A B ?C` is `(A and B) or C`, which is how AWS's own CDK
//!   renders "any term group". Terms before the first `?` form a group of their own; a `-term`
//!   excludes within its group.
//! * Unquoted terms may contain letters, digits and `_`; anything else must be quoted (AWS:
//!   `Invalid character(s) in term '...'`). Inside quotes `\"` and `\\` are escapes.
//! * JSON comparisons need the selector to name a scalar: a missing field, an object or an array
//!   never matches `=`, `!=` or an order comparison (use `NOT EXISTS` / `IS NULL`). Numbers
//!   compare numerically, also against numeric strings; strings compare exactly or by wildcard.
//! * Space-delimited: fields are separated by runs of spaces; `"..."` and `[...]` make one field
//!   (without the delimiters). Without `...` the message needs at least as many fields as the
//!   pattern and the last pattern field takes the rest of the line (so `[w1=ERROR, w2]` is the
//!   way to test a first word, as AWS documents). With `...` fields match exactly.
//! * Regular expressions (`%...%`): at most [`MAX_REGEXES`] per pattern; letters, digits, the
//!   symbols `_ # = @ / ; , - :` and the operators `^ $ ? [ ] { } | \ * + .` only (no `(`, `)`,
//!   no multi-byte characters), searched anywhere in the text they are applied to.
//! * `$.a[*]` is not part of AWS's syntax and is refused.

pub mod json;
pub mod json_prune;
pub mod space;
pub mod terms;
pub mod value;

#[cfg(test)]
mod tests;

use std::fmt;

/// Longest pattern (the API's limit).
pub const MAX_PATTERN_LEN: usize = 1024;
/// Most regular expressions in one pattern.
pub const MAX_REGEXES: usize = 2;

/// Why a pattern was refused; the message is what AWS answers (`InvalidParameterException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    pub message: String,
}

impl PatternError {
    /// The generic refusal.
    pub fn invalid() -> Self {
        PatternError {
            message: "Invalid filter pattern".to_string(),
        }
    }

    /// A term with characters that need quoting (or an empty quoted term).
    pub fn term(term: &str) -> Self {
        PatternError {
            message: format!("Invalid character(s) in term '{term}'"),
        }
    }

    pub fn new(message: impl Into<String>) -> Self {
        PatternError {
            message: message.into(),
        }
    }
}

/// A compiled filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms(terms::TermPattern),
    Json(json::JsonPattern),
    Space(space::SpacePattern),
}

/// The values a structured pattern extracted from one matching event.
#[derive(Debug, Clone)]
pub enum Extracted {
    /// Term patterns extract nothing.
    None,
    /// A JSON event: the parsed document and the pattern's selectors (in pattern order).
    Json {
        doc: serde_json::Value,
        selectors: Vec<String>,
    },
    /// A space-delimited event: `$name` bindings in pattern order.
    Fields(Vec<(String, String)>),
}

impl Extracted {
    /// The value of `$.a.b` (JSON) or `$name` (space-delimited) as text, when present and scalar
    /// (JSON `null` is absent). JSON: only the pattern's selectors and those added with
    /// [`FilterPattern::also_read`] before matching are kept.
    pub fn get(&self, selector: &str) -> Option<String> {
        match self {
            Extracted::None => None,
            Extracted::Json { doc, .. } => {
                let path = json::Path::parse(selector).ok()?;
                path.resolve(doc).and_then(value::json_text)
            }
            Extracted::Fields(f) => {
                let name = selector.strip_prefix('$')?;
                f.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
            }
        }
    }

    /// Every extracted value, keyed as TestMetricFilter shows them (`$.a.b` / `$name`).
    pub fn values(&self) -> Vec<(String, String)> {
        match self {
            Extracted::None => Vec::new(),
            Extracted::Json { selectors, .. } => {
                let mut out: Vec<(String, String)> = Vec::new();
                for s in selectors {
                    if out.iter().any(|(k, _)| k == s) {
                        continue;
                    }
                    if let Some(v) = self.get(s) {
                        out.push((s.clone(), v));
                    }
                }
                out
            }
            Extracted::Fields(f) => f
                .iter()
                .map(|(n, v)| (format!("${n}"), v.clone()))
                .collect(),
        }
    }
}

impl FilterPattern {
    /// Parse and compile a pattern; an empty or blank pattern matches everything.
    pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
        let trimmed = pattern.trim();
        let kind = if trimmed.is_empty() {
            Kind::All
        } else if trimmed.starts_with('{') {
            if !trimmed.ends_with('}') {
                return Err(PatternError::new(
                    "If a filter pattern starts with '{' it must end with '}'",
                ));
            }
            Kind::Json(json::JsonPattern::parse(&trimmed[1..trimmed.len() - 1])?)
        } else if trimmed.starts_with('[') {
            if !trimmed.ends_with(']') {
                return Err(PatternError::new(
                    "If a filter pattern starts with '[' it must end with ']'",
                ));
            }
            Kind::Space(space::SpacePattern::parse(&trimmed[1..trimmed.len() - 1])?)
        } else {
            Kind::Terms(terms::TermPattern::parse(trimmed)?)
        };
        let p = FilterPattern {
            source: pattern.to_string(),
            kind,
        };
        if p.regex_count() > MAX_REGEXES {
            return Err(PatternError::new(format!(
                "Invalid filter pattern: at most {MAX_REGEXES} regular expressions are allowed in a filter pattern"
            )));
        }
        Ok(p)
    }

    /// The pattern as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True for JSON and space-delimited patterns (the ones that can extract values, so metric
    /// filters can use them for `$` metric values and dimensions).
    pub fn is_structured(&self) -> bool {
        matches!(self.kind, Kind::Json(_) | Kind::Space(_))
    }

    /// True for JSON patterns.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json(_))
    }

    /// True when the pattern matches every event.
    pub fn matches_all(&self) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => t.matches_all(),
            _ => false,
        }
    }

    /// How many `%regex%` the pattern holds (AWS limits them per pattern and per log group).
    pub fn regex_count(&self) -> usize {
        match &self.kind {
            Kind::All => 0,
            Kind::Terms(t) => t.regex_count(),
            Kind::Json(j) => j.regex_count(),
            Kind::Space(s) => s.regex_count(),
        }
    }

    /// Whether `message` matches.
    pub fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => t.matches(message),
            Kind::Json(j) => j.matches(message),
            Kind::Space(s) => s.matches(message),
        }
    }

    /// Read `selector` from matching JSON events too: [`Extracted::get`] finds the pattern's
    /// own selectors and those added here, nothing else (a metric filter adds its value and
    /// dimension selectors). No effect on other pattern forms.
    pub fn also_read(&mut self, selector: &str) {
        if let Kind::Json(j) = &mut self.kind {
            j.also_read(selector);
        }
    }

    /// Match and return the extracted values (`None` when the event does not match).
    pub fn match_fields(&self, message: &str) -> Option<Extracted> {
        match &self.kind {
            Kind::All => Some(Extracted::None),
            Kind::Terms(t) => t.matches(message).then_some(Extracted::None),
            Kind::Json(j) => j.match_doc(message).map(|doc| Extracted::Json {
                doc,
                selectors: j.selectors(),
            }),
            Kind::Space(s) => s.match_fields(message).map(Extracted::Fields),
        }
    }

    /// A literal that every matching message contains, when the pattern has one (term
    /// patterns with a single group): scans search for it over a whole block and look only at
    /// the events it occurs in.
    pub fn required_literal(&self) -> Option<&memchr::memmem::Finder<'static>> {
        match &self.kind {
            Kind::Terms(t) => t.required_literal(),
            _ => None,
        }
    }

    /// A cheap test over many events' bytes at once (e.g. a decompressed block): `false` only
    /// when no event inside `haystack` can match, so the events need not be looked at.
    pub fn may_match_any(&self, haystack: &[u8]) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Terms(t) => t.may_match_any(haystack),
            Kind::Json(_) => memchr::memchr(b'{', haystack).is_some(),
            Kind::Space(_) => true,
        }
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
