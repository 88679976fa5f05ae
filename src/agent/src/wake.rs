//! The daemon's wake-up timer: one wake of the process per collection tick.
//!
//! # Why not `tokio::time::sleep`
//!
//! The daemon sleeps until the next wall-clock-aligned tick (every plugin's next boundary, or
//! the next flush). tokio's hierarchical timer wheel files a 1 s deadline in a 64 ms slot and
//! parks only until that slot's start, then cascades and parks again: measured on the agent
//! with every plugin at 1 s, 3.7 `epoll_wait` returns per tick, each a full round through the
//! scheduler. A `timerfd` on `CLOCK_REALTIME` armed with the absolute deadline
//! (`TFD_TIMER_ABSTIME`) is one more file descriptor in the runtime's epoll set and makes it
//! return once, at the deadline.
//!
//! # Clock steps
//!
//! The timer is armed with `TFD_TIMER_CANCEL_ON_SET`: when the wall clock is stepped (an NTP
//! step, an operator setting the date), the wait ends early and the caller recomputes its
//! deadline against the new clock, instead of sleeping through a backward step.
//!
//! # Invariants
//!
//! - The timer is one-shot (no interval) and re-armed on every wait; re-arming discards an
//!   expiry that was never read (the kernel resets the count on `timerfd_settime`), so a wait
//!   cancelled by `select!` never makes the next wait return early for the old deadline.
//! - A wait returns at or after its deadline, or early after a clock step; never before the
//!   deadline otherwise.
//! - Where a `timerfd` cannot be created or armed (a seccomp filter, an unusual kernel), the
//!   wait falls back to `tokio::time::sleep` for the same span, with one debug line.

use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// Why a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The deadline passed.
    Deadline,
    /// The wall clock was stepped: recompute the deadline.
    ClockStepped,
}

/// A one-shot wall-clock timer (see the module docs).
#[derive(Debug)]
pub struct WallTimer {
    fd: Option<AsyncFd<OwnedFd>>,
}

impl Default for WallTimer {
    fn default() -> Self {
        Self::new()
    }
}

impl WallTimer {
    /// A timer on a fresh `timerfd`, or the `tokio::time::sleep` fallback. Must be called
    /// inside a tokio runtime with I/O enabled.
    pub fn new() -> Self {
        let fd = timerfd_create(
            TimerfdClockId::Realtime,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )
        .map_err(std::io::Error::from)
        .and_then(register);
        match fd {
            Ok(fd) => WallTimer { fd: Some(fd) },
            Err(e) => {
                tracing::debug!(error = %e, "no timerfd: the daemon sleeps on the runtime's timer");
                WallTimer { fd: None }
            }
        }
    }

    /// Whether waits use a `timerfd` (false: the fallback).
    pub fn is_timerfd(&self) -> bool {
        self.fd.is_some()
    }

    /// Wait until the wall clock reads `at_ms` (milliseconds since the Unix epoch), or until
    /// the clock is stepped. `now_ms` is the caller's current reading, used by the fallback.
    /// Cancel-safe: dropping the future leaves nothing behind that a later wait could see.
    pub async fn sleep_until_ms(&mut self, at_ms: i64, now_ms: i64) -> Woke {
        if let Some(fd) = &self.fd {
            match wait_timerfd(fd, at_ms).await {
                Ok(woke) => return woke,
                Err(e) => {
                    tracing::debug!(error = %e, "timerfd failed: the daemon sleeps on the runtime's timer from now on");
                    self.fd = None;
                }
            }
        }
        let span = u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(span)).await;
        Woke::Deadline
    }
}

/// Register the timer with the runtime's reactor. tokio deprecated its safe constructors
/// because a generic `T` may hand out a descriptor that is closed or swapped while registered;
/// here `T` is an [`OwnedFd`] moved into the `AsyncFd`, which keeps the same open descriptor
/// for exactly the registration's lifetime, so the condition the deprecation guards holds (and
/// the unsafe replacement is not allowed in this workspace).
#[allow(deprecated)]
fn register(fd: OwnedFd) -> std::io::Result<AsyncFd<OwnedFd>> {
    AsyncFd::with_interest(fd, Interest::READABLE)
}

