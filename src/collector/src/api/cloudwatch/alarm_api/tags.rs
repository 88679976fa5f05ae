//! TagResource, UntagResource, ListTagsForResource on alarm ARNs
//! (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>` of this collector's region and
//! account). Other CloudWatch resources (dashboards, Contributor Insights rules) do not exist
//! here, so their ARNs are `ResourceNotFoundException`.

use hostwatch_aws::lenient::List;
use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{self, TagInput};
use crate::alarms::events::Scope;
use crate::alarms::AlarmService;
use crate::api::cloudwatch::validate::{self, Violations};
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
struct Input {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<List<TagInput>>,
    #[serde(rename = "TagKeys")]
    tag_keys: Option<List<String>>,
}

/// The alarm name an ARN names.
fn alarm_of(v: &mut Violations, arn: &str, scope: &Scope) -> Result<String, ApiError> {
    v.length("resourceARN", arn, 1, 1024);
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[2] != "cloudwatch" {
        return Err(ApiError::invalid_parameter_value(format!(
            "The value {arn} for parameter ResourceARN is not a valid CloudWatch ARN."
        )));
    }
    let not_found = || {
        ApiError::cloudwatch(
            "ResourceNotFoundException",
            format!("The specified resource {arn} does not exist."),
        )
    };
    match (parts.get(5), parts.get(6)) {
        (Some(&"alarm"), Some(name))
            if parts[3] == scope.region && parts[4] == scope.account && !name.is_empty() =>
        {
            Ok(name.to_string())
        }
        _ => Err(not_found()),
    }
}

fn parse(input: serde_json::Value) -> Result<Input, ApiError> {
    parse_input(input, true)
}

/// TagResource: (alarm name, tags).
pub fn validate_tag(
    input: serde_json::Value,
    scope: &Scope,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let i = parse(input)?;
    let arn = validate::required(i.resource_arn.as_deref(), "ResourceARN")?;
    let list = validate::required(i.tags.as_ref(), "Tags")?;
    let mut v = Violations::default();
    let name = alarm_of(&mut v, arn, scope)?;
    let tags = common::tags(&mut v, "tags", Some(list), "Tags")?;
    v.finish()?;
    Ok((name, tags))
}

/// UntagResource: (alarm name, keys).
pub fn validate_untag(
    input: serde_json::Value,
    scope: &Scope,
) -> Result<(String, Vec<String>), ApiError> {
    let i = parse(input)?;
    let arn = validate::required(i.resource_arn.as_deref(), "ResourceARN")?;
    let keys = validate::required(i.tag_keys.as_ref(), "TagKeys")?
        .0
        .clone();
    let mut v = Violations::default();
    let name = alarm_of(&mut v, arn, scope)?;
    for k in &keys {
        v.length("tagKeys", k, 1, 128);
    }
    v.finish()?;
    Ok((name, keys))
}

/// ListTagsForResource: the alarm name.
pub fn validate_list(input: serde_json::Value, scope: &Scope) -> Result<String, ApiError> {
    let i = parse(input)?;
    let arn = validate::required(i.resource_arn.as_deref(), "ResourceARN")?;
    let mut v = Violations::default();
    let name = alarm_of(&mut v, arn, scope)?;
    v.finish()?;
    Ok(name)
}

/// The tags of an alarm.
pub fn list(service: &AlarmService, name: &str) -> Result<Shape, ApiError> {
    let alarm = service.get(name).ok_or_else(|| {
        ApiError::cloudwatch(
            "ResourceNotFoundException",
            format!(
                "The specified resource {} does not exist.",
                service.scope().arn(name)
            ),
        )
    })?;
    Ok(Shape::obj().with(
        "Tags",
        Shape::list(alarm.tags.iter().map(|(k, v)| {
            Shape::obj()
                .with("Key", k.as_str())
                .with("Value", v.as_str())
        })),
    ))
}
