//! The key-value store with clocks (`protocol::kv`): under a skewed wall clock,
//! last-write-wins by physical time stamps effects before their causes and loses causally
//! later writes; hybrid logical clocks lose none; vector clocks keep concurrent writes as
//! siblings and lose none; HLCs never go back (through a backward jump and a restart), stay
//! within the cluster's skew of their own clock, and keep small counters.

mod common;

use faultline::presets;
use faultline::Simulation;

fn figures(preset: &str, seed: u64, until_ms: f64) -> std::collections::BTreeMap<String, f64> {
    let mut scenario = (presets::find(preset).unwrap().build)();
    scenario.seed = seed;
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim.engine()
        .check_summary()
        .into_iter()
        .map(|f| (f.id.to_string(), f.value))
        .collect()
}

fn holds(preset: &str, seed: u64, check: &str) -> bool {
    let mut scenario = (presets::find(preset).unwrap().build)();
    scenario.seed = seed;
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until_ms(10_000.0).unwrap();
    sim.engine().checks().iter().find(|c| c.id == check).unwrap().holds
}

#[test]
fn wall_clock_last_write_wins_loses_causally_later_writes_and_hlc_and_vectors_do_not() {
    for seed in 1..=20 {
        let physical = figures("lww-loses-later-write", seed, 10_000.0);
        assert!(
            physical["causal_writes_lost"] > 0.0,
            "seed {seed}: physical stamps lost nothing"
        );
        assert!(physical["writes_stamped_before_cause"] > 0.0, "seed {seed}");
        let hlc = figures("hlc-keeps-later-write", seed, 10_000.0);
        assert_eq!(
            hlc["causal_writes_lost"], 0.0,
            "seed {seed}: HLC lost a causally later write"
        );
        assert_eq!(hlc["writes_stamped_before_cause"], 0.0, "seed {seed}");
        let vector = figures("vector-clocks-keep-both", seed, 10_000.0);
        assert_eq!(
            vector["causal_writes_lost"], 0.0,
            "seed {seed}: vector clocks lost a write"
        );
        assert_eq!(
            vector["concurrent_dropped"], 0.0,
            "seed {seed}: vector clocks dropped a concurrent write"
        );
        assert!(
            vector["siblings"] > 0.0,
            "seed {seed}: concurrent writes never kept as siblings"
        );
        // Last-write-wins by HLC still drops concurrent writes: it orders causality only.
        assert!(hlc["concurrent_dropped"] > 0.0, "seed {seed}");
    }
}

#[test]
fn the_fast_clock_makes_effects_precede_causes_on_the_wall_clock() {
    assert!(!holds("wall-clocks-lie", 1, "timestamp_order"));
    assert!(holds("hlc-keeps-later-write", 1, "timestamp_order"));
}

#[test]
fn hlc_never_goes_back_and_stays_within_the_skew() {
    for seed in 1..=20 {
        assert!(
            holds("hlc-stays-close", seed, "hlc_monotone"),
            "seed {seed}: an HLC went back"
        );
        let f = figures("hlc-stays-close", seed, 10_000.0);
        // Node 0 runs 300 ms fast; node 1 steps back 2 s at 3 s: the largest skew between
        // two clocks is then 2.3 s, and no HLC runs further ahead of its own clock.
        assert!(
            f["hlc_ahead_ms"] <= 2_300.0,
            "seed {seed}: HLC {} ms ahead",
            f["hlc_ahead_ms"]
        );
        assert!(f["hlc_ahead_ms"] > 2_000.0, "seed {seed}: the jump should show");
        // Before the jump, only the 300 ms offset separates the clocks.
        let early = figures("hlc-stays-close", seed, 2_900.0);
        assert!(
            early["hlc_ahead_ms"] <= 300.0,
            "seed {seed}: {} ms ahead before the jump",
            early["hlc_ahead_ms"]
        );
        // The counter counts events within one physical reading: a handful.
        assert!(
            f["hlc_counter_max"] <= 16.0,
            "seed {seed}: counter {}",
            f["hlc_counter_max"]
        );
    }
}

#[test]
fn partitioned_sides_write_concurrently_and_are_kept() {
    let f = figures("concurrent-or-ordered", 1, 10_000.0);
    assert!(f["siblings"] > 0.0);
    assert_eq!(f["causal_writes_lost"], 0.0);
}

#[test]
fn bad_store_parameters_are_clear_errors() {
    let mut s = (presets::find("hlc-keeps-later-write").unwrap().build)();
    s.nodes = 1;
    let e = Simulation::new(s).err().expect("one replica is refused").to_string();
    assert!(e.contains("2 to 64 replicas"), "{e}");
    let text = r#"{"seed":1,"nodes":3,"protocol":{"kind":"kv","keys":0}}"#;
    let e = Simulation::from_json(text).err().unwrap().to_string();
    assert!(e.contains("keys"), "{e}");
    let text = r#"{"seed":1,"nodes":3,"protocol":{"kind":"kv","writers":[7]}}"#;
    let e = Simulation::from_json(text).err().unwrap().to_string();
    assert!(e.contains("node 7 does not exist"), "{e}");
}
