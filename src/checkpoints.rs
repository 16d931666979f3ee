//! Time-travel checkpoints under a byte budget.
//!
//! One checkpoint every `interval_us` of simulated time; none at time 0, which booting the
//! scenario again rebuilds for the price of a boot (a thousand heartbeating nodes have a
//! million messages in flight at time 0: a copy then is the largest of the run). Two bounds:
//! a count (`limits::checkpoint_budget`), and bytes — the live world plus every checkpoint
//! must fit `budget_bytes`. Past either, every other checkpoint goes (the earliest stays)
//! and the interval doubles, so they stay evenly spread. When bytes forced that, time travel is
//! `Coarse`; when not even one checkpoint fits beside the world, it is `Off`: none are kept,
//! seeking back replays from time 0, and each due time tries again (a world shrinks). The size is judged before copying, so a
//! checkpoint never allocates past the budget. Invariant: sorted by time; each equals the
//! run at its moment, given the schedule.

use crate::budget::{TimeTravel, MAX_MEMORY_BUDGET_BYTES, MEMORY_BUDGET_BYTES, MIN_MEMORY_BUDGET_BYTES};
use crate::engine::Engine;
use crate::error::InputError;
use crate::time::Micros;

/// A copy of the run at one moment, to seek back to.
pub struct Checkpoint {
    pub at_us: Micros,
    /// Index of the first schedule entry not yet applied then.
    pub cursor: usize,
    pub engine: Box<dyn Engine>,
    /// `engine.approx_bytes()`, taken once.
    bytes: u64,
}

pub struct Checkpoints {
    list: Vec<Checkpoint>,
    interval_us: Micros,
    /// When the next checkpoint is due (or the next try, while time travel is off).
    next_us: Micros,
    count_budget: usize,
    budget_bytes: u64,
    coarse: bool,
    off: bool,
}

impl Checkpoints {
    pub fn new(nodes: u32) -> Checkpoints {
        Checkpoints {
            list: Vec::new(),
            interval_us: crate::limits::CHECKPOINT_INTERVAL_US,
            next_us: crate::limits::CHECKPOINT_INTERVAL_US,
            count_budget: crate::limits::checkpoint_budget(nodes),
            budget_bytes: MEMORY_BUDGET_BYTES,
            coarse: false,
            off: false,
        }
    }

    /// When the next checkpoint is due; while time travel is off, when to try again.
    pub fn next_due_us(&self) -> Micros {
        self.next_us
    }

    /// Takes a checkpoint of `engine` at `at_us`, if the budget allows one.
    pub fn take(&mut self, at_us: Micros, cursor: usize, engine: &mut dyn Engine) {
        debug_assert!(self.list.last().is_none_or(|c| c.at_us < at_us));
        self.next_us = at_us + self.interval_us;
        // A checkpoint is the world less its recent trace and columns: at most its size.
        let live = engine.approx_bytes() as u64;
        if live.saturating_mul(2) > self.budget_bytes {
            return self.turn_off();
        }
        self.off = false;
        let copy = engine.checkpoint();
        let bytes = copy.approx_bytes() as u64;
        self.list.push(Checkpoint {
            at_us,
            cursor,
            engine: copy,
            bytes,
        });
        if self.list.len() > self.count_budget {
            self.thin();
        }
        self.fit(live);
    }

    /// Thins checkpoints until the live world (`live` bytes) and they fit the budget.
    fn fit(&mut self, live: u64) {
        while live + self.held_bytes() > self.budget_bytes {
            if self.list.len() <= 1 {
                return self.turn_off();
            }
            self.thin();
            self.coarse = true;
        }
    }

    fn thin(&mut self) {
        let mut i = 0;
        self.list.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        self.interval_us *= 2;
        if let Some(last) = self.list.last() {
            self.next_us = last.at_us + self.interval_us;
        }
    }

    fn turn_off(&mut self) {
        self.list.clear();
        self.off = true;
    }

    /// Changes the budget, thinning (or turning time travel off) at once if the run no
    /// longer fits; a larger budget lets checkpoints resume.
    pub fn set_budget(&mut self, bytes: u64, live: u64) -> Result<(), InputError> {
        if !(MIN_MEMORY_BUDGET_BYTES..=MAX_MEMORY_BUDGET_BYTES).contains(&bytes) {
            let problem = format!(
                "must be between {} MiB and {} MiB, got {bytes} bytes",
                MIN_MEMORY_BUDGET_BYTES >> 20,
                MAX_MEMORY_BUDGET_BYTES >> 20
            );
            return Err(InputError::new("bytes", problem));
        }
        self.budget_bytes = bytes;
        self.off = false;
        self.coarse = false;
        self.fit(live);
        Ok(())
    }

    /// The latest checkpoint at or before `t_us`, if any is held.
    pub fn before(&self, t_us: Micros) -> Option<&Checkpoint> {
        self.list.iter().rev().find(|c| c.at_us <= t_us)
    }

    /// The run went back to `t_us`: the checkpoints after it stay good (same schedule);
    /// with none after it, the next is due an interval after the last one before it.
    pub fn rewound_to(&mut self, t_us: Micros) {
        if self.list.last().is_none_or(|c| c.at_us <= t_us) {
            self.next_us = self
                .list
                .last()
                .map_or(self.interval_us, |c| c.at_us + self.interval_us);
        }
    }

    /// Drops checkpoints later than `t_us` (the run forked there).
    pub fn forget_after(&mut self, t_us: Micros) {
        self.list.retain(|c| c.at_us <= t_us);
        self.next_us = self
            .list
            .last()
            .map_or(self.interval_us, |c| c.at_us + self.interval_us);
    }

    pub fn held_bytes(&self) -> u64 {
        self.list.iter().map(|c| c.bytes).sum()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn interval_us(&self) -> Micros {
        self.interval_us
    }

    pub fn budget_bytes(&self) -> u64 {
        self.budget_bytes
    }

    pub fn time_travel(&self) -> TimeTravel {
        match (self.off, self.coarse) {
            (true, _) => TimeTravel::Off,
            (false, true) => TimeTravel::Coarse,
            (false, false) => TimeTravel::Full,
        }
    }
}
