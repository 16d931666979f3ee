//! The shared vocabulary of the crate: the words every layer uses about a cluster (node
//! ids, what a machine is doing, how a Byzantine node misbehaves, what storage damage does,
//! probabilities in parts per million).
//!
//! Layer: leaf. This module, `latency`, `time`, `limits`, `rng` and `error` import nothing
//! else from the crate (checked by `tests/tidy.rs`), so protocols, faults, the engine and
//! the scenario can all speak these words without importing one another.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::time::Micros;

/// Node identifier: an index `0..nodes`.
pub type NodeId = u32;

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

/// How a Byzantine node misbehaves: an adapter around whatever protocol it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Behaviour {
    /// Back to honest.
    Honest,
    /// Tells different peers different things.
    Equivocate,
    /// Also sends messages that claim to come from `as_node`.
    Forge { as_node: NodeId },
    /// Garbles the payload of what it sends.
    Corrupt,
    /// Lies about its own state.
    Lie,
}

impl Behaviour {
    pub fn name(&self) -> String {
        match self {
            Behaviour::Honest => "honest".into(),
            Behaviour::Equivocate => "equivocates".into(),
            Behaviour::Forge { as_node } => format!("forges n{as_node}"),
            Behaviour::Corrupt => "corrupts".into(),
            Behaviour::Lie => "lies".into(),
        }
    }
}

/// Damage to a crashed node's durable state, found when it restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// The last durable write was lost (a torn write).
    Torn,
    /// One bit flipped in durable state.
    Bitflip,
}

impl Damage {
    pub fn name(self) -> &'static str {
        match self {
            Damage::Torn => "torn write",
            Damage::Bitflip => "bit flip",
        }
    }
}

/// A probability in [0, 1] as integer parts per million.
pub fn probability_ppm(p: f64, field: &str) -> Result<u32, InputError> {
    if !(p.is_finite() && (0.0..=1.0).contains(&p)) {
        return Err(InputError::new(
            field,
            format!("must be a probability between 0 and 1, got {p}"),
        ));
    }
    Ok((p * 1_000_000.0).round() as u32)
}

/// What a message means to a scheduler that wants to stop progress (the adversary of the
/// asynchronous and partially synchronous timing models, `crate::timing`). A protocol says
/// it per message (`MessageInfo::timing_role`); the adversary sees nothing else of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimingRole {
    /// Nothing the adversary singles out.
    #[default]
    Ordinary,
    /// A message that lets a decision be taken if it comes in time (a granted vote): the
    /// adversary holds it as long as it may, past any timeout.
    Decisive,
    /// A sign of life (a heartbeat, an ack): the adversary releases the slowed node's in
    /// bursts, with silences between them.
    Liveness,
}
