//! A replicated register with a CAP switch: majority quorums (CP) or accept-and-reconcile (AP).
//!
//! Roles: nodes `0..replicas` are replicas (role 10), the rest clients (role 4). Client
//! `c` talks to its home replica `(c − replicas) mod replicas`, and on a refusal or a
//! timeout retries at the next replica, up to `retries` times. Every write writes a new
//! small integer, so each value names one write.
//!
//! CP (`mode: "cp"`): the replica a request reaches coordinates it in two rounds over all
//! replicas, each needing a majority within `quorum_timeout` (an atomic register in the
//! manner of Attiya, Bar-Noy and Dolev): first it asks for their versions, then it stores
//! — for a write, the new value under version (highest counter seen + 1, coordinator,
//! write); for a read, the highest value it saw, written back so no later read returns
//! anything older. A coordinator that cannot reach a majority (the minority side of a
//! partition) refuses: the client sees an error, counted.
//!
//! AP (`mode: "ap"`): the replica a request reaches answers at once from its own copy; a
//! write is stamped (the replica's local clock, replica, write), acknowledged at once and
//! pushed to the other replicas without waiting. Replicas also gossip their value every
//! `gossip` (anti-entropy) and keep the larger version: last write
//! wins by timestamp, so on heal one side's writes vanish, and a clock that runs ahead
//! makes its replica's writes win over later ones. (Both modes gossip; for CP it only
//! repairs replicas that missed a store.)
//!
//! Durable: each replica's value with its version (and the one before, for torn writes).
//! Volatile: requests in progress.
//!
//! Message kinds: 0 client write, 1 client read, 2 write ok, 3 read ok, 4 refused,
//! 5 query, 6 query reply, 7 store, 8 store ack, 9 gossip.
//!
//! Checkers: each write's parent is the value its replica held when it was versioned (CP:
//! the highest version read; AP: the replica's own value), so writes form a tree. An
//! acknowledged write W is displaced by a value V when W is not V or an ancestor of V and
//! no write on V's branch overlapped W in real time (overlapping writes may be ordered
//! either way). `acked_writes_lost`: when a majority of replicas is up and every live one
//! holds the same value, each acknowledged write not yet settled is settled or, if
//! displaced, lost. History older than 30 s is forgotten at such moments; what the checker
//! cannot trace back it does not flag.
//! `stale_reads`: a read returned a value that displaces a write acknowledged before the
//! read began. `diverged_replicas`: live replicas have held conflicting values (neither
//! descends from the other; a replica merely behind does not count) for longer than two
//! gossip rounds and 200 ms. `minority_refusals`: a measure of refused requests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checks::{CheckView, Checks, Sampler, SeriesView, Violation, WorldView};
use crate::error::InputError;
use crate::fault::Damage;
use crate::network::NodeId;
use crate::protocol::{Ctx, Durable, Fact, MessageInfo, NodeRender, Protocol, ProtocolView, TimerTag, NO_VALUE};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};

/// Most replicas (a majority bitmask fits in 16 bits with room to spare).
pub const MAX_REPLICAS: u32 = 9;
/// Most nodes in a register scenario.
pub const MAX_REGISTER_NODES: u32 = 64;

/// CP or AP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Majority quorums: refuse rather than diverge.
    #[default]
    Cp,
    /// Accept everywhere, reconcile by last write wins.
    Ap,
}

/// The register as a scenario writes it (milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterSpec {
    pub replicas: u32,
    pub mode: Mode,
    /// How often each client starts an operation (jittered ±25 %).
    pub op_every_ms: f64,
    /// The fraction of operations that are reads.
    pub read_ratio: f64,
    /// CP: how long a coordinator waits for a majority before refusing.
    pub quorum_timeout_ms: f64,
    /// How long a client waits for an answer.
    pub client_timeout_ms: f64,
    /// How many times a client retries (at the next replica) after a refusal or timeout.
    pub retries: u32,
    /// How often each replica gossips its value to the others.
    pub gossip_ms: f64,
}

impl Default for RegisterSpec {
    fn default() -> Self {
        RegisterSpec {
            replicas: 3,
            mode: Mode::Cp,
            op_every_ms: 500.0,
            read_ratio: 0.5,
            quorum_timeout_ms: 300.0,
            client_timeout_ms: 1_000.0,
            retries: 1,
            gossip_ms: 200.0,
        }
    }
}

/// The register in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct RegisterConfig {
    pub replicas: u32,
    pub mode: Mode,
    pub op_every_us: Micros,
    pub read_ppm: u32,
    pub quorum_timeout_us: Micros,
    pub client_timeout_us: Micros,
    pub retries: u32,
    pub gossip_us: Micros,
}

