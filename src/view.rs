//! What a protocol shows: the `Inspect` trait (its state as the inspector lists it, what
//! the canvas draws of each node, where nodes sit, whom a node suspects) and the plain
//! view types it returns.
//!
//! Layer: beside the protocols, above the pure `Protocol` trait. A protocol implements
//! `Inspect` in its own folder's `view.rs`; its state machine never imports this module,
//! so nothing about pixels or panels can reach a handler.

use serde::Serialize;

use crate::protocol::Protocol;
use crate::time::Micros;
use crate::vocab::NodeId;

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

impl Fact {
    pub fn new(label: &'static str, value: String) -> Fact {
        Fact { label, value }
    }
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
    /// Numbers among the facts, for tests and graders to read without parsing display
    /// text. Not sent to the page: the facts show the same numbers in words.
    #[serde(skip)]
    pub numbers: Vec<Number>,
    /// Sets of nodes among the facts ("gray suspected": n2, n5), read like `numbers`.
    #[serde(skip)]
    pub node_sets: Vec<NodeSet>,
}

/// A number a view states among its facts ("executed": 12), under the fact's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Number {
    pub label: &'static str,
    pub value: u64,
}

/// A set of nodes a view states among its facts, under the fact's label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSet {
    pub label: &'static str,
    pub nodes: Vec<NodeId>,
}

/// Most log entries a view shows.
pub const LOG_VIEW_MAX: usize = 64;

/// What a node is, for the canvas (its shape) and the legend: the codes of the renderer's
/// `node_role` column, listed once here (`ALL`, with the names the front end uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RenderRole {
    None = 0,
    Follower = 1,
    Candidate = 2,
    Leader = 3,
    Client = 4,
    /// A lock (lease) server.
    LockServer = 5,
    Storage = 6,
    Balancer = 7,
    Replica = 8,
    Backend = 9,
    /// A replica of the CP/AP register.
    Register = 10,
    /// A SWIM member.
    Member = 11,
}

impl RenderRole {
    pub const ALL: [RenderRole; 12] = [
        RenderRole::None,
        RenderRole::Follower,
        RenderRole::Candidate,
        RenderRole::Leader,
        RenderRole::Client,
        RenderRole::LockServer,
        RenderRole::Storage,
        RenderRole::Balancer,
        RenderRole::Replica,
        RenderRole::Backend,
        RenderRole::Register,
        RenderRole::Member,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The role's name in the front end's `ROLE` table.
    pub fn name(self) -> &'static str {
        match self {
            RenderRole::None => "none",
            RenderRole::Follower => "follower",
            RenderRole::Candidate => "candidate",
            RenderRole::Leader => "leader",
            RenderRole::Client => "client",
            RenderRole::LockServer => "lockServer",
            RenderRole::Storage => "storage",
            RenderRole::Balancer => "balancer",
            RenderRole::Replica => "replica",
            RenderRole::Backend => "backend",
            RenderRole::Register => "register",
            RenderRole::Member => "member",
        }
    }
}

/// What the canvas draws of a node's protocol state (all optional: zero means none).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NodeRender {
    /// A `RenderRole` code (see `docs/js-api.md`, "node_role").
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
    /// The stages of the newest requests the node works on, oldest first, at most
    /// `STAGES_MAX` (see `pack_stages`): PBFT's pre-prepared, prepared, committed.
    pub stages: u32,
}

/// Most request stages a node shows.
pub const STAGES_MAX: usize = 8;

/// Packs request stages for `NodeRender::stages`, 4 bits each from the low bits, oldest
/// first; a zero nibble ends the list. A stage is a level from 1 to 15, drawn as that many
/// stacked ticks, tick k in the colour of message kind k (PBFT's kinds 1 to 3 are its
/// pre-prepare, prepare and commit: the message that completes each stage). Levels of 0
/// are skipped; more than `STAGES_MAX` keep the newest.
pub fn pack_stages(levels: &[u8]) -> u32 {
    let shown: Vec<u8> = levels.iter().copied().filter(|&l| l > 0).map(|l| l.min(15)).collect();
    let newest = &shown[shown.len().saturating_sub(STAGES_MAX)..];
    newest.iter().rev().fold(0, |packed, &l| packed << 4 | l as u32)
}

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

