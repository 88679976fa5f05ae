//! The collector's own lifecycle events, put on the default bus like any other event (so rules,
//! archives and replays see them).
//!
//! Envelope as for PutEvents; `source` is [`SOURCE`], `resources` is empty:
//! - `Collector Started`, once the listener is bound:
//!   `detail = {"collectorVersion": "0.1.0", "pid": 1234, "endpoint": "http://127.0.0.1:4590"}`;
//! - `Collector Stopping`, on SIGTERM/SIGINT after the API stopped serving:
//!   `detail = {"collectorVersion": "0.1.0", "pid": 1234, "uptimeSeconds": 3600}`.
//!
//! The stopping event is committed before the delivery loop's last round, which delivers it
//! when its targets answer within the shutdown grace; otherwise it stays queued and is
//! delivered after the next start (the queue is durable).

use serde_json::{json, Value};

use super::model::DEFAULT_BUS;
use super::EventService;
use crate::alarms::events::uuid_v4;
use crate::alarms::timefmt::event_time;
use crate::store::StoreError;

/// `source` of the lifecycle events.
pub const SOURCE: &str = "hostwatch.collector";
/// `detail-type` when the collector has started.
pub const STARTED: &str = "Collector Started";
/// `detail-type` when the collector is stopping.
pub const STOPPING: &str = "Collector Stopping";

impl EventService {
    /// The envelope of a lifecycle event at the clock's current time.
    pub fn lifecycle_event(&self, detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": uuid_v4(),
            "detail-type": detail_type,
            "source": SOURCE,
            "account": self.account(),
            "time": event_time(self.clock().now_ms()),
            "region": self.region(),
            "resources": [],
            "detail": detail,
        })
    }

    /// Put `Collector Started` on the default bus.
    pub async fn collector_started(&self, endpoint: &str) -> Result<(), StoreError> {
        let event = self.lifecycle_event(
            STARTED,
            json!({
                "collectorVersion": env!("CARGO_PKG_VERSION"),
                "pid": std::process::id(),
                "endpoint": endpoint,
            }),
        );
        self.put_events(DEFAULT_BUS, &[event]).await
    }

    /// Put `Collector Stopping` on the default bus.
    pub async fn collector_stopping(&self, uptime_s: i64) -> Result<(), StoreError> {
        let event = self.lifecycle_event(
            STOPPING,
            json!({
                "collectorVersion": env!("CARGO_PKG_VERSION"),
                "pid": std::process::id(),
                "uptimeSeconds": uptime_s,
            }),
        );
        self.put_events(DEFAULT_BUS, &[event]).await
    }
}
