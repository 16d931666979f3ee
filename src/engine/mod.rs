//! The world: virtual time, the event queue, the network, nodes and their protocols.
//!
//! `World<P>` runs one protocol on every node and applies faults. `Engine` is its
//! object-safe face, so the layer above can hold any protocol's world. Invariants,
//! asserted as the run goes (in release builds too):
//! - time never goes backwards;
//! - conservation: `sent + duplicated = delivered + dropped + in_flight`;
//! - a crashed node runs no handler, holds no events and has no protocol state but its
//!   durable part; a paused node runs no handler until it resumes;
//! - nothing crosses a partition or a cut link.

mod queue;

use std::collections::VecDeque;

use crate::error::InputError;
use crate::fault::Fault;
use crate::inspect::{self, Columns, CounterView, Counters, DropMark, NodeView, Snapshot};
use crate::limits::{MAX_IN_FLIGHT, RECENT_DROPS_MAX, RECENT_DROPS_WINDOW_US};
use crate::network::{DropReason, Fate, LinkConfig, Network, NodeId};
use crate::node::{NodeRuntime, Status};
use crate::protocol::{Ctx, MessageInfo, Protocol};
use crate::rng::{Rng, Stream};
use crate::scenario::probability_ppm;
use crate::time::{ms_to_us, Micros};
use crate::trace::{Trace, TraceEvent, TraceKind, NO_NODE};

use queue::EventQueue;
pub use queue::{Event, Flight};

/// A world of any protocol, as the simulation and the boundaries drive it.
pub trait Engine {
    fn now_us(&self) -> Micros;
    fn nodes(&self) -> u32;
    /// Processes every event due at or before `t_us`, then sets the clock to `t_us`.
    /// Returns the number of events processed.
    fn run_until(&mut self, t_us: Micros) -> u64;
    fn status(&self, node: NodeId) -> Status;
    /// Checks the fault against the current state, then applies it (or changes nothing).
    fn apply(&mut self, fault: &Fault) -> Result<(), InputError>;
    fn snapshot(&self, seed: u64) -> Snapshot;
    fn node_view(&self, node: NodeId) -> Result<NodeView, InputError>;
    /// Refills and returns the render columns.
    fn columns(&mut self) -> &Columns;
    fn trace(&self) -> &Trace;
    fn trace_mut(&mut self) -> &mut Trace;
    /// Whether live node `by` suspects `node` (for tests and checkers).
    fn suspects(&self, by: NodeId, node: NodeId) -> bool;
    fn counters(&self) -> &Counters;
    fn in_flight(&self) -> u64;
}

pub struct World<P: Protocol> {
    config: P::Config,
    n: u32,
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
    /// Messages on the wire or held at a paused receiver.
    in_flight: u64,
    counters: Counters,
    trace: Trace,
    drops: VecDeque<DropMark>,
    columns: Columns,
    ctx: Ctx<P::Msg>,
    events: u64,
    limits_hit: u64,
}

impl<P: Protocol> World<P> {
    /// Builds the world and boots every node at time 0, in id order.
    /// With `full_trace`, every trace event is also kept for `Trace::take_spill`.
    pub fn new(config: P::Config, nodes: u32, link: LinkConfig, seed: u64, full_trace: bool) -> World<P> {
        assert!(nodes > 0, "a world has at least one node");
        let mut world = World {
            config,
            n: nodes,
            now_us: 0,
            queue: EventQueue::default(),
            protocols: (0..nodes).map(|_| None).collect(),
            durable: vec![P::Durable::default(); nodes as usize],
            runtime: vec![NodeRuntime::new(); nodes as usize],
            held: vec![Vec::new(); nodes as usize],
            network: Network::new(nodes, link, Rng::stream(seed, Stream::Network)),
            in_flight: 0,
            counters: Counters::default(),
            trace: Trace::new(),
            drops: VecDeque::new(),
            columns: Columns {
                node_xy: inspect::layout(nodes),
                ..Columns::default()
            },
            ctx: Ctx::new(),
            events: 0,
            limits_hit: 0,
        };
        if full_trace {
            world.trace.enable_spill();
        }
        for node in 0..nodes {
            world.boot(node);
        }
        world
    }

