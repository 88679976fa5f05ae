//! CloudWatch Logs over awsJson 1.1: one signed call per method, no retries here.
//!
//! Wire format: `POST` to the endpoint's path with `X-Amz-Target: Logs_20140328.<Operation>`,
//! `Content-Type: application/x-amz-json-1.1`, signed for service `logs`. A PutLogEvents body
//! is gzip-compressed (`Content-Encoding: gzip`) when that makes it smaller; compression happens
//! before signing, so the payload hash covers the gzip bytes.
//!
//! Retry policy lives with the caller (the log sender retries retriable errors for as long as
//! it takes, and never drops a batch for a transient reason); this client only classifies each
//! outcome ([`LogsError::is_retryable`], [`LogsError::is_resource_not_found`]).

use super::aws_error::AwsErrorInfo;
use super::credentials::{CredentialProvider, CredentialsError};
use super::endpoint::{service_endpoint, Endpoint, EndpointError};
use super::metrics::{prepare_body, PreparedBody};
use super::signed;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// The SigV4 signing name.
pub const SIGNING_SERVICE: &str = "logs";
/// The target prefix.
pub const TARGET_PREFIX: &str = "Logs_20140328";
/// Error codes that mean "this request can never succeed".
const REJECTIONS: &[&str] = &[
    "InvalidParameterException",
    "DataAlreadyAcceptedException",
    "SerializationException",
    "ValidationException",
    "InvalidParameterValue",
    "MalformedInput",
];
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a Logs call failed.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("connection to {endpoint} failed: {message}")]
    Transport { endpoint: String, message: String },
    #[error("{op} failed: {info}")]
    Service {
        op: &'static str,
        info: AwsErrorInfo,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{op}: unreadable response: {message}")]
    Response { op: &'static str, message: String },
}

impl LogsError {
    /// Whether trying again later may succeed (network, throttling, 5xx, credentials).
    pub fn is_retryable(&self) -> bool {
        match self {
            LogsError::Transport { .. } | LogsError::Credentials(_) => true,
            LogsError::Response { .. } => true,
            LogsError::Service { info, .. } => info.is_retryable() || info.is_expired_credentials(),
            LogsError::Client(_) => false,
        }
    }

    /// The AWS error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            LogsError::Service { info, .. } => Some(info.code.as_str()),
            _ => None,
        }
    }

    /// Whether this batch can never be accepted, so sending it again is pointless: the request
    /// itself is invalid. Authentication, permission, quota and unknown errors are not in this
    /// set: an operator can fix those, so the batch waits (the agent never drops data for
    /// them).
    pub fn is_permanent_rejection(&self) -> bool {
        match self {
            LogsError::Service { info, .. } => {
                REJECTIONS.contains(&info.code.as_str()) || info.status == 413
            }
            _ => false,
        }
    }

    /// `ResourceNotFoundException`: the group or stream does not exist.
    pub fn is_resource_not_found(&self) -> bool {
        self.code() == Some("ResourceNotFoundException")
    }

    /// `ResourceAlreadyExistsException`: counts as success for Create calls.
    pub fn is_already_exists(&self) -> bool {
        self.code() == Some("ResourceAlreadyExistsException")
    }
}

/// The CloudWatch Logs endpoint for `region`, or the override.
pub fn logs_endpoint(override_url: Option<&str>, region: &str) -> Result<Endpoint, EndpointError> {
    service_endpoint("logs", override_url, region)
}

/// A signed CloudWatch Logs client.
#[derive(Debug)]
pub struct LogsClient {
    svc: signed::Service,
}

impl LogsClient {
    pub fn new(
        endpoint: Endpoint,
        region: &str,
        credentials: Arc<CredentialProvider>,
    ) -> Result<Self, LogsError> {
        let svc = signed::Service::new(endpoint, region, SIGNING_SERVICE, credentials)
            .map_err(|e| LogsError::Client(e.to_string()))?;
        Ok(LogsClient { svc })
    }

    /// The endpoint URL (for log lines).
    pub fn endpoint(&self) -> &str {
        self.svc.endpoint.url.as_str()
    }

