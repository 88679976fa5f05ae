//! DescribeParameters: metadata (no values) of every parameter passing the filters, in name
//! order, paged by name.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{self, max_results, read_token, validation};
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
    let page = filters::page(
        api,
        &filters,
        after.as_deref(),
        limit,
        |_| true,
        |rec| {
            Ok(Shape::obj()
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
                .with("DataType", rec.data_type.as_str()))
        },
    )?;
    Ok(Some(page))
}
