//! `hostwatch ctl` end to end: the real binary with a temporary config directory, configs from
//! files and from the collector's Parameter Store, merge errors, the agent started and stopped
//! with a pid file, and the status JSON before and after.

use crate::util::{bin, Collector};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Ctl {
    config_dir: PathBuf,
    state_dir: PathBuf,
    creds: Option<PathBuf>,
}

impl Ctl {
    fn new(root: &Path) -> Ctl {
        Ctl {
            config_dir: root.join("etc"),
            state_dir: root.join("state"),
            creds: None,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(bin("hostwatch"));
        cmd.arg("ctl")
            .args(args)
            .arg("--config-dir")
            .arg(&self.config_dir)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(["--init", "direct", "-m", "onPremise"])
            .env("HOSTWATCH_AGENT_BIN", bin("hostwatch-agent"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE");
        if let Some(c) = &self.creds {
            cmd.env("AWS_SHARED_CREDENTIALS_FILE", c)
                .env("AWS_PROFILE", "hostwatch");
        }
        cmd.output().expect("run hostwatch ctl")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "ctl {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(1), "ctl {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["-a", "status"])).expect("status is JSON")
    }

    fn drop_files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.config_dir.join("hostwatch-agent.d"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    fn merged(&self) -> Value {
        let text = std::fs::read_to_string(self.config_dir.join("config.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for Ctl {
    fn drop(&mut self) {
        let _ = self.run(&["-a", "stop"]);
    }
}

fn write(path: &Path, v: &Value) -> String {
    std::fs::write(path, v.to_string()).unwrap();
    format!("file:{}", path.display())
}

#[test]
fn configs_from_files_merge_append_remove_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ctl = Ctl::new(dir.path());
    let a = write(
        &dir.path().join("a.json"),
        &json!({"agent": {"region": "us-east-1"},
                "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
                "logs": {"logs_collected": {"files": {"collect_list": [
                    {"file_path": "/var/log/a.log", "log_group_name": "a"}]}}}}),
    );
    let b = write(
        &dir.path().join("b.json"),
        &json!({"agent": {"region": "us-east-1"},
                "logs": {"logs_collected": {"files": {"collect_list": [
                    {"file_path": "/var/log/b.log", "log_group_name": "b"},
                    {"file_path": "/var/log/a.log", "log_group_name": "a"}]}}}}),
    );
    let clash = write(
        &dir.path().join("clash.json"),
        &json!({"agent": {"region": "eu-west-1"},
                "metrics": {"metrics_collected": {"cpu": {"totalcpu": true}}}}),
    );
    let invalid = write(
        &dir.path().join("invalid.json"),
        &json!({"logs": {"logs_collected": {"files": {"collect_list": [
                    {"file_path": "/var/log/c.log", "multi_line_start_pattern": "(["}]}}}}),
    );

    ctl.ok(&["-a", "fetch-config", "-c", &a]);
    assert_eq!(ctl.drop_files(), vec!["file_a.json"]);
    ctl.ok(&["-a", "append-config", "-c", &b]);
    assert_eq!(ctl.drop_files(), vec!["file_a.json", "file_b.json"]);
    let list = ctl.merged()["logs"]["logs_collected"]["files"]["collect_list"].clone();
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "union without duplicates"
    );

    let e = ctl.fails(&["-a", "append-config", "-c", &clash]);
    assert!(
        e.contains(
            "Under path : /agent/region | Error : Different values are specified for region \
             (file_a.json: \"us-east-1\", file_clash.json: \"eu-west-1\")"
        ),
        "{e}"
    );
    let e = ctl.fails(&["-a", "append-config", "-c", &invalid]);
    assert!(
        e.contains("/logs/logs_collected/files/collect_list/"),
        "{e}"
    );
    assert_eq!(
        ctl.drop_files(),
        vec!["file_a.json", "file_b.json"],
        "a refused config changes nothing"
    );
    ctl.ok(&["-a", "validate"]);

    ctl.ok(&["-a", "remove-config", "-c", &b]);
    assert_eq!(ctl.drop_files(), vec!["file_a.json"]);
    assert_eq!(
        ctl.merged()["logs"]["logs_collected"]["files"]["collect_list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let e = ctl.fails(&["-a", "remove-config", "-c", &b]);
    assert!(e.contains("no config file_b.json"), "{e}");
    // fetch-config replaces everything.
    ctl.ok(&["-a", "fetch-config", "-c", "default"]);
    assert_eq!(ctl.drop_files(), vec!["default"]);
    assert!(ctl.merged()["metrics"]["metrics_collected"]["disk"].is_object());
    let out = ctl.ok(&["-a", "remove-config", "-c", "all"]);
    assert!(out.contains("all hostwatch-agent configurations have been removed"));
    assert!(!ctl.config_dir.join("config.json").exists());
    let e = ctl.fails(&["-a", "frobnicate"]);
    assert!(e.contains("unknown action"), "{e}");
    let e = ctl.fails(&["-a", "fetch-config", "-c", "file:/does/not/exist.json"]);
    assert!(e.contains("cannot read /does/not/exist.json"), "{e}");
}

#[test]
fn fetch_from_ssm_start_status_stop() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let mut ctl = Ctl::new(dir.path());
    ctl.creds = Some(c.credentials_file());
    let before = ctl.status();
    assert_eq!(
        before,
        json!({"status": "stopped", "starttime": "", "configstatus": "not configured",
               "version": env!("CARGO_PKG_VERSION")})
    );
    let cfg = json!({"agent": {"region": "us-east-1", "metrics_collection_interval": 1},
                     "metrics": {"endpoint_override": c.endpoint, "force_flush_interval": 1,
                                 "namespace": "CtlTest",
                                 "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}});
    c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/ctl",
        "--type",
        "String",
        "--value",
        &cfg.to_string(),
    ]);
    let endpoint_flag = [
        "--ssm-endpoint",
        c.endpoint.as_str(),
        "--region",
        "us-east-1",
    ];
    let e = ctl.fails(
        &[
            &["-a", "fetch-config", "-c", "ssm:/fleet/missing"][..],
            &endpoint_flag[..],
        ]
        .concat(),
    );
    assert!(e.contains("ParameterNotFound"), "{e}");
    ctl.ok(&[
        &["-a", "fetch-config", "-c", "ssm:/fleet/ctl", "-s"][..],
        &endpoint_flag[..],
    ]
    .concat());
    assert_eq!(ctl.drop_files(), vec!["ssm__fleet_ctl"]);
    let after = ctl.status();
    assert_eq!(after["status"], "running", "{after}");
    assert_eq!(after["configstatus"], "configured");
    let start = after["starttime"].as_str().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(start).expect("starttime is RFC 3339");
    let age = chrono::Utc::now().timestamp() - t.timestamp();
    assert!((-2..120).contains(&age), "starttime {start} is now");
    // The agent it started ships with the fetched config.
    let got = crate::util::wait_for(std::time::Duration::from_secs(30), || {
        let m = c.aws_json(&["cloudwatch", "list-metrics", "--namespace", "CtlTest"]);
        (!m["Metrics"].as_array()?.is_empty()).then_some(())
    });
    assert!(got.is_some(), "the started agent ships mem_used_percent");
    // set-log-level and set-env write the environment file; -s restarts the agent with it.
    let environ = || {
        let pid = std::fs::read_to_string(ctl.state_dir.join("hostwatch-agent.pid")).unwrap();
        let raw = std::fs::read(format!("/proc/{}/environ", pid.trim())).unwrap();
        raw.split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).to_string())
            .collect::<Vec<_>>()
    };
    assert!(ctl
        .fails(&["-a", "set-log-level", "-l", "TRACE"])
        .contains("unknown log level"));
    let out = ctl.ok(&["-a", "set-log-level", "-l", "debug", "-s"]);
    assert!(out.contains("HOSTWATCH_LOG_LEVEL=DEBUG"), "{out}");
    ctl.ok(&["-a", "set-env", "-e", "HOSTWATCH_E2E=one two", "-s"]);
    let vars = environ();
    assert!(
        vars.iter().any(|v| v == "HOSTWATCH_LOG_LEVEL=DEBUG"),
        "{vars:?}"
    );
    assert!(
        vars.iter().any(|v| v == "HOSTWATCH_E2E=one two"),
        "{vars:?}"
    );
    assert_eq!(ctl.status()["status"], "running");
    ctl.ok(&["-a", "set-env", "-e", "HOSTWATCH_E2E=", "-s"]);
    assert!(!environ().iter().any(|v| v.starts_with("HOSTWATCH_E2E=")));
    let env_file = std::fs::read_to_string(ctl.config_dir.join("agent.env")).unwrap();
    assert_eq!(env_file, "HOSTWATCH_LOG_LEVEL=\"DEBUG\"\n");
    ctl.ok(&["-a", "stop"]);
    let stopped = ctl.status();
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(stopped["starttime"], "");
    assert_eq!(stopped["configstatus"], "configured");
    // A stale pid file (a pid that is not the agent) is never trusted.
    std::fs::write(
        ctl.state_dir.join("hostwatch-agent.pid"),
        std::process::id().to_string(),
    )
    .unwrap();
    assert_eq!(ctl.status()["status"], "stopped");
    ctl.ok(&["-a", "stop"]);
}
