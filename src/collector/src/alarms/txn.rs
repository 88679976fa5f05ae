//! One change of the alarm set, prepared as an overlay over the committed registry.
//!
//! A [`Txn`] collects changed alarms, history items and outbox entries. State changes go
//! through [`Txn::set_state`], which writes the StateUpdate history item and, on a transition,
//! the state-change event with the actions that are due (or hands them to the composite's
//! suppression). [`Txn::propagate`] then re-evaluates the composites that depend on what
//! changed — once each, children before parents — and feeds suppressor transitions to the
//! composites they suppress. The caller commits the result in one store transaction and only
//! then applies the overlay to the registry.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::composite;
use super::events::{self, DueActions, Operation, PendingEntry, Scope};
use super::history::{self, HistoryItem};
use super::model::{Alarm, AlarmConfig, AlarmStatus, StateValue};
use super::registry::Registry;
use super::rule;
use super::suppress::Periods;

/// A change in preparation.
#[derive(Debug)]
pub struct Txn<'r> {
    reg: &'r Registry,
    pub scope: &'r Scope,
    pub now_ms: i64,
    pub overlay: BTreeMap<String, Option<Alarm>>,
    pub history: Vec<HistoryItem>,
    pub outbox: Vec<PendingEntry>,
    /// Alarms whose state value changed, in order of change.
    changed: Vec<String>,
    /// How many of `changed` have been propagated.
    propagated: usize,
    /// A composite configuration was created, changed or deleted (the registry reindexes).
    pub configs_changed: bool,
    /// Composites present in the overlay (their configuration there supersedes the indexes).
    overlay_composites: BTreeSet<String>,
    /// Alarms whose configuration this change creates or alters (others: state rows only).
    pub config_dirty: BTreeSet<String>,
}

impl<'r> Txn<'r> {
    /// An empty change over `reg` at `now_ms`.
    pub fn new(reg: &'r Registry, scope: &'r Scope, now_ms: i64) -> Self {
        Txn {
            reg,
            scope,
            now_ms,
            overlay: BTreeMap::new(),
            history: Vec::new(),
            outbox: Vec::new(),
            changed: Vec::new(),
            propagated: 0,
            configs_changed: false,
            overlay_composites: BTreeSet::new(),
            config_dirty: BTreeSet::new(),
        }
    }

    /// The alarm as this change sees it.
    pub fn get(&self, name: &str) -> Option<&Alarm> {
        match self.overlay.get(name) {
            Some(a) => a.as_ref(),
            None => self.reg.alarms.get(name),
        }
    }

    /// Every alarm as this change sees it, in name order.
    pub fn names(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = self.reg.alarms.keys().cloned().collect();
        for (n, a) in &self.overlay {
            if a.is_some() {
                names.insert(n.clone());
            } else {
                names.remove(n);
            }
        }
        names.into_iter().collect()
    }

    /// The state of an alarm, `None` when it does not exist.
    pub fn state_of(&self, name: &str) -> Option<StateValue> {
        self.get(name).map(|a| a.status.value)
    }

    /// Store a new version of an alarm.
    pub fn put(&mut self, alarm: Alarm) {
        let changed_config = self
            .get(alarm.name())
            .is_none_or(|old| old.config != alarm.config);
        if changed_config {
            self.config_dirty.insert(alarm.name().to_string());
        }
        if matches!(alarm.config, AlarmConfig::Composite(_)) {
            self.configs_changed |= changed_config;
            self.overlay_composites.insert(alarm.name().to_string());
        }
        self.overlay.insert(alarm.name().to_string(), Some(alarm));
    }

    /// Delete an alarm.
    pub fn remove(&mut self, name: &str) {
        if matches!(
            self.get(name).map(|a| &a.config),
            Some(AlarmConfig::Composite(_))
        ) {
            self.configs_changed = true;
        }
        self.overlay.insert(name.to_string(), None);
    }

    /// State changes made so far (metric and composite).
    pub fn transitions(&self) -> usize {
        self.changed.len()
    }

    /// Record a configuration change: history item and configuration-change event.
    pub fn config_changed(&mut self, alarm: &Alarm, op: Operation, previous: Option<&AlarmConfig>) {
        self.history
            .push(history::configuration_update(alarm, op, self.now_ms));
        self.outbox.push(PendingEntry {
            event: Some(events::config_change(
                self.scope,
                alarm,
                op,
                previous,
                self.now_ms,
            )),
            actions: None,
        });
    }

