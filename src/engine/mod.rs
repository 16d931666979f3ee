//! The world: virtual time, the event queue, the network, nodes and their protocols.
//!
//! `World<P>` runs one protocol on every node; `apply.rs` applies faults to it and
//! `columns.rs` fills the render columns. `Engine` is its object-safe face, so the layer
//! above can hold any protocol's world. Invariants, asserted as the run goes (in release
//! builds too):
//! - time never goes backwards;
//! - conservation: `sent + duplicated = delivered + dropped + in_flight`;
//! - a crashed node runs no handler, holds no events and has no protocol state but its
//!   durable part; a paused node runs no handler until it resumes;
//! - nothing crosses a blocked link (partition, partial partition, ring, cut, flap).

mod apply;
pub mod causal;
pub mod columns;
mod footprint;
mod queue;

use std::collections::{BTreeMap, VecDeque};

use crate::action::Planned;
use crate::byzantine::Byzantine;
use crate::checks::Checked;
use crate::checks::{Changed, CheckView, Checks, Figure, Property, SeriesView, WorldView};
use crate::error::InputError;
use crate::fault::Behaviour;
use crate::inspect::{self, Columns, CounterView, Counters, DropMark, NodeView, Snapshot};
use crate::limits::{MAX_BACKLOG_US, MAX_IN_FLIGHT, RECENT_DROPS_MAX};
use crate::network::{DropReason, Fate, LinkConfig, Network, NodeId};
use crate::node::{NodeRuntime, Status};
use crate::protocol::{Ctx, MessageInfo, MessageKinds, Protocol};
use crate::rng::{Rng, Stream};
use crate::time::Micros;
use crate::timing::Timing;
use crate::trace::{Trace, TraceEvent, TraceKind, NO_NODE};
use crate::view::Inspect;

use apply::{FlapState, Revert};
use causal::Causality;
use queue::EventQueue;
pub use queue::{Event, Flight, Timer};

/// Trace `detail` bit on sends and deliveries of Byzantine messages; the low 32 bits hold
/// the node the message claims to come from.
pub const TRACE_BYZANTINE: u64 = 1 << 40;

/// A protocol the engine can run: the pure state machine with what it shows, how a
/// Byzantine sender rewrites its messages, and its checkers. Every registered protocol
/// is one (blanket impl).
pub trait Runnable: Protocol + Inspect + Byzantine + Checked {}

impl<P: Protocol + Inspect + Byzantine + Checked> Runnable for P {}

