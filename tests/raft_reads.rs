//! Raft's key-value reads (`protocol::raft`, `kv` workload): the read paths against a
//! deposed leader and a drifting clock, judged by the live `linearizable` checker and by
//! checking the recorded history again from outside.

use faultline::checks::CheckView;
use faultline::history::{self, Op, Outcome, Verdict};
use faultline::presets;
use faultline::scenario::ProtocolSpec;
use faultline::{Scenario, Simulation};

fn preset(name: &str) -> Scenario {
    (presets::find(name).unwrap().build)()
}

/// The run to `t_ms`, and its `linearizable` check.
fn run(scenario: Scenario, t_ms: f64) -> (Simulation, CheckView) {
    let mut sim = Simulation::new(scenario).unwrap();
    sim.run_until_ms(t_ms).unwrap();
    let check = (sim.checks().into_iter())
        .find(|c| c.id == "linearizable")
        .expect("Raft with a kv workload checks linearizability");
    (sim, check)
}

fn with_read_path(mut s: Scenario, path: &str) -> Scenario {
    let ProtocolSpec::Raft(spec) = &mut s.protocol else {
        panic!("a Raft preset")
    };
    let kv = spec.kv.as_mut().expect("a kv workload");
    kv.read_path = serde_json::from_value(serde_json::json!(path)).unwrap();
    s
}

#[test]
fn a_deposed_leader_answering_naive_reads_is_not_linearizable_and_names_the_stale_read() {
    let (sim, check) = run(preset("stale-read-deposed-leader"), 10_000.0);
    assert!(!check.holds, "{check:?}");
    let since = check.violated_since_ms.unwrap();
    assert!(
        (2_000.0..=10_000.0).contains(&since),
        "after the partition, not at {since} ms"
    );
    assert!(
        check.detail.contains("read of key 0 by client 5 returned"),
        "{}",
        check.detail
    );
    assert!(
        check.nodes.contains(&5),
        "client 5 reads from the old leader: {:?}",
        check.nodes
    );
    // The history the run recorded fails the checker run from outside too.
    let h = sim.history().expect("the run records its clients' history");
    assert!(h
        .ops
        .iter()
        .any(|o| matches!(o.op, Op::Read(Some(_))) && o.outcome == Outcome::Ok));
    assert!(matches!(history::check(h, 1_000_000), Verdict::NotLinearizable(_)));
}

#[test]
fn read_index_and_log_reads_keep_the_same_run_linearizable() {
    let (sim, check) = run(preset("read-index-keeps-linearizable"), 10_000.0);
    assert!(check.holds, "{check:?}");
    let h = sim.history().unwrap();
    // Client 5's reads at the cut-off leader never return: unknown, not stale.
    let cut_off = |o: &&history::Operation| o.client == 5 && o.invoke_us > 3_000_000 && o.invoke_us < 7_000_000;
    let reads: Vec<_> = h
        .ops
        .iter()
        .filter(cut_off)
        .filter(|o| matches!(o.op, Op::Read(_)))
        .collect();
    assert!(
        !reads.is_empty() && reads.iter().all(|o| o.outcome == Outcome::Unknown),
        "{reads:?}"
    );
    assert!(matches!(history::check(h, 1_000_000), Verdict::Linearizable { .. }));
    let (_, log) = run(with_read_path(preset("stale-read-deposed-leader"), "log"), 10_000.0);
    assert!(log.holds, "{log:?}");
}

#[test]
fn lease_reads_hold_while_clocks_keep_time_and_fail_when_the_leaders_clock_drifts_past_the_margin() {
    let (_, drifting) = run(preset("lease-read-clock-drift"), 10_000.0);
    assert!(!drifting.holds, "{drifting:?}");
    assert!(
        drifting.violated_since_ms.unwrap() > 4_000.0,
        "only after the partition"
    );
    assert!(drifting.detail.contains("by client 5 returned"), "{}", drifting.detail);
    // Without the drift (the partition alone) the lease ends before a new leader exists.
    let mut steady = preset("lease-read-clock-drift");
    steady
        .faults
        .retain(|f| !format!("{:?}", f.fault).contains("ClockDrift"));
    assert_eq!(steady.faults.len(), 1);
    let (_, check) = run(steady.clone(), 12_000.0);
    assert!(check.holds, "{check:?}");
    // A drift inside the margin (lease 1.9 s × 1/0.96 < election_min 2 s) is safe too.
    let mut small = preset("lease-read-clock-drift");
    let drift = serde_json::json!({"kind": "clock_drift", "node": 3, "drift_ppm": -40_000});
    small.faults[0].fault = serde_json::from_value(drift).unwrap();
    let (_, check) = run(small, 12_000.0);
    assert!(check.holds, "{check:?}");
    // And ReadIndex does not trust the clock at all.
    let (_, check) = run(with_read_path(preset("lease-read-clock-drift"), "read_index"), 12_000.0);
    assert!(check.holds, "{check:?}");
}

#[test]
fn without_a_kv_workload_raft_records_no_history_and_reports_as_before() {
    let (mut sim, checks) = {
        let mut sim = Simulation::new(preset("raft-one-leader")).unwrap();
        sim.run_until_ms(3_000.0).unwrap();
        let checks = sim.checks();
        (sim, checks)
    };
    assert!(sim.history().is_none());
    assert!(checks.iter().all(|c| c.id != "linearizable"));
    let _ = sim.columns();
}

#[test]
fn kv_settings_are_validated_with_the_field_named() {
    let bad = |kv: serde_json::Value| {
        let mut s = serde_json::to_value(preset("stale-read-deposed-leader")).unwrap();
        s["protocol"]["kv"] = kv;
        Scenario::from_json(&s.to_string()).unwrap_err().to_string()
    };
    assert!(bad(serde_json::json!({"keys": 9})).contains("kv.keys"));
    assert!(bad(serde_json::json!({"read_ratio": 0.8, "cas_ratio": 0.5})).contains("kv.cas_ratio"));
    assert!(bad(serde_json::json!({"read_path": "lease", "lease_ms": 5000})).contains("kv.lease_ms"));
    let unknown = bad(serde_json::json!({"read_path": "quorum"}));
    assert!(
        unknown.contains("unknown variant `quorum`") && unknown.contains("`read_index`"),
        "{unknown}"
    );
}