impl RegisterSpec {
    /// Validates every field against a cluster of `nodes` nodes.
    pub fn config(&self, nodes: u32) -> Result<RegisterConfig, InputError> {
        if !(1..=MAX_REPLICAS).contains(&self.replicas) {
            return Err(InputError::new(
                "replicas",
                format!("must be between 1 and {MAX_REPLICAS}, got {}", self.replicas),
            ));
        }
        if nodes <= self.replicas {
            return Err(InputError::new(
                "nodes",
                format!(
                    "a register needs at least one client besides its {} replicas: nodes must be at least {}, got {nodes}",
                    self.replicas,
                    self.replicas + 1
                ),
            ));
        }
        if nodes > MAX_REGISTER_NODES {
            return Err(InputError::new(
                "nodes",
                format!("a register scenario has at most {MAX_REGISTER_NODES} nodes, got {nodes}"),
            ));
        }
        let at_least_1ms = |ms: f64, field: &str| -> Result<Micros, InputError> {
            let us = ms_to_us(ms, field)?;
            if us < 1_000 {
                return Err(InputError::new(field, format!("must be at least 1 ms, got {ms}")));
            }
            Ok(us)
        };
        let quorum_timeout_us = at_least_1ms(self.quorum_timeout_ms, "quorum_timeout_ms")?;
        let client_timeout_us = at_least_1ms(self.client_timeout_ms, "client_timeout_ms")?;
        if quorum_timeout_us >= client_timeout_us {
            return Err(InputError::new(
                "quorum_timeout_ms",
                format!(
                    "must be shorter than client_timeout_ms ({} ms), or clients give up before a refusal reaches them; got {}",
                    self.client_timeout_ms, self.quorum_timeout_ms
                ),
            ));
        }
        if self.retries > 10 {
            return Err(InputError::new(
                "retries",
                format!("must be at most 10, got {}", self.retries),
            ));
        }
        Ok(RegisterConfig {
            replicas: self.replicas,
            mode: self.mode,
            op_every_us: at_least_1ms(self.op_every_ms, "op_every_ms")?,
            read_ppm: crate::scenario::probability_ppm(self.read_ratio, "read_ratio")?,
            quorum_timeout_us,
            client_timeout_us,
            retries: self.retries,
            gossip_us: at_least_1ms(self.gossip_ms, "gossip_ms")?,
        })
    }
}

/// A version: (counter or timestamp, replica, write), compared in that order.
pub type Version = (u64, NodeId, u64);

/// A replica's copy of the register: a value, the write that wrote it, its version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cell {
    pub version: Version,
    /// The write (client << 32 | op); 0 for the initial value.
    pub write: u64,
    pub value: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterMsg {
    ClientWrite { op: u32, write: u64, value: u32 },
    ClientRead { op: u32 },
    WriteOk { op: u32 },
    ReadOk { op: u32, write: u64, value: u32 },
    Refused { op: u32 },
    Query { op: u32 },
    QueryReply { op: u32, cell: Cell },
    Store { op: u32, cell: Cell },
    StoreAck { op: u32 },
    Gossip { cell: Cell },
}

impl MessageInfo for RegisterMsg {
    fn kind(&self) -> u8 {
        match self {
            RegisterMsg::ClientWrite { .. } => 0,
            RegisterMsg::ClientRead { .. } => 1,
            RegisterMsg::WriteOk { .. } => 2,
            RegisterMsg::ReadOk { .. } => 3,
            RegisterMsg::Refused { .. } => 4,
            RegisterMsg::Query { .. } => 5,
            RegisterMsg::QueryReply { .. } => 6,
            RegisterMsg::Store { .. } => 7,
            RegisterMsg::StoreAck { .. } => 8,
            RegisterMsg::Gossip { .. } => 9,
        }
    }
    fn kind_name(&self) -> &'static str {
        match self {
            RegisterMsg::ClientWrite { .. } => "write",
            RegisterMsg::ClientRead { .. } => "read",
            RegisterMsg::WriteOk { .. } => "write ok",
            RegisterMsg::ReadOk { .. } => "read ok",
            RegisterMsg::Refused { .. } => "refused",
            RegisterMsg::Query { .. } => "query",
            RegisterMsg::QueryReply { .. } => "query reply",
            RegisterMsg::Store { .. } => "store",
            RegisterMsg::StoreAck { .. } => "store ack",
            RegisterMsg::Gossip { .. } => "gossip",
        }
    }
    fn digest(&self) -> u64 {
        let cell = |c: &Cell| c.version.0 ^ (c.write << 8) ^ c.value as u64;
        let payload = match self {
            RegisterMsg::ClientWrite { op, write, value } => (*op as u64) ^ write << 8 ^ *value as u64,
            RegisterMsg::ClientRead { op }
            | RegisterMsg::WriteOk { op }
            | RegisterMsg::Refused { op }
            | RegisterMsg::Query { op }
            | RegisterMsg::StoreAck { op } => *op as u64,
            RegisterMsg::ReadOk { op, write, value } => (*op as u64) ^ write << 8 ^ *value as u64,
            RegisterMsg::QueryReply { op, cell: c } | RegisterMsg::Store { op, cell: c } => *op as u64 ^ cell(c),
            RegisterMsg::Gossip { cell: c } => cell(c),
        };
        (self.kind() as u64) << 58 ^ payload
    }
    fn is_work(&self) -> bool {
        matches!(self, RegisterMsg::ClientWrite { .. } | RegisterMsg::ClientRead { .. })
    }
    fn equivocate(&self, to: NodeId) -> Self {
        match *self {
            RegisterMsg::Gossip { mut cell } => {
                cell.value = cell.value.wrapping_add(to);
                RegisterMsg::Gossip { cell }
            }
            other => other,
        }
    }
    fn corrupt(&self, noise: u64) -> Self {
        let flip = |mut c: Cell| {
            c.value ^= 1 << (noise % 8);
            c
        };
        match *self {
            RegisterMsg::Gossip { cell } => RegisterMsg::Gossip { cell: flip(cell) },
            RegisterMsg::Store { op, cell } => RegisterMsg::Store { op, cell: flip(cell) },
            RegisterMsg::QueryReply { op, cell } => RegisterMsg::QueryReply { op, cell: flip(cell) },
            other => other,
        }
    }
    fn lie(&self) -> Self {
        match *self {
            // Claims its value is newer than anything: it wins every comparison.
            RegisterMsg::Gossip { mut cell } => {
                cell.version.0 = cell.version.0.saturating_add(1 << 40);
                RegisterMsg::Gossip { cell }
            }
            other => other,
        }
    }
}

