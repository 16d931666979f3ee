//! SWIM membership: randomized probing, indirect probes, suspicion with incarnation
//! numbers, and infection-style dissemination piggybacked on the probes.
//!
//! Every protocol period each member pings one peer, taken round-robin from a random
//! permutation of the member ids redrawn each round (an affine permutation `a·i + b mod n`
//! with `a` coprime to `n`: the paper's shuffled list in O(1) memory), so a live prober
//! reaches every member within two rounds. No ack within `ping_timeout`: it sends
//! `ping-req` to `k` random members, which ping the target and forward its ack. Still
//! nothing at the period's end: the target is marked suspect at its current incarnation.
//! A suspect not refuted within the suspicion timeout is declared dead (confirm).
//!
//! Membership updates `(member, state, incarnation)` are packed in one `u32`
//! (`incarnation << 2 | state`, alive 0 < suspect 1 < dead 2) so that the paper's
//! precedence rules are exactly "the larger word wins": alive(i) beats suspect(j) and
//! alive(j) iff i > j; suspect(i) beats alive(j) iff i ≥ j and suspect(j) iff i > j;
//! dead(i) beats alive or suspect at j ≤ i. One extension so a restarted node can rejoin:
//! alive(i) beats dead(j) iff i > j (the paper's confirm is final). An update that wins
//! is applied and queued for gossip; each queued update rides on at most
//! `piggyback_limit`-sized lists on pings, ping-reqs and acks, least-sent first, and is
//! sent `⌈λ·ln(n+1)⌉` times. A message to a member this node holds suspect or dead always
//! carries that entry, so the accused hears of it at once.
//!
//! Dynamic suspicion (Lifeguard; option `suspicion_max_mult` > 1, default off): a fresh
//! suspicion waits `suspicion_max_mult` × the timeout, and each independent accuser that
//! confirms it (its own probe failed too; suspect updates carry their accuser) shortens
//! it, down to the timeout after `confirmations` of them: ln(C+1)/ln(K+1) of the way. A
//! lone accusation from message loss waits long enough to be refuted; a real crash, which
//! every prober sees, is confirmed at once.
//!
//! Refutation: a member that hears it is suspect or dead at incarnation ≥ its own takes
//! that incarnation + 1 and gossips `alive`. Durable state: the incarnation (and a boot
//! count). Restart rule: a restarted member boots with incarnation + 1 and gossips `alive`,
//! which overrides the `dead` the others hold; its membership table is volatile and starts
//! all-alive, so it rediscovers earlier deaths by its own probes.
//!
//! Rejoin after a partition heals (an extension; memberlist gossips to the dead for the same
//! reason): one period in 8 a member also pings a random member it holds dead. If that
//! member is up, the ping carries its `dead` entry, it refutes, and the ack carries the new
//! `alive` back, which then spreads. Without it, two sides of a healed partition that
//! declared each other dead would never speak again (the dead are not probed).
//!
//! Gray-failure option (`gray`): besides the shallow SWIM pings (not work, which a gray
//! node answers), each member sends a deep probe — a real request (`is_work`) — to a
//! random live member every `probe_ms`, and keeps per peer the error rate over its last 8
//! deep probes and a moving average of the latency. Its own verdict on a peer is "failing"
//! when either is an outlier against the median over its peers: an error rate over
//! `error_rate` and over twice the median (so a lossy network, which fails every peer
//! alike, flags nobody), or a latency over `latency_factor` × the median. Verdicts are
//! gossiped (differential observation: versioned reports, piggybacked like membership
//! updates), and a member flags a peer gray when at least `observers` members (itself
//! included) report it failing while it still answers pings (alive in the membership).
//! Gray verdicts appear in facts, notes and observations, never in `suspects()`, which is
//! the membership's alone (suspect or dead).
//!
//! Message kinds: listed once, in the `message_kinds!` line below.
//! Invariants: tables are Vecs indexed by member id; per message work is O(1) apart from
//! the piggyback list (and O(log n) set updates when a member changes state); nothing is
//! O(n) per period except the gray option's median (≤ 1,000 members).

mod byzantine;
mod checks;
mod view;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::limits::PAGE_MAX_NODES;
use crate::protocol::timers::{timer_arg, timer_kind, timer_tag, Generation};
use crate::protocol::{message_kinds, Ctx, Durable, MessageInfo, Protocol, TimerTag};
use crate::rng::Rng;
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::vocab::{Damage, NodeId, TimingRole};

/// Member states in the low two bits of an entry.
pub const ALIVE: u8 = 0;
pub const SUSPECT: u8 = 1;
pub const DEAD: u8 = 2;
/// Largest incarnation an entry holds (30 bits).
const MAX_INCARNATION: u32 = (1 << 30) - 1;

fn entry(incarnation: u32, state: u8) -> u32 {
    (incarnation.min(MAX_INCARNATION) << 2) | state as u32
}
fn state_of(entry: u32) -> u8 {
    (entry & 3) as u8
}
fn incarnation_of(entry: u32) -> u32 {
    entry >> 2
}

/// A state's name, as the inspector shows it.
pub fn state_name(state: u8) -> &'static str {
    match state {
        ALIVE => "alive",
        SUSPECT => "suspected",
        _ => "dead",
    }
}

// ---------------------------------------------------------------- spec and config

