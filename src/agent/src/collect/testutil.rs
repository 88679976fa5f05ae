//! Helpers shared by the plugins' fixture tests (compiled only for tests).

use crate::config::{Measurement, PluginCommon};
use hostwatch_model::{DatumValue, MetricDatum, Unit};
use std::path::{Path, PathBuf};

/// `tests/data/proc/<case>`: a `/proc` snapshot.
pub fn proc_fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/proc")
        .join(case)
}

/// A plugin config measuring `fields` (no rename, default units).
pub fn measuring(fields: &[&str]) -> PluginCommon {
    PluginCommon {
        measurements: fields
            .iter()
            .map(|f| Measurement {
                field: f.to_string(),
                rename: None,
                unit: None,
            })
            .collect(),
        ..Default::default()
    }
}

/// A plugin config measuring every field of a plugin's `(field, unit)` table.
pub fn every_field(table: &[(&str, Unit)]) -> PluginCommon {
    let fields: Vec<&str> = table.iter().map(|(f, _)| *f).collect();
    measuring(&fields)
}

/// The value of the datum named `name` that has the dimension `dim` (`None`: any datum of that
/// name); a non-single value is NaN, so an assertion on it fails.
pub fn value_of(out: &[MetricDatum], name: &str, dim: Option<(&str, &str)>) -> Option<f64> {
    out.iter()
        .find(|d| {
            d.metric_name == name
                && dim.is_none_or(|(k, v)| d.dimensions.iter().any(|x| x.name == k && x.value == v))
        })
        .map(|d| match d.value {
            DatumValue::Single(v) => v,
            _ => f64::NAN,
        })
}

/// A fake `<sys>/block/<dev>/device/serial` under `sys` (`None`: a device without a serial
/// file).
pub fn fake_block_device(sys: &Path, dev: &str, serial: Option<&str>) {
    let dir = sys.join("block").join(dev).join("device");
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(s) = serial {
        std::fs::write(dir.join("serial"), s).unwrap();
    }
}
