//! SSM Parameter Store over awsJson 1.1: `GetParameter` and `PutParameter`, one signed call
//! each, no retries here (callers poll or ask again).
//!
//! Wire format: `POST` with `X-Amz-Target: AmazonSSM.<Operation>`, `Content-Type:
//! application/x-amz-json-1.1`, signed for service `ssm`, through the shared signed-POST
//! helper. Endpoint: an override (a hostwatch collector) or `https://ssm.<region>.amazonaws.com`.
//!
//! [`put_parameter`] and [`get_parameter`] are the one-call entry points for commands (the
//! config wizard stores its result, `hostwatch ctl` fetches configs): they build the standard
//! credential chain from the process environment.

use super::aws_error::AwsErrorInfo;
use super::credentials::{process_env, CredentialProvider, CredentialsError};
use super::endpoint::{service_endpoint, Endpoint, EndpointError};
use super::imds::{ImdsClient, ImdsError};
use super::metrics::PreparedBody;
use super::signed;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const SIGNING_SERVICE: &str = "ssm";
const TARGET_PREFIX: &str = "AmazonSSM";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an SSM call failed.
#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Imds(#[from] ImdsError),
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

impl SsmError {
    /// The AWS error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SsmError::Service { info, .. } => Some(info.code.as_str()),
            _ => None,
        }
    }

    /// `ParameterNotFound`.
    pub fn is_not_found(&self) -> bool {
        self.code() == Some("ParameterNotFound")
    }
}

/// A parameter as `GetParameter` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: String,
    pub ptype: String,
    pub value: String,
    pub version: i64,
}

/// What to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutRequest<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// `String`, `StringList` or `SecureString`.
    pub ptype: &'a str,
    pub overwrite: bool,
    /// `Standard` or `Advanced` (`None`: the service default).
    pub tier: Option<&'a str>,
    pub description: Option<&'a str>,
}

/// The SSM endpoint for `region`, or the override.
pub fn ssm_endpoint(override_url: Option<&str>, region: &str) -> Result<Endpoint, EndpointError> {
    service_endpoint("ssm", override_url, region)
}

/// A signed SSM client.
#[derive(Debug)]
pub struct SsmClient {
    svc: signed::Service,
}

impl SsmClient {
    pub fn new(
        endpoint: Endpoint,
        region: &str,
        credentials: Arc<CredentialProvider>,
    ) -> Result<Self, SsmError> {
        let svc = signed::Service::new(endpoint, region, SIGNING_SERVICE, credentials)
            .map_err(|e| SsmError::Client(e.to_string()))?;
        Ok(SsmClient { svc })
    }

    /// A client with the standard credential chain of the process environment.
    pub fn from_env(endpoint_override: Option<&str>, region: &str) -> Result<Self, SsmError> {
        let env = process_env();
        let imds = Arc::new(ImdsClient::from_env(env.as_ref())?);
        let creds = Arc::new(CredentialProvider::new(env, imds));
        Self::new(ssm_endpoint(endpoint_override, region)?, region, creds)
    }

    /// The endpoint URL (for messages).
    pub fn endpoint(&self) -> &str {
        self.svc.endpoint.url.as_str()
    }

    async fn call(&self, op: &'static str, body: Value) -> Result<Value, SsmError> {
        let prepared = PreparedBody {
            bytes: body.to_string().into_bytes(),
            gzip: false,
        };
        let bytes = self
            .svc
            .json_call(TARGET_PREFIX, op, &prepared, REQUEST_TIMEOUT)
            .await
            .map_err(|e| match e {
                signed::JsonCallError::Credentials(c) => SsmError::Credentials(c),
                signed::JsonCallError::Transport(message) => SsmError::Transport {
                    endpoint: self.svc.endpoint.url.to_string(),
                    message,
                },
                signed::JsonCallError::Service(info) => SsmError::Service { op, info },
            })?;
        serde_json::from_slice(&bytes).map_err(|e| SsmError::Response {
            op,
            message: e.to_string(),
        })
    }

    /// `GetParameter`; `name` may carry a `:version` selector.
    pub async fn get_parameter(
        &self,
        name: &str,
        with_decryption: bool,
    ) -> Result<Parameter, SsmError> {
        let v = self
            .call(
                "GetParameter",
                json!({"Name": name, "WithDecryption": with_decryption}),
            )
            .await?;
        let p = &v["Parameter"];
        let field = |k: &str| {
            p[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| SsmError::Response {
                    op: "GetParameter",
                    message: format!("no Parameter.{k} in the answer"),
                })
        };
        Ok(Parameter {
            name: field("Name")?,
            ptype: field("Type")?,
            value: field("Value")?,
            version: p["Version"].as_i64().ok_or_else(|| SsmError::Response {
                op: "GetParameter",
                message: "no Parameter.Version in the answer".into(),
            })?,
        })
    }

