//! `metrics.metrics_collected.<plugin>`: the host plugins, procstat, StatsD and collectd, and
//! the plugins that are accepted but not collected by this agent.

use super::measurements::{self, UnitName};
use super::types::{
    CollectdConfig, CpuConfig, DiskConfig, Measurement, MetricsCollected, PluginCommon,
    ProcessSelector, ProcstatConfig, ResourcePluginConfig, StatsdConfig,
};
use super::validate::{
    check_array, check_int, check_str, check_str_list, check_unique, Ctx, JsonPath, Obj, StrList,
};
use serde_json::Value;
use std::collections::HashSet;

/// Keys every host plugin accepts.
const COMMON_KEYS: &[&str] = &[
    "measurement",
    "metrics_collection_interval",
    "append_dimensions",
    "drop_original_metrics",
];

/// Plugins this agent collects.
const BUILT: &[&str] = &[
    "cpu",
    "mem",
    "swap",
    "disk",
    "diskio",
    "net",
    "netstat",
    "processes",
    "procstat",
    "statsd",
    "collectd",
];

/// Plugins the CloudWatch agent knows that this agent accepts but does not collect.
const NOT_BUILT: &[&str] = &[
    "nvidia_gpu",
    "nvidia_smi",
    "ethtool",
    "efa",
    "jmx",
    "otlp",
    "prometheus",
];

/// Walks `metrics_collected` (already known to be an object).
pub fn metrics_collected(ctx: &mut Ctx, obj: &Obj<'_>) -> MetricsCollected {
    let mut out = MetricsCollected::default();
    if obj.map.is_empty() {
        ctx.error(&obj.path, "Must have at least 1 properties");
    }
    for (name, value) in obj.map {
        let path = obj.path.key(name);
        if BUILT.contains(&name.as_str()) {
            built_plugin(ctx, &mut out, name, path, value);
        } else if NOT_BUILT.contains(&name.as_str()) {
            not_built_plugin(ctx, name, &path, value);
            ctx.unsupported(&path);
        } else {
            // The CloudWatch agent validates unknown plugins as basic plugins and then
            // ignores them; do the same, but say so.
            if let Some(p) = Obj::new(ctx, path.clone(), value) {
                p.required(ctx, "measurement");
                p.interval(ctx, "metrics_collection_interval", false);
                p.dimensions(ctx, "append_dimensions");
            }
            ctx.warn(
                &path,
                format!("unknown plugin {name} is ignored (it is not a CloudWatch agent plugin for Linux)"),
            );
        }
    }
    out
}

fn built_plugin(ctx: &mut Ctx, out: &mut MetricsCollected, name: &str, path: JsonPath, v: &Value) {
    match name {
        "procstat" => out.procstat = procstat(ctx, path, v),
        "statsd" => out.statsd = statsd(ctx, path, v),
        "collectd" => out.collectd = collectd(ctx, path, v),
        _ => {
            let Some(obj) = Obj::new(ctx, path, v) else {
                return;
            };
            match name {
                "cpu" => out.cpu = cpu(ctx, &obj),
                "disk" => out.disk = disk(ctx, &obj),
                "diskio" => out.diskio = resource_plugin(ctx, &obj, "diskio"),
                "net" => out.net = resource_plugin(ctx, &obj, "net"),
                "mem" => out.mem = simple_plugin(ctx, &obj, "mem"),
                "swap" => out.swap = simple_plugin(ctx, &obj, "swap"),
                "netstat" => out.netstat = simple_plugin(ctx, &obj, "netstat"),
                _ => out.processes = simple_plugin(ctx, &obj, "processes"),
            }
        }
    }
}

