//! PutParameter.
//!
//! Checks in AWS's order as far as it is known: input shape (`name`, `value`, `type`, `tier`,
//! lengths), the name rules ([`super::common::check_name`]), tags with `Overwrite`, policies,
//! data type, the allowed pattern and the value against it, the tier's value size (Standard
//! 4 KB, Advanced 8 KB, counted in bytes), then, inside the store's transaction, existence
//! (`ParameterAlreadyExists`), the type required on create, no downgrade from Advanced, and the
//! per-tier parameter count (`ParameterLimitExceeded`). On overwrite, a member not given
//! (`Type`, `Description`, `AllowedPattern`, `KeyId`, `Tier`, `DataType`) keeps its current
//! value; tags are set only on create.

use hostwatch_aws::{ApiError, Shape};
use serde::Deserialize;

use super::common::{check_name, constraint, internal, validation};
use super::{RequestContext, SsmApi};
use crate::api::parse_input;
use crate::store::ssm::{PutPlan, StoredVersion, TierCounts};

const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;
const DEFAULT_KEY: &str = "alias/aws/ssm";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Input {
    name: Option<String>,
    value: Option<String>,
    #[serde(rename = "Type")]
    ptype: Option<String>,
    description: Option<String>,
    key_id: Option<String>,
    overwrite: Option<bool>,
    allowed_pattern: Option<String>,
    tags: Option<Vec<Tag>>,
    tier: Option<String>,
    policies: Option<String>,
    data_type: Option<String>,
}

fn not_null(at: &str) -> ApiError {
    validation(format!(
        "1 validation error detected: Value null at '{at}' failed to satisfy constraint: Member \
         must not be null"
    ))
}

fn standard_too_big() -> ApiError {
    validation(
        "Standard tier parameters support a maximum parameter value of 4096 characters. To \
         create a larger parameter value, upgrade the parameter to use the advanced-parameter \
         tier. For more information, see \
         https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
    )
}

