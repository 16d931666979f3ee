//! The detector trade-off experiment: how fast a detector notices a crash against how often
//! it suspects a node that is fine, on the same runs.
//!
//! One trial: six nodes whose links among 0–3 are calm (2–8 ms) while links touching 4 or 5
//! are jittery (normal, 150 ± 100 ms); after `CALM_MS` of calm, node `victim` crashes. Every
//! failure declared before the crash is a false positive (counted at its onset, sampled
//! every `SAMPLE_MS`); after it, each live observer's time to declare the victim failed is
//! the detection time. For the heartbeat detectors a declaration is a suspicion; for SWIM
//! it is "dead", after the suspicion timeout — SWIM suspects freely and lets refutation
//! undo it, so only the verdict counts. A sweep runs trials over seeds and a range of one parameter per detector (the
//! timeout, the φ threshold, …) and gives one point of the curve per parameter value.
//! Trials are pure functions of their inputs, like every run.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::fault::Fault;
use crate::scenario::{DetectorSpec, HeartbeatSpec, LatencySpec, NetworkSpec, ProtocolSpec, Scenario, ScheduledFault};
use crate::sim::Simulation;

pub const NODES: u32 = 6;
/// Simulated time before the crash, in which every suspicion is a false one.
pub const CALM_MS: f64 = 20_000.0;
/// How often suspicion is sampled before the crash, ms.
pub const SAMPLE_MS: f64 = 5.0;
/// Longest wait for detection after the crash; an observer that never suspects counts this.
pub const GIVE_UP_MS: f64 = 10_000.0;

/// Which detector a sweep varies, and what its parameter means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectorKind {
    /// Parameter: the timeout, ms.
    Fixed,
    /// Parameter: the φ threshold.
    Phi,
    /// Parameter: SWIM's suspicion timeout, ms (period 200 ms, ping timeout 60 ms).
    Swim,
}

impl DetectorKind {
    /// The protocol of a trial with this detector and parameter value.
    pub fn protocol(self, parameter: f64) -> Result<ProtocolSpec, InputError> {
        if !parameter.is_finite() || parameter <= 0.0 {
            return Err(InputError::new(
                "parameter",
                format!("must be a positive number, got {parameter}"),
            ));
        }
        let (timeout_ms, detector) = match self {
            DetectorKind::Swim => {
                return Ok(ProtocolSpec::Swim(crate::protocol::swim::SwimSpec {
                    suspicion_ms: Some(parameter),
                    ..Default::default()
                }))
            }
            DetectorKind::Fixed => (parameter, DetectorSpec::Fixed),
            DetectorKind::Phi => (
                350.0,
                DetectorSpec::Phi {
                    threshold: parameter,
                    window: 100,
                    min_std_ms: 10.0,
                    acceptable_pause_ms: 0.0,
                },
            ),
        };
        Ok(ProtocolSpec::Heartbeat(HeartbeatSpec {
            interval_ms: 100.0,
            timeout_ms,
            detector,
            probe_ms: None,
            checksum: false,
        }))
    }
}

/// The experiment's scenario for one seed (the victim is `seed mod NODES`).
pub fn experiment(protocol: ProtocolSpec, seed: u64) -> Scenario {
    mixed_links(protocol, seed, (seed % NODES as u64) as u32, CALM_MS)
}

/// Six nodes; links touching nodes 4 and 5 are jittery (normal, 150 ± 100 ms), the rest
/// calm (2–8 ms); node `victim` crashes at `crash_at_ms`. (The detector presets use it too.)
pub fn mixed_links(protocol: ProtocolSpec, seed: u64, victim: u32, crash_at_ms: f64) -> Scenario {
    let mut faults = Vec::new();
    for a in 0..NODES {
        for b in (a + 1)..NODES {
            if a >= 4 || b >= 4 {
                let jitter = LatencySpec::Normal {
                    mean_ms: 150.0,
                    std_ms: 100.0,
                };
                let link = Fault::Link {
                    from: a,
                    to: b,
                    latency: Some(jitter),
                    loss: None,
                    duplicate: None,
                    both: true,
                };
                faults.push(ScheduledFault::at(0.0, link));
            }
        }
    }
    faults.push(ScheduledFault::at(crash_at_ms, Fault::Crash { node: victim }));
    Scenario {
        name: "Detector trial".to_string(),
        about: None,
        seed,
        nodes: NODES,
        protocol,
        network: NetworkSpec {
            latency: LatencySpec::Uniform {
                min_ms: 2.0,
                max_ms: 8.0,
            },
            ..NetworkSpec::default()
        },
        faults,
        vary: None,
        exercise: None,
    }
}

/// What one trial measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Trial {
    /// Failure declarations (suspicion onsets, or SWIM deaths) among live nodes before the crash.
    pub false_suspicions: u32,
    /// Mean over live observers of the time from the crash to declaring the victim failed, ms.
    pub detection_ms: f64,
}

/// Runs one trial of `scenario` (built by `experiment`).
pub fn trial(scenario: Scenario) -> Result<Trial, InputError> {
    let victim = (scenario.seed % NODES as u64) as u32;
    let mut sim = Simulation::new(scenario)?;
    let n = NODES as usize;
    let mut was = vec![false; n * n];
    let mut false_suspicions = 0;
    let mut t = 0.0;
    while t < CALM_MS {
        t += SAMPLE_MS;
        sim.run_until_ms(t)?;
        for a in 0..NODES {
            for b in 0..NODES {
                let now = sim.engine().declares_failed(a, b);
                let i = (a * NODES + b) as usize;
                false_suspicions += (now && !was[i]) as u32;
                was[i] = now;
            }
        }
    }
    let observers: Vec<u32> = (0..NODES).filter(|&o| o != victim).collect();
    let mut detected = vec![None; n];
    while detected.iter().flatten().count() < observers.len() && t < CALM_MS + GIVE_UP_MS {
        t += 1.0;
        sim.run_until_ms(t)?;
        for &o in &observers {
            if detected[o as usize].is_none() && sim.engine().declares_failed(o, victim) {
                detected[o as usize] = Some(t - CALM_MS);
            }
        }
    }
    let total: f64 = observers
        .iter()
        .map(|&o| detected[o as usize].unwrap_or(GIVE_UP_MS))
        .sum();
    Ok(Trial {
        false_suspicions,
        detection_ms: total / observers.len() as f64,
    })
}

/// Totals over seeds `0..seeds` for one detector and parameter value: false suspicions in
/// all, and the mean detection time.
pub fn sweep_point(kind: DetectorKind, parameter: f64, seeds: u64) -> Result<(u32, f64), InputError> {
    let protocol = kind.protocol(parameter)?;
    let mut false_suspicions = 0;
    let mut detection = 0.0;
    for seed in 0..seeds {
        let t = trial(experiment(protocol.clone(), seed))?;
        false_suspicions += t.false_suspicions;
        detection += t.detection_ms;
    }
    Ok((false_suspicions, detection / seeds.max(1) as f64))
}
