//! GetParameter, GetParameters, GetParametersByPath, GetParameterHistory.
//!
//! SecureString values are answered sealed (the opaque ciphertext) unless `WithDecryption` is
//! true. Pages are in name order (history: version order); a page token names the last item
//! answered, so parameters put or deleted between pages neither repeat nor shift the rest.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{
    self, check_path, constraint, internal, make_token, max_results, not_found, parse_selected,
    read_token, version_not_found, Selector,
};
use super::filters::{self, RawFilter};
use super::{RequestContext, SsmApi};
use crate::api::parse_input;
use crate::store::ssm::StoredVersion;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetInput {
    name: Option<String>,
    with_decryption: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetManyInput {
    names: Option<Vec<String>>,
    with_decryption: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ByPathInput {
    path: Option<String>,
    recursive: Option<bool>,
    parameter_filters: Option<Vec<RawFilter>>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HistoryInput {
    name: Option<String>,
    with_decryption: Option<bool>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn not_null(at: &str) -> ApiError {
    common::validation(format!(
        "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member \
         must not be null"
    ))
}

fn check_len(value: &str, at: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(constraint(
            value,
            at,
            "Member must have length greater than or equal to 1",
        ));
    }
    if value.chars().count() > 2048 {
        return Err(constraint(
            value,
            at,
            "Member must have length less than or equal to 2048",
        ));
    }
    Ok(())
}

/// Find `raw` (a name, `name:selector` or an ARN). `Ok(None)`: no such parameter.
fn lookup(api: &SsmApi, raw: &str) -> Result<Option<(StoredVersion, Option<Selector>)>, ApiError> {
    let sel = parse_selected(raw);
    for name in &sel.names {
        let latest = api.store.latest(name).map_err(internal)?;
        let Some(latest) = latest else { continue };
        return match &sel.selector {
            None => Ok(Some((latest, None))),
            Some(Selector::Version(v)) => match api.store.version(name, *v).map_err(internal)? {
                Some(rec) => Ok(Some((rec, sel.selector.clone()))),
                None => Err(version_not_found(name, &v.to_string())),
            },
            Some(Selector::Label(l)) => Err(version_not_found(name, l)),
        };
    }
    Ok(None)
}

/// GetParameter.
pub fn get_parameter(
    api: &SsmApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let input: GetInput = parse_input(input, false)?;
    let name = input.name.as_deref().ok_or_else(|| not_null("name"))?;
    check_len(name, "name")?;
    let (rec, selector) = lookup(api, name)?.ok_or_else(not_found)?;
    let decrypt = input.with_decryption.unwrap_or(false);
    let shape = api.parameter_shape(&rec, decrypt, selector.map(|s| s.echo()), ctx)?;
    Ok(Some(Shape::obj().with("Parameter", shape)))
}

/// GetParameters: up to 10 names; those not found come back in `InvalidParameters`.
pub fn get_parameters(
    api: &SsmApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let input: GetManyInput = parse_input(input, false)?;
    let names = input.names.ok_or_else(|| not_null("names"))?;
    check_names_list(&names)?;
    let decrypt = input.with_decryption.unwrap_or(false);
    let mut found = Vec::new();
    let mut invalid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for raw in &names {
        if !seen.insert(raw.as_str()) {
            continue;
        }
        match lookup(api, raw) {
            Ok(Some((rec, sel))) => {
                found.push(api.parameter_shape(&rec, decrypt, sel.map(|s| s.echo()), ctx)?)
            }
            Ok(None) => invalid.push(Shape::from(raw.as_str())),
            Err(e) if e.code == "ParameterVersionNotFound" => {
                invalid.push(Shape::from(raw.as_str()))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(
        Shape::obj()
            .with("Parameters", Shape::List(found))
            .with("InvalidParameters", Shape::List(invalid)),
    ))
}

/// The `names` list rule shared with DeleteParameters: 1 to 10 names.
pub fn check_names_list(names: &[String]) -> Result<(), ApiError> {
    let shown = || format!("[{}]", names.join(", "));
    if names.is_empty() {
        return Err(constraint(
            &shown(),
            "names",
            "Member must have length greater than or equal to 1",
        ));
    }
    if names.len() > 10 {
        return Err(constraint(
            &shown(),
            "names",
            "Member must have length less than or equal to 10",
        ));
    }
    Ok(())
}

/// GetParametersByPath.
pub fn get_parameters_by_path(
    api: &SsmApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let input: ByPathInput = parse_input(input, false)?;
    let path = input.path.as_deref().ok_or_else(|| not_null("path"))?;
    check_len(path, "path")?;
    check_path(path)?;
    let recursive = input.recursive.unwrap_or(false);
    let filters = filters::parse(input.parameter_filters.as_deref().unwrap_or(&[]), true)?;
    let limit = max_results(input.max_results, 10, 10)?;
    let after = input.next_token.as_deref().map(read_token).transpose()?;
    let decrypt = input.with_decryption.unwrap_or(false);
    let page = filters::page(
        api,
        &filters,
        after.as_deref(),
        limit,
        |rec| common::under_path(&rec.name, path, recursive),
        |rec| api.parameter_shape(rec, decrypt, None, ctx),
    )?;
    Ok(Some(page))
}

/// GetParameterHistory: every retained version, oldest first.
pub fn get_parameter_history(
    api: &SsmApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let input: HistoryInput = parse_input(input, false)?;
    let raw = input.name.as_deref().ok_or_else(|| not_null("name"))?;
    check_len(raw, "name")?;
    let limit = max_results(input.max_results, 50, 50)?;
    let after: i64 = match input.next_token.as_deref() {
        None => 0,
        Some(t) => read_token(t)?
            .parse()
            .map_err(|_| common::invalid_token())?,
    };
    let decrypt = input.with_decryption.unwrap_or(false);
    let sel = parse_selected(raw);
    let mut versions = Vec::new();
    for name in &sel.names {
        versions = api.store.history(name).map_err(internal)?;
        if !versions.is_empty() {
            break;
        }
    }
    if versions.is_empty() {
        return Err(not_found());
    }
    let rest: Vec<&StoredVersion> = versions.iter().filter(|v| v.version > after).collect();
    let more = rest.len() > limit;
    let mut out = Vec::with_capacity(limit.min(rest.len()));
    for rec in rest.iter().take(limit) {
        out.push(
            Shape::obj()
                .with("Name", rec.name.as_str())
                .with("Type", rec.ptype.as_str())
                .with_opt("KeyId", rec.key_id.clone())
                .with("LastModifiedDate", Shape::Timestamp(rec.modified_ms))
                .with("LastModifiedUser", rec.modified_user.as_str())
                .with_opt("Description", rec.description.clone())
                .with("Value", api.value_of(rec, decrypt)?)
                .with_opt("AllowedPattern", rec.allowed_pattern.clone())
                .with("Version", rec.version)
                .with("Labels", Shape::List(Vec::new()))
                .with("Tier", rec.tier.as_str())
                .with("Policies", Shape::List(Vec::new()))
                .with("DataType", rec.data_type.as_str()),
        );
    }
    let next = more
        .then(|| {
            rest.get(limit - 1)
                .map(|r| make_token(&r.version.to_string()))
        })
        .flatten();
    Ok(Some(
        Shape::obj()
            .with("Parameters", Shape::List(out))
            .with_opt("NextToken", next),
    ))
}
