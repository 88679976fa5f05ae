//! The persisted configuration of the event service: buses, rules and their targets.
//!
//! These types are stored as JSON text in `events.db` (see [`crate::store::events`]); field
//! names are the serde defaults below and must stay stable (add optional fields only).
//! Invariants kept by the API layer: names are validated before they get here, a rule's
//! `targets` hold at most [`MAX_TARGETS_PER_RULE`] entries with distinct ids, and the
//! `default` bus always exists (it is never stored).

use serde::{Deserialize, Serialize};

/// Name of the bus that always exists.
pub const DEFAULT_BUS: &str = "default";
/// Most targets on one rule (AWS's quota).
pub const MAX_TARGETS_PER_RULE: usize = 5;
/// Default `RetryPolicy.MaximumRetryAttempts`.
pub const DEFAULT_MAX_RETRIES: u32 = 185;
/// Default `RetryPolicy.MaximumEventAgeInSeconds`.
pub const DEFAULT_MAX_AGE_S: u32 = 86_400;

/// A custom event bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bus {
    pub name: String,
    pub created_ms: i64,
    pub description: Option<String>,
}

/// Whether a rule routes events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleState {
    Enabled,
    Disabled,
    /// Accepted for compatibility; routes like `Enabled`.
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleState::Enabled => "ENABLED",
            RuleState::Disabled => "DISABLED",
            RuleState::EnabledWithAllCloudtrailManagementEvents => {
                "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
            }
        }
    }

    /// Parse the API spelling.
    pub fn parse(s: &str) -> Option<RuleState> {
        match s {
            "ENABLED" => Some(RuleState::Enabled),
            "DISABLED" => Some(RuleState::Disabled),
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => {
                Some(RuleState::EnabledWithAllCloudtrailManagementEvents)
            }
            _ => None,
        }
    }

    /// True unless disabled.
    pub fn routes(self) -> bool {
        self != RuleState::Disabled
    }
}

/// A rule on a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub bus: String,
    pub name: String,
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    pub state: RuleState,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    /// When the rule was first created (rate schedules count from here).
    pub created_ms: i64,
    pub targets: Vec<Target>,
}

/// How a target's input is derived from the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTransformer {
    /// Variable name to JSON path, in the order given.
    pub paths: Vec<(String, String)>,
    pub template: String,
}

/// Redelivery limits of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub max_age_s: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: DEFAULT_MAX_RETRIES,
            max_age_s: DEFAULT_MAX_AGE_S,
        }
    }
}

/// A target of a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub arn: String,
    pub role_arn: Option<String>,
    pub input: Option<String>,
    pub input_path: Option<String>,
    pub input_transformer: Option<InputTransformer>,
    /// `DeadLetterConfig.Arn`.
    pub dead_letter_arn: Option<String>,
    /// `None` when the request carried no RetryPolicy (defaults apply).
    pub retry: Option<RetryPolicy>,
    /// `HttpParameters.HeaderParameters`, sent with HTTP deliveries.
    pub headers: Vec<(String, String)>,
}

/// One pending (event, target) delivery, as queued durably.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub rule_arn: String,
    pub rule_name: String,
    /// Snapshot of the target when the event matched.
    pub target: Target,
    /// The full event envelope.
    pub event: serde_json::Value,
    /// When the event was accepted, ms.
    pub ingestion_ms: i64,
    /// How many bus-to-bus targets the event went through before this delivery.
    #[serde(default)]
    pub hops: u32,
}

/// An archive of a bus's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Archive {
    pub name: String,
    /// The source bus (by name).
    pub bus: String,
    pub event_pattern: Option<String>,
    /// Days an archived event is kept; 0 keeps it forever.
    pub retention_days: u32,
    pub description: Option<String>,
    pub created_ms: i64,
}

/// Where a replay is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplayState {
    Starting,
    Running,
    Cancelling,
    Completed,
    Cancelled,
    Failed,
}

impl ReplayState {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayState::Starting => "STARTING",
            ReplayState::Running => "RUNNING",
            ReplayState::Cancelling => "CANCELLING",
            ReplayState::Completed => "COMPLETED",
            ReplayState::Cancelled => "CANCELLED",
            ReplayState::Failed => "FAILED",
        }
    }

    /// Parse the API spelling.
    pub fn parse(s: &str) -> Option<ReplayState> {
        [
            ReplayState::Starting,
            ReplayState::Running,
            ReplayState::Cancelling,
            ReplayState::Completed,
            ReplayState::Cancelled,
            ReplayState::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// True while the replay still has work to do (it counts against the concurrency limit).
    pub fn active(self) -> bool {
        matches!(
            self,
            ReplayState::Starting | ReplayState::Running | ReplayState::Cancelling
        )
    }
}

/// A replay of an archive's events onto its bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    pub name: String,
    pub description: Option<String>,
    /// The archive replayed (by name).
    pub archive: String,
    /// The destination bus (the archive's source bus).
    pub bus: String,
    /// Rule ARNs the replayed events go to; empty = every rule of the bus.
    pub filter_arns: Vec<String>,
    /// Event-time window, ms, both ends included.
    pub start_ms: i64,
    pub end_ms: i64,
    pub state: ReplayState,
    pub state_reason: Option<String>,
    /// When StartReplay was called, ms.
    pub replay_start_ms: i64,
    /// When the replay reached a final state, ms.
    pub replay_end_ms: Option<i64>,
    /// Event time of the last event replayed, ms.
    pub last_replayed_ms: Option<i64>,
    /// Position in the archive: (event time, row id) of the last event replayed.
    pub cursor: (i64, i64),
}

/// One event as written into an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    pub archive: String,
    /// The event's `time`, ms.
    pub event_ms: i64,
    /// When the event was archived, ms (retention counts from here).
    pub stored_ms: i64,
    /// The event envelope as JSON text.
    pub body: String,
}
