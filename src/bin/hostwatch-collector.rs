//! `hostwatch-collector`: thin main. Parses flags, loads the config, runs until SIGTERM/SIGINT
//! (or, with `--validate`, only checks the config: exit 0 valid, 2 invalid).

use anyhow::Context;
use clap::Parser;
use hostwatch_collector::clock::SystemClock;
use hostwatch_collector::config::{CollectorConfig, TlsConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The hostwatch collector: CloudWatch and CloudWatch Logs APIs on one port.
#[derive(Debug, Parser)]
#[command(name = "hostwatch-collector", version)]
struct Args {
    /// Configuration file (TOML).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Listen address (default 127.0.0.1:4590).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// TLS certificate (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Check the config file and the TLS files, print the effective settings, and exit:
    /// 0 valid, 2 invalid.
    #[arg(long)]
    validate: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.validate {
        return match effective_config(args).and_then(|c| validate(&c)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::from(2)
            }
        };
    }
    match serve_until_signal(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The config file with the flags applied.
fn effective_config(args: Args) -> anyhow::Result<CollectorConfig> {
    let mut config = match &args.config {
        Some(p) => CollectorConfig::load(p)?,
        None => CollectorConfig::default(),
    };
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsConfig { cert, key });
    }
    Ok(config)
}

/// `--validate`: what can be checked without binding the port or opening the store.
fn validate(config: &CollectorConfig) -> anyhow::Result<()> {
    if let Some(tls) = &config.tls {
        for f in [&tls.cert, &tls.key] {
            std::fs::File::open(f).with_context(|| format!("cannot read {}", f.display()))?;
        }
    }
    println!(
        "configuration valid: listen {}, data directory {}{}",
        config.listen,
        config.data_dir.display(),
        if config.tls.is_some() { ", TLS" } else { "" }
    );
    Ok(())
}

fn serve_until_signal(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = effective_config(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(config))
}

async fn run(config: CollectorConfig) -> anyhow::Result<()> {
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let data_dir = config.data_dir.clone();
    let running = hostwatch_collector::serve(config, Arc::new(SystemClock))
        .await
        .context("cannot start the collector")?;
    println!(
        "hostwatch-collector listening on {scheme}://{}",
        running.addr
    );
    if let Some(file) = &running.credentials_file {
        if running.generated_credentials.is_some() {
            println!(
                "generated an admin key pair in {} (profile [hostwatch])",
                file.display()
            );
        } else {
            println!(
                "admin credentials: {} (profile [hostwatch])",
                file.display()
            );
        }
    }
    println!("data directory: {}", data_dir.display());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => { r.context("cannot wait for SIGINT")?; }
    }
    tracing::info!("Shutting down.");
    running.shutdown(std::time::Duration::from_secs(5)).await?;
    Ok(())
}
