//! Timing models (`src/timing.rs`): a synchronous network keeps every delay within Δ and
//! makes a fixed timeout an exact failure detector; after GST a partially synchronous one
//! does too and Raft elects within a bound; an asynchronous adversary keeps Raft from ever
//! electing while every safety property holds (FLP), and condemns a live node under any
//! timeout. Safety properties are violated at a moment; liveness ones only pend.

mod common;

use common::{check, preset};

use faultline::checks::Property;
use faultline::scenario::{LatencySpec, TimingSpec};
use faultline::{Fault, Scenario, Simulation};

const DELTA_US: u64 = 30_000;

fn run(s: Scenario, until_ms: f64) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim
}

fn safety_never_violated(sim: &Simulation) -> bool {
    (sim.checks().iter())
        .filter(|c| c.property == Property::Safety)
        .all(|c| c.first_violation_ms.is_none())
}

fn partially_synchronous(gst_ms: f64) -> TimingSpec {
    TimingSpec::PartiallySynchronous {
        delta_ms: 30.0,
        gst_ms,
        cap_ms: 1_000.0,
        slowed: None,
    }
}

#[test]
fn synchronous_delays_stay_within_delta_and_a_fixed_timeout_is_exact() {
    // interval 100 ms + Δ 30 ms + timeout 150 ms, plus the checker's 10 ms look.
    let bound_ms = 100.0 + 30.0 + 150.0 + 10.0;
    let mut slowest_ms: f64 = 0.0;
    for seed in 0..200 {
        let mut s = preset("synchronous-detection");
        s.seed = seed;
        let sim = run(s, 6_000.0);
        let delay = sim.engine().counters().max_bounded_delay_us;
        assert!(delay > 0 && delay <= DELTA_US, "seed {seed}: a delay of {delay} µs");
        let accuracy = check(&sim, "strong_accuracy");
        assert_eq!(accuracy.first_violation_ms, None, "seed {seed}: {}", accuracy.detail);
        let complete = check(&sim, "strong_completeness");
        let detected_ms = complete.satisfied_since_ms.expect("the crash is detected") - 3_000.0;
        assert!(
            (0.0..=bound_ms).contains(&detected_ms),
            "seed {seed}: detected after {detected_ms} ms"
        );
        slowest_ms = slowest_ms.max(detected_ms);
    }
    eprintln!("synchronous: every crash detected within {slowest_ms:.1} ms (bound {bound_ms} ms)");
}

#[test]
fn the_same_timeout_condemns_a_live_node_before_gst() {
    let mut s = preset("synchronous-detection");
    s.network.timing = partially_synchronous(10_000.0);
    let sim = run(s, 9_000.0);
    let accuracy = check(&sim, "strong_accuracy");
    assert!(accuracy.first_violation_ms.is_some(), "{}", accuracy.detail);
    assert!(accuracy.detail.contains("suspected n5"), "{}", accuracy.detail);
}

#[test]
fn after_gst_delays_are_bounded_and_raft_elects_within_a_bound() {
    let (gst_ms, bound_ms) = (5_000.0, 2_500.0);
    let mut slowest_ms: f64 = 0.0;
    for seed in 0..100 {
        let mut s = preset("flp-in-action");
        s.seed = seed;
        s.network.timing = partially_synchronous(gst_ms);
        let sim = run(s, gst_ms + bound_ms + 500.0);
        assert!(sim.engine().counters().max_bounded_delay_us <= DELTA_US);
        let leader = check(&sim, "leader_elected");
        let elected_ms = leader.satisfied_since_ms.expect("a leader after GST") - gst_ms;
        assert!(elected_ms <= bound_ms, "seed {seed}: elected {elected_ms} ms after GST");
        assert!(safety_never_violated(&sim), "seed {seed}");
        slowest_ms = slowest_ms.max(elected_ms);
    }
    eprintln!("partially synchronous: a leader at most {slowest_ms:.0} ms after GST (bound {bound_ms} ms)");
}

