//! The lease service: a GC-paused holder past its lease corrupts unfenced storage; fencing
//! tokens and STONITH stop it; the checkers say so at the right moment; healthy runs and
//! server restarts land no stale write.

mod common;

use common::{check, figure_count, number, preset};

use faultline::protocol::lease::LeaseSpec;
use faultline::scenario::{NetworkSpec, ProtocolSpec, ScheduledFault};
use faultline::{Fault, Scenario, Simulation};

fn fact(sim: &Simulation, node: u32, label: &str) -> String {
    let view = sim.node_view(node).unwrap();
    let f = view.facts.iter().find(|f| f.label == label);
    f.unwrap_or_else(|| panic!("node {node} has no fact {label}: {:?}", view.facts))
        .value
        .clone()
}

fn with_spec(mut s: Scenario, f: impl FnOnce(&mut LeaseSpec)) -> Scenario {
    let ProtocolSpec::Lease(spec) = &mut s.protocol else {
        panic!("not a lease scenario")
    };
    f(spec);
    s
}

/// Steps `sim` 1 ms at a time to `until_ms`, returning the token of every write the
/// storage accepted, in order (as its "last accepted write" fact shows them, read from the
/// view's numbers).
fn accepted_tokens(sim: &mut Simulation, until_ms: f64) -> Vec<u64> {
    let mut tokens = Vec::new();
    let mut last = None;
    let mut t = sim.now_us() as f64 / 1_000.0;
    while t < until_ms {
        t += 1.0;
        sim.run_until_ms(t).unwrap();
        let view = sim.node_view(1).unwrap();
        let labels = ["last accepted writer", "last accepted seq", "last accepted token"];
        let [writer, seq, token] = labels.map(|l| view.number(l));
        let w = writer.zip(seq).zip(token);
        if w.is_some() && w != last {
            tokens.push(token.unwrap());
            last = w;
        }
    }
    tokens
}

#[test]
fn without_fencing_the_stale_write_lands_when_the_pause_ends_and_is_caught() {
    let mut sim = Simulation::new(preset("expired-lease")).unwrap();
    sim.run_until_ms(3_500.0).unwrap();
    // Client 2 is paused believing it holds token 1; client 3 got token 2.
    assert_eq!(fact(&sim, 2, "believes it holds"), "token 1");
    assert_eq!(fact(&sim, 3, "believes it holds"), "token 2");
    assert!(!check(&sim, "mutual_exclusion").holds, "two believers at once");
    sim.run_until_ms(4_499.0).unwrap();
    assert!(
        check(&sim, "stale_write_landed").holds,
        "nothing stale before the pause ends"
    );
    let tokens = accepted_tokens(&mut sim, 6_000.0);
    let stale = check(&sim, "stale_write_landed");
    assert!(!stale.holds);
    let first = stale.first_violation_ms.unwrap();
    assert!(
        (4_500.0..4_600.0).contains(&first),
        "caught at {first} ms, just after the wake-up"
    );
    assert!(stale.nodes.contains(&2), "{stale:?}");
    assert_eq!(figure_count(&sim, "stale_writes_landed"), 1);
    // Token 1 landed after token 2: the storage went back in time.
    let back = tokens.windows(2).any(|w| w[1] < w[0]);
    assert!(back, "accepted tokens {tokens:?}");
    assert!(
        check(&sim, "mutual_exclusion").holds,
        "client 2 woke and dropped its belief"
    );
    let series = sim.series();
    let believers = series.iter().find(|s| s.id == "lease_believers").unwrap();
    let two: Vec<f64> = (believers.t_ms.iter().zip(&believers.values))
        .filter(|(_, v)| **v >= 2.0)
        .map(|(t, _)| *t)
        .collect();
    assert!(
        two.first().is_some_and(|&t| t > 2_500.0) && two.last().is_some_and(|&t| t < 4_600.0),
        "{two:?}"
    );
}

