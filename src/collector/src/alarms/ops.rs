//! The alarm operations behind the API: create/update, delete, set state, enable/disable
//! actions, tags. Input validation is the API layer's; these enforce the rules that need the
//! alarm set (names in use, referenced alarms, deletions that would break a rule).
//!
//! Messages CloudWatch is known to send are used verbatim (`Could not save the composite alarm
//! as alarms [...] in the alarm rule do not exist`); the others follow that style.

use std::collections::BTreeSet;

use super::error::AlarmError;
use super::events::Operation;
use super::model::{
    Alarm, AlarmConfig, AlarmStatus, CompositeAlarmConfig, MetricAlarmConfig, StateValue,
};
use super::suppress::{Periods, Suppression};
use super::AlarmService;

/// Most tags on one alarm.
pub const MAX_TAGS: usize = 50;

fn merge_tags(current: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (k, v) in new {
        match current.iter_mut().find(|(ck, _)| *ck == k) {
            Some(slot) => slot.1 = v,
            None => current.push((k, v)),
        }
    }
    current.sort();
}

impl AlarmService {
    /// PutMetricAlarm: create, or replace the configuration keeping state and tags (tags sent
    /// on update are ignored, as CloudWatch does).
    pub fn put_metric_alarm(
        &self,
        mut config: MetricAlarmConfig,
        tags: Vec<(String, String)>,
    ) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        config.updated_ms = now;
        self.change(now, None, |txn| {
            let name = config.name.clone();
            match txn.get(&name).cloned() {
                Some(Alarm {
                    config: AlarmConfig::Composite(_),
                    ..
                }) => Err(AlarmError::Validation(format!(
                    "The alarm {name} already exists as a composite alarm."
                ))),
                Some(mut alarm) => {
                    let previous = alarm.config.clone();
                    alarm.config = AlarmConfig::Metric(config);
                    alarm.version += 1;
                    txn.config_changed(&alarm, Operation::Update, Some(&previous));
                    txn.put(alarm);
                    Ok(())
                }
                None => {
                    let mut t = Vec::new();
                    merge_tags(&mut t, tags);
                    let alarm = Alarm {
                        config: AlarmConfig::Metric(config),
                        status: AlarmStatus::initial(now),
                        tags: t,
                        version: 1,
                        suppression: Suppression::default(),
                    };
                    txn.config_changed(&alarm, Operation::Create, None);
                    txn.put(alarm);
                    Ok(())
                }
            }
        })
    }

    /// PutCompositeAlarm: every alarm the rule names, and the suppressor, must exist. A new
    /// composite starts in INSUFFICIENT_DATA and is evaluated at once; an update keeps the
    /// state unless the rule now gives another.
    pub fn put_composite_alarm(
        &self,
        mut config: CompositeAlarmConfig,
        tags: Vec<(String, String)>,
    ) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        config.updated_ms = now;
        self.change(now, None, |txn| {
            let name = config.name.clone();
            let existing = txn.get(&name).cloned();
            if let Some(Alarm {
                config: AlarmConfig::Metric(_),
                ..
            }) = existing
            {
                return Err(AlarmError::Validation(format!(
                    "The alarm {name} already exists as a metric alarm."
                )));
            }
            let missing: Vec<&str> = config
                .children
                .iter()
                .filter(|c| txn.get(c).is_none() && (existing.is_none() || **c != name))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(AlarmError::Validation(format!(
                    "Could not save the composite alarm as alarms [{}] in the alarm rule do not exist",
                    missing.join(", ")
                )));
            }
            if let Some(s) = &config.suppressor {
                if txn.get(s).is_none() {
                    return Err(AlarmError::Validation(format!(
                        "Could not save the composite alarm as the actions suppressor [{s}] does not exist"
                    )));
                }
            }
            match existing {
                Some(mut alarm) => {
                    let previous = alarm.config.clone();
                    if let AlarmConfig::Composite(p) = &previous {
                        if p.suppressor != config.suppressor {
                            alarm.suppression = Suppression::default();
                        }
                    }
                    alarm.config = AlarmConfig::Composite(config);
                    alarm.version += 1;
                    txn.config_changed(&alarm, Operation::Update, Some(&previous));
                    txn.put(alarm);
                    txn.evaluate_configured(&name, false);
                }
                None => {
                    let mut t = Vec::new();
                    merge_tags(&mut t, tags);
                    let alarm = Alarm {
                        config: AlarmConfig::Composite(config),
                        status: AlarmStatus::initial(now),
                        tags: t,
                        version: 1,
                        suppression: Suppression::default(),
                    };
                    txn.config_changed(&alarm, Operation::Create, None);
                    txn.put(alarm);
                    txn.evaluate_configured(&name, true);
                }
            }
            Ok(())
        })
    }

    /// DeleteAlarms: unknown names are ignored; at most one composite; an alarm still named in
    /// the rule of a composite that is not deleted too cannot be deleted (this is what keeps
    /// the members of a rule cycle alive until a rule changes).
    pub fn delete_alarms(&self, names: &[String]) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        self.change(now, None, |txn| {
            let existing: BTreeSet<String> = names
                .iter()
                .filter(|n| txn.get(n).is_some())
                .cloned()
                .collect();
            let composites = existing
                .iter()
                .filter(|n| {
                    matches!(
                        txn.get(n).map(|a| &a.config),
                        Some(AlarmConfig::Composite(_))
                    )
                })
                .count();
            if composites > 1 {
                return Err(AlarmError::Validation(
                    "You can delete at most one composite alarm in one DeleteAlarms request."
                        .into(),
                ));
            }
            let all = txn.names();
            for name in &existing {
                let users: Vec<&String> = all
                    .iter()
                    .filter(|c| !existing.contains(*c))
                    .filter(|c| match txn.get(c).map(|a| &a.config) {
                        Some(AlarmConfig::Composite(cfg)) => cfg.children.contains(name),
                        _ => false,
                    })
                    .collect();
                if let Some(first) = users.first() {
                    return Err(AlarmError::Validation(format!(
                        "Could not delete the alarm {name} as it is referenced by the alarm rule of composite alarm {first}."
                    )));
                }
            }
            for name in &existing {
                if let Some(alarm) = txn.get(name).cloned() {
                    txn.config_changed(&alarm, Operation::Delete, None);
                    txn.remove(name);
                }
                // Composites it suppressed: a deleted suppressor is no longer in ALARM.
                for c in all.iter().filter(|c| !existing.contains(*c)) {
                    let Some(mut a) = txn.get(c).cloned() else {
                        continue;
                    };
                    let periods = match &a.config {
                        AlarmConfig::Composite(cfg) if cfg.suppressor.as_deref() == Some(name) => {
                            Periods {
                                wait_ms: cfg.wait_period_s.unwrap_or(0).saturating_mul(1000),
                                extension_ms: cfg
                                    .extension_period_s
                                    .unwrap_or(0)
                                    .saturating_mul(1000),
                            }
                        }
                        _ => continue,
                    };
                    let before = a.suppression;
                    a.suppression.on_suppressor_change(now, false, Some(periods));
                    if a.suppression != before {
                        txn.put(a);
                    }
                }
            }
            Ok(())
        })
    }

    /// SetAlarmState.
    pub fn set_alarm_state(
        &self,
        name: &str,
        value: StateValue,
        reason: String,
        reason_data: Option<String>,
    ) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        self.change(now, None, |txn| {
            if txn.get(name).is_none() {
                return Err(AlarmError::NotFound(name.to_string()));
            }
            txn.set_state(name, value, reason, reason_data);
            Ok(())
        })
    }

    /// EnableAlarmActions / DisableAlarmActions (unknown names are ignored).
    pub fn set_actions_enabled(&self, names: &[String], enabled: bool) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        self.change(now, None, |txn| {
            for name in names {
                let Some(mut alarm) = txn.get(name).cloned() else {
                    continue;
                };
                if alarm.config.actions().enabled == enabled {
                    continue;
                }
                let previous = alarm.config.clone();
                alarm.config.actions_mut().enabled = enabled;
                txn.config_changed(&alarm, Operation::Update, Some(&previous));
                txn.put(alarm);
            }
            Ok(())
        })
    }

    /// TagResource: add or overwrite tags.
    pub fn tag_alarm(&self, name: &str, tags: Vec<(String, String)>) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        self.change(now, None, |txn| {
            let Some(mut alarm) = txn.get(name).cloned() else {
                return Err(AlarmError::ResourceNotFound(format!(
                    "The specified resource {} does not exist.",
                    txn.scope.arn(name)
                )));
            };
            merge_tags(&mut alarm.tags, tags);
            if alarm.tags.len() > MAX_TAGS {
                return Err(AlarmError::LimitExceeded(format!(
                    "The alarm {name} would have more than {MAX_TAGS} tags."
                )));
            }
            txn.put(alarm);
            Ok(())
        })
    }

    /// UntagResource.
    pub fn untag_alarm(&self, name: &str, keys: &[String]) -> Result<(), AlarmError> {
        let now = self.clock.now_ms();
        self.change(now, None, |txn| {
            let Some(mut alarm) = txn.get(name).cloned() else {
                return Err(AlarmError::ResourceNotFound(format!(
                    "The specified resource {} does not exist.",
                    txn.scope.arn(name)
                )));
            };
            alarm.tags.retain(|(k, _)| !keys.contains(k));
            txn.put(alarm);
            Ok(())
        })
    }
}
