//! Bad input gets a clear message naming the field, and the simulation keeps its state.

mod common;

use common::*;
use faultline::{Fault, Simulation};

fn sim() -> Simulation {
    let mut sim = Simulation::new(cluster(5, 1)).unwrap();
    sim.run_until_ms(1_000.0).unwrap();
    sim
}

/// Asserts that `f` fails with a message containing `needle` and changes nothing.
fn rejected<T: std::fmt::Debug>(f: impl FnOnce(&mut Simulation) -> Result<T, faultline::InputError>, needle: &str) {
    let mut s = sim();
    let before = (s.trace_hash(), s.snapshot(), s.scenario().clone());
    let err = f(&mut s).expect_err("bad input must be rejected");
    assert!(err.to_string().contains(needle), "`{err}` should mention `{needle}`");
    assert_eq!(
        (s.trace_hash(), s.snapshot(), s.scenario().clone()),
        before,
        "state changed after `{err}`"
    );
}

#[test]
fn malformed_scenarios_name_the_field() {
    let cases = [
        ("{", "EOF"),
        (r#"{"nodes": 5, "seed": -1}"#, "seed"),
        (r#"{"nodes": 5, "seed": 9007199254740992}"#, "seed: must be at most"),
        (r#"{"nodes": 1001000}"#, "nodes: must be between 1 and"),
        (r#"{"nodes": 5, "protocol": {"kind": "paxos"}}"#, "protocol"),
        (
            r#"{"nodes": 8, "protocol": {"kind": "raft", "heartbeat_ms": 200}}"#,
            "protocol.heartbeat_ms: must be at most a third",
        ),
        (
            r#"{"nodes": 8, "protocol": {"kind": "raft", "election": "paxos"}}"#,
            "protocol",
        ),
        (
            r#"{"nodes": 5, "protocol": {"kind": "heartbeat", "interval_ms": -3}}"#,
            "protocol.interval_ms",
        ),
        (
            r#"{"nodes": 5, "network": {"latency": {"kind": "uniform", "min_ms": 9, "max_ms": 2}}}"#,
            "network.latency.max_ms",
        ),
        (
            r#"{"nodes": 5, "network": {"duplicate": 2}}"#,
            "network.duplicate: must be a probability",
        ),
        (
            r#"{"nodes": 5, "faults": [{"at_ms": -1, "fault": {"kind": "heal"}}]}"#,
            "faults[0].at_ms",
        ),
        (
            r#"{"nodes": 5, "faults": [{"at_ms": 1, "fault": {"kind": "explode"}}]}"#,
            "faults[0].fault",
        ),
        (
            r#"{"nodes": 5, "faults": [{"at_ms": 1, "fault": {"kind": "restart", "node": 2}}]}"#,
            "only a crashed node can restart",
        ),
    ];
    for (text, needle) in cases {
        let err = Simulation::from_json(text)
            .err()
            .unwrap_or_else(|| panic!("{text} was accepted"));
        assert!(
            err.to_string().contains(needle),
            "{text}: `{err}` should mention `{needle}`"
        );
    }
}

#[test]
fn unknown_node_ids_are_rejected() {
    rejected(
        |s| s.inject(Fault::Crash { node: 5 }, None),
        "node 5 does not exist (nodes are 0–4)",
    );
    rejected(
        |s| s.inject(Fault::Cut { from: 0, to: 99 }, None),
        "to: node 99 does not exist",
    );
    rejected(
        |s| {
            s.inject(
                Fault::Partition {
                    groups: vec![vec![0, 7]],
                },
                None,
            )
        },
        "groups[0][1]",
    );
    assert!(sim().node_view(5).unwrap_err().to_string().contains("does not exist"));
}

#[test]
fn bad_durations_are_rejected() {
    rejected(
        |s| {
            s.inject(
                Fault::Pause {
                    node: 1,
                    duration_ms: -10.0,
                },
                None,
            )
        },
        "duration_ms: must not be negative",
    );
    rejected(
        |s| {
            s.inject(
                Fault::Pause {
                    node: 1,
                    duration_ms: f64::NAN,
                },
                None,
            )
        },
        "duration_ms: must be a finite",
    );
    rejected(
        |s| {
            s.inject(
                Fault::Pause {
                    node: 1,
                    duration_ms: f64::INFINITY,
                },
                None,
            )
        },
        "duration_ms",
    );
    rejected(|s| s.run_until_ms(f64::NAN), "ms: must be a finite");
    rejected(|s| s.run_until_ms(-1.0), "must not be negative");
    rejected(|s| s.run_until_ms(10.0), "time only runs forwards");
    rejected(|s| s.step_ms(f64::NEG_INFINITY), "ms");
}

#[test]
fn faults_that_make_no_sense_now_are_rejected() {
    let mut s = sim();
    s.inject(Fault::Crash { node: 2 }, None).unwrap();
    let before = (s.trace_hash(), s.scenario().clone());
    for (fault, needle) in [
        (Fault::Crash { node: 2 }, "already crashed"),
        (
            Fault::Pause {
                node: 2,
                duration_ms: 10.0,
            },
            "only a running node can be paused",
        ),
        (Fault::Restart { node: 3 }, "only a crashed node can restart"),
        (
            Fault::Partition {
                groups: vec![vec![0, 1], vec![1]],
            },
            "named twice",
        ),
        (Fault::Cut { from: 1, to: 1 }, "two different nodes"),
        (
            Fault::Link {
                from: 0,
                to: 1,
                latency: None,
                loss: None,
                duplicate: None,
                both: true,
            },
            "needs `latency`, `loss` or `duplicate`",
        ),
        (
            Fault::Link {
                from: 0,
                to: 1,
                latency: None,
                loss: Some(1.5),
                duplicate: None,
                both: true,
            },
            "loss: must be a probability",
        ),
    ] {
        let err = s.inject(fault, None).unwrap_err().to_string();
        assert!(err.contains(needle), "`{err}` should mention `{needle}`");
        assert_eq!((s.trace_hash(), s.scenario().clone()), before);
    }
}

#[test]
fn malformed_fault_json_names_the_field() {
    let mut s = sim();
    let e = s.inject_json(r#"{"kind": "crash", "node": -1}"#, None).unwrap_err();
    assert!(e.to_string().starts_with("node: invalid value: integer `-1`"), "{e}");
    let e = s
        .inject_json(r#"{"kind": "cut", "from": 0, "to": "two"}"#, None)
        .unwrap_err();
    assert!(e.to_string().starts_with("to: invalid type: string"), "{e}");
    let e = faultline::Scenario::from_json(
        r#"{"nodes": 3, "faults": [{"at_ms": 1, "fault": {"kind": "crash", "node": 1.5}}]}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("faults[0].fault: node: invalid type: floating point `1.5`"),
        "{e}"
    );
    let e = s.inject_json(r#"{"kind": "pause", "node": 1}"#, None).unwrap_err();
    assert!(e.problem.contains("missing field `duration_ms`"), "{e}");
    let e = s
        .inject_json(r#"{"kind": "crash", "node": 1, "extra": true}"#, None)
        .unwrap_err();
    assert!(e.problem.contains("unknown field `extra`"), "{e}");
}
