//! PBFT, Castro and Liskov's Practical Byzantine Fault Tolerance: `replicas` replicas
//! (n ≥ 3f + 1 tolerates f Byzantine ones) order client requests in three phases, and
//! clients that accept a result on f + 1 matching replies. Quorums are ⌈(n + f + 1) / 2⌉
//! replicas (2f + 1 when n = 3f + 1), so any two share an honest replica.
//!
//! - *Normal case*: the primary of view v (replica v mod n) assigns a sequence number and
//!   sends PRE-PREPARE; a replica that accepts it sends PREPARE; with the pre-prepare and 2f
//!   matching prepares (quorum − 1 of them) the request is *prepared* and it sends COMMIT; with 2f + 1 matching
//!   commits it is *committed* and, in sequence order, executed and answered.
//! - *View change*: a replica waiting too long for a request it knows of moves to view
//!   v + 1 with a VIEW-CHANGE carrying its prepared certificates; the new primary, with
//!   2f + 1 of them, sends NEW-VIEW re-proposing every prepared request (the one from the
//!   highest view) and a no-op for gaps; each failed view change doubles the timeout.
//! - *Checkpoints*: every `checkpoint_every` executed requests a replica sends CHECKPOINT;
//!   2f + 1 matching make it stable and the log below it is dropped, so the log is bounded.
//! - *Authenticators*: with `signatures` (the default) every message names its signer and a
//!   replica discards one whose signer is not the node it came from (a forgery, reported),
//!   and requests carry the client's signature over their contents, so a primary cannot
//!   invent or alter a request. Without signatures a node believes the sender it is told.
//!
//! Nodes `0..replicas` are replicas, the rest clients. A replica's state is `Role::Replica`,
//! a client's `Role::Client`: one enum of roles, no struct with every role's fields.
//! Durable: nothing (replicas restart empty and catch up through view changes; crash
//! recovery with stable storage is not modelled).

mod byzantine;
mod checks;
mod replica;
mod view;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_arg, timer_kind, timer_tag};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, Micros};
use crate::vocab::{Damage, NodeId, TimingRole};

pub use replica::Replica;

/// Most replicas (quorums are bitmasks of 64 bits).
pub const MAX_REPLICAS: u32 = 64;

/// PBFT's parameters as a scenario writes them (`{"kind": "pbft", "replicas": 4}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbftSpec {
    /// Replicas (the rest of the nodes are clients); n ≥ 3f + 1 tolerates f liars.
    pub replicas: u32,
    /// The f the quorums are sized for (default: the most n tolerates, ⌊(n − 1) / 3⌋).
    pub f: Option<u32>,
    /// How often each client issues a request.
    pub op_every_ms: f64,
    /// How long a replica waits for a known request before changing view (doubling per
    /// failed view change); clients retry to every replica after it too.
    pub view_timeout_ms: f64,
    /// Executed requests between checkpoints.
    pub checkpoint_every: u64,
    /// Whether messages are authenticated (forgeries discarded).
    pub signatures: bool,
}

impl Default for PbftSpec {
    fn default() -> Self {
        PbftSpec {
            replicas: 4,
            f: None,
            op_every_ms: 400.0,
            view_timeout_ms: 1_000.0,
            checkpoint_every: 8,
            signatures: true,
        }
    }
}

/// PBFT's parameters in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct PbftConfig {
    pub replicas: u32,
    pub f: u32,
    pub op_every_us: Micros,
    pub view_timeout_us: Micros,
    pub checkpoint_every: u64,
    pub signatures: bool,
}

impl PbftConfig {
    /// Whether n ≥ 3f + 1: the bound under which f liars cannot break agreement.
    pub fn tolerates_f(&self) -> bool {
        self.replicas > 3 * self.f
    }
    /// Matching messages that make a quorum: ⌈(n + f + 1) / 2⌉, which is 2f + 1 when
    /// n = 3f + 1; any two quorums then share at least f + 1 replicas, one of them honest.
    pub fn quorum(&self) -> u32 {
        (self.replicas + self.f + 2) / 2
    }
    /// The primary of `view`.
    pub fn primary(&self, view: u64) -> NodeId {
        (view % self.replicas as u64) as NodeId
    }
}

