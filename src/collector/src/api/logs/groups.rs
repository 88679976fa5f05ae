//! Log groups: CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
//! DeleteRetentionPolicy.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::errors::{constraint, invalid_parameter};
use super::tokens::{list_token, parse_list_token};
use super::validate::{group_arns, group_name, identifier_to_name, range, required};
use super::LogsApi;
use crate::api::{parse_input, RequestContext};
use crate::store::logs::{GroupInfo, LogGroupClass, NewGroup};

/// Retention periods AWS accepts, in days.
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Most tags on one group.
pub const MAX_TAGS: usize = 50;

/// Most groups per DescribeLogGroups page.
const MAX_DESCRIBE_LIMIT: i64 = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateLogGroupInput {
    log_group_name: Option<String>,
    kms_key_id: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    log_group_class: Option<String>,
}

pub(super) async fn create_log_group(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: CreateLogGroupInput = parse_input(input, false)?;
    let name = required(&i.log_group_name, "logGroupName")?;
    group_name(name, "logGroupName")?;
    let class = match i.log_group_class.as_deref() {
        None => LogGroupClass::Standard,
        Some(c) => LogGroupClass::parse(c).ok_or_else(|| {
            constraint(
                c,
                "logGroupClass",
                "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
            )
        })?,
    };
    let tags = i.tags.unwrap_or_default();
    validate_tags(&tags)?;
    api.store
        .create_group(NewGroup {
            name: name.to_string(),
            kms_key_id: i.kms_key_id,
            class,
            tags,
        })
        .await?;
    Ok(None)
}

