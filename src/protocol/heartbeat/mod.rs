//! The heartbeat failure detector with a fixed timeout, and optional end-to-end probes.
//!
//! Every `interval` each node sends a heartbeat to every peer. A node suspects a peer
//! when it has heard nothing from it for `timeout` of its local clock, and clears the
//! suspicion on the next heartbeat. One deadline timer per node fires exactly at the
//! earliest peer deadline, so detection is never later than last heartbeat + timeout.
//!
//! With `probe_us`, each node also sends a real request to a random peer that often and
//! waits `timeout` for the answer: the end-to-end check that catches a gray failure the
//! heartbeats miss. Durable state: the boot count (sent in every heartbeat), optionally
//! guarded by a checksum. Volatile: everything heard and every probe in flight.

mod byzantine;
mod checks;
pub mod phi;
mod soonest;
mod spec;
mod view;

pub use spec::{DetectorSpec, HeartbeatSpec};

use crate::protocol::timers::{timer_arg, timer_kind, timer_tag, Generation};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{us_to_ms, Micros};
use crate::vocab::{Damage, NodeId, TimingRole};
use phi::{ArrivalWindow, PhiConfig};
use soonest::{Soonest, SOONEST};

/// How a node decides that a silent peer has failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Detector {
    /// Silence longer than `timeout_us` (also "k missed heartbeats": k × interval).
    Fixed,
    /// Phi accrual over a window of inter-arrival times.
    Phi(PhiConfig),
}

#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatConfig {
    pub interval_us: Micros,
    /// The fixed detector's timeout, and how long a probe waits for its answer.
    pub timeout_us: Micros,
    pub detector: Detector,
    /// How often a node probes a random peer with real work (None: no probes).
    pub probe_us: Option<Micros>,
    /// Whether durable state carries a checksum verified at boot.
    pub checksum: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatMsg {
    /// "I am alive", with the sender's boot count.
    Beat { boots: u32 },
    /// A real request (work), numbered by the sender.
    Probe { id: u32 },
    /// The answer to probe `id`.
    Answer { id: u32 },
}

message_kinds!(HeartbeatMsg {
    Beat = 0 "heartbeat",
    Probe = 1 "probe",
    Answer = 2 "answer",
});

impl MessageInfo for HeartbeatMsg {
    fn digest(&self) -> u64 {
        match *self {
            HeartbeatMsg::Beat { boots } => boots as u64,
            HeartbeatMsg::Probe { id } => (1 << 32) | id as u64,
            HeartbeatMsg::Answer { id } => (2 << 32) | id as u64,
        }
    }
    fn is_work(&self) -> bool {
        matches!(self, HeartbeatMsg::Probe { .. })
    }
    /// A heartbeat is the sign of life an adversary bunches.
    fn timing_role(&self) -> TimingRole {
        match self {
            HeartbeatMsg::Beat { .. } => TimingRole::Liveness,
            _ => TimingRole::Ordinary,
        }
    }
}

/// What a node reports to the checkers: it began to suspect `peer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatObs {
    Suspected { peer: NodeId },
}

/// The boot count, its previous value (for torn writes) and a checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatDurable {
    pub boots: u32,
    previous: u32,
    checksum: u32,
}

impl HeartbeatDurable {
    fn sum(boots: u32) -> u32 {
        boots.wrapping_mul(0x9E37_79B9).rotate_left(7) ^ 0xA5A5_5A5A
    }

    fn write(&mut self, boots: u32) {
        self.previous = self.boots;
        self.boots = boots;
        self.checksum = Self::sum(boots);
    }

    fn intact(&self) -> bool {
        self.checksum == Self::sum(self.boots) || (self.boots == 0 && self.checksum == 0)
    }
}

impl Durable for HeartbeatDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            // The last write never reached the disk, but its checksum did (torn).
            Damage::Torn => self.boots = self.previous,
            Damage::Bitflip => self.boots ^= 1 << (noise % 32),
        }
    }
}