#[test]
fn under_the_asynchronous_adversary_raft_stays_safe_and_never_elects() {
    let seeds = 100;
    let mut leaderless = 0;
    for seed in 0..seeds {
        let mut s = preset("flp-in-action");
        s.seed = seed;
        let sim = run(s, 60_000.0);
        assert!(safety_never_violated(&sim), "seed {seed}");
        let leader = check(&sim, "leader_elected");
        assert_eq!(leader.property, Property::Liveness);
        assert!(
            leader.holds && !leader.guaranteed,
            "liveness pends, never fails, and is not promised"
        );
        if leader.satisfied_since_ms.is_none() {
            leaderless += 1;
        }
    }
    eprintln!("asynchronous: no leader in 60 s in {leaderless} of {seeds} seeds");
    assert_eq!(
        leaderless, seeds,
        "the adversary holds every granted vote past every timeout"
    );
}

#[test]
fn without_the_adversary_the_same_cluster_elects() {
    let mut s = preset("flp-in-action");
    s.network.timing = TimingSpec::Probabilistic;
    let sim = run(s, 5_000.0);
    let leader = check(&sim, "leader_elected");
    assert!(
        leader.satisfied_since_ms.is_some() && leader.guaranteed,
        "{}",
        leader.detail
    );
}

#[test]
fn the_adversary_condemns_a_live_node_whatever_the_detector() {
    let adversarial = preset("adversary-vs-detector");
    let mut sim = run(adversarial.clone(), 30_000.0);
    let by_half_minute = check(&sim, "strong_accuracy").violations;
    sim.run_until_ms(60_000.0).unwrap();
    let phi = check(&sim, "strong_accuracy");
    assert!(phi.first_violation_ms.is_some(), "phi accrual: {}", phi.detail);
    // It keeps happening: new false suspicions after half a minute, not just while learning.
    assert!(phi.detail.contains("suspected n5"), "{}", phi.detail);
    assert!(
        phi.violations > by_half_minute,
        "phi learnt the rhythm: {} violations by 30 s, {} by 60 s",
        by_half_minute,
        phi.violations
    );

    let mut fixed = adversarial.clone();
    fixed.protocol = common::with_heartbeat(Scenario::basic(6, 1), 100.0, 250.0).protocol;
    assert!(check(&run(fixed, 20_000.0), "strong_accuracy")
        .first_violation_ms
        .is_some());

    let mut calm = adversarial;
    calm.network.timing = TimingSpec::Probabilistic;
    let calm = check(&run(calm, 60_000.0), "strong_accuracy");
    assert_eq!(calm.first_violation_ms, None, "without the adversary: {}", calm.detail);
}

#[test]
fn stabilise_brings_gst_forward_and_is_refused_where_there_is_no_gst() {
    let mut s = preset("flp-in-action");
    s.network.timing = partially_synchronous(1_000_000.0);
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(4_000.0).unwrap();
    assert_eq!(check(&sim, "leader_elected").satisfied_since_ms, None);
    sim.inject(Fault::Stabilise, None).unwrap();
    sim.run_until_ms(7_000.0).unwrap();
    let leader = check(&sim, "leader_elected");
    assert!(
        leader.satisfied_since_ms.is_some_and(|t| t > 4_000.0),
        "{}",
        leader.detail
    );
    assert!(leader.guaranteed);

    let mut plain = Simulation::new(preset("raft-one-leader")).unwrap();
    let err = plain.inject(Fault::Stabilise, None).unwrap_err();
    assert!(err.problem.contains("partially synchronous"), "{err}");
}

#[test]
fn a_synchronous_network_refuses_a_latency_that_can_exceed_delta() {
    let mut s = preset("synchronous-detection");
    s.network.latency = LatencySpec::Normal {
        mean_ms: 10.0,
        std_ms: 5.0,
    };
    let err = s.validate().unwrap_err();
    assert_eq!(err.field, "network.timing.delta_ms", "{err}");
    let mut s = preset("synchronous-detection");
    s.faults.push(faultline::scenario::ScheduledFault {
        at_ms: 1.0,
        fault: Fault::Stabilise,
        duration_ms: None,
        injected: false,
    });
    assert_eq!(s.validate().unwrap_err().field, "faults[1].kind");
}

#[test]
fn old_scenarios_read_and_write_the_timing_model_unchanged() {
    let s = preset("raft-one-leader");
    assert_eq!(s.network.timing, TimingSpec::Probabilistic);
    assert!(!s.to_json().contains("timing"), "the default is left out");
    let flp = preset("flp-in-action");
    assert!(flp.to_json().contains("\"asynchronous\""));
    assert_eq!(Scenario::from_json(&flp.to_json()).unwrap(), flp);
}
