//! Memory counted in bytes: what the engine keeps (the world, time-travel checkpoints, the
//! trace ring, checker histories and chart series) against one byte budget.
//!
//! Sizes are estimates from lengths and capacities (`approx_bytes`), tested against a
//! counting allocator (`tests/memory.rs`). Invariant: an estimate counts every container
//! that can grow with the run; what it leaves out is fixed-size and small.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::mem::size_of;

use serde::Serialize;

use crate::time::Micros;

/// The default budget for the world and its checkpoints: 256 MiB.
pub const MEMORY_BUDGET_BYTES: u64 = 256 << 20;
/// The smallest budget one may set: 16 MiB.
pub const MIN_MEMORY_BUDGET_BYTES: u64 = 16 << 20;
/// The largest budget one may set: 3 GiB (a wasm32 instance has at most 4 GiB in all).
pub const MAX_MEMORY_BUDGET_BYTES: u64 = 3 << 30;

/// How well time travel works under the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeTravel {
    /// Checkpoints at the usual spacing (which widens as a run grows long).
    Full,
    /// The budget forced checkpoints farther apart than usual: seeking back replays more.
    Coarse,
    /// Not even one checkpoint fits beside the world: seeking back replays from time 0.
    Off,
}

impl TimeTravel {
    pub fn name(self) -> &'static str {
        match self {
            TimeTravel::Full => "full",
            TimeTravel::Coarse => "coarse",
            TimeTravel::Off => "off",
        }
    }
}

/// What the run keeps, in bytes, against its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryUse {
    /// The live world plus every checkpoint.
    pub used_bytes: u64,
    pub budget_bytes: u64,
    pub checkpoints: usize,
    /// Simulated time between checkpoints now.
    pub interval_us: Micros,
    pub time_travel: TimeTravel,
}

/// Heap bytes of a vector's buffer.
pub fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Heap bytes of a ring buffer.
pub fn deque_bytes<T>(v: &VecDeque<T>) -> usize {
    v.capacity() * size_of::<T>()
}

/// Heap bytes of a B-tree map: entries in nodes of up to 11, about two thirds full.
pub fn map_bytes<K, V>(m: &BTreeMap<K, V>) -> usize {
    m.len() * (size_of::<K>() + size_of::<V>()) * 3 / 2 + m.len().div_ceil(7) * 16
}

/// Heap bytes of a B-tree set.
pub fn set_bytes<K>(s: &BTreeSet<K>) -> usize {
    s.len() * size_of::<K>() * 3 / 2 + s.len().div_ceil(7) * 16
}
