//! Scenarios: the whole input of a run (seed, cluster, protocol, network, fault schedule).
//!
//! A run is a pure function of its scenario. `Scenario::from_json` reads one with errors
//! that name the field; `Scenario::validate` checks every value and dry-runs the fault
//! schedule against node statuses, so a loaded scenario can never fail later.

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::limits::{MAX_FAULTS, MAX_NAME_BYTES, MAX_NODES, MAX_SCENARIO_BYTES, MAX_SEED};
use crate::network::LinkConfig;
use crate::schedule::{self, DryRun, Entry};

pub use crate::fault::ScheduledFault;
pub use crate::latency::LatencySpec;
pub use crate::protocol::heartbeat::{DetectorSpec, HeartbeatSpec};
pub use crate::registry::ProtocolSpec;
use crate::timing::Timing;
pub use crate::timing::TimingSpec;
pub use crate::vocab::probability_ppm;

/// The network every link starts with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    pub latency: LatencySpec,
    pub loss: f64,
    pub duplicate: f64,
    /// The timing model (`crate::timing`); left out when probabilistic, so scenarios and
    /// links written before timing models read and write exactly as they did.
    #[serde(skip_serializing_if = "TimingSpec::is_probabilistic")]
    pub timing: TimingSpec,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: LatencySpec::Uniform {
                min_ms: 5.0,
                max_ms: 25.0,
            },
            loss: 0.0,
            duplicate: 0.0,
            timing: TimingSpec::Probabilistic,
        }
    }
}

impl NetworkSpec {
    pub fn to_link(&self) -> Result<LinkConfig, InputError> {
        Ok(LinkConfig {
            latency: self.latency.to_latency().map_err(|e| e.within("latency"))?,
            loss_ppm: probability_ppm(self.loss, "loss")?,
            duplicate_ppm: probability_ppm(self.duplicate, "duplicate")?,
        })
    }

    /// The timing model in engine units for `nodes` nodes, checked against the latency.
    pub fn to_timing(&self, nodes: u32) -> Result<Timing, InputError> {
        let latency = self.latency.to_latency().map_err(|e| e.within("latency"))?;
        (self.timing.to_timing(nodes, latency.max_us())).map_err(|e| e.within("timing"))
    }
}

/// What a scenario shows, for its readers (the preset picker, a course page): the failure
/// class, what happens, what to watch, what to try next. It never changes the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    pub class: String,
    pub summary: String,
    pub watch: String,
    pub try_next: String,
}

/// The whole input of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_name")]
    pub name: String,
    /// Texts for readers (presets carry them); no part of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<About>,
    #[serde(default)]
    pub seed: u64,
    pub nodes: u32,
    #[serde(default)]
    pub protocol: ProtocolSpec,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub faults: Vec<ScheduledFault>,
    /// What a swarm sweep may vary (`faultline sweep --swarm`); a plain run ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vary: Option<crate::explore::vary::Vary>,
    /// A task posed on this scenario (`crate::exercise`): goal, rules, hints. Never part of
    /// the run; absent in ordinary scenarios, which read and write exactly as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<crate::exercise::Exercise>,
}

fn default_name() -> String {
    "Untitled".to_string()
}

impl Scenario {
    /// A default heartbeat cluster of `nodes` nodes.
    pub fn basic(nodes: u32, seed: u64) -> Scenario {
        Scenario {
            name: "Heartbeats".to_string(),
            about: None,
            seed,
            nodes,
            protocol: ProtocolSpec::default(),
            network: NetworkSpec::default(),
            faults: Vec::new(),
            vary: None,
            exercise: None,
        }
    }

