//! Every answer the wizard collects, as plain data. The interactive flow ([`super::flow`]) and
//! the `--non-interactive` flags ([`super::args`]) both produce an [`Answers`]; the config
//! builder ([`super::builder`]) turns it into the agent's JSON. Keeping the answers separate from
//! the questions is what makes the two front ends build byte-identical configs.

/// Where the agent runs: decides the presets' contents, the EC2-only questions and the default
/// log stream name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Ec2,
    OnPrem,
}

/// The default metric sets of the real wizard, plus `None` (per-category questions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Basic,
    Standard,
    Advanced,
    None,
}

/// The per-category answers of the `None` preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Categories {
    pub cpu: bool,
    pub memory: bool,
    pub disk: bool,
    pub network: bool,
    pub swap: bool,
}

impl Default for Categories {
    fn default() -> Self {
        Categories {
            cpu: true,
            memory: true,
            disk: true,
            network: true,
            swap: true,
        }
    }
}

/// The StatsD listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statsd {
    pub port: u16,
    /// Seconds: 10, 30 or 60.
    pub collection_interval: u32,
    /// Seconds: 0 (do not aggregate), 10, 30 or 60.
    pub aggregation_interval: u32,
}

impl Default for Statsd {
    fn default() -> Self {
        Statsd {
            port: 8125,
            collection_interval: 10,
            aggregation_interval: 60,
        }
    }
}

/// Host metrics (cpu, mem, disk, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMetrics {
    pub per_core: bool,
    /// EC2 only: the four `${aws:...}` append_dimensions.
    pub ec2_dimensions: bool,
    /// EC2 only: `aggregation_dimensions: [["InstanceId"]]`.
    pub aggregate_instance_id: bool,
    /// Seconds: 1, 10, 30 or 60; written to the agent and to every host plugin.
    pub resolution: u32,
    pub preset: Preset,
    /// Used when `preset` is [`Preset::None`].
    pub categories: Categories,
}

/// `log_group_class` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogGroupClass {
    Standard,
    InfrequentAccess,
}

impl LogGroupClass {
    pub const ALL: [LogGroupClass; 2] = [LogGroupClass::Standard, LogGroupClass::InfrequentAccess];

    pub fn as_str(self) -> &'static str {
        match self {
            LogGroupClass::Standard => "STANDARD",
            LogGroupClass::InfrequentAccess => "INFREQUENT_ACCESS",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// One monitored log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: String,
    pub group_name: String,
    pub group_class: LogGroupClass,
    pub stream_name: String,
    /// One of [`hostwatch_agent::config::logs::RETENTION_DAYS`]; `-1` writes no retention.
    pub retention_days: i64,
}

/// Everything the wizard asks, answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub host: HostKind,
    pub run_as_user: String,
    pub statsd: Option<Statsd>,
    pub collectd: bool,
    pub host_metrics: Option<HostMetrics>,
    pub log_files: Vec<LogFile>,
}

/// The default log group name for a path: its last component with spaces made underscores
/// (as the CloudWatch agent's wizard does).
pub fn default_group_name(path: &str) -> String {
    let base = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path);
    let base = if base.is_empty() { path } else { base };
    base.replace(' ', "_")
}

/// The default log stream name: the instance id on EC2, the host name elsewhere.
pub fn default_stream_name(host: HostKind) -> &'static str {
    match host {
        HostKind::Ec2 => "{instance_id}",
        HostKind::OnPrem => "{hostname}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_name_defaults_to_the_base_name() {
        assert_eq!(default_group_name("/var/log/syslog"), "syslog");
        assert_eq!(default_group_name("/var/log/my app.log"), "my_app.log");
        assert_eq!(default_group_name("/var/log/app/"), "app");
        assert_eq!(default_group_name("/"), "/");
    }
}