fn keys_with(extra: &[&'static str]) -> Vec<&'static str> {
    COMMON_KEYS.iter().chain(extra.iter()).copied().collect()
}

fn simple_plugin(ctx: &mut Ctx, obj: &Obj<'_>, plugin: &str) -> Option<PluginCommon> {
    obj.allow_only(ctx, COMMON_KEYS);
    common(ctx, obj, plugin, true)
}

fn cpu(ctx: &mut Ctx, obj: &Obj<'_>) -> Option<CpuConfig> {
    obj.allow_only(ctx, &keys_with(&["resources", "totalcpu"]));
    let mut per_cpu = false;
    if let Some((p, v)) = obj.get("resources") {
        if let Some(items) = check_array(ctx, &p, v, 0, 1) {
            for (i, item) in items.iter().enumerate() {
                let ip = p.index(i);
                match item.as_str() {
                    Some("*") => per_cpu = true,
                    Some(_) => ctx.error(&ip, super::validate::msg_enum("resources", &["*"])),
                    None => ctx.error(&ip, super::validate::msg_type("string", item)),
                }
            }
        }
    }
    let mut total_cpu = obj.bool(ctx, "totalcpu").unwrap_or(true);
    let common = common(ctx, obj, "cpu", true)?;
    if !per_cpu && !total_cpu {
        // The CloudWatch agent's Standard preset writes exactly this and then silently collects
        // no cpu metrics at all. The measurements were asked for, so collect the total.
        ctx.warn(
            &obj.path,
            "totalcpu is false and resources is not [\"*\"]: the CloudWatch agent would collect no cpu metrics; collecting cpu-total instead",
        );
        total_cpu = true;
    }
    Some(CpuConfig {
        common,
        per_cpu,
        total_cpu,
    })
}

const RESOURCES: StrList = StrList::of_len(4096).max_items(256);

fn disk(ctx: &mut Ctx, obj: &Obj<'_>) -> Option<DiskConfig> {
    obj.allow_only(
        ctx,
        &keys_with(&["resources", "ignore_file_system_types", "drop_device"]),
    );
    let resources = obj
        .str_list(ctx, "resources", RESOURCES)
        .unwrap_or_default();
    let ignore_file_system_types = obj
        .str_list(ctx, "ignore_file_system_types", RESOURCES)
        .unwrap_or_default();
    let drop_device = obj.bool(ctx, "drop_device").unwrap_or(false);
    let common = common(ctx, obj, "disk", true)?;
    Some(DiskConfig {
        common,
        resources,
        ignore_file_system_types,
        drop_device,
    })
}

fn resource_plugin(ctx: &mut Ctx, obj: &Obj<'_>, plugin: &str) -> Option<ResourcePluginConfig> {
    obj.allow_only(ctx, &keys_with(&["resources"]));
    let resources = obj
        .str_list(ctx, "resources", RESOURCES)
        .unwrap_or_default();
    let common = common(ctx, obj, plugin, true)?;
    Some(ResourcePluginConfig { common, resources })
}

/// The options every host plugin has. `decorated`: measurements may be `{name, rename, unit}`
/// objects. Returns `None` when the plugin is skipped (no measurement, or a missing list).
fn common(ctx: &mut Ctx, obj: &Obj<'_>, plugin: &str, decorated: bool) -> Option<PluginCommon> {
    let measurements = match obj.required(ctx, "measurement") {
        Some((p, v)) => measurement_list(ctx, &p, v, plugin, decorated),
        None => Vec::new(),
    };
    let metrics_collection_interval = obj.interval(ctx, "metrics_collection_interval", false);
    let append_dimensions = obj.dimensions(ctx, "append_dimensions");
    let drop_original_metrics = obj
        .get("drop_original_metrics")
        .and_then(|(p, v)| drop_list(ctx, &p, v))
        .map(|names| normalize_drops(plugin, &names, &measurements))
        .unwrap_or_default();
    let listed_empty = obj
        .get("measurement")
        .is_some_and(|(_, v)| v.as_array().is_some_and(Vec::is_empty));
    if listed_empty {
        ctx.warn(
            &obj.path,
            "no measurement is listed, so this plugin collects nothing",
        );
        return None;
    }
    Some(PluginCommon {
        measurements,
        metrics_collection_interval,
        append_dimensions,
        drop_original_metrics,
    })
}

/// `drop_original_metrics`: at least one unique string.
fn drop_list(ctx: &mut Ctx, path: &JsonPath, v: &Value) -> Option<Vec<String>> {
    check_str_list(
        ctx,
        path,
        v,
        StrList::of_len(0).any_len().min_items(1).unique(),
    )
}

/// Normalises `drop_original_metrics` to emitted metric names: `time_active` becomes
/// `cpu_time_active`, a renamed measurement is named by its new name, `*` stays.
fn normalize_drops(plugin: &str, names: &[String], measurements: &[Measurement]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            if name == "*" {
                return name.clone();
            }
            if measurements
                .iter()
                .any(|m| m.rename.as_deref() == Some(name))
            {
                return name.clone();
            }
            let field = measurements::normalize(plugin, name);
            match measurements.iter().find(|m| m.field == field) {
                Some(Measurement {
                    rename: Some(r), ..
                }) => r.clone(),
                _ => format!("{plugin}_{field}"),
            }
        })
        .collect()
}

