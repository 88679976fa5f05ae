//! PutMetricData over awsJson 1.0: encoding, batching, compression, signing, retries.
//!
//! Wire format (one `POST` to the endpoint's path):
//! - headers `X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`,
//!   `Content-Type: application/x-amz-json-1.0`, `x-amzn-query-mode: true`, `Host`, and
//!   `Content-Encoding: gzip` when the gzip body is smaller than the JSON;
//! - body `{"Namespace":..,"MetricData":[{"MetricName","Dimensions":[{"Name","Value"}],
//!   "Timestamp":<epoch seconds, fractional only when the datum has milliseconds>,
//!   "Value" | "Values"+"Counts" | "StatisticValues":{"SampleCount","Sum","Minimum","Maximum"},
//!   "Unit","StorageResolution"}]}`;
//! - compression happens before signing, so the SigV4 payload hash covers the gzip bytes;
//!   signed with service `monitoring` and the configured region.
//!
//! Batching: at most [`MAX_DATUMS_PER_CALL`] datums and [`MAX_BODY_BYTES`] of JSON per call.
//! A datum with a non-finite number is dropped at encoding (CloudWatch would reject the call).
//!
//! Retries: up to [`super::backoff::MAX_ATTEMPTS`] attempts with jittered exponential backoff on
//! connection errors, timeouts, HTTP 429/5xx and throttling codes; an expired-token error
//! refreshes the credentials and retries; any other client error is final and reported with the
//! AWS error code and message. An optional deadline (shutdown) bounds the whole call. The datums
//! of a batch that failed for a transient reason are handed back ([`PutOutcome::retry_later`])
//! so the caller can send them again with its next flush.

