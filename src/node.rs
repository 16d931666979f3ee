//! Node runtime state kept by the engine: status, incarnation, local clock, counters.
//!
//! The protocol state itself lives in the world; this module owns what the *machine* is
//! doing. Invariants: a crashed node has no held events; a paused node's `until_us` is in
//! the future of the pause that set it; `incarnation` only grows.

use crate::time::Micros;

/// What the machine is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    Crashed,
    /// Stopped the world (a GC or VM pause) until `until_us`; `pause_id` tells a stale
    /// resume event apart from the current one.
    Paused {
        until_us: Micros,
        pause_id: u32,
    },
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Up => "up",
            Status::Crashed => "crashed",
            Status::Paused { .. } => "paused",
        }
    }

    /// The column code the renderer reads: 0 up, 1 crashed, 2 paused.
    pub fn code(self) -> u8 {
        match self {
            Status::Up => 0,
            Status::Crashed => 1,
            Status::Paused { .. } => 2,
        }
    }
}

/// A node's local clock: `local = global + offset + global · drift`. Protocols read time
/// only through it. Offset and drift stay zero until clock faults set them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    pub offset_us: i64,
    pub drift_ppm: i32,
}

impl Clock {
    /// Local reading at global time `now_us` (never below zero).
    pub fn local(&self, now_us: Micros) -> Micros {
        let drift = (now_us as i128 * self.drift_ppm as i128) / 1_000_000;
        (now_us as i128 + self.offset_us as i128 + drift).max(0) as Micros
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

/// Machine-level state of one node.
#[derive(Clone, Debug)]
pub struct NodeRuntime {
    pub status: Status,
    /// Bumped at every crash; timers set by an earlier incarnation are ignored.
    pub incarnation: u32,
    pub restarts: u32,
    pub clock: Clock,
    pub sent: u64,
    pub received: u64,
    next_pause_id: u32,
}

impl NodeRuntime {
    pub fn new() -> NodeRuntime {
        NodeRuntime {
            status: Status::Up,
            incarnation: 0,
            restarts: 0,
            clock: Clock::default(),
            sent: 0,
            received: 0,
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
    fn fast_clock_fires_timers_early() {
        let c = Clock {
            offset_us: 0,
            drift_ppm: 100_000,
        }; // 10% fast
        assert_eq!(c.local(1_000_000), 1_100_000);
        assert_eq!(c.global_duration(1_100_000), 1_000_000);
    }
}