/// PutParameter.
pub fn put_parameter(
    api: &SsmApi,
    input: serde_json::Value,
    ctx: &RequestContext,
) -> Result<Option<Shape>, ApiError> {
    let input: Input = parse_input(input, false)?;
    let name = input
        .name
        .as_deref()
        .ok_or_else(|| not_null("name"))?
        .trim();
    let value = input.value.as_deref().ok_or_else(|| not_null("value"))?;
    if value.is_empty() {
        return Err(constraint(
            value,
            "value",
            "Member must have length greater than or equal to 1.",
        ));
    }
    if let Some(t) = &input.ptype {
        if !matches!(t.as_str(), "String" | "StringList" | "SecureString") {
            return Err(constraint(
                t,
                "type",
                "Member must satisfy enum value set: [SecureString, StringList, String]",
            ));
        }
    }
    if let Some(t) = &input.tier {
        if !matches!(t.as_str(), "Standard" | "Advanced" | "Intelligent-Tiering") {
            return Err(constraint(
                t,
                "tier",
                "Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]",
            ));
        }
    }
    if let Some(d) = &input.description {
        if d.chars().count() > 1024 {
            return Err(constraint(
                d,
                "description",
                "Member must have length less than or equal to 1024",
            ));
        }
    }
    if let Some(p) = &input.allowed_pattern {
        if p.chars().count() > 1024 {
            return Err(constraint(
                p,
                "allowedPattern",
                "Member must have length less than or equal to 1024",
            ));
        }
    }
    if let Some(k) = &input.key_id {
        let ok = !k.is_empty()
            && k.len() <= 256
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'));
        if !ok {
            return Err(constraint(
                k,
                "keyId",
                "Member must satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$",
            ));
        }
    }
    if value.len() > ADVANCED_MAX {
        return Err(constraint(
            "******",
            "value",
            "Member must have length less than or equal to 8192",
        ));
    }
    check_name(name, &ctx.region, &ctx.account_id)?;
    let overwrite = input.overwrite.unwrap_or(false);
    let tags = input.tags.unwrap_or_default();
    if !tags.is_empty() && overwrite {
        return Err(validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter \
             with tags, please remove overwrite flag. To update tags for an existing parameter, \
             please use AddTagsToResource or RemoveTagsFromResource.",
        ));
    }
    if tags.len() > 1000 {
        return Err(constraint(
            "tags",
            "tags",
            "Member must have length less than or equal to 1000",
        ));
    }
    let mut tag_pairs = Vec::with_capacity(tags.len());
    for t in tags {
        let key = t.key.ok_or_else(|| not_null("tags.member.key"))?;
        let value = t.value.ok_or_else(|| not_null("tags.member.value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(constraint(
                &key,
                "tags.member.key",
                "Member must have length between 1 and 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(constraint(
                &value,
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
        tag_pairs.push((key, value));
    }
    if input.policies.is_some() {
        return Err(ApiError::new(
            "InvalidPolicyTypeException",
            400,
            "Parameter policies are not supported by this Parameter Store.",
        ));
    }
    if let Some(dt) = &input.data_type {
        if !matches!(
            dt.as_str(),
            "text" | "aws:ec2:image" | "aws:ssm:integration"
        ) {
            return Err(validation(format!(
                "The following data type is not supported: {dt} (Data type names are all \
                 lowercase.)"
            )));
        }
    }
    let pattern = match &input.allowed_pattern {
        Some(p) if !p.is_empty() => {
            Some(regex::Regex::new(&format!("^(?:{p})$")).map_err(|_| {
                ApiError::new(
                    "InvalidAllowedPatternException",
                    400,
                    "The request does not meet the regular expression requirement.",
                )
            })?)
        }
        _ => None,
    };
    if let (Some(re), Some(p)) = (&pattern, &input.allowed_pattern) {
        if !re.is_match(value) {
            return Err(mismatch(p));
        }
    }
    if input.tier.as_deref() == Some("Standard") && value.len() > STANDARD_MAX {
        return Err(standard_too_big());
    }
    let user = format!(
        "arn:aws:iam::{}:user/{}",
        ctx.account_id, ctx.identity.access_key_id
    );
    let limits = api.limits;
    let key = api.key.clone();
    let decided = api
        .store
        .put(
            name,
            |current: Option<&StoredVersion>, counts: TierCounts| {
                if current.is_some() && !overwrite {
                    return Err(ApiError::new(
                        "ParameterAlreadyExists",
                        400,
                        "The parameter already exists. To overwrite this value, set the overwrite \
                     option in the request to true.",
                    ));
                }
                let ptype = match (&input.ptype, current) {
                    (Some(t), _) => t.clone(),
                    (None, Some(c)) => c.ptype.clone(),
                    (None, None) => {
                        return Err(validation(
                            "A parameter type is required when you create a parameter.",
                        ))
                    }
                };
                if input.key_id.is_some() && ptype != "SecureString" {
                    return Err(validation(
                        "KeyId is required for SecureString type parameter only.",
                    ));
                }
                let current_advanced = current.is_some_and(|c| c.tier == "Advanced");
                let tier = match input.tier.as_deref() {
                    Some("Standard") if current_advanced => return Err(validation(
                        "This parameter uses the advanced-parameter tier. You can't downgrade a \
                         parameter from the advanced-parameter tier to the standard-parameter \
                         tier. If necessary, you can delete the advanced parameter and recreate \
                         it as a standard parameter.",
                    )),
                    Some("Advanced") => "Advanced",
                    Some("Standard") => "Standard",
                    _ if current_advanced || value.len() > STANDARD_MAX => {
                        if input.tier.is_none() && !current_advanced {
                            return Err(standard_too_big());
                        }
                        "Advanced"
                    }
                    _ => "Standard",
                };
                let was_advanced = current_advanced;
                let adding_standard = current.is_none() && tier == "Standard";
                let adding_advanced = tier == "Advanced" && !was_advanced;
                if (adding_standard && counts.standard >= limits.standard)
                    || (adding_advanced && counts.advanced >= limits.advanced)
                {
                    return Err(ApiError::new(
                        "ParameterLimitExceeded",
                        400,
                        "You have exceeded the number of parameters for this AWS account. Delete \
                     unnecessary parameters and try again.",
                    ));
                }
                let allowed_pattern = input
                    .allowed_pattern
                    .clone()
                    .or_else(|| current.and_then(|c| c.allowed_pattern.clone()))
                    .filter(|p| !p.is_empty());
                if input.allowed_pattern.is_none() {
                    if let Some(p) = &allowed_pattern {
                        let ok = regex::Regex::new(&format!("^(?:{p})$"))
                            .map(|re| re.is_match(value))
                            .unwrap_or(false);
                        if !ok {
                            return Err(mismatch(p));
                        }
                    }
                }
                let key_id = if ptype == "SecureString" {
                    Some(
                        input
                            .key_id
                            .clone()
                            .or_else(|| current.and_then(|c| c.key_id.clone()))
                            .unwrap_or_else(|| DEFAULT_KEY.to_string()),
                    )
                } else {
                    None
                };
                let stored_value = if ptype == "SecureString" {
                    key.seal(name, value).map_err(internal)?
                } else {
                    value.to_string()
                };
                Ok(PutPlan {
                    record: StoredVersion {
                        name: name.to_string(),
                        version: 0,
                        ptype,
                        value: stored_value,
                        description: input
                            .description
                            .clone()
                            .or_else(|| current.and_then(|c| c.description.clone())),
                        allowed_pattern,
                        key_id,
                        tier: tier.to_string(),
                        data_type: input
                            .data_type
                            .clone()
                            .or_else(|| current.map(|c| c.data_type.clone()))
                            .unwrap_or_else(|| "text".to_string()),
                        modified_ms: ctx.now_ms,
                        modified_user: user.clone(),
                    },
                    tags: current.is_none().then(|| tag_pairs.clone()),
                })
            },
        )
        .map_err(internal)?;
    let version = decided?;
    let tier = api
        .store
        .version(name, version)
        .map_err(internal)?
        .map(|v| v.tier)
        .unwrap_or_else(|| "Standard".to_string());
    Ok(Some(
        Shape::obj().with("Version", version).with("Tier", tier),
    ))
}

fn mismatch(pattern: &str) -> ApiError {
    ApiError::new(
        "ParameterPatternMismatchException",
        400,
        format!("Parameter value, cannot be validated against allowedPattern: {pattern}"),
    )
}
