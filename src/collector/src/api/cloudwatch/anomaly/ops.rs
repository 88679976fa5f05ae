//! PutAnomalyDetector, DescribeAnomalyDetectors, DeleteAnomalyDetector: inputs, validation,
//! outputs.
//!
//! A detector is named in one of three ways (the same for Put and Delete):
//! `SingleMetricAnomalyDetector{Namespace, MetricName, Dimensions, Stat}`, the legacy top-level
//! `Namespace`/`MetricName`/`Dimensions`/`Stat`, or `MetricMathAnomalyDetector{MetricDataQueries}`
//! (at most 10 queries, exactly one with `ReturnData` true, an expression returning one time
//! series, without `METRICS()` or `ANOMALY_DETECTION_BAND`). Mixing forms is
//! `InvalidParameterCombination`. `Namespace`, `MetricName` and `Stat` are required for a single
//! metric; the statistic follows the `Stat` grammar of GetMetricData.
//!
//! `Configuration.ExcludedTimeRanges` (at most 10, `StartTime <= EndTime`) are honoured when
//! training; `MetricTimezone` (a tz-database name, at most 50 characters) and
//! `MetricCharacteristics.PeriodicSpikes` are stored and returned. Putting an existing detector
//! replaces its configuration.
//!
//! DescribeAnomalyDetectors lists detectors in key order, `MaxResults` (1–100, default 100) per
//! page, filtered by `Namespace`, `MetricName`, `Dimensions` (every given name/value pair must be
//! on the metric) — these apply to single-metric detectors — and `AnomalyDetectorTypes`
//! (default `SINGLE_METRIC`). `StateValue` comes from training the detector's model now
//! (cached): single-metric detectors are trained at a 5-minute period, math detectors at their
//! queries' periods. DeleteAnomalyDetector answers `ResourceNotFoundException` for an unknown
//! detector.

use hostwatch_aws::lenient::{Bool, Int, List, Timestamp};
use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::MetricKey;
use serde::Deserialize;

use super::detector::{to_queries, Detector, Subject};
use super::AnomalyService;
use crate::api::cloudwatch::math::{
    self, parse, queries_from_json, DataQuery, ExpressionQuery, MetricQuery, QueryKind,
};
use crate::api::cloudwatch::stat::Stat;
use crate::api::cloudwatch::token;
use crate::api::cloudwatch::validate::{self, DimensionInput, Violations};
use crate::store::metrics::MetricStore;

