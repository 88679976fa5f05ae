//! ListMetrics: metrics with data in the last two weeks (or three hours with
//! `RecentlyActive=PT3H`), filtered by namespace, name and dimension filters, 500 per page in
//! key order. The token holds the last metric returned, so pages stay correct while metrics are
//! added.

use hostwatch_aws::lenient::{Bool, List};
use hostwatch_aws::{ApiError, Shape};
use hostwatch_model::{Dimension, MetricKey};
use serde::Deserialize;

use super::validate::{self, DimensionInput, Violations};
use super::{metric_shape, token};
use crate::store::metrics::MetricStore;

const PAGE: usize = 500;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3_600_000;
const THREE_HOURS_MS: i64 = 3 * 3_600_000;
const TOKEN_KIND: &str = "ListMetrics";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListInput {
    namespace: Option<String>,
    metric_name: Option<String>,
    dimensions: Option<List<DimensionInput>>,
    next_token: Option<String>,
    recently_active: Option<String>,
    #[allow(dead_code)]
    include_linked_accounts: Option<Bool>,
    #[allow(dead_code)]
    owning_account: Option<String>,
}

struct Filter {
    namespace: Option<String>,
    metric_name: Option<String>,
    dims: Vec<(String, Option<String>)>,
    since_ms: i64,
}

impl Filter {
    fn keep(&self, k: &MetricKey, last_ms: i64) -> bool {
        last_ms >= self.since_ms
            && self.namespace.as_ref().is_none_or(|n| *n == k.namespace)
            && self
                .metric_name
                .as_ref()
                .is_none_or(|n| *n == k.metric_name)
            && self.dims.iter().all(|(name, value)| {
                k.dimensions
                    .iter()
                    .any(|d| d.name == *name && value.as_ref().is_none_or(|v| *v == d.value))
            })
    }
}

fn filter(input: &ListInput, now_ms: i64) -> Result<Filter, ApiError> {
    let mut v = Violations::default();
    if let Some(ns) = &input.namespace {
        validate::namespace(&mut v, "namespace", ns);
    }
    if let Some(n) = &input.metric_name {
        v.length("metricName", n, 1, 255);
    }
    let filters = input
        .dimensions
        .as_ref()
        .map(|l| l.0.as_slice())
        .unwrap_or(&[]);
    v.list_size("dimensions", filters.len(), 0, 10);
    let mut dims = Vec::with_capacity(filters.len());
    for (i, f) in filters.iter().enumerate() {
        let n = i + 1;
        let name = validate::required(f.name.clone(), &format!("Dimensions.member.{n}.Name"))?;
        validate::dimension_name(&mut v, &format!("dimensions.{n}.member.name"), &name);
        if let Some(val) = &f.value {
            v.length(&format!("dimensions.{n}.member.value"), val, 1, 1024);
        }
        dims.push((name, f.value.clone()));
    }
    let window = match input.recently_active.as_deref() {
        None => TWO_WEEKS_MS,
        Some(r) => {
            v.one_of("recentlyActive", r, &["PT3H"]);
            THREE_HOURS_MS
        }
    };
    v.finish()?;
    Ok(Filter {
        namespace: input.namespace.clone(),
        metric_name: input.metric_name.clone(),
        dims,
        since_ms: now_ms - window,
    })
}

/// Run ListMetrics.
pub fn list(store: &MetricStore, input: &ListInput, now_ms: i64) -> Result<Shape, ApiError> {
    let f = filter(input, now_ms)?;
    let after: Option<MetricKey> = match &input.next_token {
        Some(t) => {
            let (ns, name, dims): (String, String, Vec<Dimension>) = token::decode(TOKEN_KIND, t)?;
            Some(MetricKey::new(ns, name, dims))
        }
        None => None,
    };
    let (page, more) = store.list_metrics(after.as_ref(), &|k, last| f.keep(k, last), PAGE);
    let next = match (more, page.last()) {
        (true, Some(k)) => Some(token::encode(
            TOKEN_KIND,
            &(&k.namespace, &k.metric_name, &k.dimensions),
        )),
        _ => None,
    };
    Ok(Shape::obj()
        .with("Metrics", Shape::list(page.iter().map(metric_shape)))
        .with_opt("NextToken", next))
}
