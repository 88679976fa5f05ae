//! CloudWatch Logs API.

use hostwatch_aws::{ApiError, Shape};
use std::path::Path;

use super::RequestContext;
use crate::clock::SharedClock;
use crate::store::StoreError;

/// The CloudWatch Logs service: its store and handlers.
#[derive(Debug)]
pub struct LogsApi {
    _clock: SharedClock,
}

impl LogsApi {
    /// Open (or create) the log store under `data_dir`.
    pub fn open(_data_dir: &Path, clock: SharedClock) -> Result<Self, StoreError> {
        Ok(LogsApi { _clock: clock })
    }

    /// Handle one operation.
    pub async fn handle(
        &self,
        op: &str,
        _input: serde_json::Value,
        _ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        Err(super::unknown_operation("Logs_20140328", op, false))
    }
}