/// A protocol's face to the inspector and the canvas.
pub trait Inspect: Protocol {
    fn view(&self, now_local_us: Micros) -> ProtocolView;
    /// Whether this node currently suspects `peer` of having failed.
    fn suspects(&self, _peer: NodeId) -> bool {
        false
    }
    /// Adds one to `counts[peer]` for each peer this node suspects: the canvas's
    /// suspected-by column, read every frame (a million `suspects` calls at 1,000 nodes, so
    /// a protocol may answer for all peers at once).
    fn add_suspicions(&self, counts: &mut [u32]) {
        for (peer, count) in counts.iter_mut().enumerate() {
            *count += self.suspects(peer as NodeId) as u32;
        }
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
        layout(nodes)
    }
}

/// A layout for protocols with a cluster and its clients: the first `ring` nodes on a
/// circle in the upper part, the rest in a row beneath them.
pub fn ring_over_row(ring: u32, nodes: u32) -> Vec<f32> {
    let tau = 2.0 * core::f32::consts::PI;
    let mut xy = Vec::with_capacity(2 * nodes as usize);
    for i in 0..ring {
        let a = -core::f32::consts::FRAC_PI_2 + tau * i as f32 / ring as f32;
        let r = if ring == 1 { 0.0 } else { 0.55 };
        xy.push(r * libm::cosf(a));
        xy.push(r * libm::sinf(a) - 0.2);
    }
    let clients = nodes - ring;
    for c in 0..clients {
        let t = if clients == 1 {
            0.5
        } else {
            c as f32 / (clients - 1) as f32
        };
        xy.push(-0.75 + 1.5 * t);
        xy.push(0.9);
    }
    xy
}

/// Where node `i` of `n` sits, in [−1, 1]²: a circle for small clusters, a sunflower
/// (Vogel's spiral) for large ones, so a thousand nodes fill the disc evenly.
pub fn layout(n: u32) -> Vec<f32> {
    let mut xy = Vec::with_capacity(2 * n as usize);
    if n == 1 {
        return vec![0.0, 0.0];
    }
    let golden = core::f64::consts::PI * (3.0 - libm::sqrt(5.0));
    for i in 0..n {
        let (r, theta) = if n <= 48 {
            (
                0.8,
                2.0 * core::f64::consts::PI * i as f64 / n as f64 - core::f64::consts::FRAC_PI_2,
            )
        } else {
            (0.92 * libm::sqrt((i as f64 + 0.5) / n as f64), i as f64 * golden)
        };
        xy.push((r * libm::cos(theta)) as f32);
        xy.push((r * libm::sin(theta)) as f32);
    }
    xy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_pack_oldest_first_and_keep_the_newest() {
        assert_eq!(pack_stages(&[]), 0);
        assert_eq!(pack_stages(&[3, 0, 2, 1]), 0x123);
        let many: Vec<u8> = (1..=10).collect();
        // The newest eight: 3 to 10, 3 in the low nibble.
        assert_eq!(pack_stages(&many), 0xA987_6543);
        assert_eq!(pack_stages(&[20]), 0xF);
    }

    #[test]
    fn role_codes_are_their_index() {
        for (i, role) in RenderRole::ALL.iter().enumerate() {
            assert_eq!(role.code() as usize, i, "{}", role.name());
        }
    }

    #[test]
    fn layout_stays_in_the_unit_square() {
        for n in [1, 2, 5, 48, 49, 1000] {
            let xy = layout(n);
            assert_eq!(xy.len(), 2 * n as usize);
            assert!(xy.iter().all(|v| (-1.0..=1.0).contains(v)));
        }
    }
}