    /// The actions of `alarm` for `state`, when enabled and configured.
    fn due(&self, alarm: &Alarm, state: StateValue) -> Option<DueActions> {
        let actions = alarm.config.actions();
        let arns = actions.for_state(state);
        (actions.enabled && !arns.is_empty()).then(|| DueActions {
            alarm_name: alarm.name().to_string(),
            alarm_arn: self.scope.arn(alarm.name()),
            state,
            arns: arns.to_vec(),
        })
    }

    fn action_history(&mut self, alarm: &Alarm, due: &Option<DueActions>) {
        if let Some(d) = due {
            for arn in &d.arns {
                self.history
                    .push(history::action(alarm, arn, d.state, self.now_ms));
            }
        }
    }

    /// Set an alarm's state. Always updates the reason and writes a StateUpdate item; a change
    /// of value also publishes the state-change event with the due actions.
    pub fn set_state(
        &mut self,
        name: &str,
        value: StateValue,
        reason: String,
        reason_data: Option<String>,
    ) {
        let Some(mut alarm) = self.get(name).cloned() else {
            return;
        };
        let previous = alarm.status.clone();
        let transitioned = previous.value != value;
        alarm.status = AlarmStatus {
            value,
            reason,
            reason_data,
            updated_ms: self.now_ms,
            transitioned_ms: if transitioned {
                self.now_ms
            } else {
                previous.transitioned_ms
            },
        };
        self.history
            .push(history::state_update(&alarm, &previous, self.now_ms));
        if transitioned {
            let run_now = match &alarm.config {
                AlarmConfig::Composite(c) => {
                    let periods = suppressor_periods(c);
                    let in_alarm = c.suppressor.as_deref().and_then(|s| self.state_of(s))
                        == Some(StateValue::Alarm);
                    alarm
                        .suppression
                        .on_transition(self.now_ms, in_alarm, periods)
                }
                AlarmConfig::Metric(_) => true,
            };
            let due = if run_now {
                self.due(&alarm, value)
            } else {
                None
            };
            let suppressed_by = if run_now {
                None
            } else {
                alarm.suppression.suppressed_by()
            };
            self.action_history(&alarm, &due);
            self.outbox.push(PendingEntry {
                event: Some(events::state_change(
                    self.scope,
                    &alarm,
                    &previous,
                    suppressed_by,
                    self.now_ms,
                )),
                actions: due,
            });
            self.changed.push(name.to_string());
        }
        self.put(alarm);
    }

    /// Release held actions of composites whose suppression period ended by now.
    pub fn tick_suppression(&mut self, names: &[String]) {
        for name in names {
            let Some(mut alarm) = self.get(name).cloned() else {
                continue;
            };
            let before = alarm.suppression;
            if !alarm.suppression.tick(self.now_ms) {
                // A timer that expired with nothing owed still ends.
                if alarm.suppression != before {
                    self.put(alarm);
                }
                continue;
            }
            let due = self.due(&alarm, alarm.status.value);
            self.action_history(&alarm, &due);
            if due.is_some() {
                self.outbox.push(PendingEntry {
                    event: None,
                    actions: due,
                });
            }
            self.put(alarm);
        }
    }

