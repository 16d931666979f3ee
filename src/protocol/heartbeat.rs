//! The heartbeat failure detector with a fixed timeout.
//!
//! Every `interval` each node sends a heartbeat to every peer. A node suspects a peer
//! when it has heard nothing from it for `timeout` of its local clock, and clears the
//! suspicion on the next heartbeat. One deadline timer per node fires exactly at the
//! earliest peer deadline, so detection is never later than last heartbeat + timeout.
//! Durable state: the boot count (sent in every heartbeat). Volatile: what was heard.

use crate::network::NodeId;
use crate::protocol::{Ctx, MessageInfo, PeerView, Protocol, ProtocolView, TimerTag};
use crate::time::{us_to_ms, Micros};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatConfig {
    pub interval_us: Micros,
    pub timeout_us: Micros,
}

/// "I am alive", with the sender's boot count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Beat {
    pub boots: u32,
}

impl MessageInfo for Beat {
    fn kind(&self) -> u8 {
        0
    }
    fn kind_name(&self) -> &'static str {
        "heartbeat"
    }
    fn digest(&self) -> u64 {
        self.boots as u64
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatDurable {
    pub boots: u32,
}

const TICK: TimerTag = 1;
/// Deadline timers carry a generation in the upper bits so stale ones are ignored.
const DEADLINE: TimerTag = 2;

/// What a node knows of one peer, packed in one word (at 1,000 nodes the tables total
/// 8 MB and a delivery touches one of them at random: size is speed). Bits 0–61: local
/// time of the last heartbeat (boot time until one arrives); bit 62: heard at least once;
/// bit 63: suspected.
#[derive(Clone, Copy, Debug)]
struct PeerState(u64);

impl PeerState {
    const HEARD: u64 = 1 << 62;
    const SUSPECTED: u64 = 1 << 63;
    const TIME: u64 = Self::HEARD - 1;

    fn new(boot_us: Micros) -> PeerState {
        assert!(boot_us <= Self::TIME, "local time fits in 62 bits");
        PeerState(boot_us)
    }
    fn last_heard_us(self) -> Micros {
        self.0 & Self::TIME
    }
    fn heard_ever(self) -> bool {
        self.0 & Self::HEARD != 0
    }
    fn suspected(self) -> bool {
        self.0 & Self::SUSPECTED != 0
    }
    /// A heartbeat arrived at local time `now_us`; returns whether it was suspected.
    fn heard(&mut self, now_us: Micros) -> bool {
        let was_suspected = self.suspected();
        self.0 = (now_us & Self::TIME) | Self::HEARD;
        was_suspected
    }
    fn suspect(&mut self) {
        self.0 |= Self::SUSPECTED;
    }
}

#[derive(Clone, Debug)]
pub struct Heartbeat {
    config: HeartbeatConfig,
    id: NodeId,
    durable: HeartbeatDurable,
    peers: Vec<PeerState>,
    /// When the pending deadline timer fires (local time), and its generation.
    deadline_at_us: Option<Micros>,
    deadline_gen: u64,
}

impl Heartbeat {
    fn beat_all(&self, ctx: &mut Ctx<Beat>) {
        let beat = Beat {
            boots: self.durable.boots,
        };
        for peer in 0..self.peers.len() as NodeId {
            if peer != self.id {
                ctx.send(peer, beat);
            }
        }
    }

    /// Suspects every peer whose deadline has passed, then arms the timer for the next one.
    fn check_deadlines(&mut self, ctx: &mut Ctx<Beat>) {
        let now = ctx.now_local_us;
        let mut next: Option<Micros> = None;
        for (peer, state) in self.peers.iter_mut().enumerate() {
            if peer as NodeId == self.id || state.suspected() {
                continue;
            }
            let deadline = state.last_heard_us() + self.config.timeout_us;
            if deadline <= now {
                state.suspect();
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
            }
        }
        self.arm_deadline(next, ctx);
    }

    fn arm_deadline(&mut self, at: Option<Micros>, ctx: &mut Ctx<Beat>) {
        match (at, self.deadline_at_us) {
            (None, _) => self.deadline_at_us = None,
            (Some(at), Some(pending)) if pending <= at => {} // the pending timer comes first
            (Some(at), _) => {
                self.deadline_gen += 1;
                self.deadline_at_us = Some(at);
                ctx.set_timer(at - ctx.now_local_us, DEADLINE | (self.deadline_gen << 8));
            }
        }
    }
}

impl Protocol for Heartbeat {
    type Config = HeartbeatConfig;
    type Msg = Beat;
    type Durable = HeartbeatDurable;
    const NAME: &'static str = "heartbeat";

    fn boot(config: &HeartbeatConfig, id: NodeId, nodes: u32, durable: HeartbeatDurable, ctx: &mut Ctx<Beat>) -> Self {
        let n = nodes as usize;
        let mut node = Heartbeat {
            config: config.clone(),
            id,
            durable: HeartbeatDurable {
                boots: durable.boots + 1,
            },
            peers: vec![PeerState::new(ctx.now_local_us); n],
            deadline_at_us: None,
            deadline_gen: 0,
        };
        node.beat_all(ctx);
        ctx.set_timer(config.interval_us, TICK);
        node.check_deadlines(ctx);
        node
    }

    fn on_message(&mut self, from: NodeId, _msg: Beat, ctx: &mut Ctx<Beat>) {
        assert!(from != self.id, "a node does not heartbeat itself");
        if self.peers[from as usize].heard(ctx.now_local_us) {
            self.arm_deadline(Some(ctx.now_local_us + self.config.timeout_us), ctx);
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<Beat>) {
        if tag == TICK {
            self.beat_all(ctx);
            ctx.set_timer(self.config.interval_us, TICK);
        } else if tag & 0xFF == DEADLINE && tag >> 8 == self.deadline_gen {
            self.deadline_at_us = None;
            self.check_deadlines(ctx);
        }
    }

    fn durable(&self) -> HeartbeatDurable {
        self.durable
    }

    fn view(&self, now_local_us: Micros) -> ProtocolView {
        let peers = (self.peers.iter().enumerate())
            .filter(|&(p, _)| p as NodeId != self.id)
            .map(|(p, s)| PeerView {
                id: p as NodeId,
                state: if s.suspected() { "suspected" } else { "alive" },
                since_heard_ms: s
                    .heard_ever()
                    .then(|| us_to_ms(now_local_us.saturating_sub(s.last_heard_us()))),
            })
            .collect();
        ProtocolView { peers }
    }

    fn suspects(&self, peer: NodeId) -> bool {
        self.peers[peer as usize].suspected()
    }
}

impl Heartbeat {
    pub fn boots(&self) -> u32 {
        self.durable.boots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(ctx: &mut Ctx<Beat>) -> Heartbeat {
        let config = HeartbeatConfig {
            interval_us: 100,
            timeout_us: 350,
        };
        Heartbeat::boot(&config, 0, 3, HeartbeatDurable::default(), ctx)
    }

    #[test]
    fn boot_beats_every_peer_and_arms_timers() {
        let mut ctx = Ctx::new();
        let hb = boot(&mut ctx);
        assert_eq!(ctx.sends.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(ctx.timers[0], (100, TICK));
        assert_eq!(ctx.timers[1].0, 350);
        assert_eq!(hb.boots(), 1);
    }

    #[test]
    fn silence_past_the_timeout_means_suspicion_and_a_beat_clears_it() {
        let mut ctx = Ctx::new();
        let mut hb = boot(&mut ctx);
        ctx.reset(200);
        hb.on_message(1, Beat { boots: 1 }, &mut ctx);
        ctx.reset(350);
        hb.on_timer(DEADLINE | (1 << 8), &mut ctx);
        assert!(!hb.suspects(1) && hb.suspects(2));
        // The next deadline is peer 1's: 200 + 350.
        assert_eq!(ctx.timers.last().unwrap().0, 200);
        ctx.reset(400);
        hb.on_message(2, Beat { boots: 1 }, &mut ctx);
        assert!(!hb.suspects(2));
    }
}
