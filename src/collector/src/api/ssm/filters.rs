//! `ParameterFilters` (DescribeParameters, GetParametersByPath) and the older `Filters`
//! (DescribeParameters).
//!
//! Keys and options: `Name` (`Equals`, `BeginsWith`, `Contains`), `Path` (`OneLevel` default,
//! `Recursive`; DescribeParameters only), `Type`, `KeyId`, `Tier`, `DataType`, `Label`
//! (`Equals`), `tag:KEY` (`Equals`; without values the tag only has to be present). Values are
//! ORed within a filter, filters are ANDed. GetParametersByPath takes only `Type`, `KeyId`,
//! `Label` and `tag:` keys (the path is its own argument). Labels are not modelled, so a
//! `Label` filter matches nothing.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{check_path, internal, make_token};
use super::SsmApi;
use crate::store::ssm::StoredVersion;

/// One `ParameterStringFilter` as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawFilter {
    pub key: Option<String>,
    pub option: Option<String>,
    pub values: Option<Vec<String>>,
}

/// One old-style `ParametersFilter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawOldFilter {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FilterKey {
    Name,
    Path,
    Type,
    KeyId,
    Tier,
    DataType,
    Label,
    Tag(String),
}

/// A checked filter.
#[derive(Debug, Clone)]
pub struct Filter {
    key: FilterKey,
    option: String,
    values: Vec<String>,
}

fn invalid_key(key: &str, valid: &str) -> ApiError {
    ApiError::new(
        "InvalidFilterKey",
        400,
        format!(
            "The following filter key is not valid: {key}. Valid filter keys include: [{valid}]."
        ),
    )
}

fn invalid_option(option: &str, valid: &str) -> ApiError {
    ApiError::new(
        "InvalidFilterOption",
        400,
        format!(
            "The following filter option is not valid: {option}. Valid options include: [{valid}]."
        ),
    )
}

fn invalid_value(value: &str, valid: &str) -> ApiError {
    ApiError::new(
        "InvalidFilterValue",
        400,
        format!(
            "The following filter value is not valid: {value}. Valid values include: [{valid}]."
        ),
    )
}

/// Check `ParameterFilters`; `by_path` restricts the keys to GetParametersByPath's.
pub fn parse(raw: &[RawFilter], by_path: bool) -> Result<Vec<Filter>, ApiError> {
    let valid_keys = if by_path {
        "Type, KeyId, Label, tag:"
    } else {
        "Name, Path, Type, KeyId, Tier, DataType, Label, tag:"
    };
    let mut out = Vec::with_capacity(raw.len());
    for f in raw {
        let key_s = f.key.as_deref().unwrap_or("");
        let key = match key_s {
            "Name" if !by_path => FilterKey::Name,
            "Path" if !by_path => FilterKey::Path,
            "Tier" if !by_path => FilterKey::Tier,
            "DataType" if !by_path => FilterKey::DataType,
            "Type" => FilterKey::Type,
            "KeyId" => FilterKey::KeyId,
            "Label" => FilterKey::Label,
            k if k.starts_with("tag:") && k.len() > 4 => FilterKey::Tag(k[4..].to_string()),
            k => return Err(invalid_key(k, valid_keys)),
        };
        let values = f.values.clone().unwrap_or_default();
        if values.is_empty() && !matches!(key, FilterKey::Tag(_)) {
            return Err(invalid_value(
                "null",
                &format!("at least one value for filter key {key_s}"),
            ));
        }
        if values.len() > 50 {
            return Err(ApiError::new(
                "InvalidFilterValue",
                400,
                format!("A filter of key {key_s} can have at most 50 values."),
            ));
        }
        let (default, valid): (&str, &[&str]) = match key {
            FilterKey::Name => ("Equals", &["Equals", "BeginsWith", "Contains"]),
            FilterKey::Path => ("OneLevel", &["Recursive", "OneLevel"]),
            _ => ("Equals", &["Equals"]),
        };
        let option = f.option.clone().unwrap_or_else(|| default.to_string());
        if !valid.contains(&option.as_str()) {
            return Err(invalid_option(&option, &valid.join(", ")));
        }
        match &key {
            FilterKey::Type => check_values(&values, &["String", "StringList", "SecureString"])?,
            FilterKey::Tier => {
                check_values(&values, &["Standard", "Advanced", "Intelligent-Tiering"])?
            }
            FilterKey::Path => {
                for v in &values {
                    check_path(v).map_err(|e| {
                        ApiError::new("InvalidFilterValue", 400, e.message.unwrap_or_default())
                    })?;
                }
            }
            _ => {}
        }
        out.push(Filter {
            key,
            option,
            values,
        });
    }
    Ok(out)
}

