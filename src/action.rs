//! Faults in engine units: parsed once, then applied without re-reading anything.
//!
//! `Fault` is the wire form (milliseconds, probabilities, latency specs). `Fault::to_action`
//! checks every value against a cluster of `nodes` nodes and converts it to an `Action`
//! (microseconds, parts per million, `Latency`), so the engine applies actions with no
//! `expect`. What depends on the moment — whether a node is up, crashed or paused — is
//! `Action::check_status`, the one rule the schedule's dry run and the engine share.
//! Invariant: an `Action` names only nodes below the `nodes` it was parsed for.

use crate::error::InputError;
use crate::fault::{Behaviour, Damage, Fault, Shape};
use crate::network::{Latency, NodeId};
use crate::node::Status;
use crate::time::{ms_to_us, Micros};
use crate::vocab::probability_ppm;

/// Largest clock offset or jump, in ms (one day).
const MAX_CLOCK_MS: f64 = 86_400_000.0;
/// Largest drift, in ppm (±50%).
const MAX_DRIFT_PPM: i32 = 500_000;

/// One fault in engine units (see `Fault` for what each does).
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    Pause {
        node: NodeId,
        duration_us: Micros,
    },
    Omission {
        node: NodeId,
        send_ppm: u32,
        receive_ppm: u32,
    },
    /// `delay: None` clears the slowness.
    Slow {
        node: NodeId,
        delay: Option<Latency>,
    },
    Gray {
        node: NodeId,
        fail_ppm: u32,
        slow_us: Micros,
    },
    Byzantine {
        node: NodeId,
        behaviour: Behaviour,
    },
    Storage {
        node: NodeId,
        damage: Damage,
    },
    ClockOffset {
        node: NodeId,
        offset_us: i64,
    },
    ClockDrift {
        node: NodeId,
        drift_ppm: i32,
    },
    ClockJump {
        node: NodeId,
        by_us: i64,
    },
    ClockStrobe {
        node: NodeId,
        a_us: i64,
        b_us: i64,
        period_us: Micros,
    },
    Partition {
        groups: Vec<Vec<NodeId>>,
    },
    Isolate {
        node: NodeId,
    },
    Shape {
        shape: Shape,
    },
    PartialPartition {
        a: Vec<NodeId>,
        b: Vec<NodeId>,
    },
    Heal,
    Stabilise,
    Cut {
        from: NodeId,
        to: NodeId,
    },
    Uncut {
        from: NodeId,
        to: NodeId,
    },
    Flap {
        from: NodeId,
        to: NodeId,
        period_us: Micros,
        both: bool,
    },
    Link {
        from: NodeId,
        to: NodeId,
        link: LinkChange,
        both: bool,
    },
}

/// What a link fault overrides; `None` keeps the link's current value.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkChange {
    pub latency: Option<Latency>,
    pub loss_ppm: Option<u32>,
    pub duplicate_ppm: Option<u32>,
}

/// A parsed fault with what the trace records of it and how long it lasts.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub action: Action,
    /// `Fault::code`, part of every trace hash.
    pub code: u32,
    /// `Fault::node`, the node the trace names.
    pub target: Option<NodeId>,
    /// With a duration the engine undoes the fault when it ends.
    pub duration_us: Option<Micros>,
}

impl Planned {
    /// Parses a fault and its optional duration for a cluster of `nodes` nodes. Errors
    /// name the fault's field (`node`, `loss`, …) or `duration_ms`.
    pub fn parse(fault: &Fault, duration_ms: Option<f64>, nodes: u32) -> Result<Planned, InputError> {
        let action = fault.to_action(nodes)?;
        Ok(Planned::new(fault, action, duration_us(fault, duration_ms)?))
    }

    pub fn new(fault: &Fault, action: Action, duration_us: Option<Micros>) -> Planned {
        Planned {
            action,
            code: fault.code(),
            target: fault.node(),
            duration_us,
        }
    }
}

/// Checks a fault's optional duration: positive, finite, and for a fault that can be undone.
pub fn duration_us(fault: &Fault, duration_ms: Option<f64>) -> Result<Option<Micros>, InputError> {
    let Some(ms) = duration_ms else { return Ok(None) };
    if !fault.revertible() {
        let problem = format!(
            "`{}` cannot be given a duration (it is instant, or has its own)",
            fault.label()
        );
        return Err(InputError::new("duration_ms", problem));
    }
    let us = ms_to_us(ms, "duration_ms")?;
    if us == 0 {
        return Err(InputError::new("duration_ms", "must be longer than 0 ms"));
    }
    Ok(Some(us))
}

