//! `hostwatch config-wizard`: writes an agent config by asking the CloudWatch agent wizard's
//! questions (Linux flow, same wording, order and defaults), or, with `--non-interactive`,
//! from one flag per question.
//!
//! - [`answers`]: the answers as data; the seam between the two front ends and the builder;
//! - [`flow`]: the interactive questions; [`prompt`]: the terminal format and re-asking;
//! - [`args`]: the flags and the non-interactive answers; [`validate`]: checks of one answer;
//! - [`presets`]: the Basic / Standard / Advanced / None metric sets;
//! - [`builder`]: answers → JSON (with the fixes over the real wizard), checked by the agent's
//!   own config loader before anything is saved;
//! - [`save`]: the write permission check up front, numbered backups, atomic replace;
//! - [`store`]: the optional upload of the saved file to the SSM Parameter Store.
//!
//! Invariant: for the same answers both front ends save byte-identical files, and every saved
//! file loads in `hostwatch_agent::config` without errors.

pub mod answers;
pub mod args;
pub mod builder;
pub mod flow;
pub mod presets;
pub mod prompt;
pub mod save;
pub mod store;
pub mod validate;

pub use args::WizardArgs;

use flow::HostFacts;
use prompt::{PromptError, Prompter};
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::Duration;

/// Where collectd's types database lives when collectd is installed (Debian's collectd-core).
pub const COLLECTD_TYPES_DB: &str = "/usr/share/collectd/types.db";
/// How long the instance metadata probe may take before the host counts as on-premises.
pub const IMDS_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the wizard stopped without saving.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Save(#[from] save::SaveError),
    #[error("{0}")]
    Flags(String),
    #[error("the generated config does not load in the agent (please report this): {0}")]
    Invalid(String),
    #[error("terminal I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The region the instance metadata service reports, or `None` when it does not answer within
/// [`IMDS_PROBE_TIMEOUT`] (not on EC2, or metadata disabled). Honours
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` and `AWS_EC2_METADATA_DISABLED` like the agent.
pub fn probe_ec2_region() -> Option<String> {
    let env = |k: &str| std::env::var(k).ok();
    let client = hostwatch_agent::ship::ImdsClient::from_env(&env).ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        match tokio::time::timeout(IMDS_PROBE_TIMEOUT, client.region()).await {
            Ok(Ok(region)) => Some(region),
            _ => None,
        }
    })
}

/// Runs the wizard on this process's terminal.
pub fn run(args: &WizardArgs) -> Result<(), WizardError> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    run_with(
        args,
        stdin.lock(),
        stdout.lock(),
        probe_ec2_region,
        Path::new(COLLECTD_TYPES_DB).exists(),
    )
}

/// Runs the wizard on the given input and output; `probe` finds the EC2 region.
pub fn run_with<R: BufRead, W: Write>(
    args: &WizardArgs,
    input: R,
    output: W,
    probe: impl FnOnce() -> Option<String>,
    collectd_installed: bool,
) -> Result<(), WizardError> {
    save::check_writable(&args.output)?;
    // One prompter for the whole run, so questions can also follow the save (as the
    // CloudWatch agent wizard's parameter store upload does).
    let mut p = Prompter::new(input, output);
    let env = |k: &str| std::env::var(k).ok();
    let mut ec2_region = None;
    let answers = if args.non_interactive {
        let needs_region = args.use_parameter_store && args.parameter_store_region.is_none();
        if args.needs_probe() || needs_region {
            ec2_region = probe();
        }
        let facts = HostFacts {
            ec2_region: ec2_region.clone(),
            collectd_installed,
        };
        args.answers(&facts).map_err(WizardError::Flags)?
    } else {
        p.say("=============================================================")?;
        p.say("= Welcome to the hostwatch Agent Configuration Manager      =")?;
        p.say("=============================================================")?;
        p.say("Trying to fetch the default region based on ec2 metadata...")?;
        ec2_region = probe();
        let facts = HostFacts {
            ec2_region: ec2_region.clone(),
            collectd_installed,
        };
        flow::ask_all(&mut p, &facts)?
    };

    let config = builder::build(&answers);
    builder::check(&config).map_err(WizardError::Invalid)?;
    let text = builder::render(&config);
    let backup = save::save(&args.output, &text)?;
    if !args.non_interactive {
        p.say("Current config as follows:")?;
        p.say(text.trim_end())?;
    }
    if let Some(b) = backup {
        p.say(&format!("The previous config was kept as {}", b.display()))?;
    }
    p.say(&format!(
        "Saved config file to {} successfully.",
        args.output.display()
    ))?;
    let region = store::default_region(ec2_region.as_deref(), &env);
    let target = if args.non_interactive {
        if args.use_parameter_store {
            let endpoint = args
                .parameter_store_endpoint
                .clone()
                .unwrap_or_else(|| store::default_endpoint(&env));
            Some(store::StoreTarget {
                name: args
                    .parameter_store_name
                    .clone()
                    .unwrap_or_else(|| store::DEFAULT_NAME.to_string()),
                region: args.parameter_store_region.clone().unwrap_or(region),
                endpoint: store::endpoint(&endpoint).map_err(WizardError::Flags)?,
            })
        } else {
            None
        }
    } else {
        store::ask(&mut p, &region, &store::default_endpoint(&env))?
    };
    if let Some(t) = target {
        let version = store::upload(&t, &text)?;
        p.say(&format!(
            "Successfully put config to parameter store {} (version {version}).",
            t.name
        ))?;
    }
    if answers.run_as_user != flow::DEFAULT_USER {
        p.say(&format!(
            "Note: the hostwatch-agent service runs as {}; to run it as {} add a drop-in \
             (systemctl edit hostwatch-agent) with [Service] User={}.",
            flow::DEFAULT_USER,
            answers.run_as_user,
            answers.run_as_user
        ))?;
    }
    if !args.non_interactive {
        p.say("Program exits now.")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> WizardArgs {
        args::tests::parse(flags).unwrap()
    }

    #[test]
    fn interactive_and_flags_save_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.json");
        // on-prem, root, statsd defaults, no collectd, host metrics with Standard, one log file,
        // not stored in the parameter store.
        let input = "2\n2\n\n\n\n\n2\n\n2\n\n2\n\n\n/var/log/syslog\n\n\n\n5\n2\n2\n";
        let mut out = Vec::new();
        run_with(
            &args(&["--output", a.to_str().unwrap()]),
            input.as_bytes(),
            &mut out,
            || None,
            false,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("Saved config file to"), "{out}");
        run_with(
            &args(&[
                "--output",
                b.to_str().unwrap(),
                "--non-interactive",
                "--host",
                "on-prem",
                "--run-as-user",
                "root",
                "--collectd",
                "no",
                "--per-core",
                "no",
                "--preset",
                "standard",
                "--log-file",
                "/var/log/syslog;retention=7",
            ]),
            &b""[..],
            Vec::new(),
            || panic!("no probe with --host"),
            true,
        )
        .unwrap();
        let (a, b) = (
            std::fs::read_to_string(a).unwrap(),
            std::fs::read_to_string(b).unwrap(),
        );
        assert_eq!(a, b);
        assert!(a.contains("\"retention_in_days\": 7"));
        hostwatch_agent::config::load_str(&a, "a").unwrap();
    }

    #[test]
    fn unwritable_output_fails_before_any_question() {
        let dir = tempfile::tempdir().unwrap();
        let out_path = dir.path().join("missing/config.json");
        let mut out = Vec::new();
        let e = run_with(
            &args(&["--output", out_path.to_str().unwrap()]),
            &b""[..],
            &mut out,
            || None,
            false,
        )
        .unwrap_err();
        assert!(matches!(e, WizardError::Save(_)));
        assert!(out.is_empty());
    }
}
