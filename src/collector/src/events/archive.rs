//! Archives: which events go in (see [`super::ArchiveEntry::takes`]) and retention.
//!
//! An archive belongs to one bus. Every event accepted on that bus that matches the archive's
//! pattern (every event when it has none) is stored in `events.db` (table `archived`, see
//! [`crate::store::events`]) in the same transaction as the event's deliveries, whether or not
//! a rule matched; replayed events (those carrying `replay-name`) are never archived, as with
//! EventBridge. An archived event keeps its envelope (its `id` too); its event time (the
//! envelope's `time`) orders replays and selects their window. `Scheduled Event`s are not
//! archived (they go from a schedule straight to its rule's targets, not through a bus). An
//! archive outlives a deleted bus (its events stay readable; a replay of it then fails).
//!
//! Retention: an archive with `RetentionDays` > 0 loses events stored more than that many days
//! ago. The delivery loop sweeps every [`SWEEP_EVERY_MS`] on the injected clock; the counters
//! (`EventCount`, `SizeBytes`) follow in the same transaction.

use serde_json::Value;

use super::EventService;
use crate::store::events::Job;
use crate::store::StoreError;

/// How often the retention sweep runs, ms.
pub const SWEEP_EVERY_MS: i64 = 60_000;
/// One day, ms.
const DAY_MS: i64 = 86_400_000;

/// The envelope's `time` in ms, when it is an RFC 3339 time.
pub fn event_time_ms(event: &Value) -> Option<i64> {
    let t = event.get("time")?.as_str()?;
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.timestamp_millis())
}

impl EventService {
    /// Delete archived events older than their archive's retention at `now`.
    pub async fn sweep_archives(&self, now: i64) -> Result<(), StoreError> {
        let cutoffs: Vec<(String, i64)> = self.with_config(|c| {
            c.archives
                .values()
                .filter(|a| a.archive.retention_days > 0)
                .map(|a| {
                    let keep = i64::from(a.archive.retention_days).saturating_mul(DAY_MS);
                    (a.archive.name.clone(), now.saturating_sub(keep))
                })
                .collect()
        });
        if cutoffs.is_empty() {
            return Ok(());
        }
        self.store().submit(Job::Sweep(cutoffs)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_times() {
        assert_eq!(
            event_time_ms(&json!({"time": "2023-11-14T22:13:20Z"})),
            Some(1_700_000_000_000)
        );
        assert_eq!(event_time_ms(&json!({"time": "yesterday"})), None);
        assert_eq!(event_time_ms(&json!({})), None);
    }
}
