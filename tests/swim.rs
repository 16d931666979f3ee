//! SWIM membership through the public API: crashes declared dead everywhere within the
//! protocol's bound over many seeds, slow members that refute instead of dying, gossip
//! convergence at 1,000 members, gray-failure detection, restarts, the presets' points
//! and determinism.

mod common;

use common::*;
use faultline::presets;
use faultline::protocol::swim::{GraySpec, SwimSpec};
use faultline::scenario::{LatencySpec, NetworkSpec, ProtocolSpec, ScheduledFault};
use faultline::{Fault, Scenario, Simulation};

const PERIOD_MS: f64 = 200.0;
/// Largest one-way latency of the default network (uniform 5–25 ms).
const MAX_LATENCY_MS: f64 = 25.0;

fn swim(nodes: u32, seed: u64, spec: SwimSpec) -> Scenario {
    Scenario {
        protocol: ProtocolSpec::Swim(spec),
        ..cluster(nodes, seed)
    }
}

/// The suspicion timeout the default spec gives `n` members: 5 periods × max(1, log10 n).
fn suspicion_ms(n: u32) -> f64 {
    5.0 * PERIOD_MS * (n as f64).log10().max(1.0)
}

/// The state member `by` holds `of` in ("alive", "suspected", "dead").
fn state(sim: &Simulation, by: u32, of: u32) -> &'static str {
    let view = sim.node_view(by).unwrap();
    view.peers.iter().find(|p| p.id == of).expect("a peer").state
}

fn check_detail(sim: &Simulation, id: &str) -> (bool, String) {
    let c = sim.checks().into_iter().find(|c| c.id == id).expect("a check");
    (c.holds, c.detail)
}

/// Runs until every live member holds `victim` dead (polling every `step_ms`) or `limit_ms`
/// passes; returns when the first and the last member did, after `crash_ms`.
fn detection(sim: &mut Simulation, victim: u32, crash_ms: f64, step_ms: f64, limit_ms: f64) -> (f64, f64) {
    let n = sim.snapshot().nodes;
    let mut t = crash_ms;
    let mut first = None;
    let observers: Vec<u32> = (0..n).filter(|&m| m != victim).collect();
    let mut declared = vec![false; n as usize];
    while t < crash_ms + limit_ms {
        t += step_ms;
        sim.run_until_ms(t).unwrap();
        for &m in &observers {
            if !declared[m as usize] && state(sim, m, victim) == "dead" {
                declared[m as usize] = true;
                first.get_or_insert(t - crash_ms);
            }
        }
        if observers.iter().all(|&m| declared[m as usize]) {
            return (first.unwrap(), t - crash_ms);
        }
    }
    panic!(
        "n{victim} not declared dead by every member within {limit_ms} ms (seed {})",
        sim.scenario().seed
    );
}

/// The hard bound on every member declaring a crashed member dead, with no message loss.
/// A member probes peers round-robin over a permutation of the n ids, one per period, so it
/// probes the crashed one within 2(n − 1) periods of the crash (just probed before it,
/// last in the next round). That probe fails (direct and indirect: nobody can get an
/// ack), the member suspects it at the end of that period (+1 period) and, unless the
/// confirm reached it earlier by gossip, declares it dead when its own suspicion timeout
/// runs out (+S). Gossip only makes it sooner: expected far below (see the mean bound).
fn hard_bound_ms(n: u32) -> f64 {
    (2.0 * (n - 1) as f64 + 1.0) * PERIOD_MS + suspicion_ms(n) + 2.0 * MAX_LATENCY_MS
}

/// The expected bound from dissemination: the n − 1 members each probe a random-ish peer
/// per period, so someone probes the crashed member within ~1/(1 − 1/e) ≈ 1.6 periods on
/// average; +1 period to fail and suspect; the suspicion then spreads infection-style
/// (every message carries it, each member sends ~2 a period) in about log2(n) periods,
/// and each member confirms S after it heard (or on hearing the confirm, which follows
/// the same path S later). Mean of last ≤ (1.6 + 1 + log2 n) periods + S, plus slack.
fn mean_bound_ms(n: u32) -> f64 {
    (1.6 + 1.0 + (n as f64).log2() + 2.0) * PERIOD_MS + suspicion_ms(n)
}

