//! True causality, kept by the engine for every protocol: each node's Lamport clock and,
//! for clusters of up to `VECTOR_CLOCK_MAX_NODES`, its vector clock. This is
//! instrumentation, not protocol state: no protocol reads it, it never changes what a run
//! does, and the trace hash does not cover it (it is a function of the events already
//! hashed).
//!
//! Rules (Lamport 1978; Fidge and Mattern 1988): a send, a timer, a resume or a
//! self-crash is a local event and ticks the node's own entry; a delivery first merges the
//! message's stamp (component-wise maximum; Lamport: maximum) and then ticks. Every message
//! gets an id that pairs its send with its deliveries or its drop.
//!
//! Invariants: a delivery's stamp dominates its send's, and a node's clocks only grow.

use crate::limits::VECTOR_CLOCK_MAX_NODES;
use crate::vocab::NodeId;

/// What a message carries of its sender's causal past.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Pairs the send with its deliveries (a duplicate keeps the id) or its drop; from 1.
    pub id: u64,
    pub lamport: u64,
    /// The sender's vector clock at the send; `None` above `VECTOR_CLOCK_MAX_NODES`.
    pub vc: Option<Box<[u32]>>,
}

impl Stamp {
    /// Heap bytes the stamp holds (for the world's footprint).
    pub fn heap_bytes(&self) -> usize {
        self.vc.as_ref().map_or(0, |v| std::mem::size_of_val(&**v))
    }
}

#[derive(Clone, Debug)]
pub struct Causality {
    n: usize,
    lamport: Vec<u64>,
    /// Row `i` (n entries) is node `i`'s vector clock; empty when vectors are off.
    vectors: Vec<u32>,
    next_msg_id: u64,
}

impl Causality {
    pub fn new(nodes: u32) -> Causality {
        let n = nodes as usize;
        let vectors = if n <= VECTOR_CLOCK_MAX_NODES {
            vec![0; n * n]
        } else {
            Vec::new()
        };
        Causality {
            n,
            lamport: vec![0; n],
            vectors,
            next_msg_id: 1,
        }
    }

    /// Entries per vector clock: the node count, or 0 when vectors are off.
    pub fn vector_width(&self) -> usize {
        if self.vectors.is_empty() {
            0
        } else {
            self.n
        }
    }

    /// A local event at `node`: its clocks tick.
    pub fn on_local(&mut self, node: NodeId) {
        let i = node as usize;
        self.lamport[i] += 1;
        if let Some(row) = self.row_mut(i) {
            row[i] += 1;
        }
    }

    /// `node` sends: a local event, then the stamp the message carries.
    pub fn on_send(&mut self, node: NodeId) -> Stamp {
        self.on_local(node);
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        let i = node as usize;
        Stamp {
            id,
            lamport: self.lamport[i],
            vc: self.row(i).map(Box::from),
        }
    }

    /// `node` receives a message stamped `stamp`: merge, then tick.
    pub fn on_deliver(&mut self, node: NodeId, stamp: &Stamp) {
        let i = node as usize;
        self.lamport[i] = self.lamport[i].max(stamp.lamport);
        if let (Some(seen), Some(row)) = (stamp.vc.as_deref(), self.row_mut(i)) {
            for (mine, theirs) in row.iter_mut().zip(seen) {
                *mine = (*mine).max(*theirs);
            }
        }
        self.on_local(node);
        debug_assert!(self.lamport[i] > stamp.lamport, "a delivery comes after its send");
    }

    pub fn lamport(&self, node: NodeId) -> u64 {
        self.lamport[node as usize]
    }

    /// `node`'s vector clock, when vectors are kept.
    pub fn vector(&self, node: NodeId) -> Option<&[u32]> {
        self.row(node as usize)
    }

    fn row(&self, i: usize) -> Option<&[u32]> {
        (!self.vectors.is_empty()).then(|| &self.vectors[i * self.n..(i + 1) * self.n])
    }

    fn row_mut(&mut self, i: usize) -> Option<&mut [u32]> {
        let n = self.n;
        (!self.vectors.is_empty()).then(|| &mut self.vectors[i * n..(i + 1) * n])
    }

    pub fn approx_bytes(&self) -> usize {
        crate::budget::vec_bytes(&self.lamport) + crate::budget::vec_bytes(&self.vectors)
    }
}

/// How two vector clocks relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Before,
    After,
    Same,
    Concurrent,
}

/// `a` against `b`: before (a ≤ b, a ≠ b), after, the same, or concurrent.
pub fn compare(a: &[u32], b: &[u32]) -> Order {
    let (mut le, mut ge) = (true, true);
    for (x, y) in a.iter().zip(b) {
        le &= x <= y;
        ge &= x >= y;
    }
    match (le, ge) {
        (true, true) => Order::Same,
        (true, false) => Order::Before,
        (false, true) => Order::After,
        (false, false) => Order::Concurrent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_dominates_its_send_and_independent_events_are_concurrent() {
        let mut c = Causality::new(3);
        let m = c.on_send(0);
        c.on_local(2);
        c.on_deliver(1, &m);
        assert_eq!(compare(m.vc.as_deref().unwrap(), c.vector(1).unwrap()), Order::Before);
        assert!(c.lamport(1) > m.lamport);
        assert_eq!(compare(c.vector(1).unwrap(), c.vector(2).unwrap()), Order::Concurrent);
        assert_eq!(m.id, 1);
        assert_eq!(c.on_send(2).id, 2);
    }

    #[test]
    fn above_the_limit_only_lamport_clocks_are_kept() {
        let mut c = Causality::new(VECTOR_CLOCK_MAX_NODES as u32 + 1);
        let m = c.on_send(5);
        assert!(m.vc.is_none());
        assert_eq!(c.vector_width(), 0);
        c.on_deliver(6, &m);
        assert_eq!(c.lamport(6), 2);
    }
}
