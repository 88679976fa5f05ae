//! Log group and stream names: defaults and placeholders.
//!
//! Defaults, as the CloudWatch agent applies them:
//! - no `log_group_name`: the file path minus its last extension (`/tmp/a.log.2017-07-11` →
//!   `/tmp/a.log`); with `publish_multi_logs`, the full path with every character outside
//!   `[.\-_/#A-Za-z0-9]` replaced by `_`;
//! - no `log_stream_name`: `logs.log_stream_name`, else `{instance_id}` on EC2 and the host name
//!   elsewhere; with `publish_multi_logs` and a group name, the stream becomes
//!   `<stream>_<path with / replaced by _>`.
//!
//! Placeholders `{instance_id}` (`i-UNKNOWN`), `{hostname}` (metadata host name, else the OS
//! host name), `{local_hostname}`, `{ip_address}` (metadata private IP, else the first
//! non-loopback IPv4 address, else `UNKNOWN-IP`), `{aws_region}` (`UNKNOWN-REGION`),
//! `{account_id}` (`UNKNOWN-ACCOUNT`) are fixed at start. `{date}` (`YYYY-MM-DD`, local time)
//! is resolved for every event at the time it is read, so a stream name with `{date}` rolls
//! over at midnight (the real agent freezes it at start).

use std::path::Path;

/// Host facts the placeholders resolve to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    pub instance_id: Option<String>,
    pub hostname: Option<String>,
    pub local_hostname: Option<String>,
    pub ip_address: Option<String>,
    pub region: Option<String>,
    pub account_id: Option<String>,
}

/// A name template with the static placeholders resolved and `{date}` left to resolve per
/// event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameTemplate {
    text: String,
    has_date: bool,
}

const DATE: &str = "{date}";

impl NameTemplate {
    /// Resolve the static placeholders of `raw`.
    pub fn new(raw: &str, facts: &HostFacts) -> NameTemplate {
        let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_string());
        let text = raw
            .replace("{instance_id}", &or(&facts.instance_id, "i-UNKNOWN"))
            .replace(
                "{hostname}",
                &facts
                    .hostname
                    .clone()
                    .or_else(|| facts.local_hostname.clone())
                    .unwrap_or_else(|| "UNKNOWN-HOST".into()),
            )
            .replace(
                "{local_hostname}",
                &or(&facts.local_hostname, "UNKNOWN-HOST"),
            )
            .replace("{ip_address}", &or(&facts.ip_address, "UNKNOWN-IP"))
            .replace("{aws_region}", &or(&facts.region, "UNKNOWN-REGION"))
            .replace("{account_id}", &or(&facts.account_id, "UNKNOWN-ACCOUNT"));
        let has_date = text.contains(DATE);
        NameTemplate { text, has_date }
    }

    /// The name for an event read on local date `date` (`YYYY-MM-DD`).
    pub fn render(&self, date: &str) -> String {
        if self.has_date {
            self.text.replace(DATE, date)
        } else {
            self.text.clone()
        }
    }

    /// Whether the name depends on the date.
    pub fn has_date(&self) -> bool {
        self.has_date
    }
}

/// The group and stream templates of one tailed file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub group: NameTemplate,
    pub stream: NameTemplate,
}

/// `path` minus its last extension.
pub fn default_group(path: &Path) -> String {
    let s = path.to_string_lossy();
    match (s.rfind('.'), s.rfind('/')) {
        (Some(dot), Some(slash)) if dot > slash + 1 => s[..dot].to_string(),
        (Some(dot), None) if dot > 0 => s[..dot].to_string(),
        _ => s.into_owned(),
    }
}