#[test]
fn fencing_rejects_the_stale_token_and_accepted_tokens_never_go_back() {
    let mut sim = Simulation::new(preset("fencing-tokens")).unwrap();
    let tokens = accepted_tokens(&mut sim, 8_000.0);
    assert!(tokens.contains(&1) && tokens.contains(&2), "{tokens:?}");
    assert!(tokens.windows(2).all(|w| w[0] <= w[1]), "tokens went back: {tokens:?}");
    assert!(check(&sim, "stale_write_landed").holds);
    assert_eq!(figure_count(&sim, "stale_writes_rejected"), 1);
    assert_eq!(number(&sim, 2, "writes rejected"), 1);
    // Fencing does not restore mutual exclusion of beliefs: it makes it harmless.
    assert!(check(&sim, "mutual_exclusion").first_violation_ms.is_some());
}

#[test]
fn stonith_fences_the_old_holder_out_without_token_checks() {
    let mut sim = Simulation::new(preset("stonith")).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    assert!(check(&sim, "stale_write_landed").holds, "{:?}", sim.check_summary());
    assert_eq!(figure_count(&sim, "stale_writes_rejected"), 1);
    assert_eq!(fact(&sim, 1, "admitted writer"), "node 3");
    assert_eq!(number(&sim, 1, "highest token"), 2);
}

#[test]
fn stonith_waits_for_the_storage_before_handing_over() {
    let mut s = preset("stonith");
    s.faults
        .push(ScheduledFault::lasting(1_000.0, Fault::Crash { node: 1 }, 4_000.0));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(4_900.0).unwrap();
    // Client 2's lease ran out long ago, but the storage cannot confirm the fence.
    assert_eq!(fact(&sim, 0, "holder"), "none");
    assert_eq!(fact(&sim, 0, "fencing for"), "node 3");
    assert_eq!(fact(&sim, 3, "believes it holds"), "nothing");
    sim.run_until_ms(6_000.0).unwrap();
    assert_eq!(
        fact(&sim, 0, "holder"),
        "node 3",
        "handed over once the storage is back"
    );
    assert!(check(&sim, "stale_write_landed").holds);
}

#[test]
fn healthy_runs_hand_the_lease_over_and_land_no_stale_write_even_with_loss() {
    for seed in 0..40 {
        let s = Scenario {
            seed,
            nodes: 6,
            protocol: ProtocolSpec::Lease(LeaseSpec {
                hold_ms: 1_500.0,
                rest_ms: 300.0,
                fencing: seed % 3 == 1,
                stonith: seed % 3 == 2,
                ..LeaseSpec::default()
            }),
            network: NetworkSpec {
                loss: if seed % 2 == 0 { 0.0 } else { 0.05 },
                ..NetworkSpec::default()
            },
            ..Scenario::basic(6, seed)
        };
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until_ms(20_000.0).unwrap();
        let summary = sim.check_summary();
        assert!(check(&sim, "stale_write_landed").holds, "seed {seed}: {summary:?}");
        assert!(
            check(&sim, "mutual_exclusion").first_violation_ms.is_none(),
            "seed {seed}: {summary:?}"
        );
        let tokens = number(&sim, 0, "last token (durable)");
        assert!(tokens >= 8, "seed {seed}: the lease changed hands only {tokens} times");
        let writes = number(&sim, 1, "writes accepted");
        assert!(writes > 100, "seed {seed}: {writes} writes");
    }
}

