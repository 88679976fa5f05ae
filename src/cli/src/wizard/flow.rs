//! The interactive question flow, in the CloudWatch agent wizard's order, wording and defaults
//! (Linux):
//!
//! 1. EC2 or On-Premises (default from the instance metadata probe, done by the caller);
//! 2. run-as user (hostwatch / root / others);
//! 3. StatsD: port, collection interval, aggregation interval;
//! 4. collectd (default no when collectd's `types.db` is missing, unlike the real wizard);
//! 5. host metrics: per-core cpu, EC2 dimensions and InstanceId aggregation (EC2 only),
//!    resolution, then the preset loop (Basic / Standard / Advanced with a confirmation, or
//!    None with per-category questions);
//! 6. log files: path, group name, group class, stream name, retention, another one?
//!
//! Each step is its own function taking the answers so far, so a question can be inserted
//! between two steps without touching the others. Not asked here: the OS (always Linux), the
//! awslogs migration, journald and X-Ray (not built), and the parameter store upload.

use super::answers::*;
use super::builder;
use super::prompt::{PromptError, Prompter};
use super::validate;
use std::io::{BufRead, Write};

/// What the caller found out about this host before asking.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// The region from the instance metadata, when it answered.
    pub ec2_region: Option<String>,
    /// Whether collectd's `types.db` exists (the agent needs it to decode collectd packets).
    pub collectd_installed: bool,
}

/// The run-as user offered first: the system user the packages create.
pub const DEFAULT_USER: &str = "hostwatch";

pub const RESOLUTIONS: [u32; 4] = [1, 10, 30, 60];
const STATSD_COLLECTION: [u32; 3] = [10, 30, 60];
const STATSD_AGGREGATION: [u32; 4] = [0, 10, 30, 60];

/// Asks every question and returns the answers.
pub fn ask_all<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    facts: &HostFacts,
) -> Result<Answers, PromptError> {
    let host = ask_host(p, facts)?;
    let mut a = Answers {
        host,
        run_as_user: DEFAULT_USER.to_string(),
        statsd: None,
        collectd: false,
        host_metrics: None,
        log_files: Vec::new(),
    };
    a.run_as_user = ask_user(p)?;
    a.statsd = ask_statsd(p)?;
    a.collectd = ask_collectd(p, facts)?;
    a.host_metrics = ask_host_metrics(p, &a)?;
    a.log_files = ask_log_files(p, a.host)?;
    Ok(a)
}

fn ask_host<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    facts: &HostFacts,
) -> Result<HostKind, PromptError> {
    let default = if facts.ec2_region.is_some() { 0 } else { 1 };
    let i = p.choice(
        "Are you using EC2 or On-Premises hosts?",
        &["EC2", "On-Premises"],
        default,
    )?;
    if i == 1 {
        p.say(
            "Please make sure the credentials and region set correctly on your hosts.\n\
             Refer to http://docs.aws.amazon.com/cli/latest/userguide/cli-chap-getting-started.html",
        )?;
        Ok(HostKind::OnPrem)
    } else {
        Ok(HostKind::Ec2)
    }
}

fn ask_user<R: BufRead, W: Write>(p: &mut Prompter<R, W>) -> Result<String, PromptError> {
    let i = p.choice(
        "Which user are you planning to run the agent?",
        &[DEFAULT_USER, "root", "others"],
        0,
    )?;
    Ok(match i {
        0 => DEFAULT_USER.to_string(),
        1 => "root".to_string(),
        _ => p.ask(
            "Please specify your own user(remember the user must exist before the agent running):",
            validate::user_name,
        )?,
    })
}

fn ask_statsd<R: BufRead, W: Write>(p: &mut Prompter<R, W>) -> Result<Option<Statsd>, PromptError> {
    if !p.yes_no("Do you want to turn on StatsD daemon?", true)? {
        return Ok(None);
    }
    let port = p.ask_with_default(
        "Which port do you want StatsD daemon to listen to?",
        "8125",
        validate::port,
    )?;
    let c = p.choice(
        "What is the collect interval for StatsD daemon?",
        &["10s", "30s", "60s"],
        0,
    )?;
    let g = p.choice(
        "What is the aggregation interval for metrics collected by StatsD daemon?",
        &["Do not aggregate", "10s", "30s", "60s"],
        3,
    )?;
    Ok(Some(Statsd {
        port,
        collection_interval: STATSD_COLLECTION[c],
        aggregation_interval: STATSD_AGGREGATION[g],
    }))
}

