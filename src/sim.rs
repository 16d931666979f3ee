//! A run of a scenario: the world plus its fault schedule and the record of injections.
//!
//! Ordering rule that makes replay exact: a fault scheduled at time t applies after every
//! event due at or before t. A live injection at the current time t happens after
//! `run_until(t)` has processed those same events, so recording it at t and replaying the
//! scenario gives the same trace, bit for bit. Invariant: after any call, every schedule
//! entry up to `now` has been applied, and `scenario.faults` is sorted by time.

use crate::action::Planned;
use crate::budget::MemoryUse;
use crate::checkpoints::Checkpoints;
use crate::checks::{CheckView, Figure, SeriesView};
use crate::engine::Engine;
use crate::error::InputError;
use crate::fault::Fault;
use crate::inspect::{Columns, NodeView, Snapshot};
use crate::network::NodeId;
use crate::scenario::{Scenario, ScheduledFault};
use crate::schedule::{DryRun, Entry};
use crate::time::{ms_to_us, us_to_ms, Micros};
use crate::trace::TraceEvent;

pub struct Simulation {
    scenario: Scenario,
    /// `scenario.faults[i]` parsed into engine units, applying at `plan[i].at_us`; both
    /// sorted by (µs, list order), the order the dry run checked.
    plan: Vec<Entry>,
    /// Index of the first fault not yet applied.
    cursor: usize,
    engine: Box<dyn Engine>,
    timeline: Checkpoints,
    /// Whether the world keeps every trace event (`with_full_trace`).
    full_trace: bool,
    /// Scheduled faults the run itself made moot (a crash of a node that had already died
    /// of overload), by schedule index, with the reason. Skipping is deterministic.
    skipped: std::collections::BTreeMap<usize, String>,
}

/// Boots the world a validated scenario describes, at time 0.
fn boot_world(scenario: &Scenario, full_trace: bool) -> Box<dyn Engine> {
    let link = scenario.network.to_link().expect("validated");
    let timing = scenario.network.to_timing(scenario.nodes).expect("validated");
    (scenario.protocol)
        .world(scenario.nodes, link, timing, scenario.seed, full_trace)
        .expect("validated")
}

impl Simulation {
    /// Validates the scenario, boots the cluster and applies faults scheduled at time 0.
    pub fn new(scenario: Scenario) -> Result<Simulation, InputError> {
        Simulation::build(scenario, false)
    }

    /// Like `new`, but keeps every trace event from time 0 for `take_trace`.
    pub fn with_full_trace(scenario: Scenario) -> Result<Simulation, InputError> {
        Simulation::build(scenario, true)
    }

    fn build(mut scenario: Scenario, full_trace: bool) -> Result<Simulation, InputError> {
        scenario.validate()?;
        // The scenario's faults in application order, beside their parsed form.
        let (order, plan): (Vec<usize>, Vec<Entry>) = scenario.plan()?.into_iter().unzip();
        let mut listed: Vec<Option<ScheduledFault>> = scenario.faults.drain(..).map(Some).collect();
        scenario.faults = order.iter().filter_map(|&i| listed[i].take()).collect();
        let engine = boot_world(&scenario, full_trace);
        let mut sim = Simulation {
            timeline: Checkpoints::new(scenario.nodes),
            scenario,
            plan,
            cursor: 0,
            skipped: Default::default(),
            engine,
            full_trace,
        };
        sim.advance_to(0);
        Ok(sim)
    }

    pub fn from_json(text: &str) -> Result<Simulation, InputError> {
        Simulation::new(Scenario::from_json(text)?)
    }

    /// Runs to absolute simulated time `t_ms`. Returns events processed.
    pub fn run_until_ms(&mut self, t_ms: f64) -> Result<u64, InputError> {
        let t_us = ms_to_us(t_ms, "ms")?;
        if t_us < self.now_us() {
            return Err(InputError::new(
                "ms",
                format!(
                    "cannot run back to {t_ms} ms from {} ms: time only runs forwards",
                    us_to_ms(self.now_us())
                ),
            ));
        }
        Ok(self.advance_to(t_us))
    }

