//! The compiled matchers of one pattern field and how each tests one event value.
//!
//! An event is seen as scalar leaves ([`Leaf`]): objects are walked into dotted paths and
//! arrays into their elements, so a matcher only ever meets a string, a number (as `f64`), a
//! boolean or `null`. Invariants: numbers compare by value (`300` equals `300.0`); string
//! matchers (`prefix`, `suffix`, `wildcard`, `equals-ignore-case`, `cidr`) never match a
//! non-string; `anything-but` matches every present value outside its set, `null` included;
//! ignore-case texts are stored already lower-cased.

use super::cidr::Cidr;
use super::wildcard::Wildcard;

/// One scalar value of an event, borrowed from the parsed JSON.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Leaf<'a> {
    /// A JSON string.
    Str(&'a str),
    /// A JSON number.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// An exact value in a pattern (`"a"`, `5`, `true`, `null`).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// Byte-exact string.
    Str(String),
    /// Number compared by value.
    Num(f64),
    /// Boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
}

/// A numeric interval: each bound is `(value, inclusive)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericRange {
    /// Lower bound, if any.
    pub lower: Option<(f64, bool)>,
    /// Upper bound, if any.
    pub upper: Option<(f64, bool)>,
}

impl NumericRange {
    fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            Some((b, true)) => x >= b,
            Some((b, false)) => x > b,
            None => true,
        };
        let below = match self.upper {
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
            None => true,
        };
        above && below
    }
}

/// What an `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
pub enum AnythingBut {
    /// Exact strings (byte-exact) and numbers (by value).
    Values {
        /// Excluded strings.
        strings: Vec<String>,
        /// Excluded numbers.
        numbers: Vec<f64>,
    },
    /// Strings starting with any of these.
    Prefix(Vec<String>),
    /// Strings ending with any of these.
    Suffix(Vec<String>),
    /// Strings equal, ignoring case, to any of these (stored lower-cased).
    IgnoreCase(Vec<String>),
    /// Strings matching any of these wildcards.
    Wildcard(Vec<Wildcard>),
}

impl AnythingBut {
    fn matches(&self, leaf: Leaf<'_>) -> bool {
        match (self, leaf) {
            (AnythingBut::Values { strings, .. }, Leaf::Str(s)) => !strings.iter().any(|x| x == s),
            (AnythingBut::Values { numbers, .. }, Leaf::Num(n)) => !numbers.contains(&n),
            (AnythingBut::Prefix(list), Leaf::Str(s)) => {
                !list.iter().any(|p| s.starts_with(p.as_str()))
            }
            (AnythingBut::Suffix(list), Leaf::Str(s)) => {
                !list.iter().any(|p| s.ends_with(p.as_str()))
            }
            (AnythingBut::IgnoreCase(list), Leaf::Str(s)) => {
                let lower = s.to_lowercase();
                !list.contains(&lower)
            }
            (AnythingBut::Wildcard(list), Leaf::Str(s)) => !list.iter().any(|w| w.matches(s)),
            _ => true,
        }
    }
}

/// One element of a pattern field's array of alternatives.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// An exact value.
    Exact(Literal),
    /// `{"prefix": "..."}`.
    Prefix(String),
    /// `{"prefix": {"equals-ignore-case": "..."}}` (lower-cased).
    PrefixIgnoreCase(String),
    /// `{"suffix": "..."}`.
    Suffix(String),
    /// `{"suffix": {"equals-ignore-case": "..."}}` (lower-cased).
    SuffixIgnoreCase(String),
    /// `{"equals-ignore-case": "..."}` (lower-cased).
    EqualsIgnoreCase(String),
    /// `{"wildcard": "..."}`.
    Wildcard(Wildcard),
    /// `{"anything-but": ...}`.
    AnythingBut(AnythingBut),
    /// `{"numeric": [...]}`.
    Numeric(NumericRange),
    /// `{"cidr": "..."}`.
    Cidr(Cidr),
    /// `{"exists": true|false}`.
    Exists(bool),
}

impl Matcher {
    /// Whether one present value satisfies this matcher. `Exists(false)` never does: absence
    /// is decided by the caller, which alone knows that a path has no value.
    pub fn matches(&self, leaf: Leaf<'_>) -> bool {
        match (self, leaf) {
            (Matcher::Exact(lit), leaf) => literal_eq(lit, leaf),
            (Matcher::Prefix(p), Leaf::Str(s)) => s.starts_with(p.as_str()),
            (Matcher::Suffix(p), Leaf::Str(s)) => s.ends_with(p.as_str()),
            (Matcher::PrefixIgnoreCase(p), Leaf::Str(s)) => s.to_lowercase().starts_with(p),
            (Matcher::SuffixIgnoreCase(p), Leaf::Str(s)) => s.to_lowercase().ends_with(p),
            (Matcher::EqualsIgnoreCase(p), Leaf::Str(s)) => {
                (s.is_ascii() && s.eq_ignore_ascii_case(p)) || s.to_lowercase() == *p
            }
            (Matcher::Wildcard(w), Leaf::Str(s)) => w.matches(s),
            (Matcher::Cidr(c), Leaf::Str(s)) => c.matches(s),
            (Matcher::Numeric(r), Leaf::Num(n)) => r.contains(n),
            (Matcher::AnythingBut(a), leaf) => a.matches(leaf),
            (Matcher::Exists(present), _) => *present,
            _ => false,
        }
    }
}