fn ask_collectd<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    facts: &HostFacts,
) -> Result<bool, PromptError> {
    if !facts.collectd_installed {
        p.say("CollectD does not seem to be installed on this host (no /usr/share/collectd/types.db).")?;
    }
    p.yes_no(
        "Do you want to monitor metrics from CollectD? WARNING: CollectD must be installed or the Agent will fail to start",
        facts.collectd_installed,
    )
}

fn ask_host_metrics<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    so_far: &Answers,
) -> Result<Option<HostMetrics>, PromptError> {
    if !p.yes_no(
        "Do you want to monitor any host metrics? e.g. CPU, memory, etc.",
        true,
    )? {
        return Ok(None);
    }
    let per_core = p.yes_no(
        "Do you want to monitor cpu metrics per core? Additional CloudWatch charges may apply.",
        true,
    )?;
    let (mut ec2_dimensions, mut aggregate_instance_id) = (false, false);
    if so_far.host == HostKind::Ec2 {
        ec2_dimensions = p.yes_no(
            "Do you want to add ec2 dimensions (ImageId, InstanceId, InstanceType, AutoScalingGroupName) into all of your metrics if the info is available?",
            true,
        )?;
        aggregate_instance_id = p.yes_no(
            "Do you want to aggregate ec2 dimensions (InstanceId)?",
            true,
        )?;
    }
    let r = p.choice(
        "Would you like to collect your metrics at high resolution (sub-minute resolution)? This enables sub-minute resolution for all metrics, but you can customize for specific metrics in the output json file.",
        &["1s", "10s", "30s", "60s"],
        3,
    )?;
    let mut h = HostMetrics {
        per_core,
        ec2_dimensions,
        aggregate_instance_id,
        resolution: RESOLUTIONS[r],
        preset: Preset::Basic,
        categories: Categories::default(),
    };
    loop {
        let i = p.choice(
            "Which default metrics config do you want?",
            &["Basic", "Standard", "Advanced", "None"],
            0,
        )?;
        h.preset = [
            Preset::Basic,
            Preset::Standard,
            Preset::Advanced,
            Preset::None,
        ][i];
        if h.preset == Preset::None {
            h.categories = ask_categories(p)?;
            return Ok(Some(h));
        }
        let preview = Answers {
            host_metrics: Some(h),
            ..so_far.clone()
        };
        p.say("Current config as follows:")?;
        p.say(builder::render(&builder::build_metrics_only(&preview)).trim_end())?;
        if p.yes_no(
            "Are you satisfied with the above config? Note: it can be manually customized after the wizard completes to add additional items.",
            true,
        )? {
            return Ok(Some(h));
        }
    }
}

fn ask_categories<R: BufRead, W: Write>(p: &mut Prompter<R, W>) -> Result<Categories, PromptError> {
    Ok(Categories {
        cpu: p.yes_no("Do you want to monitor CPU status?", true)?,
        memory: p.yes_no("Do you want to monitor memory status?", true)?,
        disk: p.yes_no("Do you want to monitor disk status?", true)?,
        network: p.yes_no("Do you want to monitor network status?", true)?,
        swap: p.yes_no("Do you want to monitor swap status?", true)?,
    })
}

