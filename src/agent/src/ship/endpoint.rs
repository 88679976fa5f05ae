//! Where to send: the region and the CloudWatch endpoint URL.
//!
//! Region, first found: `agent.region`, env `AWS_REGION`, env `AWS_DEFAULT_REGION`, the instance
//! metadata service; else a startup error that says how to set one.
//!
//! Endpoint: `metrics.endpoint_override` when set (with `https://` prepended when it has no
//! scheme), else `https://monitoring.<region>.amazonaws.com` (`.amazonaws.com.cn` in China
//! regions). The `Host` header that is signed is the URL's host, plus `:port` when the URL names
//! a non-default port, which is exactly what the HTTP client sends.

use super::imds::ImdsClient;

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: reqwest::Url,
    /// The `Host` header value.
    pub host: String,
    /// The request path (`/` unless the override names one).
    pub path: String,
}

/// An endpoint that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid endpoint {endpoint:?}: {reason}")]
pub struct EndpointError {
    pub endpoint: String,
    pub reason: String,
}

/// No region could be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no AWS region: set agent.region in the config or AWS_REGION in the environment ({0})")]
pub struct RegionError(pub String);

/// Parse an endpoint; a missing scheme means `https://`.
pub fn parse_endpoint(raw: &str) -> Result<Endpoint, EndpointError> {
    let raw = raw.trim();
    let err = |reason: String| EndpointError {
        endpoint: raw.to_string(),
        reason,
    };
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| err(e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(err(format!("unsupported scheme {}", url.scheme())));
    }
    let host_name = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| err("no host".into()))?;
    let host = match url.port() {
        Some(p) => format!("{host_name}:{p}"),
        None => host_name.to_string(),
    };
    let path = if url.path().is_empty() {
        "/".to_string()
    } else {
        url.path().to_string()
    };
    Ok(Endpoint { url, host, path })
}

/// The CloudWatch (monitoring) endpoint for `region`, or the override.
pub fn metrics_endpoint(
    override_url: Option<&str>,
    region: &str,
) -> Result<Endpoint, EndpointError> {
    service_endpoint("monitoring", override_url, region)
}

/// `https://<service>.<region>.amazonaws.com` (`.com.cn` in China), or the override.
pub fn service_endpoint(
    service: &str,
    override_url: Option<&str>,
    region: &str,
) -> Result<Endpoint, EndpointError> {
    match override_url.map(str::trim).filter(|s| !s.is_empty()) {
        Some(o) => parse_endpoint(o),
        None => {
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            parse_endpoint(&format!("https://{service}.{region}.{suffix}"))
        }
    }
}

/// Region from config or environment, without the network.
pub fn static_region(
    configured: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    configured
        .map(str::to_string)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
}

/// The full region chain, metadata service last.
pub async fn resolve_region(
    configured: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    imds: &ImdsClient,
) -> Result<String, RegionError> {
    if let Some(r) = static_region(configured, env) {
        return Ok(r);
    }
    imds.region()
        .await
        .map_err(|e| RegionError(format!("instance metadata: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let e = metrics_endpoint(None, "eu-west-1").unwrap();
        assert_eq!(
            e.url.as_str(),
            "https://monitoring.eu-west-1.amazonaws.com/"
        );
        assert_eq!(e.host, "monitoring.eu-west-1.amazonaws.com");
        assert_eq!(e.path, "/");
        let e = metrics_endpoint(None, "cn-north-1").unwrap();
        assert_eq!(e.host, "monitoring.cn-north-1.amazonaws.com.cn");
        let e = metrics_endpoint(Some("vpce-1.monitoring.example.com"), "x").unwrap();
        assert_eq!(e.url.scheme(), "https");
        assert_eq!(e.host, "vpce-1.monitoring.example.com");
        let e = metrics_endpoint(Some("http://127.0.0.1:4590"), "x").unwrap();
        assert_eq!(e.host, "127.0.0.1:4590");
        let e = metrics_endpoint(Some("https://h:443/base"), "x").unwrap();
        assert_eq!(e.host, "h");
        assert_eq!(e.path, "/base");
        assert!(metrics_endpoint(Some("ftp://h"), "x").is_err());
        assert!(metrics_endpoint(Some("http://"), "x").is_err());
    }

    #[test]
    fn region_precedence() {
        let env = |k: &str| match k {
            "AWS_REGION" => Some("env-region".to_string()),
            "AWS_DEFAULT_REGION" => Some("default-region".to_string()),
            _ => None,
        };
        assert_eq!(static_region(Some("cfg"), &env).as_deref(), Some("cfg"));
        assert_eq!(static_region(None, &env).as_deref(), Some("env-region"));
        let env2 = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "d".to_string());
        assert_eq!(static_region(None, &env2).as_deref(), Some("d"));
        assert_eq!(static_region(None, &|_: &str| None), None);
    }

    #[tokio::test]
    async fn region_error_is_clear() {
        let imds = ImdsClient::new("http://127.0.0.1:9", true).unwrap();
        let e = resolve_region(None, &|_: &str| None, &imds)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("agent.region"), "{e}");
        let server = crate::ship::imds::tests::imds_v2().await;
        let imds = ImdsClient::new(&server.url(), false).unwrap();
        assert_eq!(
            resolve_region(None, &|_: &str| None, &imds).await.unwrap(),
            "ap-south-1"
        );
    }
}
