//! The validated agent configuration: what the rest of the agent consumes.
//!
//! These types are produced by the loader in this module from the CloudWatch agent's JSON
//! config (sections `agent`, `metrics`, `logs`). Every default documented by the real agent is
//! already applied here, measurement names are normalised (plugin prefix removed:
//! `cpu_usage_idle` and `usage_idle` both become field `usage_idle`), and `${aws:...}`
//! placeholders are kept verbatim for the runtime to resolve.
//!
//! Regular expressions (procstat `exe` / `pattern`, `multi_line_start_pattern`, `blacklist`,
//! `filters`) have been compiled at load time and are stored in the syntax of the `regex` crate
//! (RE2's literal-brace quirk already escaped), so `Regex::new` on them succeeds.

use hostwatch_model::Unit;
use std::collections::BTreeMap;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentConfig {
    pub agent: AgentSection,
    pub metrics: Option<MetricsSection>,
    pub logs: Option<LogsSection>,
}

/// `agent`.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSection {
    /// Seconds; default 60.
    pub metrics_collection_interval: u64,
    pub region: Option<String>,
    pub logfile: Option<String>,
    pub debug: bool,
    pub omit_hostname: bool,
    pub run_as_user: Option<String>,
    pub role_arn: Option<String>,
    pub usage_data: bool,
    /// hostwatch extension: the log spool's size bound in MiB (default 512). When it is full
    /// the agent stops reading log files until the destination catches up; nothing is dropped.
    pub logs_spool_max_mb: u64,
}

impl Default for AgentSection {
    fn default() -> Self {
        AgentSection {
            metrics_collection_interval: 60,
            region: None,
            logfile: None,
            debug: false,
            omit_hostname: false,
            run_as_user: None,
            role_arn: None,
            usage_data: true,
            logs_spool_max_mb: 512,
        }
    }
}

/// One entry of a plugin's `measurement` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// The field name without the plugin prefix, e.g. `usage_idle`.
    pub field: String,
    /// `rename`: the metric name to emit instead of `<plugin>_<field>`.
    pub rename: Option<String>,
    /// `unit`: overrides the default unit. OpenTelemetry names with an exact equivalent are
    /// mapped (`By` is `Bytes`); an unknown name is `Some(Unit::None)`, as the CloudWatch agent
    /// sends it (the loader warns).
    pub unit: Option<Unit>,
}

/// Options every host plugin has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PluginCommon {
    /// Never empty in a loaded config (a plugin with an empty list is left out), without
    /// duplicate fields, in config order.
    pub measurements: Vec<Measurement>,
    /// Seconds; `None` means the agent interval.
    pub metrics_collection_interval: Option<u64>,
    /// Static values or `${aws:...}` placeholders.
    pub append_dimensions: BTreeMap<String, String>,
    /// `drop_original_metrics` (plugin level), normalised to full metric names.
    pub drop_original_metrics: Vec<String>,
}

/// `metrics.metrics_collected.cpu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuConfig {
    pub common: PluginCommon,
    /// `resources: ["*"]`: per-core metrics.
    pub per_cpu: bool,
    /// `totalcpu`, default true.
    pub total_cpu: bool,
}

/// `metrics.metrics_collected.disk`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiskConfig {
    pub common: PluginCommon,
    /// Mount points; empty or `*` = all.
    pub resources: Vec<String>,
    pub ignore_file_system_types: Vec<String>,
    pub drop_device: bool,
}

/// A plugin whose only extra option is `resources` (diskio, net).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePluginConfig {
    pub common: PluginCommon,
    /// Device / interface names; empty or `*` = all.
    pub resources: Vec<String>,
}

/// One `procstat` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcstatConfig {
    pub common: PluginCommon,
    pub selector: ProcessSelector,
}

/// How a procstat entry finds its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessSelector {
    PidFile(String),
    /// A regex on the process name.
    Exe(String),
    /// A regex on the full command line.
    Pattern(String),
}

/// `statsd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsdConfig {
    pub service_address: String,
    pub metrics_collection_interval: u64,
    pub metrics_aggregation_interval: u64,
    pub metric_separator: String,
    pub allowed_pending_messages: u64,
    pub drop_original_metrics: Vec<String>,
}

/// `collectd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectdConfig {
    pub service_address: String,
    pub name_prefix: String,
    pub collectd_auth_file: String,
    pub collectd_security_level: String,
    pub collectd_typesdb: Vec<String>,
    pub metrics_aggregation_interval: u64,
    pub append_dimensions: BTreeMap<String, String>,
    pub drop_original_metrics: Vec<String>,
}

/// `metrics.metrics_collected`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricsCollected {
    pub cpu: Option<CpuConfig>,
    pub mem: Option<PluginCommon>,
    pub swap: Option<PluginCommon>,
    pub disk: Option<DiskConfig>,
    pub diskio: Option<ResourcePluginConfig>,
    pub net: Option<ResourcePluginConfig>,
    pub netstat: Option<PluginCommon>,
    pub processes: Option<PluginCommon>,
    pub procstat: Vec<ProcstatConfig>,
    pub statsd: Option<StatsdConfig>,
    pub collectd: Option<CollectdConfig>,
    /// Sections accepted by the schema but not collected by this agent (e.g. `nvidia_gpu`,
    /// `ethtool`, `emf`); named in the startup warning.
    pub unsupported: Vec<String>,
}

/// `metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsSection {
    /// Default `CWAgent`.
    pub namespace: String,
    pub append_dimensions: BTreeMap<String, String>,
    pub aggregation_dimensions: Vec<Vec<String>>,
    pub metrics_collected: MetricsCollected,
    /// Seconds; default 60.
    pub force_flush_interval: u64,
    pub endpoint_override: Option<String>,
    pub role_arn: Option<String>,
}

/// One `logs.logs_collected.files.collect_list` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileLogConfig {
    pub file_path: String,
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
    /// `STANDARD` or `INFREQUENT_ACCESS` (upper-cased; the config may use any case).
    pub log_group_class: Option<String>,
    pub retention_in_days: Option<i64>,
    pub timestamp_format: Option<String>,
    /// `Local`, `LOCAL` or `UTC`; only `UTC` means UTC.
    pub timezone: Option<String>,
    pub trim_timestamp: bool,
    /// A regex, or the keyword `{timestamp_format}`; `None` means the default `^[\S]`.
    pub multi_line_start_pattern: Option<String>,
    /// Lower-cased encoding name (e.g. `utf-8`, `iso8859-1`); `None` means UTF-8.
    pub encoding: Option<String>,
    /// `(type, expression)`: `include` or `exclude` with a regex.
    pub filters: Vec<(String, String)>,
    pub blacklist: Option<String>,
    pub publish_multi_logs: bool,
    pub auto_removal: bool,
    pub backpressure_mode: Option<String>,
}

/// `logs`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogsSection {
    pub files: Vec<FileLogConfig>,
    pub log_stream_name: Option<String>,
    /// Seconds; default 5.
    pub force_flush_interval: u64,
    pub endpoint_override: Option<String>,
    pub role_arn: Option<String>,
    pub concurrency: Option<u64>,
    /// Sections accepted but not built yet (e.g. `journald`, `emf`).
    pub unsupported: Vec<String>,
}
