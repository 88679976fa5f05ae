//! The hostwatch agent.

pub mod config;
