//! Failure detectors compared on the same runs: the trade between detection time and
//! false suspicions, and why an adaptive detector wins when links differ.

mod common;

use common::*;
use faultline::scenario::{DetectorSpec, LatencySpec, ProtocolSpec, ScheduledFault};
use faultline::{Fault, Scenario, Simulation};

const NODES: u32 = 6;
/// Simulated time before the crash, in which every suspicion is a false one.
const CALM_MS: f64 = 20_000.0;

/// Six nodes: links among 0–3 are calm (2–8 ms), links touching 4 or 5 are jittery (normal,
/// 150 ± 100 ms). Node `victim` crashes after the calm phase. One fixed timeout must suit
/// both kinds of link; phi accrual learns each link's own spread.
fn experiment(detector: DetectorSpec, timeout_ms: f64, seed: u64, victim: u32) -> Scenario {
    let mut s = with_latency(
        cluster(NODES, seed),
        LatencySpec::Uniform {
            min_ms: 2.0,
            max_ms: 8.0,
        },
    );
    s.protocol = ProtocolSpec::Heartbeat {
        interval_ms: 100.0,
        timeout_ms,
        detector,
        probe_ms: None,
        checksum: false,
    };
    let jitter = LatencySpec::Normal {
        mean_ms: 150.0,
        std_ms: 100.0,
    };
    for a in 0..NODES {
        for b in (a + 1)..NODES {
            if a >= 4 || b >= 4 {
                let link = Fault::Link {
                    from: a,
                    to: b,
                    latency: Some(jitter.clone()),
                    loss: None,
                    duplicate: None,
                    both: true,
                };
                s.faults.push(ScheduledFault::at(0.0, link));
            }
        }
    }
    s.faults
        .push(ScheduledFault::at(CALM_MS, Fault::Crash { node: victim }));
    s
}

struct Outcome {
    false_suspicions: u32,
    detection_ms: f64,
}

/// Counts suspicion onsets among live nodes before the crash (sampled every 5 ms), then
/// the mean time until each live observer suspects the victim.
fn measure(s: Scenario, victim: u32) -> Outcome {
    let mut sim = Simulation::new(s).unwrap();
    let mut was = vec![false; (NODES * NODES) as usize];
    let mut false_suspicions = 0;
    let mut t = 0.0;
    while t < CALM_MS {
        t += 5.0;
        sim.run_until_ms(t).unwrap();
        for a in 0..NODES {
            for b in 0..NODES {
                let now = sim.engine().suspects(a, b);
                let i = (a * NODES + b) as usize;
                false_suspicions += (now && !was[i]) as u32;
                was[i] = now;
            }
        }
    }
    let observers: Vec<u32> = (0..NODES).filter(|&n| n != victim).collect();
    let mut detected = vec![None; NODES as usize];
    while detected.iter().filter(|d| d.is_some()).count() < observers.len() && t < CALM_MS + 10_000.0 {
        t += 1.0;
        sim.run_until_ms(t).unwrap();
        for &o in &observers {
            if detected[o as usize].is_none() && sim.engine().suspects(o, victim) {
                detected[o as usize] = Some(t - CALM_MS);
            }
        }
    }
    let total: f64 = observers
        .iter()
        .map(|&o| detected[o as usize].unwrap_or(10_000.0))
        .sum();
    Outcome {
        false_suspicions,
        detection_ms: total / observers.len() as f64,
    }
}

/// Totals over seeds; each seed crashes a different node.
fn sweep(detector: &DetectorSpec, timeout_ms: f64, seeds: u64) -> (u32, f64) {
    let mut fp = 0;
    let mut detection = 0.0;
    for seed in 0..seeds {
        let victim = (seed % NODES as u64) as u32;
        let o = measure(experiment(detector.clone(), timeout_ms, seed, victim), victim);
        fp += o.false_suspicions;
        detection += o.detection_ms;
    }
    (fp, detection / seeds as f64)
}

#[test]
fn at_matched_detection_time_phi_accrual_has_fewer_false_positives_than_a_fixed_timeout() {
    const SEEDS: u64 = 24;
    let phi = DetectorSpec::Phi {
        threshold: 8.0,
        window: 100,
        min_std_ms: 10.0,
        acceptable_pause_ms: 0.0,
    };
    let (phi_fp, phi_detection) = sweep(&phi, 350.0, SEEDS);
    // Find the fixed timeout with the same mean detection time (bisection).
    let (mut lo, mut hi) = (100.0, 3_000.0);
    let mut fixed = (0, 0.0);
    for _ in 0..12 {
        let mid = 0.5 * (lo + hi);
        fixed = sweep(&DetectorSpec::Fixed, mid, SEEDS);
        if fixed.1 < phi_detection {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (fixed_fp, fixed_detection) = fixed;
    println!("phi: {phi_fp} false suspicions, {phi_detection:.1} ms mean detection");
    println!(
        "fixed {:.0} ms: {fixed_fp} false suspicions, {fixed_detection:.1} ms mean detection",
        0.5 * (lo + hi)
    );
    assert!(
        (fixed_detection - phi_detection).abs() < 0.05 * phi_detection,
        "detection times must match"
    );
    assert!(
        phi_fp * 2 < fixed_fp,
        "phi accrual should have far fewer false suspicions: phi {phi_fp}, fixed {fixed_fp}"
    );
}

#[test]
fn k_missed_heartbeats_is_a_timeout_of_k_intervals() {
    let mut s = cluster(3, 1);
    s.protocol = ProtocolSpec::Heartbeat {
        interval_ms: 100.0,
        timeout_ms: 10_000.0,
        detector: DetectorSpec::MissedBeats { k: 3 },
        probe_ms: None,
        checksum: false,
    };
    s.faults.push(ScheduledFault::at(1_000.0, Fault::Crash { node: 2 }));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(1_000.0 + 300.0 + 25.0).unwrap();
    assert!(sim.engine().suspects(0, 2) && sim.engine().suspects(1, 2));
}

#[test]
fn the_inspector_shows_phi_rising_through_a_silence() {
    let mut s = cluster(3, 1);
    s.protocol = ProtocolSpec::Heartbeat {
        interval_ms: 100.0,
        timeout_ms: 350.0,
        detector: DetectorSpec::Phi {
            threshold: 8.0,
            window: 50,
            min_std_ms: 10.0,
            acceptable_pause_ms: 0.0,
        },
        probe_ms: None,
        checksum: false,
    };
    s.faults.push(ScheduledFault::at(5_000.0, Fault::Crash { node: 2 }));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(4_990.0).unwrap();
    let before = sim.node_view(0).unwrap().peers[1].phi.unwrap();
    assert!(before < 8.0, "healthy before the crash: {before}");
    let mut phis = Vec::new();
    for t in [5_150.0, 5_200.0, 5_250.0, 5_300.0] {
        sim.run_until_ms(t).unwrap();
        phis.push(sim.node_view(0).unwrap().peers[1].phi.unwrap());
    }
    assert!(phis.windows(2).all(|w| w[1] > w[0]), "{phis:?}");
    assert!(phis[3] > 8.0, "{phis:?}");
    assert!(sim.engine().suspects(0, 2));
}