/// A replica's durable copy, and the one before it (what a torn write leaves).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterDurable {
    pub cell: Cell,
    previous: Cell,
}

impl Durable for RegisterDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            Damage::Torn => self.cell = self.previous,
            Damage::Bitflip => self.cell.value ^= 1 << (noise % 8),
        }
    }
}

/// Facts for the checkers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterObs {
    /// A client sends a write (one attempt).
    Invoke {
        write: u64,
    },
    /// A replica versioned `write` on top of `parent` (the value it supersedes).
    Created {
        write: u64,
        parent: u64,
    },
    /// The client got its acknowledgement.
    Acked {
        write: u64,
    },
    ReadBegin {
        read: u64,
    },
    ReadDone {
        read: u64,
        write: u64,
    },
    Refused,
    TimedOut,
}

const OP: TimerTag = 1;
const GOSSIP: TimerTag = 2;
/// Client timeouts carry the attempt's op number in the upper bits.
const CLIENT_TIMEOUT: TimerTag = 3;
/// Coordinator timeouts carry the coordination's number in the upper bits.
const QUORUM_TIMEOUT: TimerTag = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Query,
    Store,
}

/// A request a CP replica is coordinating.
#[derive(Clone, Debug)]
struct Coordination {
    id: u32,
    client: NodeId,
    client_op: u32,
    /// The write's (id, value), or None for a read.
    write: Option<(u64, u32)>,
    phase: Phase,
    /// Replicas that answered this phase (bit per replica).
    heard: u16,
    best: Cell,
}

/// A client's operation in flight.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    op: u32,
    replica: NodeId,
    tries: u32,
    /// The write and its value, or None for a read.
    write: Option<(u64, u32)>,
}

#[derive(Clone, Debug)]
pub struct Register {
    config: RegisterConfig,
    id: NodeId,
    nodes: u32,
    durable: RegisterDurable,
    // replica
    coordinating: Vec<Coordination>,
    next_coordination: u32,
    // client
    next_op: u32,
    writes_made: u32,
    pending: Option<Attempt>,
    ok: u64,
    refused: u64,
    timed_out: u64,
    last_seen: Option<u32>,
    rng: Rng,
}

impl Register {
    pub fn is_replica(&self) -> bool {
        self.id < self.config.replicas
    }

    /// The replica's current copy.
    pub fn cell(&self) -> Cell {
        self.durable.cell
    }

    fn majority(&self) -> u32 {
        self.config.replicas / 2 + 1
    }

    fn install(&mut self, cell: Cell) -> bool {
        if cell.version > self.durable.cell.version {
            self.durable.previous = self.durable.cell;
            self.durable.cell = cell;
            true
        } else {
            false
        }
    }

    fn to_other_replicas(&self, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        for r in 0..self.config.replicas {
            if r != self.id {
                ctx.send(r, msg);
            }
        }
    }

    // ---- replica ----

    fn replica_message(&mut self, from: NodeId, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let from_replica = from < self.config.replicas;
        match msg {
            RegisterMsg::ClientWrite { op, write, value } if !from_replica => match self.config.mode {
                Mode::Ap => {
                    let version = (ctx.now_local_us, self.id, write);
                    ctx.observe(RegisterObs::Created {
                        write,
                        parent: self.durable.cell.write,
                    });
                    // A write stamped earlier than the value held is acknowledged and lost.
                    let cell = Cell { version, write, value };
                    if self.install(cell) {
                        // Replicate at once, without waiting (asynchronous replication).
                        self.to_other_replicas(RegisterMsg::Gossip { cell }, ctx);
                    }
                    ctx.send(from, RegisterMsg::WriteOk { op });
                }
                Mode::Cp => self.coordinate(from, op, Some((write, value)), ctx),
            },
            RegisterMsg::ClientRead { op } if !from_replica => match self.config.mode {
                Mode::Ap => {
                    let c = self.durable.cell;
                    ctx.send(
                        from,
                        RegisterMsg::ReadOk {
                            op,
                            write: c.write,
                            value: c.value,
                        },
                    );
                }
                Mode::Cp => self.coordinate(from, op, None, ctx),
            },
            RegisterMsg::Query { op } if from_replica => ctx.send(
                from,
                RegisterMsg::QueryReply {
                    op,
                    cell: self.durable.cell,
                },
            ),
            RegisterMsg::QueryReply { op, cell } if from_replica => self.heard(op, from, Phase::Query, Some(cell), ctx),
            RegisterMsg::Store { op, cell } if from_replica => {
                self.install(cell);
                ctx.send(from, RegisterMsg::StoreAck { op });
            }
            RegisterMsg::StoreAck { op } if from_replica => self.heard(op, from, Phase::Store, None, ctx),
            RegisterMsg::Gossip { cell } if from_replica => {
                self.install(cell);
            }
            _ => {}
        }
    }

