//! Time travel: seeking back restores the exact earlier state, playing on from there gives
//! the run that never seeked, checkpoint memory stays bounded, and injecting at an earlier
//! moment forks a new future that replays from its scenario.

use faultline::presets::PRESETS;
use faultline::{Fault, Scenario, Simulation};

fn hash_at(scenario: &Scenario, t_ms: f64) -> String {
    let mut sim = Simulation::new(scenario.clone()).unwrap();
    sim.run_until_ms(t_ms).unwrap();
    sim.trace_hash_hex()
}

#[test]
fn seeking_back_then_forward_equals_never_seeking() {
    for preset in PRESETS.iter().filter(|p| (p.build)().nodes <= 64) {
        let scenario = (preset.build)();
        let mut sim = Simulation::new(scenario.clone()).unwrap();
        sim.run_until_ms(9_000.0).unwrap();
        for back in [6_500.0, 0.0, 3_210.5, 8_999.0] {
            sim.seek_ms(back).unwrap();
            assert_eq!(
                sim.trace_hash_hex(),
                hash_at(&scenario, back),
                "{}: the state after seeking to {back} ms",
                preset.name
            );
        }
        sim.seek_ms(12_000.0).unwrap();
        assert_eq!(sim.trace_hash_hex(), hash_at(&scenario, 12_000.0), "{}", preset.name);
        assert_eq!(sim.snapshot(), {
            let mut fresh = Simulation::new(scenario.clone()).unwrap();
            fresh.run_until_ms(12_000.0).unwrap();
            fresh.snapshot()
        });
    }
}

#[test]
fn seeking_restores_node_state_not_just_the_hash() {
    let scenario = faultline::presets::find("crash-recovery").map(|p| (p.build)()).unwrap();
    let mut fresh = Simulation::new(scenario.clone()).unwrap();
    fresh.run_until_ms(4_321.0).unwrap();
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until_ms(20_000.0).unwrap();
    sim.seek_ms(4_321.0).unwrap();
    for node in 0..sim.scenario().nodes {
        assert_eq!(sim.node_view(node).unwrap(), fresh.node_view(node).unwrap());
    }
}

#[test]
fn checkpoint_memory_is_bounded_over_a_simulated_hour() {
    let mut sim = Simulation::new(Scenario::basic(5, 3)).unwrap();
    let mut most = 0;
    for minute in 1..=60 {
        sim.run_until_ms(minute as f64 * 60_000.0).unwrap();
        most = most.max(sim.checkpoints().0);
    }
    let (held, interval_us) = sim.checkpoints();
    assert!(most <= faultline::limits::checkpoint_budget(5), "held {most}");
    assert!(
        held >= 8,
        "an hour keeps enough checkpoints to seek quickly, held {held}"
    );
    assert!(
        interval_us >= 60_000_000,
        "the interval grew as the run did: {interval_us} µs"
    );
    // Seeking back across the hour is still exact.
    let scenario = sim.scenario().clone();
    sim.seek_ms(1_234_567.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), hash_at(&scenario, 1_234_567.0));
}

#[test]
fn injecting_in_the_past_forks_a_new_future() {
    let mut sim = Simulation::new(Scenario::basic(5, 11)).unwrap();
    sim.run_until_ms(2_000.0).unwrap();
    sim.inject(Fault::Crash { node: 1 }, None).unwrap();
    sim.run_until_ms(5_000.0).unwrap();
    sim.inject(Fault::Isolate { node: 3 }, Some(1_000.0)).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    let old_future = sim.trace_hash_hex();

    // Back to 3 s and a different choice: the isolation at 5 s belonged to the old future.
    sim.seek_ms(3_000.0).unwrap();
    let removed = sim.inject(Fault::Crash { node: 2 }, None).unwrap();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].contains("isolate"), "{removed:?}");
    let labels: Vec<String> = sim.scenario().faults.iter().map(|f| f.fault.label()).collect();
    assert_eq!(labels, ["crash n1", "crash n2"]);
    sim.run_until_ms(8_000.0).unwrap();
    assert_ne!(sim.trace_hash_hex(), old_future);
    // The forked run is exactly its scenario replayed (what the URL now holds).
    assert_eq!(sim.trace_hash_hex(), hash_at(&sim.scenario().clone(), 8_000.0));
    // And seeking inside the new future is exact too.
    sim.seek_ms(4_000.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), hash_at(&sim.scenario().clone(), 4_000.0));
}

#[test]
fn a_scenario_fault_is_kept_when_the_future_forks() {
    let mut scenario = Scenario::basic(5, 2);
    scenario.faults.push(faultline::scenario::ScheduledFault::at(
        6_000.0,
        Fault::Crash { node: 4 },
    ));
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until_ms(7_000.0).unwrap();
    sim.seek_ms(1_000.0).unwrap();
    let removed = sim
        .inject(
            Fault::Pause {
                node: 0,
                duration_ms: 300.0,
            },
            None,
        )
        .unwrap();
    assert!(removed.is_empty(), "the written schedule stays: {removed:?}");
    assert_eq!(sim.scenario().faults.len(), 2);
}

#[test]
fn seeking_rejects_bad_times_and_keeps_state() {
    let mut sim = Simulation::new(Scenario::basic(3, 1)).unwrap();
    sim.run_until_ms(1_000.0).unwrap();
    let before = sim.trace_hash_hex();
    assert!(sim.seek_ms(f64::NAN).is_err());
    assert!(sim.seek_ms(-5.0).is_err());
    assert!(sim.seek_ms(1e15).is_err());
    assert_eq!(sim.trace_hash_hex(), before);
}
