//! Tests of the config loader: the CloudWatch agent's own sample configs, this project's
//! fixtures, and a table of small invalid snippets with their exact errors.

use super::*;
use hostwatch_model::Unit;
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/cwagent-configs")
}

fn load(name: &str) -> Loaded {
    match load_file(&data_dir().join(name)) {
        Ok(l) => l,
        Err(e) => panic!("{name} should load:\n{e}"),
    }
}

fn load_json(text: &str) -> Result<Loaded, ConfigError> {
    load_str(text, "test.json")
}

fn errors_of(text: &str) -> Vec<(String, String)> {
    match load_json(text) {
        Ok(_) => panic!("should be rejected: {text}"),
        Err(e) => e
            .errors()
            .iter()
            .map(|p| (p.path.clone(), p.message.clone()))
            .collect(),
    }
}

fn metrics(l: &Loaded) -> &MetricsSection {
    l.config.metrics.as_ref().unwrap()
}

fn collected(l: &Loaded) -> &MetricsCollected {
    &metrics(l).metrics_collected
}

fn logs(l: &Loaded) -> &LogsSection {
    l.config.logs.as_ref().unwrap()
}

fn m(field: &str, rename: Option<&str>, unit: Option<Unit>) -> Measurement {
    Measurement {
        field: field.to_string(),
        rename: rename.map(str::to_string),
        unit,
    }
}

fn plain(fields: &[&str]) -> Vec<Measurement> {
    fields.iter().map(|f| m(f, None, None)).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_valid_fixture_loads() {
    let mut count = 0;
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.starts_with("invalid") || name.contains("_invalid_") {
            continue;
        }
        if let Err(e) = load_file(&path) {
            panic!("{name} should load:\n{e}");
        }
        count += 1;
    }
    assert!(count >= 15, "only {count} valid fixtures found");
}

#[test]
fn invalid_upstream_sample_names_every_path() {
    let err = load_file(&data_dir().join("invalidMetricsWithInvalidMeasurement.json")).unwrap_err();
    let got: Vec<(&str, &str)> = err
        .errors()
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    let mc = "/metrics/metrics_collected";
    let want = [
        (format!("{mc}/cpu"), "measurement is required"),
        (
            format!("{mc}/cpu/metrics_collection_interval"),
            "Must be greater than or equal to 1",
        ),
        (
            format!("{mc}/disk/measurement/0/name"),
            "String length must be greater than or equal to 1",
        ),
        (
            format!("{mc}/disk/measurement/0/unit"),
            "Invalid type. Expected: string, given: integer",
        ),
        (
            format!("{mc}/disk/metrics_collection_interval"),
            "Invalid type. Expected: integer, given: number",
        ),
        (
            format!("{mc}/diskio/measurement"),
            "array items[2,3] must be unique",
        ),
        (
            format!("{mc}/swap/measurement/1"),
            "String length must be greater than or equal to 1",
        ),
    ];
    let want: Vec<(&str, &str)> = want.iter().map(|(p, m)| (p.as_str(), *m)).collect();
    assert_eq!(got, want);
    // The upstream checker counts these kinds (besides its allOf / oneOf summaries):
    // required 1, invalid_type 2, unique 1, number_gte 1, string_gte 2.
    let text = err.to_string();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!(
            "Invalid Json input schema in {}:",
            data_dir()
                .join("invalidMetricsWithInvalidMeasurement.json")
                .display()
        )
    );
    assert_eq!(
        lines.next().unwrap(),
        "Under path : /metrics/metrics_collected/cpu | Error : measurement is required"
    );
    assert_eq!(lines.count(), 6);
}

#[test]
fn standard_config_fixes_the_cpu_quirk() {
    let l = load("standard_config_linux.json");
    let cpu = collected(&l).cpu.as_ref().unwrap();
    assert_eq!(
        cpu.common.measurements,
        plain(&["usage_idle", "usage_iowait", "usage_user", "usage_system"])
    );
    assert!(l.warnings.iter().any(|w| w
        .contains("/metrics/metrics_collected/cpu | Warning : totalcpu is false")
        && w.contains("collecting cpu-total instead")));
    // The Standard preset's quirk does not exist here: the total is collected.
    let cpu = collected(&l).cpu.as_ref().unwrap();
    assert!(cpu.total_cpu && !cpu.per_cpu);
    let disk = collected(&l).disk.as_ref().unwrap();
    assert_eq!(disk.resources, strings(&["*"]));
    assert_eq!(
        disk.common.measurements,
        plain(&["used_percent", "inodes_free"])
    );
    assert_eq!(
        collected(&l).swap.as_ref().unwrap().measurements,
        plain(&["used_percent"])
    );
    assert!(l.startup_warning().is_none());
}

#[test]
fn statsd_config_defaults_and_zero_aggregation() {
    let l = load("statsd_config.json");
    assert_eq!(
        collected(&l).statsd,
        Some(StatsdConfig {
            service_address: ":8125".into(),
            metrics_collection_interval: 10,
            metrics_aggregation_interval: 0,
            metric_separator: "_".into(),
            allowed_pending_messages: 10_000,
            drop_original_metrics: vec![],
        })
    );
    assert_eq!(metrics(&l).namespace, "CWAgent");
    assert_eq!(metrics(&l).force_flush_interval, 60);
    assert_eq!(l.config.agent, AgentSection::default());
    assert_eq!(l.config.agent.metrics_collection_interval, 60);
    assert!(l.config.logs.is_none());
}

#[test]
fn collectd_defaults() {
    let l = load("collectd_config_linux.json");
    assert_eq!(
        collected(&l).collectd,
        Some(CollectdConfig {
            service_address: "udp://127.0.0.1:25826".into(),
            name_prefix: "collectd_".into(),
            collectd_auth_file: "/etc/collectd/auth_file".into(),
            collectd_security_level: "encrypt".into(),
            collectd_typesdb: strings(&["/usr/share/collectd/types.db"]),
            metrics_aggregation_interval: 60,
            append_dimensions: Default::default(),
            drop_original_metrics: vec![],
        })
    );
}

