//! Stories about faults: each asserts that the fault really happens in the simulation.

mod common;

use common::*;
use faultline::network::DropReason;
use faultline::scenario::LatencySpec;
use faultline::trace::TraceKind;
use faultline::Fault;

const MS: u64 = 1_000;

#[test]
fn a_crashed_node_sends_and_receives_nothing() {
    let s = with_faults(
        cluster(5, 7),
        vec![
            (1_000.0, Fault::Crash { node: 2 }),
            (3_000.0, Fault::Restart { node: 2 }),
        ],
    );
    let (sim, trace) = full_trace(s, 4_000.0);
    // A fault at t applies after the events due at t, so the node is down in (1 000, 3 000).
    let down = |t: u64| t > 1_000 * MS && t < 3_000 * MS;
    let sent_while_down = trace
        .iter()
        .filter(is(TraceKind::Send))
        .filter(|e| e.node == 2 && down(e.t_us))
        .count();
    let got_while_down = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| e.node == 2 && down(e.t_us))
        .count();
    let timers_while_down = trace
        .iter()
        .filter(is(TraceKind::Timer))
        .filter(|e| e.node == 2 && down(e.t_us))
        .count();
    assert_eq!((sent_while_down, got_while_down, timers_while_down), (0, 0, 0));
    // Messages to it while it was down died there, counted as `crashed`.
    let died = trace
        .iter()
        .filter(is(TraceKind::Drop))
        .filter(|e| e.peer == 2 && down(e.t_us))
        .count();
    assert!(died > 0);
    assert_eq!(sim.engine().counters().dropped(DropReason::Crashed), died as u64);
    // After the restart it talks again, with its durable boot count kept.
    assert!(trace
        .iter()
        .filter(is(TraceKind::Send))
        .any(|e| e.node == 2 && e.t_us >= 3_000 * MS));
    let view = sim.node_view(2).unwrap();
    assert_eq!((view.status, view.restarts, view.incarnation), ("up", 1, 1));
}

#[test]
fn crash_recovery_keeps_durable_state_and_loses_volatile_state() {
    let s = with_faults(
        cluster(3, 1),
        vec![
            (1_000.0, Fault::Crash { node: 0 }),
            (1_500.0, Fault::Restart { node: 0 }),
        ],
    );
    let (_sim, trace) = full_trace(s, 1_500.0);
    // Heartbeats carry the boot count (durable): 1 before the crash, 2 after.
    let boots_after: Vec<u64> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Send && e.node == 0 && e.t_us >= 1_500 * MS)
        .map(|e| e.t_us)
        .collect();
    assert!(!boots_after.is_empty(), "the restarted node heartbeats at once");
    let mut sim = faultline::Simulation::new(with_faults(
        cluster(3, 1),
        vec![
            (1_000.0, Fault::Crash { node: 0 }),
            (1_500.0, Fault::Restart { node: 0 }),
        ],
    ))
    .unwrap();
    sim.run_until_ms(1_500.0).unwrap();
    // Volatile: what it heard is gone, so right after the restart it has heard from no one.
    let view = sim.node_view(0).unwrap();
    assert!(view.peers.iter().all(|p| p.since_heard_ms.is_none()), "{view:?}");
}

#[test]
fn no_message_crosses_a_partition_and_traffic_resumes_after_heal() {
    let groups = vec![vec![0, 1, 2], vec![3, 4]];
    let s = with_faults(
        cluster(5, 3),
        vec![(1_000.0, Fault::Partition { groups }), (4_000.0, Fault::Heal)],
    );
    let (sim, trace) = full_trace(s, 6_000.0);
    let side = |n: u32| n >= 3;
    let split = |t: u64| (1_000 * MS..4_000 * MS).contains(&t);
    let crossings = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| split(e.t_us) && side(e.node) != side(e.peer))
        .count();
    assert_eq!(crossings, 0, "a message crossed the partition");
    let within = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| split(e.t_us) && side(e.node) == side(e.peer));
    assert!(within.count() > 100, "each side keeps talking to itself");
    let resumed = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| e.t_us > 4_100 * MS && side(e.node) != side(e.peer))
        .count();
    assert!(resumed > 0, "traffic crosses again after heal");
    assert!(sim.engine().counters().dropped(DropReason::Partition) > 0);
    // Both sides suspected each other during the split; after healing nobody is suspected.
    let engine = sim.engine();
    assert!((0..5).all(|b| (0..5).all(|n| !engine.suspects(b, n))));
}

