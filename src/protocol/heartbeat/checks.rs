//! The checkers of failure detection (`protocol::heartbeat`), after Chandra and Toueg's
//! properties of a failure detector:
//!
//! - `strong_accuracy` (safety): no node suspects a peer that has not crashed. A paused
//!   or partitioned node is alive, so suspecting it counts: that is the false suspicion a
//!   timeout cannot avoid without synchrony. Each one is judged the moment it begins (from
//!   the `Suspected` facts, with the peer's status), and the property stays violated from
//!   the first one on, because a false accusation cannot be taken back.
//! - `strong_completeness` (liveness): every crashed node is eventually suspected by every
//!   live node. Looked at every `TICK_US` of simulated time (a scan of the nodes and, per
//!   crashed node, of the live nodes), so its cost stays linear in the cluster at 1,000
//!   nodes; pending since the tick a crashed node was first seen unsuspected.

use super::*;
use crate::checks::{CheckView, Checked, Checks, Eventually, Figure, Violation, WorldView};
use crate::time::{us_to_ms, Micros};
use crate::view::Inspect;
use crate::vocab::Status;

/// How often completeness is looked at.
const TICK_US: Micros = 10_000;
/// Nodes named in a detail or outlined on the canvas, at most.
const LIST_MAX: usize = 8;

impl Checked for Heartbeat {
    type Checks = HeartbeatChecks;
}

#[derive(Clone, Debug)]
pub struct HeartbeatChecks {
    /// Suspicions begun in this event, judged after it with the statuses.
    begun: Vec<(NodeId, NodeId)>,
    accuracy: Violation,
    false_suspicions: u64,
    /// The latest false suspicion: (by, of, at).
    last_false: Option<(NodeId, NodeId, Micros)>,
    completeness: Eventually,
    next_tick_us: Micros,
    crashed: Vec<NodeId>,
    /// (crashed node, live nodes not suspecting it) at the last tick.
    undetected: Vec<(NodeId, u32)>,
}

impl HeartbeatChecks {
    fn tick(&mut self, world: &WorldView<'_, Heartbeat>) {
        self.crashed.clear();
        self.undetected.clear();
        let n = world.protocols.len() as NodeId;
        self.crashed
            .extend((0..n).filter(|&i| (world.status)(i) == Status::Crashed));
        for &c in &self.crashed {
            let unaware = (0..n)
                .filter(|&i| i != c)
                .filter(|&i| world.protocols[i as usize].as_ref().is_some_and(|p| !p.suspects(c)))
                .count() as u32;
            if unaware > 0 {
                self.undetected.push((c, unaware));
            }
        }
        self.completeness.update(world.now_us, self.undetected.is_empty());
    }

    fn completeness_detail(&self, now_us: Micros) -> String {
        match (self.crashed.len(), self.undetected.first()) {
            (0, _) => "no node has crashed".to_string(),
            (k, None) => format!("all {k} crashed nodes suspected by every live node"),
            (_, Some(&(c, unaware))) => {
                let since = self.completeness.pending_since_us().unwrap_or(now_us);
                format!(
                    "n{c} not yet suspected by {unaware} live nodes (pending {} ms)",
                    us_to_ms(now_us.saturating_sub(since)).round()
                )
            }
        }
    }
}

impl Checks<Heartbeat> for HeartbeatChecks {
    fn new(_config: &HeartbeatConfig, _nodes: u32) -> Self {
        HeartbeatChecks {
            begun: Vec::new(),
            accuracy: Violation::default(),
            false_suspicions: 0,
            last_false: None,
            completeness: Eventually::default(),
            next_tick_us: 0,
            crashed: Vec::new(),
            undetected: Vec::new(),
        }
    }

    fn observe(&mut self, _now_us: Micros, node: NodeId, obs: &HeartbeatObs) {
        let HeartbeatObs::Suspected { peer } = *obs;
        self.begun.push((node, peer));
    }

    fn after_event(&mut self, world: &WorldView<'_, Heartbeat>) {
        for (by, of) in self.begun.drain(..) {
            if (world.status)(of) != Status::Crashed {
                self.false_suspicions += 1;
                self.last_false = Some((by, of, world.now_us));
                self.accuracy.latch(world.now_us);
            }
        }
        if world.now_us >= self.next_tick_us {
            self.next_tick_us = world.now_us + TICK_US;
            self.tick(world);
        }
    }

    fn report(&self, now_us: Micros) -> Vec<CheckView> {
        let (detail, nodes) = match self.last_false {
            None => ("no live node suspected".to_string(), Vec::new()),
            Some((by, of, at)) => (
                format!(
                    "{} false suspicions; last: n{by} suspected n{of}, alive, at {} ms",
                    self.false_suspicions,
                    us_to_ms(at)
                ),
                vec![by, of],
            ),
        };
        let unaware: Vec<NodeId> = self.undetected.iter().map(|&(c, _)| c).take(LIST_MAX).collect();
        vec![
            self.accuracy
                .view("strong_accuracy", "No node suspects a live peer", detail, nodes),
            self.completeness.view(
                "strong_completeness",
                "Eventually every crashed node is suspected by every live node",
                self.completeness_detail(now_us),
                unaware,
            ),
        ]
    }

    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        let n = self.false_suspicions;
        vec![Figure::new(
            "false_suspicions",
            n as f64,
            format!("false suspicions: {n}"),
        )]
    }

    fn approx_bytes(&self) -> usize {
        use crate::budget::vec_bytes;
        std::mem::size_of_val(self) + vec_bytes(&self.begun) + vec_bytes(&self.crashed) + vec_bytes(&self.undetected)
    }
}
