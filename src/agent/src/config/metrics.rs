//! The `metrics` section: namespace, dimensions, flush interval, destinations; the plugins
//! themselves are in [`super::plugins`].

use super::plugins;
use super::types::{MetricsCollected, MetricsSection};
use super::validate::{check_array, check_str_list, check_unique, Ctx, JsonPath, Obj, StrList};
use serde_json::Value;

/// Walks `metrics`; `None` when it is not an object.
pub fn section(ctx: &mut Ctx, path: JsonPath, v: &Value) -> Option<MetricsSection> {
    let obj = Obj::new(ctx, path, v)?;
    obj.allow_only(
        ctx,
        &[
            "namespace",
            "append_dimensions",
            "aggregation_dimensions",
            "metrics_collected",
            "metrics_destinations",
            "force_flush_interval",
            "credentials",
            "endpoint_override",
            "service.name",
            "deployment.environment",
        ],
    );
    plugins::entity_attributes(ctx, &obj);
    let namespace = obj
        .str(ctx, "namespace", 1, 255)
        .unwrap_or_else(|| "CWAgent".to_string());
    let append_dimensions = obj.dimensions(ctx, "append_dimensions");
    let aggregation_dimensions = obj
        .get("aggregation_dimensions")
        .map(|(p, v)| aggregation_dimensions(ctx, &p, v))
        .unwrap_or_default();
    if let Some((p, v)) = obj.get("metrics_destinations") {
        destinations(ctx, p, v);
    }
    let metrics_collected = match obj.required(ctx, "metrics_collected") {
        Some((p, v)) => match Obj::new(ctx, p, v) {
            Some(mc) => plugins::metrics_collected(ctx, &mc),
            None => MetricsCollected::default(),
        },
        None => MetricsCollected::default(),
    };
    Some(MetricsSection {
        namespace,
        append_dimensions,
        aggregation_dimensions,
        metrics_collected,
        force_flush_interval: obj
            .interval(ctx, "force_flush_interval", false)
            .unwrap_or(60),
        endpoint_override: obj.endpoint(ctx, "endpoint_override"),
        role_arn: obj.role_arn(ctx),
    })
}

/// `aggregation_dimensions`: 1..=1024 unique sets of at most 30 unique dimension names.
fn aggregation_dimensions(ctx: &mut Ctx, path: &JsonPath, v: &Value) -> Vec<Vec<String>> {
    let Some(items) = check_array(ctx, path, v, 1, 1024) else {
        return Vec::new();
    };
    check_unique(ctx, path, items);
    let rule = StrList::of_len(1024).max_items(30).unique();
    items
        .iter()
        .enumerate()
        .filter_map(|(i, set)| check_str_list(ctx, &path.index(i), set, rule))
        .collect()
}

/// `metrics_destinations`: `cloudwatch` (the default) and `amp` (not built).
fn destinations(ctx: &mut Ctx, path: JsonPath, v: &Value) {
    let Some(obj) = Obj::new(ctx, path, v) else {
        return;
    };
    obj.allow_only(ctx, &["cloudwatch", "amp"]);
    if obj.map.is_empty() {
        ctx.error(&obj.path, "Must have at least 1 properties");
    }
    if let Some((p, v)) = obj.get("amp") {
        if let Some(amp) = Obj::new(ctx, p.clone(), v) {
            amp.allow_only(ctx, &["workspace_id"]);
            if let Some((wp, wv)) = amp.required(ctx, "workspace_id") {
                super::validate::check_str(ctx, &wp, wv, 1, 255);
            }
        }
        ctx.unsupported(&p);
        if !obj.has("cloudwatch") {
            ctx.warn(
                &obj.path,
                "only amp is listed, but this agent sends metrics to CloudWatch",
            );
        }
    }
}