    fn coordinate(
        &mut self,
        client: NodeId,
        client_op: u32,
        write: Option<(u64, u32)>,
        ctx: &mut Ctx<RegisterMsg, RegisterObs>,
    ) {
        self.next_coordination += 1;
        let id = self.next_coordination;
        self.coordinating.push(Coordination {
            id,
            client,
            client_op,
            write,
            phase: Phase::Query,
            heard: 0,
            best: Cell::default(),
        });
        ctx.set_timer(self.config.quorum_timeout_us, QUORUM_TIMEOUT | (id as u64) << 8);
        self.to_other_replicas(RegisterMsg::Query { op: id }, ctx);
        let own = self.durable.cell;
        self.heard(id, self.id, Phase::Query, Some(own), ctx);
    }

    /// Replica `from` answered phase `phase` of coordination `op`.
    fn heard(
        &mut self,
        op: u32,
        from: NodeId,
        phase: Phase,
        cell: Option<Cell>,
        ctx: &mut Ctx<RegisterMsg, RegisterObs>,
    ) {
        let majority = self.majority();
        let Some(i) = self.coordinating.iter().position(|c| c.id == op && c.phase == phase) else {
            return;
        };
        let c = &mut self.coordinating[i];
        c.heard |= 1 << from;
        if let Some(cell) = cell.filter(|cell| cell.version > c.best.version) {
            c.best = cell;
        }
        if c.heard.count_ones() < majority {
            return;
        }
        match phase {
            Phase::Query => {
                let cell = match c.write {
                    Some((write, value)) => {
                        ctx.observe(RegisterObs::Created {
                            write,
                            parent: c.best.write,
                        });
                        Cell {
                            version: (c.best.version.0 + 1, self.id, write),
                            write,
                            value,
                        }
                    }
                    None => c.best, // a read writes back what it will return
                };
                c.phase = Phase::Store;
                c.heard = 0;
                c.best = cell;
                self.to_other_replicas(RegisterMsg::Store { op, cell }, ctx);
                self.install(cell);
                self.heard(op, self.id, Phase::Store, None, ctx);
            }
            Phase::Store => {
                let c = self.coordinating.swap_remove(i);
                let reply = match c.write {
                    Some(_) => RegisterMsg::WriteOk { op: c.client_op },
                    None => RegisterMsg::ReadOk {
                        op: c.client_op,
                        write: c.best.write,
                        value: c.best.value,
                    },
                };
                ctx.send(c.client, reply);
            }
        }
    }

    // ---- client ----

    fn client_index(&self) -> u32 {
        self.id - self.config.replicas
    }

    fn start_op(&mut self, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        if self.pending.is_some() {
            return;
        }
        let read = self.rng.chance_ppm(self.config.read_ppm);
        let home = self.client_index() % self.config.replicas;
        self.attempt(home, 0, read, ctx);
    }

    fn attempt(&mut self, replica: NodeId, tries: u32, read: bool, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        self.next_op += 1;
        let op = self.next_op;
        let id = (self.id as u64) << 32 | op as u64;
        let write = if read {
            ctx.observe(RegisterObs::ReadBegin { read: id });
            ctx.send(replica, RegisterMsg::ClientRead { op });
            None
        } else {
            let clients = self.nodes - self.config.replicas;
            let value = self.writes_made * clients + self.client_index() + 1;
            self.writes_made += 1;
            ctx.observe(RegisterObs::Invoke { write: id });
            ctx.send(replica, RegisterMsg::ClientWrite { op, write: id, value });
            Some((id, value))
        };
        self.pending = Some(Attempt {
            op,
            replica,
            tries,
            write,
        });
        ctx.set_timer(self.config.client_timeout_us, CLIENT_TIMEOUT | (op as u64) << 8);
    }

    /// The attempt failed (refused or timed out): retry at the next replica, if allowed.
    fn failed(&mut self, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let Some(a) = self.pending.take() else { return };
        if a.tries < self.config.retries {
            let next = (a.replica + 1) % self.config.replicas;
            self.attempt(next, a.tries + 1, a.write.is_none(), ctx);
        }
    }

    fn client_message(&mut self, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let Some(a) = self.pending else { return };
        let id = (self.id as u64) << 32 | a.op as u64;
        match msg {
            RegisterMsg::WriteOk { op } if op == a.op => {
                self.pending = None;
                self.ok += 1;
                self.last_seen = a.write.map(|(_, v)| v);
                ctx.observe(RegisterObs::Acked { write: id });
            }
            RegisterMsg::ReadOk { op, write, value } if op == a.op => {
                self.pending = None;
                self.ok += 1;
                self.last_seen = Some(value);
                ctx.observe(RegisterObs::ReadDone { read: id, write });
            }
            RegisterMsg::Refused { op } if op == a.op => {
                self.refused += 1;
                ctx.observe(RegisterObs::Refused);
                self.failed(ctx);
            }
            _ => {}
        }
    }
}

