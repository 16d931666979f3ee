//! Faults: what a user can do to the cluster, from a click, a scenario or `inject`.
//!
//! `Fault` is the wire form (milliseconds, node ids as numbers). `check` decides whether
//! a fault makes sense against the node statuses at the moment it applies, so the same
//! rule guards the scenario schedule (checked at load by a dry run) and live injections.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::network::NodeId;
use crate::node::Status;
use crate::scenario::LatencySpec;
use crate::time::ms_to_us;

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
named_field!(read_loss, Option<f64>, "loss");
named_field!(read_groups, Vec<Vec<NodeId>>, "groups");

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
    /// Only nodes in the same group can talk; unlisted nodes form one extra group.
    Partition {
        #[serde(deserialize_with = "read_groups")]
        groups: Vec<Vec<NodeId>>,
    },
    /// Removes the partition and every cut link.
    Heal,
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
    /// Overrides a link's latency and/or loss (`both`: also `to → from`).
    Link {
        #[serde(deserialize_with = "read_from")]
        from: NodeId,
        #[serde(deserialize_with = "read_to")]
        to: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        latency: Option<LatencySpec>,
        #[serde(default, deserialize_with = "read_loss", skip_serializing_if = "Option::is_none")]
        loss: Option<f64>,
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
        match self {
            Fault::Crash { node } => format!("crash n{node}"),
            Fault::Restart { node } => format!("restart n{node}"),
            Fault::Pause { node, duration_ms } => format!("pause n{node} for {duration_ms} ms"),
            Fault::Partition { groups } => {
                let parts: Vec<String> = groups
                    .iter()
                    .map(|g| g.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(","))
                    .collect();
                format!("partition {}", parts.join(" | "))
            }
            Fault::Heal => "heal".to_string(),
            Fault::Cut { from, to } => format!("cut n{from}→n{to}"),
            Fault::Uncut { from, to } => format!("uncut n{from}→n{to}"),
            Fault::Link { from, to, .. } => format!("link n{from}→n{to}"),
        }
    }

    /// The trace code of this fault kind.
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
        }
    }

    /// The node a fault is aimed at, if it has one.
    pub fn node(&self) -> Option<NodeId> {
        match *self {
            Fault::Crash { node } | Fault::Restart { node } | Fault::Pause { node, .. } => Some(node),
            Fault::Cut { from, .. } | Fault::Uncut { from, .. } | Fault::Link { from, .. } => Some(from),
            Fault::Partition { .. } | Fault::Heal => None,
        }
    }

    /// Checks the fault against a cluster of `nodes` nodes whose statuses `status_of`
    /// reports at the moment it applies. Errors name the field and the problem.
    pub fn check(&self, nodes: u32, status_of: impl Fn(NodeId) -> Status) -> Result<(), InputError> {
        match self {
            Fault::Crash { node } => {
                node_exists(*node, nodes, "node")?;
                if status_of(*node) == Status::Crashed {
                    return Err(InputError::new("node", format!("node {node} is already crashed")));
                }
            }
            Fault::Restart { node } => {
                node_exists(*node, nodes, "node")?;
                if status_of(*node) != Status::Crashed {
                    return Err(InputError::new(
                        "node",
                        format!(
                            "node {node} is {}; only a crashed node can restart",
                            status_of(*node).name()
                        ),
                    ));
                }
            }
            Fault::Pause { node, duration_ms } => {
                node_exists(*node, nodes, "node")?;
                let us = ms_to_us(*duration_ms, "duration_ms")?;
                if us == 0 {
                    return Err(InputError::new("duration_ms", "a pause must last longer than 0 ms"));
                }
                match status_of(*node) {
                    Status::Up => {}
                    other => {
                        return Err(InputError::new(
                            "node",
                            format!("node {node} is {}; only a running node can be paused", other.name()),
                        ))
                    }
                }
            }
            Fault::Partition { groups } => check_groups(groups, nodes)?,
            Fault::Heal => {}
            Fault::Cut { from, to } | Fault::Uncut { from, to } => check_link_ends(*from, *to, nodes)?,
            Fault::Link {
                from,
                to,
                latency,
                loss,
                ..
            } => {
                check_link_ends(*from, *to, nodes)?;
                if latency.is_none() && loss.is_none() {
                    return Err(InputError::new("", "a link fault needs `latency`, `loss` or both"));
                }
                if let Some(spec) = latency {
                    spec.to_latency().map_err(|e| e.within("latency"))?;
                }
                if let Some(p) = loss {
                    crate::scenario::probability_ppm(*p, "loss")?;
                }
            }
        }
        Ok(())
    }
}

fn node_exists(node: NodeId, nodes: u32, field: &str) -> Result<(), InputError> {
    if node < nodes {
        Ok(())
    } else {
        Err(InputError::new(
            field,
            format!("node {node} does not exist (nodes are 0–{})", nodes - 1),
        ))
    }
}

fn check_link_ends(from: NodeId, to: NodeId, nodes: u32) -> Result<(), InputError> {
    node_exists(from, nodes, "from")?;
    node_exists(to, nodes, "to")?;
    if from == to {
        return Err(InputError::new(
            "to",
            format!("a link joins two different nodes, got {from}→{to}"),
        ));
    }
    Ok(())
}

fn check_groups(groups: &[Vec<NodeId>], nodes: u32) -> Result<(), InputError> {
    if groups.is_empty() {
        return Err(InputError::new("groups", "a partition needs at least one group"));
    }
    let mut seen = vec![false; nodes as usize];
    for (g, group) in groups.iter().enumerate() {
        if group.is_empty() {
            return Err(InputError::new(
                format!("groups[{g}]"),
                "a group must name at least one node",
            ));
        }
        for (i, &node) in group.iter().enumerate() {
            let field = format!("groups[{g}][{i}]");
            node_exists(node, nodes, &field)?;
            if std::mem::replace(&mut seen[node as usize], true) {
                return Err(InputError::new(field, format!("node {node} is named twice")));
            }
        }
    }
    Ok(())
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
    fn restart_only_a_crashed_node() {
        assert!(Fault::Restart { node: 1 }.check(3, all_up).is_err());
        assert!(Fault::Restart { node: 1 }.check(3, |_| Status::Crashed).is_ok());
        assert!(Fault::Crash { node: 1 }.check(3, |_| Status::Crashed).is_err());
    }

    #[test]
    fn faults_round_trip_through_json() {
        let f = Fault::Link {
            from: 0,
            to: 1,
            latency: None,
            loss: Some(0.5),
            both: true,
        };
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(serde_json::from_str::<Fault>(&text).unwrap(), f);
    }
}
