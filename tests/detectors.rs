//! Failure detectors compared on the same runs: the trade between detection time and
//! false suspicions, and why an adaptive detector wins when links differ.

mod common;

use common::*;
use faultline::protocol::heartbeat::phi;
use faultline::scenario::{DetectorSpec, HeartbeatSpec, ProtocolSpec, ScheduledFault};
use faultline::sweep::{sweep_point, DetectorKind};
use faultline::trace::TraceKind;
use faultline::{Fault, Simulation};

#[test]
fn at_matched_detection_time_phi_accrual_has_fewer_false_positives_than_a_fixed_timeout() {
    const SEEDS: u64 = 24;
    let (phi_fp, phi_detection) = sweep_point(DetectorKind::Phi, 8.0, SEEDS).unwrap();
    // Find the fixed timeout with the same mean detection time (bisection).
    let (mut lo, mut hi) = (100.0, 3_000.0);
    let mut fixed = (0, 0.0);
    for _ in 0..12 {
        let mid = 0.5 * (lo + hi);
        fixed = sweep_point(DetectorKind::Fixed, mid, SEEDS).unwrap();
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
    s.protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
        interval_ms: 100.0,
        timeout_ms: 10_000.0,
        detector: DetectorSpec::MissedBeats { k: 3 },
        probe_ms: None,
        checksum: false,
    });
    s.faults.push(ScheduledFault::at(1_000.0, Fault::Crash { node: 2 }));
    let mut sim = Simulation::new(s).unwrap();
    sim.run_until_ms(1_000.0 + 300.0 + 25.0).unwrap();
    assert!(sim.engine().suspects(0, 2) && sim.engine().suspects(1, 2));
}

#[test]
fn the_inspector_shows_phi_rising_through_a_silence() {
    let mut s = cluster(3, 1);
    s.protocol = ProtocolSpec::Heartbeat(HeartbeatSpec {
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
    });
    s.faults.push(ScheduledFault::at(5_000.0, Fault::Crash { node: 2 }));
    // Node 2's beats as node 0 received them, for an independent reckoning of φ.
    let (_, trace) = full_trace(s.clone(), 4_990.0);
    let arrivals: Vec<u64> = trace
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver && e.node == 0 && e.peer == 2)
        .map(|e| e.t_us)
        .collect();
    // While node 2 is healthy its beats leave every 100 ms exactly and take 5–25 ms, so node 0
    // never waits longer than 100 + (25 − 5) = 120 ms. From 2 s on the window holds n ≥ 19
    // intervals whose mean is the span of n + 1 arrivals over n, 100 ms ± 20/n ms ≥ 98.9 ms,
    // and its deviation is floored at 10 ms: so φ stays below φ(120; 98.9, 10) ≈ 1.8 — far
    // under the threshold of 8 — at every moment, sampled each millisecond.
    let bound = phi::phi(120_000.0, 98_900.0, 10_000.0);
    let mut sim = Simulation::new(s).unwrap();
    let (mut highest, mut longest_silence) = (0.0f64, 0u64);
    for ms in 2_000..4_990u64 {
        let now = ms * 1_000;
        if arrivals.contains(&now) {
            continue; // a beat lands this very microsecond: before or after is a tie
        }
        sim.run_until_ms(ms as f64).unwrap();
        let peer = sim.node_view(0).unwrap().peers[1].clone();
        assert_eq!(peer.id, 2);
        // What φ must be: the last 50 inter-arrival times, their mean and (population)
        // deviation floored at 10 ms, and the silence since the last arrival.
        let heard: Vec<u64> = arrivals.iter().copied().filter(|&a| a < now).collect();
        let gaps: Vec<f64> = heard.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
        let gaps = &gaps[gaps.len().saturating_sub(50)..];
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        let silence = now - heard.last().unwrap();
        let expected = phi::phi(silence as f64, mean, var.sqrt().max(10_000.0));
        let shown = peer.phi.unwrap();
        assert!(
            (shown - expected).abs() < 1e-6,
            "at {ms} ms φ is {shown}, expected {expected}"
        );
        highest = highest.max(shown);
        longest_silence = longest_silence.max(silence);
    }
    assert!(
        longest_silence <= 120_000,
        "silent for {longest_silence} µs while healthy"
    );
    assert!(highest < bound, "healthy, yet φ reached {highest} (bound {bound})");
    let mut phis = Vec::new();
    for t in [5_150.0, 5_200.0, 5_250.0, 5_300.0] {
        sim.run_until_ms(t).unwrap();
        phis.push(sim.node_view(0).unwrap().peers[1].phi.unwrap());
    }
    assert!(phis.windows(2).all(|w| w[1] > w[0]), "{phis:?}");
    assert!(phis[3] > 8.0, "{phis:?}");
    assert!(sim.engine().suspects(0, 2));
}

