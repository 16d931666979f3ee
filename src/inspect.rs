//! What the outside sees of a run: counters, snapshots, node views and render columns.
//!
//! Snapshots are small plain structs (serialized at the boundaries). Columns are flat
//! vectors the renderer reads straight out of wasm memory each frame, refilled in place
//! (no per-frame allocation once they have grown to size).

use serde::Serialize;

use crate::network::{DropReason, NodeId};
use crate::node::NodeRuntime;
use crate::time::Micros;
use crate::view::{Fact, LogCell, NodeSet, Number, PeerView, ProtocolView};

/// Message accounting. Conservation: `sent + duplicated = delivered + dropped + in_flight`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub duplicated: u64,
    pub delivered: u64,
    /// Indexed by `DropReason::index()`.
    pub dropped: [u64; DropReason::ALL.len()],
    /// The longest delay of a delivered message that was sent while the timing model
    /// bounded delays (synchronous; partially synchronous after GST), in µs: the model's
    /// promise, measured.
    pub max_bounded_delay_us: u64,
}

impl Counters {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DropCounts {
    pub loss: u64,
    pub partition: u64,
    pub cut: u64,
    pub crashed: u64,
    pub overflow: u64,
    pub omission: u64,
    pub gray: u64,
    pub total: u64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CounterView {
    pub sent: u64,
    pub delivered: u64,
    pub duplicated: u64,
    pub in_flight: u64,
    pub dropped: DropCounts,
}

impl CounterView {
    pub fn new(c: &Counters, in_flight: u64) -> CounterView {
        let d = |r| c.dropped(r);
        CounterView {
            sent: c.sent,
            delivered: c.delivered,
            duplicated: c.duplicated,
            in_flight,
            dropped: DropCounts {
                loss: d(DropReason::Loss),
                partition: d(DropReason::Partition),
                cut: d(DropReason::Cut),
                crashed: d(DropReason::Crashed),
                overflow: d(DropReason::Overflow),
                omission: d(DropReason::Omission),
                gray: d(DropReason::Gray),
                total: c.dropped_total(),
            },
        }
    }
}

/// The global state of a run at one moment.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Snapshot {
    pub time_ms: f64,
    pub seed: u64,
    pub nodes: u32,
    pub protocol: &'static str,
    /// Events processed since time 0.
    pub events: u64,
    /// Events waiting in the queue (timers, messages in flight, pause ends).
    pub queued: u64,
    pub trace_hash: String,
    pub counters: CounterView,
    pub partitioned: bool,
    pub nodes_up: u32,
    pub nodes_crashed: u32,
    pub nodes_paused: u32,
    /// Times a bound was reached (each also counted where it happened, e.g. `overflow`).
    pub limits_hit: u64,
}

/// One node as the inspector shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NodeView {
    pub id: NodeId,
    pub status: &'static str,
    pub paused_until_ms: Option<f64>,
    pub incarnation: u32,
    pub restarts: u32,
    pub clock_ms: f64,
    pub sent: u64,
    pub received: u64,
    pub protocol: &'static str,
    /// Local clock minus true time, in ms, and the drift in ppm.
    pub clock_skew_ms: f64,
    pub drift_ppm: i32,
    pub strobing: bool,
    /// Machine faults in force, in words ("gray: fails 50% of requests", …).
    pub afflictions: Vec<String>,
    /// This node's local view of every peer (empty while crashed: it has no view).
    pub peers: Vec<PeerView>,
    /// What the protocol says about its own state.
    pub notes: Vec<String>,
    pub facts: Vec<Fact>,
    pub log: Vec<LogCell>,
    /// Numbers among the facts (`ProtocolView::numbers`), for tests; not serialized.
    #[serde(skip)]
    pub numbers: Vec<Number>,
    /// Sets of nodes among the facts (`ProtocolView::node_sets`), for tests; not serialized.
    #[serde(skip)]
    pub node_sets: Vec<NodeSet>,
    /// The engine's true causal clocks of this node (`engine::causal`): its Lamport time and,
    /// up to 64 nodes, its vector clock.
    pub lamport: u64,
    pub vector_clock: Option<Vec<u32>>,
}

impl NodeView {
    /// The number stated under `label`, if the view states one.
    pub fn number(&self, label: &str) -> Option<u64> {
        self.numbers.iter().find(|n| n.label == label).map(|n| n.value)
    }

    /// The set of nodes stated under `label`, if the view states one.
    pub fn node_set(&self, label: &str) -> Option<&[NodeId]> {
        self.node_sets.iter().find(|s| s.label == label).map(|s| &s.nodes[..])
    }

