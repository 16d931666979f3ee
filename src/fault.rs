//! Faults: what a user can do to the cluster, from a click, a scenario or `inject`.
//!
//! `Fault` is the wire form (milliseconds, node ids as numbers); `crate::action` parses it
//! into engine units. `check` decides whether
//! a fault makes sense against the node statuses at the moment it applies, so the same
//! rule guards the scenario schedule (checked at load by a dry run) and live injections.
//! Many faults may carry a duration (`ScheduledFault::duration_ms`): the engine undoes
//! them when it ends (`Fault::revertible`).

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::latency::LatencySpec;
use crate::vocab::{NodeId, Status};

pub use crate::vocab::{Behaviour, Damage};

/// serde buffers an internally tagged enum before reading its fields, so an error inside
/// one loses its path; these readers put the field's name back into the message.
macro_rules! named_field {
    ($reader:ident, $ty:ty, $name:literal) => {
        fn $reader<'de, D: serde::Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            use serde::de::Error;
            <$ty>::deserialize(d).map_err(|e| D::Error::custom(format!("{}: {e}", $name)))
        }
    };
}
named_field!(read_node, NodeId, "node");
named_field!(read_from, NodeId, "from");
named_field!(read_to, NodeId, "to");
named_field!(read_duration, f64, "duration_ms");
named_field!(read_period, f64, "period_ms");
named_field!(read_loss, Option<f64>, "loss");
named_field!(read_duplicate, Option<f64>, "duplicate");
named_field!(read_groups, Vec<Vec<NodeId>>, "groups");
named_field!(read_side_a, Vec<NodeId>, "a");
named_field!(read_side_b, Vec<NodeId>, "b");
named_field!(read_offset, f64, "offset_ms");
named_field!(read_drift, i32, "drift_ppm");
named_field!(read_by, f64, "by_ms");
named_field!(read_prob_send, f64, "send");
named_field!(read_prob_receive, f64, "receive");
named_field!(read_fail, f64, "fail");
named_field!(read_slow, f64, "slow_ms");

/// Named partition shapes, as well-known fault injectors offer them. Deterministic: they
/// pick nodes by id, so the same shape on the same cluster always cuts the same links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// The first ⌊n/2⌋+1 nodes against the rest.
    Halves,
    /// A third of the nodes (at least one) cut off together.
    MinorityThird,
    /// Majorities ring: each node reaches its ring neighbours only, a majority each, no
    /// two nodes the same majority (needs at least 5 nodes).
    Ring,
    /// Two halves that reach each other only through the middle node.
    Bridge,
}

