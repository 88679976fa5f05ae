//! PutCompositeAlarm: input, validation (including the rule's grammar, with CloudWatch's
//! `Error in AlarmRule [...]` messages), and the configuration it produces. Whether the named
//! alarms exist is checked by the alarm service, against the alarm set.

use hostwatch_aws::lenient::{Bool, Int, List};
use hostwatch_aws::ApiError;
use serde::Deserialize;

use super::common::{self, TagInput};
use crate::alarms::events::Scope;
use crate::alarms::model::{Actions, CompositeAlarmConfig};
use crate::alarms::rule;
use crate::api::cloudwatch::validate::{self, Violations};
use crate::api::parse_input;

/// Most alarms one rule may reference.
pub const MAX_CHILDREN: usize = 100;
/// Most functions and literals in one rule.
pub const MAX_ELEMENTS: usize = 500;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    alarm_name: Option<String>,
    alarm_rule: Option<String>,
    alarm_description: Option<String>,
    actions_enabled: Option<Bool>,
    #[serde(rename = "OKActions")]
    ok_actions: Option<List<String>>,
    alarm_actions: Option<List<String>>,
    insufficient_data_actions: Option<List<String>>,
    tags: Option<List<TagInput>>,
    actions_suppressor: Option<String>,
    actions_suppressor_wait_period: Option<Int>,
    actions_suppressor_extension_period: Option<Int>,
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::cloudwatch("ValidationError", msg)
}

/// Validate a PutCompositeAlarm request.
pub fn validate(
    input: serde_json::Value,
    scope: &Scope,
) -> Result<(CompositeAlarmConfig, Vec<(String, String)>), ApiError> {
    let i: Input = parse_input(input, true)?;
    let name = validate::required(i.alarm_name.clone(), "AlarmName")?;
    let rule_text = validate::required(i.alarm_rule.clone(), "AlarmRule")?;
    let mut v = Violations::default();
    common::alarm_name(&mut v, "alarmName", &name);
    v.length("alarmRule", &rule_text, 1, 10240);
    if let Some(d) = &i.alarm_description {
        v.length("alarmDescription", d, 0, 1024);
    }
    let actions = Actions {
        enabled: i.actions_enabled.is_none_or(|Bool(b)| b),
        ok: common::actions(&mut v, "oKActions", i.ok_actions.as_ref()),
        alarm: common::actions(&mut v, "alarmActions", i.alarm_actions.as_ref()),
        insufficient_data: common::actions(
            &mut v,
            "insufficientDataActions",
            i.insufficient_data_actions.as_ref(),
        ),
    };
    let tags = common::tags(&mut v, "tags", i.tags.as_ref(), "Tags")?;
    if let Some(s) = &i.actions_suppressor {
        v.length("actionsSuppressor", s, 1, 1600);
    }
    v.finish()?;
    for arn in actions
        .ok
        .iter()
        .chain(&actions.alarm)
        .chain(&actions.insufficient_data)
    {
        if arn.starts_with("arn:aws:automate:") || arn.starts_with("arn:aws:autoscaling:") {
            return Err(invalid(format!(
                "Composite alarms cannot perform EC2 or Auto Scaling actions: {arn}"
            )));
        }
    }
    let expr = rule::parse(&rule_text).map_err(|e| invalid(e.0))?;
    if expr.elements() > MAX_ELEMENTS {
        return Err(invalid(format!(
            "Error in AlarmRule [the rule has more than {MAX_ELEMENTS} elements]"
        )));
    }
    let children: Vec<String> = expr
        .names()
        .into_iter()
        .map(|n| rule::resolve(n, &scope.region, &scope.account).unwrap_or_else(|| n.to_string()))
        .fold(Vec::new(), |mut acc, n| {
            if !acc.contains(&n) {
                acc.push(n);
            }
            acc
        });
    if children.len() > MAX_CHILDREN {
        return Err(invalid(format!(
            "Error in AlarmRule [the rule references more than {MAX_CHILDREN} alarms]"
        )));
    }
    let wait = i.actions_suppressor_wait_period.map(|Int(w)| w);
    let extension = i.actions_suppressor_extension_period.map(|Int(e)| e);
    let suppressor = match &i.actions_suppressor {
        None => {
            if wait.is_some() || extension.is_some() {
                return Err(invalid(
                    "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod can only \
                     be set together with ActionsSuppressor.",
                ));
            }
            None
        }
        Some(s) => {
            let (Some(w), Some(e)) = (wait, extension) else {
                return Err(invalid(
                    "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod are \
                     required when ActionsSuppressor is set.",
                ));
            };
            if w < 0 || e < 0 {
                return Err(invalid(
                    "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod must not \
                     be negative.",
                ));
            }
            Some(rule::resolve(s, &scope.region, &scope.account).unwrap_or_else(|| s.clone()))
        }
    };
    if suppressor.as_deref() == Some(name.as_str()) {
        return Err(invalid(
            "A composite alarm cannot be its own ActionsSuppressor.",
        ));
    }
    let config = CompositeAlarmConfig {
        name,
        description: i.alarm_description.clone(),
        actions,
        rule: rule_text,
        children,
        suppressor,
        suppressor_as_sent: i.actions_suppressor.clone(),
        wait_period_s: wait,
        extension_period_s: extension,
        updated_ms: 0,
    };
    Ok((config, tags))
}
