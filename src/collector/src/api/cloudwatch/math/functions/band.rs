//! `ANOMALY_DETECTION_BAND(ts[, k])` → TS[2]: the upper then the lower bound of the expected
//! range of `ts` (so `FIRST` is the upper and `LAST` the lower bound, as documented), `k`
//! standard deviations wide on each side (default 2).
//!
//! The model (see `anomaly::model`) is trained on `ts` itself evaluated over the two weeks
//! before the training time — a metric query's statistic at its period, or any expression —
//! minus the `ExcludedTimeRanges` of the matching anomaly detector (`PutAnomalyDetector` for
//! the same metric and statistic, or a metric-math detector whose returned expression is the
//! same text), if one exists; no detector is required. The training time is "now" rounded
//! down to [`RETRAIN_MS`], so models are cached and retrained at most that often, and any
//! model can be reproduced from the stored data. The band has a value at every grid timestamp
//! of `ts` (it is not sparse); no training data means no band values.
//!
//! As CloudWatch documents, an expression may contain only one `ANOMALY_DETECTION_BAND`
//! (bands of bands are refused).

use std::sync::Arc;

use super::super::ast::Expr;
use super::super::error::MathError;
use super::super::eval::{BandTarget, Evaluator, Source, Window};
use super::super::program::Program;
use super::super::query::QueryKind;
use super::super::value::{Ts, Value};
use super::{arity, type_error};
use crate::api::cloudwatch::anomaly::model::Model;

/// How much history a model is trained on.
pub const TRAINING_MS: i64 = 14 * 24 * 3_600_000;
/// Models are retrained when "now" crosses a multiple of this.
pub const RETRAIN_MS: i64 = 15 * 60_000;
/// Default width in standard deviations.
const DEFAULT_K: f64 = 2.0;

pub fn call(ev: &mut Evaluator<'_>, args: &[Expr]) -> Result<Value, MathError> {
    arity("ANOMALY_DETECTION_BAND", args, 1, 2)?;
    let arg = &args[0];
    if ev.prog.uses(arg, "ANOMALY_DETECTION_BAND") {
        return Err(MathError::Argument {
            func: "ANOMALY_DETECTION_BAND".into(),
            detail: format!(
                "an expression may contain only one ANOMALY_DETECTION_BAND (position {})",
                arg.pos()
            ),
        });
    }
    let target = ev.value(arg)?;
    let k = match args.get(1) {
        Some(e) => Some(ev.value(e)?),
        None => None,
    };
    let (series, k) = match (target, k) {
        (Value::Ts(s), None) => (s, DEFAULT_K),
        (Value::Ts(s), Some(Value::Scalar(k))) if k.is_finite() && k >= 0.0 => (s, k),
        (Value::Ts(_), Some(Value::Scalar(k))) => {
            return Err(MathError::Argument {
                func: "ANOMALY_DETECTION_BAND".into(),
                detail: format!("the number of standard deviations must be 0 or more, not {k}"),
            })
        }
        (t, k) => {
            let mut vals = vec![t];
            vals.extend(k);
            return Err(type_error("ANOMALY_DETECTION_BAND", &vals));
        }
    };
    let model = model_for(ev.prog, ev.source, arg, ev.window.now_ms, ev.grid().period)?;
    let stamps = series.grid.timestamps()?;
    let (mut upper, mut lower) = (Vec::new(), Vec::new());
    if let Some(m) = &model {
        for t in stamps {
            let (hi, lo) = m.band(t, k);
            upper.push((t, hi));
            lower.push((t, lo));
        }
    }
    let mk = |points: Vec<(i64, f64)>, side: &str| {
        let mut s = series.with_points(points);
        s.label = format!("{} {side}", series.label);
        s
    };
    Ok(Value::Array(vec![mk(upper, "Upper"), mk(lower, "Lower")]))
}

/// The (cached) model of expression `arg` of `prog` at time `now_ms`; `expr_period_ms` is the
/// period for series the expression creates itself.
pub fn model_for(
    prog: &Program<'_>,
    source: &dyn Source,
    arg: &Expr,
    now_ms: i64,
    expr_period_ms: i64,
) -> Result<Option<Arc<Model>>, MathError> {
    let exclusions = source.exclusions(target(prog, arg));
    let end = now_ms.div_euclid(RETRAIN_MS) * RETRAIN_MS;
    let key = cache_key(prog, arg, &exclusions, end, expr_period_ms);
    if let Some(m) = source.cached_model(&key) {
        return Ok(m);
    }
    let window = Window {
        start_ms: end - TRAINING_MS,
        end_ms: end,
        now_ms,
        history: true,
    };
    let mut ev = Evaluator::new(prog, source, window).with_period(expr_period_ms);
    let series: Ts = match ev.value(arg)? {
        Value::Ts(s) => s,
        other => return Err(type_error("ANOMALY_DETECTION_BAND", &[other])),
    };
    let samples: Vec<(i64, f64)> = series
        .points
        .into_iter()
        .filter(|(t, _)| !exclusions.iter().any(|(a, b)| a <= t && t <= b))
        .collect();
    let model = Model::train(&samples, series.grid.period).map(Arc::new);
    source.store_model(key, model.clone());
    Ok(model)
}

/// What the band is for, to find its detector.
fn target<'a>(prog: &'a Program<'_>, arg: &Expr) -> BandTarget<'a> {
    let Expr::Id { name, .. } = arg else {
        return BandTarget::Other;
    };
    match prog.lookup(name).map(|i| &prog.queries[i].kind) {
        Some(QueryKind::Metric(m)) => BandTarget::Metric(m),
        Some(QueryKind::Expression(e)) => BandTarget::Expression(&e.text),
        None => BandTarget::Other,
    }
}

/// Everything the model depends on besides the stored data.
fn cache_key(
    prog: &Program<'_>,
    arg: &Expr,
    exclusions: &[(i64, i64)],
    end: i64,
    period: i64,
) -> String {
    let deps: Vec<String> = prog
        .closure(arg)
        .into_iter()
        .map(|i| format!("{}={:?}", prog.queries[i].id, prog.queries[i].kind))
        .collect();
    format!("{arg}|{}|{exclusions:?}|{end}|{period}", deps.join(";"))
}
