//! One SigV4-signed `POST` of a prepared body: the part every CloudWatch client shares.
//!
//! The caller names the service-specific headers (content type, `X-Amz-Target`, ...); `Host`
//! and, for a gzip body, `Content-Encoding` are added here, then the request is signed (the
//! payload hash covers the bytes as sent) and sent. The answer comes back raw: the status, the
//! `x-amzn-query-error` header (CloudWatch's query-compatible errors) and the body, for the
//! caller to interpret.

use super::endpoint::Endpoint;
use super::metrics::PreparedBody;
use hostwatch_aws::sigv4::{sign, SignableRequest};
use hostwatch_aws::Credentials;
use std::time::Duration;

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
