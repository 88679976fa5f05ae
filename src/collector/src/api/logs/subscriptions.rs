//! Subscription filters: PutSubscriptionFilter, DescribeSubscriptionFilters,
//! DeleteSubscriptionFilter.
//!
//! At most [`MAX_SUBSCRIPTIONS`] per group (`LimitExceededException`, as AWS). Destinations
//! are this collector's event targets (see [`crate::events::target`]): an event bus
//! (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`, which must exist), an HTTP endpoint, a
//! command, a JSON-lines file, or another log group of this collector (which must exist and
//! may not be the subscribed group). Anything else is refused with AWS's wording for a
//! destination it cannot reach. `roleArn` and `distribution` (`ByLogStream` | `Random`, default
//! `ByLogStream`) are stored and shown; they change nothing here. Delivery is in
//! [`super::ingest`].

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::errors::{constraint, internal, invalid_parameter, missing};
use super::metric_filters::{
    check_name_prefix, check_put_limits, delete_filter, group_and_name, required_pattern,
    FilterKind,
};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_name, range};
use super::LogsApi;
use crate::api::parse_input;
use crate::events::target::{self, TargetKind};
use crate::store::log_filters::{Job, SubscriptionDef};

/// Most subscription filters in one group.
pub const MAX_SUBSCRIPTIONS: usize = 2;

const TOKEN_KIND: &str = "subscription-filter";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutInput {
    log_group_name: Option<String>,
    filter_name: Option<String>,
    filter_pattern: Option<String>,
    destination_arn: Option<String>,
    role_arn: Option<String>,
    distribution: Option<String>,
    apply_on_transformed_logs: Option<bool>,
}

fn unreachable_destination() -> ApiError {
    invalid_parameter(
        "Could not deliver test message to specified destination. Check if the destination is valid.",
    )
}

pub(super) async fn put_subscription_filter(
    api: &LogsApi,
    input: serde_json::Value,
    now_ms: i64,
) -> Result<Option<Shape>, ApiError> {
    let i: PutInput = parse_input(input, false)?;
    let (group, name) = group_and_name(i.log_group_name.as_deref(), i.filter_name.as_deref())?;
    let (pattern_src, pattern) = required_pattern(i.filter_pattern.as_deref())?;
    let destination = i
        .destination_arn
        .as_deref()
        .ok_or_else(|| missing("destinationArn"))?;
    if destination.is_empty() {
        return Err(constraint(
            destination,
            "destinationArn",
            "Member must have length greater than or equal to 1",
        ));
    }
    let distribution = i.distribution.unwrap_or_else(|| "ByLogStream".to_string());
    if !matches!(distribution.as_str(), "ByLogStream" | "Random") {
        return Err(constraint(
            &distribution,
            "distribution",
            "Member must satisfy enum value set: [Random, ByLogStream]",
        ));
    }
    let group_id = api.store.group_id(group)?;
    match target::parse(destination).map_err(|_| unreachable_destination())? {
        TargetKind::Bus(bus) => {
            let events = api.sinks.events.get().ok_or_else(unreachable_destination)?;
            if !events.with_config(|c| c.bus_exists(&bus)) {
                return Err(unreachable_destination());
            }
        }
        TargetKind::LogGroup(g) => {
            let exists = api.store.with_catalog(|c| c.groups.contains_key(&g));
            if !exists || g == group {
                return Err(unreachable_destination());
            }
        }
        TargetKind::Http { .. } | TargetKind::Command(_) | TargetKind::File(_) => {}
    }
    if api.sinks.events.get().is_none() {
        return Err(unreachable_destination());
    }
    let _ddl = api.filter_ddl.lock().await;
    check_put_limits(
        api,
        group,
        group_id,
        &name,
        FilterKind::Subscription,
        &pattern,
    )?;
    let def = SubscriptionDef {
        group_name: group.to_string(),
        group_id,
        name,
        pattern: pattern_src.to_string(),
        destination_arn: destination.to_string(),
        role_arn: i.role_arn,
        distribution,
        creation_time: now_ms,
        apply_on_transformed_logs: i.apply_on_transformed_logs.unwrap_or(false),
    };
    api.filters
        .submit(Job::PutSubscription(def))
        .await
        .map_err(|e| internal(&e))?;
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    log_group_name: Option<String>,
    filter_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

fn filter_shape(d: &SubscriptionDef) -> Shape {
    Shape::obj()
        .with("filterName", Shape::Str(d.name.clone()))
        .with("logGroupName", Shape::Str(d.group_name.clone()))
        .with("filterPattern", Shape::Str(d.pattern.clone()))
        .with("destinationArn", Shape::Str(d.destination_arn.clone()))
        .with_opt("roleArn", d.role_arn.clone().map(Shape::Str))
        .with("distribution", Shape::Str(d.distribution.clone()))
        .with(
            "applyOnTransformedLogs",
            Shape::Bool(d.apply_on_transformed_logs),
        )
        .with("creationTime", Shape::Int(d.creation_time))
}

pub(super) fn describe_subscription_filters(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeInput = parse_input(input, false)?;
    let group = i
        .log_group_name
        .as_deref()
        .ok_or_else(|| missing("logGroupName"))?;
    group_name(group, "logGroupName")?;
    check_name_prefix(i.filter_name_prefix.as_deref())?;
    let limit = i.limit.unwrap_or(50);
    range(limit, "limit", 1, 50)?;
    let after = i
        .next_token
        .as_deref()
        .map(|t| parse_list_token(TOKEN_KIND, t))
        .transpose()?;
    let group_id = api.store.group_id(group)?;
    let all: BTreeMap<String, SubscriptionDef> = api.filters.with(|f| {
        f.subscription_of(group, group_id)
            .into_iter()
            .map(|x| (x.def.name.clone(), x.def.clone()))
            .collect()
    });
    let mut page = Vec::new();
    let mut more = false;
    for (name, d) in all {
        if i.filter_name_prefix
            .as_deref()
            .is_some_and(|p| !name.starts_with(p))
        {
            continue;
        }
        if after
            .as_ref()
            .is_some_and(|a| a.first().is_none_or(|l| &name <= l))
        {
            continue;
        }
        if page.len() == limit as usize {
            more = true;
            break;
        }
        page.push(d);
    }
    let mut out = Shape::obj().with(
        "subscriptionFilters",
        Shape::List(page.iter().map(filter_shape).collect()),
    );
    if let (true, Some(last)) = (more, page.last()) {
        out = out.with(
            "nextToken",
            Shape::Str(list_token(TOKEN_KIND, &[&last.name])),
        );
    }
    Ok(Some(out))
}

pub(super) async fn delete_subscription_filter(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    delete_filter(api, input, FilterKind::Subscription).await
}
