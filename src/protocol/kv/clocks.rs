//! The logical clocks a replica keeps as protocol state and stamps on what it writes:
//! a Lamport clock, a vector clock and a hybrid logical clock (Kulkarni et al., 2014: a
//! physical part that is the largest physical time seen, and a counter that orders events
//! within one physical reading).
//!
//! Invariants: each clock only grows at a node; an HLC's physical part is never below the
//! node's own physical clock at its last event, and it moves past it only as far as the
//! largest physical time heard from others.

use crate::time::Micros;

/// A hybrid logical clock reading: `(l, c)`, ordered lexicographically.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hlc {
    /// The largest physical time (µs) this node has seen, its own or in a message.
    pub l: Micros,
    /// Events since `l` last changed.
    pub c: u32,
}

impl Hlc {
    /// A local or send event at physical time `pt`.
    pub fn tick(self, pt: Micros) -> Hlc {
        if pt > self.l {
            Hlc { l: pt, c: 0 }
        } else {
            Hlc {
                l: self.l,
                c: self.c + 1,
            }
        }
    }

    /// Receiving a message stamped `m` at physical time `pt`.
    pub fn merge(self, m: Hlc, pt: Micros) -> Hlc {
        let l = self.l.max(m.l).max(pt);
        let c = if l == self.l && l == m.l {
            self.c.max(m.c) + 1
        } else if l == self.l {
            self.c + 1
        } else if l == m.l {
            m.c + 1
        } else {
            0
        };
        Hlc { l, c }
    }
}

/// A vector clock over the replicas: one counter of events per node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VectorClock(pub Vec<u32>);

impl VectorClock {
    pub fn new(nodes: u32) -> VectorClock {
        VectorClock(vec![0; nodes as usize])
    }

    pub fn tick(&mut self, node: usize) {
        self.0[node] += 1;
    }

    pub fn merge(&mut self, other: &VectorClock) {
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// Whether every entry is at least `other`'s (equal clocks dominate each other).
    pub fn dominates(&self, other: &VectorClock) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a >= b)
    }

    pub fn concurrent(&self, other: &VectorClock) -> bool {
        !self.dominates(other) && !other.dominates(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hlc_never_goes_back_and_follows_the_largest_physical_time() {
        let a = Hlc::default().tick(1_000);
        assert_eq!(a, Hlc { l: 1_000, c: 0 });
        // The physical clock jumps back: the HLC keeps its physical part and counts.
        let b = a.tick(400);
        assert_eq!(b, Hlc { l: 1_000, c: 1 });
        // A message from a node 5 ms ahead pulls it forward, counter after the sender's.
        let c = b.merge(Hlc { l: 6_000, c: 3 }, 1_100);
        assert_eq!(c, Hlc { l: 6_000, c: 4 });
        assert!(a < b && b < c);
        // Its own clock passes it: the counter resets.
        assert_eq!(c.tick(7_000), Hlc { l: 7_000, c: 0 });
    }

    #[test]
    fn vector_clocks_tell_ordered_from_concurrent() {
        let (mut a, mut b) = (VectorClock::new(2), VectorClock::new(2));
        a.tick(0);
        b.tick(1);
        assert!(a.concurrent(&b));
        b.merge(&a);
        b.tick(1);
        assert!(b.dominates(&a) && !a.dominates(&b));
    }
}
