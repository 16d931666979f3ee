//! An exercise's rules: a fault budget (how many, which kinds, which nodes), the settings a
//! learner may change, and a time limit in simulated time; and the check of a submitted
//! run against them, which needs no run at all.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::InputError;
use crate::fault::{Fault, ScheduledFault};
use crate::vocab::NodeId;

/// Every fault kind, as scenarios write it (`{"kind": …}`).
pub const FAULT_KINDS: &[&str] = &[
    "crash",
    "restart",
    "pause",
    "omission",
    "slow",
    "gray",
    "byzantine",
    "storage",
    "clock_offset",
    "clock_drift",
    "clock_jump",
    "clock_strobe",
    "partition",
    "isolate",
    "shape",
    "partial_partition",
    "heal",
    "stabilise",
    "cut",
    "uncut",
    "flap",
    "link",
];

/// The default time limit: 30 s of simulated time.
pub const DEFAULT_TIME_LIMIT_MS: f64 = 30_000.0;
/// The longest time limit an exercise may set: ten simulated minutes (judged in one go).
pub const MAX_TIME_LIMIT_MS: f64 = 600_000.0;

/// How many faults the learner may add, of which kinds, at which nodes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultBudget {
    /// At most this many faults (no limit when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Only these kinds (any kind when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// Only faults that touch these nodes (any node when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<i64>>,
}

/// The rules of an exercise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub faults: FaultBudget,
    /// Scenario fields the learner may change, as paths (`protocol.shedding`, `seed`); a
    /// path allows everything under it.
    #[serde(default)]
    pub settings: Vec<String>,
    /// The run is judged up to this moment of simulated time.
    #[serde(default = "default_time_limit")]
    pub time_limit_ms: f64,
}

fn default_time_limit() -> f64 {
    DEFAULT_TIME_LIMIT_MS
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            faults: FaultBudget::default(),
            settings: Vec::new(),
            time_limit_ms: DEFAULT_TIME_LIMIT_MS,
        }
    }
}

impl Rules {
    pub fn validate(&self, nodes: u32) -> Result<(), InputError> {
        let t = self.time_limit_ms;
        if !(t.is_finite() && t > 0.0 && t <= MAX_TIME_LIMIT_MS) {
            return Err(InputError::new(
                "time_limit_ms",
                format!("must be more than 0 and at most {MAX_TIME_LIMIT_MS} ms, got {t}"),
            ));
        }
        let budget = &self.faults;
        if let Some(max) = budget.max.filter(|m| *m < 0) {
            return Err(InputError::new(
                "faults.max",
                format!("a budget cannot be below zero, got {max}"),
            ));
        }
        for (i, kind) in budget.kinds.iter().flatten().enumerate() {
            if !FAULT_KINDS.contains(&kind.as_str()) {
                return Err(InputError::new(
                    format!("faults.kinds[{i}]"),
                    format!("`{kind}` is not a fault kind; kinds: {}", FAULT_KINDS.join(", ")),
                ));
            }
        }
        for (i, node) in budget.nodes.iter().flatten().enumerate() {
            if *node < 0 || *node >= i64::from(nodes) {
                return Err(InputError::new(
                    format!("faults.nodes[{i}]"),
                    format!("no node {node}: the cluster has nodes 0 to {}", nodes.saturating_sub(1)),
                ));
            }
        }
        for (i, path) in self.settings.iter().enumerate() {
            if path.is_empty() || ["faults", "exercise", "name", "about"].contains(&path.as_str()) {
                return Err(InputError::new(
                    format!("settings[{i}]"),
                    format!("`{path}` is not a setting a learner may change"),
                ));
            }
        }
        Ok(())
    }

    /// Every way the learner's faults break the budget, in words (empty: within budget).
    pub fn check_faults(&self, learner: &[&ScheduledFault]) -> Vec<String> {
        let mut broken = Vec::new();
        let budget = &self.faults;
        if let Some(max) = budget.max {
            if learner.len() as i64 > max {
                broken.push(format!(
                    "{} faults used; the budget is {max} (remove {})",
                    learner.len(),
                    learner.len() as i64 - max
                ));
            }
        }
        for f in learner {
            let label = format!("`{}` at {} ms", f.fault.label(), f.at_ms);
            let kind = kind_of(&f.fault);
            if let Some(kinds) = budget.kinds.as_ref().filter(|k| !k.iter().any(|k| k == kind)) {
                broken.push(format!(
                    "{label}: {kind} is not allowed here; allowed: {}",
                    kinds.join(", ")
                ));
            }
            if let Some(nodes) = &budget.nodes {
                if let Some(n) = nodes_of(&f.fault).into_iter().find(|n| !nodes.contains(&i64::from(*n))) {
                    broken.push(format!("{label}: node {n} is off limits; allowed nodes: {nodes:?}"));
                }
            }
            if f.at_ms > self.time_limit_ms {
                broken.push(format!(
                    "{label} comes after the time limit ({} ms)",
                    self.time_limit_ms
                ));
            }
        }
        broken
    }

