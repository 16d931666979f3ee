//! The event trace: a running hash over every event since time 0, a bounded ring of the
//! most recent events (for the page and time-space diagrams), and an optional spill that
//! a headless run drains to a file.
//!
//! Each event also carries its causal stamp (`engine::causal`): the message id pairing a
//! send with its deliveries or drop, the node's Lamport time and, for the newest
//! `CAUSAL_WINDOW_EVENTS` (and in the spill), its vector clock. The stamp is derived from
//! the events, so the hash leaves it out.
//!
//! Invariant: the hash covers every event, whatever the ring has forgotten; the hash
//! function is written here and pinned, so a trace hash means the same on every target.

use std::collections::VecDeque;

use serde::Serialize;

use crate::limits::{CAUSAL_WINDOW_EVENTS, TRACE_RING_EVENTS};
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
    /// The message's id (sends, deliveries, duplicates, drops), or 0.
    pub msg_id: u64,
    /// `node`'s Lamport time after the event (0 for events with no node).
    pub lamport: u64,
}

/// The causal event kinds: those that tick a node's clocks and have a vector clock.
pub fn is_causal(kind: TraceKind) -> bool {
    matches!(
        kind,
        TraceKind::Send | TraceKind::Deliver | TraceKind::Timer | TraceKind::Resume | TraceKind::SelfCrash
    )
}

/// The parser regular expression of a ShiViz log, its first line (a blank line follows).
pub const SHIVIZ_REGEX: &str = r"(?<host>\S+) (?<clock>\{[^}]*\}) (?<event>.*)";

/// The events a headless run drained, with their vector clocks when kept.
#[derive(Clone, Debug, Default)]
pub struct Spill {
    pub events: Vec<TraceEvent>,
    width: usize,
    vectors: Vec<u32>,
}

impl Spill {
    /// Entries per vector clock (0: none kept).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Every event's vector clock slot, `width` entries each (zeros: not causal).
    pub fn vectors(&self) -> &[u32] {
        &self.vectors
    }

    /// Event `i`'s vector clock (causal events, clusters up to `VECTOR_CLOCK_MAX_NODES`).
    pub fn vc(&self, i: usize) -> Option<&[u32]> {
        (self.width > 0 && is_causal(self.events[i].kind)).then(|| &self.vectors[i * self.width..(i + 1) * self.width])
    }

    /// Event `i` as one line of a ShiViz log (`SHIVIZ_REGEX`): host, vector clock as JSON
    /// (non-zero entries), and what happened; `None` for events without a vector clock.
    pub fn shiviz_line(&self, i: usize) -> Option<String> {
        let vc = self.vc(i)?;
        let e = &self.events[i];
        let clock: Vec<String> = (vc.iter().enumerate())
            .filter(|(_, &c)| c > 0)
            .map(|(n, c)| format!("\"n{n}\":{c}"))
            .collect();
        let what = match e.kind {
            TraceKind::Send => format!("sends {} to n{} (message {})", e.msg, e.peer, e.msg_id),
            TraceKind::Deliver => format!("receives {} from n{} (message {})", e.msg, e.peer, e.msg_id),
            TraceKind::Timer => "timer".to_string(),
            TraceKind::Resume => "resumes after a pause".to_string(),
            _ => "crashes itself".to_string(),
        };
        Some(format!("n{} {{{}}} at {} us: {what}", e.node, clock.join(","), e.t_us))
    }

