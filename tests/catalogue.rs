//! The failure catalogue: one story per fault, each asserting that the fault really
//! happens in the simulation, and each preset making its point.

mod common;

use common::*;
use faultline::engine::TRACE_BYZANTINE;
use faultline::fault::{Behaviour, Damage, Shape};
use faultline::network::DropReason;
use faultline::presets;
use faultline::scenario::{HeartbeatSpec, LatencySpec, ProtocolSpec, ScheduledFault};
use faultline::trace::{TraceEvent, TraceKind};
use faultline::{Fault, Scenario, Simulation};

const MS: u64 = 1_000;

fn run(s: Scenario, until_ms: f64) -> Simulation {
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim
}

fn preset_at(name: &str, until_ms: f64) -> Simulation {
    run((presets::find(name).unwrap().build)(), until_ms)
}

/// Pairs (by, node) where `by` suspects `node`.
fn suspicions(sim: &Simulation) -> Vec<(u32, u32)> {
    let n = sim.scenario().nodes;
    let e = sim.engine();
    (0..n)
        .flat_map(|a| (0..n).map(move |b| (a, b)))
        .filter(|&(a, b)| e.suspects(a, b))
        .collect()
}

fn suspected_by(sim: &Simulation, node: u32) -> usize {
    suspicions(sim).iter().filter(|&&(_, b)| b == node).count()
}

fn deliveries<'a>(trace: &'a [TraceEvent], from: u32, to: u32) -> impl Iterator<Item = &'a TraceEvent> + 'a {
    trace
        .iter()
        .filter(move |e| e.kind == TraceKind::Deliver && e.node == to && e.peer == from)
}

fn with_probes(mut s: Scenario, probe_ms: f64, checksum: bool) -> Scenario {
    s.protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
        detector: Default::default(),
        interval_ms: 100.0,
        timeout_ms: 350.0,
        probe_ms: Some(probe_ms),
        checksum,
    });
    s
}

#[test]
fn a_timed_crash_restarts_by_itself() {
    let mut s = cluster(4, 1);
    s.faults = vec![ScheduledFault::lasting(1_000.0, Fault::Crash { node: 2 }, 500.0)];
    let sim = run(s, 1_400.0);
    assert_eq!(sim.node_view(2).unwrap().status, "crashed");
    let mut sim = sim;
    sim.run_until_ms(1_600.0).unwrap();
    let view = sim.node_view(2).unwrap();
    assert_eq!((view.status, view.restarts), ("up", 1));
}

#[test]
fn send_omission_drops_what_the_node_sends_and_only_that() {
    let s = with_faults(
        cluster(4, 2),
        vec![(
            500.0,
            Fault::Omission {
                node: 1,
                send: 1.0,
                receive: 0.0,
            },
        )],
    );
    let (sim, trace) = full_trace(s, 2_000.0);
    let after = |e: &&TraceEvent| e.t_us > 600 * MS;
    assert_eq!(
        trace
            .iter()
            .filter(after)
            .filter(|e| e.kind == TraceKind::Deliver && e.peer == 1)
            .count(),
        0
    );
    assert!(
        trace
            .iter()
            .filter(after)
            .filter(|e| e.kind == TraceKind::Deliver && e.node == 1)
            .count()
            > 30
    );
    let omitted = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Drop && e.detail == DropReason::Omission as u64);
    assert!(omitted.clone().all(|e| e.node == 1));
    assert_eq!(
        sim.engine().counters().dropped(DropReason::Omission),
        omitted.count() as u64
    );
    assert_eq!(suspected_by(&sim, 1), 3);
}

#[test]
fn receive_omission_drops_what_reaches_the_node() {
    let s = with_faults(
        cluster(4, 2),
        vec![(
            500.0,
            Fault::Omission {
                node: 1,
                send: 0.0,
                receive: 1.0,
            },
        )],
    );
    let sim = run(s, 2_000.0);
    // Node 1 hears nothing, so it suspects everyone; the others hear it fine.
    assert_eq!(suspicions(&sim), vec![(1, 0), (1, 2), (1, 3)]);
}