/// One fault. Serialized with a `kind` tag, e.g. `{"kind":"crash","node":2}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// The node stops; volatile state, timers and unprocessed messages are lost.
    Crash {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
    },
    /// A crashed node boots again from its durable state.
    Restart {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
    },
    /// Stop-the-world pause: nothing runs; timers and messages queue, then burst.
    Pause {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(deserialize_with = "read_duration")]
        duration_ms: f64,
    },
    /// Messages the node sends (`send`) or receives (`receive`) silently vanish with these
    /// probabilities. Zero both to clear.
    Omission {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(default, deserialize_with = "read_prob_send")]
        send: f64,
        #[serde(default, deserialize_with = "read_prob_receive")]
        receive: f64,
    },
    /// Every event the node handles first waits for an extra processing delay, one at a
    /// time (a slow CPU, a noisy neighbour). `{"kind":"constant","ms":0}` clears it.
    Slow {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        delay: LatencySpec,
    },
    /// Gray failure: heartbeats and health checks pass, but a fraction `fail` of real
    /// requests is dropped and the rest take `slow_ms` longer. Zero both to clear.
    Gray {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(default, deserialize_with = "read_fail")]
        fail: f64,
        #[serde(default, deserialize_with = "read_slow")]
        slow_ms: f64,
    },
    /// The node turns Byzantine (or honest again).
    Byzantine {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        behaviour: Behaviour,
    },
    /// Damages a crashed node's durable state; seen when it restarts.
    Storage {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        damage: Damage,
    },
    /// Sets the node's clock offset from true time.
    ClockOffset {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(deserialize_with = "read_offset")]
        offset_ms: f64,
    },
    /// Sets the node's clock drift in parts per million (positive runs fast).
    ClockDrift {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(deserialize_with = "read_drift")]
        drift_ppm: i32,
    },
    /// Steps the node's clock forward (positive) or backward (negative) at once.
    ClockJump {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        #[serde(deserialize_with = "read_by")]
        by_ms: f64,
    },
    /// The clock flips between offsets `a_ms` and `b_ms` every `period_ms`.
    ClockStrobe {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
        a_ms: f64,
        b_ms: f64,
        #[serde(deserialize_with = "read_period")]
        period_ms: f64,
    },
    /// Only nodes in the same group can talk; unlisted nodes form one extra group.
    Partition {
        #[serde(deserialize_with = "read_groups")]
        groups: Vec<Vec<NodeId>>,
    },
    /// Cuts one node off from all others.
    Isolate {
        #[serde(deserialize_with = "read_node")]
        node: NodeId,
    },
    /// A named partition shape.
    Shape { shape: Shape },
    /// Partial partition: `a` and `b` cannot talk, both still reach everyone else.
    PartialPartition {
        #[serde(deserialize_with = "read_side_a")]
        a: Vec<NodeId>,
        #[serde(deserialize_with = "read_side_b")]
        b: Vec<NodeId>,
    },
    /// Removes every partition, cut and flapping link.
    Heal,
    /// "The network stabilises now": a partially synchronous network reaches its global
    /// stabilisation time (GST) at this moment, if it had not already.
    Stabilise,
    /// Cuts the directed link `from → to` (an asymmetric partition).
    Cut {
        #[serde(deserialize_with = "read_from")]
        from: NodeId,
        #[serde(deserialize_with = "read_to")]
        to: NodeId,
    },
    /// Restores a cut directed link.
    Uncut {
        #[serde(deserialize_with = "read_from")]
        from: NodeId,
        #[serde(deserialize_with = "read_to")]
        to: NodeId,
    },
    /// The link goes down and up every `period_ms` (`both`: also `to → from`).
    Flap {
        #[serde(deserialize_with = "read_from")]
        from: NodeId,
        #[serde(deserialize_with = "read_to")]
        to: NodeId,
        #[serde(deserialize_with = "read_period")]
        period_ms: f64,
        #[serde(default = "yes")]
        both: bool,
    },
    /// Overrides a link's latency, loss and duplication (`both`: also `to → from`).
    /// A latency override with a duration is a latency spike.
    Link {
        #[serde(deserialize_with = "read_from")]
        from: NodeId,
        #[serde(deserialize_with = "read_to")]
        to: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<LatencySpec>,
        #[serde(default, deserialize_with = "read_loss", skip_serializing_if = "Option::is_none")]
        loss: Option<f64>,
        #[serde(
            default,
            deserialize_with = "read_duplicate",
            skip_serializing_if = "Option::is_none"
        )]
        duplicate: Option<f64>,
        #[serde(default = "yes")]
        both: bool,
    },
}

fn yes() -> bool {
    true
}

impl Fault {
    /// A short label for traces, timelines and summaries.
    pub fn label(&self) -> String {
        let ids = |v: &[NodeId]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        match self {
            Fault::Crash { node } => format!("crash n{node}"),
            Fault::Restart { node } => format!("restart n{node}"),
            Fault::Pause { node, duration_ms } => format!("pause n{node} {duration_ms} ms"),
            Fault::Omission { node, send, receive } => format!("omission n{node} send {send} receive {receive}"),
            Fault::Slow { node, .. } => format!("slow n{node}"),
            Fault::Gray { node, fail, slow_ms } => format!("gray n{node} fail {fail} +{slow_ms} ms"),
            Fault::Byzantine { node, behaviour } => format!("byzantine n{node} {}", behaviour.name()),
            Fault::Storage { node, damage } => format!("storage n{node} {}", damage.name()),
            Fault::ClockOffset { node, offset_ms } => format!("clock n{node} offset {offset_ms} ms"),
            Fault::ClockDrift { node, drift_ppm } => format!("clock n{node} drift {drift_ppm} ppm"),
            Fault::ClockJump { node, by_ms } => format!("clock n{node} jump {by_ms} ms"),
            Fault::ClockStrobe { node, .. } => format!("clock n{node} strobe"),
            Fault::Partition { groups } => {
                format!(
                    "partition {}",
                    groups.iter().map(|g| ids(g)).collect::<Vec<_>>().join(" | ")
                )
            }
            Fault::Isolate { node } => format!("isolate n{node}"),
            Fault::Shape { shape } => format!("partition {}", shape.name()),
            Fault::PartialPartition { a, b } => format!("partial {} ✕ {}", ids(a), ids(b)),
            Fault::Heal => "heal".to_string(),
            Fault::Stabilise => "stabilise (GST)".to_string(),
            Fault::Cut { from, to } => format!("cut n{from}→n{to}"),
            Fault::Uncut { from, to } => format!("uncut n{from}→n{to}"),
            Fault::Flap {
                from, to, period_ms, ..
            } => format!("flap n{from}→n{to} every {period_ms} ms"),
            Fault::Link { from, to, .. } => format!("link n{from}→n{to}"),
        }
    }

