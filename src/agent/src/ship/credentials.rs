//! The standard AWS credential chain, with caching and refresh.
//!
//! Order (first hit wins):
//! 1. environment: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
//! 2. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `$HOME/.aws/credentials`):
//!    profile `AWS_PROFILE` when set; otherwise `AmazonCloudWatchAgent` when the file has it (the
//!    reference agent's convention), else `default`;
//! 3. the EC2 instance role through the metadata service (IMDSv2, see [`super::imds`]).
//!
//! The environment is read through an [`EnvLookup`] function so tests never touch the process
//! environment. Resolved credentials are cached: role credentials until 5 minutes before their
//! `Expiration`, static ones for 15 minutes (so a rotated credentials file is picked up). When a
//! refresh fails while the cached role credentials are still valid, those keep being used.
//! [`CredentialProvider::invalidate`] forces a re-resolve (after an expired-token error).

use super::imds::ImdsClient;
use chrono::{DateTime, Duration, Utc};
use hostwatch_aws::credentials::profile_from_ini;
use hostwatch_aws::Credentials;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Reads one environment variable.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment as an [`EnvLookup`].
pub fn process_env() -> EnvLookup {
    Arc::new(|k| std::env::var(k).ok())
}

/// The profile the reference agent's installer writes.
pub const AGENT_PROFILE: &str = "AmazonCloudWatchAgent";

/// How long static credentials are cached before the chain is read again.
const STATIC_TTL_MINUTES: i64 = 15;
/// Role credentials are refreshed this long before they expire.
const EXPIRY_MARGIN_MINUTES: i64 = 5;

/// Where credentials came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    SharedFile { path: PathBuf, profile: String },
    InstanceRole,
}

impl std::fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSource::Environment => f.write_str("environment variables"),
            CredentialSource::SharedFile { path, profile } => {
                write!(f, "{} profile [{profile}]", path.display())
            }
            CredentialSource::InstanceRole => f.write_str("EC2 instance role"),
        }
    }
}

/// No source had credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no AWS credentials found ({0})")]
pub struct CredentialsError(pub String);

fn non_empty(env: &dyn Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    env(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Step 1: environment variables.
pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Option<Credentials> {
    let id = non_empty(env, "AWS_ACCESS_KEY_ID")?;
    let secret = non_empty(env, "AWS_SECRET_ACCESS_KEY")?;
    Some(Credentials {
        access_key_id: id,
        secret_access_key: secret,
        session_token: non_empty(env, "AWS_SESSION_TOKEN"),
    })
}

/// The shared credentials file's path.
pub fn shared_file_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = non_empty(env, "AWS_SHARED_CREDENTIALS_FILE") {
        return Some(PathBuf::from(p));
    }
    non_empty(env, "HOME").map(|h| PathBuf::from(h).join(".aws").join("credentials"))
}

/// Step 2: the shared credentials file. `Err` explains why nothing was found.
pub fn from_shared_file(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Credentials, CredentialSource), String> {
    let path = shared_file_path(env).ok_or("no credentials file path (HOME unset)")?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("credentials file {}: {e}", path.display()))?;
    let candidates: Vec<String> = match non_empty(env, "AWS_PROFILE") {
        Some(p) => vec![p],
        None => vec![AGENT_PROFILE.to_string(), "default".to_string()],
    };
    for profile in &candidates {
        if let Some(c) = profile_from_ini(&text, profile) {
            return Ok((
                c,
                CredentialSource::SharedFile {
                    path,
                    profile: profile.clone(),
                },
            ));
        }
    }
    Err(format!(
        "credentials file {} has no usable profile {}",
        path.display(),
        candidates.join(" or ")
    ))
}

#[derive(Debug, Clone)]
struct Cached {
    creds: Credentials,
    source: CredentialSource,
    refresh_at: DateTime<Utc>,
    /// Hard expiry (role credentials only).
    expires_at: Option<DateTime<Utc>>,
}

/// The cached credential chain.
pub struct CredentialProvider {
    env: EnvLookup,
    imds: Arc<ImdsClient>,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for CredentialProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialProvider").finish_non_exhaustive()
    }
}

impl CredentialProvider {
    pub fn new(env: EnvLookup, imds: Arc<ImdsClient>) -> Self {
        CredentialProvider {
            env,
            imds,
            cache: Mutex::new(None),
        }
    }

    /// Walk the chain once, without the cache.
    pub async fn resolve(
        &self,
    ) -> Result<(Credentials, CredentialSource, Option<DateTime<Utc>>), CredentialsError> {
        let env = self.env.as_ref();
        if let Some(c) = from_env(env) {
            return Ok((c, CredentialSource::Environment, None));
        }
        let file_reason = match from_shared_file(env) {
            Ok((c, source)) => return Ok((c, source, None)),
            Err(reason) => reason,
        };
        match self.imds.role_credentials().await {
            Ok((c, expiry)) => Ok((c, CredentialSource::InstanceRole, expiry)),
            Err(e) => Err(CredentialsError(format!(
                "environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset; {file_reason}; instance role: {e}"
            ))),
        }
    }