#[test]
fn a_slow_node_handles_events_late_in_order_and_gets_suspected() {
    let slow = Fault::Slow {
        node: 3,
        delay: LatencySpec::Constant { ms: 45.0 },
    };
    let (sim, trace) = full_trace(with_faults(cluster(5, 3), vec![(1_000.0, slow.clone())]), 4_000.0);
    // Everything node 3 handles after the fault is at least 45 ms after the previous one.
    let handled: Vec<u64> = trace
        .iter()
        .filter(|e| e.node == 3 && matches!(e.kind, TraceKind::Deliver | TraceKind::Timer) && e.t_us > 1_100 * MS)
        .map(|e| e.t_us)
        .collect();
    assert!(handled.len() > 20);
    assert!(
        handled.windows(2).all(|w| w[1] - w[0] >= 45 * MS),
        "served one at a time"
    );
    let _ = sim;
    // Four peers' beats and its own tick reach it every 100 ms and each costs it 45 ms: its
    // backlog grows, so its own beats leave further and further apart.
    let beats: Vec<u64> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Send && e.node == 3 && e.peer == 0 && e.t_us > 1_000 * MS)
        .map(|e| e.t_us)
        .collect();
    let gaps: Vec<u64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).all(|w| w[1] > w[0]),
        "beats ever further apart: {beats:?}"
    );
    assert!(gaps.len() >= 3 && gaps[1] > 350 * MS, "{beats:?}");
    // So every peer suspects it exactly while it has been silent longer than the timeout: at
    // each moment more than 350 + 25 ms after its last beat left (latency 5–25 ms), all four
    // do; less than 350 + 5 ms after its last beat, once that has arrived everywhere (25 ms), none.
    let mut sim = Simulation::new(with_faults(cluster(5, 3), vec![(1_000.0, slow)])).unwrap();
    let mut suspected_ms = 0;
    for ms in 1_500..4_000u64 {
        sim.run_until_ms(ms as f64).unwrap();
        let last = *beats.iter().rfind(|&&t| t <= ms * MS).unwrap();
        let silent_ms = ms - last / MS;
        let by = suspected_by(&sim, 3);
        if silent_ms > 375 {
            assert_eq!(by, 4, "at {ms} ms, {silent_ms} ms after its last beat left");
            suspected_ms += 1;
        } else if (26..355).contains(&silent_ms) {
            assert_eq!(by, 0, "at {ms} ms, {silent_ms} ms after its last beat left");
        }
    }
    assert!(
        suspected_ms > 1_250,
        "suspected by all for only {suspected_ms} of 2,500 ms"
    );
    // Node 0's requests to the slow node time out: correct answers, too late to count.
    let peers = preset_at("slow-node", 6_000.0).node_view(0).unwrap().peers;
    assert!(peers[2].probes_failed.unwrap() >= 3, "{:?}", peers[2]);
    assert!(peers.iter().filter(|p| p.id != 3).all(|p| p.probes_failed == Some(0)));
}

#[test]
fn a_latency_spike_raises_latency_for_its_duration_only() {
    let spike = Fault::Link {
        from: 1,
        to: 0,
        latency: Some(LatencySpec::Constant { ms: 500.0 }),
        loss: None,
        duplicate: None,
        both: false,
    };
    let mut s = cluster(3, 4);
    s.faults = vec![ScheduledFault::lasting(1_000.0, spike, 1_000.0)];
    let (_, trace) = full_trace(s, 4_000.0);
    let sends: Vec<u64> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Send && e.node == 1 && e.peer == 0)
        .map(|e| e.t_us)
        .collect();
    let got: Vec<u64> = deliveries(&trace, 1, 0).map(|e| e.t_us).collect();
    // During the spike a delivery lands 500 ms after a send; before and after, at most 25 ms.
    assert!(got.iter().any(|&t| t > 1_500 * MS && sends.contains(&(t - 500 * MS))));
    assert!(got
        .iter()
        .filter(|&&t| t > 3_000 * MS)
        .all(|&t| sends.iter().any(|&s| t > s && t - s <= 25 * MS)));
}

