//! `hostwatch config-wizard` through a real pseudo-terminal (tests/py/wizard_pty.py answers each
//! prompt as it appears, with an instance metadata stub on loopback for the EC2 runs), and the
//! same config from `--non-interactive` flags: both match the golden file in
//! `tests/data/wizard/`, byte for byte, and load in the agent.

use crate::util::{assert_ok, bin, py_dir};
use std::path::Path;
use std::process::Command;

fn scenario(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let interactive = dir.path().join("interactive.json");
    let flags = dir.path().join("flags.json");
    let out = Command::new("python3")
        .arg(py_dir().join("wizard_pty.py"))
        .arg(bin("hostwatch"))
        .arg(name)
        .arg(&interactive)
        .arg(&flags)
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .output()
        .unwrap();
    assert_ok(&out);
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/wizard")
        .join(format!("{name}.json"));
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    for (how, path) in [("interactive", &interactive), ("flags", &flags)] {
        let got = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            got,
            golden,
            "{name} ({how}) differs from {}",
            golden_path.display()
        );
        let loaded = hostwatch_agent::config::load_file(path).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let check = Command::new(bin("hostwatch-agent"))
            .arg("--validate")
            .arg("--config")
            .arg(path)
            .output()
            .unwrap();
        assert_ok(&check);
    }
}

/// EC2 found by the metadata probe (the default answer), every default taken: Basic.
#[test]
fn wizard_ec2_basic() {
    scenario("ec2-basic");
}

/// On-premises (no metadata), an invalid menu answer asked again, Standard without per-core
/// cpu (total cpu still collected).
#[test]
fn wizard_on_prem_standard() {
    scenario("onprem-standard");
}

/// EC2, a user of one's own, invalid user and port answers asked again, StatsD without
/// aggregation, Advanced after declining it once.
#[test]
fn wizard_ec2_advanced() {
    scenario("ec2-advanced");
}

/// On-premises, preset None with per-category answers, and two log files (defaults, then
/// every field given, with invalid answers asked again).
#[test]
fn wizard_on_prem_none_with_log_files() {
    scenario("onprem-none-logs");
}

/// The packaged default agent config and the collector config are valid for the binaries.
#[test]
fn packaged_default_configs_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let agent = Command::new(bin("hostwatch-agent"))
        .arg("--validate")
        .arg("--config")
        .arg(root.join("config/agent.json"))
        .output()
        .unwrap();
    assert_ok(&agent);
    let collector = Command::new(bin("hostwatch-collector"))
        .arg("--validate")
        .arg("--config")
        .arg(root.join("config/collector.toml"))
        .output()
        .unwrap();
    assert_ok(&collector);
    // And an invalid config is refused with exit code 2 by both.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "{\"metrics\": {}}\nlisten = 1\n").unwrap();
    for b in ["hostwatch-agent", "hostwatch-collector"] {
        let out = Command::new(bin(b))
            .arg("--validate")
            .arg("--config")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{b}: {out:?}");
    }
}
