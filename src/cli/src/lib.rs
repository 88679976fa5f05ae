//! The operator's command line (`hostwatch`), one module per command. The binary
//! (`src/bin/hostwatch.rs`) only parses flags and calls into these modules, so every command can
//! be tested without spawning the binary.

pub mod ctl;
pub mod demo;
pub mod logs_tail;
pub mod wizard;
