//! The hostwatch collector.
//!
//! One HTTP listener serves every service (see `hostwatch_aws::protocol` for routing). A request
//! goes through [`server`]: size cap, SigV4 authentication ([`auth`]), gzip inflation (after the
//! signature check, capped), protocol decoding, then the service's handler in [`api`], whose data
//! lives in [`store`]. Replies are rendered in the request's own protocol.

pub mod alarms;
pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod events;
pub mod insights;
pub mod logs_pattern;
pub mod server;
pub mod store;

pub use config::CollectorConfig;
pub use server::{serve, AppState, CollectorError, Running};
