//! Protocols: pure state machines behind one trait.
//!
//! A protocol sees only its node's id, the cluster size, its local clock and the messages
//! and timers the engine hands it; it answers by pushing sends and timers into `Ctx`.
//! It knows nothing of the network, faults or rendering. State is split in two: what
//! `durable` returns survives a crash; everything else is volatile and lost with it.

pub mod heartbeat;
pub mod lease;
pub mod phi;
pub mod raft;
pub mod raft_checks;
pub mod register;
pub mod service;
pub mod service_checks;
pub mod swim;
pub mod swim_checks;

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
///
/// `O` is the protocol's observation type: facts a handler reports to the omniscient
/// checkers (`crate::checks`), which the protocol itself never reads back.
pub struct Ctx<M, O = ()> {
    /// The node's local clock reading when the handler runs.
    pub now_local_us: Micros,
    pub(crate) sends: Vec<(NodeId, M)>,
    pub(crate) timers: Vec<(Micros, TimerTag)>,
    pub(crate) observations: Vec<O>,
    /// Set by `crash_self`: the node dies when the handler returns, restarting after the
    /// given delay (or never).
    pub(crate) crash: Option<Option<Micros>>,
}

/// A copy of a world starts with an empty scratch context (one is only ever in use
/// inside a handler).
impl<M, O> Clone for Ctx<M, O> {
    fn clone(&self) -> Self {
        Ctx::new()
    }
}

impl<M, O> Ctx<M, O> {
    pub(crate) fn new() -> Ctx<M, O> {
        Ctx {
            now_local_us: 0,
            sends: Vec::new(),
            timers: Vec::new(),
            observations: Vec::new(),
            crash: None,
        }
    }

    pub(crate) fn reset(&mut self, now_local_us: Micros) {
        self.now_local_us = now_local_us;
        self.sends.clear();
        self.timers.clear();
        self.observations.clear();
        self.crash = None;
    }

    /// Reports a fact to the checkers (a vote granted, a write acknowledged, …).
    pub fn observe(&mut self, observation: O) {
        self.observations.push(observation);
    }

    /// The process dies when this handler returns (out of memory, say): its sends still
    /// leave, its timers are void, and like any crash it keeps only its durable state.
    /// With `restart_after_us`, the machine reboots it cold after that long (true time).
    pub fn crash_self(&mut self, restart_after_us: Option<Micros>) {
        self.crash = Some(restart_after_us.map(|us| us.max(1)));
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

/// One labelled fact about a node's state, for the inspector ("role": "leader").
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// One entry of a replicated log, for the inspector's log strip.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogCell {
    pub index: u64,
    pub term: u64,
    pub committed: bool,
    /// What the entry holds, in a few characters ("x=3").
    pub text: String,
}

/// A protocol's view of its own state, for the inspector.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct ProtocolView {
    pub peers: Vec<PeerView>,
    /// Notes about the node's own state (e.g. "durable state corrupt: checksum mismatch").
    pub notes: Vec<String>,
    /// Labelled facts (role, term, lease, register value, queue…), in display order.
    pub facts: Vec<Fact>,
    /// The node's log, when it keeps one (the last entries, at most `LOG_VIEW_MAX`).
    pub log: Vec<LogCell>,
}

/// Most log entries a view shows.
pub const LOG_VIEW_MAX: usize = 64;

/// What the canvas draws of a node's protocol state (all optional: zero means none).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NodeRender {
    /// A role code (see `docs/js-api.md`, "node_role"): 0 none, 1 follower, 2 candidate,
    /// 3 leader, 4 client, 5 lock/lease server, 6 storage, 7 balancer, 8 replica,
    /// 9 backend, 10 replica (CP register), 11 member (SWIM).
    pub role: u8,
    /// The term, epoch or incarnation the node is in.
    pub term: u32,
    /// Load in [0, 1] for a fill ring; negative for none.
    pub load: f32,
    /// Queue length (requests waiting), for a bar.
    pub queue: u32,
    /// Log length and how much of it is committed.
    pub log_len: u32,
    pub commit: u32,
    /// A value to print beside the node (a register value, a lease token); `NO_VALUE` for none.
    pub value: f64,
}

/// The page's name for each `NodeRender::role` code, indexed by code (exported to the
/// page by `src/wasm.rs`, so JavaScript never copies the numbers).
pub const ROLE_NAMES: [&str; 12] = [
    "none",
    "follower",
    "candidate",
    "leader",
    "client",
    "lockServer",
    "storage",
    "balancer",
    "replica",
    "backend",
    "register",
    "member",
];

/// `NodeRender::value` when there is nothing to print.
pub const NO_VALUE: f64 = f64::NAN;

impl NodeRender {
    pub fn none() -> NodeRender {
        NodeRender {
            load: -1.0,
            value: NO_VALUE,
            ..NodeRender::default()
        }
    }
}

/// A distributed protocol as a pure state machine.
pub trait Protocol: Sized + Clone + 'static {
    type Config: Clone;
    type Msg: Clone + MessageInfo;
    /// What survives a crash.
    type Durable: Durable;
    /// Facts handlers report to the checkers (`()` for none).
    type Obs: Clone;
    /// The omniscient checkers of this protocol's properties (`crate::checks::NoChecks`).
    type Checks: crate::checks::Checks<Self>;

    /// The protocol's name for the inspector and traces.
    const NAME: &'static str;
    /// Each message kind code (`MessageInfo::kind`) with its name, for the legend.
    const MESSAGE_KINDS: &'static [(u8, &'static str)] = &[];

    /// Boots (or reboots, after a crash) node `id` of `nodes` from its durable state, with
    /// a random stream of its own for this incarnation.
    fn boot(
        config: &Self::Config,
        id: NodeId,
        nodes: u32,
        durable: Self::Durable,
        rng: Rng,
        ctx: &mut Ctx<Self::Msg, Self::Obs>,
    ) -> Self;
    fn on_message(&mut self, from: NodeId, msg: Self::Msg, ctx: &mut Ctx<Self::Msg, Self::Obs>);
    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<Self::Msg, Self::Obs>);
    /// The state that survives a crash (taken at the moment of the crash).
    fn durable(&self) -> Self::Durable;
    fn view(&self, now_local_us: Micros) -> ProtocolView;
    /// Whether this node currently suspects `peer` of having failed.
    fn suspects(&self, _peer: NodeId) -> bool {
        false
    }
    /// Whether this node has declared `peer` failed (acted on it), not merely suspects
    /// it: the same for timeout detectors; SWIM's "dead" after a suspicion expires.
    fn declares_failed(&self, peer: NodeId) -> bool {
        self.suspects(peer)
    }
    /// What the canvas draws of this node's state.
    fn render(&self) -> NodeRender {
        NodeRender::none()
    }
    /// Where each node sits, in [−1, 1]² as `x0, y0, x1, y1, …` (default: a circle, or a
    /// sunflower for large clusters). Protocols with roles place them apart.
    fn layout(_config: &Self::Config, nodes: u32) -> Vec<f32> {
        crate::inspect::layout(nodes)
    }
}
