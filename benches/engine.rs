//! `cargo bench`: simulated events per second for heartbeats, SWIM, a service under load
//! (10,000 requests per simulated second over 20 replicas), and two presets as the page
//! and `faultline run` play them (`large-cluster` at 1,000 nodes, and Raft's
//! `raft-one-leader` with its clients and every checker on), native.
//!
//! A plain harness (no framework): each case runs a fixed stretch of simulated time a few
//! times and reports the best run, as events per wall second and simulated seconds per
//! wall second. Set `FAULTLINE_BENCH_QUICK=1` for a short smoke run.

#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // wall time is the point here

use std::time::Instant;

use faultline::protocol::service::ServiceSpec;
use faultline::protocol::swim::SwimSpec;
use faultline::scenario::{HeartbeatSpec, ProtocolSpec};
use faultline::{Scenario, Simulation};

struct Case {
    name: &'static str,
    nodes: u32,
    interval_ms: f64,
    timeout_ms: f64,
    warmup_ms: f64,
    run_ms: f64,
    /// SWIM with this period (and default parameters) instead of heartbeats.
    swim_period_ms: Option<f64>,
    /// A service under load at this many requests per second instead: a balancer, 20
    /// replicas of 8 workers (10 ms each, 800/s), the rest clients.
    service_rate: Option<f64>,
    /// A built-in preset's scenario instead (the other settings unused).
    preset: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "heartbeat 5 nodes, 10 ms",
        nodes: 5,
        interval_ms: 10.0,
        timeout_ms: 35.0,
        warmup_ms: 1_000.0,
        run_ms: 200_000.0,
        swim_period_ms: None,
        service_rate: None,
        preset: None,
    },
    Case {
        name: "heartbeat 100 nodes, 100 ms",
        nodes: 100,
        interval_ms: 100.0,
        timeout_ms: 350.0,
        warmup_ms: 1_000.0,
        run_ms: 10_000.0,
        swim_period_ms: None,
        service_rate: None,
        preset: None,
    },
    Case {
        name: "heartbeat 1000 nodes, 1 s",
        nodes: 1_000,
        interval_ms: 1_000.0,
        timeout_ms: 3_000.0,
        warmup_ms: 2_000.0,
        run_ms: 4_000.0,
        swim_period_ms: None,
        service_rate: None,
        preset: None,
    },
    Case {
        name: "heartbeat 1000 nodes, 100 ms",
        nodes: 1_000,
        interval_ms: 100.0,
        timeout_ms: 350.0,
        warmup_ms: 300.0,
        run_ms: 500.0,
        swim_period_ms: None,
        service_rate: None,
        preset: None,
    },
    Case {
        name: "swim 1000 nodes, 200 ms",
        nodes: 1_000,
        interval_ms: 0.0,
        timeout_ms: 0.0,
        warmup_ms: 1_000.0,
        run_ms: 30_000.0,
        swim_period_ms: Some(200.0),
        service_rate: None,
        preset: None,
    },
    Case {
        name: "service 10k req/s, 20 replicas",
        nodes: 29,
        interval_ms: 0.0,
        timeout_ms: 0.0,
        warmup_ms: 1_000.0,
        run_ms: 10_000.0,
        swim_period_ms: None,
        service_rate: Some(10_000.0),
        preset: None,
    },
    Case {
        name: "large-cluster preset, 10 s",
        nodes: 1_000,
        interval_ms: 0.0,
        timeout_ms: 0.0,
        warmup_ms: 0.0,
        run_ms: 10_000.0,
        swim_period_ms: None,
        service_rate: None,
        preset: Some("large-cluster"),
    },
    Case {
        name: "raft 8 nodes, checkers on",
        nodes: 8,
        interval_ms: 0.0,
        timeout_ms: 0.0,
        warmup_ms: 1_000.0,
        run_ms: 600_000.0,
        swim_period_ms: None,
        service_rate: None,
        preset: Some("raft-one-leader"),
    },
];

fn measure(case: &Case, scale: f64) -> (f64, f64) {
    let protocol = match (case.swim_period_ms, case.service_rate) {
        (_, Some(rate_per_s)) => ProtocolSpec::Service(ServiceSpec {
            replicas: 20,
            rate_per_s,
            workers: 8,
            service_ms: 10.0,
            ..ServiceSpec::default()
        }),
        (Some(period_ms), None) => ProtocolSpec::Swim(SwimSpec {
            period_ms,
            ..SwimSpec::default()
        }),
        (None, None) => ProtocolSpec::Heartbeat(HeartbeatSpec {
            detector: Default::default(),
            interval_ms: case.interval_ms,
            timeout_ms: case.timeout_ms,
            probe_ms: None,
            checksum: false,
        }),
    };
    let scenario = match case.preset {
        Some(name) => (faultline::presets::find(name).expect("a preset").build)(),
        None => Scenario {
            protocol,
            ..Scenario::basic(case.nodes, 1)
        },
    };
    let mut sim = Simulation::new(scenario).expect("bench scenario is valid");
    sim.run_until_ms(case.warmup_ms).unwrap();
    let run_ms = case.run_ms * scale;
    let start = Instant::now();
    let events = sim.run_until_ms(case.warmup_ms + run_ms).unwrap();
    let wall_s = start.elapsed().as_secs_f64();
    (events as f64 / wall_s, run_ms / 1_000.0 / wall_s)
}

fn main() {
    let quick = std::env::var_os("FAULTLINE_BENCH_QUICK").is_some();
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let (runs, scale) = if quick { (1, 0.1) } else { (3, 1.0) };
    println!("{:<34} {:>16} {:>20}", "case", "events/s", "simulated s / wall s");
    for case in CASES
        .iter()
        .filter(|c| filter.as_deref().is_none_or(|f| c.name.contains(f)))
    {
        let best = (0..runs)
            .map(|_| measure(case, scale))
            .fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
        println!("{:<34} {:>14.2} M {:>19.2}x", case.name, best.0 / 1e6, best.1);
    }
}
