//! StartReplay, DescribeReplay, ListReplays, CancelReplay.
//!
//! The replay itself runs in the delivery loop ([`crate::events::replay`]); these handlers
//! validate, record and report. At most [`MAX_ACTIVE_REPLAYS`] replays are active at once.
//! The text of `IllegalStatusException` (cancelling a replay that is no longer running) is
//! the one of the common EventBridge emulators; AWS's own was not recorded.

use hostwatch_aws::{ApiError, Shape};
use serde_json::Value;

use super::archives::MAX_ARCHIVE_NAME;
use super::common::{
    already_exists, arn_resource, check_description, check_name, constraint, illegal_status,
    internal, limit_exceeded, not_found, opt_list, opt_str, page, req_str, req_time, validation,
};
use super::rules::rule_not_found;
use super::EventsApi;
use crate::events::model::{Replay, ReplayState};
use crate::events::replay::MAX_ACTIVE_REPLAYS;

/// The "Replay X does not exist." error.
fn replay_not_found(name: &str) -> ApiError {
    not_found(format!("Replay {name} does not exist."))
}

fn replay_name(input: &Value) -> Result<&str, ApiError> {
    let name = req_str(input, "ReplayName", "replayName")?;
    check_name(name, "replayName")?;
    Ok(name)
}

fn get(api: &EventsApi, name: &str) -> Result<Replay, ApiError> {
    api.service
        .with_replays(|m| m.get(name).cloned())
        .ok_or_else(|| replay_not_found(name))
}

/// The rule ARNs of `FilterArns`, each naming a rule of `bus`.
fn filter_arns(api: &EventsApi, dest: &Value, bus: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for v in opt_list(dest, "FilterArns")? {
        let arn = v
            .as_str()
            .ok_or_else(|| validation("Parameter Destination.FilterArns is not valid."))?;
        let name = arn_resource(arn, "rule", "destination.filterArns")?;
        let name = name.rsplit('/').next().unwrap_or(name);
        let known = api.service.with_config(|c| {
            c.rules
                .values()
                .any(|e| e.rule.bus == bus && api.service.rule_arn(bus, &e.rule.name) == arn)
        });
        if !known {
            return Err(rule_not_found(name, bus));
        }
        out.push(arn.to_string());
    }
    Ok(out)
}

/// StartReplay.
pub async fn start(api: &EventsApi, input: Value, now_ms: i64) -> Result<Option<Shape>, ApiError> {
    let name = replay_name(&input)?;
    let description = opt_str(&input, "Description")?;
    check_description(description)?;
    let source = req_str(&input, "EventSourceArn", "eventSourceArn")?;
    let archive = arn_resource(source, "archive", "eventSourceArn")?;
    if archive.chars().count() > MAX_ARCHIVE_NAME {
        return Err(validation(format!(
            "Parameter EventSourceArn is not valid. Reason: Archive {archive} does not exist."
        )));
    }
    let start_ms = req_time(&input, "EventStartTime", "eventStartTime")?;
    let end_ms = req_time(&input, "EventEndTime", "eventEndTime")?;
    let dest = match input.get("Destination") {
        Some(d @ Value::Object(_)) => d,
        _ => {
            return Err(validation(
                "1 validation error detected: Value null at 'destination' failed to satisfy \
                 constraint: Member must not be null",
            ))
        }
    };
    let dest_arn = req_str(dest, "Arn", "destination.arn")?;
    let dest_bus = arn_resource(dest_arn, "event-bus", "destination.arn")?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    if s.with_replays(|m| m.contains_key(name)) {
        return Err(already_exists(format!("Replay {name} already exists.")));
    }
    let archive_bus = s
        .with_config(|c| c.archives.get(archive).map(|a| a.archive.bus.clone()))
        .ok_or_else(|| {
            validation(format!(
                "Parameter EventSourceArn is not valid. Reason: Archive {archive} does not exist."
            ))
        })?;
    if start_ms >= end_ms {
        return Err(validation(
            "Parameter EventEndTime is not valid. Reason: EventStartTime must be before \
             EventEndTime.",
        ));
    }
    if !s.with_config(|c| c.bus_exists(dest_bus)) {
        return Err(not_found(format!("Event bus {dest_bus} does not exist.")));
    }
    if dest_bus != archive_bus {
        return Err(validation(
            "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not \
             permitted.",
        ));
    }
    let filters = filter_arns(api, dest, dest_bus)?;
    if s.with_replays(|m| m.values().filter(|r| r.state.active()).count()) >= MAX_ACTIVE_REPLAYS {
        return Err(limit_exceeded());
    }
    let replay = Replay {
        name: name.to_string(),
        description: description.map(str::to_string),
        archive: archive.to_string(),
        bus: dest_bus.to_string(),
        filter_arns: filters,
        start_ms,
        end_ms,
        state: ReplayState::Starting,
        state_reason: None,
        replay_start_ms: now_ms,
        replay_end_ms: None,
        last_replayed_ms: None,
        cursor: (start_ms, 0),
    };
    s.save_replay(replay).await.map_err(internal)?;
    Ok(Some(
        Shape::obj()
            .with("ReplayArn", s.replay_arn(name))
            .with("State", ReplayState::Starting.as_str())
            .with("ReplayStartTime", Shape::Timestamp(now_ms)),
    ))
}