use super::aws_error::{parse_error, AwsErrorInfo};
use super::backoff::{random_backoff, MAX_ATTEMPTS};
use super::credentials::{CredentialProvider, CredentialsError};
use super::endpoint::Endpoint;
use super::signed;
use hostwatch_model::{DatumValue, MetricDatum, StatisticSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// CloudWatch's limit of datums per PutMetricData call.
pub const MAX_DATUMS_PER_CALL: usize = 1000;
/// Upper bound for one request's JSON body (CloudWatch accepts 1 MB per POST).
pub const MAX_BODY_BYTES: usize = 1_000_000;
/// The awsJson 1.0 target.
pub const TARGET: &str = "GraniteServiceVersion20100801.PutMetricData";
/// The awsJson 1.0 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The SigV4 signing name.
pub const SIGNING_SERVICE: &str = "monitoring";
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a batch was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    #[error("connection to {endpoint} failed: {message}")]
    Transport { endpoint: String, message: String },
    #[error("PutMetricData rejected: {0}")]
    Rejected(AwsErrorInfo),
    #[error("PutMetricData failed: {0}")]
    Service(AwsErrorInfo),
    #[error("gave up after {attempts} attempts; last error: {last}")]
    Exhausted { attempts: u32, last: Box<ShipError> },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl ShipError {
    /// Whether giving up on this batch was only a matter of time (the endpoint may recover).
    pub fn is_transient(&self) -> bool {
        match self {
            ShipError::Exhausted { last, .. } => last.is_retryable(),
            other => other.is_retryable(),
        }
    }

    fn is_retryable(&self) -> bool {
        match self {
            ShipError::Transport { .. } | ShipError::Credentials(_) => true,
            ShipError::Service(info) => info.is_retryable() || info.is_expired_credentials(),
            _ => false,
        }
    }
}

/// Append `v` as a JSON number; `false` (nothing written) when it is not finite.
fn write_number(out: &mut Vec<u8>, v: f64) -> bool {
    if !v.is_finite() {
        return false;
    }
    // Writing into a Vec cannot fail; the text is serde_json's (shortest round-trip) form.
    let _ = serde_json::to_writer(&mut *out, &v);
    true
}

/// Append `s` as a JSON string (escaped). Metric names and dimensions almost never hold a
/// byte that JSON escapes (a control character, `"` or `\\`): those are copied as they are,
/// the rest go through serde_json's escaper.
fn write_string(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        let _ = serde_json::to_writer(&mut *out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// Append one `MetricData` member as JSON, straight from the datum (no intermediate tree: the
/// agent encodes every datum it ships, so this is on its per-cycle path). Returns `false` when
/// the datum holds a non-finite number; `out` is then left as it was.
pub fn write_datum(out: &mut Vec<u8>, d: &MetricDatum) -> bool {
    let start = out.len();
    if write_datum_fields(out, d) {
        true
    } else {
        out.truncate(start);
        false
    }
}

fn write_datum_fields(out: &mut Vec<u8>, d: &MetricDatum) -> bool {
    out.extend_from_slice(b"{\"MetricName\":");
    write_string(out, &d.metric_name);
    if !d.dimensions.is_empty() {
        out.extend_from_slice(b",\"Dimensions\":[");
        for (i, x) in d.dimensions.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"Name\":");
            write_string(out, &x.name);
            out.extend_from_slice(b",\"Value\":");
            write_string(out, &x.value);
            out.push(b'}');
        }
        out.push(b']');
    }
    if let Some(ts) = d.timestamp_ms {
        out.extend_from_slice(b",\"Timestamp\":");
        if ts % 1000 == 0 {
            let _ = serde_json::to_writer(&mut *out, &(ts / 1000));
        } else if !write_number(out, ts as f64 / 1000.0) {
            return false;
        }
    }
    match &d.value {
        DatumValue::Single(v) => {
            out.extend_from_slice(b",\"Value\":");
            if !write_number(out, *v) {
                return false;
            }
        }
        DatumValue::StatisticSet(s) => {
            if !write_statistic_values(out, s) {
                return false;
            }
        }
        DatumValue::Distribution {
            values,
            counts,
            stats,
        } => {
            for (key, list) in [
                (&b",\"Values\":["[..], values),
                (&b",\"Counts\":["[..], counts),
            ] {
                out.extend_from_slice(key);
                for (i, v) in list.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if !write_number(out, *v) {
                        return false;
                    }
                }
                out.push(b']');
            }
            if let Some(s) = stats {
                if !write_statistic_values(out, s) {
                    return false;
                }
            }
        }
    }
    out.extend_from_slice(b",\"Unit\":");
    write_string(out, d.unit.as_str());
    out.extend_from_slice(b",\"StorageResolution\":");
    let _ = serde_json::to_writer(&mut *out, &d.storage_resolution);
    out.push(b'}');
    true
}

fn write_statistic_values(out: &mut Vec<u8>, s: &StatisticSet) -> bool {
    let fields = [
        (
            &b",\"StatisticValues\":{\"SampleCount\":"[..],
            s.sample_count,
        ),
        (&b",\"Sum\":"[..], s.sum),
        (&b",\"Minimum\":"[..], s.minimum),
        (&b",\"Maximum\":"[..], s.maximum),
    ];
    for (key, v) in fields {
        out.extend_from_slice(key);
        if !write_number(out, v) {
            return false;
        }
    }
    out.push(b'}');
    true
}

/// One request body, the number of datums in it and the input range it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBatch {
    pub body: Vec<u8>,
    pub datums: usize,
    /// Indexes into the input slice (dropped non-finite datums included).
    pub range: std::ops::Range<usize>,
}

