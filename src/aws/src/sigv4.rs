//! AWS Signature Version 4: signing and verification.
//!
//! Both sides share [`canonical_request`], [`string_to_sign`] and [`signing_key`], so what the
//! agent signs is exactly what the collector verifies. The rules follow botocore's `SigV4Auth`:
//!
//! - canonical URI: the request path with dot segments removed, percent-encoded again with `/`
//!   and `~` kept (non-S3 services encode twice);
//! - canonical query: pairs decoded, re-encoded with RFC 3986 unreserved characters kept, sorted
//!   by key then value;
//! - canonical headers: only those named in `SignedHeaders`, lower-cased, values trimmed with
//!   inner runs of spaces folded, repeated headers joined with `,`;
//! - payload hash: the `x-amz-content-sha256` header when present, else hex SHA-256 of the body.
//!
//! A verifier must always use the client's `SignedHeaders` list, never a fixed set, because SDKs
//! sign whatever headers they send (`amz-sdk-invocation-id`, `x-amzn-query-mode`, ...).

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Credentials;

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name in the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Headers botocore never signs; the signer skips them too.
const UNSIGNED_HEADERS: &[&str] = &[
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
    "authorization",
    "content-length",
];

/// The parts of an HTTP request that take part in the signature.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// The path as sent on the wire (already percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header names (any case) and values; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `yyyymmdd` from the credential scope.
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Request is missing Authentication Token")]
    Missing,
    #[error("{0}")]
    Malformed(String),
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    BadSignature,
    #[error("Signature expired: {request_time} is now earlier than {earliest} ({now} - 15 min.)")]
    Expired {
        request_time: String,
        earliest: String,
        now: String,
    },
    #[error(
        "Signature not yet current: {request_time} is still later than {latest} ({now} + 15 min.)"
    )]
    NotYetCurrent {
        request_time: String,
        latest: String,
        now: String,
    },
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0u8; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The derived signing key for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn uri_encode(s: &str, keep_slash: bool, out: &mut String) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/');
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut segs: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let mut joined = segs.join("/");
    if !joined.starts_with('/') {
        joined.insert(0, '/');
    }
    if path.ends_with('/') && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let (mut ek, mut ev) = (String::new(), String::new());
            uri_encode(&k, false, &mut ek);
            uri_encode(&v, false, &mut ev);
            (ek, ev)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn fold_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request for `req`, covering the headers named in `signed_headers`
/// (lower-case, sorted).
pub fn canonical_request(
    req: &SignableRequest<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    uri_encode(&normalize_path(req.path), true, &mut out);
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| fold_spaces(v))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The string to sign.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

fn payload_hash(req: &SignableRequest<'_>) -> String {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| sha256_hex(req.body))
}

/// `yyyymmddTHHMMSSZ`.
pub fn format_amz_date(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Parse `yyyymmddTHHMMSSZ`.
pub fn parse_amz_date(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s.trim(), "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|n| n.and_utc())
}

/// Sign `req` and return the headers to add: `X-Amz-Date`, `X-Amz-Security-Token` (with
/// session credentials) and `Authorization`.
///
/// Every header already in `req` is signed except botocore's unsigned set; `host` must be there.
pub fn sign(
    req: &SignableRequest<'_>,
    creds: &Credentials,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(now);
    let date = &amz_date[..8];
    let mut added = vec![("X-Amz-Date".to_string(), amz_date.clone())];
    if let Some(token) = &creds.session_token {
        added.push(("X-Amz-Security-Token".to_string(), token.clone()));
    }
    let mut full = req.clone();
    full.headers.extend(added.iter().cloned());
    let mut signed: Vec<String> = full
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| !UNSIGNED_HEADERS.contains(&n.as_str()))
        .collect();
    signed.sort();
    signed.dedup();
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let creq = canonical_request(&full, &signed, &payload_hash(&full));
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(&creds.secret_access_key, date, region, service);
    let signature = hex::encode(hmac(&key, sts.as_bytes()));
    added.push((
        "Authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            creds.access_key_id,
            signed.join(";")
        ),
    ));
    added
}

