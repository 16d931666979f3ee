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
//! A message's vector clock does not travel inside it: the sender's vector at the send is
//! parked in a slot of a shared table (`flying_vc`), and the message carries the slot
//! number (in what was padding), so sending allocates nothing. A slot is freed when its
//! message is delivered or dies; should any path forget one, `collect` (run when the table
//! has grown to twice the messages in flight) frees every slot no message still names.
//! Only clusters of up to `VECTOR_CLOCK_MAX_NODES` park vectors, so the table stays small.
//!
//! Invariants: a delivery's stamp dominates its send's, a node's clocks only grow, and no
//! two messages in flight share a slot.

use crate::limits::VECTOR_CLOCK_MAX_NODES;
use crate::vocab::NodeId;

/// A message's causal stamp as the sender made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Pairs the send with its deliveries (a duplicate keeps the id) or its drop; from 1.
    pub id: u64,
    pub lamport: u64,
}

#[derive(Clone, Debug)]
pub struct Causality {
    n: usize,
    lamport: Vec<u64>,
    /// Row `i` (n entries) is node `i`'s vector clock; empty when vectors are off.
    vectors: Vec<u32>,
    next_msg_id: u64,
    /// Slot `s` (n entries each): the vector clock of a message in flight's sender.
    flying_vc: Vec<u32>,
    /// Slots free for the next message.
    free: Vec<u32>,
}

/// `Flight::slot` of a message with no parked vector clock (vectors are off).
pub const NO_SLOT: u32 = u32::MAX;

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
            flying_vc: Vec::new(),
            free: Vec::new(),
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
    #[inline]
    pub fn on_local(&mut self, node: NodeId) {
        let i = node as usize;
        self.lamport[i] += 1;
        if let Some(row) = self.row_mut(i) {
            row[i] += 1;
        }
    }

    /// `node` sends: a local event, then the stamp the message carries.
    #[inline]
    pub fn on_send(&mut self, node: NodeId) -> Stamp {
        self.on_local(node);
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        Stamp {
            id,
            lamport: self.lamport[node as usize],
        }
    }

    /// Parks the vector clock of `node`, which launches a message now; returns the slot
    /// (`NO_SLOT` when vectors are off). Each launched copy gets its own slot.
    #[inline(always)]
    pub fn park(&mut self, node: NodeId) -> u32 {
        let n = self.vector_width();
        if n == 0 {
            return NO_SLOT;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.flying_vc.resize(self.flying_vc.len() + n, 0);
            (self.flying_vc.len() / n - 1) as u32
        });
        let (i, s) = (node as usize, slot as usize);
        self.flying_vc[s * n..(s + 1) * n].copy_from_slice(&self.vectors[i * n..(i + 1) * n]);
        slot
    }

    /// The sender's vector clock parked in `slot`.
    pub fn parked_vector(&self, slot: u32) -> Option<&[u32]> {
        let (n, s) = (self.vector_width(), slot as usize);
        (slot != NO_SLOT).then(|| &self.flying_vc[s * n..(s + 1) * n])
    }

    /// The message holding `slot` is gone (it died on the way): the slot is free.
    #[inline]
    pub fn release(&mut self, slot: u32) {
        if slot != NO_SLOT {
            self.free.push(slot);
        }
    }

    fn slots(&self) -> usize {
        self.flying_vc.len().checked_div(self.vector_width()).unwrap_or(0)
    }

    /// Whether the slots should be swept before the next `park`: vectors are kept, none
    /// is free, and there are more than twice the `in_flight` messages (plus slack).
    pub fn needs_collect(&self, in_flight: u64) -> bool {
        self.free.is_empty() && self.slots() as u64 > 2 * in_flight + 64
    }

    /// Frees every slot not in `live` (the slots of all messages still in the world).
    pub fn collect(&mut self, live: impl Iterator<Item = u32>) {
        let mut used = vec![false; self.slots()];
        for slot in live.filter(|&s| s != NO_SLOT) {
            assert!(!used[slot as usize], "two messages in flight share vector slot {slot}");
            used[slot as usize] = true;
        }
        self.free = (0..used.len() as u32).filter(|&s| !used[s as usize]).collect();
    }

    /// `node` receives a message stamped `stamp` whose vector is parked in `slot`: merge,
    /// then tick; the slot is freed.
    #[inline(always)]
    pub fn on_deliver(&mut self, node: NodeId, stamp: Stamp, slot: u32) {
        let i = node as usize;
        self.lamport[i] = self.lamport[i].max(stamp.lamport) + 1;
        let n = self.n;
        if let Some(row) = self.vectors.get_mut(i * n..(i + 1) * n) {
            if slot != NO_SLOT {
                let s = slot as usize;
                for (mine, theirs) in row.iter_mut().zip(&self.flying_vc[s * n..(s + 1) * n]) {
                    *mine = (*mine).max(*theirs);
                }
                self.free.push(slot);
            }
            row[i] += 1;
        }
        debug_assert!(self.lamport[i] > stamp.lamport, "a delivery comes after its send");
    }

    #[inline]
    pub fn lamport(&self, node: NodeId) -> u64 {
        self.lamport[node as usize]
    }

    /// `node`'s vector clock, when vectors are kept.
    #[inline]
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
        let flying = crate::budget::vec_bytes(&self.flying_vc) + crate::budget::vec_bytes(&self.free);
        crate::budget::vec_bytes(&self.lamport) + crate::budget::vec_bytes(&self.vectors) + flying
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
        let slot = c.park(0);
        let sent = c.parked_vector(slot).unwrap().to_vec();
        c.on_local(2);
        c.on_deliver(1, m, slot);
        assert_eq!(compare(&sent, c.vector(1).unwrap()), Order::Before);
        assert!(c.lamport(1) > m.lamport);
        assert_eq!(compare(c.vector(1).unwrap(), c.vector(2).unwrap()), Order::Concurrent);
        assert_eq!(m.id, 1);
        assert_eq!(c.on_send(2).id, 2);
    }

    #[test]
    fn above_the_limit_only_lamport_clocks_are_kept() {
        let mut c = Causality::new(VECTOR_CLOCK_MAX_NODES as u32 + 1);
        let m = c.on_send(5);
        assert_eq!(c.park(5), NO_SLOT);
        assert_eq!(c.vector_width(), 0);
        c.on_deliver(6, m, NO_SLOT);
        assert_eq!(c.lamport(6), 2);
    }

    #[test]
    fn slots_are_reused_and_a_sweep_frees_what_no_message_names() {
        let mut c = Causality::new(2);
        let (a, b) = (c.park(0), c.park(1));
        assert_ne!(a, b, "two messages in flight never share a slot");
        c.release(a);
        assert_eq!(c.park(1), a, "a freed slot is reused");
        // Forget to release 100 slots: the sweep finds them.
        for _ in 0..100 {
            c.park(0);
        }
        assert!(c.needs_collect(1));
        c.collect([b].into_iter());
        assert!(!c.needs_collect(1));
        assert_ne!(c.park(0), b, "the live message keeps its slot");
        assert_eq!(c.parked_vector(b), Some(&[0, 0][..]));
    }
}
