//! One SigV4-signed `POST` of a prepared body: the part every CloudWatch client shares.
//!
//! The caller names the service-specific headers (content type, `X-Amz-Target`, ...); `Host`
//! and, for a gzip body, `Content-Encoding` are added here, then the request is signed (the
//! payload hash covers the bytes as sent) and sent. The answer comes back raw: the status, the
//! `x-amzn-query-error` header (CloudWatch's query-compatible errors) and the body, for the
//! caller to interpret. [`Service::json_call`] is the awsJson 1.1 exchange the Logs and SSM
//! clients share (headers, credentials, signing, error parsing).

use super::aws_error::{parse_error, AwsErrorInfo};
use super::credentials::{CredentialProvider, CredentialsError};
use super::endpoint::Endpoint;
use super::metrics::PreparedBody;
use hostwatch_aws::sigv4::{sign, SignableRequest};
use hostwatch_aws::Credentials;
use std::sync::Arc;
use std::time::Duration;

/// What every signed client of the agent holds: one HTTP client (connections kept for reuse),
/// the endpoint, the region and signing name, and the credential chain.
pub struct Service {
    pub http: reqwest::Client,
    pub endpoint: Endpoint,
    pub region: String,
    /// The SigV4 signing name (`monitoring`, `logs`, `ssm`).
    pub signing_name: &'static str,
    pub credentials: Arc<CredentialProvider>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("endpoint", &self.endpoint.url.as_str())
            .field("region", &self.region)
            .field("signing_name", &self.signing_name)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Build the HTTP client (10 s connect timeout; idle connections dropped after 50 s, before
    /// servers commonly close them).
    pub fn new(
        endpoint: Endpoint,
        region: &str,
        signing_name: &'static str,
        credentials: Arc<CredentialProvider>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("hostwatch-agent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Service {
            http,
            endpoint,
            region: region.to_string(),
            signing_name,
            credentials,
        })
    }

    /// Where and how to sign.
    pub fn target(&self) -> Target<'_> {
        Target {
            endpoint: &self.endpoint,
            region: &self.region,
            service: self.signing_name,
        }
    }

    /// The AWS error of a non-2xx answer; credentials the service calls expired are dropped
    /// from the cache so that the next call fetches fresh ones.
    pub fn error_of(&self, status: u16, body: &[u8]) -> AwsErrorInfo {
        let info = parse_error(status, None, body);
        if info.is_expired_credentials() {
            self.credentials.invalidate();
        }
        info
    }

    /// One signed awsJson 1.1 call of `target_prefix.op` with `body`: the body of a 2xx answer
    /// (unparsed: each client reads it its own way), else why not.
    pub async fn json_call(
        &self,
        target_prefix: &str,
        op: &str,
        body: &PreparedBody,
        timeout: Duration,
    ) -> Result<Vec<u8>, JsonCallError> {
        let creds = self
            .credentials
            .credentials()
            .await
            .map_err(JsonCallError::Credentials)?;
        let headers = json_headers(target_prefix, op);
        let reply = post(&self.http, self.target(), &creds, headers, body, timeout)
            .await
            .map_err(|e| JsonCallError::Transport(e.to_string()))?;
        if (200..300).contains(&reply.status) {
            return Ok(reply.body);
        }
        Err(JsonCallError::Service(
            self.error_of(reply.status, &reply.body),
        ))
    }
}

/// Why [`Service::json_call`] failed.
#[derive(Debug)]
pub enum JsonCallError {
    Credentials(CredentialsError),
    /// The exchange itself failed (connection, timeout); the message says how.
    Transport(String),
    /// The service answered with an error.
    Service(AwsErrorInfo),
}

/// The headers of an awsJson 1.1 call of `target_prefix.op`.
pub fn json_headers(target_prefix: &str, op: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/x-amz-json-1.1".into()),
        ("X-Amz-Target".into(), format!("{target_prefix}.{op}")),
    ]
}

/// A raw answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub query_error: Option<String>,
    pub body: Vec<u8>,
}

/// Where and how to sign.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub endpoint: &'a Endpoint,
    pub region: &'a str,
    /// The SigV4 signing name (`monitoring`, `logs`).
    pub service: &'a str,
}

/// Sign and send `body` with `headers` plus `Host` (and `Content-Encoding` for gzip).
pub async fn post(
    http: &reqwest::Client,
    target: Target<'_>,
    creds: &Credentials,
    headers: Vec<(String, String)>,
    body: &PreparedBody,
    timeout: Duration,
) -> Result<Reply, reqwest::Error> {
    let resp = send(http, target, creds, headers, body, Some(timeout)).await?;
    let status = resp.status().as_u16();
    let query_error = resp
        .headers()
        .get("x-amzn-query-error")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = resp.bytes().await?.to_vec();
    Ok(Reply {
        status,
        query_error,
        body,
    })
}

/// Sign and send like [`post`], but hand back the response as soon as its head arrived, for
/// the caller to read the body as it streams (event-stream replies). `timeout` bounds the whole
/// exchange when given; streaming callers pass `None`.
pub async fn send(
    http: &reqwest::Client,
    target: Target<'_>,
    creds: &Credentials,
    mut headers: Vec<(String, String)>,
    body: &PreparedBody,
    timeout: Option<Duration>,
) -> Result<reqwest::Response, reqwest::Error> {
    headers.insert(0, ("Host".into(), target.endpoint.host.clone()));
    if body.gzip {
        headers.push(("Content-Encoding".into(), "gzip".into()));
    }
    let signable = SignableRequest {
        method: "POST",
        path: &target.endpoint.path,
        query: "",
        headers: headers.clone(),
        body: &body.bytes,
    };
    let added = sign(
        &signable,
        creds,
        target.region,
        target.service,
        chrono::Utc::now(),
    );
    let mut req = http
        .post(target.endpoint.url.clone())
        .body(body.bytes.clone());
    if let Some(t) = timeout {
        req = req.timeout(t);
    }
    for (n, v) in headers.iter().chain(added.iter()) {
        req = req.header(n.as_str(), v.as_str());
    }
    req.send().await
}
