//! A replicated key-value store whose replicas settle conflicting writes by timestamp: the
//! protocol that shows why physical clocks cannot order events and what logical clocks do
//! instead. Every replica writes a random key now and then (as if a client wrote there),
//! applies it locally and sends it to every other replica; a replica that receives a write
//! keeps one version per key by the scenario's `timestamps`:
//!
//! - `physical`: last write wins by the writer's wall clock (then node id). With a skewed
//!   clock, a write that really came later can carry the smaller timestamp and is dropped.
//! - `hlc`: last write wins by hybrid logical clock: a write stamps a value larger than
//!   that of every write its replica had seen, so causally ordered writes are never lost.
//! - `vector`: versions carry vector clocks; a version dominated by another is replaced,
//!   concurrent versions are all kept as siblings (a conflict, shown, not lost).
//!
//! Every replica also keeps a Lamport clock. Durable: the store, the write counter, the
//! Lamport clock and the HLC, so none of them goes back after a restart.

mod byzantine;
mod checks;
pub mod clocks;
mod view;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, Micros};
use crate::vocab::{Damage, NodeId};
use clocks::{Hlc, VectorClock};

/// How replicas order conflicting writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timestamps {
    /// Last write wins by the writer's physical (wall) clock.
    Physical,
    /// Last write wins by hybrid logical clock.
    #[default]
    Hlc,
    /// Vector clocks; concurrent writes kept as siblings.
    Vector,
}

/// The store's parameters as a scenario writes them
/// (`{"kind": "kv", "timestamps": "physical", "keys": 1, "write_every_ms": 400}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KvSpec {
    pub timestamps: Timestamps,
    /// How many keys the replicas write (each write picks one at random).
    pub keys: u32,
    /// Mean time between a replica's writes (each gap drawn uniformly in [½, 1½]×).
    pub write_every_ms: f64,
    /// Replicas that write; the others only replicate (default: every replica).
    pub writers: Option<Vec<NodeId>>,
}

impl Default for KvSpec {
    fn default() -> Self {
        KvSpec {
            timestamps: Timestamps::Hlc,
            keys: 1,
            write_every_ms: 500.0,
            writers: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct KvConfig {
    pub timestamps: Timestamps,
    pub keys: u32,
    pub write_every_us: Micros,
    /// Per replica: whether it writes.
    pub writes: Vec<bool>,
}

/// Most keys a store may have.
pub const MAX_KEYS: u32 = 16;
/// Most replicas (vector clocks travel on every write).
pub const MAX_REPLICAS: u32 = 64;

impl KvSpec {
    pub fn config(&self, nodes: u32) -> Result<KvConfig, InputError> {
        if !(2..=MAX_REPLICAS).contains(&nodes) {
            return Err(InputError::new(
                "nodes",
                format!("the store runs on 2 to {MAX_REPLICAS} replicas, got {nodes}"),
            ));
        }
        if !(1..=MAX_KEYS).contains(&self.keys) {
            return Err(InputError::new(
                "keys",
                format!("must be 1 to {MAX_KEYS}, got {}", self.keys),
            ));
        }
        let write_every_us = ms_to_us(self.write_every_ms, "write_every_ms")?;
        if write_every_us < 1_000 {
            return Err(InputError::new("write_every_ms", "must be at least 1 ms"));
        }
        let mut writes = vec![self.writers.is_none(); nodes as usize];
        for &w in self.writers.iter().flatten() {
            let slot = writes.get_mut(w as usize);
            *slot.ok_or_else(|| InputError::new("writers", format!("node {w} does not exist")))? = true;
        }
        Ok(KvConfig {
            timestamps: self.timestamps,
            keys: self.keys,
            write_every_us,
            writes,
        })
    }
}

/// A write's identity: its replica and that replica's write count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WriteId {
    pub node: NodeId,
    pub seq: u32,
}

/// One version of a key, with every stamp the modes compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub id: WriteId,
    pub key: u32,
    /// The writer's physical clock when it wrote (µs).
    pub physical_us: Micros,
    pub hlc: Hlc,
    pub lamport: u64,
    pub vc: VectorClock,
    /// The versions of this key the writer held when it wrote: what this write overwrote.
    pub overwrote: Vec<WriteId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvMsg {
    /// A write, sent by its replica to every other.
    Write(Box<Version>),
}

message_kinds!(KvMsg {
    Write = 0 "write",
});

impl MessageInfo for KvMsg {
    fn digest(&self) -> u64 {
        let KvMsg::Write(v) = self;
        (v.id.node as u64) << 40 ^ (v.id.seq as u64) << 8 ^ v.key as u64 ^ v.physical_us.rotate_left(17)
    }

    fn heap_bytes(&self) -> usize {
        let KvMsg::Write(v) = self;
        std::mem::size_of::<Version>() + v.vc.0.len() * 4 + v.overwrote.len() * 8
    }
}

/// What survives a crash: the store and every clock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvDurable {
    pub store: Vec<Vec<Version>>,
    pub writes: u32,
    pub lamport: u64,
    pub hlc: Hlc,
    pub vc: VectorClock,
}

impl Durable for KvDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            Damage::Torn => self.store.clear(),
            Damage::Bitflip => self.lamport ^= 1 << (noise % 16),
        }
    }
}

/// What replicas tell the checkers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvObs {
    /// A write was made (its stamps and what it overwrote) at physical time `physical_us`.
    Wrote(Box<Version>),
    /// A replica dropped version `dropped` of `key` in favour of `kept`.
    Discarded { key: u32, dropped: WriteId, kept: WriteId },
    /// A replica holds `count` > 1 concurrent versions of `key` (vector clocks).
    Siblings { key: u32, count: u32 },
    /// The replica's HLC after an event, and its physical clock then.
    Clock { hlc: Hlc, physical_us: Micros },
}