fn check_values(values: &[String], valid: &[&str]) -> Result<(), ApiError> {
    match values.iter().find(|v| !valid.contains(&v.as_str())) {
        Some(v) => Err(invalid_value(v, &valid.join(", "))),
        None => Ok(()),
    }
}

/// Turn old-style `Filters` into checked filters (keys `Name`, `Type`, `KeyId`; `Name`
/// matches by prefix).
pub fn parse_old(raw: &[RawOldFilter]) -> Result<Vec<Filter>, ApiError> {
    let mut out = Vec::with_capacity(raw.len());
    for f in raw {
        let key_s = f.key.as_deref().unwrap_or("");
        let (key, option) = match key_s {
            "Name" => (FilterKey::Name, "BeginsWith"),
            "Type" => (FilterKey::Type, "Equals"),
            "KeyId" => (FilterKey::KeyId, "Equals"),
            k => return Err(invalid_key(k, "Name, Type, KeyId")),
        };
        let values = f.values.clone().unwrap_or_default();
        if values.is_empty() {
            return Err(invalid_value("null", "at least one value"));
        }
        if key == FilterKey::Type {
            check_values(&values, &["String", "StringList", "SecureString"])?;
        }
        out.push(Filter {
            key,
            option: option.to_string(),
            values,
        });
    }
    Ok(out)
}

/// One page of the latest versions (in name order, after the token's name `after`) that `keep`
/// accepts and pass `filters`, at most `limit`, each rendered by `shape`: the reply of
/// DescribeParameters and GetParametersByPath, `{"Parameters": [...], "NextToken"}`.
pub fn page(
    api: &SsmApi,
    filters: &[Filter],
    after: Option<&str>,
    limit: usize,
    keep: impl Fn(&StoredVersion) -> bool,
    mut shape: impl FnMut(&StoredVersion) -> Result<Shape, ApiError>,
) -> Result<Shape, ApiError> {
    let want_tags = needs_tags(filters);
    let mut page: Vec<(String, Shape)> = Vec::new();
    let mut next = None;
    for rec in api.store.all_latest(after).map_err(internal)? {
        if !keep(&rec) {
            continue;
        }
        let tags = if want_tags {
            api.store.tags(&rec.name).map_err(internal)?
        } else {
            Vec::new()
        };
        if !matches(filters, &rec, &tags) {
            continue;
        }
        if page.len() == limit {
            next = page.last().map(|(n, _)| make_token(n));
            break;
        }
        let s = shape(&rec)?;
        page.push((rec.name.clone(), s));
    }
    Ok(Shape::obj()
        .with(
            "Parameters",
            Shape::List(page.into_iter().map(|(_, s)| s).collect()),
        )
        .with_opt("NextToken", next))
}

/// `true` when any filter needs the parameter's tags.
pub fn needs_tags(filters: &[Filter]) -> bool {
    filters.iter().any(|f| matches!(f.key, FilterKey::Tag(_)))
}

/// `true` when `rec` (with `tags`) passes every filter.
pub fn matches(filters: &[Filter], rec: &StoredVersion, tags: &[(String, String)]) -> bool {
    filters.iter().all(|f| one(f, rec, tags))
}

fn one(f: &Filter, rec: &StoredVersion, tags: &[(String, String)]) -> bool {
    let any = |s: &str| f.values.iter().any(|v| v == s);
    match &f.key {
        FilterKey::Name => {
            // Names are matched as given and, for hierarchical values, without the slash.
            let name = rec.name.as_str();
            f.values.iter().any(|v| {
                let v = v.as_str();
                let test = |n: &str| match f.option.as_str() {
                    "BeginsWith" => n.starts_with(v),
                    "Contains" => n.contains(v),
                    _ => n == v,
                };
                test(name) || test(name.trim_start_matches('/'))
            })
        }
        FilterKey::Path => f
            .values
            .iter()
            .any(|p| super::common::under_path(&rec.name, p, f.option == "Recursive")),
        FilterKey::Type => any(&rec.ptype),
        FilterKey::KeyId => rec.key_id.as_deref().is_some_and(any),
        FilterKey::Tier => any(&rec.tier),
        FilterKey::DataType => any(&rec.data_type),
        FilterKey::Label => false,
        FilterKey::Tag(k) => tags
            .iter()
            .any(|(tk, tv)| tk == k && (f.values.is_empty() || any(tv))),
    }
}
