//! Fleet configs: two agents (two "EC2 instances", each with its own fake instance metadata
//! service, so `{instance_id}` names their streams apart) run on `--config ssm:/fleet/web`.
//! `aws ssm put-parameter --overwrite` adds a log file to the config; both agents must ship it
//! within the poll interval, while every line of the file they already tailed arrives exactly
//! once, in order, in each agent's stream.

use crate::util::{bin, wait_for, Collector};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const POLL_SECS: u64 = 1;

/// A minimal instance metadata service (IMDSv2 token + identity document) on loopback.
struct FakeImds {
    url: String,
    stop: Arc<AtomicBool>,
}

impl FakeImds {
    fn start(instance_id: &str) -> FakeImds {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let (id, flag) = (instance_id.to_string(), stop.clone());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split(' ').nth(1).unwrap_or("");
                let (status, body) = if head.starts_with("PUT ") && path == "/latest/api/token" {
                    ("200 OK", "token".to_string())
                } else if path == "/latest/dynamic/instance-identity/document" {
                    let doc = json!({"instanceId": id, "instanceType": "t3.micro",
                        "imageId": "ami-1", "region": "us-east-1",
                        "availabilityZone": "us-east-1a", "accountId": "000000000000"});
                    ("200 OK", doc.to_string())
                } else {
                    ("404 Not Found", String::new())
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeImds { url, stop }
    }
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_agent(c: &Collector, imds: &FakeImds, state: &Path) -> Agent {
    let child = Command::new(bin("hostwatch-agent"))
        .args(["--config", "ssm:/fleet/web", "--ssm-endpoint", &c.endpoint])
        .args(["--ssm-poll-secs", &POLL_SECS.to_string()])
        .arg("--state-dir")
        .arg(state)
        .env("AWS_SHARED_CREDENTIALS_FILE", c.credentials_file())
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env(
            "RUST_LOG",
            std::env::var("HOSTWATCH_TEST_AGENT_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .spawn()
        .expect("start agent");
    Agent(child)
}

fn config(endpoint: &str, files: &[(&Path, &str)]) -> String {
    let list: Vec<Value> = files
        .iter()
        .map(|(p, g)| json!({"file_path": p, "log_group_name": g, "log_stream_name": "{instance_id}"}))
        .collect();
    json!({"agent": {"region": "us-east-1"},
           "logs": {"endpoint_override": endpoint, "force_flush_interval": 1,
                    "logs_collected": {"files": {"collect_list": list}}}})
    .to_string()
}

/// `{stream: [sequence numbers]}` of a group.
fn seqs(c: &Collector, group: &str) -> std::collections::BTreeMap<String, Vec<u64>> {
    let out = c.python("logs_dump.py", &[group]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_object()
        .into_iter()
        .flatten()
        .map(|(stream, events)| {
            let nums = events
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["m"].as_str()?.rsplit(' ').next()?.parse().ok())
                .collect();
            (stream.clone(), nums)
        })
        .collect()
}

fn append(path: &Path, prefix: &str, from: u64, count: u64) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut text = String::new();
    for n in from..from + count {
        text.push_str(&format!("{prefix} {n:06}\n"));
    }
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn put_parameter_overwrite_reconfigures_two_agents() {
    let dir = tempfile::tempdir().unwrap();
    let c = Collector::start(&dir.path().join("collector"));
    let old = dir.path().join("old.log");
    let new = dir.path().join("new.log");
    c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web",
        "--type",
        "String",
        "--value",
        &config(&c.endpoint, &[(&old, "fleet-old")]),
    ]);
    let imds = [
        FakeImds::start("i-00000000000000aaa"),
        FakeImds::start("i-00000000000000bbb"),
    ];
    let _agents: Vec<Agent> = imds
        .iter()
        .enumerate()
        .map(|(i, m)| start_agent(&c, m, &dir.path().join(format!("state{i}"))))
        .collect();

    // Lines keep coming into both files for the whole test.
    let (mut n_old, mut n_new) = (0u64, 0u64);
    let tick = |n_old: &mut u64, n_new: &mut u64| {
        append(&old, "old", *n_old, 50);
        append(&new, "new", *n_new, 20);
        *n_old += 50;
        *n_new += 20;
        std::thread::sleep(Duration::from_millis(200));
    };
    let streams = ["i-00000000000000aaa", "i-00000000000000bbb"];
    let started = wait_for(Duration::from_secs(30), || {
        tick(&mut n_old, &mut n_new);
        let s = seqs(&c, "fleet-old");
        streams
            .iter()
            .all(|k| s.get(*k).is_some_and(|v| !v.is_empty()))
            .then_some(())
    });
    assert!(started.is_some(), "both agents ship old.log");
    assert!(
        seqs(&c, "fleet-new").is_empty(),
        "new.log is not configured yet"
    );

    let v = c.aws_json(&[
        "ssm",
        "put-parameter",
        "--name",
        "/fleet/web",
        "--value",
        &config(&c.endpoint, &[(&old, "fleet-old"), (&new, "fleet-new")]),
        "--overwrite",
    ]);
    assert_eq!(v["Version"], 2);
    let put_at = Instant::now();
    let mut first_seen = None;
    let shipping = wait_for(Duration::from_secs(30), || {
        tick(&mut n_old, &mut n_new);
        let s = seqs(&c, "fleet-new");
        let both = streams
            .iter()
            .all(|k| s.get(*k).is_some_and(|v| !v.is_empty()));
        if both && first_seen.is_none() {
            first_seen = Some(put_at.elapsed());
        }
        both.then_some(())
    });
    assert!(
        shipping.is_some(),
        "both agents ship new.log after the overwrite"
    );
    let latency = first_seen.unwrap_or_default();
    eprintln!("new.log shipped by both agents {latency:?} after put-parameter");
    // Poll interval + one flush (1 s) + this loop's own step and reads.
    assert!(latency < Duration::from_secs(POLL_SECS + 10), "{latency:?}");
    for _ in 0..5 {
        tick(&mut n_old, &mut n_new);
    }

    // Everything arrives, once, in order, in each agent's stream.
    let complete = wait_for(Duration::from_secs(60), || {
        let (o, n) = (seqs(&c, "fleet-old"), seqs(&c, "fleet-new"));
        streams
            .iter()
            .all(|k| {
                o.get(*k).map_or(0, Vec::len) as u64 >= n_old
                    && n.get(*k).map_or(0, Vec::len) as u64 >= n_new
            })
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let (o, n) = (seqs(&c, "fleet-old"), seqs(&c, "fleet-new"));
    for k in streams {
        let want_old: Vec<u64> = (0..n_old).collect();
        let want_new: Vec<u64> = (0..n_new).collect();
        assert_eq!(
            o.get(k),
            Some(&want_old),
            "old.log in {k}: every line once, in order"
        );
        assert_eq!(
            n.get(k),
            Some(&want_new),
            "new.log in {k}: every line once, in order"
        );
    }
    assert!(complete.is_some());
}
