//! CreateArchive, DescribeArchive, ListArchives, UpdateArchive, DeleteArchive.
//!
//! An archive is always `ENABLED` here (it is usable as soon as CreateArchive answers);
//! `EventCount` and `SizeBytes` (bytes of the archived envelopes as JSON) are exact at the time
//! of the call. `KmsKeyIdentifier` is not supported (events are stored unencrypted in the data
//! directory) and is refused.

use hostwatch_aws::{ApiError, Shape};
use serde_json::Value;

use super::common::{
    already_exists, arn_resource, check_description, check_name_max, constraint, internal,
    not_found, opt_int, opt_str, page, req_str, validation,
};
use super::rules::compile_pattern;
use super::EventsApi;
use crate::events::model::Archive;
use crate::events::ArchiveEntry;
use crate::store::events::Job;

/// Longest archive name.
pub const MAX_ARCHIVE_NAME: usize = 48;
/// The only state an archive has here.
const ENABLED: &str = "ENABLED";
/// Archive states of the API model.
const STATES: [&str; 6] = [
    "ENABLED",
    "DISABLED",
    "CREATING",
    "UPDATING",
    "CREATE_FAILED",
    "UPDATE_FAILED",
];

/// The "Archive X does not exist." error.
pub fn archive_not_found(name: &str) -> ApiError {
    not_found(format!("Archive {name} does not exist."))
}

fn archive_name(input: &Value) -> Result<&str, ApiError> {
    let name = req_str(input, "ArchiveName", "archiveName")?;
    check_name_max(name, "archiveName", MAX_ARCHIVE_NAME)?;
    Ok(name)
}

fn retention_days(input: &Value) -> Result<Option<u32>, ApiError> {
    match opt_int(input, "RetentionDays")? {
        None => Ok(None),
        Some(d) if d < 0 => Err(constraint(
            &d.to_string(),
            "retentionDays",
            "Member must have value greater than or equal to 0",
        )),
        Some(d) => Ok(Some(u32::try_from(d).unwrap_or(u32::MAX))),
    }
}

fn refuse_kms(input: &Value) -> Result<(), ApiError> {
    match opt_str(input, "KmsKeyIdentifier")? {
        Some(k) if !k.is_empty() => Err(validation(
            "KmsKeyIdentifier is not supported: archives are stored in the collector's data \
             directory.",
        )),
        _ => Ok(()),
    }
}

/// The archive named `name`, cloned.
fn get(api: &EventsApi, name: &str) -> Result<Archive, ApiError> {
    api.service
        .with_config(|c| c.archives.get(name).map(|e| e.archive.clone()))
        .ok_or_else(|| archive_not_found(name))
}

