//! The CloudWatch alarm operations over every protocol: PutMetricAlarm, PutCompositeAlarm,
//! DescribeAlarms, DescribeAlarmsForMetric, DescribeAlarmHistory, DeleteAlarms, SetAlarmState,
//! EnableAlarmActions, DisableAlarmActions, TagResource, UntagResource, ListTagsForResource.
//!
//! One file per concern: `put_metric` and `metrics` (PutMetricAlarm and its `Metrics` list),
//! `put_composite`, `describe` (with `output`, the MetricAlarm / CompositeAlarm shapes),
//! `history`, `state` (SetAlarmState, Enable/DisableAlarmActions, DeleteAlarms), `tags`, and
//! `common` (shared checks). Inputs are validated here with AWS's codes and texts (model
//! constraints as `ValidationError` lists, semantic rules with the recorded messages); the
//! rules that need the alarm set are the alarm service's (`crate::alarms::ops`).
//!
//! The service's operations write SQLite, so they run on the blocking pool.

mod common;
mod describe;
mod history;
mod metrics;
mod output;
mod put_composite;
mod put_metric;
mod state;
mod tags;

#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::alarms::{AlarmError, AlarmService};

/// The operations this module serves.
pub const OPERATIONS: &[&str] = &[
    "PutMetricAlarm",
    "PutCompositeAlarm",
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAlarmHistory",
    "DeleteAlarms",
    "SetAlarmState",
    "EnableAlarmActions",
    "DisableAlarmActions",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Handle one alarm operation.
pub async fn handle(
    service: Option<&Arc<AlarmService>>,
    op: &str,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let Some(service) = service else {
        return Err(ApiError::internal("The alarm service is not running."));
    };
    let s = service.clone();
    let fp = fingerprint(&input);
    match op {
        "PutMetricAlarm" => {
            let (config, tags) = put_metric::validate(input)?;
            blocking(move || s.put_metric_alarm(config, tags).map(|_| None)).await
        }
        "PutCompositeAlarm" => {
            let (config, tags) = put_composite::validate(input, s.scope())?;
            blocking(move || s.put_composite_alarm(config, tags).map(|_| None)).await
        }
        "DescribeAlarms" => {
            let q = describe::validate(input, fp)?;
            reading(move || Ok(describe::describe(&s, &q))).await
        }
        "DescribeAlarmsForMetric" => {
            let q = describe::validate_for_metric(input)?;
            reading(move || Ok(describe::for_metric(&s, &q))).await
        }
        "DescribeAlarmHistory" => {
            let q = history::validate(input, fp)?;
            blocking(move || history::run(&s, &q)).await
        }
        "DeleteAlarms" => {
            let names = state::alarm_names(input, "AlarmNames")?;
            blocking(move || s.delete_alarms(&names).map(|_| None)).await
        }
        "SetAlarmState" => {
            let req = state::validate_set_state(input)?;
            blocking(move || {
                s.set_alarm_state(&req.name, req.value, req.reason, req.reason_data)
                    .map(|_| None)
            })
            .await
        }
        "EnableAlarmActions" | "DisableAlarmActions" => {
            let names = state::alarm_names(input, "AlarmNames")?;
            let enable = op == "EnableAlarmActions";
            blocking(move || s.set_actions_enabled(&names, enable).map(|_| None)).await
        }
        "TagResource" => {
            let (name, tags) = tags::validate_tag(input, s.scope())?;
            blocking(move || s.tag_alarm(&name, tags).map(|_| Some(Shape::obj()))).await
        }
        "UntagResource" => {
            let (name, keys) = tags::validate_untag(input, s.scope())?;
            blocking(move || s.untag_alarm(&name, &keys).map(|_| Some(Shape::obj()))).await
        }
        "ListTagsForResource" => {
            let name = tags::validate_list(input, s.scope())?;
            reading(move || tags::list(&s, &name)).await
        }
        _ => Err(crate::api::unknown_operation(
            "GraniteServiceVersion20100801",
            op,
            true,
        )),
    }
}

async fn blocking<F>(f: F) -> Result<Option<Shape>, ApiError>
where
    F: FnOnce() -> Result<Option<Shape>, AlarmError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("alarm task failed: {e}")))?
        .map_err(api_error)
}

/// Run a read of the alarm set on the blocking pool (it may wait for a round's commit).
async fn reading<F>(f: F) -> Result<Option<Shape>, ApiError>
where
    F: FnOnce() -> Result<Shape, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("alarm task failed: {e}")))?
        .map(Some)
}

/// The API error for a service error.
pub fn api_error(e: AlarmError) -> ApiError {
    match e {
        AlarmError::Store(e) => {
            tracing::error!(error = %e, "Alarm storage failed.");
            ApiError::internal("The alarm store failed to process the request.")
        }
        AlarmError::NotFound(_) => ApiError::cloudwatch("ResourceNotFound", "").without_message(),
        AlarmError::ResourceNotFound(m) => ApiError::cloudwatch("ResourceNotFoundException", m),
        AlarmError::Validation(m) => ApiError::cloudwatch("ValidationError", m),
        AlarmError::LimitExceeded(m) => ApiError::cloudwatch("LimitExceeded", m),
    }
}

/// A digest of the request parameters other than `NextToken` (ties tokens to their request).
fn fingerprint(input: &serde_json::Value) -> String {
    let mut v = input.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("NextToken");
    }
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..12])
}
