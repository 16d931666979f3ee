//! Overload: one crashed replica cascades into all of them without defences and does not
//! with shedding and breakers; naive retries amplify load and a retry budget does not;
//! bulkheads keep a noisy tenant from starving a quiet one; N+1 headroom and backpressure
//! absorb the crash too; a gray replica passes its health checks; load ramps and bursts as
//! asked; and a single replica's queue obeys Little's law.

mod common;

use common::{check, figure, number, preset};

use faultline::protocol::service::{Pattern, RetryPolicy, ServiceSpec};
use faultline::scenario::ProtocolSpec;
use faultline::{Fault, Scenario, Simulation};

/// The mean of series `id` over samples in [from_ms, to_ms).
fn mean_of(sim: &Simulation, id: &str, from_ms: f64, to_ms: f64) -> f64 {
    let s = sim.series().into_iter().find(|s| s.id == id).unwrap();
    let v: Vec<f64> = (s.t_ms.iter().zip(&s.values))
        .filter(|(t, v)| (from_ms..to_ms).contains(*t) && v.is_finite())
        .map(|(_, v)| *v)
        .collect();
    assert!(!v.is_empty(), "no samples of {id} in [{from_ms}, {to_ms})");
    v.iter().sum::<f64>() / v.len() as f64
}

fn run(s: Scenario, until_ms: f64) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim
}

fn spec_of(s: &mut Scenario) -> &mut ServiceSpec {
    match &mut s.protocol {
        ProtocolSpec::Service(spec) => spec,
        _ => panic!("not a service scenario"),
    }
}

/// When every replica but the first has been down at once, if ever: sampled every 50 ms.
fn all_down_at(s: Scenario, until_ms: f64) -> Option<f64> {
    let mut sim = Simulation::new(s).unwrap();
    let mut t = 50.0;
    while t <= until_ms {
        sim.run_until_ms(t).unwrap();
        let status = &sim.columns().node_status;
        if (1..=5).all(|r| status[r] == 1) {
            return Some(t);
        }
        t += 50.0;
    }
    None
}

#[test]
fn without_defences_one_crash_takes_every_replica_down_and_goodput_collapses() {
    let s = preset("cascading-failure");
    let down = all_down_at(s.clone(), 12_000.0).expect("every replica down at once");
    // Replica 1 crashes at 2 s; the other four run out of memory within 6 s.
    assert!(down < 8_000.0, "all down only at {down} ms");
    let sim = run(s, 12_000.0);
    assert!(figure(&sim, "overload_crashes") >= 4.0);
    let before = mean_of(&sim, "goodput", 1_000.0, 2_000.0);
    let after = mean_of(&sim, "goodput", 8_000.0, 12_000.0);
    assert!(before > 800.0, "goodput before {before}");
    assert!(after < 0.2 * before, "goodput after {after} vs {before} before");
    assert!(!check(&sim, "goodput").holds);
}

#[test]
fn with_shedding_and_breakers_the_same_crash_stays_contained() {
    for name in ["circuit-breakers", "load-shedding"] {
        let sim = run(preset(name), 12_000.0);
        assert_eq!(figure(&sim, "overload_crashes"), 0.0, "{name}");
        assert!(check(&sim, "overload_crashes").holds);
        // Four warm replicas serve about 4 × 200 = 800/s: goodput keeps 85% of that.
        let capacity = 4.0 * 4.0 * 1_000.0 / 20.0;
        let goodput = mean_of(&sim, "goodput", 4_000.0, 12_000.0);
        assert!(goodput > 0.85 * capacity, "{name}: goodput {goodput} of {capacity}");
    }
    // Without health checks, the breaker is what takes the dead replica out of rotation.
    let sim = run(preset("circuit-breakers"), 12_000.0);
    let open = mean_of(&sim, "open_breakers", 3_500.0, 11_500.0);
    assert!(open > 0.9, "breakers open on average {open}");
}

#[test]
fn naive_retries_amplify_load_and_a_budget_with_backoff_does_not() {
    let naive = run(preset("retry-storm"), 10_000.0);
    let amplification = figure(&naive, "retry_amplification");
    assert!(amplification > 2.0, "naive amplification {amplification}");
    let naive_crashes = figure(&naive, "overload_crashes");
    assert!(naive_crashes >= 5.0, "{naive_crashes} crashes");
    assert!(
        mean_of(&naive, "goodput", 6_000.0, 10_000.0) < 200.0,
        "the storm outlives its trigger"
    );

    let mut s = preset("retry-storm");
    let spec = spec_of(&mut s);
    spec.retry = RetryPolicy::Backoff;
    spec.budget = Some(0.1);
    let budget = run(s, 10_000.0);
    let amplification = figure(&budget, "retry_amplification");
    assert!(amplification < 1.15, "budgeted amplification {amplification}");
    // The stalled replicas may still choke on the backlog they wake to, but no storm follows.
    let crashes = figure(&budget, "overload_crashes");
    assert!(crashes * 3.0 < naive_crashes, "{crashes} crashes vs {naive_crashes}");
    // It finds its feet once the pause is over.
    assert!(mean_of(&budget, "goodput", 6_000.0, 10_000.0) > 550.0);
}