impl PbftSpec {
    /// The validated parameters for `nodes` nodes: at least one client, at most 64 replicas.
    pub fn config(&self, nodes: u32) -> Result<PbftConfig, InputError> {
        if self.replicas == 0 || self.replicas > MAX_REPLICAS {
            let problem = format!("must be from 1 to {MAX_REPLICAS}, got {}", self.replicas);
            return Err(InputError::new("replicas", problem));
        }
        if nodes <= self.replicas {
            let problem = format!("PBFT needs at least one client beside {} replicas", self.replicas);
            return Err(InputError::new("nodes", problem));
        }
        let f = self.f.unwrap_or((self.replicas - 1) / 3);
        // n < 3f + 1 is allowed (that is the lesson of 'too many liars'), as long as a
        // quorum can form at all.
        let quorum = (self.replicas + f + 2) / 2;
        if quorum > self.replicas {
            let problem = format!("quorums of {quorum} cannot form among {} replicas", self.replicas);
            return Err(InputError::new("f", problem));
        }
        let positive = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            (us >= 1_000)
                .then_some(us)
                .ok_or_else(|| InputError::new(field, format!("must be at least 1 ms, got {ms}")))
        };
        if self.checkpoint_every == 0 {
            return Err(InputError::new("checkpoint_every", "must be at least 1"));
        }
        Ok(PbftConfig {
            replicas: self.replicas,
            f,
            op_every_us: positive(self.op_every_ms, "op_every_ms")?,
            view_timeout_us: positive(self.view_timeout_ms, "view_timeout_ms")?,
            checkpoint_every: self.checkpoint_every,
            signatures: self.signatures,
        })
    }
}

/// A client request: who asked, its number, what to write, and the client's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Req {
    pub client: NodeId,
    pub op: u32,
    pub value: u64,
    pub sig: u64,
}

/// The client of a no-op (what a new primary proposes for a gap).
pub const NOOP_CLIENT: NodeId = NodeId::MAX;

