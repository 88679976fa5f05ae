//! Set-up shared by the Logs API's tests: a request context, and operations called through
//! [`LogsApi::handle`] with their replies as JSON.

use hostwatch_aws::{ApiError, Protocol};
use serde_json::{json, Value};

use super::LogsApi;
use crate::api::RequestContext;
use crate::auth::Identity;

/// A signed-in request of account `123456789012` in `us-east-1`, made at `now_ms`.
pub(crate) fn ctx(now_ms: i64) -> RequestContext {
    RequestContext {
        request_id: "req-1".into(),
        identity: Identity {
            access_key_id: "AK".into(),
            region: "us-east-1".into(),
            service: "logs".into(),
        },
        protocol: Protocol::AwsJson11,
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        now_ms,
    }
}

/// Call `op`; an empty reply is `{}`.
pub(crate) async fn call(
    api: &LogsApi,
    ctx: &RequestContext,
    op: &str,
    input: Value,
) -> Result<Value, ApiError> {
    api.handle(op, input, ctx)
        .await
        .map(|o| o.map_or(json!({}), |s| s.to_json()))
}

/// Call `op`, failing the test when it is refused.
pub(crate) async fn ok(api: &LogsApi, ctx: &RequestContext, op: &str, input: Value) -> Value {
    match call(api, ctx, op, input.clone()).await {
        Ok(v) => v,
        Err(e) => panic!("{op} {input}: {e}"),
    }
}