/// A world of any protocol, as the simulation and the boundaries drive it.
pub trait Engine {
    fn now_us(&self) -> Micros;
    fn nodes(&self) -> u32;
    /// Processes every event due at or before `t_us`, then sets the clock to `t_us`.
    /// Returns the number of events processed.
    fn run_until(&mut self, t_us: Micros) -> u64 {
        self.run_until_within(t_us, u64::MAX).0
    }
    /// Like `run_until`, but once `max_events` are processed it finishes the microsecond
    /// it is in and stops there: the state is then exactly `run_until(reached)`'s, so a
    /// frame's work is bounded however dense the run, and slicing never changes a trace.
    /// Returns the events processed and the time reached (`t_us` unless the budget ran out).
    fn run_until_within(&mut self, t_us: Micros, max_events: u64) -> (u64, Micros);
    fn status(&self, node: NodeId) -> Status;
    /// Checks the parsed fault against node statuses now, then applies it (or changes
    /// nothing). With a duration, the engine undoes it when the duration ends.
    fn apply(&mut self, planned: &Planned) -> Result<(), InputError>;
    /// When a crashed node's pending restart (timed crash, self-crash) is due, if any.
    fn restart_due_us(&self, node: NodeId) -> Option<Micros>;
    fn snapshot(&self, seed: u64) -> Snapshot;
    fn node_view(&self, node: NodeId) -> Result<NodeView, InputError>;
    /// Refills and returns the render columns.
    fn columns(&mut self) -> &Columns;
    fn trace(&self) -> &Trace;
    fn trace_mut(&mut self) -> &mut Trace;
    /// Whether live node `by` suspects `node` (for tests and checkers).
    fn suspects(&self, by: NodeId, node: NodeId) -> bool;
    /// Whether live node `by` has declared `node` failed (SWIM: dead, not just suspect).
    fn declares_failed(&self, by: NodeId, node: NodeId) -> bool;
    fn counters(&self) -> &Counters;
    fn in_flight(&self) -> u64;
    /// Machine-level state of a node (clock, afflictions, counters).
    fn runtime(&self, node: NodeId) -> &NodeRuntime;
    /// Every checker's property at this moment.
    fn checks(&self) -> Vec<CheckView>;
    /// The checkers' headless summary, a figure a line.
    fn check_summary(&self) -> Vec<Figure>;
    /// The checkers' time series, for charts.
    fn series(&self) -> Vec<SeriesView>;
    /// The clients' history, when the protocol's checkers record one (`Checks::history`).
    fn history(&self) -> Option<&crate::history::History>;
    /// Each message kind code with its name, for the legend.
    fn message_kinds(&self) -> &'static [(u8, &'static str)];
    /// A copy of the whole world.
    fn boxed_clone(&self) -> Box<dyn Engine>;
    /// A copy for a time-travel checkpoint: everything replay needs, without the recent
    /// trace ring or render columns (which replay refills). Takes `&mut self` only to
    /// lend its recent trace aside while copying, so the copy never clones it.
    fn checkpoint(&mut self) -> Box<dyn Engine>;
    /// Bytes this world keeps, heap included: queue, node states, trace ring, checker
    /// histories and series (an estimate; see `crate::budget`).
    fn approx_bytes(&self) -> usize;
}

#[derive(Clone)]
pub struct World<P: Runnable> {
    config: P::Config,
    n: u32,
    seed: u64,
    now_us: Micros,
    queue: EventQueue<P::Msg>,
    /// `None` while crashed.
    protocols: Vec<Option<P>>,
    /// The durable state of crashed nodes, kept for their restart.
    durable: Vec<P::Durable>,
    runtime: Vec<NodeRuntime>,
    /// Events that reached a paused node, in arrival order.
    held: Vec<Vec<Event<P::Msg>>>,
    network: Network,
    /// Messages on the wire or waiting at a paused or slow receiver.
    in_flight: u64,
    counters: Counters,
    trace: Trace,
    drops: VecDeque<DropMark>,
    columns: Columns,
    ctx: Ctx<P::Msg, P::Obs>,
    checks: P::Checks,
    /// Draws for omission, gray failure, corruption and storage damage.
    fault_rng: Rng,
    /// What each pending timed fault undoes when it ends, and when (by `Event::Revert::id`).
    reverts: BTreeMap<u32, (Micros, Revert)>,
    next_revert_id: u32,
    flaps: Vec<FlapState>,
    /// Per node: the current clock strobe's offsets A and B (µs) and period.
    strobe_params: Vec<(i64, i64, Micros)>,
    /// True causality: Lamport and vector clocks per node (instrumentation only).
    causal: Causality,
    events: u64,
    limits_hit: u64,
}

