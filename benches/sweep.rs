//! `cargo bench --bench sweep`: how a seed sweep scales with threads. A 10,000-seed sweep
//! of `raft-one-leader` (15 simulated seconds a seed) on 1 thread and then on every core,
//! reporting seeds/s, events/s, the speed-up, and the time 1 M seeds would take on 64
//! cores at the per-core rate measured. `FAULTLINE_BENCH_SEEDS=N` changes the count
//! (`FAULTLINE_BENCH_QUICK=1`: 500 seeds).
//!
//! Wall time on a shared machine is noisy: the report also gives the process's CPU time
//! (from `/proc/self/stat` where there is one), so a speed-up lost to other load shows.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is the point here

use std::time::Instant;

use faultline::explore::{parallel, Plan, SeedRange};
use faultline::time::US_PER_S;

fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// Runs the sweep on `threads` threads; returns (wall s, events, cpu s).
fn run(plan: &Plan, range: SeedRange, threads: usize) -> (f64, u64, Option<f64>) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let header = plan.header(range, None);
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let summary = pool.install(|| parallel::sweep(plan, &header, range, |_| {}));
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_seconds()).map(|(a, b)| b - a);
    assert_eq!(summary.seeds, range.len());
    assert_eq!(summary.failed, 0, "Raft stayed safe: {}", summary.render());
    (wall, summary.events, cpu)
}

fn main() {
    let quick = std::env::var_os("FAULTLINE_BENCH_QUICK").is_some();
    let seeds: u64 = std::env::var("FAULTLINE_BENCH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 500 } else { 10_000 });
    let scenario = (faultline::presets::find("raft-one-leader").unwrap().build)();
    let plan = Plan::new(scenario, 15 * US_PER_S, false, 5 * US_PER_S, &[]).unwrap();
    let range = SeedRange::new(0, seeds).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = Vec::new();
    for threads in [1, cores.max(2)] {
        let (wall, events, cpu) = run(&plan, range, threads);
        let cpu_text = cpu.map_or(String::new(), |c| {
            format!(", {c:.1} s CPU ({:.2} cores busy)", c / wall)
        });
        println!(
            "raft-one-leader sweep, {seeds} seeds × 15 s, {threads} thread(s): {wall:.1} s wall, {:.0} seeds/s, {:.2} M events/s{cpu_text}",
            seeds as f64 / wall,
            events as f64 / wall / 1e6
        );
        rows.push((threads, wall));
    }
    let (one, many) = (rows[0].1, rows[1].1);
    println!("speed-up with {} threads: {:.2}×", rows[1].0, one / many);
    let per_core_seeds_s = seeds as f64 / one;
    let million_s = 1e6 / (per_core_seeds_s * 64.0);
    println!(
        "1 M seeds on 64 cores at {per_core_seeds_s:.0} seeds/s a core: {:.0} s ({:.1} min), if 64 cores scale as 1 does",
        million_s,
        million_s / 60.0
    );
}
