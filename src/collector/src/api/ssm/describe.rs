//! DescribeParameters: metadata (no values) of every parameter passing the filters, in name
//! order, paged by name.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{self, internal, make_token, max_results, read_token, validation};
use super::filters::{self, RawFilter, RawOldFilter};
use super::{RequestContext, SsmApi};
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    filters: Option<Vec<RawOldFilter>>,
    parameter_filters: Option<Vec<RawFilter>>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

/// DescribeParameters.
pub fn describe_parameters(
    api: &SsmApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let input: Input = parse_input(input, false)?;
    let old = input.filters.unwrap_or_default();
    let new = input.parameter_filters.unwrap_or_default();
    if !old.is_empty() && !new.is_empty() {
        return Err(validation(
            "You can use either Filters or ParameterFilters in a single request.",
        ));
    }
    let filters = if old.is_empty() {
        filters::parse(&new, false)?
    } else {
        filters::parse_old(&old)?
    };
    let limit = max_results(input.max_results, 50, 10)?;
    let after = input.next_token.as_deref().map(read_token).transpose()?;
    let want_tags = filters::needs_tags(&filters);
    let mut page: Vec<(String, Shape)> = Vec::new();
    let mut next = None;
    for rec in api.store.all_latest(after.as_deref()).map_err(internal)? {
        let tags = if want_tags {
            api.store.tags(&rec.name).map_err(internal)?
        } else {
            Vec::new()
        };
        if !filters::matches(&filters, &rec, &tags) {
            continue;
        }
        if page.len() == limit {
            next = page.last().map(|(n, _)| make_token(n));
            break;
        }
        let shape = Shape::obj()
            .with("Name", rec.name.as_str())
            .with("ARN", common::arn(&ctx.region, &ctx.account_id, &rec.name))
            .with("Type", rec.ptype.as_str())
            .with_opt("KeyId", rec.key_id.clone())
            .with("LastModifiedDate", Shape::Timestamp(rec.modified_ms))
            .with("LastModifiedUser", rec.modified_user.as_str())
            .with_opt("Description", rec.description.clone())
            .with_opt("AllowedPattern", rec.allowed_pattern.clone())
            .with("Version", rec.version)
            .with("Tier", rec.tier.as_str())
            .with("Policies", Shape::List(Vec::new()))
            .with("DataType", rec.data_type.as_str());
        page.push((rec.name.clone(), shape));
    }
    Ok(Some(
        Shape::obj()
            .with(
                "Parameters",
                Shape::List(page.into_iter().map(|(_, s)| s).collect()),
            )
            .with_opt("NextToken", next),
    ))
}