fn mix(mut h: u64, v: u64) -> u64 {
    h ^= v.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h.rotate_left(27).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

impl Req {
    /// A request signed by `client` (only a client's own code path calls this).
    pub fn signed(client: NodeId, op: u32, value: u64) -> Req {
        let sig = mix(mix(mix(0x5151, client as u64), op as u64), value);
        Req { client, op, value, sig }
    }
    pub fn noop() -> Req {
        Req::noop_variant(0)
    }
    /// A no-op told apart from the plain one by `k` (a different digest): what a lying
    /// primary hands a third camp. Honest code only ever proposes `noop()`.
    pub fn noop_variant(k: u32) -> Req {
        Req {
            client: NOOP_CLIENT,
            op: k,
            value: 0,
            sig: 0,
        }
    }
    pub fn is_noop(&self) -> bool {
        self.client == NOOP_CLIENT
    }
    /// Whether the client's signature matches the contents (a no-op needs none).
    pub fn verifies(&self) -> bool {
        self.is_noop() || *self == Req::signed(self.client, self.op, self.value)
    }
    /// The digest the phases agree on (0 for the plain no-op; even for every no-op, odd for
    /// every client request).
    pub fn digest(&self) -> u64 {
        if self.is_noop() {
            2 * self.op as u64
        } else {
            mix(mix(self.client as u64, self.op as u64), self.value) | 1
        }
    }
}

/// A prepared certificate carried by a view change: request `req` prepared at `seq` in `view`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cert {
    pub seq: u64,
    pub view: u64,
    pub req: Req,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PbftMsg {
    Request {
        req: Req,
        signer: NodeId,
    },
    PrePrepare {
        view: u64,
        seq: u64,
        req: Req,
        signer: NodeId,
    },
    Prepare {
        view: u64,
        seq: u64,
        digest: u64,
        signer: NodeId,
    },
    Commit {
        view: u64,
        seq: u64,
        digest: u64,
        signer: NodeId,
    },
    Reply {
        view: u64,
        op: u32,
        value: u64,
        signer: NodeId,
    },
    ViewChange {
        view: u64,
        certs: Box<[Cert]>,
        signer: NodeId,
    },
    NewView {
        view: u64,
        batch: Box<[Cert]>,
        signer: NodeId,
    },
    Checkpoint {
        seq: u64,
        digest: u64,
        signer: NodeId,
    },
}

message_kinds!(PbftMsg {
    Request = 0 "request",
    PrePrepare = 1 "pre-prepare",
    Prepare = 2 "prepare",
    Commit = 3 "commit",
    Reply = 4 "reply",
    ViewChange = 5 "view-change",
    NewView = 6 "new-view",
    Checkpoint = 7 "checkpoint",
});

impl PbftMsg {
    /// Who the message says signed it.
    pub fn signer(&self) -> NodeId {
        match *self {
            PbftMsg::Request { signer, .. }
            | PbftMsg::PrePrepare { signer, .. }
            | PbftMsg::Prepare { signer, .. }
            | PbftMsg::Commit { signer, .. }
            | PbftMsg::Reply { signer, .. }
            | PbftMsg::ViewChange { signer, .. }
            | PbftMsg::NewView { signer, .. }
            | PbftMsg::Checkpoint { signer, .. } => signer,
        }
    }
}

impl MessageInfo for PbftMsg {
    fn digest(&self) -> u64 {
        let body = match self {
            PbftMsg::Request { req, .. } => req.digest(),
            PbftMsg::PrePrepare { view, seq, req, .. } => mix(mix(*view, *seq), req.digest()),
            PbftMsg::Prepare { view, seq, digest, .. } | PbftMsg::Commit { view, seq, digest, .. } => {
                mix(mix(*view, *seq), *digest)
            }
            PbftMsg::Reply { view, op, value, .. } => mix(mix(*view, *op as u64), *value),
            PbftMsg::ViewChange { view, certs, .. } | PbftMsg::NewView { view, batch: certs, .. } => {
                certs.iter().fold(*view, |h, c| mix(mix(h, c.seq), c.req.digest()))
            }
            PbftMsg::Checkpoint { seq, digest, .. } => mix(*seq, *digest),
        };
        mix(mix(self.kind() as u64, self.signer() as u64), body)
    }
    fn is_work(&self) -> bool {
        matches!(self, PbftMsg::Request { .. })
    }
    fn heap_bytes(&self) -> usize {
        match self {
            PbftMsg::ViewChange { certs, .. } | PbftMsg::NewView { batch: certs, .. } => {
                std::mem::size_of_val(&**certs)
            }
            _ => 0,
        }
    }
    /// A commit decides a request if it comes in time.
    fn timing_role(&self) -> TimingRole {
        match self {
            PbftMsg::Commit { .. } => TimingRole::Decisive,
            _ => TimingRole::Ordinary,
        }
    }
}

/// PBFT keeps nothing across a crash (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PbftDurable;

impl Durable for PbftDurable {
    fn damage(&mut self, _damage: Damage, _noise: u64) {}
}

/// What nodes report to the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PbftObs {
    /// A client sent request `req` (the checker's record of what clients really asked).
    Sent { req: Req },
    /// A replica executed `req` at `seq`.
    Executed { seq: u64, req: Req },
    /// A client accepted `value` for `op` on f + 1 matching replies.
    Accepted { op: u32, value: u64 },
    /// A replica entered `view`.
    NewView { view: u64 },
    /// A message whose signer was not its sender was discarded.
    Forgery { from: NodeId, signer: NodeId },
}

pub type PbftCtx<'a> = Ctx<PbftMsg, PbftObs>;

/// Timer tags: the low byte says which timer.
pub const TICK: TimerTag = 1;
pub const RETRY: TimerTag = 2;
pub const VIEW_TIMER: TimerTag = 3;