impl Action {
    /// Whether the action makes sense given node statuses at the moment it applies.
    pub fn check_status(&self, status_of: impl Fn(NodeId) -> Status) -> Result<(), InputError> {
        match *self {
            Action::Crash { node } if status_of(node) == Status::Crashed => {
                Err(InputError::new("node", format!("node {node} is already crashed")))
            }
            Action::Restart { node } | Action::Storage { node, .. } if status_of(node) != Status::Crashed => {
                let verb = match self {
                    Action::Storage { .. } => "have its storage damaged",
                    _ => "restart",
                };
                let status = status_of(node).name();
                let problem = format!("node {node} is {status}; only a crashed node can {verb}");
                Err(InputError::new("node", problem))
            }
            Action::Pause { node, .. } if status_of(node) != Status::Up => {
                let status = status_of(node).name();
                let problem = format!("node {node} is {status}; only a running node can be paused");
                Err(InputError::new("node", problem))
            }
            _ => Ok(()),
        }
    }

    /// Whether the action's sense depends on node statuses (crash, restart, pause, storage).
    pub fn depends_on_status(&self) -> bool {
        matches!(
            self,
            Action::Crash { .. } | Action::Restart { .. } | Action::Pause { .. } | Action::Storage { .. }
        )
    }
}

impl Fault {
    /// Checks every value against a cluster of `nodes` nodes and converts to engine units.
    /// Errors name the field and the problem.
    pub fn to_action(&self, nodes: u32) -> Result<Action, InputError> {
        if let Some(node) = self.node() {
            let link = matches!(
                self,
                Fault::Cut { .. } | Fault::Uncut { .. } | Fault::Flap { .. } | Fault::Link { .. }
            );
            node_exists(node, nodes, if link { "from" } else { "node" })?;
        }
        match self {
            Fault::Crash { node } => Ok(Action::Crash { node: *node }),
            Fault::Restart { node } => Ok(Action::Restart { node: *node }),
            Fault::Storage { node, damage } => Ok(Action::Storage {
                node: *node,
                damage: *damage,
            }),
            Fault::Byzantine { node, behaviour } => byzantine(*node, behaviour, nodes),
            Fault::Isolate { node } => Ok(Action::Isolate { node: *node }),
            Fault::Heal => Ok(Action::Heal),
            Fault::Stabilise => Ok(Action::Stabilise),
            Fault::Shape { shape } => shape.check(nodes).map(|()| Action::Shape { shape: *shape }),
            Fault::Partition { groups } => {
                check_groups(groups, nodes).map(|()| Action::Partition { groups: groups.clone() })
            }
            Fault::PartialPartition { a, b } => match check_groups(&[a.clone(), b.clone()], nodes) {
                Ok(()) => Ok(Action::PartialPartition {
                    a: a.clone(),
                    b: b.clone(),
                }),
                Err(e) => Err(InputError::new(side_field(&e.field), e.problem)),
            },
            Fault::Cut { from, to } => {
                check_link_ends(*from, *to, nodes).map(|()| Action::Cut { from: *from, to: *to })
            }
            Fault::Uncut { from, to } => {
                check_link_ends(*from, *to, nodes).map(|()| Action::Uncut { from: *from, to: *to })
            }
            Fault::Link { .. } | Fault::Flap { .. } => self.link_action(nodes),
            _ => self.node_action(),
        }
    }

    /// The faults that afflict one node with parameters.
    fn node_action(&self) -> Result<Action, InputError> {
        Ok(match *self {
            Fault::Pause { node, duration_ms } => {
                let duration_us = ms_to_us(duration_ms, "duration_ms")?;
                if duration_us == 0 {
                    return Err(InputError::new("duration_ms", "a pause must last longer than 0 ms"));
                }
                Action::Pause { node, duration_us }
            }
            Fault::Omission { node, send, receive } => Action::Omission {
                node,
                send_ppm: probability_ppm(send, "send")?,
                receive_ppm: probability_ppm(receive, "receive")?,
            },
            Fault::Slow { node, ref delay } => {
                let latency = delay.to_latency().map_err(|e| e.within("delay"))?;
                let off = latency.max_us() <= 1 && matches!(latency, Latency::Constant { us: 0 });
                Action::Slow {
                    node,
                    delay: (!off).then_some(latency),
                }
            }
            Fault::Gray { node, fail, slow_ms } => Action::Gray {
                node,
                fail_ppm: probability_ppm(fail, "fail")?,
                slow_us: ms_to_us(slow_ms, "slow_ms")?,
            },
            Fault::ClockOffset { node, offset_ms } => Action::ClockOffset {
                node,
                offset_us: signed_us(offset_ms, "offset_ms")?,
            },
            Fault::ClockJump { node, by_ms } => Action::ClockJump {
                node,
                by_us: signed_us(by_ms, "by_ms")?,
            },
            Fault::ClockDrift { node, drift_ppm } => {
                if drift_ppm.abs() > MAX_DRIFT_PPM {
                    let problem = format!("must be between −{MAX_DRIFT_PPM} and {MAX_DRIFT_PPM} ppm, got {drift_ppm}");
                    return Err(InputError::new("drift_ppm", problem));
                }
                Action::ClockDrift { node, drift_ppm }
            }
            Fault::ClockStrobe {
                node,
                a_ms,
                b_ms,
                period_ms,
            } => Action::ClockStrobe {
                node,
                a_us: signed_us(a_ms, "a_ms")?,
                b_us: signed_us(b_ms, "b_ms")?,
                period_us: period_us(period_ms)?,
            },
            _ => unreachable!("to_action handles every other fault"),
        })
    }

