//! Where ctl reads and writes.
//!
//! - config directory (`--config-dir`, env `HOSTWATCH_CONFIG_DIR`, default
//!   `/etc/hostwatch-agent`): `hostwatch-agent.d/` holds one JSON file per source (`default`,
//!   `file_NAME`, `ssm_NAME`), and `config.json` is their merge: the file the packaged systemd
//!   unit starts the agent with and the wizard writes (a `config.json` that ctl did not make is
//!   kept as a source on `append-config`; see `config::apply`); `agent.env` holds the variables `set-log-level` and `set-env` set (see `env`);
//! - state directory (`--state-dir`, env `HOSTWATCH_STATE_DIR`, default
//!   `/var/lib/hostwatch-agent`, the agent's own): `hostwatch-agent.pid` and
//!   `hostwatch-agent.log` when ctl runs the agent itself (no systemd);
//! - the agent binary (`--agent-bin`, env `HOSTWATCH_AGENT_BIN`): default `hostwatch-agent`
//!   next to the running `hostwatch`, else on `PATH`.

use std::path::{Path, PathBuf};

/// The systemd unit ctl drives when systemd runs.
pub const UNIT: &str = "hostwatch-agent.service";
/// The merged config's file name in the config directory (the unit's `--config`).
pub const MERGED: &str = "config.json";

/// Resolved locations.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
    pub agent_bin: PathBuf,
}

impl Paths {
    /// From flags, then the environment, then the defaults.
    pub fn resolve(
        config_dir: Option<PathBuf>,
        state_dir: Option<PathBuf>,
        agent_bin: Option<PathBuf>,
    ) -> Paths {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Paths {
            config_dir: config_dir
                .or_else(|| env("HOSTWATCH_CONFIG_DIR"))
                .unwrap_or_else(|| PathBuf::from("/etc/hostwatch-agent")),
            state_dir: state_dir
                .or_else(|| env("HOSTWATCH_STATE_DIR"))
                .unwrap_or_else(|| PathBuf::from("/var/lib/hostwatch-agent")),
            agent_bin: agent_bin
                .or_else(|| env("HOSTWATCH_AGENT_BIN"))
                .unwrap_or_else(default_agent_bin),
        }
    }

    /// `hostwatch-agent.d/`: one file per source.
    pub fn drop_dir(&self) -> PathBuf {
        self.config_dir.join("hostwatch-agent.d")
    }

    /// The merged config the agent runs with (the systemd unit's `--config`).
    pub fn merged(&self) -> PathBuf {
        self.config_dir.join(MERGED)
    }

    /// The agent's environment file (see `env`), read by the systemd unit too.
    pub fn env_file(&self) -> PathBuf {
        self.config_dir.join("agent.env")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.state_dir.join("hostwatch-agent.pid")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("hostwatch-agent.log")
    }
}

fn default_agent_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("hostwatch-agent")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("hostwatch-agent"))
}

/// Write `bytes` to `path` through a temporary file and a rename. The temporary file is
/// `.NAME.tmp` beside it: hidden and `.tmp`, the two kinds of name `config::read_dir` skips, so
/// one left by a crash is never read as a config source.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