const TICK: TimerTag = 1;
/// Deadline timers carry a generation in the upper bits so stale ones are ignored.
const DEADLINE: TimerTag = 2;
const PROBE: TimerTag = 3;
/// Probe timeouts carry the probe id in the upper bits.
const PROBE_TIMEOUT: TimerTag = 4;

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

/// End-to-end probe bookkeeping (only allocated when probes are on).
#[derive(Clone, Debug, Default)]
struct Probes {
    next_id: u32,
    /// Probes waiting for an answer: (id, peer, local send time). At most
    /// timeout / probe interval + 1 entries: each leaves by answer or timeout.
    pending: Vec<(u32, NodeId, Micros)>,
    ok: Vec<u64>,
    failed: Vec<u64>,
    rtt_us: Vec<Option<Micros>>,
}

#[derive(Clone, Debug)]
pub struct Heartbeat {
    config: HeartbeatConfig,
    id: NodeId,
    /// How many peers this node suspects now (peers with the `PeerState` flag): the canvas
    /// counts suspicions every frame, and at 1,000 nodes reading every peer of every node
    /// was most of a frame's columns; a node that suspects nobody is skipped. Beside `id`,
    /// in what was padding, so a node weighs the same.
    suspecting: u32,
    durable: HeartbeatDurable,
    peers: Vec<PeerState>,
    /// The boot count each peer last claimed.
    claims: Vec<u32>,
    /// Inter-arrival windows per peer (phi accrual only; empty otherwise).
    windows: Vec<ArrivalWindow>,
    /// When the pending deadline timer fires (local time), and its generation.
    deadline_at_us: Option<Micros>,
    /// A new one voids the deadline timer armed before.
    deadline: Generation,
    /// The peers due first (fixed timeout only), so most deadline checks read a few peers.
    soonest: Soonest,
    probes: Option<Probes>,
    rng: Rng,
    notes: Vec<String>,
}

impl Heartbeat {
    fn beat_all(&self, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        let beat = HeartbeatMsg::Beat {
            boots: self.durable.boots,
        };
        for peer in 0..self.peers.len() as NodeId {
            if peer != self.id {
                ctx.send(peer, beat);
            }
        }
    }

    /// Suspects every peer whose deadline has passed (in peer order), then arms the timer
    /// for the next one: from the soonest peers when they settle it, else by a scan.
    fn check_deadlines(&mut self, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        if !self.check_soonest(ctx) {
            self.scan_deadlines(ctx);
        }
    }

    /// Reads every peer; with a fixed timeout, keeps the soonest for the next check.
    fn scan_deadlines(&mut self, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        let now = ctx.now_local_us;
        let mut next: Option<Micros> = None;
        let fixed = matches!(self.config.detector, Detector::Fixed);
        self.soonest.start();
        for (peer, state) in self.peers.iter_mut().enumerate() {
            if peer as NodeId == self.id || state.suspected() {
                continue;
            }
            let deadline = state.last_heard_us() + Self::timeout_for(&self.config, &self.windows, peer);
            if deadline <= now {
                state.suspect();
                self.suspecting += 1;
                ctx.observe(HeartbeatObs::Suspected { peer: peer as NodeId });
            } else {
                next = Some(next.map_or(deadline, |n| n.min(deadline)));
                if fixed {
                    self.soonest.offer(state.last_heard_us(), peer as NodeId);
                }
            }
        }
        if !fixed {
            self.soonest = Soonest::default();
        }
        self.arm_deadline(next, ctx);
    }

