//! Actions suppression of composite alarms (`ActionsSuppressor`, `ActionsSuppressorWaitPeriod`,
//! `ActionsSuppressorExtensionPeriod`) as a small state machine driven by explicit times.
//!
//! Rules (CloudWatch's):
//! - while the suppressor alarm is in ALARM, the composite's actions are suppressed;
//! - when the composite changes state, a **wait period** starts; if the suppressor reaches ALARM
//!   within it, the actions stay suppressed;
//! - when the suppressor leaves ALARM, an **extension period** starts, during which actions stay
//!   suppressed too;
//! - when a wait or extension period expires, the composite performs the actions of its
//!   *current* state (once), if a transition's actions are still owed;
//! - a composite state change during a period discards it and starts a new wait period;
//! - replacing the suppressor discards the active period and what was owed.
//!
//! Invariant: `pending` is set exactly while a transition's actions are owed; they are released
//! by [`Suppression::tick`] at the first call at or after the period's end.

use serde::{Deserialize, Serialize};

/// Where a composite's suppression stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// No period running.
    #[default]
    Idle,
    /// Waiting for the suppressor to reach ALARM, until the given time (ms).
    WaitPeriod { until_ms: i64 },
    /// The suppressor is in ALARM.
    Alarm,
    /// The suppressor left ALARM; suppressed until the given time (ms).
    ExtensionPeriod { until_ms: i64 },
}

/// The periods of a configured suppressor, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    pub wait_ms: i64,
    pub extension_ms: i64,
}

/// The suppression state of one composite alarm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub phase: Phase,
    /// A transition's actions are owed and will run when the period ends.
    pub pending: bool,
}

impl Suppression {
    /// The composite changed state at `now_ms`. Returns `true` when its actions run now (no
    /// suppressor configured), `false` when they are held.
    pub fn on_transition(
        &mut self,
        now_ms: i64,
        suppressor_in_alarm: bool,
        periods: Option<Periods>,
    ) -> bool {
        let Some(p) = periods else {
            *self = Suppression::default();
            return true;
        };
        self.pending = true;
        self.phase = if suppressor_in_alarm {
            Phase::Alarm
        } else {
            Phase::WaitPeriod {
                until_ms: now_ms.saturating_add(p.wait_ms),
            }
        };
        false
    }

    /// The suppressor entered (`in_alarm`) or left ALARM at `now_ms`.
    pub fn on_suppressor_change(&mut self, now_ms: i64, in_alarm: bool, periods: Option<Periods>) {
        let Some(p) = periods else {
            return;
        };
        if in_alarm {
            if self.pending || self.phase != Phase::Idle {
                self.phase = Phase::Alarm;
            }
        } else if self.phase == Phase::Alarm {
            self.phase = Phase::ExtensionPeriod {
                until_ms: now_ms.saturating_add(p.extension_ms),
            };
        }
    }

    /// Time passed to `now_ms`. Returns `true` when held actions are released now (the caller
    /// runs the actions of the composite's current state).
    pub fn tick(&mut self, now_ms: i64) -> bool {
        match self.phase {
            Phase::WaitPeriod { until_ms } | Phase::ExtensionPeriod { until_ms }
                if now_ms >= until_ms =>
            {
                self.phase = Phase::Idle;
                std::mem::take(&mut self.pending)
            }
            _ => false,
        }
    }

    /// Whether a timer is running (the scheduler ticks such alarms every round).
    pub fn has_timer(&self) -> bool {
        matches!(
            self.phase,
            Phase::WaitPeriod { .. } | Phase::ExtensionPeriod { .. }
        )
    }

