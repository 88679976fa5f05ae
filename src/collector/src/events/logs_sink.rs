//! Log-group targets and dead-letter queues write through the collector's own Logs store.

use std::future::Future;
use std::pin::Pin;

use super::target::LogSink;
use crate::server::AppState;
use crate::store::logs::{AppendBatch, LogError};

impl LogSink for AppState {
    fn put<'a>(
        &'a self,
        group: &'a str,
        stream: &'a str,
        timestamp_ms: i64,
        message: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let store = self.logs.store();
            match store.create_stream(group, stream).await {
                Ok(()) | Err(LogError::StreamExists) => {}
                Err(LogError::GroupNotFound) => {
                    return Err(format!("log group {group} does not exist"))
                }
                Err(e) => return Err(e.to_string()),
            }
            let events = [(timestamp_ms, message)];
            store
                .append(AppendBatch {
                    group,
                    stream,
                    events: &events,
                    ingestion_time: self.clock.now_ms(),
                })
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
