//! Determinism: a run is a pure function of its scenario, and a live run with injected
//! faults replays exactly from the scenario it records.

mod common;

use common::*;
use faultline::presets::{self, PRESETS};
use faultline::rng::Rng;
use faultline::scenario::LatencySpec;
use faultline::{Fault, Scenario, Simulation};

#[test]
fn same_scenario_same_hash_different_seed_different_hash() {
    let a = hash_of(cluster(5, 42), 10_000.0);
    let b = hash_of(cluster(5, 42), 10_000.0);
    let c = hash_of(cluster(5, 43), 10_000.0);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// Regression canaries: if one of these changes, every shared link would replay
/// differently. Change them only on purpose, with a new scenario format version.
#[test]
fn golden_trace_hashes_of_presets() {
    let golden = [
        ("heartbeat", "1e9b54f0c1451758"),
        ("crash-recovery", "b47f9ac98fb80a55"),
        ("partition", "ecb81f63d632da2e"),
        ("gc-pause", "47ad7baa2032dbb9"),
        ("slow-network", "5cfdd4bd3f54881f"),
        ("asymmetric", "447a5804cfa383fc"),
    ];
    for (name, hash) in golden {
        let mut sim = Simulation::new((presets::find(name).unwrap().build)()).unwrap();
        sim.run_until_ms(10_000.0).unwrap();
        assert_eq!(sim.trace_hash_hex(), hash, "preset {name} drifted");
    }
}

#[test]
fn how_time_is_chunked_does_not_matter() {
    let s = with_faults(
        cluster(6, 8),
        vec![
            (1_234.5, Fault::Crash { node: 1 }),
            (2_000.0, Fault::Restart { node: 1 }),
        ],
    );
    let whole = hash_of(s.clone(), 5_000.0);
    let mut sim = Simulation::new(s).unwrap();
    let mut t = 0.0;
    while t < 5_000.0 {
        t = f64::min(t + 16.7, 5_000.0);
        sim.run_until_ms(t).unwrap();
    }
    assert_eq!(sim.trace_hash(), whole);
}

/// A random fault that may or may not make sense at the moment it is tried.
fn random_fault(rng: &mut Rng, nodes: u32) -> Fault {
    let node = rng.below(nodes as u64 + 1) as u32; // sometimes out of range on purpose
    let other = rng.below(nodes as u64) as u32;
    match rng.below(9) {
        0 => Fault::Crash { node },
        1 => Fault::Restart { node },
        2 => Fault::Pause {
            node,
            duration_ms: rng.below(1_500) as f64 + 0.5,
        },
        3 => {
            let cut = 1 + rng.below(nodes as u64 - 1) as u32;
            Fault::Partition {
                groups: vec![(0..cut).collect()],
            }
        }
        4 => Fault::Heal,
        5 => Fault::Cut { from: node, to: other },
        6 => Fault::Uncut { from: node, to: other },
        7 => Fault::Link {
            from: node,
            to: other,
            latency: None,
            loss: Some(rng.below(5) as f64 / 4.0),
            both: true,
        },
        _ => Fault::Link {
            from: node,
            to: other,
            latency: Some(LatencySpec::Uniform {
                min_ms: 1.0,
                max_ms: rng.below(400) as f64 + 1.0,
            }),
            loss: None,
            both: false,
        },
    }
}

/// The share-URL property: inject random faults at random moments of a live run, then
/// rebuild the run from the scenario it recorded (through JSON, as a URL carries it).
/// Same trace hash, same counters. A rejected fault changes nothing.
#[test]
fn live_injections_replay_exactly_from_the_recorded_scenario() {
    let mut accepted = 0;
    for seed in 0..60u64 {
        let mut rng = Rng::from_seed(seed);
        let nodes = 2 + rng.below(7) as u32;
        let mut live = Simulation::new(cluster(nodes, seed)).unwrap();
        let mut t_ms = 0.0;
        for _ in 0..25 {
            t_ms += rng.below(400_000) as f64 / 1_000.0; // microsecond precision
            live.run_until_ms(t_ms).unwrap();
            let before = (live.trace_hash(), live.scenario().clone());
            if live.inject(random_fault(&mut rng, nodes)).is_err() {
                assert_eq!(
                    (live.trace_hash(), live.scenario().clone()),
                    before,
                    "seed {seed}: a rejected fault changed the run"
                );
            }
        }
        accepted += live.scenario().faults.len();
        t_ms += 500.0;
        live.run_until_ms(t_ms).unwrap();
        let shared = Scenario::from_json(&live.scenario().to_json()).unwrap();
        let mut replay = Simulation::new(shared).unwrap();
        replay.run_until_ms(t_ms).unwrap();
        assert_eq!(replay.trace_hash(), live.trace_hash(), "seed {seed}: replay diverged");
        assert_eq!(replay.snapshot(), live.snapshot(), "seed {seed}");
    }
    assert!(
        accepted > 60 * 8,
        "only {accepted} of 1 500 random faults applied: the test lost its teeth"
    );
}

#[test]
fn every_preset_runs_deterministically() {
    for p in PRESETS.iter().filter(|p| p.name != "large-cluster") {
        let a = hash_of((p.build)(), 3_000.0);
        let b = hash_of((p.build)(), 3_000.0);
        assert_eq!(a, b, "preset {}", p.name);
    }
}
