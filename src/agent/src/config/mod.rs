//! The CloudWatch agent's JSON configuration: loading, validation, defaults.
//!
//! See [`types`] for the validated result.

pub mod types;

pub use types::*;