fn literal_eq(lit: &Literal, leaf: Leaf<'_>) -> bool {
    match (lit, leaf) {
        (Literal::Str(a), Leaf::Str(b)) => a == b,
        (Literal::Num(a), Leaf::Num(b)) => *a == b,
        (Literal::Bool(a), Leaf::Bool(b)) => *a == b,
        (Literal::Null, Leaf::Null) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(lower: Option<(f64, bool)>, upper: Option<(f64, bool)>) -> Matcher {
        Matcher::Numeric(NumericRange { lower, upper })
    }

    #[test]
    fn matcher_table() {
        let s = Leaf::Str;
        let cases: Vec<(Matcher, Leaf<'_>, bool)> = vec![
            (Matcher::Exact(Literal::Str("a".into())), s("a"), true),
            (Matcher::Exact(Literal::Str("a".into())), s("A"), false),
            (
                Matcher::Exact(Literal::Str("5".into())),
                Leaf::Num(5.0),
                false,
            ),
            (Matcher::Exact(Literal::Num(300.0)), Leaf::Num(300.0), true),
            (Matcher::Exact(Literal::Num(300.0)), s("300"), false),
            (Matcher::Exact(Literal::Bool(true)), Leaf::Bool(true), true),
            (Matcher::Exact(Literal::Bool(true)), s("true"), false),
            (Matcher::Exact(Literal::Null), Leaf::Null, true),
            (Matcher::Exact(Literal::Null), s(""), false),
            (
                Matcher::Exact(Literal::Str(String::new())),
                Leaf::Null,
                false,
            ),
            (Matcher::Prefix("us-".into()), s("us-east-1"), true),
            (Matcher::Prefix("us-".into()), s("eu-west-1"), false),
            (Matcher::Prefix(String::new()), s("x"), true),
            (Matcher::Prefix(String::new()), Leaf::Num(1.0), false),
            (Matcher::PrefixIgnoreCase("ec2".into()), s("EC2-x"), true),
            (Matcher::Suffix(".png".into()), s("a.png"), true),
            (Matcher::Suffix(".png".into()), s("a.PNG"), false),
            (Matcher::SuffixIgnoreCase(".png".into()), s("a.PNG"), true),
            (Matcher::EqualsIgnoreCase("alice".into()), s("ALICE"), true),
            (
                Matcher::EqualsIgnoreCase("straße".into()),
                s("STRAßE"),
                true,
            ),
            (Matcher::EqualsIgnoreCase("alice".into()), s("alic"), false),
            (
                range(Some((0.0, false)), Some((5.0, true))),
                Leaf::Num(5.0),
                true,
            ),
            (
                range(Some((0.0, false)), Some((5.0, true))),
                Leaf::Num(0.0),
                false,
            ),
            (range(Some((0.0, true)), None), Leaf::Num(0.0), true),
            (range(None, Some((10.0, false))), Leaf::Num(10.0), false),
            (range(Some((1.0, false)), None), s("300"), false),
            (range(Some((1.0, false)), None), Leaf::Null, false),
            (Matcher::Exists(true), Leaf::Null, true),
            (Matcher::Exists(false), s("x"), false),
            (
                Matcher::AnythingBut(AnythingBut::Values {
                    strings: vec!["x".into()],
                    numbers: vec![],
                }),
                Leaf::Null,
                true,
            ),
            (
                Matcher::AnythingBut(AnythingBut::Values {
                    strings: vec![],
                    numbers: vec![1.0, 2.0],
                }),
                Leaf::Num(2.0),
                false,
            ),
            (
                Matcher::AnythingBut(AnythingBut::Prefix(vec!["init".into()])),
                s("initial"),
                false,
            ),
            (
                Matcher::AnythingBut(AnythingBut::Prefix(vec!["init".into()])),
                Leaf::Num(12.0),
                true,
            ),
            (
                Matcher::AnythingBut(AnythingBut::Suffix(vec![".txt".into()])),
                s("a.txt"),
                false,
            ),
            (
                Matcher::AnythingBut(AnythingBut::IgnoreCase(vec!["bob".into()])),
                s("BOB"),
                false,
            ),
        ];
        for (i, (m, leaf, want)) in cases.iter().enumerate() {
            assert_eq!(m.matches(*leaf), *want, "case {i}: {m:?} vs {leaf:?}");
        }
    }
}