    /// Event `i` as one JSON line (no trailing newline), with `vc` when kept.
    pub fn json_line(&self, i: usize) -> String {
        let line = self.events[i].to_json_line();
        match self.vc(i) {
            Some(vc) => {
                let vc = serde_json::to_string(vc).expect("numbers serialize");
                format!("{},\"vc\":{vc}}}", &line[..line.len() - 1])
            }
            None => line,
        }
    }
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
    spill: Option<Spill>,
    /// Entries per vector clock (0: vectors are not kept).
    width: usize,
    /// The newest events' vector clocks, `width` entries each, aligned with the ring's end.
    vectors: VecDeque<u32>,
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
            width: 0,
            vectors: VecDeque::new(),
        }
    }

    /// Keeps vector clocks of `width` entries for the newest events (0: none).
    pub fn keep_vectors(&mut self, width: usize) {
        self.width = width;
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(23) ^ word).wrapping_mul(HASH_MUL);
    }

    /// Records an event; `msg_digest` is the payload digest (0 when there is none); `vc`
    /// is the node's vector clock for a causal event when vectors are kept.
    #[inline]
    pub fn record(&mut self, event: TraceEvent, msg_digest: u64, vc: Option<&[u32]>) {
        self.mix(event.t_us);
        self.mix(((event.kind as u64) << 56) ^ ((event.node as u64) << 24) ^ event.peer as u64);
        self.mix(event.detail);
        self.mix(msg_digest);
        self.count += 1;
        if self.ring.len() == TRACE_RING_EVENTS {
            self.ring.pop_front();
        }
        self.ring.push_back(event);
        if self.width > 0 {
            if self.vectors.len() == CAUSAL_WINDOW_EVENTS * self.width {
                self.vectors.drain(..self.width);
            }
            match vc {
                Some(vc) => self.vectors.extend(vc),
                None => self.vectors.extend(std::iter::repeat_n(0, self.width)),
            }
        }
        if let Some(spill) = self.spill.as_mut() {
            spill.events.push(event);
            if self.width > 0 {
                spill
                    .vectors
                    .extend(self.vectors.range(self.vectors.len() - self.width..));
            }
        }
    }

    /// The newest `n` events (at most the vector window's size when vectors are kept),
    /// oldest first, with their vector clocks: `width` entries per event, zeros for an
    /// event that is not causal.
    pub fn window(&self, n: usize) -> Spill {
        let w = self.width;
        let n = self.vectors.len().checked_div(w).map_or(n, |kept| n.min(kept));
        let events: Vec<TraceEvent> = self.recent(n).copied().collect();
        let vectors = if w > 0 {
            self.vectors
                .range(self.vectors.len() - events.len() * w..)
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        Spill {
            events,
            width: w,
            vectors,
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

    /// Heap bytes kept: the recent-events ring, the window's vector clocks and the spill.
    pub fn approx_bytes(&self) -> usize {
        let spill = self.spill.as_ref().map_or(0, |s| {
            crate::budget::vec_bytes(&s.events) + crate::budget::vec_bytes(&s.vectors)
        });
        crate::budget::deque_bytes(&self.ring) + crate::budget::deque_bytes(&self.vectors) + spill
    }

    /// Forgets the recent events (the hash and count stay): a checkpoint keeps only what
    /// replay needs.
    pub fn forget_recent(&mut self) {
        self.ring = VecDeque::new();
        self.vectors = VecDeque::new();
    }

    /// Starts keeping every event for `take_spill` (headless runs that write a trace file).
    pub fn enable_spill(&mut self) {
        let width = self.width;
        self.spill.get_or_insert_with(|| Spill {
            width,
            ..Spill::default()
        });
    }

    /// Takes the events kept since the last call.
    pub fn take_spill(&mut self) -> Spill {
        let width = self.width;
        self.spill
            .as_mut()
            .map(|s| {
                std::mem::replace(
                    s,
                    Spill {
                        width,
                        ..Spill::default()
                    },
                )
            })
            .unwrap_or_default()
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
            msg_id: t_us + 1,
            lamport: t_us + 1,
        }
    }

    #[test]
    fn hash_depends_on_every_event_and_order() {
        let (mut a, mut b, mut c) = (Trace::new(), Trace::new(), Trace::new());
        a.record(ev(1), 0, None);
        a.record(ev(2), 0, None);
        b.record(ev(1), 0, None);
        b.record(ev(2), 0, None);
        c.record(ev(2), 0, None);
        c.record(ev(1), 0, None);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn ring_is_bounded_but_hash_counts_everything() {
        let mut t = Trace::new();
        for i in 0..(TRACE_RING_EVENTS as u64 + 10) {
            t.record(ev(i), 0, None);
        }
        assert_eq!(t.recent(usize::MAX).count(), TRACE_RING_EVENTS);
        assert_eq!(t.count(), TRACE_RING_EVENTS as u64 + 10);
        assert_eq!(t.recent(1).next().unwrap().t_us, TRACE_RING_EVENTS as u64 + 9);
    }

    #[test]
    fn vector_clocks_are_kept_for_a_bounded_window_and_spilled() {
        let mut t = Trace::new();
        t.keep_vectors(2);
        t.enable_spill();
        for i in 0..(CAUSAL_WINDOW_EVENTS as u32 + 3) {
            t.record(ev(i as u64), 0, Some(&[i, 7]));
        }
        // Asking for more than the window gives the window: the oldest kept is event 3.
        let w = t.window(usize::MAX);
        assert_eq!(w.events.len(), CAUSAL_WINDOW_EVENTS, "older than the window");
        assert_eq!(
            w.vc(CAUSAL_WINDOW_EVENTS - 1),
            Some(&[CAUSAL_WINDOW_EVENTS as u32 + 2, 7][..])
        );
        assert_eq!(w.vc(0), Some(&[3, 7][..]));
        let spill = t.take_spill();
        assert_eq!(spill.vc(1), Some(&[1, 7][..]));
        assert!(spill.json_line(1).ends_with(",\"vc\":[1,7]}"), "{}", spill.json_line(1));
        assert!(spill.json_line(1).contains("\"msg_id\":2,\"lamport\":2"));
    }
}
