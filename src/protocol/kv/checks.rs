//! The store's checkers, fed by the replicas' observations:
//! - `timestamp_order` (safety): every write is stamped after each write it overwrote —
//!   wall clocks break it under skew (an effect stamped before its cause); Lamport, HLC and
//!   vector stamps never do;
//! - `causal_writes` (safety): no replica drops a write in favour of one the dropped write
//!   had itself overwritten (a causally later write lost to an earlier one);
//! - measures: concurrent writes dropped by last-write-wins, conflicts kept as siblings,
//!   and how far HLCs run ahead of their node's physical clock (and their counters);
//! - `hlc_monotone` (safety): no replica's HLC ever goes back, through clock jumps and
//!   restarts.
//!
//! Writes are remembered in a bounded registry (`WRITES_KEPT`, oldest forgotten first).

use std::collections::BTreeMap;

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Violation};
use crate::time::us_to_ms;

/// Writes remembered for the causal questions.
const WRITES_KEPT: usize = 4096;

#[derive(Clone, Debug)]
pub struct KvChecks {
    timestamps: Timestamps,
    writes: BTreeMap<WriteId, Box<Version>>,
    order: std::collections::VecDeque<WriteId>,
    timestamp_order: Violation,
    out_of_order: Vec<NodeId>,
    causal_writes: Violation,
    lost: u64,
    lost_nodes: Vec<NodeId>,
    concurrent_dropped: u64,
    siblings: u64,
    most_siblings: u32,
    hlc_monotone: Violation,
    last_hlc: Vec<Hlc>,
    hlc_ahead_us: Micros,
    hlc_counter: u32,
}

impl KvChecks {
    /// Whether `ancestor` is among the writes `w` overwrote, directly or through others.
    fn overwrote(&self, w: WriteId, ancestor: WriteId) -> bool {
        let mut stack = vec![w];
        let mut seen = 0;
        while let Some(x) = stack.pop() {
            seen += 1;
            if seen > WRITES_KEPT {
                break;
            }
            let Some(v) = self.writes.get(&x) else { continue };
            if v.overwrote.contains(&ancestor) {
                return true;
            }
            stack.extend(v.overwrote.iter().copied());
        }
        false
    }

    fn stamped_after(&self, later: &Version, earlier: &Version) -> bool {
        match self.timestamps {
            Timestamps::Physical => later.physical_us > earlier.physical_us,
            Timestamps::Hlc => later.hlc > earlier.hlc,
            Timestamps::Vector => later.vc.dominates(&earlier.vc) && later.vc != earlier.vc,
        }
    }

    fn wrote(&mut self, now_us: Micros, v: &Version) {
        for p in &v.overwrote {
            if let Some(earlier) = self.writes.get(p) {
                if !self.stamped_after(v, earlier) {
                    self.timestamp_order.latch(now_us);
                    if !self.out_of_order.contains(&v.id.node) {
                        self.out_of_order.push(v.id.node);
                    }
                }
            }
        }
        if self.order.len() == WRITES_KEPT {
            let old = self.order.pop_front().expect("full");
            self.writes.remove(&old);
        }
        self.order.push_back(v.id);
        self.writes.insert(v.id, Box::new(v.clone()));
    }

    fn discarded(&mut self, now_us: Micros, node: NodeId, dropped: WriteId, kept: WriteId) {
        if self.overwrote(dropped, kept) {
            self.lost += 1;
            self.causal_writes.latch(now_us);
            if !self.lost_nodes.contains(&node) {
                self.lost_nodes.push(node);
            }
        } else if !self.overwrote(kept, dropped) {
            self.concurrent_dropped += 1;
        }
    }

    fn clock(&mut self, now_us: Micros, node: NodeId, hlc: Hlc, physical_us: Micros) {
        let last = &mut self.last_hlc[node as usize];
        if hlc < *last {
            self.hlc_monotone.latch(now_us);
        }
        *last = hlc;
        self.hlc_ahead_us = self.hlc_ahead_us.max(hlc.l.saturating_sub(physical_us));
        self.hlc_counter = self.hlc_counter.max(hlc.c);
    }
}

