//! `hostwatch`: the operator's command line. Thin main over the `hostwatch-cli` crate; see
//! `hostwatch --help`.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// hostwatch: operate the agent and the collector.
#[derive(Debug, Parser)]
#[command(name = "hostwatch", version)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start a collector on the embedded store and an agent shipping this host's cpu and mem
    /// metrics to it, then print AWS CLI lines to look at the data. Ctrl-C stops both.
    Demo {
        /// Where the collector keeps its data and credentials.
        #[arg(long, default_value = "hostwatch-demo")]
        data_dir: PathBuf,
        /// Collector listen address.
        #[arg(long, default_value = "127.0.0.1:4590")]
        listen: SocketAddr,
        /// Stop by itself after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        duration: Option<u64>,
    },
    /// Manage the agent's config and service, as amazon-cloudwatch-agent-ctl does.
    Ctl(hostwatch_cli::ctl::CtlArgs),
    /// Create an agent config by answering the CloudWatch agent wizard's questions.
    ConfigWizard(hostwatch_cli::wizard::WizardArgs),
    /// CloudWatch Logs commands.
    Logs {
        #[command(subcommand)]
        command: LogsCmd,
    },
}

#[derive(Debug, Subcommand)]
enum LogsCmd {
    /// Print a log group's recent events; with --follow keep printing new ones (Live Tail).
    Tail {
        /// The log group name.
        group: String,
        /// Keep printing events as they are ingested, until Ctrl-C.
        #[arg(long)]
        follow: bool,
        /// Only events matching this filter pattern.
        #[arg(long)]
        filter: Option<String>,
        /// How far back to start: a number with unit s, m, h, d or w.
        #[arg(long, default_value = "10m")]
        since: String,
        /// Endpoint URL (e.g. http://127.0.0.1:4590); default: the region's AWS endpoint.
        #[arg(long)]
        endpoint: Option<String>,
        /// Profile of the shared credentials file.
        #[arg(long)]
        profile: Option<String>,
        /// Region (default AWS_REGION / AWS_DEFAULT_REGION).
        #[arg(long)]
        region: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Cmd::Demo {
            data_dir,
            listen,
            duration,
        } => hostwatch_cli::demo::run(&data_dir, listen, duration),
        Cmd::Ctl(args) => {
            if let Err(e) = hostwatch_cli::ctl::run(&args) {
                eprintln!("{e:#}");
                std::process::exit(1);
            }
            Ok(())
        }
        Cmd::ConfigWizard(args) => Ok(hostwatch_cli::wizard::run(&args)?),
        Cmd::Logs {
            command:
                LogsCmd::Tail {
                    group,
                    follow,
                    filter,
                    since,
                    endpoint,
                    profile,
                    region,
                },
        } => hostwatch_cli::logs_tail::run(hostwatch_cli::logs_tail::TailOptions {
            group,
            follow,
            filter,
            since_ms: hostwatch_cli::logs_tail::parse_since(&since)?,
            endpoint,
            profile,
            region,
        }),
    }
}
