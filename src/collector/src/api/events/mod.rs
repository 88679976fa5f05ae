//! EventBridge API (awsJson 1.1, target prefix `AWSEvents`).
//!
//! One file per concern: [`buses`], [`rules`], [`targets`], [`put_events`] (PutEvents and
//! TestEventPattern), [`archives`], [`replays`], with [`common`] input helpers and error
//! shapes. The state and the
//! delivery machinery are in [`crate::events`]. Every client error is HTTP 400 with an AWS
//! `__type` and AWS's message text.

mod archives;
mod buses;
mod common;
mod put_events;
mod replays;
mod rules;
mod targets;

#[cfg(test)]
mod archive_tests;
#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod tests;

use hostwatch_aws::{ApiError, Shape};
use std::sync::Arc;

use super::RequestContext;
use crate::events::model::RuleState;
use crate::events::EventService;

/// The EventBridge service API.
#[derive(Debug, Clone)]
pub struct EventsApi {
    service: Arc<EventService>,
}

impl EventsApi {
    /// Serve the API of `service`.
    pub fn new(service: Arc<EventService>) -> Self {
        EventsApi { service }
    }

    /// The event service.
    pub fn service(&self) -> &Arc<EventService> {
        &self.service
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

    /// Handle one operation.
    pub async fn handle(
        &self,
        op: &str,
        input: serde_json::Value,
        ctx: &RequestContext,
    ) -> Result<Option<Shape>, ApiError> {
        let now = ctx.now_ms;
        match op {
            "CreateEventBus" => buses::create(self, input, now).await,
            "DeleteEventBus" => buses::delete(self, input).await,
            "DescribeEventBus" => buses::describe(self, input),
            "ListEventBuses" => buses::list(self, input),
            "PutRule" => rules::put(self, input, now).await,
            "DescribeRule" => rules::describe(self, input),
            "ListRules" => rules::list(self, input),
            "ListRuleNamesByTarget" => rules::names_by_target(self, input),
            "EnableRule" => rules::set_state(self, input, RuleState::Enabled).await,
            "DisableRule" => rules::set_state(self, input, RuleState::Disabled).await,
            "DeleteRule" => rules::delete(self, input).await,
            "PutTargets" => targets::put(self, input).await,
            "RemoveTargets" => targets::remove(self, input).await,
            "ListTargetsByRule" => targets::list(self, input),
            "PutEvents" => put_events::put_events(self, input, now).await,
            "TestEventPattern" => put_events::test_event_pattern(input),
            "CreateArchive" => archives::create(self, input, now).await,
            "DescribeArchive" => archives::describe(self, input),
            "ListArchives" => archives::list(self, input),
            "UpdateArchive" => archives::update(self, input).await,
            "DeleteArchive" => archives::delete(self, input).await,
            "StartReplay" => replays::start(self, input, now).await,
            "DescribeReplay" => replays::describe(self, input),
            "ListReplays" => replays::list(self, input),
            "CancelReplay" => replays::cancel(self, input).await,
            _ => Err(super::unknown_operation("AWSEvents", op, false)),
        }
    }
}
