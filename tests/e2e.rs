//! End-to-end tests: the real binaries on loopback, driven by real clients (AWS CLI, boto3).
//!
//! These need `aws` (the AWS CLI from PyPI) and `boto3` on the machine; `.ci/run` installs them.

#[path = "e2e/util.rs"]
mod util;

#[path = "e2e/agent_to_cli.rs"]
mod agent_to_cli;
#[path = "e2e/auth.rs"]
mod auth;
#[path = "e2e/durability.rs"]
mod durability;
#[path = "e2e/logs_cli.rs"]
mod logs_cli;
#[path = "e2e/metrics_cli.rs"]
mod metrics_cli;
#[path = "e2e/protocols.rs"]
mod protocols;