/// SWIM parameters as written in a scenario (`{"kind": "swim", …}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwimSpec {
    /// The protocol period T: each member probes one peer per period.
    pub period_ms: f64,
    /// How long a direct ping waits for its ack before ping-req goes out.
    pub ping_timeout_ms: f64,
    /// How many members are asked to probe on our behalf.
    pub indirect_k: u32,
    /// Suspicion timeout in periods, scaled by max(1, log10 n) (ignored with `suspicion_ms`).
    pub suspicion_mult: f64,
    /// A fixed suspicion timeout instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspicion_ms: Option<f64>,
    /// Lifeguard's dynamic suspicion: a suspicion starts at this many times the timeout
    /// and falls to it as independent members confirm it (1: the paper's fixed timeout).
    pub suspicion_max_mult: f64,
    /// Confirmations (other accusers) that bring a dynamic suspicion down to the timeout.
    pub confirmations: u32,
    /// λ: each update is piggybacked ⌈λ·ln(n+1)⌉ times (at most 64).
    pub retransmit_mult: f64,
    /// Most updates carried by one message.
    pub piggyback_limit: u32,
    /// Deep probes and differential observation for gray failure (off by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gray: Option<GraySpec>,
}

impl Default for SwimSpec {
    fn default() -> Self {
        SwimSpec {
            period_ms: 200.0,
            ping_timeout_ms: 60.0,
            indirect_k: 3,
            suspicion_mult: 5.0,
            suspicion_ms: None,
            suspicion_max_mult: 1.0,
            confirmations: 3,
            retransmit_mult: 3.0,
            piggyback_limit: 8,
            gray: None,
        }
    }
}

/// Gray-failure detection parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraySpec {
    /// Each member sends a deep probe (real work) to a random live peer this often.
    pub probe_ms: f64,
    /// A deep probe unanswered this long failed.
    pub timeout_ms: f64,
    /// Distinct observers that must see a peer failing before it is flagged gray.
    pub observers: u32,
    /// Error rate (moving average) at which an observer calls a peer failing.
    pub error_rate: f64,
    /// Latency (moving average) over this many times the median of the observer's peers is failing too.
    pub latency_factor: f64,
}

