//! Shipping datums to CloudWatch (or a hostwatch collector): credentials, instance metadata,
//! the SSM Parameter Store client (`ssm`),
//! endpoint and region, PutMetricData with batching, compression, signing and retries.
//!
//! Everything that reads the environment takes a lookup function ([`credentials::EnvLookup`])
//! instead of reading the process environment, so tests are hermetic.

pub mod aws_error;
pub mod backoff;
pub mod credentials;
pub mod endpoint;
pub mod imds;
pub mod logs;
pub mod metrics;
pub mod signed;
pub mod ssm;

#[cfg(test)]
pub(crate) mod test_server;

pub use credentials::{CredentialProvider, EnvLookup};
pub use endpoint::Endpoint;
pub use imds::ImdsClient;
pub use metrics::{MetricsClient, ShipError};