#[test]
fn basic_config_append_dimensions() {
    let l = load("basic_config_linux.json");
    assert_eq!(l.config.agent.region.as_deref(), Some("us-east-1"));
    let dims: Vec<(&str, &str)> = metrics(&l)
        .append_dimensions
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        dims,
        vec![
            ("AutoScalingGroupName", "${aws:AutoScalingGroupName}"),
            ("ImageId", "${aws:ImageId}"),
            ("InstanceId", "${aws:InstanceId}"),
            ("InstanceType", "${aws:InstanceType}"),
        ]
    );
    assert_eq!(
        collected(&l).mem.as_ref().unwrap().measurements,
        plain(&["used_percent"])
    );
    assert!(collected(&l).cpu.is_none());
    assert!(l.warnings.is_empty());
}

#[test]
fn complete_config_values() {
    let l = load("complete_linux_config.json");
    let agent = &l.config.agent;
    assert_eq!(agent.metrics_collection_interval, 10);
    assert_eq!(agent.logfile.as_deref(), Some("/tmp/fake/log/hotdog.log"));
    assert!(agent.debug);
    assert!(agent.omit_hostname);
    assert_eq!(agent.role_arn.as_deref(), Some("global_role_arn_value"));
    assert_eq!(agent.region.as_deref(), Some("us-west-2"));

    let ms = metrics(&l);
    assert_eq!(ms.role_arn.as_deref(), Some("metrics_role_arn_value_test"));
    assert_eq!(
        ms.endpoint_override.as_deref(),
        Some("https://monitoring-fips.us-west-2.amazonaws.com")
    );
    assert_eq!(
        ms.aggregation_dimensions,
        vec![
            strings(&["ImageId"]),
            strings(&["InstanceId", "InstanceType"]),
            strings(&["d1"]),
            vec![],
        ]
    );

    let mc = collected(&l);
    let cpu = mc.cpu.as_ref().unwrap();
    assert!(cpu.per_cpu);
    assert!(!cpu.total_cpu);
    assert_eq!(
        cpu.common.measurements,
        vec![
            m("usage_idle", Some("CPU_USAGE_IDLE"), Some(Unit::None)),
            m("usage_nice", None, Some(Unit::None)),
            m("usage_guest", None, None),
            m("time_active", None, None),
            m("usage_active", None, None),
        ]
    );
    assert_eq!(
        cpu.common.drop_original_metrics,
        strings(&["CPU_USAGE_IDLE", "cpu_time_active"])
    );
    assert_eq!(cpu.common.metrics_collection_interval, Some(10));
    assert_eq!(
        cpu.common.append_dimensions.get("d1").map(String::as_str),
        Some("foo")
    );

    let disk = mc.disk.as_ref().unwrap();
    assert_eq!(
        disk.common.measurements[0],
        m("free", Some("DISK_FREE"), Some(Unit::None))
    );
    assert_eq!(disk.resources, strings(&["/", "/dev", "/sys"]));
    assert_eq!(
        disk.ignore_file_system_types,
        strings(&["sysfs", "devtmpfs"])
    );
    assert!(!disk.drop_device);

    // The NVMe field is accepted, left out of the list and named in the startup warning.
    let diskio = mc.diskio.as_ref().unwrap();
    assert_eq!(
        diskio.common.measurements,
        plain(&["reads", "writes", "read_time", "write_time", "io_time"])
    );
    assert_eq!(
        mc.mem.as_ref().unwrap().metrics_collection_interval,
        Some(1)
    );
    assert_eq!(mc.net.as_ref().unwrap().resources, strings(&["eth0"]));
    assert_eq!(
        mc.processes.as_ref().unwrap().measurements,
        plain(&["running", "sleeping", "dead"])
    );
    assert_eq!(mc.procstat.len(), 1);
    assert_eq!(
        mc.procstat[0].selector,
        ProcessSelector::PidFile("/var/run/example1.pid".into())
    );
    assert_eq!(
        mc.procstat[0].common.measurements,
        plain(&["cpu_usage", "memory_rss"])
    );
    assert_eq!(mc.procstat[0].common.metrics_collection_interval, Some(10));
    assert_eq!(
        mc.statsd.as_ref().unwrap().drop_original_metrics,
        strings(&["statsd_drop"])
    );
    assert_eq!(
        mc.collectd.as_ref().unwrap().drop_original_metrics,
        strings(&["collectd_drop"])
    );
    assert_eq!(
        mc.unsupported,
        strings(&[
            "/metrics/metrics_collected/diskio/measurement/5",
            "/metrics/metrics_collected/jmx",
        ])
    );

    let lg = logs(&l);
    assert_eq!(lg.force_flush_interval, 60);
    assert_eq!(lg.log_stream_name.as_deref(), Some("LOG_STREAM_NAME"));
    assert_eq!(lg.role_arn.as_deref(), Some("log_role_arn_value_test"));
    assert_eq!(
        lg.endpoint_override.as_deref(),
        Some("https://logs-fips.us-west-2.amazonaws.com")
    );
    assert_eq!(lg.files.len(), 2);
    let f0 = &lg.files[0];
    assert_eq!(
        f0.file_path,
        "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log"
    );
    assert_eq!(
        f0.log_group_name.as_deref(),
        Some("amazon-cloudwatch-agent.log")
    );
    assert_eq!(
        f0.log_stream_name.as_deref(),
        Some("amazon-cloudwatch-agent.log")
    );
    assert_eq!(f0.timezone.as_deref(), Some("UTC"));
    assert!(f0.trim_timestamp);
    assert_eq!(f0.retention_in_days, Some(5));
    assert_eq!(f0.backpressure_mode.as_deref(), Some("fd_release"));
    assert!(!f0.auto_removal);
    let f1 = &lg.files[1];
    assert!(f1.auto_removal);
    assert_eq!(f1.retention_in_days, None);
    assert_eq!(
        lg.unsupported,
        strings(&[
            "/logs/logs_collected/journald",
            "/logs/metrics_collected/emf"
        ])
    );

    assert_eq!(
        l.unsupported,
        strings(&[
            "/agent/aws_sdk_log_level",
            "/agent/internal",
            "/agent/quiet",
            "/agent/user_agent",
            "/traces",
        ])
    );
    let warning = l.startup_warning().unwrap();
    for path in [
        "/traces",
        "/metrics/metrics_collected/jmx",
        "/logs/logs_collected/journald",
        "/logs/metrics_collected/emf",
    ] {
        assert!(warning.contains(path), "{path} missing from {warning}");
    }
    // The unknown unit "unit" is a warning, not an error.
    assert_eq!(
        l.warnings
            .iter()
            .filter(|w| w.contains("unit unit is not a CloudWatch unit"))
            .count(),
        3
    );
}