#[test]
fn latency_variance_reorders_messages() {
    let s = with_latency(
        cluster(2, 5),
        LatencySpec::Uniform {
            min_ms: 1.0,
            max_ms: 300.0,
        },
    );
    let mut s = with_heartbeat(s, 20.0, 10_000.0);
    s.faults.clear();
    let (_, trace) = full_trace(s, 3_000.0);
    // Heartbeats carry no sequence number, so compare send order with arrival order via timing:
    // with 20 ms between sends and up to 300 ms of latency, arrivals overtake each other.
    let sends: Vec<u64> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Send && e.node == 0)
        .map(|e| e.t_us)
        .collect();
    let arrivals: Vec<u64> = deliveries(&trace, 0, 1).map(|e| e.t_us).collect();
    let gaps_below_send_gap = arrivals.windows(2).filter(|w| w[1] - w[0] < 5 * MS).count();
    assert!(
        sends.len() > 100 && gaps_below_send_gap > 10,
        "no bunching: no reordering"
    );
}

#[test]
fn a_flapping_link_goes_down_and_up() {
    let mut s = cluster(3, 6);
    s.faults = vec![ScheduledFault::lasting(
        1_000.0,
        Fault::Flap {
            from: 0,
            to: 1,
            period_ms: 500.0,
            both: false,
        },
        2_000.0,
    )];
    let (_, trace) = full_trace(s, 4_000.0);
    let got = |lo: u64, hi: u64| {
        deliveries(&trace, 0, 1)
            .filter(|e| e.t_us > lo * MS && e.t_us < hi * MS)
            .count()
    };
    assert_eq!(got(1_030, 1_500), 0, "down");
    assert!(got(1_530, 2_000) >= 3, "up");
    assert_eq!(got(2_030, 2_500), 0, "down again");
    assert!(got(3_030, 4_000) >= 8, "stopped flapping when its duration ended");
    assert!(
        deliveries(&trace, 1, 0)
            .filter(|e| e.t_us > 1_030 * MS && e.t_us < 1_500 * MS)
            .count()
            >= 3,
        "one way only"
    );
}

#[test]
fn partition_shapes_cut_what_they_say() {
    let isolate = run(
        with_faults(cluster(5, 7), vec![(500.0, Fault::Isolate { node: 2 })]),
        1_500.0,
    );
    assert_eq!(suspected_by(&isolate, 2), 4);
    assert!(suspicions(&isolate).iter().filter(|&&(a, _)| a == 2).count() == 4);

    let halves = run(
        with_faults(cluster(5, 7), vec![(500.0, Fault::Shape { shape: Shape::Halves })]),
        1_500.0,
    );
    let majority_side = |n: u32| n < 3;
    assert!(suspicions(&halves)
        .iter()
        .all(|&(a, b)| majority_side(a) != majority_side(b)));
    assert_eq!(suspicions(&halves).len(), 12);

    let third = run(
        with_faults(
            cluster(9, 7),
            vec![(
                500.0,
                Fault::Shape {
                    shape: Shape::MinorityThird,
                },
            )],
        ),
        1_500.0,
    );
    assert_eq!(suspected_by(&third, 8), 6);
    assert_eq!(suspected_by(&third, 0), 3);

    let bridge = run(
        with_faults(cluster(5, 7), vec![(500.0, Fault::Shape { shape: Shape::Bridge })]),
        1_500.0,
    );
    assert_eq!(suspected_by(&bridge, 2), 0, "the bridge node reaches both halves");
    assert!(bridge.engine().suspects(0, 3) && bridge.engine().suspects(4, 1));
}

