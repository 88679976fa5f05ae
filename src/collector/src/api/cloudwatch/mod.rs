//! CloudWatch (metrics) API.

use hostwatch_aws::{ApiError, Shape};
use std::path::Path;

use super::RequestContext;
use crate::clock::SharedClock;
use crate::store::StoreError;

/// The CloudWatch service: its store and handlers.
#[derive(Debug)]
pub struct CloudWatchApi {
    _clock: SharedClock,
}

impl CloudWatchApi {
    /// Open (or create) the metric store under `data_dir`.
    pub fn open(_data_dir: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        Ok(CloudWatchApi { _clock: clock })
    }

    /// Handle one operation.
    pub async fn handle(
        &self,
        op: &str,
        _input: serde_json::Value,
        _ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        Err(super::unknown_operation(
            "GraniteServiceVersion20100801",
            op,
            true,
        ))
    }
}
