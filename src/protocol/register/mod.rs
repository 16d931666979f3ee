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
//! Message kinds: listed once, in the `message_kinds!` line below.
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
//! `linearizable`: the clients' operations, recorded as a history (each attempt one
//! operation; a refused or timed-out one of unknown outcome, since a store may still land),
//! have an order in which each takes effect between its call and its return
//! (`crate::history`, checked every simulated second).

mod byzantine;
mod checks;
mod view;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::timers::{timer_arg, timer_kind, timer_tag};
use crate::protocol::workload::{request_id, Requests};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{Damage, NodeId};

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
            read_ppm: crate::vocab::probability_ppm(self.read_ratio, "read_ratio")?,
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

message_kinds!(RegisterMsg {
    ClientWrite = 0 "write",
    ClientRead = 1 "read",
    WriteOk = 2 "write ok",
    ReadOk = 3 "read ok",
    Refused = 4 "refused",
    Query = 5 "query",
    QueryReply = 6 "query reply",
    Store = 7 "store",
    StoreAck = 8 "store ack",
    Gossip = 9 "gossip",
});

impl MessageInfo for RegisterMsg {
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
    /// A client sends a write (one attempt) of `value`.
    Invoke {
        write: u64,
        value: u32,
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
    /// The client got its read's answer: `value`, written by `write`.
    ReadDone {
        read: u64,
        write: u64,
        value: u32,
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

/// What a client's request asks: the write and its value, or None for a read. Every
/// try is a new op, sent to `Requests::target`.
type Ask = Option<(u64, u32)>;

/// A node: a replica or a client, each with only its own fields.
#[derive(Clone, Debug)]
pub enum Register {
    Replica(Replica),
    Client(Client),
}

/// A replica: its copy of the register and, in CP mode, the requests it coordinates.
#[derive(Clone, Debug)]
pub struct Replica {
    config: RegisterConfig,
    id: NodeId,
    durable: RegisterDurable,
    rng: Rng,
    coordinating: Vec<Coordination>,
    next_coordination: u32,
}

/// A client: one request at a time to its home replica, retried at the next.
#[derive(Clone, Debug)]
pub struct Client {
    config: RegisterConfig,
    id: NodeId,
    nodes: u32,
    durable: RegisterDurable,
    rng: Rng,
    requests: Requests<Ask>,
    writes_made: u32,
    refused: u64,
    last_seen: Option<u32>,
}

impl Register {
    pub fn is_replica(&self) -> bool {
        matches!(self, Register::Replica(_))
    }

    /// The replica's current copy (a client holds none: the initial cell).
    pub fn cell(&self) -> Cell {
        match self {
            Register::Replica(r) => r.durable.cell,
            Register::Client(c) => c.durable.cell,
        }
    }
}

impl Replica {
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
        ctx.set_timer(self.config.quorum_timeout_us, timer_tag(QUORUM_TIMEOUT, id as u64));
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
}

impl Client {
    fn client_index(&self) -> u32 {
        self.id - self.config.replicas
    }

    fn start_op(&mut self, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        if !self.requests.is_idle() {
            return;
        }
        let read = self.rng.chance_ppm(self.config.read_ppm);
        let home = self.client_index() % self.config.replicas;
        self.attempt(home, 0, read, ctx);
    }

    fn attempt(&mut self, replica: NodeId, tries: u32, read: bool, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let op = self.requests.next_op();
        let id = request_id(self.id, op);
        let write = if read {
            ctx.observe(RegisterObs::ReadBegin { read: id });
            ctx.send(replica, RegisterMsg::ClientRead { op });
            None
        } else {
            let clients = self.nodes - self.config.replicas;
            let value = self.writes_made * clients + self.client_index() + 1;
            self.writes_made += 1;
            ctx.observe(RegisterObs::Invoke { write: id, value });
            ctx.send(replica, RegisterMsg::ClientWrite { op, write: id, value });
            Some((id, value))
        };
        self.requests.target = replica;
        self.requests.begin(op, tries, write);
        self.requests
            .arm_timeout(ctx, self.config.client_timeout_us, CLIENT_TIMEOUT, op as u64);
    }

    /// The attempt failed (refused or timed out): retry at the next replica, if allowed.
    fn failed(&mut self, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let Some(a) = self.requests.take() else { return };
        if self.requests.may_retry(a.tries) {
            self.requests.follow(None, self.config.replicas);
            self.attempt(self.requests.target, a.tries + 1, a.what.is_none(), ctx);
        }
    }

    fn client_message(&mut self, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let Some(a) = self.requests.in_flight() else { return };
        let id = request_id(self.id, a.op);
        match msg {
            RegisterMsg::WriteOk { op } if op == a.op => {
                self.requests.complete();
                self.last_seen = a.what.map(|(_, v)| v);
                ctx.observe(RegisterObs::Acked { write: id });
            }
            RegisterMsg::ReadOk { op, write, value } if op == a.op => {
                self.requests.complete();
                self.last_seen = Some(value);
                ctx.observe(RegisterObs::ReadDone { read: id, write, value });
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
    const NAME: &'static str = "register";

    fn boot(
        config: &RegisterConfig,
        id: NodeId,
        nodes: u32,
        durable: RegisterDurable,
        rng: Rng,
        ctx: &mut Ctx<RegisterMsg, RegisterObs>,
    ) -> Self {
        let config = config.clone();
        if id < config.replicas {
            let mut node = Replica {
                config,
                id,
                durable,
                rng,
                coordinating: Vec::new(),
                next_coordination: 0,
            };
            let phase = node.rng.between(1, node.config.gossip_us);
            ctx.set_timer(phase, GOSSIP);
            Register::Replica(node)
        } else {
            let mut node = Client {
                requests: Requests::new(0, config.retries),
                config,
                id,
                nodes,
                durable,
                rng,
                writes_made: 0,
                refused: 0,
                last_seen: None,
            };
            let phase = node.rng.between(1, node.config.op_every_us);
            ctx.set_timer(phase, OP);
            Register::Client(node)
        }
    }

    fn on_message(&mut self, from: NodeId, msg: RegisterMsg, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        match self {
            Register::Replica(r) => r.replica_message(from, msg, ctx),
            Register::Client(c) if from < c.config.replicas => c.client_message(msg, ctx),
            Register::Client(_) => {}
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<RegisterMsg, RegisterObs>) {
        let arg = timer_arg(tag) as u32;
        match (self, timer_kind(tag)) {
            (Register::Replica(r), GOSSIP) => {
                r.to_other_replicas(RegisterMsg::Gossip { cell: r.durable.cell }, ctx);
                ctx.set_timer(r.config.gossip_us, GOSSIP);
            }
            (Register::Replica(r), QUORUM_TIMEOUT) => {
                if let Some(i) = r.coordinating.iter().position(|c| c.id == arg) {
                    let c = r.coordinating.swap_remove(i);
                    ctx.send(c.client, RegisterMsg::Refused { op: c.client_op });
                }
            }
            (Register::Client(c), OP) => {
                c.start_op(ctx);
                let every = c.config.op_every_us;
                let next = c.rng.between(every - every / 4, every + every / 4);
                ctx.set_timer(next, OP);
            }
            (Register::Client(c), CLIENT_TIMEOUT) if c.requests.is_current_op(arg) => {
                c.requests.timeouts += 1;
                ctx.observe(RegisterObs::TimedOut);
                c.failed(ctx);
            }
            _ => {}
        }
    }

    fn durable(&self) -> RegisterDurable {
        match self {
            Register::Replica(r) => r.durable,
            Register::Client(c) => c.durable,
        }
    }
}
