//! The `hostwatch config-wizard` flags. Every question has a flag; with `--non-interactive` the
//! flags answer the questions (a missing flag takes the question's default) and
//! [`WizardArgs::answers`] builds the same [`Answers`] the interactive flow would. Flags that
//! answer a question that the other answers make moot (`--statsd-port` with `--statsd no`,
//! `--ec2-dimensions` on premises, `--cpu` with a preset other than `none`) are an error rather
//! than silently ignored.

use super::answers::*;
use super::flow::{HostFacts, DEFAULT_USER};
use super::validate;
use clap::ValueEnum;
use std::path::PathBuf;

/// Where the config goes unless `--output` says otherwise: the packaged agent's config.
pub const DEFAULT_OUTPUT: &str = "/etc/hostwatch-agent/config.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

impl YesNo {
    fn or(v: Option<YesNo>, default: bool) -> bool {
        v.map_or(default, |v| v == YesNo::Yes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostArg {
    Ec2,
    OnPrem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    Basic,
    Standard,
    Advanced,
    None,
}

fn one_of(s: &str, allowed: &[u32], what: &str) -> Result<u32, String> {
    s.trim()
        .trim_end_matches('s')
        .parse::<u32>()
        .ok()
        .filter(|v| allowed.contains(v))
        .ok_or_else(|| {
            let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
            format!("{what} is one of {} (seconds)", list.join(", "))
        })
}

fn resolution(s: &str) -> Result<u32, String> {
    one_of(s, &[1, 10, 30, 60], "the resolution")
}
fn statsd_collection(s: &str) -> Result<u32, String> {
    one_of(s, &[10, 30, 60], "the StatsD collection interval")
}
fn statsd_aggregation(s: &str) -> Result<u32, String> {
    one_of(s, &[0, 10, 30, 60], "the StatsD aggregation interval")
}

/// Parses `PATH[;group=NAME][;class=STANDARD|INFREQUENT_ACCESS][;stream=NAME][;retention=DAYS]`.
pub fn log_file_spec(spec: &str, host: HostKind) -> Result<LogFile, String> {
    let mut parts = spec.split(';');
    let path = validate::log_path(parts.next().unwrap_or_default().trim())?;
    let mut f = LogFile {
        group_name: default_group_name(&path),
        path,
        group_class: LogGroupClass::Standard,
        stream_name: default_stream_name(host).to_string(),
        retention_days: -1,
    };
    for part in parts {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` in --log-file is not KEY=VALUE"))?;
        match k.trim() {
            "group" => f.group_name = validate::log_group_name(v)?,
            "class" => {
                f.group_class = LogGroupClass::parse(v)
                    .ok_or_else(|| format!("class `{v}`: STANDARD or INFREQUENT_ACCESS"))?
            }
            "stream" => f.stream_name = validate::log_stream_name(v)?,
            "retention" => f.retention_days = validate::retention_days(v)?,
            other => {
                return Err(format!(
                    "unknown key `{other}` in --log-file (group, class, stream, retention)"
                ))
            }
        }
    }
    Ok(f)
}

/// Create an agent config by answering the CloudWatch agent wizard's questions (or, with
/// --non-interactive, from these flags).
#[derive(Debug, Clone, clap::Args)]
pub struct WizardArgs {
    /// Where to save the config; an existing file is kept as FILE.bak.1 (up to .bak.10).
    #[arg(long, default_value = DEFAULT_OUTPUT)]
    pub output: PathBuf,
    /// Ask nothing: answer every question from the flags below (a missing flag takes the
    /// question's default).
    #[arg(long)]
    pub non_interactive: bool,
    /// EC2 or on-premises (default: ec2 when the instance metadata answers).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub host: Option<HostArg>,
    /// The user the agent runs as (default hostwatch).
    #[arg(long, value_parser = validate::user_name, requires = "non_interactive")]
    pub run_as_user: Option<String>,
    /// Turn on the StatsD listener (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub statsd: Option<YesNo>,
    /// StatsD port (default 8125).
    #[arg(long, value_parser = validate::port, requires = "non_interactive")]
    pub statsd_port: Option<u16>,
    /// StatsD collection interval: 10, 30 or 60 s (default 10).
    #[arg(long, value_parser = statsd_collection, requires = "non_interactive")]
    pub statsd_collection_interval: Option<u32>,
    /// StatsD aggregation interval: 0 (do not aggregate), 10, 30 or 60 s (default 60).
    #[arg(long, value_parser = statsd_aggregation, requires = "non_interactive")]
    pub statsd_aggregation_interval: Option<u32>,
    /// Receive collectd metrics (default yes when /usr/share/collectd/types.db exists).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub collectd: Option<YesNo>,
    /// Collect host metrics (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub host_metrics: Option<YesNo>,
    /// Per-core cpu metrics (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub per_core: Option<YesNo>,
    /// EC2 only: add ImageId, InstanceId, InstanceType, AutoScalingGroupName (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub ec2_dimensions: Option<YesNo>,
    /// EC2 only: also send each metric aggregated by InstanceId (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub aggregate_instance_id: Option<YesNo>,
    /// Collection interval of host metrics: 1, 10, 30 or 60 s (default 60).
    #[arg(long, value_parser = resolution, requires = "non_interactive")]
    pub resolution: Option<u32>,
    /// Default metrics config (default basic); `none` selects by the category flags.
    #[arg(long, value_enum, requires = "non_interactive")]
    pub preset: Option<PresetArg>,
    /// Preset none: cpu (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub cpu: Option<YesNo>,
    /// Preset none: memory (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub memory: Option<YesNo>,
    /// Preset none: disk and diskio (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub disk: Option<YesNo>,
    /// Preset none: net and netstat (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub network: Option<YesNo>,
    /// Preset none: swap (default yes).
    #[arg(long, value_enum, requires = "non_interactive")]
    pub swap: Option<YesNo>,
    /// A log file to monitor, repeatable:
    /// PATH[;group=NAME][;class=STANDARD|INFREQUENT_ACCESS][;stream=NAME][;retention=DAYS]
    /// (defaults: the file's base name, STANDARD, {instance_id} on EC2 / {hostname}, never expire).
    #[arg(long, requires = "non_interactive")]
    pub log_file: Vec<String>,
    /// After saving, store the config in the SSM Parameter Store (PutParameter, overwriting).
    #[arg(long, requires = "non_interactive")]
    pub use_parameter_store: bool,
    /// The parameter name (default AmazonCloudWatch-linux).
    #[arg(long, value_parser = super::store::parameter_name, requires = "use_parameter_store")]
    pub parameter_store_name: Option<String>,
    /// The parameter store's region (default: the instance metadata's, AWS_REGION,
    /// AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, value_parser = super::store::region, requires = "use_parameter_store")]
    pub parameter_store_region: Option<String>,
    /// A hostwatch collector's URL, or `default` for the region's AWS endpoint (default:
    /// HOSTWATCH_SSM_ENDPOINT, else `default`).
    #[arg(long, requires = "use_parameter_store")]
    pub parameter_store_endpoint: Option<String>,
}

fn moot(given: &[(&str, bool)], because: &str) -> Result<(), String> {
    let names: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
    if names.is_empty() {
        Ok(())
    } else {
        Err(format!("{} cannot be used {because}", names.join(", ")))
    }
}

impl WizardArgs {
    /// Whether the host kind must be probed (it is not given).
    pub fn needs_probe(&self) -> bool {
        self.host.is_none()
    }

    /// The answers the flags give, defaults filled in as the questions would.
    pub fn answers(&self, facts: &HostFacts) -> Result<Answers, String> {
        let host = match self.host {
            Some(HostArg::Ec2) => HostKind::Ec2,
            Some(HostArg::OnPrem) => HostKind::OnPrem,
            None if facts.ec2_region.is_some() => HostKind::Ec2,
            None => HostKind::OnPrem,
        };
        let statsd = if YesNo::or(self.statsd, true) {
            Some(Statsd {
                port: self.statsd_port.unwrap_or(8125),
                collection_interval: self.statsd_collection_interval.unwrap_or(10),
                aggregation_interval: self.statsd_aggregation_interval.unwrap_or(60),
            })
        } else {
            moot(
                &[
                    ("--statsd-port", self.statsd_port.is_some()),
                    (
                        "--statsd-collection-interval",
                        self.statsd_collection_interval.is_some(),
                    ),
                    (
                        "--statsd-aggregation-interval",
                        self.statsd_aggregation_interval.is_some(),
                    ),
                ],
                "with --statsd no",
            )?;
            None
        };
        let categories_given = [
            ("--cpu", self.cpu.is_some()),
            ("--memory", self.memory.is_some()),
            ("--disk", self.disk.is_some()),
            ("--network", self.network.is_some()),
            ("--swap", self.swap.is_some()),
        ];
        let ec2_given = [
            ("--ec2-dimensions", self.ec2_dimensions.is_some()),
            (
                "--aggregate-instance-id",
                self.aggregate_instance_id.is_some(),
            ),
        ];
        if host == HostKind::OnPrem {
            moot(&ec2_given, "on premises")?;
        }
        let host_metrics = if YesNo::or(self.host_metrics, true) {
            let preset = match self.preset.unwrap_or(PresetArg::Basic) {
                PresetArg::Basic => Preset::Basic,
                PresetArg::Standard => Preset::Standard,
                PresetArg::Advanced => Preset::Advanced,
                PresetArg::None => Preset::None,
            };
            if preset != Preset::None {
                moot(&categories_given, "with a preset other than none")?;
            }
            let ec2 = host == HostKind::Ec2;
            Some(HostMetrics {
                per_core: YesNo::or(self.per_core, true),
                ec2_dimensions: ec2 && YesNo::or(self.ec2_dimensions, true),
                aggregate_instance_id: ec2 && YesNo::or(self.aggregate_instance_id, true),
                resolution: self.resolution.unwrap_or(60),
                preset,
                categories: Categories {
                    cpu: YesNo::or(self.cpu, true),
                    memory: YesNo::or(self.memory, true),
                    disk: YesNo::or(self.disk, true),
                    network: YesNo::or(self.network, true),
                    swap: YesNo::or(self.swap, true),
                },
            })
        } else {
            let mut given = vec![
                ("--per-core", self.per_core.is_some()),
                ("--resolution", self.resolution.is_some()),
                ("--preset", self.preset.is_some()),
            ];
            given.extend(ec2_given);
            given.extend(categories_given);
            moot(&given, "with --host-metrics no")?;
            None
        };
        let log_files = self
            .log_file
            .iter()
            .map(|s| log_file_spec(s, host).map_err(|e| format!("--log-file {s}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Answers {
            host,
            run_as_user: self
                .run_as_user
                .clone()
                .unwrap_or_else(|| DEFAULT_USER.to_string()),
            statsd,
            collectd: YesNo::or(self.collectd, facts.collectd_installed),
            host_metrics,
            log_files,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: WizardArgs,
    }

    /// The wizard's flags as clap parses them from `flags`.
    pub(crate) fn parse(flags: &[&str]) -> Result<WizardArgs, clap::Error> {
        let mut argv = vec!["wizard"];
        argv.extend_from_slice(flags);
        Cli::try_parse_from(argv).map(|c| c.args)
    }

    #[test]
    fn answer_flags_need_non_interactive() {
        assert!(parse(&["--statsd", "no"]).is_err());
        assert!(parse(&["--non-interactive", "--statsd", "no"]).is_ok());
    }

    #[test]
    fn defaults_match_the_questions() {
        let a = parse(&["--non-interactive"]).unwrap();
        let facts = HostFacts {
            ec2_region: Some("us-east-1".into()),
            collectd_installed: false,
        };
        let answers = a.answers(&facts).unwrap();
        assert_eq!(answers.host, HostKind::Ec2);
        assert_eq!(answers.run_as_user, "hostwatch");
        assert_eq!(answers.statsd, Some(Statsd::default()));
        assert!(!answers.collectd);
        let h = answers.host_metrics.unwrap();
        assert!(h.per_core && h.ec2_dimensions && h.aggregate_instance_id);
        assert_eq!((h.resolution, h.preset), (60, Preset::Basic));
    }

    #[test]
    fn values_are_checked() {
        assert!(parse(&["--non-interactive", "--resolution", "5"]).is_err());
        assert!(parse(&["--non-interactive", "--resolution", "10s"]).is_ok());
        assert!(parse(&["--non-interactive", "--statsd-port", "0"]).is_err());
        assert!(parse(&["--non-interactive", "--run-as-user", "Bad"]).is_err());
    }

    #[test]
    fn moot_flags_are_refused() {
        let facts = HostFacts::default();
        let a = parse(&["--non-interactive", "--statsd", "no", "--statsd-port", "1"]).unwrap();
        assert!(a.answers(&facts).unwrap_err().contains("--statsd-port"));
        let a = parse(&[
            "--non-interactive",
            "--host",
            "on-prem",
            "--ec2-dimensions",
            "no",
        ])
        .unwrap();
        assert!(a.answers(&facts).unwrap_err().contains("on premises"));
        let a = parse(&["--non-interactive", "--preset", "basic", "--cpu", "no"]).unwrap();
        assert!(a.answers(&facts).unwrap_err().contains("--cpu"));
    }

    #[test]
    fn log_file_specs() {
        let f = log_file_spec("/var/log/syslog", HostKind::Ec2).unwrap();
        assert_eq!(f.group_name, "syslog");
        assert_eq!(f.stream_name, "{instance_id}");
        assert_eq!(f.retention_days, -1);
        let f = log_file_spec(
            "/var/log/app/*.log;group=app;class=INFREQUENT_ACCESS;stream=web;retention=30",
            HostKind::OnPrem,
        )
        .unwrap();
        assert_eq!(f.group_name, "app");
        assert_eq!(f.group_class, LogGroupClass::InfrequentAccess);
        assert_eq!(f.stream_name, "web");
        assert_eq!(f.retention_days, 30);
        assert!(log_file_spec("/x;retention=2", HostKind::OnPrem).is_err());
        assert!(log_file_spec("/x;colour=red", HostKind::OnPrem).is_err());
        assert!(log_file_spec("relative.log", HostKind::OnPrem).is_err());
    }
}