impl Default for GraySpec {
    fn default() -> Self {
        GraySpec {
            probe_ms: 50.0,
            timeout_ms: 1_000.0,
            observers: 3,
            error_rate: 0.6,
            latency_factor: 3.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct GrayConfig {
    pub probe_us: Micros,
    pub timeout_us: Micros,
    pub observers: u32,
    /// Error-rate threshold in parts per million.
    pub error_ppm: u32,
    pub latency_factor: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SwimConfig {
    pub period_us: Micros,
    pub ping_timeout_us: Micros,
    pub indirect_k: u32,
    /// The suspicion timeout (with dynamic suspicion: its floor, after `confirmations`).
    pub suspicion_us: Micros,
    /// A fresh, unconfirmed suspicion's timeout (equal to `suspicion_us` unless dynamic).
    pub suspicion_max_us: Micros,
    pub confirmations: u32,
    /// Times each update is piggybacked.
    pub retransmit: u32,
    pub piggyback: usize,
    pub gray: Option<GrayConfig>,
}

/// Longest period or timeout accepted (one hour).
const MAX_SPAN_US: Micros = 3_600_000_000;

fn span_us(ms: f64, field: &str, min_us: Micros) -> Result<Micros, InputError> {
    let us = ms_to_us(ms, field)?;
    if us < min_us || us > MAX_SPAN_US {
        return Err(InputError::new(
            field,
            format!("must be between {} ms and 3 600 000 ms, got {ms}", us_to_ms(min_us)),
        ));
    }
    Ok(us)
}

fn factor(v: f64, field: &str, lo: f64, hi: f64) -> Result<f64, InputError> {
    if !(v.is_finite() && v >= lo && v <= hi) {
        return Err(InputError::new(
            field,
            format!("must be between {lo} and {hi}, got {v}"),
        ));
    }
    Ok(v)
}

impl SwimSpec {
    /// The validated configuration for a cluster of `nodes`.
    pub fn config(&self, nodes: u32) -> Result<SwimConfig, InputError> {
        let period_us = span_us(self.period_ms, "period_ms", 1_000)?;
        let ping_timeout_us = span_us(self.ping_timeout_ms, "ping_timeout_ms", 1)?;
        if ping_timeout_us >= period_us {
            return Err(InputError::new(
                "ping_timeout_ms",
                format!(
                    "must be shorter than period_ms ({} ms) so the indirect probe fits in the period, got {}",
                    self.period_ms, self.ping_timeout_ms
                ),
            ));
        }
        if self.indirect_k > 16 {
            return Err(InputError::new(
                "indirect_k",
                format!("must be between 0 and 16, got {}", self.indirect_k),
            ));
        }
        let suspicion_us = match self.suspicion_ms {
            Some(ms) => span_us(ms, "suspicion_ms", 1)?,
            None => {
                let mult = factor(self.suspicion_mult, "suspicion_mult", 0.1, 1_000.0)?;
                let scale = libm::log10(nodes as f64).max(1.0);
                ((period_us as f64 * mult * scale) as Micros).clamp(1, MAX_SPAN_US)
            }
        };
        let max_mult = factor(self.suspicion_max_mult, "suspicion_max_mult", 1.0, 100.0)?;
        let suspicion_max_us = ((suspicion_us as f64 * max_mult) as Micros).min(MAX_SPAN_US);
        if !(1..=32).contains(&self.confirmations) {
            return Err(InputError::new(
                "confirmations",
                format!("must be between 1 and 32, got {}", self.confirmations),
            ));
        }
        let lambda = factor(self.retransmit_mult, "retransmit_mult", 0.1, 100.0)?;
        let retransmit = libm::ceil(lambda * libm::log(nodes as f64 + 1.0)).clamp(1.0, 64.0) as u32;
        if !(1..=32).contains(&self.piggyback_limit) {
            return Err(InputError::new(
                "piggyback_limit",
                format!("must be between 1 and 32, got {}", self.piggyback_limit),
            ));
        }
        let gray = match &self.gray {
            None => None,
            Some(g) => Some(g.config(nodes).map_err(|e| e.within("gray"))?),
        };
        Ok(SwimConfig {
            period_us,
            ping_timeout_us,
            indirect_k: self.indirect_k,
            suspicion_us,
            suspicion_max_us,
            confirmations: self.confirmations,
            retransmit,
            piggyback: self.piggyback_limit as usize,
            gray,
        })
    }
}

impl GraySpec {
    fn config(&self, nodes: u32) -> Result<GrayConfig, InputError> {
        if nodes > PAGE_MAX_NODES {
            return Err(InputError::new(
                "",
                format!("gray detection keeps per-peer statistics: at most {PAGE_MAX_NODES} nodes, got {nodes}"),
            ));
        }
        if !(1..=64).contains(&self.observers) {
            return Err(InputError::new(
                "observers",
                format!("must be between 1 and 64, got {}", self.observers),
            ));
        }
        let error = factor(self.error_rate, "error_rate", 0.01, 1.0)?;
        Ok(GrayConfig {
            probe_us: span_us(self.probe_ms, "probe_ms", 1_000)?,
            timeout_us: span_us(self.timeout_ms, "timeout_ms", 1)?,
            observers: self.observers,
            error_ppm: (error * 1_000_000.0) as u32,
            latency_factor: factor(self.latency_factor, "latency_factor", 1.0, 1_000.0)?,
        })
    }
}

// ---------------------------------------------------------------- messages

/// One piggybacked update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// `member` is in `entry` (incarnation << 2 | state), according to `from` (the
    /// accuser, for a suspicion; the originator otherwise).
    Member { member: NodeId, entry: u32, from: NodeId },
    /// `observer`'s verdict (version `ver`) on `target`'s real work: failing or not.
    Gray {
        target: NodeId,
        observer: NodeId,
        ver: u32,
        bad: bool,
    },
}

impl Update {
    fn digest(&self) -> u64 {
        match *self {
            Update::Member { member, entry, from } => fold(((member as u64) << 32) | entry as u64, from as u64),
            Update::Gray {
                target,
                observer,
                ver,
                bad,
            } => (1 << 63) ^ ((target as u64) << 40) ^ ((observer as u64) << 20) ^ ((ver as u64) << 1) ^ bad as u64,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SwimMsg {
    /// A direct probe; answered with `Ack { seq }`.
    Ping {
        seq: u32,
        gossip: Box<[Update]>,
    },
    /// Please ping `target` for me and forward its ack with my `seq`.
    PingReq {
        seq: u32,
        target: NodeId,
        gossip: Box<[Update]>,
    },
    Ack {
        seq: u32,
        gossip: Box<[Update]>,
    },
    /// A deep probe: real work (what a gray failure fails).
    Work {
        id: u32,
    },
    WorkDone {
        id: u32,
    },
}

fn fold(mut h: u64, v: u64) -> u64 {
    h ^= v;
    h.wrapping_mul(0x0000_0100_0000_01B3).rotate_left(17)
}

impl SwimMsg {
    fn gossip_mut(&mut self) -> Option<&mut Box<[Update]>> {
        match self {
            SwimMsg::Ping { gossip, .. } | SwimMsg::PingReq { gossip, .. } | SwimMsg::Ack { gossip, .. } => {
                Some(gossip)
            }
            _ => None,
        }
    }

    fn map_members(&self, f: impl Fn(NodeId, u32) -> u32) -> SwimMsg {
        let mut m = self.clone();
        if let Some(g) = m.gossip_mut() {
            for u in g.iter_mut() {
                if let Update::Member { member, entry, .. } = u {
                    *entry = f(*member, *entry);
                }
            }
        }
        m
    }
}

message_kinds!(SwimMsg {
    Ping = 8 "ping",
    PingReq = 9 "ping-req",
    Ack = 10 "ack",
    Work = 11 "deep-probe",
    WorkDone = 12 "deep-answer",
});

impl MessageInfo for SwimMsg {
    /// An ack is the sign of life an adversary bunches (refutations ride on pings too).
    fn timing_role(&self) -> TimingRole {
        match self {
            SwimMsg::Ack { .. } => TimingRole::Liveness,
            _ => TimingRole::Ordinary,
        }
    }
    fn digest(&self) -> u64 {
        let (mut h, gossip) = match self {
            SwimMsg::Ping { seq, gossip } => (fold(8, *seq as u64), &gossip[..]),
            SwimMsg::PingReq { seq, target, gossip } => (fold(fold(9, *seq as u64), *target as u64), &gossip[..]),
            SwimMsg::Ack { seq, gossip } => (fold(10, *seq as u64), &gossip[..]),
            SwimMsg::Work { id } => (fold(11, *id as u64), &[][..]),
            SwimMsg::WorkDone { id } => (fold(12, *id as u64), &[][..]),
        };
        for u in gossip {
            h = fold(h, u.digest());
        }
        h
    }
    fn is_work(&self) -> bool {
        matches!(self, SwimMsg::Work { .. })
    }
}

// ---------------------------------------------------------------- durable state

/// The incarnation survives a crash (and the boot count, to know a restart from a first boot).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SwimDurable {
    pub incarnation: u32,
    previous: u32,
    pub boots: u32,
}

impl SwimDurable {
    fn write(&mut self, incarnation: u32) {
        self.previous = self.incarnation;
        self.incarnation = incarnation.min(MAX_INCARNATION);
    }
}

impl Durable for SwimDurable {
    fn damage(&mut self, damage: Damage, noise: u64) {
        match damage {
            Damage::Torn => self.incarnation = self.previous,
            Damage::Bitflip => self.incarnation = (self.incarnation ^ (1 << (noise % 30))) & MAX_INCARNATION,
        }
    }
}

/// Facts for the checkers (`checks.rs` in this folder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwimObs {
    /// This node booted (`restarted`: not its first boot).
    Booted { restarted: bool },
    /// This node now holds `member` in `state` (ALIVE, SUSPECT or DEAD).
    Member { member: NodeId, state: u8 },
    /// This node now flags (or no longer flags) `member` as gray.
    Gray { member: NodeId, on: bool },
}

// ---------------------------------------------------------------- gossip buffer

/// Updates waiting to be piggybacked, bucketed by how often each was sent, so the
/// least-sent go first. Superseded updates are dropped lazily when reached.
#[derive(Clone, Debug, Default)]
struct Gossip {
    buckets: Vec<Vec<Update>>,
    /// Bit b set: bucket b is not empty (so an idle buffer costs one test per message).
    nonempty: u64,
    len: usize,
}

impl Gossip {
    fn new(retransmit: u32) -> Gossip {
        assert!((1..=64).contains(&retransmit), "a bucket per send, at most 64");
        Gossip {
            buckets: vec![Vec::new(); retransmit as usize],
            nonempty: 0,
            len: 0,
        }
    }

    fn push(&mut self, u: Update) {
        self.buckets[0].push(u);
        self.nonempty |= 1;
        self.len += 1;
    }

    /// Moves up to `max` current updates into `out` (counting one send each).
    fn fill(&mut self, out: &mut Vec<Update>, max: usize, current: impl Fn(&Update) -> bool) {
        let start = out.len();
        let mut taken: [(usize, Option<Update>); 32] = [(0, None); 32];
        let mut k = 0;
        let mut mask = self.nonempty;
        'outer: while mask != 0 {
            let b = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            while out.len() < max {
                let Some(u) = self.buckets[b].pop() else {
                    self.nonempty &= !(1 << b);
                    continue 'outer;
                };
                if !current(&u) {
                    self.len -= 1;
                    continue;
                }
                // Already in the list (the recipient's own entry): it counts as sent.
                if !out[..start].contains(&u) {
                    out.push(u);
                }
                taken[k] = (b + 1, Some(u));
                k += 1;
            }
            break;
        }
        for &(next, u) in &taken[..k] {
            let u = u.expect("taken");
            if next < self.buckets.len() {
                self.buckets[next].push(u);
                self.nonempty |= 1 << next;
            } else {
                self.len -= 1;
            }
        }
    }

    /// Drops superseded updates (when stale ones pile up).
    fn compact(&mut self, current: impl Fn(&Update) -> bool) {
        for b in &mut self.buckets {
            b.retain(&current);
        }
        self.len = self.buckets.iter().map(Vec::len).sum();
        self.nonempty = (self.buckets.iter().enumerate())
            .filter(|(_, b)| !b.is_empty())
            .fold(0, |m, (i, _)| m | 1 << i);
    }
}

// ---------------------------------------------------------------- the protocol

const PERIOD: TimerTag = 1;
/// Carries the probe's seq in the upper bits.
const PING_TIMEOUT: TimerTag = 2;
/// One period in this many, a member also pings a random member it holds dead.
const RECONNECT_ONE_IN: u64 = 8;
/// Carries a generation in the upper bits.
const SUSPICION: TimerTag = 3;
const DEEP: TimerTag = 4;
/// Carries the deep probe id in the upper bits.
const DEEP_TIMEOUT: TimerTag = 5;

/// A standing suspicion: the entry suspected, when, its deadline (local time) and who
/// accused it (the first, then up to `confirmations` more).
#[derive(Clone, Debug)]
struct Suspicion {
    entry: u32,
    start_us: Micros,
    deadline_us: Micros,
    accusers: Vec<NodeId>,
}

#[derive(Clone, Copy, Debug)]
struct Probe {
    target: NodeId,
    seq: u32,
    acked: bool,
}

/// What one observer knows of a peer's real work (gray option).
#[derive(Clone, Copy, Debug, Default)]
struct WorkStats {
    ok: u32,
    failed: u32,
    /// The last `WINDOW` outcomes, one bit each (1: failed), newest in bit 0.
    recent: u16,
    /// Moving average of the latency (µs).
    lat_us: u32,
    samples: u32,
}

/// Deep-probe outcomes an observer's error rate is taken over, and the fewest it judges by.
const WINDOW: u32 = 8;
const MIN_SAMPLES: u32 = WINDOW;

impl WorkStats {
    /// Error rate over the window, in ppm.
    fn err_ppm(&self) -> u32 {
        let n = self.samples.min(WINDOW);
        if n == 0 {
            return 0;
        }
        let failed = (self.recent & ((1 << WINDOW) - 1)).count_ones();
        failed * 1_000_000 / n
    }
}

#[derive(Clone, Debug)]
struct GrayState {
    next_id: u32,
    /// Deep probes in flight: (id, peer, local send time).
    pending: Vec<(u32, NodeId, Micros)>,
    stats: Vec<WorkStats>,
    /// My current verdict on each peer, and the version of my last report.
    mine: Vec<bool>,
    my_ver: u32,
    /// Latest report per (target, observer): `reports[target]` holds (observer, ver, bad).
    reports: Vec<Vec<(NodeId, u32, bool)>>,
    /// Whether I flag each member gray.
    flagged: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct Swim {
    config: SwimConfig,
    id: NodeId,
    n: u32,
    durable: SwimDurable,
    /// Membership table: an entry per member id (this node's own included).
    table: Vec<u32>,
    /// Members held alive, suspect and dead (self included in alive).
    counts: [u32; 3],
    /// The members held dead.
    dead: BTreeSet<NodeId>,
    gossip: Gossip,
    /// Round-robin probe order: position in the current permutation and its parameters.
    order: (u32, u32, u32),
    next_seq: u32,
    probe: Option<Probe>,
    /// Ping-reqs served: (my seq, requester, their seq, local time).
    relays: Vec<(u32, NodeId, u32, Micros)>,
    /// Suspicions awaiting their timeout, and their deadlines in order.
    suspicions: BTreeMap<NodeId, Suspicion>,
    deadlines: BTreeSet<(Micros, NodeId)>,
    /// The armed suspicion timer's local deadline.
    suspicion_timer: Option<Micros>,
    /// A new one voids the suspicion timer armed before.
    suspicion: Generation,
    gray: Option<GrayState>,
    rng: Rng,
    /// Reused while building piggyback lists.
    scratch: Vec<Update>,
    refutations: u32,
    notes: Vec<String>,
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Swim {
    pub fn incarnation(&self) -> u32 {
        self.durable.incarnation
    }

    /// The state this node holds `member` in.
    pub fn state(&self, member: NodeId) -> u8 {
        state_of(self.table[member as usize])
    }

    /// Whether this node flags `member` gray (gray option only).
    pub fn gray_flagged(&self, member: NodeId) -> bool {
        self.gray.as_ref().is_some_and(|g| g.flagged[member as usize])
    }

    fn new_round(&mut self) {
        let n = self.n;
        let a = loop {
            let a = 1 + self.rng.below(n.max(2) as u64 - 1) as u32;
            if gcd(a, n) == 1 {
                break a;
            }
        };
        self.order = (0, a, self.rng.below(n as u64) as u32);
    }

    /// The next member to probe (round-robin over the permutation, skipping self and the dead).
    fn next_target(&mut self) -> Option<NodeId> {
        for _ in 0..=self.n {
            if self.order.0 == self.n {
                self.new_round();
            }
            let (pos, a, b) = self.order;
            self.order.0 += 1;
            let m = ((a as u64 * pos as u64 + b as u64) % self.n as u64) as NodeId;
            if m != self.id && state_of(self.table[m as usize]) != DEAD {
                return Some(m);
            }
        }
        None
    }

    /// A random member other than self and `not`, not dead (None after a few misses).
    fn random_member(&mut self, not: &[NodeId]) -> Option<NodeId> {
        for _ in 0..16 {
            let m = self.rng.below(self.n as u64) as NodeId;
            if m != self.id && !not.contains(&m) && state_of(self.table[m as usize]) != DEAD {
                return Some(m);
            }
        }
        None
    }

    fn current(table: &[u32], gray: &Option<GrayState>, u: &Update) -> bool {
        match *u {
            Update::Member { member, entry, .. } => table[member as usize] == entry,
            Update::Gray {
                target, observer, ver, ..
            } => gray.as_ref().is_some_and(|g| {
                g.reports[target as usize]
                    .iter()
                    .any(|&(o, v, _)| o == observer && v == ver)
            }),
        }
    }

    /// The piggyback list for a message to `to`: its own entry first if we think it failed.
    fn piggyback(&mut self, to: NodeId) -> Box<[Update]> {
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let own = self.table[to as usize];
        if state_of(own) != ALIVE {
            out.push(Update::Member {
                member: to,
                entry: own,
                from: self.id,
            });
        }
        let (table, gray) = (&self.table, &self.gray);
        self.gossip
            .fill(&mut out, self.config.piggyback, |u| Self::current(table, gray, u));
        if self.gossip.len > 4 * self.n as usize + 64 {
            let (table, gray) = (&self.table, &self.gray);
            self.gossip.compact(|u| Self::current(table, gray, u));
        }
        // One exact allocation (none when empty); the scratch list is reused.
        let list = Box::from(&out[..]);
        self.scratch = out;
        list
    }

    fn set(&mut self, member: NodeId, new: u32, from: NodeId, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let old = self.table[member as usize];
        self.table[member as usize] = new;
        self.gossip.push(Update::Member {
            member,
            entry: new,
            from,
        });
        if let Some(s) = self.suspicions.remove(&member) {
            self.deadlines.remove(&(s.deadline_us, member));
        }
        if state_of(new) == SUSPECT {
            let now = ctx.now_local_us;
            let deadline_us = now + self.config.suspicion_max_us;
            let mut accusers = Vec::with_capacity(self.config.confirmations as usize + 1);
            accusers.push(from);
            self.suspicions.insert(
                member,
                Suspicion {
                    entry: new,
                    start_us: now,
                    deadline_us,
                    accusers,
                },
            );
            self.deadlines.insert((deadline_us, member));
            self.arm_suspicion(ctx);
        }
        let (was, now) = (state_of(old), state_of(new));
        if was != now {
            self.counts[was as usize] -= 1;
            self.counts[now as usize] += 1;
            if was == DEAD {
                self.dead.remove(&member);
            } else if now == DEAD {
                self.dead.insert(member);
            }
            ctx.observe(SwimObs::Member { member, state: now });
            if self.gray.is_some() {
                self.regray(member, ctx);
            }
        }
    }

    /// Another member (`from`) independently suspects `member` at `e`: with dynamic
    /// suspicion the timeout shrinks, from `max` towards `min` as ln(C+1)/ln(K+1) for C of
    /// K confirmations (Lifeguard), and the confirmation is gossiped on.
    fn confirm(&mut self, member: NodeId, e: u32, from: NodeId, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let (min, max, k) = (
            self.config.suspicion_us,
            self.config.suspicion_max_us,
            self.config.confirmations,
        );
        if max == min {
            return; // the paper's fixed timeout: confirmations change nothing
        }
        let Some(s) = self.suspicions.get_mut(&member) else {
            return;
        };
        if s.entry != e || s.accusers.contains(&from) || s.accusers.len() > k as usize {
            return;
        }
        s.accusers.push(from);
        let c = (s.accusers.len() - 1) as f64;
        let frac = libm::log(c + 1.0) / libm::log(k as f64 + 1.0);
        let timeout = ((max as f64 - (max - min) as f64 * frac) as Micros).max(min);
        let deadline_us = s.start_us + timeout;
        if deadline_us < s.deadline_us {
            self.deadlines.remove(&(s.deadline_us, member));
            s.deadline_us = deadline_us;
            self.deadlines.insert((deadline_us, member));
        }
        self.gossip.push(Update::Member { member, entry: e, from });
        self.arm_suspicion(ctx);
    }

    /// Arms the one suspicion timer for the earliest deadline (unless it already comes first).
    fn arm_suspicion(&mut self, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let Some(&(deadline, _)) = self.deadlines.first() else {
            return;
        };
        if self.suspicion_timer.is_some_and(|at| at <= deadline) {
            return;
        }
        self.suspicion_timer = Some(deadline);
        (self.suspicion).rearm(ctx, deadline.saturating_sub(ctx.now_local_us), SUSPICION);
    }

    fn on_suspicion_timer(&mut self, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        self.suspicion_timer = None;
        while let Some(&(deadline, member)) = self.deadlines.first() {
            if deadline > ctx.now_local_us {
                break;
            }
            let e = self.suspicions[&member].entry;
            // Confirm: the suspicion stood for the whole timeout (`set` clears it).
            self.set(member, entry(incarnation_of(e), DEAD), self.id, ctx);
        }
        self.arm_suspicion(ctx);
    }

    /// Applies piggybacked updates.
    fn absorb(&mut self, gossip: &[Update], ctx: &mut Ctx<SwimMsg, SwimObs>) {
        for &u in gossip {
            match u {
                Update::Member { member, entry: e, from } => {
                    if member >= self.n || from >= self.n {
                        continue;
                    }
                    if member == self.id {
                        let mine = self.durable.incarnation;
                        if state_of(e) != ALIVE && incarnation_of(e) >= mine {
                            // Refute: a new incarnation, announced alive.
                            let inc = (incarnation_of(e) + 1).min(MAX_INCARNATION);
                            self.durable.write(inc);
                            self.refutations += 1;
                            self.table[self.id as usize] = entry(inc, ALIVE);
                            self.gossip.push(Update::Member {
                                member: self.id,
                                entry: entry(inc, ALIVE),
                                from: self.id,
                            });
                        }
                    } else if e > self.table[member as usize] && state_of(e) <= DEAD {
                        self.set(member, e, from, ctx);
                    } else if e == self.table[member as usize] && state_of(e) == SUSPECT {
                        self.confirm(member, e, from, ctx);
                    }
                }
                Update::Gray {
                    target,
                    observer,
                    ver,
                    bad,
                } => self.absorb_report(target, observer, ver, bad, ctx),
            }
        }
    }

    fn send_ping(&mut self, to: NodeId, seq: u32, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let gossip = self.piggyback(to);
        ctx.send(to, SwimMsg::Ping { seq, gossip });
    }

    fn on_period(&mut self, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        if let Some(p) = self.probe.take() {
            let e = self.table[p.target as usize];
            if !p.acked && state_of(e) == ALIVE {
                self.set(p.target, entry(incarnation_of(e), SUSPECT), self.id, ctx);
            } else if !p.acked && state_of(e) == SUSPECT {
                self.confirm(p.target, e, self.id, ctx);
            }
        }
        if let Some(target) = self.next_target() {
            self.next_seq = self.next_seq.wrapping_add(1);
            let seq = self.next_seq;
            self.probe = Some(Probe {
                target,
                seq,
                acked: false,
            });
            self.send_ping(target, seq, ctx);
            ctx.set_timer(self.config.ping_timeout_us, timer_tag(PING_TIMEOUT, seq as u64));
        }
        if !self.dead.is_empty() && self.rng.below(RECONNECT_ONE_IN) == 0 {
            // Reconnect: ping a member held dead. If it is up (a partition healed), the
            // ping tells it it is dead, it refutes, and its ack brings the new `alive`.
            let from = self.rng.below(self.n as u64) as NodeId;
            let m = self.dead.range(from..).next().or(self.dead.first()).copied();
            if let Some(m) = m {
                self.send_ping(m, 0, ctx);
            }
        }
        ctx.set_timer(self.config.period_us, PERIOD);
    }

    fn on_ping_timeout(&mut self, seq: u32, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let Some(p) = self.probe else { return };
        if p.seq != seq || p.acked {
            return;
        }
        let mut helpers: Vec<NodeId> = Vec::with_capacity(self.config.indirect_k as usize + 1);
        helpers.push(p.target);
        for _ in 0..self.config.indirect_k {
            let Some(h) = self.random_member(&helpers) else { break };
            helpers.push(h);
            let gossip = self.piggyback(h);
            ctx.send(
                h,
                SwimMsg::PingReq {
                    seq,
                    target: p.target,
                    gossip,
                },
            );
        }
    }

    // ------------------------------------------------------------ gray option

    fn send_deep_probe(&mut self, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let Some(peer) = self.random_member(&[]) else { return };
        let Some(g) = self.gray.as_mut() else { return };
        g.next_id = g.next_id.wrapping_add(1);
        let id = g.next_id;
        g.pending.push((id, peer, ctx.now_local_us));
        ctx.send(peer, SwimMsg::Work { id });
        let timeout = self.config.gray.as_ref().expect("gray on").timeout_us;
        ctx.set_timer(timeout, timer_tag(DEEP_TIMEOUT, id as u64));
    }

    /// A deep probe of `peer` ended: answered after `rtt_us`, or failed (None).
    fn deep_result(&mut self, peer: NodeId, rtt_us: Option<Micros>, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let config = self.config.gray.clone().expect("gray on");
        let g = self.gray.as_mut().expect("gray on");
        let s = &mut g.stats[peer as usize];
        s.recent = (s.recent << 1) | rtt_us.is_none() as u16;
        s.samples = s.samples.saturating_add(1);
        match rtt_us {
            Some(rtt) => {
                s.ok += 1;
                let rtt = rtt.min(u32::MAX as u64) as u32;
                s.lat_us = if s.ok == 1 {
                    rtt
                } else {
                    s.lat_us - s.lat_us / 4 + rtt / 4
                };
            }
            None => s.failed += 1,
        }
        // Recompute my verdicts against the medians over my peers: failing means an error
        // rate over the threshold and over twice the median (a lossy network fails every
        // peer alike), or a latency over `latency_factor` × the median.
        fn median(mut v: Vec<u32>) -> u32 {
            if v.is_empty() {
                return 0;
            }
            let mid = v.len() / 2;
            *v.select_nth_unstable(mid).1
        }
        let lat_median = median(g.stats.iter().filter(|s| s.ok > 0).map(|s| s.lat_us).collect());
        let err_median = median(
            g.stats
                .iter()
                .filter(|s| s.samples > 0)
                .map(WorkStats::err_ppm)
                .collect(),
        );
        let verdict = |s: &WorkStats| {
            let err = s.err_ppm();
            let erring = s.samples >= MIN_SAMPLES && err >= config.error_ppm && err / 2 > err_median;
            let slow = s.ok >= 3 && lat_median > 0 && s.lat_us as f64 > config.latency_factor * lat_median as f64;
            erring || slow
        };
        let mut changed = Vec::new();
        for (p, s) in g.stats.iter().enumerate() {
            if verdict(s) != g.mine[p] {
                changed.push(p as NodeId);
            }
        }
        for p in changed {
            let g = self.gray.as_mut().expect("gray on");
            g.mine[p as usize] = !g.mine[p as usize];
            g.my_ver += 1;
            let (ver, bad) = (g.my_ver, g.mine[p as usize]);
            self.absorb_report(p, self.id, ver, bad, ctx);
        }
    }

    fn absorb_report(
        &mut self,
        target: NodeId,
        observer: NodeId,
        ver: u32,
        bad: bool,
        ctx: &mut Ctx<SwimMsg, SwimObs>,
    ) {
        let Some(g) = self.gray.as_mut() else { return };
        if target >= self.n || observer >= self.n {
            return;
        }
        let reports = &mut g.reports[target as usize];
        match reports.iter_mut().find(|r| r.0 == observer) {
            Some(r) if r.1 >= ver => return,
            Some(r) => *r = (observer, ver, bad),
            None => reports.push((observer, ver, bad)),
        }
        self.gossip.push(Update::Gray {
            target,
            observer,
            ver,
            bad,
        });
        self.regray(target, ctx);
    }

    /// Re-decides whether `member` is flagged gray: enough observers see its work failing
    /// while it still answers pings.
    fn regray(&mut self, member: NodeId, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        let alive = state_of(self.table[member as usize]) == ALIVE;
        let need = self.config.gray.as_ref().map_or(u32::MAX, |c| c.observers);
        let Some(g) = self.gray.as_mut() else { return };
        let bad = g.reports[member as usize].iter().filter(|r| r.2).count() as u32;
        let flag = alive && member != self.id && bad >= need;
        if flag != g.flagged[member as usize] {
            g.flagged[member as usize] = flag;
            ctx.observe(SwimObs::Gray { member, on: flag });
        }
    }

    fn gray_list(&self) -> Vec<NodeId> {
        self.gray
            .as_ref()
            .map_or(Vec::new(), |g| (0..self.n).filter(|&m| g.flagged[m as usize]).collect())
    }
}

impl Protocol for Swim {
    type Config = SwimConfig;
    type Msg = SwimMsg;
    type Durable = SwimDurable;
    type Obs = SwimObs;
    const NAME: &'static str = "swim";

    fn approx_bytes(&self) -> usize {
        use crate::budget::{map_bytes, set_bytes, vec_bytes};
        let gossip = vec_bytes(&self.gossip.buckets) + self.gossip.buckets.iter().map(vec_bytes).sum::<usize>();
        let gray = self.gray.as_ref().map_or(0, |g| {
            vec_bytes(&g.pending)
                + vec_bytes(&g.stats)
                + vec_bytes(&g.mine)
                + vec_bytes(&g.reports)
                + g.reports.iter().map(vec_bytes).sum::<usize>()
        });
        std::mem::size_of_val(self)
            + vec_bytes(&self.table)
            + set_bytes(&self.dead)
            + gossip
            + vec_bytes(&self.relays)
            + map_bytes(&self.suspicions)
            + set_bytes(&self.deadlines)
            + gray
            + vec_bytes(&self.scratch)
            + vec_bytes(&self.notes)
    }

    fn boot(
        config: &SwimConfig,
        id: NodeId,
        nodes: u32,
        mut durable: SwimDurable,
        rng: Rng,
        ctx: &mut Ctx<SwimMsg, SwimObs>,
    ) -> Self {
        let n = nodes as usize;
        let restarted = durable.boots > 0;
        if restarted {
            // The restart rule: rejoin one incarnation up, so `alive` beats our `dead`.
            durable.write(durable.incarnation.saturating_add(1));
        }
        durable.boots = durable.boots.saturating_add(1);
        let gray = config.gray.as_ref().map(|_| GrayState {
            next_id: 0,
            pending: Vec::new(),
            stats: vec![WorkStats::default(); n],
            mine: vec![false; n],
            my_ver: 0,
            reports: vec![Vec::new(); n],
            flagged: vec![false; n],
        });
        let mut table = vec![entry(0, ALIVE); n];
        table[id as usize] = entry(durable.incarnation, ALIVE);
        let mut node = Swim {
            config: config.clone(),
            id,
            n: nodes,
            durable,
            table,
            counts: [nodes, 0, 0],
            dead: BTreeSet::new(),
            gossip: Gossip::new(config.retransmit),
            order: (0, 1, 0),
            next_seq: 0,
            probe: None,
            relays: Vec::new(),
            suspicions: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            suspicion_timer: None,
            suspicion: Generation::default(),
            gray,
            rng,
            scratch: Vec::new(),
            refutations: 0,
            notes: Vec::new(),
        };
        node.new_round();
        ctx.observe(SwimObs::Booted { restarted });
        if restarted {
            node.gossip.push(Update::Member {
                member: id,
                entry: node.table[id as usize],
                from: id,
            });
            node.notes.push(format!(
                "restarted: rejoined at incarnation {}",
                node.durable.incarnation
            ));
        }
        // A random phase: members are not phase-locked.
        let phase = node.rng.between(1, config.period_us);
        ctx.set_timer(phase, PERIOD);
        if let Some(g) = &config.gray {
            let phase = node.rng.between(1, g.probe_us);
            ctx.set_timer(phase, DEEP);
        }
        node
    }

    fn on_message(&mut self, from: NodeId, msg: SwimMsg, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        if from == self.id {
            return;
        }
        match msg {
            SwimMsg::Ping { seq, gossip } => {
                self.absorb(&gossip, ctx);
                let gossip = self.piggyback(from);
                ctx.send(from, SwimMsg::Ack { seq, gossip });
            }
            SwimMsg::PingReq { seq, target, gossip } => {
                self.absorb(&gossip, ctx);
                if target >= self.n || target == self.id {
                    return;
                }
                let now = ctx.now_local_us;
                let period = self.config.period_us;
                self.relays.retain(|r| now.saturating_sub(r.3) < period);
                self.next_seq = self.next_seq.wrapping_add(1);
                let mine = self.next_seq;
                self.relays.push((mine, from, seq, now));
                self.send_ping(target, mine, ctx);
            }
            SwimMsg::Ack { seq, gossip } => {
                self.absorb(&gossip, ctx);
                if let Some(i) = self.relays.iter().position(|r| r.0 == seq) {
                    let (_, requester, theirs, _) = self.relays.swap_remove(i);
                    let gossip = self.piggyback(requester);
                    ctx.send(requester, SwimMsg::Ack { seq: theirs, gossip });
                } else if let Some(p) = self.probe.as_mut() {
                    if p.seq == seq {
                        p.acked = true;
                    }
                }
            }
            SwimMsg::Work { id } => ctx.send(from, SwimMsg::WorkDone { id }),
            SwimMsg::WorkDone { id } => {
                let Some(g) = self.gray.as_mut() else { return };
                if let Some(i) = g.pending.iter().position(|&(p, peer, _)| p == id && peer == from) {
                    let (_, peer, sent) = g.pending.swap_remove(i);
                    self.deep_result(peer, Some(ctx.now_local_us.saturating_sub(sent)), ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, tag: TimerTag, ctx: &mut Ctx<SwimMsg, SwimObs>) {
        match timer_kind(tag) {
            PERIOD => self.on_period(ctx),
            PING_TIMEOUT => self.on_ping_timeout(timer_arg(tag) as u32, ctx),
            SUSPICION if self.suspicion_timer.is_some() && self.suspicion.is_current(tag) => {
                self.on_suspicion_timer(ctx)
            }
            DEEP => {
                self.send_deep_probe(ctx);
                let every = self.config.gray.as_ref().expect("gray on").probe_us;
                ctx.set_timer(every, DEEP);
            }
            DEEP_TIMEOUT => {
                let id = timer_arg(tag) as u32;
                let Some(g) = self.gray.as_mut() else { return };
                if let Some(i) = g.pending.iter().position(|&(p, _, _)| p == id) {
                    let (_, peer, _) = g.pending.swap_remove(i);
                    self.deep_result(peer, None, ctx);
                }
            }
            _ => {}
        }
    }

    fn durable(&self) -> SwimDurable {
        self.durable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_the_order_of_packed_entries() {
        // alive(i) beats suspect(j) iff i > j
        assert!(entry(3, ALIVE) > entry(2, SUSPECT));
        assert!(entry(2, ALIVE) <= entry(2, SUSPECT));
        // suspect(i) beats alive(j) iff i >= j
        assert!(entry(2, SUSPECT) > entry(2, ALIVE));
        assert!(entry(1, SUSPECT) <= entry(2, ALIVE));
        // dead beats alive and suspect at the same incarnation; alive(i+1) beats dead(i)
        assert!(entry(2, DEAD) > entry(2, SUSPECT));
        assert!(entry(3, ALIVE) > entry(2, DEAD));
    }

    #[test]
    fn gossip_sends_least_sent_first_and_retires_after_the_limit() {
        let mut g = Gossip::new(2);
        let u = |m| Update::Member {
            member: m,
            entry: 0,
            from: 0,
        };
        g.push(u(1));
        g.push(u(2));
        let mut out = Vec::new();
        g.fill(&mut out, 1, |_| true);
        assert_eq!(out, vec![u(2)]);
        out.clear();
        g.fill(&mut out, 8, |_| true);
        assert_eq!(out, vec![u(1), u(2)]);
        out.clear();
        g.fill(&mut out, 8, |_| true);
        assert_eq!(out, vec![u(1)]);
        out.clear();
        g.fill(&mut out, 8, |_| true);
        assert!(out.is_empty());
        assert_eq!(g.len, 0);
    }

    #[test]
    fn the_probe_order_visits_every_member_once_a_round() {
        let mut ctx = Ctx::new();
        let config = SwimSpec::default().config(10).unwrap();
        let mut s = Swim::boot(&config, 3, 10, SwimDurable::default(), Rng::from_seed(5), &mut ctx);
        let mut seen: Vec<NodeId> = (0..9).map(|_| s.next_target().unwrap()).collect();
        seen.sort();
        assert_eq!(seen, vec![0, 1, 2, 4, 5, 6, 7, 8, 9]);
    }
}