fn ts(ms: Option<i64>) -> Option<Shape> {
    ms.map(Shape::Timestamp)
}

/// DescribeReplay.
pub fn describe(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let r = get(api, replay_name(&input)?)?;
    let s = &api.service;
    let mut dest = Shape::obj().with("Arn", s.bus_arn(&r.bus));
    if !r.filter_arns.is_empty() {
        dest = dest.with("FilterArns", Shape::list(r.filter_arns.iter()));
    }
    Ok(Some(
        Shape::obj()
            .with("ReplayName", r.name.as_str())
            .with("ReplayArn", s.replay_arn(&r.name))
            .with_opt("Description", r.description.clone())
            .with("State", r.state.as_str())
            .with_opt("StateReason", r.state_reason.clone())
            .with("EventSourceArn", s.archive_arn(&r.archive))
            .with("Destination", dest)
            .with("EventStartTime", Shape::Timestamp(r.start_ms))
            .with("EventEndTime", Shape::Timestamp(r.end_ms))
            .with_opt("EventLastReplayedTime", ts(r.last_replayed_ms))
            .with("ReplayStartTime", Shape::Timestamp(r.replay_start_ms))
            .with_opt("ReplayEndTime", ts(r.replay_end_ms)),
    ))
}

/// ListReplays.
pub fn list(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let prefix = opt_str(&input, "NamePrefix")?.unwrap_or("");
    let state = match opt_str(&input, "State")? {
        None => None,
        Some(st) => Some(ReplayState::parse(st).ok_or_else(|| {
            constraint(
                st,
                "state",
                "Member must satisfy enum value set: [STARTING, RUNNING, CANCELLING, COMPLETED, \
                 CANCELLED, FAILED]",
            )
        })?),
    };
    let archive = opt_str(&input, "EventSourceArn")?
        .map(|a| arn_resource(a, "archive", "eventSourceArn"))
        .transpose()?;
    let replays: Vec<Replay> = api.service.with_replays(|m| {
        m.values()
            .filter(|r| r.name.starts_with(prefix))
            .filter(|r| state.is_none_or(|st| r.state == st))
            .filter(|r| archive.is_none_or(|a| r.archive == a))
            .cloned()
            .collect()
    });
    let (items, next) = page(&replays, &input, 100)?;
    let s = &api.service;
    let shapes = items
        .iter()
        .map(|r| {
            Shape::obj()
                .with("ReplayName", r.name.as_str())
                .with("EventSourceArn", s.archive_arn(&r.archive))
                .with("State", r.state.as_str())
                .with_opt("StateReason", r.state_reason.clone())
                .with("EventStartTime", Shape::Timestamp(r.start_ms))
                .with("EventEndTime", Shape::Timestamp(r.end_ms))
                .with_opt("EventLastReplayedTime", ts(r.last_replayed_ms))
                .with("ReplayStartTime", Shape::Timestamp(r.replay_start_ms))
                .with_opt("ReplayEndTime", ts(r.replay_end_ms))
        })
        .collect();
    Ok(Some(
        Shape::obj()
            .with("Replays", Shape::List(shapes))
            .with_opt("NextToken", next),
    ))
}

/// CancelReplay: a `STARTING` or `RUNNING` replay becomes `CANCELLING`; the delivery loop
/// stops it.
pub async fn cancel(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = replay_name(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    let mut r = get(api, name)?;
    if !matches!(r.state, ReplayState::Starting | ReplayState::Running) {
        return Err(illegal_status(format!(
            "Replay {name} is not in a valid state for this operation."
        )));
    }
    r.state = ReplayState::Cancelling;
    s.save_replay(r).await.map_err(internal)?;
    Ok(Some(
        Shape::obj()
            .with("ReplayArn", s.replay_arn(name))
            .with("State", ReplayState::Cancelling.as_str()),
    ))
}