    /// `PutParameter`; the version written.
    pub async fn put_parameter(&self, req: &PutRequest<'_>) -> Result<i64, SsmError> {
        let mut body = json!({
            "Name": req.name,
            "Value": req.value,
            "Type": req.ptype,
            "Overwrite": req.overwrite,
        });
        if let Some(t) = req.tier {
            body["Tier"] = json!(t);
        }
        if let Some(d) = req.description {
            body["Description"] = json!(d);
        }
        let v = self.call("PutParameter", body).await?;
        v["Version"].as_i64().ok_or_else(|| SsmError::Response {
            op: "PutParameter",
            message: "no Version in the answer".into(),
        })
    }
}

/// Store `value` as String parameter `name` (overwriting when `overwrite`) at the region's SSM
/// endpoint or `endpoint_override`, with the process's credential chain. Values over 4 KB go to
/// the Advanced tier. Returns the version written.
pub async fn put_parameter(
    endpoint_override: Option<&str>,
    region: &str,
    name: &str,
    value: &str,
    overwrite: bool,
) -> Result<i64, SsmError> {
    let client = SsmClient::from_env(endpoint_override, region)?;
    let tier = (value.len() > 4096).then_some("Advanced");
    client
        .put_parameter(&PutRequest {
            name,
            value,
            ptype: "String",
            overwrite,
            tier,
            description: None,
        })
        .await
}

/// Read parameter `name` (decrypted) at the region's SSM endpoint or `endpoint_override`, with
/// the process's credential chain.
pub async fn get_parameter(
    endpoint_override: Option<&str>,
    region: &str,
    name: &str,
) -> Result<Parameter, SsmError> {
    SsmClient::from_env(endpoint_override, region)?
        .get_parameter(name, true)
        .await
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ship::test_server::{Reply, TestServer};

    /// A client of the SSM endpoint at `url` (us-east-1) with static test keys.
    pub(crate) fn client(url: &str) -> SsmClient {
        let env: crate::ship::EnvLookup = Arc::new(|k| match k {
            "AWS_ACCESS_KEY_ID" => Some("AK".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("SK".into()),
            _ => None,
        });
        let imds = Arc::new(ImdsClient::new("http://127.0.0.1:9", true).unwrap());
        let creds = Arc::new(CredentialProvider::new(env, imds));
        SsmClient::new(
            ssm_endpoint(Some(url), "us-east-1").unwrap(),
            "us-east-1",
            creds,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn get_and_put_are_signed_awsjson_calls() {
        let server = TestServer::start(|r| {
            let target = r.header("x-amz-target").unwrap_or("").to_string();
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            match target.as_str() {
                "AmazonSSM.GetParameter" if body["Name"] == "/cfg" => Reply::new(
                    200,
                    r#"{"Parameter":{"Name":"/cfg","Type":"String","Value":"{}","Version":3}}"#,
                ),
                "AmazonSSM.GetParameter" => {
                    Reply::new(400, r#"{"__type":"ParameterNotFound","message":""}"#)
                }
                "AmazonSSM.PutParameter" => Reply::new(200, r#"{"Version":4,"Tier":"Standard"}"#),
                _ => Reply::new(400, "{}"),
            }
        })
        .await;
        let c = client(&server.url());
        let p = c.get_parameter("/cfg", true).await.unwrap();
        assert_eq!(
            p,
            Parameter {
                name: "/cfg".into(),
                ptype: "String".into(),
                value: "{}".into(),
                version: 3
            }
        );
        let e = c.get_parameter("/missing", true).await.unwrap_err();
        assert!(e.is_not_found(), "{e}");
        let v = c
            .put_parameter(&PutRequest {
                name: "/cfg",
                value: "{\"agent\":{}}",
                ptype: "String",
                overwrite: true,
                tier: None,
                description: Some("d"),
            })
            .await
            .unwrap();
        assert_eq!(v, 4);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 3);
        let auth = reqs[0].header("authorization").unwrap();
        assert!(auth.contains("/us-east-1/ssm/aws4_request"), "{auth}");
        assert_eq!(
            reqs[0].header("content-type"),
            Some("application/x-amz-json-1.1")
        );
        let put: Value = serde_json::from_slice(&reqs[2].body).unwrap();
        assert_eq!(put["Overwrite"], true);
        assert_eq!(put["Description"], "d");
        assert!(put.get("Tier").is_none());
    }
}