impl Protocol for Register {
    type Config = RegisterConfig;
    type Msg = RegisterMsg;
    type Durable = RegisterDurable;
    type Obs = RegisterObs;
    type Checks = RegisterChecks;
    const NAME: &'static str = "register";
    const MESSAGE_KINDS: &'static [(u8, &'static str)] = &[
        (0, "write"),
        (1, "read"),
        (2, "write ok"),
        (3, "read ok"),
        (4, "refused"),
        (5, "query"),
        (6, "query reply"),
        (7, "store"),
        (8, "store ack"),
        (9, "gossip"),
    ];

    fn boot(
        config: &RegisterConfig,
        id: NodeId,
        nodes: u32,
        durable: RegisterDurable,
        rng: Rng,
        ctx: &mut Ctx<RegisterMsg, RegisterObs>,
    ) -> Self {
        let mut node = Register {
            config: config.clone(),
            id,
            nodes,
            durable,
            coordinating: Vec::new(),
            next_coordination: 0,
            next_op: 0,
            writes_made: 0,
            pending: None,
            ok: 0,
            refused: 0,
            timed_out: 0,
            last_seen: None,
            rng,
        };
        if node.is_replica() {
            let phase = node.rng.between(1, config.gossip_us);
            ctx.set_timer(phase, GOSSIP);
        } else {
            let phase = node.rng.between(1, config.op_every_us);
            ctx.set_timer(phase, OP);
        }
        node
    }

    fn on_message(&mut self, from: NodeId, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        if self.is_replica() {
            self.replica_message(from, msg, ctx);
        } else if from < self.config.replicas {
            self.client_message(msg, ctx);
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let arg = (tag >> 8) as u32;
        match tag & 0xFF {
            GOSSIP => {
                self.to_other_replicas(
                    RegisterMsg::Gossip {
                        cell: self.durable.cell,
                    },
                    ctx,
                );
                ctx.set_timer(self.config.gossip_us, GOSSIP);
            }
            QUORUM_TIMEOUT => {
                if let Some(i) = self.coordinating.iter().position(|c| c.id == arg) {
                    let c = self.coordinating.swap_remove(i);
                    ctx.send(c.client, RegisterMsg::Refused { op: c.client_op });
                }
            }
            OP => {
                self.start_op(ctx);
                let every = self.config.op_every_us;
                let next = self.rng.between(every - every / 4, every + every / 4);
                ctx.set_timer(next, OP);
            }
            CLIENT_TIMEOUT if self.pending.is_some_and(|a| a.op == arg) => {
                self.timed_out += 1;
                ctx.observe(RegisterObs::TimedOut);
                self.failed(ctx);
            }
            _ => {}
        }
    }

    fn durable(&self) -> RegisterDurable {
        self.durable
    }

    fn view(&self, _now_local_us: Micros) -> ProtocolView {
        let fact = |label, value: String| Fact { label, value };
        let mode = match self.config.mode {
            Mode::Cp => "CP (majority quorums)",
            Mode::Ap => "AP (last write wins)",
        };
        let mut facts = Vec::new();
        if self.is_replica() {
            let c = self.durable.cell;
            facts.push(fact("role", "replica".into()));
            facts.push(fact("mode", mode.into()));
            facts.push(fact("value", c.value.to_string()));
            let version = match self.config.mode {
                Mode::Cp => format!("{} (by replica {})", c.version.0, c.version.1),
                Mode::Ap => format!("stamped {:.1} ms by replica {}", us_to_ms(c.version.0), c.version.1),
            };
            facts.push(fact("version", version));
            let writer = if c.write == 0 {
                "initial".into()
            } else {
                format!("node {} op {}", c.write >> 32, c.write & 0xFFFF_FFFF)
            };
            facts.push(fact("written by", writer));
            if self.config.mode == Mode::Cp {
                facts.push(fact("coordinating", self.coordinating.len().to_string()));
            }
        } else {
            let home = self.client_index() % self.config.replicas;
            facts.push(fact("role", "client".into()));
            facts.push(fact("home replica", home.to_string()));
            facts.push(fact("answered", self.ok.to_string()));
            facts.push(fact("refused", self.refused.to_string()));
            facts.push(fact("timed out", self.timed_out.to_string()));
            let last = self.last_seen.map_or("none".into(), |v| v.to_string());
            facts.push(fact("last value seen", last));
        }
        ProtocolView {
            facts,
            ..ProtocolView::default()
        }
    }

    fn render(&self) -> NodeRender {
        if self.is_replica() {
            let c = self.durable.cell;
            NodeRender {
                role: 10,
                term: c.version.0.min(u32::MAX as u64) as u32,
                value: c.value as f64,
                queue: self.coordinating.len() as u32,
                ..NodeRender::none()
            }
        } else {
            NodeRender {
                role: 4,
                value: self.last_seen.map_or(NO_VALUE, |v| v as f64),
                ..NodeRender::none()
            }
        }
    }

    fn layout(config: &RegisterConfig, nodes: u32) -> Vec<f32> {
        // Replicas on an inner circle; each client outside, beside its home replica.
        let r = config.replicas;
        let angle = |i: f32| -core::f32::consts::FRAC_PI_2 + 2.0 * core::f32::consts::PI * i / r as f32;
        let mut xy = Vec::with_capacity(2 * nodes as usize);
        for i in 0..r {
            let a = angle(i as f32);
            xy.push(0.45 * libm::cosf(a));
            xy.push(0.45 * libm::sinf(a));
        }
        let clients = nodes - r;
        let rounds = clients.div_ceil(r);
        for c in 0..clients {
            let (home, round) = (c % r, c / r);
            // Clients sharing a home fan out across its sector.
            let spread = 0.8 / r as f32;
            let offset = if rounds == 1 {
                0.0
            } else {
                spread * (round as f32 / (rounds - 1) as f32 - 0.5)
            };
            let a = angle(home as f32) + offset * core::f32::consts::PI;
            xy.push(0.88 * libm::cosf(a));
            xy.push(0.88 * libm::sinf(a));
        }
        xy
    }
}

