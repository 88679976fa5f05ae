//! Starting, stopping and inspecting the agent.
//!
//! With systemd running (`/run/systemd/system` exists) and the unit installed
//! (`systemctl cat hostwatch-agent.service` succeeds), ctl uses `systemctl` (`enable` +
//! `restart`, `stop`, `MainPID` for status). Otherwise it runs the agent itself:
//! `hostwatch-agent --config CONFIG_DIR/config.json --state-dir STATE_DIR` (with the variables
//! of `CONFIG_DIR/agent.env`, as the unit's `EnvironmentFile`) in its own
//! process group, output appended to `STATE_DIR/hostwatch-agent.log`, its pid in
//! `STATE_DIR/hostwatch-agent.pid`; stop sends SIGTERM (the agent flushes and exits within
//! 10 s) and SIGKILL after 15 s. A pid is trusted only while `/proc/PID/cmdline` still names
//! the agent binary, so a stale pid file never makes ctl signal another process. `--init
//! direct|systemd` (env `HOSTWATCH_CTL_INIT`) overrides the detection.
//!
//! Start is checked, unlike the CloudWatch agent's ctl: when the agent exits within its first
//! second (e.g. it cannot reach its state directory), start fails and prints the log's tail.

use anyhow::{bail, Context};
use rustix::process::{kill_process, Pid, Signal};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::paths::{Paths, UNIT};

/// How the agent is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    Systemd,
    Direct,
}

impl Init {
    /// From `--init` / `HOSTWATCH_CTL_INIT`, else detected.
    pub fn detect(forced: Option<&str>) -> anyhow::Result<Init> {
        let forced = forced
            .map(str::to_string)
            .or_else(|| std::env::var("HOSTWATCH_CTL_INIT").ok())
            .filter(|s| !s.is_empty());
        match forced.as_deref() {
            Some("systemd") => return Ok(Init::Systemd),
            Some("direct") => return Ok(Init::Direct),
            Some(other) => bail!("unknown init {other:?}: use systemd or direct"),
            None => {}
        }
        let systemd = Path::new("/run/systemd/system").is_dir()
            && Command::new("systemctl")
                .args(["cat", UNIT])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        Ok(if systemd { Init::Systemd } else { Init::Direct })
    }
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("systemctl")
        .args(args)
        .status()
        .with_context(|| format!("cannot run systemctl {}", args.join(" ")))?;
    if !status.success() {
        bail!("systemctl {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// The agent's pid, when it runs.
pub fn running_pid(init: Init, paths: &Paths) -> Option<i32> {
    match init {
        Init::Systemd => {
            let out = Command::new("systemctl")
                .args(["show", "-p", "MainPID", "--value", UNIT])
                .output()
                .ok()?;
            let pid: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
            (pid > 0).then_some(pid)
        }
        Init::Direct => {
            let pid: i32 = std::fs::read_to_string(paths.pid_file())
                .ok()?
                .trim()
                .parse()
                .ok()?;
            is_agent(pid, &paths.agent_bin).then_some(pid)
        }
    }
}

/// `true` when `pid` is alive (not a zombie) and runs the agent binary.
fn is_agent(pid: i32, bin: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    if stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = Path::new(std::ffi::OsStr::new(
        std::str::from_utf8(argv0).unwrap_or_default(),
    ));
    let name = bin.file_name();
    argv0.file_name().is_some() && argv0.file_name() == name
}

/// Start the agent (restart it when it runs).
pub fn start(init: Init, paths: &Paths) -> anyhow::Result<()> {
    match init {
        Init::Systemd => {
            systemctl(&["daemon-reload"])?;
            systemctl(&["enable", UNIT])?;
            systemctl(&["restart", UNIT])
        }
        Init::Direct => {
            stop(init, paths)?;
            std::fs::create_dir_all(&paths.state_dir).with_context(|| {
                format!("cannot create state dir {}", paths.state_dir.display())
            })?;
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(paths.log_file())
                .with_context(|| format!("cannot open {}", paths.log_file().display()))?;
            let err = log.try_clone()?;
            let vars = super::env::read(&paths.env_file())?;
            let mut child = Command::new(&paths.agent_bin)
                .envs(vars)
                .arg("--config")
                .arg(paths.merged())
                .arg("--state-dir")
                .arg(&paths.state_dir)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .process_group(0)
                .spawn()
                .with_context(|| format!("cannot run {}", paths.agent_bin.display()))?;
            let pid = child.id();
            super::paths::write_atomic(&paths.pid_file(), pid.to_string().as_bytes())
                .with_context(|| format!("cannot write {}", paths.pid_file().display()))?;
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    let _ = std::fs::remove_file(paths.pid_file());
                    bail!(
                        "the agent exited at once ({status}); the end of {}:\n{}",
                        paths.log_file().display(),
                        log_tail(&paths.log_file(), 20)
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
    }
}

/// Stop the agent (nothing to do when it does not run).
pub fn stop(init: Init, paths: &Paths) -> anyhow::Result<()> {
    match init {
        Init::Systemd => systemctl(&["stop", UNIT]),
        Init::Direct => {
            let Some(pid) = running_pid(init, paths) else {
                let _ = std::fs::remove_file(paths.pid_file());
                return Ok(());
            };
            let p = Pid::from_raw(pid).context("bad pid")?;
            kill_process(p, Signal::TERM).with_context(|| format!("cannot signal pid {pid}"))?;
            let deadline = Instant::now() + Duration::from_secs(15);
            while is_agent(pid, &paths.agent_bin) {
                if Instant::now() > deadline {
                    let _ = kill_process(p, Signal::KILL);
                    std::thread::sleep(Duration::from_millis(200));
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = std::fs::remove_file(paths.pid_file());
            Ok(())
        }
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
