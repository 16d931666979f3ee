//! The network: per-link latency distributions, loss, duplication, partitions and cut links.
//!
//! Owns which messages may travel and how long they take. Reordering is not a switch: it
//! emerges from latency variance. Four mechanisms block a link: partition groups (full
//! partitions), sides (a partial partition: side A and side B cannot talk, both reach the
//! rest), a majorities ring (only ring neighbours within a distance talk) and directed cuts
//! (asymmetric, including links down while flapping). Invariant: a message over a blocked
//! link is never delivered.

use std::collections::{BTreeMap, BTreeSet};

use crate::rng::Rng;
use crate::time::Micros;
use crate::timing::Timing;
use crate::vocab::TimingRole;

pub use crate::latency::Latency;
pub use crate::vocab::NodeId;

/// The behaviour of one directed link.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    pub latency: Latency,
    pub loss_ppm: u32,
    pub duplicate_ppm: u32,
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum DropReason {
    Loss = 1,
    Partition = 2,
    Cut = 3,
    Crashed = 4,
    Overflow = 5,
    /// Send- or receive-omission at a node.
    Omission = 6,
    /// A gray node dropped a real request.
    Gray = 7,
}

impl DropReason {
    pub const ALL: [DropReason; 7] = [
        DropReason::Loss,
        DropReason::Partition,
        DropReason::Cut,
        DropReason::Crashed,
        DropReason::Overflow,
        DropReason::Omission,
        DropReason::Gray,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::Cut => "cut",
            DropReason::Crashed => "crashed",
            DropReason::Overflow => "overflow",
            DropReason::Omission => "omission",
            DropReason::Gray => "gray",
        }
    }

    pub fn index(self) -> usize {
        self as usize - 1
    }
}

/// What the network decides for one copy of a message at send time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Arrives after `latency_us`.
    Arrive { latency_us: Micros },
    /// Lost on the wire: it travels `latency_us / 2`, then dies (drawn where it dies).
    Lost { latency_us: Micros },
    /// Never leaves the sender.
    Blocked(DropReason),
}

/// Network state: default link, per-link overrides, partition groups and cut links.
#[derive(Clone, Debug)]
pub struct Network {
    default_link: LinkConfig,
    overrides: BTreeMap<(NodeId, NodeId), LinkConfig>,
    group_of: Vec<u32>,
    /// Partial partition: 0 = neither side, 1 = side A, 2 = side B; empty when none.
    side_of: Vec<u8>,
    /// Majorities ring: nodes farther apart on the ring than this cannot talk.
    ring_reach: Option<u32>,
    cut: BTreeSet<(NodeId, NodeId)>,
    /// Directed links currently down because they flap.
    flapping_down: BTreeSet<(NodeId, NodeId)>,
    /// Bumped by every partition, so a timed partition heals only its own split.
    generation: u32,
    rng: Rng,
    /// The timing model: what it promises about delays, and its adversary.
    timing: Timing,
}

impl Network {
    pub fn new(nodes: u32, default_link: LinkConfig, timing: Timing, rng: Rng) -> Network {
        Network {
            default_link,
            overrides: BTreeMap::new(),
            group_of: vec![0; nodes as usize],
            side_of: Vec::new(),
            ring_reach: None,
            cut: BTreeSet::new(),
            flapping_down: BTreeSet::new(),
            generation: 0,
            rng,
            timing,
        }
    }

    /// Heap bytes kept: link overrides, groups, sides, cut and flapping links.
    pub fn approx_bytes(&self) -> usize {
        use crate::budget::{map_bytes, set_bytes, vec_bytes};
        map_bytes(&self.overrides)
            + vec_bytes(&self.group_of)
            + vec_bytes(&self.side_of)
            + set_bytes(&self.cut)
            + set_bytes(&self.flapping_down)
    }

    pub fn link(&self, from: NodeId, to: NodeId) -> &LinkConfig {
        if self.overrides.is_empty() {
            return &self.default_link;
        }
        self.overrides.get(&(from, to)).unwrap_or(&self.default_link)
    }