impl<P: Runnable> World<P> {
    /// Builds the world and boots every node at time 0, in id order. With `full_trace`,
    /// every trace event is also kept for `Trace::take_spill`.
    pub fn new(
        config: P::Config,
        nodes: u32,
        link: LinkConfig,
        timing: Timing,
        seed: u64,
        full_trace: bool,
    ) -> World<P> {
        assert!(nodes > 0, "a world has at least one node");
        let checks = P::Checks::new(&config, nodes);
        let node_xy = P::layout(&config, nodes);
        assert_eq!(node_xy.len(), 2 * nodes as usize, "a layout places every node");
        let mut world = World {
            checks,
            config,
            n: nodes,
            seed,
            now_us: 0,
            queue: EventQueue::default(),
            protocols: (0..nodes).map(|_| None).collect(),
            durable: vec![P::Durable::default(); nodes as usize],
            runtime: vec![NodeRuntime::new(); nodes as usize],
            held: vec![Vec::new(); nodes as usize],
            network: Network::new(nodes, link, timing, Rng::stream(seed, Stream::Network)),
            in_flight: 0,
            counters: Counters::default(),
            trace: Trace::new(),
            drops: VecDeque::new(),
            columns: Columns {
                node_xy,
                ..Columns::default()
            },
            ctx: Ctx::new(),
            fault_rng: Rng::stream(seed, Stream::Faults),
            reverts: BTreeMap::new(),
            next_revert_id: 0,
            flaps: Vec::new(),
            strobe_params: vec![(0, 0, 0); nodes as usize],
            causal: Causality::new(nodes),
            events: 0,
            limits_hit: 0,
        };
        world.trace.keep_vectors(world.causal.vector_width());
        if full_trace {
            world.trace.enable_spill();
        }
        for node in 0..nodes {
            world.boot(node);
        }
        world.after_event(Changed::Any);
        world
    }

    /// Lets the checkers look at the nodes after an event (`changed`: whose state it may
    /// have changed).
    fn after_event(&mut self, changed: Changed) {
        let runtime = &self.runtime;
        let status = |n: NodeId| runtime[n as usize].status;
        let view = WorldView {
            now_us: self.now_us,
            protocols: &self.protocols,
            status: &status,
            changed,
        };
        self.checks.after_event(&view);
    }

    fn boot(&mut self, node: NodeId) {
        let i = node as usize;
        assert!(
            self.protocols[i].is_none(),
            "node {node} boots only when it has no running state"
        );
        let durable = std::mem::take(&mut self.durable[i]);
        // Each incarnation draws from its own stream: a restart does not replay the past.
        let incarnation_seed = self.seed ^ (self.runtime[i].incarnation as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let rng = Rng::stream(incarnation_seed, Stream::Node(node));
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[i].clock.local(self.now_us));
        self.protocols[i] = Some(P::boot(&self.config, node, self.n, durable, rng, &mut ctx));
        self.flush(node, &mut ctx);
        self.ctx = ctx;
    }

    /// Handles one event; returns whose state it may have changed.
    #[inline(always)]
    fn process(&mut self, event: Event<P::Msg>) -> Changed {
        let changed = match &event {
            Event::Deliver(f) | Event::Lose(f) => Changed::One(f.to),
            Event::Timer(timer) => Changed::One(timer.node),
            Event::Resume { node, .. } | Event::ClockFlip { node, .. } => Changed::One(*node),
            Event::Revert { .. } | Event::Flap { .. } => Changed::Any,
        };
        match event {
            Event::Deliver(flight) => self.deliver(flight),
            Event::Lose(f) => {
                self.in_flight -= 1;
                self.causal.release(f.slot);
                let id = f.stamp.id;
                self.record_drop(
                    f.from,
                    f.to,
                    0.5,
                    DropReason::Loss,
                    f.msg.kind_name(),
                    f.msg.digest(),
                    id,
                );
            }
            Event::Timer(timer) => self.timer(timer),
            Event::Resume { node, pause_id } => self.resume(node, pause_id),
            Event::Revert { id } => self.revert(id),
            Event::ClockFlip { node, strobe_id, to_b } => self.clock_flip(node, strobe_id, to_b),
            Event::Flap { id } => self.flap(id),
        }
        changed
    }

