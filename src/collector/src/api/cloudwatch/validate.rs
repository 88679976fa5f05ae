//! Validation shared by the CloudWatch operations, with AWS's error codes and texts.
//!
//! Two families of errors exist on the real service:
//! - model constraints (length, enum, list size, pattern) fail with `ValidationError` and the
//!   message format `N validation error(s) detected: Value '…' at 'camelCasePath' failed to
//!   satisfy constraint: …` joined by `; ` ([`Violations`]);
//! - semantic rules fail with `InvalidParameterValue` / `InvalidParameterCombination` /
//!   `MissingParameter` and name the parameter by its awsQuery path
//!   (`MetricData.member.1.Value`) whatever the wire protocol.

use hostwatch_aws::ApiError;
use hostwatch_model::{Dimension, Unit};
use serde::Deserialize;

const TWO_POW_120: f64 = (1u128 << 120) as f64;
/// Largest magnitude CloudWatch accepts for a value (2^360).
pub const MAX_VALUE: f64 = TWO_POW_120 * TWO_POW_120 * TWO_POW_120;

/// A dimension as sent (`Dimension` or `DimensionFilter`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DimensionInput {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// Model-constraint failures collected for one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// Check a string's length (in characters) against `[min, max]`.
    pub fn length(&mut self, path: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min {
            self.push(
                path,
                Some(value),
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if n > max {
            self.push(
                path,
                Some(value),
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Check a list's size against `[min, max]`.
    pub fn list_size(&mut self, path: &str, len: usize, min: usize, max: usize) {
        if len < min {
            self.push(
                path,
                None,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if len > max {
            self.push(
                path,
                None,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// Check membership of an enum.
    pub fn one_of(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.push(
                path,
                Some(value),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// Record a failure of any other constraint.
    pub fn push(&mut self, path: &str, value: Option<&str>, constraint: &str) {
        let shown = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.0.push(format!(
            "Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// `Ok` when nothing failed, else one `ValidationError` listing every failure.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(ApiError::cloudwatch(
                "ValidationError",
                format!(
                    "{n} validation error{} detected: {}",
                    if n == 1 { "" } else { "s" },
                    self.0.join("; ")
                ),
            )),
        }
    }
}

/// A double the way the service (a JVM) prints it in messages: `1.0`, `1.5E200`, `NaN`.
pub fn java_double(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = v.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mant = if mant.contains('.') {
        mant.to_string()
    } else {
        format!("{mant}.0")
    };
    format!("{mant}E{exp}")
}

/// Reject NaN, infinities and magnitudes above 2^360.
pub fn check_value(query_path: &dyn Fn() -> String, v: f64) -> Result<(), ApiError> {
    if v.is_finite() && v.abs() <= MAX_VALUE {
        Ok(())
    } else {
        Err(ApiError::invalid_parameter_value(format!(
            "The value {} for parameter {} is invalid.",
            java_double(v),
            query_path()
        )))
    }
}

/// Parse a `StandardUnit`, recording an enum violation when unknown.
pub fn unit(v: &mut Violations, coral_path: &str, s: Option<&str>) -> Unit {
    match s {
        None => Unit::None,
        Some(s) => s.parse().unwrap_or_else(|_| {
            let names: Vec<&str> = Unit::all().map(Unit::as_str).collect();
            v.one_of(coral_path, s, &names);
            Unit::None
        }),
    }
}

/// Namespace: 1–255 characters, not starting with `:`, no control characters.
pub fn namespace(v: &mut Violations, coral_path: &str, ns: &str) {
    v.length(coral_path, ns, 1, 255);
    if ns.starts_with(':') || ns.chars().any(char::is_control) {
        v.push(
            coral_path,
            Some(ns),
            "Member must satisfy regular expression pattern: [^:].*",
        );
    }
}

/// Validate a metric's full dimension set (`Dimensions` of a datum or a `Metric`), returning it.
///
/// `query_prefix` is e.g. `MetricData.member.1.Dimensions`, `coral_prefix` e.g.
/// `metricData.1.member.dimensions`.
/// Paths are built only when a message needs them.
pub fn dimensions(
    v: &mut Violations,
    list: Vec<DimensionInput>,
    query_prefix: &dyn Fn() -> String,
    coral_prefix: &dyn Fn() -> String,
) -> Result<Vec<Dimension>, ApiError> {
    if list.len() > 30 {
        v.list_size(&coral_prefix(), list.len(), 0, 30);
    }
    let mut out: Vec<Dimension> = Vec::with_capacity(list.len());
    for (i, d) in list.into_iter().enumerate() {
        let n = i + 1;
        let Some(name) = d.name else {
            return Err(ApiError::missing_parameter(&format!(
                "{}.member.{n}.Name",
                query_prefix()
            )));
        };
        let Some(value) = d.value else {
            return Err(ApiError::missing_parameter(&format!(
                "{}.member.{n}.Value",
                query_prefix()
            )));
        };
        if name.is_empty() || name.len() > 255 || name.starts_with(':') || name.trim().is_empty() {
            dimension_name(v, &format!("{}.{n}.member.name", coral_prefix()), &name);
        }
        if value.is_empty() || value.len() > 1024 {
            v.length(
                &format!("{}.{n}.member.value", coral_prefix()),
                &value,
                1,
                1024,
            );
        }
        if out.iter().any(|o| o.name == name) {
            return Err(ApiError::invalid_parameter_value(format!(
                "The parameter {}.member.{n}.Name has a duplicate value {name}; \
                 dimension names must be unique.",
                query_prefix()
            )));
        }
        out.push(Dimension { name, value });
    }
    Ok(out)
}

/// A dimension name: 1–255 characters, not starting with `:`, not only whitespace.
pub fn dimension_name(v: &mut Violations, coral_path: &str, name: &str) {
    v.length(coral_path, name, 1, 255);
    if !name.is_empty() && (name.starts_with(':') || name.trim().is_empty()) {
        v.push(
            coral_path,
            Some(name),
            "Member must satisfy regular expression pattern: [^:].*",
        );
    }
}

/// A required member, or `MissingParameter` naming its query path.
pub fn required<T>(value: Option<T>, query_path: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::missing_parameter(query_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_the_service() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(-2.5), "-2.5");
        assert_eq!(java_double(f64::NAN), "NaN");
        assert_eq!(java_double(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(java_double(1e200), "1.0E200");
        assert_eq!(java_double(1.5e-7), "1.5E-7");
    }

    #[test]
    fn value_range_is_enforced() {
        assert!(check_value(&|| "X".into(), MAX_VALUE).is_ok());
        assert!(check_value(&|| "X".into(), -MAX_VALUE).is_ok());
        let e = check_value(&|| "MetricData.member.1.Value".into(), 1e200).unwrap_err();
        assert_eq!(e.query_code(), "InvalidParameterValue");
        assert_eq!(
            e.message.as_deref(),
            Some("The value 1.0E200 for parameter MetricData.member.1.Value is invalid.")
        );
        assert!(check_value(&|| "X".into(), f64::INFINITY).is_err());
        assert!(check_value(&|| "X".into(), f64::NAN).is_err());
    }

    #[test]
    fn violations_are_listed_together() {
        let mut v = Violations::default();
        v.length("namespace", "", 1, 255);
        v.one_of("unit", "Foo", &["Count", "None"]);
        let e = v.finish().unwrap_err();
        assert_eq!(e.query_code(), "ValidationError");
        assert_eq!(
            e.message.as_deref(),
            Some(
                "2 validation errors detected: Value '' at 'namespace' failed to satisfy \
                 constraint: Member must have length greater than or equal to 1; Value 'Foo' at \
                 'unit' failed to satisfy constraint: Member must satisfy enum value set: \
                 [Count, None]"
            )
        );
        assert!(Violations::default().finish().is_ok());
    }

    #[test]
    fn dimensions_enforce_limits() {
        let d = |n: &str, v: &str| DimensionInput {
            name: Some(n.into()),
            value: Some(v.into()),
        };
        let mut v = Violations::default();
        let list: Vec<_> = (0..31).map(|i| d(&format!("n{i}"), "x")).collect();
        dimensions(&mut v, list, &|| "Dimensions".into(), &|| {
            "dimensions".into()
        })
        .unwrap();
        assert!(v.finish().unwrap_err().message.unwrap().contains(
            "at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30"
        ));
        let mut v = Violations::default();
        dimensions(
            &mut v,
            vec![d("a", &"x".repeat(1025))],
            &|| "D".into(),
            &|| "d".into(),
        )
        .unwrap();
        assert!(v.finish().is_err());
        let mut v = Violations::default();
        dimensions(
            &mut v,
            vec![d(&"n".repeat(255), &"x".repeat(1024))],
            &|| "D".into(),
            &|| "d".into(),
        )
        .unwrap();
        assert!(v.finish().is_ok());
        let mut v = Violations::default();
        let e = dimensions(
            &mut v,
            vec![DimensionInput {
                name: Some("a".into()),
                value: None,
            }],
            &|| "MetricData.member.1.Dimensions".into(),
            &|| "x".into(),
        )
        .unwrap_err();
        assert_eq!(
            e.message.as_deref(),
            Some("The parameter MetricData.member.1.Dimensions.member.1.Value is required.")
        );
        let mut v = Violations::default();
        assert!(dimensions(
            &mut v,
            vec![d("a", "1"), d("a", "2")],
            &|| "D".into(),
            &|| "d".into()
        )
        .is_err());
    }
}
