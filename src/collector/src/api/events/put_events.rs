//! PutEvents and TestEventPattern.

use hostwatch_aws::{ApiError, Shape};
use serde_json::{json, Value};

use super::common::{bus_name, constraint, internal, not_found, opt_list, req_str, validation};
use super::rules::compile_pattern;
use super::EventsApi;
use crate::alarms::events::uuid_v4;
use crate::alarms::timefmt::event_time;

/// Most entries in one PutEvents call.
pub const MAX_ENTRIES: usize = 10;
/// Limit on the total entry size (exclusive).
pub const MAX_TOTAL_BYTES: usize = 256 * 1024;
/// Longest DetailType.
pub const MAX_DETAIL_TYPE: usize = 128;

/// AWS's size of one entry: 14 bytes for a Time, plus the UTF-8 bytes of Source, DetailType,
/// Detail and every Resource.
fn entry_size(e: &Value) -> usize {
    let s = |k: &str| e.get(k).and_then(Value::as_str).map_or(0, str::len);
    let time = if e.get("Time").is_some_and(|t| !t.is_null()) {
        14
    } else {
        0
    };
    let resources: usize = e.get("Resources").and_then(Value::as_array).map_or(0, |r| {
        r.iter().filter_map(Value::as_str).map(str::len).sum()
    });
    time + s("Source") + s("DetailType") + s("Detail") + resources
}

fn entry_time(e: &Value, now_ms: i64) -> i64 {
    match e.get("Time") {
        Some(Value::Number(n)) => n.as_f64().map_or(now_ms, |f| (f * 1000.0) as i64),
        Some(Value::String(s)) => {
            chrono::DateTime::parse_from_rfc3339(s).map_or(now_ms, |t| t.timestamp_millis())
        }
        _ => now_ms,
    }
}

fn invalid_arg(field: &str) -> (&'static str, String) {
    (
        "InvalidArgument",
        format!("Parameter {field} is not valid. Reason: {field} is a required argument."),
    )
}

/// Build the envelope of one entry, or its per-entry error.
fn envelope(api: &EventsApi, e: &Value, now_ms: i64) -> Result<Value, (&'static str, String)> {
    let text = |k: &str| e.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let source = text("Source").ok_or_else(|| invalid_arg("Source"))?;
    let detail_type = text("DetailType").ok_or_else(|| invalid_arg("DetailType"))?;
    let detail = text("Detail").ok_or_else(|| invalid_arg("Detail"))?;
    if detail_type.chars().count() > MAX_DETAIL_TYPE {
        return Err((
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is longer than 128 characters."
                .to_string(),
        ));
    }
    let detail: Value = match serde_json::from_str(detail) {
        Ok(v @ Value::Object(_)) => v,
        _ => return Err(("MalformedDetail", "Detail is malformed.".to_string())),
    };
    let resources: Vec<Value> = e
        .get("Resources")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter(|v| v.is_string()).cloned().collect())
        .unwrap_or_default();
    Ok(json!({
        "version": "0",
        "id": uuid_v4(),
        "detail-type": detail_type,
        "source": source,
        "account": api.service.account(),
        "time": event_time(entry_time(e, now_ms)),
        "region": api.service.region(),
        "resources": resources,
        "detail": detail,
    }))
}

/// PutEvents: per-entry results in request order; accepted events are routed and their
/// deliveries committed before the answer.
pub async fn put_events(
    api: &EventsApi,
    input: Value,
    now_ms: i64,
) -> Result<Option<Shape>, ApiError> {
    let entries = opt_list(&input, "Entries")?;
    if entries.is_empty() {
        return Err(constraint(
            "[]",
            "entries",
            "Member must have length greater than or equal to 1",
        ));
    }
    if entries.len() > MAX_ENTRIES {
        let shown = vec!["PutEventsRequestEntry(...)"; entries.len()].join(", ");
        return Err(constraint(
            &format!("[{shown}]"),
            "entries",
            "Member must have length less than or equal to 10",
        ));
    }
    if entries.iter().map(entry_size).sum::<usize>() >= MAX_TOTAL_BYTES {
        return Err(validation(
            "Total size of the entries in the request is over the limit.",
        ));
    }
    let mut buses = Vec::with_capacity(entries.len());
    for e in entries {
        let bus = bus_name(e)?;
        if !api.service.with_config(|c| c.bus_exists(&bus)) {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        buses.push(bus);
    }
    let results: Vec<Result<Value, (&str, String)>> =
        entries.iter().map(|e| envelope(api, e, now_ms)).collect();
    // Accepted events grouped by bus; routing is per event, so order across buses is free.
    let mut by_bus: Vec<(String, Vec<Value>)> = Vec::new();
    for (bus, r) in buses.iter().zip(&results) {
        if let Ok(ev) = r {
            match by_bus.iter_mut().find(|(b, _)| b == bus) {
                Some((_, v)) => v.push(ev.clone()),
                None => by_bus.push((bus.clone(), vec![ev.clone()])),
            }
        }
    }
    for (bus, events) in &by_bus {
        api.service
            .put_events(bus, events)
            .await
            .map_err(internal)?;
    }
    let failed = results.iter().filter(|r| r.is_err()).count();
    let shapes = results
        .into_iter()
        .map(|r| match r {
            Ok(ev) => Shape::obj().with("EventId", ev["id"].as_str().unwrap_or_default()),
            Err((code, msg)) => Shape::obj()
                .with("ErrorCode", code)
                .with("ErrorMessage", msg),
        })
        .collect();
    Ok(Some(
        Shape::obj()
            .with("FailedEntryCount", failed)
            .with("Entries", Shape::List(shapes)),
    ))
}

/// Members an event given to TestEventPattern must have.
const REQUIRED_EVENT_FIELDS: &[&str] = &[
    "id",
    "account",
    "source",
    "time",
    "region",
    "resources",
    "detail-type",
];

/// TestEventPattern.
pub fn test_event_pattern(input: Value) -> Result<Option<Shape>, ApiError> {
    let pattern = req_str(&input, "EventPattern", "eventPattern")?;
    let event = req_str(&input, "Event", "event")?;
    let event: Value = serde_json::from_str(event)
        .ok()
        .filter(|v: &Value| REQUIRED_EVENT_FIELDS.iter().all(|k| v.get(*k).is_some()))
        .ok_or_else(|| validation("Parameter Event is not valid."))?;
    let compiled = compile_pattern(pattern)?;
    Ok(Some(Shape::obj().with("Result", compiled.matches(&event))))
}
