//! Config sources (`-c`): `default`, `file:PATH`, `ssm:NAME`, and `all` (remove only); the file
//! each is kept in under `hostwatch-agent.d/`; the built-in default config per mode.
//!
//! Unlike the CloudWatch agent's downloader, `file:` needs no region or credentials, and an
//! `ssm:` source can be fetched from any endpoint (`--ssm-endpoint`, env
//! `HOSTWATCH_SSM_ENDPOINT`, else the current merged config's `endpoint_override`).

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::PathBuf;

use super::mode::Mode;

/// A `-c` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    All,
    File(PathBuf),
    Ssm(String),
}

impl Source {
    /// Parse `-c`.
    pub fn parse(s: &str) -> anyhow::Result<Source> {
        Ok(match s {
            "default" => Source::Default,
            "all" => Source::All,
            _ => {
                if let Some(p) = s.strip_prefix("file:") {
                    if p.is_empty() {
                        bail!("-c file: needs a path, e.g. file:/tmp/agent.json");
                    }
                    Source::File(PathBuf::from(p))
                } else if let Some(n) = s.strip_prefix("ssm:") {
                    if n.is_empty() {
                        bail!("-c ssm: needs a parameter name, e.g. ssm:/fleet/web");
                    }
                    Source::Ssm(n.to_string())
                } else {
                    bail!("unknown config source {s:?}: use default, all, file:PATH or ssm:NAME")
                }
            }
        })
    }

    /// The file name under `hostwatch-agent.d/` (`None` for `all`).
    pub fn file_name(&self) -> Option<String> {
        match self {
            Source::Default => Some("default".to_string()),
            Source::All => None,
            Source::File(p) => {
                let base = p
                    .file_name()
                    .map(|b| b.to_string_lossy().to_string())
                    .unwrap_or_default();
                Some(format!("file_{}", escape(&base)))
            }
            Source::Ssm(n) => Some(format!("ssm_{}", escape(n))),
        }
    }
}

/// `/`, space and `:` (and anything else outside `[A-Za-z0-9._-]`) become `_`.
pub fn escape(s: &str) -> String {
    hostwatch_agent::fleet::escape_name(s)
}

/// Read a `file:` source as JSON.
pub fn read_file(path: &std::path::Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_json(&text, &path.display().to_string())
}

/// Parse a source's text; it must be a JSON object.
pub fn parse_json(text: &str, what: &str) -> anyhow::Result<Value> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let v: Value =
        serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))?;
    if !v.is_object() {
        bail!("{what}: the config must be a JSON object");
    }
    Ok(v)
}

/// The built-in config: memory and disk usage (no pseudo file systems), with the instance's
/// dimensions on EC2.
pub fn default_config(mode: Mode) -> Value {
    let mut metrics = json!({
        "metrics_collected": {
            "mem": {"measurement": ["mem_used_percent"]},
            "disk": {
                "measurement": ["used_percent"],
                "resources": ["*"],
                "ignore_file_system_types": ["sysfs", "devtmpfs", "tmpfs", "overlay", "squashfs"]
            }
        }
    });
    if mode == Mode::Ec2 {
        metrics["append_dimensions"] = json!({
            "ImageId": "${aws:ImageId}",
            "InstanceId": "${aws:InstanceId}",
            "InstanceType": "${aws:InstanceType}",
            "AutoScalingGroupName": "${aws:AutoScalingGroupName}"
        });
    }
    json!({ "metrics": metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_file_names() {
        assert_eq!(
            Source::parse("default").unwrap().file_name().unwrap(),
            "default"
        );
        assert_eq!(
            Source::parse("file:/etc/my agent:1.json")
                .unwrap()
                .file_name()
                .unwrap(),
            "file_my_agent_1.json"
        );
        assert_eq!(
            Source::parse("ssm:/fleet/web")
                .unwrap()
                .file_name()
                .unwrap(),
            "ssm__fleet_web"
        );
        assert_eq!(Source::parse("all").unwrap().file_name(), None);
        assert!(Source::parse("file:").is_err());
        assert!(Source::parse("ssm:").is_err());
        assert!(Source::parse("http://x").is_err());
    }

    #[test]
    fn default_configs_load() {
        for mode in [Mode::Ec2, Mode::OnPremise] {
            let v = default_config(mode);
            hostwatch_agent::config::load_value(&v, "default").unwrap();
            assert_eq!(
                v["metrics"].get("append_dimensions").is_some(),
                mode == Mode::Ec2
            );
        }
    }
}
