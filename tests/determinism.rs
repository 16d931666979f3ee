//! Determinism: a run is a pure function of its scenario, and a live run with injected
//! faults replays exactly from the scenario it records.

mod common;

use common::*;
use faultline::fault::{Behaviour, Damage, Shape};
use faultline::presets::{self, PRESETS};
use faultline::rng::Rng;
use faultline::scenario::LatencySpec;
use faultline::scenario::{HeartbeatSpec, ProtocolSpec};
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
        ("heartbeat", "6d8db2149fb80e7d"),
        ("crash-recovery", "4d7da68991a3eaf8"),
        ("partition", "065df00263823b89"),
        ("gc-pause", "9230955e5717cca1"),
        ("slow-network", "05ac399f706ed1df"),
        ("asymmetric", "088edc9a046ae9ad"),
        ("expired-lease", "9a8b2af3278f81c1"),
        ("fencing-tokens", "cd06373fbd62fd17"),
        ("stonith", "5e5fb135f3338d80"),
        ("cap-cp", "f5aa9fae5f3dd50c"),
        ("cap-ap", "90f8abd787bb3c2a"),
        ("swim-at-scale", "5293eb0ff8446858"),
        ("gray-healthy-on-paper", "3d7d063eb87b878f"),
        ("split-brain", "a6a5a636c6451ce2"),
        ("raft-one-leader", "0a69a6cdb49f7a09"),
        ("cascading-failure", "71755c6b2a763838"),
        ("retry-storm", "6a11a6fba4f30c4f"),
        ("circuit-breakers", "85a6dd5e1da23fad"),
        ("load-shedding", "396351417db9f813"),
        ("bulkheads", "5f417305886d500d"),
        ("gray-health-check", "e335543c9cd1bb54"),
        ("flp-in-action", "13302ac4ee47b0fe"),
        ("synchronous-detection", "8a837d7a0ed7a7bf"),
        ("adversary-vs-detector", "53eb3e2d824f7cc4"),
        ("pbft-one-liar", "dce08eececb99bfb"),
        ("pbft-too-many-liars", "ecd55c5b525db14d"),
        ("pbft-forgery", "df17a87330a860bc"),
        ("raft-byzantine-leader", "afc0b645df7912e1"),
        ("wall-clocks-lie", "bb5812f03a1cdcab"),
        ("lww-loses-later-write", "68052f8fda154ddd"),
        ("hlc-keeps-later-write", "68052f8fda154ddd"),
        ("vector-clocks-keep-both", "68052f8fda154ddd"),
        ("concurrent-or-ordered", "00140d31a6bda2be"),
        ("hlc-stays-close", "391f66b2571e5972"),
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

/// The page's frames stop a run after an event budget, mid-way through a slice: every
/// stop is a moment the run could have been asked for, and the trace is the run's own.
#[test]
fn stopping_on_an_event_budget_does_not_matter() {
    let mut rng = Rng::from_seed(11);
    for name in [
        "heartbeat",
        "crash-recovery",
        "raft-one-leader",
        "cascading-failure",
        "pbft-one-liar",
        "swim-at-scale",
        "flapping-link",
    ] {
        let scenario = (presets::find(name).unwrap().build)();
        let whole = hash_of(scenario.clone(), 3_000.0);
        let mut sim = Simulation::new(scenario.clone()).unwrap();
        let (mut t, mut stops) = (0.0, 0);
        while t < 3_000.0 {
            let budget = 1 + rng.below(40);
            let (events, reached) = sim.run_until_within_ms(3_000.0, budget as f64).unwrap();
            assert!(reached >= t && reached <= 3_000.0, "{name}: reached {reached} from {t}");
            // A budget is kept up to the rest of one microsecond's events.
            assert!(events >= 1 || reached == 3_000.0, "{name}: no progress at {t}");
            if reached < 3_000.0 && stops % 97 == 0 {
                // The stopped state is the state of a run asked to stop there.
                assert_eq!(
                    sim.trace_hash(),
                    hash_of(scenario.clone(), reached),
                    "{name}: stop at {reached} ms"
                );
            }
            stops += 1;
            t = reached;
        }
        assert!(stops > 20, "{name}: the budget never stopped the run ({stops} slices)");
        assert_eq!(sim.trace_hash(), whole, "{name}: budgeted slices changed the trace");
    }
}

