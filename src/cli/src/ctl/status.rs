//! `-a status`: the CloudWatch agent ctl's JSON, key for key:
//!
//! ```text
//! {
//!   "status": "running" | "stopped",
//!   "starttime": "2026-12-07T05:00:00+00:00" | "",
//!   "configstatus": "configured" | "not configured",
//!   "version": "<hostwatch version>"
//! }
//! ```
//!
//! `starttime` is the process start in UTC, from `/proc/PID/stat` (field 22, clock ticks since
//! boot; the kernel reports these in USER_HZ, 100 per second on Linux) plus the boot time
//! (`btime` in `/proc/stat`). `configstatus` is `configured` when the merged config exists.

use chrono::{DateTime, SecondsFormat, Utc};

/// USER_HZ: the unit of `/proc/PID/stat` times.
const TICKS_PER_SEC: i64 = 100;

/// What status prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub running: bool,
    pub start_time: Option<DateTime<Utc>>,
    pub configured: bool,
    pub version: String,
}

impl Status {
    /// The JSON text, keys in the CloudWatch agent's order.
    pub fn render(&self) -> String {
        let s = |v: &str| serde_json::Value::from(v).to_string();
        let start = self
            .start_time
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
            .unwrap_or_default();
        format!(
            "{{\n  \"status\": {},\n  \"starttime\": {},\n  \"configstatus\": {},\n  \"version\": {}\n}}",
            s(if self.running { "running" } else { "stopped" }),
            s(&start),
            s(if self.configured {
                "configured"
            } else {
                "not configured"
            }),
            s(&self.version)
        )
    }
}

/// When process `pid` started, from `/proc`.
pub fn process_start(pid: i32) -> Option<DateTime<Utc>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let proc_stat = std::fs::read_to_string("/proc/stat").ok()?;
    start_from(&stat, &proc_stat)
}

fn start_from(pid_stat: &str, proc_stat: &str) -> Option<DateTime<Utc>> {
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = pid_stat.rsplit_once(')')?.1;
    let ticks: i64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    let btime: i64 = proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    DateTime::from_timestamp(btime + ticks / TICKS_PER_SEC, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_the_agent_order() {
        let s = Status {
            running: true,
            start_time: DateTime::from_timestamp(1_796_619_600, 0),
            configured: true,
            version: "0.1.0".into(),
        };
        assert_eq!(
            s.render(),
            "{\n  \"status\": \"running\",\n  \"starttime\": \"2026-12-07T05:00:00+00:00\",\n  \
             \"configstatus\": \"configured\",\n  \"version\": \"0.1.0\"\n}"
        );
        let stopped = Status {
            running: false,
            start_time: None,
            configured: false,
            version: "0.1.0".into(),
        };
        let v: serde_json::Value = serde_json::from_str(&stopped.render()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"status": "stopped", "starttime": "",
                               "configstatus": "not configured", "version": "0.1.0"})
        );
    }

    #[test]
    fn start_time_from_proc() {
        let stat = "1234 (hostwatch agent) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 \
                    3 0 250000 12345678 400 18446744073709551615";
        let proc_stat = "cpu  1 2 3\nbtime 1796600000\nprocesses 42\n";
        assert_eq!(
            start_from(stat, proc_stat),
            DateTime::from_timestamp(1_796_600_000 + 2500, 0)
        );
        assert_eq!(start_from("garbage", proc_stat), None);
        assert!(process_start(std::process::id() as i32).is_some());
    }
}