const WRITE: TimerTag = 1;

#[derive(Clone, Debug)]
pub struct Kv {
    config: KvConfig,
    id: NodeId,
    nodes: u32,
    d: KvDurable,
    rng: Rng,
}

impl Kv {
    fn schedule(&mut self, ctx: &mut Ctx<KvMsg, KvObs>) {
        let mean = self.config.write_every_us;
        ctx.set_timer(self.rng.between(mean / 2, mean + mean / 2), WRITE);
    }

    fn write(&mut self, ctx: &mut Ctx<KvMsg, KvObs>) {
        let pt = ctx.now_local_us;
        let key = self.rng.below(self.config.keys as u64) as u32;
        self.d.writes += 1;
        self.d.lamport += 1;
        self.d.hlc = self.d.hlc.tick(pt);
        self.d.vc.tick(self.id as usize);
        let slot = &mut self.d.store[key as usize];
        let version = Version {
            id: WriteId {
                node: self.id,
                seq: self.d.writes,
            },
            key,
            physical_us: pt,
            hlc: self.d.hlc,
            lamport: self.d.lamport,
            vc: self.d.vc.clone(),
            overwrote: slot.iter().map(|v| v.id).collect(),
        };
        *slot = vec![version.clone()];
        ctx.observe(KvObs::Wrote(Box::new(version.clone())));
        ctx.observe(KvObs::Clock {
            hlc: self.d.hlc,
            physical_us: pt,
        });
        for to in (0..self.nodes).filter(|&n| n != self.id) {
            ctx.send(to, KvMsg::Write(Box::new(version.clone())));
        }
    }

    fn receive(&mut self, v: Version, ctx: &mut Ctx<KvMsg, KvObs>) {
        let pt = ctx.now_local_us;
        self.d.lamport = self.d.lamport.max(v.lamport) + 1;
        self.d.hlc = self.d.hlc.merge(v.hlc, pt);
        self.d.vc.merge(&v.vc);
        self.d.vc.tick(self.id as usize);
        ctx.observe(KvObs::Clock {
            hlc: self.d.hlc,
            physical_us: pt,
        });
        let Some(slot) = self.d.store.get_mut(v.key as usize) else {
            return; // a key this store does not have (a corrupted write)
        };
        if slot.iter().any(|s| s.id == v.id) {
            return; // a copy of a version already held
        }
        match self.config.timestamps {
            Timestamps::Physical | Timestamps::Hlc => self.last_write_wins(v, ctx),
            Timestamps::Vector => self.keep_siblings(v, ctx),
        }
    }

    /// The larger stamp wins; the other version is dropped.
    fn last_write_wins(&mut self, v: Version, ctx: &mut Ctx<KvMsg, KvObs>) {
        let by_hlc = self.config.timestamps == Timestamps::Hlc;
        let stamp = |x: &Version| {
            if by_hlc {
                (x.hlc.l, x.hlc.c as u64, x.id.node)
            } else {
                (x.physical_us, 0, x.id.node)
            }
        };
        let slot = &mut self.d.store[v.key as usize];
        match slot.first() {
            Some(held) if stamp(held) >= stamp(&v) => {
                ctx.observe(KvObs::Discarded {
                    key: v.key,
                    dropped: v.id,
                    kept: held.id,
                });
            }
            held => {
                if let Some(h) = held {
                    ctx.observe(KvObs::Discarded {
                        key: v.key,
                        dropped: h.id,
                        kept: v.id,
                    });
                }
                *slot = vec![v];
            }
        }
    }

    /// A version dominated by another goes; concurrent versions stay side by side.
    fn keep_siblings(&mut self, v: Version, ctx: &mut Ctx<KvMsg, KvObs>) {
        let key = v.key;
        let slot = &mut self.d.store[key as usize];
        if slot.iter().any(|s| s.vc.dominates(&v.vc)) {
            return; // already superseded here: nothing is lost, it was overwritten
        }
        slot.retain(|s| !v.vc.dominates(&s.vc));
        slot.push(v);
        if slot.len() > 1 {
            ctx.observe(KvObs::Siblings {
                key,
                count: slot.len() as u32,
            });
        }
    }
}

impl Protocol for Kv {
    type Config = KvConfig;
    type Msg = KvMsg;
    type Durable = KvDurable;
    type Obs = KvObs;
    const NAME: &'static str = "kv";

    fn boot(config: &KvConfig, id: NodeId, nodes: u32, mut d: KvDurable, rng: Rng, ctx: &mut Ctx<KvMsg, KvObs>) -> Kv {
        d.store.resize(config.keys as usize, Vec::new());
        d.vc.0.resize(nodes as usize, 0);
        let mut kv = Kv {
            config: config.clone(),
            id,
            nodes,
            d,
            rng,
        };
        if kv.config.writes[id as usize] {
            kv.schedule(ctx);
        }
        kv
    }

    fn on_message(&mut self, _from: NodeId, msg: KvMsg, ctx: &mut Ctx<KvMsg, KvObs>) {
        let KvMsg::Write(v) = msg;
        self.receive(*v, ctx);
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<KvMsg, KvObs>) {
        debug_assert_eq!(tag, WRITE);
        self.write(ctx);
        self.schedule(ctx);
    }

    fn durable(&self) -> KvDurable {
        self.d.clone()
    }

    fn approx_bytes(&self) -> usize {
        let versions: usize = self
            .d
            .store
            .iter()
            .flatten()
            .map(|v| std::mem::size_of::<Version>() + v.vc.0.len() * 4 + v.overwrote.len() * 8)
            .sum();
        std::mem::size_of_val(self) + versions + self.d.vc.0.len() * 4 + self.config.writes.len()
    }
}