    fn deliver(&mut self, mut f: Flight<P::Msg>) {
        let to = f.to;
        match self.runtime[to as usize].status {
            Status::Paused { .. } => return self.held[to as usize].push(Event::Deliver(f)),
            Status::Crashed => return self.drop_flight(f, DropReason::Crashed),
            Status::Up => {}
        }
        if !f.slowed {
            if let Some(reason) = self.network.blocked(f.from, to) {
                return self.drop_flight(f, reason); // the network split while it flew
            }
            let afflictions = &self.runtime[to as usize].afflictions;
            let (omission_ppm, gray_fail_ppm) = (afflictions.receive_omission_ppm, afflictions.gray_fail_ppm);
            if omission_ppm > 0 && self.fault_rng.chance_ppm(omission_ppm) {
                return self.drop_flight(f, DropReason::Omission);
            }
            let work = f.msg.is_work();
            if work && gray_fail_ppm > 0 && self.fault_rng.chance_ppm(gray_fail_ppm) {
                return self.drop_flight(f, DropReason::Gray);
            }
            if let Some(ready_us) = self.ready_at(to, work) {
                if ready_us - self.now_us > MAX_BACKLOG_US {
                    self.limits_hit += 1;
                    return self.drop_flight(f, DropReason::Overflow); // its inbox is full
                }
                f.slowed = true;
                return self.queue.push(ready_us, Event::Deliver(f));
            }
        }
        self.in_flight -= 1;
        self.counters.delivered += 1;
        if self.network.timing().bound_us(f.sent_us).is_some() {
            let delay = self.now_us - f.sent_us;
            self.counters.max_bounded_delay_us = self.counters.max_bounded_delay_us.max(delay);
        }
        self.runtime[to as usize].received += 1;
        let detail = if f.byzantine {
            TRACE_BYZANTINE | f.claimed_from as u64
        } else {
            0
        };
        self.causal.on_deliver(to, f.stamp, f.slot);
        let id = f.stamp.id;
        self.trace_message(
            TraceKind::Deliver,
            (to, f.from),
            f.msg.kind_name(),
            detail,
            f.msg.digest(),
            id,
        );
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[to as usize].clock.local(self.now_us));
        let proto = self.protocols[to as usize].as_mut().expect("a running node has state");
        proto.on_message(f.claimed_from, f.msg, &mut ctx);
        self.flush(to, &mut ctx);
        self.ctx = ctx;
    }

    /// When a slow (or, for real work, gray) node gets round to an event that reaches it
    /// now; `None` when it handles it at once. A slow node serves one event at a time.
    fn ready_at(&mut self, node: NodeId, work: bool) -> Option<Micros> {
        let rt = &mut self.runtime[node as usize];
        let gray_us = if work { rt.afflictions.gray_slow_us } else { 0 };
        let slow_us = rt
            .afflictions
            .slow
            .as_ref()
            .map_or(0, |l| l.sample(&mut self.fault_rng));
        if gray_us == 0 && slow_us == 0 {
            return None;
        }
        let start = if slow_us > 0 {
            rt.busy_until_us.max(self.now_us)
        } else {
            self.now_us
        };
        let ready = start + slow_us + gray_us;
        if slow_us > 0 {
            rt.busy_until_us = ready;
        }
        Some(ready)
    }

    fn timer(&mut self, mut timer: Timer) {
        let rt = &self.runtime[timer.node as usize];
        if rt.incarnation != timer.incarnation {
            return; // set before a crash: that process is gone
        }
        if !timer.slowed && rt.clock_epoch != timer.epoch {
            return; // the clock changed; a re-timed copy is queued
        }
        match rt.status {
            Status::Crashed => unreachable!("a crash bumps the incarnation"),
            Status::Paused { .. } => return self.held[timer.node as usize].push(Event::Timer(timer)),
            Status::Up => {}
        }
        if !timer.slowed {
            if let Some(ready_us) = self.ready_at(timer.node, false) {
                timer.slowed = true;
                return self.queue.push(ready_us, Event::Timer(timer));
            }
        }
        self.causal.on_local(timer.node);
        self.trace_event(TraceKind::Timer, timer.node, NO_NODE, "", timer.tag, 0);
        let node = timer.node as usize;
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[node].clock.local(self.now_us));
        let proto = self.protocols[node].as_mut().expect("a running node has state");
        proto.on_timer(timer.tag, &mut ctx);
        self.flush(timer.node, &mut ctx);
        self.ctx = ctx;
    }

    /// Turns a handler's effects into timers, sends, observations and a self-crash.
    fn flush(&mut self, node: NodeId, ctx: &mut Ctx<P::Msg, P::Obs>) {
        for obs in ctx.observations.drain(..) {
            self.checks.observe(self.now_us, node, &obs);
        }
        self.flush_effects(node, ctx);
        if let Some(restart_after_us) = ctx.crash.take() {
            self.causal.on_local(node);
            self.trace_event(
                TraceKind::SelfCrash,
                node,
                NO_NODE,
                "",
                restart_after_us.unwrap_or(0),
                0,
            );
            self.crash(node);
            self.runtime[node as usize].self_crashed = true;
            if let Some(after_us) = restart_after_us {
                let incarnation = self.runtime[node as usize].incarnation;
                self.schedule_revert(self.now_us + after_us, Revert::Restart { node, incarnation });
            }
        }
    }

    fn flush_effects(&mut self, node: NodeId, ctx: &mut Ctx<P::Msg, P::Obs>) {
        let rt = &self.runtime[node as usize];
        for &(delay_local_us, tag) in &ctx.timers {
            let local_at_us = ctx.now_local_us + delay_local_us;
            let at_us = rt.clock.global_at(self.now_us, local_at_us).max(self.now_us + 1);
            let timer = Timer {
                node,
                incarnation: rt.incarnation,
                epoch: rt.clock_epoch,
                tag,
                local_at_us,
                slowed: false,
            };
            self.queue.push(at_us, Event::Timer(timer));
        }
        let behaviour = rt.afflictions.behaviour.clone();
        for (to, msg) in ctx.sends.drain(..) {
            match behaviour {
                Behaviour::Honest => self.send(node, node, to, msg, false),
                Behaviour::Equivocate => self.send(node, node, to, P::equivocate(&msg, to), true),
                Behaviour::Corrupt => {
                    let noise = self.fault_rng.next_u64();
                    self.send(node, node, to, P::corrupt(&msg, noise), true)
                }
                Behaviour::Lie => self.send(node, node, to, P::lie(&msg), true),
                Behaviour::Forge { as_node } => {
                    if to != as_node {
                        self.send(node, as_node, to, msg.clone(), true);
                    }
                    self.send(node, node, to, msg, false);
                }
            }
        }
    }

    fn send(&mut self, from: NodeId, claimed_from: NodeId, to: NodeId, msg: P::Msg, byzantine: bool) {
        assert!(to < self.n, "node {from} sent to node {to}, which does not exist");
        self.counters.sent += 1;
        self.runtime[from as usize].sent += 1;
        let detail = if byzantine {
            TRACE_BYZANTINE | claimed_from as u64
        } else {
            0
        };
        let stamp = self.causal.on_send(from);
        let id = stamp.id;
        self.trace_message(TraceKind::Send, (from, to), msg.kind_name(), detail, msg.digest(), id);
        if self.in_flight >= MAX_IN_FLIGHT as u64 {
            self.limits_hit += 1;
            return self.record_drop(from, to, 0.0, DropReason::Overflow, msg.kind_name(), msg.digest(), id);
        }
        let omission_ppm = self.runtime[from as usize].afflictions.send_omission_ppm;
        if omission_ppm > 0 && self.fault_rng.chance_ppm(omission_ppm) {
            return self.record_drop(from, to, 0.0, DropReason::Omission, msg.kind_name(), msg.digest(), id);
        }
        let (fate, duplicate) = self.network.route(from, to, self.now_us, msg.timing_role());
        let now_us = self.now_us;
        let flight = |msg, deliver_us| Flight {
            stamp,
            from,
            claimed_from,
            to,
            sent_us: now_us,
            deliver_us,
            msg,
            byzantine,
            slowed: false,
            slot: causal::NO_SLOT, // `launch` parks the vector clock
        };
        if let Some(latency_us) = duplicate {
            self.counters.duplicated += 1;
            self.trace_message(
                TraceKind::Duplicate,
                (from, to),
                msg.kind_name(),
                detail,
                msg.digest(),
                id,
            );
            self.launch(flight(msg.clone(), now_us + latency_us), false);
        }
        match fate {
            Fate::Arrive { latency_us } => self.launch(flight(msg, now_us + latency_us), false),
            Fate::Lost { latency_us } => self.launch(flight(msg, now_us + latency_us), true),
            Fate::Blocked(reason) => self.record_drop(from, to, 0.0, reason, msg.kind_name(), msg.digest(), id),
        }
    }

    fn launch(&mut self, mut flight: Flight<P::Msg>, doomed: bool) {
        let latency_us = flight.deliver_us - flight.sent_us;
        assert!(latency_us >= 1, "a message takes time to travel");
        if self.causal.needs_collect(self.in_flight) {
            let flights = self.queue.iter().chain(self.held.iter().flatten());
            self.causal.collect(flights.filter_map(|e| match e {
                Event::Deliver(f) | Event::Lose(f) => Some(f.slot),
                _ => None,
            }));
        }
        flight.slot = self.causal.park(flight.from);
        self.in_flight += 1;
        if doomed {
            self.queue
                .push(self.now_us + (latency_us / 2).max(1), Event::Lose(flight));
        } else {
            self.queue.push(flight.deliver_us, Event::Deliver(flight));
        }
    }

    fn drop_flight(&mut self, f: Flight<P::Msg>, reason: DropReason) {
        self.in_flight -= 1;
        self.causal.release(f.slot);
        self.record_drop(f.from, f.to, 1.0, reason, f.msg.kind_name(), f.msg.digest(), f.stamp.id);
    }

    #[allow(clippy::too_many_arguments)]
    fn record_drop(
        &mut self,
        from: NodeId,
        to: NodeId,
        frac: f32,
        reason: DropReason,
        msg: &'static str,
        digest: u64,
        msg_id: u64,
    ) {
        self.counters.dropped[reason.index()] += 1;
        self.trace_message(TraceKind::Drop, (from, to), msg, reason as u64, digest, msg_id);
        if self.drops.len() == RECENT_DROPS_MAX {
            self.drops.pop_front();
        }
        self.drops.push_back(DropMark {
            from,
            to,
            at_us: self.now_us,
            frac,
            reason,
        });
    }

    /// Out of line: one copy of `trace_message` serves every event but sends, deliveries
    /// and drops, which have it inlined (they are most events).
    #[inline(never)]
    fn trace_event(
        &mut self,
        kind: TraceKind,
        node: NodeId,
        peer: NodeId,
        msg: &'static str,
        detail: u64,
        digest: u64,
    ) {
        self.trace_message(kind, (node, peer), msg, detail, digest, 0);
    }

    /// Records an event with its causal stamp: `node`'s clocks as they are now (a causal
    /// event has ticked them already) and the message id, if any. Inlined natively (sends
    /// and deliveries are most events); an ordinary call in wasm, to keep the module small.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    #[cfg_attr(target_arch = "wasm32", inline)]
    fn trace_message(
        &mut self,
        kind: TraceKind,
        (node, peer): (NodeId, NodeId),
        msg: &'static str,
        detail: u64,
        digest: u64,
        msg_id: u64,
    ) {
        let has_node = node != NO_NODE;
        let event = TraceEvent {
            t_us: self.now_us,
            kind,
            node,
            peer,
            msg,
            detail,
            msg_id,
            lamport: if has_node { self.causal.lamport(node) } else { 0 },
        };
        let (vc, local_us) = if self.trace.keeps_vectors() && has_node {
            let causal = crate::trace::is_causal(kind);
            let vc = if causal { self.causal.vector(node) } else { None };
            (vc, self.runtime[node as usize].clock.local(self.now_us))
        } else {
            (None, self.now_us)
        };
        self.trace.record(event, digest, vc, local_us);
    }

    fn resume(&mut self, node: NodeId, pause_id: u32) {
        let i = node as usize;
        match self.runtime[i].status {
            Status::Paused { pause_id: current, .. } if current == pause_id => {}
            _ => return, // a crash ended this pause early
        }
        self.runtime[i].status = Status::Up;
        let held = std::mem::take(&mut self.held[i]);
        self.causal.on_local(node);
        self.trace_event(TraceKind::Resume, node, NO_NODE, "", held.len() as u64, 0);
        // The burst: everything that queued up runs now, in the order it arrived. Held
        // timers were already due; they count in the current clock epoch.
        let epoch = self.runtime[i].clock_epoch;
        for mut event in held {
            if let Event::Timer(timer) = &mut event {
                timer.epoch = epoch;
            }
            self.queue.push(self.now_us, event);
        }
    }

    fn crash(&mut self, node: NodeId) {
        let i = node as usize;
        self.runtime[i].self_crashed = false;
        let proto = self.protocols[i].take().expect("only a running or paused node crashes");
        self.durable[i] = proto.durable();
        for event in std::mem::take(&mut self.held[i]) {
            if let Event::Deliver(flight) = event {
                self.drop_flight(flight, DropReason::Crashed);
            }
        }
        let rt = &mut self.runtime[i];
        rt.status = Status::Crashed;
        rt.incarnation += 1;
        rt.busy_until_us = 0;
    }

    fn assert_conservation(&self) {
        let c = &self.counters;
        assert_eq!(
            c.sent + c.duplicated,
            c.delivered + c.dropped_total() + self.in_flight,
            "message conservation broke at t = {} µs",
            self.now_us
        );
    }

    pub fn protocol(&self, node: NodeId) -> Option<&P> {
        self.protocols[node as usize].as_ref()
    }

    pub fn config(&self) -> &P::Config {
        &self.config
    }

    pub fn checkers(&self) -> &P::Checks {
        &self.checks
    }
}

