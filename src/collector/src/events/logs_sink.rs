//! Log-group targets and dead-letter queues write through the collector's own Logs API: the
//! event is stored as PutLogEvents would store it, the group's metric filters count it and open
//! Live Tail sessions see it (subscription filters do not: see
//! [`crate::api::logs::LogsApi::append_delivered`]).

use std::future::Future;
use std::pin::Pin;

use super::target::LogSink;
use crate::server::AppState;

impl LogSink for AppState {
    fn put<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        timestamp_ms: i64,
        message: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            self.logs
                .append_delivered(group, stream, timestamp_ms, message)
                .await
        })
    }
}