#[test]
fn a_crash_is_declared_dead_by_every_live_member_within_the_bound_over_120_seeds() {
    const SEEDS: u64 = 120;
    let mut sum_last = 0.0;
    let mut worst: (f64, u64) = (0.0, 0);
    for seed in 0..SEEDS {
        let n = 5 + (seed % 8) as u32; // 5 to 12 members
        let victim = (seed * 7 % n as u64) as u32;
        let crash_ms = 2_000.0 + (seed * 37 % 1_000) as f64;
        let mut s = swim(n, seed, SwimSpec::default());
        s.faults
            .push(ScheduledFault::at(crash_ms, Fault::Crash { node: victim }));
        let mut sim = Simulation::new(s).unwrap();
        let bound = hard_bound_ms(n);
        let (first, last) = detection(&mut sim, victim, crash_ms, 10.0, bound + 10.0);
        assert!(
            first >= suspicion_ms(n),
            "seed {seed}: dead before a whole suspicion timeout"
        );
        assert!(last <= bound, "seed {seed}: {last} ms > bound {bound} ms");
        sum_last += last / mean_bound_ms(n);
        if last > worst.0 {
            worst = (last, seed);
        }
        let (ok, detail) = check_detail(&sim, "false_dead");
        assert!(ok, "seed {seed}: {detail}");
    }
    let mean_ratio = sum_last / SEEDS as f64;
    println!(
        "mean last detection / expected bound = {mean_ratio:.2}; worst {} ms (seed {})",
        worst.0, worst.1
    );
    assert!(
        mean_ratio < 1.0,
        "on average the gossip beats the expected bound: {mean_ratio}"
    );
}

/// Pauses (or slows) a member; it must be suspected in most runs, refute, and never die.
fn survives(fault: Fault, duration_ms: Option<f64>, seeds: u64, n: u32) -> (u64, u64) {
    let mut suspected_runs = 0;
    for seed in 0..seeds {
        let target = (seed * 5 % n as u64) as u32;
        let at_ms = 2_000.0 + (seed * 53 % 1_000) as f64;
        let mut s = swim(n, seed, SwimSpec::default());
        let fault = match fault.clone() {
            Fault::Pause { duration_ms, .. } => Fault::Pause {
                node: target,
                duration_ms,
            },
            Fault::Slow { delay, .. } => Fault::Slow { node: target, delay },
            other => other,
        };
        s.faults.push(ScheduledFault {
            duration_ms,
            ..ScheduledFault::at(at_ms, fault)
        });
        let mut sim = Simulation::new(s).unwrap();
        let mut suspected = false;
        let mut t = at_ms;
        while t < at_ms + 8_000.0 {
            t += 20.0;
            sim.run_until_ms(t).unwrap();
            suspected |= (0..n).any(|m| m != target && sim.engine().suspects(m, target));
        }
        let (ok, detail) = check_detail(&sim, "false_dead");
        assert!(ok, "seed {seed}: a slow member was declared dead: {detail}");
        for m in (0..n).filter(|&m| m != target) {
            assert_eq!(state(&sim, m, target), "alive", "seed {seed}: n{m}'s view of n{target}");
        }
        let incarnation = number(&sim, target, "incarnation");
        if suspected {
            suspected_runs += 1;
            assert!(incarnation >= 1, "seed {seed}: suspected but never refuted");
        }
    }
    (suspected_runs, seeds)
}

#[test]
fn a_paused_member_is_suspected_refutes_and_stays_over_100_seeds() {
    let pause = Fault::Pause {
        node: 0,
        duration_ms: 600.0,
    };
    let (suspected, seeds) = survives(pause, None, 100, 8);
    println!("suspected in {suspected}/{seeds} runs");
    assert!(
        suspected * 10 >= seeds * 8,
        "a 600 ms pause is noticed in most runs: {suspected}/{seeds}"
    );
}

#[test]
fn a_slow_member_is_suspected_refutes_and_stays_over_100_seeds() {
    let slow = Fault::Slow {
        node: 0,
        delay: LatencySpec::Constant { ms: 30.0 },
    };
    let (suspected, seeds) = survives(slow, Some(2_000.0), 100, 8);
    println!("suspected in {suspected}/{seeds} runs");
    assert!(
        suspected * 10 >= seeds * 3,
        "a slow member is often suspected: {suspected}/{seeds}"
    );
}

