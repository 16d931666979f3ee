//! Node runtime state kept by the engine: status, incarnation, local clock, counters and
//! the faults currently afflicting the machine (omission, slowness, gray, Byzantine).
//!
//! The protocol state itself lives in the world; this module owns what the *machine* is
//! doing. Invariants: a crashed node has no held events; a paused node's `until_us` is in
//! the future of the pause that set it; `incarnation` and `clock_epoch` only grow.

use crate::latency::Latency;
use crate::time::Micros;
use crate::vocab::Behaviour;

pub use crate::vocab::Status;

/// A node's local clock: `local = global + offset + global · drift`. Protocols read time
/// only through it. Offset and drift stay zero until clock faults set them; a drift change
/// re-bases the offset so the reading does not jump.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    pub offset_us: i64,
    pub drift_ppm: i32,
}

impl Clock {
    /// Local reading at global time `now_us` (never below zero).
    #[inline]
    pub fn local(&self, now_us: Micros) -> Micros {
        if self.drift_ppm == 0 {
            // The same value as below, without 128-bit arithmetic.
            return (now_us as i64).saturating_add(self.offset_us).max(0) as Micros;
        }
        let drift = (now_us as i128 * self.drift_ppm as i128) / 1_000_000;
        (now_us as i128 + self.offset_us as i128 + drift).max(0) as Micros
    }

    /// Changes the drift at global time `now_us` without a jump in the reading.
    pub fn set_drift(&mut self, now_us: Micros, drift_ppm: i32) {
        let before = self.local(now_us) as i128;
        self.drift_ppm = drift_ppm;
        let after = self.local(now_us) as i128;
        self.offset_us += (before - after) as i64;
    }

    /// The global time at or after `now_us` when this clock first reads `local_us`.
    pub fn global_at(&self, now_us: Micros, local_us: Micros) -> Micros {
        let reading = self.local(now_us);
        now_us + self.global_duration(local_us.saturating_sub(reading))
    }

    /// The global duration that elapses while this clock advances `local_us`.
    pub fn global_duration(&self, local_us: Micros) -> Micros {
        if self.drift_ppm == 0 {
            return local_us;
        }
        let rate = 1_000_000i128 + self.drift_ppm as i128;
        assert!(rate > 0, "a clock must run forwards");
        ((local_us as i128 * 1_000_000 + rate - 1) / rate) as Micros
    }
}

/// Faults afflicting one machine (all off by default).
#[derive(Clone, Debug, PartialEq)]
pub struct Afflictions {
    /// Probability (ppm) that a message it sends vanishes.
    pub send_omission_ppm: u32,
    /// Probability (ppm) that a message reaching it vanishes.
    pub receive_omission_ppm: u32,
    /// Extra processing time per handled event, served one at a time.
    pub slow: Option<Latency>,
    /// Gray failure: probability (ppm) a work request is dropped, and extra time for the rest.
    pub gray_fail_ppm: u32,
    pub gray_slow_us: Micros,
    pub behaviour: Behaviour,
}

impl Default for Afflictions {
    fn default() -> Self {
        Afflictions {
            send_omission_ppm: 0,
            receive_omission_ppm: 0,
            slow: None,
            gray_fail_ppm: 0,
            gray_slow_us: 0,
            behaviour: Behaviour::Honest,
        }
    }
}

impl Afflictions {
    pub fn is_gray(&self) -> bool {
        self.gray_fail_ppm > 0 || self.gray_slow_us > 0
    }

    pub fn is_byzantine(&self) -> bool {
        self.behaviour != Behaviour::Honest
    }
}

/// Machine-level state of one node.
#[derive(Clone, Debug)]
pub struct NodeRuntime {
    pub status: Status,
    /// Bumped at every crash; timers set by an earlier incarnation are ignored.
    pub incarnation: u32,
    pub restarts: u32,
    pub clock: Clock,
    /// Bumped whenever the clock's offset or drift changes: pending timers are re-timed
    /// and copies from an older epoch are ignored.
    pub clock_epoch: u32,
    /// Current clock strobe (0 = none); flips of an older strobe are ignored.
    pub strobe_id: u32,
    /// Whether a clock strobe is flipping the clock now.
    pub strobing: bool,
    /// Whether the node is down by its own doing (out of memory), not by a fault.
    pub self_crashed: bool,
    pub afflictions: Afflictions,
    /// When a slow node finishes the work already queued on it.
    pub busy_until_us: Micros,
    pub sent: u64,
    pub received: u64,
    /// Durable state found damaged at boot: (detected by a checksum, undetected).
    pub corruption_seen: (u32, u32),
    next_pause_id: u32,
}

impl NodeRuntime {
    pub fn new() -> NodeRuntime {
        NodeRuntime {
            status: Status::Up,
            incarnation: 0,
            restarts: 0,
            clock: Clock::default(),
            clock_epoch: 0,
            strobe_id: 0,
            strobing: false,
            self_crashed: false,
            afflictions: Afflictions::default(),
            busy_until_us: 0,
            sent: 0,
            received: 0,
            corruption_seen: (0, 0),
            next_pause_id: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.status == Status::Up
    }

    pub fn new_pause_id(&mut self) -> u32 {
        self.next_pause_id += 1;
        self.next_pause_id
    }
}

impl Default for NodeRuntime {
    fn default() -> Self {
        NodeRuntime::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_without_skew_is_global_time() {
        let c = Clock::default();
        assert_eq!(c.local(12_345), 12_345);
        assert_eq!(c.global_duration(500), 500);
    }

    #[test]
    fn drift_change_keeps_the_reading_continuous() {
        let mut c = Clock {
            offset_us: 500,
            drift_ppm: 0,
        };
        let before = c.local(2_000_000);
        c.set_drift(2_000_000, 100_000);
        assert!(c.local(2_000_000).abs_diff(before) <= 1);
        assert!(c.local(3_000_000) > c.local(2_000_000) + 1_000_000);
    }

    #[test]
    fn fast_clock_fires_timers_early() {
        let c = Clock {
            offset_us: 0,
            drift_ppm: 100_000,
        }; // 10% fast
        assert_eq!(c.local(1_000_000), 1_100_000);
        assert_eq!(c.global_duration(1_100_000), 1_000_000);
    }
}
