//! True causality kept by the engine (`engine::causal`): for every delivery in long runs
//! of every protocol, with faults, the receiver's vector clock dominates the send's and its
//! Lamport time is larger; independent activity shows as concurrent events; above the
//! vector-clock limit only Lamport clocks are kept; and none of it changes a trace.

mod common;

use std::collections::BTreeMap;

use faultline::engine::causal::{compare, Order};
use faultline::presets::{self, PRESETS};
use faultline::trace::{Spill, TraceKind};
use faultline::Simulation;

fn run(name: &str, until_ms: f64) -> Spill {
    let mut sim = Simulation::with_full_trace((presets::find(name).unwrap().build)()).unwrap();
    sim.run_until_ms(until_ms).unwrap();
    sim.take_trace()
}

/// Checks every delivery and drop against its send; returns (deliveries, concurrent pairs
/// seen between consecutive causal events of different nodes).
fn check_happens_before(name: &str, spill: &Spill) -> (usize, usize) {
    let mut sends: BTreeMap<u64, usize> = BTreeMap::new();
    let (mut delivered, mut concurrent) = (0, 0);
    let mut last_causal: Option<usize> = None;
    for (i, e) in spill.events.iter().enumerate() {
        match e.kind {
            TraceKind::Send => {
                assert!(
                    sends.insert(e.msg_id, i).is_none(),
                    "{name}: message id {} sent twice",
                    e.msg_id
                );
            }
            TraceKind::Deliver | TraceKind::Drop | TraceKind::Duplicate => {
                let s = *sends
                    .get(&e.msg_id)
                    .unwrap_or_else(|| panic!("{name}: {:?} of unknown message {}", e.kind, e.msg_id));
                let send = &spill.events[s];
                assert_eq!(
                    (send.node, send.peer),
                    if e.kind == TraceKind::Deliver {
                        (e.peer, e.node)
                    } else {
                        (e.node, e.peer)
                    },
                    "{name}: ends of message {}",
                    e.msg_id
                );
                if e.kind == TraceKind::Deliver {
                    delivered += 1;
                    assert!(
                        e.lamport > send.lamport,
                        "{name}: Lamport {} at delivery, {} at send",
                        e.lamport,
                        send.lamport
                    );
                    let (vs, vd) = (spill.vc(s).unwrap(), spill.vc(i).unwrap());
                    assert_eq!(compare(vs, vd), Order::Before, "{name}: send {vs:?} vs delivery {vd:?}");
                }
            }
            _ => {}
        }
        if let (Some(vc), Some(j)) = (spill.vc(i), last_causal) {
            if spill.events[j].node != e.node && compare(spill.vc(j).unwrap(), vc) == Order::Concurrent {
                concurrent += 1;
            }
        }
        if spill.vc(i).is_some() {
            last_causal = Some(i);
        }
    }
    (delivered, concurrent)
}

#[test]
fn every_delivery_happens_after_its_send_in_every_preset() {
    for preset in PRESETS.iter() {
        let scenario = (preset.build)();
        if scenario.nodes as usize > faultline::limits::VECTOR_CLOCK_MAX_NODES {
            continue;
        }
        let spill = run(preset.name, 8_000.0);
        let (delivered, concurrent) = check_happens_before(preset.name, &spill);
        // Enough deliveries to check: a two-replica store writing every 400 ms makes about 40.
        assert!(delivered >= 20, "{}: only {delivered} deliveries", preset.name);
        assert!(
            concurrent > 0,
            "{}: independent nodes never ran concurrently",
            preset.name
        );
    }
}

