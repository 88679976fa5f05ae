//! The EC2 instance metadata service (IMDS): instance facts, region and role credentials.
//!
//! Protocol (IMDSv2 first, v1 as a fallback):
//! - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: 21600` returns a session
//!   token, sent back as `X-aws-ec2-metadata-token` on every `GET`. The token is cached until one
//!   minute before it expires; a `401` on a `GET` drops it and retries once with a fresh one.
//! - If the token request times out or answers anything but 200 or 403 (an old endpoint, or a
//!   hop limit that drops the reply inside a container), `GET`s are sent without a token (v1).
//!   A 403 means the metadata service is turned off for this instance: no fallback.
//! - A refused or timed-out *connection* means "not on EC2": [`ImdsError::Unavailable`], quickly
//!   (1 s connect timeout, 2 s per request), and without proxies.
//!
//! Environment (read through the caller's lookup function, never the process directly):
//! `AWS_EC2_METADATA_DISABLED=true` turns every call into [`ImdsError::Disabled`];
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT` replaces `http://169.254.169.254` (used by tests).

use crate::collect::dimensions::InstanceMetadata;
use chrono::{DateTime, Utc};
use hostwatch_aws::Credentials;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The link-local metadata endpoint.
pub const DEFAULT_ENDPOINT: &str = "http://169.254.169.254";
/// Session token lifetime requested, in seconds.
pub const TOKEN_TTL_SECS: u64 = 21_600;
const TOKEN_HEADER: &str = "X-aws-ec2-metadata-token";
const TOKEN_TTL_HEADER: &str = "X-aws-ec2-metadata-token-ttl-seconds";

/// Why a metadata call failed.
#[derive(Debug, thiserror::Error)]
pub enum ImdsError {
    #[error("instance metadata is disabled (AWS_EC2_METADATA_DISABLED)")]
    Disabled,
    #[error("instance metadata service unreachable: {0}")]
    Unavailable(String),
    #[error("instance metadata {path}: HTTP {status}")]
    Status { path: String, status: u16 },
    #[error("instance metadata {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot build the metadata HTTP client: {0}")]
    Client(String),
}

/// The instance tag holding the Auto Scaling group name.
const ASG_TAG_PATH: &str = "/latest/meta-data/tags/instance/aws:autoscaling:groupName";