/// What the checker knows of one write.
#[derive(Clone, Copy, Debug)]
struct WriteRec {
    parent: Option<u64>,
    invoked_us: Micros,
    acked_us: Option<Micros>,
}

/// How long the checker keeps settled history (for ancestry of writes still in flight).
const HISTORY_US: Micros = 30_000_000;
/// Longest ancestry walk (a bound, never reached with the history above).
const MAX_WALK: usize = 200_000;
/// How often the checkers sample their series, and how many samples they keep.
const SAMPLE_US: Micros = 100_000;
const SAMPLES_MAX: usize = 600;
/// How many of the latest acknowledged writes a read is checked against.
const STALE_CHECK_MAX: usize = 256;
/// Most acknowledged writes awaiting agreement; older ones go unchecked beyond this.
const PENDING_MAX: usize = 50_000;
/// Most write records kept; past this, history older than `HISTORY_US` is pruned even
/// without agreement.
const RECORDS_MAX: usize = 200_000;
/// How many lost writes and stale reads the checker names.
const NAMED_MAX: usize = 16;

/// The register's checkers.
#[derive(Clone, Debug)]
pub struct RegisterChecks {
    replicas: u32,
    divergence_limit_us: Micros,
    writes: BTreeMap<u64, WriteRec>,
    reads: BTreeMap<u64, Micros>,
    /// Acknowledged writes not yet settled or lost.
    pending: Vec<u64>,
    settled: u64,
    acked: u64,
    lost: Violation,
    lost_count: u64,
    lost_named: Vec<u64>,
    stale: Violation,
    stale_count: u64,
    stale_named: Vec<(u64, u64)>,
    refused: u64,
    timed_out: u64,
    diverged: Violation,
    /// Each replica's value (write) as last seen; None while crashed.
    values: Vec<Option<u64>>,
    conflict_since_us: Option<Micros>,
    conflicting: Vec<NodeId>,
    lagging: u32,
    pruned_at_us: Micros,
    unchecked: u64,
    /// Lost writes, stale reads, refusals and conflicting replicas, over time.
    sampler: Sampler,
    scratch: Vec<u64>,
    lineage_scratch: Vec<u64>,
}

impl RegisterChecks {
    fn overlap(&self, a: u64, b: u64) -> bool {
        let (Some(x), Some(y)) = (self.writes.get(&a), self.writes.get(&b)) else {
            return false;
        };
        let end = |r: &WriteRec| r.acked_us.unwrap_or(Micros::MAX);
        x.invoked_us < end(y) && y.invoked_us < end(x)
    }

    /// Live replicas whose values conflict (neither descends from the other), into
    /// `conflicting`; a replica that is merely behind does not conflict.
    fn find_conflicts(&mut self) {
        self.conflicting.clear();
        self.lagging = 0;
        let mut distinct: Vec<u64> = self.values.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 2 {
            return;
        }
        let mut lineages: Vec<Vec<u64>> = Vec::with_capacity(distinct.len());
        for &v in &distinct {
            let mut line = Vec::new();
            Self::lineage(&self.writes, v, &mut line);
            lineages.push(line);
        }
        let mut bad = vec![false; distinct.len()];
        for a in 0..distinct.len() {
            for b in a + 1..distinct.len() {
                let related =
                    lineages[a].binary_search(&distinct[b]).is_ok() || lineages[b].binary_search(&distinct[a]).is_ok();
                if !related {
                    bad[a] = true;
                    bad[b] = true;
                }
            }
        }
        for (i, value) in self.values.iter().enumerate() {
            let Some(v) = value else { continue };
            let k = distinct.binary_search(v).expect("listed");
            if bad[k] {
                self.conflicting.push(i as NodeId);
            } else if (lineages.iter().enumerate()).any(|(j, line)| j != k && line.binary_search(v).is_ok()) {
                self.lagging += 1;
            }
        }
    }

    /// The ancestors of `v` and `v` itself, sorted, into `out`; false if the walk ran
    /// into pruned history (then the list is partial).
    fn lineage(writes: &BTreeMap<u64, WriteRec>, v: u64, out: &mut Vec<u64>) -> bool {
        out.clear();
        let mut at = v;
        let complete = loop {
            out.push(at);
            match writes.get(&at).map(|r| r.parent) {
                Some(Some(parent)) if out.len() < MAX_WALK => at = parent,
                Some(None) => break true,
                _ => break false,
            }
        };
        out.sort_unstable();
        complete
    }

