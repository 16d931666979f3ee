//! The fault schedule in engine units, in the one order that validation, the dry run and
//! the engine all use: by time in microseconds, ties in list order.
//!
//! A scenario's faults are parsed once (`parse`) into `Entry`s; `order` sorts them; a
//! `DryRun` walks them against node statuses with `Action::check_status`, the rule the
//! engine applies at each entry's moment. Statuses are determined by faults alone unless
//! the protocol crashes nodes by itself (a replica out of memory): then the dry run cannot
//! know them and leaves status questions to the engine, which skips and reports an entry
//! that the run made moot. Invariant: for a protocol that never crashes itself, an entry
//! the dry run accepts is one the engine applies.

use crate::action::{duration_us, Action, Planned};
use crate::engine::Engine;
use crate::error::InputError;
use crate::fault::ScheduledFault;
use crate::network::NodeId;
use crate::node::Status;
use crate::time::{ms_to_us, Micros};

/// One scheduled fault, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub at_us: Micros,
    pub planned: Planned,
}

/// Parses every fault for a cluster of `nodes` nodes, in list order. Errors name the entry
/// (`faults[3].fault.node`, `faults[0].duration_ms`, `faults[1].at_ms`).
pub fn parse(faults: &[ScheduledFault], nodes: u32) -> Result<Vec<Entry>, InputError> {
    let parse_one = |f: &ScheduledFault| -> Result<Entry, InputError> {
        let at_us = ms_to_us(f.at_ms, "at_ms")?;
        let action = f.fault.to_action(nodes).map_err(|e| e.within("fault"))?;
        let duration = duration_us(&f.fault, f.duration_ms)?;
        Ok(Entry {
            at_us,
            planned: Planned::new(&f.fault, action, duration),
        })
    };
    (faults.iter().enumerate())
        .map(|(i, f)| parse_one(f).map_err(|e| e.within(&format!("faults[{i}]"))))
        .collect()
}

/// The application order: indices sorted by time in µs, ties in list order.
pub fn order(entries: &[Entry]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by_key(|&i| (entries[i].at_us, i));
    order
}

/// Node statuses as the schedule alone determines them, walked entry by entry.
pub struct DryRun {
    /// Each node's status, and when it ends by itself (a pause, a timed crash).
    nodes: Vec<(Status, Option<Micros>)>,
    /// False when the protocol crashes nodes by itself: statuses are then unknowable here.
    judge_status: bool,
}

impl DryRun {
    /// Every node up at time 0.
    pub fn from_start(nodes: u32, judge_status: bool) -> DryRun {
        DryRun {
            nodes: vec![(Status::Up, None); nodes as usize],
            judge_status,
        }
    }

    /// The engine's statuses now, with when each pause or pending restart ends.
    pub fn from_engine(engine: &dyn Engine, judge_status: bool) -> DryRun {
        let status_until = |n: NodeId| match engine.status(n) {
            s @ Status::Paused { until_us, .. } => (s, Some(until_us)),
            s @ Status::Crashed => (s, engine.restart_due_us(n)),
            s @ Status::Up => (s, None),
        };
        DryRun {
            nodes: (0..engine.nodes()).map(status_until).collect(),
            judge_status,
        }
    }

    /// Checks `entry` at its moment and, if it makes sense, applies its effect on statuses.
    /// Timed endings run before faults at the same time, as in the engine.
    pub fn step(&mut self, entry: &Entry) -> Result<(), InputError> {
        let at_us = entry.at_us;
        if self.judge_status {
            let status_at = |n: NodeId| match self.nodes[n as usize] {
                (_, Some(until_us)) if until_us <= at_us => Status::Up,
                (s, _) => s,
            };
            entry
                .planned
                .action
                .check_status(status_at)
                .map_err(|e| e.within("fault"))?;
        }
        let ends = |d: Micros| at_us + d;
        match entry.planned.action {
            Action::Crash { node } => {
                self.nodes[node as usize] = (Status::Crashed, entry.planned.duration_us.map(ends))
            }
            Action::Restart { node } => self.nodes[node as usize] = (Status::Up, None),
            Action::Pause { node, duration_us } => {
                let until_us = ends(duration_us);
                self.nodes[node as usize] = (Status::Paused { until_us, pause_id: 0 }, Some(until_us));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    fn entries(faults: &[(f64, Fault)]) -> Vec<Entry> {
        let list: Vec<ScheduledFault> = faults.iter().map(|(t, f)| ScheduledFault::at(*t, f.clone())).collect();
        parse(&list, 3).unwrap()
    }

    #[test]
    fn order_is_by_microsecond_then_list_position() {
        // 1.0004 ms and 1.0001 ms are both 1 000 µs: list order decides, not the raw float.
        let e = entries(&[
            (1.0004, Fault::Heal),
            (1.0001, Fault::Crash { node: 0 }),
            (0.5, Fault::Heal),
        ]);
        assert_eq!(order(&e), vec![2, 0, 1]);
    }

    #[test]
    fn a_dry_run_that_cannot_know_statuses_leaves_them_to_the_engine() {
        let e = entries(&[(1.0, Fault::Restart { node: 1 })]);
        assert!(DryRun::from_start(3, true).step(&e[0]).is_err());
        assert!(DryRun::from_start(3, false).step(&e[0]).is_ok());
    }
}
