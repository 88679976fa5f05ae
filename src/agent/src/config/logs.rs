//! The `logs` section: file collection (`logs_collected.files.collect_list`) and the log
//! sources that are accepted but not built yet (journald, Windows events, EMF, ...).

use super::plugins::entity_attributes;
use super::types::{FileLogConfig, LogsSection};
use super::validate::{
    as_integer, check_array, check_str, check_unique, msg_type, Ctx, JsonPath, Obj,
};
use serde_json::Value;
use std::collections::HashMap;

/// `retention_in_days`: the values CloudWatch Logs accepts, `-1` meaning "leave as is".
pub const RETENTION_DAYS: &[i64] = &[
    -1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
];

/// Encoding names accepted in `encoding` (compared case-insensitively): the ones the tailer
/// decodes.
pub use hostwatch_tailer::encoding::CONFIG_NAMES as ENCODINGS;

const ENTRY_KEYS: &[&str] = &[
    "file_path",
    "log_group_name",
    "log_stream_name",
    "log_group_class",
    "multi_line_start_pattern",
    "timestamp_format",
    "timezone",
    "trim_timestamp",
    "encoding",
    "auto_removal",
    "backpressure_mode",
    "blacklist",
    "publish_multi_logs",
    "retention_in_days",
    "filters",
    "service.name",
    "deployment.environment",
];

/// The multi-line start pattern keyword that reuses the timestamp regex.
pub const TIMESTAMP_FORMAT_KEYWORD: &str = "{timestamp_format}";

