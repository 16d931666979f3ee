//! The peers whose fixed-timeout deadlines come first, so a deadline timer need not scan
//! every peer.
//!
//! With one timeout for all peers, a node's deadlines are ordered by when it last heard
//! each peer. A full scan (`Heartbeat::scan_deadlines`) offers every live, unexpired peer
//! here and keeps the `SOONEST` heard longest ago; `floor` is a lower bound on when every
//! other unsuspected peer was last heard. When a deadline timer fires before `floor +
//! timeout`, only the kept peers can be due, and if one of them also gives the next
//! deadline (earlier than `floor + timeout`), nothing else need be read. Otherwise the
//! node scans again. At a thousand nodes a partition makes hundreds of peers fall silent
//! one after the other; each expiry was a scan of a thousand peers.
//!
//! Invariant: every unsuspected peer not kept here was last heard at or after `floor`
//! (kept by lowering `floor` whenever a heartbeat arrives at an earlier local time, as
//! after a backward clock jump). Kept entries may be stale: their state is read again.

use crate::time::Micros;
use crate::vocab::NodeId;

/// How many peers a scan keeps.
pub const SOONEST: usize = 16;

#[derive(Clone, Debug)]
pub struct Soonest {
    /// (last heard, peer), unordered.
    kept: [(Micros, NodeId); SOONEST],
    len: usize,
    /// Every unsuspected peer not in `kept` was last heard at or after this.
    pub floor: Micros,
}

impl Default for Soonest {
    /// Keeps nothing and promises nothing: the next check scans.
    fn default() -> Self {
        Soonest {
            kept: [(0, 0); SOONEST],
            len: 0,
            floor: 0,
        }
    }
}

impl Soonest {
    /// Starts a scan: nothing kept, and no other peer yet.
    pub fn start(&mut self) {
        self.len = 0;
        self.floor = Micros::MAX;
    }

    /// A scan found `peer`, unsuspected and not yet due, last heard at `heard_us`.
    #[inline]
    pub fn offer(&mut self, heard_us: Micros, peer: NodeId) {
        if self.len < SOONEST {
            self.kept[self.len] = (heard_us, peer);
            self.len += 1;
            return;
        }
        let (latest, at) = (0..SOONEST).map(|i| (self.kept[i].0, i)).max().expect("full");
        if heard_us < latest {
            self.floor = self.floor.min(latest);
            self.kept[at] = (heard_us, peer);
        } else {
            self.floor = self.floor.min(heard_us);
        }
    }

    /// A heartbeat arrived at local time `now_us`: keeps the invariant.
    #[inline]
    pub fn heard(&mut self, now_us: Micros) {
        self.floor = self.floor.min(now_us);
    }

    pub fn kept(&self) -> &[(Micros, NodeId)] {
        &self.kept[..self.len]
    }

    /// Keeps exactly `entries` (a subset of the kept ones, read again).
    pub fn keep(&mut self, entries: &[(Micros, NodeId)]) {
        self.kept[..entries.len()].copy_from_slice(entries);
        self.len = entries.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_peers_heard_longest_ago_and_a_floor_under_the_rest() {
        let mut s = Soonest::default();
        s.start();
        let heard: Vec<Micros> = (0..40).map(|i| (i * 7919 % 40) as Micros * 10).collect();
        for (peer, &t) in heard.iter().enumerate() {
            s.offer(t, peer as NodeId);
        }
        let mut kept: Vec<Micros> = s.kept().iter().map(|&(t, _)| t).collect();
        kept.sort();
        assert_eq!(kept, (0..16).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(s.floor, 160, "the earliest of the others");
        s.heard(50);
        assert_eq!(s.floor, 50, "a heartbeat at an earlier local time lowers the floor");
    }
}