impl Checks<Kv> for KvChecks {
    fn new(config: &KvConfig, nodes: u32) -> Self {
        KvChecks {
            timestamps: config.timestamps,
            writes: BTreeMap::new(),
            order: Default::default(),
            timestamp_order: Violation::default(),
            out_of_order: Vec::new(),
            causal_writes: Violation::default(),
            lost: 0,
            lost_nodes: Vec::new(),
            concurrent_dropped: 0,
            siblings: 0,
            most_siblings: 0,
            hlc_monotone: Violation::default(),
            last_hlc: vec![Hlc::default(); nodes as usize],
            hlc_ahead_us: 0,
            hlc_counter: 0,
        }
    }

    fn observe(&mut self, now_us: Micros, node: NodeId, obs: &KvObs) {
        match obs {
            KvObs::Wrote(v) => self.wrote(now_us, v),
            KvObs::Discarded { dropped, kept, .. } => self.discarded(now_us, node, *dropped, *kept),
            KvObs::Siblings { count, .. } => {
                self.siblings += 1;
                self.most_siblings = self.most_siblings.max(*count);
            }
            KvObs::Clock { hlc, physical_us } => self.clock(now_us, node, *hlc, *physical_us),
        }
    }

    fn report(&self, _now_us: Micros) -> Vec<CheckView> {
        let mode = match self.timestamps {
            Timestamps::Physical => "wall-clock",
            Timestamps::Hlc => "HLC",
            Timestamps::Vector => "vector-clock",
        };
        vec![
            self.timestamp_order.view(
                "timestamp_order",
                "every write is stamped after the writes it overwrote",
                format!(
                    "{mode} stamps; {} write(s) stamped before their cause",
                    self.timestamp_order.count()
                ),
                self.out_of_order.clone(),
            ),
            self.causal_writes.view(
                "causal_writes",
                "no replica drops a write for one it had overwritten",
                format!("{} causally later write(s) lost", self.lost),
                self.lost_nodes.clone(),
            ),
            self.hlc_monotone.view(
                "hlc_monotone",
                "no replica's HLC goes back",
                format!(
                    "HLC at most {} ms ahead of its node's clock; counter at most {}",
                    us_to_ms(self.hlc_ahead_us),
                    self.hlc_counter
                ),
                Vec::new(),
            ),
            CheckView::measure(
                "concurrent",
                "concurrent writes",
                format!(
                    "{} dropped by last-write-wins; {} conflicts kept as siblings (at most {} at once)",
                    self.concurrent_dropped, self.siblings, self.most_siblings
                ),
                Vec::new(),
            ),
        ]
    }

    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        vec![
            Figure::new(
                "causal_writes_lost",
                self.lost as f64,
                format!("causally later writes lost: {}", self.lost),
            ),
            Figure::new(
                "writes_stamped_before_cause",
                self.timestamp_order.count() as f64,
                format!("writes stamped before their cause: {}", self.timestamp_order.count()),
            ),
            Figure::new(
                "concurrent_dropped",
                self.concurrent_dropped as f64,
                format!("concurrent writes dropped: {}", self.concurrent_dropped),
            ),
            Figure::new(
                "siblings",
                self.siblings as f64,
                format!("conflicts kept as siblings: {}", self.siblings),
            ),
            Figure::new(
                "hlc_ahead_ms",
                us_to_ms(self.hlc_ahead_us),
                format!("HLC ahead of physical: at most {} ms", us_to_ms(self.hlc_ahead_us)),
            ),
            Figure::new(
                "hlc_counter_max",
                self.hlc_counter as f64,
                format!("HLC counter: at most {}", self.hlc_counter),
            ),
        ]
    }

    fn approx_bytes(&self) -> usize {
        let per_write = std::mem::size_of::<Version>() + 64;
        std::mem::size_of_val(self)
            + self.writes.len() * (per_write + 48)
            + self.order.len() * 8
            + self.last_hlc.len() * 16
    }
}

impl Checked for Kv {
    type Checks = KvChecks;
}
