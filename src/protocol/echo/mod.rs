//! Echo: the smallest protocol, and the example of adding one. Every node pings the next
//! node round the ring every `interval_ms`; the peer answers with an echo of the same
//! sequence number; the sender counts answers and keeps the last round trip. A crashed,
//! paused or cut-off peer simply stops answering.
//!
//! Adding a protocol is this folder (the spec and state machine here, `view.rs`,
//! `byzantine.rs`, `checks.rs` beside it), its `pub mod` line in `protocol/mod.rs` and one
//! registration line in `registry.rs`; `tests/echo.rs` runs it.
//!
//! Durable: the boot count. Volatile: sequence numbers, answers, the last round trip.

mod byzantine;
mod checks;
mod view;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, MessageKinds, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, Micros};
use crate::vocab::{Damage, NodeId};

/// Echo's parameters as a scenario writes them (`{"kind": "echo", "interval_ms": 200}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EchoSpec {
    /// How often each node pings its ring neighbour.
    pub interval_ms: f64,
}

impl Default for EchoSpec {
    fn default() -> Self {
        EchoSpec { interval_ms: 200.0 }
    }
}

/// Echo's parameters in engine units.
#[derive(Clone, Debug, PartialEq)]
pub struct EchoConfig {
    pub interval_us: Micros,
}

impl EchoSpec {
    /// The validated parameters for a cluster of `nodes` nodes (at least two: a node does
    /// not ping itself).
    pub fn config(&self, nodes: u32) -> Result<EchoConfig, InputError> {
        if nodes < 2 {
            return Err(InputError::new("nodes", "echo needs at least 2 nodes"));
        }
        let interval_us = ms_to_us(self.interval_ms, "interval_ms")?;
        if interval_us < 1_000 {
            let problem = format!("must be at least 1 ms, got {}", self.interval_ms);
            return Err(InputError::new("interval_ms", problem));
        }
        Ok(EchoConfig { interval_us })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EchoMsg {
    /// "Are you there?", numbered by the sender.
    Ping { seq: u32 },
    /// The answer to ping `seq`.
    Echo { seq: u32 },
}

message_kinds!(EchoMsg {
    Ping = 0 "ping",
    Echo = 1 "echo",
});

impl MessageInfo for EchoMsg {
    fn digest(&self) -> u64 {
        (self.kind() as u64) << 32
            | match *self {
                EchoMsg::Ping { seq } | EchoMsg::Echo { seq } => seq as u64,
            }
    }
}

/// What survives a crash: how many times the node booted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoDurable {
    pub boots: u32,
}

impl Durable for EchoDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            Damage::Torn => self.boots = self.boots.saturating_sub(1),
            Damage::Bitflip => self.boots ^= 1 << (noise % 32),
        }
    }
}

/// What a node reports to the checkers: an echo of its ping came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answered {
    pub peer: NodeId,
    pub rtt_us: Micros,
}

const TICK: TimerTag = 1;

/// One node: its ring neighbour, its pings and the answers.
#[derive(Clone, Debug)]
pub struct Echo {
    config: EchoConfig,
    peer: NodeId,
    durable: EchoDurable,
    /// The next ping's sequence number, and when (local time) each recent one left.
    next_seq: u32,
    sent_at_us: Vec<(u32, Micros)>,
    answered: u64,
    last_rtt_us: Option<Micros>,
}

/// Pings remembered for matching echoes (older echoes are ignored).
const PINGS_KEPT: usize = 16;

impl Echo {
    fn tick(&mut self, ctx: &mut Ctx<EchoMsg, Answered>) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if self.sent_at_us.len() == PINGS_KEPT {
            self.sent_at_us.remove(0);
        }
        self.sent_at_us.push((seq, ctx.now_local_us));
        ctx.send(self.peer, EchoMsg::Ping { seq });
        ctx.set_timer(self.config.interval_us, TICK);
    }
}

impl Protocol for Echo {
    type Config = EchoConfig;
    type Msg = EchoMsg;
    type Durable = EchoDurable;
    type Obs = Answered;
    const NAME: &'static str = "echo";

    fn boot(
        config: &EchoConfig,
        id: NodeId,
        nodes: u32,
        mut durable: EchoDurable,
        _rng: Rng,
        ctx: &mut Ctx<EchoMsg, Answered>,
    ) -> Echo {
        durable.boots = durable.boots.wrapping_add(1);
        let mut echo = Echo {
            config: config.clone(),
            peer: (id + 1) % nodes,
            durable,
            next_seq: 0,
            sent_at_us: Vec::new(),
            answered: 0,
            last_rtt_us: None,
        };
        echo.tick(ctx);
        echo
    }

    fn on_message(&mut self, from: NodeId, msg: EchoMsg, ctx: &mut Ctx<EchoMsg, Answered>) {
        match msg {
            EchoMsg::Ping { seq } => ctx.send(from, EchoMsg::Echo { seq }),
            EchoMsg::Echo { seq } => {
                let Some(i) = self.sent_at_us.iter().position(|&(s, _)| s == seq) else {
                    return; // too old, or never sent (a forged or garbled echo)
                };
                let (_, sent_us) = self.sent_at_us.remove(i);
                let rtt_us = ctx.now_local_us.saturating_sub(sent_us);
                self.answered += 1;
                self.last_rtt_us = Some(rtt_us);
                ctx.observe(Answered { peer: from, rtt_us });
            }
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<EchoMsg, Answered>) {
        debug_assert_eq!(tag, TICK);
        self.tick(ctx);
    }

    fn durable(&self) -> EchoDurable {
        self.durable
    }
}