#[test]
fn the_sweep_curve_trades_detection_time_for_false_positives() {
    // Longer timeouts: slower detection, fewer false suspicions (monotone along the curve).
    let points: Vec<(u32, f64)> = [200.0, 400.0, 800.0]
        .iter()
        .map(|&t| sweep_point(DetectorKind::Fixed, t, 3).unwrap())
        .collect();
    assert!(points.windows(2).all(|w| w[0].1 < w[1].1), "{points:?}");
    assert!(points.windows(2).all(|w| w[0].0 >= w[1].0), "{points:?}");
    assert!(points[0].0 > points[2].0, "{points:?}");
    assert!(sweep_point(DetectorKind::Phi, f64::NAN, 1).is_err());
    // SWIM along its suspicion timeout: members declared dead falsely fall, detection slows.
    let swim: Vec<(u32, f64)> = [200.0, 800.0, 3_200.0]
        .iter()
        .map(|&t| sweep_point(DetectorKind::Swim, t, 4).unwrap())
        .collect();
    assert!(swim.windows(2).all(|w| w[0].1 < w[1].1), "{swim:?}");
    assert!(swim[0].0 > 10 * swim[2].0.max(1), "{swim:?}");
}

/// The canvas's suspected-by column (for each node, how many live nodes suspect it) counts
/// exactly what `suspects` answers, through suspicions, recoveries, a crash and a restart,
/// in a cluster wider than one 64-bit word (heartbeat keeps suspicions as bits for it).
#[test]
fn the_suspected_by_column_counts_exactly_the_nodes_that_suspect_each_node() {
    let mut scenario = faultline::presets::find("heartbeat").unwrap().scenario();
    scenario.nodes = 130;
    scenario.faults.clear();
    let mut sim = Simulation::new(scenario).unwrap();
    let mut suspicions_seen = 0;
    let mut check = |sim: &mut Simulation, at_ms: f64| {
        sim.run_until_ms(at_ms).unwrap();
        let want: Vec<u32> = (0..130)
            .map(|node| (0..130).filter(|&by| sim.engine().suspects(by, node)).count() as u32)
            .collect();
        suspicions_seen += want.iter().sum::<u32>();
        assert_eq!(sim.columns().node_suspected_by, want, "at {at_ms} ms");
    };
    check(&mut sim, 500.0);
    sim.inject_json(r#"{"kind": "isolate", "node": 70}"#, Some(3_000.0))
        .unwrap();
    sim.inject_json(r#"{"kind": "crash", "node": 129}"#, None).unwrap();
    for at_ms in [1_000.0, 2_500.0, 4_000.0, 6_000.0, 9_000.0] {
        check(&mut sim, at_ms);
    }
    sim.inject_json(r#"{"kind": "restart", "node": 129}"#, None).unwrap();
    for at_ms in [9_500.0, 12_000.0, 15_000.0] {
        check(&mut sim, at_ms);
    }
    assert!(
        suspicions_seen > 0,
        "the run must suspect someone for the test to mean anything"
    );
}

#[test]
fn the_message_columns_hold_every_message_that_fits_and_a_spread_sample_of_a_million() {
    use faultline::limits::RENDER_MSGS_MAX;
    let mut small = Simulation::new(faultline::presets::find("heartbeat").unwrap().scenario()).unwrap();
    for at_ms in [50.0, 500.0, 2_000.0] {
        small.run_until_ms(at_ms).unwrap();
        let c = small.columns();
        assert_eq!(
            c.msg_from.len() as u64,
            c.msgs_total,
            "at {at_ms} ms every message is drawn"
        );
    }
    // A thousand nodes' first heartbeat round: about a million messages in flight.
    let mut big = Simulation::new(faultline::presets::find("large-cluster").unwrap().scenario()).unwrap();
    big.run_until_ms(5.0).unwrap();
    let c = big.columns();
    assert!(c.msgs_total > 10 * RENDER_MSGS_MAX as u64, "{} in flight", c.msgs_total);
    let shown = c.msg_from.len();
    assert!(
        (RENDER_MSGS_MAX / 2..=RENDER_MSGS_MAX).contains(&shown),
        "{shown} of {} drawn",
        c.msgs_total
    );
    assert_eq!(c.msg_to.len(), shown);
    assert_eq!(c.msg_kind.len(), shown);
    // A sample of the whole queue, not the first few thousand of one bucket.
    let senders: std::collections::BTreeSet<u32> = c.msg_from.iter().copied().collect();
    assert!(senders.len() > 900, "messages from {} senders", senders.len());
}