#[test]
fn bulkheads_keep_the_quiet_tenant_served() {
    let with = run(preset("bulkheads"), 8_000.0);
    let quiet_before = mean_of(&with, "goodput_tenant_0", 1_000.0, 2_000.0);
    let quiet_during = mean_of(&with, "goodput_tenant_0", 3_000.0, 8_000.0);
    assert!(quiet_during > 0.9 * quiet_before, "{quiet_during} vs {quiet_before}");
    assert_eq!(figure(&with, "overload_crashes"), 0.0);

    let mut s = preset("bulkheads");
    spec_of(&mut s).bulkheads = false;
    let without = run(s, 8_000.0);
    let quiet_without = mean_of(&without, "goodput_tenant_0", 4_000.0, 8_000.0);
    assert!(quiet_without < 0.5 * quiet_before, "{quiet_without} vs {quiet_before}");
    assert!(figure(&without, "overload_crashes") > 0.0);
}

#[test]
fn a_gray_replica_passes_health_checks_and_a_breaker_catches_it() {
    let sim = run(preset("gray-health-check"), 8_000.0);
    let errors = mean_of(&sim, "errors", 4_000.0, 8_000.0);
    // About a fifth of 600/s go to replica 2 and time out (then once more on retry).
    assert!(errors > 80.0, "errors {errors}/s");
    let view = sim.node_view(0).unwrap();
    let replicas = view.facts.iter().find(|f| f.label == "replicas").unwrap();
    assert!(
        replicas.value.contains("2: ") && !replicas.value.contains("ejected"),
        "{}",
        replicas.value
    );

    let mut s = preset("gray-health-check");
    spec_of(&mut s).breaker = Some(Default::default());
    let caught = run(s, 8_000.0);
    let errors = mean_of(&caught, "errors", 4_000.0, 8_000.0);
    assert!(errors < 30.0, "errors with a breaker {errors}/s");
}

#[test]
fn a_replica_queue_obeys_littles_law() {
    // One replica at 70% utilisation, no faults: L = λW in steady state.
    let mut s = Scenario::basic(3, 5);
    s.protocol = ProtocolSpec::Service(ServiceSpec {
        replicas: 1,
        rate_per_s: 140.0,
        workers: 1,
        service_ms: 5.0,
        queue_limit: 100_000,
        health_check_ms: None,
        timeout_ms: 60_000.0,
        ..ServiceSpec::default()
    });
    let mut sim = Simulation::new(s).unwrap();
    // Served so far, and the mean time inside in ms.
    let stats = |sim: &Simulation| {
        let served = number(sim, 1, "served") as f64;
        (served, number(sim, 1, "time inside, µs") as f64 / served / 1_000.0)
    };
    sim.run_until_ms(5_000.0).unwrap();
    let (served_0, _) = stats(&sim);
    // Time-averaged number inside, sampled every millisecond.
    let (mut area, mut samples) = (0.0, 0);
    let mut t = 5_000.0;
    while t < 65_000.0 {
        t += 1.0;
        sim.run_until_ms(t).unwrap();
        let c = sim.columns();
        area += c.node_queue[1] as f64 + c.node_load[1] as f64;
        samples += 1;
    }
    let l = area / samples as f64;
    let (served_1, mean_inside) = stats(&sim);
    let lambda = (served_1 - served_0) / 60.0;
    let w_ms = mean_inside;
    let little = lambda * w_ms / 1_000.0;
    eprintln!("Little's law: L = {l:.3}, λ = {lambda:.1}/s, W = {w_ms:.2} ms, λW = {little:.3}");
    assert!((l - little).abs() < 0.1 * little, "L {l} vs λW {little}");
    // And M/M/1 at ρ = 0.7: L = ρ / (1 − ρ) ≈ 2.33, loosely.
    assert!((1.8..3.0).contains(&l), "L {l}");
}

#[test]
fn a_scheduled_crash_of_a_replica_that_died_of_overload_is_skipped_not_fatal() {
    let mut s = preset("cascading-failure");
    // Replica 3 will have died of overload by 9 s; the schedule still asks to crash it.
    s.faults.push(faultline::scenario::ScheduledFault::at(
        9_000.0,
        Fault::Crash { node: 3 },
    ));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(12_000.0).unwrap();
    let skipped = sim.skipped_faults();
    assert!(
        skipped
            .iter()
            .any(|n| n.contains("crash n3") && n.contains("already crashed")),
        "{skipped:?}"
    );
}