    /// Runs toward absolute time `t_ms` until about `max_events` are processed (at least
    /// one microsecond's worth). Returns the events processed and the time reached, ms.
    pub fn run_until_within_ms(&mut self, t_ms: f64, max_events: f64) -> Result<(u64, f64), InputError> {
        if !(max_events.is_finite() && max_events >= 1.0) {
            return Err(InputError::new(
                "max_events",
                format!("must be a number ≥ 1, got {max_events}"),
            ));
        }
        let t_us = ms_to_us(t_ms, "ms")?;
        if t_us < self.now_us() {
            return Err(InputError::new(
                "ms",
                format!("cannot run back to {t_ms} ms from {} ms", us_to_ms(self.now_us())),
            ));
        }
        let (events, reached) = self.advance_within(t_us, max_events as u64);
        Ok((events, us_to_ms(reached)))
    }

    /// Runs `dt_ms` further. Returns events processed.
    pub fn step_ms(&mut self, dt_ms: f64) -> Result<u64, InputError> {
        let dt_us = ms_to_us(dt_ms, "ms")?;
        let target = self
            .now_us()
            .checked_add(dt_us)
            .filter(|&t| t <= crate::limits::MAX_TIME_US);
        let target = target.ok_or_else(|| InputError::new("ms", "that step goes past the 30-day limit"))?;
        Ok(self.advance_to(target))
    }

    /// Runs to `t_us`, applying scheduled faults in order and taking checkpoints as
    /// their times pass.
    pub fn advance_to(&mut self, t_us: Micros) -> u64 {
        let mut events = 0;
        loop {
            // After a seek back, the next one due lies past the latest existing checkpoint.
            let due = self.timeline.next_due_us().max(self.now_us());
            if due > t_us {
                break;
            }
            events += self.advance_plain(due);
            self.timeline.take(due, self.cursor, self.engine.as_mut());
        }
        events + self.advance_plain(t_us)
    }

    /// Runs toward `t_us` but stops, at a microsecond boundary, once about `max_events`
    /// are processed: the page's frames stay short however dense the run. Stopping early
    /// leaves exactly the state `advance_to(reached)` would, so slices never change a
    /// trace. Returns the events processed and the time reached.
    pub fn advance_within(&mut self, t_us: Micros, max_events: u64) -> (u64, Micros) {
        let mut events = 0;
        loop {
            // The next moment something besides events happens: a scheduled fault or a
            // checkpoint; up to it, only the engine's budget can stop the run.
            let fault_us = self.plan.get(self.cursor).map_or(t_us, |e| e.at_us);
            let due_us = self.timeline.next_due_us().max(self.now_us());
            let stop = t_us.min(fault_us).min(due_us).max(self.now_us());
            let (n, reached) = self
                .engine
                .run_until_within(stop, max_events.saturating_sub(events).max(1));
            events += n;
            if reached < stop {
                return (events, reached);
            }
            // At `stop` every event is done; apply what is due there as `advance_to` does.
            events += self.advance_to(stop);
            if stop >= t_us || events >= max_events {
                return (events, stop);
            }
        }
    }

    /// Moves the run to absolute time `t_ms`, backwards as well as forwards: seeking back
    /// restores the latest checkpoint before it and replays from there, so the state is
    /// exactly the one the run had then. Returns events replayed.
    pub fn seek_ms(&mut self, t_ms: f64) -> Result<u64, InputError> {
        let t_us = ms_to_us(t_ms, "ms")?;
        if t_us > crate::limits::MAX_TIME_US {
            return Err(InputError::new("ms", "that is past the 30-day limit"));
        }
        if t_us < self.now_us() {
            match self.timeline.before(t_us) {
                Some(checkpoint) => {
                    self.engine = checkpoint.engine.boxed_clone();
                    self.cursor = checkpoint.cursor;
                }
                None => {
                    // Before the first checkpoint (or time travel is off): boot again.
                    self.engine = boot_world(&self.scenario, self.full_trace);
                    self.cursor = 0;
                }
            }
            self.skipped.retain(|&i, _| i < self.cursor);
            self.timeline.rewound_to(t_us);
        }
        Ok(self.advance_to(t_us))
    }

    /// How many checkpoints are held now, and the simulated time between them.
    pub fn checkpoints(&self) -> (usize, Micros) {
        (self.timeline.len(), self.timeline.interval_us())
    }