#[test]
fn a_partition_makes_each_side_suspect_the_other() {
    let s = with_faults(
        cluster(5, 3),
        vec![(
            1_000.0,
            Fault::Partition {
                groups: vec![vec![0, 1, 2]],
            },
        )],
    );
    let mut sim = faultline::Simulation::new(s).unwrap();
    sim.run_until_ms(2_000.0).unwrap();
    let e = sim.engine();
    for a in 0..5u32 {
        for b in 0..5u32 {
            let across = (a < 3) != (b < 3);
            assert_eq!(e.suspects(a, b), across, "{a} suspects {b}?");
        }
    }
}

#[test]
fn every_live_node_suspects_a_crashed_node_within_timeout_plus_max_latency() {
    // Timeout 350 ms, latency at most 25 ms: the bound is 375 ms after the crash.
    for seed in 0..50 {
        let crash_at_ms = 1_000.0 + seed as f64 * 7.3;
        let s = with_faults(cluster(7, seed), vec![(crash_at_ms, Fault::Crash { node: 4 })]);
        let mut sim = faultline::Simulation::new(s).unwrap();
        sim.run_until_ms(crash_at_ms + 375.0).unwrap();
        for by in (0..7).filter(|&n| n != 4) {
            assert!(
                sim.engine().suspects(by, 4),
                "seed {seed}: node {by} does not yet suspect node 4"
            );
        }
        // And not one live node is suspected by anyone.
        for by in 0..7 {
            for n in (0..7).filter(|&n| n != 4) {
                assert!(!sim.engine().suspects(by, n), "seed {seed}: {by} falsely suspects {n}");
            }
        }
    }
}

#[test]
fn latency_above_the_timeout_causes_false_suspicions() {
    let s = with_latency(cluster(5, 11), LatencySpec::Constant { ms: 500.0 });
    let s = with_heartbeat(s, 100.0, 350.0);
    let mut sim = faultline::Simulation::new(s).unwrap();
    // Before any heartbeat can arrive (500 ms), the 350 ms timeout has already fired.
    sim.run_until_ms(400.0).unwrap();
    let e = sim.engine();
    let false_suspicions = (0..5)
        .flat_map(|a| (0..5).map(move |b| (a, b)))
        .filter(|&(a, b)| e.suspects(a, b))
        .count();
    assert_eq!(false_suspicions, 20, "every node suspects every healthy peer");
    // With a latency below the timeout there are none.
    let mut fine =
        faultline::Simulation::new(with_latency(cluster(5, 11), LatencySpec::Constant { ms: 50.0 })).unwrap();
    fine.run_until_ms(5_000.0).unwrap();
    assert_eq!(fine.snapshot().counters.dropped.total, 0);
    let e = fine.engine();
    assert!((0..5).all(|a| (0..5).all(|b| !e.suspects(a, b))));
}

#[test]
fn a_paused_node_processes_nothing_then_everything_in_a_burst() {
    let s = with_faults(
        cluster(4, 5),
        vec![(
            1_000.0,
            Fault::Pause {
                node: 1,
                duration_ms: 800.0,
            },
        )],
    );
    let (sim, trace) = full_trace(s, 2_500.0);
    let paused = |t: u64| t > 1_000 * MS && t < 1_800 * MS;
    let handled = |e: &&faultline::trace::TraceEvent| {
        e.node == 1 && matches!(e.kind, TraceKind::Deliver | TraceKind::Timer | TraceKind::Send)
    };
    assert_eq!(
        trace.iter().filter(handled).filter(|e| paused(e.t_us)).count(),
        0,
        "a paused node ran"
    );
    // At 1 800 ms it resumes: held timers and messages all run at that instant.
    let resume = trace
        .iter()
        .find(|e| e.kind == TraceKind::Resume && e.node == 1)
        .expect("it resumes");
    assert_eq!(resume.t_us, 1_800 * MS);
    let burst_deliveries = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver && e.node == 1 && e.t_us == 1_800 * MS);
    // 3 peers × 8 heartbeats each arrived during the pause.
    assert!(burst_deliveries.count() >= 20);
    let late_timers = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Timer && e.node == 1 && e.t_us == 1_800 * MS);
    assert!(late_timers.count() >= 1, "its timers fired late, at the resume");
    // The burst preserves arrival order: senders' heartbeats in the order they arrived.
    assert_eq!(sim.node_view(1).unwrap().status, "up");
    // The others suspected it during the pause, though it never crashed.
    let s2 = with_faults(
        cluster(4, 5),
        vec![(
            1_000.0,
            Fault::Pause {
                node: 1,
                duration_ms: 800.0,
            },
        )],
    );
    let mut sim2 = faultline::Simulation::new(s2).unwrap();
    sim2.run_until_ms(1_700.0).unwrap();
    assert!(sim2.engine().suspects(0, 1));
}