    /// The check from the soonest peers alone, when they are enough to be exact: every
    /// other peer is due at `floor + timeout` or later, after now and after the next
    /// deadline found here. Returns false, changing nothing, when a scan is needed.
    fn check_soonest(&mut self, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) -> bool {
        let (Detector::Fixed, now) = (&self.config.detector, ctx.now_local_us) else {
            return false;
        };
        let others_due = self.soonest.floor.saturating_add(self.config.timeout_us);
        if self.soonest.kept().is_empty() || now >= others_due {
            return false;
        }
        let (mut due, mut still) = ([0 as NodeId; SOONEST], [(0, 0); SOONEST]);
        let (mut n_due, mut n_still, mut next) = (0, 0, Micros::MAX);
        for &(_, peer) in self.soonest.kept() {
            let state = self.peers[peer as usize];
            if state.suspected() {
                continue;
            }
            let heard = state.last_heard_us();
            if heard + self.config.timeout_us <= now {
                (due[n_due], n_due) = (peer, n_due + 1);
            } else {
                (still[n_still], n_still) = ((heard, peer), n_still + 1);
                next = next.min(heard + self.config.timeout_us);
            }
        }
        if next >= others_due && self.soonest.floor != Micros::MAX {
            return false;
        }
        due[..n_due].sort_unstable();
        #[cfg(test)]
        self.assert_scan_agrees(now, &due[..n_due], next);
        for &peer in &due[..n_due] {
            self.peers[peer as usize].suspect();
            self.suspecting += 1;
            ctx.observe(HeartbeatObs::Suspected { peer });
        }
        self.soonest.keep(&still[..n_still]);
        self.arm_deadline((next != Micros::MAX).then_some(next), ctx);
        true
    }

    /// The oracle for `check_soonest` in the crate's tests: a full scan finds the same due
    /// peers and the same next deadline.
    #[cfg(test)]
    fn assert_scan_agrees(&self, now: Micros, due: &[NodeId], next: Micros) {
        let timeout = self.config.timeout_us;
        let live = (0..self.peers.len()).filter(|&p| p as NodeId != self.id && !self.peers[p].suspected());
        let deadlines: Vec<(NodeId, Micros)> = live
            .map(|p| (p as NodeId, self.peers[p].last_heard_us() + timeout))
            .collect();
        let scan_due: Vec<NodeId> = deadlines.iter().filter(|d| d.1 <= now).map(|d| d.0).collect();
        let scan_next = deadlines
            .iter()
            .map(|d| d.1)
            .filter(|&d| d > now)
            .min()
            .unwrap_or(Micros::MAX);
        assert_eq!((due, next), (&scan_due[..], scan_next), "node {} at {now} µs", self.id);
    }

    fn arm_deadline(&mut self, at: Option<Micros>, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        match (at, self.deadline_at_us) {
            (None, _) => self.deadline_at_us = None,
            (Some(at), Some(pending)) if pending <= at => {} // the pending timer comes first
            (Some(at), _) => {
                self.deadline_at_us = Some(at);
                (self.deadline).rearm(ctx, at.saturating_sub(ctx.now_local_us), DEADLINE);
            }
        }
    }

    fn send_probe(&mut self, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        let n = self.peers.len() as u64;
        let (Some(probes), true) = (self.probes.as_mut(), n > 1) else {
            return;
        };
        let mut peer = self.rng.below(n - 1) as NodeId;
        if peer >= self.id {
            peer += 1;
        }
        probes.next_id += 1;
        let id = probes.next_id;
        probes.pending.push((id, peer, ctx.now_local_us));
        ctx.send(peer, HeartbeatMsg::Probe { id });
        ctx.set_timer(self.config.timeout_us, timer_tag(PROBE_TIMEOUT, id as u64));
    }

    fn on_answer(&mut self, from: NodeId, id: u32, now_us: Micros) {
        let Some(probes) = self.probes.as_mut() else { return };
        if let Some(i) = probes.pending.iter().position(|&(p, peer, _)| p == id && peer == from) {
            let (_, peer, sent_us) = probes.pending.swap_remove(i);
            probes.ok[peer as usize] += 1;
            probes.rtt_us[peer as usize] = Some(now_us.saturating_sub(sent_us));
        }
    }

    fn on_probe_timeout(&mut self, id: u32) {
        let Some(probes) = self.probes.as_mut() else { return };
        if let Some(i) = probes.pending.iter().position(|&(p, _, _)| p == id) {
            let (_, peer, _) = probes.pending.swap_remove(i);
            probes.failed[peer as usize] += 1;
        }
    }

    pub fn boots(&self) -> u32 {
        self.durable.boots
    }