impl<P: Runnable> Engine for World<P> {
    fn now_us(&self) -> Micros {
        self.now_us
    }

    fn nodes(&self) -> u32 {
        self.n
    }

    fn run_until_within(&mut self, t_us: Micros, max_events: u64) -> (u64, Micros) {
        assert!(
            t_us >= self.now_us,
            "time runs forwards: asked for {t_us} µs at {} µs",
            self.now_us
        );
        let before = self.events;
        let mut limit = t_us;
        while let Some((at_us, event)) = self.queue.pop_due(limit) {
            assert!(
                at_us >= self.now_us,
                "an event at {at_us} µs is in the past of {} µs",
                self.now_us
            );
            self.now_us = at_us;
            let changed = self.process(event);
            self.after_event(changed);
            self.events += 1;
            if self.events - before >= max_events {
                // Out of budget: only the rest of this microsecond still runs.
                limit = at_us;
            }
        }
        self.now_us = limit;
        self.assert_conservation();
        (self.events - before, limit)
    }

    fn status(&self, node: NodeId) -> Status {
        self.runtime[node as usize].status
    }

    fn apply(&mut self, planned: &Planned) -> Result<(), InputError> {
        planned.action.check_status(|node| self.runtime[node as usize].status)?;
        if matches!(planned.action, crate::action::Action::Stabilise) {
            crate::action::check_stabilise(self.network.timing())?;
        }
        self.trace_event(
            TraceKind::Fault,
            planned.target.unwrap_or(NO_NODE),
            NO_NODE,
            "",
            planned.code as u64,
            planned.duration_us.unwrap_or(0),
        );
        let revert = self.apply_checked(&planned.action);
        if let (Some(duration_us), Some(revert)) = (planned.duration_us, revert) {
            self.schedule_revert(self.now_us + duration_us, revert);
        }
        self.after_event(Changed::Any);
        self.assert_conservation();
        Ok(())
    }

