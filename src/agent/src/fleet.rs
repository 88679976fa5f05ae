//! Fleet configuration: an agent whose config lives in the SSM Parameter Store
//! (`hostwatch-agent --config ssm:NAME`) fetches it at start, then watches the parameter's
//! version and reloads when it changes.
//!
//! Design:
//! - The parameter's value is the whole CloudWatch agent JSON config. At start it is fetched
//!   (`GetParameter`, `WithDecryption`), validated with the agent's own loader and written to a
//!   cache in the state directory (`STATE_DIR/fleet/ssm_<escaped name>.json` and `.version`,
//!   each written to a temporary file and renamed). When the endpoint cannot be reached at
//!   start, the cached copy is used, so a host reboots into its last known config while the
//!   collector is down. An unknown parameter is a startup error, as is an invalid config.
//! - A watcher task polls `GetParameter` every interval (default 60 s). When the version
//!   differs from the one running, the new value is validated; a valid one replaces the cache
//!   and asks the daemon for a reload ([`Control::Reload`]), which is the same path as SIGHUP,
//!   so log files are resumed from their checkpoints and no line is lost or sent twice. An
//!   invalid one is logged once per version and the running config is kept. Poll failures
//!   (network, throttling, credentials, the parameter deleted) keep the running config and are
//!   logged when they start and when they end. The endpoint and region are resolved once, at
//!   start.
//! - SIGHUP re-reads the cache (it does not fetch).

use crate::config::{self, ConfigError, Loaded};
use crate::run::Control;
use crate::ship::ssm::{SsmClient, SsmError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// Default poll interval.
pub const DEFAULT_POLL: Duration = Duration::from_secs(60);

/// Where an agent's config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A file (`PATH` or `file:PATH`).
    File(PathBuf),
    /// A Parameter Store parameter (`ssm:NAME`).
    Ssm(String),
}

impl ConfigSource {
    /// Parse a `--config` argument.
    pub fn parse(arg: &str) -> ConfigSource {
        if let Some(name) = arg.strip_prefix("ssm:") {
            ConfigSource::Ssm(name.to_string())
        } else {
            ConfigSource::File(PathBuf::from(arg.strip_prefix("file:").unwrap_or(arg)))
        }
    }
}

/// Why a fleet config could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("parameter {name}: {source}")]
    Fetch { name: String, source: SsmError },
    #[error("parameter {name} (version {version}): {source}")]
    Invalid {
        name: String,
        version: i64,
        source: ConfigError,
    },
    #[error("config cache {path}: {source}")]
    Cache {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A parameter name as a file name: `/` and anything but `[A-Za-z0-9._-]` become `_`, as the
/// CloudWatch agent names its `ssm_` files.
pub fn escape_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The cached config of parameter `name` under `state_dir`.
pub fn cache_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir
        .join("fleet")
        .join(format!("ssm_{}.json", escape_name(name)))
}