    /// How long `peer` may stay silent before it is suspected.
    fn timeout_for(config: &HeartbeatConfig, windows: &[ArrivalWindow], peer: usize) -> Micros {
        match &config.detector {
            Detector::Fixed => config.timeout_us,
            Detector::Phi(phi) => phi::timeout_us(&windows[peer], phi, config.interval_us),
        }
    }

    /// Phi for `peer` after `since_us` of silence (phi detector only).
    fn phi_of(&self, peer: usize, since_us: Micros) -> Option<f64> {
        match &self.config.detector {
            Detector::Fixed => None,
            Detector::Phi(config) => {
                let (mean, std) = phi::model(&self.windows[peer], config, self.config.interval_us);
                Some(phi::phi(since_us as f64, mean, std))
            }
        }
    }
}

impl Protocol for Heartbeat {
    type Config = HeartbeatConfig;
    type Msg = HeartbeatMsg;
    type Durable = HeartbeatDurable;
    type Obs = HeartbeatObs;
    const NAME: &'static str = "heartbeat";

    fn approx_bytes(&self) -> usize {
        use crate::budget::vec_bytes;
        let windows: usize = self.windows.iter().map(|w| w.approx_bytes()).sum();
        let probes = self.probes.as_ref().map_or(0, |p| {
            vec_bytes(&p.pending) + vec_bytes(&p.ok) + vec_bytes(&p.failed) + vec_bytes(&p.rtt_us)
        });
        let notes: usize = self.notes.iter().map(|s| s.capacity()).sum();
        std::mem::size_of_val(self)
            + vec_bytes(&self.peers)
            + vec_bytes(&self.claims)
            + vec_bytes(&self.windows)
            + windows
            + probes
            + vec_bytes(&self.notes)
            + notes
    }

    fn boot(
        config: &HeartbeatConfig,
        id: NodeId,
        nodes: u32,
        mut durable: HeartbeatDurable,
        rng: Rng,
        ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>,
    ) -> Self {
        let n = nodes as usize;
        let mut notes = Vec::new();
        if config.checksum && !durable.intact() {
            notes.push(format!(
                "durable state failed its checksum at boot (boot count read {}): reset",
                durable.boots
            ));
            durable = HeartbeatDurable::default();
        }
        durable.write(durable.boots.wrapping_add(1));
        let probes = config.probe_us.map(|_| Probes {
            ok: vec![0; n],
            failed: vec![0; n],
            rtt_us: vec![None; n],
            ..Probes::default()
        });
        let mut node = Heartbeat {
            config: config.clone(),
            id,
            suspecting: 0,
            durable,
            peers: vec![PeerState::new(ctx.now_local_us); n],
            claims: vec![0; n],
            windows: match &config.detector {
                Detector::Fixed => Vec::new(),
                Detector::Phi(_) => vec![ArrivalWindow::default(); n],
            },
            deadline_at_us: None,
            deadline: Generation::default(),
            soonest: Soonest::default(),
            probes,
            rng,
            notes,
        };
        node.beat_all(ctx);
        // The first tick comes after a random phase: real nodes are not phase-locked, and
        // a thousand nodes beating in the same instant is a burst, not a cluster.
        let phase_us = node.rng.between(1, config.interval_us);
        ctx.set_timer(phase_us, TICK);
        if let Some(probe_us) = config.probe_us {
            ctx.set_timer(probe_us, PROBE);
        }
        node.check_deadlines(ctx);
        node
    }

