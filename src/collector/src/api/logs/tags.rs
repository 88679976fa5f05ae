//! Log group tags: TagLogGroup / UntagLogGroup / ListTagsLogGroup (by name) and TagResource /
//! UntagResource / ListTagsForResource (by log-group ARN).

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::errors::{invalid_parameter, missing};
use super::groups::{validate_tags, MAX_TAGS};
use super::validate::{group_name, identifier_to_name, required};
use super::LogsApi;
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagInput {
    log_group_name: Option<String>,
    resource_arn: Option<String>,
    tags: Option<serde_json::Value>,
    tag_keys: Option<Vec<String>>,
}

/// Which group a tagging request names.
fn target(i: &TagInput, by_arn: bool) -> Result<String, ApiError> {
    if by_arn {
        let arn = required(&i.resource_arn, "resourceArn")?;
        if !arn.starts_with("arn:") {
            return Err(invalid_parameter(format!("Invalid resource ARN: {arn}")));
        }
        identifier_to_name(arn)
    } else {
        let name = required(&i.log_group_name, "logGroupName")?;
        group_name(name, "logGroupName")?;
        Ok(name.to_string())
    }
}

/// TagLogGroup (`by_arn = false`) and TagResource.
pub(super) async fn tag(
    api: &LogsApi,
    input: serde_json::Value,
    by_arn: bool,
) -> Result<Option<Shape>, ApiError> {
    let i: TagInput = parse_input(input, false)?;
    let name = target(&i, by_arn)?;
    let tags: BTreeMap<String, String> = match &i.tags {
        None => return Err(missing("tags")),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|_| invalid_parameter("Tags must be a map of strings to strings."))?,
    };
    validate_tags(&tags)?;
    let mut too_many = false;
    api.store
        .update_tags(&name, |current| {
            let mut merged = current.clone();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                too_many = true;
            } else {
                *current = merged;
            }
        })
        .await?;
    if too_many {
        return Err(invalid_parameter(format!(
            "A log group can have at most {MAX_TAGS} tags."
        )));
    }
    Ok(None)
}

/// UntagLogGroup (`tags` is a list of keys) and UntagResource (`tagKeys`).
pub(super) async fn untag(
    api: &LogsApi,
    input: serde_json::Value,
    by_arn: bool,
) -> Result<Option<Shape>, ApiError> {
    let i: TagInput = parse_input(input, false)?;
    let name = target(&i, by_arn)?;
    let keys: Vec<String> = if by_arn {
        i.tag_keys.clone().ok_or_else(|| missing("tagKeys"))?
    } else {
        match &i.tags {
            None => return Err(missing("tags")),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|_| invalid_parameter("Tags must be a list of tag keys."))?,
        }
    };
    api.store
        .update_tags(&name, |current| {
            for k in &keys {
                current.remove(k);
            }
        })
        .await?;
    Ok(None)
}

/// ListTagsLogGroup and ListTagsForResource.
pub(super) fn list(
    api: &LogsApi,
    input: serde_json::Value,
    by_arn: bool,
) -> Result<Option<Shape>, ApiError> {
    let i: TagInput = parse_input(input, false)?;
    let name = target(&i, by_arn)?;
    let g = api
        .store
        .group(&name)
        .ok_or_else(super::errors::group_not_found)?;
    let tags = Shape::Map(
        g.tags
            .into_iter()
            .map(|(k, v)| (k, Shape::Str(v)))
            .collect(),
    );
    Ok(Some(Shape::obj().with("tags", tags)))
}
