//! Swarm testing: each seed draws its own run, TigerBeetle-style.
//!
//! A scenario marks what may vary in its `vary` field: the fault schedule (how many faults,
//! which kinds, on which nodes, how long), the network's loss and latency, and protocol
//! settings within ranges. `draw` turns a scenario and a seed into one concrete scenario:
//! the drawn faults replace the scenario's own schedule, every drawn fault has ended by
//! `heal_us` (the liveness phase follows), and the result carries no `vary`, so its share
//! link replays that one run exactly. Invariant: `draw` is a pure function of its inputs
//! (its own xoshiro stream, integer arithmetic, no floating-point transcendentals), so the
//! same seed draws the same scenario natively and in wasm; the drawn scenario validates.

use std::collections::BTreeMap;

use crate::error::parse_json;
use crate::fault::Fault;
use crate::rng::Rng;
use crate::scenario::{LatencySpec, ProtocolSpec, Scenario, ScheduledFault};
use crate::time::{us_to_ms, Micros};
use crate::vocab::NodeId;

use super::vary::{number, set_path};
pub use super::vary::{FaultDraw, FaultKind, Knob, Vary};

/// Draws tried per knob before it keeps the scenario's own value (a drawn value can be
/// invalid together with others, e.g. a heartbeat over a third of the election timeout).
const KNOB_ATTEMPTS: usize = 8;
/// Stream tag of the swarm's generator, apart from every engine stream.
const SWARM_STREAM: u64 = 0x5741_524D_5345_4544;

/// The scenario seed `seed` draws from `base` (which must carry `vary`), with every drawn
/// fault over by `heal_us`. Without `vary`, the base itself with that seed.
pub fn draw(base: &Scenario, seed: u64, heal_us: Micros) -> Scenario {
    let mut s = base.clone();
    s.seed = seed;
    let Some(vary) = s.vary.take() else { return s };
    let mut rng = Rng::from_seed(seed ^ SWARM_STREAM);
    s.name = format!("{} · swarm seed {seed}", base.name);
    if let Some([low, high]) = vary.loss {
        s.network.loss = between_ms(&mut rng, low * 1e4, high * 1e4) / 1e4;
    }
    if let Some([low, high]) = vary.latency_ms {
        let (a, b) = (between_ms(&mut rng, low, high), between_ms(&mut rng, low, high));
        s.network.latency = LatencySpec::Uniform {
            min_ms: a.min(b),
            max_ms: a.max(b),
        };
    }
    draw_knobs(&mut s, &vary.protocol, &mut rng);
    s.faults.clear();
    draw_faults(&mut s, &vary.faults, heal_us, &mut rng);
    debug_assert!(s.validate().is_ok(), "a drawn scenario validates");
    s
}

/// A whole number of milliseconds (or of the caller's unit) in `[low, high]`, as f64.
fn between_ms(rng: &mut Rng, low: f64, high: f64) -> f64 {
    let (lo, hi) = (low.ceil().max(0.0) as u64, high.floor().max(0.0) as u64);
    if lo >= hi {
        return low;
    }
    rng.between(lo, hi) as f64
}

fn draw_knobs(s: &mut Scenario, knobs: &BTreeMap<String, Knob>, rng: &mut Rng) {
    let mut value = crate::json_tree::json_tree(&s.protocol);
    for (name, knob) in knobs {
        for _ in 0..KNOB_ATTEMPTS {
            let drawn = match knob {
                Knob::Between([lo, hi]) if lo.fract() == 0.0 && hi.fract() == 0.0 => {
                    number(rng.between(*lo as u64, *hi as u64) as f64, true)
                }
                // Thousandths of the range: fine enough, and exact in decimal text.
                Knob::Between([lo, hi]) => number(lo + (hi - lo) * rng.below(1_001) as f64 / 1_000.0, false),
                Knob::OneOf(choices) => choices[rng.below(choices.len() as u64) as usize].clone(),
            };
            let mut trial = value.clone();
            if set_path(&mut trial, name, drawn).is_err() {
                break;
            }
            let Ok(protocol) = parse_json::<ProtocolSpec>(&trial.to_string()) else {
                continue;
            };
            if protocol.check(s.nodes).is_ok() {
                value = trial;
                s.protocol = protocol;
                break;
            }
        }
    }
}

fn draw_faults(s: &mut Scenario, draw: &FaultDraw, heal_us: Micros, rng: &mut Rng) {
    let heal_ms = us_to_ms(heal_us).floor();
    let start_ms = (heal_ms / 10.0).min(500.0).floor();
    if draw.kinds.is_empty() || heal_ms < start_ms + 2.0 {
        return;
    }
    let nodes: Vec<NodeId> = draw.nodes.clone().unwrap_or_else(|| (0..s.nodes).collect());
    let count = rng.between(draw.count[0] as u64, draw.count[1] as u64);
    for _ in 0..count {
        let at_ms = rng.between(start_ms as u64, heal_ms as u64 - 1) as f64;
        let room = heal_ms - at_ms;
        let [lo, hi] = draw.duration_ms;
        let lasting = between_ms(rng, lo.min(room), hi.min(room)).max(1.0);
        let node = nodes[rng.below(nodes.len() as u64) as usize];
        let kind = draw.kinds[rng.below(draw.kinds.len() as u64) as usize];
        let entry = match one_fault(kind, node, s.nodes, lasting, rng) {
            Some(fault @ (Fault::Pause { .. } | Fault::ClockJump { .. })) => ScheduledFault::at(at_ms, fault),
            Some(fault) => ScheduledFault::lasting(at_ms, fault, lasting),
            None => continue,
        };
        s.faults.push(entry);
        if s.plan().is_err() {
            s.faults.pop();
        }
    }
    // Listed in time order: the link reads as the story.
    s.faults.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
}

fn one_fault(kind: FaultKind, node: NodeId, nodes: u32, lasting: f64, rng: &mut Rng) -> Option<Fault> {
    Some(match kind {
        FaultKind::Crash => Fault::Crash { node },
        FaultKind::Pause => Fault::Pause {
            node,
            duration_ms: lasting,
        },
        FaultKind::Partition => {
            let side: Vec<NodeId> = (0..nodes).filter(|_| rng.below(2) == 0).collect();
            if side.is_empty() || side.len() == nodes as usize {
                return None;
            }
            Fault::Partition { groups: vec![side] }
        }
        FaultKind::Isolate => Fault::Isolate { node },
        FaultKind::Omission => Fault::Omission {
            node,
            send: rng.between(1, 10) as f64 / 10.0,
            receive: rng.between(0, 10) as f64 / 10.0,
        },
        FaultKind::Slow => Fault::Slow {
            node,
            delay: LatencySpec::Constant {
                ms: rng.between(5, 300) as f64,
            },
        },
        FaultKind::ClockJump => {
            let by = rng.between(100, 3_000) as f64;
            Fault::ClockJump {
                node,
                by_ms: if rng.below(2) == 0 { by } else { -by },
            }
        }
    })
}
