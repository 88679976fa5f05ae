//! Checks of single answers, shared by the interactive questions (which ask again) and the
//! `--non-interactive` flags (which fail). Each returns the value to store or a reason phrased
//! to follow "The value X is not valid to this question: ".

/// A UDP/TCP port, 1..=65535.
pub fn port(s: &str) -> Result<u16, String> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| "a port is a number from 1 to 65535".to_string())
}

/// A system user name as `useradd` accepts it by default: a lower-case letter or `_`, then
/// lower-case letters, digits, `_` or `-`; at most 32 characters.
pub fn user_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err("a user name starts with a lower-case letter or _, followed by lower-case letters, digits, _ or - (at most 32)".into())
    }
}

/// A log file path or glob: absolute.
pub fn log_path(s: &str) -> Result<String, String> {
    if s.starts_with('/') && !s.contains(['\n', '\r']) {
        Ok(s.to_string())
    } else {
        Err("the log file path must be absolute (start with /); globs such as /var/log/*.log are allowed".into())
    }
}

/// A log group name: 1..=512 of letters, digits, `_ - / . #`, and `{...}` placeholders.
pub fn log_group_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 512
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.#{}".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err("a log group name has 1 to 512 letters, digits, _ - / . # or {placeholders}".into())
    }
}

/// A log stream name: 1..=512 characters, no `:` or `*`.
pub fn log_stream_name(s: &str) -> Result<String, String> {
    if !s.is_empty() && s.len() <= 512 && !s.contains([':', '*']) && !s.contains(char::is_control) {
        Ok(s.to_string())
    } else {
        Err("a log stream name has 1 to 512 characters and no : or *".into())
    }
}

/// A retention in days: one of the values CloudWatch Logs accepts (`-1` = never expire).
pub fn retention_days(s: &str) -> Result<i64, String> {
    let allowed = hostwatch_agent::config::logs::RETENTION_DAYS;
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|d| allowed.contains(d))
        .ok_or_else(|| {
            let list: Vec<String> = allowed.iter().map(i64::to_string).collect();
            format!("the retention is one of {}", list.join(", "))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(port("8125"), Ok(8125));
        assert!(port("0").is_err());
        assert!(port("65536").is_err());
        assert!(port("abc").is_err());
    }

    #[test]
    fn users() {
        assert!(user_name("hostwatch").is_ok());
        assert!(user_name("_svc-1").is_ok());
        assert!(user_name("Root").is_err());
        assert!(user_name("1user").is_err());
        assert!(user_name("a b").is_err());
    }

    #[test]
    fn logs() {
        assert!(log_path("/var/log/*.log").is_ok());
        assert!(log_path("var/log").is_err());
        assert!(log_group_name("app/{instance_id}").is_ok());
        assert!(log_group_name("a b").is_err());
        assert!(log_stream_name("{hostname}").is_ok());
        assert!(log_stream_name("a:b").is_err());
        assert_eq!(retention_days("30"), Ok(30));
        assert_eq!(retention_days("-1"), Ok(-1));
        assert!(retention_days("2").is_err());
    }
}