    /// One signed call of `op` with a JSON `body`; the parsed JSON answer on success.
    pub async fn call(
        &self,
        op: &'static str,
        body: Vec<u8>,
        compress: bool,
    ) -> Result<Value, LogsError> {
        let prepared = if compress {
            prepare_body(body)
        } else {
            PreparedBody {
                bytes: body,
                gzip: false,
            }
        };
        self.call_prepared(op, &prepared).await
    }

    /// One signed call with a body already compressed (or not) by the caller.
    pub async fn call_prepared(
        &self,
        op: &'static str,
        prepared: &PreparedBody,
    ) -> Result<Value, LogsError> {
        let bytes = self
            .svc
            .json_call(TARGET_PREFIX, op, prepared, REQUEST_TIMEOUT)
            .await
            .map_err(|e| match e {
                signed::JsonCallError::Credentials(c) => LogsError::Credentials(c),
                signed::JsonCallError::Transport(message) => LogsError::Transport {
                    endpoint: self.svc.endpoint.url.to_string(),
                    message,
                },
                signed::JsonCallError::Service(info) => LogsError::Service { op, info },
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes).map_err(|e| LogsError::Response {
            op,
            message: e.to_string(),
        })
    }

    /// One signed call of a streaming operation (`StartLiveTail`): on a 2xx answer the response
    /// is returned unread, for the caller to decode its event stream as it arrives.
    pub async fn call_streaming(
        &self,
        op: &'static str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, LogsError> {
        let creds = self.svc.credentials.credentials().await?;
        let headers = signed::json_headers(TARGET_PREFIX, op);
        let target = self.svc.target();
        let prepared = PreparedBody {
            bytes: body,
            gzip: false,
        };
        let transport = |e: reqwest::Error| LogsError::Transport {
            endpoint: self.svc.endpoint.url.to_string(),
            message: e.to_string(),
        };
        let resp = signed::send(&self.svc.http, target, &creds, headers, &prepared, None)
            .await
            .map_err(transport)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(resp);
        }
        let bytes = resp.bytes().await.map_err(transport)?;
        Err(LogsError::Service {
            op,
            info: self.svc.error_of(status, &bytes),
        })
    }

    /// `CreateLogGroup`, with `logGroupClass` when given; "already exists" is success.
    pub async fn create_log_group(
        &self,
        group: &str,
        class: Option<&str>,
    ) -> Result<(), LogsError> {
        let mut body = serde_json::json!({ "logGroupName": group });
        if let Some(c) = class {
            body["logGroupClass"] = Value::String(c.to_string());
        }
        match self.call("CreateLogGroup", to_vec(&body), false).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `CreateLogStream`; "already exists" is success.
    pub async fn create_log_stream(&self, group: &str, stream: &str) -> Result<(), LogsError> {
        let body = serde_json::json!({ "logGroupName": group, "logStreamName": stream });
        match self.call("CreateLogStream", to_vec(&body), false).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The group's current `retentionInDays` (`None`: never expire), from DescribeLogGroups.
    /// `Err` with ResourceNotFound when the group does not exist.
    pub async fn retention_of(&self, group: &str) -> Result<Option<i64>, LogsError> {
        let mut token: Option<String> = None;
        loop {
            let mut body = serde_json::json!({ "logGroupNamePrefix": group, "limit": 50 });
            if let Some(t) = &token {
                body["nextToken"] = Value::String(t.clone());
            }
            let answer = self.call("DescribeLogGroups", to_vec(&body), false).await?;
            let groups = answer
                .get("logGroups")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for g in groups {
                if g.get("logGroupName").and_then(Value::as_str) == Some(group) {
                    return Ok(g.get("retentionInDays").and_then(Value::as_i64));
                }
            }
            token = answer
                .get("nextToken")
                .and_then(Value::as_str)
                .map(String::from);
            if token.is_none() {
                return Err(LogsError::Service {
                    op: "DescribeLogGroups",
                    info: AwsErrorInfo {
                        status: 400,
                        code: "ResourceNotFoundException".into(),
                        message: format!("The specified log group does not exist: {group}"),
                    },
                });
            }
        }
    }

    /// `PutRetentionPolicy`.
    pub async fn put_retention_policy(&self, group: &str, days: i64) -> Result<(), LogsError> {
        let body = serde_json::json!({ "logGroupName": group, "retentionInDays": days });
        self.call("PutRetentionPolicy", to_vec(&body), false)
            .await
            .map(|_| ())
    }
}

fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}