#[test]
fn same_seed_same_trace_and_bad_parameters_are_named() {
    let hash = |seed| {
        let mut s = preset("circuit-breakers");
        s.seed = seed;
        run(s, 5_000.0).trace_hash()
    };
    assert_eq!(hash(3), hash(3));
    assert_ne!(hash(3), hash(4));
    let bad = |spec: ServiceSpec, nodes: u32| {
        let mut s = Scenario::basic(nodes, 1);
        s.protocol = ProtocolSpec::Service(spec);
        s.validate().unwrap_err().to_string()
    };
    let e = bad(
        ServiceSpec {
            shed_at: Some(500),
            ..ServiceSpec::default()
        },
        10,
    );
    assert!(e.contains("shed_at") && e.contains("queue_limit"), "{e}");
    assert!(bad(ServiceSpec::default(), 6).contains("nodes"));
    let e = bad(
        ServiceSpec {
            rate_per_s: -5.0,
            ..ServiceSpec::default()
        },
        10,
    );
    assert!(e.contains("rate_per_s"), "{e}");
}

#[test]
fn a_shared_backend_is_the_bottleneck() {
    // Ten replicas could serve 2,000/s, but they all wait on one backend of 4 × 5 ms = 800/s.
    let with_rate = |rate_per_s: f64| {
        let mut s = Scenario::basic(16, 2);
        s.protocol = ProtocolSpec::Service(ServiceSpec {
            replicas: 10,
            backend: true,
            rate_per_s,
            backend_workers: 4,
            backend_service_ms: 5.0,
            queue_limit: 100_000,
            ..ServiceSpec::default()
        });
        let sim = run(s, 8_000.0);
        mean_of(&sim, "goodput", 4_000.0, 8_000.0)
    };
    let under = with_rate(600.0);
    assert!(under > 550.0, "goodput {under} at 600/s");
    // Past the backend's capacity every request waits in its queue until clients give up.
    let over = with_rate(1_200.0);
    assert!(over < 400.0, "goodput {over} at 1,200/s");
}

#[test]
fn capacity_headroom_absorbs_the_crash_that_cascades_without_it() {
    // N+1: a sixth replica (and the same 900 requests/s) leaves five after the crash.
    let mut s = preset("cascading-failure");
    s.nodes += 1;
    spec_of(&mut s).replicas = 6;
    let sim = run(s, 12_000.0);
    assert_eq!(figure(&sim, "overload_crashes"), 0.0);
    assert!(mean_of(&sim, "goodput", 4_000.0, 12_000.0) > 850.0);
}

#[test]
fn backpressure_at_the_balancer_refuses_instead_of_queueing() {
    // At most 80 requests in flight: beyond that the balancer answers "busy" at once, so
    // no replica queue can reach its memory limit.
    let mut s = preset("cascading-failure");
    spec_of(&mut s).max_outstanding = Some(80);
    let sim = run(s, 12_000.0);
    assert_eq!(figure(&sim, "overload_crashes"), 0.0);
    assert!(mean_of(&sim, "queued", 4_000.0, 12_000.0) < 80.0);
    assert!(
        mean_of(&sim, "errors", 4_000.0, 12_000.0) > 10.0,
        "refusals show as errors"
    );
}

#[test]
fn load_patterns_ramp_and_burst() {
    let with = |pattern: Pattern| {
        let mut s = Scenario::basic(10, 4);
        s.protocol = ProtocolSpec::Service(ServiceSpec {
            rate_per_s: 200.0,
            pattern,
            ..ServiceSpec::default()
        });
        run(s, 6_000.0)
    };
    let ramp = with(Pattern::Ramp {
        to_per_s: 600.0,
        over_ms: 4_000.0,
    });
    let (early, late) = (
        mean_of(&ramp, "offered", 0.0, 1_000.0),
        mean_of(&ramp, "offered", 4_500.0, 6_000.0),
    );
    assert!(early < 350.0 && (500.0..700.0).contains(&late), "ramp {early} → {late}");
    let bursts = with(Pattern::Bursts {
        every_ms: 2_000.0,
        for_ms: 500.0,
        factor: 4.0,
    });
    let (burst, calm) = (
        mean_of(&bursts, "offered", 2_000.0, 2_500.0),
        mean_of(&bursts, "offered", 2_750.0, 3_750.0),
    );
    assert!(burst > 2.5 * calm, "burst {burst} vs calm {calm}");
}