/// CreateArchive.
pub async fn create(api: &EventsApi, input: Value, now_ms: i64) -> Result<Option<Shape>, ApiError> {
    let name = archive_name(&input)?;
    let source = req_str(&input, "EventSourceArn", "eventSourceArn")?;
    let bus = arn_resource(source, "event-bus", "eventSourceArn")?;
    let description = opt_str(&input, "Description")?;
    check_description(description)?;
    let pattern = opt_str(&input, "EventPattern")?;
    let compiled = pattern.map(compile_pattern).transpose()?;
    let retention = retention_days(&input)?.unwrap_or(0);
    refuse_kms(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    s.with_config(|c| {
        if c.archives.contains_key(name) {
            return Err(already_exists(format!("Archive {name} already exists.")));
        }
        if !c.bus_exists(bus) {
            return Err(not_found(format!("Event bus {bus} does not exist.")));
        }
        Ok(())
    })?;
    let archive = Archive {
        name: name.to_string(),
        bus: bus.to_string(),
        event_pattern: pattern.map(str::to_string),
        retention_days: retention,
        description: description.map(str::to_string),
        created_ms: now_ms,
    };
    let entry = ArchiveEntry {
        archive,
        pattern: compiled,
        usable: true,
    };
    put(api, entry).await
}

/// Store `entry` (new or changed) and answer as CreateArchive and UpdateArchive do.
async fn put(api: &EventsApi, entry: ArchiveEntry) -> Result<Option<Shape>, ApiError> {
    let s = &api.service;
    let name = entry.archive.name.clone();
    let created = entry.archive.created_ms;
    s.change(Job::PutArchive(entry.archive.clone()), |c| {
        c.archives.insert(name.clone(), entry);
    })
    .await
    .map_err(internal)?;
    Ok(Some(
        Shape::obj()
            .with("ArchiveArn", s.archive_arn(&name))
            .with("State", ENABLED)
            .with("CreationTime", Shape::Timestamp(created)),
    ))
}

fn stats(api: &EventsApi, name: &str) -> Result<(i64, i64), ApiError> {
    api.service.store().archive_stats(name).map_err(internal)
}

/// DescribeArchive.
pub fn describe(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = archive_name(&input)?;
    let a = get(api, name)?;
    let (count, bytes) = stats(api, name)?;
    let s = &api.service;
    Ok(Some(
        Shape::obj()
            .with("ArchiveArn", s.archive_arn(&a.name))
            .with("ArchiveName", a.name.as_str())
            .with("EventSourceArn", s.bus_arn(&a.bus))
            .with_opt("Description", a.description.clone())
            .with_opt("EventPattern", a.event_pattern.clone())
            .with("State", ENABLED)
            .with("RetentionDays", a.retention_days)
            .with("SizeBytes", bytes)
            .with("EventCount", count)
            .with("CreationTime", Shape::Timestamp(a.created_ms)),
    ))
}

/// ListArchives.
pub fn list(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let prefix = opt_str(&input, "NamePrefix")?.unwrap_or("");
    let bus = match opt_str(&input, "EventSourceArn")? {
        None => None,
        Some(arn) => {
            let bus = arn_resource(arn, "event-bus", "eventSourceArn")?;
            if !api.service.with_config(|c| c.bus_exists(bus)) {
                return Err(not_found(format!("Event bus {bus} does not exist.")));
            }
            Some(bus)
        }
    };
    let state = opt_str(&input, "State")?;
    if let Some(st) = state.filter(|st| !STATES.contains(st)) {
        return Err(constraint(
            st,
            "state",
            &format!(
                "Member must satisfy enum value set: [{}]",
                STATES.join(", ")
            ),
        ));
    }
    let archives: Vec<Archive> = api.service.with_config(|c| {
        c.archives
            .values()
            .map(|e| &e.archive)
            .filter(|a| a.name.starts_with(prefix))
            .filter(|a| bus.is_none_or(|b| a.bus == b))
            .filter(|_| state.is_none_or(|st| st == ENABLED))
            .cloned()
            .collect()
    });
    let (items, next) = page(&archives, &input, 100)?;
    let mut shapes = Vec::with_capacity(items.len());
    for a in &items {
        let (count, bytes) = stats(api, &a.name)?;
        shapes.push(
            Shape::obj()
                .with("ArchiveName", a.name.as_str())
                .with("EventSourceArn", api.service.bus_arn(&a.bus))
                .with("State", ENABLED)
                .with("RetentionDays", a.retention_days)
                .with("SizeBytes", bytes)
                .with("EventCount", count)
                .with("CreationTime", Shape::Timestamp(a.created_ms)),
        );
    }
    Ok(Some(
        Shape::obj()
            .with("Archives", Shape::List(shapes))
            .with_opt("NextToken", next),
    ))
}

/// UpdateArchive: the fields given replace the stored ones; the events stay.
pub async fn update(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = archive_name(&input)?;
    let description = opt_str(&input, "Description")?;
    let pattern = opt_str(&input, "EventPattern")?;
    let retention = retention_days(&input)?;
    if description.is_none() && pattern.is_none() && retention.is_none() {
        return Err(validation(
            "At least one of EventPattern, RetentionDays or Description must be provided.",
        ));
    }
    check_description(description)?;
    let compiled = pattern.map(compile_pattern).transpose()?;
    refuse_kms(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    let mut entry = s
        .with_config(|c| c.archives.get(name).cloned())
        .ok_or_else(|| archive_not_found(name))?;
    let archive = &mut entry.archive;
    if let Some(d) = description {
        archive.description = Some(d.to_string());
    }
    if let Some(r) = retention {
        archive.retention_days = r;
    }
    if let Some(p) = pattern {
        archive.event_pattern = Some(p.to_string());
        entry.pattern = compiled;
        entry.usable = true;
    }
    put(api, entry).await
}

/// DeleteArchive (its events go with it).
pub async fn delete(api: &EventsApi, input: Value) -> Result<Option<Shape>, ApiError> {
    let name = archive_name(&input)?;
    let s = &api.service;
    let _ddl = s.ddl().await;
    get(api, name)?;
    s.change(Job::DeleteArchive(name.to_string()), |c| {
        c.archives.remove(name);
    })
    .await
    .map_err(internal)?;
    Ok(None)
}
