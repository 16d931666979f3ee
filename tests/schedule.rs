//! One schedule: validation, the dry run and the engine apply faults in the same order by
//! the same rule, so a live injection never kills the engine. Random live faults of every
//! kind at random moments, with seeks back and forth, into every preset of every protocol:
//! no panic, messages conserved, and the recorded scenario replays to the live run's hash.

#[path = "support/faults.rs"]
mod faults;

use std::panic::{catch_unwind, AssertUnwindSafe};

use faultline::node::Status;
use faultline::presets::PRESETS;
use faultline::rng::Rng;
use faultline::{Fault, Scenario, Simulation};

fn preset(name: &str) -> Scenario {
    (faultline::presets::find(name).unwrap().build)()
}

fn replayed_hash(scenario: &Scenario, t_us: u64) -> String {
    let mut sim = Simulation::new(scenario.clone()).expect("a recorded scenario loads");
    sim.run_until_ms(t_us as f64 / 1000.0).unwrap();
    sim.trace_hash_hex()
}

fn assert_conserved(sim: &Simulation, case: &str) {
    let c = sim.engine().counters();
    assert_eq!(
        c.sent + c.duplicated,
        c.delivered + c.dropped_total() + sim.engine().in_flight(),
        "{case}: conservation at {} µs",
        sim.now_us()
    );
}

#[test]
fn restarting_a_replica_that_died_of_overload_works_and_replays() {
    let mut sim = Simulation::new(preset("cascading-failure")).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    let dead: Vec<u32> = (0..sim.scenario().nodes)
        .filter(|&n| sim.engine().status(n) == Status::Crashed && sim.engine().runtime(n).self_crashed)
        .collect();
    assert!(!dead.is_empty(), "by 8 s replicas have died of overload");
    let node = dead[0];
    let removed = sim.inject(Fault::Restart { node }, None).unwrap();
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(sim.engine().status(node), Status::Up);
    sim.run_until_ms(9_000.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), replayed_hash(sim.scenario(), 9_000_000));
}

#[test]
fn a_fault_the_run_made_moot_is_an_error_and_changes_nothing() {
    let mut sim = Simulation::new(preset("cascading-failure")).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    let node = (0..sim.scenario().nodes)
        .find(|&n| sim.engine().status(n) == Status::Crashed)
        .unwrap();
    let before = (sim.trace_hash_hex(), sim.scenario().clone());
    let e = sim.inject(Fault::Crash { node }, None).unwrap_err();
    assert!(e.problem.contains("already crashed"), "{e}");
    assert_eq!((sim.trace_hash_hex(), sim.scenario().clone()), before);
}

#[test]
fn a_scheduled_fault_the_run_made_moot_is_skipped_and_reported() {
    // Replica 2 dies of overload before 8 s; a restart scheduled for it then is sensible,
    // a crash scheduled for it is moot: skipped, said, and the same on every replay.
    let mut s = preset("cascading-failure");
    let mut sim = Simulation::new(s.clone()).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    let node = (1..s.nodes)
        .find(|&n| sim.engine().status(n) == Status::Crashed && sim.engine().runtime(n).self_crashed)
        .unwrap();
    s.faults
        .push(faultline::scenario::ScheduledFault::at(8_000.0, Fault::Crash { node }));
    let mut sim = Simulation::new(s.clone()).unwrap();
    sim.run_until_ms(9_000.0).unwrap();
    let skipped = sim.skipped_faults();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0].contains(&format!("crash n{node} at 8000 ms skipped")),
        "{skipped:?}"
    );
    assert_eq!(sim.trace_hash_hex(), replayed_hash(&s, 9_000_000));
}

#[test]
fn ties_in_a_microsecond_keep_list_order_everywhere() {
    // 1000.0004 ms and 1000.0001 ms are the same microsecond: list order decides, in the
    // dry run and in the engine alike (the raw float order would put the crash first).
    let mut s = Scenario::basic(3, 1);
    s.faults = vec![
        faultline::scenario::ScheduledFault::at(1_000.000_4, Fault::Restart { node: 1 }),
        faultline::scenario::ScheduledFault::at(1_000.000_1, Fault::Crash { node: 1 }),
    ];
    let e = Simulation::new(s.clone())
        .err()
        .expect("restart before crash is refused");
    assert_eq!(e.field, "faults[0].fault.node");
    s.faults.swap(0, 1);
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(1_500.0).unwrap();
    assert_eq!(sim.engine().status(1), Status::Up);
    assert_eq!(sim.engine().runtime(1).restarts, 1);
}

/// How far a random session runs, by cluster size (a 1 000-node cluster is slow per ms).
fn horizon_us(nodes: u32) -> u64 {
    match nodes {
        0..=64 => 30_000_000,
        65..=256 => 4_000_000,
        _ => 600_000,
    }
}

/// One random session on `scenario`: runs, injections, seeks. Returns the injections
/// tried and accepted.
fn session(scenario: &Scenario, seed: u64, ops: usize) -> (usize, usize) {
    let mut rng = Rng::from_seed(seed);
    let nodes = scenario.nodes;
    let horizon = horizon_us(nodes);
    let mut sim = Simulation::new(scenario.clone()).unwrap();
    let (mut tried, mut accepted) = (0, 0);
    for _ in 0..ops {
        match rng.below(10) {
            0..=3 => {
                let t = (sim.now_us() + rng.below(horizon / 6)).min(horizon);
                sim.run_until_ms(t as f64 / 1000.0).unwrap();
            }
            4..=7 => {
                tried += 1;
                let fault = faults::random_fault(&mut rng, nodes);
                let before = (sim.trace_hash_hex(), sim.scenario().clone());
                match sim.inject(fault, faults::duration(&mut rng)) {
                    Ok(_) => accepted += 1,
                    Err(_) => assert_eq!((sim.trace_hash_hex(), sim.scenario().clone()), before),
                }
            }
            _ => {
                let t = rng.below(horizon);
                sim.seek_ms(t as f64 / 1000.0).unwrap();
                assert_eq!(sim.now_us(), t);
            }
        }
        assert_conserved(&sim, "session");
    }
    let now = sim.now_us();
    assert_eq!(
        sim.trace_hash_hex(),
        replayed_hash(sim.scenario(), now),
        "the recorded scenario replays the live run"
    );
    (tried, accepted)
}

#[test]
fn random_live_faults_into_every_preset_never_panic_and_replay_exactly() {
    let base: u64 = std::env::var("FAULTLINE_SCHEDULE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let (mut tried, mut accepted) = (0, 0);
    for (p, preset) in PRESETS.iter().enumerate() {
        let scenario = (preset.build)();
        let sessions = if scenario.nodes > 256 { 1 } else { 3 };
        for k in 0..sessions {
            let seed = base.wrapping_mul(1_000_003) ^ ((p as u64) << 8 | k);
            let outcome = catch_unwind(AssertUnwindSafe(|| session(&scenario, seed, 24)));
            let (t, a) = outcome.unwrap_or_else(|_| {
                panic!(
                    "{}: session seed {seed} panicked (FAULTLINE_SCHEDULE_SEED={base})",
                    preset.name
                )
            });
            tried += t;
            accepted += a;
        }
    }
    // Both paths ran: most random faults apply, and nonsense is refused.
    assert!(accepted * 3 > tried, "{accepted} of {tried} applied");
    assert!(accepted < tried, "{accepted} of {tried} applied: none refused");
}