    /// `ActionsSuppressedBy`: `WaitPeriod`, `ExtensionPeriod` or `Alarm` while a period holds
    /// owed actions.
    pub fn suppressed_by(&self) -> Option<&'static str> {
        if !self.pending {
            return None;
        }
        match self.phase {
            Phase::Idle => None,
            Phase::WaitPeriod { .. } => Some("WaitPeriod"),
            Phase::Alarm => Some("Alarm"),
            Phase::ExtensionPeriod { .. } => Some("ExtensionPeriod"),
        }
    }

    /// `ActionsSuppressedReason` for [`Suppression::suppressed_by`].
    pub fn suppressed_reason(&self) -> Option<String> {
        self.suppressed_by()
            .map(|by| format!("Actions suppressed by {by}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Periods = Periods {
        wait_ms: 120_000,
        extension_ms: 180_000,
    };

    /// One step of a suppression timing table.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// The composite transitions; the flag is the suppressor's state at that moment.
        Transition { suppressor_in_alarm: bool },
        /// The suppressor enters (true) or leaves (false) ALARM.
        Suppressor(bool),
        /// A scheduler round.
        Tick,
    }
    use Step::*;

    /// (seconds, step, actions run at this step, ActionsSuppressedBy after it)
    type Row = (i64, Step, bool, Option<&'static str>);

    fn run(table: &[Row]) {
        let mut s = Suppression::default();
        for (i, (t, step, fires, by)) in table.iter().enumerate() {
            let now = t * 1000;
            let fired = match *step {
                Transition {
                    suppressor_in_alarm,
                } => s.on_transition(now, suppressor_in_alarm, Some(P)),
                Suppressor(a) => {
                    s.on_suppressor_change(now, a, Some(P));
                    false
                }
                Tick => s.tick(now),
            };
            assert_eq!(fired, *fires, "row {i} ({t} s, {step:?}): fired");
            assert_eq!(s.suppressed_by(), *by, "row {i} ({t} s, {step:?}): state");
        }
    }

    #[test]
    fn wait_period_expires_and_releases_the_actions() {
        run(&[
            (
                0,
                Transition {
                    suppressor_in_alarm: false,
                },
                false,
                Some("WaitPeriod"),
            ),
            (60, Tick, false, Some("WaitPeriod")),
            (119, Tick, false, Some("WaitPeriod")),
            (120, Tick, true, None),
            (180, Tick, false, None),
        ]);
    }

    #[test]
    fn suppressor_alarm_within_the_wait_period_holds_until_the_extension_ends() {
        run(&[
            (
                0,
                Transition {
                    suppressor_in_alarm: false,
                },
                false,
                Some("WaitPeriod"),
            ),
            (30, Suppressor(true), false, Some("Alarm")),
            (200, Tick, false, Some("Alarm")),
            (600, Suppressor(false), false, Some("ExtensionPeriod")),
            (700, Tick, false, Some("ExtensionPeriod")),
            (779, Tick, false, Some("ExtensionPeriod")),
            (780, Tick, true, None),
        ]);
    }

    #[test]
    fn transition_while_suppressor_in_alarm() {
        run(&[
            (
                0,
                Transition {
                    suppressor_in_alarm: true,
                },
                false,
                Some("Alarm"),
            ),
            (1000, Tick, false, Some("Alarm")),
            (1000, Suppressor(false), false, Some("ExtensionPeriod")),
            (1100, Suppressor(true), false, Some("Alarm")),
            (1200, Suppressor(false), false, Some("ExtensionPeriod")),
            (1379, Tick, false, Some("ExtensionPeriod")),
            (1380, Tick, true, None),
        ]);
    }

    #[test]
    fn a_new_transition_restarts_the_wait_period() {
        run(&[
            (
                0,
                Transition {
                    suppressor_in_alarm: false,
                },
                false,
                Some("WaitPeriod"),
            ),
            (
                100,
                Transition {
                    suppressor_in_alarm: false,
                },
                false,
                Some("WaitPeriod"),
            ),
            (120, Tick, false, Some("WaitPeriod")),
            (219, Tick, false, Some("WaitPeriod")),
            (220, Tick, true, None),
        ]);
    }

    #[test]
    fn suppressor_alarm_without_owed_actions_changes_nothing() {
        run(&[
            (0, Suppressor(true), false, None),
            (10, Suppressor(false), false, None),
            (500, Tick, false, None),
        ]);
    }

    #[test]
    fn no_suppressor_runs_actions_at_once() {
        let mut s = Suppression::default();
        assert!(s.on_transition(0, true, None));
        assert_eq!(s.suppressed_by(), None);
        assert!(!s.tick(1_000_000));
        assert!(!s.has_timer());
    }
}