/// Parse an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
pub fn parse_authorization(value: &str) -> Result<Authorization, AuthError> {
    let rest = value.trim().strip_prefix(ALGORITHM).ok_or_else(|| {
        AuthError::Malformed(format!(
            "Authorization header requires the {ALGORITHM} algorithm."
        ))
    })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some((k, v)) = part.split_once('=') {
            match k.trim() {
                "Credential" => credential = Some(v.trim()),
                "SignedHeaders" => signed = Some(v.trim()),
                "Signature" => signature = Some(v.trim()),
                _ => {}
            }
        }
    }
    let missing = |what: &str| {
        AuthError::Malformed(format!(
            "Authorization header requires '{what}' parameter. Authorization={}",
            value.trim()
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts[4] != "aws4_request" || parts[0].is_empty() {
        return Err(AuthError::Malformed(format!(
            "Credential should be scoped to a valid region, service and date: {credential}"
        )));
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(|h| h.is_empty()) {
        return Err(AuthError::Malformed(
            "SignedHeaders is malformed.".to_string(),
        ));
    }
    Ok(Authorization {
        access_key_id: parts[0].to_string(),
        date: parts[1].to_string(),
        region: parts[2].to_string(),
        service: parts[3].to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

/// The request's signing time, from `X-Amz-Date` or else `Date`.
pub fn request_time(req: &SignableRequest<'_>) -> Option<(String, DateTime<Utc>)> {
    let header = |name: &str| {
        req.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    if let Some(v) = header("x-amz-date") {
        return parse_amz_date(&v).map(|t| (v, t));
    }
    let v = header("date")?;
    let t = DateTime::parse_from_rfc2822(&v).ok()?.with_timezone(&Utc);
    Some((format_amz_date(t), t))
}

/// Check that the request time is within `max_skew_secs` of `now`.
pub fn check_skew(
    request: DateTime<Utc>,
    now: DateTime<Utc>,
    max_skew_secs: i64,
) -> Result<(), AuthError> {
    let skew = chrono::Duration::seconds(max_skew_secs);
    if request < now - skew {
        return Err(AuthError::Expired {
            request_time: format_amz_date(request),
            earliest: format_amz_date(now - skew),
            now: format_amz_date(now),
        });
    }
    if request > now + skew {
        return Err(AuthError::NotYetCurrent {
            request_time: format_amz_date(request),
            latest: format_amz_date(now + skew),
            now: format_amz_date(now),
        });
    }
    Ok(())
}

/// Verify `auth` over `req` with `secret`. Time checks are the caller's ([`check_skew`]).
pub fn verify(
    req: &SignableRequest<'_>,
    auth: &Authorization,
    secret: &str,
    amz_date: &str,
) -> Result<(), AuthError> {
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthError::BadSignature);
    }
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let creq = canonical_request(req, &auth.signed_headers, &payload_hash(req));
    let sts = string_to_sign(amz_date, &scope, &creq);
    let key = signing_key(secret, &auth.date, &auth.region, &auth.service);
    let expected = hex::encode(hmac(&key, sts.as_bytes()));
    if constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vanilla() -> SignableRequest<'static> {
        SignableRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: vec![("Host".into(), "example.amazonaws.com".into())],
            body: b"",
        }
    }

    // AWS's published SigV4 test suite, case "get-vanilla".
    #[test]
    fn aws_test_suite_get_vanilla() {
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let now = parse_amz_date("20150830T123600Z").unwrap();
        let headers = sign(&vanilla(), &creds, "us-east-1", "service", now);
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn aws_test_suite_get_vanilla_query_order_key() {
        // "get-vanilla-query-order-key-case": parameters sorted by key, then value.
        let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let now = parse_amz_date("20150830T123600Z").unwrap();
        let mut req = vanilla();
        req.query = "Param2=value2&Param1=value1";
        let headers = sign(&req, &creds, "us-east-1", "service", now);
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "Authorization")
            .unwrap()
            .1;
        assert!(
            auth.ends_with(
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            ),
            "{auth}"
        );
    }

    // Recorded from botocore's SigV4Auth for the same request (a PutMetricData over awsJson 1.0),
    // with and without a session token: the agent's signer must produce botocore's signature.
    #[test]
    fn matches_botocore() {
        let body = br#"{"Namespace":"CWAgent","MetricData":[{"MetricName":"cpu_usage_idle","Value":97.5}]}"#;
        let req = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("Content-Type".into(), "application/x-amz-json-1.0".into()),
                (
                    "X-Amz-Target".into(),
                    "GraniteServiceVersion20100801.PutMetricData".into(),
                ),
                ("x-amzn-query-mode".into(), "true".into()),
                ("User-Agent".into(), "botocore/test".into()),
                ("host".into(), "127.0.0.1:4590".into()),
            ],
            body,
        };
        let now = parse_amz_date("20261122T105339Z").unwrap();
        let mut creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let auth = |creds: &Credentials| {
            sign(&req, creds, "us-east-1", "monitoring", now)
                .last()
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(
            auth(&creds),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target;x-amzn-query-mode, Signature=aa6f2b2cc11aec1f9c2e2f818c838f584780eec3162bc3fed8ddca257a44235f"
        );
        creds.session_token = Some("SESSIONTOKEN".into());
        assert_eq!(
            auth(&creds),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/monitoring/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target;x-amzn-query-mode, Signature=84ede8b5c8ac8b16047f52a886477ec6de0c927c41d623ab1879c47643604c01"
        );
    }

    #[test]
    fn sign_then_verify() {
        let creds = Credentials::new("AKID", "secret");
        let now = Utc::now();
        let body = br#"{"a":1}"#;
        let mut req = SignableRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("Host".into(), "127.0.0.1:4590".into()),
                ("Content-Type".into(), "application/x-amz-json-1.1".into()),
                ("User-Agent".into(), "x".into()),
            ],
            body,
        };
        let added = sign(&req, &creds, "us-east-1", "logs", now);
        req.headers.extend(added.clone());
        let auth = parse_authorization(&added.last().unwrap().1).unwrap();
        assert_eq!(
            auth.signed_headers,
            vec!["content-type", "host", "x-amz-date"]
        );
        let (amz, t) = request_time(&req).unwrap();
        check_skew(t, now, 900).unwrap();
        verify(&req, &auth, "secret", &amz).unwrap();
        assert_eq!(
            verify(&req, &auth, "wrong", &amz),
            Err(AuthError::BadSignature)
        );
        req.body = br#"{"a":2}"#;
        assert_eq!(
            verify(&req, &auth, "secret", &amz),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn skew_window() {
        let now = parse_amz_date("20240101T003000Z").unwrap();
        let old = parse_amz_date("20240101T000000Z").unwrap();
        let e = check_skew(old, now, 900).unwrap_err();
        assert_eq!(e.to_string(), "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z (20240101T003000Z - 15 min.)");
        assert!(check_skew(now + chrono::Duration::minutes(16), now, 900).is_err());
        assert!(check_skew(now + chrono::Duration::minutes(14), now, 900).is_ok());
    }

    #[test]
    fn malformed_authorization() {
        assert!(parse_authorization("Basic abc").is_err());
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=00"
        )
        .is_err());
        assert!(parse_authorization(
            "AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/logs/aws4_request, Signature=00"
        )
        .is_err());
        let a = parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=AB").unwrap();
        assert_eq!(a.service, "logs");
        assert_eq!(a.signature, "ab");
    }

    #[test]
    fn path_normalisation() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        let mut s = String::new();
        uri_encode("/a b/%20", true, &mut s);
        assert_eq!(s, "/a%20b/%2520");
    }
}
