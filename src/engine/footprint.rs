//! How many bytes a world keeps (`World::approx_bytes`), counted from lengths and
//! capacities, for the memory budget (`crate::budget`). Checked against a counting
//! allocator in `tests/memory.rs`.

use std::mem::size_of;

use crate::budget::{deque_bytes, map_bytes, vec_bytes};
use crate::checks::Checks;
use crate::protocol::MessageInfo;

use super::{Event, Runnable, World};

impl<P: Runnable> World<P> {
    pub(super) fn footprint(&self) -> usize {
        let message_heap = |e: &Event<P::Msg>| match e {
            Event::Deliver(f) | Event::Lose(f) => f.msg.heap_bytes(),
            _ => 0,
        };
        let protocols: usize = (self.protocols.iter().flatten()).map(|p| p.approx_bytes()).sum();
        let held: usize = (self.held.iter())
            .map(|h| vec_bytes(h) + h.iter().map(message_heap).sum::<usize>())
            .sum();
        let c = &self.columns;
        let columns = vec_bytes(&c.node_xy)
            + vec_bytes(&c.link_blocked)
            + (vec_bytes(&c.msg_from) + vec_bytes(&c.msg_to) + vec_bytes(&c.msg_kind))
            + (vec_bytes(&c.msg_sent_ms) + vec_bytes(&c.msg_deliver_ms))
            + (vec_bytes(&c.drop_from) + vec_bytes(&c.drop_to) + vec_bytes(&c.drop_at_ms))
            + (vec_bytes(&c.drop_frac) + vec_bytes(&c.drop_reason))
            + c.node_status.capacity() * 64; // about a dozen per-node columns of 1–8 bytes
        size_of::<Self>()
            + self.queue.approx_bytes(message_heap)
            + vec_bytes(&self.protocols)
            + protocols
            + vec_bytes(&self.durable)
            + vec_bytes(&self.runtime)
            + vec_bytes(&self.held)
            + held
            + self.network.approx_bytes()
            + self.trace.approx_bytes()
            + deque_bytes(&self.drops)
            + columns
            + self.checks.approx_bytes()
            + map_bytes(&self.reverts)
            + vec_bytes(&self.flaps)
            + vec_bytes(&self.strobe_params)
            + self.causal.approx_bytes()
    }
}