    fn on_message(&mut self, from: NodeId, msg: HeartbeatMsg, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        match msg {
            HeartbeatMsg::Beat { boots } => {
                if from == self.id {
                    return; // a forged beat in our own name tells us nothing
                }
                let peer = from as usize;
                self.claims[peer] = boots;
                if let Detector::Phi(config) = &self.config.detector {
                    let state = self.peers[peer];
                    if state.heard_ever() {
                        let interval = ctx.now_local_us.saturating_sub(state.last_heard_us());
                        self.windows[peer].push(interval, config.window);
                    }
                }
                self.soonest.heard(ctx.now_local_us);
                if self.peers[peer].heard(ctx.now_local_us) {
                    self.suspecting -= 1;
                    let timeout = Self::timeout_for(&self.config, &self.windows, peer);
                    self.arm_deadline(Some(ctx.now_local_us + timeout), ctx);
                }
            }
            HeartbeatMsg::Probe { id } => ctx.send(from, HeartbeatMsg::Answer { id }),
            HeartbeatMsg::Answer { id } => self.on_answer(from, id, ctx.now_local_us),
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) {
        match timer_kind(tag) {
            TICK => {
                self.beat_all(ctx);
                ctx.set_timer(self.config.interval_us, TICK);
            }
            DEADLINE if self.deadline.is_current(tag) => {
                self.deadline_at_us = None;
                self.check_deadlines(ctx);
            }
            PROBE => {
                self.send_probe(ctx);
                ctx.set_timer(self.config.probe_us.expect("probes are on"), PROBE);
            }
            PROBE_TIMEOUT => self.on_probe_timeout(timer_arg(tag) as u32),
            _ => {}
        }
    }

    fn durable(&self) -> HeartbeatDurable {
        self.durable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Inspect;

    fn config() -> HeartbeatConfig {
        HeartbeatConfig {
            interval_us: 100,
            timeout_us: 350,
            detector: Detector::Fixed,
            probe_us: None,
            checksum: false,
        }
    }

    fn boot(ctx: &mut Ctx<HeartbeatMsg, HeartbeatObs>) -> Heartbeat {
        Heartbeat::boot(&config(), 0, 3, HeartbeatDurable::default(), Rng::from_seed(1), ctx)
    }

    #[test]
    fn boot_beats_every_peer_and_arms_timers() {
        let mut ctx = Ctx::new();
        let hb = boot(&mut ctx);
        assert_eq!(ctx.sends.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(ctx.timers[0].1, TICK);
        assert!((1..=100).contains(&ctx.timers[0].0), "first tick within one interval");
        assert_eq!(ctx.timers[1].0, 350);
        assert_eq!(hb.boots(), 1);
    }

    #[test]
    fn silence_past_the_timeout_means_suspicion_and_a_beat_clears_it() {
        let mut ctx = Ctx::new();
        let mut hb = boot(&mut ctx);
        ctx.reset(200);
        hb.on_message(1, HeartbeatMsg::Beat { boots: 1 }, &mut ctx);
        ctx.reset(350);
        hb.on_timer(timer_tag(DEADLINE, 1), &mut ctx);
        assert!(!hb.suspects(1) && hb.suspects(2));
        // The next deadline is peer 1's: 200 + 350.
        assert_eq!(ctx.timers.last().unwrap().0, 200);
        ctx.reset(400);
        hb.on_message(2, HeartbeatMsg::Beat { boots: 1 }, &mut ctx);
        assert!(!hb.suspects(2));
    }

    #[test]
    fn a_checksum_catches_damaged_durable_state() {
        let mut durable = HeartbeatDurable::default();
        durable.write(1);
        durable.write(2);
        let mut flipped = durable;
        flipped.damage(Damage::Bitflip, 4);
        assert!(!flipped.intact());
        let mut ctx = Ctx::new();
        let checked = HeartbeatConfig {
            checksum: true,
            ..config()
        };
        let hb = Heartbeat::boot(&checked, 0, 3, flipped, Rng::from_seed(1), &mut ctx);
        assert_eq!(hb.boots(), 1, "detected: reset, then boot");
        assert!(hb.notes[0].contains("checksum"));
        let hb = Heartbeat::boot(&config(), 0, 3, flipped, Rng::from_seed(1), &mut ctx);
        assert_eq!(hb.boots(), (2 ^ 16) + 1, "undetected: the flipped count is used");
        // A torn write loses the last boot: two incarnations claim the same number.
        let mut torn = durable;
        torn.damage(Damage::Torn, 0);
        assert_eq!(torn.boots, 1);
    }
}