/// Encode `datums` into request bodies of at most `max_datums` datums and `max_bytes` bytes
/// (a single datum larger than `max_bytes` still gets its own body).
pub fn encode_batches(
    namespace: &str,
    datums: &[MetricDatum],
    max_datums: usize,
    max_bytes: usize,
) -> Vec<EncodedBatch> {
    let mut prefix = b"{\"Namespace\":".to_vec();
    write_string(&mut prefix, namespace);
    prefix.extend_from_slice(b",\"MetricData\":[");
    let suffix = b"]}";
    let mut out = Vec::new();
    let mut body = prefix.clone();
    let mut count = 0usize;
    let mut start = 0usize;
    for (i, d) in datums.iter().enumerate() {
        let before = body.len();
        if count > 0 {
            body.push(b',');
        }
        if !write_datum(&mut body, d) {
            body.truncate(before);
            tracing::warn!(metric = %d.metric_name, "datum with a non-finite number dropped");
            continue;
        }
        if count > 0 && (count >= max_datums.max(1) || body.len() + suffix.len() > max_bytes) {
            // Move this datum (without its comma) into a fresh body; seal the full one.
            let mut next = prefix.clone();
            next.extend_from_slice(&body[before + 1..]);
            body.truncate(before);
            body.extend_from_slice(suffix);
            out.push(EncodedBatch {
                body: std::mem::replace(&mut body, next),
                datums: count,
                range: start..i,
            });
            count = 0;
            start = i;
        }
        count += 1;
    }
    if count > 0 {
        body.extend_from_slice(suffix);
        out.push(EncodedBatch {
            body,
            datums: count,
            range: start..datums.len(),
        });
    }
    out
}

/// The body to send: gzip when that is smaller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedBody {
    pub bytes: Vec<u8>,
    pub gzip: bool,
}

/// Compress `json` when it pays off.
pub fn prepare_body(json: Vec<u8>) -> PreparedBody {
    let z = hostwatch_aws::gzip::compress(&json);
    if !z.is_empty() && z.len() < json.len() {
        PreparedBody {
            bytes: z,
            gzip: true,
        }
    } else {
        PreparedBody {
            bytes: json,
            gzip: false,
        }
    }
}

/// The PutMetricData client.
#[derive(Debug)]
pub struct MetricsClient {
    svc: signed::Service,
    namespace: String,
}

impl MetricsClient {
    pub fn new(
        endpoint: Endpoint,
        region: &str,
        namespace: &str,
        credentials: Arc<CredentialProvider>,
    ) -> Result<Self, ShipError> {
        let svc = signed::Service::new(endpoint, region, SIGNING_SERVICE, credentials)
            .map_err(|e| ShipError::Client(e.to_string()))?;
        Ok(MetricsClient {
            svc,
            namespace: namespace.to_string(),
        })
    }

    /// The namespace datums are sent to.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// One signed attempt.
    pub async fn send_once(&self, body: &PreparedBody, timeout: Duration) -> Result<(), ShipError> {
        let creds = self.svc.credentials.credentials().await?;
        let headers: Vec<(String, String)> = vec![
            ("Content-Type".into(), CONTENT_TYPE.into()),
            ("X-Amz-Target".into(), TARGET.into()),
            ("x-amzn-query-mode".into(), "true".into()),
        ];
        let target = self.svc.target();
        let reply = signed::post(&self.svc.http, target, &creds, headers, body, timeout)
            .await
            .map_err(|e| ShipError::Transport {
                endpoint: self.svc.endpoint.url.to_string(),
                message: e.to_string(),
            })?;
        let (status, query_error, bytes) = (reply.status, reply.query_error, reply.body);
        if (200..300).contains(&status) {
            return Ok(());
        }
        let info = parse_error(status, query_error.as_deref(), &bytes);
        if info.is_retryable() || info.is_expired_credentials() {
            if info.is_expired_credentials() {
                self.svc.credentials.invalidate();
            }
            Err(ShipError::Service(info))
        } else {
            Err(ShipError::Rejected(info))
        }
    }

    /// Send one encoded batch with retries, giving up at `deadline` if one is given.
    pub async fn send_batch(
        &self,
        batch: &EncodedBatch,
        deadline: Option<Instant>,
    ) -> Result<(), ShipError> {
        let body = prepare_body(batch.body.clone());
        let mut attempt = 0u32;
        loop {
            let timeout = match deadline {
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .min(REQUEST_TIMEOUT),
                None => REQUEST_TIMEOUT,
            };
            let err = match self
                .send_once(&body, timeout.max(Duration::from_millis(1)))
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            attempt += 1;
            if !err.is_retryable() {
                return Err(err);
            }
            let wait = random_backoff(attempt - 1);
            let out_of_time = deadline.is_some_and(|d| Instant::now() + wait >= d);
            if attempt >= MAX_ATTEMPTS || out_of_time {
                return Err(ShipError::Exhausted {
                    attempts: attempt,
                    last: Box::new(err),
                });
            }
            tracing::debug!(attempt, ?wait, "PutMetricData retry: {err}");
            tokio::time::sleep(wait).await;
        }
    }

