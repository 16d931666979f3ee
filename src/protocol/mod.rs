//! Protocols: pure state machines behind one trait.
//!
//! A protocol sees only its node's id, the cluster size, its local clock and the messages
//! and timers the engine hands it; it answers by pushing sends and timers into `Ctx`.
//! It knows nothing of the network, faults or rendering. State is split in two: what
//! `durable` returns survives a crash; everything else is volatile and lost with it.

pub mod heartbeat;
pub mod phi;

use serde::Serialize;

use crate::fault::Damage;
use crate::limits::MAX_TIMERS_PER_HANDLER;
use crate::network::NodeId;
use crate::rng::Rng;
use crate::time::Micros;

/// A timer's meaning, chosen by the protocol (echoed back to `on_timer`).
pub type TimerTag = u64;

/// What a message tells the trace and the renderer about itself.
pub trait MessageInfo {
    /// A small code: the low 7 bits of the renderer's `msg_kind` column.
    fn kind(&self) -> u8;
    /// A name for traces.
    fn kind_name(&self) -> &'static str;
    /// A digest of the payload, folded into the trace hash.
    fn digest(&self) -> u64;
    /// Real work (a request a client waits for), as opposed to a heartbeat or health
    /// check: what a gray failure fails.
    fn is_work(&self) -> bool {
        false
    }
    /// What an equivocating sender tells peer `to` instead (different peers, different stories).
    fn equivocate(&self, _to: NodeId) -> Self;
    /// This message with its payload garbled by `noise`.
    fn corrupt(&self, noise: u64) -> Self;
    /// What a sender lying about its own state says instead.
    fn lie(&self) -> Self;
}

/// Durable state, which storage faults can damage while the node is down.
pub trait Durable: Clone + Default {
    /// Applies the damage; `noise` picks which bit flips.
    fn damage(&mut self, damage: Damage, noise: u64);
}

/// Where a handler leaves its effects. Recipients are checked by the engine.
pub struct Ctx<M> {
    /// The node's local clock reading when the handler runs.
    pub now_local_us: Micros,
    pub(crate) sends: Vec<(NodeId, M)>,
    pub(crate) timers: Vec<(Micros, TimerTag)>,
}

impl<M> Ctx<M> {
    pub(crate) fn new() -> Ctx<M> {
        Ctx {
            now_local_us: 0,
            sends: Vec::new(),
            timers: Vec::new(),
        }
    }

    pub(crate) fn reset(&mut self, now_local_us: Micros) {
        self.now_local_us = now_local_us;
        self.sends.clear();
        self.timers.clear();
    }

    pub fn send(&mut self, to: NodeId, msg: M) {
        self.sends.push((to, msg));
    }

    /// Fires `on_timer(tag)` after `delay_us` of this node's local clock (at least 1 µs).
    pub fn set_timer(&mut self, delay_us: Micros, tag: TimerTag) {
        assert!(
            self.timers.len() < MAX_TIMERS_PER_HANDLER,
            "a handler set more than {MAX_TIMERS_PER_HANDLER} timers"
        );
        self.timers.push((delay_us.max(1), tag));
    }
}

/// A peer as one node sees it, for the inspector.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PeerView {
    pub id: NodeId,
    /// "alive" or "suspected".
    pub state: &'static str,
    /// Local time since this node last heard from the peer, in ms (null if never).
    pub since_heard_ms: Option<f64>,
    /// What the peer last claimed about itself (its boot count, for heartbeats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<u64>,
    /// End-to-end probes of real work sent to this peer: answered, and failed (timed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes_ok: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes_failed: Option<u64>,
    /// Current suspicion level, for a phi accrual detector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phi: Option<f64>,
    /// Round trip of the last answered probe, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
}

/// A protocol's view of its own state, for the inspector.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct ProtocolView {
    pub peers: Vec<PeerView>,
    /// Notes about the node's own state (e.g. "durable state corrupt: checksum mismatch").
    pub notes: Vec<String>,
}

/// A distributed protocol as a pure state machine.
pub trait Protocol: Sized {
    type Config: Clone;
    type Msg: Clone + MessageInfo;
    /// What survives a crash.
    type Durable: Durable;

    /// The protocol's name for the inspector and traces.
    const NAME: &'static str;

    /// Boots (or reboots, after a crash) node `id` of `nodes` from its durable state, with
    /// a random stream of its own for this incarnation.
    fn boot(
        config: &Self::Config,
        id: NodeId,
        nodes: u32,
        durable: Self::Durable,
        rng: Rng,
        ctx: &mut Ctx<Self::Msg>,
    ) -> Self;
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<Self::Msg>);
    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<Self::Msg>);
    /// The state that survives a crash (taken at the moment of the crash).
    fn durable(&self) -> Self::Durable;
    fn view(&self, now_local_us: Micros) -> ProtocolView;
    /// Whether this node currently suspects `peer` of having failed.
    fn suspects(&self, _peer: NodeId) -> bool {
        false
    }
}
