//! The emulator's clock. Resource state transitions are derived from it (a volume stores when it
//! becomes available) rather than driven by background tasks, so a test can step time by hand and
//! get the same answers every run.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// How the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Follows wall-clock time from the start (plus any manual advances).
    Real,
    /// Stands still until [`Clock::advance`] moves it: fully deterministic.
    Manual,
}

/// Milliseconds since the Unix epoch, virtual.
#[derive(Debug)]
pub struct Clock {
    mode: ClockMode,
    started: Instant,
    start_ms: i64,
    offset_ms: AtomicI64,
}

impl Clock {
    /// A clock starting at the current wall-clock time.
    pub fn real() -> Clock {
        Self::starting_at(ClockMode::Real, crate::timefmt::now_unix() * 1000)
    }

    /// A clock that only moves when told, starting at `start_ms`.
    pub fn manual(start_ms: i64) -> Clock {
        Self::starting_at(ClockMode::Manual, start_ms)
    }

    fn starting_at(mode: ClockMode, start_ms: i64) -> Clock {
        Clock {
            mode,
            started: Instant::now(),
            start_ms,
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    pub fn now_ms(&self) -> i64 {
        let elapsed = match self.mode {
            ClockMode::Real => self.started.elapsed().as_millis() as i64,
            ClockMode::Manual => 0,
        };
        self.start_ms + elapsed + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Sets the clock to `ms` (a restored snapshot's time); a real clock goes on from there.
    pub fn set_ms(&self, ms: i64) {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        let base = self.now_ms() - offset;
        self.offset_ms.store(ms - base, Ordering::Relaxed);
    }

    /// Moves the clock forward (either mode).
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = Clock::manual(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(std::time::Duration::from_millis(250));
        assert_eq!(c.now_ms(), 1_250);
        assert_eq!(c.now_secs(), 1);
        assert!(Clock::real().now_secs() > 1_700_000_000);
    }
}
