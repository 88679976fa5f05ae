//! Event filters: the `filters` setting of a `collect_list` entry.
//!
//! # Design
//!
//! A filter is `include` (keep an event only if its regex matches) or
//! `exclude` (drop an event if its regex matches). [`Filters::keep`] applies
//! them in configured order and keeps an event only if **all** pass (AND),
//! stopping at the first that fails; no filters keep everything. Filters
//! see the whole assembled event (after multi-line assembly), as in the
//! CloudWatch agent, and match anywhere in it unless the expression is
//! anchored. Matching uses `is_match` only, with no captures.

use regex::Regex;
use thiserror::Error;

/// Errors building filters.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The type is neither `include` nor `exclude`.
    #[error("filters[{index}]: unknown type {kind:?} (expected include or exclude)")]
    UnknownKind {
        /// Position in the list.
        index: usize,
        /// The type as given.
        kind: String,
    },
    /// The expression is not a valid regex.
    #[error("filters[{index}]: invalid expression {expression:?}: {message}")]
    Regex {
        /// Position in the list.
        index: usize,
        /// The expression as given.
        expression: String,
        /// The regex engine's message.
        message: String,
    },
}

/// Whether a filter keeps or drops matching events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// Keep only matching events.
    Include,
    /// Drop matching events.
    Exclude,
}

/// An ordered list of filters. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    filters: Vec<(FilterKind, Regex)>,
}

impl Filters {
    /// Build from `(type, expression)` pairs in configured order; the type
    /// is `include` or `exclude` (any case).
    pub fn new<K: AsRef<str>, E: AsRef<str>>(specs: &[(K, E)]) -> Result<Self, FilterError> {
        let mut filters = Vec::with_capacity(specs.len());
        for (index, (kind, expression)) in specs.iter().enumerate() {
            let kind = kind.as_ref();
            let kind = if kind.eq_ignore_ascii_case("include") {
                FilterKind::Include
            } else if kind.eq_ignore_ascii_case("exclude") {
                FilterKind::Exclude
            } else {
                return Err(FilterError::UnknownKind {
                    index,
                    kind: kind.to_string(),
                });
            };
            let expression = expression.as_ref();
            let regex = Regex::new(expression).map_err(|e| FilterError::Regex {
                index,
                expression: expression.to_string(),
                message: e.to_string(),
            })?;
            filters.push((kind, regex));
        }
        Ok(Self { filters })
    }

    /// Whether `message` passes every filter.
    pub fn keep(&self, message: &str) -> bool {
        self.filters
            .iter()
            .all(|(kind, re)| re.is_match(message) == (*kind == FilterKind::Include))
    }

    /// Whether there are no filters (everything is kept).
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// How many filters there are.
    pub fn len(&self) -> usize {
        self.filters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Specs<'a> = &'a [(&'a str, &'a str)];

    const INC: &str = "include";
    const EXC: &str = "exclude";

    #[test]
    fn keep_table() {
        let messages = [
            "ERROR db: connection refused",
            "ERROR health check failed",
            "WARN disk 91% full",
            "INFO started",
            "DEBUG cache miss",
            "",
        ];
        // (filters, which of the messages above are kept)
        #[rustfmt::skip]
        let cases: &[(Specs<'_>, [bool; 6])] = &[
            (&[],                                          [true,  true,  true,  true,  true,  true ]),
            (&[(INC, "ERROR")],                            [true,  true,  false, false, false, false]),
            (&[(EXC, "DEBUG")],                            [true,  true,  true,  true,  false, true ]),
            (&[(INC, "^(ERROR|WARN)")],                    [true,  true,  true,  false, false, false]),
            (&[(INC, "^(ERROR|WARN)"), (EXC, "health")],   [true,  false, true,  false, false, false]),
            (&[(EXC, "health"), (INC, "^(ERROR|WARN)")],   [true,  false, true,  false, false, false]),
            (&[(INC, "ERROR"), (INC, "db")],               [true,  false, false, false, false, false]),
            (&[(EXC, "ERROR"), (EXC, "WARN")],             [false, false, false, true,  true,  true ]),
            (&[(INC, "(?i)error")],                        [true,  true,  false, false, false, false]),
            (&[(INC, "error")],                            [false, false, false, false, false, false]),
            (&[(INC, r"\d+%")],                            [false, false, true,  false, false, false]),
            (&[(INC, "^$")],                               [false, false, false, false, false, true ]),
            (&[(EXC, "")],                                 [false, false, false, false, false, false]),
            (&[(INC, "")],                                 [true,  true,  true,  true,  true,  true ]),
            (&[(INC, "x"), (EXC, "x")],                    [false, false, false, false, false, false]),
        ];
        for (specs, want) in cases {
            let f = Filters::new(specs).unwrap();
            assert_eq!(f.len(), specs.len());
            assert_eq!(f.is_empty(), specs.is_empty());
            for (msg, keep) in messages.iter().zip(want) {
                assert_eq!(f.keep(msg), *keep, "{specs:?} on {msg:?}");
            }
        }
    }

    #[test]
    fn multi_line_events_are_matched_whole() {
        let f = Filters::new(&[(INC, "Caused by"), (EXC, "(?m)^DEBUG")]).unwrap();
        assert!(f.keep("ERROR x\n\tat a\nCaused by: y"));
        assert!(!f.keep("ERROR x\n\tat a"));
        assert!(!f.keep("ERROR x\nDEBUG Caused by: y"));
    }

    #[test]
    fn errors_name_the_entry() {
        let cases: &[(Specs<'_>, &str)] = &[
            (
                &[(INC, "ok"), ("keep", "x")],
                "filters[1]: unknown type \"keep\" (expected include or exclude)",
            ),
            (
                &[(EXC, "(unclosed")],
                "filters[0]: invalid expression \"(unclosed\"",
            ),
        ];
        for (specs, want) in cases {
            let err = Filters::new(specs).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err}");
        }
        let owned = vec![("Include".to_string(), "a".to_string())];
        assert!(Filters::new(&owned).unwrap().keep("abc"));
    }
}