    /// The trace code of this fault kind (stable: part of every trace hash).
    pub fn code(&self) -> u32 {
        match self {
            Fault::Crash { .. } => 1,
            Fault::Restart { .. } => 2,
            Fault::Pause { .. } => 3,
            Fault::Partition { .. } => 4,
            Fault::Heal => 5,
            Fault::Cut { .. } => 6,
            Fault::Uncut { .. } => 7,
            Fault::Link { .. } => 8,
            Fault::Omission { .. } => 9,
            Fault::Slow { .. } => 10,
            Fault::Gray { .. } => 11,
            Fault::Byzantine { .. } => 12,
            Fault::Storage { .. } => 13,
            Fault::ClockOffset { .. } => 14,
            Fault::ClockDrift { .. } => 15,
            Fault::ClockJump { .. } => 16,
            Fault::ClockStrobe { .. } => 17,
            Fault::Isolate { .. } => 18,
            Fault::Shape { .. } => 19,
            Fault::PartialPartition { .. } => 20,
            Fault::Flap { .. } => 21,
            Fault::Stabilise => 22,
        }
    }

    /// The node a fault is aimed at, if it has one.
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Fault::Crash { node }
            | Fault::Restart { node }
            | Fault::Pause { node, .. }
            | Fault::Omission { node, .. }
            | Fault::Slow { node, .. }
            | Fault::Gray { node, .. }
            | Fault::Byzantine { node, .. }
            | Fault::Storage { node, .. }
            | Fault::ClockOffset { node, .. }
            | Fault::ClockDrift { node, .. }
            | Fault::ClockJump { node, .. }
            | Fault::ClockStrobe { node, .. }
            | Fault::Isolate { node } => Some(node),
            Fault::Cut { from, .. }
            | Fault::Uncut { from, .. }
            | Fault::Flap { from, .. }
            | Fault::Link { from, .. } => Some(from),
            Fault::Partition { .. }
            | Fault::Shape { .. }
            | Fault::PartialPartition { .. }
            | Fault::Heal
            | Fault::Stabilise => None,
        }
    }

    /// Whether a duration makes sense: the engine can undo this fault when it ends.
    pub fn revertible(&self) -> bool {
        !matches!(
            self,
            Fault::Restart { .. }
                | Fault::Pause { .. }
                | Fault::Heal
                | Fault::Stabilise
                | Fault::Uncut { .. }
                | Fault::ClockJump { .. }
                | Fault::Storage { .. }
        )
    }

    /// Checks the fault against a cluster of `nodes` nodes whose statuses `status_of`
    /// reports at the moment it applies. Errors name the field and the problem. The
    /// engine-unit form and the two halves of the rule are in `crate::action`.
    pub fn check(&self, nodes: u32, status_of: impl Fn(NodeId) -> Status) -> Result<(), InputError> {
        self.to_action(nodes)?.check_status(status_of)
    }
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Halves => "majority | minority",
            Shape::MinorityThird => "minority third",
            Shape::Ring => "majorities ring",
            Shape::Bridge => "bridge",
        }
    }
}

/// A fault with the simulated time it applies at, and optionally how long it lasts
/// (the engine undoes it then: a crash restarts, a partition heals, a clock returns).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub at_ms: f64,
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// Injected by hand during a run (rather than written in the scenario): injecting
    /// again at an earlier moment discards such faults from the old future.
    #[serde(default, skip_serializing_if = "is_false")]
    pub injected: bool,
}