    /// Current credentials, from the cache when fresh.
    pub async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        self.credentials_at(Utc::now()).await
    }

    /// [`Self::credentials`] with an explicit clock.
    pub async fn credentials_at(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Credentials, CredentialsError> {
        let cached = self.cache.lock().ok().and_then(|g| g.clone());
        if let Some(c) = &cached {
            if now < c.refresh_at {
                return Ok(c.creds.clone());
            }
        }
        match self.resolve().await {
            Ok((creds, source, expires_at)) => {
                let refresh_at = match expires_at {
                    Some(exp) => {
                        let r = exp - Duration::minutes(EXPIRY_MARGIN_MINUTES);
                        // Never hammer the source: at least one minute between refreshes.
                        r.max(now + Duration::minutes(1))
                    }
                    None => now + Duration::minutes(STATIC_TTL_MINUTES),
                };
                let changed = cached.as_ref().is_none_or(|c| c.source != source);
                if changed {
                    tracing::info!(source = %source, "using AWS credentials");
                }
                if let Ok(mut g) = self.cache.lock() {
                    *g = Some(Cached {
                        creds: creds.clone(),
                        source,
                        refresh_at,
                        expires_at,
                    });
                }
                Ok(creds)
            }
            Err(e) => match cached {
                Some(c) if c.expires_at.is_some_and(|exp| now < exp) => {
                    tracing::warn!("credential refresh failed, still using the cached ones: {e}");
                    Ok(c.creds)
                }
                _ => Err(e),
            },
        }
    }

    /// Where the cached credentials came from.
    pub fn source(&self) -> Option<CredentialSource> {
        self.cache
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|c| c.source.clone()))
    }

    /// Drop the cache so the next call walks the chain again.
    pub fn invalidate(&self) {
        if let Ok(mut g) = self.cache.lock() {
            *g = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> EnvLookup {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Arc::new(move |k| map.get(k).cloned())
    }

    fn disabled_imds() -> Arc<ImdsClient> {
        Arc::new(ImdsClient::new("http://127.0.0.1:9", true).unwrap())
    }

    const FILE: &str = "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = d\n\n[AmazonCloudWatchAgent]\naws_access_key_id = AGENTKEY\naws_secret_access_key = a\n\n[other]\naws_access_key_id = OTHERKEY\naws_secret_access_key = o\naws_session_token = tok\n";

    #[tokio::test]
    async fn env_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, FILE).unwrap();
        let p = path.to_str().unwrap();
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "ENVKEY"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_SESSION_TOKEN", "envtoken"),
            ("AWS_SHARED_CREDENTIALS_FILE", p),
        ]);
        let provider = CredentialProvider::new(env, disabled_imds());
        let c = provider.credentials().await.unwrap();
        assert_eq!(c.access_key_id, "ENVKEY");
        assert_eq!(c.session_token.as_deref(), Some("envtoken"));
        assert_eq!(provider.source(), Some(CredentialSource::Environment));
    }

    #[tokio::test]
    async fn file_profile_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, FILE).unwrap();
        let p = path.to_str().unwrap();
        // AWS_PROFILE wins.
        let env = env_of(&[("AWS_SHARED_CREDENTIALS_FILE", p), ("AWS_PROFILE", "other")]);
        let c = CredentialProvider::new(env, disabled_imds())
            .credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "OTHERKEY");
        assert_eq!(c.session_token.as_deref(), Some("tok"));
        // Without AWS_PROFILE: the agent profile before default.
        let env = env_of(&[("AWS_SHARED_CREDENTIALS_FILE", p)]);
        let c = CredentialProvider::new(env, disabled_imds())
            .credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "AGENTKEY");
        // Only default present.
        let only_default = dir.path().join("only-default");
        std::fs::write(
            &only_default,
            "[default]\naws_access_key_id=D\naws_secret_access_key=s\n",
        )
        .unwrap();
        let env = env_of(&[(
            "AWS_SHARED_CREDENTIALS_FILE",
            only_default.to_str().unwrap(),
        )]);
        let c = CredentialProvider::new(env, disabled_imds())
            .credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "D");
        // HOME fallback path.
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir(home.path().join(".aws")).unwrap();
        std::fs::write(home.path().join(".aws/credentials"), FILE).unwrap();
        let env = env_of(&[("HOME", home.path().to_str().unwrap())]);
        let (c, source) = from_shared_file(env.as_ref()).unwrap();
        assert_eq!(c.access_key_id, "AGENTKEY");
        assert_eq!(
            source,
            CredentialSource::SharedFile {
                path: home.path().join(".aws/credentials"),
                profile: AGENT_PROFILE.into()
            }
        );
    }

    #[tokio::test]
    async fn nothing_found_is_a_clear_error() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "only-id"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ]);
        let e = CredentialProvider::new(env, disabled_imds())
            .credentials()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no AWS credentials found"), "{e}");
        assert!(e.to_string().contains("disabled"), "{e}");
    }

    #[tokio::test]
    async fn instance_role_and_refresh() {
        let server = crate::ship::imds::tests::imds_v2().await;
        let imds = Arc::new(ImdsClient::new(&server.url(), false).unwrap());
        let env = env_of(&[("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")]);
        let provider = CredentialProvider::new(env, imds);
        let now = Utc::now();
        let c = provider.credentials_at(now).await.unwrap();
        assert_eq!(c.access_key_id, "ASIAROLE");
        assert_eq!(provider.source(), Some(CredentialSource::InstanceRole));
        let gets = |s: &crate::ship::test_server::TestServer| {
            s.requests()
                .iter()
                .filter(|r| r.path.ends_with("/my-role"))
                .count()
        };
        // Cached while fresh.
        provider.credentials_at(now).await.unwrap();
        assert_eq!(gets(&server), 1);
        // Past the refresh point (expiry 2099 minus 5 minutes): fetched again.
        let later = DateTime::parse_from_rfc3339("2098-12-31T23:56:00Z")
            .unwrap()
            .with_timezone(&Utc);
        provider.credentials_at(later).await.unwrap();
        assert_eq!(gets(&server), 2);
        provider.invalidate();
        assert_eq!(provider.source(), None);
    }
}
