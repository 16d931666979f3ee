//! Soaks: long runs with time travel on, sampled as they go, reporting high-water marks of
//! the engine's own count (`Simulation::memory`) and of a counting allocator's live bytes.
//! Used by `examples/soak.rs` (`cargo xtask soak`) and, shortened, by `tests/memory.rs`.

#![allow(dead_code)]

use faultline::{Scenario, Simulation};

/// What a soak saw.
#[derive(Debug, Default)]
pub struct Report {
    /// Most bytes `memory().used_bytes` reported at a sample.
    pub used_high_water: u64,
    /// Most live heap bytes the allocator counted at a sample (the whole process).
    pub measured_high_water: i64,
    /// `(simulated ms, used bytes, measured bytes, checkpoints)` at each sample.
    pub samples: Vec<(f64, u64, i64, usize)>,
    pub budget_bytes: u64,
}

/// Runs `scenario` to `until_ms`, sampling every `every_ms`; `live` reads the allocator.
pub fn soak(scenario: Scenario, until_ms: f64, every_ms: f64, live: fn() -> i64) -> Report {
    let mut sim = Simulation::new(scenario).expect("soak scenarios load");
    let mut report = Report {
        budget_bytes: sim.memory().budget_bytes,
        ..Report::default()
    };
    let mut t = 0.0;
    while t < until_ms {
        t = (t + every_ms).min(until_ms);
        sim.run_until_ms(t).unwrap();
        let (m, measured) = (sim.memory(), live());
        report.used_high_water = report.used_high_water.max(m.used_bytes);
        report.measured_high_water = report.measured_high_water.max(measured);
        report.samples.push((t, m.used_bytes, measured, m.checkpoints));
    }
    report
}

/// The 1 000-node heartbeat preset.
pub fn large_cluster() -> Scenario {
    (faultline::presets::find("large-cluster").unwrap().build)()
}

/// Five heartbeating nodes with a crash and a restart every simulated hour, so the run has
/// something to remember.
pub fn five_nodes_for(hours: u32) -> Scenario {
    let mut s = Scenario::basic(5, 7);
    for h in 0..hours {
        let at_ms = h as f64 * 3_600_000.0 + 600_000.0;
        s.faults.push(faultline::scenario::ScheduledFault::lasting(
            at_ms,
            faultline::Fault::Crash { node: h % 5 },
            60_000.0,
        ));
    }
    s
}

/// Flat: the most used in the last quarter of the run is at most `factor` times the most
/// used in the first quarter (memory does not grow with simulated time).
pub fn is_flat(report: &Report, factor: f64) -> bool {
    let n = report.samples.len();
    let quarter = (n / 4).max(1);
    let most = |s: &[(f64, u64, i64, usize)]| s.iter().map(|x| x.1).max().unwrap_or(0) as f64;
    most(&report.samples[n - quarter..]) <= factor * most(&report.samples[..quarter])
}
