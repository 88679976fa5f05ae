//! PutTargets, RemoveTargets, ListTargetsByRule.

use hostwatch_aws::{ApiError, Shape};
use serde_json::Value;

use super::common::{
    bus_name, check_name, constraint, internal, limit_exceeded, opt_int, opt_list, opt_str, page,
    req_str, validation,
};
use super::rules::get_rule;
use super::EventsApi;
use crate::events::input::{undefined_placeholder, valid_path};
use crate::events::model::{InputTransformer, RetryPolicy, Target, MAX_TARGETS_PER_RULE};
use crate::events::{target, RuleEntry};
use crate::store::events::Job;

fn bad_arn(arn: &str) -> ApiError {
    validation(format!(
        "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
    ))
}

fn parse_transformer(v: &Value, id: &str, at: &str) -> Result<InputTransformer, ApiError> {
    let template = req_str(v, "InputTemplate", &format!("{at}.inputTemplate"))?;
    if template.is_empty() || template.chars().count() > 8192 {
        return Err(constraint(
            template,
            &format!("{at}.inputTemplate"),
            "Member must have length less than or equal to 8192",
        ));
    }
    let mut paths = Vec::new();
    match v.get("InputPathsMap") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            if m.len() > 100 {
                return Err(limit_exceeded());
            }
            for (k, p) in m {
                let p = p.as_str().ok_or_else(|| {
                    validation(format!(
                        "InputPathsMap for target {id} must map names to paths."
                    ))
                })?;
                if k.starts_with("AWS.") || k.starts_with("aws.") {
                    return Err(validation(format!(
                        "InputTransformer for target {id} contains a reserved variable name {k}."
                    )));
                }
                if !valid_path(p) {
                    return Err(validation(format!(
                        "Target {id} has an invalid JSON path {p} in InputPathsMap."
                    )));
                }
                paths.push((k.clone(), p.to_string()));
            }
        }
        Some(_) => {
            return Err(validation(format!(
                "InputPathsMap for target {id} must be a map."
            )))
        }
    }
    let t = InputTransformer {
        paths,
        template: template.to_string(),
    };
    if let Some(p) = undefined_placeholder(&t) {
        return Err(validation(format!(
            "InputTemplate for target {id} contains invalid placeholder {p}."
        )));
    }
    Ok(t)
}

