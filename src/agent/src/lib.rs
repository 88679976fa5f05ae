//! The hostwatch agent.
//!
//! - [`config`]: the CloudWatch agent's JSON configuration, validated;
//! - [`collect`]: host metric plugins (one file per plugin) producing CloudWatch datums;
//! - [`ship`]: credentials, instance metadata and the PutMetricData client;
//! - [`logs`]: log file tailing, batching, the on-disk spool and PutLogEvents delivery;
//! - [`run`]: the daemon loop and the `--once` mode;
//! - [`fleet`]: configs kept in the SSM Parameter Store (`--config ssm:NAME`), watched and
//!   hot-reloaded;
//! - [`statsd`]: the StatsD listener and its metric source;
//! - [`collectd`]: the collectd network-protocol receiver and its metric source.

pub mod collect;
pub mod collectd;
pub mod config;
pub mod fleet;
pub mod logging;
pub mod logs;
pub mod run;
pub mod ship;
pub mod statsd;
pub mod wake;