    fn restart_due_us(&self, node: NodeId) -> Option<Micros> {
        self.restart_due(node)
    }

    fn snapshot(&self, seed: u64) -> Snapshot {
        let count = |code: u8| self.runtime.iter().filter(|r| r.status.code() == code).count() as u32;
        Snapshot {
            time_ms: inspect::ms(self.now_us),
            seed,
            nodes: self.n,
            protocol: P::NAME,
            events: self.events,
            queued: self.queue.len() as u64,
            trace_hash: self.trace.hash_hex(),
            counters: CounterView::new(&self.counters, self.in_flight),
            partitioned: self.network.is_partitioned(),
            nodes_up: count(0),
            nodes_crashed: count(1),
            nodes_paused: count(2),
            limits_hit: self.limits_hit,
        }
    }

    fn node_view(&self, node: NodeId) -> Result<NodeView, InputError> {
        if node >= self.n {
            return Err(InputError::new(
                "node",
                format!("node {node} does not exist (nodes are 0–{})", self.n - 1),
            ));
        }
        let rt = &self.runtime[node as usize];
        let local_us = rt.clock.local(self.now_us);
        let view = self.protocols[node as usize]
            .as_ref()
            .map(|p| p.view(local_us))
            .unwrap_or_default();
        let mut out = NodeView::new(node, rt, self.now_us, P::NAME, view);
        out.lamport = self.causal.lamport(node);
        out.vector_clock = self.causal.vector(node).map(<[u32]>::to_vec);
        Ok(out)
    }