    /// What the run keeps in bytes (world, checkpoints, trace ring, histories, series)
    /// against its budget, and how well time travel works under it.
    pub fn memory(&self) -> MemoryUse {
        MemoryUse {
            used_bytes: self.engine.approx_bytes() as u64 + self.timeline.held_bytes(),
            budget_bytes: self.timeline.budget_bytes(),
            checkpoints: self.timeline.len(),
            interval_us: self.timeline.interval_us(),
            time_travel: self.timeline.time_travel(),
        }
    }

    /// Sets the byte budget (16 MiB to 3 GiB); checkpoints thin out at once if the run no
    /// longer fits. On error nothing changes.
    pub fn set_memory_budget(&mut self, bytes: u64) -> Result<(), InputError> {
        let live = self.engine.approx_bytes() as u64;
        self.timeline.set_budget(bytes, live)
    }

    /// The time of the latest checkpoint at or before `t_us` (0 when none is held): seek
    /// there, then run forward in slices, to seek back without one long replay.
    pub fn checkpoint_before_us(&self, t_us: Micros) -> Micros {
        self.timeline.before(t_us).map_or(0, |c| c.at_us)
    }

    fn advance_plain(&mut self, t_us: Micros) -> u64 {
        let mut events = 0;
        while self.cursor < self.plan.len() && self.plan[self.cursor].at_us <= t_us {
            let entry = &self.plan[self.cursor];
            events += self.engine.run_until(entry.at_us);
            // The engine judges each entry at its moment with the dry run's rule; a node that
            // crashed by itself (out of memory) can still make an entry moot: it is skipped.
            if let Err(e) = self.engine.apply(&entry.planned) {
                let listed = &self.scenario.faults[self.cursor];
                let note = format!("{} at {} ms skipped: {}", listed.fault.label(), listed.at_ms, e.problem);
                self.skipped.insert(self.cursor, note);
            }
            self.cursor += 1;
        }
        events + self.engine.run_until(t_us)
    }

    /// Applies `fault` now (for `duration_ms`, if given) and records it in the schedule at
    /// the current time. Scheduled faults that no longer make sense after it (a scheduled
    /// crash of the node just crashed by hand, say) are removed from the future: the run
    /// forks. Returns their labels. On error nothing changes.
    pub fn inject(&mut self, fault: Fault, duration_ms: Option<f64>) -> Result<Vec<String>, InputError> {
        if self.scenario.faults.len() >= crate::limits::MAX_FAULTS {
            return Err(InputError::new(
                "",
                format!("this run already holds {} faults, the limit", crate::limits::MAX_FAULTS),
            ));
        }
        let planned = Planned::parse(&fault, duration_ms, self.scenario.nodes)?;
        self.engine.apply(&planned)?;
        let now = self.now_us();
        let listed = ScheduledFault {
            at_ms: us_to_ms(now),
            fault,
            duration_ms,
            injected: true,
        };
        // A new future: what was injected by hand after this moment belonged to the old one.
        let mut removed = self.remove_future(|listed, _| listed.injected, "(from the old future)");
        self.timeline.forget_after(now);
        self.scenario.faults.insert(self.cursor, listed);
        self.plan.insert(self.cursor, Entry { at_us: now, planned });
        self.cursor += 1;
        removed.extend(self.remove_moot_future());
        Ok(removed)
    }