/// Tag-count and tag-size limits.
pub(super) fn validate_tags(tags: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid_parameter(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}"
        )));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(constraint(
                k,
                "tags",
                "Map keys must have length between 1 and 128",
            ));
        }
        if v.chars().count() > 256 {
            return Err(constraint(
                v,
                "tags",
                "Map values must have length less than or equal to 256",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupNameInput {
    log_group_name: Option<String>,
}

pub(super) async fn delete_log_group(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: GroupNameInput = parse_input(input, false)?;
    let name = required(&i.log_group_name, "logGroupName")?;
    group_name(name, "logGroupName")?;
    let group_id = api.store.group_id(name).ok();
    api.store.delete_group(name).await?;
    if let Some(group_id) = group_id {
        // The group's metric and subscription filters go with it. A failure here leaves rows
        // that are ignored anyway (they name a group id that no longer exists).
        let job = crate::store::log_filters::Job::DeleteGroup {
            group: name.to_string(),
            group_id,
        };
        if let Err(e) = api.filters.submit(job).await {
            tracing::warn!(group = name, error = %e, "Filters of a deleted log group not removed.");
        }
    }
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RetentionInput {
    log_group_name: Option<String>,
    retention_in_days: Option<i64>,
}

pub(super) async fn put_retention_policy(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: RetentionInput = parse_input(input, false)?;
    let name = required(&i.log_group_name, "logGroupName")?;
    group_name(name, "logGroupName")?;
    let days = i
        .retention_in_days
        .ok_or_else(|| super::errors::missing("retentionInDays"))?;
    let allowed = RETENTION_DAYS
        .iter()
        .find(|d| i64::from(**d) == days)
        .copied()
        .ok_or_else(|| {
            let set: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
            constraint(
                &days.to_string(),
                "retentionInDays",
                &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
            )
        })?;
    api.store.set_retention(name, Some(allowed)).await?;
    Ok(None)
}

pub(super) async fn delete_retention_policy(
    api: &LogsApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let i: GroupNameInput = parse_input(input, false)?;
    let name = required(&i.log_group_name, "logGroupName")?;
    group_name(name, "logGroupName")?;
    api.store.set_retention(name, None).await?;
    Ok(None)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeLogGroupsInput {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    log_group_identifiers: Option<Vec<String>>,
    log_group_class: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

pub(super) fn describe_log_groups(
    api: &LogsApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let i: DescribeLogGroupsInput = parse_input(input, false)?;
    if i.log_group_name_prefix.is_some() && i.log_group_name_pattern.is_some() {
        return Err(invalid_parameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let identifiers = match &i.log_group_identifiers {
        None => None,
        Some(ids) => {
            if i.log_group_name_prefix.is_some() || i.log_group_name_pattern.is_some() {
                return Err(invalid_parameter(
                    "LogGroup identifiers and LogGroup name prefix or pattern are mutually exclusive parameters.",
                ));
            }
            if ids.is_empty() || ids.len() > 50 {
                return Err(invalid_parameter(
                    "1 validation error detected: Value at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length between 1 and 50",
                ));
            }
            let names: Result<std::collections::BTreeSet<String>, ApiError> =
                ids.iter().map(|id| identifier_to_name(id)).collect();
            Some(names?)
        }
    };
    if let Some(p) = &i.log_group_name_prefix {
        group_name(p, "logGroupNamePrefix")?;
    }
    let class = match i.log_group_class.as_deref() {
        None => None,
        Some(c) => Some(LogGroupClass::parse(c).ok_or_else(|| {
            constraint(
                c,
                "logGroupClass",
                "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
            )
        })?),
    };
    let limit = i.limit.unwrap_or(MAX_DESCRIBE_LIMIT);
    range(limit, "limit", 1, MAX_DESCRIBE_LIMIT)?;
    let after = match &i.next_token {
        None => None,
        Some(t) => {
            let parts = parse_list_token("g", t)?;
            match parts.as_slice() {
                [name] => Some(name.clone()),
                _ => return Err(super::errors::invalid_token()),
            }
        }
    };
    let matches = |g: &GroupInfo| {
        identifiers.as_ref().is_none_or(|ids| ids.contains(&g.name))
            && i.log_group_name_prefix
                .as_deref()
                .is_none_or(|p| g.name.starts_with(p))
            && i.log_group_name_pattern
                .as_deref()
                .is_none_or(|p| g.name.contains(p))
            && class.is_none_or(|c| g.class == c)
    };
    let (page, next) = api.store.with_catalog(|cat| {
        use std::ops::Bound;
        let start = match &after {
            Some(a) => Bound::Excluded(a.clone()),
            None => Bound::Unbounded,
        };
        let mut it = cat
            .groups
            .range::<String, _>((start, Bound::Unbounded))
            .map(|(_, g)| g)
            .filter(|g| matches(g));
        let groups: Vec<&GroupInfo> = it.by_ref().take(limit as usize).collect();
        let next = match (it.next(), groups.last()) {
            (Some(_), Some(last)) => Some(list_token("g", &[&last.name])),
            _ => None,
        };
        let page: Vec<Shape> = groups.into_iter().map(|g| group_shape(g, ctx)).collect();
        (page, next)
    });
    Ok(Some(
        Shape::obj()
            .with("logGroups", Shape::List(page))
            .with_opt("nextToken", next),
    ))
}

/// The `LogGroup` output structure.
pub(super) fn group_shape(g: &GroupInfo, ctx: &RequestContext) -> Shape {
    let (arn, group_arn) = group_arns(&ctx.region, &ctx.account_id, &g.name);
    Shape::obj()
        .with("logGroupName", Shape::Str(g.name.clone()))
        .with("creationTime", Shape::Int(g.creation_time))
        .with_opt(
            "retentionInDays",
            g.retention_days.map(|d| Shape::Int(d.into())),
        )
        .with("metricFilterCount", Shape::Int(0))
        .with("arn", Shape::Str(arn))
        .with("storedBytes", Shape::Int(g.stored_bytes))
        .with_opt("kmsKeyId", g.kms_key_id.clone().map(Shape::Str))
        .with("logGroupClass", Shape::Str(g.class.as_str().to_string()))
        .with("logGroupArn", Shape::Str(group_arn))
}