#[test]
fn delta_config_units_and_renames() {
    let l = load("delta_config_linux.json");
    let diskio = collected(&l).diskio.as_ref().unwrap();
    assert_eq!(
        diskio.common.measurements,
        vec![
            m(
                "iops_in_progress",
                Some("DRIVER_DISKIO_IOPS_IN_PROGRESS"),
                Some(Unit::Count)
            ),
            m(
                "read_time",
                Some("DRIVER_DISKIO_READ_TIME"),
                Some(Unit::Milliseconds)
            ),
            m(
                "write_time",
                Some("DRIVER_DISKIO_WRITE_TIME"),
                Some(Unit::Milliseconds)
            ),
        ]
    );
    assert!(l.warnings.is_empty());
}

#[test]
fn drop_origin_and_unbuilt_plugins() {
    let l = load("drop_origin_linux.json");
    let cpu = collected(&l).cpu.as_ref().unwrap();
    assert_eq!(
        cpu.common.drop_original_metrics,
        strings(&["CPU_USAGE_IDLE", "cpu_time_active"])
    );
    assert_eq!(
        collected(&l).unsupported,
        strings(&["/metrics/metrics_collected/nvidia_gpu"])
    );
    let l = load("advanced_config_linux.json");
    assert_eq!(
        collected(&l).unsupported,
        strings(&[
            "/metrics/metrics_collected/ethtool",
            "/metrics/metrics_collected/nvidia_gpu"
        ])
    );
    assert!(l
        .startup_warning()
        .unwrap()
        .contains("/metrics/metrics_collected/ethtool"));
}

#[test]
fn procstat_pattern_and_plugin_dimensions() {
    let l = load("procstat_memory_swap_config.json");
    let p = &collected(&l).procstat[0];
    assert_eq!(
        p.selector,
        ProcessSelector::Pattern("amazon-cloudwatch-agent".into())
    );
    assert_eq!(p.common.measurements, plain(&["memory_swap"]));

    let l = load("append_dimensions_host_metrics.json");
    let cpu = collected(&l).cpu.as_ref().unwrap();
    assert!(cpu.total_cpu);
    assert!(!cpu.per_cpu);
    assert_eq!(cpu.common.append_dimensions.len(), 4);
    assert_eq!(
        cpu.common
            .append_dimensions
            .get("ServiceName")
            .map(String::as_str),
        Some("MyServiceApplication")
    );
}

#[test]
fn log_files_filters_patterns_and_defaults() {
    let l = load("log_filter.json");
    let lg = logs(&l);
    assert_eq!(lg.concurrency, Some(10));
    assert_eq!(lg.force_flush_interval, 5);
    assert_eq!(lg.log_stream_name.as_deref(), Some("LOG_STREAM_NAME"));
    assert_eq!(
        lg.files[1].filters,
        vec![
            ("include".to_string(), "ERROR".to_string()),
            ("exclude".to_string(), "StatusCode 4\\d{2}".to_string()),
        ]
    );

    let l = load("validLogFiles.json");
    let files = &logs(&l).files;
    // RE2 reads the typo `{timestampe_format}` as a literal; it is stored escaped.
    assert_eq!(
        files[0].multi_line_start_pattern.as_deref(),
        Some("\\{timestampe_format}")
    );
    assert_eq!(
        files[0].timestamp_format.as_deref(),
        Some("%H:%M:%S %y %b %d")
    );
    assert_eq!(
        files[2].blacklist.as_deref(),
        Some("agent.log*|env.log|profiler.log|\\.\\d$")
    );
    assert!(files[2].publish_multi_logs);
    assert_eq!(files[3].backpressure_mode.as_deref(), Some("fd_release"));
    assert_eq!(files[1].timezone.as_deref(), Some("Local"));

    let l = load("log_only_config_linux.json");
    assert_eq!(logs(&l).files.len(), 2);
    assert_eq!(logs(&l).files[1].log_stream_name, None);
    assert_eq!(
        logs(&l).unsupported,
        strings(&["/logs/logs_collected/journald"])
    );
    assert!(l.config.metrics.is_none());

    // The agent's own log file gets no timestamp parsing, as in the CloudWatch agent.
    let l = load("skip_log_timestamp.json");
    assert_eq!(logs(&l).files[0].timestamp_format, None);
    assert!(l.warnings.iter().any(|w| w.contains(
        "/logs/logs_collected/files/collect_list/0/timestamp_format | Warning : timestamp_format is ignored"
    )));
}