#[test]
fn a_restarted_server_never_reuses_a_token_and_waits_out_old_leases() {
    // No pause, no fencing: the server crashes while client 2 holds the lease and client 3
    // keeps asking. Granting at once after the reboot would make two holders.
    for seed in 0..20 {
        let mut s = with_spec(preset("expired-lease"), |spec| spec.hold_ms = 2_000.0);
        s.seed = seed;
        s.faults = vec![ScheduledFault::lasting(1_500.0, Fault::Crash { node: 0 }, 100.0)];
        let mut sim = Simulation::new(s).unwrap();
        sim.run_until_ms(1_499.0).unwrap();
        let before = number(&sim, 0, "last token (durable)");
        sim.run_until_ms(2_000.0).unwrap();
        assert_eq!(
            fact(&sim, 0, "holder"),
            "none",
            "seed {seed}: a rebooted server grants nothing for one lease"
        );
        sim.run_until_ms(10_000.0).unwrap();
        let after = number(&sim, 0, "last token (durable)");
        assert!(after > before + 1, "seed {seed}: tokens {before} → {after}");
        let summary = sim.check_summary();
        assert!(check(&sim, "stale_write_landed").holds, "seed {seed}: {summary:?}");
        assert!(
            check(&sim, "mutual_exclusion").first_violation_ms.is_none(),
            "seed {seed}: {summary:?}"
        );
    }
}

#[test]
fn a_slow_client_clock_breaks_mutual_exclusion_of_beliefs() {
    // Client 2's clock runs at half speed: it believes its lease for twice as long.
    let mut s = with_spec(preset("expired-lease"), |spec| spec.fencing = true);
    s.faults = vec![
        ScheduledFault::at(
            1_000.0,
            Fault::ClockDrift {
                node: 2,
                drift_ppm: -500_000,
            },
        ),
        ScheduledFault::lasting(2_000.0, Fault::Isolate { node: 2 }, 3_000.0),
    ];
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(8_000.0).unwrap();
    let excl = check(&sim, "mutual_exclusion");
    assert!(excl.first_violation_ms.is_some(), "{excl:?}");
    assert!(
        check(&sim, "stale_write_landed").holds,
        "fencing still guards the storage"
    );
}

#[test]
fn validation_says_what_is_wrong() {
    let e = Scenario::from_json(r#"{"nodes": 2, "protocol": {"kind": "lease"}}"#).unwrap_err();
    assert!(e.problem.contains("at least 3 nodes"), "{e}");
    assert_eq!(e.field, "nodes");
    let e = Scenario::from_json(r#"{"nodes": 4, "protocol": {"kind": "lease", "margin_ms": 1000}}"#).unwrap_err();
    assert_eq!(e.field, "protocol.margin_ms");
    let e = Scenario::from_json(r#"{"nodes": 4, "protocol": {"kind": "lease", "lease_ms": -1}}"#).unwrap_err();
    assert_eq!(e.field, "protocol.lease_ms");
    let e = Scenario::from_json(r#"{"nodes": 4, "protocol": {"kind": "lease", "fencin": true}}"#).unwrap_err();
    assert!(e.problem.contains("unknown field"), "{e}");
    let s = Scenario::from_json(r#"{"nodes": 4, "protocol": {"kind": "lease", "fencing": true}}"#).unwrap();
    assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
}

#[test]
fn roles_and_tokens_are_drawn_and_the_layout_fits() {
    let mut sim = Simulation::new(preset("expired-lease")).unwrap();
    sim.run_until_ms(3_500.0).unwrap();
    let cols = sim.columns();
    assert!(cols.node_xy.iter().all(|v| (-1.0..=1.0).contains(v)));
    assert_eq!(cols.node_role, vec![5, 6, 4, 4]);
    // Server and storage show token 2; paused client 2 still shows its token 1.
    assert_eq!(cols.node_value, vec![2.0, 2.0, 1.0, 2.0]);
    let view = sim.node_view(0).unwrap();
    let holder = view.facts.iter().find(|f| f.label == "holder").unwrap();
    assert_eq!(holder.value, "node 3");
    assert_eq!(number(&sim, 0, "token"), 2);
    assert_eq!(number(&sim, 1, "highest token"), 2);
}

#[test]
fn same_seed_same_trace() {
    for name in ["expired-lease", "fencing-tokens", "stonith"] {
        let hash = |_| {
            let mut sim = Simulation::new(preset(name)).unwrap();
            sim.run_until_ms(10_000.0).unwrap();
            sim.trace_hash()
        };
        assert_eq!(hash(0), hash(1), "{name}");
    }
}
