//! Random faults of every kind for property tests and the fuzz driver: mostly sensible
//! (nodes that exist, parameters in range), sometimes not (a node past the end, a negative
//! period, a probability over one), so both the accepting and the rejecting paths run.

#![allow(dead_code)]

use faultline::fault::{Behaviour, Damage, Shape};
use faultline::rng::Rng;
use faultline::scenario::LatencySpec;
use faultline::Fault;

/// Every fault kind `random_fault` draws from, by name (for coverage assertions).
pub const KINDS: usize = 21;

/// A node id: usually one of `nodes`, sometimes just past the end or far out.
pub fn node(rng: &mut Rng, nodes: u32) -> u32 {
    match rng.below(20) {
        0 => nodes,
        1 => u32::MAX,
        _ => rng.below(nodes as u64) as u32,
    }
}

/// Milliseconds: usually small and positive, sometimes zero, negative, huge or not finite.
pub fn ms(rng: &mut Rng, typical: f64) -> f64 {
    match rng.below(24) {
        0 => 0.0,
        1 => -typical,
        2 => f64::NAN,
        3 => 1e12,
        4 => 0.0004,
        _ => (rng.unit() * typical * 1000.0).round() / 1000.0 + 0.001,
    }
}

/// A probability: usually in [0, 1], sometimes just over.
pub fn probability(rng: &mut Rng) -> f64 {
    if rng.below(20) == 0 {
        1.5
    } else {
        (rng.unit() * 100.0).round() / 100.0
    }
}

pub fn latency(rng: &mut Rng) -> LatencySpec {
    match rng.below(4) {
        0 => LatencySpec::Constant { ms: ms(rng, 50.0) },
        1 => {
            let min_ms = ms(rng, 20.0);
            LatencySpec::Uniform {
                min_ms,
                max_ms: min_ms + ms(rng, 80.0),
            }
        }
        2 => LatencySpec::Normal {
            mean_ms: ms(rng, 50.0),
            std_ms: ms(rng, 10.0),
        },
        _ => LatencySpec::Lognormal {
            median_ms: ms(rng, 30.0),
            sigma: rng.unit() * 2.0,
        },
    }
}

fn group(rng: &mut Rng, nodes: u32) -> Vec<u32> {
    let len = 1 + rng.below((nodes as u64).min(4)) as usize;
    (0..len).map(|_| node(rng, nodes)).collect()
}

fn behaviour(rng: &mut Rng, nodes: u32) -> Behaviour {
    match rng.below(5) {
        0 => Behaviour::Honest,
        1 => Behaviour::Equivocate,
        2 => Behaviour::Forge {
            as_node: node(rng, nodes),
        },
        3 => Behaviour::Corrupt,
        _ => Behaviour::Lie,
    }
}

/// One fault of kind `kind % KINDS` with random nodes and parameters.
pub fn fault_of_kind(rng: &mut Rng, nodes: u32, kind: u64) -> Fault {
    let n = node(rng, nodes);
    match kind % KINDS as u64 {
        0 => Fault::Crash { node: n },
        1 => Fault::Restart { node: n },
        2 => Fault::Pause {
            node: n,
            duration_ms: ms(rng, 2_000.0),
        },
        3 => Fault::Omission {
            node: n,
            send: probability(rng),
            receive: probability(rng),
        },
        4 => Fault::Slow {
            node: n,
            delay: latency(rng),
        },
        5 => Fault::Gray {
            node: n,
            fail: probability(rng),
            slow_ms: ms(rng, 200.0),
        },
        6 => Fault::Byzantine {
            node: n,
            behaviour: behaviour(rng, nodes),
        },
        7 => Fault::Storage {
            node: n,
            damage: if rng.below(2) == 0 {
                Damage::Torn
            } else {
                Damage::Bitflip
            },
        },
        8 => Fault::ClockOffset {
            node: n,
            offset_ms: ms(rng, 5_000.0) - 2_500.0,
        },
        9 => Fault::ClockDrift {
            node: n,
            drift_ppm: rng.between(0, 1_200_000) as i32 - 600_000,
        },
        10 => Fault::ClockJump {
            node: n,
            by_ms: ms(rng, 5_000.0) - 2_500.0,
        },
        11 => Fault::ClockStrobe {
            node: n,
            a_ms: ms(rng, 1_000.0) - 500.0,
            b_ms: ms(rng, 1_000.0) - 500.0,
            period_ms: ms(rng, 500.0),
        },
        12 => Fault::Partition {
            groups: (0..1 + rng.below(3)).map(|_| group(rng, nodes)).collect(),
        },
        13 => Fault::Isolate { node: n },
        14 => Fault::Shape {
            shape: [Shape::Halves, Shape::MinorityThird, Shape::Ring, Shape::Bridge][rng.below(4) as usize],
        },
        15 => Fault::PartialPartition {
            a: group(rng, nodes),
            b: group(rng, nodes),
        },
        16 => Fault::Heal,
        17 => Fault::Cut {
            from: n,
            to: node(rng, nodes),
        },
        18 => Fault::Uncut {
            from: n,
            to: node(rng, nodes),
        },
        19 => Fault::Flap {
            from: n,
            to: node(rng, nodes),
            period_ms: ms(rng, 1_000.0),
            both: rng.below(2) == 0,
        },
        _ => Fault::Link {
            from: n,
            to: node(rng, nodes),
            latency: (rng.below(2) == 0).then(|| latency(rng)),
            loss: (rng.below(2) == 0).then(|| probability(rng)),
            duplicate: (rng.below(3) == 0).then(|| probability(rng)),
            both: rng.below(2) == 0,
        },
    }
}

/// A fault of a random kind; crash and restart come up more often, as on the page.
pub fn random_fault(rng: &mut Rng, nodes: u32) -> Fault {
    let kind = match rng.below(6) {
        0 => 0,
        1 => 1,
        _ => rng.below(KINDS as u64),
    };
    fault_of_kind(rng, nodes, kind)
}

/// A duration for an injection: usually none, sometimes a sensible one, rarely nonsense.
pub fn duration(rng: &mut Rng) -> Option<f64> {
    match rng.below(4) {
        0 => Some(ms(rng, 3_000.0)),
        _ => None,
    }
}