    /// Whether value `v` displaces acknowledged write `w` (see the module doc), given
    /// `v`'s lineage. Unknown (history pruned) counts as not displaced: the checker flags
    /// only what it can show.
    fn displaces(&mut self, v: u64, w: u64, v_lineage: &[u64]) -> bool {
        if v_lineage.binary_search(&w).is_ok() {
            return false; // w is v or an ancestor of v
        }
        let mut w_lineage = std::mem::take(&mut self.scratch);
        let w_complete = Self::lineage(&self.writes, w, &mut w_lineage);
        let mut at = v;
        let mut steps = 0;
        let displaced = loop {
            if w_lineage.binary_search(&at).is_ok() {
                break true; // the fork: v's branch from here on never saw w
            }
            if self.overlap(at, w) {
                break false; // a write on v's branch overlapped w: either order is fine
            }
            steps += 1;
            match self.writes.get(&at).map(|r| r.parent) {
                Some(Some(parent)) if steps < MAX_WALK => at = parent,
                // Both lines end at the root without meeting: only if both are complete.
                Some(None) => break w_complete,
                _ => break false,
            }
        };
        self.scratch = w_lineage;
        displaced
    }

    fn resolve(&mut self, now_us: Micros, v: u64) {
        let pending = std::mem::take(&mut self.pending);
        let mut v_lineage = std::mem::take(&mut self.lineage_scratch);
        Self::lineage(&self.writes, v, &mut v_lineage);
        for &w in &pending {
            if self.displaces(v, w, &v_lineage) {
                self.lost_count += 1;
                if self.lost_named.len() < NAMED_MAX {
                    self.lost_named.push(w);
                }
                self.lost.latch(now_us);
            } else {
                self.settled += 1;
            }
        }
        self.lineage_scratch = v_lineage;
        self.pending = pending;
        self.pending.clear();
        if now_us >= self.pruned_at_us + HISTORY_US {
            self.prune(now_us, Some(v));
        }
    }

    /// Forgets writes begun more than `HISTORY_US` ago; `root` (the agreed value) stays,
    /// as the root of everything after it.
    fn prune(&mut self, now_us: Micros, root: Option<u64>) {
        self.pruned_at_us = now_us;
        let horizon = now_us.saturating_sub(HISTORY_US);
        let mut pending = self.pending.clone();
        pending.sort_unstable();
        self.writes.retain(|id, r| {
            Some(*id) == root || *id == 0 || r.invoked_us >= horizon || pending.binary_search(id).is_ok()
        });
        if let Some(r) = root.and_then(|v| self.writes.get_mut(&v)) {
            r.parent = None;
        }
        self.reads.retain(|_, &mut start| start >= horizon);
    }

    pub fn lost(&self) -> u64 {
        self.lost_count
    }
}

impl Checks<Register> for RegisterChecks {
    fn new(config: &RegisterConfig, _nodes: u32) -> Self {
        let mut writes = BTreeMap::new();
        writes.insert(
            0,
            WriteRec {
                parent: None,
                invoked_us: 0,
                acked_us: Some(0),
            },
        );
        RegisterChecks {
            replicas: config.replicas,
            divergence_limit_us: 2 * config.gossip_us + 200_000,
            writes,
            reads: BTreeMap::new(),
            pending: Vec::new(),
            settled: 0,
            acked: 0,
            lost: Violation::default(),
            lost_count: 0,
            lost_named: Vec::new(),
            stale: Violation::default(),
            stale_count: 0,
            stale_named: Vec::new(),
            refused: 0,
            timed_out: 0,
            diverged: Violation::default(),
            values: vec![None; config.replicas as usize],
            conflict_since_us: None,
            conflicting: Vec::new(),
            lagging: 0,
            pruned_at_us: 0,
            unchecked: 0,
            sampler: Sampler::new(SAMPLE_US, 4, SAMPLES_MAX),
            scratch: Vec::new(),
            lineage_scratch: Vec::new(),
        }
    }

    fn observe(&mut self, now_us: Micros, _node: NodeId, obs: &RegisterObs) {
        match *obs {
            RegisterObs::Invoke { write } => {
                self.writes.insert(
                    write,
                    WriteRec {
                        parent: None,
                        invoked_us: now_us,
                        acked_us: None,
                    },
                );
            }
            RegisterObs::Created { write, parent } => {
                if let Some(r) = self.writes.get_mut(&write) {
                    r.parent = Some(parent);
                }
            }
            RegisterObs::Acked { write } => {
                if let Some(r) = self.writes.get_mut(&write) {
                    r.acked_us = Some(now_us);
                    if self.pending.len() >= PENDING_MAX {
                        self.pending.remove(0);
                        self.unchecked += 1;
                    }
                    self.pending.push(write);
                    self.acked += 1;
                }
                if self.writes.len() > RECORDS_MAX {
                    self.prune(now_us, None);
                }
            }
            RegisterObs::ReadBegin { read } => {
                self.reads.insert(read, now_us);
            }
            RegisterObs::ReadDone { read, write } => {
                let Some(start) = self.reads.remove(&read) else { return };
                // The most recent acknowledged writes that ended before the read began.
                let before: Vec<u64> = (self.pending.iter().rev().copied())
                    .filter(|w| self.writes.get(w).and_then(|r| r.acked_us).is_some_and(|t| t < start))
                    .take(STALE_CHECK_MAX)
                    .collect();
                let mut lineage = std::mem::take(&mut self.lineage_scratch);
                Self::lineage(&self.writes, write, &mut lineage);
                let missed = before.iter().copied().find(|&w| self.displaces(write, w, &lineage));
                self.lineage_scratch = lineage;
                if let Some(w) = missed {
                    self.stale_count += 1;
                    if self.stale_named.len() < NAMED_MAX {
                        self.stale_named.push((read, w));
                    }
                    self.stale.latch(now_us);
                }
            }
            RegisterObs::Refused => self.refused += 1,
            RegisterObs::TimedOut => self.timed_out += 1,
        }
    }