/// Walks `logs`; `None` when it is not an object.
pub fn section(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Option<LogsSection> {
    let obj = Obj::new(ctx, path, v)?;
    obj.allow_only(
        ctx,
        &[
            "logs_collected",
            "metrics_collected",
            "log_stream_name",
            "force_flush_interval",
            "credentials",
            "endpoint_override",
            "service.name",
            "deployment.environment",
            "concurrency",
        ],
    );
    entity_attributes(ctx, &obj);
    if !obj.has("logs_collected") && !obj.has("metrics_collected") {
        ctx.error(&obj.path, "logs_collected or metrics_collected is required");
    }
    let mut files = Vec::new();
    if let Some((p, v)) = obj.get("logs_collected") {
        files = logs_collected(ctx, p, v);
    }
    if let Some((p, v)) = obj.get("metrics_collected") {
        if let Some(mc) = Obj::new(ctx, p, v) {
            for (key, _) in mc.map {
                ctx.unsupported(&mc.path.key(key));
            }
        }
    }
    let concurrency = obj
        .int(ctx, "concurrency", 1, i64::MAX)
        .and_then(|c| u64::try_from(c).ok());
    Some(LogsSection {
        files,
        log_stream_name: obj.str(ctx, "log_stream_name", 1, 512),
        force_flush_interval: obj
            .interval(ctx, "force_flush_interval", false)
            .unwrap_or(5),
        endpoint_override: obj.endpoint(ctx, "endpoint_override"),
        role_arn: obj.role_arn(ctx),
        concurrency,
        unsupported: Vec::new(),
    })
}

fn logs_collected(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Vec<FileLogConfig> {
    let Some(obj) = Obj::new(ctx, path, v) else {
        return Vec::new();
    };
    obj.allow_only(
        ctx,
        &["files", "journald", "windows_events", "application_signals"],
    );
    if obj.map.is_empty() {
        ctx.error(&obj.path, "Must have at least 1 properties");
    }
    for key in ["journald", "windows_events"] {
        if let Some((p, v)) = obj.get(key) {
            if let Some(o) = Obj::new(ctx, p.clone(), v) {
                o.allow_only(ctx, &["collect_list"]);
                if let Some((lp, lv)) = o.required(ctx, "collect_list") {
                    if let Some(items) = check_array(ctx, &lp, lv, 1, 16384) {
                        check_unique(ctx, &lp, items);
                        for (i, item) in items.iter().enumerate() {
                            Obj::new(ctx, lp.index(i), item);
                        }
                    }
                }
            }
            ctx.unsupported(&p);
        }
    }
    if let Some((p, v)) = obj.get("application_signals") {
        Obj::new(ctx, p.clone(), v);
        ctx.unsupported(&p);
    }
    let Some((p, v)) = obj.get("files") else {
        return Vec::new();
    };
    let Some(files) = Obj::new(ctx, p, v) else {
        return Vec::new();
    };
    files.allow_only(ctx, &["collect_list"]);
    let Some((lp, lv)) = files.required(ctx, "collect_list") else {
        return Vec::new();
    };
    let Some(items) = check_array(ctx, &lp, lv, 1, 16384) else {
        return Vec::new();
    };
    check_unique(ctx, &lp, items);
    let entries: Vec<(usize, FileLogConfig)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| Obj::new(ctx, lp.index(i), item).map(|o| (i, file_entry(ctx, &o))))
        .collect();
    check_group_consistency(ctx, &lp, &entries);
    entries.into_iter().map(|(_, e)| e).collect()
}

fn file_entry(ctx: &mut Ctx, obj: &Obj<'_>) -> FileLogConfig {
    obj.allow_only(ctx, ENTRY_KEYS);
    entity_attributes(ctx, obj);
    let file_path = match obj.required(ctx, "file_path") {
        Some((p, v)) => check_str(ctx, &p, v, 1, 4096)
            .map(str::to_string)
            .unwrap_or_default(),
        None => String::new(),
    };
    let timestamp_format = obj.str(ctx, "timestamp_format", 1, 4096);
    if let (Some(fmt), Some((p, _))) = (&timestamp_format, obj.get("timestamp_format")) {
        check_timestamp_format(ctx, &p, fmt);
    }
    let multi_line_start_pattern = match obj.get("multi_line_start_pattern") {
        Some((p, v)) if v.as_str() == Some(TIMESTAMP_FORMAT_KEYWORD) => {
            if timestamp_format.is_none() {
                ctx.warn(
                    &p,
                    "{timestamp_format} is used without timestamp_format, so no line starts a new event",
                );
            }
            Some(TIMESTAMP_FORMAT_KEYWORD.to_string())
        }
        Some(_) => obj.regex(ctx, "multi_line_start_pattern", 1, 4096),
        None => None,
    };
    let encoding = obj.get("encoding").and_then(|(p, v)| {
        let s = check_str(ctx, &p, v, 1, 4096)?;
        let lower = s.to_ascii_lowercase();
        if ENCODINGS.contains(&lower.as_str()) {
            Some(lower)
        } else {
            ctx.error(&p, format!("encoding {s} is not supported"));
            None
        }
    });
    let retention_in_days = obj
        .get("retention_in_days")
        .and_then(|(p, v)| retention(ctx, &p, v));
    let auto_removal = obj.bool(ctx, "auto_removal").unwrap_or(false);
    let publish_multi_logs = obj.bool(ctx, "publish_multi_logs").unwrap_or(false);
    let backpressure_mode = obj.enum_str(ctx, "backpressure_mode", &["fd_release"], false);
    if auto_removal && publish_multi_logs {
        ctx.warn(
            &obj.path,
            "auto_removal does not work together with publish_multi_logs",
        );
    }
    if auto_removal && backpressure_mode.is_some() {
        ctx.warn(
            &obj.path,
            "backpressure_mode is ignored when auto_removal is set",
        );
    }
    FileLogConfig {
        file_path,
        log_group_name: obj.str(ctx, "log_group_name", 1, 512),
        log_stream_name: obj.str(ctx, "log_stream_name", 1, 512),
        log_group_class: obj.enum_str(
            ctx,
            "log_group_class",
            &["STANDARD", "INFREQUENT_ACCESS"],
            true,
        ),
        retention_in_days,
        timestamp_format,
        timezone: obj.enum_str(ctx, "timezone", &["Local", "LOCAL", "UTC"], false),
        trim_timestamp: obj.bool(ctx, "trim_timestamp").unwrap_or(false),
        multi_line_start_pattern,
        encoding,
        filters: obj
            .get("filters")
            .map(|(p, v)| filters(ctx, &p, v))
            .unwrap_or_default(),
        blacklist: obj.regex(ctx, "blacklist", 1, 4096),
        publish_multi_logs,
        auto_removal,
        backpressure_mode,
    }
}

fn retention(ctx: &mut Ctx, path: &JsonPath, v: &Value) -> Option<i64> {
    let Some(days) = as_integer(v) else {
        ctx.error(path, msg_type("integer", v));
        return None;
    };
    if RETENTION_DAYS.contains(&days) {
        Some(days)
    } else {
        let list: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
        ctx.error(
            path,
            format!(
                "retention_in_days must be one of the following: {}",
                list.join(", ")
            ),
        );
        None
    }
}

/// `filters`: `[{type: include|exclude, expression: regex}]`, applied in order.
fn filters(ctx: &mut Ctx, path: &JsonPath, v: &Value) -> Vec<(String, String)> {
    let Some(items) = check_array(ctx, path, v, 0, usize::MAX) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(f) = Obj::new(ctx, path.index(i), item) else {
            continue;
        };
        f.allow_only(ctx, &["type", "expression"]);
        let kind = if f.required(ctx, "type").is_some() {
            f.enum_str(ctx, "type", &["include", "exclude"], false)
        } else {
            None
        };
        let expression = if f.required(ctx, "expression").is_some() {
            f.regex(ctx, "expression", 0, usize::MAX)
        } else {
            None
        };
        if let (Some(k), Some(e)) = (kind, expression) {
            out.push((k, e));
        }
    }
    out
}