    pub fn new(id: NodeId, rt: &NodeRuntime, now_us: Micros, protocol: &'static str, view: ProtocolView) -> NodeView {
        let local_us = rt.clock.local(now_us);
        NodeView {
            id,
            status: rt.status.name(),
            paused_until_ms: match rt.status {
                crate::node::Status::Paused { until_us, .. } => Some(ms(until_us)),
                _ => None,
            },
            incarnation: rt.incarnation,
            restarts: rt.restarts,
            clock_ms: ms(local_us),
            sent: rt.sent,
            received: rt.received,
            protocol,
            clock_skew_ms: (local_us as f64 - now_us as f64) / 1_000.0,
            drift_ppm: rt.clock.drift_ppm,
            strobing: rt.strobing,
            afflictions: afflictions(rt),
            peers: view.peers,
            notes: view.notes,
            facts: view.facts,
            log: view.log,
            numbers: view.numbers,
            node_sets: view.node_sets,
            lamport: 0,
            vector_clock: None,
        }
    }
}

fn afflictions(rt: &NodeRuntime) -> Vec<String> {
    let a = &rt.afflictions;
    let pct = |ppm: u32| format!("{}%", ppm as f64 / 10_000.0);
    let mut out = Vec::new();
    if a.send_omission_ppm > 0 {
        out.push(format!(
            "send omission: drops {} of what it sends",
            pct(a.send_omission_ppm)
        ));
    }
    if a.receive_omission_ppm > 0 {
        out.push(format!(
            "receive omission: drops {} of what reaches it",
            pct(a.receive_omission_ppm)
        ));
    }
    if a.slow.is_some() {
        out.push("slow: every event waits for extra processing time".to_string());
    }
    if a.is_gray() {
        out.push(format!(
            "gray: fails {} of real requests, the rest {} ms slower; heartbeats pass",
            pct(a.gray_fail_ppm),
            a.gray_slow_us as f64 / 1_000.0
        ));
    }
    if a.is_byzantine() {
        out.push(format!("Byzantine: {}", a.behaviour.name()));
    }
    out
}

/// A recent drop, for drawing a burst where the message died.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropMark {
    pub from: NodeId,
    pub to: NodeId,
    pub at_us: Micros,
    /// Where along from→to it died: 0 at the sender, 1 at the receiver.
    pub frac: f32,
    pub reason: DropReason,
}

/// Flat per-node and per-message columns for the renderer.
#[derive(Clone, Debug, Default)]
pub struct Columns {
    pub node_xy: Vec<f32>,
    pub node_status: Vec<u8>,
    /// Bit set of afflictions (see `engine::columns::FLAG_*`).
    pub node_flags: Vec<u8>,
    /// Local clock minus true time, in ms.
    pub node_clock_skew_ms: Vec<f32>,
    /// nodes × nodes drop-reason codes for blocked links (row = from), empty when nothing
    /// is blocked or the cluster is larger than the matrix limit.
    pub link_blocked: Vec<u8>,
    pub node_suspected_by: Vec<u32>,
    pub node_group: Vec<u32>,
    /// The protocol's drawing of each node (see `view::NodeRender`). A crashed node
    /// keeps its last role, so the canvas still knows a dead client from a dead server.
    pub node_role: Vec<u8>,
    pub node_term: Vec<u32>,
    pub node_load: Vec<f32>,
    pub node_queue: Vec<u32>,
    pub node_log_len: Vec<u32>,
    pub node_commit: Vec<u32>,
    pub node_value: Vec<f64>,
    /// Each node's request stages, packed (see `view::pack_stages`); 0 for none.
    pub node_stages: Vec<u32>,
    /// Messages in flight in all; the columns hold at most `RENDER_MSGS_MAX` of them.
    pub msgs_total: u64,
    pub msg_from: Vec<u32>,
    pub msg_to: Vec<u32>,
    pub msg_sent_ms: Vec<f64>,
    pub msg_deliver_ms: Vec<f64>,
    pub msg_kind: Vec<u8>,
    pub drop_from: Vec<u32>,
    pub drop_to: Vec<u32>,
    pub drop_at_ms: Vec<f64>,
    pub drop_frac: Vec<f32>,
    pub drop_reason: Vec<u8>,
}

impl Columns {
    pub fn clear_messages(&mut self) {
        self.msg_from.clear();
        self.msg_to.clear();
        self.msg_sent_ms.clear();
        self.msg_deliver_ms.clear();
        self.msg_kind.clear();
        self.drop_from.clear();
        self.drop_to.clear();
        self.drop_at_ms.clear();
        self.drop_frac.clear();
        self.drop_reason.clear();
    }
}

/// Microseconds to the renderer's milliseconds.
pub fn ms(us: Micros) -> f64 {
    crate::time::us_to_ms(us)
}