    /// Flapping links and link overrides.
    fn link_action(&self, nodes: u32) -> Result<Action, InputError> {
        match *self {
            Fault::Flap {
                from,
                to,
                period_ms,
                both,
            } => {
                check_link_ends(from, to, nodes)?;
                let period_us = period_us(period_ms)?;
                Ok(Action::Flap {
                    from,
                    to,
                    period_us,
                    both,
                })
            }
            Fault::Link {
                from,
                to,
                ref latency,
                loss,
                duplicate,
                both,
            } => {
                check_link_ends(from, to, nodes)?;
                if latency.is_none() && loss.is_none() && duplicate.is_none() {
                    return Err(InputError::new(
                        "",
                        "a link fault needs `latency`, `loss` or `duplicate`",
                    ));
                }
                let link = LinkChange {
                    latency: latency
                        .as_ref()
                        .map(|spec| spec.to_latency().map_err(|e| e.within("latency")))
                        .transpose()?,
                    loss_ppm: loss.map(|p| probability_ppm(p, "loss")).transpose()?,
                    duplicate_ppm: duplicate.map(|p| probability_ppm(p, "duplicate")).transpose()?,
                };
                Ok(Action::Link { from, to, link, both })
            }
            _ => unreachable!("to_action sends only link faults here"),
        }
    }
}

fn byzantine(node: NodeId, behaviour: &Behaviour, nodes: u32) -> Result<Action, InputError> {
    if let Behaviour::Forge { as_node } = *behaviour {
        node_exists(as_node, nodes, "behaviour.as_node")?;
        if as_node == node {
            return Err(InputError::new(
                "behaviour.as_node",
                "a node forging itself is just honest",
            ));
        }
    }
    Ok(Action::Byzantine {
        node,
        behaviour: behaviour.clone(),
    })
}

impl Shape {
    fn check(self, nodes: u32) -> Result<(), InputError> {
        let least = match self {
            Shape::Halves | Shape::MinorityThird => 2,
            Shape::Bridge => 3,
            Shape::Ring => 5,
        };
        if nodes < least {
            let problem = format!(
                "a {} needs at least {least} nodes, the cluster has {nodes}",
                self.name()
            );
            return Err(InputError::new("shape", problem));
        }
        Ok(())
    }
}

fn side_field(field: &str) -> String {
    field.replacen("groups[0]", "a", 1).replacen("groups[1]", "b", 1)
}

/// A clock offset or jump in µs (rounded), within a day either way.
fn signed_us(ms: f64, field: &str) -> Result<i64, InputError> {
    if ms.is_finite() && ms.abs() <= MAX_CLOCK_MS {
        Ok((ms * 1_000.0).round() as i64)
    } else {
        Err(InputError::new(
            field,
            format!("must be a finite number of ms within ±{MAX_CLOCK_MS}, got {ms}"),
        ))
    }
}

fn period_us(period_ms: f64) -> Result<Micros, InputError> {
    let us = ms_to_us(period_ms, "period_ms")?;
    if us < 1_000 {
        return Err(InputError::new(
            "period_ms",
            format!("must be at least 1 ms, got {period_ms}"),
        ));
    }
    Ok(us)
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

/// Refuses "the network stabilises now" on a network without a GST: only the partially
/// synchronous model has one to reach.
pub fn check_stabilise(timing: &crate::timing::Timing) -> Result<(), InputError> {
    match timing {
        crate::timing::Timing::PartiallySynchronous { .. } => Ok(()),
        _ => Err(InputError::new(
            "kind",
            "stabilise: only a partially synchronous network has a global stabilisation time \
             (set network.timing to partially_synchronous)",
        )),
    }
}