fn parse_target(v: &Value, i: usize) -> Result<Target, ApiError> {
    let at = format!("targets.{}.member", i + 1);
    let id = req_str(v, "Id", &format!("{at}.id"))?;
    check_name(id, &format!("{at}.id"))?;
    let arn = req_str(v, "Arn", &format!("{at}.arn"))?;
    if arn.is_empty() || arn.chars().count() > 1600 {
        return Err(constraint(
            arn,
            &format!("{at}.arn"),
            "Member must have length less than or equal to 1600",
        ));
    }
    target::parse(arn).map_err(|_| bad_arn(arn))?;
    let input = opt_str(v, "Input")?;
    let input_path = opt_str(v, "InputPath")?;
    let transformer = match v.get("InputTransformer") {
        None | Some(Value::Null) => None,
        Some(t) => Some(parse_transformer(t, id, &format!("{at}.inputTransformer"))?),
    };
    let given = [input.is_some(), input_path.is_some(), transformer.is_some()];
    if given.iter().filter(|b| **b).count() > 1 {
        return Err(validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    if let Some(i) = input {
        if i.chars().count() > 8192 {
            return Err(constraint(
                i,
                &format!("{at}.input"),
                "Member must have length less than or equal to 8192",
            ));
        }
        if serde_json::from_str::<Value>(i).is_err() {
            return Err(validation(format!(
                "Input for target {id} is not valid JSON text."
            )));
        }
    }
    if let Some(p) = input_path {
        if p.chars().count() > 256 || !valid_path(p) {
            return Err(validation(format!("InputPath for target {id} is invalid.")));
        }
    }
    let retry = match v.get("RetryPolicy") {
        None | Some(Value::Null) => None,
        Some(r) => {
            let d = RetryPolicy::default();
            let tries = opt_int(r, "MaximumRetryAttempts")?.unwrap_or(i64::from(d.max_retries));
            let age = opt_int(r, "MaximumEventAgeInSeconds")?.unwrap_or(i64::from(d.max_age_s));
            let at_r = format!("{at}.retryPolicy");
            if !(0..=185).contains(&tries) {
                let c = if tries < 0 {
                    "greater than or equal to 0"
                } else {
                    "less than or equal to 185"
                };
                return Err(constraint(
                    &tries.to_string(),
                    &format!("{at_r}.maximumRetryAttempts"),
                    &format!("Member must have value {c}"),
                ));
            }
            if !(60..=86_400).contains(&age) {
                let c = if age < 60 {
                    "greater than or equal to 60"
                } else {
                    "less than or equal to 86400"
                };
                return Err(constraint(
                    &age.to_string(),
                    &format!("{at_r}.maximumEventAgeInSeconds"),
                    &format!("Member must have value {c}"),
                ));
            }
            Some(RetryPolicy {
                max_retries: tries as u32,
                max_age_s: age as u32,
            })
        }
    };
    let dead_letter_arn = match v.get("DeadLetterConfig") {
        None | Some(Value::Null) => None,
        Some(d) => match opt_str(d, "Arn")? {
            None => None,
            Some(a) => match target::parse(a) {
                Ok(target::TargetKind::File(_) | target::TargetKind::LogGroup(_)) => {
                    Some(a.to_string())
                }
                _ => return Err(bad_arn(a)),
            },
        },
    };
    let mut headers = Vec::new();
    if let Some(Value::Object(h)) = v
        .get("HttpParameters")
        .and_then(|p| p.get("HeaderParameters"))
    {
        for (k, val) in h {
            let val = val.as_str().unwrap_or_default();
            let bad = |s: &str| s.bytes().any(|b| b.is_ascii_control());
            if k.is_empty() || bad(k) || k.contains(':') || bad(val) {
                return Err(validation(format!(
                    "HeaderParameters for target {id} are not valid."
                )));
            }
            headers.push((k.clone(), val.to_string()));
        }
    }
    Ok(Target {
        id: id.to_string(),
        arn: arn.to_string(),
        role_arn: opt_str(v, "RoleArn")?.map(str::to_string),
        input: input.map(str::to_string),
        input_path: input_path.map(str::to_string),
        input_transformer: transformer,
        dead_letter_arn,
        retry,
        headers,
    })
}

fn failed_entries(failed: Vec<(String, &str, String)>) -> Shape {
    Shape::obj().with("FailedEntryCount", failed.len()).with(
        "FailedEntries",
        Shape::List(
            failed
                .into_iter()
                .map(|(id, code, msg)| {
                    Shape::obj()
                        .with("TargetId", id)
                        .with("ErrorCode", code)
                        .with("ErrorMessage", msg)
                })
                .collect(),
        ),
    )
}

/// PutTargets.
pub async fn put(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let rule_name = req_str(&input, "Rule", "rule")?;
    let bus = bus_name(&input)?;
    let list = opt_list(&input, "Targets")?;
    if list.is_empty() {
        return Err(constraint(
            "[]",
            "targets",
            "Member must have length greater than or equal to 1",
        ));
    }
    if list.len() > 100 {
        return Err(constraint(
            "[...]",
            "targets",
            "Member must have length less than or equal to 100",
        ));
    }
    let parsed = list
        .iter()
        .enumerate()
        .map(|(i, v)| parse_target(v, i))
        .collect::<Result<Vec<_>, _>>()?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    let mut rule = get_rule(api, &bus, rule_name)?;
    let mut failed = Vec::new();
    for t in parsed {
        let count = rule.targets.len();
        match rule.targets.iter_mut().find(|x| x.id == t.id) {
            Some(existing) => *existing = t,
            None if count >= MAX_TARGETS_PER_RULE => failed.push((
                t.id,
                "LimitExceededException",
                "The requested resource exceeds the maximum number allowed.".to_string(),
            )),
            None => rule.targets.push(t),
        }
    }
    let entry = RuleEntry::new(rule.clone());
    s.change(Job::PutRule(Box::new(rule)), |c| {
        c.rules.insert((bus.clone(), rule_name.to_string()), entry);
    })
    .await
    .map_err(internal)?;
    Ok(Some(failed_entries(failed)))
}

/// RemoveTargets (unknown ids are ignored).
pub async fn remove(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let rule_name = req_str(&input, "Rule", "rule")?;
    let bus = bus_name(&input)?;
    let ids: Vec<&str> = opt_list(&input, "Ids")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if ids.is_empty() {
        return Err(constraint(
            "[]",
            "ids",
            "Member must have length greater than or equal to 1",
        ));
    }
    let s = &api.service;
    let _ddl = s.ddl().await;
    let mut rule = get_rule(api, &bus, rule_name)?;
    rule.targets.retain(|t| !ids.contains(&t.id.as_str()));
    let entry = RuleEntry::new(rule.clone());
    s.change(Job::PutRule(Box::new(rule)), |c| {
        c.rules.insert((bus.clone(), rule_name.to_string()), entry);
    })
    .await
    .map_err(internal)?;
    Ok(Some(failed_entries(Vec::new())))
}

fn target_shape(t: &Target) -> Shape {
    Shape::obj()
        .with("Id", t.id.as_str())
        .with("Arn", t.arn.as_str())
        .with_opt("RoleArn", t.role_arn.clone())
        .with_opt("Input", t.input.clone())
        .with_opt("InputPath", t.input_path.clone())
        .with_opt(
            "InputTransformer",
            t.input_transformer.as_ref().map(|x| {
                Shape::obj()
                    .with(
                        "InputPathsMap",
                        Shape::Map(
                            x.paths
                                .iter()
                                .map(|(k, v)| (k.clone(), Shape::from(v.as_str())))
                                .collect(),
                        ),
                    )
                    .with("InputTemplate", x.template.as_str())
            }),
        )
        .with_opt(
            "RetryPolicy",
            t.retry.map(|r| {
                Shape::obj()
                    .with("MaximumRetryAttempts", i64::from(r.max_retries))
                    .with("MaximumEventAgeInSeconds", i64::from(r.max_age_s))
            }),
        )
        .with_opt(
            "DeadLetterConfig",
            t.dead_letter_arn
                .as_ref()
                .map(|a| Shape::obj().with("Arn", a.as_str())),
        )
        .with_opt(
            "HttpParameters",
            (!t.headers.is_empty()).then(|| {
                Shape::obj().with(
                    "HeaderParameters",
                    Shape::Map(
                        t.headers
                            .iter()
                            .map(|(k, v)| (k.clone(), Shape::from(v.as_str())))
                            .collect(),
                    ),
                )
            }),
        )
}

/// ListTargetsByRule.
pub fn list(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let rule_name = req_str(&input, "Rule", "rule")?;
    let bus = bus_name(&input)?;
    let rule = get_rule(api, &bus, rule_name)?;
    let (items, next) = page(&rule.targets, &input, 100)?;
    Ok(Some(
        Shape::obj()
            .with(
                "Targets",
                Shape::List(items.iter().map(target_shape).collect()),
            )
            .with_opt("NextToken", next),
    ))
}
