//! The `logEventFilterPattern` check of a Live Tail session.
//!
//! [`compile_filter`] turns the pattern into a predicate over messages with the collector's one
//! filter-pattern implementation ([`crate::logs_pattern`], the same as FilterLogEvents, metric
//! and subscription filters use), so every form works here too: terms, quoted phrases, `-`
//! exclusions, `?` alternatives, `%regex%`, JSON and space-delimited patterns. An empty pattern
//! matches every event; an invalid one is refused with `InvalidParameterException` before the
//! session starts.

use hostwatch_aws::ApiError;

/// A compiled pattern: `true` when the message matches.
pub type Filter = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// Compile `pattern` into a predicate.
pub fn compile_filter(pattern: &str) -> Result<Filter, ApiError> {
    let p = super::filter_events::compile(pattern, "logEventFilterPattern")?;
    Ok(Box::new(move |m: &str| p.matches(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, msg: &str) -> bool {
        compile_filter(pattern).unwrap()(msg)
    }

    #[test]
    fn every_pattern_form() {
        // Step table: (pattern, message, matches).
        let table: &[(&str, &str, bool)] = &[
            ("", "anything", true),
            ("ERROR", "an ERROR here", true),
            ("ERROR", "an error here", false),
            ("ERROR 404", "ERROR: GET / 404", true),
            ("ERROR 404", "ERROR: GET / 200", false),
            (
                "\"INTERNAL SERVER ERROR\"",
                "500 INTERNAL SERVER ERROR",
                true,
            ),
            ("\"INTERNAL SERVER ERROR\"", "INTERNAL ERROR SERVER", false),
            ("ERROR -timeout", "ERROR timeout", false),
            ("ERROR -timeout", "ERROR refused", true),
            ("?ERROR ?WARN", "WARN low disk", true),
            ("?ERROR ?WARN", "INFO ok", false),
            ("{ $.level = \"ERROR\" }", r#"{"level":"ERROR"}"#, true),
            ("{ $.level = \"ERROR\" }", r#"{"level":"INFO"}"#, false),
            ("[ip, user, status = 5*]", "10.0.0.1 bob 503", true),
            ("[ip, user, status = 5*]", "10.0.0.1 bob 200", false),
        ];
        for (p, m, want) in table {
            assert_eq!(matches(p, m), *want, "pattern {p:?} on {m:?}");
        }
    }

    #[test]
    fn invalid_patterns_are_refused() {
        for p in ["{ $.level = ", "\"unterminated"] {
            let e = compile_filter(p).err().unwrap();
            assert_eq!(e.code, "InvalidParameterException", "{p}");
        }
        let long = "a".repeat(1025);
        assert!(compile_filter(&long).is_err());
    }
}