/// `timestamp_format` directives the agent understands.
const TIMESTAMP_DIRECTIVES: &[&str] = &[
    "Y", "y", "b", "B", "m", "-m", "d", "-d", "A", "a", "H", "I", "-I", "M", "-M", "S", "-S", "p",
    "Z", "z", "f",
];

/// Warns about `%` directives the agent does not understand (they would match literally).
fn check_timestamp_format(ctx: &mut Ctx, path: &JsonPath, fmt: &str) {
    let mut rest = fmt;
    while let Some(pos) = rest.find('%') {
        let after = &rest[pos + 1..];
        let take = if after.starts_with('-') { 2 } else { 1 };
        let directive: String = after.chars().take(take).collect();
        if !TIMESTAMP_DIRECTIVES.contains(&directive.as_str()) {
            ctx.warn(
                path,
                format!("%{directive} is not a supported timestamp_format directive"),
            );
        }
        rest = &after[directive.len().min(after.len())..];
    }
}

/// Entries that name the same log group must agree on retention and class.
fn check_group_consistency(ctx: &mut Ctx, path: &JsonPath, entries: &[(usize, FileLogConfig)]) {
    let mut retention: HashMap<String, i64> = HashMap::new();
    let mut class: HashMap<String, String> = HashMap::new();
    for (i, e) in entries {
        let i = *i;
        let Some(group) = &e.log_group_name else {
            continue;
        };
        if let Some(days) = e.retention_in_days {
            let first = *retention.entry(group.to_lowercase()).or_insert(days);
            if first != days {
                ctx.error(
                    &path.index(i).key("retention_in_days"),
                    format!("Different retention_in_days values can't be set for the same log group: {group}"),
                );
            }
        }
        if let Some(c) = &e.log_group_class {
            let first = class.entry(group.clone()).or_insert_with(|| c.clone());
            if first != c {
                ctx.error(
                    &path.index(i).key("log_group_class"),
                    format!("Different log_group_class values can't be set for the same log group: {group}"),
                );
            }
        }
    }
}