/// A client: one request outstanding at a time, accepted on f + 1 matching replies.
#[derive(Clone, Debug)]
pub struct Client {
    next_op: u32,
    /// The request waiting for replies, and which replicas replied with which value.
    waiting: Option<(Req, Vec<(u64, u64)>)>,
    view_guess: u64,
    accepted: u64,
    rng: Rng,
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum Role {
    Replica(Box<Replica>),
    Client(Client),
}

#[derive(Clone, Debug)]
pub struct Pbft {
    config: PbftConfig,
    id: NodeId,
    role: Role,
}

impl Pbft {
    pub fn role(&self) -> &Role {
        &self.role
    }
    pub fn config(&self) -> &PbftConfig {
        &self.config
    }
}

impl Client {
    fn tick(&mut self, config: &PbftConfig, id: NodeId, ctx: &mut PbftCtx) {
        ctx.set_timer(config.op_every_us, TICK);
        if self.waiting.is_some() {
            return;
        }
        self.next_op += 1;
        let req = Req::signed(id, self.next_op, self.rng.next_u64() >> 16);
        ctx.observe(PbftObs::Sent { req });
        ctx.send(config.primary(self.view_guess), PbftMsg::Request { req, signer: id });
        ctx.set_timer(config.view_timeout_us, timer_tag(RETRY, self.next_op as u64));
        self.waiting = Some((req, Vec::new()));
    }

    /// No answer in time: ask every replica (backups forward it and start their timers).
    fn retry(&mut self, config: &PbftConfig, id: NodeId, op: u32, ctx: &mut PbftCtx) {
        let Some(req) = self.waiting.as_ref().map(|(r, _)| *r).filter(|r| r.op == op) else {
            return;
        };
        for r in 0..config.replicas {
            ctx.send(r, PbftMsg::Request { req, signer: id });
        }
        ctx.set_timer(config.view_timeout_us, timer_tag(RETRY, op as u64));
    }

    fn reply(&mut self, config: &PbftConfig, from: NodeId, view: u64, op: u32, value: u64, ctx: &mut PbftCtx) {
        let Some((req, replies)) = self.waiting.as_mut() else {
            return;
        };
        if req.op != op || from >= config.replicas || replies.iter().any(|&(r, _)| r == from as u64) {
            return;
        }
        replies.push((from as u64, value));
        let matching = replies.iter().filter(|&&(_, v)| v == value).count() as u32;
        if matching > config.f {
            self.view_guess = self.view_guess.max(view);
            self.accepted += 1;
            self.waiting = None;
            ctx.observe(PbftObs::Accepted { op, value });
        }
    }
}

impl Protocol for Pbft {
    type Config = PbftConfig;
    type Msg = PbftMsg;
    type Durable = PbftDurable;
    type Obs = PbftObs;
    const NAME: &'static str = "pbft";

    fn boot(config: &PbftConfig, id: NodeId, _nodes: u32, _durable: PbftDurable, rng: Rng, ctx: &mut PbftCtx) -> Pbft {
        let role = if id < config.replicas {
            Role::Replica(Box::new(Replica::new(config)))
        } else {
            let mut rng = rng;
            // Clients start at different moments so requests interleave.
            ctx.set_timer(rng.between(1, config.op_every_us), TICK);
            Role::Client(Client {
                next_op: 0,
                waiting: None,
                view_guess: 0,
                accepted: 0,
                rng,
            })
        };
        Pbft {
            config: config.clone(),
            id,
            role,
        }
    }

    fn on_message(&mut self, from: NodeId, msg: PbftMsg, ctx: &mut PbftCtx) {
        let signer = msg.signer();
        if self.config.signatures && signer != from {
            ctx.observe(PbftObs::Forgery { from, signer });
            return;
        }
        match (&mut self.role, msg) {
            (Role::Client(c), PbftMsg::Reply { view, op, value, .. }) => {
                c.reply(&self.config, from, view, op, value, ctx)
            }
            (Role::Replica(r), msg) => r.on_message(&self.config, self.id, from, msg, ctx),
            _ => {}
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut PbftCtx) {
        match (&mut self.role, timer_kind(tag)) {
            (Role::Client(c), TICK) => c.tick(&self.config, self.id, ctx),
            (Role::Client(c), RETRY) => c.retry(&self.config, self.id, timer_arg(tag) as u32, ctx),
            (Role::Replica(r), VIEW_TIMER) => r.on_view_timer(&self.config, self.id, tag, ctx),
            _ => {}
        }
    }

    fn durable(&self) -> PbftDurable {
        PbftDurable
    }

    fn approx_bytes(&self) -> usize {
        std::mem::size_of_val(self)
            + match &self.role {
                Role::Replica(r) => r.approx_bytes(),
                Role::Client(_) => 0,
            }
    }
}
