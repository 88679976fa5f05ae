//! Test support: call a [`CloudWatchApi`] operation the way the server does (awsJson 1.0 in
//! query mode, region `us-east-1`, account `000000000000`) and get its JSON answer.

use hostwatch_aws::{ApiError, Protocol};
use serde_json::Value;

use super::CloudWatchApi;
use crate::api::RequestContext;
use crate::auth::Identity;

/// The request context of a test call made at `now_ms`.
pub(crate) fn context(now_ms: i64) -> RequestContext {
    RequestContext {
        request_id: "r".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "monitoring".into(),
        },
        protocol: Protocol::AwsJson10 { query_mode: true },
        region: "us-east-1".into(),
        account_id: "000000000000".into(),
        now_ms,
    }
}

/// One operation; its output as JSON (`null` when it has none).
pub(crate) async fn call(
    api: &CloudWatchApi,
    op: &str,
    input: Value,
    now_ms: i64,
) -> Result<Value, ApiError> {
    api.handle(op, input, &context(now_ms))
        .await
        .map(|s| s.map(|s| s.to_json()).unwrap_or(Value::Null))
}

/// One operation that must succeed.
pub(crate) async fn ok(api: &CloudWatchApi, op: &str, input: Value, now_ms: i64) -> Value {
    match call(api, op, input, now_ms).await {
        Ok(v) => v,
        Err(e) => panic!("{op} failed: {e}"),
    }
}

/// One operation that must fail: its (query code, message).
pub(crate) async fn err(
    api: &CloudWatchApi,
    op: &str,
    input: Value,
    now_ms: i64,
) -> (String, String) {
    let e = call(api, op, input, now_ms).await.expect_err("should fail");
    (e.query_code().to_string(), e.message.unwrap_or_default())
}
