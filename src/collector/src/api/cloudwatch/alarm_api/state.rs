//! SetAlarmState, and the `AlarmNames` list of DeleteAlarms / EnableAlarmActions /
//! DisableAlarmActions.
//!
//! Recorded errors: a bad `StateValue` is `ValidationError` `1 validation error detected: Value
//! 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set:
//! [INSUFFICIENT_DATA, ALARM, OK]`; an unknown alarm is `ResourceNotFound` without a message;
//! `StateReasonData` that is not JSON is `InvalidFormat`.

use hostwatch_aws::lenient::List;
use hostwatch_aws::ApiError;
use serde::Deserialize;

use super::common;
use crate::alarms::model::StateValue;
use crate::api::cloudwatch::validate::{self, Violations};
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetStateInput {
    alarm_name: Option<String>,
    state_value: Option<String>,
    state_reason: Option<String>,
    state_reason_data: Option<String>,
}

/// A validated SetAlarmState request.
#[derive(Debug, Clone)]
pub struct SetState {
    pub name: String,
    pub value: StateValue,
    pub reason: String,
    pub reason_data: Option<String>,
}

/// Validate SetAlarmState.
pub fn validate_set_state(input: serde_json::Value) -> Result<SetState, ApiError> {
    let i: SetStateInput = parse_input(input, true)?;
    let name = validate::required(i.alarm_name, "AlarmName")?;
    let value = validate::required(i.state_value, "StateValue")?;
    let reason = validate::required(i.state_reason, "StateReason")?;
    let mut v = Violations::default();
    common::alarm_name(&mut v, "alarmName", &name);
    let parsed = StateValue::parse(&value);
    if parsed.is_none() {
        let all: Vec<&str> = StateValue::ALL.iter().map(|s| s.as_str()).collect();
        v.one_of("stateValue", &value, &all);
    }
    v.length("stateReason", &reason, 0, 1023);
    if let Some(d) = &i.state_reason_data {
        v.length("stateReasonData", d, 0, 4000);
    }
    v.finish()?;
    let value =
        parsed.ok_or_else(|| ApiError::cloudwatch("ValidationError", "Invalid StateValue"))?;
    if let Some(d) = &i.state_reason_data {
        if serde_json::from_str::<serde_json::Value>(d).is_err() {
            return Err(ApiError::cloudwatch(
                "InvalidFormat",
                "The parameter StateReasonData must be valid JSON.",
            ));
        }
    }
    Ok(SetState {
        name,
        value,
        reason,
        reason_data: i.state_reason_data,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NamesInput {
    alarm_names: Option<List<String>>,
}

/// The required `AlarmNames` list (at most 100).
pub fn alarm_names(input: serde_json::Value, member: &str) -> Result<Vec<String>, ApiError> {
    let i: NamesInput = parse_input(input, true)?;
    let names = validate::required(i.alarm_names, member)?.0;
    let mut v = Violations::default();
    v.list_size("alarmNames", names.len(), 0, 100);
    for n in &names {
        common::alarm_name(&mut v, "alarmNames", n);
    }
    v.finish()?;
    Ok(names)
}
