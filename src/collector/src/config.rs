//! Collector configuration (TOML).
//!
//! ```toml
//! listen = "127.0.0.1:4590"
//! data_dir = "/var/lib/hostwatch-collector"
//! region = "us-east-1"
//! account_id = "000000000000"
//! max_body_bytes = 10485760        # after gzip inflation too
//! max_inflight_requests = 64       # API requests read and served at once; others wait
//! export_dir = "/srv/log-exports"  # CreateExportTask buckets; default DATA_DIR/exports
//!
//! [tls]                            # optional
//! cert = "/etc/hostwatch/cert.pem"
//! key = "/etc/hostwatch/key.pem"
//!
//! [[keys]]                         # with none, a key pair is generated on first start
//! access_key_id = "AKIA..."
//! secret_access_key = "..."
//!
//! [events]                         # optional
//! target_ca_bundle = "/etc/hostwatch/targets-ca.pem"  # extra CAs for https:// HTTP targets
//! ```
//! Command-line flags override the file. Unknown fields are an error.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4590";

/// Largest request body accepted, before and after gzip inflation.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// API requests read and served at once. Bodies are buffered whole, so this bounds the memory
/// requests can take (about this many times `max_body_bytes` at worst); later requests wait.
pub const DEFAULT_MAX_INFLIGHT: usize = 64;

/// One configured access key.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// TLS files.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The whole collector configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CollectorConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_account")]
    pub account_id: String,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    #[serde(default = "default_max_inflight")]
    pub max_inflight_requests: usize,
    /// Root of the CreateExportTask "buckets" (one directory each); `None`: `DATA_DIR/exports`.
    #[serde(default)]
    pub export_dir: Option<PathBuf>,
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    #[serde(default)]
    pub events: EventsConfig,
}

/// `[events]`: event routing options.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EventsConfig {
    /// A PEM bundle of CA certificates trusted for `https://` HTTP targets, besides the
    /// WebPKI roots (e.g. an internal CA or a self-signed endpoint).
    #[serde(default)]
    pub target_ca_bundle: Option<PathBuf>,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4590))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/hostwatch-collector")
}
fn default_region() -> String {
    "us-east-1".to_string()
}
fn default_account() -> String {
    "000000000000".to_string()
}
fn default_max_body() -> usize {
    DEFAULT_MAX_BODY
}
fn default_max_inflight() -> usize {
    DEFAULT_MAX_INFLIGHT
}

impl Default for CollectorConfig {
    fn default() -> Self {
        CollectorConfig {
            listen: default_listen(),
            data_dir: default_data_dir(),
            region: default_region(),
            account_id: default_account(),
            max_body_bytes: DEFAULT_MAX_BODY,
            max_inflight_requests: DEFAULT_MAX_INFLIGHT,
            export_dir: None,
            tls: None,
            keys: Vec::new(),
            events: EventsConfig::default(),
        }
    }
}

/// The configuration file could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

impl CollectorConfig {
    /// Where CreateExportTask writes: `export_dir`, else `DATA_DIR/exports`.
    pub fn export_dir(&self) -> PathBuf {
        self.export_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("exports"))
    }

    /// Parse TOML text.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Read and parse a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_fields() {
        let c = CollectorConfig::from_toml(
            "listen = \"127.0.0.1:9999\"\n[[keys]]\naccess_key_id = \"A\"\nsecret_access_key = \"B\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9999);
        assert_eq!(c.keys.len(), 1);
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.events.target_ca_bundle, None);
        let c = CollectorConfig::from_toml(
            "[events]\ntarget_ca_bundle = \"/etc/ca.pem\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        assert_eq!(
            c.events.target_ca_bundle.as_deref(),
            Some(Path::new("/etc/ca.pem"))
        );
        assert_eq!(c.export_dir(), c.data_dir.join("exports"));
        let c = CollectorConfig::from_toml("export_dir = \"/x/e\"\n", Path::new("x.toml")).unwrap();
        assert_eq!(c.export_dir(), PathBuf::from("/x/e"));
        let e = CollectorConfig::from_toml("lisen = \"x\"", Path::new("x.toml")).unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
    }
}