    fn columns(&mut self) -> &Columns {
        self.fill_columns();
        &self.columns
    }

    fn trace(&self) -> &Trace {
        &self.trace
    }

    fn trace_mut(&mut self) -> &mut Trace {
        &mut self.trace
    }

    fn suspects(&self, by: NodeId, node: NodeId) -> bool {
        self.protocols[by as usize].as_ref().is_some_and(|p| p.suspects(node))
    }

    fn declares_failed(&self, by: NodeId, node: NodeId) -> bool {
        self.protocols[by as usize]
            .as_ref()
            .is_some_and(|p| p.declares_failed(node))
    }

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn in_flight(&self) -> u64 {
        self.in_flight
    }

    fn runtime(&self, node: NodeId) -> &NodeRuntime {
        &self.runtime[node as usize]
    }

    fn checks(&self) -> Vec<CheckView> {
        let mut views = self.checks.report(self.now_us);
        // FLP: without a bound on delays nothing promises that the good thing happens.
        let promised = self.network.timing().promises_progress(self.now_us);
        for v in views.iter_mut().filter(|v| v.property == Property::Liveness) {
            v.guaranteed = promised;
        }
        views
    }

    fn check_summary(&self) -> Vec<Figure> {
        self.checks.summary(self.now_us)
    }

    fn series(&self) -> Vec<SeriesView> {
        self.checks.series()
    }

    fn history(&self) -> Option<&crate::history::History> {
        self.checks.history()
    }

    fn boxed_clone(&self) -> Box<dyn Engine> {
        Box::new(self.clone())
    }

    fn message_kinds(&self) -> &'static [(u8, &'static str)] {
        <P::Msg as MessageKinds>::KINDS
    }

    fn approx_bytes(&self) -> usize {
        self.footprint()
    }

    fn checkpoint(&mut self) -> Box<dyn Engine> {
        let recent = self.trace.take_recent();
        let mut copy = self.clone();
        self.trace.restore_recent(recent);
        copy.drops.clear();
        copy.columns = Columns {
            node_xy: std::mem::take(&mut copy.columns.node_xy),
            ..Columns::default()
        };
        Box::new(copy)
    }
}