    fn after_event(&mut self, world: &WorldView<'_, Register>) {
        let replicas = &world.protocols[..self.replicas as usize];
        let mut up = 0;
        let mut first: Option<u64> = None;
        let mut agree = true;
        let mut changed = false;
        for (i, p) in replicas.iter().enumerate() {
            let value = p.as_ref().map(|p| p.cell().write);
            if self.values[i] != value {
                self.values[i] = value;
                changed = true;
            }
            let Some(w) = value else { continue };
            up += 1;
            match first {
                None => first = Some(w),
                Some(f) if f != w => agree = false,
                _ => {}
            }
        }
        let now = world.now_us;
        if changed {
            self.find_conflicts();
            match (self.conflicting.is_empty(), self.conflict_since_us) {
                (false, None) => self.conflict_since_us = Some(now),
                (true, Some(_)) => self.conflict_since_us = None,
                _ => {}
            }
        }
        let too_long = self
            .conflict_since_us
            .is_some_and(|since| now - since > self.divergence_limit_us);
        if too_long == self.diverged.holds() {
            self.diverged.update(now, too_long);
        }
        if let (true, true, Some(v)) = (up * 2 > self.replicas, agree, first) {
            if !self.pending.is_empty() {
                self.resolve(now, v);
            }
        }
        if self.sampler.due(now) {
            let row = [
                self.lost_count as f64,
                self.stale_count as f64,
                self.refused as f64,
                self.conflicting.len() as f64,
            ];
            self.sampler.push(now, &row);
        }
    }

    fn series(&self) -> Vec<SeriesView> {
        vec![
            self.sampler
                .series(0, "acked_writes_lost", "Acknowledged writes lost", "writes"),
            self.sampler.series(1, "stale_reads", "Stale reads", "reads"),
            self.sampler.series(2, "refused", "Requests refused", "requests"),
            self.sampler.series(
                3,
                "conflicting_replicas",
                "Replicas holding conflicting values",
                "replicas",
            ),
        ]
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let name = |w: u64| format!("node {} op {}", w >> 32, w & 0xFFFF_FFFF);
        let lost_detail = if self.lost_count == 0 {
            format!(
                "{} acknowledged writes, {} settled, none lost{}",
                self.acked,
                self.settled,
                if self.unchecked > 0 {
                    format!(" ({} too old to check)", self.unchecked)
                } else {
                    String::new()
                }
            )
        } else {
            let named: Vec<String> = self.lost_named.iter().map(|&w| name(w)).collect();
            format!("{} acknowledged writes lost: {}", self.lost_count, named.join(", "))
        };
        let lost_nodes = self.lost_named.iter().map(|&w| (w >> 32) as NodeId).collect();
        let stale_detail = match self.stale_named.last() {
            None => "no read returned a value older than an acknowledged write".into(),
            Some(&(r, w)) => format!("{} stale reads; last: {} missed {}", self.stale_count, name(r), name(w)),
        };
        let stale_nodes = self.stale_named.iter().map(|&(r, _)| (r >> 32) as NodeId).collect();
        let diverged_detail = match self.conflict_since_us {
            Some(since) => format!(
                "replicas {:?} hold conflicting values, for {} ms",
                self.conflicting,
                us_to_ms(now_us - since).round()
            ),
            None if self.lagging > 0 => format!("{} replica(s) behind, none conflicting", self.lagging),
            None => "live replicas agree or are merely behind".into(),
        };
        let measure = Violation::default();
        vec![
            self.lost.view(
                "acked_writes_lost",
                "No acknowledged write is silently discarded",
                lost_detail,
                lost_nodes,
            ),
            self.stale.view(
                "stale_reads",
                "No read returns a value older than a write acknowledged before it began",
                stale_detail,
                stale_nodes,
            ),
            self.diverged.view(
                "diverged_replicas",
                "Live replicas never hold conflicting values for longer than two gossip rounds",
                diverged_detail,
                self.conflicting.clone(),
            ),
            measure.view(
                "minority_refusals",
                "Requests refused for want of a majority (a measure)",
                format!("{} refused, {} timed out", self.refused, self.timed_out),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, now_us: Micros) -> Vec<String> {
        vec![
            format!("acked writes: {}", self.acked),
            format!("acked writes lost: {}", self.lost_count),
            format!("stale reads: {}", self.stale_count),
            format!("refused: {}", self.refused),
            format!("timed out: {}", self.timed_out),
            format!(
                "replicas diverged: {} ms",
                us_to_ms(self.diverged.total_us(now_us)).round()
            ),
        ]
    }
}
