//! Live Tail, `hostwatch logs tail` and export tasks against a real collector, driven by the AWS
//! CLI and the `hostwatch` binary.

use crate::util::{bin, now_secs, signal, Collector};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Create a group and a stream; returns the group's `logGroupArn`.
fn group_with_stream(c: &Collector, group: &str, stream: &str) -> String {
    c.create_log_stream(group, stream);
    let out = c.aws_json(&[
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        group,
    ]);
    out["logGroups"][0]["logGroupArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Lines a child prints, forwarded as they come.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Write `live-N` lines every two seconds until one of them is printed by the tailing process
/// (the session may subscribe a moment after the process starts); returns the printed line.
fn put_until_seen(
    c: &Collector,
    group: &str,
    stream: &str,
    lines: &mpsc::Receiver<String>,
    tag: &str,
) -> String {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(30) {
        n += 1;
        let msg = format!("{tag} line {n}");
        c.put_log_events(
            group,
            stream,
            &json!([{"timestamp": now_secs() * 1000, "message": msg}]),
        );
        let until = Instant::now() + Duration::from_secs(2);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(tag) => return line,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the tailing process exited before printing {tag}")
                }
            }
        }
    }
    panic!("no {tag} line was printed within 30 s");
}

/// `aws logs start-live-tail` against the collector.
fn live_tail_cli(c: &Collector, identifier: &str) -> Command {
    let mut cmd = Command::new("aws");
    cmd.args([
        "logs",
        "start-live-tail",
        "--log-group-identifiers",
        identifier,
    ])
    .args(["--endpoint-url", &c.endpoint, "--region", "us-east-1"])
    .args(["--profile", "hostwatch"])
    .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
    .env("AWS_CONFIG_FILE", "/dev/null")
    // StartLiveTail has the host prefix `stream-`; a custom endpoint must opt out of it.
    .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    .env_remove("AWS_ACCESS_KEY_ID")
    .env_remove("AWS_SECRET_ACCESS_KEY")
    .env_remove("AWS_PROFILE");
    cmd
}

#[test]
fn aws_cli_start_live_tail_receives_ingested_lines() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    let arn = group_with_stream(&c, "/e2e/live", "s1");
    group_with_stream(&c, "/e2e/quiet", "s1");
    let mut tail = live_tail_cli(&c, &arn)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run the aws CLI");
    let lines = lines_of(&mut tail);
    // A line in another group is not shown; the tailed group's line is, while the session runs.
    c.put_log_events(
        "/e2e/quiet",
        "s1",
        &json!([{"timestamp": now_secs() * 1000, "message": "quiet-group line"}]),
    );
    let line = put_until_seen(&c, "/e2e/live", "s1", &lines, "live-tail-e2e");
    assert!(line.starts_with("live-tail-e2e line "), "{line}");
    assert!(tail.try_wait().unwrap().is_none(), "session still open");
    signal(&tail, "INT");
    let status = tail.wait().unwrap();
    assert!(status.success(), "aws exited with {status}");
    let rest: Vec<String> = lines.try_iter().collect();
    assert!(rest.iter().all(|l| !l.contains("quiet-group")), "{rest:?}");
    // A plain name is refused with the AWS error shape.
    let out = live_tail_cli(&c, "/e2e/live").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidParameterException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn aws_cli_export_task_writes_gzip_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    group_with_stream(&c, "/e2e/export", "host-1");
    let t = now_secs() * 1000;
    c.put_log_events(
        "/e2e/export",
        "host-1",
        &json!([
            {"timestamp": t - 2000, "message": "first exported line"},
            {"timestamp": t - 1000, "message": "second exported line"}
        ]),
    );
    // No such bucket yet: the AWS error. Buckets are directories under DATA_DIR/exports.
    let from = (t - 60_000).to_string();
    let to = t.to_string();
    let args = [
        "logs",
        "create-export-task",
        "--task-name",
        "e2e",
        "--log-group-name",
        "/e2e/export",
        "--from",
        &from,
        "--to",
        &to,
        "--destination",
        "e2e-bucket",
        "--destination-prefix",
        "run1",
    ];
    let out = c.aws(&args);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("The given bucket does not exist. Please make sure the bucket is valid."));
    std::fs::create_dir_all(dir.path().join("exports/e2e-bucket")).unwrap();
    let id = c.aws_json(&args)["taskId"].as_str().unwrap().to_string();
    let task = crate::util::wait_for(Duration::from_secs(30), || {
        let v = c.aws_json(&["logs", "describe-export-tasks", "--task-id", &id]);
        let t = v["exportTasks"][0].clone();
        (t["status"]["code"] == "COMPLETED").then_some(t)
    })
    .expect("the export task completed");
    assert_eq!(task["taskName"], "e2e");
    assert_eq!(task["destinationPrefix"], "run1");
    let path = dir
        .path()
        .join(format!("exports/e2e-bucket/run1/{id}/host-1/000000.gz"));
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()),
        &mut text,
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with("Z first exported line"), "{text}");
    assert!(lines[1].ends_with("Z second exported line"), "{text}");
    let ts = lines[0].split(' ').next().unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(ts)
            .unwrap()
            .timestamp_millis(),
        t - 2000
    );
    // A finished task cannot be cancelled; an unknown one is not found.
    let out = c.aws(&["logs", "cancel-export-task", "--task-id", &id]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidOperationException"));
    let out = c.aws(&["logs", "cancel-export-task", "--task-id", "nope"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("The specified export task does not exist.")
    );
}

/// `hostwatch logs tail` against the collector with its generated credentials.
fn hostwatch_tail(c: &Collector, extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin("hostwatch"));
    cmd.args(["logs", "tail"])
        .args(extra)
        .args(["--endpoint", &c.endpoint, "--region", "us-east-1"])
        .args(["--profile", "hostwatch"])
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    cmd
}