    fn boot(&mut self, node: NodeId) {
        let i = node as usize;
        assert!(
            self.protocols[i].is_none(),
            "node {node} boots only when it has no running state"
        );
        let durable = std::mem::take(&mut self.durable[i]);
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[i].clock.local(self.now_us));
        self.protocols[i] = Some(P::boot(&self.config, node, self.n, durable, &mut ctx));
        self.flush(node, &mut ctx);
        self.ctx = ctx;
    }

    fn process(&mut self, event: Event<P::Msg>) {
        match event {
            Event::Deliver(flight) => self.deliver(flight),
            Event::Lose(f) => {
                self.in_flight -= 1;
                self.record_drop(f.from, f.to, 0.5, DropReason::Loss, f.msg.kind_name(), f.msg.digest());
            }
            Event::Timer { node, incarnation, tag } => {
                let rt = &self.runtime[node as usize];
                if rt.incarnation != incarnation {
                    return; // set before a crash: that process is gone
                }
                match rt.status {
                    Status::Crashed => unreachable!("a crash bumps the incarnation"),
                    Status::Paused { .. } => self.held[node as usize].push(event),
                    Status::Up => self.run_timer(node, tag),
                }
            }
            Event::Resume { node, pause_id } => self.resume(node, pause_id),
        }
    }

    fn deliver(&mut self, f: Flight<P::Msg>) {
        let (from, to) = (f.from, f.to);
        match self.runtime[to as usize].status {
            Status::Paused { .. } => return self.held[to as usize].push(Event::Deliver(f)),
            Status::Crashed => return self.drop_flight(f, DropReason::Crashed),
            Status::Up => {}
        }
        if let Some(reason) = self.network.blocked(from, to) {
            return self.drop_flight(f, reason); // the network split while it flew
        }
        self.in_flight -= 1;
        self.counters.delivered += 1;
        self.runtime[to as usize].received += 1;
        self.trace_event(TraceKind::Deliver, to, from, f.msg.kind_name(), 0, f.msg.digest());
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[to as usize].clock.local(self.now_us));
        let proto = self.protocols[to as usize].as_mut().expect("a running node has state");
        proto.on_message(from, f.msg, &mut ctx);
        self.flush(to, &mut ctx);
        self.ctx = ctx;
    }

    fn run_timer(&mut self, node: NodeId, tag: u64) {
        self.trace_event(TraceKind::Timer, node, NO_NODE, "", tag, 0);
        let mut ctx = std::mem::replace(&mut self.ctx, Ctx::new());
        ctx.reset(self.runtime[node as usize].clock.local(self.now_us));
        let proto = self.protocols[node as usize]
            .as_mut()
            .expect("a running node has state");
        proto.on_timer(tag, &mut ctx);
        self.flush(node, &mut ctx);
        self.ctx = ctx;
    }

    /// Turns a handler's effects into timers and sends.
    fn flush(&mut self, node: NodeId, ctx: &mut Ctx<P::Msg>) {
        let rt = &self.runtime[node as usize];
        let incarnation = rt.incarnation;
        for &(delay_local_us, tag) in &ctx.timers {
            let at_us = self.now_us + rt.clock.global_duration(delay_local_us).max(1);
            self.queue.push(at_us, Event::Timer { node, incarnation, tag });
        }
        for (to, msg) in ctx.sends.drain(..) {
            self.send(node, to, msg);
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        assert!(to < self.n, "node {from} sent to node {to}, which does not exist");
        self.counters.sent += 1;
        self.runtime[from as usize].sent += 1;
        self.trace_event(TraceKind::Send, from, to, msg.kind_name(), 0, msg.digest());
        if self.in_flight >= MAX_IN_FLIGHT as u64 {
            self.limits_hit += 1;
            return self.record_drop(from, to, 0.0, DropReason::Overflow, msg.kind_name(), msg.digest());
        }
        let (fate, duplicate) = self.network.route(from, to);
        if let Some(latency_us) = duplicate {
            self.counters.duplicated += 1;
            self.trace_event(TraceKind::Duplicate, from, to, msg.kind_name(), 0, msg.digest());
            self.launch(from, to, msg.clone(), latency_us, false);
        }
        match fate {
            Fate::Arrive { latency_us } => self.launch(from, to, msg, latency_us, false),
            Fate::Lost { latency_us } => self.launch(from, to, msg, latency_us, true),
            Fate::Blocked(reason) => self.record_drop(from, to, 0.0, reason, msg.kind_name(), msg.digest()),
        }
    }

    fn launch(&mut self, from: NodeId, to: NodeId, msg: P::Msg, latency_us: Micros, doomed: bool) {
        assert!(latency_us >= 1, "a message takes time to travel");
        let deliver_us = self.now_us + latency_us;
        let flight = Flight {
            from,
            to,
            sent_us: self.now_us,
            deliver_us,
            msg,
        };
        self.in_flight += 1;
        if doomed {
            self.queue
                .push(self.now_us + (latency_us / 2).max(1), Event::Lose(flight));
        } else {
            self.queue.push(deliver_us, Event::Deliver(flight));
        }
    }

    fn drop_flight(&mut self, f: Flight<P::Msg>, reason: DropReason) {
        self.in_flight -= 1;
        self.record_drop(f.from, f.to, 1.0, reason, f.msg.kind_name(), f.msg.digest());
    }

    fn record_drop(&mut self, from: NodeId, to: NodeId, frac: f32, reason: DropReason, msg: &'static str, digest: u64) {
        self.counters.dropped[reason.index()] += 1;
        self.trace_event(TraceKind::Drop, from, to, msg, reason as u64, digest);
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

    #[inline]
    fn trace_event(
        &mut self,
        kind: TraceKind,
        node: NodeId,
        peer: NodeId,
        msg: &'static str,
        detail: u64,
        digest: u64,
    ) {
        let event = TraceEvent {
            t_us: self.now_us,
            kind,
            node,
            peer,
            msg,
            detail,
        };
        self.trace.record(event, digest);
    }

    fn resume(&mut self, node: NodeId, pause_id: u32) {
        let i = node as usize;
        match self.runtime[i].status {
            Status::Paused { pause_id: current, .. } if current == pause_id => {}
            _ => return, // a crash ended this pause early
        }
        self.runtime[i].status = Status::Up;
        let held = std::mem::take(&mut self.held[i]);
        self.trace_event(TraceKind::Resume, node, NO_NODE, "", held.len() as u64, 0);
        // The burst: everything that queued up runs now, in the order it arrived.
        for event in held {
            self.queue.push(self.now_us, event);
        }
    }

    fn crash(&mut self, node: NodeId) {
        let i = node as usize;
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
    }

    fn apply_checked(&mut self, fault: &Fault) {
        match fault {
            Fault::Crash { node } => self.crash(*node),
            Fault::Restart { node } => {
                let rt = &mut self.runtime[*node as usize];
                rt.status = Status::Up;
                rt.restarts += 1;
                self.boot(*node);
            }
            Fault::Pause { node, duration_ms } => {
                let until_us = self.now_us + ms_to_us(*duration_ms, "duration_ms").expect("checked");
                let rt = &mut self.runtime[*node as usize];
                let pause_id = rt.new_pause_id();
                rt.status = Status::Paused { until_us, pause_id };
                self.queue.push(until_us, Event::Resume { node: *node, pause_id });
            }
            Fault::Partition { groups } => self.network.partition(groups),
            Fault::Heal => self.network.heal(),
            Fault::Cut { from, to } => self.network.cut(*from, *to),
            Fault::Uncut { from, to } => self.network.uncut(*from, *to),
            Fault::Link {
                from,
                to,
                latency,
                loss,
                both,
            } => {
                let mut link = self.network.link(*from, *to).clone();
                if let Some(spec) = latency {
                    link.latency = spec.to_latency().expect("checked");
                }
                if let Some(p) = loss {
                    link.loss_ppm = probability_ppm(*p, "loss").expect("checked");
                }
                self.network.set_link(*from, *to, link.clone());
                if *both {
                    self.network.set_link(*to, *from, link);
                }
            }
        }
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
}

impl<P: Protocol> Engine for World<P> {
    fn now_us(&self) -> Micros {
        self.now_us
    }

    fn nodes(&self) -> u32 {
        self.n
    }

    fn run_until(&mut self, t_us: Micros) -> u64 {
        assert!(
            t_us >= self.now_us,
            "time runs forwards: asked for {t_us} µs at {} µs",
            self.now_us
        );
        let before = self.events;
        while let Some((at_us, event)) = self.queue.pop_due(t_us) {
            assert!(
                at_us >= self.now_us,
                "an event at {at_us} µs is in the past of {} µs",
                self.now_us
            );
            self.now_us = at_us;
            self.process(event);
            self.events += 1;
        }
        self.now_us = t_us;
        self.assert_conservation();
        self.events - before
    }

    fn status(&self, node: NodeId) -> Status {
        self.runtime[node as usize].status
    }

    fn apply(&mut self, fault: &Fault) -> Result<(), InputError> {
        fault.check(self.n, |node| self.runtime[node as usize].status)?;
        let target = fault.node().unwrap_or(NO_NODE);
        self.trace_event(TraceKind::Fault, target, NO_NODE, "", fault.code() as u64, 0);
        self.apply_checked(fault);
        self.assert_conservation();
        Ok(())
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
        let peers = self.protocols[node as usize]
            .as_ref()
            .map(|p| p.view(local_us).peers)
            .unwrap_or_default();
        Ok(NodeView {
            id: node,
            status: rt.status.name(),
            paused_until_ms: match rt.status {
                Status::Paused { until_us, .. } => Some(inspect::ms(until_us)),
                _ => None,
            },
            incarnation: rt.incarnation,
            restarts: rt.restarts,
            clock_ms: inspect::ms(local_us),
            sent: rt.sent,
            received: rt.received,
            protocol: P::NAME,
            peers,
        })
    }

    fn columns(&mut self) -> &Columns {
        let c = &mut self.columns;
        c.node_status.clear();
        c.node_status.extend(self.runtime.iter().map(|r| r.status.code()));
        c.node_group.clear();
        c.node_group.extend_from_slice(self.network.group_of());
        c.node_suspected_by.clear();
        c.node_suspected_by.resize(self.n as usize, 0);
        for proto in self.protocols.iter().flatten() {
            for (peer, count) in c.node_suspected_by.iter_mut().enumerate() {
                *count += proto.suspects(peer as NodeId) as u32;
            }
        }
        c.clear_messages();
        let held = self.held.iter().flatten();
        for event in self.queue.iter().chain(held) {
            let (f, doomed) = match event {
                Event::Deliver(f) => (f, false),
                Event::Lose(f) => (f, true),
                _ => continue,
            };
            c.msg_from.push(f.from);
            c.msg_to.push(f.to);
            c.msg_sent_ms.push(inspect::ms(f.sent_us));
            c.msg_deliver_ms.push(inspect::ms(f.deliver_us));
            c.msg_kind.push(f.msg.kind() & 0x7F | if doomed { 0x80 } else { 0 });
        }
        let oldest = self.now_us.saturating_sub(RECENT_DROPS_WINDOW_US);
        for d in self.drops.iter().filter(|d| d.at_us >= oldest) {
            c.drop_from.push(d.from);
            c.drop_to.push(d.to);
            c.drop_at_ms.push(inspect::ms(d.at_us));
            c.drop_frac.push(d.frac);
            c.drop_reason.push(d.reason as u8);
        }
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

    fn counters(&self) -> &Counters {
        &self.counters
    }

    fn in_flight(&self) -> u64 {
        self.in_flight
    }
}
