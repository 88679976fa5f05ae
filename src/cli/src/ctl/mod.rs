//! `hostwatch ctl`: the CloudWatch agent's `amazon-cloudwatch-agent-ctl`, for hostwatch.
//!
//! `hostwatch ctl -a ACTION [-m ec2|onPremise|auto] [-c default|all|file:PATH|ssm:NAME] [-s]`
//! with actions `fetch-config` (replace every config with this one), `append-config` (add or
//! replace this one), `remove-config` (remove this one, or `all`), `validate`, `start`, `stop`,
//! `status`, `set-log-level -l DEBUG|INFO|WARN|ERROR|OFF` and `set-env -e KEY=VALUE` (`KEY=`
//! removes it). One file per concern: [`paths`], [`source`] (sources, file names, the default
//! config), [`mode`], [`merge`] (the multi-file rules), [`config`] (the fetch / append /
//! remove / validate pipeline), [`env`] (the agent's environment file), [`service`] (systemd
//! or a pid file), [`status`].
//!
//! Where this ctl differs from the CloudWatch agent's, on purpose: `file:` sources need no
//! region or credentials; `ssm:` sources can come from any endpoint; a failed validation
//! prints its errors (every one, with the JSON path and the file) and changes nothing on disk;
//! merge conflicts name both files; `start` reports an agent that exits at once, with the end
//! of its log; hosts without systemd are served with a pid file instead of "not supported";
//! `-m` defaults to `auto`.

pub mod config;
pub mod env;
pub mod merge;
pub mod mode;
pub mod paths;
pub mod service;
pub mod source;
pub mod status;

use anyhow::bail;
use clap::Args;
use std::path::PathBuf;

use mode::ModeArg;
use paths::Paths;
use service::Init;
use source::Source;

/// `hostwatch ctl` flags.
#[derive(Debug, Clone, Args)]
pub struct CtlArgs {
    /// fetch-config | append-config | remove-config | validate | start | stop | status |
    /// set-log-level | set-env
    #[arg(short = 'a', long = "action")]
    pub action: String,
    /// Log level for set-log-level: DEBUG | INFO | WARN | ERROR | OFF
    #[arg(short = 'l', long = "log-level")]
    pub log_level: Option<String>,
    /// KEY=VALUE for set-env (KEY= removes KEY); may be repeated
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// ec2 | onPremise | auto
    #[arg(short = 'm', long = "mode", default_value = "auto")]
    pub mode: String,
    /// default | all | file:PATH | ssm:NAME
    #[arg(short = 'c', long = "config")]
    pub config: Option<String>,
    /// Restart the agent after a config action.
    #[arg(short = 's', long = "restart")]
    pub restart: bool,
    /// Config directory (env HOSTWATCH_CONFIG_DIR; default /etc/hostwatch-agent).
    #[arg(long)]
    pub config_dir: Option<PathBuf>,
    /// The agent's state directory (env HOSTWATCH_STATE_DIR; default /var/lib/hostwatch-agent).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// The agent binary (env HOSTWATCH_AGENT_BIN; default: next to hostwatch, else PATH).
    #[arg(long)]
    pub agent_bin: Option<PathBuf>,
    /// SSM endpoint for ssm: sources (env HOSTWATCH_SSM_ENDPOINT; default: the merged
    /// config's endpoint_override, else the region's AWS endpoint).
    #[arg(long)]
    pub ssm_endpoint: Option<String>,
    /// Region for ssm: sources (default: the merged config's agent.region, else AWS_REGION /
    /// AWS_DEFAULT_REGION, else the instance metadata in ec2 mode).
    #[arg(long)]
    pub region: Option<String>,
    /// systemd | direct (env HOSTWATCH_CTL_INIT; default: systemd when it runs and the unit is
    /// installed).
    #[arg(long)]
    pub init: Option<String>,
}

/// Run one ctl action; errors are printed by the caller and exit 1.
pub fn run(args: &CtlArgs) -> anyhow::Result<()> {
    let mode = ModeArg::parse(&args.mode)?;
    let paths = Paths::resolve(
        args.config_dir.clone(),
        args.state_dir.clone(),
        args.agent_bin.clone(),
    );
    let source = args.config.as_deref().map(Source::parse).transpose()?;
    let fetch = config::FetchOptions {
        ssm_endpoint: args.ssm_endpoint.clone(),
        region: args.region.clone(),
    };
    let action = args.action.as_str();
    match action {
        "fetch-config" | "append-config" | "remove-config" => {
            let Some(source) = source else {
                bail!("-a {action} needs -c default|file:PATH|ssm:NAME");
            };
            let op = match action {
                "fetch-config" => config::Op::Replace,
                "append-config" => config::Op::Append,
                _ => config::Op::Remove,
            };
            config::apply(&paths, op, &source, mode, &fetch)?;
            if args.restart {
                restart(args, &paths)?;
            }
            Ok(())
        }
        "validate" => {
            config::validate_dir(&paths)?;
            Ok(())
        }
        "start" => {
            if !paths.merged().exists() {
                println!("No configuration yet: applying -c default.");
                config::apply(&paths, config::Op::Replace, &Source::Default, mode, &fetch)?;
            }
            service::start(Init::detect(args.init.as_deref())?, &paths)
        }
        "stop" => service::stop(Init::detect(args.init.as_deref())?, &paths),
        "set-log-level" | "set-env" => {
            let changes: Vec<(String, Option<String>)> = if action == "set-log-level" {
                let Some(level) = args.log_level.as_deref() else {
                    bail!("-a set-log-level needs -l {}", env::LEVELS.join("|"));
                };
                vec![(
                    env::LOG_LEVEL.to_string(),
                    Some(env::parse_level(level)?.to_string()),
                )]
            } else {
                if args.env.is_empty() {
                    bail!("-a set-env needs -e KEY=VALUE (or -e KEY= to remove KEY)");
                }
                args.env
                    .iter()
                    .map(|e| env::parse_assignment(e))
                    .collect::<anyhow::Result<_>>()?
            };
            let file = paths.env_file();
            for (k, v) in &changes {
                env::set(&file, k, v.as_deref())?;
                match v {
                    Some(v) => println!("{k}={v} written to {}", file.display()),
                    None => println!("{k} removed from {}", file.display()),
                }
            }
            if args.restart {
                restart(args, &paths)
            } else {
                println!("The agent reads it when it starts: restart it (-s) to apply.");
                Ok(())
            }
        }
        "status" => {
            let init = Init::detect(args.init.as_deref())?;
            let pid = service::running_pid(init, &paths);
            let s = status::Status {
                running: pid.is_some(),
                start_time: pid.and_then(status::process_start),
                configured: paths.merged().exists(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            };
            println!("{}", s.render());
            Ok(())
        }
        other => bail!(
            "unknown action {other:?}: use fetch-config, append-config, remove-config, validate, \
             start, stop, status, set-log-level or set-env"
        ),
    }
}

fn restart(args: &CtlArgs, paths: &Paths) -> anyhow::Result<()> {
    if !paths.merged().exists() {
        return service::stop(Init::detect(args.init.as_deref())?, paths);
    }
    service::start(Init::detect(args.init.as_deref())?, paths)
}
