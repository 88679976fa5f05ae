//! `hostwatch-agent`: thin main. Parses flags, loads the config (a file, or `ssm:NAME` from the
//! Parameter Store, watched and hot-reloaded: see `hostwatch_agent::fleet`), then runs the
//! daemon (or the one-shot `--once` mode, or only checks the config with `--validate`). Exit
//! codes: 0 success, 1 runtime failure, 2 invalid or unobtainable config.

use anyhow::Context;
use clap::Parser;
use hostwatch_agent::config::{self, AgentConfig};
use hostwatch_agent::fleet::{self, ConfigSource};
use hostwatch_agent::logging;
use hostwatch_agent::run::{self, RunOptions};
use hostwatch_agent::ship::ssm::SsmClient;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The hostwatch agent: collects host metrics and ships them to CloudWatch.
#[derive(Debug, Parser)]
#[command(name = "hostwatch-agent", version)]
struct Args {
    /// The CloudWatch agent JSON configuration: a file (`PATH` or `file:PATH`), or `ssm:NAME`, a
    /// Parameter Store parameter that is watched and reloaded when its version changes.
    #[arg(long)]
    config: String,
    /// The SSM endpoint for `--config ssm:NAME` (e.g. `http://collector:4590`); default: env
    /// `HOSTWATCH_SSM_ENDPOINT`, else the cached config's `metrics.endpoint_override` or
    /// `logs.endpoint_override`, else the region's AWS endpoint.
    #[arg(long)]
    ssm_endpoint: Option<String>,
    /// Seconds between two checks of the `ssm:` parameter's version.
    #[arg(long, default_value_t = 60)]
    ssm_poll_secs: u64,
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
    let level = std::env::var(logging::LEVEL_ENV).ok();
    let (directive, unknown) = logging::directive(level.as_deref(), debug);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directive));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    if let Some(l) = unknown {
        tracing::warn!(
            "{}={l:?} is not a log level (DEBUG, INFO, WARN, ERROR, OFF): ignored",
            logging::LEVEL_ENV
        );
    }
}

/// Where an `ssm:` config comes from, resolved once at start.
struct SsmSource {
    name: String,
    endpoint: Option<String>,
    region: String,
    cache: PathBuf,
}

fn ssm_source(args: &Args, name: &str) -> anyhow::Result<SsmSource> {
    let cache = fleet::cache_path(&args.state_dir, name);
    let cached = fleet::read_cache(&cache)
        .and_then(|(text, _)| config::load_str(&text, "cache").ok())
        .map(|l| l.config);
    let endpoint = args
        .ssm_endpoint
        .clone()
        .or_else(|| std::env::var("HOSTWATCH_SSM_ENDPOINT").ok())
        .or_else(|| {
            let c = cached.as_ref()?;
            c.metrics
                .as_ref()
                .and_then(|m| m.endpoint_override.clone())
                .or_else(|| c.logs.as_ref().and_then(|l| l.endpoint_override.clone()))
        });
    let configured = cached.as_ref().and_then(|c| c.agent.region.clone());
    let env = |k: &str| std::env::var(k).ok();
    let region = hostwatch_agent::ship::endpoint::static_region(configured.as_deref(), &env)
        .context("no AWS region for the Parameter Store: set AWS_REGION")?;
    Ok(SsmSource {
        name: name.to_string(),
        endpoint,
        region,
        cache,
    })
}

/// Fetch (or read the cache of) an `ssm:` config at start.
fn fetch_ssm(source: &SsmSource) -> anyhow::Result<(config::Loaded, i64)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = SsmClient::from_env(source.endpoint.as_deref(), &source.region)?;
        Ok(fleet::fetch_initial(&client, &source.name, &source.cache).await?)
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (loaded, ssm) = match ConfigSource::parse(&args.config) {
        ConfigSource::File(path) => match config::load_file(&path) {
            Ok(l) => (l, None),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
        ConfigSource::Ssm(name) => {
            match ssm_source(&args, &name).and_then(|s| fetch_ssm(&s).map(|f| (f, s))) {
                Ok(((l, version), s)) => (l, Some((s, version))),
                Err(e) => {
                    eprintln!("{e:#}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    if args.validate {
        for w in loaded.all_warnings() {
            eprintln!("{w}");
        }
        println!("configuration valid: {}", args.config);
        return ExitCode::SUCCESS;
    }
    init_logging(loaded.config.agent.debug);
    log_warnings(&loaded);
    let config = loaded.config;
    match start(args, config, ssm) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args, config: AgentConfig, ssm: Option<(SsmSource, i64)>) -> anyhow::Result<()> {
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
    let Some((source, version)) = ssm else {
        let path = PathBuf::from(args.config.strip_prefix("file:").unwrap_or(&args.config));
        let reload: run::ReloadFn = Box::new(move || load(&path).map_err(|e| e.to_string()));
        run::run(config, options, reload).context("agent failed")?;
        return Ok(());
    };
    tracing::info!(
        "configuration from parameter {} version {version}, checked every {} s",
        source.name,
        args.ssm_poll_secs
    );
    let cache = source.cache.clone();
    let reload: run::ReloadFn = Box::new(move || load(&cache).map_err(|e| e.to_string()));
    let interval = Duration::from_secs(args.ssm_poll_secs.max(1));
    let watch: run::ControlSource =
        Box::new(
            move |tx| match SsmClient::from_env(source.endpoint.as_deref(), &source.region) {
                Ok(client) => {
                    let w =
                        fleet::Watcher::new(client, &source.name, source.cache, version, interval);
                    tokio::spawn(w.run(tx));
                }
                Err(e) => tracing::error!("parameter {} will not be watched: {e}", source.name),
            },
        );
    run::run_with(config, options, reload, Some(watch)).context("agent failed")?;
    Ok(())
}
