//! The agent's environment file: `CONFIG_DIR/agent.env`, what `set-log-level` and `set-env`
//! change.
//!
//! The CloudWatch agent's ctl keeps these in `env-config.json`; here it is a systemd
//! `EnvironmentFile` (the packaged unit reads `/etc/hostwatch-agent/agent.env` when it exists),
//! and ctl passes the same variables when it runs the agent itself. Format: one `KEY="VALUE"`
//! per line, keys `[A-Za-z_][A-Za-z0-9_]*`, values double-quoted with `\` and `"` escaped by a
//! backslash (which systemd reads back as the same value); a value cannot hold a line break.
//! Lines ctl cannot read (comments, blank lines, anything else an operator wrote) are kept as
//! they are when ctl rewrites the file.

use anyhow::{bail, Context};
use std::path::Path;

use super::paths::write_atomic;

/// The variable the agent reads its log level from.
pub const LOG_LEVEL: &str = hostwatch_agent::logging::LEVEL_ENV;

/// The levels `set-log-level` accepts, as the CloudWatch agent's ctl names them.
pub const LEVELS: [&str; 5] = ["DEBUG", "INFO", "WARN", "ERROR", "OFF"];

fn valid_key(k: &str) -> bool {
    let mut b = k.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `KEY=VALUE` of one line, when it is one (quoted as written by [`quote`], or bare).
fn parse_line(line: &str) -> Option<(String, String)> {
    let (k, v) = line.trim().split_once('=')?;
    let k = k.trim();
    if !valid_key(k) {
        return None;
    }
    let v = v.trim();
    let value = match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    out.extend(chars.next());
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    };
    Some((k.to_string(), value))
}

/// The variables in `path` (none when it does not exist).
pub fn read(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().filter_map(parse_line).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Set `key` to `value` in `path` (`None` removes it), keeping every other line.
pub fn set(path: &Path, key: &str, value: Option<&str>) -> anyhow::Result<()> {
    if !valid_key(key) {
        bail!(
            "invalid variable name {key:?}: use letters, digits and _, not starting with a digit"
        );
    }
    if value.is_some_and(|v| v.contains(['\n', '\r'])) {
        bail!("the value of {key} cannot hold a line break");
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| parse_line(l).is_none_or(|(k, _)| k != key))
        .map(str::to_string)
        .collect();
    if let Some(v) = value {
        lines.push(format!("{key}={}", quote(v)));
    }
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomic(path, out.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// `-e KEY=VALUE` (set) or `-e KEY=` (remove).
pub fn parse_assignment(s: &str) -> anyhow::Result<(String, Option<String>)> {
    let Some((k, v)) = s.split_once('=') else {
        bail!("-e takes KEY=VALUE (or KEY= to remove KEY), not {s:?}");
    };
    Ok((k.to_string(), (!v.is_empty()).then(|| v.to_string())))
}

/// The canonical spelling of a `set-log-level` level.
pub fn parse_level(s: &str) -> anyhow::Result<&'static str> {
    LEVELS
        .iter()
        .find(|l| l.eq_ignore_ascii_case(s))
        .copied()
        .ok_or_else(|| anyhow::anyhow!("unknown log level {s:?}: use {}", LEVELS.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_read_replace_and_remove_keep_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("etc/agent.env");
        assert!(read(&p).unwrap().is_empty());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "# by hand\nHTTPS_PROXY=http://proxy:3128\n").unwrap();
        set(&p, LOG_LEVEL, Some("DEBUG")).unwrap();
        set(&p, "ODD", Some(r#"a "quoted" \ value with spaces"#)).unwrap();
        set(&p, LOG_LEVEL, Some("WARN")).unwrap();
        assert_eq!(
            read(&p).unwrap(),
            vec![
                ("HTTPS_PROXY".to_string(), "http://proxy:3128".to_string()),
                (
                    "ODD".to_string(),
                    r#"a "quoted" \ value with spaces"#.to_string()
                ),
                (LOG_LEVEL.to_string(), "WARN".to_string()),
            ]
        );
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# by hand\n"), "{text}");
        assert!(
            text.contains(r#"ODD="a \"quoted\" \\ value with spaces""#),
            "{text}"
        );
        set(&p, "ODD", None).unwrap();
        assert_eq!(read(&p).unwrap().len(), 2);
        // Refused, the file unchanged.
        assert!(set(&p, "1BAD", Some("x")).is_err());
        assert!(set(&p, "K", Some("two\nlines")).is_err());
        assert_eq!(read(&p).unwrap().len(), 2);
    }

    #[test]
    fn assignments_and_levels() {
        assert_eq!(
            parse_assignment("K=v=w").unwrap(),
            ("K".to_string(), Some("v=w".to_string()))
        );
        assert_eq!(parse_assignment("K=").unwrap(), ("K".to_string(), None));
        assert!(parse_assignment("K").is_err());
        assert_eq!(parse_level("debug").unwrap(), "DEBUG");
        assert_eq!(parse_level("Off").unwrap(), "OFF");
        assert!(parse_level("TRACE").is_err());
    }
}