fn version_path(cache: &Path) -> PathBuf {
    cache.with_extension("version")
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FleetError> {
    let err = |source| FleetError::Cache {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// The cached config and its version, when there is one.
pub fn read_cache(cache: &Path) -> Option<(String, i64)> {
    let text = std::fs::read_to_string(cache).ok()?;
    let version = std::fs::read_to_string(version_path(cache))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some((text, version))
}

fn write_cache(cache: &Path, text: &str, version: i64) -> Result<(), FleetError> {
    write_atomic(cache, text.as_bytes())?;
    write_atomic(&version_path(cache), version.to_string().as_bytes())
}

/// The config of parameter `name`, fetched and cached (or, when the endpoint cannot be
/// reached, the cached copy), with its version.
pub async fn fetch_initial(
    client: &SsmClient,
    name: &str,
    cache: &Path,
) -> Result<(Loaded, i64), FleetError> {
    match client.get_parameter(name, true).await {
        Ok(p) => {
            let loaded = config::load_str(&p.value, &format!("ssm:{name}")).map_err(|source| {
                FleetError::Invalid {
                    name: name.to_string(),
                    version: p.version,
                    source,
                }
            })?;
            write_cache(cache, &p.value, p.version)?;
            Ok((loaded, p.version))
        }
        Err(e @ SsmError::Service { .. }) => Err(FleetError::Fetch {
            name: name.to_string(),
            source: e,
        }),
        Err(e) => match read_cache(cache) {
            Some((text, version)) => {
                tracing::warn!(
                    "parameter {name} cannot be fetched ({e}); starting with the cached version \
                     {version}"
                );
                let loaded =
                    config::load_str(&text, &cache.display().to_string()).map_err(|source| {
                        FleetError::Invalid {
                            name: name.to_string(),
                            version,
                            source,
                        }
                    })?;
                Ok((loaded, version))
            }
            None => Err(FleetError::Fetch {
                name: name.to_string(),
                source: e,
            }),
        },
    }
}

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// The version is the running one.
    Unchanged,
    /// A new valid version was cached: reload.
    Changed(i64),
    /// A new version does not load; the running config stays.
    Invalid(i64),
}

/// Watches one parameter.
#[derive(Debug)]
pub struct Watcher {
    client: SsmClient,
    name: String,
    cache: PathBuf,
    running: i64,
    /// The newest version seen invalid (reported once).
    refused: Option<i64>,
    interval: Duration,
}

impl Watcher {
    /// Watch `name`, running `version` now, cached at `cache`.
    pub fn new(
        client: SsmClient,
        name: &str,
        cache: PathBuf,
        version: i64,
        interval: Duration,
    ) -> Self {
        Watcher {
            client,
            name: name.to_string(),
            cache,
            running: version,
            refused: None,
            interval,
        }
    }

    /// Ask once.
    pub async fn poll(&mut self) -> Result<Poll, FleetError> {
        let p = self
            .client
            .get_parameter(&self.name, true)
            .await
            .map_err(|source| FleetError::Fetch {
                name: self.name.clone(),
                source,
            })?;
        if p.version == self.running || self.refused == Some(p.version) {
            return Ok(if p.version == self.running {
                Poll::Unchanged
            } else {
                Poll::Invalid(p.version)
            });
        }
        match config::load_str(&p.value, &format!("ssm:{}", self.name)) {
            Ok(_) => {
                write_cache(&self.cache, &p.value, p.version)?;
                self.running = p.version;
                Ok(Poll::Changed(p.version))
            }
            Err(source) => {
                self.refused = Some(p.version);
                Err(FleetError::Invalid {
                    name: self.name.clone(),
                    version: p.version,
                    source,
                })
            }
        }
    }

    /// Poll until the daemon goes away, asking it to reload on every new valid version.
    pub async fn run(mut self, control: mpsc::UnboundedSender<Control>) {
        let mut failing = false;
        loop {
            tokio::time::sleep(self.interval).await;
            if control.is_closed() {
                return;
            }
            match self.poll().await {
                Ok(Poll::Changed(v)) => {
                    tracing::info!("parameter {} is now at version {v}: reloading", self.name);
                    if control.send(Control::Reload).is_err() {
                        return;
                    }
                    failing = false;
                }
                Ok(_) => {
                    if failing {
                        tracing::info!("parameter {} can be read again", self.name);
                    }
                    failing = false;
                }
                Err(e @ FleetError::Invalid { .. }) => {
                    tracing::error!("{e}; keeping the running configuration");
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!("{e}; will try again every {:?}", self.interval);
                    }
                    failing = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ship::ssm::tests::client;
    use crate::ship::test_server::{Reply, TestServer};
    use std::sync::{Arc, Mutex};

    const V1: &str =
        r#"{"metrics":{"metrics_collected":{"mem":{"measurement":["mem_used_percent"]}}}}"#;
    const V2: &str = r#"{"metrics":{"metrics_collected":{"cpu":{"totalcpu":true,"measurement":["usage_idle"]}}}}"#;

    fn answer(value: &str, version: i64) -> Reply {
        let body = serde_json::json!({"Parameter": {"Name": "/fleet/web", "Type": "String",
            "Value": value, "Version": version}});
        Reply::new(200, body.to_string())
    }

    #[test]
    fn sources_and_names() {
        assert_eq!(
            ConfigSource::parse("ssm:/fleet/web"),
            ConfigSource::Ssm("/fleet/web".into())
        );
        assert_eq!(
            ConfigSource::parse("file:/etc/a.json"),
            ConfigSource::File("/etc/a.json".into())
        );
        assert_eq!(
            ConfigSource::parse("a.json"),
            ConfigSource::File("a.json".into())
        );
        assert_eq!(escape_name("/fleet/web:1 x"), "_fleet_web_1_x");
    }

    #[tokio::test]
    async fn versions_are_watched_and_invalid_ones_refused_once() {
        let state: Arc<Mutex<(String, i64)>> = Arc::new(Mutex::new((V1.to_string(), 1)));
        let s = state.clone();
        let server = TestServer::start(move |_| {
            let (v, n) = s.lock().unwrap().clone();
            answer(&v, n)
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_path(dir.path(), "/fleet/web");
        let c = client(&server.url());
        let (loaded, version) = fetch_initial(&c, "/fleet/web", &cache).await.unwrap();
        assert_eq!(version, 1);
        assert!(loaded.config.metrics.is_some());
        assert_eq!(read_cache(&cache), Some((V1.to_string(), 1)));
        let mut w = Watcher::new(c, "/fleet/web", cache.clone(), 1, Duration::from_millis(10));
        assert_eq!(w.poll().await.unwrap(), Poll::Unchanged);
        *state.lock().unwrap() = ("{not json".to_string(), 2);
        assert!(matches!(
            w.poll().await,
            Err(FleetError::Invalid { version: 2, .. })
        ));
        assert_eq!(w.poll().await.unwrap(), Poll::Invalid(2));
        assert_eq!(read_cache(&cache), Some((V1.to_string(), 1)), "cache kept");
        *state.lock().unwrap() = (V2.to_string(), 3);
        assert_eq!(w.poll().await.unwrap(), Poll::Changed(3));
        assert_eq!(read_cache(&cache), Some((V2.to_string(), 3)));
        // The run loop turns a change into a reload request.
        *state.lock().unwrap() = (V1.to_string(), 4);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(w.run(tx));
        assert_eq!(rx.recv().await, Some(Control::Reload));
        task.abort();
    }

    #[tokio::test]
    async fn the_cache_is_used_when_the_endpoint_is_down_but_not_for_unknown_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache_path(dir.path(), "/fleet/web");
        let down = client("http://127.0.0.1:9");
        assert!(matches!(
            fetch_initial(&down, "/fleet/web", &cache).await,
            Err(FleetError::Fetch { .. })
        ));
        write_cache(&cache, V2, 7).unwrap();
        let (_, v) = fetch_initial(&down, "/fleet/web", &cache).await.unwrap();
        assert_eq!(v, 7);
        let server = TestServer::start(|_| {
            Reply::new(400, r#"{"__type":"ParameterNotFound","message":""}"#)
        })
        .await;
        let e = fetch_initial(&client(&server.url()), "/fleet/web", &cache)
            .await
            .unwrap_err();
        assert!(matches!(e, FleetError::Fetch { source, .. } if source.is_not_found()));
    }
}
