//! Errors of loading a config: unreadable file, malformed JSON, or schema violations.
//!
//! Schema violations are reported all at once, one line per problem, in the format the
//! CloudWatch agent prints: `Under path : /metrics/metrics_collected/cpu | Error : ...`.

use std::fmt;

/// One validation problem at one JSON path (`/a/b/1`; the root is `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub message: String,
}

impl PathError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        PathError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Under path : {} | Error : {}", self.path, self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {source_name}: {error}")]
    Read {
        source_name: String,
        #[source]
        error: std::io::Error,
    },
    /// The text is not JSON.
    #[error("Invalid Json input in {source_name}: {message} at line {line}, column {column}")]
    Syntax {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON does not follow the schema; every problem found is listed.
    #[error("{}", render_schema_errors(source_name, errors))]
    Schema {
        source_name: String,
        errors: Vec<PathError>,
    },
}

impl ConfigError {
    /// The schema problems (empty for read and syntax errors).
    pub fn errors(&self) -> &[PathError] {
        match self {
            ConfigError::Schema { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The file name or label the config came from.
    pub fn source_name(&self) -> &str {
        match self {
            ConfigError::Read { source_name, .. }
            | ConfigError::Syntax { source_name, .. }
            | ConfigError::Schema { source_name, .. } => source_name,
        }
    }
}

fn render_schema_errors(source_name: &str, errors: &[PathError]) -> String {
    let mut out = format!("Invalid Json input schema in {source_name}:");
    for e in errors {
        out.push('\n');
        out.push_str(&e.to_string());
    }
    out
}