fn measurement_list(
    ctx: &mut Ctx,
    path: &JsonPath,
    v: &Value,
    plugin: &str,
    decorated: bool,
) -> Vec<Measurement> {
    let mut out: Vec<Measurement> = Vec::new();
    let Some(items) = check_array(ctx, path, v, 0, usize::MAX) else {
        return out;
    };
    check_unique(ctx, path, items);
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let ip = path.index(i);
        let parsed = match item {
            Value::Object(_) if decorated => decorated_measurement(ctx, &ip, item, plugin),
            Value::String(_) => check_str(ctx, &ip, item, 1, 255).and_then(|name| {
                named_field(ctx, &ip, plugin, name).map(|field| Measurement {
                    field,
                    rename: None,
                    unit: None,
                })
            }),
            _ => {
                let expected = if decorated {
                    "string or object"
                } else {
                    "string"
                };
                ctx.error(&ip, super::validate::msg_type(expected, item));
                None
            }
        };
        let Some(m) = parsed else { continue };
        if plugin == "diskio" && measurements::is_nvme_field(&m.field) {
            // NVMe (EBS / instance store) counters come from another source, not built yet.
            ctx.unsupported(&ip);
            continue;
        }
        if !seen.insert(m.field.clone()) {
            ctx.warn(
                &ip,
                format!(
                    "measurement {} is listed more than once; the first entry is used",
                    m.field
                ),
            );
            continue;
        }
        out.push(m);
    }
    out
}

/// Checks a measurement name against the plugin's allow-list; returns the field name.
fn named_field(ctx: &mut Ctx, path: &JsonPath, plugin: &str, name: &str) -> Option<String> {
    let field = measurements::normalize(plugin, name);
    if measurements::is_allowed(plugin, &field) && !field.is_empty() {
        Some(field)
    } else {
        ctx.error(path, format!("measurement name {name} is invalid"));
        None
    }
}

fn decorated_measurement(
    ctx: &mut Ctx,
    path: &JsonPath,
    v: &Value,
    plugin: &str,
) -> Option<Measurement> {
    let obj = Obj::new(ctx, path.clone(), v)?;
    obj.allow_only(ctx, &["name", "rename", "unit"]);
    let field = obj
        .required(ctx, "name")
        .and_then(|(p, nv)| check_str(ctx, &p, nv, 1, 255).map(|n| (p, n)))
        .and_then(|(p, n)| named_field(ctx, &p, plugin, n));
    let rename = obj.str(ctx, "rename", 1, 255);
    let unit = obj
        .get("unit")
        .and_then(|(p, uv)| check_str(ctx, &p, uv, 1, 256).map(|u| (p, u)))
        .map(|(p, u)| match measurements::parse_unit(u) {
            UnitName::Standard(unit) | UnitName::Mapped(unit) => unit,
            UnitName::Unknown => {
                let hint = measurements::unit_case_hint(u)
                    .map(|h| format!(" (did you mean {h}?)"))
                    .unwrap_or_default();
                ctx.warn(
                    &p,
                    format!(
                        "unit {u} is not a CloudWatch unit{hint}; the metric is sent with unit None"
                    ),
                );
                hostwatch_model::Unit::None
            }
        });
    Some(Measurement {
        field: field?,
        rename,
        unit,
    })
}