const MAX_RANGES: usize = 10;
const MAX_MATH_QUERIES: usize = 10;
const MAX_RESULTS: i64 = 100;
const TOKEN_KIND: &str = "DescribeAnomalyDetectors";
/// Period at which single-metric detectors are trained for their `StateValue`.
const DETECTOR_PERIOD_S: i64 = 300;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SingleInput {
    #[allow(dead_code)]
    account_id: Option<String>,
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    stat: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MathInput {
    metric_data_queries: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RangeInput {
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigInput {
    excluded_time_ranges: Option<List<RangeInput>>,
    metric_timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CharacteristicsInput {
    periodic_spikes: Option<Bool>,
}

/// Input of PutAnomalyDetector and DeleteAnomalyDetector.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectorInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    stat: Option<String>,
    configuration: Option<ConfigInput>,
    metric_characteristics: Option<CharacteristicsInput>,
    single_metric_anomaly_detector: Option<SingleInput>,
    metric_math_anomaly_detector: Option<MathInput>,
}

/// Input of DescribeAnomalyDetectors.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInput {
    next_token: Option<String>,
    max_results: Option<Int>,
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    anomaly_detector_types: Option<List<String>>,
}

/// Which detector an input names.
pub fn subject(input: &DetectorInput) -> Result<Subject, ApiError> {
    let legacy = input.namespace.is_some()
        || input.metric_name.is_some()
        || input.dimensions.is_some()
        || input.stat.is_some();
    let single = input.single_metric_anomaly_detector.as_ref();
    let math = input.metric_math_anomaly_detector.as_ref();
    let combination = |a: &str, b: &str| {
        ApiError::invalid_parameter_combination(format!(
            "The parameters {a} and {b} are mutually exclusive and you have specified both."
        ))
    };
    match (legacy, single, math) {
        (true, Some(_), _) => Err(combination(
            "SingleMetricAnomalyDetector",
            "Namespace, MetricName, Dimensions, Stat",
        )),
        (true, _, Some(_)) => Err(combination(
            "MetricMathAnomalyDetector",
            "Namespace, MetricName, Dimensions, Stat",
        )),
        (false, Some(_), Some(_)) => Err(combination(
            "SingleMetricAnomalyDetector",
            "MetricMathAnomalyDetector",
        )),
        (true, None, None) => single_subject(
            input.namespace.as_deref(),
            input.metric_name.as_deref(),
            input.dimensions.as_ref(),
            input.stat.as_deref(),
            "",
        ),
        (false, Some(s), None) => single_subject(
            s.namespace.as_deref(),
            s.metric_name.as_deref(),
            s.dimensions.as_ref(),
            s.stat.as_deref(),
            "SingleMetricAnomalyDetector.",
        ),
        (false, None, Some(m)) => math_subject(m),
        (false, None, None) => Err(ApiError::invalid_parameter_combination(
            "Specify SingleMetricAnomalyDetector, MetricMathAnomalyDetector, or Namespace, \
             MetricName and Stat.",
        )),
    }
}

fn single_subject(
    ns: Option<&str>,
    name: Option<&str>,
    dims: Option<&List<DimensionInput>>,
    stat: Option<&str>,
    prefix: &str,
) -> Result<Subject, ApiError> {
    let coral = if prefix.is_empty() {
        String::new()
    } else {
        "singleMetricAnomalyDetector.".to_string()
    };
    let ns = validate::required(ns, &format!("{prefix}Namespace"))?;
    let name = validate::required(name, &format!("{prefix}MetricName"))?;
    let stat = validate::required(stat, &format!("{prefix}Stat"))?;
    let mut v = Violations::default();
    validate::namespace(&mut v, &format!("{coral}namespace"), ns);
    v.length(&format!("{coral}metricName"), name, 1, 255);
    v.length(&format!("{coral}stat"), stat, 1, 50);
    let dims = validate::dimensions(
        &mut v,
        dims.map(|l| l.0.clone()).unwrap_or_default(),
        &|| format!("{prefix}Dimensions"),
        &|| format!("{coral}dimensions"),
    )?;
    v.finish()?;
    if Stat::parse(stat).is_none() {
        return Err(ApiError::invalid_parameter_value(format!(
            "The value {stat} for parameter {prefix}Stat is invalid."
        )));
    }
    Ok(Subject::single(
        MetricKey::new(ns, name, dims),
        stat.to_string(),
    ))
}

fn math_subject(m: &MathInput) -> Result<Subject, ApiError> {
    let p = "MetricMathAnomalyDetector.MetricDataQueries";
    let list = validate::required(m.metric_data_queries.as_ref(), p)?;
    let queries = queries_from_json(list, p)?;
    if queries.is_empty() {
        return Err(ApiError::missing_parameter(p));
    }
    if queries.len() > MAX_MATH_QUERIES {
        return Err(ApiError::invalid_parameter_value(format!(
            "The collection {p} must not have a size greater than {MAX_MATH_QUERIES}."
        )));
    }
    let returned: Vec<usize> = (0..queries.len())
        .filter(|i| queries[*i].return_data)
        .collect();
    let [i] = returned.as_slice() else {
        return Err(ApiError::invalid_parameter_value(format!(
            "Exactly one element of {p} must have ReturnData set to true."
        )));
    };
    let QueryKind::Expression(ExpressionQuery { text, .. }) = &queries[*i].kind else {
        return Err(ApiError::invalid_parameter_value(format!(
            "The element of {p} with ReturnData set to true must be an expression."
        )));
    };
    math::validate_queries(&queries)?;
    for q in &queries {
        if let QueryKind::Expression(e) = &q.kind {
            let expr = parse(&e.text).map_err(|err| err.into_api(&q.id))?;
            for f in ["METRICS", "ANOMALY_DETECTION_BAND", "SEARCH"] {
                if expr.calls(f) {
                    return Err(ApiError::invalid_parameter_value(format!(
                        "Metric math anomaly detectors do not support {f} (query {}).",
                        q.id
                    )));
                }
            }
        }
    }
    let ty = math::value_type(&queries, *i)?;
    if ty != "TimeSeries" {
        return Err(ApiError::invalid_parameter_value(format!(
            "The expression {text} of a metric math anomaly detector must return a single time \
             series, not {ty}."
        )));
    }
    Ok(Subject::math(&queries))
}

/// `Configuration`: excluded ranges (inclusive, ms) and time zone.
type Config = (Vec<(i64, i64)>, Option<String>);

fn configuration(input: &DetectorInput) -> Result<Config, ApiError> {
    let Some(c) = &input.configuration else {
        return Ok((Vec::new(), None));
    };
    let ranges = c
        .excluded_time_ranges
        .as_ref()
        .map(|l| l.0.as_slice())
        .unwrap_or(&[]);
    let mut v = Violations::default();
    v.list_size(
        "configuration.excludedTimeRanges",
        ranges.len(),
        0,
        MAX_RANGES,
    );
    if let Some(tz) = &c.metric_timezone {
        v.length("configuration.metricTimezone", tz, 0, 50);
    }
    v.finish()?;
    let mut out = Vec::with_capacity(ranges.len());
    for (i, r) in ranges.iter().enumerate() {
        let p = format!("Configuration.ExcludedTimeRanges.member.{}", i + 1);
        let Timestamp(a) = validate::required(r.start_time, &format!("{p}.StartTime"))?;
        let Timestamp(b) = validate::required(r.end_time, &format!("{p}.EndTime"))?;
        if a > b {
            return Err(ApiError::invalid_parameter_value(format!(
                "The parameter {p}.StartTime must be less than or equal to the parameter \
                 {p}.EndTime."
            )));
        }
        out.push((a, b));
    }
    let tz = c.metric_timezone.clone().filter(|t| !t.is_empty());
    if let Some(t) = &tz {
        let ok = t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
        if !ok {
            return Err(ApiError::invalid_parameter_value(format!(
                "The value {t} for parameter Configuration.MetricTimezone is not a valid time \
                 zone name."
            )));
        }
    }
    Ok((out, tz))
}

/// PutAnomalyDetector.
pub async fn put(
    svc: &AnomalyService,
    input: DetectorInput,
    now_ms: i64,
) -> Result<Option<Shape>, ApiError> {
    let subject = subject(&input)?;
    let (excluded, timezone) = configuration(&input)?;
    let detector = Detector {
        subject,
        excluded,
        timezone,
        periodic_spikes: input
            .metric_characteristics
            .as_ref()
            .and_then(|c| c.periodic_spikes)
            .map(|Bool(b)| b),
    };
    svc.put(detector, now_ms).await?;
    Ok(None)
}

/// DeleteAnomalyDetector.
pub async fn delete(svc: &AnomalyService, input: DetectorInput) -> Result<Option<Shape>, ApiError> {
    let subject = subject(&input)?;
    if svc.delete(&subject.key()).await? {
        Ok(None)
    } else {
        Err(ApiError::cloudwatch(
            "ResourceNotFoundException",
            "No anomaly detector exists for the specified metric or expression.",
        ))
    }
}

struct Filter {
    namespace: Option<String>,
    metric_name: Option<String>,
    dims: Vec<(String, String)>,
    types: Vec<String>,
}

impl Filter {
    fn keep(&self, d: &Detector) -> bool {
        if !self.types.iter().any(|t| t == d.subject.type_name()) {
            return false;
        }
        match &d.subject {
            Subject::Single {
                namespace,
                metric_name,
                dimensions,
                ..
            } => {
                self.namespace.as_ref().is_none_or(|n| n == namespace)
                    && self.metric_name.as_ref().is_none_or(|n| n == metric_name)
                    && self
                        .dims
                        .iter()
                        .all(|(n, v)| dimensions.iter().any(|d| d.name == *n && d.value == *v))
            }
            Subject::Math { .. } => true,
        }
    }
}

fn filter(input: &DescribeInput) -> Result<(Filter, usize), ApiError> {
    let mut v = Violations::default();
    if let Some(ns) = &input.namespace {
        validate::namespace(&mut v, "namespace", ns);
    }
    if let Some(n) = &input.metric_name {
        v.length("metricName", n, 1, 255);
    }
    let types = input
        .anomaly_detector_types
        .as_ref()
        .map(|l| l.0.clone())
        .unwrap_or_default();
    v.list_size("anomalyDetectorTypes", types.len(), 0, 2);
    for (i, t) in types.iter().enumerate() {
        v.one_of(
            &format!("anomalyDetectorTypes.{}.member", i + 1),
            t,
            &["SINGLE_METRIC", "METRIC_MATH"],
        );
    }
    let max = match input.max_results {
        None => MAX_RESULTS,
        Some(Int(n)) => {
            if n < 1 {
                v.push(
                    "maxResults",
                    Some(&n.to_string()),
                    "Member must have value greater than or equal to 1",
                );
            }
            n
        }
    };
    let dims = validate::dimensions(
        &mut v,
        input
            .dimensions
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default(),
        &|| "Dimensions".to_string(),
        &|| "dimensions".to_string(),
    )?;
    v.finish()?;
    if max > MAX_RESULTS {
        return Err(ApiError::invalid_parameter_value(format!(
            "The parameter MaxResults must be less than or equal to {MAX_RESULTS}."
        )));
    }
    Ok((
        Filter {
            namespace: input.namespace.clone(),
            metric_name: input.metric_name.clone(),
            dims: dims.into_iter().map(|d| (d.name, d.value)).collect(),
            types: if types.is_empty() {
                vec!["SINGLE_METRIC".to_string()]
            } else {
                types
            },
        },
        usize::try_from(max).unwrap_or(1),
    ))
}

/// DescribeAnomalyDetectors (blocking: trains models for `StateValue`).
pub fn describe(
    svc: &AnomalyService,
    store: &MetricStore,
    input: &DescribeInput,
    now_ms: i64,
) -> Result<Shape, ApiError> {
    let (f, max) = filter(input)?;
    let after: Option<String> = match &input.next_token {
        Some(t) => Some(token::decode(TOKEN_KIND, t)?),
        None => None,
    };
    let matching: Vec<(String, Detector)> = svc
        .detectors()
        .into_iter()
        .filter(|(k, d)| after.as_ref().is_none_or(|a| k > a) && f.keep(d))
        .collect();
    let more = matching.len() > max;
    let page = &matching[..matching.len().min(max)];
    let mut out = Vec::with_capacity(page.len());
    for (_, d) in page {
        out.push(d.shape(state(svc, store, d, now_ms)));
    }
    let next = match (more, page.last()) {
        (true, Some((k, _))) => Some(token::encode(TOKEN_KIND, k)),
        _ => None,
    };
    Ok(Shape::obj()
        .with("AnomalyDetectors", Shape::List(out))
        .with_opt("NextToken", next))
}

/// The training state of a detector's model now.
fn state(svc: &AnomalyService, store: &MetricStore, d: &Detector, now_ms: i64) -> &'static str {
    let queries = match &d.subject {
        Subject::Single {
            namespace,
            metric_name,
            dimensions,
            stat,
        } => Stat::parse(stat).map(|s| {
            vec![DataQuery {
                id: "m".into(),
                label: None,
                return_data: true,
                kind: QueryKind::Metric(MetricQuery {
                    metric: MetricKey::new(
                        namespace.clone(),
                        metric_name.clone(),
                        dimensions.clone(),
                    ),
                    period_s: DETECTOR_PERIOD_S,
                    stat_name: stat.clone(),
                    stat: s,
                    unit: None,
                }),
            }]
        }),
        Subject::Math { queries } => to_queries(queries).ok(),
    };
    let model = queries.and_then(|q| math::detector_model(store, svc, &q, now_ms).ok());
    match model {
        Some(Some(m)) => m.state(),
        Some(None) => "TRAINED_INSUFFICIENT_DATA",
        None => "PENDING_TRAINING",
    }
}