#[test]
fn the_majorities_ring_gives_every_node_a_different_majority() {
    let sim = preset_at("majorities-ring", 3_000.0);
    let alive_view = |a: u32| (0..5).filter(|&b| !sim.engine().suspects(a, b)).collect::<Vec<_>>();
    let views: Vec<Vec<u32>> = (0..5).map(alive_view).collect();
    for (a, v) in views.iter().enumerate() {
        assert_eq!(v.len(), 3, "node {a} sees a majority: {v:?}");
        assert!(views[..a].iter().all(|w| w != v), "node {a} shares a majority");
    }
    // Timed: after 6 s it heals by itself.
    let healed = preset_at("majorities-ring", 8_500.0);
    assert!(suspicions(&healed).is_empty());
}

#[test]
fn a_partial_partition_leaves_the_middle_reaching_everyone() {
    let sim = preset_at("partial-partition", 3_000.0);
    assert_eq!(suspected_by(&sim, 2), 0);
    assert!(suspicions(&sim)
        .iter()
        .all(|&(a, b)| (a < 2 && b > 2) || (a > 2 && b < 2)));
    assert_eq!(suspicions(&sim).len(), 8);
}

#[test]
fn a_clock_stepped_back_silences_the_node_and_one_stepped_forward_makes_it_suspect_all() {
    let back = preset_at("clock-jump", 2_500.0);
    assert_eq!(
        suspected_by(&back, 2),
        4,
        "its heartbeat timer waits for the clock to catch up"
    );
    let view = back.node_view(2).unwrap();
    assert!((view.clock_skew_ms + 1_500.0).abs() < 0.01, "{}", view.clock_skew_ms);
    // Forward: at 6 s node 4's deadlines all pass at once.
    let s = with_faults(
        cluster(5, 1),
        vec![(
            6_000.0,
            Fault::ClockJump {
                node: 4,
                by_ms: 1_000.0,
            },
        )],
    );
    let forward = run(s, 6_002.0);
    assert_eq!(suspicions(&forward), vec![(4, 0), (4, 1), (4, 2), (4, 3)]);
}

#[test]
fn a_fast_clock_fires_timers_faster() {
    let s = with_faults(
        cluster(3, 2),
        vec![(
            0.0,
            Fault::ClockDrift {
                node: 0,
                drift_ppm: 500_000,
            },
        )],
    );
    let (_, trace) = full_trace(s, 10_000.0);
    let beats = |n: u32| {
        trace
            .iter()
            .filter(|e| e.kind == TraceKind::Send && e.node == n && e.peer != n)
            .count() as f64
    };
    let ratio = beats(0) / beats(1);
    assert!(
        (1.45..1.55).contains(&ratio),
        "a clock 50% fast heartbeats 1.5× as often: {ratio}"
    );
}

#[test]
fn a_strobing_clock_flips_between_two_offsets() {
    let strobe = Fault::ClockStrobe {
        node: 1,
        a_ms: 0.0,
        b_ms: 800.0,
        period_ms: 250.0,
    };
    let mut s = cluster(3, 2);
    s.faults = vec![ScheduledFault::lasting(1_000.0, strobe, 2_000.0)];
    let mut sim = Simulation::new(s).unwrap();
    let mut skews = Vec::new();
    for t in [1_100.0, 1_300.0, 1_600.0, 1_800.0, 3_200.0] {
        sim.run_until_ms(t).unwrap();
        skews.push(sim.node_view(1).unwrap().clock_skew_ms.round());
    }
    assert_eq!(skews, vec![0.0, 800.0, 0.0, 800.0, 0.0]);
}

