//! Shrinking a failing run to its story: delta debugging over the fault schedule, then
//! shorter faults and fewer nodes, while the same checker still fails.
//!
//! A candidate "still fails" when it validates and the named checker is violated within
//! the original run length. The steps: drop faults scheduled after the violation (they
//! cannot have caused it); ddmin over the remaining faults (remove chunks, halving their
//! size, then one at a time until no single fault can go); halve each remaining fault's
//! duration while it still fails; drop the highest-numbered node while it still fails;
//! repeat until nothing changes or the run budget is spent. Invariant: every accepted step
//! was checked by running it, so the result fails the checker, has no more faults, nodes or
//! fault time than the input, and — when the budget was not hit — removing any one of its
//! faults makes the checker hold.

use serde::Serialize;

use crate::error::InputError;
use crate::fault::Fault;
use crate::scenario::{Scenario, ScheduledFault};
use crate::sim::Simulation;
use crate::time::{ms_to_us, us_to_ms, Micros};

/// Simulated time between looks at the checker while a candidate runs, in µs.
const LOOK_US: Micros = 250_000;
/// Halvings tried per fault duration.
const HALVINGS: u32 = 10;

/// A shrunk run.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub scenario: Scenario,
    /// When the checker is first violated in the shrunk run.
    pub violated_at_us: Micros,
    /// What was taken away, in words, in the order it went.
    pub removed: Vec<String>,
    /// Candidate runs made.
    pub runs: u32,
    /// The run budget ran out before the search was done.
    pub budget_hit: bool,
}

/// What a shrink did, for people and scripts: the checker, the shrunk run's share link
/// (opening at the violation), and the sizes before and after.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub check: String,
    pub link: String,
    pub violated_at_ms: f64,
    pub removed: Vec<String>,
    pub faults_before: usize,
    pub faults_after: usize,
    pub nodes_before: u32,
    pub nodes_after: u32,
    pub runs: u32,
    pub budget_hit: bool,
}

impl Summary {
    /// The summary of shrinking `original` (for `check`) to `shrunk`.
    pub fn of(original: &Scenario, check: &str, shrunk: &Shrunk) -> Summary {
        Summary {
            check: check.to_string(),
            link: crate::share::encode(&shrunk.scenario, shrunk.violated_at_us),
            violated_at_ms: us_to_ms(shrunk.violated_at_us),
            removed: shrunk.removed.clone(),
            faults_before: original.faults.len(),
            faults_after: shrunk.scenario.faults.len(),
            nodes_before: original.nodes,
            nodes_after: shrunk.scenario.nodes,
            runs: shrunk.runs,
            budget_hit: shrunk.budget_hit,
        }
    }
}

struct Search<'a> {
    check: &'a str,
    until_us: Micros,
    runs: u32,
    max_runs: u32,
    progress: &'a mut dyn FnMut(u32),
}

impl Search<'_> {
    /// When `check` is first violated in `s` (within the run length), if it is.
    fn fails(&mut self, s: &Scenario) -> Option<Micros> {
        if self.runs >= self.max_runs || s.validate().is_err() {
            return None;
        }
        self.runs += 1;
        (self.progress)(self.runs);
        violation_us(s, self.check, self.until_us)
    }
}

/// When `check` is first violated in `s` run up to `until_us` (stopping early once it is).
pub fn violation_us(s: &Scenario, check: &str, until_us: Micros) -> Option<Micros> {
    let mut sim = Simulation::new(s.clone()).ok()?;
    loop {
        let first = sim.checks().into_iter().find(|c| c.id == check)?.first_violation_ms;
        if let Some(ms) = first {
            return ms_to_us(ms, "ms").ok();
        }
        if sim.now_us() >= until_us {
            return None;
        }
        sim.advance_to((sim.now_us() + LOOK_US).min(until_us));
    }
}