impl ScheduledFault {
    pub fn at(at_ms: f64, fault: Fault) -> ScheduledFault {
        ScheduledFault {
            at_ms,
            fault,
            duration_ms: None,
            injected: false,
        }
    }

    pub fn lasting(at_ms: f64, fault: Fault, duration_ms: f64) -> ScheduledFault {
        ScheduledFault {
            duration_ms: Some(duration_ms),
            ..ScheduledFault::at(at_ms, fault)
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_up(_: NodeId) -> Status {
        Status::Up
    }

    #[test]
    fn unknown_node_is_named() {
        let e = Fault::Crash { node: 9 }.check(5, all_up).unwrap_err();
        assert_eq!(e.to_string(), "node: node 9 does not exist (nodes are 0–4)");
    }

    #[test]
    fn partition_naming_a_node_twice_is_rejected() {
        let f = Fault::Partition {
            groups: vec![vec![0, 1], vec![1, 2]],
        };
        assert_eq!(f.check(5, all_up).unwrap_err().field, "groups[1][0]");
        let f = Fault::PartialPartition {
            a: vec![0, 1],
            b: vec![1],
        };
        assert_eq!(f.check(5, all_up).unwrap_err().field, "b[0]");
    }

    #[test]
    fn pause_needs_a_positive_finite_duration_on_a_running_node() {
        let bad = |d| {
            Fault::Pause {
                node: 0,
                duration_ms: d,
            }
            .check(3, all_up)
            .unwrap_err()
        };
        assert_eq!(bad(-5.0).field, "duration_ms");
        assert_eq!(bad(f64::NAN).field, "duration_ms");
        assert_eq!(bad(0.0).field, "duration_ms");
        let crashed = Fault::Pause {
            node: 0,
            duration_ms: 5.0,
        }
        .check(3, |_| Status::Crashed);
        assert!(crashed.unwrap_err().problem.contains("crashed"));
    }

    #[test]
    fn restart_and_storage_damage_only_on_a_crashed_node() {
        assert!(Fault::Restart { node: 1 }.check(3, all_up).is_err());
        assert!(Fault::Restart { node: 1 }.check(3, |_| Status::Crashed).is_ok());
        assert!(Fault::Crash { node: 1 }.check(3, |_| Status::Crashed).is_err());
        let damage = Fault::Storage {
            node: 1,
            damage: Damage::Torn,
        };
        assert!(damage
            .check(3, all_up)
            .unwrap_err()
            .problem
            .contains("only a crashed node"));
        assert!(damage.check(3, |_| Status::Crashed).is_ok());
    }

    #[test]
    fn parameters_are_validated() {
        let omission = Fault::Omission {
            node: 0,
            send: 1.5,
            receive: 0.0,
        };
        assert_eq!(omission.check(3, all_up).unwrap_err().field, "send");
        let drift = Fault::ClockDrift {
            node: 0,
            drift_ppm: 900_000,
        };
        assert_eq!(drift.check(3, all_up).unwrap_err().field, "drift_ppm");
        let strobe = Fault::ClockStrobe {
            node: 0,
            a_ms: 0.0,
            b_ms: 10.0,
            period_ms: 0.0,
        };
        assert_eq!(strobe.check(3, all_up).unwrap_err().field, "period_ms");
        let ring = Fault::Shape { shape: Shape::Ring };
        assert!(ring.check(4, all_up).unwrap_err().problem.contains("at least 5 nodes"));
        let forge = Fault::Byzantine {
            node: 1,
            behaviour: Behaviour::Forge { as_node: 1 },
        };
        assert!(forge.check(3, all_up).is_err());
    }

    #[test]
    fn faults_round_trip_through_json() {
        let faults = [
            Fault::Link {
                from: 0,
                to: 1,
                latency: None,
                loss: Some(0.5),
                duplicate: None,
                both: true,
            },
            Fault::Byzantine {
                node: 2,
                behaviour: Behaviour::Forge { as_node: 0 },
            },
            Fault::Shape {
                shape: Shape::MinorityThird,
            },
            Fault::Storage {
                node: 1,
                damage: Damage::Bitflip,
            },
        ];
        for f in faults {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(serde_json::from_str::<Fault>(&text).unwrap(), f, "{text}");
        }
    }
}