    /// The settings changed from the posed scenario that the rules do not allow.
    pub fn check_settings(&self, posed: &Value, submitted: &Value) -> Vec<String> {
        let mut changed = Vec::new();
        diff("", posed, submitted, &mut changed);
        changed
            .into_iter()
            .filter(|path| !["name", "about", "faults", "exercise"].contains(&top(path)))
            .filter(|path| {
                !self
                    .settings
                    .iter()
                    .any(|s| path == s || path.starts_with(&format!("{s}.")))
            })
            .map(|path| {
                let allowed = if self.settings.is_empty() {
                    "none".to_string()
                } else {
                    self.settings.join(", ")
                };
                format!("`{path}` was changed, which this exercise does not allow (allowed: {allowed})")
            })
            .collect()
    }
}

/// A field path's top-level field (`protocol` of `protocol.retry`).
pub fn top(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or("")
}

/// The leaf paths where two JSON values differ (arrays compared whole); compare mode
/// (`crate::compare`) names a variant's changed settings with it too.
pub fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort_unstable();
            keys.dedup();
            for k in keys {
                diff(
                    &join(k),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if a != b => out.push(path.to_string()),
        _ => {}
    }
}

/// The learner's faults: the submitted ones left after taking out the posed ones (each
/// posed fault once, ignoring whether it was injected by hand). A posed fault that is
/// missing is a broken rule.
pub fn learner_faults<'a>(
    posed: &[ScheduledFault],
    submitted: &'a [ScheduledFault],
) -> (Vec<&'a ScheduledFault>, Vec<String>) {
    let same = |a: &ScheduledFault, b: &ScheduledFault| {
        a.at_ms == b.at_ms && a.fault == b.fault && a.duration_ms == b.duration_ms
    };
    let mut used = vec![false; submitted.len()];
    let mut broken = Vec::new();
    for p in posed {
        match (0..submitted.len()).find(|&i| !used[i] && same(p, &submitted[i])) {
            Some(i) => used[i] = true,
            None => broken.push(format!(
                "the exercise's own fault `{}` at {} ms was removed or changed",
                p.fault.label(),
                p.at_ms
            )),
        }
    }
    let learner = submitted.iter().zip(used).filter(|(_, u)| !u).map(|(f, _)| f).collect();
    (learner, broken)
}

/// A fault's kind as scenarios write it.
pub fn kind_of(fault: &Fault) -> &'static str {
    match fault {
        Fault::Crash { .. } => "crash",
        Fault::Restart { .. } => "restart",
        Fault::Pause { .. } => "pause",
        Fault::Omission { .. } => "omission",
        Fault::Slow { .. } => "slow",
        Fault::Gray { .. } => "gray",
        Fault::Byzantine { .. } => "byzantine",
        Fault::Storage { .. } => "storage",
        Fault::ClockOffset { .. } => "clock_offset",
        Fault::ClockDrift { .. } => "clock_drift",
        Fault::ClockJump { .. } => "clock_jump",
        Fault::ClockStrobe { .. } => "clock_strobe",
        Fault::Partition { .. } => "partition",
        Fault::Isolate { .. } => "isolate",
        Fault::Shape { .. } => "shape",
        Fault::PartialPartition { .. } => "partial_partition",
        Fault::Heal => "heal",
        Fault::Stabilise => "stabilise",
        Fault::Cut { .. } => "cut",
        Fault::Uncut { .. } => "uncut",
        Fault::Flap { .. } => "flap",
        Fault::Link { .. } => "link",
    }
}

/// The nodes a fault names (a shape or a heal names none).
pub fn nodes_of(fault: &Fault) -> Vec<NodeId> {
    match fault {
        Fault::Partition { groups } => groups.iter().flatten().copied().collect(),
        Fault::PartialPartition { a, b } => a.iter().chain(b).copied().collect(),
        Fault::Cut { from, to }
        | Fault::Uncut { from, to }
        | Fault::Flap { from, to, .. }
        | Fault::Link { from, to, .. } => vec![*from, *to],
        // Every other fault names at most the one node it is aimed at.
        other => other.node().into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_parses() {
        for (i, kind) in FAULT_KINDS.iter().enumerate() {
            assert!(!FAULT_KINDS[..i].contains(kind), "{kind} twice");
        }
        let crash: Fault = serde_json::from_str(r#"{"kind":"crash","node":1}"#).unwrap();
        assert_eq!(kind_of(&crash), "crash");
        assert!(FAULT_KINDS.contains(&kind_of(&Fault::Heal)));
    }

    #[test]
    fn settings_diff_names_the_changed_leaf() {
        let rules = Rules {
            settings: vec!["protocol.shedding".into()],
            ..Rules::default()
        };
        let a: Value = serde_json::from_str(r#"{"seed":1,"protocol":{"shedding":false,"x":1}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"seed":1,"protocol":{"shedding":true,"x":1}}"#).unwrap();
        assert!(rules.check_settings(&a, &b).is_empty());
        let c: Value = serde_json::from_str(r#"{"seed":2,"protocol":{"shedding":true,"x":1}}"#).unwrap();
        let broken = rules.check_settings(&a, &c);
        assert_eq!(broken.len(), 1);
        assert!(broken[0].starts_with("`seed` was changed"), "{broken:?}");
    }
}