    /// Removes future entries (not yet applied) that `doomed` picks; returns their labels.
    fn remove_future(&mut self, mut doomed: impl FnMut(&ScheduledFault, &Entry) -> bool, why: &str) -> Vec<String> {
        let mut removed = Vec::new();
        let mut i = self.cursor;
        while i < self.plan.len() {
            if doomed(&self.scenario.faults[i], &self.plan[i]) {
                let listed = self.scenario.faults.remove(i);
                self.plan.remove(i);
                let label = format!("{} at {} ms {why}", listed.fault.label(), listed.at_ms);
                removed.push(label.trim_end().to_string());
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Dry-runs the future from the engine's statuses now (the same rule as at load and at
    /// each entry's moment) and removes the entries that no longer make sense.
    fn remove_moot_future(&mut self) -> Vec<String> {
        let judge = !self.scenario.protocol.crashes_itself();
        let mut dry = DryRun::from_engine(self.engine.as_ref(), judge);
        self.remove_future(|_, entry| dry.step(entry).is_err(), "")
    }

    pub fn inject_json(&mut self, text: &str, duration_ms: Option<f64>) -> Result<Vec<String>, InputError> {
        let fault: Fault = crate::error::parse_json(text)?;
        self.inject(fault, duration_ms)
    }

    /// Scheduled faults skipped because the run had made them moot, with the reason.
    pub fn skipped_faults(&self) -> Vec<String> {
        self.skipped.values().cloned().collect()
    }

    pub fn now_us(&self) -> Micros {
        self.engine.now_us()
    }

    /// The scenario with every injection so far: share it and it replays this run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn snapshot(&self) -> Snapshot {
        self.engine.snapshot(self.scenario.seed)
    }

    pub fn node_view(&self, node: NodeId) -> Result<NodeView, InputError> {
        self.engine.node_view(node)
    }

    pub fn columns(&mut self) -> &Columns {
        self.engine.columns()
    }

    /// Every checker's property at this moment.
    pub fn checks(&self) -> Vec<CheckView> {
        self.engine.checks()
    }

    /// The checkers' lines for a headless summary (`split brain: 0 ms`, …).
    pub fn check_summary(&self) -> Vec<String> {
        self.engine.check_summary().into_iter().map(|f| f.line).collect()
    }

    /// The same summary as figures (`split_brain_ms`: 0, …): what programs and tests read.
    pub fn figures(&self) -> Vec<Figure> {
        self.engine.check_summary()
    }

    /// The checkers' time series, for charts.
    pub fn series(&self) -> Vec<SeriesView> {
        self.engine.series()
    }

    /// The clients' history so far, when the protocol records one (register; Raft with a
    /// key-value workload).
    pub fn history(&self) -> Option<&crate::history::History> {
        self.engine.history()
    }

    pub fn trace_hash(&self) -> u64 {
        self.engine.trace().hash()
    }

    pub fn trace_hash_hex(&self) -> String {
        self.engine.trace().hash_hex()
    }

    pub fn recent_trace(&self, n: usize) -> Vec<TraceEvent> {
        self.engine.trace().recent(n).copied().collect()
    }

    /// The newest `n` events with their vector clocks, for the time-space diagram.
    pub fn causal_window(&self, n: usize) -> crate::trace::Spill {
        self.engine.trace().window(n)
    }

    /// Takes the events kept since the last call (see `with_full_trace`).
    pub fn take_trace(&mut self) -> crate::trace::Spill {
        self.engine.trace_mut().take_spill()
    }

    pub fn engine(&self) -> &dyn Engine {
        self.engine.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Heartbeats with a fixed timeout check deadlines from their soonest peers; under
    /// partitions, pauses, crashes and clocks jumping both ways, every such check agrees
    /// with a full scan (asserted inside the protocol in test builds).
    #[test]
    fn heartbeat_deadline_shortcut_agrees_with_a_full_scan() {
        let fault = |at: u32, f: &str| format!(r#"{{"at_ms": {at}, "fault": {f}}}"#);
        let faults = [
            fault(
                500,
                r#"{"kind": "partition", "groups": [[0,1,2,3,4,5,6,7,8,9], [10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29]]}"#,
            ),
            fault(1500, r#"{"kind": "clock_jump", "node": 3, "by_ms": -400}"#),
            fault(1700, r#"{"kind": "clock_jump", "node": 12, "by_ms": 900}"#),
            fault(2000, r#"{"kind": "heal"}"#),
            fault(2600, r#"{"kind": "pause", "node": 7, "duration_ms": 700}"#),
            fault(3000, r#"{"kind": "crash", "node": 20}"#),
            fault(3900, r#"{"kind": "restart", "node": 20}"#),
            fault(4200, r#"{"kind": "clock_jump", "node": 20, "by_ms": -800}"#),
        ];
        for seed in 1..=4 {
            let text = format!(
                r#"{{"seed": {seed}, "nodes": 30, "protocol": {{"kind": "heartbeat", "interval_ms": 50, "timeout_ms": 160}},
                  "network": {{"latency": {{"kind": "uniform", "min_ms": 1, "max_ms": 60}}, "loss": 0.05}},
                  "faults": [{}]}}"#,
                faults.join(",")
            );
            let scenario = Scenario::from_json(&text).expect("a valid scenario");
            let mut sim = Simulation::new(scenario).expect("it loads");
            sim.run_until_ms(6_000.0).expect("it runs");
        }
    }
}