#[test]
fn own_valid_fixture_values() {
    let l = load("hostwatch_valid_everything.json");
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert_eq!(l.startup_warning(), None);
    let a = &l.config.agent;
    assert_eq!(a.metrics_collection_interval, 30);
    assert_eq!(a.logfile.as_deref(), Some(""));
    assert_eq!(a.run_as_user.as_deref(), Some("cwagent"));
    assert!(!a.usage_data);
    assert_eq!(a.role_arn.as_deref(), Some("${ROLE_ARN_FROM_ENV}"));
    let ms = metrics(&l);
    assert_eq!(ms.namespace, "Hostwatch/Test");
    assert_eq!(ms.force_flush_interval, 30);
    let mc = &ms.metrics_collected;
    let cpu = mc.cpu.as_ref().unwrap();
    assert!(cpu.per_cpu && cpu.total_cpu);
    assert_eq!(
        cpu.common.measurements,
        vec![
            m("usage_idle", None, None),
            m("usage_user", None, Some(Unit::Percent)),
            m("time_user", None, None),
        ]
    );
    assert_eq!(
        mc.mem.as_ref().unwrap().measurements[1],
        m("available", Some("MemAvail"), Some(Unit::Bytes))
    );
    let disk = mc.disk.as_ref().unwrap();
    assert!(disk.drop_device);
    assert_eq!(
        disk.common.drop_original_metrics,
        strings(&["disk_used_percent"])
    );
    assert_eq!(
        mc.net.as_ref().unwrap().common.measurements,
        plain(&["bytes_sent", "bytes_recv"])
    );
    assert_eq!(
        mc.procstat[0].selector,
        ProcessSelector::Exe("^nginx$".into())
    );
    assert_eq!(
        mc.procstat[0].common.measurements,
        plain(&["cpu_usage", "pid_count"])
    );
    let statsd = mc.statsd.as_ref().unwrap();
    assert_eq!(statsd.service_address, "127.0.0.1:8126");
    assert_eq!(statsd.metric_separator, ".");
    assert_eq!(statsd.allowed_pending_messages, 500);
    let collectd = mc.collectd.as_ref().unwrap();
    assert_eq!(collectd.collectd_security_level, "none");
    assert_eq!(collectd.metrics_aggregation_interval, 0);
    assert_eq!(collectd.collectd_typesdb.len(), 2);
    let lg = logs(&l);
    assert_eq!(lg.concurrency, Some(2));
    let f0 = &lg.files[0];
    assert_eq!(f0.log_group_class.as_deref(), Some("INFREQUENT_ACCESS"));
    assert_eq!(f0.encoding.as_deref(), Some("utf-8"));
    assert_eq!(
        f0.multi_line_start_pattern.as_deref(),
        Some("{timestamp_format}")
    );
    assert_eq!(f0.filters, vec![("exclude".into(), "DEBUG|TRACE".into())]);
    let f1 = &lg.files[1];
    assert_eq!(f1.multi_line_start_pattern.as_deref(), Some("^\\d{4}-"));
    assert_eq!(f1.encoding.as_deref(), Some("iso8859-1"));
    assert_eq!(f1.blacklist.as_deref(), Some("\\.gz$"));
}

#[test]
fn own_invalid_fixture_paths() {
    let err = load_file(&data_dir().join("hostwatch_invalid_mixed.json")).unwrap_err();
    let paths: Vec<&str> = err.errors().iter().map(|e| e.path.as_str()).collect();
    let list = "/logs/logs_collected/files/collect_list";
    let want = [
        "/agent/metrics_collection_interval",
        "/agent/region",
        &format!("{list}/0"),
        &format!("{list}/0/timezone"),
        &format!("{list}/1"),
        &format!("{list}/1/retention_in_days"),
        &format!("{list}/1/filters/0/type"),
        &format!("{list}/1/filters/0/expression"),
        "/logs/concurrency",
        "/metrics/namespace",
        "/metrics/metrics_collected/mem/measurement/1",
        "/metrics/metrics_collected/net/resources",
        "/metrics/metrics_collected/procstat/0",
        "/metrics/metrics_collected/procstat/1/exe",
        "/metrics/force_flush_interval",
    ];
    let want: Vec<&str> = want.iter().map(|s| &**s).collect();
    assert_eq!(paths, want);
}