    /// Reads and validates a scenario from JSON text.
    pub fn from_json(text: &str) -> Result<Scenario, InputError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(InputError::new(
                "",
                format!(
                    "the scenario is {} bytes; the limit is {MAX_SCENARIO_BYTES}",
                    text.len()
                ),
            ));
        }
        let scenario: Scenario = crate::error::parse_json(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a scenario always serializes")
    }

    /// Checks every value, then dry-runs the fault schedule against node statuses.
    pub fn validate(&self) -> Result<(), InputError> {
        if self.name.len() > MAX_NAME_BYTES {
            return Err(InputError::new(
                "name",
                format!("is {} bytes; the limit is {MAX_NAME_BYTES}", self.name.len()),
            ));
        }
        if self.seed > MAX_SEED {
            return Err(InputError::new(
                "seed",
                format!("must be at most 2^53 − 1 = {MAX_SEED}, got {}", self.seed),
            ));
        }
        if self.nodes == 0 || self.nodes > MAX_NODES {
            return Err(InputError::new(
                "nodes",
                format!("must be between 1 and {MAX_NODES}, got {}", self.nodes),
            ));
        }
        // A protocol that needs more nodes names the top-level `nodes` field.
        self.protocol
            .check(self.nodes)
            .map_err(|e| if e.field == "nodes" { e } else { e.within("protocol") })?;
        self.network.to_link().map_err(|e| e.within("network"))?;
        let timing = self.network.to_timing(self.nodes).map_err(|e| e.within("network"))?;
        for (i, f) in self.faults.iter().enumerate() {
            if f.fault == crate::fault::Fault::Stabilise {
                crate::action::check_stabilise(&timing).map_err(|e| e.within(&format!("faults[{i}]")))?;
            }
        }
        if self.faults.len() > MAX_FAULTS {
            return Err(InputError::new(
                "faults",
                format!("has {} faults; the limit is {MAX_FAULTS}", self.faults.len()),
            ));
        }
        if let Some(vary) = &self.vary {
            vary.validate(self.nodes, &self.protocol)
                .map_err(|e| e.within("vary"))?;
        }
        if let Some(exercise) = &self.exercise {
            exercise.validate(self.nodes).map_err(|e| e.within("exercise"))?;
        }
        self.plan().map(drop)
    }

    /// The fault schedule parsed into engine units, in application order (by µs, ties in
    /// list order), each with its index in `faults`, after a dry run against node statuses
    /// (`schedule::DryRun`). The engine runs exactly this.
    pub fn plan(&self) -> Result<Vec<(usize, Entry)>, InputError> {
        let entries = schedule::parse(&self.faults, self.nodes)?;
        let order = schedule::order(&entries);
        let mut entries: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
        let mut dry = DryRun::from_start(self.nodes, !self.protocol.crashes_itself());
        let mut plan = Vec::with_capacity(order.len());
        for i in order {
            let entry = entries[i].take().expect("each index once");
            dry.step(&entry).map_err(|e| e.within(&format!("faults[{i}]")))?;
            plan.push((i, entry));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    #[test]
    fn minimal_scenario_gets_defaults() {
        let s = Scenario::from_json(r#"{"nodes": 3}"#).unwrap();
        assert_eq!(s.protocol, ProtocolSpec::default());
        assert_eq!(s.name, "Untitled");
    }

    #[test]
    fn errors_name_the_field() {
        let e = Scenario::from_json(r#"{"nodes": 3, "faults": [{"at_ms": 5, "fault": {"kind": "crash", "node": 7}}]}"#)
            .unwrap_err();
        assert_eq!(e.field, "faults[0].fault.node");
        let e = Scenario::from_json(r#"{"nodes": 3, "network": {"loss": 1.5}}"#).unwrap_err();
        assert_eq!(e.field, "network.loss");
        let e = Scenario::from_json(r#"{"nodes": 3, "nodez": 4}"#).unwrap_err();
        assert!(e.problem.contains("unknown field `nodez`"), "{e}");
        let e = Scenario::from_json(r#"{"nodes": "five"}"#).unwrap_err();
        assert_eq!(e.field, "nodes");
        let e = Scenario::from_json(r#"{"nodes": 0}"#).unwrap_err();
        assert_eq!(e.field, "nodes");
        let e = Scenario::from_json("{not json").unwrap_err();
        assert!(!e.problem.is_empty());
    }

    #[test]
    fn schedule_dry_run_catches_impossible_sequences() {
        let text = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}},
            {"at_ms": 20, "fault": {"kind": "crash", "node": 1}}]}"#;
        let e = Scenario::from_json(text).unwrap_err();
        assert_eq!(e.to_string(), "faults[1].fault.node: node 1 is already crashed");
        // A timed crash restarts by itself: a later crash is fine, a restart is not.
        let timed = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}, "duration_ms": 50},
            {"at_ms": 60, "fault": {"kind": "crash", "node": 1}}]}"#;
        Scenario::from_json(timed).unwrap();
        let twice = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "crash", "node": 1}, "duration_ms": 50},
            {"at_ms": 60, "fault": {"kind": "restart", "node": 1}}]}"#;
        assert!(Scenario::from_json(twice)
            .unwrap_err()
            .to_string()
            .contains("faults[1].fault.node"));
        let instant = r#"{"nodes": 3, "faults": [{"at_ms": 10, "fault": {"kind": "heal"}, "duration_ms": 5}]}"#;
        assert_eq!(Scenario::from_json(instant).unwrap_err().field, "faults[0].duration_ms");
        // A pause ends before a later crash: fine.
        let ok = r#"{"nodes": 3, "faults": [
            {"at_ms": 10, "fault": {"kind": "pause", "node": 1, "duration_ms": 5}},
            {"at_ms": 15, "fault": {"kind": "pause", "node": 1, "duration_ms": 5}}]}"#;
        Scenario::from_json(ok).unwrap();
    }

    #[test]
    fn round_trips_through_json() {
        let mut s = Scenario::basic(4, 99);
        s.faults.push(ScheduledFault::at(1234.567, Fault::Crash { node: 2 }));
        s.faults
            .push(ScheduledFault::lasting(2000.0, Fault::Isolate { node: 1 }, 500.0));
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    }
}
