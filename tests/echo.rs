//! The example protocol (`protocol/echo/`, added as one folder, its `pub mod` line and one
//! registration line): it runs from a scenario like any other, its checker sees a crash,
//! and the registry lists its message kinds.

use faultline::registry::PROTOCOLS;
use faultline::trace::{TraceEvent, TraceKind};
use faultline::Simulation;

const SCENARIO: &str = r#"{"nodes": 4, "seed": 3, "protocol": {"kind": "echo", "interval_ms": 100},
    "faults": [{"at_ms": 2000, "fault": {"kind": "crash", "node": 1}, "duration_ms": 2000}]}"#;

/// Echoes node 0 received in [from_ms, to_ms).
fn echoes_to_0(events: &[TraceEvent], from_ms: f64, to_ms: f64) -> usize {
    let (from_us, to_us) = ((from_ms * 1e3) as u64, (to_ms * 1e3) as u64);
    events
        .iter()
        .filter(|e| e.kind == TraceKind::Deliver && e.node == 0 && e.msg == "echo")
        .filter(|e| (from_us..to_us).contains(&e.t_us))
        .count()
}

#[test]
fn pings_are_answered_except_while_the_peer_is_down() {
    let mut sim = Simulation::with_full_trace(faultline::Scenario::from_json(SCENARIO).unwrap()).unwrap();
    sim.run_until_ms(1_900.0).unwrap();
    let answered = |sim: &Simulation| sim.checks().into_iter().find(|c| c.id == "answered").unwrap();
    assert!(answered(&sim).holds, "{:?}", answered(&sim));
    sim.run_until_ms(3_900.0).unwrap();
    let down = answered(&sim);
    assert!(
        !down.holds && down.nodes == [0],
        "node 0 pings node 1, which is down: {down:?}"
    );
    // Five unanswered intervals after the crash at 2 s (plus the last echo's flight).
    let since = down.violated_since_ms.unwrap();
    assert!((2_400.0..2_700.0).contains(&since), "violated since {since} ms");
    sim.run_until_ms(6_000.0).unwrap();
    assert!(answered(&sim).holds, "node 1 restarted at 4 s and answers again");
    let events = sim.take_trace().events;
    // One ping every 100 ms, each answered within a round trip (5–25 ms each way).
    assert!((18..=20).contains(&echoes_to_0(&events, 0.0, 2_000.0)));
    assert!(
        echoes_to_0(&events, 2_100.0, 4_000.0) == 0,
        "a crashed node echoes nothing"
    );
    assert!((18..=20).contains(&echoes_to_0(&events, 4_000.0, 6_000.0)));
}

#[test]
fn echo_is_registered_with_its_message_kinds() {
    let echo = PROTOCOLS.iter().find(|p| p.name == "echo").expect("echo is registered");
    assert_eq!(echo.kinds, &[(0, "ping"), (1, "echo")]);
    let sim = Simulation::from_json(SCENARIO).unwrap();
    assert_eq!(sim.engine().message_kinds(), echo.kinds);
    assert_eq!(sim.snapshot().protocol, "echo");
}
