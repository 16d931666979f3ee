//! Filling the render columns from the world (refilled in place every frame).
//!
//! The renderer reads these straight out of wasm memory; see `docs/js-api.md` for the
//! meaning of every code. Cost is linear in nodes plus messages, except the suspicion
//! count (nodes², by `Inspect::add_suspicions`: heartbeat skips a node that suspects nobody)
//! and the blocked-link matrix (nodes², only up to `LINK_MATRIX_MAX_NODES`).

use crate::inspect;
use crate::limits::{RECENT_DROPS_WINDOW_US, RENDER_MSGS_MAX};
use crate::protocol::MessageKinds;
use crate::view::{NodeRender, NO_VALUE};

use super::queue::{EventQueue, Sampler};
use super::{Event, Runnable, World};

/// Largest cluster for which the blocked-link matrix is filled (64² bytes).
pub const LINK_MATRIX_MAX_NODES: u32 = 64;

/// `node_flags` bits.
pub const FLAG_GRAY: u8 = 1;
pub const FLAG_BYZANTINE: u8 = 2;
pub const FLAG_SLOW: u8 = 4;
pub const FLAG_OMISSION: u8 = 8;
pub const FLAG_CLOCK: u8 = 16;
pub const FLAG_STROBE: u8 = 32;
/// Down by its own doing (out of memory), not by an injected fault.
pub const FLAG_SELF_CRASHED: u8 = 64;

/// `msg_kind` bits above the 6-bit message kind.
pub const MSG_BYZANTINE: u8 = 0x40;
pub const MSG_DOOMED: u8 = 0x80;

impl<P: Runnable> World<P> {
    pub(super) fn fill_columns(&mut self) {
        let now = self.now_us;
        let c = &mut self.columns;
        c.node_status.clear();
        c.node_status.extend(self.runtime.iter().map(|r| r.status.code()));
        c.node_group.clear();
        c.node_group.extend_from_slice(self.network.group_of());
        c.node_flags.clear();
        c.node_clock_skew_ms.clear();
        for rt in &self.runtime {
            let a = &rt.afflictions;
            let skew_us = rt.clock.local(now) as i64 - now as i64;
            let flags = (a.is_gray() as u8 * FLAG_GRAY)
                | (a.is_byzantine() as u8 * FLAG_BYZANTINE)
                | (a.slow.is_some() as u8 * FLAG_SLOW)
                | ((a.send_omission_ppm | a.receive_omission_ppm > 0) as u8 * FLAG_OMISSION)
                | ((skew_us != 0 || rt.clock.drift_ppm != 0) as u8 * FLAG_CLOCK)
                | (rt.strobing as u8 * FLAG_STROBE)
                | (rt.self_crashed as u8 * FLAG_SELF_CRASHED);
            c.node_flags.push(flags);
            c.node_clock_skew_ms.push(skew_us as f32 / 1_000.0);
        }
        fill_renders(&self.protocols, self.n as usize, c);
        c.node_suspected_by.clear();
        c.node_suspected_by.resize(self.n as usize, 0);
        for proto in self.protocols.iter().flatten() {
            proto.add_suspicions(&mut c.node_suspected_by);
        }
        c.link_blocked.clear();
        if self.n <= LINK_MATRIX_MAX_NODES && self.network.any_blocked() {
            for from in 0..self.n {
                for to in 0..self.n {
                    let blocked = if from == to {
                        None
                    } else {
                        self.network.blocked(from, to)
                    };
                    c.link_blocked.push(blocked.map_or(0, |r| r as u8));
                }
            }
        }
        sample_messages(&self.queue, &self.held, self.in_flight, c);
        let oldest = now.saturating_sub(RECENT_DROPS_WINDOW_US);
        for d in self.drops.iter().filter(|d| d.at_us >= oldest) {
            c.drop_from.push(d.from);
            c.drop_to.push(d.to);
            c.drop_at_ms.push(inspect::ms(d.at_us));
            c.drop_frac.push(d.frac);
            c.drop_reason.push(d.reason as u8);
        }
    }
}

/// The messages in flight into the message columns: every one while they fit, else a
/// sample of about `RENDER_MSGS_MAX`.
fn sample_messages<M: MessageKinds>(
    queue: &EventQueue<M>,
    held: &[Vec<Event<M>>],
    in_flight: u64,
    c: &mut inspect::Columns,
) {
    c.clear_messages();
    c.msgs_total = in_flight;
    // Every message while they fit; past that, every stride-th pending event (timers
    // too, which are few), so a million messages in flight cost a sample, not a walk.
    let stride = if in_flight as usize <= RENDER_MSGS_MAX {
        1
    } else {
        (queue.len() + held.iter().map(Vec::len).sum::<usize>()).div_ceil(RENDER_MSGS_MAX)
    };
    let mut push = |event: &Event<M>| {
        let (f, doomed) = match event {
            Event::Deliver(f) => (f, false),
            Event::Lose(f) => (f, true),
            _ => return,
        };
        if c.msg_from.len() >= RENDER_MSGS_MAX {
            return;
        }
        c.msg_from.push(f.from);
        c.msg_to.push(f.to);
        c.msg_sent_ms.push(inspect::ms(f.sent_us));
        c.msg_deliver_ms.push(inspect::ms(f.deliver_us));
        let kind = f.msg.kind() & 0x3F;
        c.msg_kind
            .push(kind | if f.byzantine { MSG_BYZANTINE } else { 0 } | if doomed { MSG_DOOMED } else { 0 });
    };
    queue.for_each_sampled(stride, &mut push);
    let mut sampler = Sampler::new(stride);
    for events in held {
        sampler.visit(events, &mut push);
    }
}

/// The protocols' drawings of their nodes (`view::NodeRender`) into the per-node columns.
fn fill_renders<P: Runnable>(protocols: &[Option<P>], n: usize, c: &mut inspect::Columns) {
    c.node_role.resize(n, 0);
    c.node_term.resize(n, 0);
    c.node_load.resize(n, -1.0);
    c.node_queue.resize(n, 0);
    c.node_log_len.resize(n, 0);
    c.node_commit.resize(n, 0);
    c.node_value.resize(n, NO_VALUE);
    c.node_stages.resize(n, 0);
    for (i, proto) in protocols.iter().enumerate() {
        let r = proto.as_ref().map_or_else(NodeRender::none, |p| p.render());
        if proto.is_some() {
            c.node_role[i] = r.role;
        }
        c.node_term[i] = r.term;
        c.node_load[i] = r.load;
        c.node_queue[i] = r.queue;
        c.node_log_len[i] = r.log_len;
        c.node_commit[i] = r.commit;
        c.node_value[i] = r.value;
        c.node_stages[i] = r.stages;
    }
}
