//! The event trace: a running hash over every event since time 0, a bounded ring of the
//! most recent events (for the page and time-space diagrams), and an optional spill that
//! a headless run drains to a file.
//!
//! Invariant: the hash covers every event, whatever the ring has forgotten; the hash
//! function is written here and pinned, so a trace hash means the same on every target.

use std::collections::VecDeque;

use serde::Serialize;

use crate::limits::TRACE_RING_EVENTS;
use crate::time::Micros;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum TraceKind {
    /// `node` sent a message to `peer`.
    Send = 1,
    /// `node` received a message from `peer`.
    Deliver = 2,
    /// A message from `node` to `peer` died; `detail` is the drop reason code.
    Drop = 3,
    /// A timer fired at `node`; `detail` is its tag.
    Timer = 4,
    /// A fault was applied; `detail` is the fault code, `node` its target (or u32::MAX).
    Fault = 5,
    /// The network duplicated a message from `node` to `peer`.
    Duplicate = 6,
    /// A paused `node` resumed; `detail` is how many held events it now processes.
    Resume = 7,
    /// `node` crashed itself (out of memory, say); `detail` is its restart delay in µs (0: none).
    SelfCrash = 8,
}

/// One traced event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TraceEvent {
    pub t_us: Micros,
    pub kind: TraceKind,
    pub node: u32,
    pub peer: u32,
    /// Message name, or "" for events without a message.
    pub msg: &'static str,
    pub detail: u64,
}

/// Sentinel for "no node" in `node`/`peer`.
pub const NO_NODE: u32 = u32::MAX;

const HASH_SEED: u64 = 0xCBF2_9CE4_8422_2325;
const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Clone, Debug)]
pub struct Trace {
    hash: u64,
    count: u64,
    ring: VecDeque<TraceEvent>,
    spill: Option<Vec<TraceEvent>>,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

impl Trace {
    pub fn new() -> Trace {
        Trace {
            hash: HASH_SEED,
            count: 0,
            ring: VecDeque::with_capacity(1024),
            spill: None,
        }
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(23) ^ word).wrapping_mul(HASH_MUL);
    }

    /// Records an event; `msg_digest` is the payload digest (0 when there is none).
    #[inline]
    pub fn record(&mut self, event: TraceEvent, msg_digest: u64) {
        self.mix(event.t_us);
        self.mix(((event.kind as u64) << 56) ^ ((event.node as u64) << 24) ^ event.peer as u64);
        self.mix(event.detail);
        self.mix(msg_digest);
        self.count += 1;
        if self.ring.len() == TRACE_RING_EVENTS {
            self.ring.pop_front();
        }
        self.ring.push_back(event);
        if let Some(spill) = self.spill.as_mut() {
            spill.push(event);
        }
    }

    /// The hash of every event so far, finalized (avalanche) for display.
    pub fn hash(&self) -> u64 {
        let mut z = self.hash ^ self.count;
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        z ^ (z >> 33)
    }

    pub fn hash_hex(&self) -> String {
        format!("{:016x}", self.hash())
    }

    /// Events recorded since time 0.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The last `n` events (at most the ring's capacity), oldest first.
    pub fn recent(&self, n: usize) -> impl Iterator<Item = &TraceEvent> {
        self.ring.iter().skip(self.ring.len().saturating_sub(n))
    }

    /// Heap bytes kept: the recent-events ring and the spill.
    pub fn approx_bytes(&self) -> usize {
        crate::budget::deque_bytes(&self.ring) + self.spill.as_ref().map_or(0, crate::budget::vec_bytes)
    }

    /// Forgets the recent events (the hash and count stay): a checkpoint keeps only what
    /// replay needs.
    pub fn forget_recent(&mut self) {
        self.ring = VecDeque::new();
    }

    /// Starts keeping every event for `take_spill` (headless runs that write a trace file).
    pub fn enable_spill(&mut self) {
        self.spill.get_or_insert_with(Vec::new);
    }

    /// Takes the events kept since the last call.
    pub fn take_spill(&mut self) -> Vec<TraceEvent> {
        self.spill.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

impl TraceEvent {
    /// One JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("trace events serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_us: Micros) -> TraceEvent {
        TraceEvent {
            t_us,
            kind: TraceKind::Send,
            node: 0,
            peer: 1,
            msg: "heartbeat",
            detail: 0,
        }
    }

    #[test]
    fn hash_depends_on_every_event_and_order() {
        let (mut a, mut b, mut c) = (Trace::new(), Trace::new(), Trace::new());
        a.record(ev(1), 0);
        a.record(ev(2), 0);
        b.record(ev(1), 0);
        b.record(ev(2), 0);
        c.record(ev(2), 0);
        c.record(ev(1), 0);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn ring_is_bounded_but_hash_counts_everything() {
        let mut t = Trace::new();
        for i in 0..(TRACE_RING_EVENTS as u64 + 10) {
            t.record(ev(i), 0);
        }
        assert_eq!(t.recent(usize::MAX).count(), TRACE_RING_EVENTS);
        assert_eq!(t.count(), TRACE_RING_EVENTS as u64 + 10);
        assert_eq!(t.recent(1).next().unwrap().t_us, TRACE_RING_EVENTS as u64 + 9);
    }
}