#[test]
fn gossip_converges_at_a_thousand_members() {
    const N: u32 = 1_000;
    let crash_ms = 3_000.0;
    let mut s = swim(N, 7, SwimSpec::default());
    s.faults.push(ScheduledFault::at(crash_ms, Fault::Crash { node: 123 }));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(crash_ms).unwrap();
    // Dissemination bound: someone probes n123 within 10 periods (missed by all n − 1
    // members for 10 periods: e^−10), +1 period to suspect, + S, + 2·log2(n) periods for
    // the suspicion and then the confirm to reach everyone infection-style.
    let bound = (10.0 + 1.0 + 2.0 * (N as f64).log2()) * PERIOD_MS + suspicion_ms(N);
    let mut t = crash_ms;
    let all_dead = |sim: &Simulation| (0..N).filter(|&m| m != 123).all(|m| sim.engine().suspects(m, 123));
    while t < crash_ms + bound && !(all_dead(&sim) && check_detail(&sim, "membership_agreement").1.starts_with("0 ")) {
        t += 50.0;
        sim.run_until_ms(t).unwrap();
    }
    let (_, detail) = check_detail(&sim, "dead_detected");
    println!("{detail}; at {} ms after the crash", t - crash_ms);
    assert!(detail.starts_with("first/last member declared n123 dead"), "{detail}");
    assert!(t - crash_ms <= bound, "{detail}; bound {bound} ms");
    assert!(check_detail(&sim, "false_dead").0);
    assert_eq!(figure(&sim, "false_deaths"), 0.0);
}

/// (false deaths, mean time until the last member declared the crash dead) over `seeds`
/// runs of 32 members on a network losing `loss` of all messages; n5 crashes at 10 s.
fn lossy(loss: f64, suspicion_max_mult: f64, seeds: u64) -> (u64, f64) {
    let (mut deaths, mut last_sum) = (0, 0.0);
    for seed in 0..seeds {
        let mut s = swim(
            32,
            seed,
            SwimSpec {
                suspicion_max_mult,
                ..SwimSpec::default()
            },
        );
        s.network = NetworkSpec {
            loss,
            ..NetworkSpec::default()
        };
        s.faults.push(ScheduledFault::at(10_000.0, Fault::Crash { node: 5 }));
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until_ms(25_000.0).unwrap();
        let false_dead = sim.checks().into_iter().find(|c| c.id == "false_dead").unwrap();
        deaths += false_dead.violations;
        // The one crash's figure: ms until every live member declared n5 dead.
        let figures = sim.figures();
        let detections: Vec<f64> = figures
            .iter()
            .filter(|f| f.id == "detection_ms")
            .map(|f| f.value)
            .collect();
        assert!(
            detections.len() == 1 && detections[0].is_finite(),
            "seed {seed}: {figures:?}"
        );
        last_sum += detections[0];
    }
    (deaths, last_sum / seeds as f64)
}

/// The trade-off curve: the paper's fixed suspicion timeout against Lifeguard's dynamic one
/// (6× the timeout for a lone accusation, down to 1× once 3 others confirm). Message loss
/// makes lone false accusations; a real crash is confirmed by every prober at once.
#[test]
fn on_a_lossy_network_dynamic_suspicion_has_far_fewer_false_deaths_at_the_same_detection_time() {
    const SEEDS: u64 = 30;
    let (fixed_deaths, fixed_ms) = lossy(0.2, 1.0, SEEDS);
    let (dynamic_deaths, dynamic_ms) = lossy(0.2, 6.0, SEEDS);
    println!("fixed: {fixed_deaths} false deaths, {fixed_ms:.0} ms; dynamic: {dynamic_deaths}, {dynamic_ms:.0} ms");
    assert!(
        dynamic_deaths * 5 < fixed_deaths,
        "dynamic suspicion: {dynamic_deaths} false deaths, fixed: {fixed_deaths}"
    );
    assert!(
        dynamic_ms < fixed_ms * 1.15,
        "detection barely slower: {dynamic_ms:.0} ms against {fixed_ms:.0} ms"
    );
}