#[test]
fn storage_damage_is_caught_by_a_checksum_or_believed_without_one() {
    let damaged = |checksum: bool, damage: Damage| {
        let s = with_probes(cluster(3, 1), 1_000.0, checksum);
        let s = with_faults(
            s,
            vec![
                (1_000.0, Fault::Crash { node: 2 }),
                (1_100.0, Fault::Storage { node: 2, damage }),
                (1_200.0, Fault::Restart { node: 2 }),
            ],
        );
        run(s, 1_500.0).node_view(2).unwrap()
    };
    let caught = damaged(true, Damage::Torn);
    assert!(caught.notes[0].contains("checksum"), "{:?}", caught.notes);
    let believed = damaged(false, Damage::Torn);
    assert!(believed.notes.iter().all(|n| !n.contains("checksum")));
    // Torn without a checksum: the restart claims boot 1 again, like the first incarnation.
    assert!(
        believed.notes.contains(&"boot count 1 (durable)".to_string()),
        "{:?}",
        believed.notes
    );
    assert!(damaged(true, Damage::Bitflip).notes[0].contains("checksum"));
    let flipped = damaged(false, Damage::Bitflip);
    assert!(
        !flipped.notes.contains(&"boot count 3 (durable)".to_string()),
        "a flipped bit changes the count"
    );
}

#[test]
fn a_gray_node_passes_heartbeats_but_fails_real_work() {
    let sim = preset_at("gray-failure", 12_000.0);
    assert!(suspicions(&sim).is_empty(), "the heartbeat detector sees nothing wrong");
    let view = sim.node_view(0).unwrap();
    let to_gray = view.peers.iter().find(|p| p.id == 2).unwrap();
    let to_other = view.peers.iter().find(|p| p.id == 1).unwrap();
    assert!(
        to_gray.probes_failed.unwrap() > to_gray.probes_ok.unwrap(),
        "{to_gray:?}"
    );
    assert_eq!(to_other.probes_failed, Some(0));
    assert!(sim.engine().counters().dropped(DropReason::Gray) > 20);
}

#[test]
fn a_forger_keeps_a_dead_node_alive_in_everyone_elses_view() {
    let sim = preset_at("byzantine-forge", 4_000.0);
    assert_eq!(sim.node_view(3).unwrap().status, "crashed");
    assert_eq!(suspicions(&sim), vec![(1, 3)], "only the forger knows");
    let honest = run(
        with_faults(cluster(5, 1), vec![(2_000.0, Fault::Crash { node: 3 })]),
        4_000.0,
    );
    assert_eq!(suspected_by(&honest, 3), 4);
}

#[test]
fn byzantine_messages_are_marked_and_tell_different_peers_different_things() {
    let s = with_faults(
        cluster(4, 1),
        vec![(
            500.0,
            Fault::Byzantine {
                node: 0,
                behaviour: Behaviour::Equivocate,
            },
        )],
    );
    let (sim, trace) = full_trace(s, 1_000.0);
    let marked = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Send && e.node == 0 && e.t_us > 500 * MS);
    assert!(marked.clone().count() > 10 && marked.clone().all(|e| e.detail & TRACE_BYZANTINE != 0));
    let claims: Vec<u64> = (1..4)
        .map(|n| sim.node_view(n).unwrap().peers[0].claims.unwrap())
        .collect();
    assert!(
        claims[0] != claims[1] && claims[1] != claims[2],
        "equivocation: {claims:?}"
    );
    // Lying: after a restart it still claims its first boot.
    let s = with_faults(
        cluster(3, 1),
        vec![
            (100.0, Fault::Crash { node: 0 }),
            (200.0, Fault::Restart { node: 0 }),
            (
                200.0,
                Fault::Byzantine {
                    node: 0,
                    behaviour: Behaviour::Lie,
                },
            ),
        ],
    );
    assert_eq!(run(s, 600.0).node_view(1).unwrap().peers[0].claims, Some(1));
    // Corrupting: payloads garbled.
    let s = with_faults(
        cluster(3, 1),
        vec![(
            100.0,
            Fault::Byzantine {
                node: 0,
                behaviour: Behaviour::Corrupt,
            },
        )],
    );
    assert_ne!(run(s, 600.0).node_view(1).unwrap().peers[0].claims, Some(1));
}

