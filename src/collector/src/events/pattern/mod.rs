//! EventBridge event patterns: validation, compilation and matching.
//!
//! [`Pattern::parse`] checks a pattern document against the whole EventBridge grammar (exact
//! values, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `anything-but`, `numeric`,
//! `exists`, `cidr`, `$or`, nested objects) and rejects it with the reason AWS gives
//! ([`PatternError::aws_message`]). A valid pattern is kept in disjunctive normal form: a list
//! of alternatives, each a set of dotted field paths with the matchers of each path.
//!
//! [`RuleSet`] compiles many patterns once and matches events against all of them: an event is
//! flattened once into the leaves at paths some rule uses, exact values are found by hash
//! lookup, and a match must be *array-consistent* (fields matched inside an array of objects
//! must come from the same element), as EventBridge does.
//!
//! Module map: `error` (the error type), `parse` (grammar and `$or` expansion), `matcher`
//! (one matcher against one value), `wildcard`, `cidr`, `flatten` (event walk and array
//! membership), `ruleset` (index and evaluation).

mod cidr;
mod error;
mod flatten;
mod matcher;
mod parse;
mod ruleset;
mod wildcard;

#[cfg(test)]
mod tests;

pub use cidr::Cidr;
pub use error::PatternError;
pub use matcher::{AnythingBut, Leaf, Literal, Matcher, NumericRange};
pub use parse::MAX_ALTERNATIVES;
pub use ruleset::{RuleId, RuleSet};
pub use wildcard::Wildcard;

use serde_json::Value;

/// One field of a pattern alternative: a dotted path and its matchers (any may match).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Dotted path from the event root, e.g. `detail.state.value`.
    pub path: String,
    /// The alternatives for the value at `path`.
    pub matchers: Vec<Matcher>,
}

/// A validated event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The pattern matches if any alternative does; an alternative if all its fields do.
    alternatives: Vec<Vec<Field>>,
}

impl Pattern {
    /// Parse and validate a pattern document.
    pub fn parse(json: &str) -> Result<Self, PatternError> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| PatternError::Json(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Validate an already parsed pattern document.
    pub fn from_value(value: &Value) -> Result<Self, PatternError> {
        let alternatives = parse::compile(value)?
            .into_iter()
            .map(|alternative| {
                alternative
                    .into_iter()
                    .map(|(path, matchers)| Field { path, matchers })
                    .collect()
            })
            .collect();
        Ok(Pattern { alternatives })
    }

    /// The alternatives (disjunctive normal form, `$or` expanded).
    pub fn alternatives(&self) -> &[Vec<Field>] {
        &self.alternatives
    }

    /// Whether `event` matches (compiles a one-rule [`RuleSet`]; use a `RuleSet` for many
    /// events).
    pub fn matches(&self, event: &Value) -> bool {
        let mut set = RuleSet::new();
        set.add("", self);
        !set.matches(event).is_empty()
    }
}