fn gray_scenario(seed: u64, fail: f64, slow_ms: f64) -> Scenario {
    let mut s = swim(
        8,
        seed,
        SwimSpec {
            gray: Some(GraySpec::default()),
            ..SwimSpec::default()
        },
    );
    s.faults
        .push(ScheduledFault::at(2_000.0, Fault::Gray { node: 2, fail, slow_ms }));
    s
}

/// Members (other than `node`) whose "gray suspected" set holds `node`.
fn flaggers(sim: &Simulation, node: u32) -> usize {
    (0..8)
        .filter(|&m| m != node)
        .filter(|&m| node_set(sim, m, "gray suspected").contains(&node))
        .count()
}

#[test]
fn a_gray_member_passes_shallow_checks_but_deep_and_differential_checks_flag_it() {
    for (fail, slow_ms) in [(0.8, 0.0), (0.0, 300.0)] {
        for seed in 0..10 {
            let mut sim = Simulation::new(gray_scenario(seed, fail, slow_ms)).unwrap();
            sim.run_until_ms(1_900.0).unwrap();
            assert_eq!(flaggers(&sim, 2), 0, "seed {seed}: flagged before it went gray");
            sim.run_until_ms(12_000.0).unwrap();
            // Shallow: every ping answered, nobody suspects it.
            for m in (0..8).filter(|&m| m != 2) {
                assert!(!sim.engine().suspects(m, 2), "seed {seed}: n{m} suspects n2");
            }
            // Deep + differential: most members flag it; nobody flags a healthy member.
            let flagged = flaggers(&sim, 2);
            assert!(
                flagged >= 5,
                "seed {seed}, fail {fail}, +{slow_ms} ms: only {flagged}/7 flag n2"
            );
            for other in (0..8).filter(|&x| x != 2) {
                assert_eq!(flaggers(&sim, other), 0, "seed {seed}: healthy n{other} flagged");
            }
            let (_, detail) = check_detail(&sim, "gray_flagged");
            assert!(detail.starts_with("flagged gray: n2 by"), "{detail}");
        }
    }
}

#[test]
fn a_lossy_network_is_not_a_gray_failure() {
    for seed in 0..20 {
        let mut s = gray_scenario(seed, 0.0, 0.0);
        s.faults.clear();
        s.network = NetworkSpec {
            loss: 0.1,
            ..NetworkSpec::default()
        };
        let mut sim = Simulation::new(s).unwrap();
        for t in 1..=15 {
            sim.run_until_ms(t as f64 * 2_000.0).unwrap();
            for x in 0..8 {
                assert_eq!(flaggers(&sim, x), 0, "seed {seed}: n{x} flagged at {t} × 2 s");
            }
        }
    }
}

#[test]
fn without_deep_checks_a_gray_member_is_invisible() {
    let mut s = gray_scenario(1, 0.8, 0.0);
    s.protocol = ProtocolSpec::Swim(SwimSpec::default());
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(12_000.0).unwrap();
    assert!((0..8).all(|m| !sim.engine().suspects(m, 2)));
    assert!(sim
        .node_view(0)
        .unwrap()
        .facts
        .iter()
        .all(|f| f.label != "gray suspected"));
    let (_, detail) = check_detail(&sim, "gray_flagged");
    assert!(detail.starts_with("no member"), "{detail}");
}

#[test]
fn a_restarted_member_rejoins_at_a_higher_incarnation() {
    let mut s = swim(6, 3, SwimSpec::default());
    s.faults
        .push(ScheduledFault::lasting(1_000.0, Fault::Crash { node: 4 }, 4_000.0));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(4_900.0).unwrap();
    assert!((0..4).all(|m| state(&sim, m, 4) == "dead"));
    sim.run_until_ms(8_000.0).unwrap();
    assert_eq!(number(&sim, 4, "incarnation"), 1, "durable incarnation + 1");
    for m in 0..4 {
        assert_eq!(state(&sim, m, 4), "alive", "n{m} took the higher incarnation's alive");
    }
    assert!(check_detail(&sim, "false_dead").0);
}

