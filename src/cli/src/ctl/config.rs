//! The config pipeline: get the source's JSON, stage it, merge the directory as it would be,
//! validate the merge with the agent's own loader, and only then change the directory and
//! write the merged config (through a temporary file and a rename). A failed step changes
//! nothing.

use anyhow::{bail, Context};
use serde_json::Value;
use std::path::Path;

use super::merge;
use super::mode::{Mode, ModeArg};
use super::paths::{write_atomic, Paths};
use super::source::{self, Source};

/// What a config action does with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `fetch-config`: this source replaces every other.
    Replace,
    /// `append-config`: add (or replace) this source.
    Append,
    /// `remove-config`: remove this source (or `all`).
    Remove,
}

/// Where `ssm:` sources are fetched from.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    pub ssm_endpoint: Option<String>,
    pub region: Option<String>,
}

/// The directory's files as (name, JSON), in name order.
pub fn read_dir(paths: &Paths) -> anyhow::Result<Vec<(String, Value)>> {
    let dir = paths.drop_dir();
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || name.ends_with(".tmp") || !entry.file_type()?.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .with_context(|| format!("cannot read {}", entry.path().display()))?;
        out.push((name.clone(), source::parse_json(&text, &name)?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Merge and validate; the merged JSON, or every error.
pub fn merge_and_validate(files: &[(String, Value)]) -> anyhow::Result<Value> {
    let merged = match merge::merge(files) {
        Ok(m) => m,
        Err(conflicts) => {
            let lines: Vec<String> = conflicts.iter().map(|c| c.to_string()).collect();
            bail!("the configs do not merge:\n{}", lines.join("\n"));
        }
    };
    match hostwatch_agent::config::load_value(&merged, "merged config") {
        Ok(loaded) => {
            for w in loaded.all_warnings() {
                println!("{w}");
            }
            Ok(merged)
        }
        Err(e) => bail!("Configuration validation failed:\n{e}"),
    }
}

/// Validate the directory as it is (`-a validate`).
pub fn validate_dir(paths: &Paths) -> anyhow::Result<()> {
    let files = read_dir(paths)?;
    if files.is_empty() {
        bail!(
            "no configuration in {}: fetch one with -a fetch-config",
            paths.drop_dir().display()
        );
    }
    println!("Start configuration validation...");
    merge_and_validate(&files)?;
    println!("Configuration validation succeeded");
    Ok(())
}

fn current_merged(paths: &Paths) -> Option<hostwatch_agent::config::AgentConfig> {
    let text = std::fs::read_to_string(paths.merged()).ok()?;
    hostwatch_agent::config::load_str(&text, "merged")
        .ok()
        .map(|l| l.config)
}

fn fetch_ssm(name: &str, paths: &Paths, mode: Mode, opts: &FetchOptions) -> anyhow::Result<Value> {
    let current = current_merged(paths);
    let endpoint = opts
        .ssm_endpoint
        .clone()
        .or_else(|| std::env::var("HOSTWATCH_SSM_ENDPOINT").ok())
        .or_else(|| {
            let c = current.as_ref()?;
            c.metrics
                .as_ref()
                .and_then(|m| m.endpoint_override.clone())
                .or_else(|| c.logs.as_ref().and_then(|l| l.endpoint_override.clone()))
        });
    let configured = opts
        .region
        .clone()
        .or_else(|| current.as_ref().and_then(|c| c.agent.region.clone()));
    let env = |k: &str| std::env::var(k).ok();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let region =
            match hostwatch_agent::ship::endpoint::static_region(configured.as_deref(), &env) {
                Some(r) => r,
                None if mode == Mode::Ec2 => {
                    let imds = hostwatch_agent::ship::ImdsClient::from_env(&env)?;
                    imds.region().await.context(
                        "no region: pass --region or set AWS_REGION (the instance metadata \
                         service did not answer)",
                    )?
                }
                None => bail!("no region for ssm:{name}: pass --region or set AWS_REGION"),
            };
        let p = hostwatch_agent::ship::ssm::get_parameter(endpoint.as_deref(), &region, name)
            .await
            .with_context(|| format!("cannot fetch parameter {name}"))?;
        source::parse_json(&p.value, &format!("ssm:{name}"))
    })
}

/// Run a config action.
pub fn apply(
    paths: &Paths,
    op: Op,
    src: &Source,
    mode: ModeArg,
    opts: &FetchOptions,
) -> anyhow::Result<()> {
    let dir = paths.drop_dir();
    let mut existing = read_dir(paths)?;
    // A config.json that ctl did not make (the wizard's, say) is one of the configs an append
    // keeps, as the file source it would have been; it is written to the drop directory with
    // the rest once the merge validates.
    let mut imported: Option<(String, Value)> = None;
    if op == Op::Append && existing.is_empty() {
        if let Ok(text) = std::fs::read_to_string(paths.merged()) {
            let value: Value = serde_json::from_str(&text).with_context(|| {
                format!("{} is not JSON: fix or remove it", paths.merged().display())
            })?;
            let name = Source::File(paths.merged()).file_name().unwrap_or_default();
            println!(
                "Keeping the existing {} as the config {name}",
                paths.merged().display()
            );
            existing.push((name.clone(), value.clone()));
            imported = Some((name, value));
        }
    }
    let mut next: Vec<(String, Value)>;
    let mut staged: Option<(String, Value)> = None;
    match (op, src) {
        (Op::Remove, Source::All) => next = Vec::new(),
        (Op::Remove, s) => {
            let name = s.file_name().unwrap_or_default();
            if !existing.iter().any(|(n, _)| *n == name) {
                bail!("no config {name} in {}", dir.display());
            }
            next = existing.into_iter().filter(|(n, _)| *n != name).collect();
        }
        (_, Source::All) => bail!("-c all can only be removed (-a remove-config)"),
        (op, s) => {
            let name = s.file_name().unwrap_or_default();
            let value = match s {
                Source::Default => source::default_config(mode.resolve()),
                Source::File(p) => source::read_file(p)?,
                Source::Ssm(n) => fetch_ssm(n, paths, mode.resolve(), opts)?,
                Source::All => unreachable_all()?,
            };
            println!("Successfully fetched the config {name}");
            next = if op == Op::Replace {
                Vec::new()
            } else {
                existing.into_iter().filter(|(n, _)| *n != name).collect()
            };
            next.push((name.clone(), value.clone()));
            staged = Some((name, value));
        }
    }
    if next.is_empty() {
        remove_all(paths)?;
        println!("all hostwatch-agent configurations have been removed");
        return Ok(());
    }
    println!("Start configuration validation...");
    let merged = merge_and_validate(&next)?;
    println!("Configuration validation succeeded");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let keep_imported = imported.filter(|(n, _)| {
        next.iter().any(|(k, _)| k == n) && staged.as_ref().is_none_or(|(s, _)| s != n)
    });
    for (name, value) in keep_imported.iter().chain(&staged) {
        let text = serde_json::to_string_pretty(value)?;
        write_atomic(&dir.join(name), text.as_bytes())
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
    }
    let keep: Vec<&str> = next.iter().map(|(n, _)| n.as_str()).collect();
    remove_others(&dir, &keep)?;
    let text = serde_json::to_string_pretty(&merged)?;
    write_atomic(&paths.merged(), text.as_bytes())
        .with_context(|| format!("cannot write {}", paths.merged().display()))?;
    println!("Configuration written to {}", paths.merged().display());
    Ok(())
}

fn unreachable_all() -> anyhow::Result<Value> {
    bail!("-c all names no single config")
}

fn remove_others(dir: &Path, keep: &[&str]) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.file_type()?.is_file() && !keep.contains(&name.as_str()) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn remove_all(paths: &Paths) -> anyhow::Result<()> {
    if paths.drop_dir().is_dir() {
        remove_others(&paths.drop_dir(), &[])?;
    }
    match std::fs::remove_file(paths.merged()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", paths.merged().display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(root: &Path) -> Paths {
        Paths {
            config_dir: root.join("etc"),
            state_dir: root.join("state"),
            agent_bin: root.join("hostwatch-agent"),
        }
    }

    fn names(p: &Paths) -> Vec<String> {
        read_dir(p).unwrap().into_iter().map(|(n, _)| n).collect()
    }

    fn file(root: &Path, name: &str, v: serde_json::Value) -> Source {
        let path = root.join(name);
        std::fs::write(&path, v.to_string()).unwrap();
        Source::File(path)
    }

    #[test]
    fn replace_append_remove_and_refusals_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let p = paths(root);
        let opts = FetchOptions::default();
        let on_prem = ModeArg::OnPremise;
        apply(&p, Op::Replace, &Source::Default, on_prem, &opts).unwrap();
        assert_eq!(names(&p), vec!["default"]);
        let logs = file(
            root,
            "logs.json",
            json!({"agent": {"region": "us-east-1"},
                   "logs": {"logs_collected": {"files": {"collect_list": [
                       {"file_path": "/var/log/x.log"}]}}}}),
        );
        apply(&p, Op::Append, &logs, on_prem, &opts).unwrap();
        assert_eq!(names(&p), vec!["default", "file_logs.json"]);
        let merged_before = std::fs::read(p.merged()).unwrap();
        let merged: serde_json::Value = serde_json::from_slice(&merged_before).unwrap();
        assert!(merged["metrics"].is_object() && merged["logs"].is_object());

        let clash = file(
            root,
            "clash.json",
            json!({"agent": {"region": "eu-west-1"}}),
        );
        let e = apply(&p, Op::Append, &clash, on_prem, &opts).unwrap_err();
        assert!(e.to_string().contains("/agent/region"), "{e}");
        let bad = file(
            root,
            "bad.json",
            json!({"metrics": {"metrics_collected": {"cpu": {"resources": "*"}}}}),
        );
        let e = apply(&p, Op::Replace, &bad, on_prem, &opts).unwrap_err();
        assert!(e.to_string().contains("validation failed"), "{e}");
        assert_eq!(names(&p), vec!["default", "file_logs.json"]);
        assert_eq!(std::fs::read(p.merged()).unwrap(), merged_before);
        assert!(validate_dir(&p).is_ok());

        let e = apply(&p, Op::Append, &Source::All, on_prem, &opts).unwrap_err();
        assert!(e.to_string().contains("-c all"), "{e}");
        apply(&p, Op::Remove, &Source::Default, on_prem, &opts).unwrap();
        assert_eq!(names(&p), vec!["file_logs.json"]);
        apply(&p, Op::Remove, &Source::All, on_prem, &opts).unwrap();
        assert!(names(&p).is_empty());
        assert!(!p.merged().exists());
        assert!(validate_dir(&p).is_err());
    }

    #[test]
    fn a_temporary_file_left_by_a_crash_is_not_a_source() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let opts = FetchOptions::default();
        apply(&p, Op::Replace, &Source::Default, ModeArg::OnPremise, &opts).unwrap();
        let target = p.drop_dir().join("file_half.json");
        write_atomic(&target, b"{}").unwrap();
        std::fs::remove_file(&target).unwrap();
        // What a crash between the write and the rename leaves behind.
        let leftover = p.drop_dir().join(".file_half.json.tmp");
        std::fs::write(&leftover, b"{ not json").unwrap();
        assert_eq!(names(&p), vec!["default"]);
        assert!(validate_dir(&p).is_ok());
    }

    #[test]
    fn a_config_json_ctl_did_not_make_is_kept_on_append_and_replaced_on_fetch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let p = paths(root);
        let opts = FetchOptions::default();
        let on_prem = ModeArg::OnPremise;
        // The wizard wrote config.json; ctl has no sources yet.
        std::fs::create_dir_all(&p.config_dir).unwrap();
        assert_eq!(p.merged(), p.config_dir.join("config.json"));
        let wizard = json!({"agent": {"region": "us-east-1"},
            "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}});
        std::fs::write(p.merged(), wizard.to_string()).unwrap();
        // A refused append changes nothing, the wizard's file included.
        let clash = file(
            root,
            "clash.json",
            json!({"agent": {"region": "eu-west-1"}}),
        );
        assert!(apply(&p, Op::Append, &clash, on_prem, &opts).is_err());
        assert!(names(&p).is_empty());
        let logs = file(
            root,
            "logs.json",
            json!({"logs": {"logs_collected": {"files": {"collect_list": [
                {"file_path": "/var/log/x.log"}]}}}}),
        );
        apply(&p, Op::Append, &logs, on_prem, &opts).unwrap();
        assert_eq!(names(&p), vec!["file_config.json", "file_logs.json"]);
        let merged: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.merged()).unwrap()).unwrap();
        assert!(
            merged["metrics"]["metrics_collected"]["mem"].is_object(),
            "{merged}"
        );
        assert!(merged["logs"].is_object(), "{merged}");
        // fetch-config replaces everything, the kept file too.
        apply(&p, Op::Replace, &logs, on_prem, &opts).unwrap();
        assert_eq!(names(&p), vec!["file_logs.json"]);
        let merged: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.merged()).unwrap()).unwrap();
        assert!(merged.get("metrics").is_none(), "{merged}");
    }
}
