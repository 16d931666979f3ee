//! Built-in scenarios, each with a short explanation of what to watch and what to try.
//!
//! Invariant: every preset validates (tested), and its name is a stable identifier used
//! in URLs and by `faultline run --preset`.

use crate::fault::Fault;
use crate::scenario::{LatencySpec, NetworkSpec, ProtocolSpec, Scenario, ScheduledFault};

/// A named scenario with its explanation.
pub struct Preset {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub build: fn() -> Scenario,
}

fn at(at_ms: f64, fault: Fault) -> ScheduledFault {
    ScheduledFault::at(at_ms, fault)
}

fn named(title: &str, nodes: u32, faults: Vec<ScheduledFault>) -> Scenario {
    Scenario {
        name: title.to_string(),
        faults,
        ..Scenario::basic(nodes, 1)
    }
}

pub const PRESETS: &[Preset] = &[
    Preset {
        name: "heartbeat",
        title: "Heartbeats",
        summary: "Five nodes send each other a heartbeat every 100 ms; a peer silent for 350 ms is \
                  suspected. Watch the dots fly. Try: click a node and crash it — within 350 ms plus \
                  one message delay every other node suspects it.",
        build: || named("Heartbeats", 5, vec![]),
    },
    Preset {
        name: "crash-recovery",
        title: "Crash and recovery",
        summary: "Node 2 crashes at 2 s and restarts at 6 s. Watch the others suspect it (amber rings) \
                  and clear the suspicion once its first heartbeat after the restart arrives. Its boot \
                  count is durable state: it survives the crash; what it heard is volatile and lost.",
        build: || {
            named(
                "Crash and recovery",
                5,
                vec![
                    at(2_000.0, Fault::Crash { node: 2 }),
                    at(6_000.0, Fault::Restart { node: 2 }),
                ],
            )
        },
    },
    Preset {
        name: "partition",
        title: "Network partition",
        summary: "At 2 s the network splits {0,1,2} | {3,4}; at 8 s it heals. Each side suspects the \
                  other: both sides believe they are the live cluster. Watch the cut and the messages \
                  that die at it. Try: partition into three groups, or isolate one node.",
        build: || {
            named(
                "Network partition",
                5,
                vec![
                    at(
                        2_000.0,
                        Fault::Partition {
                            groups: vec![vec![0, 1, 2], vec![3, 4]],
                        },
                    ),
                    at(8_000.0, Fault::Heal),
                ],
            )
        },
    },
    Preset {
        name: "gc-pause",
        title: "Process pause",
        summary: "Node 1 stops the world for 1.5 s at 2 s (a long garbage collection). The others \
                  suspect it though it never crashed; when it wakes its late timers and queued \
                  heartbeats run in one burst. Try: a pause shorter than the 350 ms timeout.",
        build: || {
            named(
                "Process pause",
                5,
                vec![at(
                    2_000.0,
                    Fault::Pause {
                        node: 1,
                        duration_ms: 1_500.0,
                    },
                )],
            )
        },
    },
    Preset {
        name: "slow-network",
        title: "Slow network, false suspicion",
        summary: "Latency is normally distributed around 200 ms with a 120 ms spread, against a fixed \
                  350 ms timeout. No node ever fails, yet suspicions flicker on and off: a fixed \
                  timeout cannot tell slow from dead. Try: raise the timeout and watch detection slow.",
        build: || Scenario {
            network: NetworkSpec {
                latency: LatencySpec::Normal {
                    mean_ms: 200.0,
                    std_ms: 120.0,
                },
                ..NetworkSpec::default()
            },
            ..named("Slow network, false suspicion", 5, vec![])
        },
    },
    Preset {
        name: "asymmetric",
        title: "One-way link",
        summary: "At 2 s the link 0→1 is cut in one direction only: 1 still hears nothing from 0 and \
                  suspects it, while 0 hears 1 fine. Two nodes disagree about the same link.",
        build: || named("One-way link", 5, vec![at(2_000.0, Fault::Cut { from: 0, to: 1 })]),
    },
    Preset {
        name: "large-cluster",
        title: "A thousand nodes",
        summary: "1,000 nodes heartbeating all-to-all once a second: about a million messages a \
                  simulated second. A 200-node region is partitioned off at 3 s.",
        build: || Scenario {
            protocol: ProtocolSpec::Heartbeat {
                interval_ms: 1_000.0,
                timeout_ms: 3_000.0,
                probe_ms: None,
                checksum: false,
            },
            ..named(
                "A thousand nodes",
                1_000,
                vec![at(
                    3_000.0,
                    Fault::Partition {
                        groups: vec![(800..1_000).collect()],
                    },
                )],
            )
        },
    },
];

pub fn find(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

pub fn names() -> String {
    PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_validates_and_names_are_unique() {
        for (i, p) in PRESETS.iter().enumerate() {
            (p.build)()
                .validate()
                .unwrap_or_else(|e| panic!("preset {}: {e}", p.name));
            assert!(
                PRESETS[..i].iter().all(|q| q.name != p.name),
                "duplicate preset {}",
                p.name
            );
        }
    }
}