    /// Encode and send `datums` in as many calls as needed.
    pub async fn put(&self, datums: &[MetricDatum], deadline: Option<Instant>) -> PutOutcome {
        let mut outcome = PutOutcome::default();
        for batch in encode_batches(&self.namespace, datums, MAX_DATUMS_PER_CALL, MAX_BODY_BYTES) {
            match self.send_batch(&batch, deadline).await {
                Ok(()) => outcome.delivered += batch.datums,
                Err(e) => {
                    tracing::error!(datums = batch.datums, "PutMetricData: {e}");
                    if e.is_transient() {
                        outcome
                            .retry_later
                            .extend_from_slice(&datums[batch.range.clone()]);
                    }
                    outcome.errors.push(e);
                }
            }
        }
        outcome
    }
}

/// What [`MetricsClient::put`] achieved.
#[derive(Debug, Default)]
pub struct PutOutcome {
    /// Datums accepted by the endpoint.
    pub delivered: usize,
    /// Datums of batches that failed for a transient reason (unreachable endpoint, throttling,
    /// server errors, no credentials yet): worth sending again later.
    pub retry_later: Vec<MetricDatum>,
    /// One error per failed batch.
    pub errors: Vec<ShipError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ship::endpoint::parse_endpoint;
    use crate::ship::imds::ImdsClient;
    use crate::ship::test_server::{Reply, TestServer};
    use hostwatch_aws::sigv4::{parse_authorization, request_time, verify, SignableRequest};
    use hostwatch_model::{Dimension, StatisticSet, Unit};
    use serde_json::{json, Value};

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "",
            "cpu_usage_idle",
            "/dev/nvme0n1p1",
            "ünïcode ✓",
            "quote\"inside",
            "back\\slash",
            "tab\tand\nnewline\u{1}",
            "del\u{7f}",
        ] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
    }
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn datum(name: &str, v: f64) -> MetricDatum {
        MetricDatum {
            metric_name: name.into(),
            dimensions: vec![Dimension::new("host", "h1"), Dimension::new("cpu", "cpu0")],
            timestamp_ms: Some(1_700_000_000_000),
            value: DatumValue::Single(v),
            unit: Unit::Percent,
            storage_resolution: 1,
        }
    }

    fn datum_json(d: &MetricDatum) -> Option<Value> {
        let mut out = Vec::new();
        write_datum(&mut out, d).then(|| serde_json::from_slice(&out).unwrap())
    }

    #[test]
    fn json_shapes() {
        let v = datum_json(&datum("cpu_usage_idle", 97.5)).unwrap();
        assert_eq!(
            v,
            json!({
                "MetricName": "cpu_usage_idle",
                "Dimensions": [{"Name": "host", "Value": "h1"}, {"Name": "cpu", "Value": "cpu0"}],
                "Timestamp": 1_700_000_000,
                "Value": 97.5,
                "Unit": "Percent",
                "StorageResolution": 1
            })
        );
        let mut d = datum("x", 1.0);
        d.timestamp_ms = Some(1_700_000_000_250);
        d.dimensions.clear();
        d.value = DatumValue::distribution_with_stats(vec![1.0, 10.0], vec![2.0, 4.0]);
        d.unit = Unit::BytesPerSecond;
        d.storage_resolution = 60;
        let v = datum_json(&d).unwrap();
        assert_eq!(v["Timestamp"], json!(1_700_000_000.25));
        assert_eq!(v["Values"], json!([1.0, 10.0]));
        assert_eq!(v["Counts"], json!([2.0, 4.0]));
        // Distributions carry their statistic set, as the CloudWatch agent sends them.
        assert_eq!(
            v["StatisticValues"],
            json!({"SampleCount": 6.0, "Sum": 42.0, "Minimum": 1.0, "Maximum": 10.0})
        );
        assert_eq!(v["Unit"], "Bytes/Second");
        assert!(v.get("Dimensions").is_none());
        d.value = DatumValue::StatisticSet(StatisticSet {
            sample_count: 2.0,
            sum: 3.0,
            minimum: 1.0,
            maximum: 2.0,
        });
        let v = datum_json(&d).unwrap();
        assert_eq!(
            v["StatisticValues"],
            json!({"SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0})
        );
        assert!(datum_json(&datum("nan", f64::NAN)).is_none());
        assert!(datum_json(&datum("inf", f64::INFINITY)).is_none());
    }

    #[test]
    fn body_and_batch_split() {
        let datums: Vec<MetricDatum> = (0..2500).map(|i| datum("m", i as f64)).collect();
        let batches = encode_batches("CWAgent", &datums, MAX_DATUMS_PER_CALL, MAX_BODY_BYTES);
        assert_eq!(
            batches.iter().map(|b| b.datums).collect::<Vec<_>>(),
            vec![1000, 1000, 500]
        );
        for b in &batches {
            let v: Value = serde_json::from_slice(&b.body).unwrap();
            assert_eq!(v["Namespace"], "CWAgent");
            assert_eq!(v["MetricData"].as_array().unwrap().len(), b.datums);
        }
        let v: Value = serde_json::from_slice(&batches[1].body).unwrap();
        assert_eq!(v["MetricData"][0]["Value"], json!(1000.0));
        assert_eq!(batches[1].range, 1000..2000);
        assert_eq!(batches[2].range, 2000..2500);
        // Byte cap: tiny limit forces one datum per body.
        let small = encode_batches("N", &datums[..3], 1000, 10);
        assert_eq!(small.len(), 3);
        // Non-finite datums vanish; nothing left = no batch.
        assert!(encode_batches("N", &[datum("n", f64::NAN)], 1000, 1000).is_empty());
        assert_eq!(
            encode_batches("N", &[datum("a", 1.0), datum("n", f64::NAN)], 1000, 1000000)[0].datums,
            1
        );
    }

    #[test]
    fn gzip_only_when_smaller() {
        let big = encode_batches(
            "N",
            &(0..100).map(|i| datum("m", i as f64)).collect::<Vec<_>>(),
            1000,
            MAX_BODY_BYTES,
        );
        let p = prepare_body(big[0].body.clone());
        assert!(p.gzip);
        assert!(p.bytes.len() < big[0].body.len());
        let p = prepare_body(b"{}".to_vec());
        assert!(!p.gzip);
        assert_eq!(p.bytes, b"{}");
    }

    fn static_credentials() -> Arc<CredentialProvider> {
        let env: crate::ship::credentials::EnvLookup = Arc::new(|k: &str| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIDTEST".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret-test".to_string()),
            _ => None,
        });
        Arc::new(CredentialProvider::new(
            env,
            Arc::new(ImdsClient::new("http://127.0.0.1:9", true).unwrap()),
        ))
    }

    /// A CloudWatch stand-in that checks signature, target, mode and gzip like the collector.
    fn check_request(req: &crate::ship::test_server::Request) -> Result<Value, String> {
        let signable = SignableRequest {
            method: &req.method,
            path: &req.path,
            query: "",
            headers: req.headers.clone(),
            body: &req.body,
        };
        let auth = parse_authorization(req.header("authorization").ok_or("no auth")?)
            .map_err(|e| e.to_string())?;
        if auth.service != "monitoring" || auth.region != "eu-central-1" {
            return Err(format!("scope {}/{}", auth.service, auth.region));
        }
        let (amz, _) = request_time(&signable).ok_or("no date")?;
        verify(&signable, &auth, "secret-test", &amz).map_err(|e| e.to_string())?;
        if req.header("x-amz-target") != Some(TARGET) {
            return Err("target".into());
        }
        if req.header("content-type") != Some(CONTENT_TYPE) {
            return Err("content type".into());
        }
        if req.header("x-amzn-query-mode") != Some("true") {
            return Err("query mode".into());
        }
        for h in [
            "host",
            "x-amz-target",
            "content-encoding",
            "x-amzn-query-mode",
        ] {
            if !auth.signed_headers.iter().any(|s| s == h) {
                return Err(format!("{h} not signed"));
            }
        }
        if req.header("content-encoding") != Some("gzip") {
            return Err("not gzip".into());
        }
        let json =
            hostwatch_aws::gzip::inflate(&req.body, 10_000_000).map_err(|e| e.to_string())?;
        serde_json::from_slice(&json).map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn ships_signed_gzip_batches() {
        let server = TestServer::start(|req| match check_request(req) {
            Ok(_) => Reply::new(200, "{}").with_header("Content-Type", CONTENT_TYPE),
            Err(e) => Reply::new(400, format!(r#"{{"__type":"Test","message":"{e}"}}"#)),
        })
        .await;
        let endpoint = parse_endpoint(&server.url()).unwrap();
        let client =
            MetricsClient::new(endpoint, "eu-central-1", "CWAgent", static_credentials()).unwrap();
        let datums: Vec<MetricDatum> = (0..1500)
            .map(|i| datum("cpu_usage_idle", i as f64))
            .collect();
        let outcome = client.put(&datums, None).await;
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.delivered, 1500);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        let first = check_request(&reqs[0]).unwrap();
        assert_eq!(first["Namespace"], "CWAgent");
        assert_eq!(first["MetricData"].as_array().unwrap().len(), 1000);
        assert_eq!(reqs[0].header("host"), Some(server.authority().as_str()));
    }

    #[tokio::test]
    async fn retries_throttling_and_stops_on_client_errors() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let server = TestServer::start(move |req| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if req.path == "/reject" {
                return Reply::new(
                    400,
                    r#"{"__type":"InvalidParameterValueException","message":"The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."}"#,
                )
                .with_header("x-amzn-query-error", "InvalidParameterValue;Sender");
            }
            match n {
                0 => Reply::new(400, r#"{"__type":"Throttling","message":"Rate exceeded"}"#),
                1 => Reply::new(503, ""),
                _ => Reply::new(200, "{}"),
            }
        })
        .await;
        let client = MetricsClient::new(
            parse_endpoint(&server.url()).unwrap(),
            "eu-central-1",
            "N",
            static_credentials(),
        )
        .unwrap();
        let outcome = client.put(&[datum("a", 1.0)], None).await;
        assert_eq!((outcome.delivered, outcome.errors.len()), (1, 0));
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        let client = MetricsClient::new(
            parse_endpoint(&format!("{}/reject", server.url())).unwrap(),
            "eu-central-1",
            "N",
            static_credentials(),
        )
        .unwrap();
        let before = calls.load(Ordering::SeqCst);
        let outcome = client.put(&[datum("a", 1.0)], None).await;
        assert_eq!(outcome.delivered, 0);
        assert_eq!(calls.load(Ordering::SeqCst), before + 1, "no retry on 400");
        assert!(
            outcome.retry_later.is_empty(),
            "a rejected batch is not kept"
        );
        match &outcome.errors[0] {
            ShipError::Rejected(info) => {
                assert_eq!(info.code, "InvalidParameterValue");
                assert!(info.message.contains("two weeks"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn connection_errors_exhaust_attempts_within_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = MetricsClient::new(
            parse_endpoint(&format!("http://127.0.0.1:{port}")).unwrap(),
            "eu-central-1",
            "N",
            static_credentials(),
        )
        .unwrap();
        let start = Instant::now();
        let deadline = start + Duration::from_millis(500);
        let outcome = client.put(&[datum("a", 1.0)], Some(deadline)).await;
        assert_eq!(outcome.delivered, 0);
        assert!(
            matches!(outcome.errors[0], ShipError::Exhausted { .. }),
            "{:?}",
            outcome.errors
        );
        assert_eq!(outcome.retry_later.len(), 1, "kept for a later flush");
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
