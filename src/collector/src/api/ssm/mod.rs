//! SSM Parameter Store API (awsJson 1.1, target prefix `AmazonSSM`): what the CloudWatch agent
//! and its `ctl` need to keep agent configs centrally, and what operators use to put them.
//!
//! One file per concern: [`put`] (PutParameter), [`get`] (GetParameter, GetParameters,
//! GetParametersByPath, GetParameterHistory), [`describe`] (DescribeParameters),
//! [`delete`] (DeleteParameter, DeleteParameters), [`filters`] (ParameterFilters), [`common`]
//! (names, selectors, ARNs, errors, page tokens) and [`crypto`] (SecureString sealing). Data
//! lives in [`crate::store::ssm`]; store calls block, so every operation runs on a blocking
//! thread. Every client error is HTTP 400 with AWS's `__type` and message text.
//!
//! Not modelled: parameter labels (`LabelParameterVersion`; a `name:label` selector finds no
//! version), parameter policies (refused), KMS (one collector key seals every SecureString;
//! `KeyId` is recorded and reported), public `/aws/service/...` parameters, `Shared`.

pub mod common;
pub mod crypto;
mod delete;
mod describe;
mod filters;
mod get;
mod put;

#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use std::path::Path;
use std::sync::Arc;

use super::RequestContext;
use crate::store::ssm::{SsmStore, StoredVersion};
use crate::store::StoreError;
use crypto::SecretKey;

/// Parameter counts AWS allows per account and region.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub standard: i64,
    pub advanced: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            standard: 10_000,
            advanced: 100_000,
        }
    }
}

/// The Parameter Store API.
#[derive(Debug, Clone)]
pub struct SsmApi {
    store: Arc<SsmStore>,
    key: Arc<SecretKey>,
    limits: Limits,
}

impl SsmApi {
    /// Open `ssm.db` and the SecureString key (created on first start) under `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(SsmApi {
            store: Arc::new(SsmStore::open(dir)?),
            key: Arc::new(SecretKey::load_or_create(dir)?),
            limits: Limits::default(),
        })
    }

    /// Replace the parameter count limits (tests).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Handle one operation from its raw awsJson body (an empty body is `{}`).
    pub async fn handle_body(
        &self,
        op: &str,
        body: &[u8],
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        let input = super::parse_json_body(body, false)?;
        self.handle(op, input, ctx).await
    }

    /// Handle one operation (on a blocking thread: the store is synchronous).
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        let api = self.clone();
        let op = op.to_string();
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || api.handle_blocking(&op, input, &ctx))
            .await
            .map_err(|e| {
                ApiError::new("InternalServerError", 500, format!("Internal error: {e}"))
            })?
    }

    /// Handle one operation on the calling thread.
    pub fn handle_blocking(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        match op {
            "PutParameter" => put::put_parameter(self, input, ctx),
            "GetParameter" => get::get_parameter(self, input, ctx),
            "GetParameters" => get::get_parameters(self, input, ctx),
            "GetParametersByPath" => get::get_parameters_by_path(self, input, ctx),
            "GetParameterHistory" => get::get_parameter_history(self, input),
            "DescribeParameters" => describe::describe_parameters(self, input, ctx),
            "DeleteParameter" => delete::delete_parameter(self, input),
            "DeleteParameters" => delete::delete_parameters(self, input),
            _ => Err(super::unknown_operation("AmazonSSM", op, false)),
        }
    }

    /// The value to answer: SecureStrings stay sealed unless `decrypt`.
    fn value_of(&self, rec: &StoredVersion, decrypt: bool) -> Result<String, ApiError> {
        if rec.ptype == "SecureString" && decrypt {
            self.key
                .open(&rec.name, &rec.value)
                .map_err(|e| ApiError::new("InternalServerError", 500, e.to_string()))
        } else {
            Ok(rec.value.clone())
        }
    }

    /// The `Parameter` shape of a stored version.
    fn parameter_shape(
        &self,
        rec: &StoredVersion,
        decrypt: bool,
        selector: Option<String>,
        ctx: &RequestContext,
    ) -> Result<Shape, ApiError> {
        Ok(Shape::obj()
            .with("Name", rec.name.as_str())
            .with("Type", rec.ptype.as_str())
            .with("Value", self.value_of(rec, decrypt)?)
            .with("Version", rec.version)
            .with_opt("Selector", selector)
            .with("LastModifiedDate", Shape::Timestamp(rec.modified_ms))
            .with("ARN", common::arn(&ctx.region, &ctx.account_id, &rec.name))
            .with("DataType", rec.data_type.as_str()))
    }
}