#[test]
fn hostwatch_logs_tail_prints_recent_and_follows() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(dir.path());
    group_with_stream(&c, "/e2e/tail", "a");
    c.aws_json(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        "/e2e/tail",
        "--log-stream-name",
        "b",
    ]);
    let now = now_secs() * 1000;
    c.put_log_events(
        "/e2e/tail",
        "a",
        &json!([
            {"timestamp": now - 20 * 60_000, "message": "too old"},
            {"timestamp": now - 5 * 60_000, "message": "recent a"}
        ]),
    );
    c.put_log_events(
        "/e2e/tail",
        "b",
        &json!([{"timestamp": now - 4 * 60_000, "message": "recent b"}]),
    );
    // Without --follow: the last 10 minutes of every stream, merged in time order.
    let out = hostwatch_tail(&c, &["/e2e/tail", "--since", "10m"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with("+00:00 a recent a"), "{text}");
    assert!(lines[1].ends_with("+00:00 b recent b"), "{text}");
    // --filter without --follow: FilterLogEvents over the same window.
    let out = hostwatch_tail(
        &c,
        &["/e2e/tail", "--since", "10m", "--filter", "\"recent b\""],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.trim_end().ends_with("+00:00 b recent b"), "{text}");
    // Unknown group: a clear error, non-zero exit.
    let out = hostwatch_tail(&c, &["/e2e/none", "--follow"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));

    // --follow: the recent lines first, then new ones as they are ingested.
    let mut follow = hostwatch_tail(&c, &["/e2e/tail", "--follow", "--since", "10m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut follow);
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(first.ends_with(" a recent a"), "{first}");
    let second = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(second.ends_with(" b recent b"), "{second}");
    let line = put_until_seen(&c, "/e2e/tail", "b", &lines, "followed");
    assert!(line.contains(" b followed line "), "{line}");
    signal(&follow, "INT");
    assert!(follow.wait().unwrap().success());

    // --follow --filter: the session only delivers matching events.
    let mut filtered = hostwatch_tail(&c, &["/e2e/tail", "--follow", "--filter", "ERROR"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = lines_of(&mut filtered);
    c.put_log_events(
        "/e2e/tail",
        "a",
        &json!([{"timestamp": now_secs() * 1000, "message": "INFO not shown"}]),
    );
    let line = put_until_seen(&c, "/e2e/tail", "a", &lines, "ERROR-tagged");
    assert!(line.contains("ERROR-tagged line"), "{line}");
    // The session is open now: of one batch, only the matching event arrives.
    let t = now_secs() * 1000;
    c.put_log_events(
        "/e2e/tail",
        "a",
        &json!([
            {"timestamp": t, "message": "INFO in the session"},
            {"timestamp": t, "message": "ERROR final"}
        ]),
    );
    let mut seen = Vec::new();
    loop {
        let l = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        let done = l.ends_with("ERROR final");
        seen.push(l);
        if done {
            break;
        }
    }
    signal(&filtered, "INT");
    assert!(filtered.wait().unwrap().success());
    seen.extend(lines.try_iter());
    assert!(seen.iter().all(|l| !l.contains("INFO")), "{seen:?}");
}
