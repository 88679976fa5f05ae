//! The background task that runs evaluation rounds on the injected clock.
//!
//! It sleeps until the next multiple of 10 s by the clock (in steps of at most a second, so a
//! clock that jumps is noticed), runs that round on the blocking pool, and repeats; after a
//! pause (a stopped process, a clock jump) it runs the current round only, never the missed
//! ones. Pending events are delivered when it starts and after every commit, so a publisher
//! that failed gets them again at the next round at the latest.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::round::ROUND_MS;
use super::AlarmService;

/// Longest single sleep, so a clock that is set (tests, jumps) is noticed soon.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// A running scheduler; stop it with [`Scheduler::stop`].
#[derive(Debug)]
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Scheduler {
    /// Ask the task to stop and wait for it (a round in progress completes first).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl AlarmService {
    /// Start the round loop on the current tokio runtime.
    pub fn start(self: &Arc<Self>) -> Scheduler {
        let (stop, mut stopped) = watch::channel(false);
        let service = self.clone();
        let task = tokio::spawn(async move {
            let s = service.clone();
            let mut last = tokio::task::spawn_blocking(move || {
                s.deliver();
                s.last_round_ms()
            })
            .await
            .unwrap_or(0);
            loop {
                let now = service.clock.now_ms();
                let next = (now.div_euclid(ROUND_MS) + 1) * ROUND_MS;
                let wait =
                    Duration::from_millis(u64::try_from(next - now).unwrap_or(0)).min(MAX_SLEEP);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => break,
                }
                let now = service.clock.now_ms();
                let round = now.div_euclid(ROUND_MS) * ROUND_MS;
                if round <= last {
                    continue;
                }
                let s = service.clone();
                match tokio::task::spawn_blocking(move || s.run_round(round)).await {
                    Ok(Ok(stats)) => {
                        last = round;
                        tracing::debug!(round, ?stats, "Alarm round done.");
                    }
                    Ok(Err(e)) => tracing::error!(round, error = %e, "Alarm round failed."),
                    Err(e) => tracing::error!(round, error = %e, "Alarm round panicked."),
                }
                if *stopped.borrow() {
                    break;
                }
            }
        });
        Scheduler { stop, task }
    }
}
