//! `hostwatch demo`: start a collector on the embedded store and an agent shipping this host's
//! cpu and mem to it, print AWS CLI lines to look at the data, and stop both on Ctrl-C (or after
//! `--duration` seconds). The two daemons are the sibling binaries of the running `hostwatch`.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The binaries live next to this one (cargo's target dir, or /usr/bin when packaged).
pub fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("cannot locate the hostwatch binary")?;
    let dir = me
        .parent()
        .context("the hostwatch binary has no parent directory")?;
    let p = dir.join(name);
    if !p.exists() {
        bail!(
            "{} not found next to {}; build all binaries with `cargo build --release`",
            name,
            me.display()
        );
    }
    Ok(p)
}

struct Killer(Vec<Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for c in self.0.iter_mut().rev() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

pub fn run(data_dir: &Path, listen: SocketAddr, duration: Option<u64>) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let data_dir = data_dir
        .canonicalize()
        .context("cannot resolve the data directory")?;
    let collector_dir = data_dir.join("collector");
    let mut children = Killer(Vec::new());

    let mut collector = Command::new(sibling("hostwatch-collector")?)
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--data-dir")
        .arg(&collector_dir)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start hostwatch-collector")?;
    let stdout = collector.stdout.take().context("collector has no stdout")?;
    children.0.push(collector);
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("hostwatch-collector listening on ") {
                    break url.to_string();
                }
            }
            _ => bail!("the collector exited before it was ready (is {listen} already in use?)"),
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});

    let agent_config = data_dir.join("agent.json");
    let config = serde_json::json!({
        "agent": {"metrics_collection_interval": 10, "region": "us-east-1"},
        "metrics": {
            "endpoint_override": endpoint,
            "force_flush_interval": 10,
            "metrics_collected": {
                "cpu": {"resources": ["*"], "totalcpu": true,
                        "measurement": ["usage_idle", "usage_user", "usage_system", "usage_iowait", "usage_active"]},
                "mem": {"measurement": ["used_percent", "available_percent", "used", "available", "total"]}
            }
        }
    });
    std::fs::write(&agent_config, serde_json::to_string_pretty(&config)?)
        .with_context(|| format!("cannot write {}", agent_config.display()))?;
    let creds = collector_dir.join("credentials");
    let agent = Command::new(sibling("hostwatch-agent")?)
        .arg("--config")
        .arg(&agent_config)
        .arg("--state-dir")
        .arg(data_dir.join("agent-state"))
        .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
        .env("AWS_PROFILE", "hostwatch")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .spawn()
        .context("cannot start hostwatch-agent")?;
    children.0.push(agent);

    let host = hostname_of_this_machine();
    let env = format!(
        "AWS_SHARED_CREDENTIALS_FILE={} AWS_PROFILE=hostwatch AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1",
        creds.display()
    );
    println!(
        r#"
hostwatch demo is running.
  collector: {endpoint}   (data in {dir})
  agent:     ships cpu and mem of this host every 10 s (config {cfg})
  dashboard: {endpoint}/   (sign in with the key pair in {creds_file})

Look at the data with the AWS CLI (pip install awscli), after ~20 s:

  export {env}
  aws --endpoint-url {endpoint} cloudwatch list-metrics --namespace CWAgent
  aws --endpoint-url {endpoint} cloudwatch get-metric-statistics --namespace CWAgent \
      --metric-name cpu_usage_idle --dimensions Name=host,Value={host} Name=cpu,Value=cpu-total \
      --statistics Average Maximum --period 60 \
      --start-time $(date -u -d '-15 min' +%FT%TZ) --end-time $(date -u +%FT%TZ)
  aws --endpoint-url {endpoint} cloudwatch get-metric-statistics --namespace CWAgent \
      --metric-name mem_used_percent --dimensions Name=host,Value={host} \
      --statistics Average --period 60 \
      --start-time $(date -u -d '-15 min' +%FT%TZ) --end-time $(date -u +%FT%TZ)
  aws --endpoint-url {endpoint} logs create-log-group --log-group-name demo
  aws --endpoint-url {endpoint} logs describe-log-groups

Press Ctrl-C to stop."#,
        dir = data_dir.display(),
        cfg = agent_config.display(),
        creds_file = creds.display(),
    );
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::spawn(move || {
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        let _ = tx.send(());
    });
    match duration {
        Some(secs) => {
            let _ = rx.recv_timeout(Duration::from_secs(secs));
        }
        None => {
            let _ = rx.recv();
        }
    }
    println!("stopping the demo");
    drop(children);
    Ok(())
}

fn hostname_of_this_machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}
