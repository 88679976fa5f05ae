//! End-to-end tests: the real binaries on loopback, driven by real clients (AWS CLI, boto3).
//!
//! These need `aws` (the AWS CLI from PyPI) and `boto3` on the machine; `.ci/run` installs them.
//! Test harness code: a failed setup step should fail the test loudly, so panicking is fine here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "e2e/util.rs"]
mod util;

#[path = "e2e/agent_to_cli.rs"]
mod agent_to_cli;
#[path = "e2e/alarms.rs"]
mod alarms;
#[path = "e2e/all_plugins.rs"]
mod all_plugins;
#[path = "e2e/auth.rs"]
mod auth;
#[path = "e2e/collectd.rs"]
mod collectd;
#[path = "e2e/ctl.rs"]
mod ctl;
#[path = "e2e/dashboard.rs"]
mod dashboard;
#[path = "e2e/demo.rs"]
mod demo;
#[path = "e2e/durability.rs"]
mod durability;
#[path = "e2e/events.rs"]
mod events;
#[path = "e2e/fleet.rs"]
mod fleet;
#[path = "e2e/logs_agent.rs"]
mod logs_agent;
#[path = "e2e/logs_cli.rs"]
mod logs_cli;
#[path = "e2e/logs_filters.rs"]
mod logs_filters;
#[path = "e2e/logs_insights.rs"]
mod logs_insights;
#[path = "e2e/logs_live.rs"]
mod logs_live;
#[path = "e2e/metric_math.rs"]
mod metric_math;
#[path = "e2e/metrics_cli.rs"]
mod metrics_cli;
#[path = "e2e/node_exporter.rs"]
mod node_exporter;
#[path = "e2e/protocols.rs"]
mod protocols;
#[path = "e2e/ssm_cli.rs"]
mod ssm_cli;
#[path = "e2e/statsd.rs"]
mod statsd;
#[path = "e2e/tls.rs"]
mod tls;
#[path = "e2e/wizard.rs"]
mod wizard;
