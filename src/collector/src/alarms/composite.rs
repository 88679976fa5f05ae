//! Composite alarm evaluation: the rule's value over the children's states, cycle detection,
//! and the reason texts.
//!
//! A composite is ALARM when its rule is TRUE and OK otherwise; INSUFFICIENT_DATA only between
//! creation and its first evaluation (which happens at once). It is re-evaluated when a child
//! changes state or its configuration changes. Rules may form cycles (an update can make A
//! reference B while B references A); a composite that can reach itself through composite
//! children is not evaluated (its state stays), as CloudWatch stops evaluation on a cycle.
//!
//! Reasons (AWS's):
//! - `arn:…:alarm:<child> transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC`;
//! - `arn:…:alarm:<me> was created and its alarm rule evaluates to OK` (`updated` on update);
//! - reason data `{"triggeringAlarms":[{"arn":"…","state":{"value":"ALARM","timestamp":"…"}}]}`
//!   with the triggering child, or every child on creation and update.

use serde::Serialize;
use std::collections::HashSet;

use super::model::StateValue;
use super::rule::Expr;
use super::timefmt::{composite_date, detail_ts};

/// The state a rule gives.
pub fn rule_state(rule: &Expr, state_of: &dyn Fn(&str) -> Option<StateValue>) -> StateValue {
    if rule.eval(state_of) {
        StateValue::Alarm
    } else {
        StateValue::Ok
    }
}

/// `<arn> transitioned to <STATE> at <date>`.
pub fn child_reason(child_arn: &str, state: StateValue, at_ms: i64) -> String {
    format!(
        "{child_arn} transitioned to {} at {}",
        state.as_str(),
        composite_date(at_ms)
    )
}

/// `<arn> was created|updated and its alarm rule evaluates to <STATE>`.
pub fn config_reason(my_arn: &str, created: bool, state: StateValue) -> String {
    format!(
        "{my_arn} was {} and its alarm rule evaluates to {}",
        if created { "created" } else { "updated" },
        state.as_str()
    )
}

#[derive(Serialize)]
struct ChildState {
    value: &'static str,
    timestamp: String,
}

#[derive(Serialize)]
struct Triggering {
    arn: String,
    state: ChildState,
}

#[derive(Serialize)]
struct ReasonData {
    #[serde(rename = "triggeringAlarms")]
    triggering_alarms: Vec<Triggering>,
}

/// `{"triggeringAlarms":[…]}` for (ARN, state, state timestamp) triples.
pub fn reason_data(children: &[(String, StateValue, i64)]) -> String {
    let data = ReasonData {
        triggering_alarms: children
            .iter()
            .map(|(arn, value, ts)| Triggering {
                arn: arn.clone(),
                state: ChildState {
                    value: value.as_str(),
                    timestamp: detail_ts(*ts),
                },
            })
            .collect(),
    };
    serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_string())
}

/// Whether composite `start` can reach itself through composite children. `children_of`
/// returns a composite's children, `None` for metric alarms and unknown names.
pub fn in_cycle(start: &str, children_of: &dyn Fn(&str) -> Option<Vec<String>>) -> bool {
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack: Vec<String> = children_of(start).unwrap_or_default();
    while let Some(n) = stack.pop() {
        if n == start {
            return true;
        }
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(kids) = children_of(&n) {
            stack.extend(kids);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarms::rule::parse;
    use std::collections::HashMap;

    #[test]
    fn reasons_match_aws() {
        assert_eq!(
            child_reason(
                "arn:aws:cloudwatch:us-east-1:123456789012:alarm:FirstChild",
                StateValue::Alarm,
                1_658_505_465_394
            ),
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:FirstChild transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC"
        );
        assert_eq!(
            config_reason("arn:x:alarm:Main", true, StateValue::Ok),
            "arn:x:alarm:Main was created and its alarm rule evaluates to OK"
        );
        assert_eq!(
            config_reason("arn:x:alarm:Main", false, StateValue::Alarm),
            "arn:x:alarm:Main was updated and its alarm rule evaluates to ALARM"
        );
        assert_eq!(
            reason_data(&[("arn:a".into(), StateValue::Alarm, 1_658_505_465_394)]),
            "{\"triggeringAlarms\":[{\"arn\":\"arn:a\",\"state\":{\"value\":\"ALARM\",\"timestamp\":\"2022-07-22T15:57:45.394+0000\"}}]}"
        );
    }

    #[test]
    fn rule_states() {
        let states: HashMap<&str, StateValue> =
            [("a", StateValue::Alarm), ("b", StateValue::Ok)].into();
        let f = |n: &str| states.get(n).copied();
        assert_eq!(
            rule_state(&parse("ALARM(a)").unwrap(), &f),
            StateValue::Alarm
        );
        assert_eq!(rule_state(&parse("ALARM(b)").unwrap(), &f), StateValue::Ok);
        assert_eq!(rule_state(&parse("FALSE").unwrap(), &f), StateValue::Ok);
    }

    #[test]
    fn cycles() {
        /// (composite, children) edges, and whether each composite is in a cycle.
        type Case<'a> = (Vec<(&'a str, Vec<&'a str>)>, Vec<(&'a str, bool)>);
        let graphs: Vec<Case<'_>> = vec![
            (
                vec![("a", vec!["m1"]), ("b", vec!["a", "m2"])],
                vec![("a", false), ("b", false)],
            ),
            (
                vec![("a", vec!["b"]), ("b", vec!["a"])],
                vec![("a", true), ("b", true)],
            ),
            (vec![("a", vec!["a"])], vec![("a", true)]),
            (
                vec![
                    ("a", vec!["b"]),
                    ("b", vec!["c"]),
                    ("c", vec!["b"]),
                    ("d", vec!["a"]),
                ],
                vec![("a", false), ("b", true), ("c", true), ("d", false)],
            ),
            (
                vec![("top", vec!["l", "r"]), ("l", vec!["m"]), ("r", vec!["m"])],
                vec![("top", false), ("l", false)],
            ),
        ];
        for (graph, expect) in graphs {
            let g: HashMap<&str, Vec<String>> = graph
                .iter()
                .map(|(n, k)| (*n, k.iter().map(|s| s.to_string()).collect()))
                .collect();
            let children_of = |n: &str| g.get(n).cloned();
            for (name, want) in expect {
                assert_eq!(in_cycle(name, &children_of), want, "{name} in {graph:?}");
            }
        }
    }
}
