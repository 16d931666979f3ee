//! Protocols: pure state machines behind one trait.
//!
//! A protocol sees only its node's id, the cluster size, its local clock and the messages
//! and timers the engine hands it; it answers by pushing sends and timers into `Ctx`.
//! It knows nothing of the network, faults or rendering. State is split in two: what
//! `durable` returns survives a crash; everything else is volatile and lost with it.
//!
//! Layer: this module imports only the leaf vocabulary (`vocab`, `time`, `rng`,
//! `limits`, `error`). What a protocol shows (`view::Inspect`), how its messages are
//! rewritten by a Byzantine sender (`byzantine::Byzantine`) and which properties are
//! checked (`checks::Checked`) are separate traits in the layer above, implemented in the
//! protocol's own folder (`view.rs`, `byzantine.rs`, `checks.rs`); a protocol's state
//! machine imports none of them (checked by `tests/tidy.rs`).

pub mod echo;
pub mod heartbeat;
pub mod kv;
pub mod lease;
pub mod pbft;
pub mod raft;
pub mod register;
pub mod service;
pub mod swim;
pub mod timers;
pub mod workload;

use crate::limits::MAX_TIMERS_PER_HANDLER;
use crate::rng::Rng;
use crate::time::Micros;
use crate::vocab::{Damage, NodeId, TimingRole};

/// A timer's meaning, chosen by the protocol (echoed back to `on_timer`).
pub type TimerTag = u64;

/// A message type's kinds, listed once (see `message_kinds!`): the trace names each
/// message by its kind, the renderer colours it by its code, the legend lists them all.
pub trait MessageKinds {
    /// Each kind's code (the low 7 bits of the renderer's `msg_kind` column) and name.
    const KINDS: &'static [(u8, &'static str)];
    fn kind(&self) -> u8;
    /// The kind's name, for traces and the legend.
    fn kind_name(&self) -> &'static str;
}

/// Lists a message enum's kinds once, as `Variant = code "name"`, and implements
/// `MessageKinds` from that one list.
macro_rules! message_kinds {
    ($msg:ident { $($variant:ident = $code:literal $name:literal),+ $(,)? }) => {
        impl $crate::protocol::MessageKinds for $msg {
            const KINDS: &'static [(u8, &'static str)] = &[$(($code, $name)),+];
            fn kind(&self) -> u8 {
                match self {
                    $($msg::$variant { .. } => $code,)+
                }
            }
            fn kind_name(&self) -> &'static str {
                match self {
                    $($msg::$variant { .. } => $name,)+
                }
            }
        }
    };
}
pub(crate) use message_kinds;

/// What a message tells the trace and the engine about itself.
pub trait MessageInfo: MessageKinds {
    /// A digest of the payload, folded into the trace hash.
    fn digest(&self) -> u64;
    /// Real work (a request a client waits for), as opposed to a heartbeat or health
    /// check: what a gray failure fails.
    fn is_work(&self) -> bool {
        false
    }
    /// Heap bytes the message owns beyond its own size (a log's entries, gossip).
    fn heap_bytes(&self) -> usize {
        0
    }
    /// What this message means to an adversarial scheduler (`crate::timing`): the one
    /// thing about a message a timing model's adversary may see beyond its endpoints.
    fn timing_role(&self) -> TimingRole {
        TimingRole::Ordinary
    }
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

/// A distributed protocol as a pure state machine.
pub trait Protocol: Sized + Clone + 'static {
    type Config: Clone;
    type Msg: Clone + MessageInfo;
    /// What survives a crash.
    type Durable: Durable;
    /// Facts handlers report to the checkers (`()` for none).
    type Obs: Clone;

    /// The protocol's name for the inspector and traces.
    const NAME: &'static str;
    /// Whether handlers may call `Ctx::crash_self` (a replica out of memory): then node
    /// statuses are not determined by the fault schedule alone.
    const CRASHES_ITSELF: bool = false;

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
    /// Bytes this node's state keeps, heap included (`crate::budget`); the default counts
    /// only the struct itself.
    fn approx_bytes(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
