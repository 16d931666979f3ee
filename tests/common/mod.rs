//! Helpers shared by the integration tests: building scenarios and reading full traces.

#![allow(dead_code)]

use faultline::scenario::{HeartbeatSpec, LatencySpec, NetworkSpec, ProtocolSpec, ScheduledFault};
use faultline::trace::{TraceEvent, TraceKind};
use faultline::{Fault, Scenario, Simulation};

/// A heartbeat cluster: interval 100 ms, timeout 350 ms, latency uniform 5–25 ms.
pub fn cluster(nodes: u32, seed: u64) -> Scenario {
    Scenario::basic(nodes, seed)
}

pub fn with_faults(mut s: Scenario, faults: Vec<(f64, Fault)>) -> Scenario {
    s.faults = faults
        .into_iter()
        .map(|(at_ms, fault)| ScheduledFault::at(at_ms, fault))
        .collect();
    s
}

pub fn with_latency(mut s: Scenario, latency: LatencySpec) -> Scenario {
    s.network = NetworkSpec { latency, ..s.network };
    s
}

pub fn with_heartbeat(mut s: Scenario, interval_ms: f64, timeout_ms: f64) -> Scenario {
    s.protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
        detector: Default::default(),
        interval_ms,
        timeout_ms,
        probe_ms: None,
        checksum: false,
    });
    s
}

/// Runs to `until_ms` and returns every trace event from time 0.
pub fn full_trace(s: Scenario, until_ms: f64) -> (Simulation, Vec<TraceEvent>) {
    let mut sim = Simulation::with_full_trace(s).expect("valid scenario");
    sim.run_until_ms(until_ms).unwrap();
    let events = sim.take_trace().events;
    (sim, events)
}

pub fn hash_of(s: Scenario, until_ms: f64) -> u64 {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.run_until_ms(until_ms).unwrap();
    sim.trace_hash()
}

pub fn is(kind: TraceKind) -> impl Fn(&&TraceEvent) -> bool {
    move |e| e.kind == kind
}

/// A preset's scenario by name.
pub fn preset(name: &str) -> Scenario {
    (faultline::presets::find(name).unwrap().build)()
}

/// A checker's view by id.
pub fn check(sim: &Simulation, id: &str) -> faultline::checks::CheckView {
    sim.checks().into_iter().find(|c| c.id == id).unwrap()
}

/// The checkers' summary figure `id` (`"acked_writes_lost"`, `"split_brain_ms"`, …).
pub fn figure(sim: &Simulation, id: &str) -> f64 {
    let figures = sim.figures();
    let found = figures.iter().find(|f| f.id == id);
    found.unwrap_or_else(|| panic!("no figure `{id}` in {figures:?}")).value
}

/// The summary figure `id`, which is a count.
pub fn figure_count(sim: &Simulation, id: &str) -> u64 {
    let n = figure(sim, id);
    assert!(n >= 0.0 && n.fract() == 0.0, "{id} = {n} is not a count");
    n as u64
}

/// A number a node's view states (`NodeView::number`), failing with the node's facts when
/// it states none: tests read numbers, not display strings.
/// The set of nodes a view states under `label`, failing with the node's facts.
pub fn node_set(sim: &Simulation, node: u32, label: &str) -> Vec<u32> {
    let view = sim.node_view(node).unwrap();
    match view.node_set(label) {
        Some(nodes) => nodes.to_vec(),
        None => panic!("node {node} states no set {label}: {:?}", view.facts),
    }
}

pub fn number(sim: &Simulation, node: u32, label: &str) -> u64 {
    let view = sim.node_view(node).unwrap();
    view.number(label)
        .unwrap_or_else(|| panic!("node {node} states no number {label}: {:?}", view.facts))
}
