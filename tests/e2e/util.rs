//! Helpers for end-to-end tests: start the real binaries on loopback, run the real AWS CLI and
//! Python clients against them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Path of a binary built by this package.
pub fn bin(name: &str) -> PathBuf {
    match name {
        "hostwatch-collector" => PathBuf::from(env!("CARGO_BIN_EXE_hostwatch-collector")),
        "hostwatch-agent" => PathBuf::from(env!("CARGO_BIN_EXE_hostwatch-agent")),
        "hostwatch" => PathBuf::from(env!("CARGO_BIN_EXE_hostwatch")),
        other => panic!("unknown binary {other}"),
    }
}

/// Directory of the Python client scripts.
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py")
}

/// A running collector process.
pub struct Collector {
    pub child: Child,
    pub endpoint: String,
    pub data_dir: PathBuf,
}

impl Collector {
    /// Start `hostwatch-collector` on 127.0.0.1 (a free port) with `data_dir`.
    pub fn start(data_dir: &Path) -> Collector {
        Self::start_with(data_dir, &[])
    }

    /// Start with extra arguments.
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Collector {
        Self::start_at(data_dir, "127.0.0.1:0", extra)
    }

    /// Start listening on `listen` (e.g. the same port again after a restart).
    pub fn start_at(data_dir: &Path, listen: &str, extra: &[&str]) -> Collector {
        let mut child = Command::new(bin("hostwatch-collector"))
            .args(["--listen", listen, "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start collector");
        let stdout = child.stdout.take().expect("collector stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("hostwatch-collector listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let endpoint = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("collector did not report its address");
        Collector {
            child,
            endpoint,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The generated shared-credentials file.
    pub fn credentials_file(&self) -> PathBuf {
        self.data_dir.join("credentials")
    }

    /// Run the AWS CLI against this collector with the generated credentials.
    pub fn aws(&self, args: &[&str]) -> Output {
        Command::new("aws")
            .args(args)
            .args([
                "--endpoint-url",
                &self.endpoint,
                "--region",
                "us-east-1",
                "--profile",
                "hostwatch",
                "--output",
                "json",
            ])
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_file())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run the aws CLI (pip install awscli)")
    }

    /// Run the AWS CLI and parse its JSON output, failing the test on a non-zero exit.
    pub fn aws_json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.aws(args);
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        if out.stdout.iter().all(u8::is_ascii_whitespace) {
            return serde_json::Value::Null;
        }
        serde_json::from_slice(&out.stdout).expect("aws CLI printed JSON")
    }

    /// `aws logs create-log-group` and `create-log-stream`.
    pub fn create_log_stream(&self, group: &str, stream: &str) {
        self.aws_json(&["logs", "create-log-group", "--log-group-name", group]);
        self.aws_json(&[
            "logs",
            "create-log-stream",
            "--log-group-name",
            group,
            "--log-stream-name",
            stream,
        ]);
    }

    /// `aws logs put-log-events` with `events` (a JSON array), failing the test when any event
    /// is rejected.
    pub fn put_log_events(&self, group: &str, stream: &str, events: &serde_json::Value) {
        let out = self.aws_json(&[
            "logs",
            "put-log-events",
            "--log-group-name",
            group,
            "--log-stream-name",
            stream,
            "--log-events",
            &events.to_string(),
        ]);
        assert!(out.get("rejectedLogEventsInfo").is_none(), "{out}");
    }

    /// Run a Python client script from `tests/py` with this collector's endpoint and keys.
    pub fn python(&self, script: &str, args: &[&str]) -> Output {
        Command::new("python3")
            .arg(py_dir().join(script))
            .args(args)
            .env("HOSTWATCH_ENDPOINT", &self.endpoint)
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_file())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_PROFILE", "hostwatch")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .output()
            .expect("run python3")
    }

    /// Stop with SIGKILL (no chance to flush anything).
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stop with SIGTERM and wait.
    pub fn stop(mut self) {
        signal(&self.child, "TERM");
        let _ = self.child.wait();
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send a signal by name with the system's `kill`.
pub fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status();
}

/// Assert a Python script succeeded, showing its output otherwise.
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "script failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Poll `f` until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// ISO-8601 for `secs`.
pub fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("valid time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A loopback port that is free right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}
