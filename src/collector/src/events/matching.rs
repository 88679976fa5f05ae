//! Rule matching seam: compile a rule's EventPattern once, test events against it, through
//! the pattern engine in [`super::pattern`].

use serde_json::Value;

use super::pattern::Pattern;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled(Pattern);

/// Compile `text`; the error is AWS's reason text (after "Event pattern is not valid. Reason: ").
pub fn compile(text: &str) -> Result<Compiled, String> {
    Pattern::parse(text)
        .map(Compiled)
        .map_err(|e| e.to_string())
}

impl Compiled {
    /// The validated pattern (to add to a [`super::pattern::RuleSet`]).
    pub fn pattern(&self) -> &Pattern {
        &self.0
    }

    /// True when `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.0.matches(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compiles_and_matches() {
        let ev = json!({"source":"app","detail":{"state":"ALARM","n":3}});
        let table: &[(&str, bool)] = &[
            (r#"{"source":["app"]}"#, true),
            (r#"{"source":["other"]}"#, false),
            (r#"{"detail":{"n":[{"numeric":[">",2]}]}}"#, true),
        ];
        for (p, want) in table {
            assert_eq!(compile(p).unwrap().matches(&ev), *want, "{p}");
        }
        assert_eq!(
            compile(r#"{"a":[]}"#).unwrap_err(),
            "Empty arrays are not allowed"
        );
    }
}