/// The absolute `CLOCK_REALTIME` time of `at_ms`; never all zero (which would disarm).
fn deadline(at_ms: i64) -> Itimerspec {
    let at_ms = at_ms.max(1);
    Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: at_ms.div_euclid(1000),
            tv_nsec: at_ms.rem_euclid(1000) * 1_000_000,
        },
    }
}

async fn wait_timerfd(fd: &AsyncFd<OwnedFd>, at_ms: i64) -> std::io::Result<Woke> {
    timerfd_settime(
        fd.get_ref(),
        TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
        &deadline(at_ms),
    )?;
    let mut expirations = [0u8; 8];
    loop {
        let mut ready = fd.readable().await?;
        match rustix::io::read(fd.get_ref(), &mut expirations) {
            // One-shot: nothing more to read until re-armed, so the next wait need not try.
            Ok(_) => {
                ready.clear_ready();
                return Ok(Woke::Deadline);
            }
            Err(Errno::CANCELED) => {
                ready.clear_ready();
                return Ok(Woke::ClockStepped);
            }
            // Readiness left over from an expiry that re-arming discarded.
            Err(Errno::AGAIN) => ready.clear_ready(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn now_ms() -> i64 {
        chrono::Utc::now().timestamp_millis()
    }

    #[test]
    fn deadline_splits_milliseconds_and_never_disarms() {
        let d = deadline(1_700_000_000_123);
        assert_eq!(d.it_value.tv_sec, 1_700_000_000);
        assert_eq!(d.it_value.tv_nsec, 123_000_000);
        assert_eq!((d.it_interval.tv_sec, d.it_interval.tv_nsec), (0, 0));
        let d = deadline(0);
        assert_eq!((d.it_value.tv_sec, d.it_value.tv_nsec), (0, 1_000_000));
        let d = deadline(-5);
        assert_eq!((d.it_value.tv_sec, d.it_value.tv_nsec), (0, 1_000_000));
    }

    #[tokio::test]
    async fn wakes_at_the_deadline_not_before() {
        let mut t = WallTimer::new();
        assert!(t.is_timerfd(), "timerfd is available on the test machine");
        let at = now_ms() + 150;
        assert_eq!(t.sleep_until_ms(at, now_ms()).await, Woke::Deadline);
        assert!(now_ms() >= at, "woke before the deadline");
        // A deadline in the past returns at once.
        let started = Instant::now();
        assert_eq!(
            t.sleep_until_ms(now_ms() - 10_000, now_ms()).await,
            Woke::Deadline
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_cancelled_wait_does_not_end_the_next_one_early() {
        let mut t = WallTimer::new();
        // Arm for a near deadline, abandon the wait, let the expiry happen unread.
        let near = now_ms() + 20;
        let abandoned =
            tokio::time::timeout(Duration::from_millis(1), t.sleep_until_ms(near, now_ms())).await;
        assert!(abandoned.is_err());
        tokio::time::sleep(Duration::from_millis(60)).await;
        // The next wait is for a later deadline and must not return for the old expiry.
        let later = now_ms() + 200;
        assert_eq!(t.sleep_until_ms(later, now_ms()).await, Woke::Deadline);
        assert!(now_ms() >= later, "the stale expiry ended the wait early");
    }

    #[tokio::test]
    async fn the_fallback_sleeps_for_the_span() {
        let mut t = WallTimer { fd: None };
        let at = now_ms() + 80;
        assert_eq!(t.sleep_until_ms(at, now_ms()).await, Woke::Deadline);
        assert!(
            now_ms() >= at - 2,
            "slept the span (tokio rounds to its 1 ms tick)"
        );
    }
}