    /// Whether `from` can currently reach `to` (no partition between them, link not cut).
    pub fn blocked(&self, from: NodeId, to: NodeId) -> Option<DropReason> {
        if self.group_of[from as usize] != self.group_of[to as usize] {
            return Some(DropReason::Partition);
        }
        if !self.side_of.is_empty() && self.side_of[from as usize] | self.side_of[to as usize] == 3 {
            return Some(DropReason::Partition);
        }
        if let Some(reach) = self.ring_reach {
            let n = self.group_of.len() as u32;
            let d = from.abs_diff(to);
            if d.min(n - d) > reach {
                return Some(DropReason::Partition);
            }
        }
        if !self.cut.is_empty() && self.cut.contains(&(from, to)) {
            return Some(DropReason::Cut);
        }
        if !self.flapping_down.is_empty() && self.flapping_down.contains(&(from, to)) {
            return Some(DropReason::Cut);
        }
        None
    }

    /// Decides the fate of one send at `now_us`, and whether the network also duplicates
    /// it; the timing model shapes each delay (`role` is all its adversary sees).
    pub fn route(&mut self, from: NodeId, to: NodeId, now_us: Micros, role: TimingRole) -> (Fate, Option<Micros>) {
        if let Some(reason) = self.blocked(from, to) {
            return (Fate::Blocked(reason), None);
        }
        let link = self.link(from, to).clone();
        let timing = self.timing;
        let latency_us = timing.delay(link.latency.sample(&mut self.rng), now_us, from, role);
        let fate = if self.rng.chance_ppm(link.loss_ppm) {
            Fate::Lost { latency_us }
        } else {
            Fate::Arrive { latency_us }
        };
        let duplicate = if link.duplicate_ppm > 0 && self.rng.chance_ppm(link.duplicate_ppm) {
            Some(timing.delay(link.latency.sample(&mut self.rng), now_us, from, role))
        } else {
            None
        };
        (fate, duplicate)
    }

