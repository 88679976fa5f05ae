//! The agent's log filter.
//!
//! Precedence: `RUST_LOG` (any `tracing` filter, for developers), else `HOSTWATCH_LOG_LEVEL`
//! (what `hostwatch ctl -a set-log-level -l LEVEL` writes into the agent's environment file:
//! `DEBUG`, `INFO`, `WARN`, `ERROR` or `OFF`, any case), else the config's `agent.debug`
//! (debug lines from the agent's own crates), else `info`. An unknown level is ignored with a
//! warning once the logger is up, rather than leaving the agent without logs.

/// The variable `hostwatch ctl -a set-log-level` sets.
pub const LEVEL_ENV: &str = "HOSTWATCH_LOG_LEVEL";

const DEBUG: &str = "info,hostwatch_agent=debug,hostwatch_tailer=debug,hostwatch_spool=debug";

/// The filter directive for a `set-log-level` level, `None` for an unknown one.
pub fn level_directive(level: &str) -> Option<&'static str> {
    Some(match level.trim().to_ascii_uppercase().as_str() {
        "DEBUG" => DEBUG,
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" => "error",
        "OFF" => "off",
        _ => return None,
    })
}

/// The filter directive when `RUST_LOG` is not set: from `level` (the value of
/// [`LEVEL_ENV`], if any), else from the config's `agent.debug`. The second value is the
/// unknown level to warn about.
pub fn directive(level: Option<&str>, debug: bool) -> (&'static str, Option<String>) {
    let fallback = if debug { DEBUG } else { "info" };
    match level.filter(|l| !l.trim().is_empty()) {
        None => (fallback, None),
        Some(l) => match level_directive(l) {
            Some(d) => (d, None),
            None => (fallback, Some(l.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_fallbacks() {
        assert_eq!(directive(None, false), ("info", None));
        assert_eq!(directive(None, true).0, DEBUG);
        assert_eq!(directive(Some("debug"), false), (DEBUG, None));
        assert_eq!(directive(Some("WARN"), true), ("warn", None));
        assert_eq!(directive(Some("Off"), true), ("off", None));
        assert_eq!(directive(Some(" "), false), ("info", None));
        assert_eq!(
            directive(Some("TRACE"), true),
            (DEBUG, Some("TRACE".to_string()))
        );
        assert_eq!(level_directive("error"), Some("error"));
        assert_eq!(level_directive("verbose"), None);
    }
}
