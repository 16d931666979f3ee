//! The event trace: a running hash over every event since time 0, a bounded ring of the
//! most recent events (for the page and time-space diagrams), and an optional spill that
//! a headless run drains to a file.
//!
//! Each event also carries its causal stamp (`engine::causal`): the message id pairing a
//! send with its deliveries or drop, the node's Lamport time and, for the newest
//! `CAUSAL_WINDOW_EVENTS` (and in the spill), its vector clock and the node's own clock
//! reading (its wall clock, skew and all), so a diagram can order events the way the
//! nodes' clocks would. The stamp is derived from the events, so the hash leaves it out.
//!
//! Invariant: the hash covers every event, whatever the ring has forgotten; the hash
//! function is written here and pinned, so a trace hash means the same on every target.

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
    /// Each event's node's clock reading, in µs (the true time for events with no node);
    /// kept with the vectors.
    locals: Vec<Micros>,
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

    /// Every event's node's clock reading, in µs (empty when vectors are not kept).
    pub fn locals(&self) -> &[Micros] {
        &self.locals
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

    /// Event `i` as one JSON line (no trailing newline), with `vc` and the node's clock
    /// reading `local_us` when kept.
    pub fn json_line(&self, i: usize) -> String {
        let mut line = self.events[i].to_json_line();
        line.pop(); // the closing brace
        if let Some(vc) = self.vc(i) {
            let vc = serde_json::to_string(vc).expect("numbers serialize");
            line.push_str(&format!(",\"vc\":{vc}"));
        }
        if let Some(local) = self.locals.get(i) {
            line.push_str(&format!(",\"local_us\":{local}"));
        }
        line.push('}');
        line
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
    /// The newest events: appended until `TRACE_RING_EVENTS`, then overwritten in place
    /// from `ring_head`, which is then the oldest event's index (0 until full).
    ring: Vec<TraceEvent>,
    ring_head: usize,
    spill: Option<Spill>,
    /// Entries per vector clock (0: vectors are not kept).
    width: usize,
    /// The newest events' causal rows, aligned with the ring's end: a ring of at most
    /// `CAUSAL_WINDOW_EVENTS` rows (`width` vector entries and one clock reading each),
    /// overwritten in place once full; `next_row` is the row the next event writes.
    vectors: Vec<u32>,
    locals: Vec<Micros>,
    next_row: usize,
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
            ring: Vec::with_capacity(1024),
            ring_head: 0,
            spill: None,
            width: 0,
            vectors: Vec::new(),
            locals: Vec::new(),
            next_row: 0,
        }
    }

    /// Keeps vector clocks of `width` entries (and clock readings) for the newest events
    /// (0: none).
    pub fn keep_vectors(&mut self, width: usize) {
        self.width = width;
    }

    /// Whether vector clocks and clock readings are kept (then `record` wants them).
    #[inline]
    pub fn keeps_vectors(&self) -> bool {
        self.width > 0
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(23) ^ word).wrapping_mul(HASH_MUL);
    }

    /// Records an event; `msg_digest` is the payload digest (0 when there is none); `vc`
    /// is the node's vector clock for a causal event and `local_us` its clock reading, when
    /// vectors are kept.
    // Inlined into the engine's hot paths natively; in wasm, where every copy weighs in
    // the module's download, an ordinary call.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    #[cfg_attr(target_arch = "wasm32", inline)]
    pub fn record(&mut self, event: TraceEvent, msg_digest: u64, vc: Option<&[u32]>, local_us: Micros) {
        self.mix(event.t_us);
        self.mix(((event.kind as u64) << 56) ^ ((event.node as u64) << 24) ^ event.peer as u64);
        self.mix(event.detail);
        self.mix(msg_digest);
        self.count += 1;
        if self.ring.len() < TRACE_RING_EVENTS {
            self.ring.push(event);
        } else {
            self.ring[self.ring_head] = event;
            self.ring_head = (self.ring_head + 1) % TRACE_RING_EVENTS;
        }
        if self.width > 0 {
            self.record_row(vc, local_us);
        }
        if self.spill.is_some() {
            self.spill_event(event, vc, local_us);
        }
    }

    /// Keeps the event for a trace file (headless runs only: out of the hot path).
    #[cold]
    #[inline(never)]
    fn spill_event(&mut self, event: TraceEvent, vc: Option<&[u32]>, local_us: Micros) {
        let w = self.width;
        let Some(spill) = self.spill.as_mut() else { return };
        spill.events.push(event);
        if w > 0 {
            match vc {
                Some(vc) => spill.vectors.extend_from_slice(vc),
                None => spill.vectors.resize(spill.vectors.len() + w, 0),
            }
            spill.locals.push(local_us);
        }
    }

    /// Writes the newest event's causal row (zeros for an event with no vector clock).
    #[inline(always)]
    fn record_row(&mut self, vc: Option<&[u32]>, local_us: Micros) {
        let w = self.width;
        let row = self.next_row;
        if self.locals.len() < CAUSAL_WINDOW_EVENTS {
            self.grow_window();
        }
        let slot = &mut self.vectors[row * w..(row + 1) * w];
        match vc {
            Some(vc) => slot.copy_from_slice(vc),
            None => slot.fill(0),
        }
        self.locals[row] = local_us;
        self.next_row = (row + 1) % CAUSAL_WINDOW_EVENTS;
    }

    /// Adds one row to the causal window while it is not yet full.
    #[cold]
    #[inline(never)]
    fn grow_window(&mut self) {
        self.vectors.resize(self.vectors.len() + self.width, 0);
        self.locals.push(0);
    }

    /// The newest `n` events (at most the vector window's size when vectors are kept),
    /// oldest first, with their vector clocks: `width` entries per event, zeros for an
    /// event that is not causal.
    pub fn window(&self, n: usize) -> Spill {
        let (w, kept) = (self.width, self.locals.len());
        let n = if w > 0 { n.min(kept) } else { n };
        let events: Vec<TraceEvent> = self.recent(n).copied().collect();
        let (mut vectors, mut locals) = (Vec::new(), Vec::new());
        if w > 0 {
            // The rows of the newest `m` events, oldest first, wrapping around the ring.
            let m = events.len();
            let start = (self.next_row + kept - m) % kept.max(1);
            for k in 0..m {
                let row = (start + k) % kept;
                vectors.extend_from_slice(&self.vectors[row * w..(row + 1) * w]);
                locals.push(self.locals[row]);
            }
        }
        Spill {
            events,
            width: w,
            vectors,
            locals,
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
        let (newer, older) = self.ring.split_at(self.ring_head);
        older.iter().chain(newer).skip(self.ring.len().saturating_sub(n))
    }

    /// Heap bytes kept: the recent-events ring, the window's vector clocks and the spill.
    pub fn approx_bytes(&self) -> usize {
        let spill = self.spill.as_ref().map_or(0, |s| {
            crate::budget::vec_bytes(&s.events)
                + crate::budget::vec_bytes(&s.vectors)
                + crate::budget::vec_bytes(&s.locals)
        });
        let window = crate::budget::vec_bytes(&self.vectors) + crate::budget::vec_bytes(&self.locals);
        crate::budget::vec_bytes(&self.ring) + window + spill
    }

    /// Takes the recent events and causal rows out (the hash, count and spill stay), to
    /// be put back with `restore_recent`: a checkpoint copies the world without them.
    pub fn take_recent(&mut self) -> Trace {
        let mut recent = Trace::new();
        std::mem::swap(&mut recent.ring, &mut self.ring);
        recent.ring_head = std::mem::take(&mut self.ring_head);
        std::mem::swap(&mut recent.vectors, &mut self.vectors);
        std::mem::swap(&mut recent.locals, &mut self.locals);
        recent.next_row = std::mem::take(&mut self.next_row);
        recent
    }

    /// Puts back what `take_recent` took.
    pub fn restore_recent(&mut self, recent: Trace) {
        self.ring = recent.ring;
        self.ring_head = recent.ring_head;
        self.vectors = recent.vectors;
        self.locals = recent.locals;
        self.next_row = recent.next_row;
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
        a.record(ev(1), 0, None, 0);
        a.record(ev(2), 0, None, 0);
        b.record(ev(1), 0, None, 0);
        b.record(ev(2), 0, None, 0);
        c.record(ev(2), 0, None, 0);
        c.record(ev(1), 0, None, 0);
        assert_eq!(a.hash(), b.hash());
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn ring_is_bounded_but_hash_counts_everything() {
        let mut t = Trace::new();
        for i in 0..(TRACE_RING_EVENTS as u64 + 10) {
            t.record(ev(i), 0, None, 0);
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
            t.record(ev(i as u64), 0, Some(&[i, 7]), 1_000 + i as u64);
        }
        // Asking for more than the window gives the window: the oldest kept is event 3.
        let w = t.window(usize::MAX);
        assert_eq!(w.events.len(), CAUSAL_WINDOW_EVENTS, "older than the window");
        assert_eq!(
            w.vc(CAUSAL_WINDOW_EVENTS - 1),
            Some(&[CAUSAL_WINDOW_EVENTS as u32 + 2, 7][..])
        );
        assert_eq!(w.vc(0), Some(&[3, 7][..]));
        assert_eq!(w.locals().len(), CAUSAL_WINDOW_EVENTS, "a clock reading per event");
        assert_eq!(
            (w.locals()[0], w.locals()[CAUSAL_WINDOW_EVENTS - 1]),
            (1_003, 1_002 + CAUSAL_WINDOW_EVENTS as u64)
        );
        let spill = t.take_spill();
        assert_eq!(spill.vc(1), Some(&[1, 7][..]));
        let line = spill.json_line(1);
        assert!(line.ends_with(",\"vc\":[1,7],\"local_us\":1001}"), "{line}");
        assert!(spill.json_line(1).contains("\"msg_id\":2,\"lamport\":2"));
    }
}
