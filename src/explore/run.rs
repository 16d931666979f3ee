//! One sweep's plan, and the outcome of one seed under it.
//!
//! A `Plan` is a scenario, how long to run it, whether each seed draws its own run
//! (`swarm`), the bound of the liveness phase and which checkers count. `Plan::run(seed)`
//! is a pure function of the plan and the seed: it builds the seed's scenario, runs it to
//! the heal, watches the liveness phase, runs on to the end, and reads every checker.
//! Invariant: an outcome's `link` replays exactly the run it describes (for a swarm seed,
//! the drawn scenario is inside the link).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::liveness::{self, Liveness};
use super::swarm::{self, Vary};
use crate::error::InputError;
use crate::scenario::Scenario;
use crate::sim::Simulation;
use crate::time::{ms_to_us, us_to_ms, Micros, US_PER_S};

/// Shortest stretch a swarm leaves for faults before the liveness phase, in µs.
const MIN_FAULT_WINDOW_US: Micros = US_PER_S;

#[derive(Clone, Debug)]
pub struct Plan {
    pub base: Scenario,
    pub until_us: Micros,
    pub swarm: bool,
    /// How long the liveness phase may take, in µs.
    pub liveness_us: Micros,
    /// The checkers whose violation makes a seed fail, in the order the scenario reports them.
    pub checks: Vec<String>,
}

/// What one seed did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub seed: u64,
    pub events: u64,
    pub trace_hash: String,
    /// Faults in the run's schedule.
    pub faults: usize,
    pub messages_sent: u64,
    pub messages_dropped: u64,
    /// Checkers (of those that count) that were violated, with the first moment, in ms.
    pub violated: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Liveness>,
    /// A share link (`F1.…`) that replays this run, opening where it went wrong; only for
    /// failing seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Outcome {
    /// A checker that counts was violated, or the run did not recover after the heal.
    pub fn failed(&self) -> bool {
        !self.violated.is_empty() || self.liveness.as_ref().is_some_and(|l| !l.recovered())
    }

    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("an outcome always serializes")
    }
}

impl Plan {
    /// Checks the plan: checker names exist in the scenario, a swarm leaves room for faults.
    /// A swarm over a scenario without `vary` draws faults of every kind on every node.
    pub fn new(
        mut base: Scenario,
        until_us: Micros,
        swarm: bool,
        liveness_us: Micros,
        only: &[String],
    ) -> Result<Plan, InputError> {
        if swarm {
            base.vary.get_or_insert_with(Vary::default);
        } else {
            base.vary = None;
        }
        base.validate()?;
        if until_us > crate::limits::MAX_TIME_US {
            return Err(InputError::new("until", "is past the 30-day limit"));
        }
        if swarm && until_us < liveness_us + MIN_FAULT_WINDOW_US {
            let problem = format!(
                "a swarm needs at least 1 s of faults before the {} ms liveness phase: run longer or shorten --liveness",
                us_to_ms(liveness_us)
            );
            return Err(InputError::new("until", problem));
        }
        let known: Vec<String> = Simulation::new(base.clone())?
            .checks()
            .iter()
            .map(|c| c.id.to_string())
            .collect();
        for name in only {
            if !known.contains(name) {
                let list = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                let problem = format!("this scenario has no checker `{name}`; its checkers: {list}");
                return Err(InputError::new("check", problem));
            }
        }
        let checks = known
            .into_iter()
            .filter(|k| only.is_empty() || only.contains(k))
            .collect();
        Ok(Plan {
            base,
            until_us,
            swarm,
            liveness_us,
            checks,
        })
    }

    /// The scenario seed `seed` runs: the base with that seed, or, in a swarm, its draw.
    pub fn scenario(&self, seed: u64) -> Scenario {
        if self.swarm {
            swarm::draw(&self.base, seed, self.until_us - self.liveness_us)
        } else {
            Scenario {
                seed,
                ..self.base.clone()
            }
        }
    }

    /// When the liveness phase starts and how long it may take, if the run has one.
    fn liveness_phase(&self, scenario: &Scenario) -> Option<(Micros, Micros)> {
        let heal_us = if self.swarm {
            self.until_us - self.liveness_us
        } else {
            liveness::heal_us(scenario)?
        };
        (heal_us < self.until_us).then(|| (heal_us, self.liveness_us.min(self.until_us - heal_us)))
    }

    /// Runs one seed.
    pub fn run(&self, seed: u64) -> Outcome {
        let scenario = self.scenario(seed);
        let phase = self.liveness_phase(&scenario);
        let mut sim = Simulation::new(scenario).expect("every seed of a valid plan validates");
        let liveness = phase.and_then(|(heal_us, bound_us)| {
            sim.advance_to(heal_us);
            liveness::watch(&mut sim, bound_us)
        });
        sim.advance_to(self.until_us);
        let violated: BTreeMap<String, f64> = sim
            .checks()
            .into_iter()
            .filter(|c| self.checks.iter().any(|k| k == c.id))
            .filter_map(|c| Some((c.id.to_string(), c.first_violation_ms?)))
            .collect();
        let snap = sim.snapshot();
        let mut outcome = Outcome {
            seed,
            events: snap.events,
            trace_hash: snap.trace_hash,
            faults: sim.scenario().faults.len(),
            messages_sent: snap.counters.sent,
            messages_dropped: snap.counters.dropped.total,
            violated,
            liveness,
            link: None,
        };
        if outcome.failed() {
            outcome.link = Some(crate::share::encode(sim.scenario(), failure_moment_us(&outcome)));
        }
        outcome
    }

    /// The header line of a sweep's output: what every seed line belongs to.
    pub fn header(&self, seeds: super::SeedRange, shard: Option<super::Shard>) -> Header {
        Header {
            scenario: self.base.name.clone(),
            until_ms: us_to_ms(self.until_us),
            swarm: self.swarm,
            liveness_ms: us_to_ms(self.liveness_us),
            seeds: seeds.to_string(),
            shard: shard.map(|s| s.to_string()),
            checks: self.checks.clone(),
            liveness_rule: Simulation::new(self.base.clone())
                .ok()
                .and_then(|sim| liveness::rule(sim.snapshot().protocol))
                .map(str::to_string),
        }
    }
}

/// Where a failing run's link opens: its first violation, or the end of its liveness phase.
fn failure_moment_us(o: &Outcome) -> Micros {
    let first = o.violated.values().copied().reduce(f64::min);
    let stuck = o.liveness.as_ref().filter(|l| !l.recovered()).map(|l| l.heal_ms);
    let ms = first.or(stuck).unwrap_or(0.0);
    ms_to_us(ms, "t_ms").unwrap_or(0)
}

/// The first line of a sweep's output file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub scenario: String,
    pub until_ms: f64,
    pub swarm: bool,
    pub liveness_ms: f64,
    /// The whole range of the sweep (`A..B`), also in every shard.
    pub seeds: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub checks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_rule: Option<String>,
}

impl Header {
    /// The same sweep, whichever shard.
    pub fn same_sweep(&self, other: &Header) -> bool {
        Header {
            shard: None,
            ..self.clone()
        } == Header {
            shard: None,
            ..other.clone()
        }
    }
}