fn ask_log_files<R: BufRead, W: Write>(
    p: &mut Prompter<R, W>,
    host: HostKind,
) -> Result<Vec<LogFile>, PromptError> {
    let mut files = Vec::new();
    if !p.yes_no("Do you want to monitor any log files?", true)? {
        return Ok(files);
    }
    let retention_options: Vec<String> = hostwatch_agent::config::logs::RETENTION_DAYS
        .iter()
        .map(i64::to_string)
        .collect();
    let retention_options: Vec<&str> = retention_options.iter().map(String::as_str).collect();
    loop {
        let path = p.ask("Log file path:", validate::log_path)?;
        let group_name = p.ask_with_default(
            "Log group name:",
            &default_group_name(&path),
            validate::log_group_name,
        )?;
        let classes: Vec<&str> = LogGroupClass::ALL.iter().map(|c| c.as_str()).collect();
        let group_class = LogGroupClass::ALL[p.choice("Log group class:", &classes, 0)?];
        let stream_name = p.ask_with_default(
            "Log stream name:",
            default_stream_name(host),
            validate::log_stream_name,
        )?;
        let r = p.choice("Log Group Retention in days", &retention_options, 0)?;
        files.push(LogFile {
            path,
            group_name,
            group_class,
            stream_name,
            retention_days: hostwatch_agent::config::logs::RETENTION_DAYS[r],
        });
        if !p.yes_no(
            "Do you want to specify any additional log files to monitor?",
            true,
        )? {
            return Ok(files);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &str, facts: &HostFacts) -> (Result<Answers, PromptError>, String) {
        let mut out = Vec::new();
        let mut p = Prompter::new(input.as_bytes(), &mut out);
        let a = ask_all(&mut p, facts);
        (a, String::from_utf8(out).unwrap())
    }

    #[test]
    fn all_defaults_on_ec2() {
        let facts = HostFacts {
            ec2_region: Some("eu-west-1".into()),
            collectd_installed: true,
        };
        // host, user, statsd (yes, port, 2 intervals), collectd, host metrics (yes, per-core,
        // dims, aggregate, resolution, preset, satisfied), logs? no.
        let input = "\n".repeat(14) + "2\n";
        let (a, out) = run(&input, &facts);
        let a = a.unwrap();
        assert_eq!(a.host, HostKind::Ec2);
        assert_eq!(a.run_as_user, "hostwatch");
        assert_eq!(a.statsd, Some(Statsd::default()));
        assert!(a.collectd);
        let h = a.host_metrics.unwrap();
        assert!(h.per_core && h.ec2_dimensions && h.aggregate_instance_id);
        assert_eq!(h.resolution, 60);
        assert_eq!(h.preset, Preset::Basic);
        assert!(a.log_files.is_empty());
        assert!(out.contains("Current config as follows:"));
    }

    #[test]
    fn on_prem_skips_ec2_questions_and_collectd_defaults_to_no_when_missing() {
        let facts = HostFacts::default();
        // host (default on-prem), user, statsd no, collectd (default no), host metrics no,
        // one log file with defaults, no more.
        let input = "\n\n2\n\n2\n\n/var/log/my app.log\n\n\n\n\n2\n";
        let (a, out) = run(input, &facts);
        let a = a.unwrap();
        assert_eq!(a.host, HostKind::OnPrem);
        assert!(!a.collectd);
        assert!(a.host_metrics.is_none());
        assert!(!out.contains("ec2 dimensions"));
        assert!(out.contains("does not seem to be installed"));
        assert_eq!(
            a.log_files,
            vec![LogFile {
                path: "/var/log/my app.log".into(),
                group_name: "my_app.log".into(),
                group_class: LogGroupClass::Standard,
                stream_name: "{hostname}".into(),
                retention_days: -1,
            }]
        );
    }

    #[test]
    fn not_satisfied_asks_the_preset_again() {
        let facts = HostFacts::default();
        // on-prem, root, no statsd, no collectd, host metrics yes, per-core no, 10s,
        // Advanced -> not satisfied -> Standard -> satisfied, no logs.
        let input = "2\n2\n2\n2\n1\n2\n2\n3\n2\n2\n1\n2\n";
        let (a, out) = run(input, &facts);
        let a = a.unwrap();
        assert_eq!(a.run_as_user, "root");
        let h = a.host_metrics.unwrap();
        assert_eq!(h.preset, Preset::Standard);
        assert_eq!(h.resolution, 10);
        assert!(!h.per_core);
        assert_eq!(out.matches("Current config as follows:").count(), 2);
    }

    #[test]
    fn other_user_and_invalid_port_are_asked_again() {
        let facts = HostFacts::default();
        let input = "2\n3\nBad User\nsvc_metrics\n1\n70000\n9125\n2\n1\n2\n2\n2\n";
        let (a, out) = run(input, &facts);
        let a = a.unwrap();
        assert_eq!(a.run_as_user, "svc_metrics");
        let s = a.statsd.unwrap();
        assert_eq!(s.port, 9125);
        assert_eq!(s.collection_interval, 30);
        assert_eq!(s.aggregation_interval, 0);
        assert!(out.contains("The value Bad User is not valid to this question: a user name"));
        assert!(out.contains("The value 70000 is not valid to this question: a port"));
    }

    #[test]
    fn end_of_input_is_an_error() {
        let (a, _) = run("1\n", &HostFacts::default());
        assert!(matches!(a, Err(PromptError::InputClosed(_))));
    }
}