    /// Composites (as this change sees them) that reference `name` in their rule, or that it
    /// suppresses.
    fn composites_referencing(&self, name: &str, by_suppressor: bool) -> Vec<String> {
        let base = if by_suppressor {
            self.reg.suppressed_by(name)
        } else {
            self.reg.parents_of(name)
        };
        let mut out: Vec<String> = base
            .iter()
            .filter(|c| !self.overlay.contains_key(*c))
            .cloned()
            .collect();
        for c in &self.overlay_composites {
            if let Some(Some(Alarm {
                config: AlarmConfig::Composite(cfg),
                ..
            })) = self.overlay.get(c)
            {
                let refers = if by_suppressor {
                    cfg.suppressor.as_deref() == Some(name)
                } else {
                    cfg.children.iter().any(|k| k == name)
                };
                if refers && !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    fn children_of(&self, name: &str) -> Option<Vec<String>> {
        match self.get(name).map(|a| &a.config) {
            Some(AlarmConfig::Composite(c)) => Some(c.children.clone()),
            _ => None,
        }
    }

    /// Whether composite `name` takes part in a rule cycle.
    pub fn in_cycle(&self, name: &str) -> bool {
        composite::in_cycle(name, &|n| self.children_of(n))
    }

    /// Evaluate composite `name`'s rule as things stand; `None` when it cannot be evaluated
    /// (unknown, not a composite, in a cycle, unparsable rule).
    pub fn composite_verdict(&self, name: &str) -> Option<StateValue> {
        let Some(Alarm {
            config: AlarmConfig::Composite(c),
            ..
        }) = self.get(name)
        else {
            return None;
        };
        if self.in_cycle(name) {
            return None;
        }
        let expr = rule::parse(&c.rule).ok()?;
        let region = &self.scope.region;
        let account = &self.scope.account;
        Some(composite::rule_state(&expr, &|n| {
            rule::resolve(n, region, account).and_then(|r| self.state_of(&r))
        }))
    }

    /// Evaluate composite `name` after its configuration changed (created or updated).
    pub fn evaluate_configured(&mut self, name: &str, created: bool) {
        let Some(value) = self.composite_verdict(name) else {
            return;
        };
        let Some(AlarmConfig::Composite(c)) = self.get(name).map(|a| a.config.clone()) else {
            return;
        };
        if !created && self.state_of(name) == Some(value) {
            return;
        }
        let kids: Vec<(String, StateValue, i64)> = c
            .children
            .iter()
            .filter_map(|k| {
                self.get(k)
                    .map(|a| (self.scope.arn(k), a.status.value, a.status.updated_ms))
            })
            .collect();
        let reason = composite::config_reason(&self.scope.arn(name), created, value);
        self.set_state(name, value, reason, Some(composite::reason_data(&kids)));
    }

    /// Re-evaluate everything that depends on the state changes made so far.
    pub fn propagate(&mut self) {
        while self.propagated < self.changed.len() {
            let batch: Vec<String> = self.changed[self.propagated..].to_vec();
            self.propagated = self.changed.len();
            for name in &batch {
                let in_alarm = self.state_of(name) == Some(StateValue::Alarm);
                for c in self.composites_referencing(name, true) {
                    if let Some(mut alarm) = self.get(&c).cloned() {
                        let periods = match &alarm.config {
                            AlarmConfig::Composite(cfg) => suppressor_periods(cfg),
                            AlarmConfig::Metric(_) => None,
                        };
                        let before = alarm.suppression;
                        alarm
                            .suppression
                            .on_suppressor_change(self.now_ms, in_alarm, periods);
                        if alarm.suppression != before {
                            self.put(alarm);
                        }
                    }
                }
            }
            for c in self.affected_in_order(&batch) {
                self.reevaluate(&c, &batch);
            }
        }
    }

    /// Composites depending (transitively) on `changed`, children before parents.
    fn affected_in_order(&self, changed: &[String]) -> Vec<String> {
        let mut affected: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<String> = changed.to_vec();
        while let Some(x) = stack.pop() {
            for p in self.composites_referencing(&x, false) {
                if affected.insert(p.clone()) {
                    stack.push(p);
                }
            }
        }
        let mut order = Vec::with_capacity(affected.len());
        let mut done: HashSet<String> = HashSet::new();
        for root in &affected {
            // Iterative post-order DFS over the affected subgraph.
            let mut stack: Vec<(String, bool)> = vec![(root.clone(), false)];
            while let Some((n, expanded)) = stack.pop() {
                if expanded {
                    order.push(n);
                    continue;
                }
                if !done.insert(n.clone()) {
                    continue;
                }
                stack.push((n.clone(), true));
                for k in self.children_of(&n).unwrap_or_default() {
                    if affected.contains(&k) && !done.contains(&k) {
                        stack.push((k, false));
                    }
                }
            }
        }
        order
    }

    fn reevaluate(&mut self, name: &str, changed: &[String]) {
        let Some(value) = self.composite_verdict(name) else {
            return;
        };
        if self.state_of(name) == Some(value) {
            return;
        }
        let children = self.children_of(name).unwrap_or_default();
        let trigger = self
            .changed
            .iter()
            .rev()
            .find(|c| children.contains(c))
            .or_else(|| changed.iter().find(|c| children.contains(c)))
            .cloned();
        let kids: Vec<(String, StateValue, i64)> = match &trigger {
            Some(t) => self
                .get(t)
                .map(|a| vec![(self.scope.arn(t), a.status.value, a.status.transitioned_ms)])
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let reason = match kids.first() {
            Some((arn, state, at)) => composite::child_reason(arn, *state, *at),
            None => composite::config_reason(&self.scope.arn(name), false, value),
        };
        self.set_state(name, value, reason, Some(composite::reason_data(&kids)));
    }
}

fn suppressor_periods(c: &super::model::CompositeAlarmConfig) -> Option<Periods> {
    c.suppressor.as_ref().map(|_| Periods {
        wait_ms: c.wait_period_s.unwrap_or(0).saturating_mul(1000),
        extension_ms: c.extension_period_s.unwrap_or(0).saturating_mul(1000),
    })
}