#[test]
fn an_asymmetric_cut_drops_one_direction_only() {
    let s = with_faults(cluster(3, 2), vec![(1_000.0, Fault::Cut { from: 0, to: 1 })]);
    let (sim, trace) = full_trace(s, 3_000.0);
    let after = |t: u64| t > 1_100 * MS;
    let zero_to_one = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| after(e.t_us) && e.node == 1 && e.peer == 0);
    let one_to_zero = trace
        .iter()
        .filter(is(TraceKind::Deliver))
        .filter(|e| after(e.t_us) && e.node == 0 && e.peer == 1);
    assert_eq!(zero_to_one.count(), 0);
    assert!(one_to_zero.count() > 10);
    assert!(sim.engine().suspects(1, 0));
    assert!(!sim.engine().suspects(0, 1));
    assert!(sim.engine().counters().dropped(DropReason::Cut) > 0);
}

#[test]
fn link_loss_drops_messages_on_that_link() {
    let link = Fault::Link {
        from: 0,
        to: 1,
        latency: None,
        loss: Some(1.0),
        duplicate: None,
        both: false,
    };
    let s = with_faults(cluster(3, 2), vec![(500.0, link)]);
    let (sim, trace) = full_trace(s, 2_000.0);
    let lost: Vec<_> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Drop && e.detail == DropReason::Loss as u64)
        .collect();
    assert!(lost.iter().all(|e| e.node == 0 && e.peer == 1));
    assert!(lost.len() > 10);
    assert!(sim.engine().suspects(1, 0));
}

#[test]
fn duplication_delivers_extra_copies_and_conservation_holds() {
    let mut s = cluster(5, 4);
    s.network.duplicate = 0.2;
    s.network.loss = 0.1;
    let mut sim = faultline::Simulation::new(s).unwrap();
    for t in 1..=20 {
        sim.run_until_ms(t as f64 * 250.0).unwrap();
        let c = sim.snapshot().counters;
        assert_eq!(
            c.sent + c.duplicated,
            c.delivered + c.dropped.total + c.in_flight,
            "at {t}"
        );
    }
    let c = sim.snapshot().counters;
    assert!(c.duplicated > 50 && c.dropped.loss > 50, "{c:?}");
}

#[test]
fn the_in_flight_bound_is_an_explicit_counted_outcome() {
    // 1 000 nodes, a minute of latency: 999 000 messages a second pile up in flight.
    let s = with_latency(
        with_heartbeat(cluster(1_000, 1), 1_000.0, 120_000.0),
        LatencySpec::Constant { ms: 60_000.0 },
    );
    let mut sim = faultline::Simulation::new(s).unwrap();
    sim.run_until_ms(2_500.0).unwrap();
    let snap = sim.snapshot();
    assert_eq!(snap.counters.in_flight, faultline::limits::MAX_IN_FLIGHT as u64);
    // Nothing arrives within a minute, so everything sent past the bound overflowed.
    assert!(snap.counters.sent > 2_500_000);
    assert_eq!(snap.counters.delivered, 0);
    assert_eq!(
        snap.counters.dropped.overflow,
        snap.counters.sent - faultline::limits::MAX_IN_FLIGHT as u64
    );
    assert_eq!(snap.limits_hit, snap.counters.dropped.overflow);
}

#[test]
fn memory_stays_flat_over_a_long_run() {
    let mut sim = faultline::Simulation::new(cluster(5, 9)).unwrap();
    let mut queued = Vec::new();
    for hour_tenth in 1..=10 {
        sim.run_until_ms(hour_tenth as f64 * 360_000.0).unwrap();
        let snap = sim.snapshot();
        queued.push(snap.queued);
        assert!(
            snap.queued < 100,
            "the queue grew to {} at {} ms",
            snap.queued,
            snap.time_ms
        );
        assert_eq!(sim.recent_trace(usize::MAX).len(), faultline::limits::TRACE_RING_EVENTS);
    }
}