/// `path` with every character outside `[.\-_/#A-Za-z0-9]` replaced by `_`.
pub fn sanitized_path(path: &Path) -> String {
    path.to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The default stream name when neither the entry nor `logs` names one.
pub fn default_stream(facts: &HostFacts) -> String {
    facts
        .instance_id
        .clone()
        .or_else(|| facts.local_hostname.clone())
        .unwrap_or_else(|| "{instance_id}".into())
}

/// Templates for `path` tailed by an entry with these settings.
pub fn destination(
    path: &Path,
    group: Option<&str>,
    stream: Option<&str>,
    default_stream_name: Option<&str>,
    publish_multi_logs: bool,
    facts: &HostFacts,
) -> Destination {
    let group_raw = match group {
        Some(g) => g.to_string(),
        None if publish_multi_logs => sanitized_path(path),
        None => default_group(path),
    };
    let mut stream_raw = stream
        .or(default_stream_name)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default_stream(facts));
    if publish_multi_logs && group.is_some() {
        stream_raw = format!("{stream_raw}_{}", path.to_string_lossy().replace('/', "_"));
    }
    Destination {
        group: NameTemplate::new(&group_raw, facts),
        stream: NameTemplate::new(&stream_raw, facts),
    }
}

/// The first non-loopback IPv4 address of this host, if any (from `/proc/net/fib_trie` would
/// need parsing; a connected UDP socket's local address is the portable way and sends nothing).
pub fn first_ipv4() -> Option<String> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("192.0.2.1:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            instance_id: Some("i-0abc".into()),
            hostname: Some("ip-10-0-0-1.ec2.internal".into()),
            local_hostname: Some("web1".into()),
            ip_address: Some("10.0.0.1".into()),
            region: Some("eu-west-1".into()),
            account_id: None,
        }
    }

    #[test]
    fn placeholders_resolve_and_date_rolls() {
        let t = NameTemplate::new(
            "{instance_id}/{hostname}/{local_hostname}/{ip_address}/{aws_region}/{account_id}/{date}",
            &facts(),
        );
        assert!(t.has_date());
        assert_eq!(
            t.render("2026-11-22"),
            "i-0abc/ip-10-0-0-1.ec2.internal/web1/10.0.0.1/eu-west-1/UNKNOWN-ACCOUNT/2026-11-22"
        );
        assert_eq!(
            t.render("2026-11-23"),
            "i-0abc/ip-10-0-0-1.ec2.internal/web1/10.0.0.1/eu-west-1/UNKNOWN-ACCOUNT/2026-11-23"
        );
        let none = NameTemplate::new("{instance_id}", &HostFacts::default());
        assert_eq!(none.render("x"), "i-UNKNOWN");
    }

    #[test]
    fn defaults_follow_the_real_agent() {
        assert_eq!(
            default_group(Path::new("/tmp/a.log.2017-07-11")),
            "/tmp/a.log"
        );
        assert_eq!(default_group(Path::new("/tmp/a.log")), "/tmp/a");
        assert_eq!(default_group(Path::new("/tmp/.hidden")), "/tmp/.hidden");
        assert_eq!(default_group(Path::new("/tmp.d/noext")), "/tmp.d/noext");
        assert_eq!(
            sanitized_path(Path::new("/var/log/a b:c.log")),
            "/var/log/a_b_c.log"
        );
        let f = facts();
        let d = destination(Path::new("/var/log/x.log"), None, None, None, false, &f);
        assert_eq!(d.group.render("d"), "/var/log/x");
        assert_eq!(d.stream.render("d"), "i-0abc");
        let d = destination(
            Path::new("/var/log/x.log"),
            Some("g"),
            Some("s"),
            None,
            true,
            &f,
        );
        assert_eq!(d.stream.render("d"), "s__var_log_x.log");
        let d = destination(
            Path::new("/var/log/x y.log"),
            None,
            None,
            Some("{hostname}"),
            true,
            &f,
        );
        assert_eq!(d.group.render("d"), "/var/log/x_y.log");
        assert_eq!(d.stream.render("d"), "ip-10-0-0-1.ec2.internal");
        let onprem = HostFacts {
            local_hostname: Some("box".into()),
            ..HostFacts::default()
        };
        assert_eq!(default_stream(&onprem), "box");
    }
}