/// A random fault of any kind, which may or may not make sense when it is tried.
fn random_fault(rng: &mut Rng, nodes: u32) -> Fault {
    let node = rng.below(nodes as u64 + 1) as u32; // sometimes out of range on purpose
    let other = rng.below(nodes as u64) as u32;
    let p = |rng: &mut Rng| rng.below(5) as f64 / 4.0;
    let ms = |rng: &mut Rng, max: u64| rng.below(max) as f64 + 0.5;
    let signed = |rng: &mut Rng| rng.below(2_000) as f64 - 1_000.0;
    match rng.below(22) {
        0 | 1 => Fault::Crash { node },
        2 | 3 => Fault::Restart { node },
        4 => Fault::Pause {
            node,
            duration_ms: ms(rng, 1_500),
        },
        5 => Fault::Partition {
            groups: vec![(0..1 + rng.below(nodes as u64 - 1) as u32).collect()],
        },
        6 => Fault::Heal,
        7 => Fault::Cut { from: node, to: other },
        8 => Fault::Uncut { from: node, to: other },
        9 => Fault::Link {
            from: node,
            to: other,
            latency: None,
            loss: Some(p(rng)),
            duplicate: Some(p(rng)),
            both: true,
        },
        10 => Fault::Link {
            from: node,
            to: other,
            latency: Some(LatencySpec::Uniform {
                min_ms: 1.0,
                max_ms: ms(rng, 400) + 1.0,
            }),
            loss: None,
            duplicate: None,
            both: false,
        },
        11 => Fault::Omission {
            node,
            send: p(rng),
            receive: p(rng),
        },
        12 => Fault::Slow {
            node,
            delay: LatencySpec::Uniform {
                min_ms: 0.0,
                max_ms: ms(rng, 50),
            },
        },
        13 => Fault::Gray {
            node,
            fail: p(rng),
            slow_ms: ms(rng, 100),
        },
        14 => Fault::Byzantine {
            node,
            behaviour: [
                Behaviour::Equivocate,
                Behaviour::Corrupt,
                Behaviour::Lie,
                Behaviour::Forge { as_node: other },
                Behaviour::Honest,
            ][rng.below(5) as usize]
                .clone(),
        },
        15 => Fault::Storage {
            node,
            damage: if rng.below(2) == 0 {
                Damage::Torn
            } else {
                Damage::Bitflip
            },
        },
        16 => Fault::ClockOffset {
            node,
            offset_ms: signed(rng),
        },
        17 => Fault::ClockDrift {
            node,
            drift_ppm: rng.below(200_000) as i32 - 100_000,
        },
        18 => Fault::ClockJump {
            node,
            by_ms: signed(rng),
        },
        19 => Fault::ClockStrobe {
            node,
            a_ms: 0.0,
            b_ms: signed(rng),
            period_ms: ms(rng, 300) + 1.0,
        },
        20 => Fault::Shape {
            shape: [Shape::Halves, Shape::MinorityThird, Shape::Ring, Shape::Bridge][rng.below(4) as usize],
        },
        _ => Fault::Flap {
            from: node,
            to: other,
            period_ms: ms(rng, 500) + 1.0,
            both: rng.below(2) == 0,
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
        let mut scenario = cluster(nodes, seed);
        scenario.protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
            detector: Default::default(),
            interval_ms: 100.0,
            timeout_ms: 350.0,
            probe_ms: Some(150.0),
            checksum: seed % 2 == 0,
        });
        let mut live = Simulation::new(scenario).unwrap();
        let mut t_ms = 0.0;
        for _ in 0..25 {
            t_ms += rng.below(400_000) as f64 / 1_000.0; // microsecond precision
            live.run_until_ms(t_ms).unwrap();
            let before = (live.trace_hash(), live.scenario().clone());
            let duration = (rng.below(3) == 0).then(|| rng.below(2_000) as f64 + 0.5);
            if live.inject(random_fault(&mut rng, nodes), duration).is_err() {
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