/// Shrinks `s`, which must violate `check` within `until_us`, spending at most `max_runs`
/// candidate runs; `progress` hears the count of runs so far.
pub fn shrink(
    s: &Scenario,
    check: &str,
    until_us: Micros,
    max_runs: u32,
    progress: &mut dyn FnMut(u32),
) -> Result<Shrunk, InputError> {
    let mut search = Search {
        check,
        until_us,
        runs: 0,
        max_runs: max_runs.max(1),
        progress,
    };
    let at_us = violation_us(s, check, until_us).ok_or_else(|| {
        let problem = format!(
            "`{check}` is not violated within {} ms: nothing to shrink",
            us_to_ms(until_us)
        );
        InputError::new("check", problem)
    })?;
    let mut best = s.clone();
    let mut removed = Vec::new();
    // Faults after the violation cannot have caused it.
    let (before, after): (Vec<_>, Vec<_>) =
        (best.faults.drain(..)).partition(|f| ms_to_us(f.at_ms, "at_ms").is_ok_and(|t| t <= at_us));
    best.faults = before;
    removed.extend(
        after
            .iter()
            .map(|f| format!("fault {} (after the violation)", describe(f))),
    );
    let mut at_us = search.fails(&best).unwrap_or(at_us);
    loop {
        let size = (best.faults.len(), best.nodes, total_fault_ms(&best));
        ddmin(&mut search, &mut best, &mut removed, &mut at_us);
        shorten(&mut search, &mut best, &mut removed, &mut at_us);
        drop_nodes(&mut search, &mut best, &mut removed, &mut at_us);
        if size == (best.faults.len(), best.nodes, total_fault_ms(&best)) || search.runs >= search.max_runs {
            break;
        }
    }
    Ok(Shrunk {
        scenario: best,
        violated_at_us: at_us,
        removed,
        runs: search.runs,
        budget_hit: search.runs >= search.max_runs,
    })
}

fn describe(f: &ScheduledFault) -> String {
    match f.duration_ms {
        Some(d) => format!("{} at {} ms for {d} ms", f.fault.label(), f.at_ms),
        None => format!("{} at {} ms", f.fault.label(), f.at_ms),
    }
}

fn total_fault_ms(s: &Scenario) -> f64 {
    s.faults.iter().map(|f| duration_of(f).unwrap_or(0.0)).sum()
}

/// Delta debugging: remove chunks of faults (halving the chunk size), keeping a removal
/// whenever the checker still fails; ends 1-minimal (no single fault can go).
fn ddmin(search: &mut Search, best: &mut Scenario, removed: &mut Vec<String>, at_us: &mut Micros) {
    let mut chunks = 2;
    while !best.faults.is_empty() {
        let len = best.faults.len();
        let chunks_now = chunks.min(len);
        let mut progressed = false;
        for c in 0..chunks_now {
            let (lo, hi) = (c * len / chunks_now, (c + 1) * len / chunks_now);
            let mut trial = best.clone();
            let gone: Vec<ScheduledFault> = trial.faults.drain(lo..hi).collect();
            if let Some(t) = search.fails(&trial) {
                removed.extend(gone.iter().map(|f| format!("fault {}", describe(f))));
                *best = trial;
                *at_us = t;
                chunks = (chunks_now - 1).max(2);
                progressed = true;
                break;
            }
        }
        if !progressed {
            if chunks_now >= len {
                return;
            }
            chunks = (chunks_now * 2).min(len);
        }
    }
}

/// How long a fault lasts, if it has a length to shorten.
fn duration_of(f: &ScheduledFault) -> Option<f64> {
    match (&f.fault, f.duration_ms) {
        (_, Some(d)) => Some(d),
        (Fault::Pause { duration_ms, .. }, None) => Some(*duration_ms),
        _ => None,
    }
}

fn with_duration(f: &ScheduledFault, ms: f64) -> ScheduledFault {
    let mut g = f.clone();
    match (&mut g.fault, g.duration_ms.is_some()) {
        (_, true) => g.duration_ms = Some(ms),
        (Fault::Pause { duration_ms, .. }, false) => *duration_ms = ms,
        _ => {}
    }
    g
}

/// Halves each fault's duration while the checker still fails.
fn shorten(search: &mut Search, best: &mut Scenario, removed: &mut Vec<String>, at_us: &mut Micros) {
    for i in 0..best.faults.len() {
        let Some(from) = duration_of(&best.faults[i]) else {
            continue;
        };
        let mut to = from;
        for _ in 0..HALVINGS {
            let half = (to / 2.0).round().max(1.0);
            if half >= to {
                break;
            }
            let mut trial = best.clone();
            trial.faults[i] = with_duration(&best.faults[i], half);
            match search.fails(&trial) {
                Some(t) => {
                    *best = trial;
                    *at_us = t;
                    to = half;
                }
                None => break,
            }
        }
        if to < from {
            let f = &best.faults[i];
            removed.push(format!(
                "shortened {} at {} ms from {from} to {to} ms",
                f.fault.label(),
                f.at_ms
            ));
        }
    }
}

/// Drops the highest-numbered node while the checker still fails (a scenario whose faults
/// or protocol still need that node does not validate, so it is kept).
fn drop_nodes(search: &mut Search, best: &mut Scenario, removed: &mut Vec<String>, at_us: &mut Micros) {
    while best.nodes > 1 {
        let mut trial = best.clone();
        trial.nodes -= 1;
        match search.fails(&trial) {
            Some(t) => {
                removed.push(format!("node {} ({} → {} nodes)", trial.nodes, best.nodes, trial.nodes));
                *best = trial;
                *at_us = t;
            }
            None => return,
        }
    }
}
