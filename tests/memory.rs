//! The engine's byte estimates against what it really allocates (a counting allocator),
//! and the byte budget: checkpoints thin out by size, time travel degrades honestly.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};
use std::sync::Mutex;

use faultline::budget::{TimeTravel, MAX_MEMORY_BUDGET_BYTES, MEMORY_BUDGET_BYTES, MIN_MEMORY_BUDGET_BYTES};
#[path = "support/soak.rs"]
mod soak;

use faultline::presets::PRESETS;
use faultline::Simulation;

/// Counts live heap bytes of the whole test binary.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Tests run one at a time (the counter is global).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Every test here takes this: allocations on another test's thread would count too. A
/// failed test does not poison the others.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn live() -> isize {
    LIVE.load(Relaxed)
}

/// Estimates stay within this factor of the bytes really allocated, either way.
const FACTOR: f64 = 1.35;

fn within_factor(estimate: f64, measured: f64) -> bool {
    estimate <= measured * FACTOR && measured <= estimate * FACTOR
}

#[test]
fn estimates_are_within_a_factor_of_measured_bytes_for_every_preset() {
    let _one = lock();
    for preset in PRESETS {
        let scenario = (preset.build)();
        let t_ms = if scenario.nodes > 256 { 1_000.0 } else { 10_000.0 };
        let before = live();
        let mut sim = Simulation::new(scenario).unwrap();
        sim.run_until_ms(t_ms).unwrap();
        // The whole run: world, checkpoints, schedule.
        let (run_measured, run_estimate) = ((live() - before) as f64, sim.memory().used_bytes as f64);
        let mut world = sim.engine().boxed_clone();
        let before = live();
        let copy = world.checkpoint();
        let (measured, estimate) = ((live() - before) as f64, copy.approx_bytes() as f64);
        drop(copy);
        println!(
            "{:24} run {run_measured:>11.0} B measured, {run_estimate:>11.0} estimated; \
             checkpoint {measured:>11.0} / {estimate:>11.0}",
            preset.name
        );
        assert!(
            within_factor(estimate, measured),
            "{}: a checkpoint estimated at {estimate} B allocates {measured} B",
            preset.name
        );
        assert!(
            within_factor(run_estimate, run_measured),
            "{}: the run estimated at {run_estimate} B allocates {run_measured} B",
            preset.name
        );
    }
}

fn large_cluster() -> faultline::Scenario {
    (faultline::presets::find("large-cluster").unwrap().build)()
}

fn fresh_hash(scenario: &faultline::Scenario, t_ms: f64) -> String {
    let mut sim = Simulation::new(scenario.clone()).unwrap();
    sim.run_until_ms(t_ms).unwrap();
    sim.trace_hash_hex()
}

#[test]
fn past_the_budget_checkpoints_thin_out_and_seeking_stays_exact() {
    let _one = lock();
    let scenario = large_cluster();
    let mut sim = Simulation::new(scenario.clone()).unwrap();
    sim.set_memory_budget(48 << 20).unwrap();
    for t in 1..=6 {
        sim.run_until_ms(t as f64 * 1_000.0).unwrap();
        let m = sim.memory();
        assert!(m.used_bytes <= m.budget_bytes, "{m:?} at {t} s");
    }
    let m = sim.memory();
    assert_eq!(m.time_travel, TimeTravel::Coarse, "{m:?}");
    assert!(m.checkpoints >= 2, "{m:?}");
    assert!(m.interval_us > 1_000_000, "thinned by size: {m:?}");
    let at_us = sim.checkpoint_before_us(5_500_000);
    assert!((1..=5_500_000).contains(&at_us), "{at_us}");
    sim.seek_ms(at_us as f64 / 1000.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), fresh_hash(&scenario, at_us as f64 / 1000.0));
    sim.seek_ms(2_345.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), fresh_hash(&scenario, 2_345.0));
}

