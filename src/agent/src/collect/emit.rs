//! Turning a plugin's field values into CloudWatch datums, the same way for every plugin.
//!
//! An [`Emitter`] is built once per plugin from its config: the configured measurements (in
//! config order) each get their metric name (`<plugin>_<field>` or `rename`) and unit (the
//! measurement's `unit`, else the plugin's default table, else `None`). Fields not in the
//! plugin's table are skipped (the config loader rejects them; this keeps the runtime safe).
//! The resolved `host`, plugin `append_dimensions` and metrics-level dimensions are computed once.

use super::dimensions::{assemble, resolve_plugin_dimensions, HostContext};
use super::storage_resolution;
use crate::config::PluginCommon;
use hostwatch_model::{DatumValue, Dimension, MetricDatum, Unit};

/// One configured measurement, ready to emit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Field name without the plugin prefix (`usage_idle`).
    pub field: String,
    /// Emitted metric name.
    pub metric_name: String,
    pub unit: Unit,
}

/// Emits datums for one plugin.
#[derive(Debug, Clone)]
pub struct Emitter {
    fields: Vec<FieldSpec>,
    host: Option<String>,
    appended: Vec<Dimension>,
    global: Vec<Dimension>,
    storage_resolution: u32,
}

impl Emitter {
    /// Build from the plugin's config. `defaults` is the plugin's `(field, default unit)` table.
    pub fn new(
        plugin: &'static str,
        common: &PluginCommon,
        defaults: &[(&str, Unit)],
        ctx: &HostContext,
        interval_secs: u64,
    ) -> Self {
        let mut fields: Vec<FieldSpec> = Vec::with_capacity(common.measurements.len());
        for m in &common.measurements {
            let Some((_, default_unit)) = defaults.iter().find(|(f, _)| *f == m.field) else {
                tracing::warn!(plugin, field = %m.field, "unknown measurement skipped");
                continue;
            };
            if fields.iter().any(|f| f.field == m.field) {
                continue;
            }
            fields.push(FieldSpec {
                field: m.field.clone(),
                metric_name: m
                    .rename
                    .clone()
                    .unwrap_or_else(|| format!("{plugin}_{}", m.field)),
                unit: m.unit.unwrap_or(*default_unit),
            });
        }
        Emitter {
            fields,
            host: ctx.host.clone(),
            appended: resolve_plugin_dimensions(
                plugin,
                &common.append_dimensions,
                ctx.metadata.as_ref(),
            ),
            global: ctx.global.clone(),
            storage_resolution: storage_resolution(interval_secs),
        }
    }

    /// The configured measurements.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// Whether nothing is configured.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Whether `field` is configured.
    pub fn wants(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f.field == field)
    }

    /// Whether any configured field satisfies `pred`.
    pub fn wants_any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.fields.iter().any(|f| pred(&f.field))
    }

    /// Emit one datum per configured field for which `value` returns a finite number.
    pub fn emit(
        &self,
        now_ms: i64,
        plugin_dims: &[Dimension],
        value: impl Fn(&str) -> Option<f64>,
        out: &mut Vec<MetricDatum>,
    ) {
        let mut dims: Option<Vec<Dimension>> = None;
        for spec in &self.fields {
            let Some(v) = value(&spec.field) else {
                continue;
            };
            if !v.is_finite() {
                tracing::debug!(metric = %spec.metric_name, "non-finite value dropped");
                continue;
            }
            let dimensions = dims
                .get_or_insert_with(|| {
                    assemble(
                        self.host.as_deref(),
                        plugin_dims,
                        &self.appended,
                        &self.global,
                    )
                })
                .clone();
            out.push(MetricDatum {
                metric_name: spec.metric_name.clone(),
                dimensions,
                timestamp_ms: Some(now_ms),
                value: DatumValue::Single(v),
                unit: spec.unit,
                storage_resolution: self.storage_resolution,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Measurement;

    fn m(field: &str, rename: Option<&str>, unit: Option<Unit>) -> Measurement {
        Measurement {
            field: field.into(),
            rename: rename.map(String::from),
            unit,
        }
    }

    #[test]
    fn names_units_and_order() {
        let common = PluginCommon {
            measurements: vec![
                m("b", None, None),
                m("a", Some("Renamed"), Some(Unit::Count)),
                m("unknown", None, None),
                m("b", None, None),
            ],
            ..Default::default()
        };
        let ctx = HostContext {
            host: Some("h".into()),
            ..Default::default()
        };
        let e = Emitter::new(
            "p",
            &common,
            &[("a", Unit::Bytes), ("b", Unit::Percent), ("c", Unit::None)],
            &ctx,
            10,
        );
        assert_eq!(e.fields().len(), 2);
        let mut out = Vec::new();
        e.emit(
            5000,
            &[Dimension::new("x", "y")],
            |f| match f {
                "a" => Some(1.0),
                "b" => Some(f64::NAN),
                _ => None,
            },
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].metric_name, "Renamed");
        assert_eq!(out[0].unit, Unit::Count);
        assert_eq!(out[0].storage_resolution, 1);
        assert_eq!(out[0].timestamp_ms, Some(5000));
        assert_eq!(
            out[0].dimensions,
            vec![Dimension::new("host", "h"), Dimension::new("x", "y")]
        );
    }
}
