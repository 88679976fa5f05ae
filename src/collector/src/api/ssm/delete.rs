//! DeleteParameter, DeleteParameters (every version and the tags go; a name put again starts
//! at version 1).

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{self, internal, not_found};
use super::get::check_names_list;
use super::SsmApi;
use crate::api::parse_input;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OneInput {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManyInput {
    names: Option<Vec<String>>,
}

fn not_null(at: &str) -> ApiError {
    common::validation(format!(
        "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member \
         must not be null"
    ))
}

/// DeleteParameter.
pub fn delete_parameter(api: &SsmApi, input: serde_json::Value) -> Result<Option<Shape>, ApiError> {
    let input: OneInput = parse_input(input, false)?;
    let name = input.name.ok_or_else(|| not_null("name"))?;
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(common::constraint(
            &name,
            "name",
            "Member must have length greater than or equal to 1",
        ));
    }
    let deleted = api.store.delete(&[name]).map_err(internal)?;
    if deleted.first().copied().unwrap_or(false) {
        Ok(Some(Shape::obj()))
    } else {
        Err(not_found())
    }
}

/// DeleteParameters: up to 10 names; those that did not exist come back in
/// `InvalidParameters`.
pub fn delete_parameters(
    api: &SsmApi,
    input: serde_json::Value,
) -> Result<Option<Shape>, ApiError> {
    let input: ManyInput = parse_input(input, false)?;
    let names = input.names.ok_or_else(|| not_null("names"))?;
    check_names_list(&names)?;
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    let results = api.store.delete(&unique).map_err(internal)?;
    let mut deleted = Vec::new();
    let mut invalid = Vec::new();
    for (name, existed) in unique.into_iter().zip(results) {
        if existed {
            deleted.push(Shape::from(name));
        } else {
            invalid.push(Shape::from(name));
        }
    }
    Ok(Some(
        Shape::obj()
            .with("DeletedParameters", Shape::List(deleted))
            .with("InvalidParameters", Shape::List(invalid)),
    ))
}