#[test]
fn the_spec_is_validated_field_by_field() {
    let bad = |json: &str| Scenario::from_json(json).unwrap_err();
    let e = bad(r#"{"nodes": 5, "protocol": {"kind": "swim", "period_ms": 100, "ping_timeout_ms": 100}}"#);
    assert_eq!(e.field, "protocol.ping_timeout_ms");
    let e = bad(r#"{"nodes": 5, "protocol": {"kind": "swim", "piggyback_limit": 0}}"#);
    assert_eq!(e.field, "protocol.piggyback_limit");
    let e = bad(r#"{"nodes": 5, "protocol": {"kind": "swim", "suspicion_max_mult": 0.5}}"#);
    assert_eq!(e.field, "protocol.suspicion_max_mult");
    let e = bad(r#"{"nodes": 5, "protocol": {"kind": "swim", "gray": {"observers": 0}}}"#);
    assert_eq!(e.field, "protocol.gray.observers");
    let e = bad(r#"{"nodes": 2000, "protocol": {"kind": "swim", "gray": {}}}"#);
    assert!(e.field.starts_with("protocol.gray"), "{e}");
    let e = bad(r#"{"nodes": 5, "protocol": {"kind": "swim", "perod_ms": 100}}"#);
    assert!(e.problem.contains("perod_ms"), "{e}");
    let ok = Scenario::from_json(r#"{"nodes": 5, "protocol": {"kind": "swim"}}"#).unwrap();
    assert_eq!(ok.protocol, ProtocolSpec::Swim(SwimSpec::default()));
    assert_eq!(Scenario::from_json(&ok.to_json()).unwrap(), ok);
}

#[test]
fn swim_traffic_has_its_own_message_kinds() {
    let s = gray_scenario(1, 0.0, 0.0);
    let (_, events) = full_trace(s, 3_000.0);
    let mut names: Vec<&str> = events.iter().map(|e| e.msg).filter(|m| !m.is_empty()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["ack", "deep-answer", "deep-probe", "ping"]);
}

#[test]
fn the_swim_presets_make_their_point() {
    let mut sim = Simulation::new((presets::find("swim-at-scale").unwrap().build)()).unwrap();
    sim.run_until_ms(12_000.0).unwrap();
    let summary = sim.check_summary();
    for node in [42, 300] {
        let line = format!("detection: first/last member declared n{node} dead after");
        assert!(summary.iter().any(|l| l.starts_with(&line)), "{summary:?}");
    }
    assert_eq!(figure(&sim, "false_deaths"), 0.0, "{summary:?}");
    assert!(number(&sim, 7, "incarnation") >= 1, "n7 refuted");
    assert!((0..500).filter(|&m| m != 7).all(|m| !sim.engine().suspects(m, 7)));

    let mut sim = Simulation::new((presets::find("gray-healthy-on-paper").unwrap().build)()).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    assert!((0..8).all(|m| !sim.engine().suspects(m, 2)), "healthy on paper");
    assert!(flaggers(&sim, 2) >= 5, "caught by the deep checks within 6 s");
}

#[test]
fn swim_runs_are_deterministic() {
    let build = |seed| {
        let mut s = gray_scenario(seed, 0.5, 50.0);
        s.faults.push(ScheduledFault::at(3_000.0, Fault::Crash { node: 5 }));
        s
    };
    assert_eq!(hash_of(build(9), 10_000.0), hash_of(build(9), 10_000.0));
    assert_ne!(hash_of(build(9), 10_000.0), hash_of(build(10), 10_000.0));
}

#[test]
fn members_declared_dead_across_a_partition_rejoin_when_it_heals() {
    for seed in 0..10 {
        let mut s = swim(20, seed, SwimSpec::default());
        let side: Vec<u32> = (15..20).collect();
        s.faults.push(ScheduledFault::lasting(
            2_000.0,
            Fault::Partition { groups: vec![side] },
            6_000.0,
        ));
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until_ms(7_900.0).unwrap();
        assert_eq!(
            state(&sim, 0, 17),
            "dead",
            "seed {seed}: declared dead across the partition"
        );
        assert_eq!(state(&sim, 17, 0), "dead", "seed {seed}: and the other way");
        sim.run_until_ms(20_000.0).unwrap();
        let (_, detail) = check_detail(&sim, "membership_agreement");
        assert!(detail.starts_with("0 live members"), "seed {seed}: {detail}");
        assert!((0..20).all(|m| (0..20).all(|x| m == x || !sim.engine().suspects(m, x))));
    }
}