    /// Splits the cluster: nodes in the same group talk, others do not. `groups` has been
    /// validated (every node at most once); unlisted nodes share one extra group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        self.generation += 1;
        let extra = groups.len() as u32 + 1;
        self.group_of.iter_mut().for_each(|g| *g = extra);
        for (i, group) in groups.iter().enumerate() {
            for &node in group {
                self.group_of[node as usize] = i as u32 + 1;
            }
        }
        self.renumber_groups();
    }

    /// Renumbers groups densely from 0 in order of their lowest node, so the same split
    /// always draws the same way whatever order it was typed in.
    fn renumber_groups(&mut self) {
        let mut map: BTreeMap<u32, u32> = BTreeMap::new();
        for g in self.group_of.iter_mut() {
            let next = map.len() as u32;
            *g = *map.entry(*g).or_insert(next);
        }
    }

    /// Partial partition between sides `a` and `b` (validated disjoint).
    pub fn partial(&mut self, a: &[NodeId], b: &[NodeId]) {
        self.generation += 1;
        self.side_of = vec![0; self.group_of.len()];
        a.iter().for_each(|&n| self.side_of[n as usize] = 1);
        b.iter().for_each(|&n| self.side_of[n as usize] = 2);
    }

    /// Majorities ring: each node reaches the nodes within `reach` steps around the ring.
    pub fn ring(&mut self, reach: u32) {
        self.generation += 1;
        self.ring_reach = Some(reach);
    }

    /// The current partition generation (see `heal_generation`).
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// Heals the partition only if no other partition replaced it since `generation`.
    pub fn heal_generation(&mut self, generation: u32) {
        if self.generation == generation {
            self.heal_partitions();
        }
    }

    fn heal_partitions(&mut self) {
        self.group_of.iter_mut().for_each(|g| *g = 0);
        self.side_of.clear();
        self.ring_reach = None;
    }

    /// Removes every partition, cut link and flapping link (link overrides stay).
    pub fn heal(&mut self) {
        self.heal_partitions();
        self.cut.clear();
        self.flapping_down.clear();
    }

    pub fn set_flap_down(&mut self, from: NodeId, to: NodeId, down: bool) {
        if down {
            self.flapping_down.insert((from, to));
        } else {
            self.flapping_down.remove(&(from, to));
        }
    }

    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    pub fn uncut(&mut self, from: NodeId, to: NodeId) {
        self.cut.remove(&(from, to));
    }

    pub fn set_link(&mut self, from: NodeId, to: NodeId, link: LinkConfig) {
        self.overrides.insert((from, to), link);
    }

    /// The timing model now (GST may have moved).
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// "The network stabilises now" (see `Timing::stabilise`).
    pub fn stabilise(&mut self, now_us: Micros) -> bool {
        self.timing.stabilise(now_us)
    }

    pub fn group_of(&self) -> &[u32] {
        &self.group_of
    }

    pub fn is_partitioned(&self) -> bool {
        self.group_of.iter().any(|&g| g != 0) || !self.side_of.is_empty() || self.ring_reach.is_some()
    }

    /// Whether any link is blocked by anything.
    pub fn any_blocked(&self) -> bool {
        self.is_partitioned() || !self.cut.is_empty() || !self.flapping_down.is_empty()
    }

    pub fn cut_links(&self) -> impl Iterator<Item = (NodeId, NodeId)> + '_ {
        self.cut.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_LATENCY_US;

    fn net(nodes: u32) -> Network {
        let link = LinkConfig {
            latency: Latency::Uniform {
                min_us: 1_000,
                max_us: 5_000,
            },
            loss_ppm: 0,
            duplicate_ppm: 0,
        };
        Network::new(nodes, link, Timing::Probabilistic, Rng::from_seed(1))
    }

    #[test]
    fn partition_blocks_across_groups_only() {
        let mut n = net(5);
        n.partition(&[vec![0, 1], vec![2, 3]]);
        assert_eq!(n.blocked(0, 1), None);
        assert_eq!(n.blocked(0, 2), Some(DropReason::Partition));
        // Node 4 was not listed: it is alone in the extra group.
        assert_eq!(n.blocked(4, 0), Some(DropReason::Partition));
        assert_eq!(n.group_of(), &[0, 0, 1, 1, 2]);
        n.heal();
        assert_eq!(n.blocked(0, 2), None);
    }

    #[test]
    fn partial_partition_keeps_the_bridge() {
        let mut n = net(5);
        n.partial(&[0, 1], &[3, 4]);
        assert_eq!(n.blocked(0, 3), Some(DropReason::Partition));
        assert_eq!(n.blocked(4, 1), Some(DropReason::Partition));
        assert_eq!(n.blocked(0, 2), None);
        assert_eq!(n.blocked(2, 4), None);
        assert_eq!(n.blocked(0, 1), None);
    }

    #[test]
    fn majorities_ring_gives_every_node_its_own_majority() {
        let mut n = net(5);
        n.ring(1);
        let reach = |a: u32| (0..5).filter(|&b| n.blocked(a, b).is_none()).collect::<Vec<_>>();
        assert_eq!(reach(0), vec![0, 1, 4]);
        assert_eq!(reach(2), vec![1, 2, 3]);
        let views: Vec<_> = (0..5).map(reach).collect();
        assert!(views.iter().all(|v| v.len() == 3), "each sees a majority of 5");
        for i in 0..5 {
            for j in 0..i {
                assert_ne!(views[i], views[j]);
            }
        }
    }

    #[test]
    fn timed_heal_only_undoes_its_own_partition() {
        let mut n = net(4);
        n.partition(&[vec![0]]);
        let first = n.generation();
        n.partition(&[vec![1]]);
        n.heal_generation(first);
        assert_eq!(n.blocked(1, 2), Some(DropReason::Partition));
    }

    #[test]
    fn cut_is_one_way() {
        let mut n = net(2);
        n.cut(0, 1);
        assert_eq!(n.blocked(0, 1), Some(DropReason::Cut));
        assert_eq!(n.blocked(1, 0), None);
    }

    #[test]
    fn latency_samples_stay_in_bounds() {
        let mut rng = Rng::from_seed(9);
        let uni = Latency::Uniform { min_us: 10, max_us: 20 };
        let normal = Latency::Normal {
            mean_us: 100.0,
            std_us: 500.0,
        };
        let logn = Latency::LogNormal {
            median_us: 1_000.0,
            sigma: 1.0,
        };
        for _ in 0..10_000 {
            assert!((10..=20).contains(&uni.sample(&mut rng)));
            assert!(normal.sample(&mut rng) >= 1);
            assert!((1..=MAX_LATENCY_US).contains(&logn.sample(&mut rng)));
        }
    }
}
