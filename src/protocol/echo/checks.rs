//! Echo's one checker: every node's pings are being answered (no echo for longer than
//! `SILENCE_INTERVALS` intervals is a violation), with the answers per node as a summary.

use super::*;
use crate::checks::{CheckView, Checked, Checks, Figure, Violation, WorldView};

/// Intervals without an answer before a node's pings count as unanswered.
const SILENCE_INTERVALS: u64 = 5;

#[derive(Clone, Debug)]
pub struct EchoChecks {
    interval_us: Micros,
    /// When each node last had an answer (a boot counts as one).
    last_answer_us: Vec<Micros>,
    /// Whether each node was running at the last look.
    running: Vec<bool>,
    answers: u64,
    unanswered: Violation,
    silent: Vec<NodeId>,
}

impl Checks<Echo> for EchoChecks {
    fn new(config: &EchoConfig, nodes: u32) -> Self {
        EchoChecks {
            interval_us: config.interval_us,
            last_answer_us: vec![0; nodes as usize],
            running: vec![true; nodes as usize],
            answers: 0,
            unanswered: Violation::default(),
            silent: Vec::new(),
        }
    }

    fn observe(&mut self, now_us: Micros, node: NodeId, _obs: &Answered) {
        self.last_answer_us[node as usize] = now_us;
        self.answers += 1;
    }

    fn after_event(&mut self, world: &WorldView<'_, Echo>) {
        let limit_us = self.interval_us * SILENCE_INTERVALS;
        self.silent.clear();
        for (node, proto) in world.protocols.iter().enumerate() {
            if proto.is_some() && !self.running[node] {
                self.last_answer_us[node] = world.now_us; // rebooted: a fresh start
            }
            self.running[node] = proto.is_some();
            if proto.is_some() && world.now_us.saturating_sub(self.last_answer_us[node]) > limit_us {
                self.silent.push(node as NodeId);
            }
        }
        self.unanswered.update(world.now_us, !self.silent.is_empty());
    }

    fn report(&self, _now_us: Micros) -> Vec<CheckView> {
        let detail = if self.silent.is_empty() {
            format!("{} echoes so far", self.answers)
        } else {
            format!(
                "{} node(s) unanswered for {SILENCE_INTERVALS} intervals",
                self.silent.len()
            )
        };
        vec![self.unanswered.view(
            "answered",
            "every live node's pings are answered",
            detail,
            self.silent.clone(),
        )]
    }

    fn summary(&self, _now_us: Micros) -> Vec<Figure> {
        vec![Figure::new(
            "echoes",
            self.answers as f64,
            format!("echoes: {}", self.answers),
        )]
    }
}

impl Checked for Echo {
    type Checks = EchoChecks;
}