#[test]
fn a_node_s_clocks_never_go_back_through_crashes_and_pauses() {
    let spill = run("crash-recovery", 10_000.0);
    let mut last: BTreeMap<u32, (u64, Vec<u32>)> = BTreeMap::new();
    for (i, e) in spill.events.iter().enumerate() {
        let Some(vc) = spill.vc(i) else { continue };
        if let Some((lamport, before)) = last.get(&e.node) {
            assert!(
                e.lamport > *lamport,
                "node {}: Lamport went from {lamport} to {}",
                e.node,
                e.lamport
            );
            assert_eq!(
                compare(before, vc),
                Order::Before,
                "node {}: vector clock did not grow",
                e.node
            );
        }
        last.insert(e.node, (e.lamport, vc.to_vec()));
    }
    assert!(last.len() >= 5);
}

#[test]
fn above_the_vector_clock_limit_lamport_clocks_still_order_deliveries() {
    let spill = run("swim-at-scale", 300.0);
    assert!(spill.vc(0).is_none());
    let sends: BTreeMap<u64, u64> = spill
        .events
        .iter()
        .filter(|e| e.kind == TraceKind::Send)
        .map(|e| (e.msg_id, e.lamport))
        .collect();
    let deliveries: Vec<_> = spill.events.iter().filter(|e| e.kind == TraceKind::Deliver).collect();
    assert!(deliveries.len() > 1000);
    for d in deliveries {
        assert!(d.lamport > sends[&d.msg_id]);
    }
}

#[test]
fn the_trace_file_pairs_messages_and_carries_clocks() {
    let spill = run("partition", 2_000.0);
    let send = spill.events.iter().position(|e| e.kind == TraceKind::Send).unwrap();
    let line: serde_json::Value = serde_json::from_str(&spill.json_line(send)).unwrap();
    assert!(line["msg_id"].as_u64().unwrap() >= 1);
    assert!(line["lamport"].as_u64().unwrap() >= 1);
    assert_eq!(line["vc"].as_array().unwrap().len(), 5);
}

#[test]
fn shiviz_lines_name_the_host_its_vector_clock_and_the_event() {
    let spill = run("partition", 1_000.0);
    let lines: Vec<String> = (0..spill.events.len()).filter_map(|i| spill.shiviz_line(i)).collect();
    assert!(lines.len() > 100);
    let re_like = lines.iter().find(|l| l.contains("receives")).unwrap();
    let (host, rest) = re_like.split_once(' ').unwrap();
    assert!(host.starts_with('n'));
    let clock_end = rest.find('}').unwrap();
    let clock: serde_json::Value = serde_json::from_str(&rest[..=clock_end]).unwrap();
    assert!(
        clock[host].as_u64().unwrap() >= 1,
        "{re_like}: the host's own entry is in its clock"
    );
}

/// Each event's clock reading: true time on true clocks, and under a fast clock a message
/// that "arrives before it was sent" by the two nodes' readings — what a log sorted by
/// wall-clock time shows, and what the diagram's clock axis draws red.
#[test]
fn clock_readings_put_a_fast_clock_s_messages_back_in_time() {
    let spill = run("heartbeat", 2_000.0);
    assert_eq!(spill.locals().len(), spill.events.len(), "a reading per event");
    for (e, &local) in spill.events.iter().zip(spill.locals()) {
        assert_eq!(local, e.t_us, "heartbeat has true clocks: {e:?}");
    }
    let spill = run("wall-clocks-lie", 3_000.0);
    let mut sent_at: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
    let (mut back, mut forward) = (0, 0);
    for (e, &local) in spill.events.iter().zip(spill.locals()) {
        match e.kind {
            TraceKind::Send => {
                sent_at.insert(e.msg_id, (e.node, local));
            }
            TraceKind::Deliver => {
                let (from, sent_local) = sent_at[&e.msg_id];
                if local < sent_local {
                    assert_eq!((from, e.node), (0, 1), "only node 0's clock is fast");
                    back += 1;
                } else {
                    forward += 1;
                }
            }
            _ => {}
        }
    }
    assert!(
        back >= 3,
        "node 0 runs 1 s fast: its writes reach node 1 'before' they left ({back})"
    );
    assert!(forward >= 3, "node 1's writes reach node 0 after they left ({forward})");
}
