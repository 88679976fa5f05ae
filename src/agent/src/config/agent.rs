//! The `agent` section. Like the CloudWatch agent's schema it accepts unknown keys, but each
//! one is reported as a warning.

use super::types::AgentSection;
use super::validate::{check_bool, check_int, check_str, Ctx, JsonPath, Obj};
use serde_json::Value;

/// Known keys that are accepted but change nothing in this agent, with their expected type.
const PASSTHROUGH: &[(&str, Kind)] = &[
    ("aws_sdk_log_level", Kind::Str),
    ("user_agent", Kind::Str),
    ("use_dualstack_endpoint", Kind::Bool),
    ("internal", Kind::Bool),
    ("hostname", Kind::Str),
    ("quiet", Kind::Bool),
    ("precision", Kind::Str),
    ("round_interval", Kind::Bool),
    ("flush_interval", Kind::Str),
    ("flush_jitter", Kind::Str),
    ("collection_jitter", Kind::Str),
    ("metric_batch_size", Kind::PositiveInt),
    ("metric_buffer_limit", Kind::PositiveInt),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Str,
    Bool,
    PositiveInt,
}

/// Keys this agent uses.
const USED: &[&str] = &[
    "metrics_collection_interval",
    "logfile",
    "region",
    "debug",
    "credentials",
    "omit_hostname",
    "run_as_user",
    "usage_data",
    "logs_spool_max_mb",
];

/// Walks `agent`; defaults when it is absent or not an object (the latter is an error).
pub fn section(ctx: &mut Ctx, path: JsonPath, v: &Value) -> AgentSection {
    let defaults = AgentSection::default();
    let Some(obj) = Obj::new(ctx, path, v) else {
        return defaults;
    };
    for (key, value) in obj.map {
        let kp = obj.path.key(key);
        if USED.contains(&key.as_str()) {
            continue;
        }
        if let Some((_, kind)) = PASSTHROUGH.iter().find(|(k, _)| k == key) {
            let ok = match kind {
                Kind::Str => check_str(ctx, &kp, value, 0, usize::MAX).is_some(),
                Kind::Bool => check_bool(ctx, &kp, value).is_some(),
                Kind::PositiveInt => check_int(ctx, &kp, value, 1, i64::MAX).is_some(),
            };
            if ok {
                ctx.unsupported(&kp);
            }
        } else if key == "service.name" || key == "deployment.environment" {
            let max = if key == "service.name" { 255 } else { 259 };
            if check_str(ctx, &kp, value, 1, max).is_some() {
                ctx.unsupported(&kp);
            }
        } else {
            ctx.warn(&kp, format!("unknown field {key} is ignored"));
        }
    }
    AgentSection {
        metrics_collection_interval: obj
            .interval(ctx, "metrics_collection_interval", false)
            .unwrap_or(defaults.metrics_collection_interval),
        region: obj.str(ctx, "region", 1, 64),
        logfile: obj.str(ctx, "logfile", 0, 4096),
        debug: obj.bool(ctx, "debug").unwrap_or(defaults.debug),
        omit_hostname: obj
            .bool(ctx, "omit_hostname")
            .unwrap_or(defaults.omit_hostname),
        run_as_user: obj.str(ctx, "run_as_user", 1, 255),
        role_arn: obj.role_arn(ctx),
        usage_data: obj.bool(ctx, "usage_data").unwrap_or(defaults.usage_data),
        logs_spool_max_mb: obj
            .int(ctx, "logs_spool_max_mb", 1, 1 << 20)
            .and_then(|v| u64::try_from(v).ok())
            .unwrap_or(defaults.logs_spool_max_mb),
    }
}
