//! PutMetricData: validation of every datum, then one durable append.
//!
//! Datums come from `MetricData` and from `EntityMetricData.member.N.MetricData` (≤1000 in all).
//! Structural errors fail on the first one found; timestamp-window errors are collected, one
//! line per failing datum joined by `\n`, as AWS reports them.

use hostwatch_aws::lenient::{Bool, Float, Int, Timestamp};
use hostwatch_aws::ApiError;
use hostwatch_model::{DatumValue, MetricKey, StatisticSet, Unit};
use serde::Deserialize;

use super::input::Seq;
use super::validate::{self, check_value, DimensionInput, Violations};
use crate::store::metrics::{Point, SeriesKey};

const MAX_DATUMS: usize = 1000;
const MAX_VALUES: usize = 150;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3_600_000;
const TWO_HOURS_MS: i64 = 2 * 3_600_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutInput {
    namespace: Option<String>,
    metric_data: Option<Seq<DatumInput>>,
    entity_metric_data: Option<Seq<EntityInput>>,
    #[allow(dead_code)]
    strict_entity_validation: Option<Bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EntityInput {
    metric_data: Option<Seq<DatumInput>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DatumInput {
    metric_name: Option<String>,
    dimensions: Option<Seq<DimensionInput>>,
    timestamp: Option<Timestamp>,
    value: Option<Float>,
    statistic_values: Option<StatsInput>,
    values: Option<Seq<Float>>,
    counts: Option<Seq<Float>>,
    unit: Option<String>,
    storage_resolution: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StatsInput {
    sample_count: Option<Float>,
    sum: Option<Float>,
    minimum: Option<Float>,
    maximum: Option<Float>,
}

/// One datum and where it sits in the request (its parameter paths are built only for
/// messages).
struct Located {
    datum: DatumInput,
    /// 1-based index in `EntityMetricData`, when it came from there.
    entity: Option<usize>,
    /// 1-based index in its `MetricData` list.
    n: usize,
}

impl Located {
    /// e.g. `MetricData.member.3`
    fn query(&self) -> String {
        match self.entity {
            None => format!("MetricData.member.{}", self.n),
            Some(e) => format!("EntityMetricData.member.{e}.MetricData.member.{}", self.n),
        }
    }

    /// e.g. `metricData.3.member`
    fn coral(&self) -> String {
        match self.entity {
            None => format!("metricData.{}.member", self.n),
            Some(e) => format!("entityMetricData.{e}.member.metricData.{}.member", self.n),
        }
    }
}

/// Validate a request into the points to store. `now_ms` anchors the timestamp window and is
/// the timestamp of datums sent without one.
pub fn validate(input: PutInput, now_ms: i64) -> Result<Vec<(SeriesKey, Point)>, ApiError> {
    let PutInput {
        namespace,
        metric_data,
        entity_metric_data,
        ..
    } = input;
    let namespace = validate::required(namespace, "Namespace")?;
    let datums = locate(metric_data, entity_metric_data);
    if datums.is_empty() {
        return Err(ApiError::missing_parameter("MetricData"));
    }
    if datums.len() > MAX_DATUMS {
        return Err(ApiError::invalid_parameter_value(format!(
            "The collection MetricData must not have a size greater than {MAX_DATUMS}."
        )));
    }
    let mut v = Violations::default();
    validate::namespace(&mut v, "namespace", &namespace);
    let mut out = Vec::with_capacity(datums.len());
    let mut late = Vec::new();
    for mut d in datums {
        let timestamp = d.datum.timestamp;
        let (key, mut point) = datum(&mut v, &namespace, &mut d)?;
        match timestamp {
            Some(Timestamp(ts)) => {
                if let Some(msg) = window_error(&d, ts, now_ms) {
                    late.push(msg);
                }
                point.ts_ms = ts;
            }
            None => point.ts_ms = now_ms,
        }
        out.push((key, point));
    }
    v.finish()?;
    if !late.is_empty() {
        return Err(ApiError::invalid_parameter_value(late.join("\n")));
    }
    Ok(out)
}

fn locate(
    metric_data: Option<Seq<DatumInput>>,
    entity_metric_data: Option<Seq<EntityInput>>,
) -> Vec<Located> {
    let mut out: Vec<Located> = Vec::new();
    if let Some(Seq(list)) = metric_data {
        out.extend(list.into_iter().enumerate().map(|(i, datum)| Located {
            datum,
            entity: None,
            n: i + 1,
        }));
    }
    for (e, ent) in entity_metric_data
        .map(|s| s.0)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        if let Some(Seq(list)) = ent.metric_data {
            out.extend(list.into_iter().enumerate().map(|(i, datum)| Located {
                datum,
                entity: Some(e + 1),
                n: i + 1,
            }));
        }
    }
    out
}

fn window_error(d: &Located, ts: i64, now_ms: i64) -> Option<String> {
    let query = || d.query();
    if ts < now_ms - TWO_WEEKS_MS {
        let query = query();
        Some(format!(
            "The parameter {query}.Timestamp must specify a time within the past two weeks."
        ))
    } else if ts > now_ms + TWO_HOURS_MS {
        let query = query();
        Some(format!(
            "The parameter {query}.Timestamp must specify a time no more than two hours in the future."
        ))
    } else {
        None
    }
}

fn datum(
    v: &mut Violations,
    namespace: &str,
    d: &mut Located,
) -> Result<(SeriesKey, Point), ApiError> {
    let name = d
        .datum
        .metric_name
        .take()
        .ok_or_else(|| ApiError::missing_parameter(&format!("{}.MetricName", d.query())))?;
    if name.is_empty() || name.len() > 255 {
        v.length(&format!("{}.metricName", d.coral()), &name, 1, 255);
    }
    let dims = match d.datum.dimensions.take() {
        Some(Seq(list)) => {
            validate::dimensions(v, list, &|| format!("{}.Dimensions", d.query()), &|| {
                format!("{}.dimensions", d.coral())
            })?
        }
        None => Vec::new(),
    };
    let unit = match d.datum.unit.as_deref() {
        None => Unit::None,
        Some(u) => u
            .parse()
            .unwrap_or_else(|_| validate::unit(v, &format!("{}.unit", d.coral()), Some(u))),
    };
    let high_res = match d.datum.storage_resolution {
        None | Some(Int(60)) => false,
        Some(Int(1)) => true,
        Some(Int(other)) => {
            return Err(ApiError::invalid_parameter_value(format!(
                "The value {other} for parameter {}.StorageResolution is invalid. \
                 Valid values are 1 and 60.",
                d.query()
            )))
        }
    };
    let value = value(&d.datum, &|| d.query())?;
    Ok((
        SeriesKey {
            metric: MetricKey::new(namespace, name, dims),
            unit,
        },
        Point {
            ts_ms: 0,
            value,
            high_res,
        },
    ))
}

/// One of `Value`, `StatisticValues`, `Values` (+`Counts`). `Value` excludes both others;
/// `Values` may come with `StatisticValues`, as the CloudWatch agent sends its distributions:
/// the set then gives SampleCount, Sum, Minimum and Maximum, and the values give percentiles.
fn value(d: &DatumInput, q: &dyn Fn() -> String) -> Result<DatumValue, ApiError> {
    let values = d.values.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
    let counts = d.counts.as_ref().map(|l| l.0.as_slice()).unwrap_or(&[]);
    let both = |a: &str, b: &str| {
        let q = q();
        ApiError::invalid_parameter_combination(format!(
            "The parameters {q}.{a} and {q}.{b} are mutually exclusive and you have specified both."
        ))
    };
    match (d.value, &d.statistic_values, values.is_empty()) {
        (Some(_), _, false) => Err(both("Value", "Values")),
        (Some(_), Some(_), _) => Err(both("Value", "StatisticValues")),
        (None, Some(s), false) => {
            let stats = statistic_set(s, q)?;
            let (values, counts) = distribution(values, counts, q)?;
            Ok(DatumValue::Distribution {
                values,
                counts,
                stats: Some(stats),
            })
        }
        (Some(Float(x)), None, true) => {
            no_counts(q, counts)?;
            check_value(&|| format!("{}.Value", q()), x)?;
            Ok(DatumValue::Single(x))
        }
        (None, Some(s), true) => {
            no_counts(q, counts)?;
            statistic_set(s, q).map(DatumValue::StatisticSet)
        }
        (None, None, false) => {
            let (values, counts) = distribution(values, counts, q)?;
            Ok(DatumValue::Distribution {
                values,
                counts,
                stats: None,
            })
        }
        (None, None, true) => Err(ApiError::cloudwatch(
            "MissingParameter",
            format!(
                "At least one of the parameters {q}.Value, {q}.StatisticValues or {q}.Values \
                 must be specified.",
                q = q()
            ),
        )),
    }
}

fn no_counts(q: &dyn Fn() -> String, counts: &[Float]) -> Result<(), ApiError> {
    if counts.is_empty() {
        Ok(())
    } else {
        Err(same_size(q))
    }
}

fn same_size(q: &dyn Fn() -> String) -> ApiError {
    let q = q();
    ApiError::invalid_parameter_value(format!(
        "The parameters {q}.Values and {q}.Counts must be of the same size."
    ))
}

fn statistic_set(s: &StatsInput, q: &dyn Fn() -> String) -> Result<StatisticSet, ApiError> {
    let member = |f: Option<Float>, name: &str| -> Result<f64, ApiError> {
        let path = || format!("{}.StatisticValues.{name}", q());
        let Float(x) = f.ok_or_else(|| ApiError::missing_parameter(&path()))?;
        check_value(&path, x)?;
        Ok(x)
    };
    let set = StatisticSet {
        sample_count: member(s.sample_count, "SampleCount")?,
        sum: member(s.sum, "Sum")?,
        minimum: member(s.minimum, "Minimum")?,
        maximum: member(s.maximum, "Maximum")?,
    };
    if set.sample_count <= 0.0 {
        let q = q();
        return Err(ApiError::invalid_parameter_value(format!(
            "The parameter {q}.StatisticValues.SampleCount must be greater than 0."
        )));
    }
    if set.maximum < set.minimum {
        let q = q();
        return Err(ApiError::invalid_parameter_value(format!(
            "The parameter {q}.StatisticValues.Maximum must be greater than or equal to \
             {q}.StatisticValues.Minimum."
        )));
    }
    Ok(set)
}

fn distribution(
    values: &[Float],
    counts: &[Float],
    q: &dyn Fn() -> String,
) -> Result<(Vec<f64>, Vec<f64>), ApiError> {
    if values.len() > MAX_VALUES {
        return Err(ApiError::invalid_parameter_value(format!(
            "The collection {}.Values must not have a size greater than {MAX_VALUES}.",
            q()
        )));
    }
    if !counts.is_empty() && counts.len() != values.len() {
        return Err(same_size(q));
    }
    let mut vs = Vec::with_capacity(values.len());
    let mut cs = Vec::with_capacity(values.len());
    for (i, Float(x)) in values.iter().enumerate() {
        check_value(&|| format!("{}.Values.member.{}", q(), i + 1), *x)?;
        let c = match counts.get(i) {
            Some(Float(c)) => {
                let path = || format!("{}.Counts.member.{}", q(), i + 1);
                check_value(&path, *c)?;
                if *c < 0.0 {
                    return Err(ApiError::invalid_parameter_value(format!(
                        "The value {} for parameter {} is invalid.",
                        validate::java_double(*c),
                        path()
                    )));
                }
                *c
            }
            None => 1.0,
        };
        if c > 0.0 {
            vs.push(*x);
            cs.push(c);
        }
    }
    if vs.is_empty() {
        return Err(ApiError::invalid_parameter_value(format!(
            "The parameter {}.Counts must contain at least one value greater than 0.",
            q()
        )));
    }
    Ok((vs, cs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn run(input: serde_json::Value) -> Result<Vec<(SeriesKey, Point)>, ApiError> {
        let parsed: PutInput = crate::api::parse_input(input, true)?;
        validate(parsed, NOW)
    }

    fn err(input: serde_json::Value) -> (String, String) {
        let e = run(input).unwrap_err();
        (e.query_code().to_string(), e.message.unwrap_or_default())
    }

    fn one(datum: serde_json::Value) -> serde_json::Value {
        json!({"Namespace": "App", "MetricData": [datum]})
    }

    #[test]
    fn accepts_every_value_form_in_both_spellings() {
        let ok = run(json!({"Namespace": "App", "MetricData": [
            {"MetricName": "a", "Value": 1.5, "Unit": "Count", "Timestamp": (NOW / 1000) as f64},
            {"MetricName": "b", "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}},
            {"MetricName": "c", "Values": [1, 10], "Counts": [2, 4], "StorageResolution": 1},
            {"MetricName": "d", "Values": ["3"], "Dimensions": [{"Name": "H", "Value": "x"}]}
        ]}))
        .unwrap();
        assert_eq!(ok.len(), 4);
        assert_eq!(ok[0].1.value, DatumValue::Single(1.5));
        assert_eq!(ok[0].0.unit, hostwatch_model::Unit::Count);
        assert_eq!(ok[1].1.ts_ms, NOW, "no timestamp means now");
        assert!(ok[2].1.high_res);
        assert_eq!(
            ok[3].1.value,
            DatumValue::Distribution {
                values: vec![3.0],
                counts: vec![1.0],
                stats: None,
            }
        );
        let q = run(json!({"Namespace": "App", "MetricData": [
            {"MetricName": "a", "Value": "2", "Timestamp": "2023-11-14T22:13:20Z", "StorageResolution": "60"}
        ]}))
        .unwrap();
        assert_eq!(q[0].1.ts_ms, NOW);
    }

    #[test]
    fn mutual_exclusion_messages_match_aws() {
        assert_eq!(
            err(one(json!({"MetricName": "m", "Value": 1, "Values": [1, 2]}))),
            ("InvalidParameterCombination".into(), "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive and you have specified both.".into())
        );
        assert_eq!(
            err(one(json!({"MetricName": "m", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}))),
            ("InvalidParameterCombination".into(), "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both.".into())
        );
        assert_eq!(
            err(one(json!({"MetricName": "m", "Values": [1, 10], "Counts": [2, 4, 5]}))),
            ("InvalidParameterValue".into(), "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the same size.".into())
        );
        let (code, msg) = err(one(json!({"MetricName": "m"})));
        assert_eq!(code, "MissingParameter");
        assert!(msg.contains("MetricData.member.1.Value"));
    }

    #[test]
    fn timestamp_window_reports_every_failing_datum() {
        let old = (NOW - TWO_WEEKS_MS - 1000) / 1000;
        let future = (NOW + TWO_HOURS_MS + 1000) / 1000;
        let (code, msg) = err(json!({"Namespace": "App", "MetricData": [
            {"MetricName": "a", "Value": 1, "Timestamp": old},
            {"MetricName": "b", "Value": 1},
            {"MetricName": "c", "Value": 1, "Timestamp": future}
        ]}));
        assert_eq!(code, "InvalidParameterValue");
        assert_eq!(
            msg,
            "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.\n\
             The parameter MetricData.member.3.Timestamp must specify a time no more than two hours in the future."
        );
        let edge = (NOW - TWO_WEEKS_MS) / 1000;
        assert!(run(one(
            json!({"MetricName": "a", "Value": 1, "Timestamp": edge})
        ))
        .is_ok());
    }

    #[test]
    fn limits() {
        let many: Vec<_> = (0..1001)
            .map(|i| json!({"MetricName": format!("m{i}"), "Value": 1}))
            .collect();
        assert_eq!(
            err(json!({"Namespace": "App", "MetricData": many})).1,
            "The collection MetricData must not have a size greater than 1000."
        );
        let vals: Vec<f64> = (0..151).map(f64::from).collect();
        assert_eq!(
            err(one(json!({"MetricName": "m", "Values": vals}))).1,
            "The collection MetricData.member.1.Values must not have a size greater than 150."
        );
        let vals: Vec<f64> = (0..150).map(f64::from).collect();
        assert!(run(one(json!({"MetricName": "m", "Values": vals}))).is_ok());
        assert_eq!(
            err(one(json!({"MetricName": "m", "Value": "NaN"}))),
            (
                "InvalidParameterValue".into(),
                "The value NaN for parameter MetricData.member.1.Value is invalid.".into()
            )
        );
        assert_eq!(
            err(one(json!({"MetricName": "m", "Values": [1, "Infinity"]}))).1,
            "The value Infinity for parameter MetricData.member.1.Values.member.2 is invalid."
        );
        assert_eq!(
            err(one(json!({"MetricName": "m", "Value": 1e200}))).0,
            "InvalidParameterValue"
        );
        let (code, msg) = err(one(json!({"MetricName": "m", "Value": 1, "Unit": "Bogus"})));
        assert_eq!(code, "ValidationError");
        assert!(msg.starts_with("1 validation error detected: Value 'Bogus' at 'metricData.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set: [Seconds,"), "{msg}");
        assert!(err(one(
            json!({"MetricName": "m", "Value": 1, "StorageResolution": 30})
        ))
        .1
        .contains("StorageResolution"));
        let (code, msg) = err(one(json!({"MetricName": "x".repeat(256), "Value": 1})));
        assert_eq!(code, "ValidationError");
        assert!(msg.contains("'metricData.1.member.metricName' failed to satisfy constraint: Member must have length less than or equal to 255"));
        let dims: Vec<_> = (0..31)
            .map(|i| json!({"Name": format!("d{i}"), "Value": "v"}))
            .collect();
        assert!(err(one(
            json!({"MetricName": "m", "Value": 1, "Dimensions": dims})
        ))
        .1
        .contains("less than or equal to 30"));
        assert_eq!(
            err(json!({"MetricData": [{"MetricName": "m", "Value": 1}]})),
            (
                "MissingParameter".into(),
                "The parameter Namespace is required.".into()
            )
        );
        assert_eq!(err(json!({"Namespace": "App"})).0, "MissingParameter");
        assert_eq!(
            err(json!({"Namespace": "", "MetricData": [{"MetricName": "m", "Value": 1}]})).0,
            "ValidationError"
        );
        assert_eq!(
            err(one(json!({"Value": 1}))).1,
            "The parameter MetricData.member.1.MetricName is required."
        );
        assert_eq!(err(one(json!({"MetricName": "m", "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1}}))).1,
            "The parameter MetricData.member.1.StatisticValues.Maximum is required.");
    }

    #[test]
    fn entity_metric_data_counts_and_paths() {
        let (_, msg) = err(json!({"Namespace": "App", "EntityMetricData": [
            {"Entity": {"KeyAttributes": {"Type": "Service"}}, "MetricData": [{"MetricName": "m", "Value": "NaN"}]}
        ]}));
        assert_eq!(msg, "The value NaN for parameter EntityMetricData.member.1.MetricData.member.1.Value is invalid.");
    }
}
