//! Checks shared by the alarm operations: names, descriptions, action lists, tags, enums.

use hostwatch_aws::lenient::List;
use hostwatch_aws::ApiError;
use serde::Deserialize;

use crate::alarms::ops::MAX_TAGS;
use crate::api::cloudwatch::validate::Violations;

/// Most actions per state.
pub const MAX_ACTIONS: usize = 5;

/// A `Tag` as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// `AlarmName`: 1–255 characters, no control characters.
pub fn alarm_name(v: &mut Violations, path: &str, name: &str) {
    v.length(path, name, 1, 255);
    if name.chars().any(char::is_control) {
        v.push(
            path,
            Some(name),
            "Member must not contain control characters",
        );
    }
}

/// An action list (`OKActions`, …): at most five ARNs of 1–1024 characters.
pub fn actions(v: &mut Violations, path: &str, list: Option<&List<String>>) -> Vec<String> {
    let list = list.map(|l| l.0.clone()).unwrap_or_default();
    v.list_size(path, list.len(), 0, MAX_ACTIONS);
    for a in &list {
        v.length(path, a, 1, 1024);
    }
    list
}

/// Tags: at most 50, keys 1–128 characters, values 0–256; keys unique (the last one wins).
pub fn tags(
    v: &mut Violations,
    path: &str,
    list: Option<&List<TagInput>>,
    query_path: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let list = list.map(|l| l.0.clone()).unwrap_or_default();
    v.list_size(path, list.len(), 0, MAX_TAGS);
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.into_iter().enumerate() {
        let n = i + 1;
        let key = t
            .key
            .ok_or_else(|| ApiError::missing_parameter(&format!("{query_path}.member.{n}.Key")))?;
        let value = t.value.ok_or_else(|| {
            ApiError::missing_parameter(&format!("{query_path}.member.{n}.Value"))
        })?;
        v.length(&format!("{path}.{n}.member.key"), &key, 1, 128);
        v.length(&format!("{path}.{n}.member.value"), &value, 0, 256);
        out.push((key, value));
    }
    Ok(out)
}

/// A positive integer model constraint (`Member must have value greater than or equal to 1`).
pub fn at_least(v: &mut Violations, path: &str, value: i64, min: i64) {
    if value < min {
        v.push(
            path,
            Some(&value.to_string()),
            &format!("Member must have value greater than or equal to {min}"),
        );
    }
}

/// An integer range model constraint.
pub fn between(v: &mut Violations, path: &str, value: i64, min: i64, max: i64) {
    at_least(v, path, value, min);
    if value > max {
        v.push(
            path,
            Some(&value.to_string()),
            &format!("Member must have value less than or equal to {max}"),
        );
    }
}

/// The enum values of `AlarmType`.
pub const ALARM_TYPES: [&str; 2] = ["CompositeAlarm", "MetricAlarm"];
