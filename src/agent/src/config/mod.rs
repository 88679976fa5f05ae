//! The CloudWatch agent's JSON configuration: loading, validation, defaults.
//!
//! [`load_file`] / [`load_str`] parse the JSON, walk it with a hand-written validator that
//! follows the CloudWatch agent's schema (types, ranges, lengths, enums, unique items,
//! required and unknown fields, measurement names) and reports **every** problem with its JSON
//! path, then build the validated [`AgentConfig`] (see [`types`]) with every default applied.
//!
//! Beyond the CloudWatch agent, regular expressions (`filters[].expression`,
//! `multi_line_start_pattern`, `blacklist`, procstat `exe` / `pattern`) and `encoding` are
//! checked at load time, not when the first line is read. Patterns are stored in the form the
//! `regex` crate accepts (see [`pattern`]).
//!
//! Features that are valid CloudWatch agent config but not built in this agent (for example
//! `nvidia_gpu`, journald, EMF, traces) are accepted and named in one startup warning
//! ([`Loaded::startup_warning`]).

mod agent;
pub mod error;
pub mod logs;
pub mod measurements;
mod metrics;
pub mod pattern;
mod plugins;
pub mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use error::{ConfigError, PathError};
pub use types::*;

use serde_json::Value;
use std::path::Path;
use validate::{Ctx, JsonPath, Obj};

/// A validated config and what the operator should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: AgentConfig,
    /// One line each, `Under path : <path> | Warning : <message>`: unknown `agent` or root
    /// keys, unknown units, ignored options, ...
    pub warnings: Vec<String>,
    /// JSON paths outside `metrics` and `logs` that are accepted but not built in this agent
    /// (e.g. `/traces`, `/agent/hostname`). The paths inside those sections are in
    /// [`MetricsCollected::unsupported`] and [`LogsSection::unsupported`].
    pub unsupported: Vec<String>,
}

impl Loaded {
    /// Everything the operator should see at start-up: [`Loaded::warnings`] followed by the
    /// [`Loaded::startup_warning`], one line each.
    pub fn all_warnings(&self) -> Vec<String> {
        let mut out = self.warnings.clone();
        out.extend(self.startup_warning());
        out
    }

    /// Every accepted-but-not-built feature, in one line, or `None` when there is none.
    pub fn startup_warning(&self) -> Option<String> {
        let mut paths: Vec<&str> = self.unsupported.iter().map(String::as_str).collect();
        if let Some(m) = &self.config.metrics {
            paths.extend(m.metrics_collected.unsupported.iter().map(String::as_str));
        }
        if let Some(l) = &self.config.logs {
            paths.extend(l.unsupported.iter().map(String::as_str));
        }
        if paths.is_empty() {
            return None;
        }
        Some(format!(
            "these config features are accepted but not supported by this agent yet, and have no effect: {}",
            paths.join(", ")
        ))
    }
}

/// Reads and validates a config file.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigError> {
    let source = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        source_name: source.clone(),
        error,
    })?;
    load_str(&text, &source)
}

/// Validates config text; `source` names it in errors (usually the file name).
pub fn load_str(text: &str, source: &str) -> Result<Loaded, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| syntax_error(&e, source))?;
    load_value(&value, source)
}

/// Validates an already parsed config.
pub fn load_value(value: &Value, source: &str) -> Result<Loaded, ConfigError> {
    let mut ctx = Ctx::default();
    let config = walk_root(&mut ctx, value);
    if ctx.has_errors() {
        return Err(ConfigError::Schema {
            source_name: source.to_string(),
            errors: ctx.errors,
        });
    }
    let mut config = config;
    let mut other = Vec::new();
    for path in ctx.unsupported {
        if let (true, Some(m)) = (path.starts_with("/metrics/"), config.metrics.as_mut()) {
            m.metrics_collected.unsupported.push(path);
        } else if let (true, Some(l)) = (path.starts_with("/logs/"), config.logs.as_mut()) {
            l.unsupported.push(path);
        } else {
            other.push(path);
        }
    }
    Ok(Loaded {
        config,
        warnings: ctx.warnings,
        unsupported: other,
    })
}

fn syntax_error(e: &serde_json::Error, source: &str) -> ConfigError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    ConfigError::Syntax {
        source_name: source.to_string(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

fn walk_root(ctx: &mut Ctx, value: &Value) -> AgentConfig {
    let mut config = AgentConfig::default();
    let Some(root) = Obj::new(ctx, JsonPath::root(), value) else {
        return config;
    };
    for (key, v) in root.map {
        let path = root.path.key(key);
        match key.as_str() {
            "agent" => config.agent = agent::section(ctx, path, v),
            "metrics" => config.metrics = metrics::section(ctx, path, v),
            "logs" => config.logs = logs::section(ctx, path, v),
            "traces" | "opentelemetry" => {
                if Obj::new(ctx, path.clone(), v).is_some() {
                    ctx.unsupported(&path);
                }
            }
            _ => ctx.warn(&path, format!("unknown field {key} is ignored")),
        }
    }
    skip_own_logfile_timestamp(ctx, &mut config);
    if config.metrics.is_none() && config.logs.is_none() && !ctx.has_errors() {
        ctx.warn(
            &root.path,
            "neither metrics nor logs is configured, so the agent has nothing to collect",
        );
    }
    config
}

/// Like the CloudWatch agent, ignore `timestamp_format` on an entry that tails the agent's own
/// `logfile`.
fn skip_own_logfile_timestamp(ctx: &mut Ctx, config: &mut AgentConfig) {
    let (Some(logfile), Some(logs)) = (&config.agent.logfile, config.logs.as_mut()) else {
        return;
    };
    let list = JsonPath::root()
        .key("logs")
        .key("logs_collected")
        .key("files")
        .key("collect_list");
    for (i, entry) in logs.files.iter_mut().enumerate() {
        if &entry.file_path == logfile && entry.timestamp_format.take().is_some() {
            ctx.warn(
                &list.index(i).key("timestamp_format"),
                "timestamp_format is ignored for the agent's own log file",
            );
        }
    }
}
