//! `hostwatch-agent`: thin main. Parses flags, loads the config, then runs the daemon (or the
//! one-shot `--once` mode, or only checks the config with `--validate`). Exit codes: 0 success,
//! 1 runtime failure, 2 invalid config.

use anyhow::Context;
use clap::Parser;
use hostwatch_agent::config::{self, AgentConfig};
use hostwatch_agent::run::{self, RunOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The hostwatch agent: collects host metrics and ships them to CloudWatch.
#[derive(Debug, Parser)]
#[command(name = "hostwatch-agent", version)]
struct Args {
    /// The CloudWatch agent JSON configuration file.
    #[arg(long)]
    config: PathBuf,
    /// State directory.
    #[arg(long, default_value = "/var/lib/hostwatch-agent")]
    state_dir: PathBuf,
    /// Sample twice one second apart, print the datapoints as JSON lines, and exit.
    #[arg(long)]
    once: bool,
    /// Check the config (every error with its JSON path) and exit: 0 valid, 2 invalid.
    #[arg(long, conflicts_with = "once")]
    validate: bool,
}

fn log_warnings(loaded: &config::Loaded) {
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    if let Some(w) = loaded.startup_warning() {
        tracing::warn!("{w}");
    }
}

fn load(path: &Path) -> Result<AgentConfig, config::ConfigError> {
    let loaded = config::load_file(path)?;
    log_warnings(&loaded);
    Ok(loaded.config)
}

fn init_logging(debug: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if debug {
            "info,hostwatch_agent=debug"
        } else {
            "info"
        })
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    let loaded = match config::load_file(&args.config) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if args.validate {
        for w in loaded.all_warnings() {
            eprintln!("{w}");
        }
        println!("configuration valid: {}", args.config.display());
        return ExitCode::SUCCESS;
    }
    init_logging(loaded.config.agent.debug);
    log_warnings(&loaded);
    let config = loaded.config;
    match start(args, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args, config: AgentConfig) -> anyhow::Result<()> {
    if let Err(e) = std::fs::create_dir_all(&args.state_dir) {
        if args.once {
            tracing::warn!("cannot create state dir {}: {e}", args.state_dir.display());
        } else {
            return Err(e)
                .with_context(|| format!("cannot create state dir {}", args.state_dir.display()));
        }
    }
    let options = RunOptions {
        state_dir: args.state_dir.clone(),
        ..RunOptions::default()
    };
    if args.once {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        run::once(&config, &options, &mut out).context("one-shot sampling failed")?;
        return Ok(());
    }
    let path = args.config.clone();
    let reload: run::ReloadFn = Box::new(move || load(&path).map_err(|e| e.to_string()));
    run::run(config, options, reload).context("agent failed")?;
    Ok(())
}
