//! Replays: archived events put back on their bus, in the background.
//!
//! A replay is created `STARTING` by StartReplay. Each delivery-loop tick advances every
//! active replay by up to [`REPLAY_BATCH`] archived events, in event-time order (ties by
//! archive order) from the replay's cursor, within `[EventStartTime, EventEndTime]` (both
//! included). Each event gets a new `id` and `replay-name` (as EventBridge sets them), is
//! matched against the enabled rules of the bus (only the rules named in `FilterArns` when
//! given) and its deliveries go through the durable delivery queue. A batch's deliveries and
//! the replay's new cursor, state and `EventLastReplayedTime` commit in one transaction: a
//! replay interrupted by a restart resumes where it stopped, repeating and skipping nothing.
//!
//! States: `STARTING` until the first batch, `RUNNING` while batches remain, `COMPLETED` when a
//! batch comes back short. CancelReplay moves `STARTING`/`RUNNING` to `CANCELLING`; the next
//! tick makes it `CANCELLED` (events already queued are still delivered). A replay whose
//! archive or bus was deleted meanwhile ends `FAILED` with the reason in `StateReason`.

use serde_json::Value;

use super::model::{Delivery, Replay, ReplayState};
use super::EventService;
use crate::alarms::events::uuid_v4;
use crate::store::events::Batch;
use crate::store::StoreError;

/// Archived events replayed per tick and replay.
pub const REPLAY_BATCH: usize = 256;
/// Most replays active at once (AWS's quota per account and region).
pub const MAX_ACTIVE_REPLAYS: usize = 10;

impl EventService {
    /// The deliveries of a replayed event: the matching rules of the replay's bus, restricted
    /// to its `FilterArns` when given.
    fn route_replayed(&self, r: &Replay, event: &Value, now: i64) -> Vec<Delivery> {
        let mut out = self.route(&r.bus, event, now, 0);
        if !r.filter_arns.is_empty() {
            out.retain(|d| r.filter_arns.contains(&d.rule_arn));
        }
        out
    }

    /// Advance every active replay by one batch; returns the number of events replayed.
    pub(super) async fn run_replays(&self, now: i64) -> Result<usize, StoreError> {
        let names: Vec<String> = self.with_replays(|m| {
            m.values()
                .filter(|r| r.state.active())
                .map(|r| r.name.clone())
                .collect()
        });
        let mut replayed = 0;
        for name in names {
            let _ddl = self.ddl().await;
            let Some(mut r) = self.with_replays(|m| m.get(&name).cloned()) else {
                continue;
            };
            if !r.state.active() {
                continue;
            }
            if r.state == ReplayState::Cancelling {
                r.state = ReplayState::Cancelled;
                r.replay_end_ms = Some(now);
                self.save_replay(r).await?;
                continue;
            }
            let missing = self.with_config(|c| {
                if !c.archives.contains_key(&r.archive) {
                    Some(format!("Archive {} does not exist.", r.archive))
                } else if !c.bus_exists(&r.bus) {
                    Some(format!("Event bus {} does not exist.", r.bus))
                } else {
                    None
                }
            });
            if let Some(reason) = missing {
                r.state = ReplayState::Failed;
                r.state_reason = Some(reason);
                r.replay_end_ms = Some(now);
                self.save_replay(r).await?;
                continue;
            }
            let rows = self
                .store()
                .archived_after(&r.archive, r.cursor, r.end_ms, REPLAY_BATCH)?;
            let mut batch = Batch {
                next_ms: now,
                ..Batch::default()
            };
            for row in &rows {
                r.cursor = (row.event_ms, row.id);
                r.last_replayed_ms = Some(row.event_ms);
                let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(&row.body) else {
                    tracing::warn!(replay = r.name, row = row.id, "Archived event unreadable.");
                    continue;
                };
                event.insert("id".into(), Value::String(uuid_v4()));
                event.insert("replay-name".into(), Value::String(r.name.clone()));
                let event = Value::Object(event);
                batch
                    .deliveries
                    .extend(self.route_replayed(&r, &event, now));
            }
            replayed += rows.len();
            if rows.len() < REPLAY_BATCH {
                r.state = ReplayState::Completed;
                r.replay_end_ms = Some(now);
            } else {
                r.state = ReplayState::Running;
            }
            batch.replay = Some(r.clone());
            self.enqueue(batch).await?;
            self.remember_replay(r);
        }
        Ok(replayed)
    }
}