#[test]
fn when_not_even_one_checkpoint_fits_time_travel_is_off_and_still_exact() {
    let _one = lock();
    let scenario = large_cluster();
    let mut sim = Simulation::new(scenario.clone()).unwrap();
    sim.run_until_ms(1_200.0).unwrap();
    assert_eq!(sim.memory().time_travel, TimeTravel::Full);
    sim.set_memory_budget(MIN_MEMORY_BUDGET_BYTES).unwrap();
    let m = sim.memory();
    assert_eq!((m.time_travel, m.checkpoints), (TimeTravel::Off, 0), "{m:?}");
    assert_eq!(sim.checkpoint_before_us(1_000_000), 0);
    sim.run_until_ms(2_100.0).unwrap();
    assert_eq!(sim.memory().checkpoints, 0, "none taken while off");
    sim.seek_ms(300.0).unwrap();
    assert_eq!(sim.trace_hash_hex(), fresh_hash(&scenario, 300.0));
    // A budget large enough again lets checkpoints resume.
    sim.set_memory_budget(MEMORY_BUDGET_BYTES).unwrap();
    sim.run_until_ms(1_000.0).unwrap();
    assert_eq!(sim.memory().time_travel, TimeTravel::Full);
    assert!(sim.memory().checkpoints >= 1);
}

#[test]
fn a_budget_out_of_range_is_refused_and_changes_nothing() {
    let _one = lock();
    let mut sim = Simulation::new(faultline::Scenario::basic(5, 1)).unwrap();
    let before = sim.memory();
    for bytes in [0, MIN_MEMORY_BUDGET_BYTES - 1, MAX_MEMORY_BUDGET_BYTES + 1] {
        let e = sim.set_memory_budget(bytes).unwrap_err();
        assert_eq!(e.field, "bytes");
    }
    assert_eq!(sim.memory(), before);
    assert_eq!(before.budget_bytes, MEMORY_BUDGET_BYTES);
}

#[test]
fn an_all_to_all_cluster_too_costly_is_refused_when_it_loads() {
    let _one = lock();
    // Was: 7.7 s and 2.55 GB to reach 1 ms, dropping 98.8 M heartbeats as overflow.
    let e = faultline::Scenario::from_json(r#"{"seed": 1, "nodes": 10000}"#).unwrap_err();
    assert_eq!(e.field, "nodes");
    assert!(e.problem.contains("at most 2000 nodes"), "{e}");
    let e = faultline::Scenario::from_json(r#"{"seed": 1, "nodes": 1500}"#).unwrap_err();
    assert_eq!(e.field, "nodes");
    assert!(
        e.problem.contains("messages per simulated second") && e.problem.contains("at most 1000 nodes"),
        "{e}"
    );
    // The same 1 500 nodes beating every second cost 2.2 M messages a second: fine.
    let slow = r#"{"nodes": 1500, "protocol": {"kind": "heartbeat", "interval_ms": 1000}}"#;
    faultline::Scenario::from_json(slow).unwrap();
    // The page's largest cluster on the default heartbeat, and the 1 000-node preset, load.
    faultline::Scenario::from_json(r#"{"nodes": 1000}"#).unwrap();
    Simulation::new(large_cluster()).unwrap();
    // Protocols that do not talk all-to-all are not capped by it.
    faultline::Scenario::from_json(r#"{"nodes": 10000, "protocol": {"kind": "swim"}}"#).unwrap();
}

fn live_i64() -> i64 {
    live() as i64
}

#[test]
fn short_soaks_stay_under_the_budget_and_flat() {
    // The long versions are `cargo xtask soak` (60 simulated s; 24 simulated hours).
    let _one = lock();
    let before = live_i64();
    let large = soak::soak(soak::large_cluster(), 3_000.0, 500.0, live_i64);
    assert!(large.used_high_water <= large.budget_bytes, "{large:?}");
    let measured = (large.measured_high_water - before) as u64;
    assert!(measured <= large.budget_bytes, "measured {measured} B");
    let five = soak::soak(soak::five_nodes_for(2), 7_200_000.0, 300_000.0, live_i64);
    assert!(soak::is_flat(&five, 1.25), "{:?}", five.samples);
    assert!(five
        .samples
        .iter()
        .all(|s| s.3 <= faultline::limits::checkpoint_budget(5)));
}