/// Small snippets and the one error each must produce.
#[test]
fn invalid_snippets_table() {
    const MC: &str = "/metrics/metrics_collected";
    const LIST: &str = "/logs/logs_collected/files/collect_list";
    let mem = r#""mem":{"measurement":["used"]}"#;
    let file = |extra: &str| {
        format!(
            r#"{{"logs":{{"logs_collected":{{"files":{{"collect_list":[{{"file_path":"/a"{extra}}}]}}}}}}}}"#
        )
    };
    let plugin = |body: &str| format!(r#"{{"metrics":{{"metrics_collected":{{{body}}}}}}}"#);
    let cases: Vec<(String, &str, String)> = vec![
        ("[]".into(), "/", "Invalid type. Expected: object, given: array".into()),
        (r#"{"metrics":{}}"#.into(), "/metrics", "metrics_collected is required".into()),
        (
            r#"{"metrics":{"metrics_collected":{}}}"#.into(),
            MC,
            "Must have at least 1 properties".into(),
        ),
        (
            format!(r#"{{"metrics":{{"foo":1,"metrics_collected":{{{mem}}}}}}}"#),
            "/metrics",
            "Additional property foo is not allowed".into(),
        ),
        (
            format!(r#"{{"metrics":{{"namespace":5,"metrics_collected":{{{mem}}}}}}}"#),
            "/metrics/namespace",
            "Invalid type. Expected: string, given: integer".into(),
        ),
        (
            format!(r#"{{"metrics":{{"endpoint_override":"ab","metrics_collected":{{{mem}}}}}}}"#),
            "/metrics/endpoint_override",
            "String length must be greater than or equal to 4".into(),
        ),
        (
            format!(
                r#"{{"metrics":{{"credentials":{{"role_arn":"short"}},"metrics_collected":{{{mem}}}}}}}"#
            ),
            "/metrics/credentials/role_arn",
            "String length must be greater than or equal to 20".into(),
        ),
        (
            format!(r#"{{"metrics":{{"aggregation_dimensions":[],"metrics_collected":{{{mem}}}}}}}"#),
            "/metrics/aggregation_dimensions",
            "Array must have at least 1 items".into(),
        ),
        (
            format!(
                r#"{{"metrics":{{"aggregation_dimensions":[["a","a"]],"metrics_collected":{{{mem}}}}}}}"#
            ),
            "/metrics/aggregation_dimensions/0",
            "array items[0,1] must be unique".into(),
        ),
        (
            format!(
                r#"{{"metrics":{{"append_dimensions":{{"k":""}},"metrics_collected":{{{mem}}}}}}}"#
            ),
            "/metrics/append_dimensions/k",
            "String length must be greater than or equal to 1".into(),
        ),
        (
            format!(
                r#"{{"metrics":{{"append_dimensions":{{{}}},"metrics_collected":{{{mem}}}}}}}"#,
                (0..31)
                    .map(|i| format!(r#""d{i}":"v""#))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            "/metrics/append_dimensions",
            "Must have at most 30 properties".into(),
        ),
        (
            plugin(r#""cpu":{"measurement":["cpu_usage_bogus"]}"#),
            "/metrics/metrics_collected/cpu/measurement/0",
            "measurement name cpu_usage_bogus is invalid".into(),
        ),
        (
            plugin(r#""swap":{"measurement":["swap_total"]}"#),
            "/metrics/metrics_collected/swap/measurement/0",
            "measurement name swap_total is invalid".into(),
        ),
        (
            plugin(r#""cpu":{"measurement":["usage_idle"],"resources":["0"]}"#),
            "/metrics/metrics_collected/cpu/resources/0",
            r#"resources must be one of the following: "*""#.into(),
        ),
        (
            plugin(r#""cpu":{"measurement":["usage_idle"],"resources":["*","*"]}"#),
            "/metrics/metrics_collected/cpu/resources",
            "Array must have at most 1 items".into(),
        ),
        (
            plugin(r#""cpu":{"measurement":["usage_idle"],"totalcpu":"yes"}"#),
            "/metrics/metrics_collected/cpu/totalcpu",
            "Invalid type. Expected: boolean, given: string".into(),
        ),
        (
            plugin(r#""mem":{"measurement":["used"],"metrics_collection_interval":0}"#),
            "/metrics/metrics_collected/mem/metrics_collection_interval",
            "Must be greater than or equal to 1".into(),
        ),
        (
            plugin(r#""mem":{"measurement":["used"],"metrics_collection_interval":172801}"#),
            "/metrics/metrics_collected/mem/metrics_collection_interval",
            "Must be less than or equal to 172800".into(),
        ),
        (
            plugin(r#""mem":{"measurement":["used"],"metrics_collection_interval":"60"}"#),
            "/metrics/metrics_collected/mem/metrics_collection_interval",
            "Invalid type. Expected: integer, given: string".into(),
        ),
        (
            plugin(r#""mem":{"measurement":["used"],"resources":["*"]}"#),
            "/metrics/metrics_collected/mem",
            "Additional property resources is not allowed".into(),
        ),
        (
            plugin(r#""mem":{"measurement":[{"name":"used","scale":2}]}"#),
            "/metrics/metrics_collected/mem/measurement/0",
            "Additional property scale is not allowed".into(),
        ),
        (
            plugin(r#""mem":{"measurement":[{"rename":"X"}]}"#),
            "/metrics/metrics_collected/mem/measurement/0",
            "name is required".into(),
        ),
        (
            plugin(r#""mem":{"measurement":[5]}"#),
            "/metrics/metrics_collected/mem/measurement/0",
            "Invalid type. Expected: string or object, given: integer".into(),
        ),
        (
            plugin(r#""mem":{"measurement":["used"],"drop_original_metrics":[]}"#),
            "/metrics/metrics_collected/mem/drop_original_metrics",
            "Array must have at least 1 items".into(),
        ),
        (
            plugin(r#""disk":{"measurement":["used"],"drop_device":1}"#),
            "/metrics/metrics_collected/disk/drop_device",
            "Invalid type. Expected: boolean, given: integer".into(),
        ),
        (
            plugin(r#""procstat":[{"measurement":["pid"]}]"#),
            "/metrics/metrics_collected/procstat/0",
            "one of pid_file, exe or pattern is required".into(),
        ),
        (
            plugin(r#""procstat":[]"#),
            "/metrics/metrics_collected/procstat",
            "Array must have at least 1 items".into(),
        ),
        (
            plugin(r#""procstat":[{"exe":"(","measurement":["pid"]}]"#),
            "/metrics/metrics_collected/procstat/0/exe",
            r#"invalid regular expression "(": unclosed group"#.into(),
        ),
        (
            plugin(r#""procstat":[{"pattern":"x","measurement":[{"name":"pid"}]}]"#),
            "/metrics/metrics_collected/procstat/0/measurement/0",
            "Invalid type. Expected: string, given: object".into(),
        ),
        (
            plugin(r#""statsd":{"port":8125}"#),
            "/metrics/metrics_collected/statsd",
            "Additional property port is not allowed".into(),
        ),
        (
            plugin(r#""statsd":{"allowed_pending_messages":0}"#),
            "/metrics/metrics_collected/statsd/allowed_pending_messages",
            "Must be greater than or equal to 1".into(),
        ),
        (
            plugin(r#""statsd":{"metrics_aggregation_interval":-1}"#),
            "/metrics/metrics_collected/statsd/metrics_aggregation_interval",
            "Must be greater than or equal to 0".into(),
        ),
        (
            plugin(r#""collectd":{"collectd_security_level":"high"}"#),
            "/metrics/metrics_collected/collectd/collectd_security_level",
            r#"collectd_security_level must be one of the following: "none", "sign", "encrypt""#
                .into(),
        ),
        (
            plugin(&format!(
                r#""collectd":{{"collectd_typesdb":[{}]}}"#,
                (0..11).map(|i| format!(r#""/t{i}""#)).collect::<Vec<_>>().join(",")
            )),
            "/metrics/metrics_collected/collectd/collectd_typesdb",
            "Array must have at most 10 items".into(),
        ),
        (
            plugin(r#""ethtool":{"interfaces":["eth0"]}"#),
            "/metrics/metrics_collected/ethtool",
            "Additional property interfaces is not allowed".into(),
        ),
        (
            plugin(r#""system":{"metrics_collection_interval":10}"#),
            "/metrics/metrics_collected/system",
            "measurement is required".into(),
        ),
        (
            r#"{"agent":{"metrics_collection_interval":0}}"#.into(),
            "/agent/metrics_collection_interval",
            "Must be greater than or equal to 1".into(),
        ),
        (
            r#"{"agent":{"debug":"true"}}"#.into(),
            "/agent/debug",
            "Invalid type. Expected: boolean, given: string".into(),
        ),
        (
            r#"{"agent":{"region":""}}"#.into(),
            "/agent/region",
            "String length must be greater than or equal to 1".into(),
        ),
        (
            r#"{"agent":{"credentials":{"role_arn":"arn:aws:iam::123456789012:role/x","x":1}}}"#
                .into(),
            "/agent/credentials",
            "Additional property x is not allowed".into(),
        ),
        (
            r#"{"agent":{"metric_batch_size":0}}"#.into(),
            "/agent/metric_batch_size",
            "Must be greater than or equal to 1".into(),
        ),
        (r#"{"logs":{}}"#.into(), "/logs", "logs_collected or metrics_collected is required".into()),
        (
            r#"{"logs":{"logs_collected":{}}}"#.into(),
            "/logs/logs_collected",
            "Must have at least 1 properties".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"files":{}}}}"#.into(),
            "/logs/logs_collected/files",
            "collect_list is required".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"files":{"collect_list":[]}}}}"#.into(),
            LIST,
            "Array must have at least 1 items".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"files":{"collect_list":[{"log_group_name":"g"}]}}}}"#
                .into(),
            "/logs/logs_collected/files/collect_list/0",
            "file_path is required".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a"},{"file_path":"/a"}]}}}}"#
                .into(),
            LIST,
            "array items[0,1] must be unique".into(),
        ),
        (
            file(r#","from_beginning":true"#),
            "/logs/logs_collected/files/collect_list/0",
            "Additional property from_beginning is not allowed".into(),
        ),
        (
            file(r#","retention_in_days":2"#),
            "/logs/logs_collected/files/collect_list/0/retention_in_days",
            "retention_in_days must be one of the following: -1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653".into(),
        ),
        (
            file(r#","timezone":"utc""#),
            "/logs/logs_collected/files/collect_list/0/timezone",
            r#"timezone must be one of the following: "Local", "LOCAL", "UTC""#.into(),
        ),
        (
            file(r#","log_group_class":"COLD""#),
            "/logs/logs_collected/files/collect_list/0/log_group_class",
            r#"log_group_class must be one of the following: "STANDARD", "INFREQUENT_ACCESS""#
                .into(),
        ),
        (
            file(r#","backpressure_mode":"drop""#),
            "/logs/logs_collected/files/collect_list/0/backpressure_mode",
            r#"backpressure_mode must be one of the following: "fd_release""#.into(),
        ),
        (
            file(r#","encoding":"klingon""#),
            "/logs/logs_collected/files/collect_list/0/encoding",
            "encoding klingon is not supported".into(),
        ),
        (
            file(r#","multi_line_start_pattern":"(""#),
            "/logs/logs_collected/files/collect_list/0/multi_line_start_pattern",
            r#"invalid regular expression "(": unclosed group"#.into(),
        ),
        (
            file(r#","blacklist":"*""#),
            "/logs/logs_collected/files/collect_list/0/blacklist",
            r#"invalid regular expression "*": repetition operator missing expression"#.into(),
        ),
        (
            file(r#","filters":[{"type":"keep","expression":"x"}]"#),
            "/logs/logs_collected/files/collect_list/0/filters/0/type",
            r#"type must be one of the following: "include", "exclude""#.into(),
        ),
        (
            file(r#","filters":[{"type":"include"}]"#),
            "/logs/logs_collected/files/collect_list/0/filters/0",
            "expression is required".into(),
        ),
        (
            file(r#","filters":[{"type":"include","expression":"[a-"}]"#),
            "/logs/logs_collected/files/collect_list/0/filters/0/expression",
            r#"invalid regular expression "[a-": unclosed character class"#.into(),
        ),
        (
            file(r#","trim_timestamp":"no""#),
            "/logs/logs_collected/files/collect_list/0/trim_timestamp",
            "Invalid type. Expected: boolean, given: string".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"files":{"collect_list":[{"file_path":"/a","log_group_name":"g","retention_in_days":7},{"file_path":"/b","log_group_name":"G","retention_in_days":14}]}}}}"#
                .into(),
            "/logs/logs_collected/files/collect_list/1/retention_in_days",
            "Different retention_in_days values can't be set for the same log group: G".into(),
        ),
        (
            r#"{"logs":{"concurrency":0,"metrics_collected":{"emf":{}}}}"#.into(),
            "/logs/concurrency",
            "Must be greater than or equal to 1".into(),
        ),
        (
            r#"{"logs":{"force_flush_interval":0,"metrics_collected":{"emf":{}}}}"#.into(),
            "/logs/force_flush_interval",
            "Must be greater than or equal to 1".into(),
        ),
        (
            r#"{"logs":{"log_stream_name":"","metrics_collected":{"emf":{}}}}"#.into(),
            "/logs/log_stream_name",
            "String length must be greater than or equal to 1".into(),
        ),
        (
            r#"{"logs":{"logs_collected":{"syslog":{}}}}"#.into(),
            "/logs/logs_collected",
            "Additional property syslog is not allowed".into(),
        ),
        (
            r#"{"traces":[]}"#.into(),
            "/traces",
            "Invalid type. Expected: object, given: array".into(),
        ),
    ];
    for (text, path, message) in cases {
        let got = errors_of(&text);
        assert_eq!(
            got,
            vec![(path.to_string(), message.clone())],
            "for input {text}"
        );
    }
}

#[test]
fn unknown_key_under_metrics_is_an_error() {
    let got = errors_of(
        r#"{"metrics":{"namespaces":"X","metrics_collected":{"mem":{"measurement":["used"]}}}}"#,
    );
    assert_eq!(
        got,
        vec![(
            "/metrics".to_string(),
            "Additional property namespaces is not allowed".to_string()
        )]
    );
}

#[test]
fn unknown_keys_under_agent_and_root_are_warnings() {
    let l = load_json(r#"{"agent":{"colour":"blue","region":"us-east-1"},"extra":{},"metrics":{"metrics_collected":{"mem":{"measurement":["used"]}}}}"#)
        .unwrap();
    assert_eq!(l.config.agent.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        l.warnings,
        vec![
            "Under path : /agent/colour | Warning : unknown field colour is ignored".to_string(),
            "Under path : /extra | Warning : unknown field extra is ignored".to_string(),
        ]
    );
}

#[test]
fn other_warnings() {
    let l = load_json(
        r#"{"metrics":{"metrics_collected":{
            "mem":{"measurement":[{"name":"used","unit":"percent"},"mem_used","free"]},
            "swap":{"measurement":[]},
            "system":{"measurement":["load1"]},
            "procstat":[{"pid_file":"/p","exe":"x","measurement":["pid"],"drop_original_metrics":["pid"]}]
        }}}"#,
    )
    .unwrap();
    let mc = collected(&l);
    assert_eq!(
        mc.mem.as_ref().unwrap().measurements,
        vec![m("used", None, Some(Unit::None)), m("free", None, None)]
    );
    assert!(mc.swap.is_none());
    assert_eq!(
        mc.procstat[0].selector,
        ProcessSelector::PidFile("/p".into())
    );
    assert!(mc.procstat[0].common.drop_original_metrics.is_empty());
    let w = l.warnings.join("\n");
    for expected in [
        "/metrics/metrics_collected/mem/measurement/0/unit | Warning : unit percent is not a CloudWatch unit (did you mean Percent?)",
        "/metrics/metrics_collected/mem/measurement/1 | Warning : measurement used is listed more than once",
        "/metrics/metrics_collected/swap | Warning : no measurement is listed",
        "/metrics/metrics_collected/system | Warning : unknown plugin system is ignored",
        "/metrics/metrics_collected/procstat/0 | Warning : pid_file, exe are all set; pid_file is used",
        "/metrics/metrics_collected/procstat/0/drop_original_metrics | Warning : drop_original_metrics has no effect",
    ] {
        assert!(w.contains(expected), "missing {expected:?} in\n{w}");
    }
}

#[test]
fn startup_warning_lists_unbuilt_features() {
    let l = load_json(
        r#"{"agent":{"hostname":"h"},
            "metrics":{"metrics_collected":{"nvidia_gpu":{"measurement":["utilization_gpu"]},"ethtool":{}},
                       "metrics_destinations":{"cloudwatch":{},"amp":{"workspace_id":"ws-1"}}},
            "logs":{"logs_collected":{"journald":{"collect_list":[{"log_group_name":"j"}]}},"metrics_collected":{"emf":{}}},
            "traces":{"traces_collected":{"xray":{}}}}"#,
    )
    .unwrap();
    let w = l.startup_warning().unwrap();
    assert_eq!(
        w,
        "these config features are accepted but not supported by this agent yet, and have no \
         effect: /agent/hostname, /traces, /metrics/metrics_destinations/amp, \
         /metrics/metrics_collected/ethtool, /metrics/metrics_collected/nvidia_gpu, \
         /logs/logs_collected/journald, /logs/metrics_collected/emf"
    );
    assert_eq!(l.all_warnings().last(), Some(&w));
    let l =
        load_json(r#"{"metrics":{"metrics_collected":{"nvidia_gpu":{"measurement":["bogus"]}}}}"#);
    assert_eq!(
        l.unwrap_err().errors()[0].message,
        "measurement name bogus is invalid"
    );
}

#[test]
fn syntax_and_read_errors() {
    let err = load_str("{\n  \"agent\": {,}\n}", "bad.json").unwrap_err();
    match &err {
        ConfigError::Syntax { line, column, .. } => {
            assert_eq!((*line, *column), (2, 13));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with("Invalid Json input in bad.json: "));
    assert!(err.to_string().ends_with("at line 2, column 13"));

    let err = load_file(&data_dir().join("does-not-exist.json")).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }));
    assert!(err.errors().is_empty());

    // A leading byte-order mark is accepted.
    assert!(load_str("\u{feff}{\"agent\":{}}", "bom.json").is_ok());
}

#[test]
fn integral_floats_are_integers() {
    let l = load_json(r#"{"agent":{"metrics_collection_interval":30.0}}"#).unwrap();
    assert_eq!(l.config.agent.metrics_collection_interval, 30);
}

#[test]
fn errors_are_all_collected() {
    let errs = errors_of(
        r#"{"agent":{"debug":1,"region":""},"metrics":{"metrics_collected":{"cpu":{},"mem":{"measurement":["x"]}}}}"#,
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
}

/// Every node of every fixture replaced by hostile values: the loader answers, never panics,
/// and a rejection always names at least one path.
#[test]
fn mutated_fixtures_never_panic() {
    fn paths(v: &serde_json::Value, here: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(here.clone());
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    let mut p = here.clone();
                    p.push(k.clone());
                    paths(child, p, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let mut p = here.clone();
                    p.push(i.to_string());
                    paths(child, p, out);
                }
            }
            _ => {}
        }
    }
    fn node<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
        path.iter().fold(v, |cur, seg| match cur {
            serde_json::Value::Object(m) => m.get_mut(seg).unwrap(),
            serde_json::Value::Array(a) => a.get_mut(seg.parse::<usize>().unwrap()).unwrap(),
            _ => unreachable!(),
        })
    }
    let hostile = [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!(""),
        serde_json::json!("(["),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(u64::MAX),
    ];
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") || name.starts_with("invalid") {
            continue;
        }
        let original: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut all = Vec::new();
        paths(&original, Vec::new(), &mut all);
        for p in &all {
            for h in &hostile {
                let mut doc = original.clone();
                *node(&mut doc, p) = h.clone();
                if let Err(e) = load_value(&doc, "mutated.json") {
                    assert!(
                        !e.errors().is_empty(),
                        "{}: {p:?} = {h}: rejected without a path",
                        path.display()
                    );
                }
            }
        }
    }
}

/// The upstream schema's negative samples: each is rejected with exactly these errors (the
/// upstream checker's own counts are noted; it adds allOf / oneOf / anyOf summaries on top).
#[test]
fn upstream_invalid_samples() {
    const MC: &str = "/metrics/metrics_collected";
    const LIST: &str = "/logs/logs_collected/files/collect_list";
    let cases: Vec<(&str, Vec<(String, &str)>)> = vec![
        // Upstream counts 5 invalid_type errors for these four values; `typo` is a warning.
        (
            "invalidAgent.json",
            vec![
                (
                    "/agent/metrics_collection_interval".into(),
                    "Invalid type. Expected: integer, given: string",
                ),
                (
                    "/agent/region".into(),
                    "Invalid type. Expected: string, given: integer",
                ),
                (
                    "/agent/logfile".into(),
                    "Invalid type. Expected: string, given: array",
                ),
                (
                    "/agent/debug".into(),
                    "Invalid type. Expected: boolean, given: string",
                ),
            ],
        ),
        (
            "invalidLogFilesWithDuplicateEntry.json",
            vec![(LIST.into(), "array items[0,1] must be unique")],
        ),
        (
            "invalidLogFilesWithFilters.json",
            vec![
                (
                    format!("{LIST}/0/filters/0/type"),
                    r#"type must be one of the following: "include", "exclude""#,
                ),
                (
                    format!("{LIST}/1/filters/0"),
                    "Additional property foo is not allowed",
                ),
            ],
        ),
        (
            "invalidLogFilesWithMissingFilePath.json",
            vec![(format!("{LIST}/0"), "file_path is required")],
        ),
        (
            "invalidLogFilesWithNoFileConfigured.json",
            vec![(LIST.into(), "Array must have at least 1 items")],
        ),
        (
            "invalidMetricsDestinations.json",
            vec![(
                "/metrics/metrics_destinations/amp".into(),
                "workspace_id is required",
            )],
        ),
        (
            "invalidMetricsWithAdditionalProperties.json",
            vec![("/metrics".into(), "Additional property typo is not allowed")],
        ),
        (
            "invalidMetricsWithInvalidAggregationDimensions.json",
            vec![
                (
                    "/metrics/aggregation_dimensions/0".into(),
                    "Invalid type. Expected: array, given: string",
                ),
                (
                    "/metrics/aggregation_dimensions/1".into(),
                    "Invalid type. Expected: array, given: string",
                ),
            ],
        ),
        (
            "invalidMetricsWithInvalidAppendDimensions.json",
            vec![
                (
                    format!("{MC}/cpu/append_dimensions"),
                    "Invalid type. Expected: object, given: string",
                ),
                (
                    format!("{MC}/disk/append_dimensions"),
                    "Invalid type. Expected: object, given: array",
                ),
            ],
        ),
        (
            "invalidMetricsWithInvalidMetrics_Collected.json",
            vec![
                (
                    format!("{MC}/aggregation_dimensions"),
                    "Invalid type. Expected: object, given: array",
                ),
                (format!("{MC}/append_dimensions"), "measurement is required"),
            ],
        ),
        (
            "invalidMetricsWithNoMetricsDefined.json",
            vec![(MC.into(), "Must have at least 1 properties")],
        ),
        (
            "invalidMetricsWithinvalidMetricsCollected.json",
            vec![
                (
                    format!("{MC}/cpu/resources"),
                    "Array must have at most 1 items",
                ),
                (
                    format!("{MC}/cpu/resources/0"),
                    r#"resources must be one of the following: "*""#,
                ),
                (
                    format!("{MC}/cpu/totalcpu"),
                    "Invalid type. Expected: boolean, given: string",
                ),
            ],
        ),
        (
            "invalidProcstatMeasurement.json",
            vec![
                (
                    format!("{MC}/procstat/0"),
                    "one of pid_file, exe or pattern is required",
                ),
                (
                    format!("{MC}/procstat/0/measurement/0"),
                    "Invalid type. Expected: string, given: object",
                ),
            ],
        ),
    ];
    for (file, want) in cases {
        let err = match load_file(&data_dir().join(file)) {
            Ok(_) => panic!("{file} should be rejected"),
            Err(e) => e,
        };
        let got: Vec<(String, &str)> = err
            .errors()
            .iter()
            .map(|e| (e.path.clone(), e.message.as_str()))
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn upstream_valid_samples_of_unbuilt_features() {
    let l = load("validLogJournald.json");
    assert!(logs(&l).files.is_empty());
    assert_eq!(
        logs(&l).unsupported,
        strings(&["/logs/logs_collected/journald"])
    );
    let l = load("validMetricsDestinations.json");
    assert_eq!(
        collected(&l).unsupported,
        strings(&["/metrics/metrics_destinations/amp"])
    );
    let l = load("validProcstatConfig.json");
    let selectors: Vec<&ProcessSelector> =
        collected(&l).procstat.iter().map(|p| &p.selector).collect();
    assert_eq!(
        selectors,
        vec![
            &ProcessSelector::PidFile("/var/run/logd".into()),
            &ProcessSelector::Exe("amazon-cloudwatch-agent".into()),
            &ProcessSelector::Pattern("amazon-cloudwatch-agent".into()),
        ]
    );
}
