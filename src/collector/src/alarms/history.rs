//! Alarm history items (`DescribeAlarmHistory`), kept for two weeks, also after the alarm is
//! deleted.
//!
//! - `StateUpdate`: summary `Alarm updated from OK to ALARM`; data
//!   `{"version":"1.0","oldState":{"stateValue","stateReason"[,"stateReasonData"]},"newState":{…}}`
//!   with `stateReasonData` as a JSON object (AWS's recorded form).
//! - `ConfigurationUpdate`: summary `Alarm "<name>" created|updated|deleted`; data
//!   `{"version":"1.0","type":"Create|Update|Delete","createdAlarm|updatedAlarm|deletedAlarm":
//!   <configuration as in the configuration-change event>}`.
//! - `Action`: one per action ARN handed to the event bus, summary `Queued action <arn>`; data
//!   `{"actionState":"Queued","stateUpdateTimestamp":<ms>,"notificationResource":"<arn>"}`.
//!   The action itself runs where the bus routes it (the routing is a later issue).
//!
//! Summaries are cut to the API's 255 characters.

use serde_json::{json, Value};

use super::events::{config_json, Operation};
use super::model::{Alarm, AlarmKind, AlarmStatus, StateValue};

/// How long history is kept.
pub const RETENTION_MS: i64 = 14 * 24 * 3_600_000;

/// `HistoryItemType` (the ones this collector writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemType {
    ConfigurationUpdate,
    StateUpdate,
    Action,
}

impl ItemType {
    /// Every type.
    pub const ALL: [ItemType; 3] = [
        ItemType::ConfigurationUpdate,
        ItemType::StateUpdate,
        ItemType::Action,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::ConfigurationUpdate => "ConfigurationUpdate",
            ItemType::StateUpdate => "StateUpdate",
            ItemType::Action => "Action",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<ItemType> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Stored code.
    pub fn code(self) -> i64 {
        match self {
            ItemType::ConfigurationUpdate => 0,
            ItemType::StateUpdate => 1,
            ItemType::Action => 2,
        }
    }

    /// Inverse of [`ItemType::code`].
    pub fn from_code(c: i64) -> Option<ItemType> {
        Self::ALL.into_iter().find(|t| t.code() == c)
    }
}

/// One history item.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub alarm_name: String,
    pub alarm_kind: AlarmKind,
    pub ts_ms: i64,
    pub item_type: ItemType,
    pub summary: String,
    /// `HistoryData`, a JSON document as text.
    pub data: String,
}

fn cut(s: String) -> String {
    if s.chars().count() <= 255 {
        s
    } else {
        s.chars().take(255).collect()
    }
}

fn state_json(s: &AlarmStatus) -> Value {
    let mut v = json!({"stateValue": s.value.as_str(), "stateReason": s.reason});
    if let Some(d) = &s.reason_data {
        let parsed = serde_json::from_str::<Value>(d).unwrap_or_else(|_| Value::String(d.clone()));
        v["stateReasonData"] = parsed;
    }
    v
}

/// A `StateUpdate` item: `alarm` is in its new state, `previous` is the old one.
pub fn state_update(alarm: &Alarm, previous: &AlarmStatus, now_ms: i64) -> HistoryItem {
    let data = json!({
        "version": "1.0",
        "oldState": state_json(previous),
        "newState": state_json(&alarm.status),
    });
    HistoryItem {
        alarm_name: alarm.name().to_string(),
        alarm_kind: alarm.config.kind(),
        ts_ms: now_ms,
        item_type: ItemType::StateUpdate,
        summary: cut(format!(
            "Alarm updated from {} to {}",
            previous.value.as_str(),
            alarm.status.value.as_str()
        )),
        data: data.to_string(),
    }
}

/// A `ConfigurationUpdate` item.
pub fn configuration_update(alarm: &Alarm, op: Operation, now_ms: i64) -> HistoryItem {
    let (kind, member, verb) = match op {
        Operation::Create => ("Create", "createdAlarm", "created"),
        Operation::Update => ("Update", "updatedAlarm", "updated"),
        Operation::Delete => ("Delete", "deletedAlarm", "deleted"),
    };
    let mut data = json!({"version": "1.0", "type": kind});
    data[member] = config_json(&alarm.config);
    HistoryItem {
        alarm_name: alarm.name().to_string(),
        alarm_kind: alarm.config.kind(),
        ts_ms: now_ms,
        item_type: ItemType::ConfigurationUpdate,
        summary: cut(format!("Alarm \"{}\" {verb}", alarm.name())),
        data: data.to_string(),
    }
}

/// An `Action` item for one action ARN handed over for `state`.
pub fn action(alarm: &Alarm, arn: &str, state: StateValue, now_ms: i64) -> HistoryItem {
    let data = json!({
        "actionState": "Queued",
        "stateUpdateTimestamp": alarm.status.updated_ms,
        "notificationResource": arn,
        "stateValue": state.as_str(),
    });
    HistoryItem {
        alarm_name: alarm.name().to_string(),
        alarm_kind: alarm.config.kind(),
        ts_ms: now_ms,
        item_type: ItemType::Action,
        summary: cut(format!("Queued action {arn}")),
        data: data.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::model::{Actions, AlarmConfig, CompositeAlarmConfig};
    use crate::alarms::suppress::Suppression;

    fn alarm(status: AlarmStatus) -> Alarm {
        Alarm {
            config: AlarmConfig::Composite(CompositeAlarmConfig {
                name: "c".into(),
                description: None,
                actions: Actions::default(),
                rule: "TRUE".into(),
                children: vec![],
                suppressor: None,
                suppressor_as_sent: None,
                wait_period_s: None,
                extension_period_s: None,
                updated_ms: 0,
            }),
            status,
            tags: vec![],
            version: 1,
            suppression: Suppression::default(),
        }
    }

    #[test]
    fn state_update_items() {
        let old = AlarmStatus::initial(0);
        let a = alarm(AlarmStatus {
            value: StateValue::Alarm,
            reason: "because".into(),
            reason_data: Some("{\"version\":\"1.0\",\"period\":30}".into()),
            updated_ms: 5,
            transitioned_ms: 5,
        });
        let item = state_update(&a, &old, 5);
        assert_eq!(
            item.summary,
            "Alarm updated from INSUFFICIENT_DATA to ALARM"
        );
        assert_eq!(item.item_type.as_str(), "StateUpdate");
        let data: Value = serde_json::from_str(&item.data).unwrap();
        assert_eq!(
            data,
            json!({
                "version": "1.0",
                "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation"},
                "newState": {"stateValue": "ALARM", "stateReason": "because", "stateReasonData": {"version": "1.0", "period": 30}}
            })
        );
    }

    #[test]
    fn configuration_and_action_items() {
        let a = alarm(AlarmStatus::initial(0));
        let item = configuration_update(&a, Operation::Create, 1);
        assert_eq!(item.summary, "Alarm \"c\" created");
        let data: Value = serde_json::from_str(&item.data).unwrap();
        assert_eq!(data["type"], "Create");
        assert_eq!(data["createdAlarm"]["alarmRule"], "TRUE");
        let long = format!("arn:aws:sns:us-east-1:000000000000:{}", "t".repeat(400));
        let item = action(&a, &long, StateValue::Ok, 2);
        assert_eq!(item.summary.chars().count(), 255);
        assert!(item.summary.starts_with("Queued action arn:aws:sns"));
        for t in ItemType::ALL {
            assert_eq!(ItemType::from_code(t.code()), Some(t));
            assert_eq!(ItemType::parse(t.as_str()), Some(t));
        }
    }
}