fn procstat(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Vec<ProcstatConfig> {
    let mut out = Vec::new();
    let Some(items) = check_array(ctx, &path, v, 1, 255) else {
        return out;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = Obj::new(ctx, path.index(i), item) else {
            continue;
        };
        obj.allow_only(ctx, &keys_with(&["pid_file", "exe", "pattern"]));
        let pid_file = obj.str(ctx, "pid_file", 1, 255);
        let exe = obj.regex(ctx, "exe", 1, 255);
        let pattern = obj.regex(ctx, "pattern", 1, 255);
        let given: Vec<&str> = ["pid_file", "exe", "pattern"]
            .into_iter()
            .filter(|k| obj.has(k))
            .collect();
        if given.is_empty() {
            ctx.error(&obj.path, "one of pid_file, exe or pattern is required");
        } else if given.len() > 1 {
            ctx.warn(
                &obj.path,
                format!(
                    "{} are all set; {} is used (precedence pid_file, exe, pattern)",
                    given.join(", "),
                    given[0]
                ),
            );
        }
        if obj.has("drop_original_metrics") {
            ctx.warn(
                &obj.path.key("drop_original_metrics"),
                "drop_original_metrics has no effect on procstat and is ignored",
            );
        }
        let selector = if let Some(p) = pid_file {
            Some(ProcessSelector::PidFile(p))
        } else if let Some(e) = exe {
            Some(ProcessSelector::Exe(e))
        } else {
            pattern.map(ProcessSelector::Pattern)
        };
        let Some(mut common) = common(ctx, &obj, "procstat", false) else {
            continue;
        };
        common.drop_original_metrics.clear();
        if let Some(selector) = selector {
            out.push(ProcstatConfig { common, selector });
        }
    }
    out
}

fn statsd(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Option<StatsdConfig> {
    let obj = Obj::new(ctx, path, v)?;
    obj.allow_only(
        ctx,
        &[
            "allowed_pending_messages",
            "service_address",
            "metrics_collection_interval",
            "metrics_aggregation_interval",
            "metric_separator",
            "drop_original_metrics",
            "service.name",
            "deployment.environment",
        ],
    );
    entity_attributes(ctx, &obj);
    let allowed_pending_messages = obj
        .get("allowed_pending_messages")
        .and_then(|(p, v)| check_int(ctx, &p, v, 1, i64::from(i32::MAX)))
        .and_then(|i| u64::try_from(i).ok())
        .unwrap_or(10_000);
    Some(StatsdConfig {
        service_address: obj
            .str(ctx, "service_address", 1, 255)
            .unwrap_or_else(|| ":8125".to_string()),
        metrics_collection_interval: obj
            .interval(ctx, "metrics_collection_interval", false)
            .unwrap_or(10),
        metrics_aggregation_interval: obj
            .interval(ctx, "metrics_aggregation_interval", true)
            .unwrap_or(60),
        metric_separator: obj
            .str(ctx, "metric_separator", 1, 255)
            .unwrap_or_else(|| "_".to_string()),
        allowed_pending_messages,
        drop_original_metrics: obj
            .get("drop_original_metrics")
            .and_then(|(p, v)| drop_list(ctx, &p, v))
            .unwrap_or_default(),
    })
}

fn collectd(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Option<CollectdConfig> {
    let obj = Obj::new(ctx, path, v)?;
    obj.allow_only(
        ctx,
        &[
            "service_address",
            "name_prefix",
            "collectd_auth_file",
            "collectd_security_level",
            "collectd_typesdb",
            "metrics_aggregation_interval",
            "drop_original_metrics",
            "service.name",
            "deployment.environment",
            "append_dimensions",
        ],
    );
    entity_attributes(ctx, &obj);
    Some(CollectdConfig {
        service_address: obj
            .str(ctx, "service_address", 1, 255)
            .unwrap_or_else(|| "udp://127.0.0.1:25826".to_string()),
        name_prefix: obj
            .str(ctx, "name_prefix", 1, 255)
            .unwrap_or_else(|| "collectd_".to_string()),
        collectd_auth_file: obj
            .str(ctx, "collectd_auth_file", 1, 4096)
            .unwrap_or_else(|| "/etc/collectd/auth_file".to_string()),
        collectd_security_level: obj
            .enum_str(
                ctx,
                "collectd_security_level",
                &["none", "sign", "encrypt"],
                false,
            )
            .unwrap_or_else(|| "encrypt".to_string()),
        collectd_typesdb: obj
            .str_list(ctx, "collectd_typesdb", StrList::of_len(4096).max_items(10))
            .unwrap_or_else(|| vec!["/usr/share/collectd/types.db".to_string()]),
        metrics_aggregation_interval: obj
            .interval(ctx, "metrics_aggregation_interval", true)
            .unwrap_or(60),
        append_dimensions: obj.dimensions(ctx, "append_dimensions"),
        drop_original_metrics: obj
            .get("drop_original_metrics")
            .and_then(|(p, v)| drop_list(ctx, &p, v))
            .unwrap_or_default(),
    })
}

/// `service.name` / `deployment.environment`: entity attributes, accepted but not sent.
pub fn entity_attributes(ctx: &mut Ctx, obj: &Obj<'_>) {
    for key in ["service.name", "deployment.environment"] {
        if let Some((p, v)) = obj.get(key) {
            if check_str(ctx, &p, v, 1, 4096).is_some() {
                ctx.unsupported(&p);
            }
        }
    }
}

/// Validates the shape of a plugin this agent does not collect.
fn not_built_plugin(ctx: &mut Ctx, name: &str, path: &JsonPath, v: &Value) {
    match name {
        "nvidia_gpu" | "nvidia_smi" => {
            if let Some(obj) = Obj::new(ctx, path.clone(), v) {
                obj.allow_only(ctx, COMMON_KEYS);
                common(ctx, &obj, "nvidia_gpu", name == "nvidia_gpu");
            }
        }
        "ethtool" => {
            if let Some(obj) = Obj::new(ctx, path.clone(), v) {
                obj.allow_only(
                    ctx,
                    &[
                        "interface_include",
                        "interface_exclude",
                        "metrics_include",
                        "append_dimensions",
                        "drop_original_metrics",
                    ],
                );
                for key in ["interface_include", "interface_exclude", "metrics_include"] {
                    obj.str_list(ctx, key, StrList::of_len(255));
                }
                obj.dimensions(ctx, "append_dimensions");
                if let Some((p, v)) = obj.get("drop_original_metrics") {
                    drop_list(ctx, &p, v);
                }
            }
        }
        "efa" => {
            if let Some(obj) = Obj::new(ctx, path.clone(), v) {
                obj.allow_only(
                    ctx,
                    &[
                        "measurement",
                        "metrics_collection_interval",
                        "drop_original_metrics",
                    ],
                );
                obj.required(ctx, "measurement");
                obj.interval(ctx, "metrics_collection_interval", false);
            }
        }
        // jmx, otlp: an object or an array of objects; prometheus: an object.
        _ => match v {
            Value::Object(_) => {}
            Value::Array(items) if name != "prometheus" => {
                for (i, item) in items.iter().enumerate() {
                    Obj::new(ctx, path.index(i), item);
                }
            }
            _ => ctx.error(
                path,
                super::validate::msg_type(
                    if name == "prometheus" {
                        "object"
                    } else {
                        "object or array"
                    },
                    v,
                ),
            ),
        },
    }
}
