//! CreateEventBus, DeleteEventBus, DescribeEventBus, ListEventBuses.

use hostwatch_aws::{ApiError, Shape};
use serde_json::Value;

use super::common::{
    already_exists, constraint, internal, not_found, opt_str, page, req_str, validation,
};
use super::EventsApi;
use crate::events::model::{Bus, DEFAULT_BUS};
use crate::store::events::Job;

fn check_bus_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.len() > 256 {
        return Err(constraint(
            name,
            "name",
            "Member must have length less than or equal to 256",
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'))
    {
        return Err(constraint(
            name,
            "name",
            "Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+",
        ));
    }
    Ok(())
}

fn bus_shape(api: &EventsApi, name: &str, bus: Option<&Bus>) -> Shape {
    Shape::obj()
        .with("Name", name)
        .with("Arn", api.service.bus_arn(name))
        .with_opt("Description", bus.and_then(|b| b.description.clone()))
        .with_opt("CreationTime", bus.map(|b| Shape::Timestamp(b.created_ms)))
        .with_opt(
            "LastModifiedTime",
            bus.map(|b| Shape::Timestamp(b.created_ms)),
        )
}

/// CreateEventBus.
pub async fn create(api: &EventsApi, input: Value, now_ms: i64) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    check_bus_name(name)?;
    let description = opt_str(&input, "Description")?;
    if description.is_some_and(|d| d.chars().count() > 512) {
        return Err(constraint(
            description.unwrap_or_default(),
            "description",
            "Member must have length less than or equal to 512",
        ));
    }
    if opt_str(&input, "EventSourceName")?.is_some() {
        return Err(validation("Partner event sources are not supported."));
    }
    let s = &api.service;
    let _ddl = s.ddl().await;
    if s.with_config(|c| c.bus_exists(name)) {
        return Err(already_exists(format!("Event bus {name} already exists.")));
    }
    let bus = Bus {
        name: name.to_string(),
        created_ms: now_ms,
        description: description.map(str::to_string),
    };
    s.change(Job::PutBus(bus.clone()), |c| {
        c.buses.insert(bus.name.clone(), bus);
    })
    .await
    .map_err(internal)?;
    Ok(Some(Shape::obj().with("EventBusArn", s.bus_arn(name))))
}

/// DeleteEventBus (its rules go with it; an unknown bus is not an error).
pub async fn delete(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = req_str(&input, "Name", "name")?;
    if name == DEFAULT_BUS {
        return Err(validation("Cannot delete event bus default."));
    }
    let s = &api.service;
    let _ddl = s.ddl().await;
    if !s.with_config(|c| c.buses.contains_key(name)) {
        return Ok(None);
    }
    s.change(Job::DeleteBus(name.to_string()), |c| {
        c.buses.remove(name);
        c.rules.retain(|(b, _), _| b != name);
    })
    .await
    .map_err(internal)?;
    Ok(None)
}

/// DescribeEventBus.
pub fn describe(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = super::common::bus_name(&serde_json::json!({
        "EventBusName": opt_str(&input, "Name")?
    }))?;
    let bus = api.service.with_config(|c| {
        if name == DEFAULT_BUS {
            Ok(None)
        } else {
            c.buses
                .get(&name)
                .cloned()
                .map(Some)
                .ok_or_else(|| not_found(format!("Event bus {name} does not exist.")))
        }
    })?;
    Ok(Some(bus_shape(api, &name, bus.as_ref())))
}

/// ListEventBuses.
pub fn list(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let prefix = opt_str(&input, "NamePrefix")?.unwrap_or("");
    let all: Vec<(String, Option<Bus>)> = api.service.with_config(|c| {
        std::iter::once((DEFAULT_BUS.to_string(), None))
            .chain(c.buses.values().map(|b| (b.name.clone(), Some(b.clone()))))
            .filter(|(n, _)| n.starts_with(prefix))
            .collect()
    });
    let (items, next) = page(&all, &input, 100)?;
    Ok(Some(
        Shape::obj()
            .with(
                "EventBuses",
                Shape::List(
                    items
                        .iter()
                        .map(|(n, b)| bus_shape(api, n, b.as_ref()))
                        .collect(),
                ),
            )
            .with_opt("NextToken", next),
    ))
}