#[test]
fn timed_faults_undo_themselves() {
    let mut s = cluster(4, 3);
    s.faults = vec![
        ScheduledFault::lasting(
            500.0,
            Fault::Partition {
                groups: vec![vec![0, 1]],
            },
            1_000.0,
        ),
        ScheduledFault::lasting(
            500.0,
            Fault::Omission {
                node: 3,
                send: 1.0,
                receive: 1.0,
            },
            1_000.0,
        ),
        ScheduledFault::lasting(
            500.0,
            Fault::ClockOffset {
                node: 2,
                offset_ms: 5_000.0,
            },
            1_000.0,
        ),
    ];
    let during = run(s.clone(), 1_200.0);
    assert!(!suspicions(&during).is_empty());
    let after = run(s.clone(), 2_500.0);
    assert!(after.node_view(3).unwrap().afflictions.is_empty());
    assert_eq!(after.node_view(2).unwrap().clock_skew_ms, 0.0);
    // Undoing a +5 s offset steps node 2's clock back 5 s: it is silent until its clock
    // catches up with its next heartbeat, then everything is healthy again.
    assert_eq!(suspected_by(&after, 2), 3);
    assert!(suspicions(&run(s, 7_000.0)).is_empty());
}

#[test]
fn an_injection_that_makes_a_scheduled_fault_impossible_forks_the_future() {
    let mut sim = Simulation::new((presets::find("crash-recovery").unwrap().build)()).unwrap();
    sim.run_until_ms(1_000.0).unwrap();
    let removed = sim.inject(Fault::Crash { node: 2 }, None).unwrap();
    assert_eq!(removed, vec!["crash n2 at 2000 ms".to_string()]);
    sim.run_until_ms(7_000.0).unwrap();
    assert_eq!(
        sim.node_view(2).unwrap().status,
        "up",
        "the scheduled restart still applies"
    );
    let mut replay = Simulation::new(Scenario::from_json(&sim.scenario().to_json()).unwrap()).unwrap();
    replay.run_until_ms(7_000.0).unwrap();
    assert_eq!(replay.trace_hash(), sim.trace_hash());
}

#[test]
fn every_preset_makes_its_point_in_the_first_seconds() {
    let crash = preset_at("crash-recovery", 3_000.0);
    assert_eq!(suspected_by(&crash, 2), 4);
    assert!(suspicions(&preset_at("crash-recovery", 7_000.0)).is_empty());
    let split = preset_at("partition", 3_000.0);
    assert_eq!(suspicions(&split).len(), 12);
    assert_eq!(suspicions(&preset_at("asymmetric", 3_000.0)), vec![(1, 0)]);
    assert!(suspected_by(&preset_at("gc-pause", 3_000.0), 1) == 4);
    assert!(suspicions(&preset_at("gc-pause", 4_500.0)).is_empty());
    assert!(suspected_by(&preset_at("omission", 6_000.0), 1) >= 1);
    let flapping: Vec<bool> = (0..16)
        .map(|i| {
            preset_at("flapping-link", 1_000.0 + i as f64 * 250.0)
                .engine()
                .suspects(0, 3)
        })
        .collect();
    assert!(
        flapping.contains(&true) && flapping[8..].contains(&false),
        "{flapping:?}"
    );
    let spiking: usize = (0..20)
        .map(|i| suspicions(&preset_at("latency-spike", 2_000.0 + i as f64 * 100.0)).len())
        .sum();
    assert!(spiking >= 8, "node 0 keeps suspecting during the spike: {spiking}");
    assert!(suspicions(&preset_at("latency-spike", 5_500.0)).is_empty());
    assert!(preset_at("torn-write", 3_500.0).node_view(2).unwrap().notes[0].contains("checksum"));
    let flicker = |name: &str| -> usize {
        (1..=90)
            .map(|i| suspicions(&preset_at(name, i as f64 * 100.0)).len())
            .sum()
    };
    let (fixed, phi) = (flicker("fixed-timeout"), flicker("phi-accrual"));
    assert!(
        fixed > 10 * phi.max(1),
        "phi accrual should not flicker: fixed {fixed}, phi {phi}"
    );
    let slow_network_suspicions: usize = (1..=20)
        .map(|i| suspicions(&preset_at("slow-network", i as f64 * 500.0)).len())
        .sum();
    assert!(slow_network_suspicions > 0);
}