/// A metadata client. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct ImdsClient {
    endpoint: String,
    disabled: bool,
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl ImdsClient {
    /// Build from the environment (see the module docs).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ImdsError> {
        let disabled =
            env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        Self::new(&endpoint, disabled)
    }

    /// Build for `endpoint` (scheme and authority, e.g. `http://127.0.0.1:1234`).
    pub fn new(endpoint: &str, disabled: bool) -> Result<Self, ImdsError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| ImdsError::Client(e.to_string()))?;
        Ok(ImdsClient {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            disabled,
            http,
            token: Mutex::new(None),
        })
    }

    /// Whether calls are disabled by configuration.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    fn cached_token(&self) -> Option<String> {
        let guard = self.token.lock().ok()?;
        guard
            .as_ref()
            .filter(|(_, expires)| Instant::now() < *expires)
            .map(|(t, _)| t.clone())
    }

    fn store_token(&self, token: Option<(String, Instant)>) {
        if let Ok(mut guard) = self.token.lock() {
            *guard = token;
        }
    }

    /// A session token, or `None` to fall back to v1.
    async fn token(&self) -> Result<Option<String>, ImdsError> {
        if let Some(t) = self.cached_token() {
            return Ok(Some(t));
        }
        let url = format!("{}/latest/api/token", self.endpoint);
        let resp = self
            .http
            .put(&url)
            .header(TOKEN_TTL_HEADER, TOKEN_TTL_SECS.to_string())
            .send()
            .await;
        match resp {
            Ok(r) if r.status().as_u16() == 200 => {
                let token = r
                    .text()
                    .await
                    .map_err(|e| ImdsError::Unavailable(e.to_string()))?;
                let token = token.trim().to_string();
                if token.is_empty() {
                    return Ok(None);
                }
                let expires = Instant::now() + Duration::from_secs(TOKEN_TTL_SECS - 60);
                self.store_token(Some((token.clone(), expires)));
                Ok(Some(token))
            }
            Ok(r) if r.status().as_u16() == 403 => Err(ImdsError::Status {
                path: "/latest/api/token".into(),
                status: 403,
            }),
            Ok(_) => Ok(None),
            Err(e) if e.is_connect() => Err(ImdsError::Unavailable(e.to_string())),
            Err(_) => Ok(None),
        }
    }

    /// `GET` a metadata path (e.g. `/latest/meta-data/instance-id`) as text.
    pub async fn get(&self, path: &str) -> Result<String, ImdsError> {
        if self.disabled {
            return Err(ImdsError::Disabled);
        }
        for attempt in 0..2 {
            let token = self.token().await?;
            let mut req = self.http.get(format!("{}{path}", self.endpoint));
            if let Some(t) = &token {
                req = req.header(TOKEN_HEADER, t);
            }
            let resp = req.send().await.map_err(|e| {
                if e.is_connect() || e.is_timeout() {
                    ImdsError::Unavailable(e.to_string())
                } else {
                    ImdsError::Invalid {
                        path: path.to_string(),
                        message: e.to_string(),
                    }
                }
            })?;
            let status = resp.status().as_u16();
            if status == 401 && token.is_some() && attempt == 0 {
                self.store_token(None);
                continue;
            }
            if status != 200 {
                return Err(ImdsError::Status {
                    path: path.to_string(),
                    status,
                });
            }
            return resp.text().await.map_err(|e| ImdsError::Invalid {
                path: path.to_string(),
                message: e.to_string(),
            });
        }
        Err(ImdsError::Status {
            path: path.to_string(),
            status: 401,
        })
    }

    async fn get_json(&self, path: &str) -> Result<serde_json::Value, ImdsError> {
        let text = self.get(path).await?;
        serde_json::from_str(&text).map_err(|e| ImdsError::Invalid {
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    /// Instance id, type, AMI, region and zone, from the instance identity document.
    pub async fn instance_metadata(&self) -> Result<InstanceMetadata, ImdsError> {
        let path = "/latest/dynamic/instance-identity/document";
        let doc = self.get_json(path).await?;
        let field = |k: &str| {
            doc.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let mut md = InstanceMetadata {
            instance_id: field("instanceId"),
            instance_type: field("instanceType"),
            image_id: field("imageId"),
            region: field("region"),
            availability_zone: field("availabilityZone"),
            auto_scaling_group: String::new(),
        };
        if md.instance_id.is_empty() {
            return Err(ImdsError::Invalid {
                path: path.into(),
                message: "no instanceId".into(),
            });
        }
        md.auto_scaling_group = self.auto_scaling_group().await;
        Ok(md)
    }

    /// The instance's Auto Scaling group, from the `aws:autoscaling:groupName` instance tag that
    /// the metadata service exposes when tag access is enabled on the instance. Unlike the
    /// CloudWatch agent (EC2 `DescribeTags`), this needs no `ec2:DescribeTags` permission; with
    /// tag access off, or outside a group, it is empty and the dimension is left out.
    async fn auto_scaling_group(&self) -> String {
        match self.get(ASG_TAG_PATH).await {
            Ok(name) => name.trim().to_string(),
            Err(ImdsError::Status { status: 404, .. }) => String::new(),
            Err(e) => {
                tracing::debug!("no Auto Scaling group from instance metadata: {e}");
                String::new()
            }
        }
    }

    /// The instance's region.
    pub async fn region(&self) -> Result<String, ImdsError> {
        let md = self.instance_metadata().await?;
        if md.region.is_empty() {
            return Err(ImdsError::Invalid {
                path: "/latest/dynamic/instance-identity/document".into(),
                message: "no region".into(),
            });
        }
        Ok(md.region)
    }

    /// The instance role's temporary credentials and their expiry.
    pub async fn role_credentials(
        &self,
    ) -> Result<(Credentials, Option<DateTime<Utc>>), ImdsError> {
        let base = "/latest/meta-data/iam/security-credentials/";
        let roles = self.get(base).await?;
        let role = roles
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .ok_or_else(|| ImdsError::Invalid {
                path: base.into(),
                message: "no instance role attached".into(),
            })?
            .to_string();
        let path = format!("{base}{role}");
        let doc = self.get_json(&path).await?;
        let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(String::from);
        if let Some(code) = s("Code") {
            if code != "Success" {
                return Err(ImdsError::Invalid {
                    path,
                    message: format!("credentials code {code}"),
                });
            }
        }
        let (Some(id), Some(secret)) = (s("AccessKeyId"), s("SecretAccessKey")) else {
            return Err(ImdsError::Invalid {
                path,
                message: "AccessKeyId or SecretAccessKey missing".into(),
            });
        };
        let expiry = s("Expiration")
            .and_then(|e| DateTime::parse_from_rfc3339(&e).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok((
            Credentials {
                access_key_id: id,
                secret_access_key: secret,
                session_token: s("Token").filter(|t| !t.is_empty()),
            },
            expiry,
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ship::test_server::{Reply, TestServer};

    pub(crate) const ROLE_JSON: &str = r#"{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAROLE","SecretAccessKey":"rolesecret","Token":"roletoken","Expiration":"2099-01-01T00:00:00Z"}"#;

    /// An IMDSv2 server: token required on every GET.
    pub(crate) async fn imds_v2() -> TestServer {
        TestServer::start(|req| {
            if req.method == "PUT" && req.path == "/latest/api/token" {
                if req.header("x-aws-ec2-metadata-token-ttl-seconds").is_none() {
                    return Reply::new(400, "missing ttl");
                }
                return Reply::new(200, "TOKEN123");
            }
            if req.header("x-aws-ec2-metadata-token") != Some("TOKEN123") {
                return Reply::new(401, "");
            }
            match req.path.as_str() {
                "/latest/meta-data/iam/security-credentials/" => Reply::new(200, "my-role\n"),
                "/latest/meta-data/iam/security-credentials/my-role" => Reply::new(200, ROLE_JSON),
                "/latest/dynamic/instance-identity/document" => Reply::new(
                    200,
                    r#"{"instanceId":"i-abc","instanceType":"m5.large","imageId":"ami-1","region":"ap-south-1","availabilityZone":"ap-south-1b"}"#,
                ),
                ASG_TAG_PATH => Reply::new(200, "web-asg"),
                _ => Reply::new(404, ""),
            }
        })
        .await
    }

    #[tokio::test]
    async fn no_auto_scaling_group_without_tag_access() {
        let server = TestServer::start(|req| {
            if req.method == "PUT" {
                return Reply::new(200, "T");
            }
            match req.path.as_str() {
                "/latest/dynamic/instance-identity/document" => {
                    Reply::new(200, r#"{"instanceId":"i-1","region":"us-east-1"}"#)
                }
                _ => Reply::new(404, ""),
            }
        })
        .await;
        let c = ImdsClient::new(&server.url(), false).unwrap();
        let md = c.instance_metadata().await.unwrap();
        assert_eq!(md.instance_id, "i-1");
        assert_eq!(md.auto_scaling_group, "");
        assert_eq!(md.lookup("AutoScalingGroupName"), None);
    }

    #[tokio::test]
    async fn v2_token_then_role_credentials() {
        let server = imds_v2().await;
        let c = ImdsClient::new(&server.url(), false).unwrap();
        let (creds, expiry) = c.role_credentials().await.unwrap();
        assert_eq!(creds.access_key_id, "ASIAROLE");
        assert_eq!(creds.secret_access_key, "rolesecret");
        assert_eq!(creds.session_token.as_deref(), Some("roletoken"));
        assert_eq!(expiry.unwrap().to_rfc3339(), "2099-01-01T00:00:00+00:00");
        let md = c.instance_metadata().await.unwrap();
        assert_eq!(md.instance_id, "i-abc");
        assert_eq!(md.image_id, "ami-1");
        assert_eq!(md.auto_scaling_group, "web-asg");
        assert_eq!(md.lookup("AutoScalingGroupName"), Some("web-asg"));
        assert_eq!(c.region().await.unwrap(), "ap-south-1");
        // The token is fetched once and reused.
        let puts = server
            .requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count();
        assert_eq!(puts, 1);
    }

    #[tokio::test]
    async fn v1_fallback_when_token_endpoint_missing() {
        let server = TestServer::start(|req| {
            if req.method == "PUT" {
                return Reply::new(405, "");
            }
            assert!(req.header("x-aws-ec2-metadata-token").is_none());
            match req.path.as_str() {
                "/latest/meta-data/instance-id" => Reply::new(200, "i-v1"),
                _ => Reply::new(404, ""),
            }
        })
        .await;
        let c = ImdsClient::new(&server.url(), false).unwrap();
        assert_eq!(
            c.get("/latest/meta-data/instance-id").await.unwrap(),
            "i-v1"
        );
        assert!(matches!(
            c.get("/nope").await,
            Err(ImdsError::Status { status: 404, .. })
        ));
    }

    #[tokio::test]
    async fn disabled_and_unreachable() {
        let env = |k: &str| match k {
            "AWS_EC2_METADATA_DISABLED" => Some("TRUE".to_string()),
            _ => None,
        };
        let c = ImdsClient::from_env(&env).unwrap();
        assert!(matches!(c.get("/x").await, Err(ImdsError::Disabled)));
        // A port nobody listens on: connection refused, reported as unavailable.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c = ImdsClient::new(&format!("http://127.0.0.1:{port}"), false).unwrap();
        assert!(matches!(
            c.get("/latest/meta-data/instance-id").await,
            Err(ImdsError::Unavailable(_))
        ));
    }
}
